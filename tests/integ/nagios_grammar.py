"""The Monitoring Plugins guidelines' output grammar, as a Nagios core or
Icinga 2 reads a plugin's stdout, for the tests of -o nagios; and Icinga 2's
own perfdata parser (`icinga2 console`, Debian package icinga2-bin) as a
second judge."""
import json
import re
import shutil
import subprocess

from lib import check

# The guidelines' grammar: "SMTP STATUS - text|perfdata", text without '|',
# perfdata items 'label'=value[UOM];[warn];[crit];[min];[max], space separated.
NUM = r"-?[0-9]+(?:\.[0-9]+)?"
RANGE = r"@?(?:%s|~)?:?(?:%s)?" % (NUM, NUM)
ITEM = re.compile(r"^('(?:[^'=]|'')+'|[^ '=]+)=(%s)(s|ms|us|%%|B|KB|MB|TB|c)?"
                  r"(?:;(%s)(?:;(%s)(?:;(%s)?(?:;(%s)?)?)?)?)?$" % (NUM, RANGE, RANGE, NUM, NUM))
STATUS = re.compile(r"^SMTP (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+)(?:\|(.+))?$")
LONG = re.compile(r"^\[(INFO|WARNING|CRITICAL|OK|UNKNOWN)\] \S")


def split_perfdata(pd):
    items, cur, inq = [], "", False
    for ch in pd:
        if ch == "'":
            inq = not inq
        if ch == " " and not inq:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return items


def parse_nagios(name, out):
    """Checks the grammar; returns (status word, summary, {label: match}, long lines)."""
    lines = out.split("\n")
    check(name + ": ends-with-newline", out.endswith("\n"), repr(out[-40:]))
    if lines and lines[-1] == "":
        lines.pop()
    m = STATUS.match(lines[0]) if lines else None
    check(name + ": status-line-grammar", m is not None, lines[:1])
    if m is None:
        return None, "", {}, []
    perf = {}
    bad = []
    for item in split_perfdata(m.group(3) or ""):
        im = ITEM.match(item)
        if im is None:
            bad.append(item)
        else:
            perf[im.group(1).strip("'")] = im
    check(name + ": perfdata-grammar", m.group(3) and not bad, bad or "no perfdata")
    long_lines = lines[1:]
    check(name + ": long-output-lines", all(LONG.match(ln) for ln in long_lines), long_lines)
    return m.group(1), m.group(2), perf, long_lines


def icinga_parse(name, items):
    """Icinga 2's parse_performance_data() on each perfdata item: a list of
    dicts (label, value, unit, warn, crit, min, max), or None when icinga2
    is not installed (a FAIL names the package)."""
    exe = shutil.which("icinga2")
    if not check(name + ": icinga2-installed", exe is not None,
                 "icinga2 not found: apt-get install --no-install-recommends icinga2-bin"):
        return None
    expr = "[" + ", ".join("parse_performance_data(%s)" % json.dumps(i) for i in items) + "]"
    p = subprocess.run([exe, "console", "--eval", expr], capture_output=True, text=True,
                       timeout=60)
    try:
        vals = json.loads(p.stdout)
    except ValueError:
        vals = None
    check(name + ": icinga2-parses-perfdata", p.returncode == 0 and isinstance(vals, list)
          and len(vals) == len(items), (p.returncode, p.stdout[:300], p.stderr[:300]))
    return vals if isinstance(vals, list) else None

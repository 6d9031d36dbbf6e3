"""Reading the Prometheus exposition the probe writes: its samples, and the
real `promtool check metrics` (Debian's prometheus package) as the judge."""

import re
import shutil
import subprocess

from lib import check

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def samples(text):
    """[(name, labels, value)] of an exposition."""
    out = []
    for line in text.split("\n"):
        if line and not line.startswith("#"):
            m = SAMPLE.match(line)
            if m:
                out.append((m.group(1), m.group(2) or "", m.group(3)))
    return out


def promtool(name, text):
    exe = shutil.which("promtool")
    if not check(name + ": promtool-installed", exe is not None,
                 "promtool not found: apt-get install --no-install-recommends prometheus"):
        return
    p = subprocess.run([exe, "check", "metrics"], input=text.encode(), capture_output=True,
                       timeout=30)
    msg = (p.stdout + p.stderr).decode("utf-8", "replace").strip()
    check(name + ": promtool-check-metrics", p.returncode == 0 and msg == "",
          "rc=%s %s" % (p.returncode, msg))

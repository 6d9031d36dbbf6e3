"""Colour only where a person reads it: ANSI escapes on a terminal (auto),
never in a pipe, never with NO_COLOR, always with --color always. Needs no
server: a refused port gives a CRITICAL verdict, which is coloured."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finish  # noqa: E402

PROBE = os.environ.get("SMTP_PROBE", "build/smtp-probe")
TARGET = "127.0.0.1:1"
ESC = b"\x1b["


def run(args, env=None, tty=False):
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e["TERM"] = "xterm"          # the suite may run under TERM=dumb or none
    e.update(env or {})
    if not tty:
        p = subprocess.run([PROBE] + args + [TARGET], capture_output=True, env=e,
                           stdin=subprocess.DEVNULL, timeout=30)
        return p.returncode, p.stdout
    master, slave = os.openpty()
    p = subprocess.Popen([PROBE] + args + [TARGET], stdout=slave, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, env=e)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(30), out


# Every "no colour" check first asserts the report is there (exit 2, the
# CRITICAL verdict), so it cannot pass on empty output.
VERDICT = b"CRITICAL"


def report_there(rc, out):
    return rc == 2 and VERDICT in out and b"connect-failed" in out


rc, out = run([])
check("pipe: no-colour", report_there(rc, out) and ESC not in out, out[:200])
rc, out = run(["--color", "always"])
check("always: colour", ESC in out, out[:200])
rc, out = run(["--color", "always", "-o", "json"])
check("json-always: no-colour-in-json", rc == 2 and out.startswith(b"{") and
      b'"status":"critical"' in out.replace(b" ", b"") and ESC not in out, out[:200])
rc, out = run([], tty=True)
check("tty: colour", ESC in out and rc == 2, out[:200])
rc, out = run([], env={"NO_COLOR": "1"}, tty=True)
check("tty-NO_COLOR: no-colour", report_there(rc, out) and ESC not in out, out[:200])
# no-color.org: only a non-empty NO_COLOR disables colour.
rc, out = run([], env={"NO_COLOR": ""}, tty=True)
check("tty-NO_COLOR-empty: colour", ESC in out, out[:200])
rc, out = run([], env={"TERM": "dumb"}, tty=True)
check("tty-TERM-dumb: no-colour", report_there(rc, out) and ESC not in out, out[:200])
rc, out = run(["--color", "always"], env={"TERM": "dumb"}, tty=True)
check("tty-TERM-dumb-always: colour", ESC in out, out[:200])
rc, out = run(["--color", "never"], tty=True)
check("tty-never: no-colour", report_there(rc, out) and ESC not in out, out[:200])
# Unicode (arrows, "≈") likewise only on a UTF-8 terminal; ASCII in a pipe.
rc, out = run([], env={"LANG": "C.UTF-8"})
check("pipe: ascii-only", report_there(rc, out) and all(b < 0x80 for b in out), out[:200])
rc, out = run([], env={"LANG": "C.UTF-8"}, tty=True)
check("tty-utf8: unicode-arrow", "\u2192".encode() in out, out[:200])
rc, out = run([], env={"LANG": "C", "LC_ALL": "C"}, tty=True)
check("tty-C-locale: ascii-only", report_there(rc, out) and all(b < 0x80 for b in out),
      out[:200])
rc, out = run(["--color", "sometimes"])
check("bad-color: exit-3", rc == 3, rc)
finish()

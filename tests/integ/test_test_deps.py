#!/usr/bin/env python3
"""scripts/test-deps.sh (run by `make test`) installs only what is missing,
and as a non-root user changes nothing and prints the one command to run.

dpkg-query, apt-get, debconf-set-selections and id are replaced by fakes
on PATH (a fresh Debian 12 machine is simulated by a dpkg-query that reports
the chosen packages as not installed; the fakes log their arguments), so no
package is touched. One run uses the real dpkg-query: on this machine, where
the suite runs, every package of the list must be installed under exactly
that name.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, check, finish  # noqa: E402

SCRIPT = os.path.join(ROOT, "scripts", "test-deps.sh")

FAKE_DPKG = """#!/bin/sh
# dpkg-query -W -f='${Status}' PKG: installed unless PKG is in $FAKE_MISSING
for a; do p=$a; done
case " $FAKE_MISSING " in
*" $p "*|*" ALL "*) echo "dpkg-query: no packages found matching $p" >&2; exit 1 ;;
esac
printf 'install ok installed'
"""
FAKE_LOG = """#!/bin/sh
echo "$(basename "$0") $*" >> "$FAKE_LOG"
[ "$(basename "$0")" = debconf-set-selections ] && cat >> "$FAKE_LOG"
exit 0
"""
FAKE_ID = """#!/bin/sh
echo "$FAKE_UID"
"""


def make_fakes(d, real_dpkg=False):
    files = {"apt-get": FAKE_LOG, "debconf-set-selections": FAKE_LOG, "id": FAKE_ID}
    if not real_dpkg:
        files["dpkg-query"] = FAKE_DPKG
    for name, text in files.items():
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)


def run(args, missing="", uid=0, real_dpkg=False):
    """(exit code, stderr, log of apt-get/debconf calls)."""
    with tempfile.TemporaryDirectory() as d:
        make_fakes(d, real_dpkg)
        log = os.path.join(d, "log")
        open(log, "w").close()
        env = dict(os.environ, PATH=d + ":" + os.environ.get("PATH", "/usr/bin:/bin"),
                   FAKE_MISSING=missing, FAKE_UID=str(uid), FAKE_LOG=log)
        p = subprocess.run(["bash", SCRIPT] + args, env=env, capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL)
        with open(log) as f:
            calls = f.read()
    return p.returncode, p.stderr, calls


def install_line(calls):
    """The packages of the apt-get install call in the log, or None."""
    for line in calls.splitlines():
        if line.startswith("apt-get install"):
            return [w for w in line.split()[2:] if not w.startswith("-")]
    return None


# Nothing missing: silent, nothing installed.
rc, err, calls = run([], missing="", uid=0)
check("nothing-missing: exit-0-silent", rc == 0 and err == "", "rc=%s err=%r" % (rc, err))
check("nothing-missing: no-apt", calls == "", calls)

# Everything missing, not root: stops, prints one command, installs nothing.
rc, err, calls = run([], missing="ALL", uid=1000)
lines = [ln.strip() for ln in err.splitlines()]
cmd = [ln for ln in lines if "apt-get install" in ln]
check("not-root: exit-1", rc == 1, "rc=%s err=%r" % (rc, err))
check("not-root: one-apt-command", len(cmd) == 1, err)
check("not-root: nothing-run", calls == "", calls)
wanted = cmd[0].split("--no-install-recommends", 1)[1].split() if cmd else []
check("not-root: lists-build-and-test-packages",
      all(p in wanted for p in ("build-essential", "cmake", "postfix", "nsd",
                                "python3-dnslib", "python3-jsonschema", "debhelper")),
      wanted)
check("not-root: postfix-preseeded-in-command",
      bool(cmd) and "main_mailer_type select No configuration" in cmd[0]
      and cmd[0].index("debconf-set-selections") < cmd[0].index("apt-get"), cmd)
check("not-root: noninteractive", bool(cmd) and "DEBIAN_FRONTEND=noninteractive" in cmd[0], cmd)
check("not-root: no-fuzz-or-analyze-packages",
      bool(wanted) and not any(p in wanted for p in ("clang", "cppcheck")), wanted)

# Everything missing, root: preseed, update, install exactly the list.
rc, err, calls = run([], missing="ALL", uid=0)
got = install_line(calls)
check("root-all-missing: exit-0", rc == 0, "rc=%s err=%r" % (rc, err))
check("root-all-missing: installs-the-list", got is not None and got == wanted,
      "installed %s, want %s" % (got, wanted))
check("root-all-missing: preseed-before-install",
      "postfix postfix/main_mailer_type select No configuration" in calls
      and calls.index("debconf-set-selections") < calls.index("apt-get install"), calls)
check("root-all-missing: update-before-install",
      "apt-get update" in calls and calls.index("apt-get update") < calls.index("apt-get install"),
      calls)
check("root-all-missing: no-recommends",
      "--no-install-recommends" in calls and " -y" in calls, calls)

# Two missing, root: only those two, and no preseed (Postfix is there).
rc, err, calls = run([], missing="nsd python3-dnslib", uid=0)
got = install_line(calls)
check("root-two-missing: exit-0", rc == 0, "rc=%s err=%r" % (rc, err))
check("root-two-missing: installs-only-them", got == ["nsd", "python3-dnslib"], calls)
check("root-two-missing: no-preseed", "debconf-set-selections" not in calls, calls)

# Other sets.
rc, err, calls = run(["analyze"], missing="ALL", uid=0)
check("analyze: cppcheck-only", rc == 0 and install_line(calls) == ["cppcheck"], calls)
rc, err, calls = run(["fuzz"], missing="ALL", uid=0)
check("fuzz: clang", rc == 0 and install_line(calls) == ["clang", "libclang-rt-14-dev"], calls)
rc, err, calls = run(["bogus"], missing="ALL", uid=0)
check("unknown-set: exit-3-named", rc == 3 and "bogus" in err and calls == "",
      "rc=%s err=%r" % (rc, err))

# The real dpkg-query on this machine (where the suite runs, so everything
# is installed): every name in the list is a real, installed package.
rc, err, calls = run(["build", "test"], uid=1000, real_dpkg=True)
check("real-dpkg: every-package-installed-here", rc == 0 and calls == "",
      "rc=%s err=%r" % (rc, err))

finish()

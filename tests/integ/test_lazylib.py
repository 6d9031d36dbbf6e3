#!/usr/bin/python3
"""libidn2 and libexpat are loaded only by the runs that need them
(probe/lazylib.c):
  - a probe of an ASCII name loads neither (the dynamic loader's own log,
    LD_DEBUG=libs, names every library it loads), nor does --version;
  - a probe of an international name loads libidn2 (and works);
  - with libidn2 hidden (a private mount namespace binds /dev/null over
    it), an ASCII probe still works and says nothing about it, while an
    international name exits 3 saying which library could not be loaded
    and why; the name is shown as typed."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import PROBE, check, finish, load_env, run_probe  # noqa: E402

ENV = load_env()
P = ENV["ports"]
BASE = ["--resolver", ENV["dns"]["resolver"], "--cafile", ENV["ca"], "--timeout", "5", "-4"]
LAZY = ("libidn2", "libunistring", "libexpat")


def loaded(args):
    """Exit code and the libraries the loader loaded, by soname."""
    rc, _, _, err = run_probe(args, env={"LD_DEBUG": "libs"})
    libs = set()
    for line in err.splitlines():
        # "   1234:	find library=libidn2.so.0 [0]; searching"
        if "find library=" in line:
            libs.add(line.split("find library=", 1)[1].split()[0])
    return rc, libs


def lib_path(soname):
    """The file the loader would open for soname (ldconfig's cache)."""
    out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == soname:
            return parts[-1]
    return None


def main():
    rc, libs = loaded(BASE + ["--servername", "mx1.test", "127.0.0.1:%d" % P["starttls"]])
    check("lazy: an ASCII probe runs (exit 0)", rc == 0, rc)
    check("lazy: the loader really logs (libc is named)", any(x.startswith("libc.so") for x in libs),
          sorted(libs))
    check("lazy: an ASCII probe loads neither libidn2 nor libexpat",
          not any(x.startswith(LAZY) for x in libs), sorted(libs))

    rc, libs = loaded(["--version"])
    check("lazy: --version loads neither", rc == 0 and not any(x.startswith(LAZY) for x in libs),
          (rc, sorted(libs)))

    rc, libs = loaded(BASE + ["--servername", "mx1.test", "bücher.test:%d" % P["starttls"]])
    check("lazy: an international name loads libidn2 and is probed (exit 0)",
          rc == 0 and any(x.startswith("libidn2") for x in libs), (rc, sorted(libs)))
    check("lazy: ... and still not libexpat", not any(x.startswith("libexpat") for x in libs),
          sorted(libs))

    idn = lib_path("libidn2.so.0")
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or not unshare or not idn:
        check("lazy: can hide libidn2 (root, unshare, libidn2.so.0 in ldconfig's cache)",
              False, (os.geteuid(), unshare, idn))
        finish()
        return

    def hidden(args):
        cmd = [unshare, "--mount", "--propagation", "private", "sh", "-c",
               'mount --bind /dev/null "$0" && exec "$@"', idn, PROBE] + args
        p = subprocess.run(cmd, capture_output=True, timeout=30)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    rc, out, err = hidden(BASE + ["--servername", "mx1.test", "127.0.0.1:%d" % P["starttls"]])
    check("lazy: libidn2 hidden, an ASCII probe works (exit 0)", rc == 0, (rc, err[:300]))
    check("lazy: ... and says nothing about libidn2", "libidn2" not in out + err, err[:300])

    rc, out, err = hidden(BASE + ["--servername", "mx1.test", "bücher.test:%d" % P["starttls"]])
    check("lazy: libidn2 hidden, an international name exits 3", rc == 3, (rc, err[:300]))
    check("lazy: ... naming the library, what it is for, and the loader's reason",
          "libidn2, for international names, could not be loaded (" in err and
          idn.rsplit("/", 1)[-1].split(".so")[0] in err and "bücher.test" in err,
          err[:400])
    finish()


if __name__ == "__main__":
    main()

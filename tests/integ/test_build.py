#!/usr/bin/env python3
"""The Makefile rebuilds what changed, and only runs scripts/deps.sh once.

In a scratch copy of the tree and of the build directory (mtimes kept; deps/
linked, never written), with `make -n`/`make -q` only (nothing is built):

  * the build is up to date (`make -q`), then touching any header
    (include/*.h, probe/*.h, tests/unit/*.h, tests/fuzz/*.h) makes every
    object, unit test and replay binary that includes it, directly or
    through another header, due for a rebuild (-MMD -MP);
  * with no deps built, `make -j2` runs scripts/deps.sh exactly once;
  * the deps stamp is keyed to the content of scripts/patches/*: changed
    content means a new stamp (deps.sh runs, the binary relinks); a touch
    with the same content changes nothing;
  * a system mbedTLS (pkg-config, with .pc files made here) is used from
    3.6.7 on; 3.6.6 (the RSA-PSS regression) and 4.x are refused and the
    pinned, patched one is built instead, 3.6.6 with a message saying why;
    MBEDTLS_MIN_SYSTEM=3.6.6 accepts it.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, check, finish  # noqa: E402

BUILD = os.environ.get("BUILD", "build")
# The outer make's variables must not leak into the makes run here.
ENV = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "BUILD", "CFLAGS",
                    "LDFLAGS", "EXTRA_CFLAGS", "EXTRA_LDFLAGS", "PKG_CONFIG_PATH",
                    "PKG_CONFIG_LIBDIR", "DEPS", "LOOP")}
GOALS = ["all", "unit", "replay"]


def make(src, *args, env=None):
    p = subprocess.run(["make", "-C", src, "--no-print-directory"] + list(args),
                       capture_output=True, text=True, timeout=120, env=env or ENV,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr


def copy_tree(dst):
    out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], capture_output=True, check=True).stdout
    for rel in out.decode().split("\0"):
        src = os.path.join(ROOT, rel)
        if not rel or not os.path.isfile(src) or os.path.islink(src):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, rel))
    os.symlink(os.path.realpath(os.path.join(ROOT, "deps")), os.path.join(dst, "deps"))
    b = os.path.join(ROOT, BUILD)
    for sub in ("obj", "tests", "fuzz-replay"):
        if os.path.isdir(os.path.join(b, sub)):
            shutil.copytree(os.path.join(b, sub), os.path.join(dst, BUILD, sub), symlinks=True)
    for f in ("libprobe.a", "smtp-probe"):
        if os.path.exists(os.path.join(b, f)):
            shutil.copy2(os.path.join(b, f), os.path.join(dst, BUILD, f))


def quoted_includes(path):
    with open(path, errors="replace") as f:
        return re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.M)


def dependents(src):
    """header name -> the build outputs that include it, directly or not."""
    outputs = {}                        # source file -> its build output
    for d, out in (("probe", BUILD + "/obj/{}.o"), ("tests/unit", BUILD + "/tests/{}"),
                   ("tests/fuzz", BUILD + "/fuzz-replay/{}")):
        for f in os.listdir(os.path.join(src, d)):
            if f.endswith(".c"):
                n = f[:-2]
                o = out.format(n) if n != "replay" else BUILD + "/fuzz-replay/replay.o"
                outputs[os.path.join(d, f)] = o
    headers = {}
    for d in ("include", "probe", "tests/unit", "tests/fuzz"):
        for f in os.listdir(os.path.join(src, d)):
            if f.endswith(".h"):
                headers[os.path.join(d, f)] = f
    incl = {p: set(quoted_includes(os.path.join(src, p))) for p in list(outputs) + list(headers)}
    result = {}
    for h, name in headers.items():
        names, changed = {name}, True
        while changed:                  # headers that include it, transitively
            changed = False
            for h2, n2 in headers.items():
                if n2 not in names and incl[h2] & names:
                    names.add(n2)
                    changed = True
        result[h] = sorted(o for p, o in outputs.items() if incl[p] & names)
    return result


def would_build(out):
    """Outputs named by -o in make -n's commands."""
    return set(re.findall(r"\s-o\s+(\S+)", out))


def test_headers(src):
    rc, out = make(src, "-q", "BUILD=" + BUILD, *GOALS)
    if not check("headers: build-up-to-date-first", rc == 0,
                 "make -q says %s: %s" % (rc, out[-300:])):
        return
    deps = dependents(src)
    check("headers: found", len(deps) >= 25, len(deps))
    future = time.time() + 3600
    for h in sorted(deps):
        path = os.path.join(src, h)
        st = os.stat(path)
        os.utime(path, (future, future))
        rc, out = make(src, "-n", "BUILD=" + BUILD, *GOALS)
        os.utime(path, (st.st_atime, st.st_mtime))
        rebuilt = would_build(out)
        missing = [o for o in deps[h] if o not in rebuilt]
        check("headers: touch %s rebuilds its %d dependents" % (h, len(deps[h])),
              rc == 0 and deps[h] and not missing,
              "rc=%s, not rebuilt: %s" % (rc, missing or "(no dependents found)"))
    rc, out = make(src, "-q", "BUILD=" + BUILD, *GOALS)
    check("headers: up-to-date-again", rc == 0, out[-300:])


def test_deps_once(src, tmp):
    empty = os.path.join(tmp, "nodeps")
    os.makedirs(empty)
    rc, out = make(src, "-n", "-j2", "BUILD=" + os.path.join(tmp, "b1"), "DEPS=" + empty, "all")
    runs = [ln for ln in out.splitlines() if "scripts/deps.sh" in ln]
    check("deps: -j2-runs-deps.sh-once", rc == 0 and len(runs) == 1,
          "rc=%s: %s" % (rc, runs or out[-300:]))


def stamp(src):
    p = subprocess.run(["bash", os.path.join(src, "scripts", "deps.sh"), "--stamp"],
                       capture_output=True, text=True, env=ENV, timeout=30)
    return p.stdout.strip()


def test_patch_key(src):
    patches = sorted(f for f in os.listdir(os.path.join(src, "scripts", "patches"))
                     if f.endswith(".patch"))
    if not check("patch-key: a-patch-exists", patches, patches):
        return
    s1 = stamp(src)
    rc, out = make(src, "-q", "BUILD=" + BUILD, "all")
    check("patch-key: up-to-date-before", rc == 0 and s1, "%s %s" % (s1, out[-200:]))
    path = os.path.join(src, "scripts", "patches", patches[0])
    with open(path) as f:
        orig = f.read()
    future = time.time() + 3600
    os.utime(path, (future, future))
    s_touch = stamp(src)
    rc, out = make(src, "-q", "BUILD=" + BUILD, "all")
    check("patch-key: touch-same-content-no-rebuild", s_touch == s1 and rc == 0,
          "%s -> %s, make -q %s" % (s1, s_touch, rc))
    with open(path, "w") as f:
        f.write("# a changed comment\n" + orig)
    s2 = stamp(src)
    rc, out = make(src, "-n", "BUILD=" + BUILD, "all")
    check("patch-key: changed-content-new-stamp", s2 != s1 and ".ready-" in s2, "%s %s" % (s1, s2))
    check("patch-key: changed-content-runs-deps.sh-and-relinks",
          "scripts/deps.sh" in out and (BUILD + "/smtp-probe") in would_build(out), out[-400:])
    with open(path, "w") as f:
        f.write(orig)
    check("patch-key: restored-content-old-stamp", stamp(src) == s1, stamp(src))


def pc_dir(tmp, version):
    d = os.path.join(tmp, "pc-" + version)
    os.makedirs(d)
    for n in ("mbedtls", "mbedx509", "mbedcrypto"):
        with open(os.path.join(d, n + ".pc"), "w") as f:
            f.write("Name: %s\nDescription: test\nVersion: %s\nCflags: -I/sys-mbedtls/include\n"
                    "Libs: -l%s\n" % (n, version, n))
    with open(os.path.join(d, "libcares.pc"), "w") as f:
        f.write("Name: libcares\nDescription: test\nVersion: 1.34.5\n"
                "Cflags: -I/sys-cares/include\nLibs: -lcares\n")
    return d


def test_system_mbedtls(src, tmp):
    for version, extra, want_sys, want_msg in (("3.6.7", [], True, False),
                                               ("3.6.6", [], False, True),
                                               ("3.6.6", ["MBEDTLS_MIN_SYSTEM=3.6.6"], True, False),
                                               ("4.0.0", [], False, False)):
        env = dict(ENV, PKG_CONFIG_LIBDIR=pc_dir(tmp, version + "".join(extra)))
        b = os.path.join(tmp, "b-" + version)
        rc, out = make(src, "-n", "BUILD=" + b, b + "/obj/cli.o", *extra, env=env)
        tag = "system-mbedtls %s%s" % (version, " " + " ".join(extra) if extra else "")
        uses_sys = "-I/sys-mbedtls/include" in out
        check("%s: compiles" % tag, rc == 0 and "probe/cli.c" in out, out[-300:])
        check("%s: %s" % (tag, "used" if want_sys else "refused, pinned one built"),
              uses_sys == want_sys and (("-Ideps/prefix/include" in out) != want_sys), out[-400:])
        msg = "not using the system mbedTLS %s" % version
        check("%s: %s" % (tag, "message-says-why" if want_msg else "no-message"),
              (msg in out and "RSA-PSS" in out) == want_msg, out[:400])


with tempfile.TemporaryDirectory() as tmp:
    src = os.path.join(tmp, "src")
    copy_tree(src)
    test_headers(src)
    test_deps_once(src, tmp)
    test_patch_key(src)
    test_system_mbedtls(src, tmp)
finish()

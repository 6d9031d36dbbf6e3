#!/usr/bin/env python3
"""The tree packages and installs like any Unix tool:

  * `dpkg-buildpackage -us -uc -b` on a copy of the tree (the files git
    knows plus untracked non-ignored ones, and an already-built deps/prefix
    so mbedTLS/c-ares are not rebuilt) produces a .deb;
  * `dpkg -x` of it into a scratch root: usr/bin/smtp-probe -V runs, the
    man page, both completions and the JSON Schema are there, the man page
    renders without groff warnings;
  * every option `--help` prints (and every one probe/cli.c accepts) is in
    the man page and both completions; every option the man page documents
    is one cli.c accepts;
  * `make install DESTDIR=…` puts the files where PREFIX/BINDIR/MANDIR say,
    and `make uninstall` with the same variables leaves no file behind.

Prints "ok NAME" / "FAIL NAME: why"; exits 1 if anything failed.
Needs dpkg-dev, debhelper and groff-base (man-db and zsh for optional checks).
"""
import glob
import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_TIMEOUT = float(os.environ.get("SP_PACKAGE_TIMEOUT", "150"))
failures = 0


def check(name, cond, detail=""):
    global failures
    if cond:
        print("ok %s" % name, flush=True)
    else:
        failures += 1
        detail = str(detail).replace("\n", " | ")
        if len(detail) > 600:
            detail = "..." + detail[-600:]
        print("FAIL %s: %s" % (name, detail or "condition false"), flush=True)
    return cond


# A package is built as a packager would: without the variables of an outer
# make (`make asan` passes BUILD, CFLAGS and sanitizer flags down through
# MAKEFLAGS, which would leak into the package build).
CLEAN_ENV = {k: v for k, v in os.environ.items()
             if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                          "BUILD", "CFLAGS", "LDFLAGS", "EXTRA_CFLAGS", "EXTRA_LDFLAGS")}


def sh(args, cwd=None, timeout=60, env=None):
    """(returncode, stdout+stderr); returncode None when it could not run."""
    if env is None:
        env = CLEAN_ENV
    try:
        p = subprocess.run(args, cwd=cwd, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")


def copy_tree(dst):
    """The files git tracks plus untracked, non-ignored ones (other work in
    progress), and deps/prefix when it is built. Returns a list of problems."""
    rc, out = sh(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                  "--exclude-standard"])
    if rc != 0:
        return ["git ls-files: %s" % out.strip()]
    for rel in out.split("\0"):
        if not rel:
            continue
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src) or os.path.islink(src):
            continue                       # deleted in the work tree, or a link
        os.makedirs(os.path.join(dst, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, rel))
    prefix = os.path.join(ROOT, "deps", "prefix")
    if os.path.isdir(prefix):
        shutil.copytree(prefix, os.path.join(dst, "deps", "prefix"), symlinks=True)
    return []


def unescape_roff(text):
    return text.replace("\\-", "-").replace("\\(dq", '"').replace("\\e", "\\")


def has_opt(text, opt):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(opt), text) is not None


def cli_longopts():
    """Long option names in probe/cli.c's option table (cli_opts)."""
    with open(os.path.join(ROOT, "probe", "cli.c")) as f:
        src = f.read()
    table = src.split("cli_opts[] = {", 1)[1].split("\n};", 1)[0]
    return ["--" + n for n in re.findall(r'\{\s*"([a-z0-9-]+)"', table)]


def documented_options(man):
    """--options in the tags (.TP next line) of the OPTIONS section, before
    "Not yet available"."""
    sect = man.split(".SH OPTIONS", 1)[-1].split(".SH ", 1)[0]
    sect = sect.split('.SS "Not yet available"', 1)[0]
    lines = sect.splitlines()
    opts = set()
    for i, line in enumerate(lines[:-1]):
        if line.strip() == ".TP":
            opts.update(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", lines[i + 1]))
    return opts


def check_docs(tag, man_src, bash_comp, zsh_comp, help_text):
    man = unescape_roff(man_src)
    help_long = sorted(set(re.findall(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)", help_text)))
    help_short = sorted(set(re.findall(r"(?<![\w-])(-[a-zA-Z0-9])(?![\w-])", help_text)))
    check("%s: help-lists-options" % tag, len(help_long) >= 20, help_long)
    missing = [o for o in help_long + help_short if not has_opt(man, o)]
    check("%s: help-options-in-man" % tag, not missing, "not in the man page: %s" % missing)
    cli = cli_longopts()
    missing = [o for o in cli if not has_opt(man, o)]
    check("%s: cli-options-in-man" % tag, len(cli) >= 20 and not missing,
          "not in the man page: %s (cli.c has %d)" % (missing, len(cli)))
    extra = sorted(documented_options(man_src.replace("\\-", "-")) - set(cli))
    check("%s: man-documents-only-real-options" % tag, not extra,
          "documented but not accepted by cli.c: %s" % extra)
    for comp_name, comp in (("bash", bash_comp), ("zsh", zsh_comp)):
        missing = [o for o in cli if not has_opt(comp, o)]
        check("%s: %s-completion-has-options" % (tag, comp_name), not missing,
              "missing: %s" % missing)
        values = ["text", "json", "nagios", "prometheus", "auto", "always", "never"]
        missing = [v for v in values if not has_opt(comp, v)]
        check("%s: %s-completion-has-values" % (tag, comp_name), not missing,
              "missing: %s" % missing)
    return man


def groff_clean(tag, text):
    if shutil.which("groff") is None:
        check("%s: man-renders" % tag, False, "groff is not installed (groff-base)")
        return
    try:
        p = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"],
                           input=text.encode(), capture_output=True, timeout=30)
        check("%s: man-renders-without-warnings" % tag,
              p.returncode == 0 and not p.stderr.strip(),
              p.stderr.decode("utf-8", "replace"))
    except (OSError, subprocess.TimeoutExpired) as e:
        check("%s: man-renders-without-warnings" % tag, False, e)


def test_deb(work):
    src = os.path.join(work, "src")
    os.makedirs(src)
    probs = copy_tree(src)
    if not check("deb: copy-tree", not probs, probs):
        return src
    # Rules-Requires-Root: no, so fakeroot is not needed even when not root.
    tools = [t for t in ("dpkg-buildpackage", "dh", "dpkg-deb") if shutil.which(t) is None]
    if not check("deb: tools-present", not tools,
                 "missing %s (apt-get install dpkg-dev debhelper)" % tools):
        return src
    t0 = time.monotonic()
    rc, out = sh(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, timeout=BUILD_TIMEOUT)
    secs = time.monotonic() - t0
    with open(os.path.join(work, "dpkg-buildpackage.log"), "w") as f:
        f.write(out)
    debs = [d for d in glob.glob(os.path.join(work, "smtp-probe_*.deb"))]
    if not check("deb: dpkg-buildpackage", rc == 0 and len(debs) == 1,
                 "rc=%s after %.0fs: %s" % (rc, secs, out[-600:])):
        return src
    deb = debs[0]
    print("# %s: %d bytes, built in %.0f s" % (os.path.basename(deb), os.path.getsize(deb), secs),
          flush=True)
    warn = [l for l in out.splitlines() if re.search(r"\bwarning:", l)]
    check("deb: build-without-warnings", not warn, warn[:5])

    root = os.path.join(work, "root")
    rc, out = sh(["dpkg", "-x", deb, root])
    if not check("deb: dpkg-x", rc == 0, out):
        return src
    binary = os.path.join(root, "usr", "bin", "smtp-probe")
    rc, out = sh([binary, "-V"], timeout=10)
    check("deb: smtp-probe-V", rc == 0 and out.startswith("smtp-probe 0.1.0"),
          "rc=%s out=%r" % (rc, out))
    rc, help_text = sh([binary, "--help"], timeout=10)
    check("deb: smtp-probe-help", rc == 0 and "usage:" in help_text, help_text[:200])

    man_gz = os.path.join(root, "usr", "share", "man", "man1", "smtp-probe.1.gz")
    files = {
        "man": man_gz,
        "bash-completion": os.path.join(root, "usr/share/bash-completion/completions/smtp-probe"),
        "zsh-completion": os.path.join(root, "usr/share/zsh/site-functions/_smtp-probe"),
        "schema": os.path.join(root, "usr/share/smtp-probe/smtp-probe.schema.json"),
        "copyright": os.path.join(root, "usr/share/doc/smtp-probe/copyright"),
        "README": os.path.join(root, "usr/share/doc/smtp-probe/README.md"),
        "usage.md": os.path.join(root, "usr/share/doc/smtp-probe/docs/usage.md"),
        "findings.md": os.path.join(root, "usr/share/doc/smtp-probe/docs/findings.md"),
        "monitoring.md": os.path.join(root, "usr/share/doc/smtp-probe/docs/monitoring.md"),
    }
    for what, path in files.items():
        check("deb: has-%s" % what, os.path.isfile(path), path.replace(root, ""))
    if not all(os.path.isfile(p) for p in files.values()):
        return src
    with gzip.open(man_gz, "rt") as f:
        man_src = f.read()
    with open(files["bash-completion"]) as f:
        bash_comp = f.read()
    with open(files["zsh-completion"]) as f:
        zsh_comp = f.read()
    check_docs("deb", man_src, bash_comp, zsh_comp, help_text)
    groff_clean("deb", man_src)
    with open(files["schema"], "rb") as a, open(os.path.join(ROOT, "docs",
                                                            "smtp-probe.schema.json"), "rb") as b:
        check("deb: schema-is-the-published-one", a.read() == b.read())
    rc, out = sh(["dpkg-deb", "-f", deb, "Depends"])
    check("deb: depends", rc == 0 and "libc6" in out, out)
    check("deb: depends on the libraries it loads on demand (libidn2-0, libexpat1)",
          rc == 0 and "libidn2-0" in out and "libexpat1" in out, out)
    rc, out = sh(["dpkg-deb", "-f", deb, "Recommends"])
    check("deb: recommends ca-certificates (the default trust store)",
          rc == 0 and "ca-certificates" in out, out)
    if shutil.which("bash"):
        rc, out = sh(["bash", "-c", "source %s && complete -p smtp-probe" % files["bash-completion"]])
        check("deb: bash-completion-loads", rc == 0 and "_smtp_probe" in out, out)
    if shutil.which("zsh"):
        rc, out = sh(["zsh", "-n", files["zsh-completion"]])
        check("deb: zsh-completion-parses", rc == 0, out)
    return src


def listing(top):
    out = []
    for d, _, names in os.walk(top):
        out.extend(os.path.relpath(os.path.join(d, n), top) for n in names)
    return sorted(out)


def test_make_install(src, work):
    """In the copy dpkg-buildpackage left (its debian/build has the binary)."""
    binary = os.path.join(src, "debian", "build", "smtp-probe")
    if not check("install: binary-built", os.path.isfile(binary), binary):
        return
    cases = [
        ("prefix", ["PREFIX=/usr/local"],
         ["usr/local/bin/smtp-probe", "usr/local/share/man/man1/smtp-probe.1",
          "usr/local/share/bash-completion/completions/smtp-probe",
          "usr/local/share/zsh/site-functions/_smtp-probe",
          "usr/local/share/smtp-probe/smtp-probe.schema.json"]),
        ("bindir-mandir", ["PREFIX=/opt/sp", "BINDIR=/opt/sp/sbin", "MANDIR=/opt/man"],
         ["opt/sp/sbin/smtp-probe", "opt/man/man1/smtp-probe.1",
          "opt/sp/share/bash-completion/completions/smtp-probe",
          "opt/sp/share/zsh/site-functions/_smtp-probe",
          "opt/sp/share/smtp-probe/smtp-probe.schema.json"]),
    ]
    for name, vars_, want in cases:
        dest = os.path.join(work, "dest-" + name)
        args = ["make", "-s", "BUILD=debian/build", "DESTDIR=" + dest] + vars_
        rc, out = sh(args + ["install"], cwd=src, timeout=120)
        got = listing(dest)
        check("install-%s: files" % name, rc == 0 and got == sorted(want),
              "rc=%s got=%s want=%s %s" % (rc, got, sorted(want), out[-300:]))
        bin_path = os.path.join(dest, want[0])
        check("install-%s: binary-executable" % name,
              os.path.isfile(bin_path) and os.stat(bin_path).st_mode & 0o777 == 0o755,
              oct(os.stat(bin_path).st_mode) if os.path.exists(bin_path) else "missing")
        if os.path.isfile(bin_path):
            rc2, out2 = sh([bin_path, "-V"], timeout=10)
            check("install-%s: runs" % name, rc2 == 0 and "smtp-probe" in out2, out2)
        rc, out = sh(args + ["uninstall"], cwd=src, timeout=60)
        left = listing(dest)
        check("uninstall-%s: no-files-left" % name, rc == 0 and not left,
              "rc=%s left=%s %s" % (rc, left, out[-300:]))


def test_source_tree():
    """The man page in the tree itself (what `man -l doc/smtp-probe.1` shows)."""
    with open(os.path.join(ROOT, "doc", "smtp-probe.1")) as f:
        man_src = f.read()
    groff_clean("tree", man_src)
    if shutil.which("man"):
        env = dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
        try:
            p = subprocess.run(["man", "--warnings", "-l", os.path.join(ROOT, "doc", "smtp-probe.1")],
                               capture_output=True, timeout=30, env=env, stdin=subprocess.DEVNULL)
            text = re.sub(r".\x08", "", p.stdout.decode("utf-8", "replace"))  # overstrike
            check("tree: man-l", p.returncode == 0 and not p.stderr.strip()
                  and "EXIT STATUS" in text and "SEE ALSO" in text,
                  "rc=%s %s" % (p.returncode, p.stderr.decode("utf-8", "replace")[:300]))
        except (OSError, subprocess.TimeoutExpired) as e:
            check("tree: man-l", False, e)


def main():
    test_source_tree()
    work = tempfile.mkdtemp(prefix="sp-package-")
    keep = os.environ.get("SP_KEEP_PACKAGE_DIR")
    try:
        src = test_deb(work)
        test_make_install(src, work)
    finally:
        if keep:
            print("# kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Limits and inputs read at start:
- --password-file is read once, at start: a FIFO (which can be read only
  once, like <(pass show x)) still gives a login at aiosmtpd;
- --deadline bounds the whole --mx run, its DNS phase included: with a DNS
  server that never answers and a --timeout far longer than the deadline,
  the run ends at the deadline with a finding that says so;
- a --cafile larger than the bound is refused before it is read (a sparse
  1 GiB file), exit 3, one clear line;
- smtp-probe with no target prints the usage line as well (exit 3)."""
import os
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import (check, finish, finding, finding_codes, get, load_env,  # noqa: E402
                 probe_json, run_probe, summary)

ENV = load_env()
P = ENV["ports"]
USER = ENV["sasl"]["user"]
with open(ENV["sasl"]["password_file"]) as f:
    PASSWORD = f.readline().rstrip("\r\n")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKEDNS = os.path.join(ROOT, "tests", "fake", "fakedns.py")
TLS = ["--cafile", ENV["ca"], "--servername", "mx1.test", "--timeout", "5", "-v"]


# ------------------------------------------------ 19: --password-file once
def password_fifo():
    tmp = tempfile.mkdtemp(prefix="sp-fifo-")
    fifo = os.path.join(tmp, "pw")
    os.mkfifo(fifo, 0o600)
    writes = []

    def writer():
        # Each open by the probe gets the password once; a second open
        # would find no writer and block (the bug this test catches), so
        # the writer serves exactly one open and then goes away.
        with open(fifo, "w") as w:
            w.write(PASSWORD + "\n")
        writes.append(1)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        rc, d, out, err = probe_json("password-fifo", TLS + [
            "--deadline", "8", "--auth", USER, "--password-file", fifo,
            "127.0.0.1:%d" % P["aiosmtpd"]], timeout=15)
        check("password-fifo: the writer was read", writes == [1], writes)
        check("password-fifo: login tested", get(d, "auth.tested") is True, d.get("auth"))
        check("password-fifo: login accepted", get(d, "auth.accepted") is True,
              summary(rc, d, err))
        check("password-fifo: no timeout", "timeout" not in finding_codes(d), summary(rc, d, err))
        check("password-fifo: exit-0", rc == 0, summary(rc, d, err))
    finally:
        if t.is_alive():
            # Unblock the writer if the probe never opened the FIFO.
            try:
                fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
                os.close(fd)
            except OSError:
                pass
            t.join(2)
        os.unlink(fifo)
        os.rmdir(tmp)


# ------------------------------------------------ 20: --deadline over --mx DNS
def mx_dns_deadline():
    dns = Helper(["/usr/bin/python3", FAKEDNS, "--port", "0", "--lifetime", "60"])
    try:
        if not check("mx-deadline: fakedns started", dns.port, dns.stderr()[-300:]):
            return
        # Without the bound the run would wait for c-ares: 30 s per try.
        rc, d, out, err = probe_json("mx-deadline", [
            "--mx", "--resolver", "127.0.0.1:%d" % dns.port, "--timeout", "30",
            "--deadline", "1", "timeout.fault.test"], timeout=15)
        check("mx-deadline: the run ended (did not wait for --timeout)", rc is not None, err)
        fd = finding(d, "dns-timeout")
        check("mx-deadline: dns-timeout finding", fd is not None and
              fd.get("severity") == "critical", summary(rc, d, err))
        check("mx-deadline: the message names the deadline and the lookup",
              fd is not None and "deadline" in fd.get("message", "") and
              "MX lookup of timeout.fault.test" in fd.get("message", ""),
              fd and fd.get("message"))
        check("mx-deadline: exit-2", rc == 2, summary(rc, d, err))
        check("mx-deadline: the query did reach the server",
              "timeout.fault.test" in dns.stderr(), dns.stderr()[-300:])
        # Text output of the same run: one line per finding, no hang.
        rc, d, out, err = run_probe([
            "--mx", "--resolver", "127.0.0.1:%d" % dns.port, "--timeout", "30",
            "--deadline", "1", "timeout.fault.test"], timeout=15)
        check("mx-deadline-text: says dns-timeout", rc == 2 and "dns-timeout" in out,
              "rc=%s %s" % (rc, out[-300:]))
    finally:
        dns.stop()


# ------------------------------------------------ 21: --cafile bound
def cafile_bound():
    with tempfile.NamedTemporaryFile(prefix="sp-bigca-", suffix=".pem") as f:
        f.truncate(1 << 30)           # sparse: no disk, no memory
        f.flush()
        rc, d, out, err = run_probe(["--cafile", f.name, "127.0.0.1:%d" % P["starttls"]],
                                    timeout=15)
        check("cafile-1GiB: exit-3", rc == 3, "rc=%s %s" % (rc, err))
        check("cafile-1GiB: one clear line naming the file and the bound",
              err.count("\n") == 1 and f.name in err and "too large" in err and
              "16 MiB" in err, err)
        check("cafile-1GiB: nothing on stdout", out == "", out[:200])
    # A real CA file of normal size still works.
    rc, d, out, err = probe_json("cafile-normal", TLS + ["127.0.0.1:%d" % P["starttls"]])
    check("cafile-normal: trusted", get(d, "tls.verify.trusted") is True, summary(rc, d, err))


# ------------------------------------------------ 22: no target
def no_target():
    rc, d, out, err = run_probe([])
    lines = err.splitlines()
    check("no-target: exit-3", rc == 3, "rc=%s" % rc)
    check("no-target: names the problem", lines[:1] == ["smtp-probe: no target given"], lines)
    check("no-target: prints the usage line",
          len(lines) == 2 and lines[1].startswith("usage: smtp-probe [OPTIONS] TARGET..."),
          lines)
    check("no-target: nothing on stdout", out == "", out[:200])


password_fifo()
mx_dns_deadline()
cafile_bound()
no_target()
finish()

#!/usr/bin/python3
"""-o nagios as a drop-in for check_smtp / check_ssl_cert users, against the
suite's real Postfix and NSD: every exit 3 prints one "SMTP UNKNOWN - reason"
line; -H and -t; --warn-time/--crit-time (probe-slow, and the thresholds of
the time perfdata); --perfdata-plain as Icinga 2 reads it; --mx as one
check of a domain. The output is judged by the guidelines' grammar and by
Icinga 2's own perfdata parser; the Icinga 2 CheckCommand documented in
docs/monitoring.md is validated by `icinga2 daemon -C`."""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, check, finish, load_env, run_probe  # noqa: E402
from nagios_grammar import STATUS, icinga_parse, parse_nagios  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
P = ENV["ports"]
V4 = ENV.get("v4", "127.0.0.1")
DNS = ENV["dns"]["resolver"]
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5"]
NOPW = {k: v for k, v in os.environ.items() if k != "SMTP_PROBE_PASSWORD"}


def unknown(name, args, reason_re):
    rc, _, out, err = run_probe(args, env=NOPW)
    lines = out.split("\n")
    check(name + ": exit-3", rc == 3, (rc, out, err))
    check(name + ": one line on stdout", len(lines) == 2 and lines[1] == "", repr(out))
    m = STATUS.match(lines[0])
    check(name + ": SMTP UNKNOWN line", m is not None and m.group(1) == "UNKNOWN"
          and m.group(3) is None, lines[0])
    check(name + ": names the reason", m is not None and re.search(reason_re, m.group(2)),
          lines[0])
    check(name + ": stderr too", err.startswith("smtp-probe: "), err)


def test_unknown():
    # A plain run of the same bad usage prints nothing on stdout: the line is
    # the nagios format's.
    rc, _, out, err = run_probe(["--warn-days", "3", "--crit-days", "7", "x.test"])
    check("unknown-plain: exit-3", rc == 3, (rc, err))
    check("unknown-plain: stdout empty without -o nagios", out == "", repr(out))
    unknown("unknown-option", ["-o", "nagios", "--no-such-option", "x.test"],
            r"unknown option '--no-such-option'")
    unknown("unknown-option-before-o", ["--no-such-option", "-o", "nagios", "x.test"],
            r"unknown option")
    unknown("unknown-days", ["-o", "nagios", "--warn-days", "3", "--crit-days", "7", "x.test"],
            r"--warn-days 3 is below --crit-days 7")
    unknown("unknown-auth", ["-o", "nagios", "--auth", "u@test", "x.test"],
            r"--auth needs a password")
    unknown("unknown-time", ["-onagios", "--warn-time", "5", "--crit-time", "2", "x.test"],
            r"--warn-time 5 is above --crit-time 2")
    unknown("unknown-no-target", ["--output=nagios"], r"no target")
    unknown("unknown-bad-target", ["-o", "nagios", "a|b:99999"], r"bad target")
    unknown("unknown-cafile", ["-o", "nagios", "--cafile", "/nonexistent/ca.pem", "x.test"],
            r"/nonexistent/ca.pem")
    # The last -o wins, as in the parser.
    rc, _, out, _ = run_probe(["-o", "nagios", "-o", "json", "--no-such-option"])
    check("unknown-last-o-wins: json asked, stdout empty", rc == 3 and out == "", repr(out))


def test_h_and_t():
    rc, _, out, err = run_probe(["-o", "nagios"] + TLS + ["-H", "%s:%d" % (V4, P["starttls"]),
                                                          "-t", "20"])
    word, summary, perf, _ = parse_nagios("H", out)
    check("H: exit-0", rc == 0, (rc, out, err))
    check("H: the -H host is probed", word == "OK" and
          summary.startswith("%s:%d " % (V4, P["starttls"])), summary)
    # -t is the whole deadline: a server that accepts and never greets is
    # cut at -t, well before the 10 s step timeout, with the deadline named.
    with socket.socket() as ls:
        ls.bind((V4, 0))
        ls.listen(4)
        port = ls.getsockname()[1]
        rc, _, out, err = run_probe(["-o", "nagios", "--timeout", "10", "-t", "1",
                                     "-H", "%s:%d" % (V4, port)])
    word, summary, perf, longl = parse_nagios("t", out)
    check("t: critical", rc == 2 and word == "CRITICAL", (rc, out, err))
    check("t: the deadline of 1 s is named", "within its 1 s deadline" in out, out)


def test_time_thresholds():
    base = ["-o", "nagios"] + TLS + ["%s:%d" % (V4, P["starttls"])]
    rc, _, out, err = run_probe(base + ["--warn-time", "60", "--crit-time", "120"])
    word, _, perf, longl = parse_nagios("time-ok", out)
    check("time-ok: exit-0", rc == 0 and word == "OK", (rc, out, err))
    t = perf.get("time")
    check("time-ok: thresholds in the time perfdata", t is not None and
          t.group(4) == "60" and t.group(5) == "120", t.group(0) if t else sorted(perf))
    check("time-ok: no probe-slow", "probe-slow" not in out, out)
    rc, _, out, err = run_probe(base + ["--warn-time", "0.000001", "--crit-time", "60"])
    word, summary, perf, longl = parse_nagios("time-warn", out)
    check("time-warn: exit-1", rc == 1 and word == "WARNING", (rc, out, err))
    check("time-warn: probe-slow", any(ln.startswith("[WARNING] probe-slow: ") for ln in longl),
          longl)
    t = perf.get("time")
    check("time-warn: plain decimal threshold", t is not None and t.group(4) == "0.000001",
          t.group(0) if t else "")
    rc, _, out, err = run_probe(base + ["--crit-time", "0.000001"])
    word, summary, perf, longl = parse_nagios("time-crit", out)
    check("time-crit: exit-2", rc == 2 and word == "CRITICAL", (rc, out, err))
    check("time-crit: probe-slow critical",
          any(ln.startswith("[CRITICAL] probe-slow: ") for ln in longl), longl)
    vals = icinga_parse("time-crit", [perf[k].group(0) for k in sorted(perf)])
    if vals:
        v = {x["label"]: x for x in vals}
        check("time-crit: icinga2 reads the time thresholds",
              v["time"]["crit"] == 1e-06 and v["time"]["unit"] == "seconds", v.get("time"))


def test_perfdata_plain():
    base = ["-o", "nagios"] + TLS + ["--warn-days", "40", "--crit-days", "10",
                                     "%s:%d" % (V4, P["starttls"])]
    rc, _, out, err = run_probe(base)
    word, _, perf, _ = parse_nagios("ranges", out)
    check("ranges: exit-0", rc == 0, (rc, out, err))
    c = perf.get("cert_days_left")
    check("ranges: cert_days_left in range syntax", c is not None and c.group(4) == "40:" and
          c.group(5) == "10:", c.group(0) if c else sorted(perf))
    vals = icinga_parse("ranges", [perf[k].group(0) for k in sorted(perf)])
    if vals:
        v = {x["label"]: x for x in vals}
        check("ranges: icinga2 reads the value", v["cert_days_left"]["value"] > 300,
              v["cert_days_left"])
        check("ranges: icinga2 drops range thresholds (why --perfdata-plain exists)",
              v["cert_days_left"]["warn"] is None, v["cert_days_left"])
    rc, _, out, err = run_probe(base + ["--perfdata-plain"])
    word, _, perf, _ = parse_nagios("plain", out)
    check("plain: exit-0, same status", rc == 0 and word == "OK", (rc, out, err))
    c = perf.get("cert_days_left")
    check("plain: cert_days_left with bare numbers", c is not None and c.group(4) == "40" and
          c.group(5) == "10", c.group(0) if c else sorted(perf))
    vals = icinga_parse("plain", [perf[k].group(0) for k in sorted(perf)])
    if vals:
        v = {x["label"]: x for x in vals}
        check("plain: icinga2 keeps the thresholds",
              v["cert_days_left"]["warn"] == 40 and v["cert_days_left"]["crit"] == 10,
              v["cert_days_left"])
        check("plain: size in bytes", v["size_limit"]["unit"] == "bytes", v.get("size_limit"))


def test_mx():
    rc, _, out, err = run_probe(["-o", "nagios", "--mx", "example.test", "-p",
                                 str(P["starttls"]), "--resolver", DNS, "--cafile", CA,
                                 "--connect-timeout", "3"])
    word, summary, perf, longl = parse_nagios("mx", out)
    # mx1.test answers; mx2.test (127.0.0.2) has nothing listening.
    check("mx: exit-2 critical", rc == 2 and word == "CRITICAL", (rc, out, err))
    check("mx: one status for the domain", summary.startswith("example.test: 1 of 2 MX hosts "
                                                              "answered"), summary)
    hosts = [ln for ln in longl if re.match(r"^\[(OK|WARNING|CRITICAL|UNKNOWN)\] mx\d\.test:", ln)]
    check("mx: one long-output line per host", len(hosts) == 2 and
          hosts[0].startswith("[OK] mx1.test:%d (" % P["starttls"]) and
          hosts[1].startswith("[CRITICAL] mx2.test:%d" % P["starttls"]), longl)
    check("mx: perfdata per host", "hosts_answered" in perf and
          "mx1.test/cert_days_left" in perf and "mx2.test/time" in perf, sorted(perf))
    check("mx: hosts_answered", perf["hosts_answered"].group(2) == "1" if
          "hosts_answered" in perf else False, sorted(perf))
    vals = icinga_parse("mx", [perf[k].group(0) for k in sorted(perf)])
    if vals:
        check("mx: icinga2 reads every label", sorted(x["label"] for x in vals) == sorted(perf),
              [x["label"] for x in vals])
    # Several domains in one Nagios check would need several status lines.
    unknown("mx-two-domains", ["-o", "nagios", "--mx", "a.test", "b.test"],
            r"one mail domain at a time")


def documented_icinga_conf():
    with open(os.path.join(ROOT, "docs", "monitoring.md")) as f:
        md = f.read()
    sec = md.split("### Icinga 2", 1)[1]
    return re.search(r"```\n(// /etc/icinga2/conf.d/smtp-probe.conf\n.*?)```", sec,
                     re.S).group(1)


def test_icinga_config():
    exe = shutil.which("icinga2")
    if not check("icinga-config: icinga2 installed", exe is not None,
                 "apt-get install --no-install-recommends icinga2-bin"):
        return
    conf = documented_icinga_conf()
    check("icinga-config: documented CheckCommand found", 'CheckCommand "smtp_probe"' in conf
          and "--perfdata-plain" in conf and "--warn-time" in conf, conf[:200])
    with tempfile.TemporaryDirectory() as d:
        # What Debian's /etc/icinga2/conf.d/templates.conf would provide.
        stub = ('template Host "generic-host" { check_command = "dummy" }\n'
                'object CheckCommand "dummy" { command = [ "/bin/true" ] }\n')
        path = os.path.join(d, "icinga2.conf")
        with open(path, "w") as f:
            f.write(stub + conf)
        args = [exe, "daemon", "-C", "-c", path]
        for k in ("DataDir", "LogDir", "CacheDir", "SpoolDir", "InitRunDir"):
            os.makedirs(os.path.join(d, k))
            args.append("-D%s=%s" % (k, os.path.join(d, k)))
        args += ["-DRunAsUser=root", "-DRunAsGroup=root"]
        p = subprocess.run(args, capture_output=True, text=True, timeout=60)
        crit = [ln for ln in p.stdout.splitlines() if "critical/" in ln]
        check("icinga-config: icinga2 daemon -C accepts it", p.returncode == 0 and not crit,
              (p.returncode, crit or p.stdout[-500:]))
        check("icinga-config: the services are applied",
              re.search(r"Instantiated [12] Services?", p.stdout) is not None, p.stdout[-800:])


test_unknown()
test_h_and_t()
test_time_thresholds()
test_perfdata_plain()
test_mx()
test_icinga_config()
finish()

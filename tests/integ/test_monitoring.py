#!/usr/bin/python3
"""Monitoring outputs against the suite's real Postfix (tests/env/start.sh):
-o nagios parsed by the Monitoring Plugins guidelines' grammar, with the exit
code from the expiry thresholds; -o prometheus validated by the real
`promtool check metrics` (Debian package prometheus)."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finish, load_env, run_probe, cert_not_after  # noqa: E402
from prom import promtool, samples  # noqa: E402
from nagios_grammar import parse_nagios  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
P = ENV["ports"]
V4 = ENV.get("v4", "127.0.0.1")
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5"]
SIZE = ENV.get("size_limit", 104857600)

def nagios(name, port, extra=(), targets=None):
    args = ["-o", "nagios"] + TLS + list(extra) + (targets or ["%s:%d" % (V4, port)])
    rc, _, out, err = run_probe(args)
    check(name + ": ran", rc is not None, err)
    return (rc,) + parse_nagios(name, out) + (out, err)


def test_nagios():
    # Valid certificate: OK, a summary with TLS version, expiry and SIZE.
    rc, word, summary, perf, _, out, err = nagios("nagios-valid", P["starttls"])
    check("nagios-valid: exit-0", rc == 0, "rc=%s %s %s" % (rc, out, err))
    check("nagios-valid: SMTP OK", out.startswith("SMTP OK - "), out[:200])
    check("nagios-valid: summary", "TLSv1.3" in summary and "certificate expires in" in summary
          and "SIZE 100 MiB" in summary, summary)
    days = perf.get("cert_days_left")
    check("nagios-valid: cert_days_left", days is not None and 363 <= int(days.group(2)) <= 365
          and days.group(4) == "30:" and days.group(5) == "7:",
          days.group(0) if days else sorted(perf))
    t = perf.get("time")
    check("nagios-valid: time in seconds", t is not None and t.group(3) == "s"
          and re.match(r"^\d+\.\d{3}$", t.group(2)), t.group(0) if t else sorted(perf))
    for label in ("connect_time", "greeting_time", "tls_handshake"):
        check("nagios-valid: %s" % label, label in perf and perf[label].group(3) == "s",
              sorted(perf))
    sl = perf.get("size_limit")
    check("nagios-valid: size_limit", sl is not None and sl.group(2) == str(SIZE)
          and sl.group(3) == "B", sl.group(0) if sl else sorted(perf))
    check("nagios-valid: stderr empty", err == "", err)

    # 20 days left: WARNING below the default 30.
    rc, word, summary, perf, long_lines, out, err = nagios("nagios-soon20", P["soon20"])
    check("nagios-soon20: exit-1", rc == 1, "rc=%s %s" % (rc, out))
    check("nagios-soon20: WARNING", word == "WARNING", out[:200])
    days = perf.get("cert_days_left")
    check("nagios-soon20: cert_days_left", days is not None and 19 <= int(days.group(2)) <= 20,
          days.group(0) if days else sorted(perf))
    check("nagios-soon20: finding line",
          any(ln.startswith("[WARNING] cert-expires-soon: ") for ln in long_lines), long_lines)
    check("nagios-soon20: summary says days", "20 days" in summary or "19 days" in summary,
          summary)

    # The same certificate with --warn-days 10: OK, thresholds follow.
    rc, word, summary, perf, long_lines, out, err = nagios("nagios-soon20-warn10", P["soon20"],
                                                           ["--warn-days", "10"])
    check("nagios-soon20-warn10: exit-0", rc == 0, "rc=%s %s" % (rc, out))
    check("nagios-soon20-warn10: OK", word == "OK", out[:200])
    days = perf.get("cert_days_left")
    check("nagios-soon20-warn10: thresholds", days is not None and days.group(4) == "10:"
          and days.group(5) == "7:", days.group(0) if days else sorted(perf))

    # 5 days left: CRITICAL below the default 7.
    rc, word, summary, perf, long_lines, out, err = nagios("nagios-soon5", P["soon5"])
    check("nagios-soon5: exit-2", rc == 2, "rc=%s %s" % (rc, out))
    check("nagios-soon5: CRITICAL", word == "CRITICAL", out[:200])

    # Expired: CRITICAL, negative days, the finding in the long output.
    rc, word, summary, perf, long_lines, out, err = nagios("nagios-expired", P["expired"])
    check("nagios-expired: exit-2", rc == 2, "rc=%s %s" % (rc, out))
    check("nagios-expired: CRITICAL", word == "CRITICAL", out[:200])
    days = perf.get("cert_days_left")
    check("nagios-expired: negative days", days is not None and int(days.group(2)) < 0,
          days.group(0) if days else sorted(perf))
    check("nagios-expired: finding line",
          any(ln.startswith("[CRITICAL] cert-expired: ") for ln in long_lines), long_lines)

    # Two targets: the worst status, labels prefixed with the target.
    targets = ["%s:%d" % (V4, P["starttls"]), "%s:%d" % (V4, P["soon20"])]
    rc, word, summary, perf, long_lines, out, err = nagios("nagios-two", 0, targets=targets)
    check("nagios-two: exit-1", rc == 1, "rc=%s %s" % (rc, out))
    check("nagios-two: WARNING", word == "WARNING", out[:200])
    want = ["%s/cert_days_left" % t for t in targets]
    check("nagios-two: prefixed labels", all(w in perf for w in want), sorted(perf))

    # Nothing listening: CRITICAL, still the grammar.
    rc, word, summary, perf, long_lines, out, err = nagios(
        "nagios-closed", 0, ["--connect-timeout", "2"], targets=["%s:1" % V4])
    check("nagios-closed: exit-2", rc == 2, "rc=%s %s" % (rc, out))
    check("nagios-closed: CRITICAL", word == "CRITICAL", out[:200])




def prom(name, args):
    rc, _, out, err = run_probe(["-o", "prometheus"] + TLS + args)
    check(name + ": ran", rc is not None, err)
    promtool(name, out)
    return rc, out, samples(out)


def value(ss, metric, labels=""):
    for n, lab, v in ss:
        if n == metric and labels in lab:
            return v
    return None


def test_prometheus():
    target = "%s:%d" % (V4, P["starttls"])
    rc, out, ss = prom("prom-valid", [target])
    check("prom-valid: exit-0", rc == 0, rc)
    check("prom-valid: success", value(ss, "smtp_probe_success") == "1", out[:300])
    check("prom-valid: status", value(ss, "smtp_probe_status") == "0", out[:300])
    check("prom-valid: target label", 'target="%s"' % target in out, out[:300])
    exp = value(ss, "smtp_probe_ssl_earliest_cert_expiry")
    # The server presents leaf + CA; the earliest is the sooner of the two.
    want = min(cert_not_after(ENV["certs"]["valid"]["pem"]), cert_not_after(CA))
    check("prom-valid: earliest expiry within a day", exp is not None
          and abs(float(exp) - want) <= 86400, "got %s want %s" % (exp, want))
    check("prom-valid: expiry in the future", exp is not None and float(exp) > time.time(), exp)
    check("prom-valid: per-cert not_after", len([s for s in ss if s[0] == "smtp_probe_cert_not_after_timestamp_seconds"]) == 2,
          [s for s in ss if s[0] == "smtp_probe_cert_not_after_timestamp_seconds"])
    info = [s[1] for s in ss if s[0] == "smtp_probe_cert_info" and 'position="0"' in s[1]]
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in",
                             ENV["certs"]["valid"]["pem"]], capture_output=True,
                            text=True).stdout.strip().split("=")[-1].lower()
    check("prom-valid: leaf info: subject, SANs, serial as openssl reads it",
          len(info) == 1 and "CN=mx1.test" in info[0] and 'sans="mx1.test,mail.test,' in info[0]
          and ('serial="%s"' % serial) in info[0], (info, serial))
    last = value(ss, "smtp_probe_ssl_last_chain_expiry_timestamp_seconds")
    check("prom-valid: verified-chain expiry", last is not None and exp is not None and
          float(last) == float(exp), (last, exp))
    check("prom-valid: ip protocol 4", value(ss, "smtp_probe_ip_protocol") == "4", out[:300])
    check("prom-valid: address info", value(ss, "smtp_probe_address_info",
                                            'address="%s",family="ipv4"' % V4) == "1",
          [s for s in ss if s[0] == "smtp_probe_address_info"])
    check("prom-valid: tls version", value(ss, "smtp_probe_tls_version_info",
                                           'version="TLS 1.3"') == "1", out[:300])
    check("prom-valid: size", value(ss, "smtp_probe_size_limit_bytes") == str(SIZE),
          value(ss, "smtp_probe_size_limit_bytes"))
    check("prom-valid: attachment", value(ss, "smtp_probe_max_attachment_bytes",
                                          'encoding="base64"') == str((SIZE - 4096) * 57 // 78),
          value(ss, "smtp_probe_max_attachment_bytes"))
    check("prom-valid: starttls offered", value(ss, "smtp_probe_starttls_offered") == "1",
          value(ss, "smtp_probe_starttls_offered"))
    check("prom-valid: trusted", value(ss, "smtp_probe_cert_trusted") == "1",
          value(ss, "smtp_probe_cert_trusted"))
    check("prom-valid: hostname match", value(ss, "smtp_probe_cert_hostname_match") == "1",
          value(ss, "smtp_probe_cert_hostname_match"))
    phases = {re.search(r'phase="([^"]+)"', s[1]).group(1) for s in ss
              if s[0] == "smtp_probe_duration_seconds"}
    check("prom-valid: phases", {"connect", "greeting", "ehlo", "starttls", "tls", "ehlo_tls",
                                 "total"} <= phases, sorted(phases))

    # Expired and 20-day certificates in one run: still one valid exposition.
    ts = ["%s:%d" % (V4, P["expired"]), "%s:%d" % (V4, P["soon20"])]
    rc, out, ss = prom("prom-two", ts)
    check("prom-two: exit-2", rc == 2, rc)
    check("prom-two: expired status", value(ss, "smtp_probe_status", 'target="%s"' % ts[0]) == "2",
          out[:300])
    check("prom-two: expired success 0",
          value(ss, "smtp_probe_success", 'target="%s"' % ts[0]) == "0", out[:300])
    check("prom-two: expired finding", value(ss, "smtp_probe_finding_info",
                                             'code="cert-expired",severity="critical"') == "1",
          [s for s in ss if s[0] == "smtp_probe_finding_info"])
    check("prom-two: soon20 success 1",
          value(ss, "smtp_probe_success", 'target="%s"' % ts[1]) == "1", out[:300])
    exp = value(ss, "smtp_probe_ssl_earliest_cert_expiry", 'target="%s"' % ts[0])
    check("prom-two: expired expiry in the past", exp is not None and float(exp) < time.time(), exp)
    check("prom-two: HELP once", out.count("# HELP smtp_probe_success ") == 1, out[:300])

    # A 5-day certificate is critical by --crit-days 7, yet the server works:
    # success stays 1 (as blackbox_exporter's probe_success), the status and
    # the expiry metrics carry the problem, so one alert fires, not two.
    rc, out, ss = prom("prom-soon5", ["%s:%d" % (V4, P["soon5"])])
    check("prom-soon5: exit-2", rc == 2, rc)
    check("prom-soon5: status 2", value(ss, "smtp_probe_status") == "2", out[:300])
    check("prom-soon5: expires-soon finding", value(ss, "smtp_probe_finding_info",
                                                    'code="cert-expires-soon",severity="critical"') == "1",
          [s for s in ss if s[0] == "smtp_probe_finding_info"])
    check("prom-soon5: success 1", value(ss, "smtp_probe_success") == "1", out[:300])
    # An untrusted chain is a failed check: success 0, no verified-chain expiry.
    rc, out, ss = prom("prom-selfsigned", ["%s:%d" % (V4, P["selfsigned"])])
    check("prom-selfsigned: success 0", value(ss, "smtp_probe_success") == "0", out[:300])
    check("prom-selfsigned: no verified-chain expiry",
          value(ss, "smtp_probe_ssl_last_chain_expiry_timestamp_seconds") is None and
          value(ss, "smtp_probe_ssl_earliest_cert_expiry") is not None, out[:300])

    # AUTH mechanisms from aiosmtpd (offered after TLS only).
    if "aiosmtpd" in P:
        rc, out, ss = prom("prom-aiosmtpd", ["%s:%d" % (V4, P["aiosmtpd"])])
        mech = {re.search(r'mechanism="([^"]+)"', s[1]).group(1) for s in ss
                if s[0] == "smtp_probe_auth_mechanism_info" and 'tls="true"' in s[1]}
        check("prom-aiosmtpd: auth after tls", {"PLAIN", "LOGIN"} <= mech, sorted(mech))

    # Unreachable: no TLS families, still valid.
    rc, out, ss = prom("prom-closed", ["--connect-timeout", "2", "%s:1" % V4])
    check("prom-closed: exit-2", rc == 2, rc)
    check("prom-closed: success 0", value(ss, "smtp_probe_success") == "0", out[:300])


test_nagios()
test_prometheus()
finish()

#!/usr/bin/python3
"""Verdicts of issue 11 that need neither Exim nor TLS (the TLS ones are in
test_exim.py, DANE in test_dane.py, logins in test_auth.py/test_scram.py):

9.  An EHLO reply whose first line is "250-Hello vm" names no host: no
    host name is reported (not "Hello"), and an info finding says why. A
    fake server (tests/fake/scenarios/ehlo_hello.scn): a real one does not
    answer like that on request. Postfix's proper "250-mx1.test" stays.
11. 1,000 MX records naming one host (the suite's nsd, dupmx.test, the host
    in both letter cases): one MX host, one probe, and an info finding.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import (ROOT, check, finding, finding_codes, finish, get, load_env,  # noqa: E402
                 probe_json, run_probe, summary)

ENV = load_env()
P = ENV["ports"]
PY = "/usr/bin/python3"
FAKE = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")
SCEN = os.path.join(ROOT, "tests", "fake", "scenarios")

# ------------------------------------------------ item 9: "250-Hello vm"
fake = Helper([PY, FAKE, "--port", "0", "--scenario", os.path.join(SCEN, "ehlo_hello.scn"),
               "--lifetime", "40"])
try:
    check("ehlo-hello: fake server listening", fake.port, fake.stderr())
    target = "127.0.0.1:%d" % fake.port
    rc, d, out, err = probe_json("ehlo-hello", ["--timeout", "5", target])
    check("ehlo-hello: reply kept", get(d, "ehlo.code") == 250 and
          (get(d, "ehlo.lines") or [""])[0] == "Hello vm", get(d, "ehlo"))
    check("ehlo-hello: no host name", get(d, "ehlo.hostname") is None, get(d, "ehlo"))
    f = finding(d, "ehlo-hostname-invalid")
    check("ehlo-hello: info finding quoting the line",
          f is not None and f["severity"] == "info" and "Hello vm" in f["message"],
          summary(rc, d, err))
    check("ehlo-hello: greeting host name still taken",
          get(d, "greeting.hostname") == "mx.fake.test", get(d, "greeting"))
    rc, _, out, err = run_probe(["--timeout", "5", target])
    check("ehlo-hello text: not 'from Hello'", "EHLO 250" in out and "from Hello" not in out,
          [ln for ln in out.splitlines() if "EHLO" in ln])
finally:
    fake.stop()

rc, d, out, err = probe_json("ehlo-postfix", ["--cafile", ENV["ca"], "--servername", "mx1.test",
                                              "127.0.0.1:%d" % P["starttls"]])
check("ehlo-postfix: host name kept", get(d, "ehlo.hostname") == "mx1.test" and
      "ehlo-hostname-invalid" not in finding_codes(d), (get(d, "ehlo"), finding_codes(d)))

# ------------------------------------------------ item 11: 1,000 MX, one host
rc, d, out, err = probe_json("dupmx", ["--resolver", ENV["dns"]["resolver"], "--timeout", "5",
                                       "-4", "-p", str(P["starttls"]), "--cafile", ENV["ca"],
                                       "--mx", "dupmx.test"], timeout=60)
mx = d.get("mx") or []
probes = [p for p in d.get("probes") or [] if isinstance(p, dict)]
check("dupmx: one MX host", len(mx) == 1 and
      str(mx[0].get("host", "")).rstrip(".").lower() == "mx1.test", mx[:3])
check("dupmx: lowest preference kept", mx and mx[0].get("preference") == 1, mx[:1])
check("dupmx: one probe", len(probes) == 1, [(p.get("host"), p.get("address")) for p in probes])
f = finding(d, "mx-duplicate")
check("dupmx: mx-duplicate info naming the counts",
      f is not None and f["severity"] == "info" and "999 of the 1000" in f["message"],
      (f, finding_codes(d)))
check("dupmx: not 'too many'", "mx-too-many" not in finding_codes(d), finding_codes(d))
finish()

#!/usr/bin/python3
"""Issue 11 item 2 with an OpenSSL server: Postfix on port "legacy" (10032)
speaks only TLS 1.0 and 1.1 (smtpd_tls_protocols, @SECLEVEL=0). It answers
the probe's TLS 1.2/1.3 hello with alert 70 protocol_version; the probe then
sends one TLS 1.1 ClientHello on an extra connection and reports
tls-legacy-only (critical) naming TLS 1.1, never tls-handshake-failed, and no
TLS library text in any output. The GnuTLS variant (a TLS 1.1 ServerHello)
is in test_exim.py. A modern server still costs one connection."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (check, finding, finding_codes, finish, get, load_env,  # noqa: E402
                 probe_json, run_probe, summary)

ENV = load_env()
P = ENV["ports"]
TLS = ["--cafile", ENV["ca"], "--servername", "mx1.test", "--timeout", "5"]
TARGET = "%s:%d" % (ENV["v4"], P["legacy"])
# Raw mbedTLS text or a hex error code: never in a text output.
LIBTEXT = re.compile(r"min/max|SSL - |X509 - |-0x[0-9a-fA-F]{2,}")


# ------------------------------------------------ JSON: the finding and exit code
rc, d, out, err = probe_json("legacy", TLS + [TARGET])
f = finding(d, "tls-legacy-only")
check("legacy: tls-legacy-only critical, exit 2",
      f is not None and f.get("severity") == "critical" and rc == 2 and
      d.get("status") == "critical", summary(rc, d, err))
check("legacy: names TLS 1.1, says modern clients refuse it and what to change",
      f is not None and "nothing newer than TLS 1.1" in f["message"] and
      "refuse TLS 1.0 and 1.1" in f["message"] and "enable TLS 1.2 and 1.3" in f["message"],
      f)
check("legacy: says how it was learnt (alert, then a TLS 1.1 ClientHello)",
      f is not None and "protocol_version" in f["message"] and
      "TLS 1.1 ClientHello" in f["message"], f)
check("legacy: no tls-handshake-failed beside it",
      "tls-handshake-failed" not in finding_codes(d), finding_codes(d))
check("legacy: no tls-legacy-version without --tls-versions",
      "tls-legacy-version" not in finding_codes(d), finding_codes(d))
check("legacy: tls.error names alert 70, numeric code in JSON",
      "alert 70" in (get(d, "tls.error") or "") and
      isinstance(get(d, "tls.error_code"), int) and get(d, "tls.error_code") < 0,
      get(d, "tls"))
check("legacy: no library text in JSON", not LIBTEXT.search(out), out[:600])

# ------------------------------------------------ every text output
outputs = {}
for fmt in (["-o", "text"], ["-o", "nagios"], ["--explain"], ["-v"], ["-o", "prometheus"]):
    name = " ".join(fmt)
    rc2, _, o, e = run_probe(TLS + fmt + [TARGET])
    outputs[name] = (rc2, o + e)
    check("legacy %s: exit 2" % name, rc2 == 2, (rc2, (o + e)[-400:]))
    check("legacy %s: no library text (min/max, -0x...)" % name,
          o and not LIBTEXT.search(o + e), (o + e)[:800])
text = outputs["-o text"][1]
check("legacy text: tls-legacy-only naming TLS 1.1",
      re.search(r"\[CRITICAL\] tls-legacy-only: the server offers nothing newer than\s+TLS 1\.1",
                text) is not None, text[-1200:])
nag = outputs["-o nagios"][1]
check("legacy nagios: CRITICAL naming TLS 1.1",
      nag.startswith("SMTP CRITICAL") and "nothing newer than TLS 1.1" in nag, nag[:400])
ex = re.sub(r"\s+", " ", outputs["--explain"][1])
check("legacy explain: says TLS 1.1 is the newest the server speaks",
      "TLS 1.1 is the newest it speaks" in ex, ex[-3000:])
check("legacy explain: who fails and who would not",
      "require TLS 1.2 or later" in ex and "still allow TLS 1.0/1.1 would connect" in ex,
      ex[-3000:])
check("legacy explain: one extra connection (TLS 1.1 answered, no TLS 1.0 asked)",
      ex.count("extra connection: TLS 1.1 ClientHello") == 1 and
      "extra connection: TLS 1.0" not in ex, ex[-3000:])
check("legacy explain: no blanket 'will most likely fail the same way'",
      "most likely fail the same way" not in ex, ex[-3000:])

# ------------------------------------------------ --tls-versions: both findings, distinct
rc, d, out, err = probe_json("legacy versions", TLS + ["--tls-versions", TARGET])
codes = finding_codes(d)
lv = finding(d, "tls-legacy-version")
check("legacy versions: tls-legacy-only and tls-legacy-version both",
      "tls-legacy-only" in codes and lv is not None and rc == 2, summary(rc, d, err))
check("legacy versions: 1.0 and 1.1 accepted, 1.2 and 1.3 refused",
      get(d, "tls.versions") == {"TLSv1.0": True, "TLSv1.1": True, "TLSv1.2": False,
                                 "TLSv1.3": False}, get(d, "tls.versions"))
check("legacy versions: tls-legacy-version says 'only'",
      lv is not None and "accepts only" in lv["message"], lv)

# ------------------------------------------------ a modern server: still one connection
rc, d, out, err = probe_json("modern", TLS + ["-v", "%s:%d" % (ENV["v4"], P["starttls"])])
check("modern: ok, no legacy finding",
      rc == 0 and not {"tls-legacy-only", "tls-legacy-version"} & set(finding_codes(d)),
      summary(rc, d, err))
rc, _, o, e = run_probe(TLS + ["--explain", "%s:%d" % (ENV["v4"], P["starttls"])])
check("modern: no extra connection", "extra connection" not in o and
      o.count("connecting to") == 1, o[:600])
finish()

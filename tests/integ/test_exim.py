#!/usr/bin/python3
"""Verdicts against a second TLS stack: Exim 4.96 on GnuTLS (tests/env/exim.sh,
ports in env.json "exim"), in six configurations, plus the TLS verdicts the
OpenSSL-based servers give: the default, TLS 1.2 with DHE, TLS 1.2 with static
RSA key exchange (tls-no-forward-secrecy), TLS 1.0/1.1 only (tls-legacy-only,
no library text anywhere), an RSA 1024 leaf from the trusted CA (one
cert-weak-key, chain trusted), a leaf sent without its intermediate; a TLS 1.3
KeyUpdate from openssl s_server (tls-library-limit, a warning); whole days
since an expired certificate's notAfter (Postfix)."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (check, finding, finding_codes, finish, get, load_env,  # noqa: E402
                 probe_json, run_probe, summary)

ENV = load_env()
CA = ENV["ca"]
EX = ENV.get("exim") or {}
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5"]
V4 = ENV["v4"]

check("exim: ports in env.json", len(EX) == 6, EX)
if len(EX) != 6:
    finish()


def target(name, v6=False):
    return "[::1]:%d" % EX[name] if v6 else "%s:%d" % (V4, EX[name])


# Raw mbedTLS text ("SSL - ...", "X509 - ...") or a hex code must never reach
# a text output; the numeric code lives in JSON tls.error_code only.
LIBTEXT = re.compile(r"SSL - |X509 - |PK - |RSA - |ECP - |-0x[0-9a-fA-F]{4}")

# ------------------------------------------------ default GnuTLS configuration
rc, d, out, err = probe_json("exim default", TLS + [target("default")])
check("exim default: ok", rc == 0 and d.get("status") == "ok", summary(rc, d, err))
check("exim default: TLS 1.3", get(d, "tls.version") == "TLSv1.3", get(d, "tls"))
check("exim default: trusted", get(d, "tls.verify.trusted") is True, get(d, "tls.verify"))
check("exim default: banner is Exim", "Exim" in (get(d, "greeting.text") or ""),
      get(d, "greeting"))
rc, d, out, err = probe_json("exim default v6", TLS + [target("default", v6=True)])
check("exim default v6: ok", rc == 0 and get(d, "family") == "ipv6", summary(rc, d, err))

# ------------------------------------------------ TLS 1.2 with DHE only
rc, d, out, err = probe_json("exim dhe", TLS + [target("tls12_dhe")])
check("exim dhe: TLS 1.2 DHE suite",
      get(d, "tls.version") == "TLSv1.2" and "_DHE_RSA_" in (get(d, "tls.cipher") or ""),
      get(d, "tls"))
check("exim dhe: group named", (get(d, "tls.group") or "").startswith(("dhe", "ffdhe")),
      get(d, "tls.group"))
check("exim dhe: forward secrecy, status ok",
      rc == 0 and "tls-no-forward-secrecy" not in finding_codes(d), summary(rc, d, err))

# ------------------------------------------------ item 4: static RSA key exchange
rc, d, out, err = probe_json("exim rsa-kx", TLS + [target("tls12_rsa_kx")])
check("exim rsa-kx: TLS_RSA_WITH suite",
      (get(d, "tls.cipher") or "").startswith("TLS_RSA_WITH_"), get(d, "tls"))
f = finding(d, "tls-no-forward-secrecy")
check("exim rsa-kx: tls-no-forward-secrecy warning",
      f is not None and f.get("severity") == "warning" and rc == 1, summary(rc, d, err))
check("exim rsa-kx: message names the suite",
      f is not None and get(d, "tls.cipher") in f.get("message", ""), f)
rc, _, out, err = run_probe(TLS + ["--explain", target("tls12_rsa_kx")])
check("exim rsa-kx explain: no forward secrecy said", "no forward secrecy" in out,
      out[-1500:])
check("exim rsa-kx explain: not called a modern authenticated one",
      "modern authenticated" not in out, out[-1500:])

# ------------------------------------------------ item 2: TLS 1.0/1.1 only
rc, d, out, err = probe_json("exim legacy", TLS + [target("legacy_only")])
f = finding(d, "tls-legacy-only")
check("exim legacy: tls-legacy-only critical",
      f is not None and f.get("severity") == "critical" and rc == 2, summary(rc, d, err))
check("exim legacy: names TLS 1.1 and what to change",
      f is not None and "TLS 1.1" in f["message"] and "enable TLS 1.2" in f["message"], f)
check("exim legacy: no tls-handshake-failed beside it",
      "tls-handshake-failed" not in finding_codes(d), finding_codes(d))
check("exim legacy: server_version TLSv1.1", get(d, "tls.server_version") == "TLSv1.1",
      get(d, "tls"))
check("exim legacy: error_code is the number", get(d, "tls.error_code") == -0x6E80,
      get(d, "tls.error_code"))
check("exim legacy: no library text in JSON", not LIBTEXT.search(out), out[:600])
outputs = {}
for fmt in (["-o", "text"], ["-o", "nagios"], ["-o", "prometheus"], ["--explain"], ["-v"]):
    rc2, _, o, e = run_probe(TLS + fmt + [target("legacy_only")])
    outputs[" ".join(fmt)] = o + e
    check("exim legacy %s: no library text" % " ".join(fmt),
          o and not LIBTEXT.search(o + e), (o + e)[:600])
check("exim legacy text: tls-legacy-only naming TLS 1.1",
      re.search(r"\[CRITICAL\] tls-legacy-only: the server offers nothing newer than\s+TLS 1\.1",
                outputs["-o text"]) is not None, outputs["-o text"][-1200:])
check("exim legacy nagios: CRITICAL naming TLS 1.1",
      outputs["-o nagios"].startswith("SMTP CRITICAL") and
      "nothing newer than TLS 1.1" in outputs["-o nagios"], outputs["-o nagios"][:400])
ex = outputs["--explain"]
check("exim legacy explain: no blanket 'mail clients will fail the same way'",
      "Mail clients will fail the same way" not in ex, ex[-1500:])
check("exim legacy explain: says which clients fail and which would not",
      "require TLS 1.2" in ex and "still allow" in ex, ex[-1500:])

rc, d, out, err = probe_json("exim legacy versions", TLS + ["--tls-versions",
                                                           target("legacy_only")])
f = finding(d, "tls-legacy-version")
check("exim legacy versions: 1.0 and 1.1 accepted",
      (get(d, "tls.versions") or {}).get("TLSv1.0") is True and
      (get(d, "tls.versions") or {}).get("TLSv1.1") is True, get(d, "tls.versions"))
check("exim legacy versions: says 'only'", f is not None and "only" in f["message"] and
      "also" not in f["message"], f)

# ------------------------------------------------ item 5: RSA 1024 leaf, trusted CA
rc, d, out, err = probe_json("exim rsa1024", TLS + [target("rsa1024")])
weak = [f for f in d.get("findings") or [] if f.get("code") == "cert-weak-key"]
check("exim rsa1024: key is RSA 1024", get(d, "tls.chain.0.key") == "RSA 1024",
      get(d, "tls.chain.0"))
check("exim rsa1024: exactly one cert-weak-key, critical",
      len(weak) == 1 and weak[0]["severity"] == "critical" and rc == 2, summary(rc, d, err))
check("exim rsa1024: names size and floor",
      weak and "1024" in weak[0]["message"] and "2048" in weak[0]["message"], weak)
check("exim rsa1024: no cert-untrusted", "cert-untrusted" not in finding_codes(d),
      finding_codes(d))
check("exim rsa1024: chain trusted", get(d, "tls.verify.trusted") is True and
      not get(d, "tls.verify.errors"), get(d, "tls.verify"))
rc, _, out, err = run_probe(TLS + [target("rsa1024")])
check("exim rsa1024 text: not 'trusted no'",
      re.search(r"trusted\s+yes", out) is not None and
      re.search(r"trusted\s+no", out) is None, out[:2000])

# ------------------------------------------------ item 6: leaf without intermediate
rc, d, out, err = probe_json("exim leaf-only", TLS + [target("leaf_only")])
f = finding(d, "cert-untrusted")
check("exim leaf-only: one certificate sent, not self-signed",
      get(d, "tls.chain_total") == 1 and get(d, "tls.chain.0.self_signed") is False,
      get(d, "tls"))
check("exim leaf-only: says the intermediate is most likely omitted",
      f is not None and "omits its intermediate" in f["message"], f)
check("exim leaf-only: in verify.errors too",
      any("omits its intermediate" in e for e in get(d, "tls.verify.errors") or []),
      get(d, "tls.verify"))
rc, _, out, err = run_probe(TLS + ["--explain", target("leaf_only")])
check("exim leaf-only explain: full chain advice", "full chain" in out, out[-2000:])
# The same leaf with its intermediate sent by another path: a self-signed
# leaf (Postfix 10029) keeps the plain message.
rc, d, out, err = probe_json("selfsigned", TLS + ["%s:%d" % (V4, ENV["ports"]["selfsigned"])])
f = finding(d, "cert-untrusted")
check("selfsigned: not told about an intermediate",
      f is not None and "intermediate" not in f["message"], f)

# ------------------------------------------------ item 7: whole days since expiry
expired_pem = ENV["certs"]["expired"]["pem"]
na = subprocess.run(["openssl", "x509", "-in", expired_pem, "-noout", "-enddate"],
                    capture_output=True, text=True).stdout.strip().split("=", 1)[1]
not_after = time.mktime(time.strptime(na, "%b %d %H:%M:%S %Y GMT")) - time.timezone
rc, d, out, err = probe_json("expired", TLS + ["%s:%d" % (V4, ENV["ports"]["expired"])])
days = int((time.time() - not_after) // 86400)
f = finding(d, "cert-expired")
check("expired: days_left is minus the whole days elapsed",
      get(d, "tls.chain.0.days_left") == -days, (get(d, "tls.chain.0.days_left"), days))
check("expired: message counts whole days",
      f is not None and ("expired %d days ago" % days) in f["message"], (f, days))
rc, _, out, err = run_probe(TLS + ["%s:%d" % (V4, ENV["ports"]["expired"])])
check("expired text: EXPIRED N days ago", ("EXPIRED %d days ago" % days) in out,
      [ln for ln in out.splitlines() if "EXPIRED" in ln])
rc, _, out, err = run_probe(TLS + ["--explain", "%s:%d" % (V4, ENV["ports"]["expired"])])
check("expired explain: the same whole days (-N days)",
      ("(-%d days)" % days) in re.sub(r"\s+", " ", out) and
      ("(-%d days)" % (days + 1)) not in re.sub(r"\s+", " ", out),
      [ln for ln in out.splitlines() if "days" in ln])

# ------------------------------------------------ item 3: TLS 1.3 KeyUpdate
# openssl s_server (implicit TLS): after the client's EHLO, a line "k" on
# its stdin makes it send a KeyUpdate, a message TLS 1.3 allows.
port = 10049
srv = subprocess.Popen(["openssl", "s_server", "-accept", "%s:%d" % (V4, port),
                        "-cert", ENV["certs"]["valid"]["pem"],
                        "-key", ENV["certs"]["valid"]["key"], "-cert_chain", CA,
                        "-tls1_3", "-crlf", "-naccept", "1"],
                       stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
try:
    buf = b""
    while b"ACCEPT" not in buf and srv.poll() is None:
        buf += srv.stdout.read1(4096)
    probe = subprocess.Popen([os.environ.get("SMTP_PROBE", "build/smtp-probe"), "-o", "json",
                              "-v"] + TLS + ["smtps://%s:%d" % (V4, port)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 15
    while b"CIPHER is" not in buf and srv.poll() is None and time.monotonic() < deadline:
        buf += srv.stdout.read1(4096)
    srv.stdin.write(b"220 mx1.test ESMTP s_server\n")
    srv.stdin.flush()
    while b"EHLO" not in buf and srv.poll() is None and time.monotonic() < deadline:
        buf += srv.stdout.read1(4096)
    srv.stdin.write(b"k\n")          # alone on its line: s_server's KeyUpdate command
    srv.stdin.flush()
    pout, perr = probe.communicate(timeout=20)
finally:
    srv.kill()
    srv.wait()
import json  # noqa: E402
try:
    d = json.loads(pout)
except ValueError:
    d = {}
f = finding(d, "tls-library-limit")
check("keyupdate: tls-library-limit warning, not critical",
      f is not None and f["severity"] == "warning" and d.get("status") == "warning",
      summary(probe.returncode, d, perr.decode()))
check("keyupdate: names KeyUpdate and the probe's library",
      f is not None and "KeyUpdate" in f["message"] and "probe's TLS library" in f["message"],
      f)
check("keyupdate: not blamed on the server",
      "connection-closed" not in finding_codes(d), finding_codes(d))
finish()

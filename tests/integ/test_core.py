#!/usr/bin/python3
"""Integration tests of the core probe against the suite's real servers
(tests/env/start.sh): Postfix on every port, aiosmtpd, nsd. Each asserts what
a user would check in the JSON contract of docs/design.md."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (check, finish, get, load_env, probe_json, run_probe, finding,  # noqa: E402
                 finding_codes, summary, cert_sha256, spki_sha256, cert_not_after,
                 rfc3339_to_epoch)

ENV = load_env()
CA = ENV["ca"]
P = ENV["ports"]
DNS = ENV["dns"]["resolver"]
VALID = ENV["certs"]["valid"]["pem"]
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5"]
SIZE = 104857600
SIZE_B64 = 76623714            # docs/design.md's worked example
AIO_SIZE = ENV["aiosmtpd_size_limit"]
AIO_B64 = (AIO_SIZE - 4096) * 57 // 78


def ext_keys(doc, which):
    e = get(doc, which + ".extensions")
    return {k.upper() for k in e} if isinstance(e, dict) else set()


def check_present(doc, name, cond, detail=""):
    """A check that something is absent passes only if there was a document."""
    return check(name, bool(doc) and cond, detail if doc else "no JSON document")


def mechs(v):
    """AUTH mechanisms as a set, whether the JSON has a list or a string."""
    if isinstance(v, list):
        return {str(m).upper() for m in v}
    return set(str(v or "").upper().split())


def codes_str(doc):
    return ",".join(str(c) for c in finding_codes(doc))


# ------------------------------------------------------------ STARTTLS, valid
def core_starttls(label, target, family):
    rc, d, out, err = probe_json(label, TLS + [target])
    check(label + ": exit-0", rc == 0, summary(rc, d, err))
    check(label + ": status-ok", d.get("status") == "ok", summary(rc, d, err))
    check(label + ": port", d.get("port") == P["starttls"], d.get("port"))
    check(label + ": target-echoed", d.get("target") == target, d.get("target"))
    check(label + ": tls_mode-starttls", d.get("tls_mode") == "starttls", d.get("tls_mode"))
    check(label + ": family", d.get("family") == family, d.get("family"))
    check(label + ": address", d.get("address") == ("127.0.0.1" if family == "ipv4" else "::1"),
          d.get("address"))
    check(label + ": attempts", isinstance(d.get("attempts"), list) and len(d["attempts"]) >= 1,
          d.get("attempts"))
    check(label + ": greeting-220", get(d, "greeting.code") == 220, get(d, "greeting"))
    check(label + ": greeting-hostname", get(d, "greeting.hostname") == "mx1.test",
          get(d, "greeting.hostname"))
    check(label + ": ehlo-250", get(d, "ehlo.code") == 250, get(d, "ehlo.code"))
    check(label + ": ehlo-lines", isinstance(get(d, "ehlo.lines"), list) and
          len(get(d, "ehlo.lines")) >= 3, get(d, "ehlo.lines"))
    ek = ext_keys(d, "ehlo")
    check(label + ": ehlo-has-STARTTLS", "STARTTLS" in ek, sorted(ek))
    check(label + ": ehlo-has-SIZE", "SIZE" in ek, sorted(ek))
    check(label + ": ehlo-has-PIPELINING", "PIPELINING" in ek, sorted(ek))
    check(label + ": ehlo-SIZE-param", str(get(d, "ehlo.extensions.SIZE")) == str(SIZE),
          get(d, "ehlo.extensions.SIZE"))
    tk = ext_keys(d, "ehlo_tls")
    check(label + ": ehlo_tls-present", get(d, "ehlo_tls.code") == 250, get(d, "ehlo_tls"))
    check(label + ": ehlo_tls-lacks-STARTTLS", tk and "STARTTLS" not in tk, sorted(tk))
    check(label + ": ehlo_tls-has-SIZE", "SIZE" in tk, sorted(tk))
    check(label + ": size-limit", get(d, "size.limit") == SIZE, get(d, "size"))
    check(label + ": size-max_attachment_base64", get(d, "size.max_attachment_base64") == SIZE_B64,
          get(d, "size"))
    check(label + ": tls-version", get(d, "tls.version") == "TLSv1.3", get(d, "tls.version"))
    check(label + ": tls-cipher", isinstance(get(d, "tls.cipher"), str) and get(d, "tls.cipher"),
          get(d, "tls.cipher"))
    check(label + ": verify-trusted", get(d, "tls.verify.trusted") is True, get(d, "tls.verify"))
    check(label + ": verify-hostname_match", get(d, "tls.verify.hostname_match") is True,
          get(d, "tls.verify"))
    chain = get(d, "tls.chain") or []
    check(label + ": chain-2", len(chain) == 2, len(chain))
    leaf = chain[0] if chain and isinstance(chain[0], dict) else {}
    san = leaf.get("san") or []
    check(label + ": san-dns", "DNS:mx1.test" in san, san)
    check(label + ": san-ip", "IP:127.0.0.1" in san, san)
    check(label + ": subject", "mx1.test" in str(leaf.get("subject")), leaf.get("subject"))
    check(label + ": issuer", "smtp-probe Test CA" in str(leaf.get("issuer")), leaf.get("issuer"))
    check(label + ": key", leaf.get("key") == "EC P-256", leaf.get("key"))
    dl = leaf.get("days_left")
    check(label + ": days_left", isinstance(dl, int) and 363 <= dl <= 366, dl)
    na = rfc3339_to_epoch(leaf.get("not_after"))
    check(label + ": not_after-rfc3339", na == cert_not_after(VALID), leaf.get("not_after"))
    check(label + ": sha256", leaf.get("sha256") == cert_sha256(VALID), leaf.get("sha256"))
    check(label + ": spki_sha256", leaf.get("spki_sha256") == spki_sha256(VALID),
          leaf.get("spki_sha256"))
    check_present(d, label + ": no-findings-above-info",
          all(f.get("severity") == "info" for f in d.get("findings") or []), codes_str(d))
    check(label + ": timings-total", isinstance(get(d, "timings.total_ms"), (int, float)) and
          get(d, "timings.total_ms") >= 0, get(d, "timings"))
    check_present(d, label + ": no-transcript-by-default", not d.get("transcript"), "transcript present")


core_starttls("v4-10025", "127.0.0.1:%d" % P["starttls"], "ipv4")
core_starttls("v6-10025", "[::1]:%d" % P["starttls"], "ipv6")

# --json is -o json; -p sets the port.
rc, d, out, err = run_probe(["--json"] + TLS + ["-p", str(P["starttls"]), "127.0.0.1"])
check("json-alias-and-port: parses", d is not None, out[:200] + err[:200])
check("json-alias-and-port: exit-0", rc == 0 and (d or {}).get("port") == P["starttls"],
      summary(rc, d or {}, err))

# ------------------------------------------------------------ pins
pin = "sha256//" + spki_sha256(VALID)
rc, d, out, err = probe_json("pin-right", TLS + ["--pin", pin, "127.0.0.1:%d" % P["starttls"]])
check_present(d, "pin-right: no-pin-mismatch", "pin-mismatch" not in finding_codes(d), codes_str(d))
check("pin-right: exit-0", rc == 0, summary(rc, d, err))

wrong = "sha256//" + "A" * 43 + "="
rc, d, out, err = probe_json("pin-wrong", TLS + ["--pin", wrong, "127.0.0.1:%d" % P["starttls"]])
check("pin-wrong: pin-mismatch", "pin-mismatch" in finding_codes(d), codes_str(d))
check("pin-wrong: exit-2", rc == 2, summary(rc, d, err))

rc, d, out, err = probe_json("pin-two", TLS + ["--pin", wrong, "--pin", pin,
                                               "127.0.0.1:%d" % P["starttls"]])
check("pin-two: any-match-is-enough", rc == 0 and "pin-mismatch" not in finding_codes(d),
      summary(rc, d, err))

# ------------------------------------------------------------ certificate problems
rc, d, out, err = probe_json("expired", TLS + ["127.0.0.1:%d" % P["expired"]])
check("expired: cert-expired", "cert-expired" in finding_codes(d), codes_str(d))
check("expired: exit-2", rc == 2, summary(rc, d, err))
check("expired: days_left-negative", (get(d, "tls.chain.0.days_left") or 0) < 0,
      get(d, "tls.chain.0.days_left"))
check("expired: dialogue-continued", get(d, "ehlo_tls.code") == 250,
      "a failed check must not abort the probe")

rc, d, out, err = probe_json("soon5", TLS + ["127.0.0.1:%d" % P["soon5"]])
f = finding(d, "cert-expires-soon") or {}
check("soon5: cert-expires-soon", bool(f), codes_str(d))
check("soon5: critical", f.get("severity") == "critical", f)
check("soon5: exit-2", rc == 2, summary(rc, d, err))
check("soon5: days_left", get(d, "tls.chain.0.days_left") in (4, 5), get(d, "tls.chain.0.days_left"))
check("soon5: still-trusted", get(d, "tls.verify.trusted") is True, get(d, "tls.verify"))

rc, d, out, err = probe_json("soon20", TLS + ["127.0.0.1:%d" % P["soon20"]])
f = finding(d, "cert-expires-soon") or {}
check("soon20: cert-expires-soon", bool(f), codes_str(d))
check("soon20: warning", f.get("severity") == "warning", f)
check("soon20: exit-1", rc == 1, summary(rc, d, err))

rc, d, out, err = probe_json("soon20-warn10", TLS + ["--warn-days", "10",
                                                     "127.0.0.1:%d" % P["soon20"]])
check("soon20-warn10: exit-0", rc == 0, summary(rc, d, err))
check_present(d, "soon20-warn10: no-expiry-finding", "cert-expires-soon" not in finding_codes(d), codes_str(d))

rc, d, out, err = probe_json("soon5-crit3", TLS + ["--crit-days", "3", "127.0.0.1:%d" % P["soon5"]])
check("soon5-crit3: exit-1", rc == 1, summary(rc, d, err))

rc, d, out, err = probe_json("selfsigned-nocafile", ["--servername", "mx1.test", "--timeout", "5",
                                                      "127.0.0.1:%d" % P["selfsigned"]])
check("selfsigned-nocafile: cert-untrusted", "cert-untrusted" in finding_codes(d), codes_str(d))
check("selfsigned-nocafile: exit-2", rc == 2, summary(rc, d, err))
check("selfsigned-nocafile: trusted-false", get(d, "tls.verify.trusted") is False, get(d, "tls.verify"))
check("selfsigned-nocafile: chain-1", len(get(d, "tls.chain") or []) == 1, get(d, "tls.chain"))

rc, d, out, err = probe_json("selfsigned-cafile", TLS + ["127.0.0.1:%d" % P["selfsigned"]])
check("selfsigned-cafile: cert-untrusted", "cert-untrusted" in finding_codes(d), codes_str(d))
check("selfsigned-cafile: exit-2", rc == 2, summary(rc, d, err))

rc, d, out, err = probe_json("wrongname", TLS + ["127.0.0.1:%d" % P["wrongname"]])
check("wrongname: cert-hostname-mismatch", "cert-hostname-mismatch" in finding_codes(d), codes_str(d))
check("wrongname: exit-2", rc == 2, summary(rc, d, err))
check("wrongname: hostname_match-false", get(d, "tls.verify.hostname_match") is False,
      get(d, "tls.verify"))
check("wrongname: san", get(d, "tls.chain.0.san") == ["DNS:other.example"], get(d, "tls.chain.0.san"))

# ------------------------------------------------------------ implicit TLS
for label, target in (("smtps-v4", "smtps://127.0.0.1:%d" % P["smtps"]),
                      ("smtps-v6", "smtps://[::1]:%d" % P["smtps"]),
                      ("implicit-flag", "127.0.0.1:%d" % P["smtps"])):
    extra = ["--implicit-tls"] if label == "implicit-flag" else []
    rc, d, out, err = probe_json(label, TLS + extra + [target])
    check(label + ": exit-0", rc == 0, summary(rc, d, err))
    check(label + ": tls_mode-implicit", d.get("tls_mode") == "implicit", d.get("tls_mode"))
    check(label + ": greeting-220", get(d, "greeting.code") == 220, get(d, "greeting"))
    check(label + ": ehlo_tls-present", get(d, "ehlo_tls.code") == 250, get(d, "ehlo_tls"))
    check(label + ": tls-version", get(d, "tls.version") == "TLSv1.3", get(d, "tls.version"))
    check(label + ": trusted", get(d, "tls.verify.trusted") is True, get(d, "tls.verify"))

# ------------------------------------------------------------ AUTH before/after TLS
rc, d, out, err = probe_json("submission", TLS + ["127.0.0.1:%d" % P["submission"]])
check("submission: exit-0", rc == 0, summary(rc, d, err))
check_present(d, "submission: no-auth-before-tls", not get(d, "auth.mechanisms"), get(d, "auth"))
mt = mechs(get(d, "auth.mechanisms_tls"))
check("submission: auth-after-tls-PLAIN", "PLAIN" in mt, get(d, "auth"))
check("submission: auth-after-tls-LOGIN", "LOGIN" in mt, get(d, "auth"))
check_present(d, "submission: not-tested", not get(d, "auth.tested"), get(d, "auth"))
check_present(d, "submission: no-auth-before-tls-finding", "auth-before-tls" not in finding_codes(d),
      codes_str(d))
check_present(d, "submission: ehlo-no-AUTH", "AUTH" not in ext_keys(d, "ehlo"), sorted(ext_keys(d, "ehlo")))
check("submission: ehlo_tls-AUTH", "AUTH" in ext_keys(d, "ehlo_tls"), sorted(ext_keys(d, "ehlo_tls")))

rc, d, out, err = probe_json("aiosmtpd", TLS + ["127.0.0.1:%d" % P["aiosmtpd"]])
check("aiosmtpd: exit-0", rc == 0, summary(rc, d, err))
check("aiosmtpd: greeting-hostname", get(d, "greeting.hostname") == "mx1.test", get(d, "greeting"))
check_present(d, "aiosmtpd: no-auth-before-tls", not get(d, "auth.mechanisms"), get(d, "auth"))
mt = mechs(get(d, "auth.mechanisms_tls"))
check("aiosmtpd: auth-after-tls", "PLAIN" in mt and "LOGIN" in mt, get(d, "auth"))
check("aiosmtpd: size-limit", get(d, "size.limit") == AIO_SIZE, get(d, "size"))
check("aiosmtpd: size-b64", get(d, "size.max_attachment_base64") == AIO_B64, get(d, "size"))
check("aiosmtpd: tls-trusted", get(d, "tls.verify.trusted") is True and
      get(d, "tls.verify.hostname_match") is True, get(d, "tls.verify"))

# ------------------------------------------------------------ no TLS
rc, d, out, err = probe_json("notls", TLS + ["127.0.0.1:%d" % P["notls"]])
check("notls: starttls-missing", "starttls-missing" in finding_codes(d), codes_str(d))
check("notls: exit-nonzero", rc in (1, 2), summary(rc, d, err))
check("notls: tls_mode-starttls", d.get("tls_mode") == "starttls", d.get("tls_mode"))
check_present(d, "notls: no-handshake", not d.get("tls") or get(d, "tls.attempted") is False, get(d, "tls"))
check("notls: ehlo-no-STARTTLS", "STARTTLS" not in ext_keys(d, "ehlo") and ext_keys(d, "ehlo"),
      sorted(ext_keys(d, "ehlo")))
check("notls: size-still-known", get(d, "size.limit") == SIZE, get(d, "size"))

rc, d, out, err = probe_json("no-tls-flag", TLS + ["--no-tls", "127.0.0.1:%d" % P["starttls"]])
check("no-tls-flag: exit-0", rc == 0, summary(rc, d, err))
check_present(d, "no-tls-flag: no-handshake", not d.get("tls") or get(d, "tls.attempted") is False, get(d, "tls"))
check("no-tls-flag: tls_mode-none", d.get("tls_mode") == "none", d.get("tls_mode"))
check_present(d, "no-tls-flag: no-ehlo_tls", not get(d, "ehlo_tls.code"), get(d, "ehlo_tls"))
check("no-tls-flag: ehlo-offers-STARTTLS", "STARTTLS" in ext_keys(d, "ehlo"), sorted(ext_keys(d, "ehlo")))

rc, d, out, err = probe_json("starttls-flag-notls", TLS + ["--starttls", "127.0.0.1:%d" % P["notls"]])
check("starttls-flag-notls: starttls-missing", "starttls-missing" in finding_codes(d), codes_str(d))
check("starttls-flag-notls: exit-2", rc == 2, summary(rc, d, err))

# ------------------------------------------------------------ names via the suite's DNS
rc, d, out, err = probe_json("dns-mx1", TLS + ["--resolver", DNS, "mx1.test:%d" % P["starttls"]])
check("dns-mx1: exit-0", rc == 0, summary(rc, d, err))
check("dns-mx1: host", d.get("host") == "mx1.test", d.get("host"))
check("dns-mx1: address", d.get("address") in ("127.0.0.1", "::1"), d.get("address"))
check("dns-mx1: attempts", isinstance(d.get("attempts"), list) and len(d["attempts"]) >= 1,
      d.get("attempts"))
check("dns-mx1: attempt-fields", all(isinstance(a, dict) and a.get("family") in ("ipv4", "ipv6")
                                     and "address" in a for a in d.get("attempts") or [{}]),
      d.get("attempts"))
check("dns-mx1: dns_ms", isinstance(get(d, "timings.dns_ms"), (int, float)), get(d, "timings"))

# servername defaults to the host name probed.
rc, d, out, err = probe_json("dns-default-servername", ["--cafile", CA, "--timeout", "5",
                                                        "--resolver", DNS,
                                                        "mx1.test:%d" % P["starttls"]])
check("dns-default-servername: hostname_match", get(d, "tls.verify.hostname_match") is True,
      summary(rc, d, err))

for label, extra, host, want in (("dns-4", ["-4"], "mx1.test", ("127.0.0.1", "ipv4")),
                                 ("dns-6", ["-6"], "mx1.test", ("::1", "ipv6")),
                                 ("dns-v6only", [], "v6only.test", ("::1", "ipv6")),
                                 ("dns-v4only", [], "v4only.test", ("127.0.0.1", "ipv4"))):
    rc, d, out, err = probe_json(label, TLS + extra + ["--resolver", DNS,
                                                       "%s:%d" % (host, P["starttls"])])
    check(label + ": exit-0", rc == 0, summary(rc, d, err))
    check(label + ": address", (d.get("address"), d.get("family")) == want,
          (d.get("address"), d.get("family")))

# dead6.test has AAAA ::1 and A 127.0.0.1; aiosmtpd listens on 127.0.0.1 only,
# so IPv6 is refused and the probe must fall back to IPv4 (Happy Eyeballs).
rc, d, out, err = probe_json("dns-dead6", TLS + ["--resolver", DNS, "dead6.test:%d" % P["aiosmtpd"]])
check("dns-dead6: exit-0", rc == 0, summary(rc, d, err))
check("dns-dead6: fell-back-to-v4", d.get("address") == "127.0.0.1", d.get("attempts"))

rc, d, out, err = probe_json("dns-nxdomain", TLS + ["--resolver", DNS, "nxdomain.test:%d" % P["starttls"]])
check("dns-nxdomain: exit-2", rc == 2, summary(rc, d, err))
check("dns-nxdomain: dns-finding",
      any(c and any(w in c for w in ("dns", "resolve", "nxdomain", "no-address", "name"))
          for c in finding_codes(d)), codes_str(d))

# ------------------------------------------------------------ unreachable
rc, d, out, err = probe_json("closed-port", TLS + ["127.0.0.1:10099"])
check("closed-port: connect-failed", "connect-failed" in finding_codes(d), codes_str(d))
check("closed-port: exit-2", rc == 2, summary(rc, d, err))
check("closed-port: attempt-error", bool(get(d, "attempts.0.error")), d.get("attempts"))
check_present(d, "closed-port: no-greeting", not get(d, "greeting.code"), get(d, "greeting"))

# ------------------------------------------------------------ transcript
rc, d, out, err = probe_json("transcript", TLS + ["-v", "127.0.0.1:%d" % P["starttls"]])
tr = d.get("transcript") or []
check("transcript: present", isinstance(tr, list) and len(tr) >= 5, len(tr))
check("transcript: dirs", tr and all(isinstance(e, dict) and e.get("dir") in ("C", "S", "*")
                                     for e in tr), tr[:3])
check("transcript: times", tr and all(isinstance(e.get("t_ms"), (int, float)) for e in tr
                                      if isinstance(e, dict)), tr[:3])
cl = [e.get("line", "") for e in tr if isinstance(e, dict) and e.get("dir") == "C"]
sl = [e.get("line", "") for e in tr if isinstance(e, dict) and e.get("dir") == "S"]
check("transcript: client-EHLO", any(l.upper().startswith("EHLO") for l in cl), cl)
check("transcript: client-STARTTLS", any(l.upper().startswith("STARTTLS") for l in cl), cl)
check("transcript: client-QUIT", any(l.upper().startswith("QUIT") for l in cl), cl)
check("transcript: server-220", any(l.startswith("220") for l in sl), sl[:3])
check_present(d, "transcript: never-DATA", not any(l.upper().startswith(("DATA", "BDAT", "MAIL", "RCPT"))
                                        for l in cl), cl)
check("transcript: exit-0", rc == 0, summary(rc, d, err))

# ------------------------------------------------------------ other output formats
rc, d, out, err = run_probe(TLS + ["127.0.0.1:%d" % P["starttls"]])
check("text: exit-0", rc == 0, "rc=%s err=%s" % (rc, err[:200]))
check("text: mentions-tls", "TLSv1.3" in out or "TLS 1.3" in out, out[:300])
check("text: not-json", rc is not None and d is None, out[:100])

rc, d, out, err = run_probe(["-o", "nagios"] + TLS + ["127.0.0.1:%d" % P["starttls"]])
lines = out.strip().splitlines()
check("nagios: exit-0", rc == 0, "rc=%s err=%s" % (rc, err[:200]))
check("nagios: OK-line", bool(lines) and "OK" in lines[0], out[:200])
check("nagios: perfdata", bool(lines) and "|" in out, out[:200])

rc, d, out, err = run_probe(["-o", "nagios"] + TLS + ["127.0.0.1:%d" % P["expired"]])
check("nagios-expired: exit-2", rc == 2 and "CRIT" in out.upper(), "rc=%s out=%s" % (rc, out[:200]))

rc, d, out, err = run_probe(["-o", "prometheus"] + TLS + ["127.0.0.1:%d" % P["starttls"]])
samples = [l for l in out.splitlines() if l and not l.startswith("#")]
check("prometheus: exit-0", rc == 0, "rc=%s err=%s" % (rc, err[:200]))
check("prometheus: samples", len(samples) >= 3 and all(len(l.split()) >= 2 for l in samples),
      out[:300])
PROM_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?\s+(\S+)(\s+-?\d+)?$')


def prom_ok(line):
    m = PROM_LINE.match(line)
    if not m:
        return False
    try:
        float(m.group(2))
    except ValueError:
        return False
    return True


check("prometheus: well-formed", samples and all(prom_ok(l) for l in samples),
      [l for l in samples if not prom_ok(l)][:3])

# ------------------------------------------------------------ batch
tfile = os.path.join(os.environ.get("TMPDIR", "/tmp"), "sp-targets-%d.txt" % os.getpid())
with open(tfile, "w") as fh:
    fh.write("# comment\n127.0.0.1:%d\n\n127.0.0.1:%d\n" % (P["starttls"], P["expired"]))
try:
    rc, d, out, err = run_probe(["-o", "json"] + TLS + ["-f", tfile])
finally:
    os.unlink(tfile)
docs = []
for l in out.splitlines():
    try:
        docs.append(json.loads(l))
    except ValueError:
        docs.append(None)
check("batch: two-json-lines", len(docs) == 2 and None not in docs, out[:300])
check("batch: worst-exit", rc == 2, "rc=%s" % rc)
check("batch: statuses", sorted(x.get("status") for x in docs if x) == ["critical", "ok"],
      [x.get("status") for x in docs if x])

rc, d, out, err = run_probe(["-o", "json"] + TLS + ["-f", "-"],
                            stdin=("127.0.0.1:%d\n" % P["starttls"]).encode())
check("batch-stdin: one-ok", rc == 0 and len(out.strip().splitlines()) == 1, "rc=%s" % rc)

# ------------------------------------------------------------ usage and version
for label, args in (("usage-port-range", ["--port", "70000", "127.0.0.1"]),
                    ("usage-unknown-option", ["--no-such-option", "127.0.0.1"]),
                    ("usage-cafile-missing", ["--cafile", "/nonexistent/ca.pem", "127.0.0.1:10025"]),
                    ("usage-no-target", []),
                    ("usage-bad-output", ["-o", "xml", "127.0.0.1"])):
    rc, d, out, err = run_probe(args)
    lines = err.strip().splitlines()
    # Run bare, the tool adds its usage line (tests/integ/test_limits.py).
    if args == [] and len(lines) == 2 and lines[1].startswith("usage: "):
        lines = lines[:1]
    check(label + ": exit-3", rc == 3, "rc=%s err=%r" % (rc, err[:200]))
    check(label + ": one-line-stderr", rc is not None and len(lines) == 1,
          repr(err[:300]))

rc, d, out, err = run_probe(["-V"])
both = out + err
check("version: exit-0", rc == 0, "rc=%s" % rc)
check("version: mbedtls", "mbed TLS 3.6" in both or "Mbed TLS 3.6" in both, both[:300])
check("version: c-ares", "c-ares 1.34" in both, both[:300])

rc, d, out, err = run_probe(["--help"])
check("help: exit-0", rc == 0 and "--servername" in out, "rc=%s" % rc)

finish()

#!/usr/bin/python3
"""--auth, --from/--rcpt and --check-tls-required against real servers:
Postfix submission 10587 (Cyrus SASL, AUTH after TLS only, TLS required),
Postfix 10025 (relays for 127.0.0.0/8: an open relay from the test's point
of view; every transport is error:, so nothing is delivered), Postfix 10031
(no TLS) and aiosmtpd 10125. The Postfix log proves no DATA was sent."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (check, finish, finding, finding_codes, get, load_env,  # noqa: E402
                 probe_json, run_probe, summary)

ENV = load_env()
CA = ENV["ca"]
P = ENV["ports"]
USER = ENV["sasl"]["user"]
PWFILE = ENV["sasl"]["password_file"]
with open(PWFILE) as f:
    PASSWORD = f.readline().rstrip("\r\n")
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5", "-v"]
GOOD = {"SMTP_PROBE_PASSWORD": PASSWORD}
BAD = {"SMTP_PROBE_PASSWORD": "not-the-password-42"}
PFLOG = os.path.join(ENV.get("statedir", ""), "postfix.log")


def commands(doc):
    return [str(t.get("line")) for t in doc.get("transcript") or [] if t.get("dir") == "C"]


def no_data(doc):
    return not any(c.upper().startswith(("DATA", "BDAT")) for c in commands(doc))


# ------------------------------------------------ AUTH
for name, port in (("postfix", P["submission"]), ("aiosmtpd", P["aiosmtpd"])):
    target = "127.0.0.1:%d" % port
    rc, d, out, err = probe_json(name + "-auth-ok", TLS + ["--auth", USER,
                                                          "--password-file", PWFILE, target])
    check(name + "-auth-ok: accepted", get(d, "auth.tested") is True and
          get(d, "auth.accepted") is True, d.get("auth"))
    check(name + "-auth-ok: reply-235", str(get(d, "auth.reply", "")).startswith("235"),
          d.get("auth"))
    check(name + "-auth-ok: mechanism-PLAIN", get(d, "auth.mechanism") == "PLAIN", d.get("auth"))
    check(name + "-auth-ok: exit-0", rc == 0, summary(rc, d, err))
    check(name + "-auth-ok: redacted", "AUTH PLAIN <redacted>" in commands(d), commands(d))

    rc, d, out, err = probe_json(name + "-auth-bad", TLS + ["--auth", USER, target], env=BAD)
    check(name + "-auth-bad: rejected", get(d, "auth.tested") is True and
          get(d, "auth.accepted") is False, d.get("auth"))
    check(name + "-auth-bad: reply-535", str(get(d, "auth.reply", "")).startswith("535"),
          d.get("auth"))
    fd = finding(d, "auth-failed")
    check(name + "-auth-bad: finding-critical", fd is not None and
          fd.get("severity") == "critical", summary(rc, d, err))
    check(name + "-auth-bad: exit-2", rc == 2, summary(rc, d, err))

    rc, d, out, err = probe_json(name + "-auth-login", TLS + ["--auth", USER, "--auth-mech",
                                                             "login", target], env=GOOD)
    check(name + "-auth-login: accepted", get(d, "auth.accepted") is True and
          get(d, "auth.mechanism") == "LOGIN", d.get("auth"))
    check(name + "-auth-login: redacted-lines", commands(d).count("<redacted>") == 2 and
          "AUTH LOGIN" in commands(d), commands(d))

    rc, d, out, err = probe_json(name + "-auth-notoffered", TLS + ["--auth", USER, "--auth-mech",
                                                                  "CRAM-MD5", target], env=GOOD)
    check(name + "-auth-notoffered: not-tested", get(d, "auth.tested") is False and
          "CRAM-MD5" in str(get(d, "auth.skipped")), d.get("auth"))
    check(name + "-auth-notoffered: no-AUTH-sent",
          not any(c.upper().startswith("AUTH") for c in commands(d)), commands(d))
    check(name + "-auth-notoffered: finding", "auth-not-tested" in finding_codes(d),
          summary(rc, d, err))

# AUTH on a cleartext-only port is refused by the probe itself.
rc, d, out, err = probe_json("cleartext-auth", TLS + ["--auth", USER, "127.0.0.1:%d" % P["notls"]],
                             env=GOOD)
check("cleartext-auth: not-tested", get(d, "auth.tested") is False and
      "not encrypted" in str(get(d, "auth.skipped")), d.get("auth"))
check("cleartext-auth: no-AUTH-sent", not any(c.upper().startswith("AUTH") for c in commands(d)),
      commands(d))
fd = finding(d, "auth-not-tested")
check("cleartext-auth: finding", fd is not None and fd.get("severity") == "warning",
      summary(rc, d, err))

# Bad usage: exit 3 and one line.
rc, d, out, err = run_probe(["--auth", USER, "127.0.0.1:%d" % P["submission"]],
                            env={"SMTP_PROBE_PASSWORD": ""})
check("usage: no-password", rc == 3 and len(err.strip().splitlines()) == 1 and
      "SMTP_PROBE_PASSWORD" in err, (rc, err))
rc, d, out, err = run_probe(["--rcpt", "a@b.example", "127.0.0.1:%d" % P["starttls"]])
check("usage: rcpt-needs-from", rc == 3 and "--from" in err, (rc, err))
rc, d, out, err = run_probe(["--auth", USER, "--auth-mech", "GSSAPI", "127.0.0.1:1"], env=GOOD)
check("usage: bad-mech", rc == 3 and "--auth-mech" in err, (rc, err))

# ------------------------------------------------ MAIL FROM / RCPT TO
before = os.path.getsize(PFLOG) if os.path.exists(PFLOG) else 0
rc, d, out, err = probe_json("relay", TLS + ["--from", "probe@example.net", "--rcpt",
                                             "someone@example.org", "--rcpt",
                                             "postmaster@mx1.test",
                                             "127.0.0.1:%d" % P["starttls"]])
check("relay: mail-250", get(d, "envelope.mail_from.code") == 250 and
      get(d, "envelope.mail_from.accepted") is True, d.get("envelope"))
rcpt = get(d, "envelope.rcpt") or []
check("relay: two-rcpt", len(rcpt) == 2, rcpt)
check("relay: rcpt-replies", all(isinstance(x.get("code"), int) and x.get("text") for x in rcpt),
      rcpt)
check("relay: outside-flag", len(rcpt) == 2 and rcpt[0].get("outside") is True and
      rcpt[1].get("outside") is False, rcpt)
outside_ok = bool(rcpt) and rcpt[0].get("accepted") is True
fd = finding(d, "open-relay")
check("relay: open-relay-iff-outside-accepted", (fd is not None) == outside_ok, summary(rc, d, err))
if fd:
    check("relay: open-relay-critical", fd.get("severity") == "critical" and rc == 2,
          summary(rc, d, err))
check("relay: rset", get(d, "envelope.rset.code") == 250, get(d, "envelope.rset"))
check("relay: no-data", no_data(d), commands(d))
check("relay: order", [c.split(":")[0].split()[0] for c in commands(d)][-5:] ==
      ["MAIL", "RCPT", "RCPT", "RSET", "QUIT"], commands(d))
# The server's own account: mail, rcpt, rset, and no data command.
log = ""
for _ in range(20):
    try:
        with open(PFLOG, errors="replace") as f:
            f.seek(before)
            log = f.read()
    except OSError:
        break
    if re.search(r"disconnect from .* mail=1 rcpt=\d+", log):
        break
    time.sleep(0.1)
m = re.findall(r"disconnect from .*(ehlo=.*)", log)
line = [x for x in m if "mail=1" in x]
check("relay: postfix-log-no-data", bool(line) and "data=" not in line[-1] and
      "bdat=" not in line[-1] and "rset=1" in line[-1], m[-3:] if m else log[-300:])

rc, d, out, err = probe_json("null-sender", TLS + ["--from", "", "127.0.0.1:%d" % P["starttls"]])
check("null-sender: mail-from-empty", "MAIL FROM:<>" in commands(d), commands(d))
check("null-sender: no-rcpt", get(d, "envelope.rcpt") == [], d.get("envelope"))

# With a login, an accepted outside recipient is no open relay.
rc, d, out, err = probe_json("auth-relay", TLS + ["--auth", USER, "--from", USER, "--rcpt",
                                                  "someone@example.org",
                                                  "127.0.0.1:%d" % P["submission"]], env=GOOD)
check("auth-relay: accepted", get(d, "auth.accepted") is True, d.get("auth"))
check("auth-relay: no-open-relay", "open-relay" not in finding_codes(d), summary(rc, d, err))
check("auth-relay: order", [c.split(":")[0].split()[0] for c in commands(d)][-6:] ==
      ["AUTH", "EHLO", "MAIL", "RCPT", "RSET", "QUIT"], commands(d))
# After a successful login the probe asks EHLO again (servers may reveal
# more to a logged-in client) and keeps that reply apart.
check("auth-relay: ehlo-after-auth", (d.get("ehlo_auth") or {}).get("code") == 250,
      d.get("ehlo_auth"))
rc, d, out, err = probe_json("auth-bad-no-ehlo", TLS + ["--auth", USER,
                                                        "127.0.0.1:%d" % P["submission"]],
                             env=BAD)
check("auth-bad-no-ehlo: no-ehlo-after-failed-auth", "ehlo_auth" not in d, d.get("ehlo_auth"))

# ------------------------------------------------ --check-tls-required
rc, d, out, err = probe_json("tlsreq-submission", TLS + ["--check-tls-required",
                                                         "127.0.0.1:%d" % P["submission"]])
check("tlsreq-submission: required", get(d, "tls_required.required") is True,
      d.get("tls_required"))
check("tlsreq-submission: code-530", get(d, "tls_required.mail.code") == 530,
      d.get("tls_required"))
check("tlsreq-submission: tls-still-done", get(d, "tls.ok") is True, get(d, "tls.error"))
check("tlsreq-submission: no-finding", "tls-not-required" not in finding_codes(d),
      summary(rc, d, err))
check("tlsreq-submission: rset-before-starttls",
      [c.split(":")[0].split()[0] for c in commands(d)][:4] == ["EHLO", "MAIL", "RSET",
                                                                "STARTTLS"], commands(d))

rc, d, out, err = probe_json("tlsreq-mx", TLS + ["--check-tls-required",
                                                 "127.0.0.1:%d" % P["starttls"]])
check("tlsreq-mx: not-required", get(d, "tls_required.required") is False,
      d.get("tls_required"))
fd = finding(d, "tls-not-required")
check("tlsreq-mx: info-finding", fd is not None and fd.get("severity") == "info",
      summary(rc, d, err))
check("tlsreq-mx: exit-0", rc == 0, summary(rc, d, err))

# --explain says what the EHLO after a login is for, and repeats only what
# the login changed.
rc, d, out, err = run_probe(TLS + ["--explain", "--auth", USER, "127.0.0.1:%d" % P["submission"]],
                            env=GOOD)
check("explain-auth: login explained", "Login accepted" in out, out[-800:])
check("explain-auth: ehlo after login", "After the login the probe asks once more" in out and
      "Same as before the login." in out, out[-1500:])


def explained_after(out, marker):
    """The explanation lines under the first transcript line holding marker."""
    lines = out.splitlines()
    for i, ln in enumerate(lines):
        if marker in ln:
            body = []
            for nxt in lines[i + 1:]:
                if nxt[:14].strip() and not nxt.startswith("            "):
                    break
                body.append(nxt.strip())
            return " ".join(body)
    return ""


# Multi-step logins (issue 11, item 8): LOGIN (Postfix submission, forced
# with --auth-mech), CRAM-MD5 (Postfix, the only mechanism on its port).
# The answers to 334 belong to AUTH, so the 235 is "Login accepted" and the
# EHLO after it is the EHLO after the login, not the one after STARTTLS.
for mech, port in (("LOGIN", P["submission"]), ("CRAM-MD5", P["cram"])):
    extra = ["--auth-mech", mech] if mech == "LOGIN" else []
    rc, d, out, err = run_probe(TLS + ["--explain", "--auth", USER] + extra +
                                ["127.0.0.1:%d" % port], env=GOOD)
    check("explain-%s: login used" % mech, ("AUTH %s" % mech) in out and rc == 0,
          (rc, out[-600:], err))
    check("explain-%s: 235 is Login accepted" % mech,
          "Login accepted" in explained_after(out, "S 235"), explained_after(out, "S 235"))
    ehlos = [i for i, ln in enumerate(out.splitlines()) if " C EHLO " in ln]
    check("explain-%s: three EHLOs" % mech, len(ehlos) == 3, ehlos)
    third = explained_after(out, out.splitlines()[ehlos[-1]].strip()) if len(ehlos) == 3 else ""
    lines = out.splitlines()
    after_third = "\n".join(lines[ehlos[-1]:ehlos[-1] + 4]) if len(ehlos) == 3 else ""
    check("explain-%s: EHLO after login explained as such" % mech,
          "After the login the probe asks once more" in after_third, after_third)
    check("explain-%s: login steps explained, not 'Same as before encryption' each" % mech,
          "The probe sends the next part of the login" in out, out[-2500:])
finish()

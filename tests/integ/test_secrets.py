#!/usr/bin/python3
"""Secrets never reach any output (docs/design.md, "Rules that are never broken"): every
output format (text, json, nagios, prometheus, -v, --explain) with --auth and
a known password, right and wrong, by PLAIN and LOGIN, from the environment
and from --password-file, against Postfix submission and aiosmtpd. Neither
the password nor base64("\\0user\\0password"), base64(password) or its hex
may appear in stdout or stderr."""
import base64
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finish, load_env, run_probe  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
P = ENV["ports"]
USER = ENV["sasl"]["user"]
with open(ENV["sasl"]["password_file"]) as f:
    RIGHT = f.readline().rstrip("\r\n")
WRONG = "Wr0ng-Secret-Pa55word"
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5"]
FORMATS = [("text", []), ("json", ["-o", "json"]), ("nagios", ["-o", "nagios"]),
           ("prometheus", ["-o", "prometheus"]), ("text-v", ["-v"]),
           ("json-v", ["-o", "json", "-v"]), ("explain", ["--explain"])]


def forms(pw):
    raw = pw.encode()
    plain = b"\0" + USER.encode() + b"\0" + raw
    out = {"password": pw,
           "b64-plain": base64.b64encode(plain).decode(),
           "b64-password": base64.b64encode(raw).decode(),
           "hex-password": raw.hex(),
           "HEX-password": raw.hex().upper()}
    # LOGIN sends base64(password) alone; PLAIN's may also be split by a
    # server that echoes it in pieces: any 3-byte-aligned part is checked too.
    out["b64-plain-tail"] = base64.b64encode(plain[len(plain) - len(plain) // 3 * 3:]).decode()
    return out


tmp = tempfile.mkdtemp(prefix="sp-secrets-")
try:
    for label, pw in (("right", RIGHT), ("wrong", WRONG)):
        pwfile = os.path.join(tmp, label)
        with open(pwfile, "w") as f:
            f.write(pw + "\n")
        secrets = forms(pw)
        for server, port in (("postfix", P["submission"]), ("aiosmtpd", P["aiosmtpd"])):
            target = "127.0.0.1:%d" % port
            for mech in ("PLAIN", "LOGIN"):
                for fmt, fargs in FORMATS:
                    # Alternate the two password sources.
                    if fmt in ("text", "json-v", "prometheus", "explain"):
                        src, env = ["--password-file", pwfile], {"SMTP_PROBE_PASSWORD": ""}
                    else:
                        src, env = [], {"SMTP_PROBE_PASSWORD": pw}
                    name = "%s-%s-%s-%s" % (server, label, mech, fmt)
                    rc, doc, out, err = run_probe(TLS + fargs + src + ["--auth", USER,
                                                  "--auth-mech", mech, target], env=env)
                    check(name + ": ran", rc in (0, 1, 2), (rc, err[:200]))
                    both = out + "\n" + err
                    leaked = [k for k, v in secrets.items() if len(v) >= 4 and v in both]
                    check(name + ": no-secret", not leaked, leaked)
                    if fmt in ("text-v", "json-v", "explain"):
                        check(name + ": auth-in-transcript", "AUTH" in out and
                              "<redacted>" in out, out[-300:])
finally:
    for n in os.listdir(tmp):
        os.unlink(os.path.join(tmp, n))
    os.rmdir(tmp)
finish()

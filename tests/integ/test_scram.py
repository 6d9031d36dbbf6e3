"""--auth with SCRAM-SHA-256 against a server that speaks it (scram_server.py):
the login is accepted with the right password and refused with a wrong one,
the server's own proof is checked (a forging server is caught), and the
password never reaches any output."""

import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import check, finding, finding_codes, finish, load_env, probe_json, summary  # noqa: E402

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
USER, PASSWORD = "scram@test", "Sc4m-p4ss,word="


def server(env, forge=False):
    c = env["certs"]["valid"]
    return Helper([PY, os.path.join(HERE, "scram_server.py"), "--cert", c["chain"],
                   "--key", c["key"], "--user", USER, "--password", PASSWORD]
                  + (["--forge"] if forge else []))


def main():
    env = load_env()
    tls = ["--cafile", env["ca"], "--servername", "mx1.test", "--timeout", "5"]
    good = server(env)
    forged = server(env, forge=True)
    try:
        check("servers: listening", good.port and forged.port, (good.stderr(), forged.stderr()))
        target = "127.0.0.1:%d" % good.port

        rc, d, out, err = probe_json("scram-good", tls + ["-v", "--auth", USER, target],
                                     env={"SMTP_PROBE_PASSWORD": PASSWORD})
        auth = d.get("auth") or {}
        check("scram-good: mechanism", auth.get("mechanism") == "SCRAM-SHA-256", auth)
        check("scram-good: accepted", auth.get("accepted") is True, summary(rc, d, err))
        check("scram-good: server verified", any("SCRAM signature is correct" in (t.get("line") or "")
                                                 for t in d.get("transcript") or []),
              d.get("transcript"))
        for form in (PASSWORD, base64.b64encode(PASSWORD.encode()).decode(),
                     PASSWORD.encode().hex()):
            check("scram-good: secret absent (%s)" % form[:4], form not in out and form not in err,
                  form)

        rc, d, out, err = probe_json("scram-bad", tls + ["--auth", USER, target],
                                     env={"SMTP_PROBE_PASSWORD": "not-it"})
        check("scram-bad: rejected", (d.get("auth") or {}).get("accepted") is False and
              "auth-failed" in finding_codes(d) and rc == 2, summary(rc, d, err))

        rc, d, out, err = probe_json("scram-forged", tls + ["--auth", USER,
                                                            "127.0.0.1:%d" % forged.port],
                                     env={"SMTP_PROBE_PASSWORD": PASSWORD})
        fd = finding(d, "auth-scram-server-unverified")
        check("scram-forged: impostor caught", fd is not None and fd.get("severity") == "critical",
              summary(rc, d, err))
        check("scram-forged: not accepted", (d.get("auth") or {}).get("accepted") is not True,
              d.get("auth"))
        check("scram-forged: exit 2", rc == 2, rc)
    finally:
        good.stop()
        forged.stop()
    finish()


if __name__ == "__main__":
    main()

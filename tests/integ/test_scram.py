"""--auth with SCRAM-SHA-256 against a server that speaks it (scram_server.py):
the login is accepted with the right password and refused with a wrong one,
the server's own proof is checked (a forging server is caught), and the
password never reaches any output."""

import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import (check, finding, finding_codes, finish, load_env, probe_json,  # noqa: E402
                 run_probe, summary)

PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
USER, PASSWORD = "scram@test", "Sc4m-p4ss,word="


def server(env, forge=False, no_proof=None):
    c = env["certs"]["valid"]
    return Helper([PY, os.path.join(HERE, "scram_server.py"), "--cert", c["chain"],
                   "--key", c["key"], "--user", USER, "--password", PASSWORD]
                  + (["--forge"] if forge else [])
                  + (["--no-proof", no_proof] if no_proof else []))


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

        # --explain of the three-step login (issue 11, item 8).
        rc, _, out, err = run_probe(tls + ["--explain", "--auth", USER, target],
                                    env={"SMTP_PROBE_PASSWORD": PASSWORD})
        lines = out.splitlines()
        i235 = [i for i, ln in enumerate(lines) if " S 235" in ln]
        check("scram-explain: 235 is Login accepted",
              i235 and "Login accepted" in " ".join(lines[i235[0]:i235[0] + 3]), out[-2000:])
        ehlos = [i for i, ln in enumerate(lines) if " C EHLO " in ln]
        check("scram-explain: EHLO after login explained as such",
              len(ehlos) == 3 and "After the login the probe asks once more" in
              " ".join(lines[ehlos[-1]:ehlos[-1] + 4]), out[-2000:])
        check("scram-explain: the empty final answer explained",
              "an empty line ends the exchange" in " ".join(out.split()), out[-2000:])

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

        # A 235 without the server's proof is no login (issue 11, item 1).
        for mode in ("late", "at-once"):
            srv = server(env, no_proof=mode)
            try:
                rc, d, out, err = probe_json("scram-no-proof-" + mode,
                                             tls + ["-v", "--auth", USER,
                                                    "127.0.0.1:%d" % srv.port],
                                             env={"SMTP_PROBE_PASSWORD": PASSWORD})
                _, _, text, _ = run_probe(tls + ["--auth", USER, "127.0.0.1:%d" % srv.port],
                                          env={"SMTP_PROBE_PASSWORD": PASSWORD})
            finally:
                srv.stop()
            auth = d.get("auth") or {}
            fd = finding(d, "auth-scram-server-unverified")
            check("scram-no-proof-%s: server answered 235" % mode,
                  (auth.get("reply") or "").startswith("235"), auth)
            check("scram-no-proof-%s: auth-scram-server-unverified critical" % mode,
                  fd is not None and fd.get("severity") == "critical" and rc == 2,
                  summary(rc, d, err))
            check("scram-no-proof-%s: not accepted" % mode, auth.get("accepted") is False, auth)
            check("scram-no-proof-%s: text says rejected, not 'credentials accepted'" % mode,
                  "credentials rejected" in text and "credentials accepted" not in text,
                  text[-800:])
            check("scram-no-proof-%s: no EHLO after login" % mode,
                  sum(1 for t in d.get("transcript") or []
                      if t.get("dir") == "C" and str(t.get("line", "")).startswith("EHLO")) == 2,
                  [t.get("line") for t in d.get("transcript") or [] if t.get("dir") == "C"])
    finally:
        good.stop()
        forged.stop()
    finish()


if __name__ == "__main__":
    main()

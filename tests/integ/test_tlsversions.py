#!/usr/bin/python3
"""--tls-versions and --starttls-injection against real servers: Postfix on
10025 (TLS 1.2 and 1.3; legacy versions as Postfix's OpenSSL policy says), a
fake STARTTLS server capped at TLS 1.2 (tests/fake/fakesmtp.py --tls-max
1.2), an openssl s_server that speaks only TLS 1.0 (implicit TLS), and a
fake server with the STARTTLS injection flaw. Also: without these options the
probe makes exactly one connection (docs/design.md, "Rules that are never broken"),
except against a server that refuses TLS 1.2/1.3 with alert protocol_version
(the TLS 1.0-only s_server: tls-legacy-only naming TLS 1.0)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import (ROOT, check, finish, finding, finding_codes, free_port, get,  # noqa: E402
                 load_env, probe_json, run_probe, summary)

ENV = load_env()
CA = ENV["ca"]
P = ENV["ports"]
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5"]
PY = "/usr/bin/python3"
FAKE = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")
SCEN = os.path.join(ROOT, "tests", "fake", "scenarios")


def commands(doc):
    return [t.get("line") for t in doc.get("transcript") or [] if t.get("dir") == "C"]


def connections(doc):
    return [t.get("line") for t in doc.get("transcript") or []
            if t.get("dir") == "*" and str(t.get("line", "")).startswith("connected to")]


class Fake(Helper):
    def __init__(self, scenario, certdir, extra=()):
        super().__init__([PY, FAKE, "--port", "0", "--scenario", os.path.join(SCEN, scenario),
                          "--certdir", certdir, "--lifetime", "40"] + list(extra))


# ------------------------------------------------ the default flow is untouched
rc, d, out, err = probe_json("default", TLS + ["-v", "127.0.0.1:%d" % P["starttls"]])
check("default: one-connection", len(connections(d)) == 1, connections(d))
check("default: only-ehlo-starttls-ehlo-quit",
      [c.split()[0] for c in commands(d)] == ["EHLO", "STARTTLS", "EHLO", "QUIT"], commands(d))
check("default: no-versions-key", "versions" not in (d.get("tls") or {}), d.get("tls"))
check("default: no-injection", d.get("starttls_injection") is None, d.get("starttls_injection"))

# ------------------------------------------------ Postfix 10025
rc, d, out, err = probe_json("postfix-versions", TLS + ["-v", "--tls-versions",
                                                        "127.0.0.1:%d" % P["starttls"]])
v = get(d, "tls.versions") or {}
check("postfix-versions: tls12", v.get("TLSv1.2") is True, get(d, "tls.versions_detail"))
check("postfix-versions: tls13", v.get("TLSv1.3") is True, get(d, "tls.versions_detail"))
check("postfix-versions: legacy-known", isinstance(v.get("TLSv1.0"), bool) and
      isinstance(v.get("TLSv1.1"), bool), get(d, "tls.versions_detail"))
legacy = v.get("TLSv1.0") is True or v.get("TLSv1.1") is True
check("postfix-versions: legacy-finding-iff-accepted",
      ("tls-legacy-version" in finding_codes(d)) == legacy, summary(rc, d, err))
check("postfix-versions: five-connections", len(connections(d)) == 5, connections(d))
check("postfix-versions: main-result-kept", get(d, "tls.version") == "TLSv1.3" and
      get(d, "ehlo_tls.code") == 250, get(d, "tls"))
check("postfix-versions: no-data", not any(str(c).upper().startswith(("DATA", "BDAT"))
                                           for c in commands(d)), commands(d))
print("# Postfix 10025 legacy versions: %s" % get(d, "tls.versions_detail"))

rc, d, out, err = probe_json("postfix-injection", TLS + ["-v", "--starttls-injection",
                                                         "127.0.0.1:%d" % P["starttls"]])
check("postfix-injection: not-vulnerable", get(d, "starttls_injection.vulnerable") is False,
      d.get("starttls_injection"))
check("postfix-injection: no-finding", "starttls-injection" not in finding_codes(d),
      summary(rc, d, err))
check("postfix-injection: exit-0", rc == 0, summary(rc, d, err))
check("postfix-injection: two-connections", len(connections(d)) == 2, connections(d))
check("postfix-injection: noop-sent", "NOOP" in commands(d), commands(d))

rc, d, out, err = run_probe(["--no-tls", "--tls-versions", "127.0.0.1:%d" % P["starttls"]])
check("usage: tls-versions-no-tls", rc == 3 and len(err.strip().splitlines()) == 1, err)
rc, d, out, err = run_probe(["--implicit-tls", "--starttls-injection", "127.0.0.1:1"])
check("usage: injection-implicit", rc == 3 and "--starttls-injection" in err, err)

# ------------------------------------------------ fakes and openssl s_server
certdir = tempfile.mkdtemp(prefix="sp-tlsver-")
try:
    r = subprocess.run([PY, FAKE, "--make-certs", certdir], capture_output=True)
    check("fake: make-certs", r.returncode == 0, r.stderr.decode()[-300:])
    FT = ["--cafile", os.path.join(certdir, "ca.pem"), "--servername", "mx.fake.test",
          "--timeout", "3"]

    f = Fake("tls12_only.scn", certdir, ["--tls-max", "1.2"])
    try:
        rc, d, out, err = probe_json("tls12-only", FT + ["--tls-versions",
                                                         "127.0.0.1:%d" % f.port])
        v = get(d, "tls.versions") or {}
        check("tls12-only: versions", v == {"TLSv1.0": False, "TLSv1.1": False,
                                            "TLSv1.2": True, "TLSv1.3": False},
              (v, get(d, "tls.versions_detail")))
        check("tls12-only: no-legacy-finding", "tls-legacy-version" not in finding_codes(d),
              summary(rc, d, err))
        check("tls12-only: exit-0", rc == 0, summary(rc, d, err))
    finally:
        f.stop()

    f = Fake("inject_vulnerable.scn", certdir)
    try:
        rc, d, out, err = probe_json("inject-vulnerable", FT + ["--starttls-injection",
                                                                "127.0.0.1:%d" % f.port])
        check("inject-vulnerable: flagged", get(d, "starttls_injection.vulnerable") is True,
              d.get("starttls_injection"))
        fd = finding(d, "starttls-injection")
        check("inject-vulnerable: finding-critical", fd is not None and
              fd.get("severity") == "critical", summary(rc, d, err))
        check("inject-vulnerable: exit-2", rc == 2, summary(rc, d, err))
    finally:
        f.stop()

    # A server that speaks only TLS 1.0 (implicit TLS): mbedTLS cannot talk
    # to it, the hand-written ClientHello can.
    port = free_port()
    ss = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                           "-cert", os.path.join(certdir, "leaf.pem"),
                           "-key", os.path.join(certdir, "leaf.key"), "-tls1",
                           "-cipher", "DEFAULT:@SECLEVEL=0", "-quiet", "-naccept", "20"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        rc, d, out, err = probe_json("tls10-only", FT + ["--implicit-tls", "--tls-versions",
                                                         "127.0.0.1:%d" % port])
        v = get(d, "tls.versions") or {}
        check("tls10-only: tls10-accepted", v.get("TLSv1.0") is True,
              get(d, "tls.versions_detail"))
        check("tls10-only: others-refused", v.get("TLSv1.2") is False and
              v.get("TLSv1.3") is False, get(d, "tls.versions_detail"))
        fd = finding(d, "tls-legacy-version")
        check("tls10-only: legacy-warning", fd is not None and fd.get("severity") == "warning",
              summary(rc, d, err))
        # Without --tls-versions: alert protocol_version to the probe's hello,
        # then a TLS 1.1 ClientHello (refused) and a TLS 1.0 one (answered)
        # on extra connections: tls-legacy-only naming TLS 1.0 (issue 11 item 2).
        rc, d, out, err = probe_json("tls10-only default", FT + ["--implicit-tls",
                                                                 "127.0.0.1:%d" % port])
        fd = finding(d, "tls-legacy-only")
        check("tls10-only default: tls-legacy-only critical naming TLS 1.0, exit 2",
              fd is not None and fd.get("severity") == "critical" and rc == 2 and
              "nothing newer than TLS 1.0" in fd["message"], summary(rc, d, err))
        check("tls10-only default: no tls-handshake-failed, no tls-legacy-version",
              not {"tls-handshake-failed", "tls-legacy-version"} & set(finding_codes(d)),
              finding_codes(d))
        rc, _, out, err = run_probe(FT + ["--explain", "--implicit-tls", "127.0.0.1:%d" % port])
        flat = " ".join(out.split())
        check("tls10-only default explain: 1.1 asked and refused, then 1.0 answered",
              "extra connection: TLS 1.1 ClientHello" in flat and
              "extra connection: TLS 1.0 ClientHello" in flat and
              flat.index("extra connection: TLS 1.1") < flat.index("extra connection: TLS 1.0") and
              "TLS 1.0 is the newest it speaks" in flat, out[-2500:])
    finally:
        if ss.poll() is None:
            ss.terminate()
            ss.wait(5)
finally:
    shutil.rmtree(certdir, ignore_errors=True)
finish()

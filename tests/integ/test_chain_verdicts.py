#!/usr/bin/python3
"""Trust-aware certificate verdicts (issue 12 part 4): findings judged on the
chain that verifies. tls_server.py (OpenSSL, which sends a chain file as
it is, as Postfix does) serves chains built from the suite's test PKI:
  - leaf, root, intermediate (out of order): trusted, cert-chain-order;
  - leaf, intermediate, root (in order): no order finding;
  - a valid leaf plus an expired certificate the path does not need:
    trusted, cert-chain-extra-expired (warning), no cert-expired;
  - control: an expired leaf is still cert-expired, critical."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import check, finding, finding_codes, finish, load_env, probe_json  # noqa: E402

ENV = load_env()
C = os.path.dirname(ENV["ca"])
HERE = os.path.dirname(os.path.abspath(__file__))
TLS = ["--cafile", ENV["ca"], "--servername", "mx1.test", "--timeout", "5"]


def chain_file(tmp, name, parts):
    path = os.path.join(tmp, name + ".pem")
    with open(path, "w") as out:
        for p in parts:
            with open(os.path.join(C, p)) as f:
                out.write(f.read())
    return path


def probe(name, chain, key):
    srv = Helper([sys.executable, os.path.join(HERE, "tls_server.py"), "--cert", chain,
                  "--key", os.path.join(C, key)])
    try:
        rc, doc, _, _ = probe_json(name, TLS + ["127.0.0.1:%d" % srv.port])
    finally:
        srv.stop()
    return rc, doc


def main():
    tmp = tempfile.mkdtemp(prefix="sp-chain-")
    try:
        rc, d = probe("wrong-order", chain_file(tmp, "wo", ["nointer.pem", "ca.pem", "inter.pem"]),
                      "nointer.key")
        f = finding(d, "cert-chain-order") or {}
        check("wrong order: the chain still verifies",
              ((d.get("tls") or {}).get("verify") or {}).get("trusted") is True, d.get("tls"))
        check("wrong order: cert-chain-order, a warning naming the positions",
              rc == 1 and f.get("severity") == "warning" and "certificate 2, not 1" in
              f.get("message", ""), (rc, f, finding_codes(d)))

        rc, d = probe("right-order", chain_file(tmp, "ro", ["nointer.pem", "inter.pem", "ca.pem"]),
                      "nointer.key")
        check("right order: no order finding, exit 0",
              rc == 0 and "cert-chain-order" not in finding_codes(d), (rc, finding_codes(d)))

        rc, d = probe("extra-expired", chain_file(tmp, "xe", ["valid.pem", "expired.pem"]),
                      "valid.key")
        f = finding(d, "cert-chain-extra-expired") or {}
        check("extra expired: trusted (the path does not use it)",
              ((d.get("tls") or {}).get("verify") or {}).get("trusted") is True, d.get("tls"))
        check("extra expired: a warning that says why it matters, not cert-expired",
              rc == 1 and f.get("severity") == "warning" and "does not need" in
              f.get("message", "") and "cert-expired" not in finding_codes(d),
              (rc, f, finding_codes(d)))

        rc, d = probe("expired-leaf", os.path.join(C, "expired.chain.pem"), "expired.key")
        f = finding(d, "cert-expired") or {}
        check("control: an expired leaf is cert-expired, critical",
              rc == 2 and f.get("severity") == "critical" and
              "cert-chain-extra-expired" not in finding_codes(d), (rc, finding_codes(d)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

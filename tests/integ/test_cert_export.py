#!/usr/bin/python3
"""Certificate export (issue 12 part 4): --showcerts prints the chain the
suite's Postfix presents as PEM (text and JSON), as openssl s_client
-showcerts does, and each block is the very certificate Postfix serves
(openssl's own fingerprint of the served file); the text report gives the
DANE-EE TLSA 3 1 1 record pinning the current key, ready to publish, whose
digest is openssl's SHA-256 of the key; without --showcerts no PEM appears;
an IP-literal target gets no TLSA record (TLSA lives under a name)."""
import base64
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import cert_sha256, check, finish, load_env, probe_json, run_probe, spki_sha256  # noqa: E402
import schema_check  # noqa: E402

ENV = load_env()
P = ENV["ports"]
VALID = ENV["certs"]["valid"]["pem"]
TLS = ["--cafile", ENV["ca"], "--timeout", "5", "--resolver", ENV["dns"]["resolver"]]
TARGET = "mx1.test:%d" % P["starttls"]
PEM = re.compile(r"-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n")


def fingerprints(text):
    out = []
    for block in PEM.findall(text):
        with tempfile.NamedTemporaryFile("w", suffix=".pem") as f:
            f.write(block)
            f.flush()
            out.append(cert_sha256(f.name))
    return out


def main():
    rc, _, out, err = run_probe(TLS + ["--showcerts", TARGET])
    fps = fingerprints(out)
    check("showcerts text: exit 0", rc == 0, (rc, err))
    check("showcerts text: one PEM block per presented certificate",
          len(fps) == 2, len(fps))
    check("showcerts text: the first block is the certificate Postfix serves",
          fps and fps[0] == cert_sha256(VALID), (fps[:1], cert_sha256(VALID)))
    p = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=out.encode(),
                       capture_output=True)
    check("showcerts text: openssl reads the report as a certificate file",
          p.returncode == 0 and b"mx1.test" in p.stdout, p.stderr[-200:])

    want = base64.b64decode(spki_sha256(VALID)).hex()
    m = re.search(r"TLSA 3 1 1 (_\d+\._tcp\.\S+\. IN TLSA 3 1 1)\s+([0-9a-f]{64})", out)
    check("TLSA record: ready to publish, for the name and port probed",
          m and m.group(1) == "_%d._tcp.mx1.test. IN TLSA 3 1 1" % P["starttls"],
          m.group(0) if m else out[out.find("SPKI pin"):][:300])
    check("TLSA record: the SHA-256 of the key (openssl)", m and m.group(2) == want,
          (m.group(2) if m else None, want))

    rc, doc, _, _ = probe_json("showcerts json", TLS + ["--showcerts", TARGET])
    chain = (doc.get("tls") or {}).get("chain") or []
    check("showcerts json: schema-valid", not schema_check.errors(doc),
          schema_check.errors(doc)[:3])
    check("showcerts json: pem on every certificate", chain and
          all(PEM.fullmatch(c.get("pem", "")) for c in chain), [c.get("pem", "")[:40] for c in chain])
    check("showcerts json: the leaf's pem is the served certificate",
          chain and fingerprints(chain[0].get("pem", "")) == [cert_sha256(VALID)],
          chain[0].get("sha256") if chain else None)

    rc, _, out, err = run_probe(TLS + [TARGET])
    check("without --showcerts: no PEM, the TLSA record still shown",
          rc == 0 and "BEGIN CERTIFICATE" not in out and "IN TLSA 3 1 1" in out, out[-300:])
    rc, doc, _, _ = probe_json("no showcerts json", TLS + [TARGET])
    check("without --showcerts: no pem in JSON",
          not any("pem" in c for c in (doc.get("tls") or {}).get("chain") or []), "pem present")
    rc, _, out, err = run_probe(TLS + ["127.0.0.1:%d" % P["starttls"]])
    check("IP literal: no TLSA record (it needs a name)", rc == 0 and "IN TLSA" not in out,
          out[out.find("SPKI pin"):][:200])
    finish()


if __name__ == "__main__":
    main()

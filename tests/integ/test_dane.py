#!/usr/bin/python3
"""Integration tests of --dane.

1. Against the suite's nsd (unsigned zone "test.") and Postfix 10025: the
   TLSA 3 1 1 record of mx1.test matches, but nsd does not sign, so the
   answer is not authenticated: only dane-unsigned, which tells the match
   for information (dane.result unsigned-match), never dane-valid. A
   deliberately wrong TLSA for port 10029 (self-signed server): the same,
   unsigned-mismatch, never dane-mismatch.
2. Against a small fake DNS responder (python3-dnslib) started here, which
   sets the AD bit like a validating resolver would, and small STARTTLS
   servers started here with the suite's certificates: every usage,
   selector and matching type that matters, NXDOMAIN, SERVFAIL, and --mx.
The fake servers listen on 127.0.0.1 ports chosen by the kernel and are
stopped at the end. test_mtasts.py imports FakeDNS and FakeSMTP from here.
"""
import hashlib
import os
import socket
import ssl
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finding, finding_codes, finish, load_env, probe_json  # noqa: E402

from dnslib import AAAA, CNAME, A, MX, QTYPE, RCODE, RR, TXT, DNSRecord  # noqa: E402
from dnslib.server import BaseResolver, DNSLogger, DNSServer  # noqa: E402


class FakeDNS(BaseResolver):
    """Answers from a dict {(name, qtype): [rdata, ...]}; names in servfail
    get SERVFAIL, names nowhere else NXDOMAIN; AD set when ad is true."""

    def __init__(self, records, servfail=(), ad=True):
        self.records = {}
        for (name, qtype), rdatas in records.items():
            self.records[(name.lower().rstrip("."), qtype)] = rdatas
        self.names = {n for (n, _t) in self.records}
        self.servfail = {n.lower().rstrip(".") for n in servfail}
        self.ad = ad
        self.server = None

    def resolve(self, request, handler):
        reply = request.reply()
        q = request.q
        name = str(q.qname).lower().rstrip(".")
        qtype = QTYPE[q.qtype]
        if self.ad:
            reply.header.ad = 1
        if name in self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
            reply.header.ad = 0
            return reply
        if name not in self.names:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        owner = q.qname
        if (name, qtype) not in self.records and (name, "CNAME") in self.records:
            # One alias hop, answered as a resolver would: the CNAME, then
            # the target's records of the type asked for.
            target = self.records[(name, "CNAME")][0]
            reply.add_answer(RR(q.qname, QTYPE.CNAME, rdata=target, ttl=60))
            owner = str(target.label)
            name = owner.lower().rstrip(".")
        for rdata in self.records.get((name, qtype), []):
            reply.add_answer(RR(owner, q.qtype, rdata=rdata, ttl=60))
        return reply

    def start(self):
        quiet = DNSLogger(prefix=False, logf=lambda s: None)
        self.server = DNSServer(self, address="127.0.0.1", port=0, logger=quiet)
        # dnslib binds in the constructor; read the port the kernel chose.
        self.port = self.server.server.server_address[1]
        self.server.start_thread()
        return self

    def stop(self):
        if self.server:
            self.server.stop()


class TLSA_RD:
    """TLSA rdata for dnslib (it has no TLSA class of its own)."""

    def __init__(self, usage, selector, mtype, data):
        self.usage, self.selector, self.mtype, self.data = usage, selector, mtype, data

    def pack(self, buffer):
        buffer.pack("!BBB", self.usage, self.selector, self.mtype)
        buffer.append(self.data)

    def __repr__(self):
        return "%d %d %d %s" % (self.usage, self.selector, self.mtype, self.data.hex())


class FakeSMTP:
    """A minimal STARTTLS SMTP server: 220, EHLO (STARTTLS offered),
    STARTTLS, TLS with the given chain and key, EHLO, QUIT. One thread per
    connection; it never accepts mail."""

    def __init__(self, chain, key):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(chain, key)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopped = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self):
        self.stopped = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        c.settimeout(10)
        f = None
        try:
            c.sendall(b"220 mx1.test ESMTP fake\r\n")
            f = c.makefile("rb")
            tls = False
            while True:
                line = f.readline(1024)
                if not line:
                    return
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO") or cmd.startswith(b"HELO"):
                    ext = b"" if tls else b"250-STARTTLS\r\n"
                    c.sendall(b"250-mx1.test\r\n" + ext + b"250 SIZE 10240000\r\n")
                elif cmd == b"STARTTLS" and not tls:
                    c.sendall(b"220 2.0.0 go ahead\r\n")
                    c = self.ctx.wrap_socket(c, server_side=True)
                    f = c.makefile("rb")
                    tls = True
                elif cmd == b"QUIT":
                    c.sendall(b"221 2.0.0 bye\r\n")
                    return
                else:
                    c.sendall(b"502 5.5.2 not here\r\n")
        except (OSError, ssl.SSLError):
            return
        finally:
            try:
                c.close()
            except OSError:
                pass


def der_of(pem):
    out = subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER"],
                         capture_output=True, check=True)
    return out.stdout


def spki_of(pem):
    pub = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-pubkey"],
                         capture_output=True, check=True).stdout
    out = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True)
    return out.stdout


def sha256(b):
    return hashlib.sha256(b).digest()


def sha512(b):
    return hashlib.sha512(b).digest()


def dane_of(doc):
    d = doc.get("dane") if isinstance(doc, dict) else None
    return d if isinstance(d, dict) else {}


def nsd_part(env):
    ca = env["ca"]
    dns = env["dns"]["resolver"]
    port = env["ports"]["starttls"]
    base = ["--dane", "--cafile", ca, "--resolver", dns, "--timeout", "5", "-4"]
    rc, d, out, err = probe_json("dane-nsd", base + ["mx1.test:%d" % port])
    codes = finding_codes(d)
    dn = dane_of(d)
    check("dane-nsd: dane-unsigned (nsd does not sign)", "dane-unsigned" in codes, codes)
    # Unsigned records count for nothing: the match is information inside
    # dane-unsigned and dane.result, never dane-valid (issue 11, item 10).
    check("dane-nsd: no dane-valid for unsigned records", "dane-valid" not in codes, codes)
    f = finding(d, "dane-unsigned") or {}
    check("dane-nsd: dane-unsigned tells the match",
          "1 of 1 usable record matches" in f.get("message", ""), f)
    check("dane-nsd: not authenticated", dn.get("authenticated") is False, dn)
    check("dane-nsd: result unsigned-match", dn.get("result") == "unsigned-match", dn)
    recs = dn.get("records") or []
    want = sha256(spki_of(env["certs"]["valid"]["pem"])).hex()
    check("dane-nsd: record 3 1 1 matched",
          any(r.get("usage") == 3 and r.get("selector") == 1 and r.get("matching") == 1 and
              r.get("data") == want and r.get("matched") is True for r in recs), recs)
    check("dane-nsd: exit 1 (warning)", rc == 1, rc)
    # The wrong record for the self-signed server (tests/env/start.sh).
    sport = env["ports"]["selfsigned"]
    rc, d, out, err = probe_json("dane-nsd-mismatch", base + ["mx1.test:%d" % sport])
    codes = finding_codes(d)
    f = finding(d, "dane-unsigned") or {}
    check("dane-nsd-mismatch: only dane-unsigned, telling the mismatch",
          "dane-mismatch" not in codes and "none of the 1 usable record" in f.get("message", ""),
          (codes, f))
    check("dane-nsd-mismatch: result unsigned-mismatch",
          dane_of(d).get("result") == "unsigned-mismatch", dane_of(d))
    check("dane-nsd-mismatch: exit 2 (the self-signed chain), not from DANE",
          rc == 2 and "cert-untrusted" in codes, (rc, codes))


def fake_part(env):
    certs = env["certs"]
    ca_pem = env["ca"]
    servers = {}
    for name in ("valid", "expired", "wrongname", "selfsigned"):
        servers[name] = FakeSMTP(certs[name]["chain"], certs[name]["key"]).start()
    valid_spki = spki_of(certs["valid"]["pem"])
    ca_der, ca_spki = der_of(ca_pem), spki_of(ca_pem)
    exp_der, exp_spki = der_of(certs["expired"]["pem"]), spki_of(certs["expired"]["pem"])
    P = {n: s.port for n, s in servers.items()}
    # Extra servers with the valid chain for the TA, NXDOMAIN and SERVFAIL cases.
    extra = [FakeSMTP(certs["valid"]["chain"], certs["valid"]["key"]).start() for _ in range(3)]
    P_TA, P_NX, P_SF = (s.port for s in extra)
    # RFC 7672: a self-signed certificate pinned by an authenticated DANE-EE record.
    own = FakeSMTP(certs["selfsigned"]["chain"], certs["selfsigned"]["key"]).start()
    extra.append(own)
    P_OWN = own.port
    recs = {
        ("mx1.test", "A"): [A("127.0.0.1")],
        ("dane.test", "MX"): [MX("mx1.test", 10)],
        # RFC 7672 2.2.2: an MX host that is an alias; TLSA at the expanded
        # name (mx1.test), authenticated, comes first.
        ("alias-dane.test", "MX"): [MX("alias.alias-dane.test", 10)],
        ("alias.alias-dane.test", "CNAME"): [CNAME("mx1.test")],
        ("_%d._tcp.mx1.test" % P["valid"], "TLSA"): [TLSA_RD(3, 1, 1, sha256(valid_spki))],
        ("_%d._tcp.mx1.test" % P["expired"], "TLSA"): [
            TLSA_RD(3, 0, 2, sha512(exp_der)), TLSA_RD(1, 1, 1, sha256(exp_spki))],
        ("_%d._tcp.mx1.test" % P["wrongname"], "TLSA"): [TLSA_RD(2, 0, 1, sha256(ca_der))],
        ("_%d._tcp.mx1.test" % P["selfsigned"], "TLSA"): [TLSA_RD(3, 1, 1, sha256(valid_spki))],
        ("_%d._tcp.mx1.test" % P_TA, "TLSA"): [TLSA_RD(2, 1, 0, ca_spki),
                                               TLSA_RD(0, 0, 1, sha256(ca_der))],
        ("_%d._tcp.mx1.test" % P_OWN, "TLSA"): [
            TLSA_RD(3, 1, 1, sha256(spki_of(certs["selfsigned"]["pem"])))],
    }
    fake = FakeDNS(recs, servfail=["_%d._tcp.mx1.test" % P_SF]).start()
    base = ["--dane", "--cafile", ca_pem, "--resolver", "127.0.0.1:%d" % fake.port,
            "--timeout", "5", "-4"]
    try:
        rc, d, _, _ = probe_json("dane-ad-ee", base + ["mx1.test:%d" % P["valid"]])
        codes, dn = finding_codes(d), dane_of(d)
        check("dane-ad-ee: dane-valid", "dane-valid" in codes, codes)
        check("dane-ad-ee: no dane-unsigned (AD set)", "dane-unsigned" not in codes, codes)
        check("dane-ad-ee: authenticated", dn.get("authenticated") is True, dn)
        check("dane-ad-ee: exit 0", rc == 0, (rc, codes))

        rc, d, _, _ = probe_json("dane-ee-expired", base + ["mx1.test:%d" % P["expired"]])
        codes, dn = finding_codes(d), dane_of(d)
        check("dane-ee-expired: DANE-EE ignores dates (3 0 2)", "dane-valid" in codes, codes)
        check("dane-ee-expired: PKIX-EE record unusable", "dane-unusable-records" in codes, codes)
        check("dane-ee-expired: records reported",
              [(r.get("usage"), r.get("usable"), r.get("matched")) for r in dn.get("records", [])]
              == [(3, True, True), (1, False, True)], dn.get("records"))

        f = finding(d, "cert-expired") or {}
        check("dane-ee-expired: DANE-EE decides trust: cert-expired is information",
              f.get("severity") == "info" and "DANE senders trust this server anyway"
              in f.get("message", "") and rc == 1 and
              not [x for x in d.get("findings", []) if x.get("severity") == "critical"],
              (rc, f))

        rc, d, _, _ = probe_json("dane-ee-selfsigned", base + ["mx1.test:%d" % P_OWN])
        f = finding(d, "cert-untrusted") or {}
        check("dane-ee-selfsigned: trusted through DANE, exit 0",
              rc == 0 and "dane-valid" in finding_codes(d), (rc, finding_codes(d)))
        check("dane-ee-selfsigned: the PKIX verdict stays, as information, saying why",
              f.get("severity") == "info" and "DANE-EE" in f.get("message", "") and
              "self-signed" in f.get("message", ""), f)

        rc, d, _, _ = probe_json("dane-ta-no-pkix", [a for a in base if a not in (
            "--cafile", ca_pem)] + ["mx1.test:%d" % P_TA])
        f = finding(d, "cert-untrusted") or {}
        check("dane-ta-no-pkix: DANE-TA anchors the chain: untrusted becomes information "
              "(the warning left is the unusable PKIX-TA record)",
              rc == 1 and f.get("severity") == "info" and "DANE-TA" in f.get("message", "") and
              [x.get("code") for x in d.get("findings", []) if x.get("severity") != "info"] ==
              ["dane-unusable-records"], (rc, f, finding_codes(d)))

        rc, d, _, _ = probe_json("dane-ta-name", base + ["mx1.test:%d" % P["wrongname"]])
        codes, dn = finding_codes(d), dane_of(d)
        check("dane-ta-name: DANE-TA checks the name", "dane-mismatch" in codes, codes)
        check("dane-ta-name: TA matched", (dn.get("records") or [{}])[0].get("matched") is True, dn)
        check("dane-ta-name: exit 2", rc == 2, rc)

        rc, d, _, _ = probe_json("dane-ta-spki-full", base + ["mx1.test:%d" % P_TA])
        codes = finding_codes(d)
        check("dane-ta-spki-full: dane-valid (2 1 0)", "dane-valid" in codes, codes)
        check("dane-ta-spki-full: PKIX-TA unusable", "dane-unusable-records" in codes, codes)

        rc, d, _, _ = probe_json("dane-ee-mismatch", base + ["mx1.test:%d" % P["selfsigned"]])
        codes, dn = finding_codes(d), dane_of(d)
        check("dane-ee-mismatch: dane-mismatch", "dane-mismatch" in codes, codes)
        check("dane-ee-mismatch: result", dn.get("result") == "mismatch", dn)

        rc, d, _, _ = probe_json("dane-nxdomain", base + ["mx1.test:%d" % P_NX])
        codes, dn = finding_codes(d), dane_of(d)
        check("dane-nxdomain: no DANE (info)", "dane-none" in codes and rc == 0, (rc, codes))
        check("dane-nxdomain: result", dn.get("result") == "no-records", dn)

        rc, d, _, _ = probe_json("dane-servfail", base + ["mx1.test:%d" % P_SF])
        codes = finding_codes(d)
        check("dane-servfail: dane-lookup-failed", "dane-lookup-failed" in codes, codes)
        check("dane-servfail: exit 2", rc == 2, rc)

        rc, d, _, _ = probe_json("dane-mx", base + ["-p", str(P["valid"]), "--mx", "dane.test"])
        ps = [p for p in d.get("probes") or [] if isinstance(p, dict)]
        check("dane-mx: one probe", len(ps) == 1, len(ps))
        if ps:
            dn = dane_of(ps[0])
            check("dane-mx: TLSA of the MX host",
                  dn.get("name") == "_%d._tcp.mx1.test" % P["valid"] and
                  dn.get("result") == "valid", dn)
            check("dane-mx: dane-valid in probe", "dane-valid" in finding_codes(ps[0]),
                  finding_codes(ps[0]))

        rc, d, _, _ = probe_json("dane-mx-alias", base + ["-p", str(P["valid"]), "--mx",
                                                          "alias-dane.test"])
        ps = [p for p in d.get("probes") or [] if isinstance(p, dict)]
        check("dane-mx-alias: one probe", len(ps) == 1, d.get("findings"))
        if ps:
            dn = dane_of(ps[0])
            check("dane-mx-alias: TLSA at the CNAME-expanded name",
                  dn.get("name") == "_%d._tcp.mx1.test" % P["valid"] and
                  dn.get("result") == "valid" and dn.get("authenticated") is True, dn)
        check("dane-mx-alias: mx-cname finding", "mx-cname" in finding_codes(d),
              finding_codes(d))

        # Text output shows the section.
        import lib
        rc, _, out, _ = lib.run_probe(base + ["mx1.test:%d" % P["valid"]])
        check("dane-text: DANE section", "DANE" in out and "DANE-EE" in out, out[-600:])
    finally:
        fake.stop()
        for s in list(servers.values()) + extra:
            s.stop()


def main():
    env = load_env()
    nsd_part(env)
    fake_part(env)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""DANE with a real validating setup (issue 12 part 4): a DNSSEC-signed zone
(ldns-keygen / ldns-signzone) served by NSD, and Unbound validating it
against the zone's own key as trust anchor, each on a kernel-chosen
loopback port; the probe asks Unbound (--resolver), which sets AD only for
answers it validated. A self-signed certificate (served by tls_server.py,
OpenSSL) is pinned by an authenticated DANE-EE 3 1 1 record:
  - signed zone: dane-valid, exit 0, cert-untrusted kept as info saying
    DANE senders trust the server (RFC 7672 3.1.1);
  - a TLSA record altered after signing (bogus): Unbound refuses it
    (SERVFAIL), so dane-lookup-failed, critical;
  - an unsigned zone: no AD, dane-unsigned, and the PKIX verdict stays
    critical."""
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import (check, finding, finding_codes, finish, free_port, load_env,  # noqa: E402
                 probe_json)

ENV = load_env()
HERE = os.path.dirname(os.path.abspath(__file__))
SELF = ENV["certs"]["selfsigned"]


def spki_sha256_hex(pem):
    pub = subprocess.run(["openssl", "x509", "-in", pem, "-noout", "-pubkey"],
                         capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def zone(origin, port, digest):
    return ("$ORIGIN %s.\n$TTL 300\n"
            "@ SOA ns.%s. hostmaster.%s. ( 1 3600 600 86400 300 )\n"
            "@ NS ns.%s.\nns A 127.0.0.1\nmx A 127.0.0.1\n"
            "_%d._tcp.mx TLSA 3 1 1 %s\n") % (origin, origin, origin, origin, port, digest)


def sign(d, origin, text):
    path = os.path.join(d, origin + ".zone")
    with open(path, "w") as f:
        f.write(text)
    keys = []
    for extra in ([], ["-k"]):
        r = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256"] + extra + [origin],
                           cwd=d, capture_output=True, text=True, check=True)
        keys.append(os.path.join(d, r.stdout.strip()))
    subprocess.run(["ldns-signzone", "-n", path] + keys, cwd=d, capture_output=True, check=True)
    with open(keys[1] + ".key") as f:
        ksk = f.read().strip()
    return path + ".signed", ksk


def rcode(port, name, qtype):
    """The RCODE of the answer the DNS server on 127.0.0.1:port gives to one
    query for name/qtype, or None without an answer in a second; the query is
    written by hand (RFC 1035 4.1)."""
    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    packet = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + qname +
              qtype.to_bytes(2, "big") + b"\x00\x01")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.0)
    try:
        s.sendto(packet, ("127.0.0.1", port))
        data = s.recv(4096)
        return data[3] & 0x0f if len(data) >= 4 and data[:2] == b"\x12\x34" else None
    except OSError:
        return None
    finally:
        s.close()


def wait_answer(port, name, qtype, seconds=20):
    """True once the server on port answers name/qtype with any RCODE but
    SERVFAIL, polling for up to seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rc = rcode(port, name, qtype)
        if rc is not None and rc != 2:
            return True
        time.sleep(0.2)
    return False


def diagnose(d, procs):
    """When a server does not answer, say why on '#' lines: whether each
    process still runs, and the end of its log and stderr."""
    for name, p in procs:
        print("# %s: %s" % (name, "running" if p is not None and p.poll() is None else
                            "not running (exit %s)" % (p.returncode if p else None)))
        for suffix in (".log", ".err"):
            try:
                with open(os.path.join(d, name + suffix), errors="replace") as f:
                    lines = f.read().splitlines()[-12:]
            except OSError:
                continue
            for line in lines:
                print("# %s%s: %s" % (name, suffix, line))
    sys.stdout.flush()


def main():
    for tool in ("ldns-keygen", "ldns-signzone", "nsd", "unbound"):
        if not check("validating setup: %s installed" % tool, shutil.which(tool) is not None,
                     "apt-get install ldnsutils nsd unbound (scripts/test-deps.sh)"):
            finish()
            return
    d = tempfile.mkdtemp(prefix="sp-dnssec-")
    os.chmod(d, 0o755)
    tls = Helper([sys.executable, os.path.join(HERE, "tls_server.py"), "--cert", SELF["chain"],
                  "--key", SELF["key"]])
    nsd = unbound = None
    try:
        digest = spki_sha256_hex(SELF["pem"])
        signed, ksk = sign(d, "dnssec.test", zone("dnssec.test", tls.port, digest))
        bogus, ksk2 = sign(d, "bogus.test", zone("bogus.test", tls.port, digest))
        # Alter the TLSA data after signing: its RRSIG no longer fits.
        with open(bogus) as f:
            text = f.read()
        with open(bogus, "w") as f:
            f.write(text.replace(digest, "00" * 32, 1))
        plain = os.path.join(d, "plain.test.zone")
        with open(plain, "w") as f:
            f.write(zone("plain.test", tls.port, digest))
        p_nsd = free_port(dns=True)
        p_unb = free_port(dns=True)
        while p_unb == p_nsd:
            p_unb = free_port(dns=True)
        conf = os.path.join(d, "nsd.conf")
        with open(conf, "w") as f:
            f.write('server:\n\tip-address: 127.0.0.1\n\tport: %d\n\tusername: ""\n\tchroot: ""\n'
                    '\tzonesdir: "%s"\n\tdatabase: ""\n\tpidfile: "%s/nsd.pid"\n'
                    '\txfrdfile: "%s/xfrd.state"\n\tzonelistfile: "%s/zone.list"\n'
                    '\tlogfile: "%s/nsd.log"\n\tserver-count: 1\n'
                    'remote-control:\n\tcontrol-enable: no\n' % (p_nsd, d, d, d, d, d))
            for name, path in (("dnssec.test", signed), ("bogus.test", bogus),
                               ("plain.test", plain)):
                f.write('zone:\n\tname: "%s"\n\tzonefile: "%s"\n' % (name, path))
        nsd = subprocess.Popen(["nsd", "-d", "-c", conf], stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(d, "nsd.err"), "w"))
        if not check("validating setup: NSD serves the signed zone",
                     wait_answer(p_nsd, "dnssec.test", 6), "no SOA answer in 20 s"):
            diagnose(d, [("nsd", nsd)])
        uconf = os.path.join(d, "unbound.conf")
        with open(uconf, "w") as f:
            f.write('server:\n\tinterface: 127.0.0.1\n\tport: %d\n\tdo-ip6: no\n'
                    '\tusername: ""\n\tchroot: ""\n\tdirectory: "%s"\n\tpidfile: ""\n'
                    '\tuse-syslog: no\n\tlogfile: "%s/unbound.log"\n\tdo-daemonize: no\n'
                    '\tdo-not-query-localhost: no\n\tmodule-config: "validator iterator"\n'
                    '\tval-log-level: 2\n\tharden-dnssec-stripped: yes\n'
                    '\ttrust-anchor: "%s"\n\ttrust-anchor: "%s"\n'
                    '\tdomain-insecure: "plain.test"\n'
                    # test. is one of Unbound's built-in empty zones (RFC 6761).
                    '\tlocal-zone: "test." nodefault\n' % (p_unb, d, d, ksk, ksk2))
            for name in ("dnssec.test", "bogus.test", "plain.test"):
                f.write('stub-zone:\n\tname: "%s"\n\tstub-addr: 127.0.0.1@%d\n' % (name, p_nsd))
        unbound = subprocess.Popen(["unbound", "-d", "-c", uconf], stdout=subprocess.DEVNULL,
                                   stderr=open(os.path.join(d, "unbound.err"), "w"))
        # Ready when Unbound answers the signed TLSA name (it then holds the
        # zone's keys): on a loaded machine its first validation takes a
        # while, and the probe's DNS timeout is not the thing under test.
        if not check("validating setup: Unbound answers",
                     wait_answer(p_unb, "_%d._tcp.mx.dnssec.test" % tls.port, 52),
                     "no answer but SERVFAIL in 20 s"):
            diagnose(d, [("nsd", nsd), ("unbound", unbound)])
        base = ["--dane", "--resolver", "127.0.0.1:%d" % p_unb, "--timeout", "10", "-4"]

        rc, doc, _, _ = probe_json("dnssec signed", base + ["mx.dnssec.test:%d" % tls.port])
        dn = doc.get("dane") or {}
        f = finding(doc, "cert-untrusted") or {}
        check("signed: Unbound validated the answer (AD)", dn.get("authenticated") is True, dn)
        check("signed: dane-valid, exit 0 for a self-signed certificate pinned by DANE-EE",
              rc == 0 and "dane-valid" in finding_codes(doc), (rc, finding_codes(doc)))
        check("signed: the PKIX verdict kept as information, saying why",
              f.get("severity") == "info" and "DANE senders trust this server anyway" in
              f.get("message", ""), f)

        rc, doc, _, _ = probe_json("dnssec bogus", base + ["mx.bogus.test:%d" % tls.port])
        check("bogus: Unbound refuses the altered record: dane-lookup-failed, critical",
              rc == 2 and "dane-lookup-failed" in finding_codes(doc), (rc, finding_codes(doc)))

        rc, doc, _, _ = probe_json("unsigned", base + ["mx.plain.test:%d" % tls.port])
        f = finding(doc, "cert-untrusted") or {}
        check("unsigned: no AD, dane-unsigned; the PKIX verdict stays critical",
              rc == 2 and "dane-unsigned" in finding_codes(doc) and
              f.get("severity") == "critical", (rc, finding_codes(doc)))
    finally:
        for p in (unbound, nsd):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        tls.stop()
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

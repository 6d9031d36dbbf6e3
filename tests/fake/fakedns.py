#!/usr/bin/python3
"""A fault-injecting fake DNS server, for the DNS faults no real server
produces (tests/fault/test_dns_faults.py, tests/integ/test_happy_eyeballs.py).
Needs python3-dnslib (Debian's /usr/bin/python3).

    fakedns.py [--host 127.0.0.1] [--port 0] [--lifetime SECONDS]
               [--record NAME TYPE VALUE]...

It answers over UDP and TCP on the same port of HOST (loopback only). With
--port 0 it picks a port free for both; its first line on stdout is
"listening HOST PORT", printed once both sockets are bound. It stops after
--lifetime seconds (default 60) or on SIGTERM. Every query goes to stderr
as "udp|tcp QNAME QTYPE -> what was done", so a test can see, e.g., that the
client retried over TCP.

--record NAME TYPE VALUE (repeatable; TYPE A, AAAA, MX "PREF HOST", CNAME,
PTR, TXT) is served as is, with NOERROR/NODATA for other types of NAME.

Every other name is MODE.fault.test (or anything.MODE.fault.test); the first
label that is a known mode decides the answer, whatever the type asked:

  ok          a plain answer: A 127.0.0.1, no AAAA, MX 10 ok.fault.test
  tc          over UDP: no records and the TC bit set; over TCP: the answer
              of "ok" (MX 10 tc.fault.test); a client must retry over TCP
  malformed   an answer whose header promises records that are not there,
              followed by garbage
  ptrloop     an answer whose record name is a compression pointer to itself
  othername   a well-formed answer whose records belong to another name
              (evil.example.), the question echoed correctly
  otherq      an answer to a different question (the ID matches)
  many        1,000 A records (127.1.x.y, 127.0.0.1 first): TC over UDP,
              the lot over TCP (about 16 KB)
  servfail    RCODE SERVFAIL
  refused     RCODE REFUSED
  nxdomain    RCODE NXDOMAIN
  timeout     no answer at all, ever
  mxcname     MX 10 alias.mxcname.fault.test, which is a CNAME to
              real.mxcname.fault.test (A 127.0.0.1): RFC 2181 10.3 forbids it
  longname    MX 10 to a legal 253-character host name, which has A 127.0.0.1
  toolong     an answer whose record name runs past 255 bytes (illegal)
"""
import argparse
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSRecord

MODES = ("ok", "tc", "malformed", "ptrloop", "othername", "otherq", "many",
         "servfail", "refused", "nxdomain", "timeout", "mxcname", "longname",
         "toolong")
UDP_MAX = 1232        # the EDNS payload size the probe advertises

# 253 characters: four labels of 61/61/61/47 plus "longname.fault.test".
LONG_HOST = ".".join(["a" * 61, "b" * 61, "c" * 61, "d" * 47, "longname", "fault", "test"])
assert len(LONG_HOST) == 253, len(LONG_HOST)

_log_lock = threading.Lock()


def log(msg):
    with _log_lock:
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()


def mode_of(qname):
    labels = qname.lower().rstrip(".").split(".")
    if len(labels) < 3 or labels[-2:] != ["fault", "test"]:
        return None
    for lab in labels[:-2]:
        if lab in MODES:
            return lab
    return None


def raw_question(query_bytes):
    """The question section of a query, as bytes (names uncompressed)."""
    i = 12
    while query_bytes[i] != 0:
        i += 1 + query_bytes[i]
    return query_bytes[12:i + 5]


def header(qid, flags, qd, an, ns=0, ar=0):
    return struct.pack(">HHHHHH", qid, flags, qd, an, ns, ar)


def ok_answer(q, mxhost=None, aaaa=False):
    """The plain answer: A 127.0.0.1, MX 10 <mxhost or the name>."""
    r = q.reply()
    name = str(q.q.qname)
    if q.q.qtype == QTYPE.A:
        r.add_answer(RR(name, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
    elif q.q.qtype == QTYPE.MX:
        r.add_answer(RR(name, QTYPE.MX, rdata=MX(mxhost or name, 10), ttl=60))
    elif q.q.qtype == QTYPE.AAAA and aaaa:
        r.add_answer(RR(name, QTYPE.AAAA, rdata=AAAA("::1"), ttl=60))
    return r.pack()


class Server:
    def __init__(self, records):
        self.records = records   # {(name, qtype): [RR]}, names lower-case, dotted

    def answer(self, data, proto):
        """The bytes to send for query data, or None for no answer."""
        try:
            q = DNSRecord.parse(data)
        except Exception as e:  # a query we cannot read: say nothing
            log("%s unparsable query (%s) -> dropped" % (proto, e))
            return None
        qname = str(q.q.qname)
        qtype = QTYPE.get(q.q.qtype, str(q.q.qtype))
        out, what = self.build(q, data, qname.lower(), proto)
        log("%s %s %s -> %s" % (proto, qname, qtype, what))
        return out

    def build(self, q, data, qname, proto):
        qid = q.header.id
        key_name = qname if qname.endswith(".") else qname + "."
        static = [rr for (n, t), rrs in self.records.items() if n == key_name for rr in rrs]
        if static:
            r = q.reply()
            for rr in static:
                if rr.rtype == q.q.qtype or rr.rtype == QTYPE.CNAME:
                    r.add_answer(rr)
            return r.pack(), "static (%d records)" % len(r.rr)
        mode = mode_of(qname)
        if mode is None:
            r = q.reply()
            r.header.rcode = RCODE.NXDOMAIN
            return r.pack(), "NXDOMAIN (not a fault name)"
        if mode == "ok":
            return ok_answer(q), "ok"
        if mode == "tc":
            if proto == "udp":
                r = q.reply()
                r.header.tc = 1
                return r.pack(), "TC set, no records"
            return ok_answer(q), "full answer over TCP"
        if mode == "malformed":
            # Promises 3 answers; what follows is not a record.
            body = raw_question(data) + bytes(random.getrandbits(8) for _ in range(7))
            return header(qid, 0x8180, 1, 3) + body, "malformed"
        if mode == "ptrloop":
            qsec = raw_question(data)
            off = 12 + len(qsec)
            rr = struct.pack(">H", 0xC000 | off) + struct.pack(">HHIH", 1, 1, 60, 4) + \
                bytes([127, 0, 0, 1])
            return header(qid, 0x8180, 1, 1) + qsec + rr, "name pointer loop"
        if mode == "othername":
            r = q.reply()
            if q.q.qtype == QTYPE.MX:
                r.add_answer(RR("evil.example.", QTYPE.MX, rdata=MX("evil.example.", 10), ttl=60))
            else:
                r.add_answer(RR("evil.example.", QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
                r.add_answer(RR("evil.example.", QTYPE.AAAA, rdata=AAAA("::1"), ttl=60))
            return r.pack(), "records for evil.example."
        if mode == "otherq":
            other = DNSRecord.question("evil.example.", QTYPE.get(q.q.qtype))
            other.header.id = qid
            r = other.reply()
            r.add_answer(RR("evil.example.", QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
            return r.pack(), "answer to another question"
        if mode == "many":
            r = q.reply()
            name = str(q.q.qname)
            if q.q.qtype == QTYPE.A:
                r.add_answer(RR(name, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
                for i in range(999):
                    r.add_answer(RR(name, QTYPE.A, rdata=A("127.1.%d.%d" % (i // 250, i % 250 + 1)),
                                    ttl=60))
            elif q.q.qtype == QTYPE.MX:
                r.add_answer(RR(name, QTYPE.MX, rdata=MX(name, 10), ttl=60))
            out = r.pack()
            if proto == "udp" and len(out) > UDP_MAX:
                t = q.reply()
                t.header.tc = 1
                return t.pack(), "TC set (answer of %d bytes)" % len(out)
            return out, "%d records, %d bytes" % (len(r.rr), len(out))
        if mode in ("servfail", "refused", "nxdomain"):
            r = q.reply()
            r.header.rcode = {"servfail": RCODE.SERVFAIL, "refused": RCODE.REFUSED,
                              "nxdomain": RCODE.NXDOMAIN}[mode]
            return r.pack(), mode.upper()
        if mode == "timeout":
            return None, "no answer"
        if mode == "mxcname":
            r = q.reply()
            name = str(q.q.qname)
            labels = qname.rstrip(".").split(".")
            if labels[0] == "alias":
                real = "real." + ".".join(labels[1:]) + "."
                r.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(real), ttl=60))
                if q.q.qtype == QTYPE.A:
                    r.add_answer(RR(real, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
            elif labels[0] == "real":
                if q.q.qtype == QTYPE.A:
                    r.add_answer(RR(name, QTYPE.A, rdata=A("127.0.0.1"), ttl=60))
            elif q.q.qtype == QTYPE.MX:
                r.add_answer(RR(name, QTYPE.MX, rdata=MX("alias." + name, 10), ttl=60))
            return r.pack(), "mx-cname chain"
        if mode == "longname":
            if qname.rstrip(".") == LONG_HOST:
                return ok_answer(q), "the long host"
            return ok_answer(q, mxhost=LONG_HOST + "."), "MX to a 253-character name"
        if mode == "toolong":
            qsec = raw_question(data)
            name = b"".join(bytes([63]) + b"x" * 63 for _ in range(5)) + b"\x00"  # 321 bytes
            rr = name + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([127, 0, 0, 1])
            return header(qid, 0x8180, 1, 1) + qsec + rr, "record name of 321 bytes"
        return None, "unknown"


def serve_udp(sock, srv):
    while True:
        try:
            data, peer = sock.recvfrom(65535)
        except OSError:
            return
        out = srv.answer(data, "udp")
        if out is not None:
            try:
                sock.sendto(out, peer)
            except OSError:
                pass


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve_tcp_conn(conn, srv):
    with conn:
        conn.settimeout(30)
        try:
            while True:
                hdr = recv_exact(conn, 2)
                if hdr is None:
                    return
                data = recv_exact(conn, struct.unpack(">H", hdr)[0])
                if data is None:
                    return
                out = srv.answer(data, "tcp")
                if out is not None:
                    conn.sendall(struct.pack(">H", len(out)) + out)
        except OSError:
            return


def serve_tcp(sock, srv):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve_tcp_conn, args=(conn, srv), daemon=True).start()


def bind_both(host, port):
    """A UDP and a TCP socket bound to the same port of host."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(50):
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((host, port))
        p = u.getsockname()[1]
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            t.bind((host, p))
        except OSError:
            u.close()
            t.close()
            if port:
                raise
            continue
        t.listen(64)
        return u, t, p
    raise OSError("no port free for both UDP and TCP")


def parse_record(name, rtype, value):
    name = name.lower().rstrip(".") + "."
    rtype = rtype.upper()
    if rtype == "A":
        rd = A(value)
    elif rtype == "AAAA":
        rd = AAAA(value)
    elif rtype == "MX":
        pref, host = value.split(None, 1)
        rd = MX(host, int(pref))
    elif rtype == "CNAME":
        rd = CNAME(value)
    elif rtype == "PTR":
        rd = PTR(value)
    elif rtype == "TXT":
        rd = TXT(value)
    else:
        raise SystemExit("unsupported record type %s" % rtype)
    return (name, getattr(QTYPE, rtype)), RR(name, getattr(QTYPE, rtype), rdata=rd, ttl=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=60)
    ap.add_argument("--record", nargs=3, action="append", default=[],
                    metavar=("NAME", "TYPE", "VALUE"))
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "::1") and not a.host.startswith("127."):
        raise SystemExit("fakedns.py listens on loopback only")
    records = {}
    for n, t, v in a.record:
        key, rr = parse_record(n, t, v)
        records.setdefault(key, []).append(rr)
    u, t, port = bind_both(a.host, a.port)
    srv = Server(records)
    threading.Thread(target=serve_udp, args=(u, srv), daemon=True).start()
    threading.Thread(target=serve_tcp, args=(t, srv), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print("listening %s %d" % (a.host, port), flush=True)
    try:
        time.sleep(a.lifetime)
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()

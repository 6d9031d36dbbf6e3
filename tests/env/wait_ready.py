#!/usr/bin/python3
"""Wait until every listener of the test environment really answers.

  wait_ready.py TIMEOUT SPEC...
  wait_ready.py --free HOST,PORT...   exit 1 (naming them) if any TCP port
                                      is already taken by someone else
  SPEC = smtp,HOST,PORT   a 220 greeting arrives
       | tls,HOST,PORT    a TCP connection is accepted (implicit TLS: the
                          server speaks only after the client's hello)
       | dns,HOST,PORT    an A query for mx1.test. answers 127.0.0.1

Polls all of them until all succeed or TIMEOUT seconds pass; prints the ones
still failing and exits 1 in that case. Only loopback is ever contacted.
"""
import socket
import sys
import time


def smtp_ok(host, port, want_banner):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        s.connect((host, port))
        if not want_banner:
            return True
        data = b""
        while b"\n" not in data and len(data) < 4096:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        if not data.startswith(b"220"):
            return False
        s.sendall(b"QUIT\r\n")
        return True


def dns_ok(host, port):
    from dnslib import DNSRecord, QTYPE
    q = DNSRecord.question("mx1.test", "A")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_DGRAM) as s:
        s.settimeout(0.5)
        s.sendto(q.pack(), (host, port))
        data, _ = s.recvfrom(4096)
    r = DNSRecord.parse(data)
    return any(rr.rtype == QTYPE.A and str(rr.rdata) == "127.0.0.1" for rr in r.rr)


def check(spec):
    kind, rest = spec.split(",", 1)
    host, port = rest.rsplit(",", 1)
    port = int(port)
    try:
        if kind == "smtp":
            return smtp_ok(host, port, True)
        if kind == "tls":
            return smtp_ok(host, port, False)
        if kind == "dns":
            return dns_ok(host, port)
    except (OSError, ValueError):
        return False
    raise SystemExit("wait_ready: bad spec %r" % spec)


def port_free(spec):
    host, port = spec.rsplit(",", 1)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, int(port)))
        except OSError:
            return False
    return True


def main():
    if sys.argv[1] == "--free":
        # Children of a just-stopped Postfix may hold listeners a moment.
        deadline = time.monotonic() + 5
        busy = [s for s in sys.argv[2:] if not port_free(s)]
        while busy and time.monotonic() < deadline:
            time.sleep(0.2)
            busy = [s for s in busy if not port_free(s)]
        if busy:
            print("ports already in use: " + " ".join(busy), file=sys.stderr)
            return 1
        return 0
    deadline = time.monotonic() + float(sys.argv[1])
    pending = list(sys.argv[2:])
    while pending:
        pending = [s for s in pending if not check(s)]
        if not pending:
            break
        if time.monotonic() > deadline:
            print("wait_ready: not answering: " + " ".join(pending), file=sys.stderr)
            return 1
        time.sleep(0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

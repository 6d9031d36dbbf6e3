#!/usr/bin/python3
"""A scriptable, fault-injecting fake SMTP server, for the faults no real
server produces (tests/fault/). Standard library only.

    fakesmtp.py --port N --scenario FILE [--cert C --key K] [--certdir D]
                [--tls-max 1.2|1.3] [--lifetime SECONDS] [--host 127.0.0.1]
    fakesmtp.py --make-certs DIR       (make the certificates, then exit)

It listens on 127.0.0.1 (loopback only) and serves every connection from the
top of the scenario file. With --port 0 it picks a free port. Either way its
first line on stdout is "listening HOST PORT", printed once the socket is
bound: a test reads that line, then connects. It stops by itself after
--lifetime seconds (default 60) and on SIGTERM/SIGINT. What each connection
did goes to stderr, one line per step. The TLS steps use --cert/--key, by
default CERTDIR/leaf.chain.pem and leaf.key; --tls-max 1.2 caps the version.

Scenario format: one step per line; blank lines and lines starting with '#'
are ignored. The first word is the step, the rest its argument. TEXT takes
the escapes \\r \\n \\t \\\\ \\0 \\xNN (any byte); nothing is added to it, so
a reply line must end in \\r\\n written out.

  send TEXT              send the bytes of TEXT
  sendraw-hex HEX        send raw bytes given in hex (spaces allowed)
  expect PREFIX          read one command line (up to LF, at most 4 KiB);
                         if it does not start with PREFIX (case-insensitive),
                         log it and close the connection
  readraw                read whatever bytes come next (at least 1, e.g. a
                         TLS ClientHello); close if the client closed
  sleep SECONDS          pause
  drip TEXT INTERVAL     send TEXT one byte at a time, INTERVAL s apart
  drip-forever [INTERVAL] [TEXT]   send TEXT (default "220-drip\\r\\n")
                         byte by byte, cyclically, forever (default 0.05 s)
  flood BYTES            send "220 " and then BYTES bytes of 'A', no CRLF
  lines N CODE           a reply of N lines: N-1 "CODE-line i", one "CODE end"
  close                  close the connection (FIN)
  reset                  abort the connection with RST (SO_LINGER 0)
  starttls               from here on, talk TLS (server side) with --cert/--key
  tls-garbage            read the ClientHello, answer with non-TLS bytes
  tls-alert              read the ClientHello, answer with a fatal TLS alert
                         record (handshake_failure), then close
  chain N                like starttls, presenting a chain of N certificates
                         (CERTDIR/chainN.pem, made by --make-certs), each
                         certificate signed by the next one
  chain-unlinked N       like chain N, but only the leaf (issued by the CA of
                         ca.pem) is on the path; N-1 bystander certificates
                         follow it (CERTDIR/unlinkedN.pem)
  tls-cert FILE [KEY]    like starttls, with CERTDIR/FILE (a PEM chain) and
                         CERTDIR/KEY (default leaf.key)
  bigsubject             like starttls, with a certificate whose subject is
                         about 10 KB (CERTDIR/bigsubject.pem)
  stall                  do nothing until the client goes or the server ends

A TLS step must come right after the send of the 220 (no sleep, drip ends
without a pause): bytes the client sends while the script sleeps are read
as plaintext and the handshake stalls (asyncio's start_tls limitation).

When the client closes, the 'expect' or 'readraw' waiting for it ends the
connection and the rest of the script is skipped. The end of the script
closes the connection.

Certificates (--make-certs DIR, openssl on PATH): ca.pem/ca.key (a CA),
leaf.pem/leaf.key (mx.fake.test, signed by the CA, valid 1 year),
chainN.pem for N in CHAIN_SIZES (a leaf and N-1 intermediates, one key
leaf.key for all), unlinkedN.pem, bigsubject.pem (leaf.key, subject ~10 KB,
signed by the CA), bigchain.pem (leaf + 2 x bigsubject: ~26 KB of chain).
"""
import argparse
import asyncio
import os
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys

CHAIN_SIZES = (10, 50)
MAX_CMD = 4096


# ---------------------------------------------------------------- scenario
def unescape(text):
    """Turn the escapes of a TEXT argument into bytes."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8")
    while i < len(raw):
        c = raw[i]
        if c != 0x5C or i + 1 >= len(raw):        # not a backslash
            out.append(c)
            i += 1
            continue
        n = raw[i + 1]
        i += 2
        if n == ord("r"):
            out += b"\r"
        elif n == ord("n"):
            out += b"\n"
        elif n == ord("t"):
            out += b"\t"
        elif n == ord("0"):
            out += b"\x00"
        elif n == ord("\\"):
            out += b"\\"
        elif n == ord("x") and i + 2 <= len(raw):
            out.append(int(raw[i:i + 2], 16))
            i += 2
        else:
            out += b"\\" + bytes([n])
    return bytes(out)


STEPS = {"send", "sendraw-hex", "expect", "readraw", "sleep", "drip", "drip-forever",
         "flood", "lines", "close", "reset", "starttls", "tls-garbage", "tls-alert",
         "chain", "chain-unlinked", "tls-cert", "bigsubject", "stall"}


def parse_scenario(path):
    """[(step, arg)], or SystemExit naming the bad line."""
    steps = []
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            word, _, arg = line.strip().partition(" ")
            if word not in STEPS:
                sys.exit("%s:%d: unknown step %r" % (path, no, word))
            steps.append((word, arg))
    return steps


# ---------------------------------------------------------------- certificates
def _openssl(*args, stdin=None):
    subprocess.run(["openssl"] + list(args), check=True, input=stdin,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_certs(d):
    """Make the certificates the TLS steps use (see the module doc)."""
    os.makedirs(d, exist_ok=True)
    p = lambda n: os.path.join(d, n)        # noqa: E731
    ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
    _openssl("genpkey", *ec, "-out", p("ca.key"))
    _openssl("req", "-x509", "-new", "-key", p("ca.key"), "-subj", "/CN=Fake SMTP Test CA",
             "-days", "400", "-out", p("ca.pem"),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("genpkey", *ec, "-out", p("leaf.key"))
    ext = p("leaf.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:mx.fake.test\nbasicConstraints=CA:FALSE\n"
                "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    _openssl("req", "-new", "-key", p("leaf.key"), "-subj", "/CN=mx.fake.test",
             "-out", p("leaf.csr"))
    _openssl("x509", "-req", "-in", p("leaf.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
             "-CAcreateserial", "-days", "365", "-extfile", ext, "-out", p("leaf.pem"))
    with open(p("leaf.chain.pem"), "w") as out:
        for n in ("leaf.pem", "ca.pem"):
            with open(p(n)) as f:
                out.write(f.read())

    # Chains: intermediate k (1..M-1, M the largest size) has subject
    # "CN=int k" and is signed by "CN=int k+1"; the top one signs itself.
    # chainleaf.pem (mx.fake.test) is signed by "int 1". One key for all
    # keeps this fast; a chain only has to parse. No key identifiers:
    # ~300 bytes a certificate keeps a chain of 50 under 16 KB, the largest
    # handshake message mbedTLS takes (bigchain.pem below is past it).
    cext = p("int.ext")
    with open(cext, "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nsubjectKeyIdentifier=none\n"
                "authorityKeyIdentifier=none\n")
    top = max(CHAIN_SIZES) - 1
    _openssl("req", "-x509", "-new", "-key", p("leaf.key"), "-subj", "/CN=int %d" % top,
             "-days", "365", "-out", p("int%d.pem" % top),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "subjectKeyIdentifier=none", "-addext", "authorityKeyIdentifier=none")
    for k in range(top - 1, 0, -1):
        _openssl("req", "-new", "-key", p("leaf.key"), "-subj", "/CN=int %d" % k,
                 "-out", p("int.csr"))
        _openssl("x509", "-req", "-in", p("int.csr"), "-CA", p("int%d.pem" % (k + 1)),
                 "-CAkey", p("leaf.key"), "-set_serial", str(1000 + k), "-days", "365",
                 "-extfile", cext, "-out", p("int%d.pem" % k))
    _openssl("x509", "-req", "-in", p("leaf.csr"), "-CA", p("int1.pem"),
             "-CAkey", p("leaf.key"), "-set_serial", "999", "-days", "365",
             "-extfile", ext, "-out", p("chainleaf.pem"))
    ints = [p("int%d.pem" % k) for k in range(1, top + 1)]

    def cat(name, files):
        with open(p(name), "w") as out:
            for name_ in files:
                with open(name_) as f:
                    out.write(f.read())

    for n in CHAIN_SIZES:
        # chainN.pem: one path of N certificates (its top one is issued by
        # "int N", absent, unless N is the largest size).
        cat("chain%d.pem" % n, [p("chainleaf.pem")] + ints[:n - 1])
        # unlinkedN.pem: the same count, but only the leaf (issued by
        # ca.pem) is on the path; N-1 bystanders follow it.
        cat("unlinked%d.pem" % n, [p("leaf.pem")] + ints[:n - 1])

    # About 10 KB of subject: OU values are capped at 64 characters each, so
    # many RDNs of 60 characters. Signed by the CA, so the issuer is short.
    subj = "/CN=mx.fake.test" + "".join("/OU=%03d-%s" % (i, "x" * 56) for i in range(170))
    _openssl("req", "-new", "-key", p("leaf.key"), "-subj", subj, "-out", p("big.csr"))
    _openssl("x509", "-req", "-in", p("big.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"),
             "-set_serial", "4242", "-days", "365", "-extfile", ext,
             "-out", p("bigsubject.pem"))
    # Three certificates, but a Certificate message of ~26 KB.
    cat("bigchain.pem", [p("leaf.pem"), p("bigsubject.pem"), p("bigsubject.pem")])
    return d


# ---------------------------------------------------------------- the server
class Conn:
    """One connection running the script."""

    def __init__(self, srv, reader, writer, cid):
        self.srv = srv
        self.r = reader
        self.w = writer
        self.cid = cid

    def log(self, msg):
        print("conn %d: %s" % (self.cid, msg), file=sys.stderr, flush=True)

    async def write(self, data):
        self.w.write(data)
        await self.w.drain()

    async def tls(self, cert, key):
        # asyncio hands start_tls only what it has not read yet: a ClientHello
        # that came in while this task slept (e.g. a sleep after the 220)
        # sits in the plaintext buffer and the handshake stalls. So a TLS
        # step must follow the send of the 220 with no pause in between.
        if self.r._buffer:                   # noqa: SLF001 - no public way to ask
            self.log("warning: %d bytes read before TLS started; the handshake will fail"
                     % len(self.r._buffer))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self.srv.tls_max == "1.2":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cert, key)
        await self.w.start_tls(ctx)

    async def run(self):
        try:
            for step, arg in self.srv.steps:
                self.log("%s %s" % (step, arg[:60]))
                if not await self.step(step, arg):
                    return
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError, OSError) as e:
            self.log("ended: %s" % (e.__class__.__name__ + ": " + str(e))[:200])
        finally:
            if not self.w.is_closing():
                try:
                    self.w.close()
                except Exception:           # noqa: BLE001 - closing, whatever
                    pass

    async def step(self, step, arg):
        """Runs one step; False ends the connection."""
        if step == "send":
            await self.write(unescape(arg))
        elif step == "sendraw-hex":
            await self.write(bytes.fromhex(arg.replace(" ", "")))
        elif step == "expect":
            try:
                line = await self.r.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                self.log("command line too long")
                return False
            except asyncio.IncompleteReadError as e:
                self.log("client closed (partial %r)" % e.partial[:80])
                return False
            self.log("got %r" % line[:120])
            want = unescape(arg).decode("latin-1").upper()
            if not line.decode("latin-1").upper().startswith(want):
                self.log("expected %r: closing" % arg)
                return False
        elif step == "readraw":
            data = await self.r.read(65536)
            self.log("read %d raw bytes" % len(data))
            if not data:
                return False
        elif step == "sleep":
            await asyncio.sleep(float(arg))
        elif step == "drip":
            text, _, interval = arg.rpartition(" ")
            data = unescape(text)
            for i, b in enumerate(data):
                await self.write(bytes([b]))
                if i + 1 < len(data):      # no pause after the last byte: see tls()
                    await asyncio.sleep(float(interval))
        elif step == "drip-forever":
            parts = arg.split(" ", 1)
            interval = float(parts[0]) if parts[0] else 0.05
            text = unescape(parts[1]) if len(parts) > 1 else b"220-drip\r\n"
            i = 0
            while True:
                await self.write(text[i % len(text):i % len(text) + 1])
                i += 1
                await asyncio.sleep(interval)
        elif step == "flood":
            left = int(arg)
            await self.write(b"220 ")
            chunk = b"A" * 65536
            while left > 0:
                await self.write(chunk[:left])
                left -= min(left, len(chunk))
        elif step == "lines":
            n, code = arg.split()
            n = int(n)
            buf = bytearray()
            for i in range(n - 1):
                buf += b"%s-line %d\r\n" % (code.encode(), i)
                if len(buf) > 65536:
                    await self.write(bytes(buf))
                    buf.clear()
            buf += b"%s end\r\n" % code.encode()
            await self.write(bytes(buf))
        elif step == "close":
            return False
        elif step == "reset":
            sock = self.w.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.w.transport.abort()
            return False
        elif step == "starttls":
            await self.tls(self.srv.cert, self.srv.key)
        elif step == "tls-garbage":
            data = await self.r.read(65536)
            self.log("read %d raw bytes" % len(data))
            await self.write(b"this is not a TLS ServerHello\r\n" * 4)
        elif step == "tls-alert":
            data = await self.r.read(65536)
            self.log("read %d raw bytes" % len(data))
            await self.write(bytes.fromhex("15030300020228"))   # fatal handshake_failure
            return False
        elif step == "chain":
            await self.tls(self.srv.certfile("chain%d.pem" % int(arg)),
                           self.srv.certfile("leaf.key"))
        elif step == "chain-unlinked":
            await self.tls(self.srv.certfile("unlinked%d.pem" % int(arg)),
                           self.srv.certfile("leaf.key"))
        elif step == "tls-cert":
            parts = arg.split()
            await self.tls(self.srv.certfile(parts[0]),
                           self.srv.certfile(parts[1] if len(parts) > 1 else "leaf.key"))
        elif step == "bigsubject":
            await self.tls(self.srv.certfile("bigsubject.pem"), self.srv.certfile("leaf.key"))
        elif step == "stall":
            # Wait for the client to go (EOF) rather than forever blind.
            while await self.r.read(4096):
                pass
            return False
        return True


class Server:
    def __init__(self, args):
        self.steps = parse_scenario(args.scenario)
        self.cert = args.cert
        self.key = args.key
        self.certdir = args.certdir
        self.tls_max = args.tls_max
        self.nconn = 0
        self.tasks = set()

    def certfile(self, name):
        if not self.certdir:
            raise OSError("the scenario needs --certdir (made by --make-certs)")
        return os.path.join(self.certdir, name)

    async def handle(self, reader, writer):
        self.nconn += 1
        c = Conn(self, reader, writer, self.nconn)
        c.log("connected from %s" % (writer.get_extra_info("peername"),))
        task = asyncio.current_task()
        self.tasks.add(task)
        try:
            await c.run()
        finally:
            self.tasks.discard(task)


async def serve(args):
    srv = Server(args)
    server = await asyncio.start_server(srv.handle, args.host, args.port, limit=MAX_CMD,
                                        reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    print("listening %s %d" % (args.host, port), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await asyncio.wait_for(stop.wait(), timeout=args.lifetime)
    except asyncio.TimeoutError:
        print("lifetime of %gs over" % args.lifetime, file=sys.stderr, flush=True)
    server.close()
    for t in list(srv.tasks):
        t.cancel()
    await asyncio.sleep(0)


def main():
    ap = argparse.ArgumentParser(description="scriptable fault-injecting fake SMTP server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--scenario")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--certdir")
    ap.add_argument("--tls-max", choices=("1.2", "1.3"), default="1.3",
                    help="highest TLS version the TLS steps offer")
    ap.add_argument("--lifetime", type=float, default=60.0)
    ap.add_argument("--make-certs", metavar="DIR")
    args = ap.parse_args()
    if args.make_certs:
        make_certs(args.make_certs)
        return
    if not args.scenario:
        ap.error("--scenario is required")
    if args.host not in ("127.0.0.1", "::1", "localhost") and not re.match(r"^127\.", args.host):
        ap.error("loopback addresses only")
    if args.certdir and not args.cert:
        args.cert = os.path.join(args.certdir, "leaf.chain.pem")
        args.key = os.path.join(args.certdir, "leaf.key")
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

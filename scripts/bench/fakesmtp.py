#!/usr/bin/python3
"""Fast fake SMTP server with STARTTLS, for batch throughput of the client.

    fakesmtp.py --port P --cert CHAIN --key KEY [--workers N] [--pidfile F]

Listens on 0.0.0.0:P (inside the benchmark's network namespace only, so every
127.x.y.z address reaches it) with N processes sharing the port through
SO_REUSEPORT. Speaks just enough SMTP for a capability probe: greeting, EHLO
(HELO), STARTTLS, EHLO again, NOOP, RSET, QUIT. The subject of the batch
benchmark is the client, so this server does nothing else.
"""
import argparse
import asyncio
import os
import signal
import socket
import ssl
import sys

GREETING = b"220 mx1.test ESMTP fake (smtp-probe bench)\r\n"
EHLO = (b"250-mx1.test\r\n250-PIPELINING\r\n250-SIZE 104857600\r\n"
        b"250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n")


async def session(reader, writer, ctx):
    tls = False
    writer.write(GREETING)
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line[:4].upper()
            if cmd in (b"EHLO", b"HELO"):
                writer.write(EHLO + (b"250 SMTPUTF8\r\n" if tls else b"250-STARTTLS\r\n250 SMTPUTF8\r\n"))
            elif line[:8].upper() == b"STARTTLS" and not tls:
                writer.write(b"220 2.0.0 Ready to start TLS\r\n")
                await writer.drain()
                await writer.start_tls(ctx)
                tls = True
                continue
            elif cmd == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                await writer.drain()
                break
            elif cmd in (b"NOOP", b"RSET"):
                writer.write(b"250 2.0.0 Ok\r\n")
            else:
                writer.write(b"502 5.5.2 Error: command not recognized\r\n")
            await writer.drain()
    except (ConnectionError, OSError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def serve(sock, ctx):
    # backlog: asyncio listens on the socket again, by default with 100;
    # at -c 1000 that queue overflowed and some clients waited 30 s for a
    # greeting the server never sent (it had not accepted them).
    server = await asyncio.start_server(lambda r, w: session(r, w, ctx), sock=sock,
                                        backlog=4096)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    kids = []
    for _ in range(a.workers):
        pid = os.fork()
        if pid == 0:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(("0.0.0.0", a.port))
            s.listen(4096)
            try:
                asyncio.run(serve(s, ctx))
            finally:
                os._exit(0)
        kids.append(pid)
    if a.pidfile:
        with open(a.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())

    def stop(*_):
        for k in kids:
            try:
                os.kill(k, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for k in kids:
        while True:
            try:
                os.waitpid(k, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                break
    sys.exit(0)


if __name__ == "__main__":
    main()

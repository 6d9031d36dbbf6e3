#!/usr/bin/python3
"""An SMTP server with a size policy Postfix cannot be configured into, for
the --size-check tests (cleartext, never accepts mail: DATA is refused).

  size_server.py --mode lax|bare|nosize|auth|tight [--limit N] [--enforce M]
                 [--no-pipelining]

  lax     advertises SIZE N but accepts any SIZE= at MAIL (the limit, if
          any, would be applied after DATA)
  bare    advertises SIZE without a number and refuses SIZE= above N with
          552 5.3.4 at MAIL: the limit can only be found by bisection
  nosize  advertises no SIZE and refuses the parameter (555 5.5.4)
  auth    advertises SIZE N and answers every MAIL with 530 5.7.0 (log in
          first), as a submission server does before AUTH
  tight   advertises SIZE N but refuses SIZE= above --enforce M (< N) with
          552 5.3.4: the advertised limit is a lie

Listens on 127.0.0.1, port chosen by the kernel, and prints "listening HOST
PORT" first. Every command it reads goes to stderr."""
import argparse
import asyncio
import re
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", required=True, choices=["lax", "bare", "nosize", "auth", "tight"])
    ap.add_argument("--limit", type=int, default=10000000)
    ap.add_argument("--enforce", type=int, default=0)
    ap.add_argument("--no-pipelining", action="store_true")
    a = ap.parse_args()

    async def session(reader, writer):
        def out(s):
            writer.write(s.encode())
        out("220 size.test ESMTP size policy server\r\n")
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.decode("ascii", "replace").strip()
            print(cmd, file=sys.stderr, flush=True)
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                ext = [] if a.no_pipelining else ["PIPELINING"]
                if a.mode in ("lax", "auth", "tight"):
                    ext.append("SIZE %d" % a.limit)
                elif a.mode == "bare":
                    ext.append("SIZE")
                ext.append("8BITMIME")
                out("250-size.test\r\n" + "".join(
                    ("250 " if i == len(ext) - 1 else "250-") + e + "\r\n"
                    for i, e in enumerate(ext)))
            elif verb == "MAIL":
                m = re.search(r"SIZE=(\d+)", cmd, re.I)
                if a.mode == "auth":
                    out("530 5.7.0 Authentication required\r\n")
                elif m and a.mode == "nosize":
                    out("555 5.5.4 Unsupported option: SIZE\r\n")
                elif m and a.mode == "tight" and int(m.group(1)) > a.enforce:
                    out("552 5.3.4 Message size exceeds fixed limit\r\n")
                elif m and a.mode == "bare" and int(m.group(1)) > a.limit:
                    out("552 5.3.4 Message size exceeds fixed limit\r\n")
                else:
                    out("250 2.1.0 Ok\r\n")
            elif verb == "RSET":
                out("250 2.0.0 Ok\r\n")
            elif verb == "QUIT":
                out("221 2.0.0 Bye\r\n")
                await writer.drain()
                break
            else:
                out("502 5.5.2 Error: command not recognized\r\n")
            await writer.drain()
        writer.close()

    async def serve():
        srv = await asyncio.start_server(session, "127.0.0.1", 0)
        port = srv.sockets[0].getsockname()[1]
        print("listening 127.0.0.1 %d" % port, flush=True)
        async with srv:
            await srv.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

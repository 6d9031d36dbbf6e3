#!/usr/bin/python3
"""A STARTTLS server that tells what the client did in the handshake, for
the connection-control tests (--no-sni, --client-cert, --bind): Postfix
logs none of it. Python's ssl (OpenSSL) on the server side. It never
accepts mail.

  tls_server.py --cert CHAIN --key KEY [--client-ca CA]

With --client-ca it requires a client certificate issued by CA (the
handshake fails without one). For every connection it writes one line to
stderr: "peer=ADDR sni=NAME|- client=CN|-". Listens on 127.0.0.1, port
chosen by the kernel, and prints "listening HOST PORT" first."""
import argparse
import socket
import ssl
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--client-ca")
    a = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(a.client_ca)
    seen = {}

    def on_sni(sock, name, _ctx):
        seen[id(sock)] = name

    ctx.sni_callback = on_sni

    def serve(conn, peer):
        f = conn.makefile("rb")
        try:
            conn.sendall(b"220 tls.test ESMTP handshake reporter\r\n")
            tls = None
            while True:
                line = (tls.makefile("rb") if tls else f).readline()
                if not line:
                    break
                verb = line.split(b" ", 1)[0].strip().upper()
                out = tls or conn
                if verb == b"EHLO":
                    out.sendall(b"250-tls.test\r\n" + (b"" if tls else b"250-STARTTLS\r\n") +
                                b"250 8BITMIME\r\n")
                elif verb == b"STARTTLS" and tls is None:
                    conn.sendall(b"220 2.0.0 go ahead\r\n")
                    try:
                        tls = ctx.wrap_socket(conn, server_side=True)
                    except (ssl.SSLError, OSError) as e:
                        print("peer=%s handshake-failed %s" % (peer[0], e), file=sys.stderr,
                              flush=True)
                        return
                    cert = tls.getpeercert() or {}
                    cn = "-"
                    for rdn in cert.get("subject", ()):
                        for k, v in rdn:
                            if k == "commonName":
                                cn = v
                    print("peer=%s sni=%s client=%s" % (peer[0], seen.get(id(tls)) or "-", cn),
                          file=sys.stderr, flush=True)
                elif verb == b"QUIT":
                    out.sendall(b"221 2.0.0 bye\r\n")
                    break
                else:
                    out.sendall(b"502 5.5.2 not here\r\n")
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print("listening 127.0.0.1 %d" % srv.getsockname()[1], flush=True)
    try:
        while True:
            c, peer = srv.accept()
            threading.Thread(target=serve, args=(c, peer), daemon=True).start()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""An SMTP server speaking SCRAM-SHA-256 (RFC 5802, RFC 7677) for the --auth
tests: aiosmtpd (Debian's python3-aiosmtpd) with STARTTLS and a SCRAM
mechanism written here from the RFC, since neither the suite's Postfix nor
aiosmtpd offers SCRAM out of the box. It never accepts mail.

  scram_server.py --cert CHAIN --key KEY --user U --password P [--forge]

Listens on 127.0.0.1, port chosen by the kernel, and prints "listening HOST
PORT" first. --forge sends a wrong server signature (an impostor that does
not know the password), which the client must refuse. --no-proof skips the
server's signature: "late" answers 235 right after the client's proof
without v=, "at-once" answers 235 to AUTH itself; neither may count as a
login.
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import MISSING, SMTP, AuthResult


def b64(b):
    return base64.b64encode(b).decode()


def h(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class Handler:
    def __init__(self, user, password, forge, no_proof=None):
        self.user, self.password, self.forge = user, password, forge
        self.no_proof = no_proof

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.7.1 test server: no mail is accepted"

    async def auth_SCRAM__SHA__256(self, server, args):
        if self.no_proof == "at-once":
            return AuthResult(success=True)
        if len(args) == 2:
            first = base64.b64decode(args[1]).decode()
        else:
            got = await server.challenge_auth("")
            if got is MISSING:
                return AuthResult(success=False, handled=False)
            first = got.decode()
        if not first.startswith("n,,"):
            return AuthResult(success=False, handled=False)
        bare = first[3:]
        attrs = dict(kv.split("=", 1) for kv in bare.split(","))
        salt, iters = os.urandom(16), 4096
        nonce = attrs.get("r", "") + b64(os.urandom(12))
        sfirst = "r=%s,s=%s,i=%d" % (nonce, b64(salt), iters)
        got = await server.challenge_auth(sfirst)
        if got is MISSING:
            return AuthResult(success=False, handled=False)
        final = got.decode()
        without, _, proof = final.rpartition(",p=")
        authmsg = "%s,%s,%s" % (bare, sfirst, without)
        salted = hashlib.pbkdf2_hmac("sha256", self.password.encode(), salt, iters)
        ckey = h(salted, "Client Key")
        csig = h(hashlib.sha256(ckey).digest(), authmsg)
        want = bytes(a ^ b for a, b in zip(ckey, csig))
        if (attrs.get("n") != self.user or without != "c=biws,r=" + nonce or
                base64.b64decode(proof) != want):
            return AuthResult(success=False, handled=False)
        if self.no_proof == "late":
            return AuthResult(success=True)
        ssig = h(h(salted, "Server Key"), authmsg)
        if self.forge:
            ssig = bytes(b ^ 0xFF for b in ssig)
        got = await server.challenge_auth("v=" + b64(ssig))
        if got is MISSING or got != b"":
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--forge", action="store_true")
    ap.add_argument("--no-proof", choices=["late", "at-once"])
    ap.add_argument("--lifetime", type=float, default=120)
    a = ap.parse_args()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(a.cert, a.key)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler(a.user, a.password, a.forge, a.no_proof)

    def factory():
        # The mechanism list is the handler's SCRAM only: no PLAIN to fall to.
        return SMTP(handler, hostname="mx1.test", tls_context=tls, auth_require_tls=True,
                    auth_exclude_mechanism=["PLAIN", "LOGIN"], timeout=30, loop=loop)

    server = loop.run_until_complete(loop.create_server(factory, host="127.0.0.1", port=0))
    print("listening 127.0.0.1 %d" % server.sockets[0].getsockname()[1], flush=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    loop.call_later(a.lifetime, lambda: stop.done() or stop.set_result(None))
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
    return 0


if __name__ == "__main__":
    sys.exit(main())

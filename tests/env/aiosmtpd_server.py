#!/usr/bin/python3
"""A second real SMTP implementation for the integration tests: aiosmtpd
(Debian's python3-aiosmtpd) with STARTTLS, AUTH PLAIN/LOGIN offered only after
TLS, and a SIZE different from Postfix's. It never accepts mail: RCPT and DATA
are refused, so nothing can ever be delivered through it.

  aiosmtpd_server.py --host 127.0.0.1 --port 10125 --cert CHAIN --key KEY \
      --user probe@test --password-file FILE --pidfile FILE [--size N]

The pidfile is written only once the socket listens, so its existence means
"ready"; start.sh waits for it.
"""
import argparse
import asyncio
import hmac
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class RefuseAll:
    """Accept the envelope sender (so --from can be tested) but refuse every
    recipient and any content."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.7.1 test server: no mail is accepted"

    async def handle_DATA(self, server, session, envelope):
        return "554 5.7.1 test server: no mail is accepted"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", None) or b""
        password = getattr(auth_data, "password", None) or b""
        ok = hmac.compare_digest(login, self.user) and hmac.compare_digest(password, self.password)
        return AuthResult(success=ok, handled=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=10125)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--user", default="probe@test")
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--pidfile", required=True)
    ap.add_argument("--size", type=int, default=10485760)
    ap.add_argument("--hostname", default="mx1.test")
    a = ap.parse_args()

    with open(a.password_file) as f:
        password = f.read().strip()

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(a.cert, a.key)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    auth = Authenticator(a.user, password)
    handler = RefuseAll()

    def factory():
        return SMTP(handler, hostname=a.hostname, tls_context=tls,
                    require_starttls=False, auth_require_tls=True,
                    authenticator=auth, data_size_limit=a.size,
                    timeout=30, loop=loop)

    server = loop.run_until_complete(loop.create_server(factory, host=a.host, port=a.port))
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    tmp = a.pidfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(tmp, a.pidfile)
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        try:
            os.unlink(a.pidfile)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

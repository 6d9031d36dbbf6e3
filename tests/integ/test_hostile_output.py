#!/usr/bin/python3
"""No raw control, C1 or bidi character from the network reaches any output.

A hostile world puts ESC, CR, BS, BEL, NUL, C1 CSI (U+009B), RLO (U+202E)
and an isolate (U+2066) into every field it controls:
- two SMTP servers (tests/fake/fakesmtp.py scenarios) on 127.0.0.1 and
  127.0.0.2: the greeting, EHLO lines and keywords, AUTH parameters (two
  different AUTH lists, so --mx reports mx-inconsistent quoting them), the
  STARTTLS and QUIT replies;
- a certificate made here with openssl whose subject, issuer and DNS SAN
  carry the bytes (patched into the DER after a placeholder, then signed
  again), with a NUL in the middle of the organisation;
- DNS (a fake responder): the TLS-RPT TXT record;
- an MTA-STS HTTPS server answering, per domain, a policy whose mode is
  hostile, a hostile Content-Type, and a redirect with a hostile Location.
Every output format is driven: text, -v, --explain, JSON, HTML, Nagios,
Prometheus, the exporter's /probe, and --mx text, JSON, --explain and HTML. Each
check first asserts that the hostile text arrived (in its escaped form),
then that the raw output holds no C0 control but newline, no DEL, no C1
control, no bidi mark, override or isolate, and is valid UTF-8."""
import http.client
import os
import re
import select
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import PROBE, check, finish, load_env  # noqa: E402
from test_dane import FakeDNS  # noqa: E402

from dnslib import A, MX, TXT  # noqa: E402

ENV = load_env()
PY = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKESMTP = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")

# The payload: ESC [2J (clear screen), CR, BS, BEL, NUL, C1 CSI, RLO, LRI.
RAW = b"\x1b[2J\r\x08\x07\x00\xc2\x9b\xe2\x80\xae\xe2\x81\xa6"
SCN = r"\x1b[2J\r\x08\x07\0\xc2\x9b\xe2\x80\xae\xe2\x81\xa6"   # fakesmtp escapes
HEADER_SAFE = b"\x1b[2J\x08\x07\xc2\x9b\xe2\x80\xae\xe2\x81\xa6"  # no CR/NUL in a header

SCENARIO = """\
send 220 mx{h}.evil ESMTP hostile{h}\\r\\n
expect EHLO
send 250-mx{h}.evil greets you{h}\\r\\n250-AUTH PLAIN {auth}{h}\\r\\n250-X-{h} param{h}\\r\\n250-SIZE 1000000\\r\\n250 STARTTLS\\r\\n
expect STARTTLS
send 220 go ahead{h}\\r\\n
tls-cert hostile.pem hostile.key
expect EHLO
send 250-mx{h}.evil again{h}\\r\\n250-AUTH PLAIN {auth}{h}\\r\\n250 SIZE 1000000\\r\\n
expect QUIT
send 221 bye{h}\\r\\n
"""

# What may never appear raw: C0 but LF, DEL, C1, bidi and separators.
UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f\x80-\x9f\u061c\u200e\u200f\u202a-\u202e"
                    "\u2066-\u2069\u2028\u2029\ufeff]")


def clean(name, raw, want):
    """raw output bytes: the escaped hostile text is there (each of want),
    then nothing unsafe is."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    text = raw.decode("utf-8", "replace")
    missing = [w for w in want if w not in text]
    check(name + ": hostile text arrived, escaped", raw and not missing,
          "missing %r in %r" % (missing, text[:400]))
    try:
        raw.decode("utf-8")
        check(name + ": valid UTF-8", True)
    except UnicodeDecodeError as e:
        check(name + ": valid UTF-8", False, "%s near %r" % (e, raw[max(0, e.start - 20):e.end + 20]))
    bad = sorted({"U+%04X" % ord(m.group()) for m in UNSAFE.finditer(text)})
    check(name + ": no raw control, C1 or bidi character", not bad, bad)


def make_cert(tmp):
    """Self-signed, subject = issuer = O=Trusted Bank Inc<payload>, OU=x,
    CN=attacker.evil.test<payload>, DNS SAN mx<controls>.evil.test."""
    key, pem, der = (os.path.join(tmp, n) for n in ("hostile.key", "c.pem", "c.der"))
    ph_u = b"U" * len(RAW)                      # placeholders as long as the payloads
    ctl = b"\x1b[2J\r\x08\x07\x00"              # IA5String (the SAN) is 7-bit
    ph_a = b"Z" * len(ctl)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-sha256", "-days", "30",
                    "-keyout", key, "-out", pem,
                    "-subj", "/O=Trusted Bank Inc%s, OU=x/CN=attacker.evil.test%s" %
                    (ph_u.decode(), ph_u.decode()),
                    "-addext", "subjectAltName=DNS:mx%s.evil.test" % ph_a.decode()],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-in", pem, "-outform", "DER", "-out", der],
                   check=True, capture_output=True)
    with open(der, "rb") as f:
        d = f.read()
    d = d.replace(ph_u, RAW).replace(ph_a, ctl)
    with open(der, "wb") as f:
        f.write(d)
    subprocess.run(["openssl", "x509", "-inform", "DER", "-in", der, "-signkey", key,
                    "-out", os.path.join(tmp, "hostile.pem")], check=True, capture_output=True)


def https_server(tmp):
    """MTA-STS policy server speaking raw bytes: per Host, a hostile mode,
    a hostile Content-Type, or a redirect to a hostile Location."""
    certs = os.path.dirname(ENV["ca"])
    key, csr, crt, ext = (os.path.join(tmp, n) for n in ("sk.pem", "s.csr", "s.pem", "ext"))
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:mta-sts.hmode.test,DNS:mta-sts.hctype.test,"
                "DNS:mta-sts.hredir.test\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=mta-sts.hmode.test"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ENV["ca"], "-CAkey",
                    os.path.join(certs, "ca.key"), "-CAcreateserial", "-CAserial",
                    os.path.join(tmp, "serial"), "-days", "2", "-sha256", "-extfile", ext,
                    "-out", crt], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    stop = threading.Event()

    def serve(c):
        try:
            s = ctx.wrap_socket(c, server_side=True)
            s.settimeout(5)
            req = b""
            while b"\r\n\r\n" not in req and len(req) < 8192:
                chunk = s.recv(4096)
                if not chunk:
                    return
                req += chunk
            host = re.search(rb"(?i)\r\nhost: *([^\r:]+)", req)
            host = host.group(1).decode() if host else ""
            policy = b"version: STSv1\r\nmode: enforce\r\nmx: *.hostile.test\r\nmax_age: 86400\r\n"
            ctype = b"text/plain"
            status = b"200 OK"
            extra = b""
            if host.startswith("mta-sts.hmode."):
                policy = (b"version: STSv1\r\nmode: " + HEADER_SAFE + b"\r\nmx: *.hostile.test"
                          b"\r\nmax_age: 86400\r\n")
            elif host.startswith("mta-sts.hctype."):
                ctype = b"text/html" + HEADER_SAFE
            elif host.startswith("mta-sts.hredir."):
                status = b"301 Moved"
                extra = b"Location: https://evil.test/" + HEADER_SAFE + b"\r\n"
                policy = b""
            s.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype + b"\r\n" + extra +
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(policy) + policy)
            s.close()
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()

    def accept():
        ls.settimeout(0.5)
        while not stop.is_set():
            try:
                c, _ = ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return ls.getsockname()[1], lambda: (stop.set(), ls.close())


def run(args, env=None, timeout=30):
    e = dict(os.environ)
    e.update(env or {})
    try:
        p = subprocess.run([PROBE] + args, capture_output=True, timeout=timeout, env=e)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        return None, b"", b"timed out"


def exporter_probe(target, cafile):
    ex = subprocess.Popen([PROBE, "--serve", "127.0.0.1:0", "--serve-allow", "127.0.0.1:*",
                           "--cafile", cafile, "--timeout", "5"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    try:
        buf = b""
        port = None
        deadline = time.monotonic() + 10
        while port is None and time.monotonic() < deadline:
            r, _, _ = select.select([ex.stderr], [], [], 0.5)
            if r:
                chunk = os.read(ex.stderr.fileno(), 4096)
                if not chunk:
                    break
                buf += chunk
                m = re.search(rb"listening on http://[^/]+:(\d+)/", buf)
                port = int(m.group(1)) if m else None
        if port is None:
            return None, buf
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        c.request("GET", "/probe?" + urllib.parse.urlencode({"target": target}))
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, str(e).encode()
    finally:
        ex.send_signal(signal.SIGTERM)
        try:
            ex.wait(10)
        except subprocess.TimeoutExpired:
            ex.kill()
            ex.wait()


def main():
    tmp = tempfile.mkdtemp(prefix="sp-hostile-")
    servers = []
    stop_https = None
    fake = None
    try:
        make_cert(tmp)
        for i, auth in ((1, "LOGIN"), (2, "CRAM-MD5")):
            scn = os.path.join(tmp, "s%d.scn" % i)
            with open(scn, "w") as f:
                f.write(SCENARIO.format(h=SCN, auth=auth))
            port = servers[0].port if servers else 0
            s = Helper([PY, FAKESMTP, "--host", "127.0.0.%d" % i, "--port", str(port),
                        "--scenario", scn, "--certdir", tmp, "--lifetime", "240"])
            servers.append(s)
            if not check("servers: fakesmtp %d started" % i, s.port, s.stderr()[-300:]):
                return
        port = servers[0].port
        hport, stop_https = https_server(tmp)
        recs = {("mx1.hostile.test", "A"): [A("127.0.0.1")],
                ("mx2.hostile.test", "A"): [A("127.0.0.2")]}
        for d in ("hmode", "hctype", "hredir"):
            recs[("%s.test" % d, "MX")] = [MX("mx1.hostile.test", 10), MX("mx2.hostile.test", 20)]
            recs[("mta-sts.%s.test" % d, "A")] = [A("127.0.0.1")]
            recs[("_mta-sts.%s.test" % d, "TXT")] = [TXT(b"v=STSv1; id=h1")]
            recs[("_smtp._tls.%s.test" % d, "TXT")] = [
                TXT(b"v=TLSRPTv1; rua=mailto:r" + HEADER_SAFE + b"@x.test")]
        fake = FakeDNS(recs).start()
        target = "127.0.0.1:%d" % port
        base = ["--timeout", "5", "--servername", "mx1.hostile.test"]

        # Text: the escaped forms a reader sees.
        T = ["\\x1B[2J", "\\x0D", "\\x08", "\\x07", "\\u009B", "\\u202E", "\\u2066"]
        rc, out, err = run(base + [target])
        clean("text", out + err, T + ["CN=attacker.evil.test"])
        joined = re.sub(r"\n +", " ", out.decode("utf-8", "replace"))
        check("text: the whole subject, the NUL escaped (not cut there)",
              "#0 O=Trusted Bank Inc\\1B[2J\\0D\\08\\07\\00\\u009B\\u202E\\u2066\\, "
              "OU\\=x, CN=attacker.evil.test" in joined, joined[:3000])
        check("text: the whole DNS SAN, the NUL escaped",
              "DNS:mx\\x1B[2J\\x0D\\x08\\x07\\00.evil.test" in joined, joined[:3000])
        rc, out, err = run(base + ["-v", target])
        clean("text -v", out + err, T)
        rc, out, err = run(base + ["--explain", target])
        clean("explain", out + err, T)
        rc, out, err = run(base + ["--color", "always", target])
        clean("text --color always (our ESC only)", re.sub(rb"\x1b\[[0-9;]*m", b"", out) + err, T)
        rc, out, err = run(base + ["-o", "html", target])
        clean("html", out + err, ["\\x1B[2J", "\\u202E", "\\u009B"])
        rc, out, err = run(base + ["-o", "nagios", target])
        clean("nagios", out + err, ["\\x1B[2J"])
        rc, out, err = run(base + ["-o", "prometheus", target])
        clean("prometheus", out + err, ["\\\\x1B[2J", "\\\\u202E", "\\\\u009B"])
        J = ["\\u001b[2J", "\\r", "\\u0008", "\\u0007", "\\u009b", "\\u202e", "\\u2066"]
        rc, out, err = run(base + ["-o", "json", target])
        clean("json", out + err, J)
        rc, out, err = run(base + ["-o", "json", "-v", target])
        clean("json -v", out + err, J)
        st, body = exporter_probe(target, ENV["ca"])
        check("exporter: /probe answered", st == 200, "status=%s %r" % (st, body[:300]))
        clean("exporter /probe", body, ["\\\\x1B[2J", "\\\\u202E"])

        # --mx with MTA-STS from the hostile policy server.
        menv = {"SMTP_PROBE_MTASTS_PORT": str(hport)}
        mx = ["--mx", "--mta-sts", "-p", str(port), "--cafile", ENV["ca"], "--timeout", "5",
              "-4", "--resolver", "127.0.0.1:%d" % fake.port]
        for dom, what in (("hmode", "mode"), ("hctype", "Content-Type"), ("hredir", "Location")):
            rc, out, err = run(mx + [dom + ".test"], env=menv, timeout=60)
            txt = out.decode("utf-8", "replace")
            clean("mx text %s" % dom, out + err, ["\\x1B[2J", "\\u202E"])
            check("mx text %s: mx-inconsistent quotes the AUTH lists" % dom,
                  "mx-inconsistent" in txt and "LOGIN\\x1B[2J" in txt, txt[-1500:])
            sts = txt[txt.find("\nMTA-STS\n"):txt.find("\nTLS-RPT\n")]
            check("mx text %s: the MTA-STS %s is quoted, escaped" % (dom, what),
                  "\\x1B[2" in sts and "\\u202E" in sts and "\\x08\\x07" in sts, sts)
            rc, out, err = run(mx + ["-o", "json", dom + ".test"], env=menv, timeout=60)
            clean("mx json %s" % dom, out + err, ["\\u001b[2J", "\\u202e"])
            rc, out, err = run(mx + ["--explain", dom + ".test"], env=menv, timeout=60)
            clean("mx explain %s" % dom, out + err, ["\\x1B[2J", "\\u202E"])
            rc, out, err = run(mx + ["-o", "html", dom + ".test"], env=menv, timeout=60)
            clean("mx html %s" % dom, out + err, ["\\x1B[2", "\\u202E"])
    finally:
        if stop_https:
            stop_https()
        if fake:
            fake.stop()
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Connection controls swaks and s_client users reach for (issue 12 part 5):
--tls-version against the suite's Postfix; --bind, --no-sni and the client
certificate against tls_server.py, which reports what the client did in the
handshake (peer address, SNI, client certificate) since Postfix logs none
of it; --proxy through microsocks (Debian's SOCKS5 server) to Postfix,
including the proxy's refusals. Every check reads what a user reads: exit
code, JSON fields, the text report, and the server's own account."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import check, finding, finish, free_port, load_env, probe_json, run_probe  # noqa: E402
import schema_check  # noqa: E402

ENV = load_env()
P = ENV["ports"]
CERTS = os.path.dirname(ENV["ca"])
HERE = os.path.dirname(os.path.abspath(__file__))
TLS = ["--cafile", ENV["ca"], "--servername", "mx1.test", "--timeout", "5"]
PF = "127.0.0.1:%d" % P["starttls"]


def client_cert(tmp):
    """A client certificate (clientAuth) from the suite's test CA."""
    key, csr, pem, ext = (os.path.join(tmp, n) for n in ("c.key", "c.csr", "c.pem", "ext"))
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\n")
    for argv in (["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key],
                 ["openssl", "req", "-new", "-key", key, "-subj", "/CN=probe-client",
                  "-out", csr],
                 ["openssl", "x509", "-req", "-in", csr, "-CA", ENV["ca"], "-CAkey",
                  os.path.join(CERTS, "ca.key"), "-CAcreateserial", "-CAserial",
                  os.path.join(tmp, "ca.srl"), "-days", "2", "-extfile", ext, "-out", pem]):
        subprocess.run(argv, check=True, capture_output=True)
    return pem, key


def tls_server(*extra):
    return Helper([sys.executable, os.path.join(HERE, "tls_server.py"), "--cert",
                   ENV["certs"]["valid"]["chain"], "--key", ENV["certs"]["valid"]["key"]]
                  + list(extra))


def server_lines(srv, n=1, timeout=3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = [l for l in srv.stderr().splitlines() if l.startswith("peer=")]
        if len(lines) >= n:
            return lines
        time.sleep(0.05)
    return [l for l in srv.stderr().splitlines() if l.startswith("peer=")]


def test_tls_version():
    for v, want in (("1.2", "TLSv1.2"), ("1.3", "TLSv1.3")):
        rc, doc, _, _ = probe_json("tls-version " + v, TLS + ["--tls-version", v, PF])
        check("--tls-version %s: negotiated %s" % (v, want), rc == 0 and
              (doc.get("tls") or {}).get("version") == want, (rc, doc.get("tls", {}).get("version")))
    rc, _, out, err = run_probe(["--tls-version", "1.1", PF])
    check("--tls-version 1.1: refused with a reason", rc == 3 and "1.2 or 1.3" in err, (rc, err))


def test_bind_sni_client_cert(tmp):
    srv = tls_server()
    try:
        target = "127.0.0.1:%d" % srv.port
        rc, doc, _, _ = probe_json("bind", TLS + ["--bind", "127.0.0.2", target])
        seen = server_lines(srv, 1)
        check("--bind: the server saw the source address",
              seen and seen[-1].startswith("peer=127.0.0.2 "), seen)
        check("--bind: JSON source_address", doc.get("source_address") == "127.0.0.2",
              doc.get("source_address"))
        check("--bind: schema-valid", not schema_check.errors(doc), schema_check.errors(doc)[:3])
        check("sni: sent by default", seen and " sni=mx1.test " in seen[-1], seen)
        rc, doc, _, _ = probe_json("no-sni", TLS + ["--no-sni", "-v", target])
        seen = server_lines(srv, 2)
        check("--no-sni: the server saw no SNI", len(seen) >= 2 and " sni=- " in seen[-1], seen)
        check("--no-sni: the name is still verified",
              ((doc.get("tls") or {}).get("verify") or {}).get("hostname_match") is True and rc == 0,
              (rc, (doc.get("tls") or {}).get("verify")))
        check("--no-sni: the transcript says so", any(
            "no SNI; verifying mx1.test" in t.get("line", "") for t in doc.get("transcript") or []),
            [t.get("line") for t in doc.get("transcript") or [] if "handshake" in t.get("line", "")])
        rc, _, out, err = run_probe(TLS + ["--bind", "::1", target])
        check("--bind of the other family: not tried, and why", rc == 2 and
              "--bind gives an IPv6 source: cannot reach an IPv4 address" in out, (rc, out[-400:]))
        rc, _, out, err = run_probe(TLS + ["--bind", "192.0.2.77", target])
        check("--bind to an address this machine lacks: the reason", rc == 2 and
              "cannot use the --bind address" in out, (rc, out[-400:]))
        rc, _, out, err = run_probe(["--bind", "mx1.test", target])
        check("--bind with a name: refused", rc == 3 and "--bind" in err, (rc, err))
    finally:
        srv.stop()

    pem, key = client_cert(tmp)
    srv = tls_server("--client-ca", ENV["ca"])
    try:
        target = "127.0.0.1:%d" % srv.port
        rc, doc, _, _ = probe_json("no client cert", TLS + ["--tls-version", "1.2", target])
        f = finding(doc, "tls-client-cert-requested")
        check("no client cert (TLS 1.2): critical, the request named", rc == 2 and f and
              f.get("severity") == "info" and "--client-cert" in f.get("message", ""),
              (rc, doc.get("findings")))
        rc, doc, _, _ = probe_json("client cert", TLS + ["--client-cert", pem, "--client-key",
                                                         key, target])
        seen = server_lines(srv, 2)
        check("--client-cert: the handshake completes", rc == 0 and
              (doc.get("tls") or {}).get("ok") is True, (rc, doc.get("findings")))
        check("--client-cert: the server saw the certificate",
              seen and " client=probe-client" in seen[-1], seen)
        rc, _, out, err = run_probe(TLS + ["--client-cert", pem, "--client-key",
                                           ENV["certs"]["valid"]["key"], target])
        check("--client-cert with another key: refused at start", rc == 3 and
              "does not belong" in err, (rc, err))
        rc, _, out, err = run_probe(["--client-key", key, target])
        check("--client-key alone: refused", rc == 3 and "--client-cert" in err, (rc, err))
    finally:
        srv.stop()


def test_proxy():
    exe = shutil.which("microsocks")
    if not check("proxy: microsocks installed", exe is not None,
                 "apt-get install microsocks (scripts/test-deps.sh)"):
        return
    port = free_port()
    proxy = subprocess.Popen([exe, "-i", "127.0.0.1", "-p", str(port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    aport = free_port()
    authproxy = subprocess.Popen([exe, "-i", "127.0.0.1", "-p", str(aport), "-u", "u", "-P", "p"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        url = "socks5://127.0.0.1:%d" % port
        rc, doc, _, _ = probe_json("proxy", TLS + ["--proxy", url, "-v", PF])
        check("--proxy: probed through the proxy, all fine", rc == 0 and
              doc.get("proxy") == url and (doc.get("tls") or {}).get("ok") is True,
              (rc, doc.get("proxy"), doc.get("findings")))
        check("--proxy: schema-valid", not schema_check.errors(doc), schema_check.errors(doc)[:3])
        check("--proxy: the transcript names it", any(
            "through the SOCKS5 proxy 127.0.0.1:%d" % port in t.get("line", "")
            for t in doc.get("transcript") or []), "no proxy line")
        time.sleep(0.2)
        proxy.terminate()
        log = proxy.communicate(timeout=5)[1].decode("utf-8", "replace")
        check("--proxy: the proxy carried the connection",
              "connected to 127.0.0.1:%d" % P["starttls"] in log, log[-300:])
        proxy = subprocess.Popen([exe, "-i", "127.0.0.1", "-p", str(port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        rc, _, out, err = run_probe(TLS + ["--proxy", url, "127.0.0.1:%d" % free_port()])
        check("--proxy to a closed port: the proxy's refusal, named", rc == 2 and
              "SOCKS5 proxy: connection refused" in out, (rc, out[-400:]))
        rc, _, out, err = run_probe(TLS + ["--proxy", "socks5://127.0.0.1:%d" % free_port(), PF])
        check("--proxy not listening: said so", rc == 2 and
              "cannot reach the SOCKS5 proxy" in out, (rc, out[-400:]))
        rc, _, out, err = run_probe(TLS + ["--proxy", "socks5://127.0.0.1:%d" % aport, PF])
        check("--proxy wanting a password: said so", rc == 2 and
              "wants authentication" in out, (rc, out[-400:]))
        rc, _, out, err = run_probe(["--proxy", "socks5h://127.0.0.1:%d" % port, PF])
        check("--proxy socks5h: refused with the alternative", rc == 3 and "socks5://" in err,
              (rc, err))
        rc, _, out, err = run_probe(["--proxy", "http://127.0.0.1:3128", PF])
        check("--proxy http: refused", rc == 3 and "socks5://ADDR:PORT" in err, (rc, err))
    finally:
        for p in (proxy, authproxy):
            if p.poll() is None:
                p.terminate()
                p.wait(5)


def main():
    tmp = tempfile.mkdtemp(prefix="sp-conn-")
    try:
        test_tls_version()
        test_bind_sni_client_cert(tmp)
        test_proxy()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Exporter mode (--serve) against the suite's real Postfix (tests/env/start.sh):
/probe answers with metrics that pass the real `promtool check metrics`,
--serve-allow refuses other targets (403), bad requests get 400/404/405, and
/metrics counts them. Abuse: a 1 MB request line, a client sending one byte a
second, 500 parallel requests: each bounded, no crash, RSS flat. SIGTERM
ends it with exit 0. Last, a real Prometheus server (Debian's prometheus)
scrapes the exporter with blackbox_exporter-style relabeling, and its HTTP
API must show the target up with the expiry metric."""
import http.client
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import PROBE, check, finish, free_port, load_env, cert_not_after  # noqa: E402
from prom import promtool, samples  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
V4 = "127.0.0.1"
PORT = 10025                       # Postfix, STARTTLS, valid certificate
SERVERNAME = "mx1.test"
VALID_PEM = ENV["certs"]["valid"]["pem"]


class Exporter:
    """smtp-probe --serve on a kernel-chosen loopback port, always killed."""

    def __init__(self, args):
        self.p = subprocess.Popen([PROBE] + args, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.err = []
        self.port = None
        deadline = time.monotonic() + 10
        buf = b""
        while time.monotonic() < deadline and self.port is None:
            r, _, _ = select.select([self.p.stderr], [], [], 0.5)
            if not r:
                if self.p.poll() is not None:
                    break
                continue
            chunk = os.read(self.p.stderr.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            m = re.search(rb"listening on http://([^/]+):(\d+)/", buf)
            if m:
                self.host = m.group(1).decode().strip("[]")
                self.port = int(m.group(2))
        self.err.append(buf.decode("utf-8", "replace"))
        # Keep draining stderr so the exporter never blocks on it.
        self.t = threading.Thread(target=self._drain, daemon=True)
        self.t.start()

    def _drain(self):
        try:
            for line in self.p.stderr:
                self.err.append(line.decode("utf-8", "replace"))
        except (OSError, ValueError):
            pass

    def stderr(self):
        return "".join(self.err)

    def rss_kib(self):
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def sanitized(self):
        try:
            with open("/proc/%d/maps" % self.p.pid) as f:
                return "libasan" in f.read()
        except OSError:
            return False

    def alive(self):
        return self.p.poll() is None

    def stop(self, sig=signal.SIGTERM, wait=5):
        """Signal it; return (exit code or None if it had to be killed, seconds)."""
        t0 = time.monotonic()
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            rc = None
        took = time.monotonic() - t0
        # The process is gone: let the drain thread take its last lines.
        self.t.join(timeout=5)
        return rc, took


def get(ex, path, method="GET", headers=None, timeout=15):
    """(status, headers dict lower-cased, body str) or (None, {}, error)."""
    try:
        c = http.client.HTTPConnection(V4, ex.port, timeout=timeout)
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        h = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, h, body
    except (OSError, http.client.HTTPException) as e:
        return None, {}, "%s: %s" % (type(e).__name__, e)


def value(text, metric, labels=""):
    for n, lab, v in samples(text):
        if n == metric and labels in lab:
            return v
    return None


def probe_path(target, **params):
    q = {"target": target}
    q.update(params)
    return "/probe?" + urllib.parse.urlencode(q)


class StallServer:
    """Accepts and never says anything: a probe of it hangs until a deadline."""

    def __init__(self):
        self.s = socket.socket()
        self.s.bind((V4, 0))
        self.s.listen(16)
        self.port = self.s.getsockname()[1]
        self.conns = []
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _run(self):
        try:
            while True:
                c, _ = self.s.accept()
                self.conns.append(c)
        except OSError:
            pass

    def close(self):
        for c in self.conns:
            c.close()
        self.s.close()


# ---- the tests ----

def test_probe(ex):
    path = probe_path("%s:%d" % (V4, PORT), servername=SERVERNAME)
    st, h, body = get(ex, path)
    check("probe: 200", st == 200, "status=%s body=%r" % (st, body[:300]))
    check("probe: content-type", h.get("content-type", "").startswith("text/plain; version=0.0.4"),
          h.get("content-type"))
    check("probe: connection-close", h.get("connection", "").lower() == "close", h)
    check("probe: success-1", value(body, "smtp_probe_success") == "1", body[:600])
    exp = value(body, "smtp_probe_ssl_earliest_cert_expiry")
    check("probe: earliest-expiry", exp is not None and int(exp) == cert_not_after(VALID_PEM),
          "got %r want %r" % (exp, cert_not_after(VALID_PEM)))
    check("probe: duration-total",
          value(body, "smtp_probe_duration_seconds", 'phase="total"') is not None, body[:400])
    check("probe: scrape-duration", value(body, "smtp_probe_scrape_duration_seconds") is not None,
          body[-300:])
    promtool("probe", body)

    # Per-request thresholds: the valid certificate has more than 30 days,
    # so warn_days far beyond that turns the status into a warning.
    st, _, body = get(ex, probe_path("%s:%d" % (V4, PORT), servername=SERVERNAME,
                                     warn_days="100000", crit_days="1"))
    check("probe: warn_days-param", st == 200 and value(body, "smtp_probe_status") == "1",
          "status=%s %r" % (st, body[:300]))
    # The servername parameter is the name verified: a wrong one mismatches.
    st, _, body = get(ex, probe_path("%s:%d" % (V4, PORT), servername="wrong.invalid"))
    check("probe: servername-param",
          st == 200 and value(body, "smtp_probe_cert_hostname_match") == "0" and
          value(body, "smtp_probe_finding_info", 'code="cert-hostname-mismatch"') == "1",
          "status=%s %r" % (st, body[:300]))

    curl = shutil.which("curl")
    if check("curl: installed", curl is not None, "apt-get install curl"):
        p = subprocess.run([curl, "-sS", "-o", "-", "-w", "\n%{http_code}",
                            "http://%s:%d%s" % (V4, ex.port, path)],
                           capture_output=True, timeout=30)
        out = p.stdout.decode("utf-8", "replace")
        body, _, code = out.rpartition("\n")
        check("curl: 200", p.returncode == 0 and code == "200",
              "rc=%s code=%s err=%s" % (p.returncode, code, p.stderr[:200]))
        check("curl: success-1", value(body, "smtp_probe_success") == "1", body[:300])
        promtool("curl", body)


def test_refusals(ex):
    marker = "zz<script>MARK"
    cases = [
        ("disallowed-port", probe_path("%s:10026" % V4), 403),
        ("disallowed-host", probe_path("127.0.0.2:%d" % PORT), 403),
        ("disallowed-name", probe_path("mx1.test:%d" % PORT), 403),
        ("disallowed-default-port", probe_path(V4), 403),
        ("missing-target", "/probe", 400),
        ("empty-target", "/probe?target=", 400),
        ("bad-target", probe_path("a b:25"), 400),
        ("mail-domain", probe_path("user@example.test"), 400),
        ("bad-percent", "/probe?target=127.0.0.1%zz", 400),
        ("truncated-percent", "/probe?target=127.0.0.1%2", 400),
        ("nul", "/probe?target=127.0.0.1%00", 400),
        ("crlf", "/probe?target=127.0.0.1%0d%0aX-Injected:%201", 400),
        ("non-ascii", "/probe?target=%C3%A9.test", 400),
        ("unknown-param", probe_path("%s:%d" % (V4, PORT), **{marker: "1"}), 400),
        ("twice", "/probe?target=127.0.0.1:10025&target=127.0.0.1:10025", 400),
        ("no-value", "/probe?target", 400),
        ("bad-warn", probe_path("%s:%d" % (V4, PORT), warn_days="-1"), 400),
        ("warn-below-crit", probe_path("%s:%d" % (V4, PORT), warn_days="1", crit_days="5"), 400),
        ("bad-servername", probe_path("%s:%d" % (V4, PORT), servername="a/b" + marker), 400),
        ("long-target", probe_path("a" * 2000), 400),
        ("not-found", "/nothing" + urllib.parse.quote(marker), 404),
        ("not-found-subpath", "/probe/x", 404),
    ]
    for name, path, want in cases:
        st, h, body = get(ex, path)
        check("refuse: %s" % name, st == want, "status=%s want %s body=%r" % (st, want, body[:200]))
        check("refuse: %s: no-reflection" % name, "MARK" not in body and "<" not in body and
              "Injected" not in body, body[:200])
    st, h, body = get(ex, "/", method="POST")
    check("refuse: post-405", st == 405 and "GET" in h.get("allow", ""), "status=%s %s" % (st, h))
    st, h, body = get(ex, "/metrics", method="DELETE")
    check("refuse: delete-405", st == 405, st)
    st, h, body = get(ex, "/metrics", method="HEAD")
    check("head: metrics", st == 200 and body == "" and int(h.get("content-length", "0")) > 0,
          "status=%s len=%r body=%r" % (st, h.get("content-length"), body[:50]))
    st, h, body = get(ex, "/")
    check("help: 200", st == 200 and "/probe?target=" in body, "status=%s" % st)
    # HTTP/0.9-style and other malformed request lines, over a raw socket.
    for name, raw in [("http09", b"GET /metrics\r\n\r\n"),
                      ("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
                      ("bare-lf", b"GET /metrics HTTP/1.1\n\n"),
                      ("garbage", b"\x00\x01\x02\r\n\r\n")]:
        resp = raw_request(ex, raw)
        want = b"HTTP/1.1 200" if name == "bare-lf" else b"HTTP/1.1 4"
        check("raw: %s" % name, resp.startswith(want), resp[:80])
    return len(cases)


def raw_request(ex, data, timeout=10):
    s = socket.create_connection((V4, ex.port), timeout=timeout)
    out = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    finally:
        s.close()
    return out


def metrics_counts(ex):
    st, _, body = get(ex, "/metrics")
    check("metrics: 200", st == 200, st)
    promtool("metrics", body)
    return body


def test_big_line(ex):
    """A 1 MB request line: refused when the 8 KiB head cap is reached."""
    t0 = time.monotonic()
    s = socket.create_connection((V4, ex.port), timeout=10)
    resp = b""
    err = ""
    try:
        s.sendall(b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\n\r\n")
    except OSError as e:
        err = str(e)               # reset while sending: refused, fine
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
    except OSError as e:
        err = err or str(e)
    s.close()
    took = time.monotonic() - t0
    check("abuse: big-line-refused", resp.startswith(b"HTTP/1.1 431") or
          resp.startswith(b"HTTP/1.1 400") or (resp == b"" and err != ""),
          "resp=%r err=%s" % (resp[:80], err))
    check("abuse: big-line-quick", took < 5, "%.1fs" % took)
    check("abuse: big-line-alive", ex.alive(), ex.stderr()[-300:])


def slow_client(ex, result):
    """One byte a second; the exporter must give up at its read deadline."""
    t0 = time.monotonic()
    s = socket.create_connection((V4, ex.port), timeout=30)
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    closed_at = None
    got = b""
    for b in req:
        try:
            s.sendall(bytes([b]))
        except OSError:
            closed_at = time.monotonic() - t0
            break
        r, _, _ = select.select([s], [], [], 1.0)
        if r:
            try:
                chunk = s.recv(4096)
            except OSError:
                chunk = b""
            got += chunk
            if not chunk or got:
                # Drain to EOF so we see the close.
                try:
                    while chunk:
                        chunk = s.recv(4096)
                        got += chunk
                except OSError:
                    pass
                closed_at = time.monotonic() - t0
                break
        if time.monotonic() - t0 > 25:
            break
    s.close()
    result["closed_at"] = closed_at
    result["got"] = got


def test_idle(ex, n=150):
    """More idle connections than the exporter has slots: a real request
    still gets through (the oldest idle one is evicted), quickly."""
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection((V4, ex.port), timeout=5))
        time.sleep(1.2)
        t0 = time.monotonic()
        st, _, _ = get(ex, "/metrics", timeout=10)
        took = time.monotonic() - t0
        check("abuse: idle-sockets-request-served", st == 200 and took < 3,
              "status=%s took=%.1fs" % (st, took))
    finally:
        for s in socks:
            s.close()
    check("abuse: idle-alive", ex.alive(), ex.stderr()[-300:])


def test_parallel(ex, n=500):
    """n threads at once, each GET /metrics or a disallowed probe."""
    results = [None] * n

    def worker(i):
        path = "/metrics" if i % 2 == 0 else probe_path("192.0.2.%d:25" % (i % 250 + 1))
        try:
            c = http.client.HTTPConnection(V4, ex.port, timeout=30)
            c.request("GET", path)
            r = c.getresponse()
            r.read()
            results[i] = r.status
            c.close()
        except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError):
            results[i] = "refused"
        except (OSError, http.client.HTTPException) as e:
            results[i] = "%s: %s" % (type(e).__name__, e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    took = time.monotonic() - t0
    answered = sum(1 for i, r in enumerate(results) if r == (200 if i % 2 == 0 else 403))
    refused = results.count("refused")
    other = [r for r in results if r not in (200, 403, "refused")]
    check("abuse: parallel-all-answered-or-refused", answered + refused == n,
          "answered=%d refused=%d other=%s" % (answered, refused, other[:5]))
    check("abuse: parallel-mostly-answered", answered >= n * 0.9,
          "answered=%d refused=%d" % (answered, refused))
    check("abuse: parallel-alive", ex.alive(), ex.stderr()[-300:])
    st, _, _ = get(ex, "/metrics")
    check("abuse: parallel-still-answers", st == 200, st)
    print("# %d parallel requests in %.1fs: %d answered, %d refused" % (n, took, answered, refused))


def test_deadline_and_shutdown(stall):
    """A probe of a silent server ends at the scrape timeout Prometheus sends,
    and SIGTERM with a probe in flight still exits 0 within the grace."""
    ex = Exporter(["--serve", "127.0.0.1:0", "--serve-allow", "127.0.0.1:%d" % stall.port,
                   "--timeout", "30"])
    try:
        if not check("stall: started", ex.port is not None, ex.stderr()):
            return
        t0 = time.monotonic()
        st, _, body = get(ex, probe_path("%s:%d" % (V4, stall.port)),
                          headers={"X-Prometheus-Scrape-Timeout-Seconds": "2"})
        took = time.monotonic() - t0
        check("stall: answered-before-scrape-timeout", st == 200 and took < 2.0,
              "status=%s took=%.2fs" % (st, took))
        check("stall: success-0", value(body, "smtp_probe_success") == "0", body[:300])
        check("stall: timeout-finding",
              value(body, "smtp_probe_finding_info", 'code="timeout"') == "1", body[-600:])

        # SIGTERM while a probe hangs: the client gets an answer, exit 0.
        box = {}

        def inflight():
            box["r"] = get(ex, probe_path("%s:%d" % (V4, stall.port)), timeout=20)

        t = threading.Thread(target=inflight)
        t.start()
        time.sleep(0.5)
        rc, took = ex.stop(wait=12)
        t.join(15)
        st = box.get("r", (None,))[0]
        check("shutdown: inflight-answered", st in (200, 503), box.get("r"))
        check("shutdown: inflight-exit-0", rc == 0, "rc=%s err=%s" % (rc, ex.stderr()[-300:]))
        check("shutdown: inflight-within-grace", took < 8, "%.1fs" % took)
    finally:
        ex.stop(sig=signal.SIGKILL, wait=5)


def test_default_deny():
    """No --serve-allow: a note on stderr, every /probe refused; :PORT binds
    loopback. Also the slow client, alone here so that nothing else's
    connections can evict it before its read deadline."""
    ex = Exporter(["--serve", ":0"])
    try:
        if not check("deny: started", ex.port is not None, ex.stderr()):
            return
        slow = {}
        slow_t = threading.Thread(target=slow_client, args=(ex, slow))
        slow_t.start()
        check("deny: loopback", ex.host == "127.0.0.1", ex.stderr())
        check("deny: note", "no --serve-allow" in ex.stderr(), ex.stderr())
        st, _, body = get(ex, probe_path("%s:%d" % (V4, PORT)))
        check("deny: 403", st == 403, "status=%s %r" % (st, body))
        slow_t.join(30)
        at = slow.get("closed_at")
        check("abuse: slow-client-closed", at is not None and 8 <= at <= 16,
              "closed after %s s, got %r" % (at, slow.get("got", b"")[:80]))
        check("abuse: slow-client-408-or-close",
              slow.get("got", b"") == b"" or slow.get("got", b"").startswith(b"HTTP/1.1 408"),
              slow.get("got", b"")[:80])
        st, _, body = get(ex, "/metrics")
        c408 = value(body, "smtp_probe_exporter_requests_total", 'code="408"')
        check("metrics: counts-408", c408 is not None and int(c408) == 1, c408)
        rc, took = ex.stop()
        check("deny: sigterm-exit-0", rc == 0, rc)
    finally:
        ex.stop(sig=signal.SIGKILL)


def test_usage():
    for name, args in [("serve-with-target", ["--serve", ":0", "x"]),
                       ("serve-bad-addr", ["--serve", "localhost:9925"]),
                       ("serve-no-port", ["--serve", "127.0.0.1"]),
                       ("serve-bad-port", ["--serve", ":70000"]),
                       ("allow-without-serve", ["--serve-allow", "*", "x"]),
                       ("bad-pattern", ["--serve", ":0", "--serve-allow", "[::1"])]:
        p = subprocess.run([PROBE] + args, capture_output=True, timeout=10)
        check("usage: %s" % name, p.returncode == 3 and len(p.stderr.splitlines()) == 1,
              "rc=%s err=%r" % (p.returncode, p.stderr[:200]))


def test_prometheus(ex):
    exe = shutil.which("prometheus")
    if not check("prometheus: installed", exe is not None,
                 "apt-get install --no-install-recommends prometheus"):
        return
    d = tempfile.mkdtemp(prefix="sp-prom-")
    web = free_port()
    exporter = "127.0.0.1:%d" % ex.port
    cfg = os.path.join(d, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: smtp
    metrics_path: /probe
    params:
      servername: [%s]
    static_configs:
      - targets: ['%s:%d']
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: '%s'
  - job_name: smtp_probe_exporter
    static_configs:
      - targets: ['%s']
""" % (SERVERNAME, V4, PORT, exporter, exporter))
    log = open(os.path.join(d, "prometheus.log"), "wb")
    p = subprocess.Popen([exe, "--config.file", cfg, "--storage.tsdb.path", os.path.join(d, "data"),
                          "--web.listen-address", "127.0.0.1:%d" % web, "--log.level", "warn"],
                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        def query(q):
            try:
                c = http.client.HTTPConnection(V4, web, timeout=5)
                c.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
                r = c.getresponse()
                import json
                doc = json.loads(r.read())
                c.close()
                return doc.get("data", {}).get("result", [])
            except (OSError, ValueError, http.client.HTTPException):
                return None

        up = exp = own = None
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            up = query('up{job="smtp"}')
            exp = query('smtp_probe_ssl_earliest_cert_expiry{job="smtp"}')
            own = query('smtp_probe_exporter_probes_total')
            if up and up[0]["value"][1] == "1" and exp and own:
                break
            time.sleep(1)
        check("prometheus: target-up", bool(up) and up[0]["value"][1] == "1", up)
        check("prometheus: instance-relabeled",
              bool(up) and up[0]["metric"].get("instance") == "%s:%d" % (V4, PORT), up)
        check("prometheus: expiry-queryable",
              bool(exp) and int(float(exp[0]["value"][1])) == cert_not_after(VALID_PEM), exp)
        check("prometheus: exporter-metrics", bool(own) and float(own[0]["value"][1]) >= 1, own)
        succ = query('smtp_probe_success{job="smtp"}')
        check("prometheus: success-1", bool(succ) and succ[0]["value"][1] == "1", succ)
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
        if check("prometheus: stopped", p.returncode is not None, p.returncode):
            shutil.rmtree(d, ignore_errors=True)


def main():
    if not os.access(PROBE, os.X_OK):
        check("binary", False, "%s not found" % PROBE)
        finish()
    stall = StallServer()
    ex = Exporter(["--serve", "127.0.0.1:0", "--serve-allow", "127.0.0.1:%d" % PORT,
                   "--serve-allow", "[::1]:%d" % PORT, "--cafile", CA, "--timeout", "5"])
    try:
        if not check("exporter: started", ex.port is not None, ex.stderr()):
            finish()
        check("exporter: deny-note-absent", "no --serve-allow" not in ex.stderr(), ex.stderr())
        test_probe(ex)
        nref = test_refusals(ex)
        body = metrics_counts(ex)
        c403 = value(body, "smtp_probe_exporter_requests_total", 'code="403"')
        c400 = value(body, "smtp_probe_exporter_requests_total", 'code="400"')
        c200 = value(body, "smtp_probe_exporter_requests_total", 'code="200"')
        probes = value(body, "smtp_probe_exporter_probes_total")
        check("metrics: counts-403", c403 is not None and int(c403) == 4, c403)
        check("metrics: counts-400", c400 is not None and int(c400) >= 16, c400)
        check("metrics: counts-200", c200 is not None and int(c200) >= 4, c200)
        check("metrics: probes", probes is not None and int(probes) == 4, probes)
        check("metrics: in-flight-0",
              value(body, "smtp_probe_exporter_probes_in_flight") == "0", body[-800:])
        del nref

        rss0 = ex.rss_kib()
        test_big_line(ex)
        for _ in range(3):
            test_big_line(ex)
        test_parallel(ex)
        test_parallel(ex)
        test_idle(ex)
        rss1 = ex.rss_kib()
        # AddressSanitizer keeps freed memory in quarantine: allow it more.
        limit = (64 if ex.sanitized() else 16) * 1024
        check("abuse: rss-bounded", rss0 is not None and rss1 is not None and
              rss1 - rss0 < limit, "rss %s -> %s KiB (limit %d)" % (rss0, rss1, limit))
        print("# exporter RSS %s KiB before abuse, %s KiB after" % (rss0, rss1))

        body = metrics_counts(ex)
        c431 = value(body, "smtp_probe_exporter_requests_total", 'code="431"')
        check("metrics: counts-431", c431 is not None and int(c431) >= 1, c431)

        test_prometheus(ex)
        check("exporter: alive-at-end", ex.alive(), ex.stderr()[-300:])
        rc, took = ex.stop()
        check("sigterm: exit-0", rc == 0, "rc=%s err=%s" % (rc, ex.stderr()[-300:]))
        check("sigterm: quick", took < 3, "%.1fs" % took)
        check("sigterm: stderr-clean", "shutting down" in ex.stderr(), ex.stderr()[-300:])
    finally:
        ex.stop(sig=signal.SIGKILL)
    test_deadline_and_shutdown(stall)
    stall.close()
    test_default_deny()
    test_usage()
    finish()


if __name__ == "__main__":
    main()

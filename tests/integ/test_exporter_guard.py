#!/usr/bin/env python3
"""The exporter's guards against its own clients (--serve):
- --serve-allow: an address-shaped pattern ('127.0.0.*:100*') matches
  address literals only, never a name that merely starts like one
  ('127.0.0.1.attacker.example', which may resolve anywhere); a name
  pattern matches names only;
- --serve-allow-net CIDR: a name allowed by --serve-allow still connects
  only to resolved addresses inside the networks (else the finding
  address-not-allowed, and no connection); a literal outside them is
  refused with 403; an IPv4-mapped IPv6 literal is judged as its IPv4
  address;
- slow clients: 1,000 clients trickling a request head one byte every
  0.5 s (and reconnecting when shed), from ten loopback addresses, do not
  keep a /metrics scrape from answering within a second, while they are
  connected.
Against the suite's Postfix (127.0.0.1:10025) and NSD (mx1.test)."""
import asyncio
import http.client
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import PROBE, check, finish, load_env  # noqa: E402
from prom import samples  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
DNS = ENV["dns"]["resolver"]
V4 = "127.0.0.1"
PORT = ENV["ports"]["starttls"]


class Exporter:
    """smtp-probe --serve on a kernel-chosen loopback port, always stopped."""

    def __init__(self, args):
        self.p = subprocess.Popen([PROBE, "--serve", "127.0.0.1:0", "--cafile", CA,
                                   "--resolver", DNS, "--timeout", "5"] + args,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        self.port = None
        self.err = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.port is None:
            r, _, _ = select.select([self.p.stderr], [], [], 0.5)
            if not r:
                if self.p.poll() is not None:
                    break
                continue
            chunk = os.read(self.p.stderr.fileno(), 4096)
            if not chunk:
                break
            self.err += chunk
            m = re.search(rb"listening on http://[^/]+:(\d+)/", self.err)
            if m:
                self.port = int(m.group(1))
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        try:
            for line in self.p.stderr:
                self.err += line
        except (OSError, ValueError):
            pass

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None


def get(ex, path, timeout=15):
    """(status, body) or (None, error)."""
    try:
        c = http.client.HTTPConnection(V4, ex.port, timeout=timeout)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        c.close()
        return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, "%s: %s" % (type(e).__name__, e)


def probe(ex, target):
    return get(ex, "/probe?" + urllib.parse.urlencode({"target": target,
                                                       "servername": "mx1.test"}))


def value(text, metric, labels=""):
    for n, lab, v in samples(text):
        if n == metric and labels in lab:
            return v
    return None


# ------------------------------------------------ 17: --serve-allow shapes
def test_patterns():
    ex = Exporter(["--serve-allow", "127.0.0.*:100*", "--serve-allow", "mx1.test:*"])
    try:
        if not check("allow: started", ex.port is not None, ex.err[-300:]):
            return
        st, body = probe(ex, "127.0.0.1:%d" % PORT)
        check("allow: address pattern admits the literal", st == 200 and
              value(body, "smtp_probe_success") == "1", "status=%s %s" % (st, body[:200]))
        st, body = probe(ex, "127.0.0.1.attacker.example:%d" % PORT)
        check("allow: address pattern refuses a name that starts like an address",
              st == 403 and "not allowed" in body, "status=%s %r" % (st, body[:200]))
        st, body = probe(ex, "mx1.test:%d" % PORT)
        check("allow: name pattern admits the name", st == 200 and
              value(body, "smtp_probe_success") == "1", "status=%s %s" % (st, body[:200]))
        st, body = probe(ex, "[::1]:%d" % PORT)
        check("allow: IPv6 literal matches no IPv4 or name pattern", st == 403,
              "status=%s %r" % (st, body[:200]))
    finally:
        ex.stop()


# ------------------------------------------------ 17: --serve-allow-net
def test_nets():
    ex = Exporter(["--serve-allow", "*", "--serve-allow-net", "127.0.0.0/8"])
    try:
        if not check("net: started", ex.port is not None, ex.err[-300:]):
            return
        st, body = probe(ex, "mx1.test:%d" % PORT)
        check("net: a name resolving inside the network is probed", st == 200 and
              value(body, "smtp_probe_success") == "1", "status=%s %s" % (st, body[:300]))
        st, body = probe(ex, "[::1]:%d" % PORT)
        check("net: a literal outside the network is refused", st == 403 and
              "--serve-allow-net" in body, "status=%s %r" % (st, body[:200]))
    finally:
        ex.stop()
    ex = Exporter(["--serve-allow", "*", "--serve-allow-net", "10.0.0.0/8",
                   "--serve-allow-net", "2001:db8::/32"])
    try:
        if not check("net-outside: started", ex.port is not None, ex.err[-300:]):
            return
        st, body = probe(ex, "mx1.test:%d" % PORT)
        check("net-outside: probe answered", st == 200, "status=%s %r" % (st, body[:200]))
        check("net-outside: not connected", value(body, "smtp_probe_success") == "0",
              body[:300])
        check("net-outside: finding address-not-allowed",
              value(body, "smtp_probe_finding_info", 'code="address-not-allowed"') == "1" or
              'code="address-not-allowed"' in body, body[:600])
        st, body = probe(ex, "127.0.0.1:%d" % PORT)
        check("net-outside: literal refused", st == 403, "status=%s %r" % (st, body[:200]))
        st, body = probe(ex, "[::ffff:127.0.0.1]:%d" % PORT)
        check("net-outside: IPv4-mapped literal judged as IPv4", st == 403,
              "status=%s %r" % (st, body[:200]))
    finally:
        ex.stop()
    # Postfix saw no connection from the refused probes: the log of the
    # run is not needed, the finding says no connection was made.


# ------------------------------------------------ 18: slow clients
SLOW_CLIENTS = 1000
SOURCES = ["127.0.1.%d" % i for i in range(1, 11)]
HEAD = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 64


async def slow_client(port, src, stop, stats):
    """Trickles one byte every 0.5 s; reconnects when shed, until stop."""
    while not stop.is_set():
        try:
            r, w = await asyncio.open_connection(V4, port, local_addr=(src, 0))
        except OSError:
            await asyncio.sleep(0.5)
            continue
        stats["connects"] += 1
        try:
            for b in HEAD:
                if stop.is_set():
                    break
                w.write(bytes([b]))
                await w.drain()
                try:
                    await asyncio.wait_for(r.read(1), 0.5)
                    break                   # answered or closed: reconnect
                except asyncio.TimeoutError:
                    pass
        except OSError:
            pass
        finally:
            w.close()


def scrape(port):
    """One /metrics with a one-second budget: (ok, connections gauge, why)."""
    try:
        c = http.client.HTTPConnection(V4, port, timeout=1.0)
        c.request("GET", "/metrics")
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return r.status == 200, value(body, "smtp_probe_exporter_connections"), ""
    except (OSError, http.client.HTTPException) as e:
        return False, None, "%s: %s" % (type(e).__name__, e)


async def slow_run(port):
    stop = asyncio.Event()
    stats = {"connects": 0}
    tasks = [asyncio.ensure_future(slow_client(port, SOURCES[i % len(SOURCES)], stop, stats))
             for i in range(SLOW_CLIENTS)]
    await asyncio.sleep(3)                  # every client has connected and trickles
    results = []
    for _ in range(5):
        results.append(await asyncio.get_running_loop().run_in_executor(None, scrape, port))
        await asyncio.sleep(0.3)
    stop.set()
    await asyncio.wait(tasks, timeout=5)
    for t in tasks:
        t.cancel()
    return stats, results


def test_slow_clients():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    ex = Exporter(["--serve-allow", "127.0.0.1:*"])
    try:
        if not check("slow: started", ex.port is not None, ex.err[-300:]):
            return
        stats, results = asyncio.run(slow_run(ex.port))
        check("slow: the slow clients connected (and were shed and came back)",
              stats["connects"] >= SLOW_CLIENTS, stats)
        busy = [int(float(n)) for ok, n, _ in results if ok and n is not None]
        check("slow: scrapes ran while slow clients held connections",
              busy and min(busy) >= len(SOURCES), busy)
        check("slow: every /metrics scrape answered within a second",
              all(ok for ok, _, _ in results), results)
        st, _ = get(ex, "/metrics")
        check("slow: exporter alive afterwards", st == 200 and ex.p.poll() is None, st)
    finally:
        rc = ex.stop()
    check("slow: clean exit", rc == 0, rc)


test_patterns()
test_nets()
test_slow_clients()
finish()

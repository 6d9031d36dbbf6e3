#!/usr/bin/python3
"""Happy Eyeballs (issue 3): a host whose IPv6 address never answers.

Inside a network namespace made for the test (root needed; `ip netns`):
lo up, and a dummy interface (or a veth pair) carrying 2001:db8:1::1/64 with a route to
2001:db8:2::/64 via a permanent neighbour entry, so SYNs to 2001:db8:2::25
leave by the dummy and vanish without an answer or an ICMP error. In there,
tests/fake/fakedns.py serves he.test AAAA 2001:db8:2::25 and A 127.0.0.1,
tests/fake/fakesmtp.py a short well-behaved dialogue on 127.0.0.1, and the
probe runs with `ip netns exec`. It must try IPv6 first, start IPv4 about
250 ms later (RFC 8305), connect over IPv4 200..1000 ms after it started
connecting, and list both attempts. A second name whose IPv6 address
refuses and whose IPv4 address has no route must end at once with both
attempts failed, not at the connect timeout. The namespace is removed however the
test ends.

Prints "ok NAME" / "FAIL NAME: why"; exits 1 if any check failed. About 2 s.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKEDNS = os.path.join(ROOT, "tests", "fake", "fakedns.py")
FAKESMTP = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")
PROBE = os.environ.get("SMTP_PROBE", os.path.join(ROOT, "build", "smtp-probe"))
PY = "/usr/bin/python3"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import check, finish  # noqa: E402
NS = "sp-he-%d" % os.getpid()
V6_DEAD = "2001:db8:2::25"

SCENARIO = ("send 220 mx.fake.test ESMTP fake\\r\\n\n"
            "expect EHLO\n"
            "send 250-mx.fake.test\\r\\n250 SIZE 1000\\r\\n\n"
            "expect QUIT\n"
            "send 221 bye\\r\\n\n"
            "close\n")



def ip(*args):
    return subprocess.run(["ip"] + list(args), capture_output=True, text=True)


def setup_ns():
    for s in [("netns", "add", NS), ("-n", NS, "link", "set", "lo", "up")]:
        r = ip(*s)
        if r.returncode != 0:
            return "ip %s: %s" % (" ".join(s), r.stderr.strip())
    # A dummy interface where the kernel has the module; otherwise a veth
    # pair with both ends up: frames for the neighbour's MAC reach the
    # other end, which is not that MAC and drops them. Silence either way.
    if ip("-n", NS, "link", "add", "dummy0", "type", "dummy").returncode != 0:
        r = ip("-n", NS, "link", "add", "dummy0", "type", "veth", "peer", "name", "sink0")
        if r.returncode != 0:
            return "neither a dummy nor a veth interface: %s" % r.stderr.strip()
        r = ip("-n", NS, "link", "set", "sink0", "up")
        if r.returncode != 0:
            return "ip link set sink0 up: %s" % r.stderr.strip()
    steps = [
        ("-n", NS, "link", "set", "dummy0", "up"),
        ("-n", NS, "-6", "addr", "add", "2001:db8:1::1/64", "dev", "dummy0", "nodad"),
        ("-n", NS, "-6", "neigh", "add", "2001:db8:1::2", "lladdr", "02:00:00:00:00:02",
         "dev", "dummy0", "nud", "permanent"),
        ("-n", NS, "-6", "route", "add", "2001:db8:2::/64", "via", "2001:db8:1::2",
         "dev", "dummy0"),
    ]
    for s in steps:
        r = ip(*s)
        if r.returncode != 0:
            return "ip %s: %s" % (" ".join(s), r.stderr.strip())
    return None


class Server(Helper):
    """A helper server run inside the test's network namespace."""

    def __init__(self, argv):
        super().__init__(["ip", "netns", "exec", NS] + argv)


def transcript_ms(doc, word):
    """t_ms of the first transcript event whose text contains word."""
    for e in doc.get("transcript") or []:
        text = e.get("text") or e.get("line") or ""
        if word in text and isinstance(e.get("t_ms"), (int, float)):
            return e["t_ms"]
    return None


def main():
    if os.geteuid() != 0:
        check("happy-eyeballs: root", False, "needs root for ip netns (CI runs as root)")
        sys.exit(1)
    if not os.access(PROBE, os.X_OK):
        check("happy-eyeballs: probe-present", False, PROBE)
        sys.exit(1)
    scn = tempfile.NamedTemporaryFile("w", suffix=".scn", delete=False)
    scn.write(SCENARIO)
    scn.close()
    servers = []
    try:
        err = setup_ns()
        if not check("happy-eyeballs: netns", err is None, err):
            sys.exit(1)
        # The black hole really is one: nothing comes back within 1 s.
        r = subprocess.run(["ip", "netns", "exec", NS, PY, "-c",
                            "import socket,sys\n"
                            "s=socket.socket(socket.AF_INET6)\ns.settimeout(1)\n"
                            "try:\n s.connect(('%s',25))\nexcept socket.timeout:\n sys.exit(0)\n"
                            "except OSError as e:\n print(e); sys.exit(1)\nsys.exit(1)" % V6_DEAD],
                           capture_output=True, text=True, timeout=10)
        check("happy-eyeballs: ipv6-black-hole", r.returncode == 0, r.stdout + r.stderr)
        dns = Server([PY, FAKEDNS, "--port", "0", "--lifetime", "60",
                      "--record", "he.test", "AAAA", V6_DEAD,
                      "--record", "he.test", "A", "127.0.0.1",
                      "--record", "fail.test", "AAAA", "::1",
                      "--record", "fail.test", "A", "10.9.9.9"])
        servers.append(dns)
        smtp = Server([PY, FAKESMTP, "--port", "0", "--scenario", scn.name, "--lifetime", "60"])
        servers.append(smtp)
        if not check("happy-eyeballs: servers", dns.port and smtp.port,
                     "dns=%s smtp=%s %s" % (dns.port, smtp.port, dns.stderr()[-300:])):
            sys.exit(1)
        p = subprocess.run(["ip", "netns", "exec", NS, PROBE, "-o", "json", "-v",
                            "--timeout", "5", "--resolver", "127.0.0.1:%d" % dns.port,
                            "-p", str(smtp.port), "he.test"],
                           capture_output=True, timeout=30)
        try:
            doc = json.loads(p.stdout.decode())
        except ValueError:
            doc = None
        if not check("happy-eyeballs: json", isinstance(doc, dict),
                     "rc=%s out=%r err=%r" % (p.returncode, p.stdout[:300], p.stderr[:300])):
            sys.exit(1)
        att = doc.get("attempts") or []
        v6 = [a for a in att if a.get("address") == V6_DEAD]
        v4 = [a for a in att if a.get("address") == "127.0.0.1"]
        check("happy-eyeballs: ipv6-tried-first", att and att[0].get("address") == V6_DEAD, att)
        check("happy-eyeballs: ipv6-attempt-failed", len(v6) == 1 and v6[0].get("connect_ms") is None
              and v6[0].get("error"), v6)
        check("happy-eyeballs: ipv4-attempt-connected", len(v4) == 1 and
              isinstance(v4[0].get("connect_ms"), (int, float)) and not v4[0].get("error"), v4)
        check("happy-eyeballs: address-ipv4", doc.get("address") == "127.0.0.1" and
              doc.get("family") == "ipv4", (doc.get("address"), doc.get("family")))
        check("happy-eyeballs: greeting", (doc.get("greeting") or {}).get("code") == 220,
              doc.get("greeting"))
        t_start = transcript_ms(doc, "connecting to")
        t_conn = transcript_ms(doc, "connected to")
        delay = t_conn - t_start if t_start is not None and t_conn is not None else None
        check("happy-eyeballs: ipv4-after-about-250ms", delay is not None and 200 <= delay <= 1000,
              "connect %s ms after connecting started; transcript %s" % (
                  delay, [(e.get("t_ms"), (e.get("text") or "")[:50])
                          for e in (doc.get("transcript") or [])[:6]]))
        print("# IPv4 connected %.1f ms after the first attempt; attempts %s" % (
            delay if delay is not None else -1, att), flush=True)

        # ::1 refuses (after the loop turn), then 10.9.9.9 fails at once in
        # connect() (no IPv4 route in the namespace): the probe must end
        # then, not wait for its 5 s connect timeout (conn.c maybe_fail).
        t0 = time.monotonic()
        p = subprocess.run(["ip", "netns", "exec", NS, PROBE, "-o", "json",
                            "--timeout", "5", "--resolver", "127.0.0.1:%d" % dns.port,
                            "-p", str(smtp.port), "fail.test"],
                           capture_output=True, timeout=30)
        secs = time.monotonic() - t0
        try:
            doc = json.loads(p.stdout.decode())
        except ValueError:
            doc = {}
        att = doc.get("attempts") or []
        check("happy-eyeballs: all-fail-ends-at-once", secs < 2.5 and p.returncode == 2 and
              len(att) == 2 and all(a.get("error") for a in att),
              "%.1fs rc=%s attempts=%s" % (secs, p.returncode, att))
    finally:
        for s in servers:
            s.stop()
        os.unlink(scn.name)
        ip("netns", "del", NS)
        check("happy-eyeballs: netns-removed", NS not in ip("netns", "list").stdout)
    finish()


if __name__ == "__main__":
    main()

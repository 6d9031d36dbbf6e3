#!/usr/bin/python3
"""DNS fault tests: the probe asks tests/fake/fakedns.py (a fault-injecting
DNS server on a free loopback port) with --resolver, for a single target and
with --mx, and must end by itself within its timeouts, print one valid JSON
document whose status matches its exit code, and say what went wrong with a
specific finding, never crash or hang. The SMTP side is
tests/fake/fakesmtp.py with a short well-behaved script, so the cases where
DNS works (TC then TCP, 1,000 records, a CNAME'd MX, a 253-character name)
can show the probe got through.

Each fakedns.py mode is described in its docstring. Prints "ok NAME" /
"FAIL NAME: why"; exits 1 if any check failed. About 10 s (cases run in
parallel). Environment: SMTP_PROBE (default build/smtp-probe).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKEDNS = os.path.join(ROOT, "tests", "fake", "fakedns.py")
FAKESMTP = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")
PROBE = os.environ.get("SMTP_PROBE", os.path.join(ROOT, "build", "smtp-probe"))
PY = "/usr/bin/python3"
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integ"))
from helper import Helper  # noqa: E402
from lib import check, finish  # noqa: E402
EXIT_STATUS = {0: "ok", 1: "warning", 2: "critical", 3: "unknown"}
TIMEOUT = 2                     # --timeout given to the probe
# c-ares: two tries per query, the second with a doubled timeout, plus the
# probe's own step timer; anything past this has hung.
MAX_SECS = 3 * TIMEOUT + 3

SCENARIO = ("send 220 mx.fake.test ESMTP fake\\r\\n\n"
            "expect EHLO\n"
            "send 250-mx.fake.test\\r\\n250 SIZE 1000\\r\\n\n"
            "expect QUIT\n"
            "send 221 bye\\r\\n\n"
            "close\n")



Server = Helper   # a helper printing "listening HOST PORT" first


def codes(doc):
    return [f.get("code") for f in doc.get("findings") or [] if isinstance(f, dict)]


def all_codes(doc):
    """Finding codes of the document and, for a domain, of every probe."""
    out = codes(doc)
    for p in doc.get("probes") or []:
        out += codes(p)
    return out


def message(doc, code):
    for f in doc.get("findings") or []:
        if f.get("code") == code:
            return f.get("message", "")
    return ""


def run(args):
    t0 = time.monotonic()
    try:
        p = subprocess.run([PROBE, "-o", "json", "--timeout", str(TIMEOUT)] + args,
                           capture_output=True, timeout=MAX_SECS + 10)
    except subprocess.TimeoutExpired:
        return None, None, "", "hung: killed after %ds" % (MAX_SECS + 10), MAX_SECS + 10
    secs = time.monotonic() - t0
    out = p.stdout.decode("utf-8", "replace")
    doc = None
    try:
        doc = json.loads(p.stdout.decode("utf-8"))
    except ValueError:
        pass
    return p.returncode, doc, out, p.stderr.decode("utf-8", "replace"), secs


# ------------------------------------------------------------ expectations
def connected(doc):
    """The single probe (or the domain's first probe) reached the server."""
    p = doc if "probes" not in doc else (doc.get("probes") or [{}])[0]
    g = p.get("greeting") or {}
    return [("connected", p.get("address") == "127.0.0.1" and g.get("code") == 220,
             "address=%r greeting=%r" % (p.get("address"), g))]


def no_dns_finding(doc):
    bad = [c for c in all_codes(doc) if c and (c.startswith("dns-") or c == "timeout")]
    return [("no-dns-finding", not bad, bad)]


def used_tcp(name):
    def f(doc, dnslog):
        return [("retried-over-tcp", ("tcp %s." % name) in dnslog,
                 [l for l in dnslog.splitlines() if name in l][:6])]
    return f


def did_not_connect(doc):
    probes = doc.get("probes") if "probes" in doc else [doc]
    tried = [a.get("address") for p in probes or [] for a in p.get("attempts") or []]
    return [("no-connection-to-foreign-records", not tried, tried)]


def attempts_bounded(doc):
    p = doc if "probes" not in doc else (doc.get("probes") or [{}])[0]
    n = len(p.get("attempts") or [])
    return [("attempts-bounded", 1 <= n <= 16, n)]


def long_host(doc):
    from_mx = [m.get("host") for m in doc.get("mx") or []]
    return [("long-host-kept", any(h and len(h.rstrip(".")) == 253 for h in from_mx), from_mx)]


def mx_cname(doc):
    mx = (doc.get("mx") or [{}])[0]
    return [("mx-cname-flagged", mx.get("cname") is True, mx)]


class Case:
    def __init__(self, name, mode, mx=False, rc=None, code=None, alt=(), more=(), dnsmore=(),
                 msg=None, absent=()):
        self.name = name
        self.mode = mode
        self.mx = mx
        self.rc = rc                  # expected exit code, or None (any status but unknown)
        self.code = code              # the specific finding expected (any of code + alt)
        self.alt = tuple(alt)
        self.more = list(more)        # fn(doc) -> [(sub, cond, detail)]
        self.dnsmore = list(dnsmore)  # fn(doc, fakedns stderr) -> [...]
        self.msg = msg                # text the finding's message must contain
        self.absent = absent


CASES = [
    # Single target: the A/AAAA lookups of smtp_session.c.
    Case("tc-then-tcp", "tc", more=[connected, no_dns_finding], dnsmore=[used_tcp("tc.fault.test")]),
    Case("many-records", "many", more=[connected, no_dns_finding, attempts_bounded],
         dnsmore=[used_tcp("many.fault.test")]),
    Case("malformed", "malformed", rc=2, code="dns-error", more=[did_not_connect]),
    Case("pointer-loop", "ptrloop", rc=2, code="dns-error", more=[did_not_connect]),
    Case("answer-other-name", "othername", rc=2, code="dns-no-address", alt=("dns-error",),
         more=[did_not_connect]),
    Case("answer-other-question", "otherq", rc=2, code="dns-timeout", alt=("dns-error",),
         more=[did_not_connect]),
    Case("servfail", "servfail", rc=2, code="dns-servfail"),
    Case("refused", "refused", rc=2, code="dns-error", msg="refused"),
    Case("nxdomain", "nxdomain", rc=2, code="dns-nxdomain"),
    Case("no-answer", "timeout", rc=2, code="dns-timeout"),
    Case("long-name", "longname", more=[connected, no_dns_finding]),
    Case("name-over-255", "toolong", rc=2, code="dns-error", alt=("dns-no-address",),
         more=[did_not_connect]),
    # --mx: the MX lookup of mx.c, then the hosts' addresses.
    Case("mx-tc-then-tcp", "tc", mx=True, more=[connected, no_dns_finding],
         dnsmore=[used_tcp("tc.fault.test")]),
    Case("mx-many-records", "many", mx=True, more=[connected, no_dns_finding, attempts_bounded]),
    Case("mx-malformed", "malformed", mx=True, rc=2, code="dns-error", more=[did_not_connect]),
    Case("mx-pointer-loop", "ptrloop", mx=True, rc=2, code="dns-error", more=[did_not_connect]),
    Case("mx-answer-other-name", "othername", mx=True, rc=2, code="dns-no-mx",
         alt=("dns-error", "mx-implicit"), more=[did_not_connect]),
    Case("mx-answer-other-question", "otherq", mx=True, rc=2, code="dns-timeout",
         alt=("dns-error",), more=[did_not_connect]),
    Case("mx-servfail", "servfail", mx=True, rc=2, code="dns-servfail"),
    Case("mx-refused", "refused", mx=True, rc=2, code="dns-error", msg="refused"),
    Case("mx-nxdomain", "nxdomain", mx=True, rc=2, code="dns-nxdomain"),
    Case("mx-no-answer", "timeout", mx=True, rc=2, code="dns-timeout"),
    Case("mx-cname", "mxcname", mx=True, code="mx-cname", more=[connected, mx_cname]),
    Case("mx-long-name", "longname", mx=True, more=[connected, long_host, no_dns_finding]),
    Case("mx-name-over-255", "toolong", mx=True, rc=2, code="dns-error",
         alt=("dns-no-mx",), more=[did_not_connect]),
]


def run_case(c, dns, smtp_port):
    name = "dns-fault/%s" % c.name
    args = ["--resolver", "127.0.0.1:%d" % dns.port, "-p", str(smtp_port)]
    if c.mx:
        args.append("--mx")
    rc, doc, out, err, secs = run(args + ["%s.fault.test" % c.mode])
    check(name + ": ends-in-time", rc is not None and secs <= MAX_SECS,
          "rc=%s %.1fs (max %ds) %s" % (rc, secs, MAX_SECS, err[:200]))
    if rc is None:
        return
    check(name + ": no-crash", rc in (0, 1, 2), "rc=%s stderr=%r" % (rc, err[-300:]))
    if not check(name + ": json", isinstance(doc, dict), "stdout=%r stderr=%r" % (out[:300], err[:300])):
        return
    check(name + ": status-matches-exit", EXIT_STATUS.get(rc) == doc.get("status"),
          "rc=%s status=%r" % (rc, doc.get("status")))
    summary = "rc=%s findings=%s" % (rc, [(f.get("code"), f.get("message", "")[:80])
                                          for f in doc.get("findings") or []])
    if c.rc is not None:
        check(name + ": exit-%d" % c.rc, rc == c.rc, summary)
    else:
        check(name + ": status-known", rc in (0, 1, 2), summary)
    if c.code:
        want = (c.code,) + c.alt
        got = [x for x in codes(doc) if x in want]
        check(name + ": finding-" + c.code, got, "want one of %s; %s" % (list(want), summary))
        if c.msg and got:
            check(name + ": message-says-" + c.msg, c.msg in message(doc, got[0]).lower(),
                  message(doc, got[0]))
    for fn in c.more:
        for sub, cond, detail in fn(doc):
            check("%s: %s" % (name, sub), cond, detail)
    for fn in c.dnsmore:
        for sub, cond, detail in fn(doc, dns.stderr()):
            check("%s: %s" % (name, sub), cond, detail)


def main():
    if not os.access(PROBE, os.X_OK):
        check("dns-fault: probe-present", False, "%s not found" % PROBE)
        sys.exit(1)
    try:
        import dnslib  # noqa: F401  (fakedns.py needs it)
    except ImportError:
        check("dns-fault: python3-dnslib", False, "python3-dnslib is not installed")
        sys.exit(1)
    scn = tempfile.NamedTemporaryFile("w", suffix=".scn", delete=False)
    scn.write(SCENARIO)
    scn.close()
    dns = Server([PY, FAKEDNS, "--port", "0", "--lifetime", "120"])
    smtp = Server([PY, FAKESMTP, "--port", "0", "--scenario", scn.name, "--lifetime", "120"])
    try:
        if not check("dns-fault: servers-started", dns.port and smtp.port,
                     "fakedns=%s fakesmtp=%s %s %s" % (dns.port, smtp.port, dns.stderr()[-300:],
                                                     smtp.stderr()[-300:])):
            sys.exit(1)
        with ThreadPoolExecutor(max_workers=8) as ex:
            for f in [ex.submit(run_case, c, dns, smtp.port) for c in CASES]:
                f.result()
    finally:
        dns.stop()
        smtp.stop()
        os.unlink(scn.name)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Every kind of JSON document smtp-probe writes validates against the
published schema (docs/smtp-probe.schema.json), and the schema rejects a
renamed key: the schema cannot drift from render_json without a failure here.

Situations that need no servers: a refused port, a local port that accepts
and stays silent (timeout), one that speaks HTTP (not-smtp), a minimal
in-process SMTP responder (greeting and EHLO objects, no STARTTLS), implicit
TLS against it (a failed handshake: tls object present), -4 on an IPv6
literal, several targets at once (JSON Lines), -v (transcript). When the
suite's servers are up (TESTENV, tests/env/start.sh) also every Postfix
port, the aiosmtpd port, and ::1.

Prints "ok NAME" / "FAIL NAME: why"; exits 1 if anything failed.
Run with /usr/bin/python3 (python3-jsonschema).
"""
import copy
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import schema_check  # noqa: E402
from lib import free_port  # noqa: E402

ROOT = schema_check.ROOT
PROBE = os.environ.get("SMTP_PROBE", os.path.join(ROOT, "build", "smtp-probe"))
TESTENV = os.environ.get("TESTENV", os.path.join(ROOT, "build", "testenv"))
EXIT_STATUS = {0: "ok", 1: "warning", 2: "critical", 3: "unknown"}

failures = 0


def check(name, cond, detail=""):
    global failures
    if cond:
        print("ok %s" % name, flush=True)
    else:
        failures += 1
        detail = str(detail).replace("\n", " | ")[:500]
        print("FAIL %s: %s" % (name, detail or "condition false"), flush=True)
    return cond


def run(args, timeout=20):
    try:
        p = subprocess.run([PROBE, "-o", "json"] + args, capture_output=True,
                           timeout=timeout, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "", str(e)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def validate(name, args, ndocs=1, expect=None, timeout=20):
    """Run the probe with -o json, validate every document; returns the docs."""
    rc, out, err = run(args, timeout)
    if rc is None:
        check(name, False, "could not run %s: %s" % (PROBE, err))
        return []
    docs, errs = schema_check.check_output(out)
    why = "; ".join(errs) + (" stderr=%r" % err.strip()[:200] if err.strip() else "")
    if not check(name, not errs and len(docs) == ndocs,
                 why if errs else "%d documents, want %d" % (len(docs), ndocs)):
        return docs
    worst = max((["ok", "warning", "critical", "unknown"].index(d["status"]) for d in docs))
    check(name + ": status-matches-exit", EXIT_STATUS.get(rc) == EXIT_STATUS[worst],
          "rc=%s statuses=%s" % (rc, [d["status"] for d in docs]))
    if expect:
        for path, want in expect.items():
            got = docs[0]
            for part in path.split("."):
                got = got.get(part) if isinstance(got, dict) else None
            ok = want(got) if callable(want) else got == want
            check("%s: %s" % (name, path), ok, "got %r" % (got,))
    return docs


# ------------------------------------------------------------ local responders
class Listener:
    """A loopback TCP listener with a per-connection behaviour, in a thread."""

    def __init__(self, behaviour):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.behaviour = behaviour
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        try:
            c.settimeout(10)
            self.behaviour(c)
        except OSError:
            pass

    def close(self):
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()


def silent(c):
    time.sleep(5)          # accept, never greet: the probe times out first


def http(c):
    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    time.sleep(1)


def mini_smtp(c):
    """Enough SMTP for a greeting and an EHLO reply; no STARTTLS offered."""
    f = c.makefile("rb")
    c.sendall(b"220 mini.test ESMTP schema test\r\n")
    for line in f:
        cmd = line.strip().upper()
        if cmd.startswith(b"EHLO"):
            c.sendall(b"250-mini.test hello\r\n250-PIPELINING\r\n250-SIZE 1048576\r\n"
                      b"250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
        elif cmd.startswith(b"QUIT"):
            c.sendall(b"221 bye\r\n")
            return
        else:
            c.sendall(b"502 not here\r\n")


def no_server_cases():
    validate("refused", ["127.0.0.1:1"],
             expect={"attempts": lambda a: isinstance(a, list) and len(a) == 1,
                     "greeting": None, "tls": None})
    validate("refused-transcript", ["-v", "127.0.0.1:1"],
             expect={"transcript": lambda t: isinstance(t, list) and len(t) >= 1})
    validate("free-port-timeout-1", ["--timeout", "1", "127.0.0.1:%d" % free_port()])
    validate("ipv4-only-on-ipv6-literal", ["-4", "[::1]:1"],
             expect={"attempts": [], "address": None, "family": None})
    validate("ipv6-only-on-ipv4-literal", ["-6", "127.0.0.1:1"])
    validate("two-targets-json-lines", ["127.0.0.1:1", "[::1]:1"], ndocs=2)
    validate("implicit-tls-refused", ["smtps://127.0.0.1:1"], expect={"tls_mode": "implicit"})
    validate("no-tls-refused", ["--no-tls", "127.0.0.1:1"], expect={"tls_mode": "none"})

    ls = Listener(silent)
    try:
        validate("silent-listener-timeout", ["--timeout", "1", "127.0.0.1:%d" % ls.port],
                 expect={"status": "critical"})
    finally:
        ls.close()
    lh = Listener(http)
    try:
        validate("http-listener", ["--timeout", "2", "127.0.0.1:%d" % lh.port])
    finally:
        lh.close()
    validate("mx-dns-refused", ["--mx", "--timeout", "1", "--resolver", "127.0.0.1:1",
                                "example.test"],
             expect={"domain": "example.test", "probes": []})
    docs = validate("mx-user-at-dns-refused", ["--timeout", "1", "--resolver", "127.0.0.1:1",
                                               "postmaster@example.test"])
    if docs:
        domain_drift_cases(docs[0])

    lm = Listener(mini_smtp)
    try:
        docs = validate("mini-smtp", ["--timeout", "2", "-v", "127.0.0.1:%d" % lm.port],
                        expect={"greeting.code": 220, "ehlo.code": 250,
                                "size.limit": 1048576, "tls": None})
        if docs:
            drift_cases(docs[0])
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as tf:
            tf.write("# schema test batch\n127.0.0.1:1\n\n[::1]:1\n127.0.0.1:%d\n"
                     "smtps://127.0.0.1:%d\n" % (lm.port, lm.port))
            tf.flush()
            validate("batch-json-lines", ["--timeout", "2", "-f", tf.name], ndocs=4)
        validate("mini-smtp-implicit-tls",
                 ["--timeout", "2", "--implicit-tls", "127.0.0.1:%d" % lm.port],
                 expect={"tls.ok": False})
    finally:
        lm.close()


def drift_cases(doc):
    """The schema rejects what drift would look like: renamed, retyped or
    missing keys, at the top level and nested."""
    def mutated(name, fn):
        d = copy.deepcopy(doc)
        fn(d)
        check("schema-rejects-" + name, bool(schema_check.errors(d)), "the schema accepted it")

    def rename(obj, old, new):
        obj[new] = obj.pop(old)

    check("schema-accepts-sample", not schema_check.errors(doc), schema_check.errors(doc))
    mutated("renamed-top-key", lambda d: rename(d, "tls_mode", "tlsmode"))
    mutated("missing-top-key", lambda d: d.pop("timings"))
    mutated("wrong-schema-version", lambda d: d.update(schema="smtp-probe/2"))
    mutated("bad-status", lambda d: d.update(status="fine"))
    mutated("renamed-size-key", lambda d: rename(d["size"], "max_attachment_base64",
                                                 "max_attachment"))
    mutated("renamed-ehlo-key", lambda d: rename(d["ehlo"], "extensions", "ext"))
    mutated("string-port", lambda d: d.update(port=str(d["port"])))
    mutated("bad-severity", lambda d: d["findings"].append(
        {"severity": "error", "code": "x", "message": ""}))
    mutated("bad-transcript-dir", lambda d: d["transcript"].append(
        {"t_ms": 1.0, "dir": "X", "line": ""}))
    mutated("transcript-without-dropped", lambda d: d.pop("transcript_dropped"))
    mutated("extra-nested-key", lambda d: d["starttls"].update(extra=1))


def domain_drift_cases(doc):
    def mutated(name, fn):
        d = copy.deepcopy(doc)
        fn(d)
        check("schema-rejects-domain-" + name, bool(schema_check.errors(d)),
              "the schema accepted it")

    def rename(obj, old, new):
        obj[new] = obj.pop(old)

    check("schema-accepts-domain-sample", not schema_check.errors(doc), schema_check.errors(doc))
    mutated("renamed-top-key", lambda d: rename(d, "null_mx", "nullmx"))
    mutated("missing-probes", lambda d: d.pop("probes"))
    mutated("renamed-summary-key", lambda d: rename(d["summary"], "hosts_answered", "answered"))
    mutated("bad-probe", lambda d: d["probes"].append({"schema": "smtp-probe/1"}))
    mutated("bad-mx", lambda d: d["mx"].append({"preference": 10, "host": "mx.test"}))


# ------------------------------------------------------------ the suite's servers
def testenv():
    try:
        with open(os.path.join(TESTENV, "env.json")) as f:
            env = json.load(f)
    except (OSError, ValueError):
        return None
    try:
        socket.create_connection((env["v4"], env["ports"]["starttls"]), timeout=2).close()
    except (OSError, KeyError):
        return None
    return env


def server_cases(env):
    v4, ca, name = env["v4"], env["ca"], env.get("servername", "mx1.test")
    trust = ["--cafile", ca, "--servername", name]
    for label, port in sorted(env["ports"].items()):
        if label == "dns":
            continue
        args = trust + ["127.0.0.1:%d" % port]
        if label == "smtps":
            args = trust + ["smtps://%s:%d" % (v4, port)]
        docs = validate("testenv-%s" % label, args)
        if label == "starttls" and docs:
            d = docs[0]
            check("testenv-starttls: tls-present",
                  isinstance(d.get("tls"), dict) and d["tls"].get("ok") is True, d.get("tls"))
            check("testenv-starttls: chain-present",
                  isinstance(d.get("tls"), dict) and len(d["tls"].get("chain") or []) >= 1,
                  d.get("tls"))
    p = env["ports"]["starttls"]
    validate("testenv-transcript", trust + ["-v", "%s:%d" % (v4, p)])
    validate("testenv-explain-json", trust + ["--explain", "%s:%d" % (v4, p)])
    validate("testenv-ipv6", trust + ["[%s]:%d" % (env.get("v6", "::1"), p)])
    validate("testenv-pin-mismatch",
             trust + ["--pin", "sha256//" + "A" * 43 + "=", "%s:%d" % (v4, p)],
             expect={"status": "critical"})
    validate("testenv-untrusted", ["%s:%d" % (v4, p)])
    if isinstance(env.get("dns"), dict):
        base = ["--cafile", ca, "--resolver", env["dns"]["resolver"], "-p", str(p),
                "--timeout", "5"]
        for dom in ("example.test", "mixed.test", "nullmx.test", "nomx.test", "cname-mx.test",
                    "noptr.test", "ipmx.test", "nxdomain.test"):
            docs = validate("testenv-mx-%s" % dom.split(".")[0], base + ["--mx", dom], timeout=30)
            if dom == "example.test" and docs:
                check("testenv-mx-example: probes-present", len(docs[0].get("probes") or []) >= 1,
                      docs[0].get("summary"))
        validate("testenv-mx-all-addresses",
                 base + ["--mx", "--all-addresses", "-v", "postmaster@example.test"], timeout=30)
    if "submission" in env["ports"]:
        validate("testenv-two-ports",
                 trust + ["%s:%d" % (v4, p), "submission://%s:%d" % (v4, env["ports"]["submission"])],
                 ndocs=2)


def main():
    err = schema_check.load_error()
    if not check("schema-loads", err is None, err):
        return 1
    if not check("probe-present", os.access(PROBE, os.X_OK), PROBE):
        return 1
    no_server_cases()
    env = testenv()
    if env is None:
        print("# TESTENV %s not up: server cases skipped" % TESTENV, flush=True)
    else:
        server_cases(env)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Small helpers shared by the integration tests (tests/integ/test_*.py).

Each test program prints one line per check, "ok NAME" or "FAIL NAME: why",
which tests/run.sh counts, and exits 1 when any check failed.

Environment (set by tests/run.sh):
  SMTP_PROBE  the binary under test (default build/smtp-probe)
  TESTENV     the directory tests/env/start.sh ran in; its env.json says
              which ports, certificates and DNS server the suite has.
"""
import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROBE = os.environ.get("SMTP_PROBE", os.path.join(ROOT, "build", "smtp-probe"))
TESTENV = os.environ.get("TESTENV", os.path.join(ROOT, "build", "testenv"))

# A hung binary must not stretch the suite past its budget: every run has a
# timeout, and once a program has spent BUDGET seconds the rest fail fast.
RUN_TIMEOUT = float(os.environ.get("SP_TEST_TIMEOUT", "20"))
BUDGET = float(os.environ.get("SP_TEST_BUDGET", "240"))
_started = time.monotonic()

failures = 0
passes = 0
_lock = threading.Lock()

EXIT_STATUS = {0: "ok", 1: "warning", 2: "critical", 3: "unknown"}


def load_env():
    """The test environment's env.json, or exit with one FAIL if absent."""
    path = os.path.join(TESTENV, "env.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        check("testenv-present", False, "%s: %s" % (path, e))
        finish()


def check(name, cond, detail=""):
    """Print "ok NAME" or "FAIL NAME: detail"; return cond as a bool. Safe
    to call from several threads (the fault tests run cases in parallel)."""
    global failures, passes
    with _lock:
        if cond:
            passes += 1
            print("ok %s" % name, flush=True)
            return True
        failures += 1
        detail = str(detail).replace("\n", " | ")
        if len(detail) > 500:
            detail = detail[:500] + "..."
        print("FAIL %s: %s" % (name, detail or "condition false"), flush=True)
        return False


def finish():
    """Exit 1 if any check failed (the FAIL lines already say which)."""
    sys.exit(1 if failures else 0)


def run_probe(args, timeout=None, stdin=None, env=None):
    """Run the probe; return (exit_code, parsed_json_or_None, stdout, stderr).

    exit_code is None when the program could not be run or timed out
    (stderr then says why). parsed_json is the whole stdout parsed as one JSON
    document, or None when it is not one."""
    timeout = timeout or RUN_TIMEOUT
    left = BUDGET - (time.monotonic() - _started)
    if left <= 0:
        return None, None, "", "test budget of %gs used up" % BUDGET
    timeout = min(timeout, left)
    run_env = dict(os.environ)
    if env:
        run_env.update(env)
    try:
        p = subprocess.run([PROBE] + list(args), input=stdin, capture_output=True,
                           timeout=timeout, env=run_env)
    except FileNotFoundError:
        return None, None, "", "%s not found" % PROBE
    except PermissionError as e:
        return None, None, "", str(e)
    except subprocess.TimeoutExpired:
        return None, None, "", "timed out after %gs: %s" % (timeout, " ".join(args))
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    doc = None
    try:
        doc = json.loads(out)
    except ValueError:
        pass
    return p.returncode, doc, out, err


def probe_json(name, args, **kw):
    """run_probe with -o json, plus the checks every JSON run must pass:
    the output parses, has the schema, and its status matches the exit code.
    Returns (rc, doc, out, err); doc is {} when the output did not parse."""
    rc, doc, out, err = run_probe(["-o", "json"] + list(args), **kw)
    check("%s: json-parses" % name, doc is not None,
          "rc=%s stderr=%r stdout=%r" % (rc, err[:200], out[:200]))
    if doc is None:
        return rc, {}, out, err
    check("%s: schema" % name, doc.get("schema") == "smtp-probe/1", doc.get("schema"))
    check("%s: status-matches-exit" % name, EXIT_STATUS.get(rc) == doc.get("status"),
          "rc=%s status=%r" % (rc, doc.get("status")))
    return rc, doc, out, err


def get(doc, path, default=None):
    """get(doc, "tls.chain.0.san") without KeyError/IndexError/TypeError."""
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict):
            if part not in cur:
                return default
            cur = cur[part]
        elif isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                return default
        else:
            return default
    return cur


def finding_codes(doc):
    return [f.get("code") for f in (doc.get("findings") or []) if isinstance(f, dict)]


def finding(doc, code):
    for f in doc.get("findings") or []:
        if isinstance(f, dict) and f.get("code") == code:
            return f
    return None


def summary(rc, doc, err=""):
    """A short description of a result for FAIL details."""
    return "rc=%s status=%s findings=%s err=%s" % (
        rc, doc.get("status") if doc else None,
        [(f.get("severity"), f.get("code")) for f in (doc or {}).get("findings") or []
         if isinstance(f, dict)], err.strip()[:160])


def openssl(*args, stdin=None):
    return subprocess.run(["openssl"] + list(args), input=stdin, capture_output=True,
                          check=True).stdout


def cert_sha256(pem_path):
    """SHA-256 of the certificate DER, lowercase hex without colons, as
    `openssl x509 -fingerprint -sha256` says it."""
    out = openssl("x509", "-in", pem_path, "-noout", "-fingerprint", "-sha256").decode()
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def spki_sha256(pem_path):
    """base64(SHA-256(SubjectPublicKeyInfo DER)), the --pin sha256// value."""
    pub = openssl("x509", "-in", pem_path, "-noout", "-pubkey")
    der = openssl("pkey", "-pubin", "-outform", "DER", stdin=pub)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def cert_not_after(pem_path):
    """notAfter as a UNIX timestamp."""
    import calendar
    out = openssl("x509", "-in", pem_path, "-noout", "-enddate").decode().strip()
    value = out.split("=", 1)[1]            # "Nov 28 07:26:55 2027 GMT"
    return calendar.timegm(time.strptime(value, "%b %d %H:%M:%S %Y GMT"))


def rfc3339_to_epoch(s):
    """Parse "2027-11-28T07:26:55Z" (seconds, UTC); None if malformed."""
    import calendar
    if not isinstance(s, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return calendar.timegm(time.strptime(s, fmt))
        except ValueError:
            pass
    return None


def free_port(dns=False):
    """A port on 127.0.0.1 the kernel says is free for a TCP listener, for a
    server the test starts itself; with dns=True also free for UDP (a DNS
    server binds both). The kernel picks it (bind to port 0): a port merely
    free for UDP may still be held for TCP by a client connection in
    TIME_WAIT from an earlier test, and a listener cannot bind there even with
    SO_REUSEADDR."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            if not dns:
                return port
            try:
                u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
        finally:
            t.close()
            u.close()
    raise OSError("no port free for both TCP and UDP on 127.0.0.1")

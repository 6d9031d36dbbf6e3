#!/usr/bin/python3
"""Batch mode under hostile targets: resource bounds (issues 5 and 6).

One probe process gets 1,000 targets in a file (-f FILE, -o json, -c 50,
--per-host 50, --timeout 1): closed ports, tests/fake/fakesmtp.py servers
that stall, that send garbage or an SSH/HTTP banner, and the real Postfix of
the test environment. Checks:
  - every target gets exactly one JSON line (matched by its "target"),
    and every line is a valid result;
  - the exit code is the worst status of the lines;
  - no file descriptor leak: the number of open descriptors of the probe
    (/proc/PID/fd, sampled every 10 ms) peaks at <= 2*c + 64 and does not
    grow from the first half of the run to the second;
  - memory is flat: the peak RSS (getrusage ru_maxrss) of a 2,000-target
    run is within 1.5x of a 100-target run's (the 100 run goes first, as
    RUSAGE_CHILDREN keeps the maximum over all children).

Targets come from a regular file, not a pipe: run.c reads the targets file
with blocking fgets() inside the event loop, so a pipe that has no line
ready stalls every probe in flight (reported; a stall target with
--timeout 1 then took 5 s).

Prints "ok NAME" / "FAIL NAME: why"; exits 1 if any check failed. About 40 s.
Environment: SMTP_PROBE (the binary), TESTENV (for Postfix's port).
"""
import collections
import json
import resource
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAKE = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")
SCEN = os.path.join(ROOT, "tests", "fake", "scenarios")
PROBE = os.environ.get("SMTP_PROBE", os.path.join(ROOT, "build", "smtp-probe"))
TESTENV = os.environ.get("TESTENV", os.path.join(ROOT, "build", "testenv"))
PY = "/usr/bin/python3"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import check, finish  # noqa: E402
CONC = 50
try:
    with open(PROBE, "rb") as _f:
        ASAN = b"__asan_init" in _f.read()
except OSError:
    ASAN = False
RANK = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}

GARBAGE = ("# Binary garbage instead of a greeting, then FIN.\n"
           "sendraw-hex 00 ff fe 16 03 01 de ad be ef 0d 0a 00 00 32 35 30 0a\n"
           "close\n")



class Fake(Helper):
    def __init__(self, scenario, host):
        super().__init__([PY, FAKE, "--host", host, "--port", "0", "--scenario", scenario,
                          "--lifetime", "300"])
        self.addr = "%s:%s" % (host, self.port) if self.port else None


def nfds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def targets_for(n, fakes, postfix):
    """n targets cycling through the kinds, closed ports on many addresses."""
    out = []
    kinds = ["closed", "stall", "garbage", "ssh", "closed", "http"] + (["postfix"] if postfix else [])
    i = 0
    while len(out) < n:
        k = kinds[i % len(kinds)]
        if k == "closed":
            out.append("127.0.%d.%d:9" % (10 + (i // 250) % 50, i % 250 + 1))
        elif k == "postfix":
            out.append(postfix[i % len(postfix)])
        else:
            group = fakes[k]
            out.append(group[i % len(group)])
        i += 1
    return out


def run_batch(targets, name, watch_fds):
    """Run the probe on a file of targets; returns a dict of what was seen.
    (A regular file, not a pipe: see the note on stdin in the docstring.)"""
    tf = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False)
    tf.write("".join(t + "\n" for t in targets))
    tf.close()
    args = [PROBE, "-o", "json", "-f", tf.name, "-c", str(CONC), "--per-host", str(CONC),
            "--timeout", "1", "--deadline", "10"]
    t0 = time.monotonic()
    env = dict(os.environ)
    if ASAN:
        # ASan keeps freed memory in quarantine (256 MB by default), which
        # grows with the number of probes: RSS would measure ASan, not us.
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                               ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0").lstrip(":")
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    seen = {"samples": [], "lines": [], "err": b""}
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            k = nfds(p.pid)
            if k is not None:
                seen["samples"].append(k)
            time.sleep(0.01)

    if watch_fds:
        threading.Thread(target=sampler, daemon=True).start()
    try:
        out, err = p.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        err += b" [killed after 240 s]"
    stop.set()
    seen["secs"] = time.monotonic() - t0
    seen["lines"] = [l for l in out.decode("utf-8", "replace").splitlines() if l.strip()]
    seen["err"] = err
    seen["rc"] = p.returncode
    # getrusage of the children: the probe is the only child that ran since
    # the previous run_batch, and RUSAGE_CHILDREN keeps the maximum.
    seen["maxrss_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    os.unlink(tf.name)
    return seen


def check_batch(name, targets, seen):
    docs, bad = [], []
    for line in seen["lines"]:
        try:
            docs.append(json.loads(line))
        except ValueError:
            bad.append(line[:120])
    check(name + ": every-line-json", not bad, bad[:3])
    check(name + ": one-line-per-target", len(seen["lines"]) == len(targets),
          "%d lines for %d targets in %.0fs; stderr=%r" % (len(seen["lines"]), len(targets),
                                                         seen["secs"], seen["err"][-300:]))
    want = collections.Counter(targets)
    got = collections.Counter(d.get("target") for d in docs)
    check(name + ": targets-match", want == got,
          "missing=%s extra=%s" % (list((want - got).items())[:5], list((got - want).items())[:5]))
    statuses = [d.get("status") for d in docs]
    check(name + ": statuses-valid", all(s in RANK for s in statuses),
          collections.Counter(statuses))
    worst = max((RANK.get(s, 3) for s in statuses), default=0)
    check(name + ": exit-is-worst", seen["rc"] == worst,
          "rc=%s worst=%s statuses=%s" % (seen["rc"], worst, dict(collections.Counter(statuses))))
    return docs


def main():
    if not os.access(PROBE, os.X_OK):
        check("batch: probe-present", False, PROBE)
        sys.exit(1)
    postfix = []
    try:
        with open(os.path.join(TESTENV, "env.json")) as f:
            env = json.load(f)
        port = env["ports"]["starttls"]
        postfix = ["127.0.0.1:%d" % port, "127.0.0.3:%d" % port, "127.0.0.4:%d" % port]
    except (OSError, ValueError, KeyError) as e:
        check("batch: testenv", False, "no Postfix port from %s: %s" % (TESTENV, e))
    gfile = tempfile.NamedTemporaryFile("w", suffix=".scn", delete=False)
    gfile.write(GARBAGE)
    gfile.close()
    fakes = {"stall": [], "garbage": [], "ssh": [], "http": []}
    servers = []
    try:
        for i, (kind, scn) in enumerate([("stall", "stall.scn"), ("stall", "stall.scn"),
                                         ("stall", "stall.scn"), ("garbage", gfile.name),
                                         ("garbage", gfile.name), ("ssh", "ssh.scn"),
                                         ("http", "http.scn")]):
            f = Fake(os.path.join(SCEN, scn), "127.0.5.%d" % (i + 1))
            servers.append(f)
            if f.addr:
                fakes[kind].append(f.addr)
        if not check("batch: fake-servers", all(f.addr for f in servers),
                     [f.addr for f in servers]):
            sys.exit(1)

        # Flat memory: 100 vs 2,000 targets (no Postfix: its process limit
        # and TLS cost are not what is measured here).
        small = run_batch(targets_for(100, fakes, []), "batch-100", watch_fds=False)
        check_batch("batch-100", targets_for(100, fakes, []), small)
        big_t = targets_for(2000, fakes, [])
        big = run_batch(big_t, "batch-2000", watch_fds=False)
        check_batch("batch-2000", big_t, big)
        print("# max RSS: 100 targets %d KiB, 2000 targets %d KiB" % (
            small["maxrss_kb"], big["maxrss_kb"]), flush=True)
        check("batch: rss-flat", big["maxrss_kb"] <= 1.5 * small["maxrss_kb"],
              "100 targets: %d KiB, 2000 targets: %d KiB" % (small["maxrss_kb"], big["maxrss_kb"]))
        # 1,000 hostile targets: lines, exit code, descriptors.
        targets = targets_for(1000, fakes, postfix)
        seen = run_batch(targets, "batch-1000", watch_fds=True)
        docs = check_batch("batch-1000", targets, seen)
        sm = seen["samples"]
        peak = max(sm, default=0)
        half = len(sm) // 2
        first, second = max(sm[:half], default=0), max(sm[half:], default=0)
        check("batch-1000: fd-peak-bounded", 0 < peak <= 2 * CONC + 64,
              "peak %d open fds (bound %d), %d samples" % (peak, 2 * CONC + 64, len(sm)))
        # A leak grows with the targets done: the second half of the run
        # would hold more descriptors than the first.
        check("batch-1000: no-fd-growth", len(sm) >= 10 and second <= first + 8,
              "peak fds first half %d, second half %d (%d samples)" % (first, second, len(sm)))
        codes = collections.Counter()
        for d in docs:
            for f in d.get("findings") or []:
                codes[f.get("code")] += 1
        check("batch-1000: faults-seen", codes.get("connect-failed", 0) > 0 and
              codes.get("timeout", 0) > 0, dict(codes))
        if postfix:
            ok = [d for d in docs if d.get("target") in postfix and
                  (d.get("greeting") or {}).get("code") == 220]
            check("batch-1000: postfix-answered", len(ok) == sum(t in postfix for t in targets),
                  "%d of %d" % (len(ok), sum(t in postfix for t in targets)))
        print("# 1000 targets: %.1fs, peak fds %d" % (seen["secs"], peak), flush=True)

    finally:
        for f in servers:
            f.stop()
        os.unlink(gfile.name)
    finish()


if __name__ == "__main__":
    main()

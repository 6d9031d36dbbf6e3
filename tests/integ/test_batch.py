#!/usr/bin/python3
"""Batch mode under hostile targets: resource bounds (issues 5 and 6).

One probe process gets 1,000 targets on stdin (-f -, -o json, -c 50,
--per-host 50, --timeout 1): closed ports, tests/fake/fakesmtp.py servers
that stall, that send garbage or an SSH/HTTP banner, and the real Postfix of
the test environment. Checks:
  - every target gets exactly one JSON line (matched by its "target"),
    and every line is a valid result;
  - the exit code is the worst status of the lines;
  - no file descriptor leak: the number of open descriptors of the probe
    (/proc/PID/fd), sampled once every target has its line while the probe
    still waits for more input on stdin, is back at what it was before the
    first target; and the peak while it ran stays <= 2*c + 64;
  - memory is flat: the peak RSS (wait4's ru_maxrss) of a 2,000-target run
    is within 1.5x of a 100-target run's.

Prints "ok NAME" / "FAIL NAME: why"; exits 1 if any check failed. About 40 s.
Environment: SMTP_PROBE (the binary), TESTENV (for Postfix's port).
"""
import collections
import json
import os
import select
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
CONC = 50
RANK = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}

GARBAGE = ("# Binary garbage instead of a greeting, then FIN.\n"
           "sendraw-hex 00 ff fe 16 03 01 de ad be ef 0d 0a 00 00 32 35 30 0a\n"
           "close\n")

failures = 0


def check(name, cond, detail=""):
    global failures
    detail = str(detail).replace("\n", " | ")
    if len(detail) > 500:
        detail = detail[:500] + "..."
    if cond:
        print("ok %s" % name, flush=True)
    else:
        failures += 1
        print("FAIL %s: %s" % (name, detail or "condition false"), flush=True)
    return bool(cond)


class Fake:
    def __init__(self, scenario, host):
        self.p = subprocess.Popen([PY, FAKE, "--host", host, "--port", "0", "--scenario",
                                   scenario, "--lifetime", "300"],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  stdin=subprocess.DEVNULL)
        self.addr = None
        ready, _, _ = select.select([self.p.stdout], [], [], 10)
        line = self.p.stdout.readline().decode() if ready else ""
        if line.startswith("listening "):
            self.addr = "%s:%s" % (host, line.split()[2])

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()


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
    """Feed targets on stdin; returns a dict of what was seen."""
    args = [PROBE, "-o", "json", "-f", "-", "-c", str(CONC), "--per-host", str(CONC),
            "--timeout", "1", "--deadline", "10"]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    seen = {"peak_fds": 0, "lines": [], "err": b""}
    time.sleep(0.3)
    seen["fds_before"] = nfds(p.pid)

    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            k = nfds(p.pid)
            if k is not None and k > seen["peak_fds"]:
                seen["peak_fds"] = k
            time.sleep(0.01)

    def errreader():
        seen["err"] = p.stderr.read()

    threading.Thread(target=errreader, daemon=True).start()
    if watch_fds:
        threading.Thread(target=sampler, daemon=True).start()

    def writer():
        try:
            for t in targets:
                p.stdin.write((t + "\n").encode())
            p.stdin.flush()
        except BrokenPipeError:
            pass

    w = threading.Thread(target=writer, daemon=True)
    w.start()
    t0 = time.monotonic()
    limit = 150
    while len(seen["lines"]) < len(targets) and time.monotonic() - t0 < limit:
        ready, _, _ = select.select([p.stdout], [], [], 1)
        if ready:
            line = p.stdout.readline()
            if not line:
                break
            seen["lines"].append(line)
    seen["secs"] = time.monotonic() - t0
    # Every target has its line and stdin is still open: the probe is idle.
    time.sleep(0.3)
    seen["fds_after"] = nfds(p.pid)
    stop.set()
    try:
        p.stdin.close()
    except BrokenPipeError:
        pass
    rest = p.stdout.read()
    seen["lines"] += [l for l in rest.splitlines(True) if l.strip()]
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    seen["rc"] = p.returncode
    seen["maxrss_kb"] = ru.ru_maxrss
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

        # 1,000 hostile targets: lines, exit code, descriptors.
        targets = targets_for(1000, fakes, postfix)
        seen = run_batch(targets, "batch-1000", watch_fds=True)
        docs = check_batch("batch-1000", targets, seen)
        check("batch-1000: no-fd-leak", seen["fds_before"] is not None and
              seen["fds_after"] == seen["fds_before"],
              "fds before=%s after all targets=%s" % (seen["fds_before"], seen["fds_after"]))
        check("batch-1000: fd-peak-bounded", 0 < seen["peak_fds"] <= 2 * CONC + 64,
              "peak %d open fds (bound %d)" % (seen["peak_fds"], 2 * CONC + 64))
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
        print("# 1000 targets: %.1fs, fds %s -> peak %s -> %s, max RSS %d KiB" % (
            seen["secs"], seen["fds_before"], seen["peak_fds"], seen["fds_after"],
            seen["maxrss_kb"]), flush=True)

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
    finally:
        for f in servers:
            f.stop()
        os.unlink(gfile.name)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

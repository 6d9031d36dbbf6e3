#!/usr/bin/python3
"""Measurements for scripts/bench.sh (run inside the benchmark namespace).

    measure.py RESULTS.json single|rtt|batch|callgrind|floor [options]
    measure.py RESULTS.json report MACHINE.json OUT.md

Each measuring subcommand adds its section to RESULTS.json; `report` turns
the whole file into the Markdown tables (printed and written to OUT.md).
Per run: wall time from perf_counter around fork/exec/wait, user+sys CPU and
peak RSS from wait4()'s rusage (which includes the tool's own children, so
testssl's openssl processes count), all in one process started once, so no
interpreter start-up is measured. Tools alternate run by run.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile


RUNSTAT = os.environ.get("RUNSTAT", "runstat")


def run_once(argv, stdin=None, env=None, out=None, err=None):
    """Run argv under runstat; return dict(wall, cpu, rss_kib, rc) (seconds, KiB)."""
    fd, stat = tempfile.mkstemp(prefix="runstat.")
    os.close(fd)
    try:
        p = subprocess.Popen([RUNSTAT, stat] + argv,
                             stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=out if out is not None else subprocess.DEVNULL,
                             stderr=err if err is not None else
                             subprocess.STDOUT if out is not None else subprocess.DEVNULL,
                             env=env)
        if stdin is not None:
            try:
                p.stdin.write(stdin)
                p.stdin.close()
            except BrokenPipeError:
                pass
        p.wait()
        with open(stat) as f:
            wall, ut, st, rss, rc = (int(x) for x in f.read().split())
    finally:
        os.unlink(stat)
    return {"wall": wall / 1e6, "cpu": (ut + st) / 1e6, "rss_kib": rss, "rc": rc}


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def save(path, data):
    with open(path + ".tmp", "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.rename(path + ".tmp", path)


# ------------------------------------------------------------------ the tools

def tools(a, port, dns_add=None, dns_min=None, system=False):
    """name -> (argv, stdin bytes, env). Same target, same information asked:
    greeting, EHLO, STARTTLS, TLS handshake with verification where the tool
    does it, EHLO after TLS, QUIT."""
    host = "127.0.0.1"
    env_ptf = dict(os.environ, MAIL_CONFIG=a.ptf_config)
    t = {
        "smtp-probe": ([a.probe, "--cafile", a.ca, "--servername", "mx1.test",
                        "--helo", "bench.test", "%s:%d" % (host, port)], None, None),
        "openssl s_client": (["openssl", "s_client", "-starttls", "smtp", "-connect",
                              "%s:%d" % (host, port), "-CAfile", a.ca, "-verify_hostname",
                              "mx1.test", "-name", "bench.test", "-crlf", "-ign_eof", "-quiet"],
                             b"EHLO bench.test\nQUIT\n", None),
        "posttls-finger": (["posttls-finger", "-c", "-l", "secure", "-F", a.ca,
                            "-o", "smtp_helo_name=bench.test", "[%s]:%d" % (host, port),
                            "mx1.test"], None, env_ptf),
        "swaks": (["swaks", "--server", "%s:%d" % (host, port), "--tls", "--quit-after",
                   "EHLO", "--helo", "bench.test"], None, None),
        "curl": (["curl", "-sS", "-v", "smtp://%s:%d" % (host, port), "--ssl-reqd", "-X",
                  "NOOP", "--cacert", a.ca], None, None),
        "testssl.sh -S": (["testssl", "--starttls", "smtp", "-S", "--quiet", "--color", "0",
                           "--nodns", "none", "--warnings", "off", "%s:%d" % (host, port)],
                          None, None),
    }
    if system:
        # As users run them: no CA file, the system's trust store (which
        # does not hold the test CA: the chain is reported untrusted).
        t["smtp-probe (system store)"] = ([a.probe, "--servername", "mx1.test", "--helo",
                                           "bench.test", "%s:%d" % (host, port)], None, None)
        t["openssl s_client (system store)"] = (
            ["openssl", "s_client", "-starttls", "smtp", "-connect", "%s:%d" % (host, port),
             "-verify_hostname", "mx1.test", "-name", "bench.test", "-crlf", "-ign_eof",
             "-quiet"], b"EHLO bench.test\nQUIT\n", None)
        # What starting a program costs here, without probing anything.
        t["smtp-probe --version (start-up only)"] = ([a.probe, "--version"], None, None)
        t[START] = (["/bin/true"], None, None)
    if dns_add:
        for label, dns in (("smtp-probe --mx (addresses in additional)", dns_add),
                           ("smtp-probe --mx (no additional section)", dns_min)):
            t[label] = ([a.probe, "--mx", "-p", str(port), "--resolver", dns, "--cafile", a.ca,
                         "--helo", "bench.test", "dom.test"], None, None)
    return t


SLOW = ("testssl.sh -S",)
START = "/bin/true (process start)"
ORDER = ["smtp-probe", "openssl s_client", "posttls-finger", "curl", "swaks", "testssl.sh -S"]


def ordered(d):
    """Items of d, smtp-probe first, peers in a fixed order, the rest after."""
    keys = [k for k in ORDER if k in d] + sorted(k for k in d if k not in ORDER)
    return [(k, d[k]) for k in keys]


def check_first(name, argv, stdin, env, logdir):
    """One warm-up run, output kept, so a broken tool shows in the log."""
    path = os.path.join(logdir, re.sub(r"[^a-z0-9]+", "_", name.lower()) + ".log")
    with open(path, "wb") as out:
        r = run_once(argv, stdin, env, out)
    if r["rc"] not in (0, 1):
        print("bench: %s exited %d (see %s)" % (name, r["rc"], path), file=sys.stderr)
    return r["rc"]


def med(xs):
    return statistics.median(xs) if xs else None


def cmd_single(a, res):
    ts = tools(a, a.port, system=True)
    rc = {n: check_first(n, *ts[n], a.logdir) for n in ts}
    runs = {n: [] for n in ts}
    for i in range(a.runs):
        for n, (argv, stdin, env) in ts.items():
            if n in SLOW and i >= a.slow_runs:
                continue
            runs[n].append(run_once(argv, stdin, env))
    out = {}
    for n, rs in runs.items():
        if not rs:
            continue
        out[n] = {"runs": len(rs), "rc": rc[n],
                  "wall_ms": med([r["wall"] * 1000 for r in rs]),
                  "cpu_ms": med([r["cpu"] * 1000 for r in rs]),
                  "rss_kib": med([r["rss_kib"] for r in rs]),
                  "bad_runs": sum(1 for r in rs if r["rc"] not in (0, 1))}
    res["single"] = out


def cmd_rtt(a, res):
    delays = []
    for spec in a.delay:   # RTT_MS:TCPPORT[:DNS_ADD:DNS_MIN]
        f = spec.split(":")
        delays.append((float(f[0]), int(f[1]), f[2] if len(f) > 2 else None,
                       f[3] if len(f) > 3 else None))
    sets = [tools(a, port, dns_add and "127.0.0.1:" + dns_add, dns_min and "127.0.0.1:" + dns_min)
            for _, port, dns_add, dns_min in delays]
    names = list(sets[0])
    for n in names:
        check_first("rtt " + n, *sets[-1][n], a.logdir)
    walls = {n: [[] for _ in delays] for n in names}
    for i in range(a.runs):
        for n in names:
            if n in SLOW and i >= a.slow_runs:
                continue
            for k in range(len(delays)):
                argv, stdin, env = sets[k][n]
                walls[n][k].append(run_once(argv, stdin, env)["wall"] * 1000)
    (r1, *_), (r2, *_) = delays[0], delays[-1]
    out = {"rtt_ms": [d[0] for d in delays], "tools": {}}
    for n in names:
        if not walls[n][0]:
            continue
        m1, m2 = med(walls[n][0]), med(walls[n][-1])
        out["tools"][n] = {"runs": len(walls[n][0]), "wall_ms": [m1, m2],
                           "round_trips": (m2 - m1) / (r2 - r1)}
    # Where smtp-probe --mx spends its round trips: its own JSON timings.
    for n in names:
        if not n.startswith("smtp-probe --mx") or n not in out["tools"]:
            continue
        parts = []
        for k in range(len(delays)):
            argv, _, _ = sets[k][n]
            p = subprocess.run(argv + ["-o", "json"], capture_output=True)
            try:
                doc = json.loads(p.stdout)
                pr = (doc.get("probes") or [{}])[0]
                parts.append({"dns_ms": (doc.get("timings") or {}).get("dns_ms"),
                              "total_ms": (doc.get("timings") or {}).get("total_ms"),
                              "timings": pr.get("timings")})
            except ValueError:
                parts.append(None)
        out["tools"][n]["json"] = parts
    res["rtt"] = out


def cmd_batch(a, res):
    out = []
    for n in a.sizes:
        path = os.path.join(a.logdir, "targets-%d.txt" % n)
        with open(path, "w") as f:
            for i in range(n):
                f.write("127.%d.%d.%d:%d\n" % (1 + i // 62500, (i // 250) % 250, i % 250 + 1,
                                               a.port))
        for c in a.conc:
            if "%dx%d" % (n, c) in a.skip.split(","):
                continue
            argv = [a.probe, "-f", path, "-c", str(c), "-o", "json", "--cafile", a.ca,
                    "--servername", "mx1.test", "--helo", "bench.test", "--timeout", "30"]
            # Peak RSS at high concurrency varies from run to run (how many
            # probes are in flight at once, how the heap fragments): the run
            # with the median peak of a.mem_reps is kept.
            samples = []
            for _ in range(a.mem_reps if c >= 100 else 1):
                with tempfile.TemporaryFile() as tmp, \
                        open(os.path.join(a.logdir, "batch-%d-c%d.stderr" % (n, c)), "wb") as err:
                    r = run_once(argv, None, None, tmp, err)
                    tmp.seek(0)
                    lines = tmp.read().splitlines()
                st = {}
                for ln in lines:
                    try:
                        s = json.loads(ln).get("status", "?")
                    except ValueError:
                        s = "unparsed"
                    st[s] = st.get(s, 0) + 1
                samples.append((r["rss_kib"], r, st))
            samples.sort(key=lambda x: x[0])
            _, r, st = samples[len(samples) // 2]
            row = {"targets": n, "c": c, "wall_s": r["wall"], "cpu_s": r["cpu"],
                   "rss_kib": r["rss_kib"], "rc": r["rc"], "status": st,
                   "per_s": n / r["wall"], "cpu_ms_per_probe": r["cpu"] * 1000 / n}
            out.append(row)
            print("bench: batch %d targets -c %d: %.1f/s, %.2f ms CPU/probe, %d KiB, %s"
                  % (n, c, row["per_s"], row["cpu_ms_per_probe"], r["rss_kib"], st),
                  file=sys.stderr)
    res["batch"] = {"rows": out, "record_buffers_kib": a.record_buffers / 1024.0,
                    "mem_reps": a.mem_reps}


def cmd_callgrind(a, res):
    out = {}
    for label, extra in (("one probe", ["--cafile", a.ca, "--servername", "mx1.test",
                                         "--helo", "bench.test", "127.0.0.1:%d" % a.port]),
                         ("--version (start-up only)", ["--version"])):
        f = os.path.join(a.logdir, "callgrind.%s.out" % ("probe" if extra[0] != "--version"
                                                          else "version"))
        subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + f, a.probe]
                       + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = None
        with open(f) as fh:
            for ln in fh:
                if ln.startswith("totals:") or ln.startswith("summary:"):
                    total = int(ln.split()[1])
        top = []
        if extra[0] != "--version":
            p = subprocess.run(["callgrind_annotate", "--inclusive=no", f], capture_output=True,
                               text=True)
            for ln in p.stdout.splitlines():
                m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(\S+)", ln)
                if m and "PROGRAM TOTALS" not in ln:
                    fn = m.group(3).split(":")[-1]
                    top.append([fn, int(m.group(1).replace(",", "")), float(m.group(2))])
                if len(top) >= 10:
                    break
        out[label] = {"instructions": total, "top_self": top}
    res["callgrind"] = out


def cmd_floor(a, res):
    rates = {}
    for args, key, pat in ((["ecdh", "x25519"], "x25519", r"ECDHE-x25519\s*:\s*(\d+)"),
                           (["ecdsa", "secp256r1"], "ecdsa_p256_verify",
                            r"ECDSA-secp256r1\s*:\s*(\d+)\s*verify/s")):
        with tempfile.TemporaryFile() as tmp:
            r = run_once([a.benchmark] + args, None, None, tmp)
            tmp.seek(0)
            text = tmp.read().decode(errors="replace")
        m = re.search(pat, text)
        # The benchmark counts operations per wall-clock second; on a shared
        # virtual machine part of that wall time is not ours, so scale by
        # the process's own CPU share to get operations per CPU second.
        share = r["cpu"] / r["wall"] if r["wall"] > 0 else 1.0
        rates[key] = {"per_wall_s": int(m.group(1)) if m else None, "cpu_share": share,
                      "per_cpu_s": int(m.group(1)) / share if m and share > 0 else None}
    # The hardware reference: OpenSSL's assembly on the same CPU, same
    # scaling by CPU share (`openssl speed` also counts per wall second).
    hw = {}
    with tempfile.TemporaryFile() as tmp:
        r = run_once(["openssl", "speed", "-seconds", "1", "ecdhx25519", "ecdsap256"], None, None,
                     tmp)
        tmp.seek(0)
        text = tmp.read().decode(errors="replace")
    share = r["cpu"] / r["wall"] if r["wall"] > 0 else 1.0
    m = re.search(r"ecdh \(X25519\)\s+\S+\s+([\d.]+)", text)
    if m:
        hw["x25519"] = float(m.group(1)) / share
    m = re.search(r"ecdsa \(nistp256\)\s+\S+\s+\S+\s+[\d.]+\s+([\d.]+)", text)
    if m:
        hw["ecdsa_p256_verify"] = float(m.group(1)) / share
    x, v = rates["x25519"], rates["ecdsa_p256_verify"]
    floor = None
    if x["per_cpu_s"] and v["per_cpu_s"]:
        # Client side of a TLS 1.3 handshake with this chain: one x25519 key
        # generation + shared secret, the CertificateVerify ECDSA P-256
        # check, and the leaf's signature by the CA (the CA itself is the
        # trust anchor: no check of its self-signature).
        floor = 1000.0 / x["per_cpu_s"] + 2 * 1000.0 / v["per_cpu_s"]
    res["floor"] = {"rates": rates, "floor_ms": floor, "openssl_per_cpu_s": hw,
                    "floor_wall_ms": (1000.0 / x["per_wall_s"] + 2000.0 / v["per_wall_s"])
                    if x["per_wall_s"] and v["per_wall_s"] else None}


# ------------------------------------------------------------------ report

def fmt(x, nd=1):
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return ("%." + str(nd) + "f") % x
    return str(x)


def ratio(x, y):
    if not x or not y:
        return "n/a"
    r = y / x
    return ("%.1f×" % r) if r < 100 else ("%.0f×" % r)


def cmd_report(a, res):
    mach = load(a.machine) if a.machine else {}
    L = []
    P = L.append
    P("# smtp-probe benchmarks")
    P("")
    P("Produced by `scripts/bench.sh` (every figure below comes from one run of it; "
      "rerun it to refresh this file: `sudo scripts/bench.sh --write-docs`).")
    P("")
    P("| machine | |")
    P("|---|---|")
    for k in ("date", "cpu", "nproc", "kernel", "os", "smtp_probe", "openssl", "swaks",
              "curl", "postfix", "testssl", "bench_seconds"):
        if k in mach:
            P("| %s | %s |" % (k.replace("_", " "), mach[k]))
    P("")
    P("Everything runs inside a private network namespace (its own loopback): a private "
      "Postfix 3.7 (STARTTLS, the test PKI's EC P-256 leaf + CA, TLS 1.3), two NSD "
      "instances, a delaying TCP/UDP proxy and a fake SMTP server for the batch runs. "
      "Peers ask for the same information: greeting, EHLO, STARTTLS, TLS handshake, "
      "EHLO again, QUIT (openssl s_client gets `EHLO` + `QUIT` on stdin; swaks "
      "`--tls --quit-after EHLO`, which is the EHLO after TLS; curl `-X NOOP`; "
      "posttls-finger `-l secure`; testssl.sh `--starttls smtp -S`, server defaults only, "
      "far less than its full run).")
    P("")
    s = res.get("single", {})
    targets = []
    if s:
        me = s.get("smtp-probe", {})
        P("## 1. One probe on loopback (medians)")
        P("")
        P("| tool | runs | wall ms | CPU ms (user+sys) | peak RSS KiB | CPU vs smtp-probe | RSS vs smtp-probe |")
        P("|---|---:|---:|---:|---:|---:|---:|")
        for n, v in ordered(s):
            bad = " (exit %d)" % v["rc"] if v["rc"] not in (0, 1) else ""
            P("| %s%s | %d | %s | %s | %d | %s | %s |" % (
                n, bad, v["runs"], fmt(v["wall_ms"]), fmt(v["cpu_ms"]), v["rss_kib"],
                ratio(me.get("cpu_ms"), v["cpu_ms"]), ratio(me.get("rss_kib"), v["rss_kib"])))
        P("")
        P("Ratios are the peer's figure divided by smtp-probe's (higher = smtp-probe "
          "better).")
        P("")
        peers = [n for n in s if not n.startswith("smtp-probe") and n != START]
        sv, st_ = s.get("smtp-probe --version (start-up only)", {}), s.get(START, {})
        if sv.get("cpu_ms") is not None and st_.get("cpu_ms") is not None:
            P("Two rows start a program without probing: `/bin/true` is what "
              "any process start costs on this machine (fork, exec, the dynamic loader), "
              "`smtp-probe --version` what starting smtp-probe costs (its libraries, "
              "relocations, first page faults).")
            P("")
        ms, os_ = s.get("smtp-probe (system store)", {}), s.get("openssl s_client (system store)", {})
        if ms.get("cpu_ms") is not None:
            targets.append(("Default probe (system trust store) ≤ 3 ms CPU, below openssl "
                            "s_client with its default store",
                            ms["cpu_ms"] <= 3.0 and os_.get("cpu_ms") is not None
                            and ms["cpu_ms"] < os_["cpu_ms"],
                            "%s ms vs openssl s_client %s ms (%s)"
                            % (fmt(ms.get("cpu_ms")), fmt(os_.get("cpu_ms")),
                               ratio(ms.get("cpu_ms"), os_.get("cpu_ms")))))
            if sv.get("cpu_ms") is not None:
                own = ms["cpu_ms"] - sv["cpu_ms"]
                targets.append(("Default probe's own work (system store, less smtp-probe's "
                                "start-up) ≤ 3 ms CPU", own <= 3.0,
                                "%s ms − %s ms (`--version`) = %s ms; any process start "
                                "here: %s ms (`/bin/true`)"
                                % (fmt(ms["cpu_ms"]), fmt(sv["cpu_ms"]), fmt(own),
                                   fmt(st_.get("cpu_ms")))))
        o = s.get("openssl s_client", {})
        targets.append(("CPU per single probe below openssl s_client's",
                        me.get("cpu_ms") is not None and o.get("cpu_ms") is not None
                        and me["cpu_ms"] < o["cpu_ms"],
                        "%s ms vs %s ms (openssl/smtp-probe = %s); swaks %s, testssl.sh -S %s"
                        % (fmt(me.get("cpu_ms")), fmt(o.get("cpu_ms")),
                           ratio(me.get("cpu_ms"), o.get("cpu_ms")),
                           ratio(me.get("cpu_ms"), s.get("swaks", {}).get("cpu_ms")),
                           ratio(me.get("cpu_ms"), s.get("testssl.sh -S", {}).get("cpu_ms")))))
        lowest = min(peers, key=lambda n: s[n]["rss_kib"]) if peers else None
        if lowest:
            targets.append(("Peak RSS per single probe below every peer's",
                            me.get("rss_kib", 1 << 30) < s[lowest]["rss_kib"],
                            "%d KiB vs lowest peer %s %d KiB"
                            % (me.get("rss_kib", 0), lowest, s[lowest]["rss_kib"])))
    r = res.get("rtt")
    if r:
        P("## 2. Round trips (delaying proxy in the namespace)")
        P("")
        P("Each tool ran through a proxy adding %g ms, then %g ms, of round-trip time "
          "(half each way, per read); round trips = (wall at %g − wall at %g) / %g ms, "
          "which cancels the tool's own CPU time. Medians of the runs shown."
          % (r["rtt_ms"][0], r["rtt_ms"][-1], r["rtt_ms"][-1], r["rtt_ms"][0],
             r["rtt_ms"][-1] - r["rtt_ms"][0]))
        P("")
        P("| tool | runs | wall ms @%g | wall ms @%g | round trips |" % (r["rtt_ms"][0], r["rtt_ms"][-1]))
        P("|---|---:|---:|---:|---:|")
        for n, v in ordered(r["tools"]):
            P("| %s | %d | %s | %s | %.1f |" % (n, v["runs"], fmt(v["wall_ms"][0]),
                                                fmt(v["wall_ms"][1]), v["round_trips"]))
        P("")
        t = r["tools"]
        me = t.get("smtp-probe", {}).get("round_trips")
        if me is not None:
            fewer = [n for n in t if not n.startswith("smtp-probe")
                     and t[n]["round_trips"] < me - 0.5]
            targets.append(("Round trips = protocol minimum (6 with TLS 1.3), no peer fewer",
                            round(me) == 6 and not fewer,
                            "smtp-probe %.1f; %s" % (me, ("fewer: " + ", ".join(fewer))
                                                     if fewer else "no peer uses fewer")))
        ma = t.get("smtp-probe --mx (addresses in additional)", {}).get("round_trips")
        mn = t.get("smtp-probe --mx (no additional section)", {}).get("round_trips")
        if ma is not None and mn is not None:
            span = r["rtt_ms"][-1] - r["rtt_ms"][0]
            dns_rt = {}
            for n in ("smtp-probe --mx (addresses in additional)",
                      "smtp-probe --mx (no additional section)"):
                js = t[n].get("json") or []
                if len(js) == 2 and all(js) and js[0].get("dns_ms") is not None:
                    dns_rt[n] = (js[1]["dns_ms"] - js[0]["dns_ms"]) / span
                    P("- %s: DNS phase %.0f → %.0f ms = **%.1f round trips**; whole document "
                      "%s → %s ms (its JSON timings)."
                      % (n, js[0]["dns_ms"], js[1]["dns_ms"], dns_rt[n], fmt(js[0]["total_ms"], 0),
                         fmt(js[1]["total_ms"], 0)))
            P("")
            da = dns_rt.get("smtp-probe --mx (addresses in additional)")
            dn = dns_rt.get("smtp-probe --mx (no additional section)")
            if da is not None and dn is not None:
                targets.append(("--mx uses the addresses in the MX answer's additional section "
                                "(DNS: 1 round trip instead of 2)", dn - da > 0.5,
                                "DNS phase %.1f round trips with additional addresses, %.1f "
                                "without" % (da, dn)))
            targets.append(("--mx end to end = DNS (1 or 2) + 6", round(ma) <= 7 and round(mn) <= 8,
                            "%.1f round trips with additional addresses, %.1f without "
                            "(minimum 7 and 8)" % (ma, mn)))
    b = res.get("batch")
    fl = res.get("floor")
    if b:
        P("## 3. Batch (`-f`, fake STARTTLS server, distinct 127.x.y.z targets)")
        P("")
        P("Runs at -c 100 and more were repeated %d times; each row is the run with the "
          "median peak RSS." % b.get("mem_reps", 1))
        P("")
        P("| targets | -c | wall s | targets/s | CPU ms/probe | peak RSS KiB | results |")
        P("|---:|---:|---:|---:|---:|---:|---|")
        for row in b["rows"]:
            P("| %d | %d | %.2f | %.0f | %.2f | %d | %s |" % (
                row["targets"], row["c"], row["wall_s"], row["per_s"], row["cpu_ms_per_probe"],
                row["rss_kib"], ", ".join("%s %d" % kv for kv in sorted(row["status"].items()))))
        P("")
        rows = b["rows"]
        big = max(r_["targets"] for r_ in rows)
        by = {(r_["targets"], r_["c"]): r_ for r_ in rows}
        cs = sorted({r_["c"] for r_ in rows if r_["targets"] == big})
        per = None
        if len(cs) >= 2 and (big, cs[0]) in by and (big, cs[-1]) in by:
            per = (by[(big, cs[-1])]["rss_kib"] - by[(big, cs[0])]["rss_kib"]) / (cs[-1] - cs[0])
            P("RSS per probe in flight: (peak RSS at -c %d − at -c %d) / %d = **%.1f KiB** "
              "(%d targets); mbedTLS's record buffers are %.1f KiB of that, so %.1f KiB "
              "beyond them." % (cs[-1], cs[0], cs[-1] - cs[0], per, big,
                                b["record_buffers_kib"], per - b["record_buffers_kib"]))
            P("")
            targets.append(("RSS per probe in flight ≤ 48 KiB", per <= 48,
                            "%.1f KiB per probe" % per))
            targets.append(("RSS per probe in flight ≤ 64 KiB beyond mbedTLS's record buffers",
                            per - b["record_buffers_kib"] <= 64,
                            "%.1f KiB per probe, %.1f KiB beyond the %.1f KiB of record buffers"
                            % (per, per - b["record_buffers_kib"], b["record_buffers_kib"])))
        small = min(r_["targets"] for r_ in rows)
        flat = [(c, by[(small, c)]["rss_kib"], by[(big, c)]["rss_kib"])
                for c in sorted({r_["c"] for r_ in rows})
                if (small, c) in by and (big, c) in by]
        if flat and small != big:
            P("Memory bounded by -c, not by the number of targets: peak RSS "
              + "; ".join("-c %d: %d KiB for %d targets, %d KiB for %d" % (c, x, small, y, big)
                          for c, x, y in flat) + ".")
            P("")
            targets.append(("Memory bounded by -c, not by the number of targets",
                            all(y <= x * 1.25 + 2048 for _, x, y in flat),
                            "; ".join("-c %d: %d → %d KiB" % (c, x, y) for c, x, y in flat)))
    if fl:
        P("## 4. The physical floor: mbedTLS's own benchmark on this machine")
        P("")
        rt = fl["rates"]
        P("| operation | per wall second | CPU share | per CPU second | ms each |")
        P("|---|---:|---:|---:|---:|")
        for k, label in (("x25519", "x25519 key pair + shared secret (ECDHE-x25519)"),
                         ("ecdsa_p256_verify", "ECDSA P-256 verify")):
            v = rt[k]
            P("| %s | %s | %.2f | %s | %s |" % (label, fmt(v["per_wall_s"]), v["cpu_share"],
                                                fmt(v["per_cpu_s"], 0),
                                                fmt(1000.0 / v["per_cpu_s"], 3)
                                                if v["per_cpu_s"] else "n/a"))
        P("")
        hw = fl.get("openssl_per_cpu_s") or {}
        if hw:
            P("Hardware reference, `openssl speed` on the same CPU (per CPU second): x25519 "
              "%s/s (%s ms), ECDSA P-256 verify %s/s (%s ms)."
              % (fmt(hw.get("x25519"), 0), fmt(1000.0 / hw["x25519"], 3) if hw.get("x25519")
                 else "n/a", fmt(hw.get("ecdsa_p256_verify"), 0),
                 fmt(1000.0 / hw["ecdsa_p256_verify"], 3) if hw.get("ecdsa_p256_verify")
                 else "n/a"))
            P("")
        if fl["floor_ms"] and b:
            best = min(b["rows"], key=lambda r_: r_["cpu_ms_per_probe"])
            x = best["cpu_ms_per_probe"] / fl["floor_ms"]
            rt_ = fl["rates"]
            # With the chain verdict cached, a probe of a known chain needs one
            # x25519 and one ECDSA verification (CertificateVerify).
            cached = (1000.0 / rt_["x25519"]["per_cpu_s"] + 1000.0 / rt_["ecdsa_p256_verify"]["per_cpu_s"]
                      if rt_["x25519"]["per_cpu_s"] and rt_["ecdsa_p256_verify"]["per_cpu_s"] else None)
            hwf = (1000.0 / hw["x25519"] + 1000.0 / hw["ecdsa_p256_verify"]
                   if hw.get("x25519") and hw.get("ecdsa_p256_verify") else None)
            if cached:
                P("With the chain verdict cached (batch: one chain, verified once), a probe needs "
                  "one x25519 and one ECDSA verification: **%.2f ms** with this mbedTLS "
                  "(smtp-probe %.2f ms = **%.2f×**)%s."
                  % (cached, best["cpu_ms_per_probe"], best["cpu_ms_per_probe"] / cached,
                     (", %.3f ms with OpenSSL's code (smtp-probe = **%.0f×**)"
                      % (hwf, best["cpu_ms_per_probe"] / hwf)) if hwf else ""))
                P("")
            targets.append(("Batch CPU per probe ≤ 1.0 ms", best["cpu_ms_per_probe"] <= 1.0,
                            "%.2f ms (%d targets, -c %d)" % (best["cpu_ms_per_probe"],
                                                             best["targets"], best["c"])))
            P("Floor per probe = one x25519 + two ECDSA P-256 verifications (CertificateVerify, "
              "the leaf's signature by the CA) = **%.2f ms CPU**. smtp-probe in batch: %.2f ms "
              "CPU per probe at best (%d targets, -c %d) = **%.2f× the floor**."
              % (fl["floor_ms"], best["cpu_ms_per_probe"], best["targets"], best["c"], x))
            P("")
            targets.append(("Batch CPU per probe ≤ 1.5× the public-key floor", x <= 1.5,
                            "%.2f ms vs floor %.2f ms = %.2f×" % (best["cpu_ms_per_probe"],
                                                                  fl["floor_ms"], x)))
    cg = res.get("callgrind")
    if cg:
        P("## 5. Callgrind instruction counts (repeatable)")
        P("")
        P("| run | instructions |")
        P("|---|---:|")
        for n, v in cg.items():
            P("| %s | %s |" % (n, "{:,}".format(v["instructions"]) if v["instructions"] else "n/a"))
        P("")
        top = cg.get("one probe", {}).get("top_self") or []
        if top:
            P("Top functions by own instructions (one probe):")
            P("")
            P("| function | instructions | share |")
            P("|---|---:|---:|")
            for fn, ir, pct in top:
                P("| `%s` | {:,} | %.1f %% |".format(ir) % (fn, pct))
            P("")
    if targets:
        P("## Targets")
        P("")
        P("| target | met | figures |")
        P("|---|---|---|")
        for name, ok, fig in targets:
            P("| %s | %s | %s |" % (name, "yes" if ok else "**no**", fig))
        P("")
    # Hand-written reading of the figures, kept across reruns.
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "notes.md")
    if os.path.exists(notes):
        with open(notes) as f:
            P(f.read().rstrip("\n"))
        P("")
    text = "\n".join(L) + "\n"
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    sys.stdout.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("cmd", choices=["single", "rtt", "batch", "callgrind", "floor", "report"])
    ap.add_argument("--probe")
    ap.add_argument("--ca")
    ap.add_argument("--ptf-config")
    ap.add_argument("--logdir", default="/tmp")
    ap.add_argument("--port", type=int)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--slow-runs", type=int, default=3)
    ap.add_argument("--delay", action="append", default=[])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1000])
    ap.add_argument("--conc", type=lambda s: [int(x) for x in s.split(",")], default=[10])
    ap.add_argument("--skip", default="", help="batch runs to leave out: NxC,...")
    ap.add_argument("--mem-reps", type=int, default=3,
                    help="batch runs at -c >= 100: repeat, keep the median peak RSS")
    ap.add_argument("--record-buffers", type=int, default=2 * 16717)
    ap.add_argument("--benchmark")
    ap.add_argument("--machine")
    ap.add_argument("--out")
    a = ap.parse_args()
    res = load(a.results)
    if a.cmd == "report":
        cmd_report(a, res)
        return
    {"single": cmd_single, "rtt": cmd_rtt, "batch": cmd_batch, "callgrind": cmd_callgrind,
     "floor": cmd_floor}[a.cmd](a, res)
    save(a.results, res)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A fleet of exporters sharded by Prometheus itself: docs/prometheus/
smtp-shards.yml (one target list, hashmod relabelling, two `--serve`
exporters) and docs/prometheus/smtp-probe-rules.yml, run with the real
Prometheus and promtool (Debian's prometheus package) against the suite's
Postfix listeners.

Each exporter is allowed (--serve-allow) only the targets of its own shard,
computed here the way Prometheus computes hashmod; a target sent to the
wrong exporter would be refused (403) and show up as down. Checked: every
target is scraped, each through the exporter of its shard, each exactly
once; both exporters probed; none refused anything; `promtool check rules`
accepts the rules file; the expiry alert fires for the certificate that
expires in 5 days (port 10027) and for no other, the expired-certificate
alert for the expired one (10026) only."""
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import PROBE, ROOT, check, finish, free_port, load_env  # noqa: E402

ENV = load_env()
V4 = "127.0.0.1"
P = ENV["ports"]
TARGETS = ["%s:%d" % (V4, P[k]) for k in
           ("starttls", "expired", "soon5", "soon20", "selfsigned", "wrongname")]
SOON5 = "%s:%d" % (V4, P["soon5"])
EXPIRED = "%s:%d" % (V4, P["expired"])
SHARDS = 2
DOCS = os.path.join(ROOT, "docs", "prometheus")


def hashmod(value, modulus):
    """Prometheus's relabel action hashmod: the last 8 bytes of MD5, big
    endian, modulo."""
    return int.from_bytes(hashlib.md5(value.encode()).digest()[8:], "big") % modulus


def start_exporter(allow):
    args = [PROBE, "--serve", "%s:0" % V4, "--cafile", ENV["ca"], "--timeout", "5"]
    for a in allow:
        args += ["--serve-allow", a]
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    buf = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stderr], [], [], 0.5)
        if r:
            chunk = os.read(p.stderr.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
            m = re.search(rb"listening on http://[^/]*:(\d+)/", buf)
            if m:
                return p, int(m.group(1))
        elif p.poll() is not None:
            break
    return p, None


def http_get(port, path):
    try:
        c = http.client.HTTPConnection(V4, port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        c.close()
        return r.status, body
    except (OSError, http.client.HTTPException) as e:
        return None, str(e)


def metric(body, name, labels=""):
    for line in body.splitlines():
        if line.startswith(name + labels + " ") or (not labels and line.startswith(name + " ")):
            return float(line.split()[-1])
    return None


def main():
    shard_of = {t: hashmod(t, SHARDS) for t in TARGETS}
    check("precondition: both shards have targets",
          set(shard_of.values()) == set(range(SHARDS)), shard_of)
    check("precondition: 5-day certificate listed", SOON5 in shard_of, TARGETS)

    promtool = shutil.which("promtool")
    prometheus = shutil.which("prometheus")
    if not check("prometheus and promtool installed", promtool and prometheus,
                 "apt-get install --no-install-recommends prometheus"):
        finish()
    rules = os.path.join(DOCS, "smtp-probe-rules.yml")
    r = subprocess.run([promtool, "check", "rules", rules], capture_output=True, timeout=30)
    check("promtool check rules accepts the rules file", r.returncode == 0,
          (r.stdout + r.stderr).decode("utf-8", "replace"))

    exporters = []
    d = tempfile.mkdtemp(prefix="sp-fleet-")
    prom = None
    log = None
    try:
        for k in range(SHARDS):
            mine = [t for t in TARGETS if shard_of[t] == k]
            p, port = start_exporter(mine)
            exporters.append((p, port))
            check("exporter %d started" % k, port is not None)
        if any(port is None for _, port in exporters):
            finish()
        addr = ["%s:%d" % (V4, port) for _, port in exporters]

        # The documented configuration, with this run's addresses and a
        # quicker pace; nothing else changed.
        with open(os.path.join(DOCS, "smtp-shards.yml")) as f:
            cfg = f.read()
        for k in range(SHARDS):
            cfg = cfg.replace("smtp-probe-%d.example.net:9925" % k, addr[k])
        cfg = re.sub(r"scrape_interval: \S+", "scrape_interval: 2s", cfg)
        cfg = re.sub(r"scrape_timeout: \S+", "scrape_timeout: 2s", cfg)
        cfg = re.sub(r"evaluation_interval: \S+", "evaluation_interval: 1s", cfg)
        check("config: addresses substituted", "example.net" not in cfg, cfg)
        with open(os.path.join(d, "smtp-shards.yml"), "w") as f:
            f.write(cfg)
        shutil.copy(rules, os.path.join(d, "smtp-probe-rules.yml"))
        with open(os.path.join(d, "smtp-targets.yml"), "w") as f:
            f.write("- targets: [%s]\n  labels: {__param_servername: %s}\n" %
                    (", ".join("'%s'" % t for t in TARGETS), ENV["servername"]))
        r = subprocess.run([promtool, "check", "config", os.path.join(d, "smtp-shards.yml")],
                           capture_output=True, timeout=30)
        check("promtool check config accepts the sharded config", r.returncode == 0,
              (r.stdout + r.stderr).decode("utf-8", "replace"))

        web = free_port()
        log = open(os.path.join(d, "prometheus.log"), "wb")
        prom = subprocess.Popen([prometheus, "--config.file", os.path.join(d, "smtp-shards.yml"),
                                 "--storage.tsdb.path", os.path.join(d, "data"),
                                 "--web.listen-address", "%s:%d" % (V4, web),
                                 "--log.level", "warn"],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=d)

        def api(path, **q):
            st, body = http_get(web, "/api/v1/%s?%s" % (path, urllib.parse.urlencode(q)))
            try:
                return json.loads(body).get("data") if st == 200 else None
            except ValueError:
                return None

        series = alerts = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            series = (api("query", query='up{job="smtp"}') or {}).get("result") or []
            alerts = (api("alerts") or {}).get("alerts") or []
            fired = {(a["labels"].get("alertname"), a["labels"].get("instance"))
                     for a in alerts if a.get("state") == "firing"}
            if (len(series) == len(TARGETS) and all(s["value"][1] == "1" for s in series)
                    and ("SMTPCertificateExpiresSoon", SOON5) in fired
                    and ("SMTPCertificateExpired", EXPIRED) in fired):
                break
            time.sleep(1)

        by_target = {}
        for s in series or []:
            by_target.setdefault(s["metric"].get("instance"), []).append(s["metric"])
        check("every target scraped once", sorted(by_target) == sorted(TARGETS) and
              all(len(v) == 1 for v in by_target.values()), series)
        check("every target up", bool(series) and all(s["value"][1] == "1" for s in series),
              series)
        wrong = [t for t, m in by_target.items()
                 if m[0].get("exporter") != addr[shard_of.get(t, 0)]]
        check("each target probed by the exporter of its shard", not wrong and by_target,
              wrong or series)

        fired = {}
        for a in alerts or []:
            if a.get("state") == "firing":
                fired.setdefault(a["labels"].get("alertname"), set()).add(
                    a["labels"].get("instance"))
        check("expiry alert fires for the 5-day certificate",
              fired.get("SMTPCertificateExpiresSoon") == {SOON5}, alerts)
        check("expired alert fires for the expired certificate only",
              fired.get("SMTPCertificateExpired") == {EXPIRED}, alerts)

        for k, (p, port) in enumerate(exporters):
            st, body = http_get(port, "/metrics")
            probes = metric(body, "smtp_probe_exporter_probes_total")
            refused = metric(body, "smtp_probe_exporter_requests_total", '{code="403"}')
            check("exporter %d probed its shard" % k, st == 200 and probes and probes > 0, body)
            check("exporter %d refused nothing" % k, not refused, body)
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        if log is not None:
            log.close()
        for p, _ in exporters:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

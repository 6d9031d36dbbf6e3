#!/usr/bin/env python3
"""The exporter as a blackbox_exporter user drives it, against the suite's
real Postfix: modules (--serve-module, --serve-config) picked by /probe's
module= parameter, debug=true, clear 400 bodies for unknown parameters and
modules; the prometheus.yml and alerting rules documented in
docs/monitoring.md pass `promtool check config` / `check rules`, and a real
Prometheus running that prometheus.yml (targets and addresses replaced by
the test server's) scrapes the exporter through its modules."""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import PROBE, ROOT, check, finish, load_env  # noqa: E402
from prom import promtool, samples  # noqa: E402
from test_exporter import Exporter, free_port  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
V4 = "127.0.0.1"
P = ENV["ports"]


def get(ex, path):
    c = http.client.HTTPConnection(V4, ex.port, timeout=30)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    ctype = r.getheader("Content-Type", "")
    c.close()
    return r.status, ctype, body


def value(body, metric, labels=""):
    for n, lab, v in samples(body):
        if n == metric and labels in lab:
            return v
    return None


def probe(ex, **params):
    return get(ex, "/probe?" + urllib.parse.urlencode(params))


def documented_blocks():
    """The prometheus.yml and the rules file of docs/monitoring.md."""
    with open(os.path.join(ROOT, "docs", "monitoring.md")) as f:
        md = f.read()
    blocks = re.findall(r"```yaml\n(.*?)```", md, re.S)
    config = [b for b in blocks if b.startswith("# prometheus.yml")]
    rules = [b for b in blocks if b.startswith("# rules/smtp-probe.yml")]
    return (config[0] if config else None), (rules[0] if rules else None)


def test_usage():
    for name, args, want in [
            ("module-without-serve", ["--serve-module", "a:--starttls", "x"], "needs --serve"),
            ("module-bad-option", ["--serve", ":0", "--serve-module", "a:--mx"],
             "cannot be used in a module"),
            ("module-no-name", ["--serve", ":0", "--serve-module", "--starttls"], "NAME:OPTIONS"),
            ("module-twice", ["--serve", ":0", "--serve-module", "a:-4", "--serve-module", "a:-6"],
             "defined twice"),
            ("module-bad-value", ["--serve", ":0", "--serve-module", "a:--warn-days x"],
             "module 'a'"),
            ("module-days", ["--serve", ":0", "--serve-module", "a:--warn-days 3 --crit-days 9"],
             "below --crit-days"),
            ("config-missing", ["--serve", ":0", "--serve-config", "/nonexistent/m.conf"],
             "/nonexistent/m.conf")]:
        p = subprocess.run([PROBE] + args, capture_output=True, text=True, timeout=10)
        check("usage: %s" % name, p.returncode == 3 and len(p.stderr.splitlines()) == 1 and
              want in p.stderr, (p.returncode, p.stderr))


def test_modules(ex):
    # Without a module, the implicit-TLS port gets a STARTTLS dialogue and
    # no greeting: a failed probe. The smtps module makes it work.
    code, ctype, body = probe(ex, target="%s:%d" % (V4, P["smtps"]), module="smtps")
    promtool("module-smtps", body)
    check("module-smtps: 200", code == 200, (code, body[:300]))
    check("module-smtps: success", value(body, "smtp_probe_success") == "1", body[:600])
    check("module-smtps: TLS version as blackbox writes it",
          value(body, "smtp_probe_tls_version_info", 'version="TLS 1.') == "1", body[:900])
    # The mx module requires STARTTLS: a server without it fails the probe.
    code, _, body = probe(ex, target="%s:%d" % (V4, P["notls"]), module="mx")
    check("module-mx-notls: 200", code == 200, code)
    check("module-mx-notls: starttls-missing critical",
          value(body, "smtp_probe_finding_info", 'code="starttls-missing",severity="critical"') == "1",
          body[-900:])
    check("module-mx-notls: success 0", value(body, "smtp_probe_success") == "0", body[:300])
    code, _, body = probe(ex, target="%s:%d" % (V4, P["notls"]))
    check("no-module-notls: only a warning, success 1",
          value(body, "smtp_probe_success") == "1" and
          value(body, "smtp_probe_finding_info", 'code="starttls-missing",severity="warning"') == "1",
          body[-900:])
    # A module from the config file: thresholds.
    code, _, body = probe(ex, target="%s:%d" % (V4, P["starttls"]), module="strict")
    check("module-file: warn-days 400 makes a valid certificate a warning",
          code == 200 and value(body, "smtp_probe_status") == "1" and
          value(body, "smtp_probe_success") == "1", body[-900:])
    # Unknown module: 400, and the body names the modules this exporter has.
    code, ctype, body = probe(ex, target="%s:%d" % (V4, P["starttls"]), module="nosuch")
    check("module-unknown: 400 with the known names",
          code == 400 and "unknown module" in body and "smtps" in body and "strict" in body
          and "nosuch" not in body, (code, body))
    # An unknown parameter: 400 whose body lists the parameters /probe knows.
    code, ctype, body = probe(ex, target="%s:%d" % (V4, P["starttls"]), modul="smtps")
    check("param-unknown: 400 with the known parameters",
          code == 400 and "module" in body and "debug" in body and "target" in body and
          ctype.startswith("text/plain"), (code, ctype, body))


def test_debug(ex):
    code, ctype, body = probe(ex, target="%s:%d" % (V4, P["starttls"]), debug="true")
    check("debug: 200 text/plain", code == 200 and ctype.startswith("text/plain"), (code, ctype))
    check("debug: the dialogue", re.search(r"\bC EHLO ", body) is not None and
          re.search(r"\bS 220 ", body) is not None, body[:800])
    check("debug: then the metrics", "Metrics that would have been returned:" in body and
          "\nsmtp_probe_success " in body.split("Metrics that would have been returned:")[-1]
          or 'smtp_probe_success{' in body.split("Metrics that would have been returned:")[-1],
          body[-600:])
    code, _, body = probe(ex, target="%s:%d" % (V4, P["starttls"]), debug="false")
    promtool("debug-false", body)
    check("debug-false: plain metrics", code == 200 and "C EHLO" not in body, body[:300])
    code, _, body = probe(ex, target="%s:%d" % (V4, P["starttls"]), debug="yes")
    check("debug-bad: 400", code == 400 and "debug" in body, (code, body))


def test_documented(ex):
    config, rules = documented_blocks()
    if not check("docs: prometheus.yml and rules documented", config and rules,
                 (bool(config), bool(rules))):
        return
    exe = shutil.which("promtool")
    prometheus = shutil.which("prometheus")
    if not check("docs: promtool and prometheus installed", exe and prometheus,
                 "apt-get install --no-install-recommends prometheus"):
        return
    d = tempfile.mkdtemp(prefix="sp-bb-")
    os.makedirs(os.path.join(d, "rules"))
    with open(os.path.join(d, "rules", "smtp-probe.yml"), "w") as f:
        f.write(rules)
    with open(os.path.join(d, "prometheus.yml"), "w") as f:
        f.write(config)
    p = subprocess.run([exe, "check", "rules", os.path.join(d, "rules", "smtp-probe.yml")],
                       capture_output=True, text=True, timeout=60)
    check("docs: promtool check rules", p.returncode == 0, p.stdout + p.stderr)
    p = subprocess.run([exe, "check", "config", os.path.join(d, "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    check("docs: promtool check config (with the rules)", p.returncode == 0 and
          "SUCCESS" in p.stdout + p.stderr, p.stdout + p.stderr)

    # The documented config, run for real: example targets and addresses
    # become the test server's, intervals become seconds.
    doc = yaml.safe_load(config)
    subst = {"mx1.example.org": "%s:%d" % (V4, P["starttls"]),
             "mx2.example.org": "%s:%d" % (V4, P["soon5"]),
             "smtp.example.org": V4,
             "192.0.2.25": "%s:%d" % (V4, P["starttls"]),
             "127.0.0.1:9925": "%s:%d" % (V4, ex.port)}
    doc["global"] = {"scrape_interval": "1s", "scrape_timeout": "1s",
                     "evaluation_interval": "1s"}
    for job in doc["scrape_configs"]:
        if "servername" in job.get("params", {}):
            job["params"]["servername"] = ["mx1.test"]
        job.pop("scrape_interval", None)
        job.pop("scrape_timeout", None)
        for sc in job.get("static_configs", []):
            sc["targets"] = [subst.get(t, t) for t in sc["targets"]]
        for rl in job.get("relabel_configs", []):
            if rl.get("replacement") in subst:
                rl["replacement"] = subst[rl["replacement"]]
    with open(os.path.join(d, "prometheus.yml"), "w") as f:
        yaml.safe_dump(doc, f)
    web = free_port()
    log = open(os.path.join(d, "prometheus.log"), "wb")
    pr = subprocess.Popen([prometheus, "--config.file", os.path.join(d, "prometheus.yml"),
                           "--storage.tsdb.path", os.path.join(d, "data"),
                           "--web.listen-address", "127.0.0.1:%d" % web, "--log.level", "warn"],
                          stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def query(q):
        try:
            c = http.client.HTTPConnection(V4, web, timeout=5)
            c.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": q}))
            doc = json.loads(c.getresponse().read())
            c.close()
            return doc.get("data", {}).get("result", [])
        except (OSError, ValueError, http.client.HTTPException):
            return None

    def by_instance(res):
        return {r["metric"].get("instance"): r["value"][1] for r in res or []}

    try:
        want_up = {"smtp_mx": 2, "smtp_smtps": 1, "smtp_by_address": 1}
        deadline = time.monotonic() + 40
        up = succ = alerts = None
        while time.monotonic() < deadline:
            up = query("up")
            succ = query("smtp_probe_success")
            alerts = query('ALERTS{alertstate=~"pending|firing"}')
            jobs = {}
            for r in up or []:
                if r["value"][1] == "1":
                    jobs[r["metric"]["job"]] = jobs.get(r["metric"]["job"], 0) + 1
            if all(jobs.get(j, 0) >= n for j, n in want_up.items()) and succ and \
                    len(succ) >= 4 and alerts:
                break
            time.sleep(1)
        check("prometheus: every documented job up", all(
            sum(1 for r in up or [] if r["metric"]["job"] == j and r["value"][1] == "1") == n
            for j, n in want_up.items()), up)
        s = {(r["metric"]["job"], r["metric"]["instance"]): r["value"][1] for r in succ or []}
        check("prometheus: smtps module probe succeeded",
              s.get(("smtp_smtps", V4)) == "1", s)
        check("prometheus: mx module probes succeeded (a 5-day certificate included)",
              s.get(("smtp_mx", "%s:%d" % (V4, P["starttls"]))) == "1" and
              s.get(("smtp_mx", "%s:%d" % (V4, P["soon5"]))) == "1", s)
        # One problem, one alert: the 5-day certificate fires the expiry
        # alert and nothing else.
        al = [(a["metric"]["alertname"], a["metric"].get("instance")) for a in alerts or []]
        check("prometheus: the expiring certificate raises the expiry alert",
              ("SMTPCertificateExpiresSoon", "%s:%d" % (V4, P["soon5"])) in al, al)
        check("prometheus: and no failure alert",
              not any(n == "SMTPProbeFailed" for n, _ in al), al)
    finally:
        pr.terminate()
        try:
            pr.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pr.kill()
            pr.wait()
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def main():
    test_usage()
    d = tempfile.mkdtemp(prefix="sp-bbm-")
    conf = os.path.join(d, "modules.conf")
    with open(conf, "w") as f:
        f.write("# thresholds for a test\n\nstrict:  --warn-days 400 --crit-days 7\n")
    ex = Exporter(["--serve", "127.0.0.1:0", "--serve-allow", "127.0.0.1",
                   "--cafile", CA, "--servername", "mx1.test", "--timeout", "5",
                   "--serve-module", "mx:--starttls --warn-days 21",
                   "--serve-module", "smtps:--implicit-tls -p %d" % P["smtps"],
                   "--serve-config", conf])
    try:
        if not check("exporter: started", ex.port is not None, ex.stderr()):
            finish()
        test_modules(ex)
        test_debug(ex)
        test_documented(ex)
    finally:
        rc, _ = ex.stop()
        check("exporter: clean exit", rc == 0, (rc, ex.stderr()[-500:]))
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""--all-addresses on a plain host target: mx1.test has an A (127.0.0.1) and
an AAAA (::1) record in the suite's NSD zone, and the suite's Postfix listens
on both, so a probe of mx1.test must report each address on its own, in
every output: a text report each, a JSON document each, a table row each
(-f), one Nagios status with a line and perfdata labels per address,
Prometheus series per address (promtool-clean, no duplicate series), and the
exporter's /probe the same. Addresses that refuse are told apart too (their
labels name the address tried); a literal is probed once; -o html is
refused; a DNS server that never answers ends with a timeout at --deadline."""
import json
import os
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finish, load_env, run_probe  # noqa: E402
from prom import promtool, samples  # noqa: E402
import schema_check  # noqa: E402
from test_exporter import Exporter, get  # noqa: E402

ENV = load_env()
P = ENV["ports"]
PORT = P["starttls"]
BASE = ["--resolver", ENV["dns"]["resolver"], "--cafile", ENV["ca"], "--timeout", "5"]
TARGET = "mx1.test:%d" % PORT
BOTH = {"127.0.0.1", "::1"}


def dup_series(text):
    seen, dups = set(), []
    for name, labels, _ in samples(text):
        if (name, labels) in seen:
            dups.append(name + labels)
        seen.add((name, labels))
    return dups


def test_text_json():
    rc, _, out, err = run_probe(BASE + ["--all-addresses", TARGET])
    check("text: exit 0 (both addresses fine)", rc == 0, (rc, err))
    heads = [l for l in out.splitlines() if l.startswith(TARGET + " -> ")]
    check("text: one report per address", len(heads) == 2 and
          {h.split(" -> ")[1].split(",")[0] for h in heads} == BOTH, heads)
    check("text: each report has its verdict", out.count("\nVerdict\n") == 2, out[-400:])

    rc, _, out, err = run_probe(BASE + ["--all-addresses", "-o", "json", TARGET])
    docs = []
    for line in out.splitlines():
        try:
            docs.append(json.loads(line))
        except ValueError:
            pass
    check("json: one document (line) per address", len(docs) == 2 and
          len(out.splitlines()) == 2, out[:300])
    check("json: the two addresses", {d.get("address") for d in docs} == BOTH,
          [d.get("address") for d in docs])
    check("json: families ipv6 and ipv4", sorted(d.get("family") or "" for d in docs) ==
          ["ipv4", "ipv6"], [d.get("family") for d in docs])
    for d in docs:
        check("json %s: schema-valid" % d.get("address"), not schema_check.errors(d),
              schema_check.errors(d)[:3])
        check("json %s: STARTTLS and a trusted chain" % d.get("address"),
              d.get("tls", {}).get("version") and d.get("status") == "ok", d.get("findings"))

    # A literal has one address: one probe, as without the option.
    rc, _, out, err = run_probe(BASE + ["--all-addresses", "-o", "json", "127.0.0.1:%d" % PORT])
    check("literal: one document", rc == 0 and len(out.splitlines()) == 1 and
          json.loads(out).get("address") == "127.0.0.1", (rc, out[:200], err))


def test_nagios():
    rc, _, out, err = run_probe(BASE + ["--all-addresses", "-o", "nagios", TARGET])
    lines = out.splitlines()
    check("nagios: exit 0", rc == 0, (rc, out, err))
    check("nagios: one status for both addresses",
          lines and lines[0].startswith("SMTP OK - 2 ok of 2 addresses"), lines[:1])
    perf = lines[0].split("|", 1)[1].split() if lines and "|" in lines[0] else []
    labels = [p.split("=")[0].strip("'") for p in perf]
    check("nagios: perfdata labels unique", labels and len(labels) == len(set(labels)), labels)
    check("nagios: perfdata per address", any(l.startswith(TARGET + "/::1/") for l in labels)
          and any(l.startswith(TARGET + "/127.0.0.1/") for l in labels), labels)
    check("nagios: a long-output line per address",
          any(l.startswith("[OK] %s (::1) - " % TARGET) for l in lines) and
          any(l.startswith("[OK] %s (127.0.0.1) - " % TARGET) for l in lines), lines[1:])

    # Both addresses refuse: each is still named, by the address it tried.
    rc, _, out, err = run_probe(BASE + ["--all-addresses", "-o", "nagios", "dead6.test:1"])
    lines = out.splitlines()
    check("nagios refused: critical", rc == 2 and lines and
          lines[0].startswith("SMTP CRITICAL - 2 critical of 2 addresses"), (rc, lines[:1]))
    check("nagios refused: lines name the address tried",
          any("(::1) - " in l for l in lines) and any("(127.0.0.1) - " in l for l in lines),
          lines)


def test_prometheus():
    rc, _, out, err = run_probe(BASE + ["--all-addresses", "-o", "prometheus", TARGET])
    succ = {lab for n, lab, v in samples(out) if n == "smtp_probe_success" and v == "1"}
    check("prometheus: success per address",
          any('address="::1",family="ipv6"' in s for s in succ) and
          any('address="127.0.0.1",family="ipv4"' in s for s in succ), succ)
    check("prometheus: no duplicate series", not dup_series(out), dup_series(out)[:5])
    promtool("prometheus all-addresses", out)
    rc, _, out, err = run_probe(BASE + ["--all-addresses", "-o", "prometheus", "dead6.test:1"])
    fail = {lab for n, lab, v in samples(out) if n == "smtp_probe_success" and v == "0"}
    check("prometheus refused: a failed series per address tried",
          any('address="::1"' in s for s in fail) and
          any('address="127.0.0.1"' in s for s in fail), fail)
    check("prometheus refused: no duplicate series", not dup_series(out), dup_series(out)[:5])


def test_batch_and_refusals():
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write(TARGET + "\n")
        f.flush()
        rc, _, out, err = run_probe(BASE + ["--all-addresses", "-f", f.name])
    rows = [l for l in out.splitlines() if l.startswith("mx1.test")]
    check("batch: a row per address", rc == 0 and len(rows) == 2 and
          {r.split()[1] for r in rows} == BOTH, (rc, out, err))
    rc, _, out, err = run_probe(BASE + ["--all-addresses", "-o", "html", TARGET])
    check("html: refused with a reason (one page per probe)", rc == 3 and out == "" and
          "-o html" in err and "--all-addresses" in err, (rc, err))

    # A resolver that never answers: the deadline ends the lookup.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    silent = "127.0.0.1:%d" % s.getsockname()[1]
    rc, _, out, err = run_probe(["--resolver", silent, "--all-addresses", "--deadline", "1",
                                 "-o", "json", TARGET], timeout=15)
    s.close()
    doc = json.loads(out) if out.strip() else {}
    codes = [f.get("code") for f in doc.get("findings", [])]
    check("deadline during DNS: critical timeout finding", rc == 2 and "timeout" in codes,
          (rc, codes, err))


def test_exporter():
    ex = Exporter(BASE + ["--all-addresses", "--serve", "127.0.0.1:0",
                          "--serve-allow", "mx1.test:*"])
    try:
        st, h, body = get(ex, "/probe?target=" + TARGET)
        succ = {lab for n, lab, v in samples(body) if n == "smtp_probe_success" and v == "1"}
        check("exporter: 200", st == 200, (st, body[:200]))
        check("exporter: a series per address",
              any('address="::1"' in s for s in succ) and
              any('address="127.0.0.1"' in s for s in succ), succ)
        check("exporter: no duplicate series", not dup_series(body), dup_series(body)[:5])
        st, h, body = get(ex, "/probe?debug=true&target=" + TARGET)
        check("exporter debug: a report per address",
              sum(l.startswith(TARGET + " -> ") for l in body.splitlines()) == 2 and "Metrics that would have been returned" in body,
              body[:300])
    finally:
        ex.stop()


def main():
    test_text_json()
    test_nagios()
    test_prometheus()
    test_batch_and_refusals()
    test_exporter()
    finish()


if __name__ == "__main__":
    main()

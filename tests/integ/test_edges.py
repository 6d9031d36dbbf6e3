#!/usr/bin/python3
"""Output and usage that once told a lie, against the suite's real Postfix:
-p against a port in the target is refused; "::1:5025" is refused with the
bracketed forms to write; auth.mechanisms is [] (not null) when the EHLO had
no AUTH; tls.pin.match is null when no pin was given; the documented jq
expression works without TLS; a batch line that is not a target is a
schema-valid {status: unknown, error} document with exit 3; on a terminal
the batch progress line never lands inside the table's rows and the summary
appears once."""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import PROBE, check, finish, load_env, run_probe  # noqa: E402
import schema_check  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
P = ENV["ports"]
V4 = "127.0.0.1"
TLS = ["--cafile", CA, "--servername", "mx1.test", "--timeout", "5"]


def test_ports():
    rc, _, out, err = run_probe(TLS + ["-p", str(P["starttls"]), "%s:%d" % (V4, P["starttls"])])
    check("port-same: -p equal to the target's port is fine", rc == 0, (rc, err))
    rc, _, out, err = run_probe(["-p", "5025", "smtp://%s:5026" % V4])
    check("port-conflict: exit 3", rc == 3 and out == "", (rc, out))
    check("port-conflict: one line naming both ports",
          len(err.splitlines()) == 1 and "-p 5025 conflicts with port 5026" in err, err)
    rc, _, out, err = run_probe(["--all-addresses", "-o", "html", "mx1.test:%d" % P["starttls"]])
    check("all-addresses on a host with -o html: refused, not ignored", rc == 3 and out == ""
          and "--all-addresses" in err, (rc, err))
    rc, _, out, err = run_probe(["::1:5025"])
    check("v6-ambiguous: exit 3", rc == 3, (rc, err))
    check("v6-ambiguous: says what to write", "'[::1]:5025'" in err and "'[::1:5025]'" in err, err)
    rc, _, out, err = run_probe(["-o", "json", "--connect-timeout", "2", "[::1]:%d" % P["starttls"]]
                                + TLS)
    check("v6-bracketed: probes ::1 on the port", rc in (0, 1, 2) and
          json.loads(out).get("port") == P["starttls"], (rc, out[:200], err))


def probe_json(args):
    rc, _, out, err = run_probe(["-o", "json"] + args)
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    check("json %s: schema-valid" % args[-1], doc and not schema_check.errors(doc),
          schema_check.errors(doc)[:3] if doc else (rc, out[:200], err))
    return rc, doc


def test_json():
    rc, doc = probe_json(TLS + ["%s:%d" % (V4, P["starttls"])])
    auth = doc.get("auth", {})
    check("auth: EHLO answered, no AUTH: [] not null",
          auth.get("mechanisms") == [] and auth.get("mechanisms_tls") == [], auth)
    check("pin: no pin given: match null", doc.get("tls", {}).get("pin") ==
          {"checked": False, "match": None}, doc.get("tls", {}).get("pin"))
    rc, doc = probe_json(TLS + ["--pin", "sha256//" + "A" * 43 + "=", "%s:%d" % (V4, P["starttls"])])
    check("pin: a wrong pin: match false", doc.get("tls", {}).get("pin") ==
          {"checked": True, "match": False}, doc.get("tls", {}).get("pin"))
    rc, doc = probe_json(TLS + ["%s:%d" % (V4, P["submission"])])
    check("auth: offered after TLS only", doc.get("auth", {}).get("mechanisms") == [] and
          "PLAIN" in (doc.get("auth", {}).get("mechanisms_tls") or []), doc.get("auth"))
    rc, doc = probe_json(TLS + ["--no-tls", "%s:%d" % (V4, P["starttls"])])
    check("auth: no EHLO after TLS: mechanisms_tls null",
          doc.get("auth", {}).get("mechanisms_tls") is None and
          doc.get("auth", {}).get("mechanisms") == [], doc.get("auth"))
    # The documented jq expression, on a probe with TLS and one without.
    for name, args, want in [("tls", TLS + ["%s:%d" % (V4, P["starttls"])], r"^\d+$"),
                             ("no-tls", TLS + ["--no-tls", "%s:%d" % (V4, P["starttls"])],
                              r"^null$")]:
        rc, _, out, _ = run_probe(["--json"] + args)
        p = subprocess.run(["jq", "[.tls.chain[]?.days_left] | min"], input=out,
                           capture_output=True, text=True, timeout=20)
        check("jq-example %s" % name, p.returncode == 0 and re.match(want, p.stdout.strip()),
              (p.returncode, p.stdout, p.stderr))


def test_bad_line():
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("# two lines: one good, one not a target\n%s:%d\nbad|host:99999\n"
                % (V4, P["starttls"]))
        path = f.name
    try:
        rc, _, out, err = run_probe(["-f", path, "-o", "json"] + TLS)
        docs, errs = schema_check.check_output(out)
        check("bad-line: every document schema-valid", not errs and len(docs) == 2, (errs, out))
        bad = [d for d in docs if d.get("target") == "bad|host:99999"]
        check("bad-line: status unknown with the reason", len(bad) == 1 and
              bad[0].get("status") == "unknown" and "bad" in bad[0].get("error", "") and
              "host" not in bad[0] and "findings" not in bad[0], bad)
        check("bad-line: the good line is probed", any(d.get("status") == "ok" for d in docs),
              docs)
        check("bad-line: exit 3", rc == 3, rc)
        rc, _, out, err = run_probe(["-f", path] + TLS)
        row = [ln for ln in out.splitlines() if ln.startswith("bad|host")]
        check("bad-line table: the row says unknown and why", len(row) == 1 and
              "unknown" in row[0] and "bad" in row[0][30:], out)
        with open(path, "w") as f:
            f.write("smtp://%s:5026\n" % V4)
        rc, _, out, err = run_probe(["-f", path, "-o", "json", "-p", "5025"])
        docs, errs = schema_check.check_output(out)
        check("bad-line: -p conflict in a line", rc == 3 and len(docs) == 1 and not errs and
              "conflicts" in docs[0].get("error", ""), (rc, out))
    finally:
        os.unlink(path)


def pty_run(args):
    """stdout and stderr on one terminal, as a person running a batch sees them."""
    master, slave = os.openpty()
    e = dict(os.environ, TERM="xterm", LANG="C.UTF-8")
    e.pop("NO_COLOR", None)
    p = subprocess.Popen([PROBE] + args, stdout=slave, stderr=slave,
                         stdin=subprocess.DEVNULL, env=e)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return p.wait(60), out.decode("utf-8", "replace")


def screen(raw):
    """The lines a terminal shows: '\\r' returns to column 0, ESC[K clears
    to the end of the line, colours are dropped."""
    lines, cur = [], []
    col = 0
    i = 0
    raw = re.sub(r"\x1b\[[0-9;]*m", "", raw)
    while i < len(raw):
        c = raw[i]
        if raw.startswith("\x1b[K", i):
            del cur[col:]
            i += 3
            continue
        if c == "\r":
            col = 0
        elif c == "\n":
            lines.append("".join(cur))
            cur, col = [], 0
        else:
            if col < len(cur):
                cur[col] = c
            else:
                cur.append(c)
            col += 1
        i += 1
    if cur:
        lines.append("".join(cur))
    return lines


def test_batch_tty():
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for _ in range(3):
            f.write("%s:%d\n" % (V4, P["starttls"]))
        f.write("%s:%d\n" % (V4, P["notls"]))
        path = f.name
    try:
        rc, raw = pty_run(["-f", path, "--per-host", "4"] + TLS)
        lines = screen(raw)
        rows = [ln for ln in lines if ln.startswith(V4)]
        check("batch-tty: four rows", len(rows) == 4, lines)
        check("batch-tty: the progress line was drawn", "in flight" in raw, raw[:300])
        check("batch-tty: no progress inside a row",
              not any("in flight" in ln or "[#" in ln or "[." in ln for ln in rows), rows)
        summ = [ln for ln in lines if re.search(r"\b4 targets: ", ln)]
        check("batch-tty: the summary once", len(summ) == 1, lines)
    finally:
        os.unlink(path)


test_ports()
test_json()
test_bad_line()
test_batch_tty()
finish()

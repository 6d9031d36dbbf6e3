#!/usr/bin/python3
"""--size-check: the size limit proven with MAIL FROM ... SIZE=N and RSET
(RFC 1870), never DATA. Against the suite's real Postfix (limit enforced at
MAIL: SIZE=limit accepted, limit+1 refused with 552 5.3.4; pipelined), and
against size_server.py for the policies Postfix cannot be set to: SIZE
advertised but not enforced at MAIL (info finding), SIZE without a number
(bisection finds the enforced limit within 12 pairs, pipelined or not), an
advertised limit the server itself refuses (warning), a server that wants a
login first and one that does not know the parameter (no verdict, a reason).
Every check looks at the JSON a user would read, the text line, and the
transcript (no DATA or BDAT ever)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import check, finding, finish, load_env, run_probe, probe_json  # noqa: E402
import schema_check  # noqa: E402

ENV = load_env()
P = ENV["ports"]
HERE = os.path.dirname(os.path.abspath(__file__))
TLS = ["--cafile", ENV["ca"], "--servername", "mx1.test", "--timeout", "5"]


def sent(doc):
    return [t.get("line", "") for t in doc.get("transcript") or [] if t.get("dir") == "C"]


def size_check(doc):
    return (doc.get("size") or {}).get("check") or {}


def server(mode, *args):
    return Helper([sys.executable, os.path.join(HERE, "size_server.py"), "--mode", mode]
                  + list(args))


def probe(name, port, *extra):
    rc, doc, _, _ = probe_json(name, ["--size-check", "--no-tls", "-v"] + list(extra) +
                               ["127.0.0.1:%d" % port])
    return rc, doc or {}


def no_data(name, doc):
    cmds = sent(doc)
    check(name + ": MAIL and RSET only, never DATA or BDAT",
          cmds and not any(c.upper().startswith(("DATA", "BDAT")) for c in cmds) and
          sum(c.upper().startswith("MAIL") for c in cmds) ==
          sum(c.upper().startswith("RSET") for c in cmds), cmds)


def test_postfix():
    limit = ENV["size_limit"]
    rc, doc, _, _ = probe_json("postfix", ["--size-check", "-v"] + TLS + ["127.0.0.1:%d" % P["starttls"]])
    c = size_check(doc or {})
    check("postfix: exit 0", rc == 0, rc)
    check("postfix: schema-valid", doc and not schema_check.errors(doc),
          schema_check.errors(doc or {})[:3])
    check("postfix: SIZE=limit accepted (verified = the advertised limit)",
          c.get("verified") == limit, c)
    check("postfix: SIZE=limit+1 refused, enforced at MAIL", c.get("refused") == limit + 1 and
          c.get("enforced") is True, c)
    check("postfix: two pairs", c.get("pairs") == 2, c)
    sz = (doc or {}).get("size") or {}
    check("postfix: size.verified and size.enforced beside the advertised limit",
          sz.get("verified") == limit and sz.get("enforced") is True and sz.get("limit") == limit,
          sz)
    check("postfix: attachment limit from the verified figure",
          c.get("max_attachment_base64") == (limit - 4096) * 57 // 78, c)
    cmds = sent(doc or {})
    check("postfix: the SIZE= commands", "MAIL FROM:<> SIZE=%d" % limit in cmds and
          "MAIL FROM:<> SIZE=%d" % (limit + 1) in cmds, cmds)
    no_data("postfix", doc or {})
    check("postfix: no size finding", not finding(doc, "size-not-enforced-at-mail") and
          not finding(doc, "size-advertised-mismatch"), doc.get("findings"))
    rc, _, out, err = run_probe(["--size-check"] + TLS + ["127.0.0.1:%d" % P["starttls"]])
    check("postfix text: the size check line",
          "size check   verified at MAIL FROM: SIZE=%s accepted" % format(limit, ",") in out,
          out[out.find("Limits"):][:400])
    # Without the option nothing of it happens.
    rc, doc, _, _ = probe_json("postfix-plain", ["-v"] + TLS + ["127.0.0.1:%d" % P["starttls"]])
    check("without --size-check: check, verified and enforced are null, no SIZE= sent",
          rc == 0 and (doc.get("size") or {}).get("check", 1) is None and
          (doc.get("size") or {}).get("verified", 1) is None and
          (doc.get("size") or {}).get("enforced", 1) is None and
          not any("SIZE=" in c for c in sent(doc)), (doc.get("size"), sent(doc)))
    rc, _, out, err = run_probe(["--size-check", "--mx", "example.test"])
    check("--size-check --mx: refused (one server)", rc == 3 and "--size-check" in err, (rc, err))


def test_lax():
    s = server("lax", "--limit", "26214400")
    try:
        rc, doc = probe("lax", s.port)
        c = size_check(doc)
        f = finding(doc, "size-not-enforced-at-mail")
        check("lax: exit 0 (info only)", rc == 0, (rc, doc.get("findings")))
        check("lax: size.enforced false", (doc.get("size") or {}).get("enforced") is False,
              doc.get("size"))
        check("lax: not enforced at MAIL", c.get("enforced") is False and
              c.get("verified") == 26214400 and c.get("refused") is None, c)
        check("lax: info finding size-not-enforced-at-mail",
              f and f.get("severity") == "info" and "26214401" in f.get("message", ""), f)
        no_data("lax", doc)
    finally:
        s.stop()


def test_bisection():
    for limit, extra in ((20000000, []), (35000000, ["--no-pipelining"])):
        s = server("bare", "--limit", str(limit), *extra)
        name = "bisect %d%s" % (limit, " no-pipelining" if extra else "")
        try:
            rc, doc = probe(name, s.port)
            c = size_check(doc)
            v, r = c.get("verified") or 0, c.get("refused") or 0
            check(name + ": enforced, limit bracketed", c.get("enforced") is True and
                  v <= limit < r, c)
            check(name + ": within 5%", r and (r - v) / limit < 0.05, (v, r))
            check(name + ": at most 12 pairs", 0 < c.get("pairs", 0) <= 12, c)
            no_data(name, doc)
            log = s.stderr()
            check(name + ": the server saw the same pairs",
                  log.count("MAIL FROM") == c.get("pairs") and
                  log.count("RSET") == c.get("pairs"), log[-300:])
        finally:
            s.stop()


def test_mismatch_and_unknown():
    s = server("tight", "--limit", "52428800", "--enforce", "10485760")
    try:
        rc, doc = probe("tight", s.port)
        c = size_check(doc)
        f = finding(doc, "size-advertised-mismatch")
        check("tight: exit 1 (warning)", rc == 1, (rc, doc.get("findings")))
        check("tight: warning names both figures", f and f.get("severity") == "warning" and
              "52428800" in f.get("message", ""), f)
        check("tight: the real limit found", c.get("enforced") is True and
              c.get("verified", 0) <= 10485760 < c.get("refused", 0), c)
    finally:
        s.stop()
    s = server("auth")
    try:
        rc, doc = probe("auth", s.port)
        c = size_check(doc)
        check("login first: no verdict, the reason", c.get("enforced") is None and
              c.get("verified") is None and "530" in (c.get("note") or ""), c)
        check("login first: one pair, then stop", c.get("pairs") == 1, c)
        rc, _, out, err = run_probe(["--size-check", "--no-tls", "127.0.0.1:%d" % s.port])
        check("login first text: could not be verified",
              "size check   could not be verified" in out, out[out.find("Limits"):][:300])
    finally:
        s.stop()
    s = server("nosize")
    try:
        rc, doc = probe("nosize", s.port)
        c = size_check(doc)
        check("no SIZE: no verdict, says SIZE is not advertised", c.get("enforced") is None and
              "555" in (c.get("note") or "") and "not advertised" in (c.get("note") or ""), c)
    finally:
        s.stop()


def test_explain():
    rc, _, out, err = run_probe(["--size-check", "--explain"] + TLS +
                                ["127.0.0.1:%d" % P["starttls"]])
    check("explain: the SIZE= MAIL is explained as a size test",
          "announces a message of this many bytes" in out, out[-1500:])
    check("explain: the 552 is explained as too large",
          "Too large: the server refuses a message of this size" in out, out[-1500:])


def main():
    test_postfix()
    test_lax()
    test_bisection()
    test_mismatch_and_unknown()
    test_explain()
    finish()


if __name__ == "__main__":
    main()

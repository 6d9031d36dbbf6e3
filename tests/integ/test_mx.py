#!/usr/bin/python3
"""Integration tests of --mx against the suite's nsd zone "test." (see
tests/env/start.sh): MX order, null MX, implicit MX, an MX that is a CNAME,
and an MX host that does not answer. Port 10025 stands in for 25."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finish, get, load_env, probe_json, finding_codes, summary  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
PORT = ENV["ports"]["starttls"]
DNS = ENV["dns"]["resolver"]
BASE = ["--cafile", CA, "--resolver", DNS, "-p", str(PORT), "--timeout", "5"]


def probes(doc):
    p = doc.get("probes")
    return [x for x in p if isinstance(x, dict)] if isinstance(p, list) else []


def codes_everywhere(doc):
    out = list(finding_codes(doc))
    for p in probes(doc):
        out += finding_codes(p)
    return out


# example.test: MX 10 mx1.test (answers), MX 20 mx2.test (127.0.0.2: nothing listens).
for label, args in (("mx-example", ["--mx", "example.test"]),
                    ("mx-user-at", ["postmaster@example.test"])):
    rc, d, out, err = probe_json(label, BASE + args)
    check(label + ": domain", d.get("domain") == "example.test", d.get("domain"))
    mx = [(m.get("preference"), str(m.get("host", "")).rstrip(".")) for m in d.get("mx") or []
          if isinstance(m, dict)]
    check(label + ": mx-ordered", mx == [(10, "mx1.test"), (20, "mx2.test")], mx)
    ps = probes(d)
    hosts = {str(p.get("host", "")).rstrip(".") for p in ps}
    check(label + ": probes-both-hosts", {"mx1.test", "mx2.test"} <= hosts, sorted(hosts))
    ok1 = [p for p in ps if str(p.get("host", "")).rstrip(".") == "mx1.test"]
    check(label + ": mx1-ok", bool(ok1) and all(p.get("status") == "ok" for p in ok1),
          [(p.get("address"), p.get("status"), finding_codes(p)) for p in ok1])
    bad = [p for p in ps if str(p.get("host", "")).rstrip(".") == "mx2.test"]
    check(label + ": mx2-connect-failed", bool(bad) and all("connect-failed" in finding_codes(p)
                                                            for p in bad),
          [(p.get("address"), finding_codes(p)) for p in bad])
    check(label + ": mx2-address", any(p.get("address") == "127.0.0.2" or
                                       any(a.get("address") == "127.0.0.2"
                                           for a in p.get("attempts") or [] if isinstance(a, dict))
                                       for p in bad), [p.get("attempts") for p in bad])
    check(label + ": worst-status", rc == 2 and d.get("status") == "critical", summary(rc, d, err))

# Null MX (RFC 7505): the domain takes no mail; nothing is probed.
rc, d, out, err = probe_json("mx-null", BASE + ["--mx", "nullmx.test"])
check("mx-null: no-probes", d and not probes(d), [p.get("host") for p in probes(d)])
check("mx-null: finding", any("null" in str(c) for c in codes_everywhere(d)), finding_codes(d))

# No MX, but an A record: the implicit MX is the domain itself (RFC 5321 5.1).
rc, d, out, err = probe_json("mx-implicit", BASE + ["--mx", "nomx.test"])
ps = probes(d)
check("mx-implicit: probed-domain", bool(ps) and str(ps[0].get("host", "")).rstrip(".") == "nomx.test",
      [p.get("host") for p in ps])
check("mx-implicit: address", bool(ps) and ps[0].get("address") == "127.0.0.1",
      [p.get("address") for p in ps])
check("mx-implicit: greeting", bool(ps) and get(ps[0], "greeting.code") == 220,
      [get(p, "greeting") for p in ps])

# MX pointing at a CNAME (not allowed, but seen): still resolved and probed.
rc, d, out, err = probe_json("mx-cname", BASE + ["--mx", "cname-mx.test"])
ps = probes(d)
check("mx-cname: probed", bool(ps) and ps[0].get("address") in ("127.0.0.1", "::1"),
      [(p.get("host"), p.get("address")) for p in ps])

# A domain that does not exist.
rc, d, out, err = probe_json("mx-nxdomain", BASE + ["--mx", "nxdomain.test"])
check("mx-nxdomain: exit-2", rc == 2, summary(rc, d, err))
check("mx-nxdomain: no-probes", d and not any(p.get("greeting") for p in probes(d)),
      [p.get("host") for p in probes(d)])

finish()

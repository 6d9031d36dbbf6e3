#!/usr/bin/python3
"""International names (issue 12 part 6), against the suite's NSD (which
serves xn--bcher-kva.test, bücher.test in A-labels, with an A and an MX to
mx1.test), Postfix (offers SMTPUTF8) and aiosmtpd (does not):
  - 'bücher.test:PORT' is probed: resolved, sent as SNI and matched against
    the certificate as its A-label; JSON host (A-label) and host_unicode,
    the text report names both;
  - typed as A-labels it is the same probe, with the U-label shown;
  - the certificate is matched on the A-label (the test certificate does
    not carry it: the mismatch names xn--bcher-kva.test);
  - 'ü@bücher.test' (non-ASCII local part): the MX view checks SMTPUTF8,
    smtputf8-ready through Postfix, smtputf8-missing through aiosmtpd;
  - names IDNA2008 refuses: exit 3 and the name as typed, never '??';
  - --servername and --setup take U-labels too."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finding, finding_codes, finish, load_env, probe_json, run_probe  # noqa: E402
import schema_check  # noqa: E402

ENV = load_env()
P = ENV["ports"]
BASE = ["--resolver", ENV["dns"]["resolver"], "--cafile", ENV["ca"], "--timeout", "5", "-4"]
ALABEL = "xn--bcher-kva.test"


def main():
    rc, doc, _, _ = probe_json("idn", BASE + ["--servername", "mx1.test",
                                              "-v", "bücher.test:%d" % P["starttls"]])
    check("idn: probed and fine (exit 0)", rc == 0, (rc, finding_codes(doc)))
    check("idn: host is the A-label, host_unicode the name as typed",
          doc.get("host") == ALABEL and doc.get("host_unicode") == "bücher.test",
          (doc.get("host"), doc.get("host_unicode")))
    check("idn: schema-valid", not schema_check.errors(doc), schema_check.errors(doc)[:3])
    check("idn: DNS asked for the A-label", any(
        t.get("line", "").startswith(ALABEL + " resolved") for t in doc.get("transcript") or []),
        [t.get("line") for t in doc.get("transcript") or [] if t.get("dir") == "*"][:3])

    rc, _, out, err = run_probe(BASE + ["--servername", "mx1.test", "bücher.test:%d" % P["starttls"]])
    flat = " ".join(out.split())
    check("idn text: both forms named", "name bücher.test, in DNS, SNI and certificates "
          "xn--bcher-kva.test (IDNA2008)" in flat, out[:600])

    rc, doc, _, _ = probe_json("idn a-label", BASE + ["--servername", "mx1.test",
                                                      "%s:%d" % (ALABEL, P["starttls"])])
    check("idn typed as A-labels: the same host, the U-label shown",
          rc == 0 and doc.get("host") == ALABEL and doc.get("host_unicode") == "bücher.test",
          (rc, doc.get("host"), doc.get("host_unicode")))

    rc, doc, _, _ = probe_json("idn sni", BASE + ["-v", "BÜCHER.test:%d" % P["starttls"]])
    f = finding(doc, "cert-hostname-mismatch") or {}
    check("idn: upper case mapped (UTS #46), SNI and matching on the A-label",
          doc.get("host") == ALABEL and (doc.get("tls") or {}).get("servername") == ALABEL and
          ALABEL in f.get("message", ""), (doc.get("host"), (doc.get("tls") or {}).get("servername"), f))
    check("idn: the SNI in the transcript is the A-label", any(
        "(SNI %s)" % ALABEL in t.get("line", "") for t in doc.get("transcript") or []), "no SNI line")

    rc, doc, _, _ = probe_json("idn servername", BASE + ["--servername", "bücher.test",
                                                         "127.0.0.1:%d" % P["starttls"]])
    check("idn --servername: sent as its A-label",
          (doc.get("tls") or {}).get("servername") == ALABEL, (doc.get("tls") or {}).get("servername"))

    rc, doc, _, _ = probe_json("idn mx postfix", BASE + ["-p", str(P["starttls"]), "ü@bücher.test"])
    codes = finding_codes(doc)
    check("idn mx: the domain in both forms", doc.get("domain") == ALABEL and
          doc.get("domain_unicode") == "bücher.test", (doc.get("domain"), doc.get("domain_unicode")))
    check("idn mx: non-ASCII local part, Postfix offers SMTPUTF8: smtputf8-ready",
          "smtputf8-ready" in codes and "smtputf8-missing" not in codes, codes)
    rc, doc, _, _ = probe_json("idn mx aiosmtpd", BASE + ["-p", str(P["aiosmtpd"]), "ü@bücher.test"])
    f = finding(doc, "smtputf8-missing") or {}
    check("idn mx: aiosmtpd lacks SMTPUTF8: smtputf8-missing, a warning naming the host",
          f.get("severity") == "warning" and "mx1.test" in f.get("message", ""),
          finding_codes(doc))
    rc, doc, _, _ = probe_json("ascii local", BASE + ["-p", str(P["aiosmtpd"]), "u@bücher.test"])
    check("idn mx: an ASCII local part needs no SMTPUTF8",
          not any(c.startswith("smtputf8") for c in finding_codes(doc)), finding_codes(doc))

    for bad, why in (("bad☃.test", "disallowed"), ("a\u202eb.test", "disallowed")):
        rc, _, out, err = run_probe(BASE + [bad + ":25"])
        check("idn refused: %r exits 3 with a reason" % bad, rc == 3 and "IDNA2008" in err and
              why in err and "??" not in err, (rc, err))
    rc, _, out, err = run_probe(BASE + ["bad☃.test:25"])
    check("idn refused: the name appears as typed", "'bad☃.test'" in err, err)
    rc, _, out, err = run_probe(["--setup", "ü@bücher.test"])
    check("--setup with a non-ASCII local part: refused, says why", rc == 3 and
          "SMTPUTF8" in err, (rc, err))
    finish()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Integration tests of --setup (the relay setup assistant).

Real parts: the suite's nsd carries the SRV records (example.test with
priorities, refused.test with a "." target, wrongcert.test pointing at the
port whose certificate names another host, notls.test at the port without
TLS, many.test with 1,000 targets); Postfix listens on 11465 (implicit TLS)
and 11587 (STARTTLS) with SASL and message_size_limit. A local HTTPS server
(certificate from the suite's CA, $SMTP_PROBE_AUTOCONFIG_PORT pointing at it
instead of 443) serves autoconfig documents: valid, naming a plaintext-only
server, malformed, oversized, an entity bomb, deeply nested, a redirect.

The snippets are proven by use, not by comparing strings: the generated
curl command submits a message to the recommended Postfix; msmtp runs the
generated account (--serverinfo and a real send); a second private Postfix
configured with the generated main.cf lines relays a message through the
first. The tools resolve mx1.test through a private /etc/hosts bind-mounted
in their own mount namespace (unshare -m), so no snippet is edited for the
test; only the password placeholder is filled in. The tool under test never
sends mail: the harness does.
"""
import http.server
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import check, finish, finding_codes, get, load_env, run_probe  # noqa: E402
import schema_check  # noqa: E402

GOOD = """<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
 <emailProvider id="%(dom)s">
  <domain>%(dom)s</domain>
  <incomingServer type="imap"><hostname>imap.%(dom)s</hostname><port>993</port>
   <socketType>SSL</socketType></incomingServer>
  <outgoingServer type="smtp">
   <hostname>%(host)s</hostname>
   <port>%(port)d</port>
   <socketType>%(sock)s</socketType>
   <authentication>password-cleartext</authentication>
   <username>%%EMAILADDRESS%%</username>
  </outgoingServer>
 </emailProvider>
</clientConfig>
"""

BOMB = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%s;" % ("" if i == 1 else i - 1)) * 10)
                  for i in range(1, 10))
        + ']><clientConfig><emailProvider><outgoingServer type="smtp"><hostname>&lol9;'
        '</hostname></outgoingServer></emailProvider></clientConfig>')

AC_DOMAINS = ["ac", "acplain", "acbad", "acbig", "acbomb", "acdeep", "acredir"]


def documents(env):
    sub = env["ports"]["relay_submission"]
    return {
        "ac": GOOD % {"dom": "ac.test", "host": "mx1.test", "port": sub, "sock": "STARTTLS"},
        "acplain": GOOD % {"dom": "acplain.test", "host": "mx1.test",
                           "port": env["ports"]["notls"], "sock": "plain"},
        "acbad": "<clientConfig><emailProvider><outgoingServer type='smtp'>",
        "acbig": "<clientConfig>" + " " * 100000 + "</clientConfig>",
        "acbomb": BOMB,
        "acdeep": "<clientConfig>" + "<x>" * 5000 + "</x>" * 5000 + "</clientConfig>",
    }


class Handler(http.server.BaseHTTPRequestHandler):
    docs = {}

    def log_message(self, *a):
        pass

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        dom = host[len("autoconfig."):] if host.startswith("autoconfig.") else host
        dom = dom[:-len(".test")] if dom.endswith(".test") else dom
        ok_path = (self.path.startswith("/mail/config-v1.1.xml?emailaddress=") or
                   self.path == "/.well-known/autoconfig/mail/config-v1.1.xml")
        if not ok_path:
            self.send_error(404)
            return
        if dom == "acredir":
            self.send_response(302)
            self.send_header("Location", "https://evil.test/config-v1.1.xml")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.docs.get(dom)
        if body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def make_cert(env, tmp):
    certs = os.path.dirname(env["ca"])
    key, csr, crt, ext = (os.path.join(tmp, n) for n in ("k.pem", "r.csr", "c.pem", "ext"))
    names = ["autoconfig.%s.test" % d for d in AC_DOMAINS] + ["ac.test"]
    with open(ext, "w") as f:
        f.write("subjectAltName=" + ",".join("DNS:" + n for n in names) + "\n")
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                    "-subj", "/CN=autoconfig.ac.test"], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", env["ca"], "-CAkey",
                    os.path.join(certs, "ca.key"), "-CAcreateserial", "-CAserial",
                    os.path.join(tmp, "serial"), "-days", "2", "-sha256", "-extfile", ext,
                    "-out", crt], check=True, capture_output=True)
    return crt, key


def start_https(env, tmp):
    Handler.docs = documents(env)
    crt, key = make_cert(env, tmp)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def in_hosts_ns(hosts, cmd, **kw):
    """Run cmd (a shell string) with mx1.test resolving through a private
    /etc/hosts, in a mount namespace of its own (the machine's file is
    untouched)."""
    return subprocess.run(["unshare", "-m", "sh", "-c",
                           'mount --bind "$SP_HOSTS" /etc/hosts && exec sh -c "$SP_CMD"'],
                          env=dict(os.environ, SP_HOSTS=hosts, SP_CMD=cmd, **kw.pop("env", {})),
                          capture_output=True, timeout=60, **kw)


def wait_log(path, needle, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with open(path, errors="replace") as f:
                text = f.read()
            if needle(text):
                return text
        except OSError:
            pass
        time.sleep(0.2)
    return None


def setup(args, env, xenv=None, password=None, name=None):
    run_env = dict(xenv or {})
    if password is not None:
        run_env["SMTP_PROBE_PASSWORD"] = password
    rc, doc, out, err = run_probe(["--resolver", env["dns"]["resolver"], "--cafile", env["ca"],
                                   "--timeout", "5"] + args, env=run_env)
    if doc is not None and name:
        errs = schema_check.errors(doc)
        check("%s: schema" % name, errs == [], errs)
    return rc, doc, out, err


def postfix_relay_test(env, tmp, hosts, postfix_snippet, password):
    """A second private Postfix with the generated main.cf lines relays a
    message through the first. Only the sasl_passwd path and the password
    placeholder are filled in."""
    d = os.path.join(tmp, "pf2")
    q = os.path.join(tmp, "pf2-queue")
    dd = os.path.join(tmp, "pf2-data")
    for p in (d, q, dd):
        os.makedirs(p, exist_ok=True)
    shutil.chown(dd, "postfix")
    log = os.path.join(tmp, "pf2.log")
    main_lines, sasl_lines, part = [], [], "main"
    for line in postfix_snippet.splitlines():
        if line.startswith("# --- /etc/postfix/sasl_passwd"):
            part = "sasl"
            continue
        if line.startswith("#") or not line.strip():
            continue
        (main_lines if part == "main" else sasl_lines).append(
            line.replace("/etc/postfix/sasl_passwd", os.path.join(d, "sasl_passwd")))
    with open(os.path.join(d, "main.cf"), "w") as f:
        f.write("""compatibility_level = 3.6
config_directory = %(d)s
queue_directory = %(q)s
data_directory = %(dd)s
mail_owner = postfix
setgid_group = postdrop
myhostname = client.test
mydomain = test
myorigin = client.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_transport = error:no local delivery
alias_maps =
alias_database =
smtp_dns_support_level = disabled
maillog_file_prefixes = %(tmp)s
maillog_file = %(log)s
""" % {"d": d, "q": q, "dd": dd, "tmp": tmp, "log": log})
        f.write("\n".join(main_lines) + "\n")
    with open(os.path.join(d, "master.cf"), "w") as f:
        f.write("""pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""")
    sp = os.path.join(d, "sasl_passwd")
    with open(sp, "w") as f:
        f.write("\n".join(l.replace("YOUR-PASSWORD", password) for l in sasl_lines) + "\n")
    os.chmod(sp, 0o600)
    open(log, "w").close()
    pf = shutil.which("postfix") or "/usr/sbin/postfix"
    postmap = shutil.which("postmap") or "/usr/sbin/postmap"
    sendmail = shutil.which("sendmail") or "/usr/sbin/sendmail"
    subprocess.run([postmap, "-c", d, "hash:" + sp], check=True, capture_output=True)
    chk = subprocess.run([pf, "-c", d, "check"], capture_output=True, text=True)
    check("postfix-relay: generated main.cf passes postfix check", chk.returncode == 0,
          chk.stderr)
    st = in_hosts_ns(hosts, '%s -c %s start' % (pf, d))
    check("postfix-relay: second postfix starts", st.returncode == 0,
          (st.stdout + st.stderr).decode(errors="replace")[-600:])
    try:
        mark = "setup-relay-%d" % os.getpid()
        msg = ("From: you@example.test\r\nTo: you@example.test\r\nSubject: %s\r\n\r\n"
               "relayed by the generated snippet\r\n" % mark)
        sm = subprocess.run([sendmail, "-C", d, "-f", env["setup_user"], env["setup_user"]],
                            input=msg.encode(), capture_output=True, timeout=30)
        check("postfix-relay: message submitted to the second postfix", sm.returncode == 0,
              sm.stderr)
        text = wait_log(log, lambda t: "status=sent" in t or "status=deferred" in t or
                        "status=bounced" in t)
        check("postfix-relay: the second postfix relayed it (status=sent)",
              text is not None and "status=sent" in text and
              "relay=mx1.test[" in text, (text or "")[-600:])
        m = re.search(r"status=sent \(250 [^)]*queued as ([0-9A-F]+)\)", text or "")
        qid = m.group(1) if m else "(none)"
        first = wait_log(os.path.join(env["statedir"], "postfix.log"),
                         lambda t: re.search(r"%s: client=.*sasl_username=%s" %
                                             (qid, re.escape(env["setup_user"])), t))
        check("postfix-relay: the first postfix took it after a SASL login (queue id %s)" % qid,
              first is not None, "no '%s: client=... sasl_username=%s' in the first "
              "postfix's log" % (qid, env["setup_user"]))
    finally:
        subprocess.run([pf, "-c", d, "stop"], capture_output=True)


def main():
    env = load_env()
    if env.get("minimal"):
        check("setup: needs the full test environment", False, "minimal")
        finish()
    with open(env["sasl"]["password_file"]) as f:
        password = f.read().strip()
    tmp = tempfile.mkdtemp(prefix="sp-setup-")
    os.chmod(tmp, 0o755)          # the second Postfix's queue lives inside
    https = start_https(env, tmp)
    xenv = {"SMTP_PROBE_AUTOCONFIG_PORT": str(https.server_address[1])}
    smtps, sub = env["ports"]["relay_smtps"], env["ports"]["relay_submission"]
    hosts = os.path.join(tmp, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n127.0.0.1 mx1.test\n")
    try:
        # --- the recommendation, with a login, as JSON
        rc, d, out, err = setup(["--json", "--setup", env["setup_user"], "--auth",
                                 env["setup_user"]], env, xenv, password, "example")
        d = d or {}
        rec = d.get("recommended") or {}
        check("example: exit 0", rc == 0, "rc=%s %s %s" % (rc, finding_codes(d), err[-300:]))
        check("example: kind setup", d.get("kind") == "setup", d.get("kind"))
        check("example: implicit TLS on the _submissions target wins (RFC 8314)",
              (rec.get("host"), rec.get("port"), rec.get("tls_mode")) ==
              ("mx1.test", smtps, "implicit"), rec)
        check("example: the login worked", rec.get("login_accepted") is True, rec)
        check("example: the size limit proven at MAIL FROM after the login (--size-check)",
              rec.get("size_verified") is True and
              rec.get("size_limit") == env["relay_size_limit"], rec)
        logins = [c.get("login") for c in d.get("candidates") or [] if c.get("login")]
        chk = ((logins[0] or {}).get("size") or {}).get("check") if logins else None
        check("example: the login's size check: enforced, limit+1 refused",
              isinstance(chk, dict) and chk.get("enforced") is True and
              chk.get("refused") == env["relay_size_limit"] + 1, chk)
        check("example: user and mechanism", rec.get("user") == env["setup_user"] and
              rec.get("auth_mechanism") in ("PLAIN", "LOGIN"), rec)
        srv = [x for x in d.get("discovery", []) if x.get("source") == "srv"]
        check("example: SRV answers in priority order",
              any(("0 1 %d mx1.test, 10 1 %d mx1.test" % (sub, env["ports"]["submission"]))
                  in x.get("answer", "") for x in srv), srv)
        cands = d.get("candidates") or []
        check("example: at most 12 candidates", 0 < len(cands) <= 12, len(cands))
        check("example: one login connection only, on the recommended server",
              [(c.get("host"), c.get("port")) for c in cands if c.get("login")] ==
              [("mx1.test", smtps)], [(c.get("host"), c.get("port"), c.get("login"))
                                       for c in cands])
        mx = [c for c in cands if c.get("source") == "mx"]
        check("example: MX hosts are candidates, said not to be submission servers",
              mx and all("often not the submission server" in c.get("via", "") for c in mx),
              [c.get("via") for c in mx])
        check("example: the password appears nowhere", password not in out and
              password not in err, "password leaked")
        cfg = d.get("config") or {}
        check("example: three snippets", all(isinstance(cfg.get(k), str) and cfg.get(k)
                                              for k in ("curl", "postfix", "msmtp")), cfg)
        check("example: postfix snippet: secure, wrappermode, size",
              "smtp_tls_security_level = secure" in cfg.get("postfix", "") and
              "smtp_tls_wrappermode = yes" in cfg.get("postfix", "") and
              "message_size_limit = %d" % env["relay_size_limit"] in cfg.get("postfix", ""),
              cfg.get("postfix"))
        check("example: placeholders, not the password",
              "YOUR-PASSWORD" in cfg.get("postfix", "") and "$SMTP_PASSWORD" in
              cfg.get("curl", "") and "printenv SMTP_PASSWORD" in cfg.get("msmtp", ""), cfg)

        # --- the snippets, proven by use
        msgfile = os.path.join(tmp, "message.eml")
        with open(msgfile, "w") as f:
            f.write("From: you@example.test\r\nTo: you@example.test\r\nSubject: setup curl "
                    "test\r\n\r\nsent by the generated curl command\r\n")
        r = in_hosts_ns(hosts, "cd %s && %s" % (tmp, cfg.get("curl", "false")),
                        env={"SMTP_PASSWORD": password})
        check("curl snippet: submits a message to the recommended server", r.returncode == 0,
              "rc=%s %s" % (r.returncode, r.stderr[-400:]))
        home = os.path.join(tmp, "home")
        os.makedirs(home)
        rcfile = os.path.join(home, ".msmtprc")
        with open(rcfile, "w") as f:
            f.write(cfg.get("msmtp", ""))
        os.chmod(rcfile, 0o600)
        r = in_hosts_ns(hosts, "msmtp --serverinfo -a example.test",
                        env={"HOME": home, "SMTP_PASSWORD": password})
        so = r.stdout.decode(errors="replace")
        check("msmtp snippet: --serverinfo over TLS", r.returncode == 0 and
              "TLS session parameters" in so and "AUTH" in so,
              "rc=%s %s %s" % (r.returncode, so[-300:], r.stderr[-300:]))
        r = in_hosts_ns(hosts, "msmtp -a default %s < %s" % (env["setup_user"], msgfile),
                        env={"HOME": home, "SMTP_PASSWORD": password})
        check("msmtp snippet: sends a message", r.returncode == 0,
              "rc=%s %s" % (r.returncode, r.stderr[-400:]))
        postfix_relay_test(env, tmp, hosts, cfg.get("postfix", ""), password)

        # --- text, --config, --explain
        rc, _, out, err = setup(["--setup", env["setup_user"]], env, xenv)
        check("text: exit 0 and the recommendation", rc == 0 and
              ("Recommended: mx1.test port %d, implicit TLS" % smtps) in out, out[-600:])
        rc, _, out, err = setup(["--setup", env["setup_user"], "--config", "curl"], env, xenv)
        check("--config curl: only the curl snippet", rc == 0 and out.startswith("# curl") and
              "relayhost" not in out and "account " not in out, out[:300])
        rc, _, out, err = setup(["--setup", env["setup_user"], "--config", "postfix,msmtp"],
                                env, xenv)
        check("--config postfix,msmtp: two snippets", "relayhost = [mx1.test]" in out and
              "account example.test" in out and "curl " not in out, out[:300])
        rc, _, out, err = setup(["--setup", env["setup_user"], "--explain"], env, xenv)
        check("--explain: says why", rc == 0 and "RFC 8314" in out and
              "careful admin" in out, out[-400:])

        # --- SRV "." target, no server at all
        rc, d, out, err = setup(["--json", "--setup", "you@refused.test"], env, xenv, None,
                                "refused")
        d = d or {}
        check("refused: exit 2, nothing recommended", rc == 2 and d.get("recommended") is None
              and "setup-no-server" in finding_codes(d), (rc, finding_codes(d)))
        check("refused: the '.' target is reported", "setup-srv-not-offered" in
              finding_codes(d) and any("explicitly not offered" in x.get("answer", "")
                                       for x in d.get("discovery", [])), d.get("discovery"))

        # --- a certificate for another name: recommended with a warning,
        # the password is not sent, Postfix told to encrypt (not secure)
        rc, d, out, err = setup(["--json", "--setup", "you@wrongcert.test", "--auth",
                                 env["setup_user"]], env, xenv, password, "wrongcert")
        d = d or {}
        codes = finding_codes(d)
        check("wrongcert: exit 1 with setup-cert-not-valid", rc == 1 and
              "setup-cert-not-valid" in codes, (rc, codes))
        check("wrongcert: recommended the port anyway (TLS works)",
              (get(d, "recommended.port")) == env["ports"]["wrongname"], d.get("recommended"))
        check("wrongcert: the password was not sent", "setup-login-not-tested" in codes and
              not any(c.get("login") for c in d.get("candidates") or []), codes)
        check("wrongcert: postfix snippet uses encrypt",
              "smtp_tls_security_level = encrypt" in (get(d, "config.postfix") or ""),
              get(d, "config.postfix"))

        # --- no TLS at all: never recommended, even with --auth
        rc, d, out, err = setup(["--json", "--setup", "you@notls.test", "--auth",
                                 env["setup_user"]], env, xenv, password, "notls")
        d = d or {}
        check("notls: exit 2, not recommended", rc == 2 and d.get("recommended") is None, rc)
        check("notls: says a password needs TLS", "without TLS" in (d.get("missing") or ""),
              d.get("missing"))
        check("notls: no snippets", get(d, "config.curl") is None, d.get("config"))

        # --- 1,000 SRV targets
        rc, d, out, err = setup(["--json", "--setup", "you@many.test"], env, xenv, None, "many")
        d = d or {}
        check("many: bounded to 12 candidates", len(d.get("candidates") or []) <= 12,
              len(d.get("candidates") or []))
        check("many: the priority-0 target recommended",
              (get(d, "recommended.host"), get(d, "recommended.port")) == ("mx1.test", sub),
              d.get("recommended"))
        check("many: the record count is reported", any("[1000 records]" in x.get("answer", "")
                                                        for x in d.get("discovery", [])),
              [x.get("answer", "")[:120] for x in d.get("discovery", [])])

        # --- autoconfig
        rc, d, out, err = setup(["--json", "--setup", "you@ac.test"], env, xenv, None, "ac")
        d = d or {}
        ac = [c for c in d.get("candidates") or [] if c.get("source") == "autoconfig"]
        check("autoconfig: the server it names is a candidate",
              [(c.get("host"), c.get("port"), c.get("tls_mode")) for c in ac] ==
              [("mx1.test", sub, "starttls")], [(c.get("host"), c.get("port")) for c in ac])
        check("autoconfig: recommended, user from %EMAILADDRESS%",
              (get(d, "recommended.host"), get(d, "recommended.port"), get(d, "recommended.user"))
              == ("mx1.test", sub, "you@ac.test"), d.get("recommended"))
        check("autoconfig: exit 0", rc == 0, (rc, finding_codes(d)))

        rc, d, out, err = setup(["--json", "--setup", "you@acplain.test", "--auth",
                                 env["setup_user"]], env, xenv, password, "acplain")
        d = d or {}
        check("autoconfig plain: never recommended", rc == 2 and d.get("recommended") is None,
              (rc, d.get("recommended")))
        check("autoconfig plain: named as such", "setup-autoconfig-plaintext" in
              finding_codes(d), finding_codes(d))
        check("autoconfig plain: no AUTH was sent", not any(
            get(c, "auth.tested") or c.get("login") for c in d.get("candidates") or []), "")

        for dom, want in (("acbad", "not well-formed"), ("acbig", "larger than"),
                          ("acbomb", "DOCTYPE"), ("acdeep", "deeper"),
                          ("acredir", "not followed")):
            rc, d, out, err = setup(["--json", "--setup", "you@%s.test" % dom], env, xenv,
                                    None, dom)
            d = d or {}
            ans = [x.get("answer", "") for x in d.get("discovery", [])
                   if x.get("source") == "autoconfig" and "autoconfig.%s" % dom in x.get("name")]
            check("autoconfig %s: refused (%s)" % (dom, want), rc in (1, 2) and
                  any(want in a for a in ans), (rc, ans))
            check("autoconfig %s: no candidate from it" % dom, not any(
                c.get("source") == "autoconfig" for c in d.get("candidates") or []), "")

        # --- bad usage
        for args, what in ((["--setup", "nobody"], "--setup"),
                           (["--config", "curl", "mx1.test"], "--config"),
                           (["--setup", "a@example.test", "--config", "sendmail"], "--config"),
                           (["--setup", "a@example.test", "mx1.test"], "a target"),
                           (["--setup", "a@example.test", "-p", "25"], "--port")):
            rc, _, out, err = run_probe(args)
            check("usage: %s" % " ".join(args), rc == 3 and what in err and
                  len(err.strip().splitlines()) == 1, (rc, err))
    finally:
        https.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()

"""-o html in a real browser: headless Chromium (Debian's) loads the page
the probe wrote and we read back its DOM (--dump-dom) and a screenshot.

What a person relies on: the verdict, every finding, every certificate and
the timeline are on the page; the page loads nothing from elsewhere and runs
no script, even when a hostile server puts markup, javascript: URLs, bidi and
control characters into every field it controls; it fits a phone (375 px)
and a desktop (1280 px) without horizontal scrolling.

Screenshots are kept in $BUILD/test-artifacts/ (docs/report.png is made
from the demo server's page by the same code: see scripts/demo.sh)."""

import html.parser
import http.server
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helper import Helper  # noqa: E402
from lib import ROOT, check, finish, load_env, run_probe  # noqa: E402

ENV = load_env()
CA = ENV["ca"]
DNS = ENV["dns"]["resolver"]
V4 = "127.0.0.1"
PORTS = ENV["ports"]
FAKE = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")
ART = os.path.join(os.path.dirname(os.environ.get("SMTP_PROBE", "build/smtp-probe")),
                   "test-artifacts")
os.makedirs(ART, exist_ok=True)
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TMP = tempfile.mkdtemp(prefix="sp-html-")


def chromium(args, timeout=60):
    """Headless Chromium, its own throw-away profile, no network but loopback."""
    prof = tempfile.mkdtemp(prefix="chr-", dir=TMP)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
           "--disable-extensions", "--disable-background-networking",
           "--disable-component-update", "--user-data-dir=" + prof] + args
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    return p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def dom_of(path):
    out, err = chromium(["--virtual-time-budget=3000", "--dump-dom", "file://" + path])
    return out or ""


def shot(path, name, width):
    png = os.path.join(ART, "%s-%d.png" % (name, width))
    chromium(["--hide-scrollbars", "--window-size=%d,1600" % width,
              "--screenshot=" + png, "file://" + path])
    return os.path.exists(png) and os.path.getsize(png) > 1000


def write_page(name, args, want_rc):
    rc, _, out, err = run_probe(["-o", "html"] + args, timeout=30)
    path = os.path.join(TMP, name + ".html")
    with open(path, "w") as f:
        f.write(out)
    check("%s: exit %d" % (name, want_rc), rc == want_rc, "rc=%s %s" % (rc, err[:200]))
    return path, out


class Tags(html.parser.HTMLParser):
    """The elements and attributes of a page, as a browser would parse them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v or "") for k, v in attrs]


def self_contained(name, page):
    """Nothing on the page may load or run anything."""
    t = Tags()
    t.feed(page)
    check(name + ": doctype-and-csp",
          page.lower().startswith("<!doctype html>") and "default-src 'none'" in page,
          page[:300])
    check(name + ": no-script", "script" not in t.tags and
          not [a for a in t.attrs if a[1].startswith("on")], t.tags)
    loaders = {"img", "link", "iframe", "object", "embed", "audio", "video", "source",
               "frame", "base", "form", "input", "a"}
    check(name + ": no-external-resource",
          not loaders & set(t.tags) and
          not [a for a in t.attrs if a[1] in ("src", "href", "srcset", "action",
                                               "formaction", "background", "xlink:href")] and
          "url(" not in page.lower(),
          (sorted(loaders & set(t.tags)), t.attrs[:5]))


# 1. A good server: verdict, chain, timeline, extensions, explained dialogue.
path, html = write_page("postfix", ["--cafile", CA, "--servername", "mx1.test",
                                    "%s:%d" % (V4, PORTS["starttls"])], 0)
self_contained("postfix", html)
dom = dom_of(path)
check("postfix: chromium-loaded", "</html>" in dom and "<body" in dom, dom[:200])
check("postfix: verdict-first", re.search(r"<header[^>]*st-ok[^>]*><h1>OK: 127\.0\.0\.1:%d"
                                          % PORTS["starttls"], dom) is not None, dom[:600])
check("postfix: no-findings", "No findings." in dom)
check("postfix: timeline-bars",
      dom.count("<rect") >= 6 and "TLS handshake" in dom and "EHLO after TLS" in dom,
      dom.count("<rect"))
check("postfix: chain-cards", dom.count('class="card"') == 2 and "CN=mx1.test" in dom and
      "Server certificate" in dom)
check("postfix: validity-bar-today", ">today<" in dom)
check("postfix: tlsa-311", re.search(r"_%d\._tcp\.mx1\.test\. IN TLSA 3 1 1 [0-9a-f]{64}"
                                     % PORTS["starttls"], dom) is not None)
check("postfix: extensions-diff", "STARTTLS" in dom and "before TLS only" in dom)
check("postfix: limit", "76,623,714" in dom)
check("postfix: explain-collapsed", "<details><summary>The dialogue, explained" in dom and
      "EHLO" in dom)
for w in (1280, 375):
    check("postfix: screenshot-%d" % w, shot(path, "postfix", w))
# docs/report.png (README, docs/usage.md) is this screenshot of the suite's
# Postfix, the demo's server: SP_UPDATE_DOCS=1 refreshes it.
if os.environ.get("SP_UPDATE_DOCS") == "1":
    shutil.copy(os.path.join(ART, "postfix-1280.png"), os.path.join(ROOT, "docs", "report.png"))

# 2. A certificate 5 days from expiry: the finding and why it matters.
path, html = write_page("soon5", ["--cafile", CA, "--servername", "mx1.test",
                                  "%s:%d" % (V4, PORTS["soon5"])], 2)
dom = dom_of(path)
check("soon5: verdict-critical", "<h1>CRITICAL: " in dom, dom[:400])
check("soon5: finding-with-why", "cert-expires-soon" in dom and "Renew before" in dom)

# 3. The MX view: one timeline row per host, a section per probe.
path, html = write_page("mx", ["--cafile", CA, "--resolver", DNS, "-p",
                               str(PORTS["starttls"]), "--timeout", "5", "--mx",
                               "example.test"], 2)
dom = dom_of(path)
self_contained("mx", html)
check("mx: domain-verdict", "example.test" in dom and "MX hosts" in dom, dom[:300])
check("mx: rows-per-host", dom.count("<details") >= 2 and "Timeline per host" in dom,
      dom.count("<details"))

# 3b. The relay setup assistant (--setup): the decision first, the
# candidates tried as a table (the suite's Postfix on its SRV ports), the
# snippets, then each candidate drawn as the single page draws a probe.
smtps, sub = PORTS["relay_smtps"], PORTS["relay_submission"]
path, html = write_page("setup", ["--cafile", CA, "--resolver", DNS, "--timeout", "5",
                                  "--setup", ENV["setup_user"]], 0)
self_contained("setup", html)
dom = dom_of(path)
check("setup: chromium-loaded", "</html>" in dom and "<body" in dom, dom[:200])
check("setup: verdict-first",
      re.search(r'<body>\s*<header class="verdict st-ok"><h1>OK: relay setup for '
                r'you@example\.test</h1><p id="recommended">Recommended: <strong[^>]*>'
                r'mx1\.test</strong> port %d, implicit TLS' % smtps, dom) is not None,
      dom[dom.find("<body"):][:400])
check("setup: reasons", "RFC 8314" in dom and "found by SRV" in dom)
rows = re.findall(r'<tr class="cand( rec)?"><td class="mono">([^<]*)</td><td class="port">'
                  r'(\d+)</td><td class="tls">([^<]*)</td><td>(.*?)</td></tr>', dom)
byport = {(h, int(p)): (bool(r), m, res) for r, h, p, m, res in rows}
check("setup: candidate-rows", 0 < len(rows) <= 12 and
      byport.get(("mx1.test", smtps), (0,))[:2] == (True, "implicit TLS") and
      byport.get(("mx1.test", sub), (0,))[:2] == (False, "STARTTLS") and
      byport.get(("mx1.test", PORTS["submission"]), (0,))[:2] == (False, "STARTTLS"),
      [(h, p, r, m) for r, h, p, m, _ in rows])
check("setup: candidate-results", all("usable: " in byport.get(("mx1.test", p), (0, 0, ""))[2]
                                      for p in (smtps, sub, PORTS["submission"])) and
      any("not usable: " in v[2] for v in byport.values()), [v[2][:60] for v in byport.values()])
check("setup: recommended-settings", "relayhost = [mx1.test]:%d" % smtps in dom and
      "smtp_tls_wrappermode = yes" in dom and "YOUR-PASSWORD" in dom and
      "smtps://mx1.test:%d" % smtps in dom, re.findall(r'<pre class="snippet">.{0,200}', dom))
check("setup: per-candidate-sections",
      re.search(r"<details open=\"\"><summary>OK: mx1\.test port %d, implicit TLS" % smtps,
                dom) is not None and dom.count('class="card"') >= 2 and
      "EHLO after TLS" in dom and "Timeline per host" in dom and
      "mx1.test:%d" % sub in dom, re.findall(r"<summary>[^<]*", dom)[:4])
check("setup: no-script-in-dom", "<body" in dom and "<script" not in dom)
for w in (1280, 375):
    check("setup: screenshot-%d" % w, shot(path, "setup", w))

# Nothing usable (the server has no TLS): exit 2, why first, no snippets.
path, html = write_page("setup-notls", ["--cafile", CA, "--resolver", DNS, "--timeout", "5",
                                        "--setup", "you@notls.test"], 2)
self_contained("setup-notls", html)
dom = dom_of(path)
check("setup-notls: why-first",
      re.search(r'<header class="verdict st-critical"><h1>CRITICAL: relay setup for '
                r'you@notls\.test</h1><p id="recommended">No recommendation: [^<]*without TLS',
                dom) is not None, dom[dom.find("<body"):][:400])
check("setup-notls: finding-with-why", "setup-no-server" in dom and
      "nothing a password may safely be sent to" in dom)
check("setup-notls: no-snippets", "No recommendation" in dom and
      '<pre class="snippet">' not in dom and "YOUR-PASSWORD" not in dom)

# 4. A hostile server: markup, a javascript: URL, an image that would call
# home, bidi and control characters, in the greeting, EHLO and certificate.
hits = []


class Canary(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


canary = http.server.HTTPServer(("127.0.0.1", 0), Canary)
cport = canary.server_address[1]
threading.Thread(target=canary.serve_forever, daemon=True).start()
img = '"><img src=http://127.0.0.1:%d/x onerror=alert(1)>' % cport
script = "<script>fetch('http://127.0.0.1:%d/s')</script>" % cport
certdir = os.path.join(TMP, "certs")
os.makedirs(certdir)
subj = "/O=%s/CN=%s" % (img.replace("/", "\\/"), "<script>alert(1)<\\/script>")
r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "30", "-subj", subj,
                    "-addext", "subjectAltName=DNS:javascript.test,DNS:x\u202etxt.exe",
                    "-keyout", os.path.join(certdir, "hostile.key"),
                    "-out", os.path.join(certdir, "hostile.pem")], capture_output=True)
check("hostile: cert-made", r.returncode == 0, r.stderr[-300:])
scn = os.path.join(TMP, "hostile.scn")


with open(scn, "w") as f:
    f.write("send 220 %s \\x1b[2J\\x07\\xe2\\x80\\xae evil javascript:alert(1)\\r\\n\n"
            % script.replace("\\", "\\\\"))
    f.write("expect EHLO\n")
    f.write("send 250-mx.fake.test %s\\r\\n250-X-%s\\r\\n250-SIZE 1000\\r\\n"
            "250 STARTTLS\\r\\n\n" % (img, "<b>bold</b>"))
    f.write("expect STARTTLS\nsend 220 go\\r\\n\ntls-cert hostile.pem hostile.key\n")
    f.write("expect EHLO\nsend 250-mx.fake.test\\r\\n250 AUTH PLAIN %s\\r\\n\n" % img)
    f.write("expect QUIT\nsend 221 bye\\r\\n\n")
srv = Helper(["/usr/bin/python3", FAKE, "--port", "0", "--scenario", scn,
              "--certdir", certdir, "--lifetime", "60"])
check("hostile: fake-server-up", srv.port is not None, srv.stderr()[-300:])
path, html = write_page("hostile", ["--cafile", CA, "%s:%d" % (V4, srv.port or 1)], 2)
srv.stop()
self_contained("hostile", html)
check("hostile: text-arrived-escaped",
      "&lt;script&gt;fetch(" in html and "&quot;&gt;&lt;img src=http://127.0.0.1" in html and
      re.search(r"CN=\\?&lt;script\\?&gt;alert\(1\)", html) is not None,
      re.findall(r"CN=[^<]{0,60}", html)[:2])
check("hostile: no-raw-controls-or-bidi",
      not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u0080-\u009f\u200e\u200f\u202a-\u202e"
                    "\u2066-\u2069]", html),
      re.findall("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f\u202a-\u202e]", html)[:5])
dom = dom_of(path)
check("hostile: dom-loaded", "<h1>CRITICAL" in dom, dom[:300])
check("hostile: no-element-injected",
      "<img" not in dom and "<script" not in dom and "<b>" not in dom,
      re.findall(r"<(?:img|script|b)\b[^>]*>", dom)[:3])
check("hostile: escaped-in-dom", "&lt;script&gt;fetch(" in dom and "&lt;b&gt;bold" in dom)
check("hostile: screenshot", shot(path, "hostile", 1280))
check("hostile: no-request-left-the-page", hits == [], hits)

# 5. Width: the pages fit 375 px and 1280 px without horizontal scrolling.
# Chromium measures: a test-only wrapper page (not the report, which runs no
# script) frames each report at each width and writes scrollWidth into its
# own DOM, served over loopback so the frames are same-origin.
wrap = os.path.join(TMP, "wrap.html")
pages = ["postfix.html", "mx.html", "hostile.html", "setup.html"]
with open(wrap, "w") as f:
    f.write("<!DOCTYPE html><html><body><div id=out>pending</div>")
    for p in pages:
        for w in (375, 1280):
            f.write('<iframe data-w="%d" src="%s" style="width:%dpx;height:600px;border:0">'
                    "</iframe>" % (w, p, w))
    f.write("""<script>
window.addEventListener('load', function () {
  var r = [];
  document.querySelectorAll('iframe').forEach(function (fr) {
    var d = fr.contentDocument.documentElement;
    r.push(fr.getAttribute('src') + '@' + fr.dataset.w + '=' + d.scrollWidth + '/' + d.clientWidth);
  });
  document.getElementById('out').textContent = 'RESULT ' + r.join(' ');
});
</script></body></html>""")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=TMP, **k)

    def log_message(self, *a):
        pass


web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
threading.Thread(target=web.serve_forever, daemon=True).start()
out, err = chromium(["--virtual-time-budget=5000", "--dump-dom",
                     "http://127.0.0.1:%d/wrap.html" % web.server_address[1]])
web.shutdown()
m = re.search(r"RESULT ([^<]*)", out or "")
check("width: measured", m is not None and m.group(1).count("=") == 2 * len(pages), (out or err)[:300])
for item in (m.group(1).split() if m else []):
    name, sizes = item.split("=")
    sw, cw = (int(x) for x in sizes.split("/"))
    check("width: %s no-horizontal-scroll" % name, 0 < sw <= cw, "%d > %d" % (sw, cw))

# 6. The exporter's pages: GET / is a form, GET /report?target= the same
# report, under the same allowlist, with the policy as a header.
def http_get(port, path):
    """(status, headers lower-cased, body) of one GET to the exporter."""
    import http.client
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", path)
        r = c.getresponse()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()},
               r.read().decode("utf-8", "replace"))
        c.close()
        return out
    except OSError as e:
        return None, {}, str(e)


srv = Helper(["/usr/bin/python3", FAKE, "--port", "0", "--scenario", scn,
              "--certdir", certdir, "--lifetime", "60"])
ex = subprocess.Popen([os.environ.get("SMTP_PROBE", "build/smtp-probe"), "--serve",
                       "127.0.0.1:0", "--cafile", CA, "--serve-allow",
                       "127.0.0.1:%d" % PORTS["starttls"], "--serve-allow",
                       "127.0.0.1:%d" % (srv.port or 1)],
                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE)
line = ex.stderr.readline().decode("utf-8", "replace")
m = re.search(r"listening on http://[^/]*:(\d+)/", line)
check("serve: listening", m is not None, line)
xport = int(m.group(1)) if m else 1
st, h, body = http_get(xport, "/")
check("serve: index-form", st == 200 and h.get("content-type", "").startswith("text/html") and
      '<form method="get" action="/report">' in body and 'name="target"' in body, st)
check("serve: index-csp", "default-src 'none'" in h.get("content-security-policy", ""), h)
self_contained_tags = Tags()
self_contained_tags.feed(body)
check("serve: index-no-script", "script" not in self_contained_tags.tags)
st, h, body = http_get(xport, "/report?target=127.0.0.1:%d&servername=mx1.test"
                       % PORTS["starttls"])
check("serve: report-200-html", st == 200 and h.get("content-type", "").startswith(
      "text/html") and "<h1>OK: 127.0.0.1:%d" % PORTS["starttls"] in body, (st, body[:200]))
check("serve: report-csp-header", h.get("content-security-policy", "").startswith(
      "default-src 'none'") and h.get("x-content-type-options") == "nosniff", h)
check("serve: report-has-dialogue", "The dialogue, explained" in body)
st, h, body = http_get(xport, "/report?target=127.0.0.1:%d" % PORTS["notls"])
check("serve: report-refused-by-allowlist", st == 403 and "not allowed" in body, (st, body))
out, err = chromium(["--virtual-time-budget=5000", "--dump-dom",
                     "http://127.0.0.1:%d/report?target=127.0.0.1:%d" % (xport, srv.port or 1)])
check("serve: hostile-page-in-browser", out is not None and "<h1>CRITICAL" in out and
      "&lt;script&gt;fetch(" in out and "<img" not in out and "<script" not in out,
      (out or err or "")[:300])
check("serve: hostile-no-request", hits == [], hits)
out, err = chromium(["--virtual-time-budget=5000", "--dump-dom",
                     "http://127.0.0.1:%d/" % xport])
check("serve: form-in-browser", out is not None and 'action="/report"' in out,
      (out or err or "")[:300])
ex.terminate()
try:
    ex.wait(10)
except subprocess.TimeoutExpired:
    ex.kill()
    ex.wait()
srv.stop()

canary.shutdown()
if not os.environ.get("KEEP"): shutil.rmtree(TMP, ignore_errors=True)
finish()

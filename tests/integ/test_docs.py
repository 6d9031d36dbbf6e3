"""The documentation tells the truth about the code: every finding code the
C sources can emit is in docs/findings.md and the man page, every code those
pages list is emitted, and every relative link in README.md and docs/*.md
points at a file of the repository."""
import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import ROOT, check, finish  # noqa: E402

CODE = r"[a-z0-9]+(?:-[a-z0-9]+)+"


def emitted_codes():
    """Finding codes in the sources: the first code-like literal after the
    SEV_ argument of a findings call, plus the DNS error code table."""
    codes = set()
    for path in glob.glob(os.path.join(ROOT, "probe", "*.c")):
        with open(path) as f:
            src = f.read()
        for m in re.finditer(r"\b(?:result_add|dadd|add|findings_add)\s*\(([^;]{0,300})", src):
            args = m.group(1)
            if "SEV_" not in args:
                continue
            lit = re.search(r'"(%s)"' % CODE, args[args.index("SEV_"):][:200])
            if lit:
                codes.add(lit.group(1))
        codes.update(re.findall(r'return "(dns-[a-z-]+)";', src))
    return codes


def findings_md_codes():
    """Codes in the first column of docs/findings.md's tables."""
    codes = set()
    with open(os.path.join(ROOT, "docs", "findings.md")) as f:
        for line in f:
            if line.startswith("| `"):
                first = line.split("|")[1]
                codes.update(re.findall(r"`(%s)`" % CODE, first))
    return codes


def man_codes():
    """Codes named in the FINDINGS section of the man page."""
    with open(os.path.join(ROOT, "doc", "smtp-probe.1")) as f:
        man = f.read()
    sec = man.split(".SH FINDINGS", 1)[1].split("\n.SH ", 1)[0]
    codes = set()
    for line in sec.splitlines():
        if line.startswith((".B ", ".BR ")):
            for word in re.findall(r"(?:^|[\s\"])([a-z0-9]+(?:\\-[a-z0-9]+)+)", line):
                codes.add(word.replace("\\-", "-"))
    return codes


code = emitted_codes()
check("docs: codes found in the sources", len(code) > 50, sorted(code))
doc = findings_md_codes()
check("docs: findings.md lists codes", "cert-expired" in doc and "null-mx" in doc, sorted(doc))
check("docs: every emitted code is in findings.md", not (code - doc), sorted(code - doc))
check("docs: findings.md lists no code the program never emits", not (doc - code),
      sorted(doc - code))
man = man_codes()
check("docs: man page lists codes", "cert-expired" in man, sorted(man))
check("docs: every emitted code is in the man page", not (code - man), sorted(code - man))
check("docs: the man page lists no code the program never emits", not (man - code),
      sorted(man - code))

# Severities that were documented wrongly once.
with open(os.path.join(ROOT, "docs", "findings.md")) as f:
    rows = {r.split("|")[1].strip(): r for r in f if r.startswith("| `")}
check("docs: dns-no-mx is critical", "critical" in rows.get("`dns-no-mx`", ""),
      rows.get("`dns-no-mx`"))
check("docs: internal-error is critical", "critical" in rows.get("`internal-error`", ""),
      rows.get("`internal-error`"))

pages = [os.path.join(ROOT, "README.md")] + glob.glob(os.path.join(ROOT, "docs", "*.md"))
# The project's planning files live outside the repository; docs/design.md
# is the design a reader gets, so nothing here may send them elsewhere.
OUTSIDE = re.compile(r"\b(DESIGN|STYLE|NOTES)\.md\b|\.\./shared[/]")
bad = []
nlinks = 0
for page in pages:
    with open(page) as f:
        text = f.read()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        nlinks += 1
        path = os.path.normpath(os.path.join(os.path.dirname(page), target.split("#")[0]))
        if not os.path.exists(path):
            bad.append("%s -> %s" % (os.path.relpath(page, ROOT), target))
    if OUTSIDE.search(text):
        bad.append("%s names a file outside the repository" % os.path.relpath(page, ROOT))
# docs/design.md's severity table names only codes the program emits.
with open(os.path.join(ROOT, "docs", "design.md")) as f:
    design = f.read()
sev_table = design.split("## Findings and severities", 1)[-1].split("\n## ", 1)[0]
named = set(re.findall(r"`(%s)`" % CODE, sev_table))
check("docs: design.md names emitted codes", len(named) > 10 and not (named - code),
      sorted(named - code) or len(named))
# ... each in the row of the severity findings.md gives it (cert-weak-key
# was once a "warning" example there while the program says critical).
wrong = []
for row in sev_table.splitlines():
    m = re.match(r"\| `(critical|warning|info)` \|", row)
    if not m:
        continue
    for c in re.findall(r"`(%s)`" % CODE, row.split("|", 4)[-1]):
        col = rows.get("`%s`" % c, "").split("|")
        if len(col) < 3 or m.group(1) not in col[2]:
            wrong.append("%s: design.md %s, findings.md %s" % (c, m.group(1),
                                                              col[2].strip() if len(col) > 2 else "?"))
check("docs: design.md severity examples agree with findings.md", not wrong, wrong)

# No comment in the code or the tests cites a file the repository lacks.
cited = []
for path in (glob.glob(os.path.join(ROOT, "probe", "*")) + glob.glob(os.path.join(ROOT, "include", "*"))
             + glob.glob(os.path.join(ROOT, "tests", "*", "*.*"))
             + glob.glob(os.path.join(ROOT, "scripts", "*.sh")) + [os.path.join(ROOT, "Makefile")]):
    if not os.path.isfile(path) or path == os.path.abspath(__file__):
        continue
    with open(path, errors="replace") as f:
        if OUTSIDE.search(f.read()):
            cited.append(os.path.relpath(path, ROOT))
check("docs: no source cites a planning file outside the repository", not cited, cited)

check("docs: relative links found", nlinks > 10, nlinks)
check("docs: every relative link resolves", not bad, bad)
with open(os.path.join(ROOT, "README.md")) as f:
    readme = f.read()
check("docs: README is a front page", len(readme.splitlines()) < 150 and
      readme.index("make test") < 400, len(readme.splitlines()))
finish()

"""Validate smtp-probe's JSON output against the published schema
(docs/smtp-probe.schema.json, JSON Schema draft 2020-12) with Debian's
python3-jsonschema. Any test that produces JSON can use it:

    import schema_check
    errs = schema_check.errors(doc)          # [] when valid
    docs, errs = schema_check.check_output(stdout_text)   # JSON Lines or one document

Run directly, it validates files or stdin:  schema_check.py [FILE...]
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMA_PATH = os.environ.get("SMTP_PROBE_SCHEMA",
                             os.path.join(ROOT, "docs", "smtp-probe.schema.json"))

_validator = None
_load_error = None


def validator():
    """The Draft202012Validator for the schema (loaded once), or None with
    load_error() saying why (jsonschema missing, schema unreadable/invalid)."""
    global _validator, _load_error
    if _validator is not None or _load_error is not None:
        return _validator
    try:
        from jsonschema import Draft202012Validator
    except ImportError as e:
        _load_error = "python3-jsonschema is not installed (%s); run with /usr/bin/python3" % e
        return None
    try:
        with open(SCHEMA_PATH) as f:
            schema = json.load(f)
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # unreadable or not a valid schema: every validation fails
        _load_error = "schema %s: %s" % (SCHEMA_PATH, e)
        return None
    _validator = Draft202012Validator(schema)
    return _validator


def load_error():
    validator()
    return _load_error


def _where(err):
    path = "/".join(str(p) for p in err.absolute_path)
    return "/" + path


def errors(doc, limit=5):
    """A list of short messages, one per schema violation (at most limit);
    [] when doc is valid."""
    v = validator()
    if v is None:
        return [_load_error]
    out = []
    for err in sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        msg = err.message
        if len(msg) > 200:
            msg = msg[:200] + "..."
        out.append("%s: %s" % (_where(err), msg))
        if len(out) >= limit:
            break
    return out


def parse_output(text):
    """The documents in smtp-probe's -o json output: one per line (compact),
    or a single indented document. Raises ValueError when it is neither."""
    text = text.strip()
    if not text:
        raise ValueError("empty output")
    try:
        return [json.loads(text)]
    except ValueError:
        pass
    docs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            docs.append(json.loads(line))
        except ValueError as e:
            raise ValueError("line %d is not JSON: %s" % (n, e))
    return docs


def check_output(text):
    """(docs, errors) for a whole -o json output; errors name the document
    (#1, #2, ...) when there are several."""
    try:
        docs = parse_output(text)
    except ValueError as e:
        return [], ["output: %s" % e]
    errs = []
    for i, doc in enumerate(docs, 1):
        prefix = "#%d " % i if len(docs) > 1 else ""
        errs.extend(prefix + e for e in errors(doc))
    return docs, errs


def main(argv):
    sources = argv[1:] or ["-"]
    bad = 0
    for src in sources:
        text = sys.stdin.read() if src == "-" else open(src).read()
        docs, errs = check_output(text)
        if errs:
            bad += 1
            print("FAIL %s: %s" % (src, "; ".join(errs)))
        else:
            print("ok %s (%d document%s)" % (src, len(docs), "" if len(docs) == 1 else "s"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""--shard K/N: N runs of one target list, each with its own K, probe every
target exactly once, and their JSON Lines together are the unsharded run's
(same targets, same statuses); lines naming one host (any port, scheme or
case) land in one share; bad usage is one line and exit 3. Targets: the
suite's Postfix, closed loopback ports, names the suite's DNS does not
know, and a line that is not a target."""
import collections
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import PROBE, check, finish, load_env  # noqa: E402

ENV = load_env()
DNS = ENV["dns"]["resolver"] if isinstance(ENV.get("dns"), dict) else "127.0.0.1:%d" % ENV["ports"]["dns"]
PF = ENV["ports"]["starttls"]
N = 3


def targets():
    t = ["127.0.0.1:%d" % PF, "smtp://127.0.0.1:%d" % PF]
    t += ["127.0.%d.%d:9" % (20 + i // 200, 1 + i % 200) for i in range(40)]
    t += ["host%d.nowhere.test:9" % i for i in range(10)]
    # One host spelled four ways: one share must take all four.
    t += ["same.nowhere.test:9", "SAME.Nowhere.TEST:25", "same.nowhere.test.:587",
          "submission://same.nowhere.test"]
    t += ["[::1"]                                  # not a target: still one share
    return t


def run(path, extra):
    p = subprocess.run([PROBE, "-f", path, "-o", "json", "-c", "32", "--timeout", "3",
                        "--resolver", DNS, "--servername", "mx1.test", "--cafile", ENV["ca"]]
                       + extra, capture_output=True, timeout=120)
    docs = []
    for ln in p.stdout.decode("utf-8", "replace").splitlines():
        try:
            docs.append(json.loads(ln))
        except ValueError:
            docs.append({"target": "UNPARSED " + ln[:80]})
    return p.returncode, docs


def key(d):
    return (d.get("target"), d.get("status"))


def main():
    ts = targets()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("# a comment, then the targets\n\n" + "\n".join(ts) + "\n")
        path = f.name
    try:
        rc, whole = run(path, [])
        check("unsharded: one line per target", len(whole) == len(ts),
              "%d lines for %d targets" % (len(whole), len(ts)))
        check("unsharded: Postfix answered",
              any(d.get("target") == "127.0.0.1:%d" % PF and d.get("status") == "ok"
                  for d in whole), [key(d) for d in whole][:3])
        shards = []
        for k in range(1, N + 1):
            rck, docs = run(path, ["--shard", "%d/%d" % (k, N)])
            shards.append(docs)
            check("shard %d/%d: ran" % (k, N), rck in (0, 1, 2, 3) and docs, rck)
        seen = collections.Counter(d.get("target") for s in shards for d in s)
        check("shards: no target twice", all(v == 1 for v in seen.values()),
              [t for t, v in seen.items() if v > 1])
        check("shards: union is the whole list", sorted(seen) == sorted(ts),
              sorted(set(ts) ^ set(seen)))
        check("shards: same statuses as the unsharded run",
              sorted(key(d) for s in shards for d in s) == sorted(key(d) for d in whole),
              sorted(set(key(d) for s in shards for d in s) ^ set(key(d) for d in whole)))
        check("shards: every share has targets", all(len(s) > 0 for s in shards),
              [len(s) for s in shards])
        where = {d.get("target"): i for i, s in enumerate(shards) for d in s}
        same = [t for t in ts if "same.nowhere.test" in t.lower()]
        check("shards: one host, one share", len({where.get(t) for t in same}) == 1,
              {t: where.get(t) for t in same})
        check("shards: Postfix host in one share",
              where.get("127.0.0.1:%d" % PF) == where.get("smtp://127.0.0.1:%d" % PF), where)
        # --shard 1/1 is the whole list.
        rc1, one = run(path, ["--shard", "1/1"])
        check("shard 1/1: the whole list", sorted(d.get("target") for d in one) == sorted(ts),
              len(one))
    finally:
        os.unlink(path)

    for name, args in [("zero", ["--shard", "0/3", "-f", "-"]),
                       ("k-above-n", ["--shard", "4/3", "-f", "-"]),
                       ("n-zero", ["--shard", "1/0", "-f", "-"]),
                       ("no-slash", ["--shard", "2", "-f", "-"]),
                       ("junk", ["--shard", "1/3x", "-f", "-"]),
                       ("without-f", ["--shard", "1/2", "127.0.0.1:%d" % PF])]:
        p = subprocess.run([PROBE] + args, capture_output=True, timeout=10, input=b"")
        err = p.stderr.decode("utf-8", "replace").strip()
        check("usage: %s" % name, p.returncode == 3 and len(err.splitlines()) == 1 and
              "--shard" in err, "rc=%s err=%r" % (p.returncode, err[:200]))
    finish()


if __name__ == "__main__":
    main()

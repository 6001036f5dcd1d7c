#!/usr/bin/env python3
"""Counts one scanner's findings from its JSON report and matches them to
the planted secrets of a gen_tree.py manifest.

Usage: fs_findings.py TOOL REPORT.json MANIFEST.json
  TOOL: leakhound | gitleaks | betterleaks | kingfisher
Prints one line: FINDINGS MATCHED PLANTED UNMATCHED [kind=found/planted ...]

A planted secret counts as found when a finding in the same file starts on
a line the secret spans, or reports the same value (or its SHA-256, as
leakhound's fingerprint), including paired components (the AWS secret key
that gitleaks-family tools attach to the key id). Findings that match no
planted secret are UNMATCHED (false positives on the generated code, or
duplicates on a line with no plant).
"""

import hashlib
import json
import os
import sys


def rel(path: str, root: str) -> str:
    p = path
    if p.startswith("file://"):
        p = p[7:]
    ap = os.path.abspath(p)
    if ap == root or ap.startswith(root + os.sep):
        return os.path.relpath(ap, root)
    return os.path.normpath(p).lstrip("./")


def sha(v):
    return hashlib.sha256(v.encode()).hexdigest() if isinstance(v, str) else None


def findings_of(tool: str, doc):
    """Yields (path, line, [values or sha256s]) for each reported finding."""
    if tool == "gitleaks":
        for f in doc or []:
            yield f.get("File", ""), f.get("StartLine"), [f.get("Secret"), f.get("Match")]
    elif tool == "betterleaks":
        items = doc.get("findings", []) if isinstance(doc, dict) else doc
        for f in items or []:
            loc = f.get("location", {})
            m = f.get("match", {})
            vals = [m.get("value"), m.get("full")]
            for cs in f.get("component_sets", []) or []:
                for c in cs.get("components", []) or []:
                    vals.append(c.get("match", {}).get("value"))
                    cl = c.get("location", {})
                    yield cl.get("path", loc.get("path", "")), cl.get("start_line"), [c.get("match", {}).get("value")], True
            yield loc.get("path", ""), loc.get("start_line"), vals
    elif tool == "kingfisher":
        for f in doc.get("findings", []):
            x = f.get("finding", {})
            vals = [x.get("snippet")] + list((x.get("dependent_captures") or {}).values())
            yield x.get("path", ""), x.get("line"), vals
    elif tool == "leakhound":
        items = doc.get("findings", []) if isinstance(doc, dict) else doc
        for f in items or []:
            loc = f.get("location", {})
            vals = [f.get("secret"), f.get("fingerprint"), f.get("paired_with")]
            yield loc.get("path", ""), loc.get("line"), vals
    else:
        raise SystemExit(f"unknown tool {tool}")


def main():
    tool, report, manifest = sys.argv[1:4]
    man = json.load(open(manifest))
    root = os.path.abspath(man["tree"])
    planted = man["planted"]
    by_file = {}
    for i, e in enumerate(planted):
        by_file.setdefault(e["file"], []).append(i)
    with open(report, "rb") as fh:
        raw = fh.read().strip()
    if not raw:
        doc = []
    else:
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError:  # JSON lines
            doc = [json.loads(l) for l in raw.splitlines() if l.strip()]
            if tool in ("betterleaks", "kingfisher", "leakhound"):
                doc = {"findings": doc}
    found = set()
    n = 0
    unmatched = 0
    for item in findings_of(tool, doc):
        component = len(item) == 4
        path, line, vals = item[0], item[1], item[2]
        if not component:
            n += 1
        f = rel(path, root)
        vs = {v for v in vals if isinstance(v, str) and v}
        hit = False
        for i in by_file.get(f, []):
            e = planted[i]
            if (isinstance(line, int) and e["line"] <= line <= e["end_line"]) or \
                    e["value"] in vs or e["sha256"] in vs or \
                    any(len(v) >= 8 and v in e["value"] for v in vs if e["kind"] == "private_key"):
                found.add(i)
                hit = True
        if not hit and not component:
            unmatched += 1
    kinds = {}
    for i, e in enumerate(planted):
        k = kinds.setdefault(e["kind"], [0, 0])
        k[1] += 1
        k[0] += i in found
    detail = " ".join(f"{k}={a}/{b}" for k, (a, b) in sorted(kinds.items()))
    print(n, len(found), len(planted), unmatched, detail)


if __name__ == "__main__":
    main()

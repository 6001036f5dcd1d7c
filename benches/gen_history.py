#!/usr/bin/env python3
"""Deterministic generator of a large synthetic git history for whole-run
`scan git` benchmarks (leakhound and peer scanners), issue 3.

The history is streamed to `git fast-import` (no `git commit` per commit):
a main line, feature branches that fork and merge back (or stay unmerged),
annotated release tags, release branches, and files that are edited over
and over, so the object database holds many versions of each path
(hundreds of thousands of blobs at the default size). Content is code-like
text from the snippet pools of benches/gen_tree.py (Python, JS/TS, Go,
Java, YAML, JSON, Markdown, .env), in which `token`, `password`, `key` and
`secret` occur in ordinary, non-secret use.

Planted secrets (GitHub `ghp_`, AWS key id + `aws_secret_access_key` on the
next line, Slack `xoxb-`, Stripe `sk_live_`, postgres URLs with passwords,
real RSA private keys in PKCS#1 and PKCS#8 PEM) live in these scenarios:

  head     added on main and still in main's HEAD tree
  deleted  added on main, removed by a later main commit
  branch   only on a feature branch that is never merged
  tag      only in a commit reachable from a lightweight tag alone
  message  in a commit message (main), not in any file

The planted list goes to a JSON manifest OUTSIDE the repository (default
REPO.manifest.json): for each secret its kind, value, sha256, scenario,
ref, path, line in the introducing blob and the introducing commit id.

Every byte is drawn from seeded PRNGs (RSA keys included, generated in pure
Python): the same arguments give the same repository, commit ids included.

After the import the repository is repacked (`git repack -adf`, default
window/depth) so blobs are delta-compressed as in a real clone; use
--no-repack to keep fast-import's pack (blobs almost undeltified).

Usage:
  python3 benches/gen_history.py REPO [--commits 20000] [--size-mb 1536]
        [--files 6000] [--files-per-commit 12] [--branches 16]
        [--secrets 300] [--seed 42] [--manifest PATH] [--bare]
        [--no-repack] [--force]

Quick test:  python3 benches/gen_history.py /tmp/h --commits 300 --size-mb 5 \\
                 --files 200 --secrets 40 --force
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import string
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_tree as GT  # noqa: E402  (snippet pools, Words, make_secret)

ALNUM = string.ascii_letters + string.digits
KINDS = ["github", "aws", "slack", "stripe", "postgres", "pem"]
KIND_WEIGHTS = [3, 3, 2, 2, 2, 1]
SCENARIOS = ["head", "deleted", "branch", "tag", "message"]
SCENARIO_WEIGHTS = [35, 30, 15, 8, 12]
FILE_LANGS = ["py", "js", "ts", "go", "java", "yaml", "json", "env"]  # where secrets go

AUTHORS = [(f"{a} {b}", f"{a.lower()}.{b.lower()}@example.com") for a, b in [
    ("Ana", "Silva"), ("Ben", "Okafor"), ("Chen", "Wei"), ("Dana", "Kowalski"),
    ("Eli", "Haddad"), ("Fatima", "Rahman"), ("Gus", "Berg"), ("Hana", "Sato"),
    ("Ivan", "Petrov"), ("Jade", "Moreau"), ("Kai", "Larsen"), ("Lena", "Fischer"),
    ("Mo", "Diallo"), ("Nina", "Rossi"), ("Omar", "Aziz"), ("Pia", "Novak"),
    ("Raj", "Iyer"), ("Sara", "Lindqvist"), ("Tom", "Walsh"), ("Uma", "Reddy")]]


# ---------------------------------------------------------------------------
# Deterministic RSA private keys (pure Python, DER by hand).
# ---------------------------------------------------------------------------

SMALL_PRIMES = [p for p in range(3, 2000) if all(p % q for q in range(2, int(p ** 0.5) + 1))]


def _probable_prime(n: int, rng: random.Random) -> bool:
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(24):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, rng: random.Random) -> int:
    while True:
        c = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if _probable_prime(c, rng):
            return c


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _der(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


def _der_int(v: int) -> bytes:
    b = v.to_bytes(v.bit_length() // 8 + 1, "big")  # leading 0 keeps it positive
    while len(b) > 1 and b[0] == 0 and b[1] < 0x80:
        b = b[1:]
    return _der(0x02, b)


def rsa_pem(rng: random.Random, bits: int = 2048, pkcs8: bool = False) -> str:
    import base64
    e = 65537
    while True:
        p, q = _prime(bits // 2, rng), _prime(bits // 2, rng)
        if p != q and math.gcd(e, (p - 1) * (q - 1)) == 1:
            break
    if p < q:
        p, q = q, p
    n = p * q
    d = pow(e, -1, (p - 1) * (q - 1) // math.gcd(p - 1, q - 1))
    body = b"".join(_der_int(x) for x in (0, n, e, d, p, q, d % (p - 1), d % (q - 1), pow(q, -1, p)))
    der = _der(0x30, body)
    label = "RSA PRIVATE KEY"
    if pkcs8:
        alg = _der(0x30, _der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
        der = _der(0x30, _der_int(0) + alg + _der(0x04, der))
        label = "PRIVATE KEY"
    b64 = base64.b64encode(der).decode()
    lines = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


# ---------------------------------------------------------------------------
# Files and versions.
# ---------------------------------------------------------------------------

class Version:
    """One immutable version of a file: header + chunk list (pool indices or
    literal bytes for planted secrets), plus its blob id once emitted."""
    __slots__ = ("chunks", "size", "sha")

    def __init__(self, chunks, size):
        self.chunks = chunks
        self.size = size
        self.sha = None


class Gen:
    def __init__(self, args, out):
        self.a = args
        self.rng = random.Random(args.seed)
        self.W = GT.Words(self.rng)
        GT.HEAVY["rate"] = 0.025
        GT.set_word_weights(1.0)
        self.pools = GT.build_pools(args.seed)
        self.plen = {k: [len(x) for x in v] for k, v in self.pools.items()}
        self.out = out
        self.mark = 0
        self.t = 1546300800  # 2019-01-01
        self.lang = {}      # path -> lang
        self.header = {}    # path -> bytes
        self.target = {}    # path -> target size
        self.hot = {}       # path -> edit weight
        self.paths = []     # all paths on main, creation order
        self.hp = []        # editable paths, creation order
        self.hcum = []      # cumulative edit weights of self.hp
        self.used = set()
        self.dirs = {}
        self.blob_shas = set()
        self.blob_bytes = 0
        self.planted = []
        self.values = set()
        self.ncommits = 0
        self.ntags = 0

    # ---- output ------------------------------------------------------------
    def w(self, b: bytes):
        self.fi.write(b)

    def data(self, b: bytes):
        self.w(b"data %d\n" % len(b))
        self.w(b)
        self.w(b"\n")

    def emit_version(self, path: str, v: Version) -> None:
        """M line for path at version v: inline data the first time, the blob
        id afterwards (merges, re-adds)."""
        p = path.encode()
        if v.sha is None:
            P = self.pools[self.lang[path]]
            data = b"".join([self.header[path]] + [c if c.__class__ is bytes else P[c] for c in v.chunks])
            v.sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            if v.sha not in self.blob_shas:
                self.blob_shas.add(v.sha)
                self.blob_bytes += len(data)
            self.w(b"M 100644 inline " + p + b"\n")
            self.data(data)
        else:
            self.w(b"M 100644 " + v.sha.encode() + b" " + p + b"\n")

    def render(self, path: str, v: Version) -> bytes:
        P = self.pools[self.lang[path]]
        return b"".join([self.header[path]] + [c if c.__class__ is bytes else P[c] for c in v.chunks])

    def commit_header(self, ref: str, msg: str, frm: int | None = None, merge: int | None = None) -> int:
        self.mark += 1
        self.t += self.rng.randint(300, 5 * 3600)
        name, email = AUTHORS[self.rng.randrange(len(AUTHORS))]
        self.w(b"commit %s\nmark :%d\n" % (ref.encode(), self.mark))
        who = f"{name} <{email}> {self.t} +0000\n".encode()
        self.w(b"author " + who + b"committer " + who)
        self.data(msg.encode())
        if frm is not None:
            self.w(b"from :%d\n" % frm)
        if merge is not None:
            self.w(b"merge :%d\n" % merge)
        self.ncommits += 1
        return self.mark

    def message(self) -> str:
        W, r = self.W, self.rng
        verb = r.choice(["Fix", "Add", "Refactor", "Update", "Remove", "Rename", "Handle",
                         "Speed up", "Document", "Test", "Bump", "Clean up"])
        s = f"{verb} {W.snake()} in {W.w()} {W.w()}"
        if r.random() < 0.4:
            s += "\n\n" + W.sentence(6, 16) + ".\n" + W.sentence(4, 12) + "."
        return s + "\n"

    # ---- content -----------------------------------------------------------
    def new_path(self) -> str:
        r, W = self.rng, self.W
        lang = r.choices(GT.LANGS, GT.LANG_FILE_WEIGHTS)[0]
        top = r.choice(GT.TOP[lang])
        key = (top, r.randrange(max(4, self.a.files // 60)))
        if key not in self.dirs:
            sub = "/".join(W.snake(r.choice((1, 1, 2))) for _ in range(r.randint(1, 3)))
            self.dirs[key] = f"{top}/{W.w()}-{W.w()}/{sub}"
        d = self.dirs[key]
        if lang == "env":
            name = r.choice([".env", ".env.production", ".env.local", ".env.staging"])
        elif lang == "java":
            name = W.pascal() + ".java"
        elif lang == "md":
            name = r.choice(["README", "CHANGELOG", W.snake().upper(), W.w() + "-" + W.w()]) + ".md"
        elif lang in ("js", "ts"):
            name = W.camel() + r.choice(["", "", ".test", ".spec"]) + GT.EXT[lang]
        else:
            name = W.snake() + GT.EXT[lang]
        p = f"{d}/{name}"
        j = 1
        while p in self.used:
            p = f"{d}/{j}_{name}"
            j += 1
        self.used.add(p)
        self.lang[p] = lang
        self.header[p] = GT.header(self.W, lang)
        t = int(self.mean_size * r.lognormvariate(0, 1.0) / math.exp(0.5))
        self.target[p] = max(300, min(t, self.size_cap))
        self.hot[p] = r.paretovariate(1.3)
        self.hp.append(p)
        self.hcum.append((self.hcum[-1] if self.hcum else 0.0) + self.hot[p])
        return p

    def fresh(self, path: str) -> Version:
        r = self.rng
        lang = self.lang[path]
        L = self.plen[lang]
        n = len(L)
        chunks, size = [], len(self.header[path])
        while size < self.target[path]:
            i = r.randrange(n)
            chunks.append(i)
            size += L[i]
        return Version(chunks, size)

    def edit(self, path: str, v: Version) -> Version:
        r = self.rng
        L = self.plen[self.lang[path]]
        n = len(L)
        chunks = list(v.chunks)
        size = v.size
        tgt = self.target[path]
        for _ in range(r.choice((1, 1, 1, 2, 2, 3, 5))):
            if not chunks:
                op = "ins"
            elif size < tgt * 0.9:
                op = r.choice(("ins", "ins", "rep"))
            elif size > tgt * 1.1:
                op = r.choice(("del", "del", "rep"))
            else:
                op = r.choice(("ins", "del", "rep", "rep"))
            if op == "ins":
                i = r.randrange(n)
                chunks.insert(r.randint(0, len(chunks)), i)
                size += L[i]
                continue
            k = r.randrange(len(chunks))
            c = chunks[k]
            if c.__class__ is bytes:  # planted secrets are never edited away
                continue
            size -= L[c]
            if op == "del":
                del chunks[k]
            else:
                i = r.randrange(n)
                chunks[k] = i
                size += L[i]
        return Version(chunks, size)

    def secret_text(self, kind: str, lang: str):
        """Returns (text, [(kind, value, alts, rel_line)])."""
        text, entries = GT.make_secret(self.W, kind, lang)
        res = []
        for e in entries:
            v = e["value"]
            alts = []
            if kind == "postgres":
                alts.append(v.split("://", 1)[1].split(":", 1)[1].rsplit("@", 1)[0])
            res.append((e["kind"], v, alts, e["l0"]))
        return text, res

    def pem(self) -> str:
        k = self.npem
        self.npem += 1
        return rsa_pem(random.Random(self.a.seed * 7717 + k), 2048, pkcs8=bool(k % 2))

    def record(self, kind, value, alts, scenario, ref, path, line, mark, **kw):
        if value in self.values:
            raise SystemExit(f"duplicate planted value {value[:12]}")
        self.values.add(value)
        e = {"id": len(self.planted), "kind": kind, "scenario": scenario, "ref": ref,
             "path": path, "line": line, "commit_mark": mark, "value": value,
             "sha256": hashlib.sha256(value.encode()).hexdigest(),
             "alts": alts, "alts_sha256": [hashlib.sha256(a.encode()).hexdigest() for a in alts]}
        e.update(kw)
        self.planted.append(e)
        return e

    # ---- planting into a file version -------------------------------------
    def plant_in_file(self, files: dict, kind: str, scenario: str, ref: str, mark_next: int):
        """Inserts a secret of `kind` into a file of `files` (a branch's
        path->Version map). Returns (path, new Version, [entries], token)
        where token identifies the inserted bytes (for deletion)."""
        r = self.rng
        if kind == "pem":
            pem = self.pem()
            path = None
            while path is None or path in files:
                top = r.choice(["deploy", "config", "services", "infra"])
                path = f"{top}/keys/{self.W.w()}-{self.W.w()}{r.choice(['.pem', '.key', '_rsa'])}"
            self.lang[path] = "env"
            self.header[path] = b""
            self.hot[path] = 0.0
            tok = pem.encode()
            v = Version([tok], len(tok))
            val = pem.rstrip("\n")
            body = "".join(val.splitlines()[1:-1])
            ent = [self.record("private_key", val, [pem, body], scenario, ref, path, 1, mark_next)]
            return path, v, ent, tok
        cands = [p for p in files if self.lang.get(p) in FILE_LANGS and self.hot.get(p, 0) > 0]
        path = r.choice(cands)
        lang = self.lang[path]
        text, items = self.secret_text(kind, lang)
        tok = text.encode()
        old = files[path]
        chunks = list(old.chunks)
        chunks.insert(r.randint(0, len(chunks)), tok)
        v = Version(chunks, old.size + len(tok))
        data = self.render(path, v)
        off = data.find(tok)
        base = data.count(b"\n", 0, off) + 1
        ent = [self.record(k, val, alts, scenario, ref, path, base + l0, mark_next)
               for k, val, alts, l0 in items]
        return path, v, ent, tok

    # ---- main loop ----------------------------------------------------------
    def run(self):
        a, r = self.a, self.rng
        n_commits = a.commits
        est_blobs = n_commits * a.files_per_commit * 0.92 + a.files * 0.2
        self.mean_size = a.size_mb * 1048576 / est_blobs
        self.size_cap = max(64 * 1024, int(self.mean_size * 60))
        self.npem = 0

        # plants
        plants = []  # (commit index, scenario, kind)
        for _ in range(a.secrets):
            sc = r.choices(SCENARIOS, SCENARIO_WEIGHTS)[0]
            kind = r.choices(KINDS, KIND_WEIGHTS)[0]
            if sc == "message" and kind == "pem":
                kind = "github"
            if sc == "branch" and a.branches < 1:
                sc = "head"
            plants.append((r.randrange(1, max(2, n_commits - 2)), sc, kind))
        by_commit = {}
        branch_plants = []
        for c, sc, kind in plants:
            if sc == "branch":
                branch_plants.append(kind)
            else:
                by_commit.setdefault(c, []).append((sc, kind))

        # branches: fork points spread over the history
        nb = a.branches
        branch_share = 0.25 if nb else 0.0
        blen = max(3, int(n_commits * branch_share / max(1, nb)))
        forks = sorted(r.randrange(1, max(2, n_commits - blen // 2)) for _ in range(nb))
        unmerged = set(range(3, nb, 4)) or ({0} if nb else set())
        # branch plants go to unmerged branches, round robin
        bp = {b: [] for b in sorted(unmerged)}
        for i, kind in enumerate(branch_plants):
            bp[sorted(unmerged)[i % len(unmerged)]].append(kind)

        main = {}
        mark_main = None
        open_br = []
        deletions = {}  # commit index -> [(path, token, entries)]
        tag_every = max(50, n_commits // 40)
        next_fork = 0
        n_main = 0
        t0 = time.time()

        # initial commit: 20% of the paths
        first = [self.new_path() for _ in range(max(1, a.files // 5))]
        mark_main = self.commit_header("refs/heads/main", "Initial import\n")
        for p in first:
            main[p] = self.fresh(p)
            self.emit_version(p, main[p])
            self.paths.append(p)
        self.w(b"\n")
        remaining_new = a.files - len(first)
        p_new = remaining_new / max(1, n_commits * a.files_per_commit * 0.75)

        def pick_paths(files, k):
            # weighted by hotness over all paths ever created (append-only
            # cumulative weights); paths a branch does not have are skipped
            ps = dict.fromkeys(r.choices(self.hp, cum_weights=self.hcum, k=k))  # ordered: deterministic
            return [p for p in ps if p in files]

        i = 1
        while i < n_commits:
            # open branches whose fork point is reached
            while next_fork < nb and forks[next_fork] <= i:
                bi = next_fork
                kind = "wip" if bi in unmerged else r.choice(["feature", "feature", "fix", "chore"])
                name = f"refs/heads/{kind}/{self.W.w()}-{self.W.w()}-{bi}"
                ln = max(2, int(blen * r.uniform(0.5, 1.5)))
                br = {"i": bi, "ref": name, "files": dict(main), "fork": mark_main, "left": ln,
                      "touched": set(), "main_touched": set(), "new": True}
                slots = r.sample(range(ln), min(ln, len(bp.get(bi, [])))) if bp.get(bi) else []
                br["plants"] = dict(zip(slots, bp.get(bi, [])))
                br["n"] = 0
                open_br.append(br)
                next_fork += 1

            on_branch = open_br and r.random() < min(0.6, 0.3 * len(open_br))
            if on_branch:
                br = r.choice(open_br)
                files = br["files"]
                kind = br["plants"].pop(br["n"], None)
                m = self.commit_header(br["ref"], self.message(), frm=br["fork"] if br["new"] else None)
                br["new"] = False
                if kind:
                    path, v, ent, _ = self.plant_in_file(files, kind, "branch", br["ref"], m)
                    files[path] = v
                    self.emit_version(path, v)
                    br["touched"].add(path)
                for p in pick_paths(files, r.randint(1, 2 * a.files_per_commit - 1)):
                    files[p] = self.edit(p, files[p])
                    self.emit_version(p, files[p])
                    br["touched"].add(p)
                self.w(b"\n")
                br["n"] += 1
                br["left"] -= 1
                if br["left"] <= 0:
                    for k in list(br["plants"].values()):  # not placed yet: one more commit
                        m = self.commit_header(br["ref"], self.message())
                        path, v, ent, _ = self.plant_in_file(files, k, "branch", br["ref"], m)
                        files[path] = v
                        self.emit_version(path, v)
                        self.w(b"\n")
                    open_br.remove(br)
                    if br["i"] not in unmerged:
                        mark_main = self.commit_header(
                            "refs/heads/main", f"Merge branch '{br['ref'][11:]}'\n", merge=m)
                        for p in sorted(br["touched"] - br["main_touched"]):
                            if p not in main:
                                self.paths.append(p)
                            main[p] = files[p]
                            self.emit_version(p, files[p])
                            for ob in open_br:
                                ob["main_touched"].add(p)
                        self.w(b"\n")
                i += 1
                continue

            # a commit on main
            todo = [x for c in sorted(k for k in by_commit if k <= i) for x in by_commit.pop(c)]
            msg = self.message()
            msg_secrets = []
            for sc, kind in todo:
                if sc == "message":
                    text, items = self.secret_text(kind, "env")
                    msg_secrets.append(items)
                    msg = msg.rstrip("\n") + "\n\n" + r.choice([
                        "Temporary credentials for the staging deploy:",
                        "Debug notes (remove before release):",
                        "Reverted the config, the old value was",
                        "CI needs this until the vault integration lands:"]) + "\n" + text
            mark_main = self.commit_header("refs/heads/main", msg)
            changed = set()
            for items in msg_secrets:
                for k, val, alts, _ in items:
                    self.record(k, val, alts, "message", "refs/heads/main", None, None, mark_main)
            for sc, kind in todo:
                if sc in ("head", "deleted"):
                    path, v, ent, tok = self.plant_in_file(main, kind, sc, "refs/heads/main", mark_main)
                    if path not in main:
                        self.paths.append(path)
                    main[path] = v
                    self.emit_version(path, v)
                    changed.add(path)
                    if sc == "deleted":
                        at = min(n_commits - 1, i + r.randint(1, max(2, n_commits // 5)))
                        deletions.setdefault(at, []).append((path, tok, ent))
            for path, tok, ent in [x for c in sorted(k for k in deletions if k <= i) for x in deletions.pop(c)]:
                self.delete_secret(main, path, tok, ent, mark_main, changed)
            k = r.randint(1, 2 * a.files_per_commit - 1)
            for p in pick_paths(main, k):
                if p in changed:
                    continue
                main[p] = self.edit(p, main[p])
                self.emit_version(p, main[p])
                changed.add(p)
            while remaining_new > 0 and r.random() < p_new * k:
                p = self.new_path()
                remaining_new -= 1
                main[p] = self.fresh(p)
                self.paths.append(p)
                self.emit_version(p, main[p])
                changed.add(p)
                if r.random() > 0.3:
                    break
            self.w(b"\n")
            for ob in open_br:
                ob["main_touched"] |= changed
            for sc, kind in todo:
                if sc == "tag":
                    self.tag_only(main, kind, mark_main)
            n_main += 1
            if n_main % tag_every == 0:
                self.ntags += 1
                name = f"v{1 + self.ntags // 10}.{self.ntags % 10}.0"
                self.w(b"tag %s\nfrom :%d\n" % (name.encode(), mark_main))
                self.w(f"tagger {AUTHORS[0][0]} <{AUTHORS[0][1]}> {self.t} +0000\n".encode())
                self.data(f"Release {name}\n".encode())
                if self.ntags % 10 == 0:
                    self.w(b"reset refs/heads/release/%d.x\nfrom :%d\n\n" % (self.ntags // 10, mark_main))
            i += 1
            if i % 1000 == 0:
                el = time.time() - t0
                print(f"  {i}/{n_commits} commits, {len(self.blob_shas)} blobs, "
                      f"{self.blob_bytes / 1048576:.0f} MiB, {el:.0f}s", file=sys.stderr)

        # close what is still open
        for br in open_br:
            for k in list(br["plants"].values()):
                m = self.commit_header(br["ref"], self.message(), frm=br["fork"] if br["new"] else None)
                br["new"] = False
                path, v, ent, _ = self.plant_in_file(br["files"], k, "branch", br["ref"], m)
                br["files"][path] = v
                self.emit_version(path, v)
                self.w(b"\n")
        rest = [x for at in sorted(deletions) for x in deletions[at]]
        if rest:
            mark_main = self.commit_header("refs/heads/main", "Remove leftover credentials\n")
            changed = set()
            for path, tok, ent in rest:
                self.delete_secret(main, path, tok, ent, mark_main, changed)
            self.w(b"\n")
        for sc, kind in [x for c in sorted(by_commit) for x in by_commit[c]]:
            # plants scheduled past the last commit (tiny histories)
            mark_main = self.commit_header("refs/heads/main", self.message())
            path, v, ent, _ = self.plant_in_file(main, kind, "head", "refs/heads/main", mark_main)
            main[path] = v
            self.emit_version(path, v)
            self.w(b"\n")
        self.main = main

    def delete_secret(self, files, path, tok, ent, mark, changed):
        if path not in files:
            return
        v = files[path]
        if v.chunks == [tok]:  # a key file: delete the file
            self.w(b"D " + path.encode() + b"\n")
            del files[path]
        else:
            nv = Version([c for c in v.chunks if c is not tok], v.size - len(tok))
            files[path] = nv
            self.emit_version(path, nv)
        changed.add(path)
        for e in ent:
            e["removed_mark"] = mark

    def tag_only(self, main, kind, parent):
        self.nhot = getattr(self, "nhot", 0) + 1
        ref = f"refs/tags/hotfix-{self.W.w()}-{self.nhot}"
        m = self.commit_header(ref, self.message(), frm=parent)
        files = dict(main)
        path, v, ent, _ = self.plant_in_file(files, kind, "tag", ref, m)
        self.emit_version(path, v)
        self.w(b"\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", help="repository to create")
    ap.add_argument("--commits", type=int, default=20000, help="commits on all branches (default 20000)")
    ap.add_argument("--size-mb", type=float, default=1536,
                    help="approximate total size of all distinct blobs in MiB (default 1536)")
    ap.add_argument("--files", type=int, default=6000, help="distinct paths created over time (default 6000)")
    ap.add_argument("--files-per-commit", type=int, default=12,
                    help="mean files changed per commit (uniform 1..2N-1; default 12)")
    ap.add_argument("--branches", type=int, default=16,
                    help="feature branches (every 4th stays unmerged; default 16)")
    ap.add_argument("--secrets", type=int, default=300, help="planted secret blocks (AWS blocks hold 2)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--manifest", help="manifest path (default REPO.manifest.json, outside the repo)")
    ap.add_argument("--bare", action="store_true", help="create a bare repository (default: work tree, not checked out)")
    ap.add_argument("--no-repack", action="store_true", help="keep fast-import's pack (no delta compression pass)")
    ap.add_argument("--force", action="store_true", help="delete REPO first if it exists")
    args = ap.parse_args()
    if args.files_per_commit < 1 or args.commits < 2 or args.files < 5:
        sys.exit("need --commits >= 2, --files >= 5, --files-per-commit >= 1")

    out = os.path.abspath(args.repo.rstrip("/"))
    manifest_path = os.path.abspath(args.manifest or out + ".manifest.json")
    if os.path.commonpath([out, manifest_path]) == out:
        sys.exit("the manifest must be outside the repository")
    if os.path.exists(out):
        if not args.force:
            sys.exit(f"{out} exists (use --force to replace it)")
        shutil.rmtree(out)
    subprocess.run(["git", "init", "-q", "-b", "main"] + (["--bare"] if args.bare else []) + [out], check=True)
    gitdir = out if args.bare else os.path.join(out, ".git")
    marks = manifest_path + ".marks"

    t0 = time.time()
    g = Gen(args, out)
    fi = subprocess.Popen(["git", "--git-dir", gitdir, "fast-import", "--quiet", "--done",
                           "--active-branches=32", f"--export-marks={marks}"],
                          stdin=subprocess.PIPE, bufsize=1 << 20)
    g.fi = fi.stdin
    try:
        g.run()
        g.w(b"done\n")
        g.fi.close()
    except BrokenPipeError:
        pass
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    t1 = time.time()
    print(f"imported {g.ncommits} commits, {len(g.blob_shas)} blobs, "
          f"{g.blob_bytes / 1048576:.1f} MiB of blob content in {t1 - t0:.1f}s", file=sys.stderr)

    git = ["git", "--git-dir", gitdir]
    subprocess.run(git + ["symbolic-ref", "HEAD", "refs/heads/main"], check=True)
    if not args.no_repack:
        subprocess.run(git + ["repack", "-a", "-d", "-f", "-q", "--window=10", "--depth=50"], check=True)
        subprocess.run(git + ["prune-packed"], check=True)
        print(f"repacked in {time.time() - t1:.1f}s", file=sys.stderr)

    # mark -> commit id
    m2id = {}
    with open(marks) as f:
        for ln in f:
            k, v = ln.split()
            m2id[int(k[1:])] = v
    os.unlink(marks)
    head = {}
    for p, v in g.main.items():
        head[p] = v.chunks
    for e in g.planted:
        e["commit"] = m2id[e.pop("commit_mark")]
        if "removed_mark" in e:
            e["removed_in"] = m2id[e.pop("removed_mark")]
        if e["scenario"] == "head":
            # sanity: still in main's final tree
            data = g.render(e["path"], g.main[e["path"]]) if e["path"] in g.main else b""
            if e["value"].encode() not in data:
                e["scenario"] = "deleted"
    by_kind, by_sc = {}, {}
    for e in g.planted:
        by_kind[e["kind"]] = by_kind.get(e["kind"], 0) + 1
        by_sc[e["scenario"]] = by_sc.get(e["scenario"], 0) + 1
    pack_bytes = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(os.path.join(gitdir, "objects"))
                     for f in fs)
    doc = {"repo": out, "bare": args.bare, "seed": args.seed, "commits": g.ncommits,
           "blobs": len(g.blob_shas), "bytes": g.blob_bytes, "objects_bytes": pack_bytes,
           "args": {k: v for k, v in vars(args).items() if k not in ("repo", "manifest", "force")},
           "secrets": len(g.planted), "by_kind": by_kind, "by_scenario": by_sc, "planted": g.planted}
    with open(manifest_path, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"done in {time.time() - t0:.1f}s: {out} ({pack_bytes / 1048576:.1f} MiB in objects/), "
          f"{len(g.planted)} planted secrets {by_sc}; manifest {manifest_path}", file=sys.stderr)


if __name__ == "__main__":
    main()

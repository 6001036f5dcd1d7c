#!/usr/bin/env bash
# Side-by-side findings on the image acceptance fixture (a `docker save`
# tarball, benches/image_fixture.py): leakhound `scan image` vs kingfisher
# `scan docker --archive`, offline (no validation, no update check). Prints
# one line per finding: tool, rule, where.
#
#   PEERS=/tmp/lh/peers benches/compare_image.sh
#   (INSTALL_PEERS=1 installs kingfisher-bin into $PEERS first)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE/.."
LEAKHOUND="${LEAKHOUND:-${CARGO_TARGET_DIR:-target}/release/leakhound}"
PEERS="${PEERS:-/tmp/lh/peers}"
# shellcheck source=benches/peers.sh
source "$HERE/peers.sh"
[ -x "$LEAKHOUND" ] || cargo build --release

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 "$HERE/image_fixture.py" "$work/image.tar" > "$work/planted.json"

"$LEAKHOUND" scan image "docker-archive:$work/image.tar" --format json --no-progress \
    -o "$work/leakhound.json" || [ $? -eq 1 ]
"$KINGFISHER" scan docker --archive "$work/image.tar" --no-validate --no-update-check \
    -q -f json -o "$work/kingfisher.json" || true

python3 - "$work" << 'PY'
import json, sys
work = sys.argv[1]
lh = json.load(open(f"{work}/leakhound.json"))["findings"]
kf = json.load(open(f"{work}/kingfisher.json"))["findings"]
print(f"leakhound {len(lh)} findings")
for f in lh:
    l = f["location"]
    where = l.get("path") or l.get("field")
    extra = ""
    if l["source"] == "image":
        extra = f" layer {l['layer_index']}"
        if l.get("deleted_in_layer") is not None:
            extra += f", deleted in {l['deleted_in_layer']}"
        if l.get("overwritten_in_layer") is not None:
            extra += f", overwritten in {l['overwritten_in_layer']}"
    print(f"  {f['rule']['id']:<24} {l['source']}: {where}{extra}")
print(f"kingfisher {len(kf)} findings")
for f in kf:
    print(f"  {f['rule']['id']:<32} {f['finding']['path'].split(' | ', 1)[-1]} line {f['finding'].get('line')}")
PY

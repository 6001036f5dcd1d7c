#!/usr/bin/env bash
# Peak memory of `leakhound scan image` on a layer of several hundred MB
# pulled from a local registry: the layer must stream (blob → gzip → tar →
# engine), never be buffered whole. Starts Debian's docker-registry on a
# free loopback port, pushes a generated image with curl (monolithic blob
# uploads), scans it under /usr/bin/time -v and prints the peak RSS.
#
#   benches/image_rss.sh [LAYER_MB]     (default 400)
#
# Needs: docker-registry, curl, python3, /usr/bin/time (apt-get install -y
# docker-registry curl python3 time).
set -euo pipefail
cd "$(dirname "$0")/.."

mb="${1:-400}"
bin="${LEAKHOUND:-${CARGO_TARGET_DIR:-target}/release/leakhound}"
[ -x "$bin" ] || cargo build --release
for tool in /usr/bin/docker-registry /usr/bin/time curl python3; do
  command -v "$tool" > /dev/null || { echo "missing $tool" >&2; exit 1; }
done

work="$(mktemp -d)"
reg_pid=""
cleanup() {
  if [ -n "$reg_pid" ]; then kill "$reg_pid" 2> /dev/null || true; wait "$reg_pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
host="127.0.0.1:$port"
cat > "$work/config.yml" << YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: $host
YAML
/usr/bin/docker-registry serve "$work/config.yml" > "$work/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 100); do
  curl -fs "http://$host/v2/" > /dev/null && break
  sleep 0.1
done
curl -fs "http://$host/v2/" > /dev/null || { cat "$work/registry.log" >&2; exit 1; }

echo "== generating a ${mb} MB layer"
python3 - "$work" "$mb" << 'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
work, mb = sys.argv[1], int(sys.argv[2])
rng = random.Random(7)
words = [b"config", b"service", b"value", b"request", b"handler", b"timeout", b"user", b"cache"]
layer = os.path.join(work, "layer.tar.gz")
# Level 1: the point is the layer's size, not the compressor's time.
with gzip.open(layer, "wb", compresslevel=1) as gz, tarfile.open(fileobj=gz, mode="w|") as tar:
    size, i = mb << 20, 0
    while size > 0:
        # 8 MiB files of text-like lines with a planted token every file.
        n = min(8 << 20, size)
        lines = []
        total = 0
        while total < n:
            line = b" ".join(rng.choice(words) for _ in range(12)) + b"\n"
            lines.append(line)
            total += len(line)
        body = b"".join(lines)[:n]
        body = b"token = ghp_" + hashlib.sha256(str(i).encode()).hexdigest()[:36].encode() + b"\n" + body
        info = tarfile.TarInfo(f"data/file{i:04}.txt")
        info.size = len(body)
        tar.addfile(info, io.BytesIO(body))
        size -= n
        i += 1
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {}}).encode()
open(os.path.join(work, "config.json"), "wb").write(config)
def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": digest(os.path.join(work, "config.json")), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest(layer), "size": os.path.getsize(layer)}],
}
open(os.path.join(work, "manifest.json"), "w").write(json.dumps(manifest))
PY

push_blob() {
  local file="$1" digest loc sep
  digest="sha256:$(sha256sum "$file" | cut -d' ' -f1)"
  loc="$(curl -fsS -X POST -D - -o /dev/null "http://$host/v2/bench/big/blobs/uploads/" \
    | tr -d '\r' | awk -F': ' 'tolower($1)=="location" {print $2}')"
  case "$loc" in *\?*) sep='&' ;; *) sep='?' ;; esac
  case "$loc" in http*) ;; *) loc="http://$host$loc" ;; esac
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$file" "$loc${sep}digest=$digest" > /dev/null
}
echo "== pushing to $host"
push_blob "$work/layer.tar.gz"
push_blob "$work/config.json"
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary "@$work/manifest.json" "http://$host/v2/bench/big/manifests/1" > /dev/null
layer_bytes="$(stat -c %s "$work/layer.tar.gz")"

echo "== scanning"
set +e
/usr/bin/time -v "$bin" scan image "$host/bench/big:1" --insecure-registry "$host" \
  --format json --no-progress -o "$work/report.json" 2> "$work/time.txt"
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$work/time.txt" >&2; echo "expected findings (exit 1), got $rc" >&2; exit 1; }
rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")"
wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")"
findings="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$work/report.json")"
echo "layer: ${mb} MiB uncompressed, $((layer_bytes >> 20)) MiB gzip; findings: $findings"
echo "peak RSS: $((rss_kb / 1024)) MiB; wall: $wall"

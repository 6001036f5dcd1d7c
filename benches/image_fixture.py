#!/usr/bin/env python3
"""Writes the image-scan acceptance image as a `docker save` tarball:
layer 0 a base with a nested .tgz holding an npm token, layer 1 adds
app/.env (AWS key pair, RSA private key), app/cache/session.txt and
etc/app.conf (GitHub tokens), layer 2 whiteouts .env, opaque-deletes
app/cache/ and replaces etc/app.conf; the config's Env holds a GitHub
token and a DB_PASSWORD, its history an npm build arg.

    benches/image_fixture.py OUT.tar   # prints the planted values as JSON
"""
import gzip
import hashlib
import io
import json
import sys
import tarfile

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def tok(prefix, seed):
    n = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    out = ""
    for _ in range(36):
        n, r = divmod(n, len(ALNUM))
        out += ALNUM[r]
    return prefix + out


AWS_ID = "AKIAE667RW3MSF3WLPQ3"
AWS_SECRET = "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"
RSA = """-----BEGIN RSA PRIVATE KEY-----
MIIBOgIBAAJBAJ39RMpX6w9q6kKhuhk8xgVzi/+8Oa5xnTLEfSzCwbdvJW9guIEY
YKMRswhs39RbRL8+9frJw8n3yc1YAOYFrP8CAwEAAQJAbr1lJ3OitubZFyVnXWNE
5fNM8U+NGuJWLoydtO86e4kZgd3dUNrmwbPd6rXMO5dxipsHT6h4GGVzYQWjFAeT
wQIhANHt2xtR8J75j8pmypBMl79DmT4D8sL+6KXz0EUOwJohAiEAwKlaxkTQ1VYl
MgGBXq+x7VxTIpA9RZc9X6eon8iQox8CIHvb1Zmx58E0R1VI/pzSw/mSHbkMRVAt
bAB18Ny9zn9hAiEAhvCXIbNlSWby2llvkTAhwQwfNmAsaieJ1wuI8ZD6rSUCIBxC
01ljlfJ4LdGCWOisDxSvs7wONxsAdGSa+/krbiRq
-----END RSA PRIVATE KEY-----"""
DB_PASSWORD = "Zq7!mR2#vLp9wXy"


def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def main(out):
    planted = {
        "npm_bundle": tok("npm_", "bundle"),
        "cache_token": tok("ghp_", "cache"),
        "conf_token": tok("ghp_", "conf"),
        "env_token": tok("ghp_", "env"),
        "npm_build_arg": tok("npm_", "build-arg"),
        "aws_id": AWS_ID,
        "aws_secret": AWS_SECRET,
        "db_password": DB_PASSWORD,
    }
    npmrc = f"//registry.npmjs.org/:_authToken={planted['npm_bundle']}\n".encode()
    bundle = gzip.compress(tar([("conf/.npmrc", npmrc)]))
    layers = [
        tar([("etc/os-release", b"ID=leakhound-test\n"), ("opt/bundle.tgz", bundle)]),
        tar([
            ("app/.env", f"AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n{RSA}\n".encode()),
            ("app/cache/session.txt", f"session {planted['cache_token']}\n".encode()),
            ("etc/app.conf", f"[auth]\ntoken = {planted['conf_token']}\n".encode()),
        ]),
        tar([
            ("app/.wh..env", b""),
            ("app/cache/.wh..wh..opq", b""),
            ("app/cache/fresh.txt", b"nothing here\n"),
            ("etc/app.conf", b"[auth]\ntoken_file = /run/secrets/token\n"),
        ]),
    ]
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin", f"GITHUB_TOKEN={planted['env_token']}",
                    f"DB_PASSWORD={DB_PASSWORD}", "DB_PASSWORD_FILE=/run/secrets/db_password"],
            "Cmd": ["/app/run"],
        },
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:base in / "},
            {"created_by": f"|1 NPM_TOKEN={planted['npm_build_arg']} /bin/sh -c npm ci"},
            {"created_by": "/bin/sh -c rm -rf /app/.env /app/cache"},
        ],
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(l) for l in layers]},
    }).encode()
    names = [f"{sha(l)}/layer.tar" for l in layers]
    manifest = json.dumps([{"Config": f"{sha(config)}.json", "RepoTags": ["leakhound/acceptance:1"],
                            "Layers": names}]).encode()
    with open(out, "wb") as f:
        f.write(tar(list(zip(names, layers)) + [(f"{sha(config)}.json", config), ("manifest.json", manifest)]))
    json.dump(planted, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/env python3
"""Deterministic generator of a large, realistic source tree for whole-run
filesystem-scan benchmarks (`leakhound scan fs` and peer scanners).

The tree looks like a monorepo: Python, JS/TS, Go, Java, YAML, JSON,
Markdown and .env files, built from code-like snippets in which the words
`token`, `password`, `key` and `secret` occur in ordinary, non-secret use
(`def get_token(self):`, `password_field`, i18n strings, `secretKeyRef`,
placeholder `${DB_PASSWORD}` values, lock-file hashes, UUIDs, example keys).
So a keyword prefilter sees realistic hit rates, not random noise.

A small known set of secrets (AWS key id + secret pair, GitHub ghp_ tokens,
Slack xoxb-, Stripe sk_live_, PEM private keys, postgres URLs with
passwords, generic `password = "..."`) is planted; their list goes to a JSON
manifest OUTSIDE the tree (default: TREE.manifest.json next to it).

Every value is drawn from a seeded PRNG: the same arguments give the same
bytes. Files are generated in parallel (one process per core) and written
with large buffers.

Usage:
  python3 benches/gen_tree.py OUT_DIR [--size-mb 1024] [--files 20000]
                              [--secrets 300] [--seed 42] [--manifest PATH]
                              [--jobs N] [--force]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import multiprocessing as mp
import os
import random
import shutil
import string
import sys
import time

# ---------------------------------------------------------------------------
# Vocabulary. Sensitive-sounding words appear at realistic (not inflated)
# rates: they are a handful among ~200 common identifier words.
# ---------------------------------------------------------------------------

WORDS = """
user account session auth login logout profile admin role permission group
team member owner request response client server service manager factory
builder util helper handler controller router route middleware view model
schema table row column query record entity repository store cache queue
job task worker scheduler event message topic stream buffer reader writer
file path dir name value data item list map set index offset limit count
page size total price amount order payment invoice customer product cart
checkout shipping address email phone status state config settings option
flag feature metric counter gauge histogram trace span log logger level
error retry timeout deadline context parent child node tree graph edge
source target input output result summary report export import upload
download image thumbnail video audio document template render format parse
encode decode serialize validate check verify compute update create delete
fetch load save sync async batch chunk window frame layer widget button
form field label title header footer menu modal dialog theme style color
width height margin padding border font icon link url host port endpoint
api version build release deploy cluster region zone instance bucket
object blob key token password secret credential cipher hash digest salt
nonce signature certificate tls ssl oauth jwt scope grant refresh expiry
""".split()

# Weights: the security words are present but not dominant.
_SENSITIVE = {"key": 0.7, "token": 0.3, "password": 0.05, "secret": 0.03,
              "credential": 0.05, "auth": 0.3, "hash": 1.0, "signature": 0.5,
              "oauth": 0.1, "jwt": 0.1}
CUM: list[float] = []


def set_word_weights(rate: float) -> None:
    import itertools
    w = [(_SENSITIVE[x] * (rate if x != "key" else 1.0)) if x in _SENSITIVE else 2.0 for x in WORDS]
    CUM[:] = list(itertools.accumulate(w))

LANGS = ["py", "js", "ts", "go", "java", "yaml", "json", "md", "env"]
LANG_FILE_WEIGHTS = [20, 11, 15, 12, 12, 9, 8, 8, 1]
EXT = {"py": ".py", "js": ".js", "ts": ".ts", "go": ".go", "java": ".java",
       "yaml": ".yaml", "json": ".json", "md": ".md", "env": ""}

B64 = string.ascii_letters + string.digits + "+/"
ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"


class Words:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def w(self) -> str:
        return self.rng.choices(WORDS, cum_weights=CUM)[0]

    def ws(self, n: int | None = None) -> list[str]:
        if n is None:
            n = self.rng.choice((1, 2, 2, 2, 3, 3))
        return self.rng.choices(WORDS, cum_weights=CUM, k=n)

    def snake(self, n=None) -> str:
        return "_".join(self.ws(n))

    def camel(self, n=None) -> str:
        p = self.ws(n)
        return p[0] + "".join(x.capitalize() for x in p[1:])

    def pascal(self, n=None) -> str:
        return "".join(x.capitalize() for x in self.ws(n))

    def upper(self, n=None) -> str:
        return "_".join(self.ws(n)).upper()

    def sentence(self, lo=4, hi=12) -> str:
        s = " ".join(self.ws(self.rng.randint(lo, hi)))
        return s[0].upper() + s[1:]

    def rnd(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choices(alphabet, k=n))

    def uuid(self) -> str:
        h = self.rnd(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


# ---------------------------------------------------------------------------
# Snippet templates per language (each returns a multi-line string).
# ---------------------------------------------------------------------------

# How often code that handles tokens/passwords/secrets appears, relative to
# neutral code (set by --keyword-rate; 1.0 gives densities a few times those
# of general open-source library code, as in application code with auth).
HEAVY = {"rate": 0.025}


def pick(r: random.Random, n: int, heavy: list[int]) -> int:
    w = [HEAVY["rate"] if i in heavy else 1.0 for i in range(n)]
    return r.choices(range(n), w)[0]


def test_pw(W: Words, lang: str) -> str:
    """A test-fixture password: almost always a reference, rarely a literal dummy."""
    r = W.rng.random()
    if r < 0.01:
        lit = W.rng.choice(("hunter2", "test-password", "changeme", "s3cr3t", "P@ssw0rd"))
        return lit if lang == "env" else f"'{lit}'"
    if lang == "env":
        return ""
    if lang == "py":
        return W.rng.choice(('os.environ["TEST_PASSWORD"]', "fixtures.password", "make_password()"))
    return W.rng.choice(("process.env.TEST_PASSWORD", "fixtures.password", "testUser.password"))


def py_snippet(W: Words) -> str:
    r = W.rng
    k = pick(r, 9, [0, 2, 3, 5, 8])
    cls, fn, a, b = W.pascal(), W.snake(), W.snake(1), W.snake()
    if k == 0:
        return (f"class {cls}:\n"
                f"    \"\"\"{W.sentence()}.\"\"\"\n\n"
                f"    def __init__(self, {a}, {b}=None):\n"
                f"        self.{a} = {a}\n"
                f"        self.{b} = {b} or {{}}\n"
                f"        self._token = None\n\n"
                f"    def get_token(self):\n"
                f"        if self._token is None:\n"
                f"            self._token = self.{a}.fetch_token(scope=\"{W.w()}\")\n"
                f"        return self._token\n\n")
    if k == 1:
        return (f"def {fn}({a}, {b}, timeout={r.randint(1, 120)}):\n"
                f"    # {W.sentence()}\n"
                f"    result = []\n"
                f"    for item in {a}:\n"
                f"        if item.get(\"{W.w()}\") == {b}:\n"
                f"            result.append(item[\"{W.w()}\"])\n"
                f"    logger.debug(\"{fn}: %d items\", len(result))\n"
                f"    return result\n\n\n")
    if k == 2:
        return (f"class {cls}Form(forms.Form):\n"
                f"    username = forms.CharField(max_length={r.choice((64, 128, 150))})\n"
                f"    password_field = forms.CharField(widget=forms.PasswordInput, label=_(\"Password\"))\n"
                f"    remember_me = forms.BooleanField(required=False)\n\n"
                f"    def clean_password_field(self):\n"
                f"        password = self.cleaned_data[\"password_field\"]\n"
                f"        if len(password) < {r.randint(8, 14)}:\n"
                f"            raise ValidationError(_(\"Password is too short\"))\n"
                f"        return password\n\n\n")
    if k == 3:
        return (f"import os\nimport logging\nfrom typing import Optional\n\n"
                f"from .{W.snake(1)} import {W.pascal()}\n"
                f"from .{W.snake(1)}.{W.snake(1)} import {W.snake()}\n\n"
                f"logger = logging.getLogger(__name__)\n"
                f"API_TOKEN = os.environ.get(\"{W.upper()}_TOKEN\", \"\")\n"
                f"SECRET_KEY = os.environ[\"SECRET_KEY\"]\n\n")
    if k == 4:
        return (f"    @property\n    def {a}_key(self) -> str:\n"
                f"        return f\"{{self.{W.snake(1)}}}:{{self.{W.snake(1)}}}\"\n\n"
                f"    def {fn}(self, key: str, default: Optional[str] = None) -> Optional[str]:\n"
                f"        value = self._cache.get(key)\n"
                f"        if value is None:\n"
                f"            value = self._store.get(key, default)\n"
                f"        return value\n\n")
    if k == 5:
        return (f"def test_{fn}(client, {a}):\n"
                f"    resp = client.post(\"/api/v{r.randint(1, 3)}/{W.w()}/{W.w()}\", json={{\n"
                f"        \"{W.snake()}\": {r.randint(0, 9999)},\n"
                f"        \"{W.snake()}\": \"{W.w()}\",\n"
                f"        \"password\": {test_pw(W, 'py')},\n    }})\n"
                f"    assert resp.status_code == {r.choice((200, 201, 204, 400, 403, 404))}\n"
                f"    assert resp.json()[\"{W.w()}\"] == {a}.{W.snake()}\n\n\n")
    if k == 6:
        return (f"    def {fn}(self, {a}):\n"
                f"        \"\"\"{W.sentence()}.\n\n        Args:\n"
                f"            {a}: {W.sentence(3, 8)}.\n\n        Returns:\n"
                f"            {W.sentence(2, 6)}.\n        \"\"\"\n"
                f"        with self._lock:\n"
                f"            self._{W.snake()}[{a}.id] = {a}\n"
                f"            self._dirty = True\n\n")
    if k == 7:
        return (f"{W.upper()} = {r.randint(0, 100000)}\n"
                f"{W.upper()} = \"{W.snake()}\"\n"
                f"{W.upper()}_TIMEOUT = {r.randint(1, 600)}\n"
                f"DEFAULT_{W.upper()} = {{\"{W.w()}\": {r.random():.3f}, \"{W.w()}\": None}}\n\n")
    # tokenizer-ish code: "token" in the lexer sense
    return (f"def tokenize(source):\n"
            f"    tokens = []\n"
            f"    for tok in TOKEN_RE.finditer(source):\n"
            f"        kind = tok.lastgroup\n"
            f"        if kind == \"{W.upper(1)}\":\n"
            f"            tokens.append(Token(kind, tok.group(), tok.start()))\n"
            f"    return tokens\n\n\n")


def js_snippet(W: Words, ts: bool) -> str:
    r = W.rng
    k = pick(r, 8, [0, 1, 5, 6])
    fn, a, b, cls = W.camel(), W.camel(1), W.camel(), W.pascal()
    t = (lambda s: s) if ts else (lambda s: "")
    if k == 0:
        return (f"export async function {fn}({a}{t(': string')}, {b}{t(': Options = {}')}){t(': Promise<' + cls + '>')} {{\n"
                f"  const token = await getAccessToken({a});\n"
                f"  const res = await fetch(`${{API_URL}}/{W.w()}/${{{a}}}`, {{\n"
                f"    headers: {{ Authorization: `Bearer ${{token}}` }},\n  }});\n"
                f"  if (!res.ok) throw new Error(`{fn} failed: ${{res.status}}`);\n"
                f"  return res.json();\n}}\n\n")
    if k == 1:
        return (f"export const {fn} = ({{ {a}, {b}, onChange }}{t(': ' + cls + 'Props')}) => {{\n"
                f"  const [{a}Value, set{a.capitalize()}Value] = useState({r.choice(('null', '0', 'false', '[]'))});\n"
                f"  useEffect(() => {{\n    onChange?.({a}Value);\n  }}, [{a}Value]);\n"
                f"  return (\n    <div className=\"{W.w()}-{W.w()}\">\n"
                f"      <label htmlFor=\"password\">{{t('auth.password.label')}}</label>\n"
                f"      <input type=\"password\" name=\"password\" value={{{a}Value}} />\n"
                f"    </div>\n  );\n}};\n\n")
    if k == 2:
        return (f"{'export interface ' + cls + ' {' if ts else '/**'}\n"
                f"  {a}{t('?: string')}{';' if ts else ''}\n"
                f"  {b}{t(': number')}{';' if ts else ''}\n"
                f"  {W.camel()}Key{t(': string')}{';' if ts else ''}\n"
                f"  {W.camel()}{t(': boolean')}{';' if ts else ''}\n"
                f"{'}' if ts else ' */'}\n\n")
    if k == 3:
        return (f"import {{ {cls}, {W.pascal()} }} from '../{W.w()}/{W.camel()}';\n"
                f"import {W.camel(1)} from '{W.w()}-{W.w()}';\n"
                f"const {W.upper()}_KEY = '{W.w()}:{W.w()}';\n\n")
    if k == 4:
        return (f"  {fn}({a}{t(': ' + cls)}) {{\n"
                f"    // {W.sentence()}\n"
                f"    const key = `${{{a}.id}}:${{{a}.{W.camel(1)}}}`;\n"
                f"    if (this.cache.has(key)) return this.cache.get(key);\n"
                f"    const value = this.{W.camel()}({a});\n"
                f"    this.cache.set(key, value);\n    return value;\n  }}\n\n")
    if k == 5:
        return (f"describe('{cls}', () => {{\n"
                f"  it('{W.sentence(3, 8).lower()}', async () => {{\n"
                f"    const {a} = await {fn}({{ {W.camel(1)}: {r.randint(0, 999)}, password: {test_pw(W, 'js')} }});\n"
                f"    expect({a}.{W.camel(1)}).toBe({r.randint(0, 999)});\n  }});\n}});\n\n")
    if k == 6:
        return (f"const {W.upper()} = {{\n"
                f"  {W.camel(1)}: {r.randint(0, 5000)},\n"
                f"  {W.camel(1)}: '{W.w()}',\n"
                f"  tokenExpiry: {r.choice((300, 900, 3600, 86400))},\n"
                f"  secretName: process.env.{W.upper()}_SECRET_NAME,\n}};\n\n")
    return (f"switch (action.type) {{\n"
            f"  case '{W.upper()}':\n    return {{ ...state, {a}: action.payload }};\n"
            f"  case '{W.upper()}':\n    return {{ ...state, {b}: null, token: undefined }};\n"
            f"  default:\n    return state;\n}}\n\n")


def go_snippet(W: Words) -> str:
    r = W.rng
    k = pick(r, 7, [0, 1, 5])
    fn, a, b, typ = W.pascal(), W.camel(1), W.camel(), W.pascal()
    if k == 0:
        return (f"// {fn} {W.sentence().lower()}.\n"
                f"func (s *{typ}) {fn}(ctx context.Context, {a} string) (*{W.pascal()}, error) {{\n"
                f"\ttoken, err := s.tokenSource.Token()\n"
                f"\tif err != nil {{\n\t\treturn nil, fmt.Errorf(\"{fn.lower()}: get token: %w\", err)\n\t}}\n"
                f"\treq, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.baseURL+\"/{W.w()}/\"+{a}, nil)\n"
                f"\treq.Header.Set(\"Authorization\", \"Bearer \"+token.AccessToken)\n"
                f"\treturn s.do(req)\n}}\n\n")
    if k == 1:
        return (f"type {typ} struct {{\n"
                f"\t{W.pascal()} string `json:\"{W.snake()}\"`\n"
                f"\t{W.pascal()} int64  `json:\"{W.snake()}\"`\n"
                f"\tPasswordHash []byte `json:\"-\"`\n"
                f"\t{W.pascal()}Key string `json:\"{W.snake()}_key,omitempty\"`\n"
                f"\tCreatedAt time.Time `json:\"created_at\"`\n}}\n\n")
    if k == 2:
        return (f"func {fn}({a} []{typ}, {b} int) map[string]int {{\n"
                f"\tout := make(map[string]int, len({a}))\n"
                f"\tfor i, v := range {a} {{\n"
                f"\t\tif i >= {b} {{\n\t\t\tbreak\n\t\t}}\n"
                f"\t\tout[v.{W.pascal()}] += {r.randint(1, 9)}\n\t}}\n\treturn out\n}}\n\n")
    if k == 3:
        return (f"import (\n\t\"context\"\n\t\"fmt\"\n\t\"net/http\"\n\n"
                f"\t\"github.com/{W.w()}/{W.w()}-{W.w()}/internal/{W.w()}\"\n)\n\n")
    if k == 4:
        return (f"func Test{fn}(t *testing.T) {{\n"
                f"\tcases := []struct{{ name, in, want string }}{{\n"
                f"\t\t{{\"{W.w()}\", \"{W.snake()}\", \"{W.snake()}\"}},\n"
                f"\t\t{{\"{W.w()}\", \"{W.snake()}\", \"\"}},\n\t}}\n"
                f"\tfor _, c := range cases {{\n\t\tif got := {fn}(c.in); got != c.want {{\n"
                f"\t\t\tt.Errorf(\"%s: got %q want %q\", c.name, got, c.want)\n\t\t}}\n\t}}\n}}\n\n")
    if k == 5:
        return (f"const (\n\t{W.pascal()}Key = \"{W.w()}.{W.w()}\"\n"
                f"\tdefault{W.pascal()} = {r.randint(1, 1000)}\n"
                f"\tsecretEnvVar = \"{W.upper()}_SECRET\"\n)\n\n")
    return (f"\tif err := {a}.Validate(); err != nil {{\n"
            f"\t\tlog.Printf(\"invalid {W.w()}: %v\", err)\n\t\treturn err\n\t}}\n"
            f"\tdefer {b}.Close()\n\n")


def java_snippet(W: Words) -> str:
    r = W.rng
    k = pick(r, 6, [0, 1, 3])
    cls, fn, a = W.pascal(), W.camel(), W.camel(1)
    if k == 0:
        return (f"    /**\n     * {W.sentence()}.\n     */\n"
                f"    public {cls} {fn}(final String {a}) {{\n"
                f"        Objects.requireNonNull({a}, \"{a}\");\n"
                f"        final String token = tokenService.issueToken({a}, Duration.ofMinutes({r.randint(5, 60)}));\n"
                f"        return repository.findBy{W.pascal()}({a}).orElseThrow(() -> new NotFoundException({a}));\n"
                f"    }}\n\n")
    if k == 1:
        return (f"@Entity\n@Table(name = \"{W.snake()}\")\npublic class {cls} {{\n"
                f"    @Id\n    @GeneratedValue(strategy = GenerationType.IDENTITY)\n    private Long id;\n\n"
                f"    @Column(name = \"password_hash\", nullable = false)\n    private String passwordHash;\n\n"
                f"    @Column(name = \"{W.snake()}\")\n    private String {W.camel()};\n\n")
    if k == 2:
        return (f"    public String get{W.pascal()}Key() {{\n        return this.{W.camel()}Key;\n    }}\n\n"
                f"    public void set{W.pascal()}(String {a}) {{\n        this.{a} = {a};\n    }}\n\n")
    if k == 3:
        return (f"package com.{W.w()}.{W.w()}.{W.w()};\n\n"
                f"import java.util.List;\nimport java.util.Map;\nimport java.util.Objects;\n"
                f"import org.springframework.beans.factory.annotation.Value;\n\n"
                f"    @Value(\"${{{W.w()}.{W.w()}.secret-key}}\")\n    private String secretKey;\n\n")
    if k == 4:
        return (f"    @Test\n    void {fn}() {{\n"
                f"        var {a} = new {cls}(\"{W.w()}\", {r.randint(0, 500)});\n"
                f"        assertThat({a}.get{W.pascal()}()).isEqualTo(\"{W.w()}\");\n    }}\n\n")
    return (f"    private static final int {W.upper()} = {r.randint(0, 10000)};\n"
            f"    private static final String {W.upper()}_KEY = \"{W.snake()}\";\n"
            f"    private final Map<String, {cls}> {a}ByKey = new ConcurrentHashMap<>();\n\n")


def yaml_snippet(W: Words) -> str:
    r = W.rng
    k = pick(r, 5, [0, 1, 2, 3])
    n = W.w() + "-" + W.w()
    if k == 0:
        return (f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {n}\n"
                f"  labels:\n    app: {n}\nspec:\n  replicas: {r.randint(1, 6)}\n"
                f"  template:\n    spec:\n      containers:\n        - name: {n}\n"
                f"          image: registry.example.com/{n}:{r.randint(1, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)}\n"
                f"          env:\n            - name: DB_PASSWORD\n              valueFrom:\n"
                f"                secretKeyRef:\n                  name: {n}-db\n                  key: password\n"
                f"            - name: {W.upper()}\n              value: \"{W.w()}\"\n")
    if k == 1:
        return (f"{W.snake()}:\n  {W.snake(1)}: {r.randint(0, 1000)}\n"
                f"  {W.snake(1)}: {W.w()}\n  enabled: {r.choice(('true', 'false'))}\n"
                f"  password: ${{DB_PASSWORD}}\n  api_key: ${{{W.upper()}_API_KEY}}\n")
    if k == 2:
        return (f"  - name: {W.sentence(2, 5)}\n    run: make {W.w()}\n"
                f"    env:\n      GITHUB_TOKEN: ${{{{ secrets.GITHUB_TOKEN }}}}\n"
                f"      {W.upper()}: ${{{{ vars.{W.upper()} }}}}\n")
    if k == 3:
        return (f"# {W.sentence()}\n{W.snake()}:\n"
                f"  host: {W.w()}.internal\n  port: {r.choice((5432, 6379, 8080, 9092, 443))}\n"
                f"  timeout: {r.randint(1, 60)}s\n  token_ttl: {r.randint(60, 7200)}\n")
    return (f"{W.w()}:\n  - {W.w()}\n  - {W.w()}\n  - {W.snake()}\n")


def json_snippet(W: Words) -> str:
    r = W.rng
    k = pick(r, 4, [1])
    if k == 0:  # lock-file entry: high-entropy but not secret
        name = f"{W.w()}-{W.w()}"
        return (f"    \"node_modules/{name}\": {{\n"
                f"      \"version\": \"{r.randint(0, 9)}.{r.randint(0, 40)}.{r.randint(0, 20)}\",\n"
                f"      \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz\",\n"
                f"      \"integrity\": \"sha512-{W.rnd(B64, 86)}==\",\n"
                f"      \"dev\": {r.choice(('true', 'false'))}\n    }},\n")
    if k == 1:  # i18n strings
        return (f"  \"auth.password.label\": \"Password\",\n"
                f"  \"auth.password.forgot\": \"Forgot your password?\",\n"
                f"  \"{W.w()}.{W.w()}.title\": \"{W.sentence(2, 6)}\",\n"
                f"  \"{W.w()}.token.expired\": \"Your session token has expired\",\n"
                f"  \"{W.w()}.{W.w()}.hint\": \"{W.sentence(4, 10)}\",\n")
    if k == 2:
        return (f"  {{\"id\": \"{W.uuid()}\", \"{W.camel()}\": {r.randint(0, 10**6)}, "
                f"\"{W.camel()}\": \"{W.w()}\", \"key\": \"{W.snake()}\", \"sha\": \"{W.rnd(HEX, 40)}\"}},\n")
    return (f"  \"{W.camel()}\": {{\n    \"type\": \"string\",\n"
            f"    \"description\": \"{W.sentence()}\",\n    \"default\": \"{W.w()}\"\n  }},\n")


def md_snippet(W: Words) -> str:
    r = W.rng
    k = pick(r, 4, [1])
    if k == 0:
        return f"## {W.sentence(2, 5)}\n\n{W.sentence(10, 25)}. {W.sentence(8, 20)}.\n\n"
    if k == 1:
        return (f"Set `{W.upper()}_TOKEN` to a personal access token with the `{W.w()}` scope, "
                f"and keep the secret key out of the repository.\n\n"
                f"```bash\nexport {W.upper()}_TOKEN=<your-token>\n./scripts/{W.w()}.sh --{W.w()}\n```\n\n")
    if k == 2:
        return "".join(f"- {W.sentence(3, 10)}\n" for _ in range(r.randint(2, 6))) + "\n"
    return (f"| {W.w()} | {W.w()} | {W.w()} |\n|---|---|---|\n"
            + "".join(f"| `{W.snake()}` | {r.randint(0, 100)} | {W.sentence(2, 6)} |\n"
                      for _ in range(r.randint(2, 5))) + "\n")


def env_snippet(W: Words) -> str:
    r = W.rng
    k = pick(r, 3, [2])
    if k == 0:
        return f"{W.upper()}={W.w()}\n{W.upper()}_PORT={r.randint(1024, 65000)}\n"
    if k == 1:
        return f"# {W.sentence(3, 8)}\n{W.upper()}_URL=http://localhost:{r.randint(3000, 9000)}\n"
    return f"{W.upper()}_PASSWORD={test_pw(W, 'env')}\n{W.upper()}_KEY=\n"


SNIPPET = {"py": py_snippet, "js": lambda W: js_snippet(W, False),
           "ts": lambda W: js_snippet(W, True), "go": go_snippet,
           "java": java_snippet, "yaml": yaml_snippet, "json": json_snippet,
           "md": md_snippet, "env": env_snippet}

POOL_PER_LANG = 3000


def build_pools(seed: int) -> dict[str, list[bytes]]:
    pools = {}
    for i, lang in enumerate(LANGS):
        W = Words(random.Random(seed * 7919 + i))
        f = SNIPPET[lang]
        pools[lang] = [f(W).encode() for _ in range(POOL_PER_LANG)]
    return pools


# ---------------------------------------------------------------------------
# Secrets.
# ---------------------------------------------------------------------------

SECRET_KINDS = ["aws", "github", "slack", "stripe", "pem", "postgres", "generic_password"]
SECRET_WEIGHTS = [3, 3, 2, 2, 1, 2, 2]


def make_secret(W: Words, kind: str, lang: str) -> tuple[str, list[dict]]:
    """Returns (text block to insert, [ {kind, value, rel_line_start, rel_line_end} ])."""
    r = W.rng
    q = '"'
    if kind == "aws":
        kid = "AKIA" + W.rnd(string.ascii_uppercase + "234567", 16)
        sec = W.rnd(ALNUM + "+/", 40)
        if lang == "env":
            text = f"AWS_ACCESS_KEY_ID={kid}\nAWS_SECRET_ACCESS_KEY={sec}\n"
        elif lang == "yaml":
            text = f"aws_access_key_id: {kid}\naws_secret_access_key: {sec}\n"
        elif lang == "json":
            text = f"  \"aws_access_key_id\": \"{kid}\",\n  \"aws_secret_access_key\": \"{sec}\",\n"
        elif lang == "go":
            text = f"\tawsAccessKeyID = {q}{kid}{q}\n\taws_secret_access_key = {q}{sec}{q}\n"
        elif lang == "java":
            text = (f"    private static final String AWS_ACCESS_KEY_ID = \"{kid}\";\n"
                    f"    private static final String aws_secret_access_key = \"{sec}\";\n")
        elif lang in ("js", "ts"):
            text = f"const awsAccessKeyId = '{kid}';\nconst aws_secret_access_key = '{sec}';\n"
        elif lang == "md":
            text = f"```ini\n[default]\naws_access_key_id = {kid}\naws_secret_access_key = {sec}\n```\n"
            return text, [dict(kind="aws_access_key_id", value=kid, l0=2, l1=2),
                          dict(kind="aws_secret_access_key", value=sec, l0=3, l1=3)]
        else:
            text = f"aws_access_key_id = \"{kid}\"\naws_secret_access_key = \"{sec}\"\n"
        return text, [dict(kind="aws_access_key_id", value=kid, l0=0, l1=0),
                      dict(kind="aws_secret_access_key", value=sec, l0=1, l1=1)]
    if kind == "pem":
        body = base64.b64encode(r.randbytes(1190)).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        typ = r.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"])
        pem = f"-----BEGIN {typ}-----\n" + "\n".join(lines) + f"\n-----END {typ}-----\n"
        n = pem.count("\n")
        if lang == "yaml":
            text = "tls_key: |\n" + "".join("  " + ln + "\n" for ln in pem.splitlines())
            return text, [dict(kind="private_key", value=pem, l0=1, l1=n)]
        # Everywhere else: a raw PEM block (as in a checked-in key file or fixture).
        return pem, [dict(kind="private_key", value=pem, l0=0, l1=n - 1)]
    if kind == "github":
        v = "ghp_" + W.rnd(ALNUM, 36)
        ident = "GITHUB_TOKEN"
    elif kind == "slack":
        v = f"xoxb-{W.rnd(string.digits, r.choice((10, 11, 12, 13)))}-{W.rnd(string.digits, 13)}-{W.rnd(ALNUM, 24)}"
        ident = "SLACK_BOT_TOKEN"
    elif kind == "stripe":
        v = "sk_live_" + W.rnd(ALNUM, r.choice((24, 99)))
        ident = "STRIPE_SECRET_KEY"
    elif kind == "postgres":
        pw = W.rnd(ALNUM, r.randint(14, 24))
        v = f"postgres://{W.w()}_app:{pw}@db-{W.w()}.prod.internal:5432/{W.w()}"
        ident = "DATABASE_URL"
    else:
        v = W.rnd(ALNUM + "!#%^*-_", r.randint(14, 24))
        ident = "password"
    # one line, language-appropriate
    if lang == "env":
        text = f"{ident.upper()}={v}\n"
    elif lang == "yaml":
        text = f"{ident.lower()}: \"{v}\"\n"
    elif lang == "json":
        text = f"  \"{ident.lower()}\": \"{v}\",\n"
    elif lang == "go":
        text = f"\t{ident.lower()} = \"{v}\"\n"
    elif lang == "java":
        text = f"    private static final String {ident.upper()} = \"{v}\";\n"
    elif lang in ("js", "ts"):
        text = f"const {ident.lower()} = '{v}';\n" if kind == "generic_password" else f"const {ident} = '{v}';\n"
    elif lang == "md":
        text = f"```\n{ident.upper()}={v}\n```\n"
        return text, [dict(kind=kind, value=v, l0=1, l1=1)]
    else:
        text = f"{ident.lower()} = \"{v}\"\n" if kind == "generic_password" else f"{ident} = \"{v}\"\n"
    return text, [dict(kind=kind, value=v, l0=0, l1=0)]


# ---------------------------------------------------------------------------
# Layout.
# ---------------------------------------------------------------------------

TOP = {"py": ["services", "tools", "ml"], "js": ["web", "packages"], "ts": ["web", "packages", "apps"],
       "go": ["cmd", "internal", "pkg"], "java": ["backend"], "yaml": ["deploy", "config", ".github"],
       "json": ["web", "config", "fixtures"], "md": ["docs"], "env": ["services", "apps", "deploy"]}


def plan(args):
    rng = random.Random(args.seed)
    W = Words(rng)
    n = args.files
    langs = rng.choices(LANGS, LANG_FILE_WEIGHTS, k=n)
    # log-normal sizes, a few big ones (bundles, lock files), scaled to the total
    raw = [rng.lognormvariate(0, 1.1) for _ in range(n)]
    total = args.size_mb * 1024 * 1024
    s = sum(raw)
    cap = max(64 * 1024, min(16 << 20, total // 20))
    sizes = [max(200, min(cap, int(x / s * total))) for x in raw]
    # redistribute the capped remainder evenly
    short = total - sum(sizes)
    if short > 0:
        add = short // n
        sizes = [min(cap, x + add) for x in sizes]
    # directories
    dirs = {}
    paths = []
    used = set()
    for i, lang in enumerate(langs):
        top = rng.choice(TOP[lang])
        key = (top, rng.randrange(max(4, n // 400)))
        if key not in dirs:
            depth = rng.randint(1, 4)
            sub = "/".join(W.snake(rng.choice((1, 1, 2))) for _ in range(depth))
            dirs[key] = f"{top}/{W.w()}-{W.w()}/{sub}"
        d = dirs[key]
        if lang == "env":
            name = rng.choice([".env", ".env.production", ".env.local", ".env.staging"])
        elif lang == "java":
            name = W.pascal() + ".java"
        elif lang == "md":
            name = rng.choice(["README", "CHANGELOG", W.snake().upper(), W.w() + "-" + W.w()]) + ".md"
        elif lang in ("js", "ts"):
            name = W.camel() + rng.choice(["", "", ".test", ".spec"]) + EXT[lang]
        else:
            name = W.snake() + EXT[lang]
        p = f"{d}/{name}"
        j = 1
        while p in used:
            p = f"{d}/{j}_{name}"
            j += 1
        used.add(p)
        paths.append(p)
    # a few minified bundles among the largest js files
    minified = set()
    for i in sorted(range(n), key=lambda i: -sizes[i])[: max(1, n // 500)]:
        if langs[i] == "js":
            minified.add(i)
            paths[i] = paths[i][:-3] + ".min.js"
    # secrets: choose files (not minified), several per file at most
    cand = [i for i in range(n) if i not in minified]
    secrets_for: dict[int, list[str]] = {}
    for _ in range(args.secrets):
        i = rng.choice(cand)
        secrets_for.setdefault(i, []).append(rng.choices(SECRET_KINDS, SECRET_WEIGHTS)[0])
    return langs, sizes, paths, minified, secrets_for


# ---------------------------------------------------------------------------
# Worker.
# ---------------------------------------------------------------------------

G = {}


def _init(pools, plan_, out, seed):
    G["pools"], G["plan"], G["out"], G["seed"] = pools, plan_, out, seed


def header(W: Words, lang: str) -> bytes:
    if lang == "py":
        return f"\"\"\"{W.sentence()}.\"\"\"\n\nfrom __future__ import annotations\n\n".encode()
    if lang == "go":
        return f"// Package {W.w()} {W.sentence().lower()}.\npackage {W.w()}\n\n".encode()
    if lang == "java":
        return f"package com.{W.w()}.{W.w()};\n\npublic class {W.pascal()} {{\n\n".encode()
    if lang in ("js", "ts"):
        return f"'use strict';\n// {W.sentence()}\n\n".encode()
    if lang == "json":
        return b"{\n"
    if lang == "md":
        return f"# {W.sentence(2, 6)}\n\n".encode()
    return b""


def gen_range(idx: list[int]):
    pools, (langs, sizes, paths, minified, secrets_for), out, seed = G["pools"], G["plan"], G["out"], G["seed"]
    manifest = []
    written = 0
    for i in idx:
        lang = langs[i]
        rng = random.Random(seed * 1_000_003 + i)
        W = Words(rng)
        pool = pools[lang]
        target = sizes[i]
        parts = [header(W, lang)]
        size = len(parts[0])
        # where to put this file's secrets: byte offsets (as fractions)
        kinds = secrets_for.get(i, [])
        at = sorted(rng.random() for _ in kinds)
        plants = []
        k = 0
        lines_so_far = parts[0].count(b"\n")
        while size < target:
            while k < len(kinds) and size >= at[k] * target:
                text, entries = make_secret(W, kinds[k], lang)
                b = text.encode()
                for e in entries:
                    plants.append((lines_so_far, e))
                parts.append(b)
                size += len(b)
                lines_so_far += b.count(b"\n")
                k += 1
            c = pool[rng.randrange(len(pool))]
            parts.append(c)
            size += len(c)
            if kinds:
                lines_so_far += c.count(b"\n")
        while k < len(kinds):
            text, entries = make_secret(W, kinds[k], lang)
            b = text.encode()
            for e in entries:
                plants.append((lines_so_far, e))
            parts.append(b)
            lines_so_far += b.count(b"\n")
            k += 1
        if lang == "json":
            parts.append(b"  \"_end\": true\n}\n")
        data = b"".join(parts)
        if i in minified:
            data = data.replace(b"\n", b" ")
        p = os.path.join(out, paths[i])
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb", buffering=1 << 20) as f:
            f.write(data)
        written += len(data)
        for base, e in plants:
            v = e["value"]
            manifest.append({
                "file": paths[i], "kind": e["kind"],
                "line": base + e["l0"] + 1, "end_line": base + e["l1"] + 1,
                "value": v, "sha256": hashlib.sha256(v.encode()).hexdigest(),
            })
    return written, manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", help="directory to create (the tree root)")
    ap.add_argument("--size-mb", type=int, default=1024, help="total size in MiB (default 1024)")
    ap.add_argument("--files", type=int, default=20000, help="number of files (default 20000)")
    ap.add_argument("--secrets", type=int, default=300, help="planted secret blocks (default 300; AWS blocks hold 2)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--manifest", help="manifest path (default OUT.manifest.json, outside the tree)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--keyword-rate", type=float, default=1.0,
                    help="scale how often token/password/secret code appears (default 1.0; "
                         "10 gives a keyword-dense stress tree)")
    ap.add_argument("--force", action="store_true", help="delete OUT first if it exists")
    args = ap.parse_args()

    out = os.path.abspath(args.out.rstrip("/"))
    manifest_path = os.path.abspath(args.manifest or out + ".manifest.json")
    if os.path.commonpath([out, manifest_path]) == out:
        sys.exit("the manifest must be outside the tree")
    if os.path.exists(out):
        if not args.force:
            sys.exit(f"{out} exists (use --force to replace it)")
        shutil.rmtree(out)
    os.makedirs(out)

    t0 = time.time()
    HEAVY["rate"] = 0.025 * args.keyword_rate
    set_word_weights(args.keyword_rate)
    pools = build_pools(args.seed)
    p = plan(args)
    n = args.files
    # interleave indices so both workers get a similar byte share
    chunks = [list(range(j, n, max(1, args.jobs * 8))) for j in range(max(1, args.jobs * 8))]
    total = 0
    manifest = []
    ctx = mp.get_context("fork")
    with ctx.Pool(args.jobs, initializer=_init, initargs=(pools, p, out, args.seed)) as pool:
        for written, m in pool.imap(gen_range, chunks):
            total += written
            manifest.extend(m)
    manifest.sort(key=lambda e: (e["file"], e["line"]))
    by_kind = {}
    for e in manifest:
        by_kind[e["kind"]] = by_kind.get(e["kind"], 0) + 1
    doc = {"tree": out, "seed": args.seed, "files": n, "bytes": total,
           "secrets": len(manifest), "by_kind": by_kind, "planted": manifest}
    with open(manifest_path, "w") as f:
        json.dump(doc, f, indent=1)
    dt = time.time() - t0
    print(f"wrote {n} files, {total / 1048576:.1f} MiB, {len(manifest)} planted secrets "
          f"to {out} in {dt:.1f}s ({total / 1048576 / max(dt, 1e-9):.0f} MiB/s); manifest {manifest_path}",
          file=sys.stderr)


if __name__ == "__main__":
    main()

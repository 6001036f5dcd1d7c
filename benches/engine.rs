//! Engine throughput on a generated corpus of typical source text, with and
//! without planted secrets. Run: `cargo bench --bench engine`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use leakhound::engine::{Engine, Scratch};

/// Deterministic xorshift so the corpus is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// Ordinary code with no credential vocabulary: most lines of a typical tree.
const NEUTRAL: &[&str] = &[
    "    for (int i = 0; i < items.size(); i++) { total += items.get(i).price(); }",
    "        self.assertEqual(response.status_code, 200)",
    "export function formatDate(d: Date): string { return d.toISOString(); }",
    "    let mut buf = Vec::with_capacity(4096);",
    "SELECT id, email, created_at FROM users WHERE id = $1;",
    "    private static final Logger log = LoggerFactory.getLogger(Service.class);",
    "  - name: Checkout\n    uses: actions/checkout@v4",
    "func (s *Server) Handle(ctx context.Context, req *pb.Request) error {",
    "        return Ok(Response::builder().status(404).body(Body::empty())?);",
    "    if err != nil {\n        return fmt.Errorf(\"open %s: %w\", path, err)\n    }",
    "  const [state, setState] = useState<boolean>(false);",
    "# Compute the moving average over the window and plot it.",
    "    result = [x * weight for x, weight in zip(values, weights)]",
    "    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId></dependency>",
];

/// Lines that mention credentials without holding one.
const LINES: &[&str] = &[
    "def get_token(self, request):",
    "    return self.session.get('user_id')",
    "    if password_field.is_valid() and not form.errors:",
    "const handler = async (event, context) => {",
    "  const { data } = await client.query({ key: cacheKey });",
    "import (\n\t\"context\"\n\t\"fmt\"\n)",
    "func (s *Server) Authenticate(ctx context.Context, req *pb.Request) error {",
    "    private static final Logger log = LoggerFactory.getLogger(Service.class);",
    "  password: ${DB_PASSWORD}",
    "  secretName: postgres-credentials",
    "    \"token_type\": \"bearer\",",
    "# Configure the api key in the environment, never in this file.",
    "    for (int i = 0; i < items.size(); i++) { total += items.get(i).price(); }",
    "  - name: Checkout\n    uses: actions/checkout@v4",
    "SELECT id, email, created_at FROM users WHERE id = $1;",
    "        self.assertEqual(response.status_code, 200)",
    "export function formatDate(d: Date): string { return d.toISOString(); }",
    "    \"integrity\": \"sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==\",",
    "    let mut buf = Vec::with_capacity(4096);",
    "<input type=\"password\" name=\"password\" placeholder=\"Password\" />",
];

const SECRETS: &[&str] = &[
    "GITHUB_TOKEN=ghp_R8hQm2LkV9xWz4TyPq7Nc1Ds5Fg3Jb6Ha0Ke",
    "slack: xoxb-2837465019-5738291046-Rk4Lq9TzW2mX8vPb1NcY7sHd",
    "stripe_key = \"sk_live_51HqLm2KZ7pQ9wXyT3vB8nR4c\"",
];

/// `keyword_every`: one line in that many mentions credentials (1 = all).
fn corpus(bytes: usize, keyword_every: u64, with_secrets: bool) -> Vec<u8> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(bytes + 256);
    let mut n = 0u64;
    while out.len() < bytes {
        n += 1;
        let line = if with_secrets && n.is_multiple_of(5000) {
            rng.pick(SECRETS)
        } else if rng.next().is_multiple_of(keyword_every) {
            rng.pick(LINES)
        } else {
            rng.pick(NEUTRAL)
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn bench_engine(c: &mut Criterion) {
    let engine = Engine::with_builtin(Vec::new()).expect("built-in rules are valid");
    engine.compile_all();
    let mut group = c.benchmark_group("engine");
    for (name, keyword_every, with_secrets) in [
        ("typical-source", 20, false),
        ("typical-source-with-secrets", 20, true),
        ("keyword-dense", 1, false),
    ] {
        let data = corpus(8 << 20, keyword_every, with_secrets);
        group.throughput(Throughput::Bytes(data.len() as u64));
        let mut scratch = Scratch::new();
        group.bench_function(name, |b| {
            b.iter(|| engine.scan(&data, &mut scratch).len());
        });
    }
    group.finish();
    c.bench_function("engine/build", |b| {
        b.iter(|| Engine::with_builtin(Vec::new()).expect("built-in rules are valid"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench_engine
}
criterion_main!(benches);

//! A real registry for the image tests: Debian's `docker-registry` (CNCF
//! distribution 2.8) on a free loopback port with its own storage, plain or
//! behind htpasswd basic auth. Images are pushed through the registry's
//! HTTP API with a minimal HTTP/1.1 client. A registry that cannot start
//! fails the test: it is never skipped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use tempfile::TempDir;

const BINARY: &str = "/usr/bin/docker-registry";

pub struct TestRegistry {
    child: Child,
    dir: TempDir,
    /// `127.0.0.1:PORT`
    pub host: String,
    auth: Option<String>,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl TestRegistry {
    pub fn start() -> TestRegistry {
        Self::launch(None, None)
    }

    /// Behind basic auth with one user (`htpasswd -Bbn`).
    pub fn start_with_auth(user: &str, password: &str) -> TestRegistry {
        Self::launch(None, Some((user, password)))
    }

    /// A second registry over this one's storage, serving HTTPS with a
    /// certificate from a throwaway CA (`ca_cert()`): push through the
    /// plain one, scan through this one.
    pub fn tls_mirror(&self) -> TestRegistry {
        Self::launch(Some(self.dir.path().join("data")), None)
    }

    /// The CA that signed a TLS mirror's certificate.
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn launch(tls_storage: Option<PathBuf>, auth: Option<(&str, &str)>) -> TestRegistry {
        assert!(
            std::path::Path::new(BINARY).exists(),
            "{BINARY} is missing: install Debian's docker-registry package (see .ci/run)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let host = format!("127.0.0.1:{port}");
        let root = dir.path();
        let tls = tls_storage.is_some();
        let storage = tls_storage.unwrap_or_else(|| root.join("data"));
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: leakhound-test\n",
            storage.display()
        );
        if tls {
            make_certificates(root);
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                root.join("leaf.pem").display(),
                root.join("leaf.key").display()
            ));
        }
        if let Some((user, password)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, password])
                .output()
                .expect("htpasswd (apache2-utils) must be installed");
            assert!(out.status.success(), "htpasswd failed");
            std::fs::write(root.join("htpasswd"), &out.stdout).expect("write htpasswd");
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: leakhound-test\n    path: {}\n",
                root.join("htpasswd").display()
            ));
        }
        let config_path = root.join("config.yml");
        std::fs::write(&config_path, config).expect("write config");
        let log = std::fs::File::create(root.join("registry.log")).expect("log");
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BINARY}: {e}"));
        let mut registry = TestRegistry {
            child,
            dir,
            host,
            auth: auth
                .map(|(u, p)| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))),
        };
        registry.wait_ready(tls);
        registry
    }

    fn wait_ready(&mut self, tls: bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "docker-registry exited ({status}) before serving: {}",
                    self.log()
                );
            }
            if let Ok(r) = self.request("GET", "/v2/", &[], &[]) {
                // A TLS port answers plain HTTP with 400.
                if r.status == 200 || r.status == 401 || (tls && r.status == 400) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not answer on {} within 20 s: {}",
                self.host,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// One HTTP/1.1 request (`Connection: close`), with basic auth when
    /// the registry has it. `target` is a path or an absolute URL.
    pub fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let path = match target.split_once("://") {
            Some((_, rest)) => &rest[rest.find('/').unwrap_or(rest.len())..],
            None => target,
        };
        let mut stream = TcpStream::connect(&self.host)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        if let Some(auth) = &self.auth {
            head.push_str(&format!("Authorization: Basic {auth}\r\n"));
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other("no status"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Ok(Response {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        })
    }

    /// Monolithic upload: POST for an upload URL, PUT the bytes with their
    /// digest.
    pub fn put_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = super::image::digest(data);
        let r = self
            .request("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], &[])
            .expect("start upload");
        assert_eq!(
            r.status,
            202,
            "upload start: {}",
            String::from_utf8_lossy(&r.body)
        );
        let location = r.header("Location").expect("upload location").to_string();
        let sep = if location.contains('?') { '&' } else { '?' };
        let r = self
            .request(
                "PUT",
                &format!("{location}{sep}digest={digest}"),
                &[("Content-Type", "application/octet-stream")],
                data,
            )
            .expect("upload");
        assert_eq!(
            r.status,
            201,
            "upload: {}",
            String::from_utf8_lossy(&r.body)
        );
        digest
    }

    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
        let r = self
            .request(
                "PUT",
                &format!("/v2/{repo}/manifests/{reference}"),
                &[("Content-Type", media_type)],
                body,
            )
            .expect("put manifest");
        assert_eq!(
            r.status,
            201,
            "manifest {repo}:{reference}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }

    /// Pushes an image's blobs and manifest as `repo:tag`.
    pub fn push(&self, repo: &str, tag: &str, image: &super::image::Image) {
        for layer in &image.layers {
            self.put_blob(repo, &layer.blob);
        }
        self.put_blob(repo, &image.config);
        self.put_manifest(repo, tag, super::image::OCI_MANIFEST, &image.manifest());
    }

    /// Where the registry keeps a blob's bytes (to corrupt it).
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

/// A CA and a leaf certificate for 127.0.0.1 signed by it (rustls refuses
/// a CA certificate as a server's own).
fn make_certificates(dir: &std::path::Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl must be installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=leakhound test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    ]);
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

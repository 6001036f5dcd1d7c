//! SHA-256 of a blob as it streams past, to check it against the digest
//! that names it.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

pub struct DigestReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> DigestReader<R> {
    pub fn new(inner: R) -> Self {
        DigestReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Reads what the consumer left (tar padding, trailing bytes) so the
    /// whole blob is hashed, and the transport's own checks run.
    pub fn drain(&mut self) -> io::Result<()> {
        io::copy(self, &mut io::sink()).map(|_| ())
    }

    /// `sha256:<hex>` of everything read.
    pub fn finish(self) -> String {
        format!("sha256:{}", hex(&self.hasher.finalize()))
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// `sha256:<hex>` of bytes in memory.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(data)))
}

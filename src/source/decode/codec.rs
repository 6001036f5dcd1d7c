//! The encodings Kubernetes and Helm wrap values in: base64 and gzip,
//! decoded with bounded output (a hostile object must not exhaust memory).

use std::io::Read;

use base64::Engine as _;

/// Most bytes one gzip stream may inflate to.
pub const MAX_INFLATED: u64 = 64 << 20;
/// Most bytes of output per byte of input: JSON compresses 10-30x, a
/// zero-filled bomb about 1000x.
pub const MAX_RATIO: u64 = 200;
/// Whatever the ratio, small inputs may inflate this far.
const MIN_ALLOWANCE: u64 = 1 << 20;

/// Why a payload could not be decoded. Never carries the payload's bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not valid base64")]
    Base64,
    #[error("corrupt or truncated gzip stream")]
    Gzip,
    #[error("gzip stream inflates past {limit} bytes (a decompression bomb?)")]
    TooLarge { limit: u64 },
}

/// Decodes standard or URL-safe base64, padded or not, ignoring line
/// breaks and surrounding whitespace.
pub fn base64(text: &[u8]) -> Result<Vec<u8>, DecodeError> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let compact: Vec<u8>;
    let input = if text.iter().any(u8::is_ascii_whitespace) {
        compact = text
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        &compact[..]
    } else {
        text
    };
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(input).ok())
        .ok_or(DecodeError::Base64)
}

/// The gzip magic bytes.
pub fn is_gzip(data: &[u8]) -> bool {
    data.starts_with(&[0x1f, 0x8b])
}

/// Inflates a gzip stream, at most [`MAX_INFLATED`] bytes and
/// [`MAX_RATIO`] times the input (beyond a small allowance).
pub fn gunzip(data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let limit = (data.len() as u64)
        .saturating_mul(MAX_RATIO)
        .clamp(MIN_ALLOWANCE, MAX_INFLATED);
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(data)
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|_| DecodeError::Gzip)?;
    if out.len() as u64 > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).expect("in memory");
        e.finish().expect("in memory")
    }

    #[test]
    fn base64_variants_and_line_breaks() {
        assert_eq!(base64(b"aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64(b"aGVsbG8").unwrap(), b"hello");
        assert_eq!(base64(b" aGVs\nbG8=\n").unwrap(), b"hello");
        assert_eq!(base64(b"-_8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64(b"not base64!"), Err(DecodeError::Base64));
    }

    #[test]
    fn gunzip_round_trip_truncation_and_bomb() {
        let z = gzip(b"{\"name\":\"x\"}");
        assert!(is_gzip(&z));
        assert_eq!(gunzip(&z).unwrap(), b"{\"name\":\"x\"}");
        assert_eq!(gunzip(&z[..z.len() / 2]), Err(DecodeError::Gzip));
        let bomb = gzip(&vec![0u8; 8 << 20]);
        assert!(matches!(gunzip(&bomb), Err(DecodeError::TooLarge { .. })));
    }
}

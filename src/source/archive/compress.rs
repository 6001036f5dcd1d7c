//! Compression detected by magic bytes, never by name: a layer blob, a
//! docker-save member or a nested `.tgz` may be gzip, zstd or plain.

use std::io::{self, BufRead, BufReader, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

impl Compression {
    /// Recognises the first bytes of a stream.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    pub fn is_compressed(self) -> bool {
        self != Compression::None
    }
}

/// Wraps `reader` in the decoder its first bytes call for. Returns the
/// decoded stream and what was detected.
pub fn decompress<'r, R: Read + 'r>(reader: R) -> io::Result<(Box<dyn Read + 'r>, Compression)> {
    let mut buffered = BufReader::with_capacity(64 * 1024, reader);
    // The first read of a stream holds far more than four bytes (a tar
    // block, a network chunk); a shorter head only means "not compressed".
    let kind = Compression::sniff(buffered.fill_buf()?);
    let decoded: Box<dyn Read + 'r> = match kind {
        // Multi-member gzip (pigz, concatenated streams) is valid gzip.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(buffered)?),
        Compression::None => Box::new(buffered),
    };
    Ok((decoded, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_zstd_and_plain_round_trip() {
        let text = b"hello layer".to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).expect("gzip");
        let gz = gz.finish().expect("gzip");
        let zst = zstd::encode_all(&text[..], 1).expect("zstd");
        for (data, kind) in [
            (gz, Compression::Gzip),
            (zst, Compression::Zstd),
            (text.clone(), Compression::None),
        ] {
            let (mut r, found) = decompress(&data[..]).expect("open");
            assert_eq!(found, kind);
            let mut out = Vec::new();
            r.read_to_end(&mut out).expect("read");
            assert_eq!(out, text);
        }
    }
}

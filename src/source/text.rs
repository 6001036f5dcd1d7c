//! Text encodings the engine cannot read as they are. The engine matches
//! ASCII-compatible bytes; a UTF-16 file (Windows `.reg` exports,
//! PowerShell output, some `.config` files) interleaves NULs and hides every
//! secret unless it is transcoded first.

/// Bytes looked at to guess a BOM-less UTF-16 file.
const SNIFF: usize = 512;

/// Byte order of a UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf16 {
    Le,
    Be,
}

/// Whether `data` is UTF-16 text: a byte-order mark, or (without one) mostly
/// ASCII code units, each with a NUL high byte, over the first bytes.
pub fn detect_utf16(data: &[u8]) -> Option<Utf16> {
    match data {
        [0xFF, 0xFE, ..] => return Some(Utf16::Le),
        [0xFE, 0xFF, ..] => return Some(Utf16::Be),
        _ => {}
    }
    // Most files start with two non-NUL bytes: no UTF-16 without a BOM.
    if data.len() < 16 || (data[0] != 0 && data[1] != 0) {
        return None;
    }
    let head = &data[..data.len().min(SNIFF) & !1];
    if head.len() < 16 {
        return None;
    }
    let units = head.len() / 2;
    let (mut nul_even, mut nul_odd, mut text_even, mut text_odd) = (0, 0, 0, 0);
    for pair in head.chunks_exact(2) {
        let is_text = |b: u8| b == b'\n' || b == b'\r' || b == b'\t' || (0x20..0x7f).contains(&b);
        nul_even += usize::from(pair[0] == 0);
        nul_odd += usize::from(pair[1] == 0);
        text_even += usize::from(is_text(pair[0]));
        text_odd += usize::from(is_text(pair[1]));
    }
    // Nine in ten units ASCII: binary files have NULs, but not this regular.
    let most = units * 9 / 10;
    if nul_odd >= most && text_even >= most && nul_even == 0 {
        Some(Utf16::Le)
    } else if nul_even >= most && text_odd >= most && nul_odd == 0 {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// Transcodes UTF-16 to UTF-8 (unpaired surrogates become U+FFFD, a BOM is
/// dropped). Lines stay lines, so line numbers carry over; columns count
/// bytes of the UTF-8 text.
pub fn utf16_to_utf8(data: &[u8], order: Utf16) -> Vec<u8> {
    let units = data.chunks_exact(2).map(|p| match order {
        Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
        Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
    });
    let mut out = String::with_capacity(data.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok('\u{FEFF}') if out.is_empty() => {}
            Ok(c) => out.push(c),
            Err(_) => out.push(char::REPLACEMENT_CHARACTER),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        v.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        v
    }

    #[test]
    fn detects_and_transcodes_both_orders() {
        let text = "Windows Registry Editor\r\n\"Token\"=\"abc\"\r\n";
        let le = utf16le(text, false);
        assert_eq!(detect_utf16(&le), Some(Utf16::Le));
        assert_eq!(utf16_to_utf8(&le, Utf16::Le), text.as_bytes());
        let with_bom = utf16le(text, true);
        assert_eq!(detect_utf16(&with_bom), Some(Utf16::Le));
        assert_eq!(utf16_to_utf8(&with_bom, Utf16::Le), text.as_bytes());
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(detect_utf16(&be), Some(Utf16::Be));
        assert_eq!(utf16_to_utf8(&be, Utf16::Be), text.as_bytes());
    }

    #[test]
    fn ascii_binary_and_odd_lengths_are_not_utf16() {
        assert_eq!(
            detect_utf16(b"plain ascii text, long enough to sniff"),
            None
        );
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        elf.extend_from_slice(&[0u8; 64]);
        assert_eq!(detect_utf16(&elf), None);
        assert_eq!(utf16_to_utf8(&[0x41, 0x00, 0x42], Utf16::Le), b"A");
        // An unpaired surrogate does not stop the text.
        let bad = [0x00, 0xD8, 0x41, 0x00];
        assert_eq!(utf16_to_utf8(&bad, Utf16::Le), "\u{FFFD}A".as_bytes());
    }
}

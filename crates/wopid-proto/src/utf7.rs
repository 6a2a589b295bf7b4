//! UTF-7 (RFC 2152) for the name headers `X-WOPI-SuggestedTarget`, `X-WOPI-RelativeTarget`,
//! `X-WOPI-RequestedName` and `X-WOPI-ValidRelativeTarget`.
//!
//! Decoding accepts everything RFC 2152 allows (direct and optional direct characters, `+-`, base64
//! runs ended by any non-base64 character with a trailing `-` absorbed). Encoding writes what .NET's
//! `UTF7Encoding` writes without optional characters, which is what WOPI clients send.

use base64::Engine as _;

/// Why a header value is not valid UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Utf7Error {
    #[error("byte {0:#04x} is not allowed in UTF-7")]
    NonAscii(u8),
    #[error("base64 run leaves {0} non-zero padding bits")]
    Padding(u32),
    #[error("unpaired UTF-16 surrogate in a base64 run")]
    Surrogate,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn b64_value(b: u8) -> Option<u32> {
    match b {
        b'A'..=b'Z' => Some(u32::from(b - b'A')),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Decodes a UTF-7 header value into a Rust string.
pub fn decode(input: &[u8]) -> Result<String, Utf7Error> {
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b >= 0x80 {
            return Err(Utf7Error::NonAscii(b));
        }
        if b != b'+' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        i += 1;
        if input.get(i) == Some(&b'-') {
            out.push('+');
            i += 1;
            continue;
        }
        let mut bits: u32 = 0;
        let mut nbits: u32 = 0;
        let mut units: Vec<u16> = Vec::new();
        while let Some(v) = input.get(i).copied().and_then(b64_value) {
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                // Truncation keeps exactly the 16 bits just completed.
                units.push(((bits >> nbits) & 0xFFFF) as u16);
            }
            bits &= (1 << nbits) - 1;
            i += 1;
        }
        if nbits >= 6 || bits != 0 {
            return Err(Utf7Error::Padding(nbits));
        }
        for c in char::decode_utf16(units.iter().copied()) {
            out.push(c.map_err(|_| Utf7Error::Surrogate)?);
        }
        if input.get(i) == Some(&b'-') {
            i += 1;
        }
    }
    Ok(out)
}

fn is_direct(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '\'' | '(' | ')' | ',' | '-' | '.' | '/' | ':' | '?' | ' ' | '\t' | '\r' | '\n'
        )
}

/// Encodes a string as UTF-7 the way .NET's `UTF7Encoding` does (no optional direct characters).
/// Every base64 run is closed with `-`, which every decoder accepts.
pub fn encode(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    let mut run: Vec<u8> = Vec::new();
    let flush = |run: &mut Vec<u8>, out: &mut String| {
        if run.is_empty() {
            return;
        }
        out.push('+');
        out.push_str(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(&run));
        out.push('-');
        run.clear();
    };
    for c in input.chars() {
        if c == '+' && run.is_empty() {
            out.push_str("+-");
        } else if is_direct(c) {
            flush(&mut run, &mut out);
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                run.extend_from_slice(&unit.to_be_bytes());
            }
        }
    }
    flush(&mut run, &mut out);
    debug_assert!(out.bytes().all(|b| B64.contains(&b) || b.is_ascii()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        let table: &[(&str, &str)] = &[
            ("madeup+AF8-name.wopitestx", "madeup_name.wopitestx"),
            ("+AH4-", "~"),
            ("+-", "+"),
            ("a+-b", "a+b"),
            ("Hi Mom -+Jjo--!", "Hi Mom -\u{263A}-!"),
            ("+ZeVnLIqe-", "\u{65E5}\u{672C}\u{8A9E}"),
            ("plain.docx", "plain.docx"),
            ("+AF8", "_"),
            ("", ""),
        ];
        for (enc, dec) in table {
            assert_eq!(
                decode(enc.as_bytes()).as_deref(),
                Ok(*dec),
                "decoding {enc}"
            );
        }
    }

    #[test]
    fn encodes_like_dotnet() {
        assert_eq!(encode("madeup_name.wopitestx"), "madeup+AF8-name.wopitestx");
        assert_eq!(encode("~"), "+AH4-");
        assert_eq!(encode("a+b"), "a+-b");
        assert_eq!(encode("my file.docx"), "my file.docx");
    }

    #[test]
    fn rejects_invalid() {
        assert_eq!(decode(b"+AGE").as_deref(), Ok("a"));
        assert!(decode(b"+AGF-").is_err(), "non-zero padding bits");
        assert!(decode(&[b'a', 0xC3, 0xA9]).is_err());
        assert!(decode(b"+2D0-").is_err(), "lone high surrogate");
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn round_trips(s in "\\PC{0,64}") {
            let enc = encode(&s);
            prop_assert!(enc.is_ascii());
            prop_assert_eq!(decode(enc.as_bytes()), Ok(s));
        }
    }
}

//! Reference implementations the fuzz targets compare the core against. Written from the
//! documented rules (RFC 6265 and the doc comments of `sessile::cookie` / `sessile::Token`),
//! deliberately simple and independent of the core's code.

/// RFC 6265 `cookie-octet`.
pub fn is_cookie_octet(b: u8) -> bool {
    b == 0x21
        || (0x23..=0x2B).contains(&b)
        || (0x2D..=0x3A).contains(&b)
        || (0x3C..=0x5B).contains(&b)
        || (0x5D..=0x7E).contains(&b)
}

/// RFC 2616 `token` (what an RFC 6265 cookie name must be), at most 64 bytes.
pub fn is_cookie_name(s: &[u8]) -> bool {
    const SEPARATORS: &[u8] = b"()<>@,;:\\\"/[]?={} \t";
    !s.is_empty()
        && s.len() <= sessile::cookie::MAX_NAME
        && s.iter()
            .all(|b| (0x21..=0x7E).contains(b) && !SEPARATORS.contains(b))
}

/// What `parse_cookie` must answer, per its documentation.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    TooLong,
    Duplicate,
    Found(Vec<u8>),
    Absent,
}

/// Cookie header lookup, per `sessile::cookie::parse_cookie`'s documented rules.
pub fn parse_cookie_ref(header: &[u8], name: &[u8]) -> Parsed {
    if header.len() > sessile::cookie::MAX_COOKIE_HEADER {
        return Parsed::TooLong;
    }
    if !is_cookie_name(name) {
        return Parsed::Absent;
    }
    let trim = |s: &[u8]| -> Vec<u8> {
        let s: Vec<u8> = s.to_vec();
        let start = s.iter().position(|&b| b != b' ' && b != b'\t');
        let Some(start) = start else {
            return Vec::new();
        };
        let end = s
            .iter()
            .rposition(|&b| b != b' ' && b != b'\t')
            .unwrap_or(start);
        s[start..=end].to_vec()
    };
    let mut found: Option<Vec<u8>> = None;
    for pair in header.split(|&b| b == b';') {
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            continue;
        };
        if trim(&pair[..eq]) != name {
            continue;
        }
        let mut value = trim(&pair[eq + 1..]);
        if value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"' {
            value = value[1..value.len() - 1].to_vec();
        }
        if !value.iter().all(|&b| is_cookie_octet(b)) {
            continue;
        }
        match &found {
            None => found = Some(value),
            Some(prev) if *prev == value => {}
            Some(_) => return Parsed::Duplicate,
        }
    }
    found.map_or(Parsed::Absent, Parsed::Found)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Whether `text` is the one canonical base64url spelling (no padding) of `n` bytes:
/// the only spellings an engine with `token_bytes = n` may call anything but `Malformed`.
pub fn is_canonical_token(text: &[u8], n: usize) -> bool {
    if text.len() != (n * 4).div_ceil(3) || !text.iter().all(|c| ALPHABET.contains(c)) {
        return false;
    }
    let last = ALPHABET
        .iter()
        .position(|&c| c == text[text.len() - 1])
        .unwrap_or(0);
    match n % 3 {
        1 => last & 0b1111 == 0,
        2 => last & 0b11 == 0,
        _ => true,
    }
}

//! Link codes: 8 symbols of Crockford base32 (40 random bits), shown as
//! `XXXX-XXXX`, read back forgivingly (any case, with or without the dash
//! or spaces, `O` as `0`, `I` and `L` as `1`). A code is single use and
//! short-lived; the store keeps only its hash.

use std::time::Duration;

use super::secrets;

/// Crockford's base32 alphabet: no I, L, O or U.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// How long a code from `link` lasts.
pub const LINK_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a code from `chat-server user add|link` lasts.
pub const OPERATOR_TTL: Duration = Duration::from_secs(24 * 3600);

/// A new code, as shown: `XXXX-XXXX`.
pub fn new_code() -> String {
    let bytes = secrets::random_bytes::<5>();
    let bits = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let symbols: String = (0..8)
        .rev()
        .map(|i| ALPHABET[((bits >> (i * 5)) & 31) as usize] as char)
        .collect();
    format!("{}-{}", &symbols[..4], &symbols[4..])
}

/// The 8 symbols a person typed, in canonical form, or `None` if it is not
/// a code at all.
pub fn canonical(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(8);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            '-' | ' ' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !ALPHABET.contains(&(c as u8)) || out.len() == 8 {
            return None;
        }
        out.push(c);
    }
    (out.len() == 8).then_some(out)
}

/// What the store keeps of a code: the hash of its canonical form.
pub fn hash(canonical: &str) -> String {
    secrets::hash(&format!("link:{canonical}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_look_right_and_read_back_forgivingly() {
        let code = new_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        let canon = canonical(&code).expect("a code reads back");
        assert_eq!(canon, code.replace('-', ""));
        assert_eq!(canonical("k7q2-m9xd").as_deref(), Some("K7Q2M9XD"));
        assert_eq!(canonical("K7Q2 M9XD").as_deref(), Some("K7Q2M9XD"));
        assert_eq!(canonical("OIL0-0000").as_deref(), Some("01100000"));
        assert_eq!(canonical("K7Q2-M9X"), None);
        assert_eq!(canonical("K7Q2-M9XDD"), None);
        assert_eq!(canonical("K7Q2-M9XU"), None, "U is not a symbol");
        assert_eq!(canonical("K7Q2-M9XÉ"), None);
        assert_ne!(new_code(), code);
        assert_eq!(hash("K7Q2M9XD"), hash(&canonical("k7q2m9xd").unwrap()));
    }
}

//! The secrets and ids of identities: credentials (256 random bits,
//! base64url, kept server-side only as SHA-256), and the random ids of
//! identities (`u_...`) and devices (`d_...`).

use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};

/// Random bytes from the operating system. Failing to get them is not
/// something to go on from: no secret may be made without them.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random number generator works");
    bytes
}

/// A new credential: 256 random bits, base64url without padding (43
/// characters).
pub fn new_credential() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// What the store keeps of a secret (a credential or a link code): its
/// SHA-256, in hex. A leaked store gives nobody a way in.
pub fn hash(secret: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, secret.as_bytes());
    hex(digest.as_ref())
}

/// A new identity id: `u_` and 16 hex digits.
pub fn new_user_id() -> String {
    format!("u_{}", hex(&random_bytes::<8>()))
}

/// A new device id: `d_` and 16 hex digits.
pub fn new_device_id() -> String {
    format!("d_{}", hex(&random_bytes::<8>()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_long_random_and_hashed() {
        let (a, b) = (new_credential(), new_credential());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(hash(&a).len(), 64);
        assert_ne!(hash(&a), hash(&b));
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn ids_have_their_prefix_and_width() {
        let (u, d) = (new_user_id(), new_device_id());
        assert!(u.starts_with("u_") && u.len() == 18, "{u}");
        assert!(d.starts_with("d_") && d.len() == 18, "{d}");
        assert_ne!(new_user_id(), u);
    }
}

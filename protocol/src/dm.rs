//! Direct-message conversations: a log like a room's, named by the key
//! `@<uid1>+<uid2>` with the two identity ids sorted, so both people (and
//! every frame about it) use the same key.
//!
//! A client finds the peer as the id in the key that is not its own
//! ([`peer`]).

/// The first character of every direct-message key. Room names cannot
/// contain it, so a key never names a room.
pub const PREFIX: char = '@';

/// The key of the conversation between identities `a` and `b` (either
/// order): `@` + the smaller id + `+` + the larger one.
pub fn key(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("{PREFIX}{lo}+{hi}")
}

/// True when `room` is meant as a direct-message key (starts with `@`),
/// well-formed or not.
pub fn is_dm(room: &str) -> bool {
    room.starts_with(PREFIX)
}

/// The two identity ids of a well-formed key, in key order. `None` when the
/// key is malformed: not two distinct identity ids ([`is_user_id`]), sorted.
pub fn parse_key(room: &str) -> Option<(&str, &str)> {
    let rest = room.strip_prefix(PREFIX)?;
    let (a, b) = rest.split_once('+')?;
    (is_user_id(a) && is_user_id(b) && a < b).then_some((a, b))
}

/// The other participant of the conversation `room` as seen by `me`, or
/// `None` when `me` is not one of its two identities (or the key is
/// malformed).
pub fn peer<'a>(room: &'a str, me: &str) -> Option<&'a str> {
    let (a, b) = parse_key(room)?;
    if a == me {
        Some(b)
    } else if b == me {
        Some(a)
    } else {
        None
    }
}

/// True for an identity id as the server issues them: `u_` and 16
/// lower-case hex digits.
pub fn is_user_id(id: &str) -> bool {
    id.strip_prefix("u_").is_some_and(|hex| {
        hex.len() == 16
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANN: &str = "u_3f9a1c0e5b7d2468";
    const BOB: &str = "u_9e04b7f3d1681c2a";

    #[test]
    fn the_key_is_the_same_from_both_sides() {
        let k = key(BOB, ANN);
        assert_eq!(k, format!("@{ANN}+{BOB}"));
        assert_eq!(k, key(ANN, BOB));
        assert_eq!(parse_key(&k), Some((ANN, BOB)));
        assert_eq!(peer(&k, ANN), Some(BOB));
        assert_eq!(peer(&k, BOB), Some(ANN));
        assert_eq!(peer(&k, "u_0000000000000000"), None);
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "dev".to_string(),
            format!("@{BOB}+{ANN}"),
            format!("@{ANN}+{ANN}"),
            format!("@{ANN}"),
            format!("@{ANN}+u_XYZ"),
            format!("@{ANN}+{BOB}+{BOB}"),
            format!("{ANN}+{BOB}"),
        ] {
            assert_eq!(parse_key(&bad), None, "{bad}");
        }
        assert!(crate::validate::conversation(&key(ANN, BOB)).is_ok());
        assert!(crate::validate::conversation("@nope").is_err());
        assert!(crate::validate::conversation("dev").is_ok());
    }
}

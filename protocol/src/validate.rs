//! Validation of everything a user can type, shared by server and clients.
//!
//! The server runs these on every request; clients may run them first to
//! refuse bad input without a round trip. Both get the same
//! [`ValidationError`] and therefore the same wording.

use crate::error::ValidationError;
use crate::limits::{
    MAX_AWAY_CHARS, MAX_NAME_CHARS, MAX_REQUEST_ID_CHARS, MAX_ROOM_CHARS, MAX_TEXT_CHARS,
    MAX_TOPIC_CHARS,
};

/// Checks a display name and returns it trimmed.
///
/// A name is 1 to [`MAX_NAME_CHARS`] characters after trimming white space,
/// with no control characters and no invisible or bidirectional-override
/// characters (see [`is_invisible_or_control`]) and none of the characters
/// [`crate::names::is_refused`] refuses (default-ignorable, format,
/// unassigned, private-use, U+2800), and not made only of combining marks,
/// so that two names that look alike on screen cannot differ only by
/// something nobody can see, and no name can reorder the text around it.
/// The server also puts names in NFC first ([`crate::names::normalize`]).
pub fn display_name(raw: &str) -> Result<&str, ValidationError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(ValidationError::NameEmpty);
    }
    let count = name.chars().count();
    if count > MAX_NAME_CHARS {
        return Err(ValidationError::NameTooLong {
            max: MAX_NAME_CHARS,
            got: count,
        });
    }
    if let Some(c) = name
        .chars()
        .find(|&c| is_invisible_or_control(c) || crate::names::is_refused(c))
    {
        return Err(ValidationError::NameForbiddenChar(c as u32));
    }
    if crate::names::only_marks(name) {
        return Err(ValidationError::NameOnlyMarks);
    }
    Ok(name)
}

/// The key under which names are compared for uniqueness:
/// [`crate::names::name_key`].
pub fn name_key(name: &str) -> String {
    crate::names::name_key(name)
}

/// Checks a room name: 1 to [`MAX_ROOM_CHARS`] characters, each a lower-case
/// ASCII letter, a digit, `-` or `_`. Room names are not normalised by the
/// server; clients may use [`normalize_room`] on what a user typed first.
pub fn room_name(raw: &str) -> Result<&str, ValidationError> {
    if raw.is_empty() {
        return Err(ValidationError::RoomEmpty);
    }
    let count = raw.chars().count();
    if count > MAX_ROOM_CHARS {
        return Err(ValidationError::RoomTooLong {
            max: MAX_ROOM_CHARS,
            got: count,
        });
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return Err(ValidationError::RoomForbiddenChar(c));
    }
    Ok(raw)
}

/// What a user typed as a room ("#Dev ", "dev") turned into what the wire
/// expects ("dev"): trimmed, one leading `#` removed, lower-cased. The result
/// still has to pass [`room_name`].
pub fn normalize_room(typed: &str) -> String {
    let t = typed.trim();
    let t = t.strip_prefix('#').unwrap_or(t);
    t.to_lowercase()
}

/// Checks message text: not empty or only white space, at most
/// [`MAX_TEXT_CHARS`] characters. The text is otherwise passed on as sent:
/// clients must treat it as untrusted and display it as plain text.
pub fn message_text(text: &str) -> Result<(), ValidationError> {
    if text.trim().is_empty() {
        return Err(ValidationError::TextEmpty);
    }
    // Cheap upper bound first: a string of at most MAX bytes has at most MAX chars.
    if text.len() > MAX_TEXT_CHARS {
        let count = text.chars().count();
        if count > MAX_TEXT_CHARS {
            return Err(ValidationError::TextTooLong {
                max: MAX_TEXT_CHARS,
                got: count,
            });
        }
    }
    Ok(())
}

/// Checks a shared location: latitude in -90..=90, longitude in -180..=180,
/// both finite.
pub fn location(latitude: f64, longitude: f64) -> Result<(), ValidationError> {
    if !(latitude.is_finite() && (-90.0..=90.0).contains(&latitude)) {
        return Err(ValidationError::LatitudeOutOfRange(latitude));
    }
    if !(longitude.is_finite() && (-180.0..=180.0).contains(&longitude)) {
        return Err(ValidationError::LongitudeOutOfRange(longitude));
    }
    Ok(())
}

/// Checks a room topic and returns it trimmed: at most [`MAX_TOPIC_CHARS`]
/// characters, none of them control or invisible
/// ([`is_invisible_or_control`], so no line breaks). An empty topic is
/// valid: it clears the room's topic.
pub fn topic(raw: &str) -> Result<&str, ValidationError> {
    let topic = raw.trim();
    let count = topic.chars().count();
    if count > MAX_TOPIC_CHARS {
        return Err(ValidationError::TopicTooLong {
            max: MAX_TOPIC_CHARS,
            got: count,
        });
    }
    match topic.chars().find(|&c| is_invisible_or_control(c)) {
        Some(c) => Err(ValidationError::TopicForbiddenChar(c as u32)),
        None => Ok(topic),
    }
}

/// Checks an away reason and returns it trimmed, by the same rules as
/// [`topic`] with [`MAX_AWAY_CHARS`]. An empty reason is valid (away
/// without saying why).
pub fn away_reason(raw: &str) -> Result<&str, ValidationError> {
    let reason = raw.trim();
    let count = reason.chars().count();
    if count > MAX_AWAY_CHARS {
        return Err(ValidationError::ReasonTooLong {
            max: MAX_AWAY_CHARS,
            got: count,
        });
    }
    match reason.chars().find(|&c| is_invisible_or_control(c)) {
        Some(c) => Err(ValidationError::ReasonForbiddenChar(c as u32)),
        None => Ok(reason),
    }
}

/// Checks a moderation reason (kick, ban, mute) and returns it trimmed, by
/// the rules of [`away_reason`] (empty: no reason).
pub fn mod_reason(raw: &str) -> Result<&str, ValidationError> {
    away_reason(raw)
}

/// Checks what a request names as a room: a room name ([`room_name`]) or a
/// direct-message key ([`crate::dm::parse_key`]). A malformed key is
/// refused like a bad room name (`invalid_room`).
pub fn conversation(raw: &str) -> Result<&str, ValidationError> {
    if raw.starts_with(crate::dm::PREFIX) {
        return match crate::dm::parse_key(raw) {
            Some(_) => Ok(raw),
            None => Err(ValidationError::RoomForbiddenChar(crate::dm::PREFIX)),
        };
    }
    room_name(raw)
}

/// Checks a client-chosen request id: 1 to [`MAX_REQUEST_ID_CHARS`]
/// characters, none of them control or invisible.
pub fn request_id(id: &str) -> Result<(), ValidationError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_CHARS * 4
        && id.chars().count() <= MAX_REQUEST_ID_CHARS
        && !id.chars().any(is_invisible_or_control);
    if ok {
        Ok(())
    } else {
        Err(ValidationError::BadRequestId {
            max: MAX_REQUEST_ID_CHARS,
        })
    }
}

/// True for characters that must never appear in a name: C0 and C1
/// controls, and the format characters that are invisible or change the
/// direction of surrounding text (zero-width spaces and joiners, bidi
/// embeddings, overrides and isolates, the byte-order mark, soft hyphen,
/// filler characters, tag characters, and the line and paragraph
/// separators).
pub fn is_invisible_or_control(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{001F}'
        | '\u{007F}'..='\u{009F}'
        | '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}' | '\u{1160}'
        | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// True for the characters that change text direction (bidi embeddings,
/// overrides, isolates and marks). Clients strip these from message text
/// before drawing it, so a message cannot reorder what follows it.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(display_name("  ann  "), Ok("ann"));
        assert_eq!(display_name("   "), Err(ValidationError::NameEmpty));
        assert_eq!(display_name(&"a".repeat(32)).map(str::len), Ok(32));
        assert_eq!(
            display_name(&"é".repeat(33)),
            Err(ValidationError::NameTooLong { max: 32, got: 33 })
        );
        // 32 multi-byte characters are fine: the limit counts characters.
        assert!(display_name(&"日".repeat(32)).is_ok());
    }

    #[test]
    fn names_refuse_invisible_and_bidi_characters() {
        for bad in [
            "a\u{0007}b",
            "a\u{202E}b",
            "a\u{200B}b",
            "\u{FEFF}ann",
            "a\u{2066}b",
            "a\nb",
        ] {
            let err = display_name(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidName, "{bad:?}");
        }
        assert!(display_name("Zoë 🦀").is_ok());
    }

    #[test]
    fn rooms_are_lowercase_ascii() {
        assert_eq!(room_name("dev-ops_2"), Ok("dev-ops_2"));
        assert_eq!(room_name(""), Err(ValidationError::RoomEmpty));
        assert_eq!(
            room_name("Dev"),
            Err(ValidationError::RoomForbiddenChar('D'))
        );
        assert_eq!(
            room_name("a b"),
            Err(ValidationError::RoomForbiddenChar(' '))
        );
        assert!(matches!(
            room_name(&"r".repeat(33)),
            Err(ValidationError::RoomTooLong { max: 32, got: 33 })
        ));
        assert_eq!(normalize_room(" #Dev "), "dev");
    }

    #[test]
    fn text_is_non_empty_and_bounded() {
        assert_eq!(message_text(" \n "), Err(ValidationError::TextEmpty));
        assert!(message_text(&"x".repeat(4000)).is_ok());
        assert!(message_text(&"日".repeat(4000)).is_ok());
        assert_eq!(
            message_text(&"x".repeat(4001)),
            Err(ValidationError::TextTooLong {
                max: 4000,
                got: 4001
            })
        );
    }

    #[test]
    fn locations_are_in_range() {
        assert!(location(51.5, -0.12).is_ok());
        assert!(location(90.0, 180.0).is_ok());
        assert_eq!(
            location(90.5, 0.0).unwrap_err().code(),
            ErrorCode::InvalidLocation
        );
        assert_eq!(
            location(0.0, -180.5).unwrap_err().code(),
            ErrorCode::InvalidLocation
        );
        assert!(location(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn request_ids() {
        assert!(request_id("m-1").is_ok());
        assert!(request_id("").is_err());
        assert!(request_id(&"i".repeat(65)).is_err());
        assert!(request_id("a\u{0000}").is_err());
    }
}

//! Names that cannot be confused: what a name may contain, the form it is
//! kept in, and the key under which two names count as the same name.
//!
//! A name belongs to one identity on the whole server. So that nobody can
//! pass for someone else with a name that merely looks the same:
//!
//! 1. [`normalize`] puts the name in Unicode NFC (so a decomposed `josé`
//!    is the composed `josé`) and trims it, then checks it like
//!    [`crate::validate::display_name`]: besides control and invisible
//!    characters, [`is_refused`] refuses default-ignorable code points,
//!    format characters, variation selectors, U+2800 BRAILLE PATTERN BLANK,
//!    unassigned and private-use code points; a name made only of
//!    combining marks is refused too.
//! 2. [`name_key`] is the UTS #39 confusable *skeleton* of the lower-cased
//!    name, lower-cased again: `ann`, `Ann`, Cyrillic `аnn`, fullwidth
//!    `ａｎｎ` and mathematical `𝐚𝐧𝐧` all have the key `ann`. Uniqueness is
//!    by key.
//!
//! The cases in `protocol/vectors/names.json` replay these rules for
//! clients in other languages.

use unicode_normalization::UnicodeNormalization;

use crate::error::ValidationError;

/// The name as it is kept and shown: NFC, trimmed, checked. Errors are
/// those of [`crate::validate::display_name`].
pub fn normalize(raw: &str) -> Result<String, ValidationError> {
    let nfc: String = raw.nfc().collect();
    crate::validate::display_name(&nfc).map(str::to_owned)
}

/// The key under which names are compared: two names with one key are
/// one name. `name` should be [`normalize`]d first.
pub fn name_key(name: &str) -> String {
    let folded: String = name.nfc().collect::<String>().to_lowercase();
    unicode_security::skeleton(&folded)
        .collect::<String>()
        .to_lowercase()
}

/// True for characters no name may contain beyond the control and
/// invisible ones of [`crate::validate::is_invisible_or_control`]:
/// default-ignorable code points (variation selectors included), format
/// characters (such as U+0600 ARABIC NUMBER SIGN), U+2800 BRAILLE PATTERN
/// BLANK, and unassigned, private-use and noncharacter code points.
pub fn is_refused(c: char) -> bool {
    is_default_ignorable(c)
        || is_format(c)
        || c == '\u{2800}'
        || !unicode_normalization::char::is_public_assigned(c)
}

/// True if every character of `name` is a combining mark (a name made of
/// marks alone draws as nothing, or on top of what comes before it).
pub fn only_marks(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(unicode_normalization::char::is_combining_mark)
}

/// Unicode's `Default_Ignorable_Code_Point` property: characters drawn as
/// nothing when a font has no glyph for them.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{034F}'
        | '\u{061C}'
        | '\u{115F}'..='\u{1160}'
        | '\u{17B4}'..='\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FEFF}'
        | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFF8}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// General category `Cf` (format): characters that change how others are
/// drawn, or are drawn as a mark on what follows (U+0600-U+0605).
pub fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}'
        | '\u{0600}'..='\u{0605}'
        | '\u{061C}'
        | '\u{06DD}'
        | '\u{070F}'
        | '\u{0890}'..='\u{0891}'
        | '\u{08E2}'
        | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}'
        | '\u{FEFF}'
        | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}'
        | '\u{110CD}'
        | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0001}'
        | '\u{E0020}'..='\u{E007F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn look_alikes_share_a_key() {
        for alike in ["ann", "Ann", "ANN", "\u{0430}nn", "ａｎｎ", "𝐚𝐧𝐧", " ann "] {
            let name = normalize(alike).expect(alike);
            assert_eq!(name_key(&name), "ann", "{alike:?}");
        }
        assert_eq!(
            name_key(&normalize("jose\u{0301}").unwrap()),
            name_key(&normalize("jos\u{00E9}").unwrap())
        );
        assert_ne!(name_key("ann"), name_key("anne"));
    }

    #[test]
    fn invisible_additions_are_refused() {
        for bad in [
            "ann\u{FE0F}",
            "ann\u{FE00}",
            "ann\u{2800}",
            "ann\u{1BCA0}",
            "ann\u{0600}",
            "ann\u{E0100}",
            "ann\u{E000}",
            "ann\u{0378}",
            "\u{0301}\u{0301}",
        ] {
            let err = normalize(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidName, "{bad:?}");
        }
    }

    #[test]
    fn normal_names_pass_in_nfc() {
        assert_eq!(normalize("jose\u{0301}").unwrap(), "jos\u{00E9}");
        assert_eq!(normalize("Zoë 🦀").unwrap(), "Zoë 🦀");
        assert_eq!(normalize("李小龍").unwrap(), "李小龍");
    }
}

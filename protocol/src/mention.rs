//! When a message mentions someone, and where.
//!
//! Every client highlights the reader's name in other people's messages and
//! counts such a message as a mention (a terminal rings its bell, the page
//! marks the room). One rule, here, so that a line that mentions you in one
//! client mentions you in every other: the name as a whole word, ignoring
//! case, with an `@` right before it counted as part of the mention.
//! `vectors/mention.json` holds cases written from this module for clients
//! in other languages.

use std::ops::Range;

/// True for characters that continue a word. A name inside a longer word is
/// not a mention: "ann" is not mentioned in "annabel", "joanne", "ann_b" or
/// "ann-marie" (names often contain `-` and `_`).
pub fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Byte ranges of `text` where `name` is mentioned, in order and without
/// overlap.
///
/// A mention is `name` as a whole word (neither the character before nor the
/// one after is a [word character](is_word_char)), compared ignoring case:
/// each character is lower-cased on its own (Unicode's full lower-case
/// mapping, without context), which every client language can do the same
/// way. An `@` right before the name belongs to the mention, so `@ann` is
/// highlighted as a whole. An empty name is never mentioned.
pub fn mention_ranges(text: &str, name: &str) -> Vec<Range<usize>> {
    let needle: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !is_word_char(chars[i - 1].1);
        match starts_word
            .then(|| match_len(&chars[i..], &needle))
            .flatten()
        {
            Some(len) if chars.get(i + len).is_none_or(|&(_, c)| !is_word_char(c)) => {
                let start = if i > 0 && chars[i - 1].1 == '@' {
                    chars[i - 1].0
                } else {
                    chars[i].0
                };
                let end = chars.get(i + len).map_or(text.len(), |&(at, _)| at);
                found.push(start..end);
                i += len;
            }
            _ => i += 1,
        }
    }
    found
}

/// True when `text` mentions `name` at least once (see [`mention_ranges`]).
pub fn mentions(text: &str, name: &str) -> bool {
    !mention_ranges(text, name).is_empty()
}

/// How many characters at the start of `chars` spell `needle` once each is
/// lower-cased, if they do.
fn match_len(chars: &[(usize, char)], needle: &[char]) -> Option<usize> {
    let mut matched = 0;
    for (taken, &(_, c)) in chars.iter().enumerate() {
        if matched == needle.len() {
            return Some(taken);
        }
        let rest = &needle[matched..];
        let mut lower = c.to_lowercase();
        let len = lower.len();
        if len > rest.len() || !lower.by_ref().eq(rest[..len].iter().copied()) {
            return None;
        }
        matched += len;
    }
    (matched == needle.len()).then_some(chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marked<'t>(text: &'t str, name: &str) -> Vec<&'t str> {
        mention_ranges(text, name)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn whole_words_ignoring_case() {
        assert_eq!(marked("hi Ann!", "ann"), ["Ann"]);
        assert_eq!(marked("ann: look, ANN", "ann"), ["ann", "ANN"]);
        assert_eq!(marked("hé zoë", "Zoë"), ["zoë"]);
        assert_eq!(
            mention_ranges("hé zoë ann", "Zoë"),
            vec![Range { start: 4, end: 8 }]
        );
    }

    #[test]
    fn a_name_inside_a_longer_word_is_not_a_mention() {
        for text in [
            "annabel",
            "joanne",
            "ann_b",
            "ann-marie",
            "jo-ann",
            "2ann",
            "ann2",
        ] {
            assert!(!mentions(text, "ann"), "{text}");
        }
        assert!(mentions("(ann)", "ann"));
        assert!(mentions("ann.", "ann"));
    }

    #[test]
    fn an_at_sign_belongs_to_the_mention() {
        assert_eq!(marked("fine thanks @ann", "ann"), ["@ann"]);
        assert_eq!(marked("bob@ann", "ann"), ["@ann"]);
        assert_eq!(marked("@@ann", "ann"), ["@ann"]);
    }

    #[test]
    fn names_with_symbols_and_other_scripts() {
        assert_eq!(marked("ping [b0t] now", "[b0t]"), ["[b0t]"]);
        assert_eq!(marked("ΣΟΦΙΑ and σοφια", "Σοφία"), Vec::<&str>::new());
        assert_eq!(marked("ΣΟΦΊΑ!", "σοφία"), ["ΣΟΦΊΑ"]);
        assert_eq!(marked("日本 さん", "さん"), ["さん"]);
        // "İ" lower-cases to two characters, "i" and a combining dot.
        assert_eq!(marked("İi", "i\u{307}i"), ["İi"]);
        assert!(!mentions("I", "i\u{307}"));
    }

    #[test]
    fn nothing_for_an_empty_name_or_text() {
        assert!(mention_ranges("anything", "").is_empty());
        assert!(mention_ranges("", "ann").is_empty());
        assert!(!mentions("an", "ann"));
    }
}

//! The content filter: `--content-filter off|profanity|FILE` for the whole
//! server, and each room's `filter` mode (`server`, `off`, `profanity`).
//!
//! `profanity` is the `rustrict` crate's judgement (profane, offensive,
//! sexual or mean, at moderate severity or above; it sees through
//! look-alike characters, repeated letters, separators and leet spelling,
//! and leaves words such as "Scunthorpe" alone). A FILE is a word list,
//! one word a line, `#` starting a comment: a text is refused when one of
//! its words is on the list, compared whole, ignoring case, after the same
//! normalisation on both sides (leet digits and symbols read as letters,
//! repeated letters as one, letters written apart as one word).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use protocol::moderation::FilterMode;
use rustrict::{Censor, Type};

/// The server-wide default.
#[derive(Debug, Clone, Default)]
pub enum ServerFilter {
    #[default]
    Off,
    Profanity,
    Words(Arc<WordList>),
}

/// What `--content-filter` names: `off`, `profanity` or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterSetting {
    Off,
    Profanity,
    File(PathBuf),
}

impl FromStr for FilterSetting {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "off" => FilterSetting::Off,
            "profanity" => FilterSetting::Profanity,
            path => FilterSetting::File(PathBuf::from(path)),
        })
    }
}

impl std::fmt::Display for FilterSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterSetting::Off => f.write_str("off"),
            FilterSetting::Profanity => f.write_str("profanity"),
            FilterSetting::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl FilterSetting {
    /// The filter it names (reading the word list of a file).
    pub fn load(&self) -> std::io::Result<ServerFilter> {
        Ok(match self {
            FilterSetting::Off => ServerFilter::Off,
            FilterSetting::Profanity => ServerFilter::Profanity,
            FilterSetting::File(path) => ServerFilter::Words(Arc::new(WordList::read(path)?)),
        })
    }
}

impl ServerFilter {
    /// Whether `text` is refused in a room whose filter mode is `mode`.
    pub fn blocks(&self, mode: FilterMode, text: &str) -> bool {
        match (mode, self) {
            (FilterMode::Off, _) | (FilterMode::Server, ServerFilter::Off) => false,
            (FilterMode::Profanity, _) | (FilterMode::Server, ServerFilter::Profanity) => {
                profane(text)
            }
            (FilterMode::Server, ServerFilter::Words(list)) => list.matches(text),
        }
    }
}

/// `rustrict`'s verdict.
pub fn profane(text: &str) -> bool {
    Censor::from_str(text)
        .analyze()
        .is(Type::INAPPROPRIATE & Type::MODERATE_OR_HIGHER)
}

/// Refused words, normalised.
#[derive(Debug, Clone, Default)]
pub struct WordList {
    words: HashSet<String>,
}

impl WordList {
    /// Reads a list: one word a line, `#` starts a comment, blank lines
    /// are skipped.
    pub fn read(path: &Path) -> std::io::Result<WordList> {
        let text = std::fs::read_to_string(path)?;
        Ok(WordList::parse(&text))
    }

    pub fn parse(text: &str) -> WordList {
        let words = text
            .lines()
            .map(|line| line.split('#').next().unwrap_or("").trim())
            .filter(|w| !w.is_empty())
            .map(normalize)
            .filter(|w| !w.is_empty())
            .collect();
        WordList { words }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Whether a word of `text` (or letters written apart, `f u c k`,
    /// `s.h.i.t`) is on the list.
    pub fn matches(&self, text: &str) -> bool {
        let tokens: Vec<String> = text
            .split(|c: char| !is_word_char(c))
            // Punctuation at either end is not leet: "turnip!", "@ann".
            .map(|t| t.trim_matches(|c| matches!(c, '!' | '|' | '*' | '@')))
            .filter(|t| !t.is_empty())
            .map(normalize)
            .collect();
        if tokens.iter().any(|t| self.words.contains(t)) {
            return true;
        }
        // Runs of single letters, read as one word.
        let mut run = String::new();
        for t in tokens.iter().chain(std::iter::once(&String::new())) {
            if t.chars().count() == 1 {
                run.push_str(t);
                continue;
            }
            if run.chars().count() > 1 && self.words.contains(&collapse(&run)) {
                return true;
            }
            run.clear();
        }
        false
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '@' | '$' | '!' | '|' | '*')
}

/// Lower case, leet read as letters, repeated letters as one.
fn normalize(word: &str) -> String {
    let read: String = word
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' | '|' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '8' => 'b',
            c => c,
        })
        .filter(|&c| c != '*')
        .collect();
    collapse(&read)
}

fn collapse(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    for c in word.chars() {
        if Some(c) != last {
            out.push(c);
        }
        last = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profanity_catches_the_course_case_and_obfuscations_but_not_scunthorpe() {
        for text in [
            "damn shitty fucking",
            "f u c k you",
            "fuuuuck",
            "sh1t",
            "s.h.i.t",
        ] {
            assert!(profane(text), "{text}");
        }
        for text in ["Scunthorpe", "hello there", "class assignment", "damn"] {
            assert!(!profane(text), "{text}");
        }
    }

    #[test]
    fn a_word_list_matches_whole_words_with_obfuscations() {
        let list = WordList::parse("# refused\nturnip\nKale  # greens\n\n");
        assert_eq!(list.len(), 2);
        for text in [
            "I like TURNIP",
            "tuuurnip!",
            "t u r n i p",
            "k.a.l.e",
            "7urn1p",
            "k@le",
            "@kale",
        ] {
            assert!(list.matches(text), "{text}");
        }
        for text in ["turnips", "kalework", "scunthorpe", "a b c"] {
            assert!(!list.matches(text), "{text}");
        }
        let filter = ServerFilter::Words(Arc::new(list));
        assert!(filter.blocks(FilterMode::Server, "turnip"));
        assert!(!filter.blocks(FilterMode::Off, "turnip"));
        assert!(filter.blocks(FilterMode::Profanity, "fuck"));
        assert!(!filter.blocks(FilterMode::Profanity, "turnip"));
    }
}

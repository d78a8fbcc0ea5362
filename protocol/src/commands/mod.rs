//! The slash commands both clients accept, and how a typed line is read.
//!
//! One table ([`COMMANDS`]) for chat-tui and the page: names, aliases,
//! usage, one-line help and which client offers each command. [`parse`]
//! turns a line into plain text, a command with its arguments, or an error.
//! The page loads the table from `web/commands.json` and replays the cases
//! of `protocol/vectors/commands.json`, both generated from this module by
//! `protocol/tests/commands.rs`, so neither client keeps a copy of its own.
//!
//! Rules of [`parse`]:
//! - a line not starting with `/` is text, as typed;
//! - a line starting with `//` is text with one `/` removed;
//! - otherwise the command's name runs to the first separator (space, tab,
//!   line feed or carriage return: [`is_separator`]) and is matched against
//!   names and aliases ignoring ASCII case;
//! - arguments are read by the command's [`Args`] shape: words are split at
//!   separators, the rest of a line is kept as typed with separators
//!   trimmed from both ends (inner line breaks stay).
//!
//! Checking argument values (room names, coordinates, names) is left to
//! [`crate::validate`], so the same wording explains them.

use serde::Serialize;

/// Which client offers a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// chat-tui.
    Tui,
    /// The browser page.
    Web,
}

/// How a command's arguments are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Args {
    /// No argument; anything after the name is `too_many_arguments`.
    None,
    /// Exactly one word.
    Word,
    /// At most one word.
    OptionalWord,
    /// The rest of the line, not empty.
    Text,
    /// The rest of the line, possibly empty (then no argument).
    OptionalText,
    /// One word, then the rest of the line (not empty).
    WordText,
    /// One word, then the rest of the line if any (two arguments, or one):
    /// `/kick bob`, `/kick bob spamming links`.
    WordOptionalText,
    /// Nothing, or two words (separated by separators and/or one comma):
    /// `/location 51.5 -0.12`, `/location 51.5,-0.12`.
    OptionalPair,
}

/// One command as both clients know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Command {
    pub name: &'static str,
    /// Other names that do the same.
    pub aliases: &'static [&'static str],
    pub usage: &'static str,
    pub help: &'static str,
    pub args: Args,
    pub clients: &'static [Client],
}

mod table;

pub use table::COMMANDS;

/// The command called `typed` (by name or alias, ASCII case ignored; a
/// leading `/` is allowed, as in `/help /msg`).
pub fn find(typed: &str) -> Option<&'static Command> {
    let typed = typed
        .strip_prefix('/')
        .unwrap_or(typed)
        .to_ascii_lowercase();
    COMMANDS
        .iter()
        .find(|c| c.name == typed || c.aliases.contains(&typed.as_str()))
}

/// What a line of input means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// Text to send as typed (for `//`, with one slash removed).
    Text(String),
    /// A known command and its arguments (optional ones only when given).
    Command {
        command: &'static Command,
        args: Vec<String>,
    },
    /// Not a command both clients could run.
    Error(ParseError),
}

/// Why a line starting with `/` is not a command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("unknown command /{name}{}; /help lists the commands, // sends a line starting with /", suggestion.map(|s| format!(" (did you mean /{s}?)")).unwrap_or_default())]
    Unknown {
        name: String,
        /// The closest command name, if one is close ([`suggest`]).
        suggestion: Option<&'static str>,
    },
    #[error("usage: {}", command.usage)]
    MissingArgument { command: &'static Command },
    #[error("usage: {}", command.usage)]
    TooManyArguments { command: &'static Command },
}

impl ParseError {
    /// The wire-independent code used in the vectors: `unknown`,
    /// `missing_argument` or `too_many_arguments`.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Unknown { .. } => "unknown",
            ParseError::MissingArgument { .. } => "missing_argument",
            ParseError::TooManyArguments { .. } => "too_many_arguments",
        }
    }
}

/// The characters that separate a command from its arguments and words
/// from each other: space, tab, line feed, carriage return.
pub fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Reads one line of input.
pub fn parse(line: &str) -> Parsed {
    let Some(rest) = line.strip_prefix('/') else {
        return Parsed::Text(line.to_string());
    };
    if rest.starts_with('/') {
        return Parsed::Text(rest.to_string());
    }
    let (name, after) = match rest.find(is_separator) {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let Some(command) = find(name) else {
        return Parsed::Error(ParseError::Unknown {
            name: name.chars().take(32).collect(),
            suggestion: suggest(name),
        });
    };
    match read_args(command.args, after.trim_matches(is_separator)) {
        Ok(args) => Parsed::Command { command, args },
        Err(Shortfall::Missing) => Parsed::Error(ParseError::MissingArgument { command }),
        Err(Shortfall::Extra) => Parsed::Error(ParseError::TooManyArguments { command }),
    }
}

enum Shortfall {
    Missing,
    Extra,
}

fn words(text: &str) -> Vec<String> {
    text.split(is_separator)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn read_args(shape: Args, text: &str) -> Result<Vec<String>, Shortfall> {
    let split = words(text);
    match shape {
        Args::None if text.is_empty() => Ok(vec![]),
        Args::None => Err(Shortfall::Extra),
        Args::Word | Args::OptionalWord => match split.len() {
            0 if shape == Args::Word => Err(Shortfall::Missing),
            0 | 1 => Ok(split),
            _ => Err(Shortfall::Extra),
        },
        Args::Text if text.is_empty() => Err(Shortfall::Missing),
        Args::Text | Args::OptionalText if text.is_empty() => Ok(vec![]),
        Args::Text | Args::OptionalText => Ok(vec![text.to_string()]),
        Args::WordOptionalText if text.is_empty() => Err(Shortfall::Missing),
        Args::WordOptionalText if !text.contains(is_separator) => Ok(vec![text.to_string()]),
        Args::WordText | Args::WordOptionalText => {
            let Some(at) = text.find(is_separator) else {
                return Err(Shortfall::Missing);
            };
            let (word, rest) = (&text[..at], text[at..].trim_matches(is_separator));
            Ok(vec![word.to_string(), rest.to_string()])
        }
        Args::OptionalPair => {
            if text.is_empty() {
                return Ok(vec![]);
            }
            let parts: Vec<String> = match text.split_once(',') {
                Some((a, b)) => [a, b].iter().flat_map(|p| words(p)).collect(),
                None => split,
            };
            match parts.len() {
                0 | 1 => Err(Shortfall::Missing),
                2 => Ok(parts),
                _ => Err(Shortfall::Extra),
            }
        }
    }
}

/// The command name closest to a mistyped one: within two edits
/// (insertions, deletions, substitutions of characters), or starting with
/// what was typed when that is at least two characters; the nearest first,
/// ties to the earlier in [`COMMANDS`].
pub fn suggest(typed: &str) -> Option<&'static str> {
    let typed = typed.to_ascii_lowercase();
    COMMANDS
        .iter()
        .map(|c| (c.name, edit_distance(&typed, c.name)))
        .filter(|(name, d)| *d <= 2 || (typed.chars().count() >= 2 && name.starts_with(&typed)))
        .min_by_key(|(_, d)| *d)
        .map(|(name, _)| name)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

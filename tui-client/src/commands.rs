//! What the user typed on the input line, read by the one command table
//! both clients share ([`protocol::commands`]).
//!
//! The protocol crate says which commands exist, their names, aliases,
//! usage and help, and how a line splits into a command and its arguments
//! (a line starting with `//` is text starting with one `/`). This module
//! keeps the commands chat-tui offers ([`COMMANDS`]) and checks the
//! arguments' values with the protocol's own validation, so an unknown
//! command or a bad argument is explained on the spot and never sent.

use protocol::commands::{self as table, Client, ParseError, Parsed};
use protocol::validate;

pub use moderation::ModeRequest;
pub use protocol::commands::Command as Spec;

/// One command with its arguments, checked and normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Join(String),
    Leave(Option<String>),
    Me(String),
    /// A line to someone alone, in your conversation with them.
    Msg {
        name: String,
        text: String,
    },
    /// Open your conversation with someone.
    Query(String),
    Nick(String),
    /// Away, with a reason or without.
    Away(Option<String>),
    Back,
    Whois(String),
    /// The rooms on the server.
    List,
    /// Show the current room's topic (`None`) or set it.
    Topic(Option<String>),
    /// `None`: use the configured default location.
    Location(Option<(f64, f64)>),
    Users,
    Rooms,
    /// Ask for a code that signs another device in.
    Link,
    /// List your devices.
    Devices,
    /// Sign out a device (its id or number in `/devices`), or this one.
    Logout(Option<String>),
    /// List your ssh keys (`None`), or sign one out (its number in `/keys`
    /// or its fingerprint).
    Keys(Option<String>),
    /// Send the current room's failed messages again.
    Retry,
    /// All commands and keys, or one command.
    Help(Option<String>),
    Quit,
    /// A moderation action on someone in the current room: `/op`,
    /// `/deop`, `/voice`, `/devoice`, `/kick`, `/ban`, `/unban`, `/mute`,
    /// `/unmute`, `/invite`.
    Moderate {
        action: protocol::moderation::ModAction,
        name: String,
        duration_s: Option<u64>,
        reason: Option<String>,
    },
    /// `/mode`, `/slow`, `/filter`: a change of the current room's modes.
    Mode(ModeRequest),
    /// The current room's recent moderation actions.
    Modlog,
}

/// What a line of input means.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Plain text to send to the current room.
    Text(String),
    Command(Command),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Parse(#[from] ParseError),
    /// A command of the shared table that only the page offers.
    #[error("/{0} is not available in chat-tui; /help lists the commands")]
    NotHere(&'static str),
    #[error("usage: {0}")]
    Usage(&'static str),
    #[error("{0}")]
    Invalid(String),
}

/// Every command chat-tui offers, in the order the help lists them: the
/// shared table's commands for this client.
pub fn commands() -> impl Iterator<Item = &'static Spec> + Clone {
    table::COMMANDS
        .iter()
        .filter(|c| c.clients.contains(&Client::Tui))
}

/// The command called `typed` (by name or alias, any case), if chat-tui
/// offers it.
pub fn find(typed: &str) -> Option<&'static Spec> {
    table::find(typed).filter(|c| c.clients.contains(&Client::Tui))
}

/// Parses one line of input.
pub fn parse(line: &str) -> Result<Input, CommandError> {
    let (spec, args) = match table::parse(line) {
        Parsed::Text(text) => return Ok(Input::Text(text)),
        Parsed::Error(e) => return Err(e.into()),
        Parsed::Command { command, args } => (command, args),
    };
    if !spec.clients.contains(&Client::Tui) {
        return Err(CommandError::NotHere(spec.name));
    }
    if let Some(cmd) = moderation::parse(spec.name, spec.usage, &args) {
        return Ok(Input::Command(cmd?));
    }
    let mut args = args.into_iter();
    let mut first = || args.next();
    let cmd = match spec.name {
        "join" => Command::Join(room_arg(&first().unwrap_or_default())?),
        "leave" => Command::Leave(first().map(|r| room_arg(&r)).transpose()?),
        "me" => Command::Me(first().unwrap_or_default()),
        "msg" => {
            let name = first().unwrap_or_default();
            let text = first().unwrap_or_default();
            validate::message_text(&text).map_err(|e| CommandError::Invalid(e.to_string()))?;
            Command::Msg { name, text }
        }
        "query" => Command::Query(name_arg(&first().unwrap_or_default())?),
        "nick" => Command::Nick(name_arg(&first().unwrap_or_default())?),
        "away" => {
            let reason = first().unwrap_or_default();
            let reason =
                validate::away_reason(&reason).map_err(|e| CommandError::Invalid(e.to_string()))?;
            Command::Away((!reason.is_empty()).then(|| reason.to_string()))
        }
        "back" => Command::Back,
        "whois" => Command::Whois(name_arg(&first().unwrap_or_default())?),
        "list" => Command::List,
        "topic" => match first() {
            None => Command::Topic(None),
            // As in irssi: an empty topic is sent to clear it.
            Some(flag) if flag == "-delete" => Command::Topic(Some(String::new())),
            Some(text) => {
                let text =
                    validate::topic(&text).map_err(|e| CommandError::Invalid(e.to_string()))?;
                Command::Topic(Some(text.to_string()))
            }
        },
        "location" => Command::Location(location_args(first(), first())?),
        "users" => Command::Users,
        "rooms" => Command::Rooms,
        "link" => Command::Link,
        "devices" => Command::Devices,
        "logout" => Command::Logout(first()),
        "keys" => match first() {
            None => Command::Keys(None),
            Some(rest) => match rest.split_whitespace().collect::<Vec<_>>()[..] {
                ["remove", key] => Command::Keys(Some(key.to_string())),
                _ => {
                    return Err(CommandError::Usage(
                        "/keys, or /keys remove N (N from /keys)",
                    ));
                }
            },
        },
        "retry" => Command::Retry,
        "help" => Command::Help(first()),
        "quit" => Command::Quit,
        // A table entry for this client without a case here; a test runs
        // every one.
        _ => return Err(CommandError::NotHere(spec.name)),
    };
    Ok(Input::Command(cmd))
}

fn room_arg(typed: &str) -> Result<String, CommandError> {
    let room = validate::normalize_room(typed);
    validate::room_name(&room).map_err(|e| CommandError::Invalid(e.to_string()))?;
    Ok(room)
}

/// A person's name as typed, checked as a name (it is looked up by its
/// look-alike key on the server).
fn name_arg(typed: &str) -> Result<String, CommandError> {
    let name = validate::display_name(typed).map_err(|e| CommandError::Invalid(e.to_string()))?;
    Ok(name.to_string())
}

fn location_args(
    lat: Option<String>,
    lon: Option<String>,
) -> Result<Option<(f64, f64)>, CommandError> {
    let (Some(lat), Some(lon)) = (lat, lon) else {
        return Ok(None);
    };
    let usage = CommandError::Usage("/location LAT LON, e.g. /location 51.5007 -0.1246");
    let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) else {
        return Err(usage);
    };
    validate::location(lat, lon).map_err(|e| CommandError::Invalid(e.to_string()))?;
    Ok(Some((lat, lon)))
}

mod moderation;
#[cfg(test)]
mod tests;

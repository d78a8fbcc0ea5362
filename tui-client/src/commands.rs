//! Parsing what the user typed on the input line.
//!
//! A line starting with `/` is a command; `//` sends a literal line that
//! starts with one `/`. Everything is checked here, with the protocol's own
//! validation, so an unknown command or bad argument is explained on the
//! spot and never sent.

use protocol::validate;

/// One command with its arguments, checked and normalised.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Join(String),
    Leave(Option<String>),
    Me(String),
    /// `None`: use the configured default location.
    Location(Option<(f64, f64)>),
    Users,
    Rooms,
    Nick(String),
    /// Ask for a code that signs another device in.
    Link,
    /// List your devices.
    Devices,
    /// Sign out a device (its id or number in `/devices`), or this one.
    Logout(Option<String>),
    /// Send the current room's failed messages again.
    Retry,
    Help,
    Quit,
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
    #[error("unknown command /{name}{}; /help lists the commands, // sends a line starting with /", suggestion.map(|s| format!(" (did you mean /{s}?)")).unwrap_or_default())]
    Unknown {
        name: String,
        suggestion: Option<&'static str>,
    },
    #[error("usage: {0}")]
    Usage(&'static str),
    #[error("{0}")]
    Invalid(String),
}

/// One command as the help shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    /// Other names that do the same.
    pub aliases: &'static [&'static str],
    pub usage: &'static str,
    pub what: &'static str,
}

const fn spec(
    name: &'static str,
    aliases: &'static [&'static str],
    usage: &'static str,
    what: &'static str,
) -> CommandSpec {
    CommandSpec {
        name,
        aliases,
        usage,
        what,
    }
}

/// Every command, in the order the help lists them. [`parse`] knows a
/// command by these names, Tab completes them, and `/help`, `chat-tui
/// --help` and the command table in README.md are rendered from this table
/// (see [`crate::help`]).
pub const COMMANDS: &[CommandSpec] = &[
    spec(
        "join",
        &["j"],
        "/join ROOM",
        "join a room (created if nobody is in it) and switch to it",
    ),
    spec(
        "leave",
        &["part"],
        "/leave [ROOM]",
        "leave the current room, or ROOM",
    ),
    spec(
        "me",
        &[],
        "/me ACTION",
        "say what you do, shown as \"* you ACTION\"",
    ),
    spec(
        "location",
        &["loc"],
        "/location [LAT LON]",
        "share a position; alone, the default location from the config file",
    ),
    spec(
        "users",
        &["names", "who"],
        "/users",
        "list the people in the current room",
    ),
    spec(
        "rooms",
        &["list"],
        "/rooms",
        "list your rooms with user and unread counts",
    ),
    spec(
        "nick",
        &[],
        "/nick NAME",
        "change your name (not supported yet: the server's operator can rename you)",
    ),
    spec(
        "link",
        &[],
        "/link",
        "show a one-time code that signs another device in as you (chat-tui --link CODE)",
    ),
    spec(
        "devices",
        &[],
        "/devices",
        "list the devices signed in as you, numbered",
    ),
    spec(
        "logout",
        &[],
        "/logout [DEVICE]",
        "sign out a device (its number in /devices, or its id); alone, this one",
    ),
    spec(
        "retry",
        &[],
        "/retry",
        "send your failed messages in this room again",
    ),
    spec("help", &["h", "?"], "/help", "show commands and keys"),
    spec("quit", &["exit", "q"], "/quit", "leave the chat"),
];

/// The command called `typed` (by name or alias, any case).
pub fn find(typed: &str) -> Option<&'static CommandSpec> {
    let typed = typed.to_lowercase();
    COMMANDS
        .iter()
        .find(|c| c.name == typed || c.aliases.contains(&typed.as_str()))
}

/// Parses one line of input.
pub fn parse(line: &str) -> Result<Input, CommandError> {
    let Some(rest) = line.strip_prefix('/') else {
        return Ok(Input::Text(line.to_string()));
    };
    if rest.starts_with('/') {
        return Ok(Input::Text(rest.to_string()));
    }
    let (name, args) = match rest.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (rest, ""),
    };
    let Some(spec) = find(name) else {
        return Err(CommandError::Unknown {
            name: name.chars().take(32).collect(),
            suggestion: suggest(name),
        });
    };
    let cmd = match spec.name {
        "join" => Command::Join(room_arg(args, spec.usage)?),
        "leave" => Command::Leave(if args.is_empty() {
            None
        } else {
            Some(room_arg(args, spec.usage)?)
        }),
        "me" => Command::Me(some_text(args, spec.usage)?),
        "location" => Command::Location(location_args(args)?),
        "users" => no_args(args, Command::Users, spec.usage)?,
        "rooms" => no_args(args, Command::Rooms, spec.usage)?,
        "nick" => Command::Nick(some_text(args, spec.usage)?),
        "link" => no_args(args, Command::Link, spec.usage)?,
        "devices" => no_args(args, Command::Devices, spec.usage)?,
        "logout" => Command::Logout(one_word(args, spec.usage)?),
        "retry" => no_args(args, Command::Retry, spec.usage)?,
        "help" => Command::Help,
        "quit" => Command::Quit,
        // A table entry without a case here; a test runs every one.
        _ => {
            return Err(CommandError::Unknown {
                name: spec.name.to_string(),
                suggestion: None,
            });
        }
    };
    Ok(Input::Command(cmd))
}

fn some_text(args: &str, usage: &'static str) -> Result<String, CommandError> {
    if args.is_empty() {
        Err(CommandError::Usage(usage))
    } else {
        Ok(args.to_string())
    }
}

fn no_args(args: &str, cmd: Command, usage: &'static str) -> Result<Command, CommandError> {
    if args.is_empty() {
        Ok(cmd)
    } else {
        Err(CommandError::Usage(usage))
    }
}

fn one_word(args: &str, usage: &'static str) -> Result<Option<String>, CommandError> {
    let mut words = args.split_whitespace();
    match (words.next(), words.next()) {
        (None, _) => Ok(None),
        (Some(word), None) => Ok(Some(word.to_string())),
        (Some(_), Some(_)) => Err(CommandError::Usage(usage)),
    }
}

fn room_arg(args: &str, usage: &'static str) -> Result<String, CommandError> {
    let mut words = args.split_whitespace();
    let (Some(room), None) = (words.next(), words.next()) else {
        return Err(CommandError::Usage(usage));
    };
    let room = validate::normalize_room(room);
    validate::room_name(&room).map_err(|e| CommandError::Invalid(e.to_string()))?;
    Ok(room)
}

fn location_args(args: &str) -> Result<Option<(f64, f64)>, CommandError> {
    if args.is_empty() {
        return Ok(None);
    }
    let usage = CommandError::Usage("/location LAT LON, e.g. /location 51.5007 -0.1246");
    let parts: Vec<&str> = args
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .collect();
    let [lat, lon] = parts.as_slice() else {
        return Err(usage);
    };
    let (Ok(lat), Ok(lon)) = (lat.parse::<f64>(), lon.parse::<f64>()) else {
        return Err(usage);
    };
    validate::location(lat, lon).map_err(|e| CommandError::Invalid(e.to_string()))?;
    Ok(Some((lat, lon)))
}

/// The known command closest to a mistyped one, if any is close.
fn suggest(typed: &str) -> Option<&'static str> {
    let typed = typed.to_lowercase();
    COMMANDS
        .iter()
        .map(|c| (c.name, edit_distance(&typed, c.name)))
        .filter(|(name, d)| *d <= 2 || (typed.len() >= 2 && name.starts_with(&typed)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(line: &str) -> Command {
        match parse(line) {
            Ok(Input::Command(c)) => c,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn text_is_text() {
        assert_eq!(parse("hello"), Ok(Input::Text("hello".into())));
        assert_eq!(
            parse(" /not a command"),
            Ok(Input::Text(" /not a command".into()))
        );
        assert_eq!(parse("//etc/passwd"), Ok(Input::Text("/etc/passwd".into())));
    }

    #[test]
    fn join_and_leave_normalise_rooms() {
        assert_eq!(cmd("/join dev"), Command::Join("dev".into()));
        assert_eq!(cmd("/join  #Dev "), Command::Join("dev".into()));
        assert_eq!(cmd("/JOIN ops"), Command::Join("ops".into()));
        assert_eq!(cmd("/leave"), Command::Leave(None));
        assert_eq!(cmd("/leave #ops"), Command::Leave(Some("ops".into())));
        assert_eq!(parse("/join"), Err(CommandError::Usage("/join ROOM")));
        assert_eq!(parse("/join a b"), Err(CommandError::Usage("/join ROOM")));
        assert!(matches!(parse("/join dev!"), Err(CommandError::Invalid(m)) if m.contains("'!'")));
    }

    #[test]
    fn me_keeps_the_action_text() {
        assert_eq!(cmd("/me waves  hello"), Command::Me("waves  hello".into()));
        assert_eq!(parse("/me"), Err(CommandError::Usage("/me ACTION")));
    }

    #[test]
    fn location_with_and_without_coordinates() {
        assert_eq!(cmd("/location"), Command::Location(None));
        assert_eq!(
            cmd("/location 51.5007 -0.1246"),
            Command::Location(Some((51.5007, -0.1246)))
        );
        assert_eq!(cmd("/location 1.5, 2"), Command::Location(Some((1.5, 2.0))));
        assert!(matches!(
            parse("/location 91 0"),
            Err(CommandError::Invalid(_))
        ));
        assert!(matches!(
            parse("/location north"),
            Err(CommandError::Usage(_))
        ));
        assert!(matches!(
            parse("/location 1 2 3"),
            Err(CommandError::Usage(_))
        ));
        assert!(matches!(
            parse("/location NaN 2"),
            Err(CommandError::Invalid(_))
        ));
    }

    #[test]
    fn simple_commands() {
        assert_eq!(cmd("/users"), Command::Users);
        assert_eq!(cmd("/rooms"), Command::Rooms);
        assert_eq!(cmd("/help"), Command::Help);
        assert_eq!(cmd("/quit"), Command::Quit);
        assert_eq!(cmd("/nick bob"), Command::Nick("bob".into()));
        assert_eq!(parse("/users now"), Err(CommandError::Usage("/users")));
        assert_eq!(cmd("/link"), Command::Link);
        assert_eq!(cmd("/devices"), Command::Devices);
        assert_eq!(cmd("/logout"), Command::Logout(None));
        assert_eq!(cmd("/logout 2"), Command::Logout(Some("2".into())));
        assert_eq!(
            cmd("/logout d_81c2"),
            Command::Logout(Some("d_81c2".into()))
        );
        assert_eq!(
            parse("/logout a b"),
            Err(CommandError::Usage("/logout [DEVICE]"))
        );
    }

    #[test]
    fn aliases_and_every_command_in_the_table_parse() {
        assert_eq!(cmd("/j dev"), Command::Join("dev".into()));
        assert_eq!(cmd("/part"), Command::Leave(None));
        assert_eq!(cmd("/WHO"), Command::Users);
        assert_eq!(cmd("/?"), Command::Help);
        assert_eq!(cmd("/q"), Command::Quit);
        for c in COMMANDS {
            for name in std::iter::once(&c.name).chain(c.aliases) {
                // With the arguments of its usage where it needs some.
                let line = match c.name {
                    "join" => format!("/{name} dev"),
                    "me" | "nick" => format!("/{name} x"),
                    _ => format!("/{name}"),
                };
                assert!(
                    matches!(parse(&line), Ok(Input::Command(_))),
                    "{line}: {:?}",
                    parse(&line)
                );
            }
        }
    }

    #[test]
    fn unknown_commands_are_explained_never_sent() {
        let err = parse("/jion dev").unwrap_err();
        assert_eq!(
            err,
            CommandError::Unknown {
                name: "jion".into(),
                suggestion: Some("join")
            }
        );
        assert!(err.to_string().contains("did you mean /join?"), "{err}");
        let err = parse("/frobnicate").unwrap_err();
        assert!(matches!(
            err,
            CommandError::Unknown {
                suggestion: None,
                ..
            }
        ));
        assert!(err.to_string().contains("/help"));
        assert!(matches!(parse("/"), Err(CommandError::Unknown { .. })));
    }
}

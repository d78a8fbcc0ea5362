//! Tests of the `commands` module.

use super::*;

fn cmd(line: &str) -> Command {
    match parse(line) {
        Ok(Input::Command(c)) => c,
        other => panic!("{line:?} gave {other:?}"),
    }
}

fn usage(line: &str) -> bool {
    matches!(
        parse(line),
        Err(CommandError::Parse(
            ParseError::MissingArgument { .. } | ParseError::TooManyArguments { .. }
        )) | Err(CommandError::Usage(_))
    )
}

#[test]
fn text_is_text_and_a_double_slash_sends_one() {
    assert_eq!(parse("hello"), Ok(Input::Text("hello".into())));
    assert_eq!(
        parse(" /not a command"),
        Ok(Input::Text(" /not a command".into()))
    );
    assert_eq!(parse("//etc/passwd"), Ok(Input::Text("/etc/passwd".into())));
    assert_eq!(parse("//msg bob"), Ok(Input::Text("/msg bob".into())));
}

#[test]
fn join_and_leave_normalise_rooms() {
    assert_eq!(cmd("/join dev"), Command::Join("dev".into()));
    assert_eq!(cmd("/join  #Dev "), Command::Join("dev".into()));
    assert_eq!(cmd("/JOIN ops"), Command::Join("ops".into()));
    assert_eq!(cmd("/leave"), Command::Leave(None));
    assert_eq!(cmd("/leave #ops"), Command::Leave(Some("ops".into())));
    assert!(usage("/join"));
    assert!(usage("/join a b"));
    assert!(matches!(parse("/join dev!"), Err(CommandError::Invalid(m)) if m.contains("'!'")));
}

#[test]
fn conversations() {
    assert_eq!(
        cmd("/msg bob hi  there"),
        Command::Msg {
            name: "bob".into(),
            text: "hi  there".into()
        }
    );
    assert_eq!(
        cmd("/msg bob two\nlines"),
        Command::Msg {
            name: "bob".into(),
            text: "two\nlines".into()
        }
    );
    assert!(usage("/msg bob"));
    assert!(usage("/msg"));
    assert_eq!(cmd("/query bob"), Command::Query("bob".into()));
    assert_eq!(cmd("/nick anna"), Command::Nick("anna".into()));
    assert!(matches!(
        parse("/nick a\u{202e}b"),
        Err(CommandError::Invalid(_))
    ));
    assert_eq!(cmd("/away"), Command::Away(None));
    assert_eq!(cmd("/away  lunch "), Command::Away(Some("lunch".into())));
    assert!(matches!(
        parse(&format!("/away {}", "x".repeat(201))),
        Err(CommandError::Invalid(_))
    ));
    assert_eq!(cmd("/back"), Command::Back);
    assert!(usage("/back now"));
    assert_eq!(cmd("/whois bob"), Command::Whois("bob".into()));
    assert_eq!(cmd("/list"), Command::List);
    assert_eq!(cmd("/topic"), Command::Topic(None));
    assert_eq!(
        cmd("/topic ship it"),
        Command::Topic(Some("ship it".into()))
    );
    assert_eq!(cmd("/topic -delete"), Command::Topic(Some(String::new())));
    assert_eq!(cmd("/help"), Command::Help(None));
    assert_eq!(cmd("/help msg"), Command::Help(Some("msg".into())));
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
    assert!(usage("/location north"));
    assert!(usage("/location 1 2 3"));
    assert!(matches!(
        parse("/location NaN 2"),
        Err(CommandError::Invalid(_))
    ));
}

#[test]
fn simple_commands() {
    assert_eq!(cmd("/users"), Command::Users);
    assert_eq!(cmd("/rooms"), Command::Rooms);
    assert_eq!(cmd("/quit"), Command::Quit);
    assert!(usage("/users now"));
    assert_eq!(cmd("/link"), Command::Link);
    assert_eq!(cmd("/devices"), Command::Devices);
    assert_eq!(cmd("/logout"), Command::Logout(None));
    assert_eq!(cmd("/logout 2"), Command::Logout(Some("2".into())));
    assert!(usage("/logout a b"));
    assert_eq!(cmd("/keys"), Command::Keys(None));
    assert_eq!(cmd("/keys remove 2"), Command::Keys(Some("2".into())));
    assert_eq!(
        cmd("/keys remove SHA256:abc"),
        Command::Keys(Some("SHA256:abc".into()))
    );
    assert!(usage("/keys 2"));
    assert!(usage("/keys remove"));
}

#[test]
fn every_command_of_this_client_in_the_shared_table_parses() {
    assert_eq!(cmd("/j dev"), Command::Join("dev".into()));
    assert_eq!(cmd("/part"), Command::Leave(None));
    assert_eq!(cmd("/WHO"), Command::Users);
    assert_eq!(cmd("/?"), Command::Help(None));
    assert_eq!(cmd("/q"), Command::Quit);
    for c in commands() {
        for name in std::iter::once(&c.name).chain(c.aliases) {
            // With the arguments its shape needs.
            let line = match c.args {
                // The moderation commands of one word take a value, not a name.
                _ if c.name == "mode" => format!("/{name} +m"),
                _ if c.name == "slow" => format!("/{name} 10"),
                _ if c.name == "filter" => format!("/{name} off"),
                protocol::commands::Args::Word | protocol::commands::Args::Text => {
                    format!("/{name} dev")
                }
                protocol::commands::Args::WordText | protocol::commands::Args::WordOptionalText => {
                    format!("/{name} bob hi")
                }
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
    assert!(err.to_string().contains("did you mean /join?"), "{err}");
    let err = parse("/frobnicate").unwrap_err();
    assert!(err.to_string().contains("/help"), "{err}");
    assert!(matches!(parse("/"), Err(CommandError::Parse(_))));
}

#[test]
fn moderation_commands_read_names_durations_reasons_and_modes() {
    use crate::commands::ModeRequest;
    use protocol::moderation::{FilterMode, ModAction};
    let moderate = |action, name: &str, duration_s, reason: Option<&str>| Command::Moderate {
        action,
        name: name.into(),
        duration_s,
        reason: reason.map(str::to_string),
    };
    assert_eq!(cmd("/op bob"), moderate(ModAction::Op, "bob", None, None));
    assert_eq!(
        cmd("/kick bob"),
        moderate(ModAction::Kick, "bob", None, None)
    );
    // A kick's reason is all the rest, even when it starts like a time.
    assert_eq!(
        cmd("/kick bob 10m of spam"),
        moderate(ModAction::Kick, "bob", None, Some("10m of spam"))
    );
    assert_eq!(
        cmd("/ban bob 1h spam links"),
        moderate(ModAction::Ban, "bob", Some(3600), Some("spam links"))
    );
    assert_eq!(
        cmd("/ban bob spam"),
        moderate(ModAction::Ban, "bob", None, Some("spam"))
    );
    assert_eq!(
        cmd("/mute bob 5"),
        moderate(ModAction::Mute, "bob", Some(300), None)
    );
    assert_eq!(
        cmd("/unban bob"),
        moderate(ModAction::Unban, "bob", None, None)
    );
    assert!(usage("/unban"));
    assert!(usage("/op bob carol"));
    assert_eq!(
        cmd("/mode +m-t"),
        Command::Mode(ModeRequest {
            moderated: Some(true),
            topic_lock: Some(false),
            ..ModeRequest::default()
        })
    );
    assert!(usage("/mode +x"));
    assert_eq!(
        cmd("/slow 0"),
        Command::Mode(ModeRequest {
            slow_s: Some(0),
            ..ModeRequest::default()
        })
    );
    assert!(usage("/slow 3601"));
    assert!(usage("/slow soon"));
    assert_eq!(
        cmd("/filter PROFANITY"),
        Command::Mode(ModeRequest {
            filter: Some(FilterMode::Profanity),
            ..ModeRequest::default()
        })
    );
    assert!(usage("/filter some"));
    assert_eq!(cmd("/modlog"), Command::Modlog);
    // A reason with a control character is refused on the spot.
    assert!(matches!(
        parse("/kick bob a\u{7}b"),
        Err(CommandError::Invalid(_))
    ));
}

//! The command table and its parser, exported for the page: writes
//! `protocol/vectors/commands.json` (the table and cases of `parse`, which
//! the page's tests replay) and `web/commands.json` (the table the page
//! loads for its parser and `/help`), and fails when a committed copy
//! differs from what `protocol::commands` says now. Rewrite both with
//! `UPDATE_VECTORS=1 cargo test -p protocol --test commands`.

use std::path::{Path, PathBuf};

use protocol::commands::{self, COMMANDS, ParseError, Parsed};
use serde_json::{Value, json};

fn inputs() -> Vec<&'static str> {
    vec![
        "hello",
        "",
        " /join dev",
        "//etc",
        "//",
        "///x",
        "/",
        "/ join dev",
        "/join dev",
        "/JOIN #Dev",
        "/j dev",
        "/join",
        "/join dev ops",
        "/join\tdev",
        "/leave",
        "/part dev",
        "/leave a b",
        "/me waves",
        "/me   waves  hello  ",
        "/me",
        "/me   ",
        "/msg bob hi there",
        "/msg bob   hi\nsecond line  ",
        "/msg bob",
        "/msg bob   ",
        "/msg",
        "/msg\nbob hi",
        "/query bob",
        "/query ann smith",
        "/query",
        "/nick anna",
        "/nick",
        "/away",
        "/away lunch, back at 2",
        "/back",
        "/back now",
        "/whois bob",
        "/whois",
        "/list",
        "/list all",
        "/topic ship it",
        "/topic",
        "/topic   ",
        "/location",
        "/location 51.5007 -0.1246",
        "/location 51.5007,-0.1246",
        "/location 51.5007, -0.1246",
        "/loc 1 2",
        "/location 51.5",
        "/location 1 2 3",
        "/users",
        "/who",
        "/rooms",
        "/link",
        "/devices",
        "/logout",
        "/logout 2",
        "/logout 2 3",
        "/retry",
        "/help",
        "/help msg",
        "/help /msg",
        "/? ",
        "/quit",
        "/exit",
        "/q",
        "/nope",
        "/jion dev",
        "/wh",
        "/topc x",
        "/xyzzy",
        "/msgbob hi",
        "/op bob",
        "/op",
        "/op bob ann",
        "/deop bob",
        "/voice bob",
        "/devoice bob",
        "/kick bob",
        "/kick bob   spamming links  ",
        "/kick",
        "/ban bob",
        "/ban bob 1h spam",
        "/ban bob spam and abuse",
        "/unban bob",
        "/mute bob 10m",
        "/unmute bob",
        "/invite bob",
        "/mode +mt",
        "/mode -i",
        "/mode",
        "/slow 10",
        "/slow",
        "/filter profanity",
        "/modlog",
        "/modlog dev",
    ]
}

fn case(input: &str) -> Value {
    match commands::parse(input) {
        Parsed::Text(text) => json!({"input": input, "text": text}),
        Parsed::Command { command, args } => {
            json!({"input": input, "command": command.name, "args": args})
        }
        Parsed::Error(e) => {
            let mut case = json!({"input": input, "error": e.code(), "message": e.to_string()});
            match &e {
                ParseError::Unknown { name, suggestion } => {
                    case["name"] = json!(name);
                    case["suggestion"] = json!(suggestion);
                }
                ParseError::MissingArgument { command }
                | ParseError::TooManyArguments { command } => {
                    case["command"] = json!(command.name);
                }
            }
            case
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

/// JSON with every character outside printable ASCII escaped, so no
/// invisible character hides in a committed file.
fn ascii(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii() && (!c.is_ascii_control() || c == '\n') {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn table() -> Value {
    json!(COMMANDS)
}

fn render_vectors() -> String {
    let rows = |items: Vec<Value>| {
        items
            .iter()
            .map(|v| format!("    {v}"))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let commands: Vec<Value> = COMMANDS.iter().map(|c| json!(c)).collect();
    let cases: Vec<Value> = inputs().into_iter().map(case).collect();
    let about = "The slash commands both clients accept (protocol::commands), written by protocol/tests/commands.rs. \
        commands: the table (name, aliases, usage, help, args shape, clients). cases: what parse gives for each input: \
        {text} (send as typed), {command, args}, or {error: unknown|missing_argument|too_many_arguments, message, \
        name and suggestion (unknown) or command}. Separators: space, tab, LF, CR.";
    ascii(&format!(
        "{{\n  \"about\": {},\n  \"commands\": [\n{}\n  ],\n  \"cases\": [\n{}\n  ]\n}}\n",
        json!(about),
        rows(commands),
        rows(cases)
    ))
}

fn render_web() -> String {
    ascii(&format!(
        "{}\n",
        serde_json::to_string_pretty(&json!({
            "about": "Generated from protocol::commands by protocol/tests/commands.rs; do not edit.",
            "commands": table(),
        }))
        .expect("the table serializes")
    ))
}

fn write_or_check(path: &Path, expected: &str) {
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(path, expected).expect("write the generated file");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is not what protocol::commands says now; rewrite it with \
         UPDATE_VECTORS=1 cargo test -p protocol --test commands, and review the diff",
        path.display()
    );
}

#[test]
fn vectors_match_the_table_and_parser() {
    write_or_check(
        &root().join("protocol/vectors/commands.json"),
        &render_vectors(),
    );
}

#[test]
fn the_page_loads_the_same_table() {
    write_or_check(&root().join("web/commands.json"), &render_web());
}

#[test]
fn names_and_aliases_are_unique_and_usages_name_the_command() {
    let mut seen = std::collections::BTreeSet::new();
    for c in COMMANDS {
        for name in std::iter::once(&c.name).chain(c.aliases) {
            assert!(seen.insert(*name), "/{name} is defined twice");
        }
        assert!(c.usage.starts_with(&format!("/{} ", c.name)) || c.usage == format!("/{}", c.name));
        assert!(!c.help.is_empty() && !c.clients.is_empty());
    }
}

#[test]
fn the_spec_examples_parse() {
    let Parsed::Command { command, args } = commands::parse("/msg bob hi there") else {
        panic!("not a command");
    };
    assert_eq!(
        (command.name, args),
        ("msg", vec!["bob".into(), "hi there".into()])
    );
    assert_eq!(commands::parse("//etc"), Parsed::Text("/etc".into()));
    assert!(matches!(
        commands::parse("/nope"),
        Parsed::Error(ParseError::Unknown { .. })
    ));
    assert!(matches!(
        commands::parse("/msg bob"),
        Parsed::Error(ParseError::MissingArgument { .. })
    ));
    // Every spec command is in the table for both clients.
    for name in [
        "join", "leave", "me", "msg", "query", "nick", "away", "back", "whois", "list", "topic",
        "help",
    ] {
        let c = commands::find(name).unwrap_or_else(|| panic!("/{name} missing"));
        assert_eq!(c.clients.len(), 2, "/{name} is for both clients");
    }
}

//! The `chat-tui` binary's command line: name and version, every default in
//! `--help`, completions for each shell and the manual page, and a config
//! file that is named but missing.

#![allow(clippy::unwrap_used)] // a failure is a failed test

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-tui"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CHAT_") {
            cmd.env_remove(key);
        }
    }
    cmd.args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn version_and_help_name_the_binary_and_every_default() {
    let version = stdout(&run(&["--version"]));
    assert_eq!(
        version.trim(),
        format!("chat-tui {}", env!("CARGO_PKG_VERSION"))
    );
    let help = stdout(&run(&["--help"]));
    for shown in [
        "[default: ws://127.0.0.1:3000/ws]",
        "[default: 12h]",
        "[default: mentions]",
        "[default: auto]",
        "[env: CHAT_SERVER=]",
        "--ca-file <FILE>",
    ] {
        assert!(help.contains(shown), "{shown} missing from --help:\n{help}");
    }
}

#[test]
fn completions_for_each_shell_and_the_manual_page_are_generated() {
    for (shell, marker) in [
        ("bash", "complete -F _chat__tui"),
        ("zsh", "#compdef chat-tui"),
        ("fish", "complete -c chat-tui"),
    ] {
        let script = stdout(&run(&["completions", shell]));
        assert!(script.contains(marker), "{shell}: {script}");
        for option in ["server", "ca-file", "clock"] {
            assert!(script.contains(option), "{shell}: {option}");
        }
    }
    let script = stdout(&run(&["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat-tui.bash");
    std::fs::write(&path, script).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let man = stdout(&run(&["man"]));
    assert!(man.contains(".TH chat-tui 1"), "{man}");
    assert!(man.contains("\\-\\-ca\\-file"), "{man}");
}

#[test]
fn a_named_config_file_that_is_missing_is_an_error() {
    let out = run(&["--name", "ann", "--config", "/nonexistent/chat-tui.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("chat-tui: cannot read config file /nonexistent/chat-tui.toml"),
        "{err}"
    );
}

#[test]
fn refused_server_addresses_are_one_line_before_any_connection() {
    for (given, why) in [
        ("ftp://chat.example.com/", "not ftp://"),
        ("chat.example.com", "has no port"),
        ("https://ann:pw@chat.example.com/", "password"),
    ] {
        let out = run(&["--name", "ann", "--config", "/dev/null", "--server", given]);
        assert_eq!(out.status.code(), Some(2), "{given}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("chat-tui: bad server address: "), "{err}");
        assert!(err.contains(why), "{given}: {err}");
    }
}

//! The `chat-server` binary's command line: its name and version, shell
//! completions and the manual page, logs (no colour codes off a terminal;
//! JSON lines that parse), and the config file under the environment and
//! the options.

#![allow(clippy::unwrap_used)] // a failure is a failed test

mod binary;

use std::process::Output;

fn run(args: &[&str]) -> Output {
    binary::command().args(args).output().unwrap()
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
fn version_names_the_binary() {
    let text = stdout(&run(&["--version"]));
    assert_eq!(
        text.trim(),
        format!("chat-server {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn completions_for_each_shell_and_the_manual_page_are_generated() {
    for (shell, marker) in [
        ("bash", "complete -F _chat__server"),
        ("zsh", "#compdef chat-server"),
        ("fish", "complete -c chat-server"),
    ] {
        let script = stdout(&run(&["completions", shell]));
        assert!(script.contains(marker), "{shell}: {script}");
        for option in ["--listen", "--tls-cert", "--metrics-listen", "--config"] {
            assert!(
                script.contains(option.trim_start_matches("--")),
                "{shell}: {option}"
            );
        }
    }
    // bash itself checks the script's syntax.
    let script = stdout(&run(&["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat-server.bash");
    std::fs::write(&path, script).unwrap();
    let checked = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    let man = stdout(&run(&["man"]));
    assert!(man.contains(".TH chat-server 1"), "{man}");
    assert!(man.contains("\\-\\-metrics\\-listen"), "{man}");
    assert!(run(&["completions", "tcsh"]).status.code() == Some(2));
}

/// Starts, logs, stops on SIGTERM; the log it wrote.
fn log_of(args: &[&str]) -> String {
    let mut cmd = binary::command();
    cmd.args(["--memory", "--listen", "127.0.0.1:0"]).args(args);
    let (status, log) = binary::Running::start(cmd).stop();
    assert!(status.success(), "{log}");
    log
}

#[test]
fn a_log_that_is_not_on_a_terminal_has_no_colour_codes() {
    let log = log_of(&[]);
    assert!(log.contains("chat-server ready"), "{log}");
    assert!(log.contains("shutting down"), "{log}");
    assert!(!log.contains('\u{1b}'), "escape codes in {log:?}");
}

#[test]
fn json_log_lines_parse() {
    let log = log_of(&["--log-format", "json"]);
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines.len() >= 2, "{log}");
    let mut messages = Vec::new();
    for line in lines {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert!(value["timestamp"].is_string(), "{line}");
        assert!(value["level"].is_string(), "{line}");
        assert!(value["target"].is_string(), "{line}");
        messages.push(
            value["fields"]["message"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    assert!(
        messages.iter().any(|m| m == "chat-server ready"),
        "{messages:?}"
    );
    // The environment variable chooses it too.
    let mut cmd = binary::command();
    cmd.args(["--memory", "--listen", "127.0.0.1:0"])
        .env("CHAT_LOG_FORMAT", "json");
    let (_, log) = binary::Running::start(cmd).stop();
    assert!(log.starts_with('{'), "{log}");
}

/// Where the server says it listens, given a config file, the
/// environment's CHAT_LISTEN and the --listen option.
fn listens_on(file: &str, env: Option<&str>, flag: Option<&str>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat-server.toml");
    std::fs::write(&path, file).unwrap();
    let mut cmd = binary::command();
    cmd.arg("--config").arg(&path);
    if let Some(env) = env {
        cmd.env("CHAT_LISTEN", env);
    }
    if let Some(flag) = flag {
        cmd.args(["--listen", flag]);
    }
    let server = binary::Running::start(cmd);
    let ip = server.addr.ip().to_string();
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
    ip
}

#[test]
fn options_win_over_the_environment_which_wins_over_the_file() {
    // Different loopback addresses tell which setting won.
    let file = "listen = \"127.0.0.2:0\"\nmemory = true\nhistory = 20\n";
    assert_eq!(listens_on(file, None, None), "127.0.0.2");
    assert_eq!(listens_on(file, Some("127.0.0.3:0"), None), "127.0.0.3");
    assert_eq!(
        listens_on(file, Some("127.0.0.3:0"), Some("127.0.0.4:0")),
        "127.0.0.4"
    );
}

#[test]
fn config_file_mistakes_are_one_clear_error() {
    let out = run(&["--config", "/nonexistent/chat-server.toml"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read config file /nonexistent/chat-server.toml"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat-server.toml");
    std::fs::write(&path, "memory = true\nrate-limt = 5\n").unwrap();
    let out = binary::command()
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown key \"rate-limt\""), "{err}");

    std::fs::write(&path, "memory = true\nrate-limit = \"fast\"\n").unwrap();
    let out = binary::command()
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rate-limit"), "{err}");
}

#[test]
fn the_example_config_file_is_accepted() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../dist/chat-server.toml");
    let mut cmd = binary::command();
    cmd.args(["--config", example, "--memory", "--listen", "127.0.0.1:0"]);
    let (status, log) = binary::Running::start(cmd).stop();
    assert!(status.success(), "{log}");
}

#[test]
fn sighup_without_tls_is_logged_and_the_server_goes_on() {
    let mut cmd = binary::command();
    cmd.args(["--memory", "--listen", "127.0.0.1:0"]);
    let server = binary::Running::start(cmd);
    server.signal("HUP");
    server.wait_for_log("SIGHUP: nothing to reload");
    // Still serving.
    let mut tcp = std::net::TcpStream::connect(server.addr).unwrap();
    use std::io::{Read, Write};
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

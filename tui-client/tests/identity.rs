//! End-to-end, identities and links: the real `chat-tui` in a
//! pseudo-terminal against the real server (see `harness`). A name
//! belongs to whoever registered it; a device signs in with its kept key
//! or a link code; a frozen or silently cut client never keeps you out.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is a failed test

mod harness;

use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::*;

/// Generous, for what takes a reconnection or two.
const LONG: Duration = Duration::from_secs(60);

/// Where chat-tui keeps its key for `server` under the data directory
/// the harness gives it.
fn key_file(data: &Path, server: &Server) -> PathBuf {
    data.join("share/chat-tui/credentials")
        .join(format!("127.0.0.1_{}.json", server.addr.port()))
}

fn kept(data: &Path, server: &Server) -> serde_json::Value {
    let text = std::fs::read_to_string(key_file(data, server)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The code `/link` showed, from the line that says how to use it.
fn link_code(tui: &Tui) -> String {
    tui.wait_for("chat-tui --link ");
    let row = tui.row_with("chat-tui --link ").unwrap();
    let after = row.split("chat-tui --link ").nth(1).unwrap();
    after.split_whitespace().next().unwrap().to_string()
}

fn signal(tui: &Tui, signal: &str) {
    let pid = tui.child.process_id().unwrap();
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

#[test]
fn the_first_run_registers_the_name_keeps_its_key_private_and_the_next_signs_in_with_it() {
    let server = Server::start();
    let data = tempfile::tempdir().unwrap();
    let mut ann = Tui::start_in(data.path(), &server.url(), Some("ann"), &["dev"], WIDE, &[]);
    ann.wait_for("you joined #dev");
    ann.wait_for("is now yours");
    let file = key_file(data.path(), &server);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600, "{}", file.display());
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }
    let first = kept(data.path(), &server);
    assert_eq!(first["name"], "ann", "{first}");
    assert!(
        first["user_id"].as_str().unwrap().starts_with("u_"),
        "{first}"
    );
    assert!(first["credential"].as_str().unwrap().len() >= 22, "{first}");
    ann.line("/quit");
    assert!(ann.wait_exit().success());

    // The next run names nobody: the kept key says who it is.
    let again = Tui::start_in(data.path(), &server.url(), None, &["dev"], WIDE, &[]);
    again.wait_for("you joined #dev");
    again.wait_for(" · ann · #dev");
    assert_eq!(
        kept(data.path(), &server),
        first,
        "the key is kept as it was"
    );

    // Someone else with the name and no key: one line saying what to do.
    let mut impostor = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    assert!(!impostor.wait_exit().success());
    impostor.wait_for("the name ann belongs to someone");
    impostor.wait_for("chat-tui --link CODE");
    assert!(!key_file(&impostor.data, &server).exists());
    // A name that only looks the same is the same name.
    let mut look_alike = Tui::start(&server.url(), "\u{410}nn", &["dev"], WIDE);
    assert!(!look_alike.wait_exit().success());
    look_alike.wait_for("belongs to someone");
}

#[test]
fn a_second_device_of_a_frozen_client_joins_at_once_and_talks() {
    let server = Server::start();
    let data = tempfile::tempdir().unwrap();
    let frozen = Tui::start_in(data.path(), &server.url(), Some("ann"), &["dev"], WIDE, &[]);
    frozen.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    bob.wait_for("you joined #dev (1 other person here)");
    // An ssh session whose terminal froze: the process is stopped, its
    // connection open and silent.
    signal(&frozen, "-STOP");
    let mut ann = Tui::start_in(data.path(), &server.url(), None, &["dev"], WIDE, &[]);
    ann.wait_for("you joined #dev");
    ann.line("from the second device");
    bob.wait_for("from the second device");
    // One person, however many devices.
    bob.wait_for("2 users");
    signal(&frozen, "-CONT");
}

/// A link that goes silent without closing: within two heartbeat
/// intervals the client says it is reconnecting, and once the network is
/// back the line typed into the silence is delivered exactly once.
#[test]
fn a_silent_link_is_noticed_and_the_pending_line_arrives_once() {
    let server = Server::start_with_heartbeat(Duration::from_secs(2));
    let proxy = Proxy::start(&server.runtime, server.addr);
    let mut ann = Tui::start(&proxy.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");

    proxy.stall();
    ann.line("typed into the silence");
    // The server has it (what ann sends still gets through); its answer
    // does not reach ann.
    bob.wait_for("typed into the silence");
    ann.wait_until("the line to wait for its answer", |t| {
        t.row_with("typed into the silence")
            .is_some_and(|r| r.contains("sending"))
    });
    ann.wait_for("reconnecting");
    proxy.restore();
    ann.wait_until_within(LONG, "the rejoin", |t| t.screen().contains("rejoined #dev"));
    ann.wait_until_within(LONG, "the line to be confirmed", |t| {
        t.row_with("typed into the silence")
            .is_some_and(|r| !r.contains("sending") && !r.contains("not sent"))
    });
    ann.line("after the silence");
    bob.wait_for("after the silence");
    // Exactly once: for the sender, for the others, and in stored history.
    let carol = Tui::start(&server.url(), "carol", &["dev"], WIDE);
    carol.wait_for("end of history");
    carol.wait_for("after the silence");
    for t in [&ann, &bob, &carol] {
        let screen = t.screen();
        assert_eq!(
            screen.matches("typed into the silence").count(),
            1,
            "{}:\n{screen}",
            t.name
        );
    }
}

#[test]
fn a_link_code_signs_another_device_in_as_the_same_person() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("/link");
    ann.wait_for("usable once");
    let code = link_code(&ann);
    let data = tempfile::tempdir().unwrap();
    let mut laptop = Tui::start_in(
        data.path(),
        &server.url(),
        None,
        &["dev"],
        WIDE,
        &["--link", &code],
    );
    laptop.wait_for("you joined #dev");
    laptop.wait_for("this device is now signed in as ann");
    assert_eq!(kept(data.path(), &server)["name"], "ann");
    laptop.line("hello from the laptop");
    ann.wait_for("hello from the laptop");
    // The code was good once.
    let mut again = Tui::start_with(&server.url(), "x", &["dev"], WIDE, &["--link", &code]);
    assert!(!again.wait_exit().success());
    again.wait_for("the link code was not accepted");
    laptop.line("/quit");
    assert!(laptop.wait_exit().success());
}

#[test]
fn a_device_signed_out_from_another_says_so_and_forgets_its_key() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("/link");
    let code = link_code(&ann);
    let data = tempfile::tempdir().unwrap();
    let mut laptop = Tui::start_in(
        data.path(),
        &server.url(),
        None,
        &["dev"],
        WIDE,
        &["--link", &code],
    );
    laptop.wait_for("you joined #dev");
    assert!(key_file(data.path(), &server).exists());
    ann.line("/devices");
    ann.wait_for("your devices (2;");
    // The device that is not this one, by its number in the list.
    let other = ann
        .rows()
        .into_iter()
        .find(|r| r.contains(" last seen ") && !r.contains("this one"))
        .unwrap();
    let number = other
        .split_whitespace()
        .find(|w| w.parse::<usize>().is_ok())
        .unwrap()
        .to_string();
    ann.line(&format!("/logout {number}"));
    ann.wait_for("is signed out");
    assert!(!laptop.wait_exit().success());
    laptop.wait_for("this device was signed out");
    assert!(
        !key_file(data.path(), &server).exists(),
        "the key is forgotten"
    );
    // The first device is still in.
    ann.line("still here");
    ann.wait_until("the line to be confirmed", |t| {
        t.row_with("still here")
            .is_some_and(|r| !r.contains("sending") && !r.contains("not sent"))
    });
}

#[test]
fn a_server_that_registers_no_new_names_says_whom_to_ask() {
    let mut server = Server::start();
    server.registration = server::identity::Registration::Closed;
    server.restart();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    assert!(!ann.wait_exit().success());
    ann.wait_for("this server does not register new names");
    ann.wait_for("chat-tui --link CODE");
    assert!(!key_file(&ann.data, &server).exists());
}

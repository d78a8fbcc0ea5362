//! End-to-end: the real `chat-tui` binary in a pseudo-terminal against the
//! real server, started in-process on a loopback port (see `harness`).

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is a failed test

mod harness;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use harness::*;
use tokio_tungstenite::tungstenite::Message;

// ---------- the tests ----------

#[test]
fn two_clients_in_one_room_exchange_messages() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let mut bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");
    bob.wait_for("you joined #dev");

    ann.line("hello from ann, ünïcödé 日本 🦀");
    bob.wait_for("hello from ann, ünïcödé 日本 🦀");
    bob.line("/me waves back");
    ann.wait_for("* ");
    ann.wait_until("bob's action", |t| {
        t.rows()
            .iter()
            .any(|r| r.contains("*") && r.contains("bob waves back"))
    });
    // Both see their own messages too, and the user list has both names.
    ann.wait_for("hello from ann");
    assert!(ann.screen().contains("2 users"), "{}", ann.screen());
}

#[test]
fn a_location_shows_up_with_its_link_on_the_other_side() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");
    ann.line("/location 51.5007 -0.1246");
    let url =
        "https://www.openstreetmap.org/?mlat=51.500700&mlon=-0.124600#map=16/51.500700/-0.124600";
    bob.wait_for("shared a location: 51.500700, -0.124600");
    bob.wait_for(url);
    // And it is a terminal hyperlink (OSC 8) to the same address.
    bob.wait_until("an OSC 8 hyperlink", |t| {
        t.recorder(|r| r.hyperlinks.iter().any(|h| h == url))
    });
}

#[test]
fn switching_rooms_with_alt_2() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev", "ops"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_for("#dev ·");
    ann.send("\x1b2"); // Alt-2
    ann.wait_for("#ops ·");
    ann.wait_for("[ops]");
    ann.wait_for("you joined #ops");
    ann.send("\x1b1"); // Alt-1
    ann.wait_for("[dev]");
}

#[test]
fn unread_counts_rise_and_clear() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev", "ops"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_until("ops to be joined", |t| t.sidebar_row("ops").contains("ops"));
    let mut bob = Tui::start(&server.url(), "bob", &["ops"], WIDE);
    bob.wait_for("you joined #ops (1 other person here)");
    bob.line("one");
    bob.line("two");
    bob.line("ann: three");
    ann.wait_until("3 unread with a mention mark in ops", |t| {
        t.sidebar_row("ops").trim_end().ends_with("@3")
    });
    assert!(
        ann.sidebar_row("dev").trim_end().ends_with("dev"),
        "{:?}",
        ann.sidebar_row("dev")
    );
    // The mention rang the bell (the default is to ring on mentions).
    ann.wait_until("the bell", |t| t.recorder(|r| r.bells >= 1));
    ann.send("\x1b2");
    ann.wait_for("[ops]");
    ann.wait_until("the count to clear", |t| {
        t.sidebar_row("ops").trim_end().ends_with("ops")
    });
    assert!(ann.screen().contains("ann: three"));
}

#[test]
fn an_escape_sequence_payload_arrives_inert() {
    let server = Server::start();
    let ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let url = server.url();
    server.runtime.block_on(async {
        let mut ws = raw_client(&url, "mallory", "dev").await;
        let payload = "\u{1b}[2J\u{1b}[H\u{1b}]0;owned title\u{07}\u{1b}]52;c;ZWNobyBvd25lZA==\u{07}\u{07}\u{07}\u{1b}[?1049l\u{202e}harmless text\u{1b}[31m";
        let frame = serde_json::json!({"type": "send", "id": "x", "room": "dev", "text": payload});
        ws.send(Message::text(frame.to_string())).await.unwrap();
        // Stay connected until the frame has been broadcast.
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
    });
    ann.wait_for("harmless text");
    // Nothing of the sequences is left, not even as visible debris.
    let screen = ann.screen();
    for debris in ["[2J", "owned", "52;c", "[31m", "1049", "\u{202e}"] {
        assert!(
            !screen.contains(debris),
            "{debris:?} reached the screen:\n{screen}"
        );
    }
    // The screen was not cleared: earlier lines are still there.
    assert!(ann.screen().contains("you joined #dev"), "{}", ann.screen());
    assert!(
        ann.screen().contains("mallory joined #dev"),
        "{}",
        ann.screen()
    );
    let p = ann.parser.lock().unwrap();
    assert!(
        p.screen().alternate_screen(),
        "the payload left the alternate screen"
    );
    let r = p.callbacks();
    assert_eq!(r.bells, 0, "a bell rang");
    assert!(r.titles.is_empty(), "the title was set: {:?}", r.titles);
    assert!(
        r.clipboard.is_empty(),
        "the clipboard was written: {:?}",
        r.clipboard
    );
}

#[test]
fn the_client_recovers_after_the_server_restarts() {
    let mut server = Server::start_on_disk();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let mut bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");
    ann.line("said before the restart");
    bob.wait_for("said before the restart");

    server.stop();
    ann.wait_for("disconnected");
    server.restart();
    ann.wait_for("rejoined #dev");
    bob.wait_for("rejoined #dev");
    ann.wait_for(" connected ");
    bob.line("back again");
    ann.wait_for("back again");
    // Resuming replays nothing twice.
    let screen = ann.screen();
    assert_eq!(
        screen.matches("said before the restart").count(),
        1,
        "{screen}"
    );
}

#[test]
fn a_new_client_sees_recent_history() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("an earlier message");
    ann.wait_for("an earlier message");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    bob.wait_for("you joined #dev");
    bob.wait_for("an earlier message");
}

#[test]
fn quit_restores_the_terminal() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_until("the alternate screen", |t| {
        t.parser.lock().unwrap().screen().alternate_screen()
    });
    ann.line("/quit");
    assert!(ann.wait_exit().success());
    let p = ann.parser.lock().unwrap();
    assert!(!p.screen().alternate_screen());
    assert!(!p.screen().hide_cursor());
    assert!(!p.screen().bracketed_paste());
}

#[test]
fn ctrl_c_restores_the_terminal() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.send("\x03");
    assert!(ann.wait_exit().success());
    assert!(!ann.parser.lock().unwrap().screen().alternate_screen());
}

#[test]
fn an_unreachable_server_is_one_clear_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-tui"))
        .args([
            "--server",
            &format!("ws://127.0.0.1:{port}/ws"),
            "--name",
            "ann",
        ])
        .env("CHAT_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("chat-tui: cannot connect to ws://127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn a_bad_option_is_one_clear_line() {
    for args in [
        &["--frobnicate"][..],
        &["--name", "ann", "--clock", "13h"],
        &["--room", "dev"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-tui"))
            .args(args)
            .env("CHAT_CONFIG", "/dev/null")
            .env_remove("CHAT_NAME")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("chat-tui: "), "{err}");
    }
}

#[test]
fn a_burst_of_typing_larger_than_one_read_is_not_stuck() {
    // More bytes at once than the terminal library reads in one go: all of
    // them must be handled without waiting for another key press.
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let burst = format!("{} tail-marker\r", "word ".repeat(600));
    ann.send(&burst);
    ann.wait_for("tail-marker");
    ann.wait_until("the input line to be empty again", |t| {
        t.rows().last().is_some_and(|r| r.trim_end() == "[dev]")
    });
}

#[test]
fn history_on_join_is_set_apart_from_live_messages() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("stored before bob came");
    ann.wait_until("the message to be confirmed", |t| {
        t.row_with("stored before bob came")
            .is_some_and(|r| !r.contains("sending"))
    });
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    bob.wait_for("you joined #dev");
    bob.wait_for("end of history");
    ann.line("said live");
    bob.wait_for("said live");
    let rows = bob.rows();
    let at = |text: &str| rows.iter().position(|r| r.contains(text)).unwrap();
    let rule = at("end of history");
    assert!(rows[rule].contains("───"), "{}", rows[rule]);
    assert!(at("stored before bob came") < rule, "{}", bob.screen());
    assert!(rule < at("said live"), "{}", bob.screen());
}

/// A join whose history is too large for one frame (50 messages of 4,000
/// characters JSON escapes six-fold: 1.2 MB, over the server's 1 MiB frame
/// bound) arrives in parts, and is shown whole, the rule after its last
/// message.
#[test]
fn a_history_too_large_for_one_frame_is_shown_whole() {
    let server = Server::start_with_rate(0.0, 0);
    let texts: Vec<String> = (0..50)
        .map(|i| format!("heavy{i:02} {}", "\u{0}".repeat(3990)))
        .collect();
    server
        .runtime
        .block_on(raw_post_all(&server.url(), "bob", "dev", &texts));
    let ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("end of history");
    ann.wait_for("heavy49");
    let rows = ann.rows();
    let at = |text: &str| rows.iter().position(|r| r.contains(text));
    assert!(
        at("heavy49") < at("end of history"),
        "the rule comes after the whole history:\n{}",
        ann.screen()
    );
    assert_eq!(
        rows.iter().filter(|r| r.contains("end of history")).count(),
        1,
        "{}",
        ann.screen()
    );
}

#[test]
fn page_up_at_the_top_loads_older_history() {
    let server = Server::start_with_rate(0.0, 0);
    let texts: Vec<String> = (1..=120).map(|i| format!("old-{i:03}")).collect();
    let url = server.url();
    server
        .runtime
        .block_on(raw_post_all(&url, "bob", "dev", &texts));
    let mut ann = Tui::start(&url, "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_for("end of history");
    // The join brought the latest page only.
    assert!(!ann.screen().contains("old-070"), "{}", ann.screen());
    // PgUp until the oldest message is on screen: each press scrolls a
    // page, and at the top asks the server for the page before.
    let deadline = Instant::now() + WAIT;
    let mut presses = 0;
    while !ann.screen().contains("old-001") {
        assert!(
            Instant::now() < deadline && presses < 200,
            "old-001 never appeared after {presses} PgUp; screen:\n{}",
            ann.screen()
        );
        ann.send("\x1b[5~");
        presses += 1;
        std::thread::sleep(POLL);
    }
    // And End goes back to the newest.
    ann.send("\x1b[F");
    ann.wait_for("old-120");
}

/// PgUp past the oldest line stops there: the presses beyond it do not pile
/// up, so the first PgDn moves at once, by exactly one page of rows.
#[test]
fn paging_up_past_the_top_does_not_pile_up_and_page_down_moves_one_page() {
    let server = Server::start_with_rate(0.0, 0);
    let texts: Vec<String> = (1..=60).map(|i| format!("line-{i:02}")).collect();
    let url = server.url();
    server
        .runtime
        .block_on(raw_post_all(&url, "bob", "dev", &texts));
    let mut ann = Tui::start(&url, "ann", &["dev"], WIDE);
    ann.wait_for("end of history");
    // Enter on the empty line clears the notice line (the name was just
    // registered), so the pane has its full height.
    ann.wait_for("is now yours");
    ann.send("\r");
    ann.wait_until("the notice line to go", |t| {
        !t.screen().contains("is now yours")
    });
    // Up until the oldest line shows (the join brought the latest 50; the
    // top asks the server for the 10 before them).
    let deadline = Instant::now() + WAIT;
    let mut presses = 0;
    while !ann.screen().contains("line-01") {
        assert!(
            Instant::now() < deadline && presses < 20,
            "line-01 never appeared after {presses} PgUp; screen:\n{}",
            ann.screen()
        );
        ann.send("\x1b[5~");
        presses += 1;
        std::thread::sleep(POLL);
    }
    // Seven presses in all, and never fewer than four beyond the top.
    for _ in 0..7usize.saturating_sub(presses).max(4) {
        ann.send("\x1b[5~");
    }
    let top = ann.rows();
    let oldest = top.iter().position(|r| r.contains("line-01")).unwrap();
    // One page is the pane (the screen less the status and input lines)
    // less one row; each line here takes one row.
    let page = usize::from(WIDE.1) - 2 - 1;
    let expected = format!("line-{:02}", 1 + page - oldest);
    ann.send("\x1b[6~");
    ann.wait_until(&format!("{expected} at the top after one PgDn"), |t| {
        t.rows()[0].contains(&expected)
    });
    assert!(!ann.screen().contains("line-01"), "{}", ann.screen());
}

#[test]
fn a_message_typed_while_the_server_is_down_is_pending_then_delivered_once() {
    let mut server = Server::start_on_disk();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");

    server.stop();
    ann.wait_for("disconnected");
    ann.line("typed while the server was down");
    ann.wait_until("the message to show as pending", |t| {
        t.row_with("typed while the server was down")
            .is_some_and(|r| r.contains("… sending"))
    });
    server.restart();
    ann.wait_for("rejoined #dev");
    ann.wait_until("the message to be confirmed", |t| {
        t.row_with("typed while the server was down")
            .is_some_and(|r| !r.contains("sending"))
    });
    bob.wait_for("typed while the server was down");
    // Exactly once, for the sender, for the others, and in stored history.
    let carol = Tui::start(&server.url(), "carol", &["dev"], WIDE);
    carol.wait_for("end of history");
    for t in [&ann, &bob, &carol] {
        let screen = t.screen();
        assert_eq!(
            screen.matches("typed while the server was down").count(),
            1,
            "{}:\n{screen}",
            t.name
        );
    }
}

#[test]
fn a_message_the_server_refuses_is_marked_failed_with_the_reason() {
    // One request in the bucket after the join, refilled very slowly.
    let server = Server::start_with_rate(0.001, 2);
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("this one fits");
    ann.wait_until("the first message to be confirmed", |t| {
        t.row_with("this one fits")
            .is_some_and(|r| !r.contains("sending"))
    });
    ann.line("this one is too fast");
    ann.wait_until("the second message to be marked failed", |t| {
        t.row_with("this one is too fast")
            .is_some_and(|r| r.contains("✗ not sent: too many requests"))
    });
    assert!(
        !ann.row_with("this one fits").unwrap().contains("not sent"),
        "{}",
        ann.screen()
    );
}

#[test]
fn help_lists_the_keys_and_commands_of_the_tables() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-tui"))
        .arg("--help")
        .env("CHAT_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for row in tui_client::keymap::KEYMAP {
        assert!(
            text.contains(&row.keys_label()),
            "{}:\n{text}",
            row.keys_label()
        );
    }
    for c in tui_client::commands::commands() {
        assert!(text.contains(c.usage), "{}:\n{text}", c.usage);
    }
    assert!(text.contains("--name <NAME>"), "{text}");
}

#[test]
fn a_refused_rejoin_keeps_the_room_and_fails_its_waiting_line_until_joined_again() {
    // On disk: the restarted server still knows who ann is.
    let mut server = Server::start_on_disk();
    let mut ann = Tui::start(&server.url(), "ann", &["dev", "ops"], WIDE);
    ann.wait_for("you joined #dev");
    ann.send("\x1b2"); // Alt-2
    ann.wait_for("you joined #ops");

    server.stop();
    ann.wait_for("disconnected");
    ann.line("typed in ops while the server was down");
    ann.wait_until("the line to show as pending", |t| {
        t.row_with("typed in ops while the server was down")
            .is_some_and(|r| r.contains("… sending"))
    });
    // Back with room for one room per connection: dev is rejoined first,
    // ops is refused.
    server.max_rooms = 1;
    server.restart();
    ann.wait_until("the line to be marked failed with the reason", |t| {
        t.row_with("typed in ops while the server was down")
            .is_some_and(|r| r.contains("✗ not sent: a connection may be in at most 1 rooms"))
    });
    ann.wait_for("(/join ops tries again)");
    assert!(
        ann.sidebar_row("ops").contains("ops"),
        "the room stays:\n{}",
        ann.screen()
    );
    // Nothing resends it by itself; the person makes room and asks again.
    ann.line("/leave dev");
    ann.line("/join ops");
    ann.wait_for("rejoined #ops");
    assert!(
        ann.row_with("typed in ops while the server was down")
            .is_some_and(|r| r.contains("✗ not sent")),
        "{}",
        ann.screen()
    );
    ann.line("/retry");
    ann.wait_until("the line to be sent", |t| {
        t.row_with("typed in ops while the server was down")
            .is_some_and(|r| !r.contains("sending") && !r.contains("not sent"))
    });
}

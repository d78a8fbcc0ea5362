//! End-to-end, two real `chat-tui`s in pseudo-terminals against the real
//! server: direct messages, names, away, whois, the room directory and
//! topics, each command as a person types it.

#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is a failed test

mod harness;

use harness::*;

#[test]
fn two_people_write_to_each_other_alone() {
    let server = Server::start();
    let (mut ann, mut bob) = ann_and_bob(&server);
    ann.line("/msg bob just between us");
    // ann's conversation is listed after the room, not switched to.
    ann.wait_until("ann's buffer for bob", |t| {
        t.sidebar_row("bob").contains("2")
    });
    ann.wait_for("[dev]");
    // bob's opens by itself, with a mention mark; the room saw nothing.
    bob.wait_until("bob's buffer for ann, marked", |t| {
        t.sidebar_row("ann").contains("@1")
    });
    assert!(
        !bob.screen().contains("just between us"),
        "{}",
        bob.screen()
    );
    bob.send("\x1b2"); // Alt-2
    bob.wait_for("[ann]");
    bob.wait_for("just between us");
    bob.wait_for("ann · direct");
    assert!(!bob.sidebar_row("ann").contains("@1"));
    // bob answers in the buffer; ann's conversation gets it, marked.
    bob.line("got it");
    ann.wait_until("ann's buffer marked", |t| {
        t.sidebar_row("bob").contains("@1")
    });
    ann.line("/query bob");
    ann.wait_for("[bob]");
    ann.wait_for("got it");
    ann.wait_for("just between us");
    // Writing to yourself, or to nobody, is explained.
    ann.line("/msg zed hello?");
    ann.wait_for("nobody is called zed");
    // The line is not lost: it is back in the input line.
    ann.wait_for("[bob] /msg zed hello?");
    ann.send("\x15"); // Ctrl-U
    ann.line("/query ann");
    ann.wait_for("that is you");
}

#[test]
fn a_conversation_comes_back_after_a_restart() {
    let server = Server::start();
    let (mut ann, bob) = ann_and_bob(&server);
    ann.line("/msg bob remember me");
    bob.wait_until("bob's buffer", |t| t.sidebar_row("ann").contains("@1"));
    // ann starts again on the same device: the welcome lists the
    // conversation, and its lines are there again.
    let data = ann.data.clone();
    let keep = ann.own_data.take();
    ann.line("/quit");
    ann.wait_exit();
    drop(ann);
    let mut ann = Tui::start_in(&data, &server.url(), None, &["dev"], WIDE, &[]);
    ann.wait_for("you joined #dev");
    ann.wait_until("the conversation in the sidebar", |t| {
        t.sidebar_row("bob").contains("bob")
    });
    ann.send("\x1b2"); // Alt-2
    ann.wait_for("remember me");
    drop(keep);
}

#[test]
fn a_new_name_is_seen_by_the_others() {
    let server = Server::start();
    let (mut ann, bob) = ann_and_bob(&server);
    ann.line("/nick anna");
    bob.wait_for("ann is now known as anna");
    ann.wait_for("you are now known as anna");
    ann.wait_for("· anna ·");
    // ann created the room, so she owns it: `@` before her new name.
    bob.wait_until("the user list to say @anna", |t| {
        t.rows().iter().any(|r| r.trim_end().ends_with("│ @anna"))
    });
    // A name someone has is refused with the server's reason.
    ann.line("/nick bob");
    ann.wait_for("cannot change your name to bob");
}

#[test]
fn away_is_marked_and_a_line_to_someone_away_says_why() {
    let server = Server::start();
    let (mut ann, mut bob) = ann_and_bob(&server);
    bob.line("/away lunch");
    bob.wait_for("you are marked away: lunch");
    bob.wait_for("bob (away)");
    ann.wait_for("bob (away)");
    ann.line("/msg bob are you there?");
    ann.wait_until("ann's buffer for bob", |t| {
        t.sidebar_row("bob").contains("2")
    });
    ann.send("\x1b2"); // Alt-2
    ann.wait_for("bob is away: lunch");
    ann.wait_for("bob · direct · away: lunch");
    bob.line("/back");
    bob.wait_for("you are back");
    ann.wait_until("the mark to go", |t| !t.screen().contains("(away)"));
}

#[test]
fn whois_tells_who_someone_is() {
    let server = Server::start();
    let (mut ann, _bob) = ann_and_bob(&server);
    ann.line("/whois bob");
    ann.wait_for("bob is online (1 device)");
    ann.wait_for("rooms you share: #dev");
    ann.wait_for("known since");
    ann.line("/whois nobody");
    ann.wait_for("nobody is called nobody");
}

#[test]
fn the_room_directory_lists_rooms_and_tab_completes_them() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["ops", "dev"], WIDE);
    bob.wait_for("you joined #ops");
    ann.wait_for("bob joined #dev");
    ann.line("/list");
    ann.wait_for("2 rooms");
    ann.wait_for("#dev (2 members)");
    ann.wait_for("#ops (1 member)");
    // ann is not in ops, yet Tab knows it from the list.
    ann.send("/join o\t");
    ann.wait_for("[dev] /join ops");
    ann.send("\r");
    ann.wait_for("you joined #ops");
}

#[test]
fn a_topic_is_in_the_status_line_and_in_the_room() {
    let server = Server::start();
    let (mut ann, mut bob) = ann_and_bob(&server);
    ann.line("/topic ship it friday");
    bob.wait_for("ann set the topic: ship it friday");
    bob.wait_for("#dev · 2 users · ship it friday");
    ann.wait_for("you set the topic: ship it friday");
    bob.line("/topic");
    bob.wait_for("the topic of #dev: ship it friday");
    // Someone joining later finds it in the status line.
    let carol = Tui::start(&server.url(), "carol", &["dev"], WIDE);
    carol.wait_for("#dev · 3 users · ship it friday");
}

#[test]
fn a_double_slash_sends_a_line_starting_with_one() {
    let server = Server::start();
    let (mut ann, bob) = ann_and_bob(&server);
    ann.line("//etc/hosts is where it lives");
    bob.wait_for("/etc/hosts is where it lives");
    ann.line("/help msg");
    ann.wait_for("/msg NAME TEXT: send TEXT to NAME alone");
}

#[test]
fn a_conversation_resumes_after_a_reconnect_and_keeps_lines_typed_meanwhile() {
    // On disk: the restarted server still has the conversation.
    let mut server = Server::start_on_disk();
    let (mut ann, bob) = ann_and_bob(&server);
    ann.line("/query bob");
    ann.wait_for("[bob]");
    ann.line("before the restart");
    bob.wait_until("bob's buffer", |t| t.sidebar_row("ann").contains("@1"));
    server.stop();
    ann.wait_for("disconnected");
    // Typed while the server is away: pending, then sent on the rejoin.
    ann.line("while it was down");
    ann.wait_for("while it was down … sending");
    server.restart();
    ann.wait_until_within(WAIT * 2, "the line to be sent", |t| {
        t.screen().contains("while it was down") && !t.screen().contains("… sending")
    });
    bob.wait_until_within(WAIT * 2, "the line in bob's buffer", |t| {
        t.sidebar_row("ann").contains("@2")
    });
    // One buffer each, the earlier line once.
    assert_eq!(ann.screen().matches("before the restart").count(), 1);
    assert!(!ann.sidebar_row("bob").is_empty());
    assert_eq!(
        ann.rows()
            .iter()
            .filter(|r| r.contains('│') && r.split('│').next().is_some_and(|s| s.contains("bob")))
            .count(),
        1,
        "{}",
        ann.screen()
    );
}

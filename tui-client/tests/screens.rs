//! Whole-screen snapshots of the main states, drawn with ratatui's
//! TestBackend from scripted events. Times are shown in UTC with a fixed
//! clock so the pictures are the same on every machine.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

mod screen_kit;

use crossterm::event::{KeyCode, KeyModifiers};
use protocol::ServerEvent;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use screen_kit::*;
use tui_client::app::Event;
use tui_client::keymap::Action;
use tui_client::net::{NetEvent, Welcome};

#[test]
fn empty_room() {
    let mut app = new_app(&["dev"]);
    connect(&mut app, &[("dev", &["ann"])]);
    let terminal = screen(&mut app, 100, 20);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn busy_room() {
    let mut app = new_app(&["dev"]);
    busy(&mut app);
    type_text(&mut app, "sounds good 👍");
    let terminal = screen(&mut app, 120, 34);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn scrolled_up_with_new_messages_below() {
    let mut app = new_app(&["dev"]);
    busy(&mut app);
    let _ = screen(&mut app, 100, 20);
    act(&mut app, Action::PageUp);
    let before = screen(&mut app, 100, 20);
    // Two messages arrive while reading older ones: the view stays put.
    say(
        &mut app,
        "dev",
        9,
        T0 + 24 * 60 * MIN + 2 * MIN,
        "dave",
        "hello?",
    );
    say(
        &mut app,
        "dev",
        10,
        T0 + 24 * 60 * MIN + 3 * MIN,
        "dave",
        "anyone?",
    );
    let after = screen(&mut app, 100, 20);
    let rows = |t: &Terminal<TestBackend>| -> Vec<String> {
        let buf = t.backend().buffer();
        (0..buf.area.height)
            .map(|y| (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect())
            .collect()
    };
    // Everything above the marker row is unchanged.
    assert_eq!(rows(&before)[..16], rows(&after)[..16]);
    insta::assert_snapshot!(after.backend());
    // End goes back to the newest and the marker disappears.
    key(&mut app, KeyCode::End, KeyModifiers::NONE);
    let bottom = screen(&mut app, 100, 20);
    let text = bottom.backend().to_string();
    assert!(text.contains("anyone?"), "{text}");
    assert!(!text.contains("new messages below"), "{text}");
}

#[test]
fn unread_counts_and_mentions() {
    let mut app = new_app(&["dev", "ops", "random"]);
    connect(
        &mut app,
        &[
            ("dev", &["ann", "bob"]),
            ("ops", &["ann", "carol"]),
            ("random", &["ann", "dave"]),
        ],
    );
    say(&mut app, "dev", 1, T0, "bob", "here in dev");
    for seq in 1..=3 {
        say(
            &mut app,
            "ops",
            seq,
            T0 + seq as i64 * MIN,
            "carol",
            "ops chatter",
        );
    }
    say(
        &mut app,
        "random",
        1,
        T0 + 5 * MIN,
        "dave",
        "hey ann, lunch?",
    );
    say(&mut app, "random", 2, T0 + 6 * MIN, "dave", "ping");
    let terminal = screen(&mut app, 100, 16);
    insta::assert_snapshot!(terminal.backend());

    // Alt-A goes to the mention first and clears its count.
    key(&mut app, KeyCode::Char('a'), KeyModifiers::ALT);
    assert_eq!(app.current, 2);
    assert_eq!((app.rooms[2].unread, app.rooms[2].mentioned), (0, false));
    assert_eq!(app.rooms[1].unread, 3);
    // Alt-2 goes to ops and clears it.
    key(&mut app, KeyCode::Char('2'), KeyModifiers::ALT);
    assert_eq!(app.current, 1);
    assert_eq!(app.rooms[1].unread, 0);
}

#[test]
fn narrow_80x24() {
    let mut app = new_app(&["dev", "ops"]);
    busy(&mut app);
    server(
        &mut app,
        ServerEvent::RoomState {
            room: "ops".into(),
            users: vec![member("ann")],
            topic: None,
            modes: Default::default(),
        },
    );
    say(&mut app, "ops", 1, T0, "bob", "ann, ops needs you");
    app.notice = None;
    let terminal = screen(&mut app, 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn disconnected_status_and_help() {
    let mut app = new_app(&["dev"]);
    connect(&mut app, &[("dev", &["ann", "bob"])]);
    net(
        &mut app,
        NetEvent::Disconnected {
            reason: "the connection was closed".into(),
            retry_in: std::time::Duration::from_millis(1500),
        },
    );
    type_text(&mut app, "/help");
    act(&mut app, Action::Submit);
    type_text(&mut app, "/frob");
    act(&mut app, Action::Submit);
    let terminal = screen(&mut app, 100, 24);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn hostile_text_is_drawn_inert() {
    let mut app = new_app(&["dev"]);
    connect(&mut app, &[("dev", &["ann", "mallory"])]);
    say(
        &mut app,
        "dev",
        1,
        T0,
        "mallory",
        "\u{1b}[2J\u{1b}]0;owned\u{07}\u{1b}]52;c;ZWNobyBoaQ==\u{07}\u{07}\u{202e}harmless\u{1b}[31m",
    );
    let terminal = screen(&mut app, 80, 10);
    let buf = terminal.backend().buffer();
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control()),
            "control character drawn: {:?}",
            cell.symbol()
        );
    }
    assert!(terminal.backend().to_string().contains("harmless"));
}

#[test]
fn very_narrow_terminal_puts_names_inline() {
    let mut app = new_app(&["dev", "ops"]);
    busy(&mut app);
    let terminal = screen(&mut app, 48, 14);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn history_rule_and_pending_sent_and_failed_messages() {
    let mut app = new_app(&["dev"]);
    let fx = app.update(
        Event::Net(NetEvent::from(Welcome {
            server: "chat-server/0.1.0".into(),
            name: "ann".into(),
            limits: limits(),
            epoch: "e1".into(),
            user: user("ann"),
            device: device(),
            heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
            note: None,
            dms: Vec::new(),
        })),
        T0,
    );
    let join = last_sent_id(&fx);
    server(
        &mut app,
        ServerEvent::RoomState {
            room: "dev".into(),
            users: vec![member("bob"), member("ann")],
            topic: None,
            modes: Default::default(),
        },
    );
    // Stored history on join, then the rule, then live traffic.
    let stored = (1..=3)
        .map(|seq| ServerEvent::Message {
            room: "dev".into(),
            seq,
            ts: T0 + seq as i64 * MIN,
            from: "bob".into(),
            user: uid("bob"),
            id: format!("h{seq}"),
            text: format!("stored message {seq}"),
            action: false,
        })
        .collect();
    server(
        &mut app,
        ServerEvent::History {
            room: "dev".into(),
            events: stored,
            more: false,
            missed: 0,
            continues: false,
        },
    );
    // The join's ack: lines go out from now on.
    server(&mut app, ServerEvent::ack_ok(join, None));
    say(&mut app, "dev", 4, T0 + 10 * MIN, "bob", "a live one");
    // Sent and confirmed (ack, then the echo: shown once).
    type_text(&mut app, "this one arrived");
    let fx = app.update(Event::Action(Action::Submit), T0 + 11 * MIN);
    let sent = last_sent_id(&fx);
    server(&mut app, ServerEvent::ack_ok(sent.clone(), Some(5)));
    server(
        &mut app,
        ServerEvent::Message {
            room: "dev".into(),
            seq: 5,
            ts: T0 + 11 * MIN,
            from: "ann".into(),
            user: uid("ann"),
            id: sent,
            text: "this one arrived".into(),
            action: false,
        },
    );
    // Refused by the server.
    type_text(&mut app, "this one was refused");
    let fx = app.update(Event::Action(Action::Submit), T0 + 12 * MIN);
    let refused = last_sent_id(&fx);
    server(
        &mut app,
        ServerEvent::ack_err(
            refused,
            protocol::ErrorCode::RateLimited,
            "too many requests: slow down",
        ),
    );
    app.notice = None;
    // Still on its way.
    type_text(&mut app, "this one is on its way");
    app.update(Event::Action(Action::Submit), T0 + 13 * MIN);
    let terminal = screen(&mut app, 100, 16);
    let text = terminal.backend().to_string();
    assert_eq!(text.matches("this one arrived").count(), 1, "{text}");
    // Pending text is dim; confirmed text is not.
    let buf = terminal.backend().buffer();
    let style_of = |needle: &str| {
        (0..buf.area.height).find_map(|y| {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            let col = row.find(needle)?;
            let x = row[..col].chars().count() as u16;
            Some(buf[(x, y)].modifier)
        })
    };
    let dim = ratatui::style::Modifier::DIM;
    assert!(style_of("this one is on its way").unwrap().contains(dim));
    assert!(!style_of("this one arrived").unwrap().contains(dim));
    insta::assert_snapshot!(terminal.backend());
}

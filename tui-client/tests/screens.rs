//! Whole-screen snapshots of the main states, drawn with ratatui's
//! TestBackend from scripted events. Times are shown in UTC with a fixed
//! clock so the pictures are the same on every machine.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use protocol::{ServerEvent, ServerLimits};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_client::app::{App, Display, Event};
use tui_client::config::{Bell, Clock};
use tui_client::keymap::{self, Action};
use tui_client::net::{NetEvent, Welcome};
use tui_client::theme::{ColorMode, Theme};
use tui_client::ui;
use tui_client::zone::Zone;

/// 2026-11-02 09:00 UTC, a Monday.
const T0: i64 = 1_793_610_000_000;
const MIN: i64 = 60_000;

/// The identity id the tests give `name`.
fn uid(name: &str) -> String {
    format!("u_{name}")
}

fn user(name: &str) -> protocol::UserRef {
    protocol::UserRef {
        id: uid(name),
        name: name.into(),
    }
}

fn member(name: &str) -> protocol::Member {
    protocol::Member {
        id: uid(name),
        name: name.into(),
        away: None,
    }
}

fn device() -> protocol::DeviceRef {
    protocol::DeviceRef {
        id: "d_1".into(),
        name: "test".into(),
    }
}

fn limits() -> ServerLimits {
    ServerLimits {
        max_name_chars: 32,
        max_room_chars: 32,
        max_text_chars: 4000,
        max_frame_bytes: 32768,
        max_server_frame_bytes: protocol::limits::MAX_SERVER_FRAME_BYTES,
        max_rooms: 32,
        rate_per_sec: 10.0,
        rate_burst: 30,
    }
}

fn new_app(rooms: &[&str]) -> App {
    let rooms: Vec<String> = rooms.iter().map(|r| r.to_string()).collect();
    let display = Display {
        clock: Clock::H12,
        zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
        theme: Theme::new(ColorMode::Basic),
        bell: Bell::Mentions,
    };
    App::new("ann", "ws://127.0.0.1:3000/ws", &rooms, display, None)
}

fn net(app: &mut App, ev: NetEvent) {
    app.update(Event::Net(ev), T0);
}

fn server(app: &mut App, ev: ServerEvent) {
    net(app, NetEvent::Server(ev));
}

fn connect(app: &mut App, rooms: &[(&str, &[&str])]) {
    net(
        app,
        NetEvent::Connected(Welcome {
            server: "chat-server/0.1.0".into(),
            name: "ann".into(),
            limits: limits(),
            epoch: "e1".into(),
            user: user("ann"),
            device: device(),
            heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
            note: None,
        }),
    );
    for (room, users) in rooms {
        server(
            app,
            ServerEvent::RoomState {
                room: room.to_string(),
                users: users.iter().map(|u| member(u)).collect(),
                topic: None,
            },
        );
        // A new room: its history is empty.
        server(
            app,
            ServerEvent::History {
                room: room.to_string(),
                events: Vec::new(),
                more: false,
                missed: 0,
                continues: false,
            },
        );
    }
}

fn say(app: &mut App, room: &str, seq: u64, ts: i64, from: &str, text: &str) {
    server(
        app,
        ServerEvent::Message {
            room: room.into(),
            seq,
            ts,
            from: from.into(),
            user: uid(from),
            id: format!("m{seq}"),
            text: text.into(),
            action: false,
        },
    );
}

fn act(app: &mut App, action: Action) {
    app.update(Event::Action(action), T0);
}

fn key(app: &mut App, code: KeyCode, modifiers: KeyModifiers) {
    if let Some(a) = keymap::map(KeyEvent::new(code, modifiers)) {
        act(app, a);
    }
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

/// Draws like the event loop does: the app learns the terminal's size
/// from an event, then one draw, whose report of what the pane showed goes
/// back to the app. The pane it draws has the height the app pages by.
fn screen(app: &mut App, width: u16, height: u16) -> Terminal<TestBackend> {
    app.update(Event::Resize { width, height }, T0);
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let mut drawn = ui::Drawn::default();
    terminal.draw(|f| drawn = ui::draw(f, app)).unwrap();
    assert_eq!(usize::from(drawn.pane.height), app.message_pane_rows());
    if let Some(shown) = drawn.shown {
        app.update(Event::Shown(shown), T0);
    }
    terminal
}

fn busy(app: &mut App) {
    connect(app, &[("dev", &["bob", "ann", "Zoë", "carol"])]);
    let lines = [
        ("bob", "morning all"),
        ("carol", "hi bob, did the deploy go out?"),
        (
            "bob",
            "yes, 0.4.2 is live. ann: can you check the dashboards when you have a minute? the p99 went up a bit after the rollout and I would like a second pair of eyes on it",
        ),
        (
            "Zoë",
            "日本語のテキストも折り返します。幅の広い文字と絵文字 🦀🎉 が正しく折り返されるか確認",
        ),
        ("ann", "on it"),
    ];
    for (i, (from, text)) in lines.iter().enumerate() {
        say(app, "dev", i as u64 + 1, T0 + i as i64 * MIN, from, text);
    }
    server(
        app,
        ServerEvent::Message {
            room: "dev".into(),
            seq: 6,
            ts: T0 + 6 * MIN,
            from: "carol".into(),
            user: uid("carol"),
            id: "a1".into(),
            text: "waves".into(),
            action: true,
        },
    );
    server(
        app,
        ServerEvent::Location {
            room: "dev".into(),
            seq: 7,
            ts: T0 + 7 * MIN,
            from: "bob".into(),
            user: uid("bob"),
            id: "l1".into(),
            latitude: 51.5007,
            longitude: -0.1246,
        },
    );
    server(
        app,
        ServerEvent::UserLeft {
            room: "dev".into(),
            name: "carol".into(),
            user: uid("carol"),
            ts: T0 + 8 * MIN,
        },
    );
    // The next day.
    say(
        app,
        "dev",
        8,
        T0 + 24 * 60 * MIN,
        "bob",
        "new day, new bugs",
    );
    server(
        app,
        ServerEvent::UserJoined {
            room: "dev".into(),
            name: "dave".into(),
            user: uid("dave"),
            ts: T0 + 24 * 60 * MIN + 1,
        },
    );
}

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

/// The request id of the last frame the app asked to send.
fn last_sent_id(fx: &[tui_client::app::Effect]) -> String {
    fx.iter()
        .rev()
        .find_map(|e| match e {
            tui_client::app::Effect::Send(f) => f.request_id().map(str::to_string),
            _ => None,
        })
        .unwrap()
}

#[test]
fn history_rule_and_pending_sent_and_failed_messages() {
    let mut app = new_app(&["dev"]);
    let fx = app.update(
        Event::Net(NetEvent::Connected(Welcome {
            server: "chat-server/0.1.0".into(),
            name: "ann".into(),
            limits: limits(),
            epoch: "e1".into(),
            user: user("ann"),
            device: device(),
            heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
            note: None,
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

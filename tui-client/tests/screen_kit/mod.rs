//! What the screen tests share: an app with a fixed clock and zone, the
//! server's events it is fed, keys, and a draw like the event loop's.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test
#![allow(dead_code)] // each test binary uses its own share of the helpers

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
pub const T0: i64 = 1_793_610_000_000;
pub const MIN: i64 = 60_000;

/// The identity id the tests give `name`.
pub fn uid(name: &str) -> String {
    format!("u_{name}")
}

pub fn user(name: &str) -> protocol::UserRef {
    protocol::UserRef {
        id: uid(name),
        name: name.into(),
    }
}

pub fn member(name: &str) -> protocol::Member {
    protocol::Member {
        id: uid(name),
        name: name.into(),
        away: None,
        role: None,
    }
}

pub fn device() -> protocol::DeviceRef {
    protocol::DeviceRef {
        id: "d_1".into(),
        name: "test".into(),
    }
}

pub fn limits() -> ServerLimits {
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

pub fn new_app(rooms: &[&str]) -> App {
    let rooms: Vec<String> = rooms.iter().map(|r| r.to_string()).collect();
    let display = Display {
        clock: Clock::H12,
        zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
        theme: Theme::new(ColorMode::Basic),
        bell: Bell::Mentions,
    };
    App::new("ann", "ws://127.0.0.1:3000/ws", &rooms, display, None)
}

pub fn net(app: &mut App, ev: NetEvent) {
    app.update(Event::Net(ev), T0);
}

pub fn server(app: &mut App, ev: ServerEvent) {
    net(app, NetEvent::from(ev));
}

pub fn connect(app: &mut App, rooms: &[(&str, &[&str])]) {
    net(
        app,
        NetEvent::from(Welcome {
            server: "chat-server/0.1.0".into(),
            name: "ann".into(),
            limits: limits(),
            epoch: "e1".into(),
            user: user("ann"),
            device: device(),
            heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
            note: None,
            dms: Vec::new(),
        }),
    );
    for (room, users) in rooms {
        server(
            app,
            ServerEvent::RoomState {
                room: room.to_string(),
                users: users.iter().map(|u| member(u)).collect(),
                topic: None,
                modes: Default::default(),
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

pub fn say(app: &mut App, room: &str, seq: u64, ts: i64, from: &str, text: &str) {
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

pub fn act(app: &mut App, action: Action) {
    app.update(Event::Action(action), T0);
}

pub fn key(app: &mut App, code: KeyCode, modifiers: KeyModifiers) {
    if let Some(a) = keymap::map(KeyEvent::new(code, modifiers)) {
        act(app, a);
    }
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c), KeyModifiers::NONE);
    }
}

/// Draws like the event loop does: the app learns the terminal's size
/// from an event, then one draw, whose report of what the pane showed goes
/// back to the app. The pane it draws has the height the app pages by.
pub fn screen(app: &mut App, width: u16, height: u16) -> Terminal<TestBackend> {
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

pub fn busy(app: &mut App) {
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
            role: None,
            ts: T0 + 24 * 60 * MIN + 1,
        },
    );
}

/// The request id of the last frame the app asked to send.
pub fn last_sent_id(fx: &[tui_client::app::Effect]) -> String {
    fx.iter()
        .rev()
        .find_map(|e| match e {
            tui_client::app::Effect::Send(f) => f.request_id().map(str::to_string),
            _ => None,
        })
        .unwrap()
}

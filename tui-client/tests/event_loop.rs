//! The event loop driven without a terminal or a server: a TestBackend,
//! scripted key events, and the two channels a network actor would use.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

use std::time::Duration;

use chrono::FixedOffset;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use protocol::{ClientEvent, ErrorCode, ServerEvent, ServerLimits};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use tui_client::app::{App, Display};
use tui_client::config::{Bell, Clock};
use tui_client::event_loop::{self, Exit, LoopOptions, NetLink};
use tui_client::net::{NetCommand, NetEvent, Welcome};
use tui_client::theme::{ColorMode, Theme};
use tui_client::zone::Zone;

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
    let u = user(name);
    protocol::Member {
        id: u.id,
        name: u.name,
        away: None,
        role: None,
    }
}

fn device() -> protocol::DeviceRef {
    protocol::DeviceRef {
        id: "d_1".into(),
        name: "test".into(),
    }
}

fn key(code: KeyCode, modifiers: KeyModifiers) -> std::io::Result<TermEvent> {
    Ok(TermEvent::Key(KeyEvent::new(code, modifiers)))
}

/// A command to the network actor as the tests read it: unboxed.
#[derive(Debug, PartialEq)]
enum Command {
    Send(ClientEvent),
    Shutdown,
}

async fn next_command(rx: &mut mpsc::Receiver<NetCommand>, wait: Duration) -> Option<Command> {
    let command = tokio::time::timeout(wait, rx.recv()).await.ok().flatten()?;
    Some(match command {
        NetCommand::Send(event) => Command::Send(*event),
        NetCommand::Shutdown => Command::Shutdown,
    })
}

#[tokio::test]
async fn keys_in_frames_out_and_ctrl_c_quits() {
    let display = Display {
        clock: Clock::H24,
        zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
        theme: Theme::new(ColorMode::None),
        bell: Bell::Off,
    };
    let mut app = App::new(
        "ann",
        "ws://127.0.0.1:1/ws",
        &["dev".to_string()],
        display,
        None,
    );
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (key_tx, mut key_rx) = mpsc::channel(64);
    let input = futures::stream::poll_fn(move |cx| key_rx.poll_recv(cx));
    let (cmd_tx, mut cmd_rx) = mpsc::channel(64);
    let (net_tx, net_rx) = mpsc::channel(64);
    let link = NetLink {
        commands: cmd_tx,
        events: net_rx,
    };
    let options = LoopOptions {
        hyperlinks: false,
        link_color: false,
    };

    let driver = async {
        net_tx
            .send(NetEvent::from(Welcome {
                server: "chat-server/test".into(),
                name: "ann".into(),
                limits: ServerLimits {
                    max_name_chars: 32,
                    max_room_chars: 32,
                    max_text_chars: 4000,
                    max_frame_bytes: 32768,
                    max_server_frame_bytes: protocol::limits::MAX_SERVER_FRAME_BYTES,
                    max_rooms: 32,
                    rate_per_sec: 0.0,
                    rate_burst: 0,
                },
                epoch: "e1".into(),
                user: user("ann"),
                device: device(),
                heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
                note: None,
                dms: Vec::new(),
            }))
            .await
            .unwrap();
        // Connecting joins the configured rooms without any key press.
        let join = next_command(&mut cmd_rx, Duration::from_secs(10)).await;
        let Some(Command::Send(ClientEvent::Join { id, room, .. })) = join else {
            panic!("expected a join, got {join:?}");
        };
        assert_eq!(room, "dev");
        net_tx
            .send(NetEvent::from(ServerEvent::RoomState {
                room: "dev".into(),
                users: vec![member("ann"), member("bob")],
                topic: None,
                modes: Default::default(),
            }))
            .await
            .unwrap();
        net_tx
            .send(NetEvent::from(ServerEvent::ack_ok(id, None)))
            .await
            .unwrap();

        for c in "héllo".chars() {
            key_tx
                .send(key(KeyCode::Char(c), KeyModifiers::NONE))
                .await
                .unwrap();
        }
        // Enter until the line is sent: the room state may be handled after
        // the first Enter, which then keeps the line and says why.
        let mut sent = None;
        for _ in 0..50 {
            key_tx
                .send(key(KeyCode::Enter, KeyModifiers::NONE))
                .await
                .unwrap();
            if let Some(cmd) = next_command(&mut cmd_rx, Duration::from_millis(200)).await {
                sent = Some(cmd);
                break;
            }
        }
        match sent {
            Some(Command::Send(ClientEvent::Send {
                room, text, action, ..
            })) => {
                assert_eq!(
                    (room.as_str(), text.as_str(), action),
                    ("dev", "héllo", false)
                );
            }
            other => panic!("expected the message, got {other:?}"),
        }
        // An unknown command is never sent.
        for c in "/frob".chars() {
            key_tx
                .send(key(KeyCode::Char(c), KeyModifiers::NONE))
                .await
                .unwrap();
        }
        key_tx
            .send(key(KeyCode::Enter, KeyModifiers::NONE))
            .await
            .unwrap();
        key_tx
            .send(key(KeyCode::Char('c'), KeyModifiers::CONTROL))
            .await
            .unwrap();
        let rest = next_command(&mut cmd_rx, Duration::from_secs(10)).await;
        assert_eq!(rest, Some(Command::Shutdown));
    };
    let (exit, ()) = tokio::join!(
        event_loop::run(
            &mut terminal,
            input,
            link,
            &mut app,
            options,
            std::future::pending::<()>()
        ),
        driver
    );
    assert_eq!(exit.unwrap(), Exit::Quit);
    let notice = app.notice.as_ref().map(|n| n.text.as_str()).unwrap_or("");
    assert!(notice.starts_with("unknown command /frob"), "{notice}");
    assert!(app.rooms[0].joined);
}

/// The loop sleeps until the app's wake time and then lets the outbox
/// resend: a line refused as `unavailable` goes out again by itself, with
/// no key press and no frame from the server.
#[tokio::test]
async fn the_loop_wakes_for_the_outbox_and_resends() {
    let display = Display {
        clock: Clock::H24,
        zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
        theme: Theme::new(ColorMode::None),
        bell: Bell::Off,
    };
    let mut app = App::new(
        "ann",
        "ws://127.0.0.1:1/ws",
        &["dev".to_string()],
        display,
        None,
    );
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (key_tx, mut key_rx) = mpsc::channel(64);
    let input = futures::stream::poll_fn(move |cx| key_rx.poll_recv(cx));
    let (cmd_tx, mut cmd_rx) = mpsc::channel(64);
    let (net_tx, net_rx) = mpsc::channel(64);
    let link = NetLink {
        commands: cmd_tx,
        events: net_rx,
    };
    let options = LoopOptions {
        hyperlinks: false,
        link_color: false,
    };
    let driver = async {
        net_tx
            .send(NetEvent::from(Welcome {
                server: "chat-server/test".into(),
                name: "ann".into(),
                limits: ServerLimits {
                    max_name_chars: 32,
                    max_room_chars: 32,
                    max_text_chars: 4000,
                    max_frame_bytes: 32768,
                    max_server_frame_bytes: protocol::limits::MAX_SERVER_FRAME_BYTES,
                    max_rooms: 32,
                    rate_per_sec: 0.0,
                    rate_burst: 0,
                },
                epoch: "e1".into(),
                user: user("ann"),
                device: device(),
                heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
                note: None,
                dms: Vec::new(),
            }))
            .await
            .unwrap();
        let Some(Command::Send(ClientEvent::Join { id, .. })) =
            next_command(&mut cmd_rx, Duration::from_secs(10)).await
        else {
            panic!("expected a join");
        };
        net_tx
            .send(NetEvent::from(ServerEvent::ack_ok(id, None)))
            .await
            .unwrap();
        for c in "again?\r".chars() {
            let code = if c == '\r' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            key_tx.send(key(code, KeyModifiers::NONE)).await.unwrap();
        }
        let first = next_command(&mut cmd_rx, Duration::from_secs(10)).await;
        let Some(Command::Send(sent @ ClientEvent::Send { .. })) = first else {
            panic!("expected the line, got {first:?}");
        };
        let id = sent.request_id().unwrap().to_string();
        net_tx
            .send(NetEvent::from(ServerEvent::ack_err(
                id,
                ErrorCode::Unavailable,
                "the shared store is unreachable",
            )))
            .await
            .unwrap();
        // Bounded wait; the backoff is at most half a second.
        let again = next_command(&mut cmd_rx, Duration::from_secs(10)).await;
        assert_eq!(again, Some(Command::Send(sent)));
        key_tx
            .send(key(KeyCode::Char('c'), KeyModifiers::CONTROL))
            .await
            .unwrap();
    };
    let (exit, ()) = tokio::join!(
        event_loop::run(
            &mut terminal,
            input,
            link,
            &mut app,
            options,
            std::future::pending::<()>()
        ),
        driver
    );
    assert_eq!(exit.unwrap(), Exit::Quit);
    assert!(app.notice.is_none(), "unavailable is not an error to show");
}

/// The loop hands each draw's report back to the app: that report, once
/// it shows the oldest message held after a PgUp, is what asks the server
/// for older ones.
#[tokio::test]
async fn page_up_to_the_oldest_message_asks_for_older_ones_after_the_draw() {
    let display = Display {
        clock: Clock::H24,
        zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
        theme: Theme::new(ColorMode::None),
        bell: Bell::Off,
    };
    let mut app = App::new(
        "ann",
        "ws://127.0.0.1:1/ws",
        &["dev".to_string()],
        display,
        None,
    );
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let (key_tx, mut key_rx) = mpsc::channel(64);
    let input = futures::stream::poll_fn(move |cx| key_rx.poll_recv(cx));
    let (cmd_tx, mut cmd_rx) = mpsc::channel(64);
    let (net_tx, net_rx) = mpsc::channel(64);
    let link = NetLink {
        commands: cmd_tx,
        events: net_rx,
    };
    let options = LoopOptions {
        hyperlinks: false,
        link_color: false,
    };
    let driver = async {
        net_tx
            .send(NetEvent::from(Welcome {
                server: "chat-server/test".into(),
                name: "ann".into(),
                limits: ServerLimits {
                    max_name_chars: 32,
                    max_room_chars: 32,
                    max_text_chars: 4000,
                    max_frame_bytes: 32768,
                    max_server_frame_bytes: protocol::limits::MAX_SERVER_FRAME_BYTES,
                    max_rooms: 32,
                    rate_per_sec: 0.0,
                    rate_burst: 0,
                },
                epoch: "e1".into(),
                user: user("ann"),
                device: device(),
                heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
                note: None,
                dms: Vec::new(),
            }))
            .await
            .unwrap();
        let Some(Command::Send(ClientEvent::Join { id, .. })) =
            next_command(&mut cmd_rx, Duration::from_secs(10)).await
        else {
            panic!("expected a join");
        };
        let events = (41..=70)
            .map(|seq| ServerEvent::Message {
                room: "dev".into(),
                seq,
                ts: 1_000 * seq as i64,
                from: "bob".into(),
                user: uid("bob"),
                id: format!("m{seq}"),
                text: format!("m{seq}"),
                action: false,
            })
            .collect();
        for ev in [
            ServerEvent::RoomState {
                room: "dev".into(),
                users: vec![member("ann"), member("bob")],
                topic: None,
                modes: Default::default(),
            },
            ServerEvent::History {
                room: "dev".into(),
                events,
                more: true,
                missed: 0,
                continues: false,
            },
            ServerEvent::ack_ok(id, None),
        ] {
            net_tx.send(NetEvent::from(ev)).await.unwrap();
        }
        // PgUp until the request goes out (the history may be handled after
        // the first presses); bounded.
        let mut asked = None;
        for _ in 0..50 {
            key_tx
                .send(key(KeyCode::PageUp, KeyModifiers::NONE))
                .await
                .unwrap();
            if let Some(cmd) = next_command(&mut cmd_rx, Duration::from_millis(200)).await {
                asked = Some(cmd);
                break;
            }
        }
        match asked {
            Some(Command::Send(ClientEvent::History { room, before, .. })) => {
                assert_eq!((room.as_str(), before), ("dev", 41));
            }
            other => panic!("expected a request for older messages, got {other:?}"),
        }
        key_tx
            .send(key(KeyCode::Char('c'), KeyModifiers::CONTROL))
            .await
            .unwrap();
    };
    let (exit, ()) = tokio::join!(
        event_loop::run(
            &mut terminal,
            input,
            link,
            &mut app,
            options,
            std::future::pending::<()>()
        ),
        driver
    );
    assert_eq!(exit.unwrap(), Exit::Quit);
    // The last screen shows the oldest message held, under the row that
    // says the older ones are on their way.
    let screen = terminal.backend().to_string();
    assert!(screen.contains("m41"), "{screen}");
    assert!(screen.contains("loading older messages…"), "{screen}");
}

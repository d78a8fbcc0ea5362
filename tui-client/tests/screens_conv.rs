//! Snapshots of conversations at 80x24 and 120x32: a direct-message
//! buffer listed after the rooms with its mark, someone away in the user
//! list, and a room's topic in the status line.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

mod screen_kit;

use protocol::{Member, ServerEvent};
use screen_kit::*;
use tui_client::app::{App, Event};
use tui_client::net::{NetEvent, Welcome};

const ANN: &str = "u_00000000000000a1";
const BOB: &str = "u_00000000000000b2";

fn person(id: &str, name: &str, away: Option<&str>) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        away: away.map(str::to_string),
        role: None,
    }
}

/// ann in `dev` (with a topic, and bob away there) and `ops`, and a
/// message from bob alone that opened a conversation by itself.
fn with_a_conversation() -> App {
    let mut app = new_app(&["dev", "ops"]);
    net(
        &mut app,
        NetEvent::from(Welcome {
            server: "chat-server/0.1.0".into(),
            name: "ann".into(),
            limits: limits(),
            epoch: "e1".into(),
            user: protocol::UserRef {
                id: ANN.into(),
                name: "ann".into(),
            },
            device: device(),
            heartbeat: tui_client::net::DEFAULT_HEARTBEAT,
            note: None,
            dms: Vec::new(),
        }),
    );
    for (room, topic) in [("dev", Some("ship it friday")), ("ops", None)] {
        server(
            &mut app,
            ServerEvent::RoomState {
                room: room.into(),
                users: vec![person(ANN, "ann", None), person(BOB, "bob", Some("lunch"))],
                topic: topic.map(str::to_string),
                modes: Default::default(),
            },
        );
        server(
            &mut app,
            ServerEvent::History {
                room: room.into(),
                events: Vec::new(),
                more: false,
                missed: 0,
                continues: false,
            },
        );
    }
    let message = |seq: u64, text: &str| ServerEvent::Message {
        room: "dev".into(),
        seq,
        ts: T0 + seq as i64 * MIN,
        from: "bob".into(),
        user: BOB.into(),
        id: format!("m{seq}"),
        text: text.into(),
        action: false,
    };
    server(&mut app, message(1, "the release is friday"));
    server(
        &mut app,
        ServerEvent::Message {
            room: protocol::dm::key(ANN, BOB),
            seq: 1,
            ts: T0 + 2 * MIN,
            from: "bob".into(),
            user: BOB.into(),
            id: "d1".into(),
            text: "can you cover for me at 2?".into(),
            action: false,
        },
    );
    app.notice = None;
    app
}

#[test]
fn a_conversation_in_the_sidebar_and_a_topic_in_the_status_line() {
    for (width, height) in [(80, 24), (120, 32)] {
        let mut app = with_a_conversation();
        let terminal = screen(&mut app, width, height);
        let text = terminal.backend().to_string();
        assert!(
            text.lines()
                .any(|r| r.starts_with("\" 3 bob ") && r.split('│').next().unwrap().contains("@1")),
            "{text}"
        );
        assert!(text.contains("#dev · 2 users · ship it friday"), "{text}");
        insta::assert_snapshot!(format!("room_{width}x{height}"), terminal.backend());
        // In the conversation: the other person by name, and away.
        app.update(Event::Action(tui_client::keymap::Action::GoToRoom(2)), T0);
        let terminal = screen(&mut app, width, height);
        let text = terminal.backend().to_string();
        assert!(text.contains("bob · direct · away: lunch"), "{text}");
        assert!(text.contains("[bob]"), "{text}");
        insta::assert_snapshot!(format!("conversation_{width}x{height}"), terminal.backend());
    }
}

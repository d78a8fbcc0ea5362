//! A snapshot of a moderated room: roles in the user list (`@` operators
//! first, then `+` voice), the room's modes in the status line, moderation
//! actions in the words every client uses, and a line of yours refused by
//! the content filter, marked failed with the server's reason.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

mod screen_kit;

use protocol::moderation::{ModAction, Role, RoomModes};
use protocol::{ErrorCode, ServerEvent};
use screen_kit::*;
use tui_client::app::Event;
use tui_client::keymap::Action;
use tui_client::net::{NetEvent, Welcome};

fn with_role(name: &str, role: Option<Role>) -> protocol::Member {
    protocol::Member {
        role,
        ..member(name)
    }
}

fn moderation(
    seq: u64,
    action: ModAction,
    actor: &str,
    target: &str,
    reason: Option<&str>,
) -> ServerEvent {
    ServerEvent::Moderation {
        room: "dev".into(),
        seq,
        ts: T0 + seq as i64 * MIN,
        action,
        actor: Some(user(actor)),
        target: Some(user(target)),
        reason: reason.map(str::to_string),
        duration_s: None,
        modes: None,
    }
}

#[test]
fn roles_modes_actions_and_a_line_the_filter_refused() {
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
            users: vec![
                with_role("ann", Some(Role::Owner)),
                member("dave"),
                with_role("carol", Some(Role::Voice)),
                member("bob"),
            ],
            topic: Some("release friday".into()),
            modes: RoomModes {
                topic_lock: true,
                ..RoomModes::default()
            },
        },
    );
    server(
        &mut app,
        ServerEvent::History {
            room: "dev".into(),
            events: vec![moderation(1, ModAction::Voice, "ann", "carol", None)],
            more: false,
            missed: 0,
            continues: false,
        },
    );
    server(&mut app, ServerEvent::ack_ok(join, None));
    say(
        &mut app,
        "dev",
        2,
        T0 + 2 * MIN,
        "dave",
        "buy cheap watches",
    );
    server(&mut app, moderation(3, ModAction::Op, "ann", "bob", None));
    server(
        &mut app,
        moderation(4, ModAction::Mute, "bob", "dave", Some("spam")),
    );
    let mut mode = moderation(5, ModAction::Mode, "bob", "bob", None);
    if let ServerEvent::Moderation { modes, target, .. } = &mut mode {
        *target = None;
        *modes = Some(RoomModes {
            moderated: true,
            topic_lock: true,
            slow_s: 10,
            ..RoomModes::default()
        });
    }
    server(&mut app, mode);
    // Your line, refused by the content filter.
    app.editor.set("damn shitty fucking".into(), 19);
    let fx = app.update(Event::Action(Action::Submit), T0 + 6 * MIN);
    let id = last_sent_id(&fx);
    server(
        &mut app,
        ServerEvent::ack_err(
            id,
            ErrorCode::ContentBlocked,
            "refused by the content filter",
        ),
    );
    app.notice = None;

    let terminal = screen(&mut app, 120, 32);
    let text = terminal.backend().to_string();
    // Operators first, then voice, then the rest, each by name.
    let users: Vec<&str> = text
        .lines()
        .filter_map(|r| r.rsplit('│').next())
        .map(|c| c.trim_end_matches('"').trim())
        .filter(|c| c.starts_with(['@', '+']) || *c == "dave")
        .collect();
    assert_eq!(users, ["@ann", "@bob", "+carol", "dave"], "{text}");
    assert!(
        text.contains("#dev · 4 users · +mt slow 10s · release friday"),
        "{text}"
    );
    assert!(text.contains("ann gave voice to carol"), "{text}");
    assert!(text.contains("ann made bob an operator"), "{text}");
    assert!(text.contains("bob muted dave: spam"), "{text}");
    assert!(
        text.contains("bob set the room's modes: moderated, topic locked, slow mode 10 s"),
        "{text}"
    );
    assert!(
        text.contains("✗ not sent: refused by the content filter"),
        "{text}"
    );
    insta::assert_snapshot!("moderated_room_120x32", terminal.backend());
}

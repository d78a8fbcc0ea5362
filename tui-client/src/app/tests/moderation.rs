//! Moderation: the requests, their refusals, `moderation` events (live and
//! in history), roles and modes, being removed, `/modlog`, and lines
//! refused by the server's rules (never resent).

use protocol::moderation::{FilterMode, ModAction, Role, RoomModes};
use protocol::{ErrorCode, Member};

use super::*;

fn mod_event(
    seq: u64,
    action: ModAction,
    actor: Option<&str>,
    target: Option<&str>,
) -> ServerEvent {
    ServerEvent::Moderation {
        room: "dev".into(),
        seq,
        ts: seq as i64 * 1000,
        action,
        actor: actor.map(user),
        target: target.map(user),
        reason: None,
        duration_s: None,
        modes: None,
    }
}

fn with_role(name: &str, role: Option<Role>) -> Member {
    Member {
        role,
        ..member(name)
    }
}

/// The one frame sent, whatever it is.
fn only_send(fx: &[Effect]) -> ClientEvent {
    match fx {
        [Effect::Send(f)] => f.clone(),
        other => panic!("expected one frame, got {other:?}"),
    }
}

#[test]
fn kick_sends_a_request_for_the_current_room_and_a_refusal_says_why() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = only_send(&typed(&mut a, "/kick bob spamming links"));
    let ClientEvent::Moderate {
        id,
        room,
        action,
        target,
        duration_s,
        reason,
    } = frame
    else {
        panic!("{frame:?}");
    };
    assert_eq!(
        (room.as_str(), action, target.as_deref(), duration_s),
        ("dev", ModAction::Kick, Some("bob"), None)
    );
    assert_eq!(reason.as_deref(), Some("spamming links"));
    a.update(
        nack(&id, ErrorCode::Forbidden, "only operators may kick"),
        0,
    );
    assert_eq!(
        notice(&a),
        "cannot kick bob in #dev: only operators may kick"
    );

    // /ban reads a duration; /mode, /slow, /filter change only what they name.
    let fx = typed(&mut a, "/ban bob 2h flooding");
    assert!(matches!(
        only_send(&fx),
        ClientEvent::Moderate { action: ModAction::Ban, duration_s: Some(7200), reason: Some(r), .. } if r == "flooding"
    ));
    let fx = typed(&mut a, "/mode +mt");
    assert!(matches!(
        only_send(&fx),
        ClientEvent::Mode {
            moderated: Some(true),
            invite_only: None,
            topic_lock: Some(true),
            slow_s: None,
            filter: None,
            ..
        }
    ));
    let fx = typed(&mut a, "/slow 10");
    assert!(matches!(
        only_send(&fx),
        ClientEvent::Mode {
            slow_s: Some(10),
            moderated: None,
            ..
        }
    ));
    let fx = typed(&mut a, "/filter profanity");
    assert!(matches!(
        only_send(&fx),
        ClientEvent::Mode {
            filter: Some(FilterMode::Profanity),
            ..
        }
    ));
    assert!(
        matches!(only_send(&typed(&mut a, "/modlog")), ClientEvent::Modlog { room, .. } if room == "dev")
    );
}

#[test]
fn without_a_connection_a_moderation_command_stays_in_the_input_line() {
    let mut a = app(&["dev"]);
    let fx = typed(&mut a, "/kick bob");
    assert!(fx.is_empty());
    assert_eq!(a.editor.text(), "/kick bob");
    assert!(notice(&a).contains("needs a connection"), "{}", notice(&a));
}

#[test]
fn roles_come_from_room_state_and_change_with_live_events_shown_as_sentences() {
    let mut a = app(&["dev"]);
    a.update(connected(), 0);
    a.update(
        server(ServerEvent::RoomState {
            room: "dev".into(),
            users: vec![
                with_role("ann", Some(Role::Owner)),
                member("bob"),
                with_role("cat", Some(Role::Voice)),
            ],
            topic: None,
            modes: RoomModes {
                topic_lock: true,
                ..RoomModes::default()
            },
        }),
        0,
    );
    let room = &a.rooms[0];
    assert_eq!(room.prefix_of(&uid("ann")), "@");
    assert_eq!(room.prefix_of(&uid("bob")), "");
    assert_eq!(room.prefix_of(&uid("cat")), "+");
    assert_eq!(modes_label(&room.modes), "+t");

    a.update(
        server(mod_event(1, ModAction::Op, Some("ann"), Some("bob"))),
        0,
    );
    a.update(
        server(mod_event(2, ModAction::Devoice, Some("ann"), Some("cat"))),
        0,
    );
    // Taking operator from the owner leaves her the owner.
    a.update(
        server(mod_event(3, ModAction::Deop, Some("ann"), Some("ann"))),
        0,
    );
    let room = &a.rooms[0];
    assert_eq!(room.role_of(&uid("bob")), Some(Role::Op));
    assert_eq!(room.role_of(&uid("cat")), None);
    assert_eq!(room.role_of(&uid("ann")), Some(Role::Owner));
    let shown = texts(room);
    assert!(
        shown.contains(&"-- ann made bob an operator".to_string()),
        "{shown:?}"
    );
    assert!(
        shown.contains(&"-- ann took voice from cat".to_string()),
        "{shown:?}"
    );
    // The events count for resuming like messages.
    assert_eq!(room.last_seq, Some(3));

    let mut mode = mod_event(4, ModAction::Mode, Some("bob"), None);
    if let ServerEvent::Moderation { modes, .. } = &mut mode {
        *modes = Some(RoomModes {
            moderated: true,
            topic_lock: true,
            slow_s: 10,
            ..RoomModes::default()
        });
    }
    a.update(server(mode), 0);
    let room = &a.rooms[0];
    assert_eq!(modes_label(&room.modes), "+mt slow 10s");
    assert_eq!(
        texts(room).last().map(String::as_str),
        Some("-- bob set the room's modes: moderated, topic locked, slow mode 10 s")
    );
}

#[test]
fn a_moderation_event_about_you_is_said_on_the_notice_line_and_history_changes_no_role() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let mut mute = mod_event(4, ModAction::AutoMute, None, Some("ann"));
    if let ServerEvent::Moderation {
        reason, duration_s, ..
    } = &mut mute
    {
        *reason = Some("flooding".into());
        *duration_s = Some(300);
    }
    a.update(server(mute), 0);
    assert_eq!(
        notice(&a),
        "#dev: ann was muted for 5 min by the server: flooding"
    );

    // History replays the sentence but the roles are the room_state's.
    let mut b = app(&["dev"]);
    b.update(connected(), 0);
    room_state(&mut b, "dev");
    b.update(
        server(ServerEvent::History {
            room: "dev".into(),
            events: vec![
                msg("dev", 1, "bob", "hi"),
                mod_event(2, ModAction::Voice, Some("ann"), Some("bob")),
            ],
            more: false,
            missed: 0,
            continues: false,
        }),
        0,
    );
    let room = &b.rooms[0];
    assert!(texts(room).contains(&"-- ann gave voice to bob".to_string()));
    assert_eq!(room.role_of(&uid("bob")), None);
}

#[test]
fn a_line_refused_by_the_content_filter_fails_with_the_reason_and_is_never_resent() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = sent_frame(&typed(&mut a, "damn shitty fucking"));
    a.update(
        nack(
            &id_of(&frame),
            ErrorCode::ContentBlocked,
            "refused by the content filter",
        ),
        0,
    );
    assert_eq!(
        own(&a.rooms[0]),
        [(
            "damn shitty fucking".into(),
            Delivery::Failed("refused by the content filter".into())
        )]
    );
    // No /retry offered: the same words would be refused again.
    assert_eq!(
        notice(&a),
        "not sent to #dev: refused by the content filter"
    );
    // A new connection does not send it again.
    disconnect(&mut a);
    assert!(connect_and_join(&mut a).is_empty());
    assert_eq!(a.wake(), None);

    // Slow mode is worth a retry later; an empty message still gives a reason.
    let frame = sent_frame(&typed(&mut a, "again"));
    a.update(nack(&id_of(&frame), ErrorCode::SlowMode, ""), 0);
    assert_eq!(
        notice(&a),
        "not sent to #dev: slow mode: wait before the next message (/retry sends it again)"
    );
    let frame = sent_frame(&typed(&mut a, "quiet"));
    a.update(
        nack(&id_of(&frame), ErrorCode::Muted, "you are muted for 4 min"),
        0,
    );
    assert!(matches!(
        own(&a.rooms[0]).last(),
        Some((_, Delivery::Failed(r))) if r == "you are muted for 4 min"
    ));
}

#[test]
fn removed_from_a_room_the_buffer_stays_read_only_and_is_not_rejoined_until_join() {
    let mut a = app(&["dev", "ops"]);
    connect_and_join(&mut a);
    a.update(
        server(mod_event(5, ModAction::Kick, Some("bob"), Some("ann"))),
        0,
    );
    let fx = a.update(
        server(ServerEvent::Removed {
            room: "dev".into(),
            action: ModAction::Kick,
            by: Some(user("bob")),
            reason: Some("spam".into()),
        }),
        0,
    );
    assert!(fx.is_empty());
    let dev = &a.rooms[0];
    assert!(dev.removed && !dev.joined && dev.users.is_empty());
    let text = "you were kicked from #dev by bob: spam (/join dev to come back)";
    assert_eq!(
        texts(dev).last().map(String::as_str),
        Some(&*format!("-- {text}"))
    );
    assert_eq!(notice(&a), text);
    // Typing there is refused on the spot, nothing queued.
    a.current = 0;
    assert!(typed(&mut a, "hello?").is_empty());
    assert!(notice(&a).contains("/join dev"), "{}", notice(&a));
    // A reconnection rejoins only the other room.
    disconnect(&mut a);
    let fx = a.update(connected(), 0);
    let rooms: Vec<String> = joins(&fx).into_iter().map(|(_, r)| r).collect();
    assert_eq!(rooms, ["ops"]);
    // /join asks again.
    let fx = typed(&mut a, "/join dev");
    assert_eq!(joins(&fx).len(), 1);
    assert!(!a.rooms[0].removed);
}

#[test]
fn the_mod_log_answer_is_shown_as_lines_and_a_ban_says_no_way_back() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    a.update(
        server(ServerEvent::ModLog {
            room: "dev".into(),
            entries: vec![
                mod_event(1, ModAction::Voice, Some("ann"), Some("bob")),
                mod_event(2, ModAction::Unban, Some("ann"), Some("eve")),
            ],
        }),
        0,
    );
    let shown = texts(&a.rooms[0]);
    let tail: Vec<&str> = shown
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "-- moderation log of #dev (2 actions, oldest first):",
            "--   ann gave voice to bob",
            "--   ann lifted the ban on eve",
        ]
    );
    a.update(
        server(ServerEvent::Removed {
            room: "dev".into(),
            action: ModAction::Ban,
            by: None,
            reason: None,
        }),
        0,
    );
    assert_eq!(notice(&a), "you were banned from #dev by the server");
}

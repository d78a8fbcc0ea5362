//! Rooms: joining and rejoining, history and resume, commands.

use protocol::ErrorCode;

use super::*;

#[test]
fn connecting_joins_every_room_and_reconnecting_rejoins() {
    let mut a = app(&["dev", "ops"]);
    let fx = a.update(connected(), 0);
    assert_eq!(
        joins(&fx).iter().map(|j| j.1.as_str()).collect::<Vec<_>>(),
        ["dev", "ops"]
    );
    room_state(&mut a, "dev");
    disconnect(&mut a);
    assert!(!a.rooms[0].joined);
    let fx = a.update(connected(), 0);
    assert_eq!(joins(&fx).len(), 2);
    room_state(&mut a, "dev");
    // The notice follows the join's history (here: none).
    a.update(
        server(ServerEvent::History {
            room: "dev".into(),
            events: Vec::new(),
            more: false,
            missed: 0,
            continues: false,
        }),
        0,
    );
    let last = a.rooms[0].entries.back().map(|e| e.kind.clone());
    assert!(
        matches!(&last, Some(EntryKind::Notice(t)) if t.starts_with("rejoined #dev")),
        "{last:?}"
    );
}

#[test]
fn a_refused_join_of_a_new_room_drops_it_and_is_never_fatal() {
    let full = |id: &str| nack(id, ErrorCode::TooManyRooms, "at most 1 rooms");
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let fx = typed(&mut a, "/join ops");
    let (id, _) = joins(&fx).remove(0);
    let fx = a.update(full(&id), 0);
    assert!(fx.is_empty(), "{fx:?}");
    // A room never joined, with nothing of yours in it, is dropped again.
    assert_eq!(a.rooms.len(), 1);
    assert_eq!(notice(&a), "cannot join #ops: at most 1 rooms");
}

#[test]
fn leaving_while_the_join_is_on_its_way_still_tells_the_server() {
    let mut a = app(&[]);
    a.update(connected(), 0);
    typed(&mut a, "/join dev");
    let fx = typed(&mut a, "/leave");
    assert!(
        matches!(fx.as_slice(), [Effect::Send(ClientEvent::Leave { room, .. })] if room == "dev")
    );
    assert!(a.rooms.is_empty());
}

#[test]
fn leaving_forgets_the_rooms_lines() {
    let mut a = app(&["dev", "ops"]);
    typed(&mut a, "never sent");
    typed(&mut a, "/leave dev");
    assert_eq!(a.wake(), None);
    let fx = connect_and_join(&mut a);
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Send(ClientEvent::Send { .. }))),
        "{fx:?}"
    );
}

#[test]
fn a_gap_in_sequence_numbers_is_shown() {
    let mut a = app(&["dev"]);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    for seq in [1, 4] {
        a.update(server(msg("dev", seq, "bob", "hi")), 0);
    }
    assert!(
        texts(&a.rooms[0]).contains(&"-- 2 messages were missed while disconnected".to_string())
    );
}

#[test]
fn a_join_shows_recent_history_then_the_join_notice() {
    let mut a = app(&["dev", "ops"]);
    a.update(connected(), 0);
    room_state(&mut a, "ops");
    history(&mut a, "ops", 1..=3, true, 0);
    let r = &a.rooms[1];
    assert_eq!(
        texts(r),
        [
            "m1",
            "m2",
            "m3",
            "== end of history",
            "-- you joined #ops (1 other person here)"
        ]
    );
    // Backlog is not news: no unread count for it.
    assert_eq!(r.unread, 0);
    assert!(r.more_before);
}

#[test]
fn reconnecting_resumes_after_the_last_message_seen() {
    let mut a = app(&["dev", "ops"]);
    a.update(connected(), 0);
    room_state(&mut a, "ops");
    history(&mut a, "ops", 1..=3, false, 0);
    disconnect(&mut a);
    let fx = a.update(connected(), 0);
    let resume = fx.iter().find_map(|e| match e {
        Effect::Send(ClientEvent::Join {
            room, since, epoch, ..
        }) if room == "ops" => Some((*since, epoch.clone())),
        _ => None,
    });
    assert_eq!(resume, Some((Some(3), Some("e1".to_string()))));
    room_state(&mut a, "ops");
    // The server replays from 4; a duplicate of 3 is ignored.
    history(&mut a, "ops", 3..=5, false, 0);
    let t = texts(&a.rooms[1]);
    assert_eq!(t.iter().filter(|x| *x == "m3").count(), 1, "{t:?}");
    assert!(
        t.ends_with(&[
            "m4".into(),
            "m5".into(),
            "-- rejoined #ops (1 other person here)".into()
        ]),
        "{t:?}"
    );
    // Missed messages in another room count as unread.
    assert_eq!(a.rooms[1].unread, 2);
}

#[test]
fn too_many_missed_messages_are_counted() {
    let mut a = app(&["dev"]);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    history(&mut a, "dev", 1..=1, false, 0);
    disconnect(&mut a);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    history(&mut a, "dev", 2000..=2001, true, 1998);
    let t = texts(&a.rooms[0]);
    assert!(
        t.contains(&"-- 1998 messages not shown (too many to replay)".to_string()),
        "{t:?}"
    );
}

#[test]
fn a_new_epoch_forgets_the_numbers() {
    let mut a = app(&["dev"]);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    history(&mut a, "dev", 1..=3, false, 0);
    disconnect(&mut a);
    let fx = a.update(connected_to("e2"), 0);
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Send(ClientEvent::Join {
            since: None,
            epoch: None,
            ..
        })
    )));
}

#[test]
fn the_notice_line_takes_a_row_from_the_pane() {
    let mut a = app(&[]);
    a.update(
        Event::Resize {
            width: 80,
            height: 24,
        },
        0,
    );
    assert_eq!(a.message_pane_rows(), 22);
    typed(&mut a, "/frob");
    assert_eq!(a.message_pane_rows(), 21);
}

#[test]
fn a_refused_rejoin_keeps_the_room_fails_its_lines_and_says_what_to_do() {
    let full = |id: &str| nack(id, ErrorCode::TooManyRooms, "at most 1 rooms");
    // A room of the config, never joined yet, refused at the first join.
    let mut a = app(&["dev", "ops"]);
    let fx = a.update(connected(), 0);
    let (ops, _) = joins(&fx).remove(1);
    a.update(full(&ops), 0);
    assert_eq!(a.rooms.len(), 2, "the room stays");
    assert_eq!(
        notice(&a),
        "cannot join #ops: at most 1 rooms (/join ops tries again)"
    );

    // A room you were in, refused on the rejoin after a drop, with a line
    // typed meanwhile: the line fails with the reason, the room stays.
    let mut a = app(&["ops"]);
    connect_and_join(&mut a);
    disconnect(&mut a);
    typed(&mut a, "typed while away");
    let fx = a.update(connected(), 0);
    let (id, _) = joins(&fx).remove(0);
    a.update(full(&id), 0);
    assert_eq!(a.rooms.len(), 1);
    assert!(!a.rooms[0].joined);
    assert!(
        matches!(own(&a.rooms[0]).as_slice(), [(_, Delivery::Failed(m))] if m.contains("at most 1 rooms")),
        "{:?}",
        own(&a.rooms[0])
    );
    let last = a.rooms[0].entries.back().map(|e| e.kind.clone());
    assert!(
        matches!(&last, Some(EntryKind::Error(t)) if t.contains("/join ops tries again")),
        "{last:?}"
    );
}

#[test]
fn the_user_list_holds_each_identity_once_by_id() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    assert_eq!(a.rooms[0].users, ["ann", "bob"]);
    let joined = |id: &str, name: &str| {
        server(ServerEvent::UserJoined {
            room: "dev".into(),
            name: name.into(),
            user: id.into(),
            role: None,
            ts: 1,
        })
    };
    a.update(joined("u_carol", "carol"), 0);
    // The same identity again (renamed meanwhile): one entry, the new name.
    a.update(joined("u_carol", "caroline"), 0);
    assert_eq!(a.rooms[0].users, ["ann", "bob", "caroline"]);
    // Leaving goes by the identity, not by a name that looks the same.
    a.update(
        server(ServerEvent::UserLeft {
            room: "dev".into(),
            name: "bob".into(),
            user: "u_someone_else".into(),
            ts: 2,
        }),
        0,
    );
    assert_eq!(a.rooms[0].users, ["ann", "bob", "caroline"]);
    a.update(
        server(ServerEvent::UserLeft {
            room: "dev".into(),
            name: "bob".into(),
            user: uid("bob"),
            ts: 3,
        }),
        0,
    );
    assert_eq!(a.rooms[0].users, ["ann", "caroline"]);
    // Someone who comes back with a role shows it at once.
    a.update(
        server(ServerEvent::UserJoined {
            room: "dev".into(),
            name: "bob".into(),
            user: uid("bob"),
            role: Some(protocol::moderation::Role::Op),
            ts: 4,
        }),
        0,
    );
    assert_eq!(
        a.rooms[0].roles.get(&uid("bob")),
        Some(&protocol::moderation::Role::Op)
    );
}

//! Your lines: pending, sent, failed, resent, by the outbox rulebook.

use protocol::ErrorCode;

use super::*;
use crate::app::outbox::{self, ACK_TIMEOUT};

#[test]
fn a_message_is_pending_at_once_then_sent_and_its_echo_is_not_shown_twice() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let fx = typed(&mut a, "hello");
    let frame = sent_frame(&fx);
    assert_eq!(a.editor.text(), "");
    assert_eq!(own(&a.rooms[0]), [("hello".into(), Delivery::Pending)]);
    a.update(ack(&frame, 7), 0);
    assert_eq!(own(&a.rooms[0]), [("hello".into(), Delivery::Done)]);
    a.update(echo(&frame, 7), 0);
    assert_eq!(own(&a.rooms[0]), [("hello".into(), Delivery::Done)]);
    // The entry now carries the server's time, and the number counts
    // for resuming.
    let e = a.rooms[0].entries.iter().find(|e| e.request.is_some());
    assert_eq!(e.map(|e| e.ts), Some(5_000));
    assert_eq!(a.rooms[0].last_seq, Some(7));
    // Another person's message with the same id is someone else's.
    a.update(
        server(ServerEvent::Message {
            room: "dev".into(),
            seq: 8,
            ts: 6_000,
            from: "bob".into(),
            user: uid("bob"),
            id: id_of(&frame),
            text: "hello".into(),
            action: false,
        }),
        0,
    );
    assert_eq!(
        texts(&a.rooms[0]).iter().filter(|t| *t == "hello").count(),
        2
    );
}

#[test]
fn the_echo_settles_a_message_even_when_it_comes_before_the_ack() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = sent_frame(&typed(&mut a, "quick"));
    a.update(echo(&frame, 3), 0);
    assert_eq!(own(&a.rooms[0]), [("quick".into(), Delivery::Done)]);
    a.update(ack(&frame, 3), 0);
    assert_eq!(own(&a.rooms[0]), [("quick".into(), Delivery::Done)]);
    // Nothing left to resend.
    disconnect(&mut a);
    assert!(connect_and_join(&mut a).is_empty());
    assert_eq!(a.wake(), None);
}

#[test]
fn a_refused_message_is_marked_failed_with_the_reason_and_can_be_retried() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = sent_frame(&typed(&mut a, "too fast"));
    a.update(nack(&id_of(&frame), ErrorCode::RateLimited, "slow down"), 0);
    assert_eq!(
        own(&a.rooms[0]),
        [("too fast".into(), Delivery::Failed("slow down".into()))]
    );
    assert!(a.notice.as_ref().is_some_and(|n| n.error));
    assert!(notice(&a).contains("slow down"), "{}", notice(&a));
    // A failed message is not resent by itself: not by a timer, not after
    // a reconnect. (The only timer left is the notice's.)
    assert!(a.update(Event::Tick, 1_000_000_000).is_empty());
    assert!(a.notice.is_none());
    assert_eq!(a.wake(), None);
    disconnect(&mut a);
    assert!(connect_and_join(&mut a).is_empty());
    // /retry sends it again, with the same id, pending again.
    let fx = typed(&mut a, "/retry");
    assert_eq!(sent_frame(&fx), frame);
    assert_eq!(own(&a.rooms[0]), [("too fast".into(), Delivery::Pending)]);
    a.update(ack(&frame, 1), 0);
    assert_eq!(own(&a.rooms[0]), [("too fast".into(), Delivery::Done)]);
    assert!(typed(&mut a, "/retry").is_empty());
    assert!(notice(&a).starts_with("nothing to send again"));
}

#[test]
fn unavailable_is_not_a_failure_the_line_goes_out_again_after_the_backoff() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = sent_frame(&typed_at(&mut a, "while redis is down", 1_000));
    a.update(
        nack(&id_of(&frame), ErrorCode::Unavailable, "try again later"),
        1_000,
    );
    // Still pending, nothing said: the server may yet store it.
    assert_eq!(
        own(&a.rooms[0]),
        [("while redis is down".into(), Delivery::Pending)]
    );
    assert_eq!(a.notice, None);
    let wake = a.wake().expect("a resend is due");
    assert!(
        (1_250..=1_500).contains(&wake),
        "backoff(1) is 250-500 ms: {wake}"
    );
    assert!(a.update(Event::Tick, wake as i64 - 1).is_empty());
    let fx = a.update(Event::Tick, wake as i64);
    assert_eq!(sent_frame(&fx), frame, "the same frame, the same id");
    a.update(ack(&frame, 9), wake as i64 + 5);
    assert_eq!(
        own(&a.rooms[0]),
        [("while redis is down".into(), Delivery::Done)]
    );
}

#[test]
fn a_line_without_an_ack_in_time_is_sent_again() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = sent_frame(&typed(&mut a, "anyone?"));
    let timeout = ACK_TIMEOUT.as_millis() as u64;
    assert_eq!(a.wake(), Some(timeout));
    assert!(a.update(Event::Tick, timeout as i64).is_empty());
    let wake = a.wake().expect("a resend is due");
    let fx = a.update(Event::Tick, wake as i64);
    assert_eq!(sent_frame(&fx), frame);
}

#[test]
fn a_message_typed_while_disconnected_waits_and_is_sent_after_the_rejoin() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    disconnect(&mut a);
    let fx = typed(&mut a, "while away");
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(a.editor.text(), "");
    assert_eq!(own(&a.rooms[0]), [("while away".into(), Delivery::Pending)]);
    // Connected, the room state in, but the join not acknowledged yet:
    // still waiting.
    let fx = a.update(connected(), 0);
    assert!(
        fx.iter()
            .all(|e| matches!(e, Effect::Send(ClientEvent::Join { .. })))
    );
    let (join_id, _) = joins(&fx).remove(0);
    room_state(&mut a, "dev");
    assert!(typed(&mut a, "and this").is_empty());
    let fx = a.update(server(ServerEvent::ack_ok(join_id, None)), 0);
    let texts: Vec<&str> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Send(ClientEvent::Send { text, .. }) => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["while away", "and this"], "in the order typed");
}

#[test]
fn a_message_whose_ack_was_lost_is_sent_again_with_the_same_id() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let sent = sent_frame(&typed(&mut a, "did this arrive?"));
    disconnect(&mut a);
    assert_eq!(connect_and_join(&mut a), vec![Effect::Send(sent.clone())]);
    // Acknowledged now: nothing more to resend after another drop.
    a.update(ack(&sent, 7), 0);
    disconnect(&mut a);
    assert!(connect_and_join(&mut a).is_empty());
}

#[test]
fn a_message_never_confirmed_fails_after_a_bounded_number_of_tries() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = sent_frame(&typed(&mut a, "into the void"));
    for _ in 1..outbox::MAX_TRIES {
        disconnect(&mut a);
        assert_eq!(
            own(&a.rooms[0]),
            [("into the void".into(), Delivery::Pending)]
        );
    }
    disconnect(&mut a);
    let marks = own(&a.rooms[0]);
    let [(_, Delivery::Failed(reason))] = marks.as_slice() else {
        panic!("{marks:?}");
    };
    assert_eq!(reason, "not confirmed after 8 tries");
    // If it did arrive after all, the resumed history says so.
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    let ClientEvent::Send { id, text, .. } = &frame else {
        panic!();
    };
    a.update(
        server(ServerEvent::History {
            room: "dev".into(),
            events: vec![ServerEvent::Message {
                room: "dev".into(),
                seq: 1,
                ts: 9,
                from: "ann".into(),
                user: uid("ann"),
                id: id.clone(),
                text: text.clone(),
                action: false,
            }],
            more: false,
            missed: 0,
            continues: false,
        }),
        0,
    );
    assert_eq!(own(&a.rooms[0]), [("into the void".into(), Delivery::Done)]);
    assert!(typed(&mut a, "/retry").is_empty(), "nothing left to retry");
}

#[test]
fn a_refused_rejoin_keeps_the_room_and_fails_its_waiting_lines() {
    let mut a = app(&["dev", "ops"]);
    connect_and_join(&mut a);
    disconnect(&mut a);
    typed(&mut a, "waiting for the rejoin");
    let fx = a.update(connected(), 0);
    let (dev_join, _) = joins(&fx).remove(0);
    let fx = a.update(
        nack(
            &dev_join,
            ErrorCode::TooManyRooms,
            "a connection may be in at most 1 rooms",
        ),
        0,
    );
    assert!(fx.is_empty(), "not fatal after startup: {fx:?}");
    assert_eq!(a.rooms.len(), 2, "the room stays");
    assert!(!a.rooms[0].joined);
    assert_eq!(
        own(&a.rooms[0]),
        [(
            "waiting for the rejoin".into(),
            Delivery::Failed("a connection may be in at most 1 rooms".into())
        )]
    );
    assert!(
        notice(&a).starts_with("cannot join #dev: ")
            && notice(&a).ends_with("(/join dev tries again)"),
        "{}",
        notice(&a)
    );
    // /join asks again; once in, /retry sends the line.
    let fx = typed(&mut a, "/join dev");
    let (id, room) = joins(&fx).remove(0);
    assert_eq!(room, "dev");
    room_state(&mut a, "dev");
    assert!(
        a.update(server(ServerEvent::ack_ok(id, None)), 0)
            .is_empty()
    );
    let frame = sent_frame(&typed(&mut a, "/retry"));
    assert!(
        matches!(frame, ClientEvent::Send { ref text, .. } if text == "waiting for the rejoin")
    );
}

#[test]
fn a_location_goes_through_the_outbox_too() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    assert!(typed(&mut a, "/location").is_empty());
    assert!(notice(&a).contains("no default location"));
    a.default_location = Some((1.0, 2.0));
    let frame = sent_frame(&typed(&mut a, "/location"));
    assert!(matches!(
        frame,
        ClientEvent::Location { latitude, longitude, .. } if latitude == 1.0 && longitude == 2.0
    ));
    a.update(nack(&id_of(&frame), ErrorCode::RateLimited, "slow down"), 0);
    assert_eq!(
        own(&a.rooms[0]),
        [("(location)".into(), Delivery::Failed("slow down".into()))]
    );
    assert_eq!(sent_frame(&typed(&mut a, "/retry")), frame);
}

#[test]
fn text_and_actions_go_to_the_current_room() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let fx = typed(&mut a, "/me waves");
    assert!(matches!(
        fx.as_slice(),
        [Effect::Send(ClientEvent::Send { room, text, action: true, .. })] if room == "dev" && text == "waves"
    ));
    assert_eq!(a.editor.text(), "");
    assert!(typed(&mut a, "   ").is_empty());
}

#[test]
fn a_full_network_queue_is_said_on_the_notice_line() {
    let mut a = app(&["dev"]);
    assert!(a.update(Event::NetBusy, 0).is_empty());
    assert!(notice(&a).contains("the network is busy"));
}

#[test]
fn your_lines_are_known_by_your_identity_not_by_your_name() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = sent_frame(&typed(&mut a, "mine"));
    // Someone else under your name (a look-alike, or a line stored under
    // a name that was freed and taken again) with your request id: not
    // yours, and it settles nothing.
    let ClientEvent::Send { id, .. } = &frame else {
        panic!("{frame:?}");
    };
    a.update(
        server(ServerEvent::Message {
            room: "dev".into(),
            seq: 1,
            ts: 1_000,
            from: "ann".into(),
            user: uid("mallory"),
            id: id.clone(),
            text: "forged".into(),
            action: false,
        }),
        0,
    );
    let forged = a.rooms[0]
        .entries
        .iter()
        .find(|e| matches!(&e.kind, EntryKind::Message { text, .. } if text == "forged"));
    assert_eq!(
        forged.map(|e| e.request.clone()),
        Some(None),
        "shown as another's"
    );
    let mine = a.rooms[0].entries.iter().find(|e| e.request.is_some());
    assert_eq!(mine.map(|e| e.delivery.clone()), Some(Delivery::Pending));
    // Your line from another of your devices is yours, whatever its id.
    a.update(server(msg("dev", 2, "ann", "from my laptop")), 0);
    let laptop = a.rooms[0].entries.back().map(|e| e.kind.clone());
    assert!(
        matches!(&laptop, Some(EntryKind::Message { mention: false, .. })),
        "{laptop:?}"
    );
    assert_eq!(a.rooms[0].unread, 0);
    a.update(echo(&frame, 3), 0);
    let mine = a.rooms[0].entries.iter().find(|e| e.request.is_some());
    assert_eq!(mine.map(|e| e.delivery.clone()), Some(Delivery::Done));
}

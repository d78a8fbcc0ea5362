//! History answers in parts, and frames too large to take.

use super::*;

fn part(room: &str, seqs: std::ops::RangeInclusive<u64>, more: bool, continues: bool) -> Event {
    let events = seqs
        .map(|s| msg(room, s, "bob", &format!("m{s}")))
        .collect();
    server(ServerEvent::History {
        room: room.into(),
        events,
        more,
        missed: 0,
        continues,
    })
}

fn resumes(fx: &[Effect]) -> Vec<Option<u64>> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(ClientEvent::Join { since, .. }) => Some(*since),
            _ => None,
        })
        .collect()
}

fn too_large() -> Event {
    Event::Net(NetEvent::FrameTooLarge {
        size: 20_000_000,
        limit: 1_048_576,
    })
}

#[test]
fn a_history_in_parts_is_applied_once_whole() {
    let mut a = app(&["dev"]);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    a.update(part("dev", 1..=3, true, true), 0);
    a.update(part("dev", 4..=5, true, true), 0);
    assert!(
        !texts(&a.rooms[0]).iter().any(|t| t.starts_with('m')),
        "nothing is shown before the last part: {:?}",
        texts(&a.rooms[0])
    );
    a.update(part("dev", 6..=7, true, false), 0);
    let shown = texts(&a.rooms[0]);
    let messages: Vec<&String> = shown.iter().filter(|t| t.starts_with('m')).collect();
    assert_eq!(messages, ["m1", "m2", "m3", "m4", "m5", "m6", "m7"]);
    // One rule, after the whole history.
    let rules: Vec<usize> = shown
        .iter()
        .enumerate()
        .filter(|(_, t)| t.starts_with("== "))
        .map(|(i, _)| i)
        .collect();
    let last = shown.iter().position(|t| t == "m7").expect("m7");
    assert_eq!(rules.len(), 1, "{shown:?}");
    assert!(rules[0] > last, "{shown:?}");
    assert!(a.rooms[0].more_before);
    assert_eq!(a.rooms[0].unread, 0, "a fresh join's backlog is not unread");
}

#[test]
fn parts_cut_off_by_a_lost_connection_are_dropped() {
    let mut a = app(&["dev"]);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    a.update(part("dev", 1..=3, false, true), 0);
    disconnect(&mut a);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    a.update(part("dev", 4..=4, false, false), 0);
    let shown = texts(&a.rooms[0]);
    let messages: Vec<&String> = shown.iter().filter(|t| t.starts_with('m')).collect();
    assert_eq!(messages, ["m4"]);
}

#[test]
fn a_frame_too_large_is_said_once_and_the_rooms_rejoin_fresh() {
    let mut a = app(&["dev"]);
    a.update(connected(), 0);
    room_state(&mut a, "dev");
    history(&mut a, "dev", 1..=3, false, 0);

    // The resume brought a frame too large: said, and the rejoin is fresh.
    a.update(too_large(), 0);
    disconnect(&mut a);
    assert!(notice(&a).contains("20000000 bytes"), "{}", notice(&a));
    let fx = a.update(connected(), 0);
    assert_eq!(resumes(&fx), [None]);

    // Again: not said twice, still fresh.
    a.update(too_large(), 0);
    disconnect(&mut a);
    let fx = a.update(connected(), 0);
    assert_eq!(resumes(&fx), [None]);
    let said = texts(&a.rooms[0])
        .iter()
        .filter(|t| t.contains("bytes, more than"))
        .count();
    assert_eq!(said, 1);

    // The fresh page shows the gap; the next reconnect resumes again.
    room_state(&mut a, "dev");
    history(&mut a, "dev", 10..=12, true, 0);
    assert!(
        texts(&a.rooms[0])
            .iter()
            .any(|t| t == "-- 6 messages not shown"),
        "{:?}",
        texts(&a.rooms[0])
    );
    disconnect(&mut a);
    let fx = a.update(connected(), 0);
    assert_eq!(resumes(&fx), [Some(12)]);
}

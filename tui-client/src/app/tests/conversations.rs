//! Conversations, names, away, whois, the room directory and topics,
//! with the server's part played by the test.

use protocol::{DmSummary, ErrorCode, Member};

use super::*;

const ANN: &str = "u_00000000000000a1";
const BOB: &str = "u_00000000000000b2";

fn dm_key() -> String {
    protocol::dm::key(ANN, BOB)
}

fn person(id: &str, name: &str) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        away: None,
        role: None,
    }
}

/// Connected as ann (with a real identity id), in `dev` (joined), with
/// the conversations of the welcome.
fn signed_in(dms: Vec<DmSummary>) -> (App, Vec<Effect>) {
    let mut a = app(&["dev"]);
    let fx = a.update(
        Event::Net(NetEvent::from(Welcome {
            server: "s".into(),
            name: "ann".into(),
            limits: limits(),
            epoch: "e1".into(),
            user: protocol::UserRef {
                id: ANN.into(),
                name: "ann".into(),
            },
            device: protocol::DeviceRef {
                id: "d_1".into(),
                name: "test".into(),
            },
            heartbeat: crate::net::DEFAULT_HEARTBEAT,
            note: None,
            dms,
        })),
        0,
    );
    for (id, room) in joins(&fx) {
        if room == "dev" {
            a.update(
                server(ServerEvent::RoomState {
                    room,
                    users: vec![person(ANN, "ann"), person(BOB, "bob")],
                    topic: Some("ship it".into()),
                    modes: Default::default(),
                }),
                0,
            );
            a.update(server(ServerEvent::ack_ok(id, None)), 0);
        }
    }
    (a, fx)
}

fn dm(seq: u64, from_id: &str, from: &str, text: &str) -> Event {
    server(ServerEvent::Message {
        room: dm_key(),
        seq,
        ts: 1000,
        from: from.into(),
        user: from_id.into(),
        id: format!("x{seq}"),
        text: text.into(),
        action: false,
    })
}

fn sent(fx: &[Effect]) -> Vec<ClientEvent> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(f) => Some(f.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn msg_asks_for_the_conversation_then_sends_the_line_in_it() {
    let (mut a, _) = signed_in(Vec::new());
    let fx = typed(&mut a, "/msg bob hi there");
    let sent_now = sent(&fx);
    let [ClientEvent::Query { id, name }] = sent_now.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!(name, "bob");
    // Answered like a join: room_state, history, ack.
    a.update(
        server(ServerEvent::RoomState {
            room: dm_key(),
            users: vec![person(ANN, "ann"), person(BOB, "bob")],
            topic: None,
            modes: Default::default(),
        }),
        0,
    );
    a.update(
        server(ServerEvent::History {
            room: dm_key(),
            events: Vec::new(),
            more: false,
            missed: 0,
            continues: false,
        }),
        0,
    );
    let fx = a.update(server(ServerEvent::ack_ok(id.clone(), None)), 0);
    let sent_now = sent(&fx);
    let [ClientEvent::Send { room, text, .. }] = sent_now.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!(
        (room.as_str(), text.as_str()),
        (dm_key().as_str(), "hi there")
    );
    // Listed after the rooms, by bob's name; /msg does not switch to it.
    assert_eq!(a.rooms[1].label(), "bob");
    assert_eq!(a.current, 0);
    assert_eq!(own(&a.rooms[1]), [("hi there".into(), Delivery::Pending)]);
    // A second /msg goes straight to the open conversation.
    let fx = typed(&mut a, "/msg BOB again");
    assert!(matches!(sent(&fx).as_slice(), [ClientEvent::Send { .. }]));
    // /query switches to it.
    assert!(sent(&typed(&mut a, "/query bob")).is_empty());
    assert_eq!(a.current, 1);
    assert_eq!(a.prompt(), "[bob] ");
}

#[test]
fn a_query_for_nobody_says_so_and_keeps_the_line() {
    let (mut a, _) = signed_in(Vec::new());
    let fx = typed(&mut a, "/msg zed hello");
    let id = id_of(&sent(&fx)[0]);
    a.update(nack(&id, ErrorCode::NotFound, "no such person"), 0);
    assert_eq!(notice(&a), "nobody is called zed");
    assert_eq!(a.editor.text(), "/msg zed hello");
    assert_eq!(a.rooms.len(), 1);
    assert!(typed(&mut a, "/query ann").is_empty());
    assert!(notice(&a).contains("that is you"));
}

#[test]
fn a_message_in_a_new_conversation_opens_it_marked_and_rings() {
    let (mut a, _) = signed_in(Vec::new());
    let fx = a.update(dm(3, BOB, "bob", "psst"), 0);
    assert!(fx.contains(&Effect::Bell), "{fx:?}");
    let i = a.room_index(&dm_key()).unwrap();
    assert_eq!(a.rooms[i].label(), "bob");
    assert_eq!((a.rooms[i].unread, a.rooms[i].mentioned), (1, true));
    assert!(a.rooms[i].more_before, "older lines are one PgUp away");
    // Joined, resuming after the message.
    let sent_now = sent(&fx);
    let [ClientEvent::Join { room, since, .. }] = sent_now.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!((room.as_str(), *since), (dm_key().as_str(), Some(3)));
}

#[test]
fn the_welcome_restores_conversations_and_resumes_them() {
    let summary = DmSummary {
        room: dm_key(),
        peer: protocol::UserRef {
            id: BOB.into(),
            name: "bob".into(),
        },
        last_seq: 4,
    };
    let (a, fx) = signed_in(vec![summary]);
    assert_eq!(a.rooms.len(), 2);
    assert_eq!(a.rooms[1].label(), "bob");
    let rooms: Vec<String> = joins(&fx).into_iter().map(|(_, r)| r).collect();
    assert_eq!(rooms, ["dev".to_string(), dm_key()]);
}

#[test]
fn renames_show_where_the_person_appears() {
    let (mut a, _) = signed_in(Vec::new());
    a.update(dm(1, BOB, "bob", "hi"), 0);
    a.update(
        server(ServerEvent::Renamed {
            user: BOB.into(),
            old: "bob".into(),
            name: "robert".into(),
            ts: 2000,
        }),
        0,
    );
    for room in &a.rooms {
        assert!(
            texts(room).contains(&"-- bob is now known as robert".to_string()),
            "{:?}",
            texts(room)
        );
    }
    assert_eq!(a.rooms[0].users, ["ann", "robert"]);
    assert_eq!(a.rooms[1].label(), "robert");
    // Your own new name, from /nick.
    let fx = typed(&mut a, "/nick anna");
    assert!(matches!(sent(&fx).as_slice(), [ClientEvent::Nick { name, .. }] if name == "anna"));
    a.update(
        server(ServerEvent::Renamed {
            user: ANN.into(),
            old: "ann".into(),
            name: "anna".into(),
            ts: 3000,
        }),
        0,
    );
    assert_eq!(a.me, "anna");
    assert!(texts(&a.rooms[0]).contains(&"-- you are now known as anna".to_string()));
}

#[test]
fn away_marks_and_the_notice_of_a_line_to_someone_away() {
    let (mut a, _) = signed_in(Vec::new());
    a.update(
        server(ServerEvent::Away {
            user: BOB.into(),
            reason: "lunch".into(),
        }),
        0,
    );
    assert_eq!(a.away_reason(BOB), Some("lunch"));
    a.update(dm(1, BOB, "bob", "brb"), 0);
    a.update(
        server(ServerEvent::AwayNotice {
            room: dm_key(),
            user: BOB.into(),
            name: "bob".into(),
            reason: "lunch".into(),
        }),
        0,
    );
    assert!(texts(&a.rooms[1]).contains(&"-- bob is away: lunch".to_string()));
    a.update(server(ServerEvent::Back { user: BOB.into() }), 0);
    assert_eq!(a.away_reason(BOB), None);
    let fx = typed(&mut a, "/away gone fishing");
    let sent_now = sent(&fx);
    let [ClientEvent::Away { id, reason }] = sent_now.as_slice() else {
        panic!("{fx:?}");
    };
    assert_eq!(reason.as_deref(), Some("gone fishing"));
    a.update(server(ServerEvent::ack_ok(id.clone(), None)), 0);
    assert!(notice(&a).starts_with("you are marked away: gone fishing"));
    assert!(matches!(
        sent(&typed(&mut a, "/back")).as_slice(),
        [ClientEvent::Back { .. }]
    ));
}

#[test]
fn whois_list_and_topics() {
    let (mut a, _) = signed_in(Vec::new());
    assert_eq!(a.rooms[0].topic.as_deref(), Some("ship it"));
    let fx = typed(&mut a, "/whois bob");
    assert!(matches!(sent(&fx).as_slice(), [ClientEvent::Whois { name, .. }] if name == "bob"));
    a.update(
        server(ServerEvent::Whois {
            user: protocol::UserRef {
                id: BOB.into(),
                name: "bob".into(),
            },
            online: true,
            devices: 2,
            away: Some("lunch".into()),
            rooms: vec!["dev".into()],
            since_ts: 1_764_000_000_000,
        }),
        0,
    );
    let all = texts(&a.rooms[0]).join("\n");
    assert!(
        all.contains("bob is online (2 devices), away: lunch"),
        "{all}"
    );
    assert!(all.contains("rooms you share: #dev"), "{all}");
    assert!(all.contains("known since"), "{all}");

    assert!(matches!(
        sent(&typed(&mut a, "/list")).as_slice(),
        [ClientEvent::List { .. }]
    ));
    a.update(
        server(ServerEvent::RoomList {
            rooms: vec![protocol::RoomListing {
                room: "design".into(),
                members: 3,
                topic: Some("pixels".into()),
            }],
        }),
        0,
    );
    assert!(texts(&a.rooms[0]).contains(&"--   #design (3 members): pixels".to_string()));
    // Tab completes a room of the directory.
    a.editor.set("/join des".into(), 9);
    a.update(Event::Action(Action::Complete), 0);
    assert_eq!(a.editor.text(), "/join design ");
    a.editor.set(String::new(), 0);

    let fx = typed(&mut a, "/topic new plan");
    assert!(
        matches!(sent(&fx).as_slice(), [ClientEvent::Topic { room, text, .. }]
        if room == "dev" && text == "new plan")
    );
    a.update(
        server(ServerEvent::Topic {
            room: "dev".into(),
            seq: 1,
            ts: 1000,
            from: "bob".into(),
            user: BOB.into(),
            id: "t1".into(),
            text: "new plan".into(),
        }),
        0,
    );
    assert_eq!(a.rooms[0].topic.as_deref(), Some("new plan"));
    assert!(texts(&a.rooms[0]).contains(&"-- bob set the topic: new plan".to_string()));
    assert_eq!(a.rooms[0].unread, 0);
}

#[test]
fn two_lines_to_someone_before_the_answer_both_go_out() {
    let (mut a, _) = signed_in(Vec::new());
    let first = id_of(&sent(&typed(&mut a, "/msg bob one"))[0]);
    let second = id_of(&sent(&typed(&mut a, "/msg Bob two"))[0]);
    let mut out = Vec::new();
    for id in [first, second] {
        a.update(
            server(ServerEvent::RoomState {
                room: dm_key(),
                users: vec![person(ANN, "ann"), person(BOB, "bob")],
                topic: None,
                modes: Default::default(),
            }),
            0,
        );
        out.extend(sent(&a.update(server(ServerEvent::ack_ok(id, None)), 0)));
    }
    let texts: Vec<&str> = out
        .iter()
        .filter_map(|f| match f {
            ClientEvent::Send { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["one", "two"]);
    assert_eq!(a.rooms.len(), 2, "one buffer");
}

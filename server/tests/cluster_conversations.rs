//! Conversations in cluster mode: real `chat-server` processes sharing
//! a real Redis (127.0.0.1:6379; each test uses its own key prefix).

mod common;

use std::time::Duration;

use common::cluster::*;
use common::*;
use protocol::{ClientEvent, ServerEvent};

fn user_of(welcome: &ServerEvent) -> String {
    match welcome {
        ServerEvent::Welcome { user, .. } => user.id.clone(),
        other => panic!("not a welcome: {other:?}"),
    }
}

async fn person(addr: &str, name: &str) -> (Client, String) {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let mut c = Client::from_ws(ws);
    let welcome = c.hello(name).await;
    (c, user_of(&welcome))
}

async fn signed_in(addr: &str, credential: &str) -> (Client, ServerEvent) {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let mut c = Client::from_ws(ws);
    let welcome = c.sign_in(credential).await;
    (c, welcome)
}

async fn send(c: &mut Client, room: &str, text: &str) {
    let id = c.next_id();
    let (ack, _) = c
        .request(ClientEvent::Send {
            id,
            room: room.into(),
            text: text.into(),
            action: false,
        })
        .await;
    assert_ok(&ack);
}

async fn wait_for_text(c: &mut Client, room: &str, text: &str) {
    c.expect(
        text,
        |e| matches!(e, ServerEvent::Message { room: r, text: t, .. } if r == room && t == text),
    )
    .await;
}

#[tokio::test]
async fn a_direct_message_crosses_instances_both_ways() {
    let Some((servers, _prefix)) = instances(2, "dm") else {
        return;
    };
    let (mut ann, ann_id) = person(&servers[0].addr, "ann").await;
    let (mut bob, bob_id) = person(&servers[1].addr, "bob").await;
    let bob_credential = bob.credential();
    let key = protocol::dm::key(&ann_id, &bob_id);
    send(&mut ann, &key, "hello bob").await;
    wait_for_text(&mut bob, &key, "hello bob").await;
    send(&mut bob, &key, "hi ann").await;
    wait_for_text(&mut ann, &key, "hi ann").await;
    // A third person on either instance is refused like for a missing key.
    let (mut eve, _) = person(&servers[1].addr, "eve").await;
    let id = eve.next_id();
    let (ack, _) = eve
        .request(ClientEvent::History {
            id,
            room: key.clone(),
            before: 100,
            limit: 50,
        })
        .await;
    assert_eq!(ack_code(&ack), protocol::ErrorCode::NotFound);
    // Bob signing in again on the other instance finds the conversation.
    bob.close().await;
    let (mut bob, welcome) = signed_in(&servers[0].addr, &bob_credential).await;
    let ServerEvent::Welcome { dms, epoch, .. } = welcome else {
        unreachable!()
    };
    assert_eq!(dms.len(), 1, "{dms:?}");
    assert_eq!((dms[0].room.as_str(), dms[0].last_seq), (key.as_str(), 2));
    let (events, _, _) = bob.join_with(&key, Some(0), Some(epoch)).await;
    let texts: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["hello bob", "hi ann"]);
}

#[tokio::test]
async fn a_nick_change_is_seen_on_the_other_instance() {
    let Some((servers, _prefix)) = instances(2, "nick") else {
        return;
    };
    let (mut ann, ann_id) = person(&servers[0].addr, "ann").await;
    let (mut bob, _) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Nick {
            id,
            name: "anna".into(),
        })
        .await;
    assert_ok(&ack);
    let renamed = bob
        .expect("renamed", |e| matches!(e, ServerEvent::Renamed { .. }))
        .await;
    assert!(
        matches!(&renamed, ServerEvent::Renamed { user, old, name, .. } if *user == ann_id && old == "ann" && name == "anna"),
        "{renamed:?}"
    );
    let id = bob.next_id();
    let (ack, others) = bob.request(ClientEvent::Ping { id }).await;
    assert_ok(&ack);
    assert!(
        !others
            .iter()
            .any(|e| matches!(e, ServerEvent::Renamed { .. })),
        "once"
    );
    // The name is taken cluster-wide now.
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", servers[1].addr))
        .await
        .expect("connect");
    let mut late = Client::from_ws(ws);
    late.send(&hello_named("Anna")).await;
    let refused = late.recv().await;
    assert!(
        matches!(
            refused,
            ServerEvent::Error {
                code: protocol::ErrorCode::NameClaimed,
                ..
            }
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_topic_set_on_one_instance_is_seen_on_the_other() {
    let Some((servers, _prefix)) = instances(2, "topic") else {
        return;
    };
    let (mut ann, _) = person(&servers[0].addr, "ann").await;
    let (mut bob, _) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Topic {
            id,
            room: "dev".into(),
            text: "ship it".into(),
        })
        .await;
    assert_ok(&ack);
    bob.expect(
        "topic",
        |e| matches!(e, ServerEvent::Topic { text, .. } if text == "ship it"),
    )
    .await;
    let (mut carl, _) = person(&servers[1].addr, "carl").await;
    let answer = carl.join_answers("dev").await;
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "ship it"),
        "{answer:?}"
    );
    // A server started after the topic was set knows it too.
    let (mut dave, _) = person(&servers[0].addr, "dave").await;
    tokio::time::sleep(Duration::from_millis(0)).await;
    let answer = dave.join_answers("dev").await;
    assert!(
        matches!(answer.first(), Some(ServerEvent::RoomState { topic: Some(t), .. }) if t == "ship it")
    );
}

#[tokio::test]
async fn list_counts_and_whois_online_span_instances() {
    let Some((servers, _prefix)) = instances(2, "directory") else {
        return;
    };
    let (mut ann, _) = person(&servers[0].addr, "ann").await;
    let (mut bob, bob_id) = person(&servers[1].addr, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    bob.join("ops").await;
    let key = protocol::dm::key(&user_of_client(&mut ann).await, &bob_id);
    send(&mut ann, &key, "psst").await;
    let (mut carl, _) = person(&servers[0].addr, "carl").await;
    let id = carl.next_id();
    let (ack, answer) = carl.request(ClientEvent::List { id }).await;
    assert_ok(&ack);
    let Some(ServerEvent::RoomList { rooms }) = answer
        .iter()
        .find(|e| matches!(e, ServerEvent::RoomList { .. }))
    else {
        panic!("{answer:?}");
    };
    let listed: Vec<(&str, u32)> = rooms.iter().map(|r| (r.room.as_str(), r.members)).collect();
    assert_eq!(listed, [("dev", 2), ("ops", 1)]);

    assert!(
        whois_online(&mut carl).await,
        "bob is online on the other instance"
    );
    bob.close().await;
    let mut offline = false;
    for _ in 0..100 {
        if !whois_online(&mut carl).await {
            offline = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(offline, "bob went offline");
}

async fn user_of_client(c: &mut Client) -> String {
    let id = c.next_id();
    let (ack, answer) = c
        .request(ClientEvent::Whois {
            id,
            name: "ann".into(),
        })
        .await;
    assert_ok(&ack);
    match answer
        .iter()
        .find(|e| matches!(e, ServerEvent::Whois { .. }))
    {
        Some(ServerEvent::Whois { user, .. }) => user.id.clone(),
        other => panic!("{other:?}"),
    }
}

async fn whois_online(c: &mut Client) -> bool {
    let id = c.next_id();
    let (ack, answer) = c
        .request(ClientEvent::Whois {
            id,
            name: "bob".into(),
        })
        .await;
    assert_ok(&ack);
    match answer
        .iter()
        .find(|e| matches!(e, ServerEvent::Whois { .. }))
    {
        Some(ServerEvent::Whois { online, .. }) => *online,
        other => panic!("{other:?}"),
    }
}

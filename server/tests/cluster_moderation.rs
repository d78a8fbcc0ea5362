//! Moderation in cluster mode: two real `chat-server` processes sharing a
//! real Redis (127.0.0.1:6379; each test uses its own key prefix). A ban,
//! a mute or an invite-only room made through one instance holds on the
//! other.

mod common;

use common::cluster::*;
use common::*;
use protocol::moderation::{ModAction, describe};
use protocol::{ClientEvent, ErrorCode, ServerEvent};

async fn person(addr: &str, name: &str) -> Client {
    raw_client(addr, name).await
}

async fn moderate(
    c: &mut Client,
    action: ModAction,
    target: &str,
    reason: Option<&str>,
) -> ServerEvent {
    let id = c.next_id();
    c.request(ClientEvent::Moderate {
        id,
        room: "dev".into(),
        action,
        target: Some(target.into()),
        duration_s: None,
        reason: reason.map(Into::into),
    })
    .await
    .0
}

async fn join_code(c: &mut Client, room: &str) -> ErrorCode {
    ack_code(&c.try_join(room).await.0)
}

#[tokio::test]
async fn a_ban_made_on_one_instance_removes_and_keeps_out_on_the_other() {
    let Some((servers, _prefix)) = instances(2, "modban") else {
        return;
    };
    let (a, b) = (&servers[0].addr, &servers[1].addr);
    let mut ann = person(a, "ann").await;
    let mut bob = person(b, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let ack = moderate(&mut ann, ModAction::Ban, "bob", Some("spam")).await;
    assert_ok(&ack);
    let e = bob
        .expect("the ban", |e| matches!(e, ServerEvent::Moderation { .. }))
        .await;
    assert_eq!(describe(&e).as_deref(), Some("ann banned bob: spam"));
    let removed = bob.recv().await;
    assert!(
        matches!(
            &removed,
            ServerEvent::Removed {
                action: ModAction::Ban,
                ..
            }
        ),
        "{removed:?}"
    );
    ann.expect(
        "bob left",
        |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "bob"),
    )
    .await;
    assert_eq!(ack_code(&bob.say("dev", "hi").await), ErrorCode::NotInRoom);
    assert_eq!(join_code(&mut bob, "dev").await, ErrorCode::Banned);
    // Through the other instance, on another connection.
    let key = bob.credential();
    let mut again = raw_signed_in(a, &key).await;
    assert_eq!(join_code(&mut again, "dev").await, ErrorCode::Banned);
}

#[tokio::test]
async fn mutes_and_invite_only_hold_across_instances() {
    let Some((servers, _prefix)) = instances(2, "modmute") else {
        return;
    };
    let (a, b) = (&servers[0].addr, &servers[1].addr);
    let mut ann = person(a, "ann").await;
    let mut bob = person(b, "bob").await;
    let mut carl = person(b, "carl").await;
    ann.join("dev").await;
    bob.join("dev").await;
    assert_ok(&moderate(&mut ann, ModAction::Mute, "bob", None).await);
    bob.expect("the mute", |e| matches!(e, ServerEvent::Moderation { .. }))
        .await;
    assert_eq!(ack_code(&bob.say("dev", "hello?").await), ErrorCode::Muted);
    // A new connection on the first instance is muted too.
    let mut bob_on_a = raw_signed_in(a, &bob.credential()).await;
    bob_on_a.join("dev").await;
    assert_eq!(
        ack_code(&bob_on_a.say("dev", "here?").await),
        ErrorCode::Muted
    );

    let id = ann.next_id();
    let (ack, _) = ann
        .request(ClientEvent::Mode {
            id,
            room: "dev".into(),
            moderated: None,
            invite_only: Some(true),
            topic_lock: None,
            slow_s: None,
            filter: None,
        })
        .await;
    assert_ok(&ack);
    let id = carl.next_id();
    let (ack, others) = carl.request(ClientEvent::List { id }).await;
    assert_ok(&ack);
    let listed = others.iter().any(
        |e| matches!(e, ServerEvent::RoomList { rooms } if rooms.iter().any(|r| r.room == "dev")),
    );
    assert!(!listed, "an invite-only room is not listed: {others:?}");
    assert_eq!(join_code(&mut carl, "dev").await, ErrorCode::InviteOnly);
    assert_ok(&moderate(&mut ann, ModAction::Invite, "carl", None).await);
    carl.join("dev").await;
}

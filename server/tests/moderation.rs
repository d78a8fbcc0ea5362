//! Moderation end to end: a real server, real WebSocket clients, a real
//! SQLite file where a test restarts the server, the real binary for
//! `chat-server user admin`.

mod common;

use common::*;
use protocol::moderation::{FilterMode, ModAction, Role, describe};
use protocol::{ClientEvent, ErrorCode, PROTOCOL_VERSION, ServerEvent};
use server::moderation::{ModerationConfig, ServerFilter};

fn config() -> server::Config {
    server::Config {
        rate_per_sec: 0.0,
        ..Default::default()
    }
}

fn filtered(filter: ServerFilter) -> server::Config {
    server::Config {
        moderation: ModerationConfig {
            filter,
            admins: vec![],
        },
        ..config()
    }
}

/// A `moderate` request's ack, and what came before it.
async fn moderate(
    c: &mut Client,
    room: &str,
    action: ModAction,
    target: &str,
    duration_s: Option<u64>,
    reason: Option<&str>,
) -> (ServerEvent, Vec<ServerEvent>) {
    let id = c.next_id();
    c.request(ClientEvent::Moderate {
        id,
        room: room.into(),
        action,
        target: Some(target.into()),
        duration_s,
        reason: reason.map(Into::into),
    })
    .await
}

async fn ok(c: &mut Client, room: &str, action: ModAction, target: &str) {
    let (ack, _) = moderate(c, room, action, target, None, None).await;
    assert_ok(&ack);
}

fn mode(room: &str, id: String) -> ClientEvent {
    ClientEvent::Mode {
        id,
        room: room.into(),
        moderated: None,
        invite_only: None,
        topic_lock: None,
        slow_s: None,
        filter: None,
    }
}

async fn set_mode(c: &mut Client, change: impl FnOnce(&mut ClientEvent)) {
    let mut event = mode("dev", c.next_id());
    change(&mut event);
    let (ack, _) = c.request(event).await;
    assert_ok(&ack);
}

async fn join_code(c: &mut Client, room: &str) -> ErrorCode {
    ack_code(&c.try_join(room).await.0)
}

async fn topic(c: &mut Client, room: &str, text: &str) -> ServerEvent {
    let id = c.next_id();
    c.request(ClientEvent::Topic {
        id,
        room: room.into(),
        text: text.into(),
    })
    .await
    .0
}

fn roles(state: &[ServerEvent]) -> Vec<(String, Option<Role>)> {
    match state.first() {
        Some(ServerEvent::RoomState { users, .. }) => {
            users.iter().map(|u| (u.name.clone(), u.role)).collect()
        }
        other => panic!("no room_state: {other:?}"),
    }
}

/// The next `moderation` event `c` gets, as every client words it.
async fn next_action(c: &mut Client) -> String {
    let e = c
        .expect("a moderation event", |e| {
            matches!(e, ServerEvent::Moderation { .. })
        })
        .await;
    describe(&e).expect("a sentence")
}

/// Another device of `c`'s identity, signed in by a link code.
async fn second_device(server: &TestServer, c: &mut Client) -> Client {
    let id = c.next_id();
    let (ack, others) = c.request(ClientEvent::Link { id }).await;
    assert_ok(&ack);
    let code = others
        .iter()
        .find_map(|e| match e {
            ServerEvent::LinkCode { code, .. } => Some(code.clone()),
            _ => None,
        })
        .expect("a link code");
    let mut d = Client::connect(server).await;
    d.send(&hello_code(&code)).await;
    d.welcome().await;
    d
}

fn hello_code(code: &str) -> ClientEvent {
    ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: None,
        credential: None,
        link_code: Some(code.into()),
        device: Some("second".into()),
        client: Some("tests".into()),
    }
}

#[tokio::test]
async fn owners_grant_op_operators_grant_voice_and_user_lists_show_roles() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    let mut carl = Client::named(&server, "carl").await;
    ann.join("dev").await;
    let state = bob.join_answers("dev").await;
    assert_eq!(
        roles(&state),
        [("ann".into(), Some(Role::Owner)), ("bob".into(), None)]
    );
    ok(&mut ann, "dev", ModAction::Op, "bob").await;
    assert_eq!(next_action(&mut bob).await, "ann made bob an operator");
    // An operator gives voice, but not operator.
    carl.join("dev").await;
    let (ack, _) = moderate(&mut bob, "dev", ModAction::Op, "carl", None, None).await;
    assert_eq!(ack_code(&ack), ErrorCode::Forbidden);
    ok(&mut bob, "dev", ModAction::Voice, "carl").await;
    assert_eq!(next_action(&mut carl).await, "bob gave voice to carl");
    // Nobody acts on their equal or better.
    let (ack, _) = moderate(&mut bob, "dev", ModAction::Kick, "ann", None, None).await;
    assert_eq!(ack_code(&ack), ErrorCode::Forbidden);
    let (ack, _) = moderate(&mut carl, "dev", ModAction::Kick, "bob", None, None).await;
    assert_eq!(ack_code(&ack), ErrorCode::Forbidden);
    let mut dan = Client::named(&server, "dan").await;
    let state = dan.join_answers("dev").await;
    assert_eq!(
        roles(&state),
        [
            ("ann".into(), Some(Role::Owner)),
            ("bob".into(), Some(Role::Op)),
            ("carl".into(), Some(Role::Voice)),
            ("dan".into(), None)
        ]
    );
    // Someone with a role who comes back is announced with it.
    let id = carl.next_id();
    let (ack, _) = carl
        .request(ClientEvent::Leave {
            id,
            room: "dev".into(),
        })
        .await;
    assert_ok(&ack);
    carl.join("dev").await;
    let back = dan
        .expect(
            "carl's user_joined",
            |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "carl"),
        )
        .await;
    assert!(
        matches!(
            back,
            ServerEvent::UserJoined {
                role: Some(Role::Voice),
                ..
            }
        ),
        "{back:?}"
    );
    ok(&mut ann, "dev", ModAction::Deop, "bob").await;
    assert_eq!(next_action(&mut dan).await, "ann took operator from bob");
    let (ack, _) = moderate(&mut bob, "dev", ModAction::Devoice, "carl", None, None).await;
    assert_eq!(
        ack_code(&ack),
        ErrorCode::Forbidden,
        "no longer an operator"
    );
}

#[tokio::test]
async fn a_kick_removes_every_device_of_the_identity_which_may_come_back() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    let mut phone = second_device(&server, &mut bob).await;
    ann.join("dev").await;
    bob.join("dev").await;
    phone.join("dev").await;
    let (ack, _) = moderate(&mut ann, "dev", ModAction::Kick, "bob", None, Some("spam")).await;
    assert_ok(&ack);
    for device in [&mut bob, &mut phone] {
        assert_eq!(next_action(device).await, "bob was kicked by ann: spam");
        let removed = device.recv().await;
        assert!(
            matches!(&removed, ServerEvent::Removed { room, action: ModAction::Kick, by: Some(by), reason: Some(r) }
                if room == "dev" && by.name == "ann" && r == "spam"),
            "{removed:?}"
        );
    }
    ann.expect(
        "bob left",
        |e| matches!(e, ServerEvent::UserLeft { name, .. } if name == "bob"),
    )
    .await;
    assert_eq!(
        ack_code(&bob.say("dev", "still here?").await),
        ErrorCode::NotInRoom
    );
    // A kick is not a ban.
    bob.join("dev").await;
}

#[tokio::test]
async fn a_ban_holds_on_another_device_after_nick_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let stored = || server::Config {
        store: server::store::StoreConfig {
            path: Some(dir.path().join("chat.sqlite3")),
            ..Default::default()
        },
        ..config()
    };
    let first = TestServer::with_config(stored()).await;
    let mut ann = Client::named(&first, "ann").await;
    let mut bob = Client::named(&first, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let (ack, _) = moderate(
        &mut ann,
        "dev",
        ModAction::Ban,
        "bob",
        Some(3600),
        Some("spam"),
    )
    .await;
    assert_ok(&ack);
    assert_eq!(next_action(&mut bob).await, "ann banned bob for 1 h: spam");
    bob.expect("removed", |e| {
        matches!(
            e,
            ServerEvent::Removed {
                action: ModAction::Ban,
                ..
            }
        )
    })
    .await;
    let (ack, _) = bob.try_join("dev").await;
    assert_eq!(ack_code(&ack), ErrorCode::Banned);
    let ServerEvent::Ack { error: Some(e), .. } = &ack else {
        panic!("{ack:?}")
    };
    assert!(e.message.contains("spam"), "{}", e.message);
    let mut phone = second_device(&first, &mut bob).await;
    assert_eq!(join_code(&mut phone, "dev").await, ErrorCode::Banned);
    let id = bob.next_id();
    let (ack, _) = bob
        .request(ClientEvent::Nick {
            id,
            name: "robert".into(),
        })
        .await;
    assert_ok(&ack);
    assert_eq!(join_code(&mut bob, "dev").await, ErrorCode::Banned);
    let (ann_key, bob_key) = (ann.credential(), bob.credential());
    ann.close().await;
    bob.close().await;
    phone.close().await;
    first.shutdown().await.expect("clean shutdown");

    let second = TestServer::with_config(stored()).await;
    let mut bob = Client::signed_in(&second, &bob_key).await;
    assert_eq!(join_code(&mut bob, "dev").await, ErrorCode::Banned);
    let mut ann = Client::signed_in(&second, &ann_key).await;
    let state = ann.join_answers("dev").await;
    assert_eq!(
        roles(&state),
        [("ann".into(), Some(Role::Owner))],
        "still its owner"
    );
    // The log, read from the store: the ban is there.
    let id = ann.next_id();
    let (ack, others) = ann
        .request(ClientEvent::Modlog {
            id,
            room: "dev".into(),
        })
        .await;
    assert_ok(&ack);
    let Some(ServerEvent::ModLog { entries, .. }) = others.last() else {
        panic!("{others:?}")
    };
    let lines: Vec<String> = entries.iter().filter_map(describe).collect();
    assert_eq!(lines, ["ann banned bob for 1 h: spam"]);
    ok(&mut ann, "dev", ModAction::Unban, "robert").await;
    bob.join("dev").await;
}

#[tokio::test]
async fn a_muted_person_reads_but_cannot_write_also_after_reconnecting() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    let (ack, _) = moderate(&mut ann, "dev", ModAction::Mute, "bob", Some(600), None).await;
    assert_ok(&ack);
    assert_eq!(next_action(&mut bob).await, "ann muted bob for 10 min");
    assert_eq!(ack_code(&bob.say("dev", "hello?").await), ErrorCode::Muted);
    let id = bob.next_id();
    let (ack, _) = bob
        .request(ClientEvent::Location {
            id,
            room: "dev".into(),
            latitude: 1.0,
            longitude: 2.0,
        })
        .await;
    assert_eq!(ack_code(&ack), ErrorCode::Muted);
    assert_eq!(
        ack_code(&topic(&mut bob, "dev", "mine").await),
        ErrorCode::Muted
    );
    // Reading goes on.
    assert_ok(&ann.say("dev", "you can read this").await);
    bob.expect(
        "ann's line",
        |e| matches!(e, ServerEvent::Message { text, .. } if text == "you can read this"),
    )
    .await;
    // A new connection is muted all the same.
    let key = bob.credential();
    bob.close().await;
    let mut bob = Client::signed_in(&server, &key).await;
    bob.join("dev").await;
    assert_eq!(
        ack_code(&bob.say("dev", "and now?").await),
        ErrorCode::Muted
    );
    ok(&mut ann, "dev", ModAction::Unmute, "bob").await;
    assert_ok(&bob.say("dev", "thanks").await);
}

#[tokio::test]
async fn invite_only_rooms_are_left_out_of_the_list_and_need_an_invite() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    ann.join("dev").await;
    ann.join("open").await;
    set_mode(&mut ann, |e| {
        if let ClientEvent::Mode { invite_only, .. } = e {
            *invite_only = Some(true);
        }
    })
    .await;
    let id = bob.next_id();
    let (ack, others) = bob.request(ClientEvent::List { id }).await;
    assert_ok(&ack);
    let Some(ServerEvent::RoomList { rooms }) = others.last() else {
        panic!("{others:?}")
    };
    let names: Vec<&str> = rooms.iter().map(|r| r.room.as_str()).collect();
    assert_eq!(names, ["open"]);
    assert_eq!(join_code(&mut bob, "dev").await, ErrorCode::InviteOnly);
    ok(&mut ann, "dev", ModAction::Invite, "bob").await;
    let state = bob.join_answers("dev").await;
    assert!(
        matches!(state.first(), Some(ServerEvent::RoomState { modes, .. }) if modes.invite_only),
        "{state:?}"
    );
}

#[tokio::test]
async fn moderated_rooms_topic_lock_and_slow_mode() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    set_mode(&mut ann, |e| {
        if let ClientEvent::Mode {
            moderated,
            topic_lock,
            ..
        } = e
        {
            *moderated = Some(true);
            *topic_lock = Some(true);
        }
    })
    .await;
    assert_eq!(
        next_action(&mut bob).await,
        "ann set the room's modes: moderated, topic locked"
    );
    assert_eq!(
        ack_code(&bob.say("dev", "may I?").await),
        ErrorCode::Moderated
    );
    ok(&mut ann, "dev", ModAction::Voice, "bob").await;
    assert_ok(&bob.say("dev", "thank you").await);
    assert_eq!(
        ack_code(&topic(&mut bob, "dev", "bob's room").await),
        ErrorCode::TopicLocked
    );
    assert_ok(&topic(&mut ann, "dev", "ann's room").await);
    set_mode(&mut ann, |e| {
        if let ClientEvent::Mode {
            moderated, slow_s, ..
        } = e
        {
            *moderated = Some(false);
            *slow_s = Some(600);
        }
    })
    .await;
    // Slow mode counts from one's latest line: bob's was just now.
    assert_eq!(ack_code(&bob.say("dev", "one").await), ErrorCode::SlowMode);
    let mut carl = Client::named(&server, "carl").await;
    carl.join("dev").await;
    assert_ok(&carl.say("dev", "one").await);
    let slowed = carl.say("dev", "two").await;
    assert_eq!(ack_code(&slowed), ErrorCode::SlowMode);
    // Operators are exempt.
    assert_ok(&ann.say("dev", "one").await);
    assert_ok(&ann.say("dev", "two").await);
}

#[tokio::test]
async fn the_filter_refuses_profanity_and_obfuscations_keeps_nothing_and_lets_scunthorpe_through() {
    let server = TestServer::with_config(filtered(ServerFilter::Profanity)).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    for text in ["damn shitty fucking", "f u c k you", "sh1t", "fuuuuck"] {
        assert_eq!(
            ack_code(&ann.say("dev", text).await),
            ErrorCode::ContentBlocked,
            "{text}"
        );
    }
    assert_ok(&ann.say("dev", "I grew up in Scunthorpe").await);
    bob.expect(
        "Scunthorpe",
        |e| matches!(e, ServerEvent::Message { text, .. } if text == "I grew up in Scunthorpe"),
    )
    .await;
    assert_eq!(
        ack_code(&topic(&mut ann, "dev", "fucking topic").await),
        ErrorCode::ContentBlocked
    );
    // Direct messages too.
    let id = ann.next_id();
    let (ack, others) = ann
        .request(ClientEvent::Query {
            id,
            name: "bob".into(),
        })
        .await;
    assert_ok(&ack);
    let Some(ServerEvent::RoomState { room: dm, .. }) = others.first() else {
        panic!("{others:?}")
    };
    let dm = dm.clone();
    assert_eq!(
        ack_code(&ann.say(&dm, "damn shitty fucking").await),
        ErrorCode::ContentBlocked
    );
    // Stored nowhere: a newcomer's history has the clean line only.
    let mut carl = Client::named(&server, "carl").await;
    let (events, _, _) = carl.join_with("dev", None, None).await;
    let texts: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { text, .. } | ServerEvent::Topic { text, .. } => {
                Some(text.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["I grew up in Scunthorpe"]);
    // A room's operators may turn it off there.
    set_mode(&mut ann, |e| {
        if let ClientEvent::Mode { filter, .. } = e {
            *filter = Some(FilterMode::Off);
        }
    })
    .await;
    assert_ok(&ann.say("dev", "damn shitty fucking").await);
}

#[tokio::test]
async fn a_word_list_file_is_matched_whole_words_and_obfuscations() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("words.txt");
    std::fs::write(&path, "# ours\nturnip\n").unwrap();
    let setting: server::moderation::FilterSetting = path.display().to_string().parse().unwrap();
    let server = TestServer::with_config(filtered(setting.load().unwrap())).await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    for text in ["TURNIP", "t u r n 1 p", "tuuurnip!"] {
        assert_eq!(
            ack_code(&ann.say("dev", text).await),
            ErrorCode::ContentBlocked,
            "{text}"
        );
    }
    assert_ok(&ann.say("dev", "turnips are fine").await);
}

#[tokio::test]
async fn flood_protection_refuses_repeats_and_mentions_then_mutes_and_says_so() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    assert_ok(&bob.say("dev", "@a @b @c @d @e").await);
    assert_ok(&bob.say("dev", "buy now").await);
    assert_ok(&bob.say("dev", "BUY NOW ").await);
    assert_eq!(ack_code(&bob.say("dev", "buy now").await), ErrorCode::Flood);
    assert_eq!(
        ack_code(&bob.say("dev", "@a @b @c @d @e @f").await),
        ErrorCode::Flood
    );
    assert_eq!(ack_code(&bob.say("dev", "buy now").await), ErrorCode::Flood);
    assert_eq!(
        next_action(&mut ann).await,
        "bob was muted for 5 min by the server: flooding"
    );
    assert_eq!(ack_code(&bob.say("dev", "sorry").await), ErrorCode::Muted);
}

#[tokio::test]
async fn modlog_lists_the_actions_for_operators_only() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    let mut bob = Client::named(&server, "bob").await;
    ann.join("dev").await;
    bob.join("dev").await;
    ok(&mut ann, "dev", ModAction::Voice, "bob").await;
    assert_ok(&ann.say("dev", "between").await);
    let (ack, _) = moderate(&mut ann, "dev", ModAction::Kick, "bob", None, Some("bye")).await;
    assert_ok(&ack);
    let mut carl = Client::named(&server, "carl").await;
    carl.join("dev").await;
    let id = carl.next_id();
    let (ack, _) = carl
        .request(ClientEvent::Modlog {
            id,
            room: "dev".into(),
        })
        .await;
    assert_eq!(ack_code(&ack), ErrorCode::Forbidden);
    let id = ann.next_id();
    let (ack, others) = ann
        .request(ClientEvent::Modlog {
            id,
            room: "dev".into(),
        })
        .await;
    assert_ok(&ack);
    let entries = others
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::ModLog { entries, .. } => Some(entries),
            _ => None,
        })
        .expect("a mod_log");
    let lines: Vec<String> = entries.iter().filter_map(describe).collect();
    assert_eq!(
        lines,
        ["ann gave voice to bob", "bob was kicked by ann: bye"]
    );
}

#[tokio::test]
async fn an_admin_named_with_the_tool_ranks_above_the_owner() {
    let dir = tempfile::tempdir().unwrap();
    let tool = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .args(args)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("run chat-server user");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let added = tool(&["user", "add", "root"]);
    let code = added
        .lines()
        .find_map(|l| l.split(": ").nth(1))
        .expect("a link code")
        .to_owned();
    assert!(tool(&["user", "admin", "root"]).contains("is a server admin"));
    let server = TestServer::with_config(server::Config {
        store: server::store::StoreConfig {
            path: Some(dir.path().join("chat.sqlite3")),
            ..Default::default()
        },
        ..config()
    })
    .await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let mut root = Client::connect(&server).await;
    root.send(&hello_code(&code)).await;
    root.welcome().await;
    let state = root.join_answers("dev").await;
    assert_eq!(
        roles(&state),
        [
            ("ann".into(), Some(Role::Owner)),
            ("root".into(), Some(Role::Admin))
        ]
    );
    let (ack, _) = moderate(&mut ann, "dev", ModAction::Kick, "root", None, None).await;
    assert_eq!(ack_code(&ack), ErrorCode::Forbidden);
    ok(&mut root, "dev", ModAction::Mute, "ann").await;
    assert_eq!(ack_code(&ann.say("dev", "hey").await), ErrorCode::Muted);
    assert!(tool(&["user", "admin", "--remove", "root"]).contains("no longer"));
}

#[tokio::test]
async fn mode_changes_sent_back_to_back_build_on_each_other() {
    let server = TestServer::with_config(config()).await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    // Both requests are on their way before the first is answered: the
    // second must start from the first's result, not from the modes the
    // room had when both were sent.
    let mut lock = mode("dev", ann.next_id());
    if let ClientEvent::Mode { topic_lock, .. } = &mut lock {
        *topic_lock = Some(true);
    }
    let mut slow = mode("dev", ann.next_id());
    if let ClientEvent::Mode { slow_s, .. } = &mut slow {
        *slow_s = Some(10);
    }
    ann.send(&lock).await;
    ann.send(&slow).await;
    let mut last = None;
    for _ in 0..2 {
        let event = ann
            .expect("a mode event", |e| {
                matches!(e, ServerEvent::Moderation { .. })
            })
            .await;
        if let ServerEvent::Moderation { modes, .. } = event {
            last = modes;
        }
    }
    let modes = last.expect("modes in the event");
    assert!(modes.topic_lock, "the lock was lost: {modes:?}");
    assert_eq!(modes.slow_s, 10);
}

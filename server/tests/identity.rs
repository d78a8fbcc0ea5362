//! Identities end to end, on a real server with real WebSocket clients:
//! names that belong to someone, look-alikes, the forged-id attack,
//! credentials, link codes, devices and logout, closed registration, a
//! second connection while the first is frozen, and names that expire.

mod common;

use std::time::Duration;

use common::*;
use protocol::{ClientEvent, ErrorCode, ServerEvent, close};

fn error_code(e: &ServerEvent) -> Option<ErrorCode> {
    match e {
        ServerEvent::Error { code, .. } => Some(*code),
        _ => None,
    }
}

fn user_of(welcome: &ServerEvent) -> (String, String) {
    match welcome {
        ServerEvent::Welcome { user, device, .. } => (user.id.clone(), device.id.clone()),
        other => panic!("expected welcome, got {other:?}"),
    }
}

fn hello_code(code: &str) -> ClientEvent {
    ClientEvent::Hello {
        protocol: protocol::PROTOCOL_VERSION,
        name: None,
        credential: None,
        link_code: Some(code.into()),
        device: Some("second device".into()),
        client: Some("tests".into()),
    }
}

/// Asks for a link code on `c`; returns it.
async fn link(c: &mut Client) -> String {
    let id = c.next_id();
    let (ack, others) = c.request(ClientEvent::Link { id }).await;
    assert_ok(&ack);
    others
        .into_iter()
        .find_map(|e| match e {
            ServerEvent::LinkCode { code, .. } => Some(code),
            _ => None,
        })
        .expect("link_code before the ack")
}

#[tokio::test]
async fn an_impostor_without_the_credential_is_refused_and_may_try_again() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    ann.close().await;

    // ann is away; mallory says she is ann.
    let mut mallory = Client::connect(&server).await;
    mallory.send(&hello_named("ann")).await;
    let refused = mallory.recv().await;
    let ServerEvent::Error { code, message } = &refused else {
        panic!("{refused:?}")
    };
    assert_eq!(*code, ErrorCode::NameClaimed);
    assert!(message.contains("/link"), "says how to sign in: {message}");
    // The connection stays open for another try, under her own name.
    mallory.hello("mallory").await;
}

/// Every look-alike of "ann" from the report is refused, whether the
/// impostor would go on to the room ann is in or to another one.
#[tokio::test]
async fn every_look_alike_is_refused_as_taken() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let mut jose = Client::named(&server, "jos\u{e9}").await;
    jose.join("dev").await;

    let look_alikes = [
        "Ann",
        "ANN",
        "\u{430}nn",
        "ann\u{FE0F}",
        "ann\u{FE00}",
        "ann\u{2800}",
        "ann\u{1BCA0}",
        "ann\u{600}",
        "\u{FF41}\u{FF4E}\u{FF4E}",
        "\u{1D41A}\u{1D427}\u{1D427}",
        "jose\u{301}",
        "JOS\u{C9}",
    ];
    for (i, alike) in look_alikes.iter().enumerate() {
        for room in ["dev", "ops"] {
            let mut c = Client::connect(&server).await;
            c.send(&hello_named(alike)).await;
            let e = c.recv().await;
            assert!(
                matches!(
                    error_code(&e),
                    Some(ErrorCode::NameClaimed | ErrorCode::InvalidName)
                ),
                "{alike:?} (case {i}) got {e:?}"
            );
            // Without a welcome, no room is reachable under any name.
            let id = c.next_id();
            let (ack, _) = c
                .request(ClientEvent::Join {
                    id,
                    room: room.into(),
                    since: None,
                    epoch: None,
                })
                .await;
            assert_eq!(ack_code(&ack), ErrorCode::NotIdentified, "{alike:?}");
        }
    }
    // Nobody but josé joined ann's room.
    let (ack, events) = ann
        .request(ClientEvent::Send {
            id: "alone".into(),
            room: "dev".into(),
            text: "alone?".into(),
            action: false,
        })
        .await;
    assert_ok(&ack);
    for e in events {
        if let ServerEvent::UserJoined { name, .. } = &e {
            assert_eq!(name, "jos\u{e9}", "{e:?}");
        }
    }
}

/// The attack from the report: mallory occupies the request id ann's
/// client will use next. Resends are keyed by identity and device, so
/// ann's message is stored and delivered exactly once, and nothing is
/// stored under her name that she did not send.
#[tokio::test]
async fn the_forged_id_attack_suppresses_nothing() {
    let server = TestServer::start().await;
    let mut ann = Client::connect(&server).await;
    let (ann_user, _) = user_of(&ann.hello("ann").await);
    ann.join("dev").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;

    // mallory cannot be ann, so she takes ann's next id under her own name.
    let mut mallory = Client::connect(&server).await;
    mallory.send(&hello_named("ann")).await;
    assert_eq!(
        error_code(&mallory.recv().await),
        Some(ErrorCode::NameClaimed)
    );
    let (mallory_user, _) = user_of(&mallory.hello("mallory").await);
    mallory.join("dev").await;
    let send = |text: &str| ClientEvent::Send {
        id: "ann-7".into(),
        room: "dev".into(),
        text: text.into(),
        action: false,
    };
    let (forged, _) = mallory.request(send("forged")).await;
    assert_ok(&forged);

    let (real, _) = ann.request(send("real")).await;
    let (ServerEvent::Ack { seq: Some(f), .. }, ServerEvent::Ack { seq: Some(r), .. }) =
        (&forged, &real)
    else {
        panic!("{forged:?} {real:?}")
    };
    assert_ne!(f, r, "ann's message got its own number");

    // bob sees ann's message once, as hers; mallory's as mallory's.
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|(t, _, _): &(String, String, String)| t == "real")
    {
        if let ServerEvent::Message {
            text, from, user, ..
        } = bob.recv().await
        {
            seen.push((text, from, user));
        }
    }
    assert_eq!(
        seen,
        vec![
            ("forged".into(), "mallory".into(), mallory_user.clone()),
            ("real".into(), "ann".into(), ann_user.clone()),
        ]
    );

    // ann resends after a lost ack: the same number, nothing new.
    let credential = ann.credential();
    ann.close().await;
    let mut ann = Client::signed_in(&server, &credential).await;
    ann.join("dev").await;
    let (again, _) = ann.request(send("real")).await;
    assert!(
        matches!(again, ServerEvent::Ack { seq: Some(s), .. } if s == *r),
        "{again:?}"
    );

    // The history: each message once, under its real sender.
    let mut cat = Client::named(&server, "cat").await;
    let (events, _, _) = cat.join_with("dev", None, None).await;
    let stored: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { text, user, .. } => Some((text.clone(), user.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        stored,
        vec![("forged".into(), mallory_user), ("real".into(), ann_user)]
    );
}

#[tokio::test]
async fn a_credential_signs_the_same_device_in_and_a_bad_one_is_refused() {
    let server = TestServer::start().await;
    let mut ann = Client::connect(&server).await;
    let welcome = ann.hello("ann").await;
    let (user, device) = user_of(&welcome);
    let credential = ann.credential();
    assert!(credential.len() >= 43, "at least 256 bits: {credential}");
    ann.close().await;

    let mut again = Client::connect(&server).await;
    let welcome = again.sign_in(&credential).await;
    assert_eq!(user_of(&welcome), (user.clone(), device));
    let ServerEvent::Welcome {
        credential: issued,
        name,
        ..
    } = &welcome
    else {
        unreachable!()
    };
    assert_eq!(
        (issued, name.as_str()),
        (&None, "ann"),
        "nothing new issued"
    );

    let mut wrong = Client::connect(&server).await;
    wrong.send(&hello_with("not-a-credential")).await;
    assert_eq!(
        error_code(&wrong.recv().await),
        Some(ErrorCode::BadCredential)
    );
    // A credential wins over a name: the name is ignored.
    let mut both = Client::connect(&server).await;
    let mut hello = hello_with(&credential);
    if let ClientEvent::Hello { name, .. } = &mut hello {
        *name = Some("somebody-else".into());
    }
    both.send(&hello).await;
    assert_eq!(user_of(&both.welcome().await).0, user);
}

#[tokio::test]
async fn a_link_code_adds_a_device_once() {
    let server = TestServer::start().await;
    let mut ann = Client::connect(&server).await;
    let (user, first_device) = user_of(&ann.hello("ann").await);
    let code = link(&mut ann).await;
    assert!(
        code.len() == 9 && code.as_bytes()[4] == b'-',
        "shown as XXXX-XXXX: {code}"
    );

    // Typed in lower case without the dash, on a new device.
    let mut laptop = Client::connect(&server).await;
    laptop
        .send(&hello_code(&code.replace('-', "").to_lowercase()))
        .await;
    let welcome = laptop.welcome().await;
    let (linked_user, linked_device) = user_of(&welcome);
    assert_eq!(linked_user, user, "the same identity");
    assert_ne!(linked_device, first_device, "a new device");
    let laptop_credential = laptop.credential();
    assert_ne!(Some(laptop_credential.clone()), ann.credential);

    // Used once.
    let mut thief = Client::connect(&server).await;
    thief.send(&hello_code(&code)).await;
    assert_eq!(
        error_code(&thief.recv().await),
        Some(ErrorCode::BadLinkCode)
    );
    thief.send(&hello_code("ZZZZ-ZZZZ")).await;
    assert_eq!(
        error_code(&thief.recv().await),
        Some(ErrorCode::BadLinkCode)
    );
    thief.send(&hello_code("not a code")).await;
    assert_eq!(
        error_code(&thief.recv().await),
        Some(ErrorCode::BadLinkCode)
    );

    // The new device's own credential works on its own.
    laptop.close().await;
    let mut back = Client::signed_in(&server, &laptop_credential).await;
    assert_eq!(back.join("dev").await, vec!["ann"]);
}

#[tokio::test]
async fn an_expired_link_code_is_refused() {
    let mut config = server::Config::default();
    // Codes that expire as they are made: no waiting for ten minutes.
    config.identity.link_ttl = Duration::ZERO;
    let server = TestServer::with_config(config).await;
    let mut ann = Client::named(&server, "ann").await;
    let code = link(&mut ann).await;
    let mut late = Client::connect(&server).await;
    late.send(&hello_code(&code)).await;
    assert_eq!(error_code(&late.recv().await), Some(ErrorCode::BadLinkCode));
}

#[tokio::test]
async fn devices_are_listed_and_a_logged_out_one_is_closed_and_refused() {
    let server = TestServer::start().await;
    let mut phone = Client::connect(&server).await;
    let (_, phone_device) = user_of(&phone.hello("ann").await);
    let code = link(&mut phone).await;
    let mut laptop = Client::connect(&server).await;
    laptop.send(&hello_code(&code)).await;
    let (_, laptop_device) = user_of(&laptop.welcome().await);
    let laptop_credential = laptop.credential();
    laptop.join("dev").await;

    let id = phone.next_id();
    let (ack, others) = phone.request(ClientEvent::Devices { id }).await;
    assert_ok(&ack);
    let Some(ServerEvent::Devices { devices }) = others.into_iter().next() else {
        panic!("devices before the ack")
    };
    let listed: Vec<(&str, bool)> = devices.iter().map(|d| (d.id.as_str(), d.current)).collect();
    assert_eq!(
        listed,
        vec![
            (phone_device.as_str(), true),
            (laptop_device.as_str(), false)
        ]
    );
    assert_eq!(devices[1].name, "second device");

    // Another identity's device, or none at all: not found.
    let mut bob = Client::named(&server, "bob").await;
    for device in [phone_device.as_str(), "d_0000000000000000"] {
        let id = bob.next_id();
        let (ack, _) = bob
            .request(ClientEvent::Logout {
                id,
                device: Some(device.into()),
            })
            .await;
        assert_eq!(ack_code(&ack), ErrorCode::NotFound);
    }

    // The phone signs the laptop out: its connection is told and closed.
    let id = phone.next_id();
    let (ack, _) = phone
        .request(ClientEvent::Logout {
            id,
            device: Some(laptop_device.clone()),
        })
        .await;
    assert_ok(&ack);
    let told = laptop
        .expect("credential_revoked", |e| error_code(e).is_some())
        .await;
    assert_eq!(error_code(&told), Some(ErrorCode::CredentialRevoked));
    assert_eq!(
        close_code(&laptop.recv_frame().await),
        Some(close::CREDENTIAL_REVOKED)
    );
    // Its credential no longer works.
    let mut again = Client::connect(&server).await;
    again.send(&hello_with(&laptop_credential)).await;
    assert_eq!(
        error_code(&again.recv().await),
        Some(ErrorCode::BadCredential)
    );

    // Signing oneself out: the ack, then the close.
    let id = phone.next_id();
    let ack_id = id.clone();
    phone.send(&ClientEvent::Logout { id, device: None }).await;
    let ack = phone.recv().await;
    assert!(
        matches!(&ack, ServerEvent::Ack { id, ok: true, .. } if *id == ack_id),
        "{ack:?}"
    );
    assert_eq!(
        error_code(&phone.recv().await),
        Some(ErrorCode::CredentialRevoked)
    );
    assert_eq!(
        close_code(&phone.recv_frame().await),
        Some(close::CREDENTIAL_REVOKED)
    );
}

/// A frozen connection (its client reads nothing) does not keep its owner
/// out: a second connection of the same identity joins at once, and the
/// room lists ann once.
#[tokio::test]
async fn a_second_connection_joins_while_the_first_is_frozen() {
    let server = TestServer::start().await;
    let mut frozen = Client::named(&server, "ann").await;
    frozen.join("dev").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;
    // From here on the first connection is never read again.
    let mut fresh = Client::signed_in(&server, &frozen.credential()).await;
    assert_eq!(fresh.join("dev").await, vec!["ann", "bob"]);
    assert_ok(&fresh.say("dev", "it's me").await);
    let seen = bob
        .expect("ann's line", |e| matches!(e, ServerEvent::Message { .. }))
        .await;
    assert!(
        matches!(&seen, ServerEvent::Message { from, text, .. } if from == "ann" && text == "it's me"),
        "{seen:?}"
    );
    drop(frozen);
}

#[tokio::test]
async fn closed_registration_admits_only_identities_the_operator_added() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = server::Config::default();
    config.store.path = Some(server::store::file_in(dir.path()));
    config.identity.registration = server::identity::Registration::Closed;
    let server = TestServer::with_config(config).await;

    let mut stranger = Client::connect(&server).await;
    stranger.send(&hello_named("stranger")).await;
    assert_eq!(
        error_code(&stranger.recv().await),
        Some(ErrorCode::RegistrationClosed)
    );

    // The operator adds ann with the real command, on the same store.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["user", "add", "ann", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run chat-server user add");
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout);
    let code = printed
        .split_whitespace()
        .find(|w| w.len() == 9 && w.as_bytes()[4] == b'-')
        .unwrap_or_else(|| panic!("a code in {printed:?}"))
        .to_owned();

    // Her name is hers, and the printed code signs her first device in.
    stranger.send(&hello_named("ann")).await;
    assert_eq!(
        error_code(&stranger.recv().await),
        Some(ErrorCode::NameClaimed)
    );
    let mut ann = Client::connect(&server).await;
    ann.send(&hello_code(&code)).await;
    let welcome = ann.welcome().await;
    assert!(
        matches!(&welcome, ServerEvent::Welcome { name, credential: Some(_), .. } if name == "ann"),
        "{welcome:?}"
    );
    assert_eq!(ann.join("dev").await, vec!["ann"]);

    let listed = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["user", "list", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("run chat-server user list");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("ann\tu_") && listed.contains("1 device(s)"),
        "{listed}"
    );
}

/// Names nobody uses expire; a connected identity does not. The TTL is
/// zero and the check runs often, so nothing waits for days.
#[tokio::test]
async fn unused_names_expire_and_connected_ones_stay() {
    let mut config = server::Config::default();
    config.identity.name_ttl = Duration::ZERO;
    config.identity.sweep_every = Duration::from_millis(50);
    let server = TestServer::with_config(config).await;
    let ann = Client::named(&server, "ann").await;
    let ann_credential = ann.credential();
    ann.close().await;
    let bob = Client::named(&server, "bob").await;

    // ann's name becomes free (bounded wait on the condition).
    let mut freed = false;
    for _ in 0..200 {
        let mut c = Client::connect(&server).await;
        c.send(&hello_named("ann")).await;
        match c.recv().await {
            ServerEvent::Welcome { .. } => {
                freed = true;
                break;
            }
            e => assert_eq!(error_code(&e), Some(ErrorCode::NameClaimed)),
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(freed, "ann's unused name was never freed");
    // Her old credential went with her identity; bob, connected, stays.
    let mut old = Client::connect(&server).await;
    old.send(&hello_with(&ann_credential)).await;
    assert_eq!(
        error_code(&old.recv().await),
        Some(ErrorCode::BadCredential)
    );
    let mut bob2 = Client::signed_in(&server, &bob.credential()).await;
    assert_eq!(bob2.join("dev").await, vec!["bob"]);
}

#[tokio::test]
async fn ping_is_answered_with_an_ack() {
    let server = TestServer::start().await;
    let mut ann = Client::named(&server, "ann").await;
    let (ack, others) = ann.request(ClientEvent::Ping { id: "p7".into() }).await;
    assert_ok(&ack);
    assert!(others.is_empty(), "{others:?}");
}

/// Guessing costs: every refused hello is a strike, and one too many
/// closes the connection (1008), so credentials and codes cannot be tried
/// at the speed of a loop.
#[tokio::test]
async fn guessing_credentials_and_codes_is_cut_off() {
    let server = TestServer::start().await;
    let mut guesser = Client::connect(&server).await;
    let limit = server::Config::default().malformed_limit;
    let mut closed = None;
    for i in 0..=limit + 1 {
        let guess = if i % 2 == 0 {
            hello_with(&format!("guess-{i}"))
        } else {
            hello_code(&format!("AAAA-AAA{}", i % 10))
        };
        guesser.send(&guess).await;
        match guesser.recv_frame().await {
            Frame::Event(e) if error_code(&e) == Some(ErrorCode::Malformed) => {
                closed = Some(close_code(&guesser.recv_frame().await));
                break;
            }
            Frame::Event(e) => assert!(
                matches!(
                    error_code(&e),
                    Some(ErrorCode::BadCredential | ErrorCode::BadLinkCode)
                ),
                "{e:?}"
            ),
            Frame::Closed(c) => panic!("closed without a reason: {c:?}"),
        }
    }
    assert_eq!(closed, Some(Some(close::POLICY_VIOLATION)));
}

fn user_command(args: &[&str], dir: &std::path::Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .arg("user")
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .expect("run chat-server user");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `user rename` and `user remove` work on the store a running server
/// uses: a renamed identity signs in under its new name, a removed one's
/// credential stops working and its name is free.
#[tokio::test]
async fn operators_rename_and_remove_identities() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = server::Config::default();
    config.store.path = Some(server::store::file_in(dir.path()));
    let server = TestServer::with_config(config).await;
    let ann = Client::named(&server, "ann").await;
    let bob = Client::named(&server, "bob").await;

    let said = user_command(&["rename", "ANN", "anna"], dir.path());
    assert!(said.starts_with("renamed ann to anna"), "{said}");
    let mut anna = Client::connect(&server).await;
    let welcome = anna.sign_in(&ann.credential()).await;
    assert!(
        matches!(&welcome, ServerEvent::Welcome { name, .. } if name == "anna"),
        "{welcome:?}"
    );
    // The old name is free, the new one is hers.
    Client::named(&server, "ann").await;
    let mut other = Client::connect(&server).await;
    other.send(&hello_named("Anna")).await;
    assert_eq!(
        error_code(&other.recv().await),
        Some(ErrorCode::NameClaimed)
    );

    let said = user_command(&["remove", "bob"], dir.path());
    assert!(said.starts_with("removed bob"), "{said}");
    let mut gone = Client::connect(&server).await;
    gone.send(&hello_with(&bob.credential())).await;
    assert_eq!(
        error_code(&gone.recv().await),
        Some(ErrorCode::BadCredential)
    );
    Client::named(&server, "bob").await;
}

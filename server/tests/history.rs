//! History, resume and idempotent sends, against a real SQLite file.

mod common;

use common::*;
use protocol::{ClientEvent, Seq, ServerEvent};

fn data_dir_args(dir: &std::path::Path) -> Vec<String> {
    vec!["--data-dir".into(), dir.display().to_string()]
}

fn store_in(dir: &tempfile::TempDir) -> server::store::StoreConfig {
    server::store::StoreConfig {
        path: Some(dir.path().join("chat.sqlite3")),
        ..Default::default()
    }
}

async fn durable_server(
    dir: &tempfile::TempDir,
    tweak: impl FnOnce(&mut server::Config),
) -> TestServer {
    let mut config = server::Config {
        rate_per_sec: 0.0,
        store: store_in(dir),
        ..Default::default()
    };
    tweak(&mut config);
    TestServer::with_config(config).await
}

fn epoch_of(welcome: &ServerEvent) -> String {
    match welcome {
        ServerEvent::Welcome { epoch, .. } => epoch.clone(),
        other => panic!("not a welcome: {other:?}"),
    }
}

fn texts(events: &[ServerEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            ServerEvent::Message { text, .. } => text.clone(),
            other => panic!("not a message: {other:?}"),
        })
        .collect()
}

fn seqs(events: &[ServerEvent]) -> Vec<Seq> {
    events
        .iter()
        .map(|e| match e {
            ServerEvent::Message { seq, .. } | ServerEvent::Location { seq, .. } => *seq,
            other => panic!("not stored: {other:?}"),
        })
        .collect()
}

async fn say_n(c: &mut Client, room: &str, n: usize, prefix: &str) -> Vec<Seq> {
    let mut acked = Vec::new();
    for i in 0..n {
        let ack = c.say(room, &format!("{prefix}{i}")).await;
        match ack {
            ServerEvent::Ack {
                ok: true,
                seq: Some(seq),
                ..
            } => acked.push(seq),
            other => panic!("{other:?}"),
        }
    }
    acked
}

#[tokio::test]
async fn joining_delivers_the_latest_page_and_older_pages_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = durable_server(&dir, |_| {}).await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    say_n(&mut ann, "dev", 60, "m").await;

    let mut bob = Client::named(&server, "bob").await;
    let (events, more, missed) = bob.join_with("dev", None, None).await;
    assert_eq!(
        texts(&events),
        (10..60).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert!(more, "older messages exist");
    assert_eq!(missed, 0);

    let first = seqs(&events)[0];
    let id = bob.next_id();
    let (ack, others) = bob
        .request(ClientEvent::History {
            id,
            room: "dev".into(),
            before: first,
            limit: 50,
        })
        .await;
    assert_ok(&ack);
    let [ServerEvent::History { events, more, .. }] = others.as_slice() else {
        panic!("{others:?}")
    };
    assert_eq!(
        texts(events),
        (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert!(!more);
}

#[tokio::test]
async fn a_client_that_reconnects_gets_exactly_what_it_missed() {
    let dir = tempfile::tempdir().unwrap();
    let server = durable_server(&dir, |_| {}).await;
    let mut ann = Client::connect(&server).await;
    let epoch = epoch_of(&ann.hello("ann").await);
    ann.join("dev").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;
    let seen = *say_n(&mut bob, "dev", 5, "before").await.last().unwrap();
    let credential = ann.credential();
    ann.close().await;

    let sent = say_n(&mut bob, "dev", 200, "missed").await;

    let mut ann = Client::signed_in(&server, &credential).await;
    let (events, more, missed) = ann.join_with("dev", Some(seen), Some(epoch)).await;
    assert_eq!(seqs(&events), sent, "exactly the missed messages, in order");
    assert_eq!(
        texts(&events),
        (0..200).map(|i| format!("missed{i}")).collect::<Vec<_>>()
    );
    assert_eq!((more, missed), (false, 0));

    // Then live traffic, with no duplicate in between.
    let live = bob.say("dev", "live").await;
    let ServerEvent::Ack {
        seq: Some(live_seq),
        ..
    } = live
    else {
        panic!()
    };
    let got = ann
        .expect("live message", |e| matches!(e, ServerEvent::Message { .. }))
        .await;
    assert!(
        matches!(got, ServerEvent::Message { seq, ref text, .. } if seq == live_seq && text == "live"),
        "{got:?}"
    );
}

#[tokio::test]
async fn a_gap_beyond_the_bound_is_reported_not_skipped_silently() {
    let dir = tempfile::tempdir().unwrap();
    let server = durable_server(&dir, |c| {
        c.resume_limit = 100;
        c.history_on_join = 20;
    })
    .await;
    let mut bob = Client::connect(&server).await;
    let epoch = epoch_of(&bob.hello("bob").await);
    bob.join("dev").await;
    let first = say_n(&mut bob, "dev", 1, "x").await[0];
    say_n(&mut bob, "dev", 150, "y").await;

    let mut ann = Client::named(&server, "ann").await;
    let (events, more, missed) = ann.join_with("dev", Some(first), Some(epoch)).await;
    assert_eq!(events.len(), 20, "the latest page");
    assert_eq!(texts(&events).last().map(String::as_str), Some("y149"));
    assert_eq!(missed, 130, "150 missed, 20 shown");
    assert!(more);
}

#[tokio::test]
async fn a_resent_message_is_stored_and_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = durable_server(&dir, |_| {}).await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    let mut bob = Client::named(&server, "bob").await;
    bob.join("dev").await;

    let send = ClientEvent::Send {
        id: "ann-1".into(),
        room: "dev".into(),
        text: "once".into(),
        action: false,
    };
    let (first, _) = ann.request(send.clone()).await;
    // The same request again on a new connection of the same device, as
    // after a lost ack.
    let credential = ann.credential();
    ann.close().await;
    let mut ann = Client::signed_in(&server, &credential).await;
    ann.join("dev").await;
    let (second, others) = ann.request(send).await;
    let (ServerEvent::Ack { seq: Some(a), .. }, ServerEvent::Ack { seq: Some(b), .. }) =
        (&first, &second)
    else {
        panic!("{first:?} {second:?}")
    };
    assert_eq!(a, b, "the resend is acknowledged with the original number");
    assert!(
        !others
            .iter()
            .any(|e| matches!(e, ServerEvent::Message { .. })),
        "{others:?}"
    );

    // bob saw it exactly once, and so does history.
    let marker = ann.say("dev", "after").await;
    assert_ok(&marker);
    let mut onces = 0;
    loop {
        match bob.recv().await {
            ServerEvent::Message { text, .. } if text == "once" => onces += 1,
            ServerEvent::Message { text, .. } if text == "after" => break,
            _ => {}
        }
    }
    assert_eq!(onces, 1);
    let mut cat = Client::named(&server, "cat").await;
    let (events, _, _) = cat.join_with("dev", None, None).await;
    assert_eq!(texts(&events), vec!["once", "after"]);
}

#[tokio::test]
async fn numbering_survives_restarts_and_a_new_store_has_a_new_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let (epoch1, last, credential) = {
        let server = durable_server(&dir, |_| {}).await;
        let mut ann = Client::connect(&server).await;
        let epoch = epoch_of(&ann.hello("ann").await);
        ann.join("dev").await;
        let last = *say_n(&mut ann, "dev", 3, "a").await.last().unwrap();
        let credential = ann.credential();
        ann.close().await;
        server.shutdown().await.unwrap();
        (epoch, last, credential)
    };
    let server = durable_server(&dir, |_| {}).await;
    let mut ann = Client::connect(&server).await;
    assert_eq!(
        epoch_of(&ann.sign_in(&credential).await),
        epoch1,
        "same store, same epoch, and the identity is still there"
    );
    ann.join("dev").await;
    let next = say_n(&mut ann, "dev", 1, "b").await[0];
    assert!(next > last, "numbers went from {last} to {next}");
    server.shutdown().await.unwrap();

    // A fresh store: a new epoch, and an old `since` is not trusted.
    let other = tempfile::tempdir().unwrap();
    let server = durable_server(&other, |_| {}).await;
    let mut bob = Client::connect(&server).await;
    let epoch2 = epoch_of(&bob.hello("bob").await);
    assert_ne!(epoch1, epoch2);
    bob.join("dev").await;
    say_n(&mut bob, "dev", 2, "new").await;
    let mut ann = Client::named(&server, "ann").await;
    let (events, _, missed) = ann.join_with("dev", Some(next), Some(epoch1)).await;
    assert_eq!(
        texts(&events),
        vec!["new0", "new1"],
        "the latest page, not a replay from an old number"
    );
    assert_eq!(missed, 0);
}

#[tokio::test]
async fn retention_keeps_the_newest_messages() {
    let dir = tempfile::tempdir().unwrap();
    let server = durable_server(&dir, |c| c.store.retain_messages = Some(10)).await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    say_n(&mut ann, "dev", 30, "m").await;
    let mut bob = Client::named(&server, "bob").await;
    let (events, more, _) = bob.join_with("dev", None, None).await;
    assert_eq!(
        texts(&events),
        (20..30).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert!(!more);
}

#[tokio::test]
async fn retention_by_age_drops_old_messages() {
    let dir = tempfile::tempdir().unwrap();
    {
        let server = durable_server(&dir, |_| {}).await;
        let mut ann = Client::named(&server, "ann").await;
        ann.join("dev").await;
        say_n(&mut ann, "dev", 3, "old").await;
        ann.close().await;
        server.shutdown().await.unwrap();
    }
    // Make those three two days old, in the real store file.
    let two_days_ago = chrono::Utc::now().timestamp_millis() - 2 * 24 * 3600 * 1000;
    let db = rusqlite::Connection::open(dir.path().join("chat.sqlite3")).unwrap();
    let aged = db
        .execute("UPDATE events SET ts = ?1", [two_days_ago])
        .unwrap();
    assert_eq!(aged, 3);
    drop(db);

    let server = durable_server(&dir, |c| {
        c.store.retain_age = Some(std::time::Duration::from_secs(24 * 3600));
    })
    .await;
    let mut ann = Client::named(&server, "dan").await;
    ann.join("dev").await;
    let after = say_n(&mut ann, "dev", 1, "new").await[0];
    assert!(
        after > 3,
        "numbering continues past deleted messages: {after}"
    );
    let mut bob = Client::named(&server, "bob").await;
    let (events, more, _) = bob.join_with("dev", None, None).await;
    assert_eq!(
        texts(&events),
        vec!["new0"],
        "only the message within the age limit"
    );
    assert!(!more);
}

/// SIGKILL while clients are sending: every acknowledged message is there
/// after the restart, in order, exactly once.
#[tokio::test]
async fn acknowledged_messages_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Process::start(&data_dir_args(dir.path()));
    let addr = server.addr.clone();

    let mut senders = Vec::new();
    for n in 0..3 {
        let addr = addr.clone();
        senders.push(tokio::spawn(async move {
            let mut c = raw_client(&addr, &format!("s{n}")).await;
            c.join("dev").await;
            let mut acked = Vec::new();
            // Send until the server dies (bounded).
            for i in 0..100_000 {
                let id = format!("s{n}-{i}");
                let sent = c
                    .ws_send(&ClientEvent::Send {
                        id: id.clone(),
                        room: "dev".into(),
                        text: id.clone(),
                        action: false,
                    })
                    .await;
                if !sent {
                    break;
                }
                match c.try_recv_until_ack(&id).await {
                    Some(seq) => acked.push((seq, id)),
                    None => break,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    server.child.kill().expect("SIGKILL");
    server.child.wait().unwrap();
    let mut acked: Vec<(Seq, String)> = Vec::new();
    for s in senders {
        acked.extend(s.await.unwrap());
    }
    assert!(
        acked.len() > 10,
        "only {} messages were acknowledged before the kill",
        acked.len()
    );
    acked.sort();

    let restarted = Process::start(&data_dir_args(dir.path()));
    let mut reader = raw_client(&restarted.addr, "reader").await;
    reader.join("dev").await;
    // Page back through the whole history.
    let mut stored: Vec<(Seq, String)> = Vec::new();
    let mut before = Seq::MAX;
    for _ in 0..10_000 {
        let id = reader.next_id();
        let (ack, others) = reader
            .request(ClientEvent::History {
                id,
                room: "dev".into(),
                before,
                limit: 500,
            })
            .await;
        assert_ok(&ack);
        let Some(ServerEvent::History { events, more, .. }) = others
            .into_iter()
            .find(|e| matches!(e, ServerEvent::History { .. }))
        else {
            panic!("no history")
        };
        let mut page: Vec<(Seq, String)> = events
            .into_iter()
            .map(|e| match e {
                ServerEvent::Message { seq, text, .. } => (seq, text),
                other => panic!("{other:?}"),
            })
            .collect();
        before = page.first().map(|p| p.0).unwrap_or(0);
        page.extend(stored);
        stored = page;
        if !more {
            break;
        }
    }
    assert!(
        stored.windows(2).all(|w| w[0].0 < w[1].0),
        "history in strictly increasing order"
    );
    let mut ids: Vec<&String> = stored.iter().map(|(_, t)| t).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), stored.len(), "no message stored twice");
    for (seq, id) in &acked {
        assert!(
            stored.contains(&(*seq, id.clone())),
            "acknowledged {id} (seq {seq}) is missing after the crash"
        );
    }
}

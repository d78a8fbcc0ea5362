//! Identities and history live in one SQLite file, written through two
//! connections (the history store's thread and the identity store). Neither
//! may fail because the other holds the write lock at that moment: a
//! registration must not be refused, and a message must not fail to be
//! stored, just because both arrive together.

mod common;

use common::*;
use protocol::{ClientEvent, PROTOCOL_VERSION, ServerEvent};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registrations_and_messages_written_together_all_succeed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::with_config(server::Config {
        rate_per_sec: 0.0,
        store: server::store::StoreConfig {
            path: Some(dir.path().join("chat.sqlite3")),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;

    // Two talkers keep the history store committing...
    let mut talkers = Vec::new();
    for t in 0..2 {
        let mut c = Client::named(&server, &format!("talker{t}")).await;
        c.join("dev").await;
        talkers.push(tokio::spawn(async move {
            let mut refused = Vec::new();
            for i in 0..150 {
                let ack = c.say("dev", &format!("t{t} line {i}")).await;
                if let ServerEvent::Ack {
                    ok: false, error, ..
                } = ack
                {
                    refused.push(format!("{error:?}"));
                }
            }
            refused
        }));
    }
    // ...while newcomers register (each a write to the identity tables).
    let mut newcomers = Vec::new();
    for n in 0..40 {
        let url = server.url();
        newcomers.push(tokio::spawn(async move {
            let (ws, _) = tokio_tungstenite::connect_async(url)
                .await
                .expect("connect");
            let mut c = Client::from_ws(ws);
            c.send(&ClientEvent::Hello {
                protocol: PROTOCOL_VERSION,
                name: Some(format!("newcomer{n}")),
                credential: None,
                link_code: None,
                device: None,
                client: None,
            })
            .await;
            match c.recv().await {
                ServerEvent::Welcome { .. } => None,
                other => Some(format!("newcomer{n}: {other:?}")),
            }
        }));
    }
    let mut failures = Vec::new();
    for n in newcomers {
        failures.extend(n.await.expect("newcomer"));
    }
    for t in talkers {
        failures.extend(t.await.expect("talker"));
    }
    assert!(
        failures.is_empty(),
        "refused while the other store wrote: {failures:#?}"
    );
}

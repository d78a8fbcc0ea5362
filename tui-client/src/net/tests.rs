//! Tests of the network actor.

use super::*;
use protocol::ServerLimits;

#[test]
fn jitter_is_a_fraction() {
    for _ in 0..100 {
        let j = jitter();
        assert!((0.0..1.0).contains(&j), "{j}");
    }
}

fn welcome_frame(max_server_frame_bytes: usize, heartbeat_ms: u64) -> String {
    protocol::encode(&ServerEvent::Welcome {
        protocol: protocol::PROTOCOL_VERSION,
        server: "small".into(),
        name: "ann".into(),
        user: protocol::UserRef {
            id: "u_1".into(),
            name: "ann".into(),
        },
        device: protocol::DeviceRef {
            id: "d_1".into(),
            name: "test".into(),
        },
        credential: None,
        dms: Vec::new(),
        heartbeat_ms,
        limits: ServerLimits {
            max_name_chars: 32,
            max_room_chars: 32,
            max_text_chars: 4000,
            max_frame_bytes: 32768,
            max_server_frame_bytes,
            max_rooms: 32,
            rate_per_sec: 0.0,
            rate_burst: 0,
        },
        epoch: "e".into(),
    })
}

fn account(url: &str, store: Option<crate::credentials::CredentialStore>) -> Account {
    let address = crate::address::ServerAddress::parse(url).unwrap();
    Account::new(SignIn::Name("ann".into()), address, store)
}

/// The next event from the actor, within a generous bound.
async fn next(net: &mut NetHandle) -> NetEvent {
    tokio::time::timeout(Duration::from_secs(20), net.events.recv())
        .await
        .expect("an event in time")
        .expect("the actor runs")
}

/// A server that welcomes with a short heartbeat and then says nothing,
/// though it reads (and answers nothing): the client asks once with a
/// `ping`, then gives the link up and says it is reconnecting.
#[tokio::test]
async fn a_silent_server_is_pinged_then_given_up() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<String>();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let _hello = ws.next().await;
        ws.send(Message::text(welcome_frame(1 << 20, 300)))
            .await
            .unwrap();
        while let Some(Ok(Message::Text(t))) = ws.next().await {
            let _ = seen_tx.send(t.as_str().to_string());
        }
    });
    let address = crate::address::ServerAddress::parse(&url).unwrap();
    let mut net = spawn(Endpoint::plain(address), account(&url, None), None);
    assert!(matches!(next(&mut net).await, NetEvent::Connecting { .. }));
    assert!(matches!(next(&mut net).await, NetEvent::Connected(_)));
    let lost = next(&mut net).await;
    assert!(
        matches!(&lost, NetEvent::Disconnected { reason, .. } if reason.contains("reconnecting")),
        "{lost:?}"
    );
    let ping = seen_rx.recv().await.unwrap();
    assert!(
        matches!(protocol::decode_client(&ping), Ok(ClientEvent::Ping { .. })),
        "{ping}"
    );
    let _ = net.commands.send(NetCommand::Shutdown).await;
    server.abort();
}

/// The answer to the client's own ping stays in the network task; the
/// link stays up while the server answers.
#[tokio::test]
async fn answered_pings_keep_the_link_and_stay_out_of_the_app() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let _hello = ws.next().await;
        ws.send(Message::text(welcome_frame(1 << 20, 1000)))
            .await
            .unwrap();
        let mut answered = 0;
        while let Some(Ok(Message::Text(t))) = ws.next().await {
            if let Ok(ClientEvent::Ping { id }) = protocol::decode_client(t.as_str()) {
                let ack = protocol::encode(&ServerEvent::ack_ok(id, None));
                ws.send(Message::text(ack)).await.unwrap();
                answered += 1;
                if answered == 3 {
                    // Then something the app does see.
                    let err = ServerEvent::error(protocol::ErrorCode::ShuttingDown, "bye");
                    ws.send(Message::text(protocol::encode(&err)))
                        .await
                        .unwrap();
                }
            }
        }
    });
    let address = crate::address::ServerAddress::parse(&url).unwrap();
    let mut net = spawn(Endpoint::plain(address), account(&url, None), None);
    assert!(matches!(next(&mut net).await, NetEvent::Connecting { .. }));
    assert!(matches!(next(&mut net).await, NetEvent::Connected(_)));
    // Three pings answered over three silent intervals: no loss, no acks.
    // (A heartbeat of a second: an answer has that long to arrive, so a
    // busy machine does not make a live link look dead.)
    let event = next(&mut net).await;
    assert!(
        matches!(&event, NetEvent::Server(e) if matches!(&**e, ServerEvent::Error { message, .. } if message == "bye")),
        "{event:?}"
    );
    let _ = net.commands.send(NetCommand::Shutdown).await;
    server.abort();
}

/// Signed out from elsewhere: the server says so and closes with 4004.
/// The client forgets its key and stops.
#[tokio::test]
async fn a_revoked_credential_is_forgotten_and_ends_the_run() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let _hello = ws.next().await;
        ws.send(Message::text(welcome_frame(1 << 20, 30_000)))
            .await
            .unwrap();
        let err = ServerEvent::error(protocol::ErrorCode::CredentialRevoked, "signed out");
        ws.send(Message::text(protocol::encode(&err)))
            .await
            .unwrap();
        let close = tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: protocol::close::CREDENTIAL_REVOKED.into(),
            reason: "signed out".into(),
        };
        let _ = ws.close(Some(close)).await;
        while let Some(Ok(_)) = ws.next().await {}
    });
    let tmp = tempfile::tempdir().unwrap();
    let store = crate::credentials::CredentialStore::at(tmp.path());
    let address = crate::address::ServerAddress::parse(&url).unwrap();
    let kept = crate::credentials::Stored {
        server: url.clone(),
        user_id: "u_1".into(),
        name: "ann".into(),
        credential: "secret".into(),
    };
    store.save(&address, &kept).unwrap();
    let mine = Account::new(
        SignIn::Credential(kept),
        address.clone(),
        Some(store.clone()),
    );
    let mut net = spawn(Endpoint::plain(address.clone()), mine, None);
    assert!(matches!(next(&mut net).await, NetEvent::Connecting { .. }));
    assert!(matches!(next(&mut net).await, NetEvent::Connected(_)));
    let end = next(&mut net).await;
    assert!(
        matches!(&end, NetEvent::Fatal(m) if m.contains("signed out") && m.contains("--link")),
        "{end:?}"
    );
    assert_eq!(store.load(&address).unwrap(), None, "the key is forgotten");
    server.abort();
}

/// A server that announces a small bound and then sends more: the
/// actor reports the frame as too large and drops the connection.
#[tokio::test]
async fn a_frame_over_the_announced_bound_ends_the_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    let big = protocol::history_frame("dev", &[], false, 0) + &" ".repeat(500);
    let size = big.len();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let _hello = ws.next().await;
        let welcome = welcome_frame(100, 30_000);
        ws.send(Message::text(welcome)).await.unwrap();
        ws.send(Message::text(big)).await.unwrap();
        // Stay until the client hangs up.
        while let Some(Ok(_)) = ws.next().await {}
    });
    let address = crate::address::ServerAddress::parse(&url).unwrap();
    let mut net = spawn(Endpoint::plain(address), account(&url, None), None);
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let event = tokio::time::timeout(Duration::from_secs(10), net.events.recv())
            .await
            .expect("an event in time")
            .expect("the actor runs");
        seen.push(event);
    }
    assert!(matches!(seen[1], NetEvent::Connected { .. }), "{seen:?}");
    assert_eq!(seen[2], NetEvent::FrameTooLarge { size, limit: 100 });
    assert!(
        matches!(&seen[3], NetEvent::Disconnected { reason, .. } if reason.contains(&format!("{size} bytes"))),
        "{seen:?}"
    );
    let _ = net.commands.send(NetCommand::Shutdown).await;
    server.abort();
}

#[tokio::test]
async fn an_unreachable_server_is_one_clear_error() {
    // Bind and drop a listener to find a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("ws://127.0.0.1:{port}/ws");
    let address = crate::address::ServerAddress::parse(&url).unwrap();
    let err = connect(&Endpoint::plain(address), &mut account(&url, None))
        .await
        .err()
        .expect("the connection fails");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("cannot connect to {url}")),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
    assert!(!err.is_fatal());
}

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
        let welcome = ServerEvent::Welcome {
            protocol: protocol::PROTOCOL_VERSION,
            server: "small".into(),
            name: "ann".into(),
            limits: ServerLimits {
                max_name_chars: 32,
                max_room_chars: 32,
                max_text_chars: 4000,
                max_frame_bytes: 32768,
                max_server_frame_bytes: 100,
                max_rooms: 32,
                rate_per_sec: 0.0,
                rate_burst: 0,
            },
            epoch: "e".into(),
        };
        ws.send(Message::text(protocol::encode(&welcome)))
            .await
            .unwrap();
        ws.send(Message::text(big)).await.unwrap();
        // Stay until the client hangs up.
        while let Some(Ok(_)) = ws.next().await {}
    });
    let address = crate::address::ServerAddress::parse(&url).unwrap();
    let mut net = spawn(Endpoint::plain(address), SignIn::Name("ann".into()), None);
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
    let err = connect(&Endpoint::plain(address), &SignIn::Name("ann".into()))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("cannot connect to {url}")),
        "{msg}"
    );
    assert!(!msg.contains('\n'));
    assert!(!err.is_fatal());
}

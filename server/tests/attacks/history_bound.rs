//! Finding 4: history and resume frames had no byte bound. 700 messages of
//! 4,000 NUL characters (24 KB each as JSON) made one 18 MiB `history`
//! frame, more than chat-tui accepts, so it reconnected for ever and every
//! retry cost the server another 18 MiB.

use futures::StreamExt;
use protocol::{ClientEvent, ServerEvent};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::common::*;

/// A client that accepts frames up to `max` bytes only, as a client that
/// trusts the announced limit does.
async fn bounded_client(server: &TestServer, max: usize) -> Client {
    let config = WebSocketConfig::default()
        .max_message_size(Some(max))
        .max_frame_size(Some(max));
    let (ws, _) = tokio_tungstenite::connect_async_with_config(server.url(), Some(config), false)
        .await
        .expect("connect");
    Client::from_ws(ws)
}

/// Reads frames up to the ack of `id`, checking each against `max`;
/// returns the events before the ack.
async fn frames_until_ack(client: &mut Client, id: &str, max: usize) -> Vec<ServerEvent> {
    let mut events = Vec::new();
    loop {
        let next = tokio::time::timeout(PATIENCE, client.ws.next())
            .await
            .expect("a frame in time")
            .expect("the connection stays open")
            .expect("every frame fits the announced limit");
        let Message::Text(text) = next else {
            continue;
        };
        assert!(text.len() <= max, "a {} byte frame", text.len());
        let event = protocol::decode_server(&text).expect("decodes");
        if matches!(&event, ServerEvent::Ack { id: got, .. } if got == id) {
            return events;
        }
        events.push(event);
    }
}

#[tokio::test]
async fn a_huge_resume_comes_in_frames_within_the_announced_bound() {
    let server = TestServer::with_config(server::Config {
        rate_per_sec: 0.0,
        ..Default::default()
    })
    .await;
    let mut ann = Client::named(&server, "ann").await;
    ann.join("dev").await;
    // Control characters, each escaped to six bytes; the last one varies,
    // so flood protection never sees the same text twice in a row.
    let text = "\u{0}".repeat(protocol::limits::MAX_TEXT_CHARS - 1);
    for i in 0..700u32 {
        let last = char::from(u8::try_from(i % 3).unwrap_or(0));
        assert_ok(&ann.say("dev", &format!("{text}{last}")).await);
    }

    let mut bob = bounded_client(&server, protocol::limits::MAX_SERVER_FRAME_BYTES).await;
    let ServerEvent::Welcome { limits, epoch, .. } = bob.hello("bob").await else {
        panic!("no welcome");
    };
    let max = limits.max_server_frame_bytes;
    assert_eq!(max, protocol::limits::MAX_SERVER_FRAME_BYTES);
    let id = bob.next_id();
    bob.send(&ClientEvent::Join {
        id: id.clone(),
        room: "dev".into(),
        since: Some(0),
        epoch: Some(epoch),
    })
    .await;
    let events = frames_until_ack(&mut bob, &id, max).await;
    let parts = events
        .iter()
        .filter(|e| matches!(e, ServerEvent::History { .. }))
        .count();
    assert!(parts > 1, "{parts} part(s)");
    let answers = history_parts(events);
    let [(messages, more, missed)] = answers.as_slice() else {
        panic!("{} history answers", answers.len());
    };
    assert_eq!((*more, *missed), (false, 0));
    let seqs: Vec<u64> = messages
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { seq, text: t, .. } if t.starts_with(text.as_str()) => Some(*seq),
            _ => None,
        })
        .collect();
    assert_eq!(seqs, (1..=700).collect::<Vec<_>>());

    // An explicit history request is bounded the same way.
    let id = bob.next_id();
    bob.send(&ClientEvent::History {
        id: id.clone(),
        room: "dev".into(),
        before: 701,
        limit: protocol::limits::MAX_HISTORY_PAGE,
    })
    .await;
    let events = frames_until_ack(&mut bob, &id, max).await;
    let answers = history_parts(events);
    assert_eq!(answers.len(), 1);
    assert_eq!(
        answers[0].0.len(),
        protocol::limits::MAX_HISTORY_PAGE as usize
    );
    assert!(answers[0].1, "older messages exist");
}

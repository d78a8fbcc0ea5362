//! `/metrics` of the real binary, scraped after scripted traffic, parsed,
//! and checked against the counts the traffic caused. Each test runs its
//! own server process, so its counts are its own.

#![allow(clippy::unwrap_used)] // a failure is a failed test

mod binary;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, PROTOCOL_VERSION, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const PATIENCE: Duration = Duration::from_secs(15);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A Prometheus text exposition, as series (name with labels) -> value.
#[derive(Debug)]
struct Scrape(HashMap<String, f64>);

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut series = HashMap::new();
        for line in text.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (name, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = value.parse().unwrap_or_else(|e| panic!("{e}: {line:?}"));
            series.insert(name.to_string(), value);
        }
        Scrape(series)
    }

    fn get(&self, series: &str) -> f64 {
        self.0.get(series).copied().unwrap_or(0.0)
    }
}

/// GET `path` on `addr` over plain HTTP/1.1; the whole answer.
async fn http_get(addr: SocketAddr, path: &str, headers: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, tcp.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

async fn scrape(metrics: SocketAddr) -> Scrape {
    let answer = http_get(metrics, "/metrics", "").await;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain"), "{head}");
    Scrape::parse(body)
}

/// A protocol client that counts the bytes of every frame it was sent
/// after `welcome` (the server counts the same bytes as it writes them).
struct Client {
    ws: Ws,
    name: String,
    bytes: usize,
    next: u32,
}

impl Client {
    async fn connect(addr: SocketAddr, name: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        Self::identify(ws, name).await
    }

    /// With a tiny receive buffer, for a client that will stop reading.
    async fn connect_small_buffer(addr: SocketAddr, name: &str) -> Client {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let (ws, _) = tokio_tungstenite::client_async(
            format!("ws://{addr}/ws"),
            MaybeTlsStream::Plain(stream),
        )
        .await
        .unwrap();
        Self::identify(ws, name).await
    }

    async fn identify(mut ws: Ws, name: &str) -> Client {
        ws.send(Message::text(protocol::encode(&ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: Some(name.into()),
            credential: None,
            link_code: None,
            device: None,
            client: Some("metrics-test".into()),
        })))
        .await
        .unwrap();
        let mut client = Client {
            ws,
            name: name.into(),
            bytes: 0,
            next: 0,
        };
        match client.recv().await {
            ServerEvent::Welcome { .. } => client.bytes = 0,
            other => panic!("{name}: expected welcome, got {other:?}"),
        }
        client
    }

    async fn send(&mut self, event: &ClientEvent) {
        self.ws
            .send(Message::text(protocol::encode(event)))
            .await
            .unwrap();
    }

    fn id(&mut self) -> String {
        self.next += 1;
        format!("{}-{}", self.name, self.next)
    }

    async fn recv(&mut self) -> ServerEvent {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{}: no frame in time", self.name))
                .unwrap()
                .unwrap();
            if let Message::Text(text) = frame {
                self.bytes += text.len();
                return protocol::decode_server(text.as_str()).unwrap();
            }
        }
    }

    /// Reads until the ack of request `id`; whether it was ok, and its code.
    async fn ack(&mut self, id: &str) -> (bool, Option<protocol::ErrorCode>) {
        loop {
            if let ServerEvent::Ack {
                id: acked,
                ok,
                error,
                ..
            } = self.recv().await
                && acked == id
            {
                return (ok, error.map(|e| e.code));
            }
        }
    }

    async fn join(&mut self, room: &str) {
        let id = self.id();
        self.send(&ClientEvent::Join {
            id: id.clone(),
            room: room.into(),
            since: None,
            epoch: None,
        })
        .await;
        assert_eq!(
            self.ack(&id).await,
            (true, None),
            "{} joins {room}",
            self.name
        );
    }

    async fn say(&mut self, room: &str, text: &str) -> String {
        let id = self.id();
        self.send(&ClientEvent::Send {
            id: id.clone(),
            room: room.into(),
            text: text.into(),
            action: false,
        })
        .await;
        id
    }

    /// Reads until a message with `text` arrives.
    async fn hear(&mut self, text: &str) {
        loop {
            if let ServerEvent::Message { text: got, .. } = self.recv().await
                && got == text
            {
                return;
            }
        }
    }
}

fn start(args: &[&str]) -> binary::Running {
    let mut cmd = binary::command();
    cmd.args([
        "--memory",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ])
    .args(args);
    let server = binary::Running::start(cmd);
    let metrics = server
        .metrics
        .expect("the server says where its metrics are");
    assert!(metrics.ip().is_loopback());
    assert_ne!(metrics.port(), server.addr.port());
    server
}

#[tokio::test]
async fn metrics_count_what_scripted_traffic_did() {
    // A rate low enough that no token comes back during the test: each
    // connection has exactly its burst of 6 requests.
    let server = start(&["--rate-limit", "0.0001", "--rate-burst", "6"]);
    let metrics = server.metrics.unwrap();

    // Not on the chat's own port.
    let public = http_get(server.addr, "/metrics", "").await;
    assert!(
        !public.contains("chat_connections_opened_total"),
        "{public}"
    );

    let mut ann = Client::connect(server.addr, "ann").await;
    let mut bob = Client::connect(server.addr, "bob").await;
    ann.join("ops").await;
    bob.join("ops").await; // ann is told: 1 delivery
    let said = ["one", "two", "three"];
    for text in said {
        let id = ann.say("ops", text).await;
        assert_eq!(ann.ack(&id).await, (true, None));
        bob.hear(text).await; // each to ann and bob: 6 deliveries
    }
    // ann hears her own messages as well (read before her acks, or after).
    // carol spends her 6 tokens on refused leaves; 3 more are rate limited.
    let mut carol = Client::connect(server.addr, "carol").await;
    let mut codes = Vec::new();
    for _ in 0..9 {
        let id = carol.id();
        carol
            .send(&ClientEvent::Leave {
                id: id.clone(),
                room: "nowhere".into(),
            })
            .await;
        codes.push(carol.ack(&id).await.1);
    }
    let limited = codes
        .iter()
        .filter(|c| **c == Some(protocol::ErrorCode::RateLimited))
        .count();
    assert_eq!(limited, 3, "{codes:?}");

    // A page from another site is refused at the upgrade.
    let refused = http_get(
        server.addr,
        "/ws",
        "Origin: http://evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    )
    .await;
    assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
    // A client of another protocol version is refused in the handshake.
    let (mut old, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .unwrap();
    old.send(Message::text(
        r#"{"type":"hello","protocol":999,"name":"old"}"#,
    ))
    .await
    .unwrap();
    while let Some(Ok(frame)) = tokio::time::timeout(PATIENCE, old.next()).await.unwrap() {
        if frame.is_close() {
            break;
        }
    }

    // The counts settle once the refused connection is gone and every
    // written frame is counted; until then, keep reading what is sent.
    let deadline = Instant::now() + PATIENCE;
    let scrape = loop {
        let scrape = scrape(metrics).await;
        let bytes = (ann.bytes + bob.bytes + carol.bytes) as f64;
        if scrape.get("chat_connections_open") == 3.0 && scrape.get("chat_bytes_out_total") == bytes
        {
            break scrape;
        }
        assert!(
            Instant::now() < deadline,
            "metrics did not settle: {scrape:#?}, read {bytes} bytes"
        );
        for client in [&mut ann, &mut bob, &mut carol] {
            let _ = tokio::time::timeout(Duration::from_millis(20), client.recv()).await;
        }
    };
    let expected = [
        ("chat_connections_opened_total", 4.0),
        ("chat_connections_open", 3.0),
        ("chat_connections_refused_total{reason=\"origin\"}", 1.0),
        ("chat_connections_refused_total{reason=\"handshake\"}", 1.0),
        ("chat_rooms", 1.0),
        ("chat_joins_total", 2.0),
        ("chat_messages_in_total", 3.0),
        ("chat_deliveries_total", 7.0),
        ("chat_rate_limited_total", 3.0),
        ("chat_slow_consumer_disconnects_total", 0.0),
    ];
    for (series, value) in expected {
        assert_eq!(scrape.get(series), value, "{series} in {scrape:#?}");
    }
    // Every message was stored, in one group commit or several.
    let commits = scrape.get("chat_store_commit_seconds_count");
    assert!((1.0..=3.0).contains(&commits), "{commits} commits");
    assert_eq!(
        scrape.get("chat_store_commit_seconds_bucket{le=\"+Inf\"}"),
        commits
    );
    assert!(scrape.get("chat_store_commit_seconds_sum") > 0.0);
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

#[tokio::test]
async fn a_slow_consumer_is_counted_once() {
    let server = start(&["--rate-limit", "0", "--outbound-queue", "32"]);
    let metrics = server.metrics.unwrap();
    let mut sender = Client::connect(server.addr, "sender").await;
    sender.join("busy").await;
    let mut slow = Client::connect_small_buffer(server.addr, "slow").await;
    slow.join("busy").await;
    // From here on `slow` never reads.
    let text = "x".repeat(3000);
    let mut sent = 0;
    let mut gone = false;
    // Bounded: the slow reader's buffers hold far fewer than this.
    for _ in 0..3000 {
        // Not the same text each time: that would be flooding.
        let id = sender
            .say("busy", &format!("{sent:04}{}", &text[4..]))
            .await;
        sent += 1;
        loop {
            match sender.recv().await {
                ServerEvent::Ack { id: acked, ok, .. } if acked == id => {
                    assert!(ok);
                    break;
                }
                ServerEvent::UserLeft { name, .. } if name == "slow" => gone = true,
                _ => {}
            }
        }
        if gone {
            break;
        }
    }
    assert!(gone, "the slow reader was never dropped");
    let deadline = Instant::now() + PATIENCE;
    let scrape = loop {
        let scrape = scrape(metrics).await;
        if scrape.get("chat_connections_open") == 1.0 {
            break scrape;
        }
        assert!(Instant::now() < deadline, "{scrape:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(scrape.get("chat_slow_consumer_disconnects_total"), 1.0);
    assert_eq!(scrape.get("chat_messages_in_total"), f64::from(sent));
    assert_eq!(scrape.get("chat_rate_limited_total"), 0.0);
    drop(slow);
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

/// Cluster mode reports Redis' health and round trips. Needs the Redis on
/// 127.0.0.1:6379; skipped without it unless CI is set.
#[tokio::test]
async fn cluster_mode_reports_redis_health_and_round_trips() {
    if TcpStream::connect("127.0.0.1:6379").await.is_err() {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
        assert!(!ci, "no Redis on 127.0.0.1:6379, and CI is set");
        eprintln!("SKIP cluster metrics: no Redis on 127.0.0.1:6379");
        return;
    }
    let prefix = format!("chat-metrics-test-{}:", std::process::id());
    let server = start(&[
        "--redis",
        "redis://127.0.0.1:6379",
        "--redis-prefix",
        &prefix,
        "--cluster-ttl-ms",
        "300",
    ]);
    let metrics = server.metrics.unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let scrape = scrape(metrics).await;
        if scrape.get("chat_redis_up") == 1.0 && scrape.get("chat_redis_rtt_seconds_count") >= 2.0 {
            assert!(scrape.get("chat_redis_rtt_seconds_sum") > 0.0);
            break;
        }
        assert!(Instant::now() < deadline, "{scrape:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

#[tokio::test]
async fn connections_refused_at_the_door_are_counted_by_reason() {
    let server = start(&["--max-connections-per-ip", "2"]);
    let metrics = server.metrics.unwrap();
    // Two connections held open (admitted before a byte is read), then a
    // third from the same address is turned away.
    let _first = TcpStream::connect(server.addr).await.unwrap();
    let _second = TcpStream::connect(server.addr).await.unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let answer = http_get(server.addr, "/healthz", "").await;
        if answer.starts_with("HTTP/1.1 503") {
            break;
        }
        // The two may not be admitted yet; the answer then is the health.
        assert!(Instant::now() < deadline, "never refused: {answer}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let scrape = scrape(metrics).await;
    assert_eq!(
        scrape.get("chat_connections_refused_total{reason=\"per_address\"}"),
        1.0,
        "{scrape:#?}"
    );
    assert_eq!(
        scrape.get("chat_connections_refused_total{reason=\"server_full\"}"),
        0.0
    );
    let (status, log) = server.stop();
    assert!(status.success(), "{log}");
}

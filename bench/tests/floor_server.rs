//! Runs the real `floor-server` binary on an ephemeral loopback port and
//! talks to it with real WebSocket clients: a message reaches every member
//! of its room, the sender included, and nobody outside it; the load
//! generator runs against it without loss; and a client that stops reading
//! is disconnected without anyone else losing a message. Behaviour only,
//! no timing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use bench::args::{Args, Plan};
use bench::stamp::{self, Frame};
use clap::Parser;
use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, PROTOCOL_VERSION, ServerEvent};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

type Ws = WebSocketStream<TcpStream>;

/// Bounds every wait on the server, so a broken server fails the test
/// instead of hanging it.
const WAIT: Duration = Duration::from_secs(10);

/// A running floor-server, killed when dropped.
struct Floor {
    child: Child,
    url: String,
    /// Lines the server wrote to stderr.
    log: mpsc::Receiver<String>,
}

impl Floor {
    fn start() -> Floor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_floor-server"))
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start floor-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the listening line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Floor { child, url, log }
    }

    fn logged(&self, what: &str) -> bool {
        self.log.try_iter().any(|line| line.contains(what))
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(url: &str, receive_buffer: Option<u32>) -> Ws {
    let addr = bench::args::loopback_target(url).expect("loopback url");
    let socket = TcpSocket::new_v4().expect("socket");
    if let Some(bytes) = receive_buffer {
        socket.set_recv_buffer_size(bytes).expect("SO_RCVBUF");
    }
    let stream = socket.connect(addr).await.expect("connect");
    let (ws, _) = tokio_tungstenite::client_async(url, stream)
        .await
        .expect("handshake");
    ws
}

async fn send(ws: &mut Ws, event: &ClientEvent) {
    ws.send(Message::text(protocol::encode(event)))
        .await
        .expect("send");
}

/// The next server event, within [`WAIT`].
async fn next_event(ws: &mut Ws) -> ServerEvent {
    loop {
        let frame = timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
            .expect("connection open")
            .expect("readable");
        if let Message::Text(text) = frame {
            return protocol::decode_server(&text).expect("a valid server event");
        }
    }
}

/// Connects as `name`, says hello and joins `room`.
async fn member(url: &str, name: &str, room: &str) -> Ws {
    let mut ws = connect(url, None).await;
    send(
        &mut ws,
        &ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: Some(name.into()),
            credential: None,
            link_code: None,
            device: None,
            client: None,
        },
    )
    .await;
    let welcome = next_event(&mut ws).await;
    assert!(
        matches!(&welcome, ServerEvent::Welcome { name: n, .. } if n == name),
        "{welcome:?}"
    );
    send(
        &mut ws,
        &ClientEvent::Join {
            id: "j".into(),
            room: room.into(),
            since: None,
            epoch: None,
        },
    )
    .await;
    let state = next_event(&mut ws).await;
    assert!(
        matches!(&state, ServerEvent::RoomState { room: r, .. } if r == room),
        "{state:?}"
    );
    ws
}

fn say(room: &str, id: &str, text: &str) -> ClientEvent {
    ClientEvent::Send {
        id: id.into(),
        room: room.into(),
        text: text.into(),
        action: false,
    }
}

/// The next event must be `text` from `from` in `room`.
async fn expect_message(ws: &mut Ws, room: &str, from: &str, text: &str) {
    match next_event(ws).await {
        ServerEvent::Message {
            room: r,
            from: f,
            text: t,
            ..
        } => assert_eq!((r.as_str(), f.as_str(), t.as_str()), (room, from, text)),
        other => panic!("expected {text:?} from {from}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_its_room_and_nobody_else() {
    let floor = Floor::start();
    let url = &floor.url;
    let mut ann = member(url, "ann", "one").await;
    let mut bob = member(url, "bob", "one").await;
    let mut cat = member(url, "cat", "one").await;
    let mut dan = member(url, "dan", "two").await;
    let mut eve = member(url, "eve", "two").await;

    send(&mut ann, &say("one", "1", "first")).await;
    send(&mut ann, &say("one", "2", "second")).await;
    for ws in [&mut ann, &mut bob, &mut cat] {
        expect_message(ws, "one", "ann", "first").await;
        expect_message(ws, "one", "ann", "second").await;
    }
    // "second" reached the room, so the fan-out of both messages is over:
    // had room two been sent either, it would be queued before this one.
    send(&mut dan, &say("two", "3", "third")).await;
    for ws in [&mut dan, &mut eve] {
        expect_message(ws, "two", "dan", "third").await;
    }
    // And a send naming a room the client is not in goes nowhere.
    send(&mut eve, &say("one", "4", "not a member")).await;
    send(&mut eve, &say("two", "5", "member")).await;
    expect_message(&mut dan, "two", "eve", "member").await;
    send(&mut bob, &say("one", "6", "last")).await;
    expect_message(&mut ann, "one", "bob", "last").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_frames_are_what_chat_bench_reads() {
    let floor = Floor::start();
    let mut ann = member(&floor.url, "ann", "r").await;
    send(&mut ann, &say("r", "1", "b42.7 xx")).await;
    let frame = timeout(WAIT, ann.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("readable");
    let Message::Text(text) = frame else {
        panic!("not text: {frame:?}")
    };
    assert_eq!(stamp::classify(&text), Frame::Message(Some("b42.7 xx")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generator_loses_nothing_on_the_floor() {
    let floor = Floor::start();
    let argv = [
        "chat-bench",
        "--url",
        &floor.url,
        "--clients",
        "12",
        "--rooms",
        "3",
        "--senders",
        "3",
        "--window",
        "4",
        "--warmup",
        "0.2",
        "--duration",
        "1",
        "--drain",
        "1",
    ];
    let plan = Plan::from_args(&Args::try_parse_from(argv).expect("options parse")).expect("plan");
    let report = bench::generator::run(plan).await.expect("run");
    assert_eq!(report.joined, 12);
    assert_eq!(report.errors, 0, "{:?}", report.error_samples);
    assert!(report.delivered > 0);
    assert_eq!(report.expected, report.delivered, "no loss");
    assert_eq!(report.acks, 0, "the floor sends no acks");
}

/// Most messages the slow-consumer test sends before giving up: enough to
/// fill the slow client's socket buffers and its queue many times over.
const MAX_FLOOD: usize = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_cut_off_and_nobody_loses_a_message() {
    let floor = Floor::start();
    let url = &floor.url;
    let mut sender = member(url, "sender", "r").await;
    let mut reader = member(url, "reader", "r").await;
    // Joins, then never reads; a small receive buffer fills quickly.
    let mut slow = connect(url, Some(4096)).await;
    send(
        &mut slow,
        &ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: Some("slow".into()),
            credential: None,
            link_code: None,
            device: None,
            client: None,
        },
    )
    .await;
    send(
        &mut slow,
        &ClientEvent::Join {
            id: "j".into(),
            room: "r".into(),
            since: None,
            epoch: None,
        },
    )
    .await;

    // The reader reads everything, in order, in its own task, up to "end".
    let reading = tokio::spawn(async move {
        let mut got = 0usize;
        loop {
            match next_event(&mut reader).await {
                ServerEvent::Message { text, .. } if text == "end" => return got,
                ServerEvent::Message { text, .. } => {
                    assert_eq!(text, flood_text(got), "in order, none missing");
                    got += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    });

    // Flood the room until the server reports the slow client cut off.
    let mut sent = 0;
    let mut cut_off = false;
    while sent < MAX_FLOOD {
        for _ in 0..100 {
            let message = say("r", &sent.to_string(), &flood_text(sent));
            sender
                .feed(Message::text(protocol::encode(&message)))
                .await
                .expect("send");
            sent += 1;
        }
        sender.flush().await.expect("flush");
        // Our own echoes come back too; read them so we never stall.
        for _ in 0..100 {
            let echo = next_event(&mut sender).await;
            assert!(matches!(echo, ServerEvent::Message { .. }), "{echo:?}");
        }
        if floor.logged("slow consumer disconnected") {
            cut_off = true;
            break;
        }
    }
    assert!(
        cut_off,
        "the slow client was not cut off after {sent} messages"
    );
    send(&mut sender, &say("r", "end", "end")).await;
    let got = timeout(WAIT * 3, reading)
        .await
        .expect("the reader finishes")
        .expect("no panic");
    assert_eq!(got, sent, "the reading member got every message");

    // The slow client finds, after what it was sent, the close (or the end
    // of the connection, if even the close frame did not fit).
    let mut messages = 0;
    loop {
        match timeout(WAIT, slow.next()).await.expect("in time") {
            Some(Ok(Message::Text(text))) => {
                if matches!(stamp::classify(&text), Frame::Message(_)) {
                    messages += 1;
                }
            }
            Some(Ok(Message::Close(Some(close)))) => {
                assert_eq!(u16::from(close.code), protocol::close::SLOW_CONSUMER);
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    assert!(
        messages < sent,
        "the slow client was sent all {sent} messages"
    );
}

/// The text of flood message `n`: large, so buffers fill in few messages.
fn flood_text(n: usize) -> String {
    format!("{n} {}", "x".repeat(2_000))
}

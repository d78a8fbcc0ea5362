//! Test harness: a real server on an ephemeral loopback port and real
//! WebSocket clients speaking the protocol.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use protocol::{ClientEvent, PROTOCOL_VERSION, ServerEvent};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expectation may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), server::ServerError>>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::with_config(server::Config::default()).await
    }

    pub async fn with_config(config: server::Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server::run(listener, config, async {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Asks the server to shut down and waits for `run` to return.
    pub async fn shutdown(mut self) -> Result<(), server::ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().expect("server task");
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("server stops in time")
            .expect("server task did not panic")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl Client {
    /// Opens a WebSocket without saying anything yet.
    pub async fn connect(server: &TestServer) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(server.url())
            .await
            .expect("websocket connect");
        Client { ws, next_id: 0 }
    }

    pub fn from_ws(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        Client { ws, next_id: 0 }
    }

    /// Sends without failing the test when the connection is gone.
    pub async fn ws_send(&mut self, event: &ClientEvent) -> bool {
        self.ws
            .send(Message::text(protocol::encode(event)))
            .await
            .is_ok()
    }

    /// Waits for the ack of `id` and returns its seq; `None` if the
    /// connection ends first (or the ack failed).
    pub async fn try_recv_until_ack(&mut self, id: &str) -> Option<protocol::Seq> {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .ok()??;
            let Ok(Message::Text(t)) = next else {
                if next.is_err() {
                    return None;
                }
                continue;
            };
            if let Ok(ServerEvent::Ack {
                id: got, ok, seq, ..
            }) = protocol::decode_server(&t)
                && got == id
            {
                return if ok { seq } else { None };
            }
        }
    }

    /// Opens a WebSocket whose TCP receive buffer is tiny, so that not
    /// reading from it backs up into the server quickly.
    pub async fn connect_small_buffer(server: &TestServer) -> Self {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("set buffer");
        let stream = socket.connect(server.addr).await.expect("tcp connect");
        let (ws, _) = tokio_tungstenite::client_async(server.url(), MaybeTlsStream::Plain(stream))
            .await
            .expect("websocket handshake");
        Client { ws, next_id: 0 }
    }

    /// Connects and identifies as `name`, returning the client after `welcome`.
    pub async fn named(server: &TestServer, name: &str) -> Self {
        let mut c = Self::connect(server).await;
        c.hello(name).await;
        c
    }

    pub async fn hello(&mut self, name: &str) -> ServerEvent {
        self.send(&ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: name.into(),
            client: Some("tests".into()),
        })
        .await;
        let welcome = self.recv().await;
        assert!(
            matches!(welcome, ServerEvent::Welcome { .. }),
            "expected welcome, got {welcome:?}"
        );
        welcome
    }

    /// A request id unique across connections, as real clients make them
    /// (the server treats a repeated id from the same name as a resend).
    pub fn next_id(&mut self) -> String {
        static CONNECTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if self.next_id == 0 {
            self.next_id = CONNECTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) << 32;
        }
        self.next_id += 1;
        format!("r{}-{}", std::process::id(), self.next_id)
    }

    pub async fn send(&mut self, event: &ClientEvent) {
        self.send_raw(&protocol::encode(event)).await;
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.expect("send frame");
    }

    /// The next server event (skipping pings), failing the test after PATIENCE.
    pub async fn recv(&mut self) -> ServerEvent {
        match self.recv_frame().await {
            Frame::Event(e) => e,
            Frame::Closed(c) => panic!("connection closed ({c:?}) while waiting for an event"),
        }
    }

    /// The next event or the close frame.
    pub async fn recv_frame(&mut self) -> Frame {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .expect("no frame from the server in time");
            match next {
                Some(Ok(Message::Text(t))) => {
                    return Frame::Event(
                        protocol::decode_server(&t).expect("server frames decode"),
                    );
                }
                Some(Ok(Message::Close(c))) => return Frame::Closed(c),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Frame::Closed(None),
            }
        }
    }

    /// Skips events until one matches, returning it.
    pub async fn expect<F: Fn(&ServerEvent) -> bool>(
        &mut self,
        what: &str,
        matches: F,
    ) -> ServerEvent {
        for _ in 0..100_000 {
            let e = self.recv().await;
            if matches(&e) {
                return e;
            }
        }
        panic!("never got {what}");
    }

    /// Sends a request and returns its ack (skipping other events, which are
    /// returned too in arrival order).
    pub async fn request(&mut self, event: ClientEvent) -> (ServerEvent, Vec<ServerEvent>) {
        let id = event.request_id().expect("request has an id").to_owned();
        self.send(&event).await;
        let mut others = Vec::new();
        loop {
            let e = self.recv().await;
            if matches!(&e, ServerEvent::Ack { id: i, .. } if *i == id) {
                return (e, others);
            }
            others.push(e);
        }
    }

    /// Joins `room`, asserting success; returns the user list.
    pub async fn join(&mut self, room: &str) -> Vec<String> {
        let id = self.next_id();
        let (ack, others) = self
            .request(ClientEvent::Join {
                id,
                room: room.into(),
                since: None,
                epoch: None,
            })
            .await;
        assert_ok(&ack);
        others
            .into_iter()
            .find_map(|e| match e {
                ServerEvent::RoomState { room: r, users } if r == room => Some(users),
                _ => None,
            })
            .expect("room_state before the join ack")
    }

    /// Joins `room` (resuming after `since` in `epoch` if given), asserting
    /// success; returns the one `history` that came before the ack:
    /// (events, more, missed).
    pub async fn join_with(
        &mut self,
        room: &str,
        since: Option<protocol::Seq>,
        epoch: Option<String>,
    ) -> (Vec<ServerEvent>, bool, u64) {
        let id = self.next_id();
        let (ack, others) = self
            .request(ClientEvent::Join {
                id,
                room: room.into(),
                since,
                epoch,
            })
            .await;
        assert_ok(&ack);
        let mut history = None;
        for e in others {
            if let ServerEvent::History {
                events,
                more,
                missed,
                ..
            } = e
            {
                assert!(history.is_none(), "one history per join");
                history = Some((events, more, missed));
            }
        }
        history.expect("a history frame before the join ack")
    }

    pub async fn say(&mut self, room: &str, text: &str) -> ServerEvent {
        let id = self.next_id();
        self.request(ClientEvent::Send {
            id,
            room: room.into(),
            text: text.into(),
            action: false,
        })
        .await
        .0
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

#[derive(Debug)]
pub enum Frame {
    Event(ServerEvent),
    Closed(Option<CloseFrame>),
}

pub fn assert_ok(ack: &ServerEvent) {
    assert!(
        matches!(ack, ServerEvent::Ack { ok: true, .. }),
        "expected ok ack, got {ack:?}"
    );
}

/// The error code of a failed ack.
pub fn ack_code(ack: &ServerEvent) -> protocol::ErrorCode {
    match ack {
        ServerEvent::Ack {
            ok: false,
            error: Some(e),
            ..
        } => e.code,
        other => panic!("expected failed ack, got {other:?}"),
    }
}

pub fn close_code(frame: &Frame) -> Option<u16> {
    match frame {
        Frame::Closed(Some(c)) => Some(c.code.into()),
        _ => None,
    }
}

/// A real `chat-server` process on an ephemeral loopback port.
pub struct Process {
    pub child: std::process::Child,
    pub addr: String,
}

impl Process {
    /// Starts the binary with `--listen 127.0.0.1:0 --rate-limit 0` and
    /// `args`, and waits for its "listening on" line.
    pub fn start(args: &[String]) -> Process {
        Self::start_on("127.0.0.1:0", args)
    }

    pub fn start_on(listen: &str, args: &[String]) -> Process {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
            .args(["--listen", listen, "--rate-limit", "0"])
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start chat-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read stdout");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("no listening line, got {line:?}"))
            .to_owned();
        Process { child, addr }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Connects to a process and says hello.
pub async fn raw_client(addr: &str, name: &str) -> Client {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let mut c = Client::from_ws(ws);
    c.hello(name).await;
    c
}

/// Whether a test that needs an outside service may skip: only outside CI.
/// In CI a missing service fails the test.
pub fn skip_without(what: &str, why: &str) -> bool {
    if std::env::var_os("CI").is_some() {
        panic!("{what} is required in CI but unavailable: {why}");
    }
    eprintln!("SKIPPED: {what} unavailable ({why}); set CI=1 to make this a failure");
    true
}

/// A plain HTTP/1.1 GET to `addr`; returns the whole response as text.
pub async fn http_get(addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("response in time")
        .expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

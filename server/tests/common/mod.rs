//! Test harness: a real server on an ephemeral loopback port and real
//! WebSocket clients speaking the protocol.
#![allow(dead_code)]

pub mod cluster;

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
    /// The credential from the last `welcome` that carried one: how this
    /// identity signs in again (a real client keeps it on disk).
    pub credential: Option<String>,
}

impl Client {
    /// Opens a WebSocket without saying anything yet.
    pub async fn connect(server: &TestServer) -> Self {
        let (ws, _) = tokio_tungstenite::connect_async(server.url())
            .await
            .expect("websocket connect");
        Client {
            ws,
            next_id: 0,
            credential: None,
        }
    }

    pub fn from_ws(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        Client {
            ws,
            next_id: 0,
            credential: None,
        }
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
        Client {
            ws,
            next_id: 0,
            credential: None,
        }
    }

    /// Connects and registers `name`, returning the client after `welcome`.
    pub async fn named(server: &TestServer, name: &str) -> Self {
        let mut c = Self::connect(server).await;
        c.hello(name).await;
        c
    }

    /// Connects and signs in with `credential`.
    pub async fn signed_in(server: &TestServer, credential: &str) -> Self {
        let mut c = Self::connect(server).await;
        c.sign_in(credential).await;
        c
    }

    /// Registers `name` (it must be free on this server).
    pub async fn hello(&mut self, name: &str) -> ServerEvent {
        self.send(&hello_named(name)).await;
        self.welcome().await
    }

    /// Signs in with a credential from an earlier `welcome`.
    pub async fn sign_in(&mut self, credential: &str) -> ServerEvent {
        self.send(&hello_with(credential)).await;
        self.welcome().await
    }

    /// The next event, which must be `welcome`; keeps a new credential.
    pub async fn welcome(&mut self) -> ServerEvent {
        let welcome = self.recv().await;
        match &welcome {
            ServerEvent::Welcome { credential, .. } => {
                if let Some(c) = credential {
                    self.credential = Some(c.clone());
                }
            }
            other => panic!("expected welcome, got {other:?}"),
        }
        welcome
    }

    /// The credential this client was given.
    pub fn credential(&self) -> String {
        self.credential.clone().expect("a credential from welcome")
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

    /// Asks to join `room` (no resume); returns the ack, whatever it says,
    /// and what came before it.
    pub async fn try_join(&mut self, room: &str) -> (ServerEvent, Vec<ServerEvent>) {
        let id = self.next_id();
        self.request(ClientEvent::Join {
            id,
            room: room.into(),
            since: None,
            epoch: None,
        })
        .await
    }

    /// Joins `room`, asserting success; returns what came before the ack
    /// (`room_state`, then the history).
    pub async fn join_answers(&mut self, room: &str) -> Vec<ServerEvent> {
        let (ack, others) = self.try_join(room).await;
        assert_ok(&ack);
        others
    }

    /// Joins `room`, asserting success; returns the names in its user list.
    pub async fn join(&mut self, room: &str) -> Vec<String> {
        self.join_answers(room)
            .await
            .into_iter()
            .find_map(|e| match e {
                ServerEvent::RoomState { room: r, users, .. } if r == room => {
                    Some(users.into_iter().map(|u| u.name).collect())
                }
                _ => None,
            })
            .expect("room_state before the join ack")
    }

    /// Joins `room` (resuming after `since` in `epoch` if given), asserting
    /// success; returns the history that came before the ack, its parts
    /// put together: (events, more, missed).
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
        let history = history_parts(others);
        assert_eq!(history.len(), 1, "one history answer per join");
        history.into_iter().next().expect("one answer")
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

/// The `history` answers among `events`, each put together from its parts
/// (every part but the last `continues`; all carry the same `more` and
/// `missed`): (events, more, missed) per answer.
pub fn history_parts(events: Vec<ServerEvent>) -> Vec<(Vec<ServerEvent>, bool, u64)> {
    let mut answers = Vec::new();
    let mut open: Option<(Vec<ServerEvent>, bool, u64)> = None;
    for e in events {
        if let ServerEvent::History {
            events,
            more,
            missed,
            continues,
            ..
        } = e
        {
            let answer = open.get_or_insert_with(|| (Vec::new(), more, missed));
            assert_eq!((answer.1, answer.2), (more, missed), "parts agree");
            answer.0.extend(events);
            if !continues {
                answers.extend(open.take());
            }
        }
    }
    assert!(
        open.is_none(),
        "a history answer ended with a part that continues"
    );
    answers
}

#[derive(Debug)]
// A test's frames are few and short-lived: no point boxing the event.
#[allow(clippy::large_enum_variant)]
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
    /// The child leads a process group of its own, stopped as a whole.
    group: bool,
}

impl Process {
    /// Starts the binary with `--listen 127.0.0.1:0 --rate-limit 0` and
    /// `args`, and waits for its "listening on" line.
    pub fn start(args: &[String]) -> Process {
        Self::start_on("127.0.0.1:0", args)
    }

    pub fn start_on(listen: &str, args: &[String]) -> Process {
        Self::spawn(listen, args, None, None)
    }

    /// Starts the binary like [`Process::start`] under `strace -f`, its
    /// file syncs and writes written to `trace` with the paths of their file
    /// descriptors (`-yy`) and the first 512 bytes of each buffer.
    pub fn start_traced(args: &[String], trace: &std::path::Path) -> Process {
        let mut with = vec![
            "-f".to_string(),
            "-qq".into(),
            "-yy".into(),
            "-s".into(),
            "512".into(),
            "-e".into(),
            "trace=fsync,fdatasync,write,writev,pwrite64,pwritev,sendto,sendmsg".into(),
            "-o".into(),
            trace.display().to_string(),
            env!("CARGO_BIN_EXE_chat-server").into(),
        ];
        with.extend(["--listen", "127.0.0.1:0", "--rate-limit", "0"].map(String::from));
        with.extend(args.iter().cloned());
        let mut command = std::process::Command::new("strace");
        // Its own process group, so that stopping the test stops the traced
        // server too (killing strace alone would leave it running).
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command.args(&with);
        let mut process = Self::run(command, None);
        process.group = true;
        process
    }

    /// Starts the binary like [`Process::start`], with its open-file limit
    /// (soft and hard) lowered to `nofile` and, if given, its log written to
    /// `log` (at `info`).
    pub fn start_limited(
        nofile: Option<u32>,
        args: &[String],
        log: Option<&std::path::Path>,
    ) -> Process {
        Self::spawn("127.0.0.1:0", args, nofile, log)
    }

    fn spawn(
        listen: &str,
        args: &[String],
        nofile: Option<u32>,
        log: Option<&std::path::Path>,
    ) -> Process {
        let binary = env!("CARGO_BIN_EXE_chat-server");
        let mut command = match nofile {
            Some(n) => {
                let mut c = std::process::Command::new("sh");
                c.args([
                    "-c",
                    &format!("ulimit -n {n} && exec \"$0\" \"$@\""),
                    binary,
                ]);
                c
            }
            None => std::process::Command::new(binary),
        };
        command
            .args(["--listen", listen, "--rate-limit", "0"])
            .args(args);
        Self::run(command, log)
    }

    fn run(mut command: std::process::Command, log: Option<&std::path::Path>) -> Process {
        use std::io::{BufRead, BufReader};
        command
            .env("RUST_LOG", if log.is_some() { "info" } else { "warn" })
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped());
        if let Some(log) = log {
            command.stderr(std::fs::File::create(log).expect("create log"));
        }
        let mut child = command.spawn().expect("start chat-server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read stdout");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("no listening line, got {line:?}"))
            .to_owned();
        Process {
            child,
            addr,
            group: false,
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// SIGKILL, no goodbye.
    pub fn kill(&mut self) {
        if self.group {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// File descriptors the process has open (Linux), if readable.
    pub fn open_fds(&self) -> Option<usize> {
        let dir = format!("/proc/{}/fd", self.child.id());
        std::fs::read_dir(dir).ok().map(|d| d.count())
    }

    /// Resident memory in KiB (Linux), if readable.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Connects to a process and says hello.
/// A client of the server at `addr` signed in with `credential`.
pub async fn raw_signed_in(addr: &str, credential: &str) -> Client {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .expect("connect");
    let mut c = Client::from_ws(ws);
    c.sign_in(credential).await;
    c
}

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

/// The server's `/healthz` answer as JSON.
pub async fn health(addr: &str) -> serde_json::Value {
    let response = http_get(addr, "/healthz").await;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no body in {response:?}"));
    serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("healthz {body:?}: {e}"))
}

/// Waits until `check` holds, polling; fails the test with `what` if it
/// never does within a generous bound (no timing is asserted).
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE * 3;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

/// A `hello` that registers (or, for a test's own names, claims) `name`.
pub fn hello_named(name: &str) -> ClientEvent {
    ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: Some(name.into()),
        credential: None,
        link_code: None,
        device: Some("tests".into()),
        client: Some("tests".into()),
    }
}

/// A `hello` that signs in with `credential`.
pub fn hello_with(credential: &str) -> ClientEvent {
    ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: None,
        credential: Some(credential.into()),
        link_code: None,
        device: Some("tests".into()),
        client: Some("tests".into()),
    }
}

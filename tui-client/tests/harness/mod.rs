//! What the end-to-end tests share: the real server, started in-process on
//! a loopback port; a raw protocol client; the real `chat-tui` binary in a
//! pseudo-terminal, its screen parsed with a terminal emulator (vt100) and
//! polled with a deadline, so nothing depends on how fast the machine is.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test
#![allow(dead_code)] // each test binary uses its own share of the helpers

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

pub const WAIT: Duration = Duration::from_secs(15);
pub const POLL: Duration = Duration::from_millis(50);

// ---------- the server ----------

pub struct Server {
    pub runtime: tokio::runtime::Runtime,
    pub addr: SocketAddr,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<Result<(), server::ServerError>>>,
    /// A message store on disk that outlives restarts; in memory when `None`.
    pub store: Option<std::path::PathBuf>,
    /// Requests per second and burst for each connection.
    pub rate: (f64, u32),
    /// Rooms one connection may be in (from the next start on).
    pub max_rooms: usize,
    /// The server's heartbeat interval (from the next start on).
    pub heartbeat: Duration,
    /// Whether free names are registered (from the next start on).
    pub registration: server::identity::Registration,
}

impl Server {
    pub fn start() -> Server {
        Self::start_with_store(None)
    }

    /// A server keeping its messages in a file, so a restart resumes them.
    pub fn start_on_disk() -> Server {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let path = std::env::temp_dir().join(format!(
            "chat-tui-e2e-{}-{nanos}.sqlite3",
            std::process::id()
        ));
        Self::start_with_store(Some(path))
    }

    /// A server with its own rate limit (0 per second: unlimited).
    pub fn start_with_rate(rate_per_sec: f64, burst: u32) -> Server {
        Self::start_with(None, (rate_per_sec, burst))
    }

    /// A server with a short heartbeat, started again with it at once.
    pub fn start_with_heartbeat(heartbeat: Duration) -> Server {
        let mut server = Self::start();
        server.heartbeat = heartbeat;
        server.restart();
        server
    }

    pub fn start_with_store(store: Option<std::path::PathBuf>) -> Server {
        let defaults = server::Config::default();
        Self::start_with(store, (defaults.rate_per_sec, defaults.rate_burst))
    }

    pub fn start_with(store: Option<std::path::PathBuf>, rate: (f64, u32)) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut server = Server {
            runtime,
            addr: "127.0.0.1:0".parse().unwrap(),
            stop: None,
            task: None,
            store,
            rate,
            max_rooms: server::Config::default().max_rooms_per_connection,
            heartbeat: server::Config::default().heartbeat_interval,
            registration: server::identity::Registration::Open,
        };
        server.listen("127.0.0.1:0".parse().unwrap());
        server
    }

    pub fn listen(&mut self, addr: SocketAddr) {
        let listener = self
            .runtime
            .block_on(tokio::net::TcpListener::bind(addr))
            .unwrap();
        self.addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let config = server::Config {
            shutdown_grace: Duration::from_secs(2),
            store: server::store::StoreConfig {
                path: self.store.clone(),
                ..Default::default()
            },
            rate_per_sec: self.rate.0,
            rate_burst: self.rate.1,
            max_rooms_per_connection: self.max_rooms,
            heartbeat_interval: self.heartbeat,
            identity: server::identity::IdentityConfig {
                registration: self.registration,
                ..Default::default()
            },
            ..server::Config::default()
        };
        let task = self.runtime.spawn(server::run(listener, config, async {
            let _ = rx.await;
        }));
        self.stop = Some(tx);
        self.task = Some(task);
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Stops the server and waits until it has closed every connection.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = self
                .runtime
                .block_on(async { tokio::time::timeout(Duration::from_secs(10), task).await });
        }
    }

    /// Starts again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let addr = self.addr;
        // The port was just released; binding can race with the kernel on a
        // busy machine, so try a bounded number of times.
        for attempt in 0..50 {
            match self.runtime.block_on(tokio::net::TcpListener::bind(addr)) {
                Ok(l) => {
                    drop(l);
                    break;
                }
                Err(_) if attempt < 49 => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => panic!("cannot bind {addr} again: {e}"),
            }
        }
        self.listen(addr);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(path) = &self.store {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

// ---------- a raw protocol client, for payloads the TUI would never send ----------

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn raw_client(url: &str, name: &str, room: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = format!(r#"{{"type":"hello","protocol":2,"name":"{name}"}}"#);
    ws.send(Message::text(hello)).await.unwrap();
    let join = format!(r#"{{"type":"join","id":"j","room":"{room}"}}"#);
    ws.send(Message::text(join)).await.unwrap();
    // Wait for the join's ack (bounded).
    for _ in 0..20 {
        let frame = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        if let Some(Ok(Message::Text(t))) = frame
            && t.as_str().contains(r#""type":"ack""#)
        {
            assert!(t.as_str().contains(r#""ok":true"#), "{}", t.as_str());
            return ws;
        }
    }
    panic!("no ack for the join");
}

/// Sends `texts` as `from` to `room` and waits until each is acknowledged.
pub async fn raw_post_all(url: &str, from: &str, room: &str, texts: &[String]) {
    let mut ws = raw_client(url, from, room).await;
    for (i, text) in texts.iter().enumerate() {
        let frame =
            serde_json::json!({"type": "send", "id": format!("p{i}"), "room": room, "text": text});
        ws.send(Message::text(frame.to_string())).await.unwrap();
    }
    let mut acked = 0;
    // Bounded: every frame read is one of the acks or one of the echoes.
    for _ in 0..texts.len() * 4 {
        if acked == texts.len() {
            break;
        }
        let frame = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        if let Some(Ok(Message::Text(t))) = frame
            && t.as_str().contains(r#""type":"ack""#)
        {
            assert!(t.as_str().contains(r#""ok":true"#), "{}", t.as_str());
            acked += 1;
        }
    }
    assert_eq!(acked, texts.len());
}

// ---------- chat-tui in a pseudo-terminal ----------

/// Records what the emulated terminal was asked to do besides drawing.
#[derive(Default)]
pub struct Recorder {
    pub bells: usize,
    pub titles: Vec<Vec<u8>>,
    pub clipboard: Vec<Vec<u8>>,
    pub hyperlinks: Vec<String>,
}

impl vt100::Callbacks for Recorder {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bells += 1;
    }
    fn set_window_title(&mut self, _: &mut vt100::Screen, title: &[u8]) {
        self.titles.push(title.to_vec());
    }
    fn set_window_icon_name(&mut self, _: &mut vt100::Screen, name: &[u8]) {
        self.titles.push(name.to_vec());
    }
    fn copy_to_clipboard(&mut self, _: &mut vt100::Screen, _: &[u8], data: &[u8]) {
        self.clipboard.push(data.to_vec());
    }
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        if params.first() == Some(&&b"8"[..])
            && let Some(url) = params.get(2)
            && !url.is_empty()
        {
            self.hyperlinks
                .push(String::from_utf8_lossy(url).into_owned());
        }
    }
}

pub struct Tui {
    /// Its home and data directory.
    pub data: std::path::PathBuf,
    /// Removed when the terminal goes, if made for it alone.
    pub own_data: Option<tempfile::TempDir>,
    pub name: String,
    pub parser: Arc<Mutex<vt100::Parser<Recorder>>>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    pub master: Box<dyn portable_pty::MasterPty + Send>,
    pub reader: Option<std::thread::JoinHandle<()>>,
}

impl Tui {
    pub fn start(url: &str, name: &str, rooms: &[&str], size: (u16, u16)) -> Tui {
        Self::start_with(url, name, rooms, size, &[])
    }

    /// With options of its own, and a data directory of its own (so never
    /// the credentials of whoever runs the tests).
    pub fn start_with(
        url: &str,
        name: &str,
        rooms: &[&str],
        size: (u16, u16),
        extra: &[&str],
    ) -> Tui {
        let data = tempfile::tempdir().unwrap();
        let mut tui = Self::start_in(data.path(), url, Some(name), rooms, size, extra);
        tui.own_data = Some(data);
        tui
    }

    /// With `data` as its home and data directory: another run with the
    /// same one is the same device. Without a name it signs in with what
    /// is kept there, or with the `--link` code among `extra`.
    pub fn start_in(
        data: &std::path::Path,
        url: &str,
        name: Option<&str>,
        rooms: &[&str],
        (cols, rows): (u16, u16),
        extra: &[&str],
    ) -> Tui {
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_chat-tui"));
        cmd.args(["--server", url]);
        if let Some(name) = name {
            cmd.args(["--name", name]);
        }
        for room in rooms {
            cmd.args(["--room", room]);
        }
        cmd.args(extra);
        for var in [
            "CHAT_SERVER",
            "CHAT_NAME",
            "CHAT_ROOMS",
            "CHAT_CLOCK",
            "CHAT_BELL",
            "CHAT_COLORS",
            "NO_COLOR",
        ] {
            cmd.env_remove(var);
        }
        // An empty config file: never the config of whoever runs the tests.
        cmd.env("CHAT_CONFIG", "/dev/null");
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", data);
        cmd.env("XDG_DATA_HOME", data.join("share"));
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(
            rows,
            cols,
            0,
            Recorder::default(),
        )));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let sink = parser.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            // Ends when the terminal closes (EOF or error).
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        let writer = pair.master.take_writer().unwrap();
        Tui {
            name: name.unwrap_or("(signed in)").to_string(),
            data: data.to_path_buf(),
            own_data: None,
            parser,
            writer,
            child,
            master: pair.master,
            reader: Some(reader),
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    pub fn rows(&self) -> Vec<String> {
        let p = self.parser.lock().unwrap();
        let (_, cols) = p.screen().size();
        p.screen().rows(0, cols).collect()
    }

    pub fn recorder<T>(&self, f: impl FnOnce(&Recorder) -> T) -> T {
        f(self.parser.lock().unwrap().callbacks())
    }

    /// Polls the screen until `pred` holds, or fails with the screen.
    pub fn wait_until(&self, what: &str, pred: impl Fn(&Tui) -> bool) {
        self.wait_until_within(WAIT, what, pred);
    }

    /// As [`Tui::wait_until`], with a bound of its own (for what takes a
    /// reconnection or two).
    pub fn wait_until_within(&self, bound: Duration, what: &str, pred: impl Fn(&Tui) -> bool) {
        let deadline = Instant::now() + bound;
        while Instant::now() < deadline {
            if pred(self) {
                return;
            }
            std::thread::sleep(POLL);
        }
        panic!(
            "{}: timed out waiting for {what}; screen:\n{}",
            self.name,
            self.screen()
        );
    }

    pub fn wait_for(&self, text: &str) {
        self.wait_until(&format!("{text:?}"), |t| t.screen().contains(text));
    }

    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Types a line and presses Enter.
    pub fn line(&mut self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    /// The screen row showing `text`, if any.
    pub fn row_with(&self, text: &str) -> Option<String> {
        self.rows().into_iter().find(|r| r.contains(text))
    }

    /// The sidebar row of `room` (the text left of the first border).
    pub fn sidebar_row(&self, room: &str) -> String {
        self.rows()
            .into_iter()
            .map(|r| r.split('│').next().unwrap_or("").to_string())
            .find(|r| r.split_whitespace().nth(1) == Some(room))
            .unwrap_or_default()
    }

    /// Waits for the process to end, and for the terminal emulator to
    /// have read everything it wrote (its last bytes restore the screen);
    /// its exit status.
    pub fn wait_exit(&mut self) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader ends at the end of the output (the terminal's
                // other side is closed once the process is gone).
                while self.reader.as_ref().is_some_and(|r| !r.is_finished())
                    && Instant::now() < deadline
                {
                    std::thread::sleep(POLL);
                }
                return status;
            }
            std::thread::sleep(POLL);
        }
        panic!("{} did not exit; screen:\n{}", self.name, self.screen());
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // Closing the terminal ends the reader thread.
        let _ = self.master.resize(PtySize::default());
        if let Some(r) = self.reader.take() {
            drop(std::mem::replace(
                &mut self.writer,
                Box::new(std::io::sink()),
            ));
            let _ = r.join();
        }
    }
}

pub const WIDE: (u16, u16) = (160, 30);

/// ann starts `dev` (so she owns it), then bob joins; each at [`WIDE`],
/// each seeing the other there.
pub fn ann_and_bob(server: &Server) -> (Tui, Tui) {
    let ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    bob.wait_for("you joined #dev");
    ann.wait_for("bob joined #dev");
    (ann, bob)
}

// ---------- a TCP proxy that can go silent ----------

/// A TCP proxy between clients and the server on a loopback port. It can
/// stop passing on what the server sends without closing anything: to the
/// client the link looks alive and says nothing, as when a NAT forgets a
/// mapping or a laptop's network goes away. What clients send still
/// reaches the server, so a line may be stored while its answer is lost.
pub struct Proxy {
    pub addr: SocketAddr,
    /// Connections made from now on are silenced at once.
    stalled: Arc<std::sync::atomic::AtomicBool>,
    /// One flag per connection: set, nothing more reaches its client.
    links: Arc<Mutex<Vec<Arc<std::sync::atomic::AtomicBool>>>>,
}

impl Proxy {
    pub fn start(runtime: &tokio::runtime::Runtime, upstream: SocketAddr) -> Proxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let stalled = Arc::new(AtomicBool::new(false));
        let links: Arc<Mutex<Vec<Arc<AtomicBool>>>> = Arc::default();
        let (s, l) = (stalled.clone(), links.clone());
        // Ends with the runtime.
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    continue;
                };
                let silenced = Arc::new(AtomicBool::new(s.load(Ordering::SeqCst)));
                l.lock().unwrap().push(silenced.clone());
                let (mut client_rx, mut client_tx) = client.into_split();
                let (mut server_rx, mut server_tx) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut client_rx, &mut server_tx).await;
                    // The client hung up: so does the proxy, towards the server.
                    let _ = tokio::io::AsyncWriteExt::shutdown(&mut server_tx).await;
                });
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    let mut buf = vec![0u8; 16 * 1024];
                    // Ends when the server closes or the client is gone.
                    loop {
                        let n = match server_rx.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if silenced.load(Ordering::SeqCst) {
                            continue;
                        }
                        if client_tx.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                    if silenced.load(Ordering::SeqCst) {
                        // Silent to the end: the client's side stays open.
                        std::future::pending::<()>().await;
                    }
                });
            }
        });
        Proxy {
            addr,
            stalled,
            links,
        }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// From now on nothing from the server reaches any client, on every
    /// connection open now or made later; nothing is closed.
    pub fn stall(&self) {
        use std::sync::atomic::Ordering;
        self.stalled.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().iter() {
            link.store(true, Ordering::SeqCst);
        }
    }

    /// New connections pass everything again; the silenced ones stay so.
    pub fn restore(&self) {
        self.stalled
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

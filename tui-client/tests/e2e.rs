//! End-to-end: the real `chat-tui` binary in a pseudo-terminal against the
//! real server, started in-process on a loopback port. The screen is parsed
//! with a terminal emulator (vt100) and polled with a deadline; nothing
//! depends on how fast the machine is.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(50);

// ---------- the server ----------

struct Server {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), server::ServerError>>>,
    /// A message store on disk that outlives restarts; in memory when `None`.
    store: Option<std::path::PathBuf>,
    /// Requests per second and burst for each connection.
    rate: (f64, u32),
    /// Rooms one connection may be in (from the next start on).
    max_rooms: usize,
}

impl Server {
    fn start() -> Server {
        Self::start_with_store(None)
    }

    /// A server keeping its messages in a file, so a restart resumes them.
    fn start_on_disk() -> Server {
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
    fn start_with_rate(rate_per_sec: f64, burst: u32) -> Server {
        Self::start_with(None, (rate_per_sec, burst))
    }

    fn start_with_store(store: Option<std::path::PathBuf>) -> Server {
        let defaults = server::Config::default();
        Self::start_with(store, (defaults.rate_per_sec, defaults.rate_burst))
    }

    fn start_with(store: Option<std::path::PathBuf>, rate: (f64, u32)) -> Server {
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
        };
        server.listen("127.0.0.1:0".parse().unwrap());
        server
    }

    fn listen(&mut self, addr: SocketAddr) {
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
            ..server::Config::default()
        };
        let task = self.runtime.spawn(server::run(listener, config, async {
            let _ = rx.await;
        }));
        self.stop = Some(tx);
        self.task = Some(task);
    }

    fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Stops the server and waits until it has closed every connection.
    fn stop(&mut self) {
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
    fn restart(&mut self) {
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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn raw_client(url: &str, name: &str, room: &str) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let hello = format!(r#"{{"type":"hello","protocol":1,"name":"{name}"}}"#);
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
async fn raw_post_all(url: &str, from: &str, room: &str, texts: &[String]) {
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
struct Recorder {
    bells: usize,
    titles: Vec<Vec<u8>>,
    clipboard: Vec<Vec<u8>>,
    hyperlinks: Vec<String>,
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

struct Tui {
    name: String,
    parser: Arc<Mutex<vt100::Parser<Recorder>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Tui {
    fn start(url: &str, name: &str, rooms: &[&str], size: (u16, u16)) -> Tui {
        Self::start_with(url, name, rooms, size, &[])
    }

    fn start_with(
        url: &str,
        name: &str,
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
        cmd.args(["--server", url, "--name", name]);
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
            name: name.to_string(),
            parser,
            writer,
            child,
            master: pair.master,
            reader: Some(reader),
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn rows(&self) -> Vec<String> {
        let p = self.parser.lock().unwrap();
        let (_, cols) = p.screen().size();
        p.screen().rows(0, cols).collect()
    }

    fn recorder<T>(&self, f: impl FnOnce(&Recorder) -> T) -> T {
        f(self.parser.lock().unwrap().callbacks())
    }

    /// Polls the screen until `pred` holds, or fails with the screen.
    fn wait_until(&self, what: &str, pred: impl Fn(&Tui) -> bool) {
        let deadline = Instant::now() + WAIT;
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

    fn wait_for(&self, text: &str) {
        self.wait_until(&format!("{text:?}"), |t| t.screen().contains(text));
    }

    fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Types a line and presses Enter.
    fn line(&mut self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    /// The screen row showing `text`, if any.
    fn row_with(&self, text: &str) -> Option<String> {
        self.rows().into_iter().find(|r| r.contains(text))
    }

    /// The sidebar row of `room` (the text left of the first border).
    fn sidebar_row(&self, room: &str) -> String {
        self.rows()
            .into_iter()
            .map(|r| r.split('│').next().unwrap_or("").to_string())
            .find(|r| r.split_whitespace().nth(1) == Some(room))
            .unwrap_or_default()
    }

    /// Waits for the process to end, and for the terminal emulator to
    /// have read everything it wrote (its last bytes restore the screen);
    /// its exit status.
    fn wait_exit(&mut self) -> portable_pty::ExitStatus {
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

const WIDE: (u16, u16) = (160, 30);

// ---------- the tests ----------

#[test]
fn two_clients_in_one_room_exchange_messages() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let mut bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");
    bob.wait_for("you joined #dev");

    ann.line("hello from ann, ünïcödé 日本 🦀");
    bob.wait_for("hello from ann, ünïcödé 日本 🦀");
    bob.line("/me waves back");
    ann.wait_for("* ");
    ann.wait_until("bob's action", |t| {
        t.rows()
            .iter()
            .any(|r| r.contains("*") && r.contains("bob waves back"))
    });
    // Both see their own messages too, and the user list has both names.
    ann.wait_for("hello from ann");
    assert!(ann.screen().contains("2 users"), "{}", ann.screen());
}

#[test]
fn a_location_shows_up_with_its_link_on_the_other_side() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");
    ann.line("/location 51.5007 -0.1246");
    let url =
        "https://www.openstreetmap.org/?mlat=51.500700&mlon=-0.124600#map=16/51.500700/-0.124600";
    bob.wait_for("shared a location: 51.500700, -0.124600");
    bob.wait_for(url);
    // And it is a terminal hyperlink (OSC 8) to the same address.
    bob.wait_until("an OSC 8 hyperlink", |t| {
        t.recorder(|r| r.hyperlinks.iter().any(|h| h == url))
    });
}

#[test]
fn switching_rooms_with_alt_2() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev", "ops"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_for("#dev ·");
    ann.send("\x1b2"); // Alt-2
    ann.wait_for("#ops ·");
    ann.wait_for("[ops]");
    ann.wait_for("you joined #ops");
    ann.send("\x1b1"); // Alt-1
    ann.wait_for("[dev]");
}

#[test]
fn unread_counts_rise_and_clear() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev", "ops"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_until("ops to be joined", |t| t.sidebar_row("ops").contains("ops"));
    let mut bob = Tui::start(&server.url(), "bob", &["ops"], WIDE);
    bob.wait_for("you joined #ops (1 other person here)");
    bob.line("one");
    bob.line("two");
    bob.line("ann: three");
    ann.wait_until("3 unread with a mention mark in ops", |t| {
        t.sidebar_row("ops").trim_end().ends_with("@3")
    });
    assert!(
        ann.sidebar_row("dev").trim_end().ends_with("dev"),
        "{:?}",
        ann.sidebar_row("dev")
    );
    // The mention rang the bell (the default is to ring on mentions).
    ann.wait_until("the bell", |t| t.recorder(|r| r.bells >= 1));
    ann.send("\x1b2");
    ann.wait_for("[ops]");
    ann.wait_until("the count to clear", |t| {
        t.sidebar_row("ops").trim_end().ends_with("ops")
    });
    assert!(ann.screen().contains("ann: three"));
}

#[test]
fn an_escape_sequence_payload_arrives_inert() {
    let server = Server::start();
    let ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let url = server.url();
    server.runtime.block_on(async {
        let mut ws = raw_client(&url, "mallory", "dev").await;
        let payload = "\u{1b}[2J\u{1b}[H\u{1b}]0;owned title\u{07}\u{1b}]52;c;ZWNobyBvd25lZA==\u{07}\u{07}\u{07}\u{1b}[?1049l\u{202e}harmless text\u{1b}[31m";
        let frame = serde_json::json!({"type": "send", "id": "x", "room": "dev", "text": payload});
        ws.send(Message::text(frame.to_string())).await.unwrap();
        // Stay connected until the frame has been broadcast.
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.next()).await;
    });
    ann.wait_for("harmless text");
    // Nothing of the sequences is left, not even as visible debris.
    let screen = ann.screen();
    for debris in ["[2J", "owned", "52;c", "[31m", "1049", "\u{202e}"] {
        assert!(
            !screen.contains(debris),
            "{debris:?} reached the screen:\n{screen}"
        );
    }
    // The screen was not cleared: earlier lines are still there.
    assert!(ann.screen().contains("you joined #dev"), "{}", ann.screen());
    assert!(
        ann.screen().contains("mallory joined #dev"),
        "{}",
        ann.screen()
    );
    let p = ann.parser.lock().unwrap();
    assert!(
        p.screen().alternate_screen(),
        "the payload left the alternate screen"
    );
    let r = p.callbacks();
    assert_eq!(r.bells, 0, "a bell rang");
    assert!(r.titles.is_empty(), "the title was set: {:?}", r.titles);
    assert!(
        r.clipboard.is_empty(),
        "the clipboard was written: {:?}",
        r.clipboard
    );
}

#[test]
fn the_client_recovers_after_the_server_restarts() {
    let mut server = Server::start_on_disk();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let mut bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");
    ann.line("said before the restart");
    bob.wait_for("said before the restart");

    server.stop();
    ann.wait_for("disconnected");
    server.restart();
    ann.wait_for("rejoined #dev");
    bob.wait_for("rejoined #dev");
    ann.wait_for(" connected ");
    bob.line("back again");
    ann.wait_for("back again");
    // Resuming replays nothing twice.
    let screen = ann.screen();
    assert_eq!(
        screen.matches("said before the restart").count(),
        1,
        "{screen}"
    );
}

#[test]
fn a_new_client_sees_recent_history() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("an earlier message");
    ann.wait_for("an earlier message");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    bob.wait_for("you joined #dev");
    bob.wait_for("an earlier message");
}

#[test]
fn quit_restores_the_terminal() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_until("the alternate screen", |t| {
        t.parser.lock().unwrap().screen().alternate_screen()
    });
    ann.line("/quit");
    assert!(ann.wait_exit().success());
    let p = ann.parser.lock().unwrap();
    assert!(!p.screen().alternate_screen());
    assert!(!p.screen().hide_cursor());
    assert!(!p.screen().bracketed_paste());
}

#[test]
fn ctrl_c_restores_the_terminal() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.send("\x03");
    assert!(ann.wait_exit().success());
    assert!(!ann.parser.lock().unwrap().screen().alternate_screen());
}

#[test]
fn a_taken_name_is_one_clear_line_and_a_failure() {
    let server = Server::start();
    let url = server.url();
    let _holder = server.runtime.block_on(raw_client(&url, "ann", "dev"));
    let mut ann = Tui::start(&url, "ann", &["dev"], WIDE);
    let status = ann.wait_exit();
    assert!(!status.success());
    ann.wait_for("chat-tui: cannot join #dev:");
    let p = ann.parser.lock().unwrap();
    assert!(!p.screen().alternate_screen());
    let text = p.screen().contents();
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn an_unreachable_server_is_one_clear_line() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-tui"))
        .args([
            "--server",
            &format!("ws://127.0.0.1:{port}/ws"),
            "--name",
            "ann",
        ])
        .env("CHAT_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("chat-tui: cannot connect to ws://127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn a_bad_option_is_one_clear_line() {
    for args in [
        &["--frobnicate"][..],
        &["--name", "ann", "--clock", "13h"],
        &["--room", "dev"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-tui"))
            .args(args)
            .env("CHAT_CONFIG", "/dev/null")
            .env_remove("CHAT_NAME")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("chat-tui: "), "{err}");
    }
}

#[test]
fn a_burst_of_typing_larger_than_one_read_is_not_stuck() {
    // More bytes at once than the terminal library reads in one go: all of
    // them must be handled without waiting for another key press.
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let burst = format!("{} tail-marker\r", "word ".repeat(600));
    ann.send(&burst);
    ann.wait_for("tail-marker");
    ann.wait_until("the input line to be empty again", |t| {
        t.rows().last().is_some_and(|r| r.trim_end() == "[dev]")
    });
}

#[test]
fn history_on_join_is_set_apart_from_live_messages() {
    let server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("stored before bob came");
    ann.wait_until("the message to be confirmed", |t| {
        t.row_with("stored before bob came")
            .is_some_and(|r| !r.contains("sending"))
    });
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    bob.wait_for("you joined #dev");
    bob.wait_for("end of history");
    ann.line("said live");
    bob.wait_for("said live");
    let rows = bob.rows();
    let at = |text: &str| rows.iter().position(|r| r.contains(text)).unwrap();
    let rule = at("end of history");
    assert!(rows[rule].contains("───"), "{}", rows[rule]);
    assert!(at("stored before bob came") < rule, "{}", bob.screen());
    assert!(rule < at("said live"), "{}", bob.screen());
}

/// A join whose history is too large for one frame (50 messages of 4,000
/// characters JSON escapes six-fold: 1.2 MB, over the server's 1 MiB frame
/// bound) arrives in parts, and is shown whole, the rule after its last
/// message.
#[test]
fn a_history_too_large_for_one_frame_is_shown_whole() {
    let server = Server::start_with_rate(0.0, 0);
    let texts: Vec<String> = (0..50)
        .map(|i| format!("heavy{i:02} {}", "\u{0}".repeat(3990)))
        .collect();
    server
        .runtime
        .block_on(raw_post_all(&server.url(), "bob", "dev", &texts));
    let ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("end of history");
    ann.wait_for("heavy49");
    let rows = ann.rows();
    let at = |text: &str| rows.iter().position(|r| r.contains(text));
    assert!(
        at("heavy49") < at("end of history"),
        "the rule comes after the whole history:\n{}",
        ann.screen()
    );
    assert_eq!(
        rows.iter().filter(|r| r.contains("end of history")).count(),
        1,
        "{}",
        ann.screen()
    );
}

#[test]
fn page_up_at_the_top_loads_older_history() {
    let server = Server::start_with_rate(0.0, 0);
    let texts: Vec<String> = (1..=120).map(|i| format!("old-{i:03}")).collect();
    let url = server.url();
    server
        .runtime
        .block_on(raw_post_all(&url, "bob", "dev", &texts));
    let mut ann = Tui::start(&url, "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.wait_for("end of history");
    // The join brought the latest page only.
    assert!(!ann.screen().contains("old-070"), "{}", ann.screen());
    // PgUp until the oldest message is on screen: each press scrolls a
    // page, and at the top asks the server for the page before.
    let deadline = Instant::now() + WAIT;
    let mut presses = 0;
    while !ann.screen().contains("old-001") {
        assert!(
            Instant::now() < deadline && presses < 200,
            "old-001 never appeared after {presses} PgUp; screen:\n{}",
            ann.screen()
        );
        ann.send("\x1b[5~");
        presses += 1;
        std::thread::sleep(POLL);
    }
    // And End goes back to the newest.
    ann.send("\x1b[F");
    ann.wait_for("old-120");
}

/// PgUp past the oldest line stops there: the presses beyond it do not pile
/// up, so the first PgDn moves at once, by exactly one page of rows.
#[test]
fn paging_up_past_the_top_does_not_pile_up_and_page_down_moves_one_page() {
    let server = Server::start_with_rate(0.0, 0);
    let texts: Vec<String> = (1..=60).map(|i| format!("line-{i:02}")).collect();
    let url = server.url();
    server
        .runtime
        .block_on(raw_post_all(&url, "bob", "dev", &texts));
    let mut ann = Tui::start(&url, "ann", &["dev"], WIDE);
    ann.wait_for("end of history");
    // Up until the oldest line shows (the join brought the latest 50; the
    // top asks the server for the 10 before them).
    let deadline = Instant::now() + WAIT;
    let mut presses = 0;
    while !ann.screen().contains("line-01") {
        assert!(
            Instant::now() < deadline && presses < 20,
            "line-01 never appeared after {presses} PgUp; screen:\n{}",
            ann.screen()
        );
        ann.send("\x1b[5~");
        presses += 1;
        std::thread::sleep(POLL);
    }
    // Seven presses in all, and never fewer than four beyond the top.
    for _ in 0..7usize.saturating_sub(presses).max(4) {
        ann.send("\x1b[5~");
    }
    let top = ann.rows();
    let oldest = top.iter().position(|r| r.contains("line-01")).unwrap();
    // One page is the pane (the screen less the status and input lines)
    // less one row; each line here takes one row.
    let page = usize::from(WIDE.1) - 2 - 1;
    let expected = format!("line-{:02}", 1 + page - oldest);
    ann.send("\x1b[6~");
    ann.wait_until(&format!("{expected} at the top after one PgDn"), |t| {
        t.rows()[0].contains(&expected)
    });
    assert!(!ann.screen().contains("line-01"), "{}", ann.screen());
}

#[test]
fn a_message_typed_while_the_server_is_down_is_pending_then_delivered_once() {
    let mut server = Server::start_on_disk();
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    let bob = Tui::start(&server.url(), "bob", &["dev"], WIDE);
    ann.wait_for("bob joined #dev");

    server.stop();
    ann.wait_for("disconnected");
    ann.line("typed while the server was down");
    ann.wait_until("the message to show as pending", |t| {
        t.row_with("typed while the server was down")
            .is_some_and(|r| r.contains("… sending"))
    });
    server.restart();
    ann.wait_for("rejoined #dev");
    ann.wait_until("the message to be confirmed", |t| {
        t.row_with("typed while the server was down")
            .is_some_and(|r| !r.contains("sending"))
    });
    bob.wait_for("typed while the server was down");
    // Exactly once, for the sender, for the others, and in stored history.
    let carol = Tui::start(&server.url(), "carol", &["dev"], WIDE);
    carol.wait_for("end of history");
    for t in [&ann, &bob, &carol] {
        let screen = t.screen();
        assert_eq!(
            screen.matches("typed while the server was down").count(),
            1,
            "{}:\n{screen}",
            t.name
        );
    }
}

#[test]
fn a_message_the_server_refuses_is_marked_failed_with_the_reason() {
    // One request in the bucket after the join, refilled very slowly.
    let server = Server::start_with_rate(0.001, 2);
    let mut ann = Tui::start(&server.url(), "ann", &["dev"], WIDE);
    ann.wait_for("you joined #dev");
    ann.line("this one fits");
    ann.wait_until("the first message to be confirmed", |t| {
        t.row_with("this one fits")
            .is_some_and(|r| !r.contains("sending"))
    });
    ann.line("this one is too fast");
    ann.wait_until("the second message to be marked failed", |t| {
        t.row_with("this one is too fast")
            .is_some_and(|r| r.contains("✗ not sent: too many requests"))
    });
    assert!(
        !ann.row_with("this one fits").unwrap().contains("not sent"),
        "{}",
        ann.screen()
    );
}

#[test]
fn help_lists_the_keys_and_commands_of_the_tables() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chat-tui"))
        .arg("--help")
        .env("CHAT_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for row in tui_client::keymap::KEYMAP {
        assert!(
            text.contains(&row.keys_label()),
            "{}:\n{text}",
            row.keys_label()
        );
    }
    for c in tui_client::commands::COMMANDS {
        assert!(text.contains(c.usage), "{}:\n{text}", c.usage);
    }
    assert!(text.contains("--name <NAME>"), "{text}");
}

#[test]
fn a_refused_rejoin_keeps_the_room_and_fails_its_waiting_line_until_joined_again() {
    let mut server = Server::start();
    let mut ann = Tui::start(&server.url(), "ann", &["dev", "ops"], WIDE);
    ann.wait_for("you joined #dev");
    ann.send("\x1b2"); // Alt-2
    ann.wait_for("you joined #ops");

    server.stop();
    ann.wait_for("disconnected");
    ann.line("typed in ops while the server was down");
    ann.wait_until("the line to show as pending", |t| {
        t.row_with("typed in ops while the server was down")
            .is_some_and(|r| r.contains("… sending"))
    });
    // Back with room for one room per connection: dev is rejoined first,
    // ops is refused.
    server.max_rooms = 1;
    server.restart();
    ann.wait_until("the line to be marked failed with the reason", |t| {
        t.row_with("typed in ops while the server was down")
            .is_some_and(|r| r.contains("✗ not sent: a connection may be in at most 1 rooms"))
    });
    ann.wait_for("(/join ops tries again)");
    assert!(
        ann.sidebar_row("ops").contains("ops"),
        "the room stays:\n{}",
        ann.screen()
    );
    // Nothing resends it by itself; the person makes room and asks again.
    ann.line("/leave dev");
    ann.line("/join ops");
    ann.wait_for("rejoined #ops");
    assert!(
        ann.row_with("typed in ops while the server was down")
            .is_some_and(|r| r.contains("✗ not sent")),
        "{}",
        ann.screen()
    );
    ann.line("/retry");
    ann.wait_until("the line to be sent", |t| {
        t.row_with("typed in ops while the server was down")
            .is_some_and(|r| !r.contains("sending") && !r.contains("not sent"))
    });
}

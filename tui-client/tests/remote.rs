//! chat-tui over bytes (`tui_client::remote`), end to end: the renderer
//! runs against the real server (dialing it over WebSocket, the way in
//! the ssh entrance replaces with an in-process channel), its frames go
//! through a bounded channel into a terminal emulator (vt100), and its
//! input is the bytes a terminal sends.

#![allow(clippy::unwrap_used)] // a failure is a failed test

mod harness;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use harness::{POLL, Recorder, Server, WAIT, raw_client, raw_post_all};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tui_client::address::ServerAddress;
use tui_client::dial::Endpoint;
use tui_client::remote::{
    self, Answer, EndpointDialer, Exit, Incoming, RemoteOptions, RemoteSignIn, TerminalInfo,
};

/// The far end of an ssh channel: a terminal emulator fed by the frames.
struct Far {
    input: mpsc::Sender<Incoming>,
    parser: Arc<Mutex<vt100::Parser<Recorder>>>,
    frames: Arc<AtomicUsize>,
    /// While set, frames are not read: a client that stopped reading.
    stalled: Arc<AtomicBool>,
}

impl Far {
    fn new(
        runtime: &tokio::runtime::Runtime,
        cols: u16,
        rows: u16,
    ) -> (Far, mpsc::Receiver<Incoming>, mpsc::Sender<Vec<u8>>) {
        let (input, input_rx) = mpsc::channel(64);
        let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(1);
        let parser = Arc::new(Mutex::new(vt100::Parser::new_with_callbacks(
            rows,
            cols,
            0,
            Recorder::default(),
        )));
        let frames = Arc::new(AtomicUsize::new(0));
        let stalled = Arc::new(AtomicBool::new(false));
        let (p, f, s) = (parser.clone(), frames.clone(), stalled.clone());
        runtime.spawn(async move {
            loop {
                // Bounded by the run: the channel closes when it ends.
                while s.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                let Some(frame) = out_rx.recv().await else {
                    break;
                };
                f.fetch_add(1, Ordering::SeqCst);
                p.lock().unwrap().process(&frame);
            }
        });
        (
            Far {
                input,
                parser,
                frames,
                stalled,
            },
            input_rx,
            out_tx,
        )
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    fn wait_until(&self, what: &str, pred: impl Fn(&Far) -> bool) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if pred(self) {
                return;
            }
            std::thread::sleep(POLL);
        }
        panic!("timed out waiting for {what}; screen:\n{}", self.screen());
    }

    fn wait_for(&self, text: &str) {
        self.wait_until(&format!("{text:?}"), |f| f.screen().contains(text));
    }

    fn send(&self, runtime: &tokio::runtime::Runtime, bytes: &[u8]) {
        runtime
            .block_on(self.input.send(Incoming::Data(bytes.to_vec())))
            .unwrap();
    }
}

fn start(
    server: &Server,
    name: &str,
    rooms: &[&str],
    term: &str,
    (cols, rows): (u16, u16),
) -> (
    Far,
    tokio::task::JoinHandle<Result<Exit, remote::RemoteError>>,
) {
    let (far, input, output) = Far::new(&server.runtime, cols, rows);
    let address = ServerAddress::parse(&server.url()).unwrap();
    let dialer = Arc::new(EndpointDialer(Endpoint::plain(address)));
    let terminal = TerminalInfo {
        term: term.into(),
        cols,
        rows,
    };
    let rooms = rooms.iter().map(|r| r.to_string()).collect();
    let options = RemoteOptions::new(terminal, rooms, "ssh test".into());
    let sign_in = RemoteSignIn {
        user: String::new(),
        name: name.into(),
        device: "ssh ed25519 SHA256:test".into(),
    };
    let task = server
        .runtime
        .spawn(remote::run(options, sign_in, input, output, dialer));
    (far, task)
}

#[test]
fn the_whole_app_over_bytes_talks_with_the_room() {
    // On disk: the names registered stay across the restart below.
    let mut server = Server::start_on_disk();
    let url = server.url();
    let (far, task) = start(&server, "ann", &["dev"], "xterm-256color", (100, 30));
    far.wait_until("the alternate screen", |f| {
        f.parser.lock().unwrap().screen().alternate_screen()
    });
    far.wait_for("#dev");
    far.wait_for("connected");

    // Someone else's line arrives, naming ann: shown, in a 256-colour
    // name colour, and the bell rings.
    let mut bob = server.runtime.block_on(raw_client(&url, "bob", "dev"));
    server.runtime.block_on(raw_post_all(
        &url,
        "carol",
        "dev",
        &["morning ann, coffee?".into()],
    ));
    far.wait_for("morning ann, coffee?");
    far.wait_until("the bell", |f| {
        f.parser.lock().unwrap().callbacks().bells > 0
    });
    {
        let parser = far.parser.lock().unwrap();
        let screen = parser.screen();
        let row = screen
            .rows(0, 100)
            .position(|r| r.contains("morning ann"))
            .unwrap_or_else(|| panic!("{}", screen.contents())) as u16;
        let col = screen
            .rows(0, 100)
            .nth(row as usize)
            .unwrap()
            .find("carol")
            .unwrap() as u16;
        let color = screen.cell(row, col).unwrap().fgcolor();
        assert!(
            matches!(color, vt100::Color::Idx(n) if n >= 16),
            "a 256-colour name colour for xterm-256color, got {color:?}"
        );
    }

    // Typing, with a paste and an arrow key among it: the line reaches bob.
    far.send(
        &server.runtime,
        b"hi \x1b[200~bob, pasted\x1b[201~!\x1b[D?\r",
    );
    let got = server.runtime.block_on(async {
        // Bounded: every frame read is one of the room's.
        for _ in 0..50 {
            let frame = tokio::time::timeout(WAIT, bob.next()).await.unwrap();
            if let Some(Ok(Message::Text(t))) = frame
                && t.as_str().contains(r#""type":"message""#)
                && t.as_str().contains(r#""from":"ann""#)
            {
                return t.as_str().to_string();
            }
        }
        panic!("ann's line never reached bob");
    });
    assert!(got.contains(r#""text":"hi bob, pasted?!""#), "{got}");
    far.wait_for("hi bob, pasted?!");

    // A window change redraws at the new size.
    server
        .runtime
        .block_on(far.input.send(Incoming::Resize { cols: 72, rows: 20 }))
        .unwrap();
    far.parser.lock().unwrap().screen_mut().set_size(20, 72);
    far.parser.lock().unwrap().process(b"\x1b[2J");
    far.wait_until("the status line at 72 columns", |f| {
        let p = f.parser.lock().unwrap();
        p.screen()
            .rows(0, 72)
            .any(|r| r.contains("#dev") && r.contains("ann"))
            && p.screen().contents().contains("hi bob, pasted?!")
    });

    // The server goes away and comes back: the renderer dials again and
    // the room goes on.
    server.restart();
    server
        .runtime
        .block_on(raw_post_all(&url, "erin", "dev", &["back again".into()]));
    far.wait_for("back again");
    drop(bob);

    // Ctrl-C: the run ends, and the terminal is given back.
    far.send(&server.runtime, b"\x03");
    let exit = server
        .runtime
        .block_on(async { tokio::time::timeout(WAIT, task).await })
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(exit, Exit::Quit);
    far.wait_until("the normal screen", |f| {
        !f.parser.lock().unwrap().screen().alternate_screen()
    });
}

#[test]
fn a_stalled_client_gets_the_latest_screen_not_every_frame() {
    let server = Server::start_with_rate(0.0, 0);
    let url = server.url();
    let (far, task) = start(&server, "ann", &["dev"], "xterm", (80, 24));
    far.wait_for("connected");
    far.wait_for("#dev");
    // Let the first screens settle, then stop reading.
    std::thread::sleep(Duration::from_millis(300));
    far.stalled.store(true, Ordering::SeqCst);
    let before = far.frames.load(Ordering::SeqCst);
    let texts: Vec<String> = (0..60).map(|n| format!("line number {n}")).collect();
    server
        .runtime
        .block_on(raw_post_all(&url, "bob", "dev", &texts));
    // Give the renderer time to take every message in while stalled.
    std::thread::sleep(Duration::from_millis(500));
    far.stalled.store(false, Ordering::SeqCst);
    far.wait_for("line number 59");
    std::thread::sleep(Duration::from_millis(300));
    let frames = far.frames.load(Ordering::SeqCst) - before;
    // One frame waited in the channel, the next shows the latest state;
    // a few more for what came after (joins, the notice fading).
    assert!(
        frames <= 6,
        "{frames} frames for 60 messages while the client was stalled"
    );

    // The server ends the session (idle): the input closes, and the
    // terminal is given back all the same.
    server
        .runtime
        .block_on(far.input.send(Incoming::Closed))
        .unwrap();
    let exit = server
        .runtime
        .block_on(async { tokio::time::timeout(WAIT, task).await })
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(exit, Exit::Gone);
    far.wait_until("the normal screen", |f| {
        !f.parser.lock().unwrap().screen().alternate_screen()
    });
}

#[test]
fn the_16_colour_and_no_colour_fallbacks() {
    let server = Server::start();
    let url = server.url();
    for (term, no_color) in [("xterm", false), ("xterm-256color", true)] {
        let (far, input, output) = Far::new(&server.runtime, 80, 24);
        let address = ServerAddress::parse(&url).unwrap();
        let terminal = TerminalInfo {
            term: term.into(),
            cols: 80,
            rows: 24,
        };
        let mut options = RemoteOptions::new(terminal, vec!["dev".into()], "ssh".into());
        options.no_color = no_color;
        let sign_in = RemoteSignIn {
            user: String::new(),
            name: format!("viewer{}", u8::from(no_color)),
            device: "ssh".into(),
        };
        let dialer = Arc::new(EndpointDialer(Endpoint::plain(address)));
        server
            .runtime
            .spawn(remote::run(options, sign_in, input, output, dialer));
        far.wait_for("connected");
        server.runtime.block_on(raw_post_all(
            &url,
            &format!("dave{}", u8::from(no_color)),
            "dev",
            &[format!("colours {}?", u8::from(no_color))],
        ));
        let text = format!("colours {}?", u8::from(no_color));
        far.wait_for(&text);
        let parser = far.parser.lock().unwrap();
        let screen = parser.screen();
        let dave = format!("dave{}", u8::from(no_color));
        let row = screen
            .rows(0, 80)
            .position(|r| r.contains(&text))
            .unwrap_or_else(|| panic!("{}", screen.contents()));
        let col = screen
            .rows(0, 80)
            .nth(row)
            .unwrap()
            .find(&dave)
            .unwrap_or_else(|| panic!("{}", screen.contents()));
        let color = screen.cell(row as u16, col as u16).unwrap().fgcolor();
        if no_color {
            assert_eq!(color, vt100::Color::Default, "NO_COLOR");
        } else {
            assert!(
                matches!(color, vt100::Color::Idx(n) if n < 16),
                "16 colours for TERM=xterm, got {color:?}"
            );
        }
    }
}

#[test]
fn the_first_screen_asks_until_an_answer_is_taken() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (far, mut input, mut output) = Far::new(&runtime, 80, 24);
    let answers = Arc::new(Mutex::new(Vec::new()));
    let seen = answers.clone();
    let terminal = TerminalInfo {
        term: "xterm".into(),
        cols: 80,
        rows: 24,
    };
    let task = runtime.spawn(async move {
        remote::first_screen(
            terminal,
            "the name ann belongs to someone else".into(),
            &mut input,
            &mut output,
            move |answer: Answer| {
                seen.lock().unwrap().push(answer.clone());
                Box::pin(async move {
                    match answer {
                        Answer::Name(n) if n == "ann" => Err(format!("{n} is taken too")),
                        Answer::Name(name) | Answer::LinkCode(name) => Ok(RemoteSignIn {
                            user: "u_1".into(),
                            name,
                            device: "d_1".into(),
                        }),
                    }
                })
            },
        )
        .await
    });
    far.wait_for("the name ann belongs to someone else");
    far.wait_for("name or link code:");
    far.send(&runtime, b"ann\r");
    far.wait_for("ann is taken too");
    far.send(&runtime, b"k7q2-x\x7fxp9m\r");
    let got = runtime
        .block_on(async { tokio::time::timeout(WAIT, task).await })
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.map(|s| s.name), Some("K7Q2-XP9M".into()));
    assert_eq!(
        *answers.lock().unwrap(),
        vec![
            Answer::Name("ann".into()),
            Answer::LinkCode("K7Q2-XP9M".into())
        ]
    );
    far.wait_until("the normal screen", |f| {
        !f.parser.lock().unwrap().screen().alternate_screen()
    });

    // Ctrl-C leaves without an answer.
    let (far, mut input, mut output) = Far::new(&runtime, 80, 24);
    let terminal = TerminalInfo {
        term: "dumb".into(),
        cols: 80,
        rows: 24,
    };
    let task = runtime.spawn(async move {
        remote::first_screen(
            terminal,
            "pick a name".into(),
            &mut input,
            &mut output,
            |_| Box::pin(async { Err("no".to_string()) }),
        )
        .await
    });
    far.wait_for("pick a name");
    far.send(&runtime, b"bo\x03");
    let got = runtime
        .block_on(async { tokio::time::timeout(WAIT, task).await })
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got, None);
}

#[test]
fn page_up_over_the_channel_pages_back_through_the_servers_history() {
    let server = Server::start_with_rate(0.0, 0);
    let url = server.url();
    let texts: Vec<String> = (0..150).map(|n| format!("old line {n:03}")).collect();
    server
        .runtime
        .block_on(raw_post_all(&url, "dave", "hist", &texts));
    let (far, _task) = start(&server, "ann", &["hist"], "xterm-256color", (80, 24));
    far.wait_for("old line 149");
    // PgUp (as xterm sends it) until the first line shows; each press is
    // one page, and older pages are asked of the server on the way.
    let deadline = Instant::now() + WAIT;
    while !far.screen().contains("old line 000") {
        assert!(
            Instant::now() < deadline,
            "never reached the first line; screen:\n{}",
            far.screen()
        );
        far.send(&server.runtime, b"\x1b[5~");
        std::thread::sleep(Duration::from_millis(100));
    }
    // End (xterm's) goes back to the newest.
    far.send(&server.runtime, b"\x1b[F");
    far.wait_for("old line 149");
}

//! The redraw economy: a new message costs few bytes on the terminal
//! (the message pane is scrolled by the terminal, not redrawn), and the
//! screen the terminal ends up with is the screen a full redraw gives:
//! checked with a terminal emulator (vt100) fed the bytes, after a busy
//! room, a resize and paging back.

#![allow(clippy::unwrap_used)] // a failure is a failed test

mod screen_kit;

use ratatui::Terminal;
use ratatui::layout::Size;
use screen_kit::*;
use tui_client::app::{Action, App, Event};
use tui_client::event_loop::TerminalExtras;
use tui_client::redraw::{LeanTerminal, Redraw, ShadowBackend, SharedBuffer, SharedSize};
use tui_client::ui;

const WORDS: &[&str] = &[
    "the", "deploy", "is", "done", "can", "you", "check", "logs", "after", "lunch", "I", "think",
    "we", "should", "ship", "it", "today", "tests", "pass", "on", "main", "again", "nice", "one",
    "who", "broke", "build", "coffee", "meeting", "moved", "to", "three", "thanks", "ok",
];

/// Line `n` of the run: 3 to 14 words, the same every run.
fn line(n: u64) -> String {
    let mut x = n
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = || {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x
    };
    let count = 3 + next() % 12;
    let mut words: Vec<&str> = (0..count)
        .map(|_| WORDS[(next() % WORDS.len() as u64) as usize])
        .collect();
    // Now and then wide characters, which cover two cells.
    if n % 7 == 3 {
        words.insert(1, "日本語の🦀テキスト");
    }
    words.join(" ")
}

/// A terminal drawn on as the event loop draws: an ssh session's
/// [`LeanTerminal`] (the default here) or ratatui's [`Terminal`] (a local
/// chat-tui's), both over a [`ShadowBackend`].
struct Screen<T = LeanTerminal<SharedBuffer>> {
    terminal: T,
    frames: SharedBuffer,
    size: SharedSize,
    emulator: vt100::Parser,
    written: usize,
    /// Everything written, when kept.
    bytes: Option<Vec<u8>>,
    /// The text of the last frame, as ratatui drew it.
    expected: Vec<String>,
}

fn backend(
    redraw: Redraw,
    width: u16,
    height: u16,
) -> (ShadowBackend<SharedBuffer>, SharedBuffer, SharedSize) {
    let size = SharedSize::new(Size::new(width, height));
    let frames = SharedBuffer::default();
    let backend = ShadowBackend::remote(frames.clone(), redraw, size.clone());
    (backend, frames, size)
}

impl Screen {
    fn new(redraw: Redraw, width: u16, height: u16) -> Screen {
        let (backend, frames, size) = backend(redraw, width, height);
        Screen::with(LeanTerminal::new(backend), frames, size)
    }
}

impl Screen<Terminal<ShadowBackend<SharedBuffer>>> {
    fn ratatui(redraw: Redraw, width: u16, height: u16) -> Self {
        let (backend, frames, size) = backend(redraw, width, height);
        Screen::with(Terminal::new(backend).unwrap(), frames, size)
    }
}

impl<T: tui_client::screen::Screen<Backend = ShadowBackend<SharedBuffer>>> Screen<T> {
    fn with(terminal: T, frames: SharedBuffer, size: SharedSize) -> Self {
        let Size { width, height } = size.get();
        Screen {
            terminal,
            frames,
            size,
            emulator: vt100::Parser::new(height, width, 0),
            written: 0,
            bytes: None,
            expected: Vec::new(),
        }
    }

    /// One frame, as the event loop draws it.
    fn draw(&mut self, app: &mut App) {
        let mut drawn = ui::Drawn::default();
        let mut expected = Vec::new();
        self.terminal
            .draw(|f| {
                drawn = ui::draw(f, app);
                expected = text_of(f.buffer_mut());
            })
            .unwrap();
        self.expected = expected;
        self.terminal.backend_mut().message_pane(drawn.pane);
        if let Some(shown) = drawn.shown {
            app.update(Event::Shown(shown), T0);
        }
        let bytes = self.frames.take();
        self.written += bytes.len();
        self.emulator.process(&bytes);
        if let Some(kept) = &mut self.bytes {
            kept.extend_from_slice(&bytes);
        }
    }

    fn resize(&mut self, app: &mut App, width: u16, height: u16) {
        self.size.set(Size::new(width, height));
        self.emulator.screen_mut().set_size(height, width);
        app.update(Event::Resize { width, height }, T0);
        self.draw(app);
    }
}

fn busy_room(width: u16, height: u16) -> App {
    let mut app = new_app(&["dev", "ops", "random"]);
    app.update(Event::Resize { width, height }, T0);
    connect(
        &mut app,
        &[
            ("dev", &["ann", "bob", "carol", "dave", "erin"]),
            ("ops", &["ann", "bob"]),
            ("random", &["ann"]),
        ],
    );
    app
}

/// Bytes per message for `count` messages arriving one frame each, after
/// the first screen; and the screen.
fn run(redraw: Redraw, width: u16, height: u16, count: u64) -> (usize, Screen, App) {
    let mut app = busy_room(width, height);
    let mut screen = Screen::new(redraw, width, height);
    screen.draw(&mut app);
    let before = screen.written;
    let from = ["bob", "carol", "dave", "erin"];
    for n in 1..=count {
        let who = from[(n % 4) as usize];
        say(&mut app, "dev", n, T0 + n as i64 * 50, who, &line(n));
        screen.draw(&mut app);
    }
    let per_message = (screen.written - before) / count as usize;
    (per_message, screen, app)
}

/// Every cell as the emulator shows it: text and attributes.
fn cells(emulator: &vt100::Parser) -> Vec<String> {
    let screen = emulator.screen();
    let (rows, cols) = screen.size();
    (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| match screen.cell(r, c) {
                    // A cell never written and a written space look the same.
                    Some(cell) => format!(
                        "{}|{:?}|{:?}|{}{}{}{}",
                        if cell.has_contents() {
                            cell.contents()
                        } else {
                            " "
                        },
                        cell.fgcolor(),
                        cell.bgcolor(),
                        u8::from(cell.bold()),
                        u8::from(cell.dim()),
                        u8::from(cell.underline()),
                        u8::from(cell.inverse()),
                    ),
                    None => "?".into(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// A frame's rows as text (a wide character once, the cells it covers not).
fn text_of(buffer: &ratatui::buffer::Buffer) -> Vec<String> {
    use unicode_width::UnicodeWidthStr;
    let area = buffer.area;
    (area.top()..area.bottom())
        .map(|y| {
            let mut row = String::new();
            let mut x = area.left();
            while x < area.right() {
                let symbol = buffer[(x, y)].symbol();
                row.push_str(symbol);
                x += u16::try_from(symbol.width().max(1)).unwrap();
            }
            row.trim_end().to_string()
        })
        .collect()
}

fn assert_same_screen(scrolled: &Screen, full: &Screen, when: &str) {
    for screen in [scrolled, full] {
        let (_, cols) = screen.emulator.screen().size();
        let shown: Vec<String> = screen
            .emulator
            .screen()
            .rows(0, cols)
            .map(|r| r.trim_end().to_string())
            .collect();
        assert_eq!(
            shown, screen.expected,
            "{when}: the terminal is not showing the frame"
        );
    }
    let (a, b) = (cells(&scrolled.emulator), cells(&full.emulator));
    for (row, (a, b)) in a.iter().zip(&b).enumerate() {
        assert_eq!(a, b, "{when}: row {row} differs from a full redraw");
    }
}

#[test]
fn a_new_message_costs_at_most_a_kilobyte_at_120x32() {
    let (scrolled, ..) = run(Redraw::Scroll, 120, 32, 200);
    let (full, ..) = run(Redraw::Full, 120, 32, 200);
    println!("120x32: {scrolled} bytes per message scrolled, {full} redrawn");
    assert!(
        scrolled <= 1024,
        "{scrolled} bytes per message at 120x32 (a full redraw takes {full})"
    );
    assert!(scrolled < full / 2, "scrolled {scrolled}, full {full}");
}

#[test]
fn the_scrolled_screen_is_the_screen_a_full_redraw_gives() {
    for (width, height) in [(80, 24), (120, 32), (200, 50)] {
        let (_, mut scrolled, mut app_s) = run(Redraw::Scroll, width, height, 60);
        let (_, mut full, mut app_f) = run(Redraw::Full, width, height, 60);
        let when = format!("{width}x{height} after 60 messages");
        assert_same_screen(&scrolled, &full, &when);

        // Paging back, a message arriving meanwhile (the view stays), and
        // back to the bottom.
        for (app, screen) in [(&mut app_s, &mut scrolled), (&mut app_f, &mut full)] {
            app.update(Event::Action(Action::PageUp), T0);
            screen.draw(app);
            say(app, "dev", 61, T0 + 61 * 50, "bob", "while you were away");
            screen.draw(app);
        }
        assert_same_screen(&scrolled, &full, &format!("{when}, paged back"));
        for (app, screen) in [(&mut app_s, &mut scrolled), (&mut app_f, &mut full)] {
            app.update(Event::Action(Action::ScrollBottom), T0);
            screen.draw(app);
            say(app, "dev", 62, T0 + 62 * 50, "carol", "welcome back");
            screen.draw(app);
        }
        assert_same_screen(&scrolled, &full, &format!("{when}, back at the bottom"));

        // A resize, then more messages.
        for (app, screen) in [(&mut app_s, &mut scrolled), (&mut app_f, &mut full)] {
            screen.resize(app, width - 7, height - 3);
            for n in 63..70 {
                say(app, "dev", n, T0 + n as i64 * 50, "dave", &line(n));
                screen.draw(app);
            }
        }
        assert_same_screen(&scrolled, &full, &format!("{when}, resized"));
    }
}

#[test]
fn an_ssh_sessions_terminal_writes_what_a_ratatui_terminal_writes() {
    // The lean terminal keeps no frames; the bytes must not change for it.
    for redraw in [Redraw::Scroll, Redraw::Full] {
        let mut app_lean = busy_room(80, 24);
        let mut app_ratatui = busy_room(80, 24);
        let mut lean = Screen::new(redraw, 80, 24);
        let mut ratatui = Screen::ratatui(redraw, 80, 24);
        lean.bytes = Some(Vec::new());
        ratatui.bytes = Some(Vec::new());
        lean.draw(&mut app_lean);
        ratatui.draw(&mut app_ratatui);
        for n in 1..=40 {
            for app in [&mut app_lean, &mut app_ratatui] {
                say(app, "dev", n, T0 + n as i64 * 50, "bob", &line(n));
                if n == 20 {
                    app.update(Event::Action(Action::PageUp), T0);
                }
                if n == 30 {
                    app.update(Event::Action(Action::ScrollBottom), T0);
                }
            }
            lean.draw(&mut app_lean);
            ratatui.draw(&mut app_ratatui);
        }
        assert_eq!(lean.expected, ratatui.expected);
        assert!(
            lean.bytes == ratatui.bytes,
            "{redraw:?}: {} bytes written by the lean terminal, {} by ratatui's",
            lean.written,
            ratatui.written
        );
    }
}

/// The table for the README and the report: bytes per message at three
/// sizes, scrolled and redrawn. `cargo test -p tui-client --test redraw
/// -- --ignored --nocapture bytes_per_message_table`
#[test]
#[ignore = "prints a table"]
fn bytes_per_message_table() {
    println!("| terminal size | full redraw | scrolling region |");
    println!("| --- | ---: | ---: |");
    for (w, h) in [(80, 24), (120, 32), (200, 50)] {
        let (scrolled, ..) = run(Redraw::Scroll, w, h, 200);
        let (full, ..) = run(Redraw::Full, w, h, 200);
        println!("| {w}x{h} | {full} | {scrolled} |");
    }
}

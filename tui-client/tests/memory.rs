//! What an idle ssh session's screen costs in memory: the terminal an ssh
//! session draws on ([`LeanTerminal`] over a [`ShadowBackend`]) and the
//! app it shows, counted by dhat's allocator. A server holds one of each
//! for every ssh session, idle for most of their lives, so these are
//! budgets, checked to the byte.
//!
//! dhat counts every allocation of the process: this file holds one test,
//! so nothing runs beside it.

#![allow(clippy::unwrap_used)] // a failure is a failed test

mod screen_kit;

use ratatui::layout::Size;
use screen_kit::*;
use tui_client::app::{App, Event};
use tui_client::event_loop::TerminalExtras;
use tui_client::redraw::{LeanTerminal, Redraw, ShadowBackend, SharedBuffer, SharedSize};
use tui_client::ui;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Bytes `value` holds on the heap: what dropping it gives back.
fn heap_of<T>(value: T) -> usize {
    let before = dhat::HeapStats::get().curr_bytes;
    drop(value);
    before - dhat::HeapStats::get().curr_bytes
}

/// A room with people talking, drawn at `width` x `height` on an ssh
/// session's terminal, `messages` lines after the first screen, each
/// frame handed over.
fn session(width: u16, height: u16, messages: u64) -> (App, LeanTerminal<SharedBuffer>) {
    let mut app = new_app(&["dev", "ops"]);
    app.update(Event::Resize { width, height }, T0);
    connect(
        &mut app,
        &[("dev", &["ann", "bob", "carol"]), ("ops", &["ann", "bob"])],
    );
    let size = SharedSize::new(Size::new(width, height));
    let frames = SharedBuffer::default();
    let backend = ShadowBackend::remote(frames.clone(), Redraw::Scroll, size);
    let mut terminal = LeanTerminal::new(backend);
    for n in 0..=messages {
        if n > 0 {
            let text = format!("line {n}: the deploy is done, can you check the logs");
            say(&mut app, "dev", n, T0 + n as i64 * 1000, "bob", &text);
        }
        let mut drawn = ui::Drawn::default();
        terminal.draw(|f| drawn = ui::draw(f, &app)).unwrap();
        terminal.backend_mut().message_pane(drawn.pane);
        if let Some(shown) = drawn.shown {
            app.update(Event::Shown(shown), T0);
        }
        // Handed over: the frame's bytes leave with it.
        assert!(!frames.take().is_empty());
    }
    (app, terminal)
}

#[test]
fn an_idle_ssh_screen_and_its_app_stay_within_budget() {
    let _profiler = dhat::Profiler::builder().testing().build();

    // The terminal: a copy of the screen at 8 bytes a cell and its small
    // tables. A ratatui Terminal would hold two frames of 48-byte cells
    // (about 180 KB at 80x24), and a copy as a Buffer another 90 KB.
    for (width, height, budget) in [(80, 24, 20 * 1024), (200, 50, 96 * 1024)] {
        let (app, terminal) = session(width, height, 30);
        let reported = terminal.backend().heap_bytes();
        let held = heap_of(terminal);
        println!("{width}x{height}: the terminal holds {held} bytes");
        assert!(
            held <= budget,
            "{width}x{height}: the terminal holds {held} bytes, more than {budget}"
        );
        assert!(reported <= held, "{reported} reported, {held} held");
        drop(app);
    }

    // The whole app of an ssh session at 80x24, a room with 30 lines of
    // history and two rooms' members, with its terminal: what the server
    // holds for it besides the connection.
    let (app, terminal) = session(80, 24, 30);
    let held = heap_of((app, terminal));
    println!("80x24, 30 lines: the app and its terminal hold {held} bytes");
    assert!(
        held <= 40 * 1024,
        "the app and its terminal hold {held} bytes"
    );
}

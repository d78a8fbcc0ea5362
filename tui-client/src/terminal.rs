//! Taking over the terminal and giving it back exactly as it was: on a
//! normal exit, on Ctrl-C, on a fatal error and on a panic.

use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;

use crate::redraw::{Redraw, ShadowBackend};

/// Whether the terminal is currently in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Raw mode, alternate screen, bracketed paste; restores itself on drop.
#[derive(Debug)]
pub struct TerminalGuard {
    pub terminal: Terminal<ShadowBackend<Stdout>>,
}

impl TerminalGuard {
    pub fn enter(redraw: Redraw) -> io::Result<Self> {
        install_panic_hook();
        terminal::enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen, EnableBracketedPaste) {
            restore();
            return Err(e);
        }
        match Terminal::new(ShadowBackend::terminal(io::stdout(), redraw)) {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back; safe to call more than once.
pub fn restore() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut stdout = io::stdout();
        let _ = execute!(
            stdout,
            DisableBracketedPaste,
            LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
    }
}

fn install_panic_hook() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // Restore first, so the message lands on the normal screen.
        restore();
        previous(info);
    }));
}

/// Terminal events as a stream, read by a thread of their own.
///
/// The thread blocks in the terminal read and hands each event over a
/// bounded channel, so the async side sleeps until a key arrives and can
/// take everything that is already queued in one go (a paste or a burst of
/// typing is drawn once, not once per key).
pub fn input_events() -> impl futures::Stream<Item = io::Result<crossterm::event::Event>> + Unpin {
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let spawned = std::thread::Builder::new()
        .name("terminal-input".into())
        .spawn(move || {
            loop {
                let event = crossterm::event::read();
                let failed = event.is_err();
                // Stops when the loop is gone or the terminal failed.
                if tx.blocking_send(event).is_err() || failed {
                    break;
                }
            }
        });
    let mut spawn_error = spawned.err();
    futures::stream::poll_fn(move |cx| match spawn_error.take() {
        Some(e) => std::task::Poll::Ready(Some(Err(e))),
        None => rx.poll_recv(cx),
    })
}

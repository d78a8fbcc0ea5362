//! The two directions of the ssh channel as the event loop sees them: a
//! stream of terminal events (decoded bytes and window changes) and a
//! [`Pacer`] that hands each drawn frame to the [`Output`].

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use crossterm::event::Event as TermEvent;
use futures::Stream;
use futures::future::BoxFuture;
use ratatui::layout::Size;
use tokio::sync::mpsc;

use super::input::Decoder;
use super::{Incoming, Output};
use crate::event_loop::{LoopError, Pacer};
use crate::redraw::{ShadowBackend, SharedBuffer, SharedSize};

/// The largest screen drawn, whatever the client says (a frame's memory is
/// proportional to it).
pub const MAX_COLS: u16 = 500;
pub const MAX_ROWS: u16 = 200;

/// Switches the other terminal to the alternate screen with bracketed
/// paste, from a clean state (the first bytes of [`super::run`] and
/// [`super::first_screen`]).
pub const ENTER: &[u8] = b"\x1b[?1049h\x1b[?2004h\x1b[0m\x1b[r\x1b[H\x1b[2J";
/// Puts it back: paste mode off, attributes and scrolling region reset, the
/// cursor shown, the normal screen back (their last bytes; harmless when
/// written twice).
pub const LEAVE: &[u8] = b"\x1b[?2004l\x1b[0m\x1b[r\x1b[?25h\x1b[?1049l";

/// A size within bounds (never zero).
pub fn bounded(cols: u16, rows: u16) -> Size {
    Size::new(cols.clamp(1, MAX_COLS), rows.clamp(1, MAX_ROWS))
}

/// What the channel brought in, as terminal events; ends when it closes.
#[derive(Debug)]
pub struct Keys<'a> {
    input: &'a mut mpsc::Receiver<Incoming>,
    decoder: Decoder,
    pending: VecDeque<TermEvent>,
    size: SharedSize,
    /// The channel closed (rather than the person quitting).
    pub closed: bool,
}

impl<'a> Keys<'a> {
    pub fn new(input: &'a mut mpsc::Receiver<Incoming>, size: SharedSize) -> Self {
        Keys {
            input,
            decoder: Decoder::new(),
            pending: VecDeque::new(),
            size,
            closed: false,
        }
    }
}

impl Stream for Keys<'_> {
    type Item = io::Result<TermEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        // Bounded: each turn takes one message off the channel.
        loop {
            if let Some(event) = this.pending.pop_front() {
                return Poll::Ready(Some(Ok(event)));
            }
            if this.closed {
                return Poll::Ready(None);
            }
            match std::task::ready!(this.input.poll_recv(cx)) {
                Some(Incoming::Data(bytes)) => this.pending.extend(this.decoder.feed(&bytes)),
                Some(Incoming::Resize { cols, rows }) => {
                    let size = bounded(cols, rows);
                    this.size.set(size);
                    this.pending
                        .push_back(TermEvent::Resize(size.width, size.height));
                }
                Some(Incoming::Closed) | None => this.closed = true,
            }
        }
    }
}

/// The backend of a remote terminal: frames are written into a buffer.
pub type RemoteBackend = ShadowBackend<SharedBuffer>;

/// Hands each frame drawn into the buffer to the output.
#[derive(Debug)]
pub struct FramePacer<'a, O> {
    pub output: &'a mut O,
    pub frames: SharedBuffer,
}

impl<O: Output> Pacer<RemoteBackend> for FramePacer<'_, O> {
    fn ready(&mut self) -> BoxFuture<'_, Result<(), LoopError>> {
        let ready = self.output.ready();
        Box::pin(async move { ready.await.map_err(LoopError::from) })
    }

    fn hand_over(&mut self, _: &mut RemoteBackend) -> Result<(), LoopError> {
        let frame = self.frames.take();
        if frame.is_empty() {
            return Ok(());
        }
        self.output.send(frame).map_err(LoopError::from)
    }
}

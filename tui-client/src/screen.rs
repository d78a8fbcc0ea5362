//! What the event loop draws on: ratatui's [`Terminal`] (a local
//! terminal, the tests' `TestBackend`), or a [`LeanTerminal`] (an ssh
//! session's, which keeps no frames between draws).

use std::io::Write;

use ratatui::backend::Backend;
use ratatui::layout::Size;
use ratatui::{Frame, Terminal};

use crate::event_loop::{LoopError, TerminalExtras};
use crate::redraw::{LeanTerminal, ShadowBackend};

/// A screen the event loop draws frames on.
pub trait Screen {
    type Backend: TerminalExtras;
    fn size(&self) -> Result<Size, LoopError>;
    /// One frame, drawn by `render`, on the terminal.
    fn draw(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> Result<(), LoopError>;
    /// Clears the terminal: the next frame is drawn in full.
    fn clear(&mut self) -> Result<(), LoopError>;
    fn backend_mut(&mut self) -> &mut Self::Backend;
}

impl<B> Screen for Terminal<B>
where
    B: Backend + TerminalExtras,
    B::Error: Send + Sync + 'static,
{
    type Backend = B;

    fn size(&self) -> Result<Size, LoopError> {
        Ok(Terminal::size(self)?)
    }

    fn draw(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> Result<(), LoopError> {
        Terminal::draw(self, render)?;
        Ok(())
    }

    fn clear(&mut self) -> Result<(), LoopError> {
        Ok(Terminal::clear(self)?)
    }

    fn backend_mut(&mut self) -> &mut B {
        Terminal::backend_mut(self)
    }
}

impl<W: Write> Screen for LeanTerminal<W> {
    type Backend = ShadowBackend<W>;

    fn size(&self) -> Result<Size, LoopError> {
        Ok(LeanTerminal::size(self)?)
    }

    fn draw(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> Result<(), LoopError> {
        Ok(LeanTerminal::draw(self, render)?)
    }

    fn clear(&mut self) -> Result<(), LoopError> {
        Ok(LeanTerminal::clear(self)?)
    }

    fn backend_mut(&mut self) -> &mut ShadowBackend<W> {
        LeanTerminal::backend_mut(self)
    }
}

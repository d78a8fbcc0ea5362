//! A terminal that keeps no frames between draws: what an ssh session
//! draws on.
//!
//! ratatui's [`Terminal`] keeps two [`Buffer`](ratatui::buffer::Buffer)s
//! for good, the last frame and the next, about 90 KB each at 80x24, to
//! diff one against the other. [`ShadowBackend`] already keeps what the
//! terminal shows (packed), so [`LeanTerminal`] draws each frame into a
//! ratatui terminal made for that draw (over [`Scratch`], a backend that
//! writes nothing) and hands the whole frame to
//! [`ShadowBackend::present`]; then the scratch terminal and its buffers
//! are gone. Between frames an idle session holds only the packed copy.

use std::io::{self, Write};

use ratatui::backend::{Backend, ClearType, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Rect, Size};
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};

use super::ShadowBackend;

/// Draws frames on a [`ShadowBackend`], keeping none of them; the same
/// bytes on the terminal as a ratatui [`Terminal`] over it.
#[derive(Debug)]
pub struct LeanTerminal<W: Write> {
    backend: ShadowBackend<W>,
    /// The size of the last frame (none drawn yet: none).
    area: Option<Rect>,
}

impl<W: Write> LeanTerminal<W> {
    pub fn new(backend: ShadowBackend<W>) -> Self {
        LeanTerminal {
            backend,
            area: None,
        }
    }

    pub fn backend(&self) -> &ShadowBackend<W> {
        &self.backend
    }

    pub fn backend_mut(&mut self) -> &mut ShadowBackend<W> {
        &mut self.backend
    }

    pub fn size(&self) -> io::Result<Size> {
        self.backend.size()
    }

    /// Draws one frame with `render`, as [`Terminal::draw`] does: a new
    /// size clears the screen first; the cells that differ from what the
    /// terminal shows are written; the cursor is shown where the frame put
    /// it, else hidden.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame<'_>)) -> io::Result<()> {
        let area = Rect::from((Position::ORIGIN, self.backend.size()?));
        if self.area.is_some_and(|last| last != area) {
            self.backend.clear()?;
        }
        self.area = Some(area);
        let mut scratch = Terminal::with_options(
            Scratch::default(),
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )?;
        let frame = scratch.draw(render)?;
        self.backend.present(frame.buffer)?;
        match scratch.backend().cursor {
            None => self.backend.hide_cursor()?,
            Some(position) => {
                self.backend.show_cursor()?;
                self.backend.set_cursor_position(position)?;
            }
        }
        Backend::flush(&mut self.backend)
    }

    /// Clears the screen; the next frame is written in full.
    pub fn clear(&mut self) -> io::Result<()> {
        let cursor = self.backend.get_cursor_position()?;
        self.backend.clear()?;
        self.backend.set_cursor_position(cursor)
    }
}

/// The backend of the terminal a frame is drawn on: it keeps where the
/// frame wants the cursor and writes nothing.
#[derive(Debug, Default)]
struct Scratch {
    cursor: Option<Position>,
}

impl Backend for Scratch {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, _: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.cursor = None;
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor.unwrap_or_default())
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor = Some(position.into());
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        Ok(())
    }

    fn clear_region(&mut self, _: ClearType) -> io::Result<()> {
        Ok(())
    }

    /// Never asked: the viewport is fixed.
    fn size(&self) -> io::Result<Size> {
        Ok(Size::default())
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: Size::default(),
            pixels: Size::default(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

//! The ratatui backend both terminals are drawn with (the local one and an
//! ssh session's): crossterm's, plus a copy of what the terminal shows, so
//! a new message does not cost a redraw of the whole message pane.
//!
//! ratatui diffs each frame against the last and hands over the cells that
//! changed. When a new message arrives every line of the pane moves up,
//! so every cell of the pane "changed" (3 to 5 KB written per message on
//! an ordinary terminal). [`ShadowBackend`] looks at the frame first: when
//! the rows of the message pane are the rows it shows, moved up by `k`, it
//! has the terminal move them itself, with a scrolling region over the
//! pane's rows (DECSTBM) and `k` line feeds at its bottom, and then writes
//! only what still differs from the moved screen: the new lines and the
//! cells beside the pane that moved along (the region spans the full
//! width). Everything else goes through crossterm's backend as before.
//!
//! [`Redraw::Full`] never scrolls: the fallback for terminals without
//! scrolling regions (or where it is turned off).
//!
//! The copy is packed between frames (`redraw/packed.rs`), and an ssh session
//! draws on a [`LeanTerminal`], which keeps no frames of its own between
//! draws: a server holds one of these per ssh session, idle for most of
//! its life.

mod gaps;
mod lean;
mod packed;
mod shift;
#[cfg(test)]
mod tests;

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};

pub use lean::LeanTerminal;
use packed::Packed;

use crate::event_loop::TerminalExtras;
use crate::ui::ScreenLink;

/// How new lines in the message pane reach the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Redraw {
    /// Scroll the pane with the terminal's scrolling region, then write
    /// what still differs.
    #[default]
    Scroll,
    /// Write every cell that changed (what moved, too).
    Full,
}

impl Redraw {
    /// `Scroll` unless `scroll_region` is off or the terminal type is one
    /// known (or feared) not to have scrolling regions.
    pub fn for_terminal(term: Option<&str>, scroll_region: bool) -> Redraw {
        let term = term.unwrap_or("");
        if !scroll_region || term.is_empty() || term == "dumb" || term.starts_with("linux") {
            Redraw::Full
        } else {
            Redraw::Scroll
        }
    }
}

/// Bytes written, kept for whoever holds a clone (a frame to hand over).
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    /// Everything written since the last take.
    pub fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Where the size of the screen comes from.
#[derive(Debug, Clone)]
enum SizeFrom {
    /// This process's terminal (asked each time).
    Terminal,
    /// Told from outside (an ssh window-change request).
    Given(SharedSize),
}

/// A screen size set from one place (the input, on a window change) and
/// read in another (the backend, before each frame).
#[derive(Debug, Clone, Default)]
pub struct SharedSize(Arc<AtomicU32>);

impl SharedSize {
    pub fn new(size: Size) -> Self {
        let shared = SharedSize::default();
        shared.set(size);
        shared
    }

    pub fn set(&self, size: Size) {
        let packed = (u32::from(size.width) << 16) | u32::from(size.height);
        self.0.store(packed, Ordering::Relaxed);
    }

    pub fn get(&self) -> Size {
        let packed = self.0.load(Ordering::Relaxed);
        Size::new((packed >> 16) as u16, (packed & 0xffff) as u16)
    }
}

/// crossterm's backend over `W`, with a copy of the screen; see the module
/// documentation.
#[derive(Debug)]
pub struct ShadowBackend<W: Write> {
    out: CrosstermBackend<W>,
    size: SizeFrom,
    redraw: Redraw,
    /// What the terminal shows, as far as this backend wrote it; packed
    /// between frames (it is kept for as long as the terminal is there).
    shown: Packed,
    /// The rows that scroll: the message pane of the last frame.
    pane: Option<Rect>,
    cursor: Position,
}

impl<W: Write> ShadowBackend<W> {
    /// For this process's terminal, writing to `writer` (stdout).
    pub fn terminal(writer: W, redraw: Redraw) -> Self {
        Self::with_size(writer, redraw, SizeFrom::Terminal)
    }

    /// For a terminal elsewhere, of the size `size` says.
    pub fn remote(writer: W, redraw: Redraw, size: SharedSize) -> Self {
        Self::with_size(writer, redraw, SizeFrom::Given(size))
    }

    fn with_size(writer: W, redraw: Redraw, size: SizeFrom) -> Self {
        ShadowBackend {
            out: CrosstermBackend::new(writer),
            size,
            redraw,
            shown: Packed::default(),
            pane: None,
            cursor: Position::ORIGIN,
        }
    }

    /// Bytes this backend holds on the heap between frames (its copy of
    /// the screen; not the writer's).
    pub fn heap_bytes(&self) -> usize {
        self.shown.heap_bytes()
    }

    /// What the terminal shows, as a buffer of `area` (blank when the
    /// terminal has been cleared, resized or not written to yet).
    fn shown_buffer(&self, area: Rect) -> Buffer {
        if self.shown.area() == area {
            self.shown.unpack()
        } else {
            Buffer::empty(area)
        }
    }

    /// Makes the terminal show `next`, a whole frame of the terminal's
    /// size: scrolls the message pane when that saves bytes, then writes
    /// the cells that still differ. What [`LeanTerminal`] draws with.
    pub fn present(&mut self, next: &Buffer) -> io::Result<()> {
        let shown = self.shown_buffer(next.area);
        self.write_frame(shown, next)
    }

    fn write_frame(&mut self, mut shown: Buffer, next: &Buffer) -> io::Result<()> {
        let area = next.area;
        let pane = self
            .pane
            .filter(|p| !p.is_empty() && area.intersection(*p) == *p)
            .filter(|_| self.redraw == Redraw::Scroll);
        let mut diff = shown.diff(next);
        // Moving lines is worth a look only when more changed than a row.
        if let Some(pane) = pane.filter(|p| diff.len() > usize::from(p.width))
            && let Some(k) = shift::upward(&shown, next, pane)
        {
            self.scroll_up(&mut shown, pane, k)?;
            diff = shown.diff(next);
        }
        self.out.draw(gaps::fill(next, &diff).into_iter())?;
        self.shown = Packed::pack(next);
        Ok(())
    }

    /// Has the rows of `pane` moved up by `k`, over the full width: the
    /// terminal moves them, the copy `shown` follows.
    fn scroll_up(&mut self, shown: &mut Buffer, pane: Rect, k: u16) -> io::Result<()> {
        let (top, bottom) = (pane.top(), pane.bottom());
        // Lines scrolled in take the current background: none. The region
        // is reset at once (that also homes the cursor; every cell written
        // next is positioned).
        write!(
            self.out,
            "\x1b[0m\x1b[{};{}r\x1b[{};1H",
            top + 1,
            bottom,
            bottom
        )?;
        for _ in 0..k {
            self.out.write_all(b"\n")?;
        }
        self.out.write_all(b"\x1b[r")?;
        shift::scroll_rows(shown, top, bottom, k);
        Ok(())
    }
}

/// Writes `cell` into the copy as ratatui has it in its own buffer: the
/// cells a wide character covers are blank (ratatui never sends them).
fn put(buffer: &mut Buffer, x: u16, y: u16, cell: &Cell) {
    let Some(c) = buffer.cell_mut((x, y)) else {
        return;
    };
    *c = cell.clone();
    let width = unicode_width::UnicodeWidthStr::width(cell.symbol());
    for i in 1..width {
        let Some(covered) = u16::try_from(i).ok().and_then(|i| x.checked_add(i)) else {
            break;
        };
        match buffer.cell_mut((covered, y)) {
            Some(c) => {
                c.reset();
            }
            None => break,
        }
    }
}

impl<W: Write> Backend for ShadowBackend<W> {
    type Error = io::Error;

    /// The changes ratatui's [`ratatui::Terminal`] found, applied to the
    /// copy: that is the frame, presented like a whole one.
    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let area = Rect::from((Position::ORIGIN, self.size()?));
        let shown = self.shown_buffer(area);
        let mut next = shown.clone();
        for (x, y, cell) in content {
            put(&mut next, x, y, cell);
        }
        self.write_frame(shown, &next)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.out.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.out.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor = position.into();
        self.out.set_cursor_position(self.cursor)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.out.clear()?;
        self.shown = Packed::default();
        Ok(())
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        match clear_type {
            ClearType::All => self.clear(),
            other => {
                // Not used by the app; the copy is no longer known, so the
                // next frame is written in full.
                self.out.clear_region(other)?;
                self.shown = Packed::default();
                Ok(())
            }
        }
    }

    fn size(&self) -> io::Result<Size> {
        match &self.size {
            SizeFrom::Terminal => self.out.size(),
            SizeFrom::Given(size) => Ok(size.get()),
        }
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        match &self.size {
            SizeFrom::Terminal => self.out.window_size(),
            SizeFrom::Given(size) => Ok(WindowSize {
                columns_rows: size.get(),
                pixels: Size::default(),
            }),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.out)
    }
}

impl<W: Write> TerminalExtras for ShadowBackend<W> {
    fn bell(&mut self) -> io::Result<()> {
        self.out.bell()
    }

    fn paint_links(
        &mut self,
        links: &[ScreenLink],
        color: bool,
        cursor: Option<Position>,
    ) -> io::Result<()> {
        self.out.paint_links(links, color, cursor)
    }

    fn message_pane(&mut self, pane: Rect) {
        self.pane = Some(pane);
    }
}

//! The copy of what the terminal shows, kept small between frames.
//!
//! ratatui's [`Cell`] is 48 bytes (a small-string symbol, three colours,
//! the modifiers and diff options), so a copy of an 80x24 screen as a
//! [`Buffer`] holds about 90 KB. An ssh session keeps this copy for as
//! long as the person is connected, mostly idle; thousands of sessions
//! hold thousands of copies. Packed, a cell is its symbol (one character,
//! or an index into a table of the longer graphemes) and an index into a
//! table of the looks (colours, modifiers, diff options) on screen: 8 bytes,
//! a few KB for the whole screen. It is unpacked into a [`Buffer`] only for
//! the moment a frame is compared with it.

use ratatui::buffer::{Buffer, Cell, CellDiffOption};
use ratatui::layout::Rect;
use ratatui::style::Style;

/// Symbols at or above this are indices into [`Packed::long`]: it is past
/// every `char`.
const LONG: u32 = 0x11_0000;

/// One cell: a symbol and a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PackedCell {
    symbol: u32,
    look: u16,
}

/// Everything of a [`Cell`] but its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Look {
    style: Style,
    diff_option: CellDiffOption,
    skip: bool,
}

impl Look {
    #[allow(deprecated)] // `skip` is still part of what makes two cells equal
    fn of(cell: &Cell) -> Look {
        Look {
            style: cell.style(),
            diff_option: cell.diff_option,
            skip: cell.skip,
        }
    }

    #[allow(deprecated)]
    fn cell(&self) -> Cell {
        let mut cell = Cell::EMPTY;
        cell.set_style(self.style);
        cell.diff_option = self.diff_option;
        cell.skip = self.skip;
        cell
    }
}

/// A screen, packed; see the module documentation.
#[derive(Debug, Default)]
pub struct Packed {
    area: Rect,
    cells: Vec<PackedCell>,
    /// The looks on screen, [`Cell::EMPTY`]'s first.
    looks: Vec<Look>,
    /// Symbols of more (or fewer) than one character.
    long: Vec<Box<str>>,
}

impl Packed {
    /// What `buffer` shows. The tables are made anew for each screen, so
    /// they hold only what is on it.
    pub fn pack(buffer: &Buffer) -> Packed {
        let mut packed = Packed {
            area: buffer.area,
            cells: Vec::with_capacity(buffer.content.len()),
            looks: vec![Look::of(&Cell::EMPTY)],
            long: Vec::new(),
        };
        // Neighbouring cells mostly look alike: the last look found is
        // tried first, the table (a handful of entries) only on a change.
        let mut last = 0u16;
        for cell in &buffer.content {
            let look = Look::of(cell);
            if packed.looks[usize::from(last)] != look {
                last = packed.look_index(look);
            }
            let symbol = packed.symbol(cell.symbol());
            packed.cells.push(PackedCell { symbol, look: last });
        }
        packed
    }

    fn look_index(&mut self, look: Look) -> u16 {
        let found = self.looks.iter().position(|l| *l == look);
        let index = found.unwrap_or_else(|| {
            self.looks.push(look);
            self.looks.len() - 1
        });
        // More looks than cells cannot be; a screen has at most 100,000
        // cells (500x200), so fall back to the empty look past u16.
        u16::try_from(index).unwrap_or(0)
    }

    fn symbol(&mut self, symbol: &str) -> u32 {
        let mut chars = symbol.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return u32::from(c);
        }
        let index = match self.long.iter().position(|l| **l == *symbol) {
            Some(index) => index,
            None => {
                self.long.push(symbol.into());
                self.long.len() - 1
            }
        };
        LONG + u32::try_from(index).unwrap_or(0)
    }

    pub fn area(&self) -> Rect {
        self.area
    }

    /// The screen as a [`Buffer`] again, cell for cell equal to the one
    /// packed.
    pub fn unpack(&self) -> Buffer {
        let mut buffer = Buffer::empty(self.area);
        let looks: Vec<Cell> = self.looks.iter().map(Look::cell).collect();
        for (out, cell) in buffer.content.iter_mut().zip(&self.cells) {
            let Some(look) = looks.get(usize::from(cell.look)) else {
                continue;
            };
            out.clone_from(look);
            match cell.symbol.checked_sub(LONG) {
                None => {
                    if let Some(c) = char::from_u32(cell.symbol)
                        && c != ' '
                    {
                        out.set_char(c);
                    }
                }
                Some(index) => {
                    let long = usize::try_from(index).ok().and_then(|i| self.long.get(i));
                    if let Some(symbol) = long {
                        out.set_symbol(symbol);
                    }
                }
            }
        }
        buffer
    }

    /// Bytes held on the heap (the budget the tests check).
    pub fn heap_bytes(&self) -> usize {
        self.cells.capacity() * size_of::<PackedCell>()
            + self.looks.capacity() * size_of::<Look>()
            + self.long.capacity() * size_of::<Box<str>>()
            + self.long.iter().map(|l| l.len()).sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Modifier};

    use super::*;

    #[test]
    fn a_screen_unpacks_to_what_was_packed() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 30, 4));
        buffer.set_string(0, 0, "plain text", Style::default());
        buffer.set_string(
            2,
            1,
            "red on blue",
            Style::default().fg(Color::Red).bg(Color::Blue).bold(),
        );
        buffer.set_string(0, 2, "日本語 🦀 e\u{301} 👨‍👩‍👧", Style::default().italic());
        buffer.set_string(
            0,
            3,
            "256",
            Style::default()
                .fg(Color::Indexed(208))
                .add_modifier(Modifier::UNDERLINED | Modifier::REVERSED),
        );
        buffer[(29, 3)].set_diff_option(CellDiffOption::AlwaysUpdate);
        let packed = Packed::pack(&buffer);
        assert_eq!(packed.unpack(), buffer);
        assert_eq!(packed.area(), buffer.area);
    }

    #[test]
    fn a_packed_screen_is_a_fraction_of_a_buffer() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 80, 24));
        for y in 0..24 {
            let style = if y % 2 == 0 {
                Style::default().fg(Color::Green)
            } else {
                Style::default().dim()
            };
            buffer.set_string(0, y, format!("{y:>3} some words on a row"), style);
        }
        let packed = Packed::pack(&buffer);
        let buffer_bytes = buffer.content.capacity() * size_of::<Cell>();
        // 8 bytes a cell, and small tables.
        assert!(
            packed.heap_bytes() <= 80 * 24 * 8 + 512,
            "{} bytes packed",
            packed.heap_bytes()
        );
        assert!(packed.heap_bytes() * 4 < buffer_bytes);
    }
}

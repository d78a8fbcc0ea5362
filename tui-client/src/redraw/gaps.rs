//! Short runs of unchanged cells between changed ones on a row are written
//! again: moving the cursor over them (`ESC [ row ; col H`, 6 to 10 bytes)
//! costs more than a few characters. A new message's words are separated
//! by spaces the blank row already has, for example.

use ratatui::buffer::{Buffer, Cell};
use unicode_width::UnicodeWidthStr;

/// The longest run written again instead of moving over it.
const MAX_GAP: u16 = 6;

/// `changes` (in screen order) with the short gaps between them filled in
/// from `screen`, the frame being written. Only gaps of single-width cells
/// are filled: writing into the covered half of a wide character would
/// break it.
pub fn fill<'a>(screen: &'a Buffer, changes: &[(u16, u16, &'a Cell)]) -> Vec<(u16, u16, &'a Cell)> {
    let mut out = Vec::with_capacity(changes.len());
    // Where the cursor is after the last cell written: (column, row).
    let mut after: Option<(u16, u16)> = None;
    for &(x, y, cell) in changes {
        if let Some((from, row)) = after
            && row == y
            && x > from
            && x - from <= MAX_GAP
        {
            let gap = (from..x).filter_map(|gx| screen.cell((gx, y)).map(|c| (gx, c)));
            if gap.clone().count() == usize::from(x - from)
                && gap.clone().all(|(_, c)| c.symbol().width() == 1)
            {
                out.extend(gap.map(|(gx, c)| (gx, y, c)));
            }
        }
        out.push((x, y, cell));
        let width = u16::try_from(cell.symbol().width().max(1)).unwrap_or(1);
        after = Some((x.saturating_add(width), y));
    }
    out
}

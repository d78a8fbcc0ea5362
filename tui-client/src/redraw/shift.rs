//! Finding how far the message pane moved between two frames, and moving
//! the copy of the screen the way the terminal moves it.

use std::hash::BuildHasher;

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;

/// How many rows the pane's content moved up from `shown` to `next`, when
/// scrolling by that much leaves fewer cells to write than not scrolling.
///
/// Candidates are found by comparing the pane's rows (its columns only) by
/// hash; the best one is then checked cell by cell over the full width of
/// the rows, since the terminal scrolls whole rows, the columns beside the
/// pane with them.
pub fn upward(shown: &Buffer, next: &Buffer, pane: Rect) -> Option<u16> {
    let height = pane.height;
    if height < 2 {
        return None;
    }
    let before = row_hashes(shown, pane);
    let after = row_hashes(next, pane);
    let matches = |k: usize| {
        (0..usize::from(height) - k)
            .filter(|&r| after[r] == before[r + k])
            .count()
    };
    let staying = matches(0);
    let (k, moved) = (1..usize::from(height))
        .map(|k| (k, matches(k)))
        .max_by_key(|&(k, m)| (m, std::cmp::Reverse(k)))?;
    if moved <= staying {
        return None;
    }
    let k = u16::try_from(k).ok()?;
    let cost_staying = differing(shown, next, pane.top(), pane.bottom(), 0);
    // Setting the region, the line feeds and resetting it.
    let cost_moved = 24 + usize::from(k) + differing(shown, next, pane.top(), pane.bottom(), k);
    (cost_moved < cost_staying).then_some(k)
}

/// One hash per row of `pane`, over its columns.
fn row_hashes(buffer: &Buffer, pane: Rect) -> Vec<u64> {
    // Fixed keys: the hashes are only compared with each other.
    let state =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default();
    (pane.top()..pane.bottom())
        .map(|y| {
            let start = buffer.index_of(pane.left(), y);
            state.hash_one(&buffer.content[start..start + usize::from(pane.width)])
        })
        .collect()
}

/// What writing rows `top..bottom` (full width) of `next` over `shown`
/// scrolled up by `k` within those rows costs, roughly in bytes: a byte a
/// cell that differs, and a cursor move for each run of them.
fn differing(shown: &Buffer, next: &Buffer, top: u16, bottom: u16, k: u16) -> usize {
    const MOVE: usize = 8;
    let width = usize::from(shown.area.width);
    (top..bottom)
        .map(|y| {
            let new = &next.content[next.index_of(0, y)..][..width];
            let differs: Vec<bool> = if y + k < bottom {
                let old = &shown.content[shown.index_of(0, y + k)..][..width];
                new.iter().zip(old).map(|(a, b)| a != b).collect()
            } else {
                new.iter().map(|c| *c != Cell::EMPTY).collect()
            };
            let cells = differs.iter().filter(|d| **d).count();
            let runs = differs
                .iter()
                .zip(std::iter::once(&false).chain(&differs))
                .filter(|(d, before)| **d && !**before)
                .count();
            cells + MOVE * runs
        })
        .sum()
}

/// Rows `top..bottom` of `buffer` (full width) moved up by `k`; the `k`
/// rows at the bottom become blank, as on a terminal.
pub fn scroll_rows(buffer: &mut Buffer, top: u16, bottom: u16, k: u16) {
    let width = usize::from(buffer.area.width);
    let start = buffer.index_of(0, top);
    let end = buffer.index_of(0, bottom - 1) + width;
    let rows = &mut buffer.content[start..end];
    let moved = (usize::from(k) * width).min(rows.len());
    rows.rotate_left(moved);
    let blank_from = rows.len() - moved;
    rows[blank_from..].fill(Cell::EMPTY);
}

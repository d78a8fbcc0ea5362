//! Greedy word wrap of styled runs by display width, and the rows it
//! makes back into spans with the columns of their links.

use ratatui::style::Style;
use ratatui::text::Span;
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use super::{RowLink, Seg};

/// One grapheme placed on a row.
#[derive(Debug, Clone)]
pub(super) struct Cell<'s> {
    pub(super) text: &'s str,
    pub(super) width: usize,
    style: Style,
    link: Option<&'s str>,
}

/// Greedy word wrap by display width: breaks after white space when it can,
/// inside a word when the word alone is wider than the row, and at `\n`.
/// A grapheme never straddles rows, so wide characters and emoji stay whole.
pub(super) fn wrap(segs: &[Seg], width: usize) -> Vec<Vec<Cell<'_>>> {
    let width = width.max(1);
    let mut rows: Vec<Vec<Cell<'_>>> = vec![Vec::new()];
    let mut used = 0;
    // Index in the current row just after the last white space.
    let mut break_at: Option<usize> = None;
    for s in segs {
        for g in s.text.graphemes(true) {
            if g == "\n" || g == "\r\n" {
                rows.push(Vec::new());
                used = 0;
                break_at = None;
                continue;
            }
            let gw = g.width();
            if gw > width {
                continue; // a double-width character in a one-column pane
            }
            let space = g.chars().all(char::is_whitespace);
            if used + gw > width {
                if space {
                    // White space at the edge of a row is the break itself.
                    rows.push(Vec::new());
                    used = 0;
                    break_at = None;
                    continue;
                }
                // Carry the word begun after the last white space to the
                // next row, unless the word and this grapheme would overflow
                // that row too: then the word breaks here instead.
                let tail_w: usize = match (break_at, rows.last()) {
                    (Some(b), Some(r)) => r[b.min(r.len())..].iter().map(|c| c.width).sum(),
                    _ => 0,
                };
                let tail = match break_at {
                    Some(b) if b > 0 && tail_w + gw <= width => {
                        rows.last_mut().map(|r| r.split_off(b)).unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                used = tail.iter().map(|c| c.width).sum();
                rows.push(tail);
                break_at = None;
            }
            if let Some(row) = rows.last_mut() {
                row.push(Cell {
                    text: g,
                    width: gw,
                    style: s.style,
                    link: s.link.as_deref(),
                });
                used += gw;
                if space {
                    break_at = Some(row.len());
                }
            }
        }
    }
    rows
}

/// Joins cells of equal style into spans and collects link positions
/// (columns relative to the start of the text).
pub(super) fn cells_to_spans(cells: Vec<Cell<'_>>) -> (Vec<Span<'static>>, Vec<RowLink>) {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut links: Vec<RowLink> = Vec::new();
    let mut text = String::new();
    let mut style: Option<Style> = None;
    let mut column = 0u16;
    let mut prev_link: Option<&str> = None;
    for c in cells {
        if style != Some(c.style) {
            if let Some(st) = style {
                spans.push(Span::styled(std::mem::take(&mut text), st));
            }
            style = Some(c.style);
        }
        text.push_str(c.text);
        match (c.link, prev_link) {
            (Some(url), Some(prev)) if url == prev => {
                if let Some(l) = links.last_mut() {
                    l.text.push_str(c.text);
                }
            }
            (Some(url), _) => links.push(RowLink {
                column,
                text: c.text.to_string(),
                url: url.to_string(),
            }),
            (None, _) => {}
        }
        prev_link = c.link;
        column += c.width as u16;
    }
    if let Some(st) = style {
        spans.push(Span::styled(text, st));
    }
    (spans, links)
}

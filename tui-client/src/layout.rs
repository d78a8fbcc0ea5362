//! Turning room history into screen rows: timestamps, the name column,
//! date separators, mention highlighting, map links, and wrapping by
//! display width.
//!
//! Pure functions of the entries, the pane width and the display
//! preferences, used by the renderer only: the app core keeps its view
//! anchored to entries and never counts rows.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::app::entries::{Delivery, Entry, EntryKind};
use crate::config::Clock;
use crate::theme::Theme;
use crate::zone::Zone;

/// Everything about how history looks that is not the history itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Format<'a> {
    pub clock: Clock,
    pub zone: Zone,
    pub theme: Theme,
    /// Your own name, highlighted where others write it.
    pub me: &'a str,
}

/// A place on a row that should be a clickable link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLink {
    pub column: u16,
    pub text: String,
    pub url: String,
}

/// One screen row of the message pane.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: Line<'static>,
    pub links: Vec<RowLink>,
}

/// A styled run of text that may be a link.
#[derive(Debug, Clone)]
struct Seg {
    text: String,
    style: Style,
    link: Option<String>,
}

fn seg(text: impl Into<String>, style: Style) -> Seg {
    Seg {
        text: text.into(),
        style,
        link: None,
    }
}

const NAME_COLUMN_WIDE: usize = 12;
const NAME_COLUMN_NARROW: usize = 8;
const SEPARATOR: &str = " │ ";
/// Panes narrower than this drop the name column.
const COMPACT_BELOW: usize = 50;

impl Format<'_> {
    fn time_width(&self) -> usize {
        match self.clock {
            Clock::H12 => 8,
            Clock::H24 => 5,
        }
    }

    fn name_width(&self, pane_width: usize) -> usize {
        if pane_width >= 70 {
            NAME_COLUMN_WIDE
        } else {
            NAME_COLUMN_NARROW
        }
    }

    /// Columns before the text starts.
    fn prefix_width(&self, pane_width: usize) -> usize {
        self.time_width() + 1 + self.name_width(pane_width) + SEPARATOR.width()
    }

    pub fn time(&self, ts_ms: i64) -> String {
        let Some(dt) = self.zone.datetime(ts_ms) else {
            return "--:--".into();
        };
        match self.clock {
            Clock::H12 => dt.format("%-I:%M %p").to_string(),
            Clock::H24 => dt.format("%H:%M").to_string(),
        }
    }
}

/// Rows for entry `index` of `entries`, starting with a date separator when
/// the day changed since the entry before it (or it is the first).
pub fn entry_rows(entries: &[Entry], index: usize, width: usize, fmt: &Format<'_>) -> Vec<Row> {
    let Some(entry) = entries.get(index) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    let day = fmt.zone.date(entry.ts);
    let prev_day = index
        .checked_sub(1)
        .and_then(|i| entries.get(i))
        .and_then(|e| fmt.zone.date(e.ts));
    if let Some(day) = day
        && (index == 0 || prev_day != Some(day))
    {
        rows.push(rule(&day.format("%A, %-d %B %Y").to_string(), width, fmt));
    }
    rows.extend(body_rows(entry, width, fmt));
    rows
}

/// The row above the oldest entry held while the server has older ones:
/// that PgUp loads them, or that they are on their way.
pub fn older_row(loading: bool, width: usize, fmt: &Format<'_>) -> Row {
    let label = if loading {
        "loading older messages…"
    } else {
        "PgUp loads older messages"
    };
    rule(label, width, fmt)
}

/// A centred label on a dim horizontal rule.
fn rule(label: &str, width: usize, fmt: &Format<'_>) -> Row {
    let mut label = format!(" {label} ");
    if label.width() > width {
        // A pane narrower than the label: cut it (with `+`) rather than
        // leave it to be clipped mid-character.
        label = fit_right(&label, width);
    }
    let label_w = label.width();
    let left = width.saturating_sub(label_w) / 2;
    let right = width.saturating_sub(label_w + left);
    let style = fmt.theme.separator();
    Row {
        line: Line::from(vec![
            Span::styled("─".repeat(left), style),
            Span::styled(label, style),
            Span::styled("─".repeat(right), style),
        ]),
        links: Vec::new(),
    }
}

fn body_rows(entry: &Entry, width: usize, fmt: &Format<'_>) -> Vec<Row> {
    let theme = fmt.theme;
    let (name_col, name_style, segs): (String, Style, Vec<Seg>) = match &entry.kind {
        EntryKind::Message {
            from,
            text,
            action: false,
            mention,
        } => (
            from.clone(),
            theme.nick(from),
            text_segs(text, *mention, fmt),
        ),
        EntryKind::Message {
            from,
            text,
            action: true,
            mention,
        } => {
            let mut segs = vec![
                seg(from.clone(), theme.nick(from)),
                seg(" ", Style::default()),
            ];
            segs.extend(text_segs(text, *mention, fmt));
            ("*".into(), Style::default(), segs)
        }
        EntryKind::Location {
            from,
            latitude,
            longitude,
        } => {
            let url = protocol::maps::openstreetmap_url(*latitude, *longitude);
            let segs = vec![
                seg(
                    format!("shared a location: {latitude:.6}, {longitude:.6}\n"),
                    Style::default(),
                ),
                Seg {
                    text: url.clone(),
                    style: theme.link(),
                    link: Some(url),
                },
            ];
            (from.clone(), theme.nick(from), segs)
        }
        EntryKind::Joined(text) => (
            "-->".into(),
            theme.system(),
            vec![seg(text.clone(), theme.system())],
        ),
        EntryKind::Left(text) => (
            "<--".into(),
            theme.system(),
            vec![seg(text.clone(), theme.system())],
        ),
        EntryKind::Notice(text) => (
            "--".into(),
            theme.system(),
            vec![seg(text.clone(), theme.system())],
        ),
        EntryKind::Error(text) => (
            "!!".into(),
            theme.error(),
            vec![seg(text.clone(), theme.error())],
        ),
        EntryKind::Rule(label) => return vec![rule(label, width, fmt)],
    };
    let mut segs = segs;
    match &entry.delivery {
        Delivery::Done => {}
        Delivery::Pending => {
            for s in &mut segs {
                s.style = s.style.patch(theme.pending());
            }
            segs.push(seg(" … sending", theme.system()));
        }
        Delivery::Failed(reason) => {
            segs.push(seg(format!(" ✗ not sent: {reason}"), theme.error()));
        }
    }

    if width < COMPACT_BELOW {
        return compact_rows(entry, &name_col, name_style, segs, width, fmt);
    }
    let name_w = fmt.name_width(width);
    let prefix_w = fmt.prefix_width(width);
    let text_w = width.saturating_sub(prefix_w).max(1);
    let time = format!("{:>w$}", fmt.time(entry.ts), w = fmt.time_width());
    let name = fit_right(&name_col, name_w);
    let blank = " ".repeat(prefix_w.saturating_sub(SEPARATOR.width()));

    wrap(&segs, text_w)
        .into_iter()
        .enumerate()
        .map(|(i, cells)| {
            let mut spans = if i == 0 {
                vec![
                    Span::styled(time.clone(), theme.timestamp()),
                    Span::raw(" "),
                    Span::styled(name.clone(), name_style),
                ]
            } else {
                vec![Span::raw(blank.clone())]
            };
            spans.push(Span::styled(SEPARATOR, theme.border()));
            finish_row(spans, cells, prefix_w)
        })
        .collect()
}

/// Narrow panes: no name column; the name starts the text (`bob: hi`).
fn compact_rows(
    entry: &Entry,
    name_col: &str,
    name_style: Style,
    segs: Vec<Seg>,
    width: usize,
    fmt: &Format<'_>,
) -> Vec<Row> {
    let theme = fmt.theme;
    let prefix_w = fmt.time_width() + 1;
    let text_w = width.saturating_sub(prefix_w).max(1);
    let name = match entry.kind {
        EntryKind::Message { action: false, .. } | EntryKind::Location { .. } => {
            format!("{name_col}:")
        }
        _ => name_col.to_string(),
    };
    let mut all = vec![seg(name, name_style), seg(" ", Style::default())];
    all.extend(segs);
    let time = format!("{:>w$} ", fmt.time(entry.ts), w = fmt.time_width());
    let blank = " ".repeat(prefix_w);
    wrap(&all, text_w)
        .into_iter()
        .enumerate()
        .map(|(i, cells)| {
            let lead = if i == 0 {
                Span::styled(time.clone(), theme.timestamp())
            } else {
                Span::raw(blank.clone())
            };
            finish_row(vec![lead], cells, prefix_w)
        })
        .collect()
}

fn finish_row(mut spans: Vec<Span<'static>>, cells: Vec<Cell<'_>>, prefix_w: usize) -> Row {
    let (text_spans, mut links) = cells_to_spans(cells);
    for l in &mut links {
        l.column += prefix_w as u16;
    }
    spans.extend(text_spans);
    Row {
        line: Line::from(spans),
        links,
    }
}

/// Right-aligns a name in `width` columns, cutting long names with `+`.
fn fit_right(name: &str, width: usize) -> String {
    let w = name.width();
    if w <= width {
        return format!("{}{name}", " ".repeat(width - w));
    }
    let mut out = String::new();
    let mut used = 0;
    for g in name.graphemes(true) {
        let gw = g.width();
        if used + gw + 1 > width {
            break;
        }
        out.push_str(g);
        used += gw;
    }
    out.push('+');
    format!("{}{out}", " ".repeat(width.saturating_sub(used + 1)))
}

/// Splits text into plain and highlighted runs where `me` is mentioned, by
/// the protocol's one rule (an `@` before the name is highlighted with it).
fn text_segs(text: &str, mention: bool, fmt: &Format<'_>) -> Vec<Seg> {
    if !mention {
        return vec![seg(text, Style::default())];
    }
    let mut segs = Vec::new();
    let mut last = 0;
    for range in protocol::mention::mention_ranges(text, fmt.me) {
        if range.start > last {
            segs.push(seg(&text[last..range.start], Style::default()));
        }
        last = range.end;
        segs.push(seg(&text[range], fmt.theme.mention()));
    }
    if last < text.len() {
        segs.push(seg(&text[last..], Style::default()));
    }
    segs
}

/// One grapheme placed on a row.
#[derive(Debug, Clone)]
struct Cell<'s> {
    text: &'s str,
    width: usize,
    style: Style,
    link: Option<&'s str>,
}

/// Greedy word wrap by display width: breaks after white space when it can,
/// inside a word when the word alone is wider than the row, and at `\n`.
/// A grapheme never straddles rows, so wide characters and emoji stay whole.
fn wrap(segs: &[Seg], width: usize) -> Vec<Vec<Cell<'_>>> {
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
fn cells_to_spans(cells: Vec<Cell<'_>>) -> (Vec<Span<'static>>, Vec<RowLink>) {
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

#[cfg(test)]
mod tests;

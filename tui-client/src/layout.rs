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
use wrap::{Cell, cells_to_spans, wrap};

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

const NAME_COLUMN: usize = 12;
const SEPARATOR: &str = " │ ";
/// Panes narrower than this drop the name column: its 20 columns are
/// worth more as text (an 80-column terminal keeps 59 for it).
const COMPACT_BELOW: usize = 72;

impl Format<'_> {
    fn time_width(&self) -> usize {
        match self.clock {
            Clock::H12 => 8,
            Clock::H24 => 5,
        }
    }

    /// Columns before the text starts (panes of the full layout).
    fn prefix_width(&self) -> usize {
        self.time_width() + 1 + NAME_COLUMN + SEPARATOR.width()
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

/// The rule where you left the room, above what came since.
/// Coloured like the marker of new messages below, not dim like the
/// date rules: it is there to be found.
pub fn read_marker_row(width: usize, fmt: &Format<'_>) -> Row {
    styled_rule(crate::app::READ_MARKER, width, fmt.theme.marker())
}

/// A centred label on a dim horizontal rule.
fn rule(label: &str, width: usize, fmt: &Format<'_>) -> Row {
    styled_rule(label, width, fmt.theme.separator())
}

fn styled_rule(label: &str, width: usize, style: Style) -> Row {
    let mut label = format!(" {label} ");
    if label.width() > width {
        // A pane narrower than the label: cut it (with `+`) rather than
        // leave it to be clipped mid-character.
        label = fit_right(&label, width);
    }
    let label_w = label.width();
    let left = width.saturating_sub(label_w) / 2;
    let right = width.saturating_sub(label_w + left);
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
        } => (
            from.clone(),
            theme.nick(from),
            location_segs(*latitude, *longitude, text_width(width, fmt), fmt),
        ),
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
    let name_w = NAME_COLUMN;
    let prefix_w = fmt.prefix_width();
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

/// Columns of text on a row of a pane `width` wide.
fn text_width(width: usize, fmt: &Format<'_>) -> usize {
    let prefix = if width < COMPACT_BELOW {
        fmt.time_width() + 1
    } else {
        fmt.prefix_width()
    };
    width.saturating_sub(prefix).max(1)
}

/// A shared location: the coordinates, then a link to each map. A link
/// shows its whole address where that fits on one row of text (so it can
/// be copied whole where terminal hyperlinks do not get through), else a
/// short label; either way it is one hyperlink, never split across rows.
fn location_segs(latitude: f64, longitude: f64, text_w: usize, fmt: &Format<'_>) -> Vec<Seg> {
    let maps = [
        (
            "openstreetmap.org",
            protocol::maps::openstreetmap_url(latitude, longitude),
        ),
        (
            "google.com/maps",
            protocol::maps::google_maps_url(latitude, longitude),
        ),
    ];
    let mut segs = vec![seg(
        format!("shared a location: {latitude:.6}, {longitude:.6}\n"),
        Style::default(),
    )];
    for (i, (label, url)) in maps.into_iter().enumerate() {
        if i > 0 {
            segs.push(seg(" · ", fmt.theme.system()));
        }
        let text = if url.width() <= text_w {
            url.clone()
        } else {
            label.to_string()
        };
        segs.push(Seg {
            text,
            style: fmt.theme.link(),
            link: Some(url),
        });
    }
    segs
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

mod wrap;

#[cfg(test)]
mod tests;

//! Turning room history into screen rows: timestamps, the name column,
//! date separators, mention highlighting, map links, and wrapping by
//! display width.
//!
//! Pure functions of the entries, the pane width and the display
//! preferences. The renderer draws what these return, and the app uses the
//! same row counts to keep the view still while you are scrolled up.

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveDateTime, TimeZone};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::config::Clock;
use crate::theme::Theme;

/// One line of a room's history.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// UTC milliseconds (server time for network events).
    pub ts: i64,
    pub kind: EntryKind,
    pub delivery: Delivery,
    /// The request id of a message you sent from here, to match its `ack`
    /// and the server's echo of it.
    pub request: Option<String>,
}

impl Entry {
    pub fn new(ts: i64, kind: EntryKind) -> Self {
        Entry {
            ts,
            kind,
            delivery: Delivery::Done,
            request: None,
        }
    }
}

/// Where a message of yours is on its way to the server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Stored by the server (and everything that is not yours).
    #[default]
    Done,
    /// Shown at once, not confirmed yet: dim, marked "sending".
    Pending,
    /// Will not be delivered; the reason is shown with it.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    Message {
        from: String,
        text: String,
        action: bool,
        /// The text mentions your name.
        mention: bool,
    },
    Location {
        from: String,
        latitude: f64,
        longitude: f64,
    },
    Joined(String),
    Left(String),
    /// A dim notice from the client or about the connection.
    Notice(String),
    Error(String),
    /// A dim rule across the pane with a label, e.g. between stored
    /// history and live messages.
    Rule(String),
}

/// Which clock to show times in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Local,
    /// A fixed offset, for tests and reproducible screenshots.
    Fixed(FixedOffset),
}

impl Zone {
    pub fn datetime(self, ts_ms: i64) -> Option<NaiveDateTime> {
        match self {
            Zone::Local => Local
                .timestamp_millis_opt(ts_ms)
                .earliest()
                .map(|d| d.naive_local()),
            Zone::Fixed(off) => off
                .timestamp_millis_opt(ts_ms)
                .earliest()
                .map(|d: DateTime<FixedOffset>| d.naive_local()),
        }
    }

    pub fn date(self, ts_ms: i64) -> Option<NaiveDate> {
        self.datetime(ts_ms).map(|d| d.date())
    }
}

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

/// How many rows [`entry_rows`] gives, without styling cost worth caring about.
pub fn entry_height(entries: &[Entry], index: usize, width: usize, fmt: &Format<'_>) -> usize {
    entry_rows(entries, index, width, fmt).len()
}

/// Total rows of a whole history.
pub fn total_rows(entries: &[Entry], width: usize, fmt: &Format<'_>) -> usize {
    (0..entries.len())
        .map(|i| entry_height(entries, i, width, fmt))
        .sum()
}

/// A centred label on a dim horizontal rule.
fn rule(label: &str, width: usize, fmt: &Format<'_>) -> Row {
    let label = format!(" {label} ");
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

/// Splits text into plain and highlighted runs where `me` is mentioned.
fn text_segs(text: &str, mention: bool, fmt: &Format<'_>) -> Vec<Seg> {
    if !mention {
        return vec![seg(text, Style::default())];
    }
    let mut segs = Vec::new();
    let mut last = 0;
    for (start, end) in mention_ranges(text, fmt.me) {
        if start > last {
            segs.push(seg(&text[last..start], Style::default()));
        }
        segs.push(seg(&text[start..end], fmt.theme.mention()));
        last = end;
    }
    if last < text.len() {
        segs.push(seg(&text[last..], Style::default()));
    }
    segs
}

/// Byte ranges where `name` occurs in `text` as a whole word, ignoring case.
pub fn mention_ranges(text: &str, name: &str) -> Vec<(usize, usize)> {
    let needle: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    if needle.is_empty() {
        return Vec::new();
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let before_ok = i == 0 || !is_word(chars[i - 1].1);
        let mut j = i;
        let mut k = 0;
        while before_ok && k < needle.len() && j < chars.len() {
            let lower: Vec<char> = chars[j].1.to_lowercase().collect();
            if needle[k..].starts_with(&lower) {
                k += lower.len();
                j += 1;
            } else {
                break;
            }
        }
        if before_ok && k == needle.len() && (j == chars.len() || !is_word(chars[j].1)) {
            let end = chars.get(j).map_or(text.len(), |c| c.0);
            found.push((chars[i].0, end));
            i = j;
        } else {
            i += 1;
        }
    }
    found
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
                let tail = match break_at {
                    Some(b) if b > 0 => rows.last_mut().map(|r| r.split_off(b)).unwrap_or_default(),
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
mod tests {
    use super::*;
    use crate::theme::ColorMode;

    fn fmt() -> Format<'static> {
        Format {
            clock: Clock::H12,
            zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
            theme: Theme::new(ColorMode::None),
            me: "ann",
        }
    }

    fn texts(rows: &[Vec<Cell<'_>>]) -> Vec<String> {
        rows.iter()
            .map(|r| r.iter().map(|c| c.text).collect())
            .collect()
    }

    fn plain(s: &str) -> Vec<Seg> {
        vec![seg(s, Style::default())]
    }

    #[test]
    fn wraps_at_spaces() {
        let segs = plain("the quick brown fox");
        assert_eq!(texts(&wrap(&segs, 10)), ["the quick ", "brown fox"]);
    }

    #[test]
    fn breaks_long_words() {
        let segs = plain("abcdefghij");
        assert_eq!(texts(&wrap(&segs, 4)), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wide_characters_never_straddle_rows() {
        // Each of these is two columns wide: three fit in 7 columns.
        let segs = plain("日本語日本");
        let rows = wrap(&segs, 7);
        assert_eq!(texts(&rows), ["日本語", "日本"]);
        for r in &rows {
            assert!(r.iter().map(|c| c.width).sum::<usize>() <= 7);
        }
        let segs = plain("ok 👩‍👩‍👧👍 done");
        let rows = wrap(&segs, 4);
        assert_eq!(texts(&rows), ["ok ", "👩‍👩‍👧👍", "done"]);
    }

    #[test]
    fn newlines_start_rows() {
        assert_eq!(texts(&wrap(&plain("a\nb"), 10)), ["a", "b"]);
    }

    #[test]
    fn mentions_are_whole_words_ignoring_case() {
        assert_eq!(mention_ranges("hi Ann!", "ann"), vec![(3, 6)]);
        assert_eq!(
            mention_ranges("ann: look, ANN", "ann"),
            vec![(0, 3), (11, 14)]
        );
        assert!(mention_ranges("annabel and joanne", "ann").is_empty());
        assert_eq!(mention_ranges("hé zoë", "Zoë"), vec![(4, 8)]);
    }

    #[test]
    fn twelve_and_twenty_four_hour_clocks() {
        // 2026-11-02 15:07 UTC
        let ts = 1_793_632_020_000;
        let mut f = fmt();
        assert_eq!(f.time(ts), "3:07 PM");
        f.clock = Clock::H24;
        assert_eq!(f.time(ts), "15:07");
        f.zone = Zone::Fixed(FixedOffset::east_opt(9 * 3600).unwrap());
        assert_eq!(f.time(ts), "00:07");
    }

    #[test]
    fn date_separators_when_the_day_changes() {
        let day = 86_400_000;
        let entries = vec![
            Entry::new(1_793_632_020_000, EntryKind::Notice("a".into())),
            Entry::new(1_793_632_020_000 + 60_000, EntryKind::Notice("b".into())),
            Entry::new(1_793_632_020_000 + day, EntryKind::Notice("c".into())),
        ];
        let f = fmt();
        assert_eq!(entry_height(&entries, 0, 60, &f), 2);
        assert_eq!(entry_height(&entries, 1, 60, &f), 1);
        assert_eq!(entry_height(&entries, 2, 60, &f), 2);
        assert_eq!(total_rows(&entries, 60, &f), 5);
    }

    #[test]
    fn locations_carry_a_link_on_its_own_row() {
        let entries = vec![Entry::new(
            0,
            EntryKind::Location {
                from: "bob".into(),
                latitude: 51.5007,
                longitude: -0.1246,
            },
        )];
        let rows = entry_rows(&entries, 0, 120, &fmt());
        assert_eq!(rows.len(), 3);
        let url = "https://www.openstreetmap.org/?mlat=51.500700&mlon=-0.124600#map=16/51.500700/-0.124600";
        assert_eq!(
            rows[2].links,
            vec![RowLink {
                column: 24,
                text: url.into(),
                url: url.into()
            }]
        );
        let text: String = rows[2]
            .line
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert!(text.ends_with(url), "{text}");
    }

    #[test]
    fn narrow_panes_put_the_name_inline() {
        let entries = vec![Entry::new(
            0,
            EntryKind::Message {
                from: "bob".into(),
                text: "hello there".into(),
                action: false,
                mention: false,
            },
        )];
        let rows = entry_rows(&entries, 0, 30, &fmt());
        let text: String = rows[1]
            .line
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(text, "12:00 AM bob: hello there");
    }

    #[test]
    fn long_names_are_cut_visibly() {
        assert_eq!(fit_right("bob", 5), "  bob");
        assert_eq!(fit_right("bartholomew", 5), "bart+");
    }
}

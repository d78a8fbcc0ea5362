//! Drawing the screen from the app state. Pure: reads [`App`], writes a
//! ratatui frame, and reports where the message pane and its links ended
//! up and what the pane showed of the room ([`Shown`]), which the event
//! loop hands back to the app.
//!
//! ```text
//! ┌ rooms ──┬ messages ─────────────────────────────┬ users ┐
//! │1 dev    │ 3:07 PM          ann │ hello           │ ann   │
//! │2 ops  3 │                                       │ bob   │
//! ├─────────┴───────────────────────────────────────┴───────┤
//! │ notice (only when there is one)                          │
//! │ status: connection · server · name · room · users        │
//! │ [dev] > input line with the cursor                       │
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::app::{App, ConnState, INPUT_MAX_ROWS, Scroll, Shown, truncate};
use crate::layout::{self, Format};
use crate::viewport;

/// A link as placed on the screen, for painting as an OSC 8 hyperlink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenLink {
    pub x: u16,
    pub y: u16,
    pub text: String,
    pub url: String,
}

/// What a draw produced besides the cells.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drawn {
    /// The message pane.
    pub pane: Rect,
    pub links: Vec<ScreenLink>,
    pub cursor: Option<Position>,
    /// What the message pane showed of the current room, for
    /// `App::update` as `Event::Shown` right after the draw.
    pub shown: Option<Shown>,
}

/// Narrowest message pane for which the user list is still shown (when
/// asked for with F2 on a narrow terminal).
const MIN_PANE_WITH_USERS: u16 = 40;

pub fn draw(frame: &mut Frame<'_>, app: &App) -> Drawn {
    let area = frame.area();
    let notice_rows = u16::from(app.notice.is_some());
    let input_rows = app.input_height(area.width) as u16;
    let [main, notice, status, input] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(notice_rows),
        Constraint::Length(1),
        Constraint::Length(input_rows),
    ])
    .areas(area);

    let sidebar_w = sidebar_width(app).min(area.width / 3);
    let users_w = users_width(app);
    let show_users = app.users_wanted()
        && app.current_room().is_some()
        && main.width.saturating_sub(sidebar_w + users_w) >= MIN_PANE_WITH_USERS;
    let [sidebar, messages, users] = Layout::horizontal([
        Constraint::Length(sidebar_w),
        Constraint::Min(1),
        Constraint::Length(if show_users { users_w } else { 0 }),
    ])
    .areas(main);

    draw_sidebar(frame, app, sidebar);
    let (pane, links, shown) = draw_messages(frame, app, messages);
    if show_users {
        draw_users(frame, app, users);
    }
    if let Some(n) = &app.notice {
        let theme = app.display.theme;
        let style = if n.error {
            theme.error()
        } else {
            theme.system()
        };
        frame.render_widget(Paragraph::new(Span::styled(n.text.clone(), style)), notice);
    }
    draw_status(frame, app, status);
    let cursor = draw_input(frame, app, input);
    Drawn {
        pane,
        links,
        cursor,
        shown,
    }
}

fn sidebar_width(app: &App) -> u16 {
    let longest = app
        .rooms
        .iter()
        .map(|r| r.label().width())
        .max()
        .unwrap_or(0);
    // "12 " + name + " @999" + border
    (longest + 9).clamp(12, 24) as u16
}

fn users_width(app: &App) -> u16 {
    let longest = app
        .current_room()
        .and_then(|r| {
            (r.users.iter().zip(&r.user_ids))
                .map(|(u, id)| u.width() + r.prefix_of(id).len())
                .max()
        })
        .unwrap_or(0);
    (longest + 3).clamp(12, 20) as u16
}

fn draw_sidebar(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let theme = app.display.theme;
    let inner_w = area.width.saturating_sub(1) as usize;
    let lines: Vec<Line<'_>> = app
        .rooms
        .iter()
        .enumerate()
        .map(|(i, room)| {
            let number = format!("{:>2} ", i + 1);
            let badge = match (room.unread, room.mentioned) {
                (0, _) => String::new(),
                (n, true) => format!("@{n}"),
                (n, false) => n.to_string(),
            };
            let name_room = inner_w.saturating_sub(number.width() + badge.width() + 1);
            let name = truncate(room.label(), name_room);
            let pad = inner_w.saturating_sub(number.width() + name.width() + badge.width());
            let (name_style, badge_style) = if room.mentioned {
                (theme.sidebar_mention(), theme.sidebar_mention())
            } else if room.unread > 0 {
                (theme.sidebar_unread(), theme.sidebar_unread())
            } else if !room.joined {
                (theme.system(), Style::default())
            } else if room.is_dm() {
                (theme.nick(room.label()), Style::default())
            } else {
                (Style::default(), Style::default())
            };
            let line = Line::from(vec![
                Span::styled(number, theme.timestamp()),
                Span::styled(name, name_style),
                Span::raw(" ".repeat(pad)),
                Span::styled(badge, badge_style),
            ]);
            if i == app.current {
                line.style(theme.sidebar_current())
            } else {
                line
            }
        })
        .collect();
    let block = Block::new()
        .borders(Borders::RIGHT)
        .border_style(theme.border());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// How the layout should look for this app: its clock, zone, colours and
/// your name.
fn format(app: &App) -> Format<'_> {
    Format {
        clock: app.display.clock,
        zone: app.display.zone,
        theme: app.display.theme,
        me: &app.me,
    }
}

fn draw_messages(
    frame: &mut Frame<'_>,
    app: &App,
    area: Rect,
) -> (Rect, Vec<ScreenLink>, Option<Shown>) {
    let width = area.width as usize;
    let height = area.height as usize;
    if width == 0 || height == 0 {
        return (area, Vec::new(), None);
    }
    let fmt = format(app);
    let entries = app.visible_entries();
    let room = app.current_room();
    let (scroll, new_below) = room.map_or((Scroll::Bottom, 0), |r| (r.scroll, r.new_below));
    // Above the oldest entry held, while the server has older ones.
    let older = room.filter(|r| r.more_before).map(|_| app.loading_older());
    let all = entries.as_slice();
    let marker = room.and_then(|r| r.read_marker_at());
    let view = viewport::resolve(entries, scroll, height, |i| {
        let mut rows = layout::entry_rows(&all, i, width, &fmt);
        if marker == Some(i) {
            rows.insert(0, layout::read_marker_row(width, &fmt));
        }
        if let (0, Some(loading)) = (i, older) {
            rows.insert(0, layout::older_row(loading, width, &fmt));
        }
        rows
    });
    let shown = room.map(|r| Shown {
        room: r.name.clone(),
        drawn: scroll,
        top: view.top,
        row: view.row,
        beyond: view.beyond,
    });
    let below = !view.beyond.shows_newest();
    let visible = view.rows;

    // Short histories sit at the bottom of the pane, like a chat log.
    let top_pad = height - visible.len();
    let mut links = Vec::new();
    let mut lines: Vec<Line<'static>> = vec![Line::default(); top_pad];
    for (r, row) in visible.into_iter().enumerate() {
        let y = area.y + (top_pad + r) as u16;
        for l in row.links {
            links.push(ScreenLink {
                x: area.x + l.column,
                y,
                text: l.text,
                url: l.url,
            });
        }
        lines.push(row.line);
    }
    if entries.is_empty() && app.current_room().is_some() {
        let hint = Line::styled("no messages yet", app.display.theme.system());
        if let Some(last) = lines.last_mut() {
            *last = hint;
        }
    }
    frame.render_widget(Paragraph::new(lines), area);

    if below {
        let theme = app.display.theme;
        let text = if new_below > 0 {
            format!(
                " {new_below} new message{} below · End to jump ",
                if new_below == 1 { "" } else { "s" }
            )
        } else {
            " more below · End to jump ".to_string()
        };
        // A whole row of its own, so it never mixes with message text.
        let marker = Rect {
            y: area.y + area.height - 1,
            height: 1,
            ..area
        };
        let side = (area.width as usize).saturating_sub(text.width());
        let line = Line::from(vec![
            Span::styled("─".repeat(side / 2), theme.separator()),
            Span::styled(text, theme.marker()),
            Span::styled("─".repeat(side - side / 2), theme.separator()),
        ]);
        links.retain(|l| l.y != marker.y);
        frame.render_widget(Clear, marker);
        frame.render_widget(Paragraph::new(line), marker);
    }
    (area, links, shown)
}

fn draw_users(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let theme = app.display.theme;
    let Some(room) = app.current_room() else {
        return;
    };
    // Operators first, then voiced people, then everyone else, as IRC
    // clients list them; `@` or `+` before the name.
    let mut users: Vec<(&String, bool, &str)> = room
        .users
        .iter()
        .zip(&room.user_ids)
        .map(|(name, id)| (name, app.away_reason(id).is_some(), room.prefix_of(id)))
        .collect();
    users.sort_by_key(|(u, _, prefix)| (prefix_order(prefix), u.to_lowercase()));
    let inner_w = area.width.saturating_sub(2) as usize;
    let mut lines = vec![Line::styled(
        format!("{} here", room.users.len()),
        theme.system(),
    )];
    lines.extend(users.iter().map(|(u, away, prefix)| {
        let style = if u.eq_ignore_ascii_case(&app.me) {
            theme.nick(u).add_modifier(ratatui::style::Modifier::BOLD)
        } else {
            theme.nick(u)
        };
        let inner_w = inner_w.saturating_sub(prefix.len());
        let mut spans = vec![Span::styled(*prefix, style)];
        // Away: dim, and marked in words for terminals without dim.
        if *away {
            let mark = " (away)";
            let name = truncate(u, inner_w.saturating_sub(mark.width()).max(3));
            spans.push(Span::styled(name, style.patch(theme.system())));
            spans.push(Span::styled(mark, theme.system()));
        } else {
            spans.push(Span::styled(truncate(u, inner_w), style));
        }
        Line::from(spans)
    }));
    let block = Block::new()
        .borders(Borders::LEFT)
        .border_style(theme.border());
    frame.render_widget(
        Paragraph::new(lines).block(block.padding(ratatui::widgets::Padding::left(1))),
        area,
    );
}

fn draw_status(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let theme = app.display.theme;
    let (state, warn) = match &app.conn {
        ConnState::Connected => ("connected".to_string(), false),
        // Once connected, every later attempt is a reconnection.
        ConnState::Connecting { attempt } if *attempt <= 1 && app.server_name.is_none() => {
            ("connecting...".to_string(), true)
        }
        ConnState::Connecting { attempt } if *attempt <= 1 => ("reconnecting...".to_string(), true),
        ConnState::Connecting { attempt } => (format!("reconnecting (attempt {attempt})..."), true),
        // The reason is in the message pane; the status line stays short.
        ConnState::Disconnected { retry_in, .. } => (
            format!("reconnecting in {:.1} s", retry_in.as_secs_f64()),
            true,
        ),
    };
    let room = match app.current_room() {
        Some(r) => match &r.peer {
            Some(p) => match app.away_reason(&p.id) {
                Some("") => format!("{} · direct · away", p.name),
                Some(reason) => format!("{} · direct · away: {reason}", p.name),
                None => format!("{} · direct", p.name),
            },
            None => {
                let n = r.users.len();
                let topic = r
                    .topic
                    .as_ref()
                    .map(|t| format!(" · {t}"))
                    .unwrap_or_default();
                let modes = crate::app::modes_label(&r.modes);
                let modes = if modes.is_empty() {
                    modes
                } else {
                    format!(" · {modes}")
                };
                let left = if r.removed { " · not joined" } else { "" };
                format!(
                    "#{} · {n} user{}{modes}{left}{topic}",
                    r.name,
                    if n == 1 { "" } else { "s" }
                )
            }
        },
        None => "no room".to_string(),
    };
    let me = if app.away_reason(&app.me_id).is_some() {
        format!("{} (away)", app.me)
    } else {
        app.me.clone()
    };
    let mut spans = vec![
        Span::styled(
            format!(" {state} "),
            if warn {
                theme.status_warning()
            } else {
                theme.status_bar()
            },
        ),
        Span::styled(
            format!(" {} · {me} · {room} ", app.server_url),
            theme.status_bar(),
        ),
    ];
    let used: usize = spans.iter().map(|s| s.content.width()).sum();
    let hint = " F2 users · /help ";
    let remaining = (area.width as usize).saturating_sub(used);
    if remaining >= hint.width() {
        spans.push(Span::styled(
            format!("{hint:>remaining$}"),
            theme.status_bar(),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.status_bar()),
        area,
    );
}

/// The input area: the prompt, then the text in rows (a long or
/// multi-line message makes it grow, up to [`INPUT_MAX_ROWS`], then it
/// scrolls to keep the cursor's row in sight).
fn draw_input(frame: &mut Frame<'_>, app: &App, area: Rect) -> Option<Position> {
    let theme = app.display.theme;
    let prompt = app.prompt();
    let prompt_w = prompt.width() as u16;
    let laid = app.input_rows(area.width);
    let height = usize::from(area.height).clamp(1, INPUT_MAX_ROWS);
    let first = laid.cursor.0.saturating_sub(height - 1);
    let lines: Vec<Line<'_>> = laid
        .rows
        .iter()
        .enumerate()
        .skip(first)
        .take(height)
        .map(|(i, row)| {
            let lead = if i == 0 {
                Span::styled(prompt.clone(), theme.prompt())
            } else {
                Span::raw(" ".repeat(usize::from(prompt_w)))
            };
            Line::from(vec![lead, Span::raw(row.clone())])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), area);
    let (row, col) = laid.cursor;
    let pos = Position {
        x: (area.x + prompt_w + col as u16).min(area.x + area.width.saturating_sub(1)),
        y: area.y + (row - first) as u16,
    };
    frame.set_cursor_position(pos);
    Some(pos)
}

/// Where a user-list prefix sorts: operators (`@`), voice (`+`), the rest.
fn prefix_order(prefix: &str) -> u8 {
    match prefix {
        "@" => 0,
        "+" => 1,
        _ => 2,
    }
}

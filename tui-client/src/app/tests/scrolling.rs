//! Scrolling, drawn with the real renderer: each draw's report goes back
//! to `App::update` as the event loop hands it, and where the view is is
//! read off the screen, as a row of the whole room.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;

use super::*;
use crate::ui;

/// Terminal size of these tests: a message pane of 20 rows, so a page is
/// 19 rows.
const SIZE: (u16, u16) = (100, 22);
const PAGE: usize = 19;

fn sized(a: &mut App) {
    let (width, height) = SIZE;
    a.update(Event::Resize { width, height }, 0);
}

/// `dev`, joined, with messages `m1` to `m{n}` of one row each.
fn room_of(n: u64, more: bool) -> App {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    history(&mut a, "dev", 1..=n, more, 0);
    sized(&mut a);
    a
}

/// The message pane's rows as text.
fn pane_rows(terminal: &Terminal<TestBackend>, pane: Rect) -> Vec<String> {
    let buf = terminal.backend().buffer();
    (pane.y..pane.y + pane.height)
        .map(|y| {
            (pane.x..pane.x + pane.width)
                .map(|x| buf[(x, y)].symbol())
                .collect()
        })
        .collect()
}

/// Draws like the event loop: the app's size, then the renderer's report
/// back to the app. The pane's rows and the report's effects.
fn draw(a: &mut App) -> (Vec<String>, Vec<Effect>) {
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, SIZE.1)).unwrap();
    let mut drawn = ui::Drawn::default();
    terminal.draw(|f| drawn = ui::draw(f, a)).unwrap();
    assert_eq!(usize::from(drawn.pane.height), a.message_pane_rows());
    let fx = match drawn.shown {
        Some(shown) => a.update(Event::Shown(shown), 0),
        None => Vec::new(),
    };
    (pane_rows(&terminal, drawn.pane), fx)
}

/// Every row of the current room, as a pane tall enough for all of them
/// shows it (of the same width, so wrapped the same). Nothing is reported.
fn whole_room(a: &App) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(SIZE.0, 600)).unwrap();
    let mut drawn = ui::Drawn::default();
    terminal.draw(|f| drawn = ui::draw(f, a)).unwrap();
    let rows = pane_rows(&terminal, drawn.pane);
    let first = rows.iter().position(|r| !r.trim().is_empty()).unwrap();
    rows[first..].to_vec()
}

/// Draws, and which row of the whole room is at the top of the pane.
fn top_row(a: &mut App) -> usize {
    let (rows, _) = draw(a);
    let all = whole_room(a);
    let at = all.iter().position(|r| *r == rows[0]);
    assert_eq!(
        all.iter().filter(|r| **r == rows[0]).count(),
        1,
        "rows must be unique"
    );
    at.unwrap()
}

fn press(a: &mut App, action: Action) -> Vec<Effect> {
    a.update(Event::Action(action), 0)
}

fn shows(rows: &[String], text: &str) -> bool {
    rows.iter().any(|r| r.contains(&format!(" {text} ")))
}

fn history_requests(fx: &[Effect]) -> Vec<(String, u64)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(ClientEvent::History {
                id, room, before, ..
            }) if room == "dev" => Some((id.clone(), *before)),
            _ => None,
        })
        .collect()
}

#[test]
fn paging_up_past_the_oldest_row_stops_there_and_page_down_moves_one_page() {
    let mut a = room_of(60, false);
    draw(&mut a);
    for _ in 0..7 {
        press(&mut a, Action::PageUp);
        draw(&mut a);
    }
    assert_eq!(top_row(&mut a), 0);
    let (at_top, _) = draw(&mut a);
    assert!(shows(&at_top, "m1"), "{at_top:#?}");
    // The presses past the top left nothing to undo.
    press(&mut a, Action::PageDown);
    assert_eq!(top_row(&mut a), PAGE);
    press(&mut a, Action::PageUp);
    assert_eq!(top_row(&mut a), 0);
}

#[test]
fn a_burst_of_page_keys_before_one_draw_is_as_exact() {
    let mut a = room_of(60, false);
    draw(&mut a);
    for _ in 0..7 {
        press(&mut a, Action::PageUp);
    }
    press(&mut a, Action::PageDown);
    assert_eq!(top_row(&mut a), PAGE);
    // Down past the end in one go, then one page up: one page above the
    // newest rows, as from the bottom.
    let bottom = whole_room(&a).len() - 20;
    for _ in 0..9 {
        press(&mut a, Action::PageDown);
    }
    press(&mut a, Action::PageUp);
    assert_eq!(top_row(&mut a), bottom - PAGE);
    assert_eq!(a.rooms[0].new_below, 0);
}

#[test]
fn paging_down_moves_rows_not_messages() {
    let mut a = room_of(50, false);
    draw(&mut a);
    press(&mut a, Action::PageUp);
    let up = top_row(&mut a);
    // Tall messages arrive below the view: it stays put.
    for seq in 51..=60 {
        let text: Vec<String> = (0..5).map(|l| format!("t{seq}-{l}")).collect();
        a.update(server(msg("dev", seq, "bob", &text.join("\n"))), 0);
    }
    assert_eq!(top_row(&mut a), up);
    assert_eq!(a.rooms[0].new_below, 10);
    let end = whole_room(&a).len() - 20;
    let mut expected = up;
    while expected + PAGE < end {
        press(&mut a, Action::PageDown);
        expected += PAGE;
        assert_eq!(top_row(&mut a), expected);
        assert_ne!(a.rooms[0].scroll, Scroll::Bottom);
    }
    press(&mut a, Action::PageDown);
    assert_eq!(top_row(&mut a), end);
    assert_eq!(a.rooms[0].scroll, Scroll::Bottom);
    assert_eq!(a.rooms[0].new_below, 0);
}

#[test]
fn after_page_up_in_a_short_room_the_view_follows_once_the_pane_fills() {
    let mut a = room_of(5, false);
    draw(&mut a);
    // A line arrives just before the key, so the rows are not known: the
    // page is a whole one, past the oldest row.
    a.update(server(msg("dev", 6, "bob", "m6")), 0);
    press(&mut a, Action::PageUp);
    assert!(matches!(a.rooms[0].scroll, Scroll::Anchored { .. }));
    let (rows, _) = draw(&mut a);
    assert!(shows(&rows, "m1") && shows(&rows, "m6"), "{rows:#?}");
    // Everything was on screen, the newest row too: following.
    assert_eq!(a.rooms[0].scroll, Scroll::Bottom);
    for seq in 7..=40 {
        a.update(server(msg("dev", seq, "bob", &format!("m{seq}"))), 0);
    }
    let (rows, _) = draw(&mut a);
    assert!(shows(&rows, "m40"), "{rows:#?}");
    assert!(!shows(&rows, "m1"), "{rows:#?}");
}

#[test]
fn older_messages_are_asked_for_once_the_oldest_is_really_on_screen() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    history(&mut a, "dev", 51..=100, true, 0);
    sized(&mut a);
    let (rows, fx) = draw(&mut a);
    assert!(history_requests(&fx).is_empty());
    assert!(!rows.iter().any(|r| r.contains("older messages")));
    let mut asked = None;
    for _ in 0..5 {
        press(&mut a, Action::PageUp);
        let (rows, fx) = draw(&mut a);
        let requests = history_requests(&fx);
        // Asked in the very draw that shows the oldest message, not before.
        assert_eq!(shows(&rows, "m51"), !requests.is_empty(), "{rows:#?}");
        if let Some(request) = requests.into_iter().next() {
            assert!(rows[0].contains("loading older messages…"), "{rows:#?}");
            asked = Some(request);
            break;
        }
    }
    let Some((id, before)) = asked else {
        panic!("never asked for older messages");
    };
    assert_eq!(before, 51);
    // Once at a time: more PgUp at the top asks for nothing more.
    press(&mut a, Action::PageUp);
    let (rows, fx) = draw(&mut a);
    assert!(history_requests(&fx).is_empty());
    assert!(rows[0].contains("loading older messages…"), "{rows:#?}");
    // They arrive in front; the view stays where it was.
    let before_page = draw(&mut a).0;
    history(&mut a, "dev", 1..=50, false, 0);
    a.update(server(ServerEvent::ack_ok(id, None)), 0);
    let t = texts(&a.rooms[0]);
    assert_eq!(t[..2], ["m1", "m2"], "{t:?}");
    let (after, _) = draw(&mut a);
    // The row for older messages and the date above the first entry held
    // went with them; what was below is where it was.
    assert_eq!(after[..17], before_page[2..19], "{after:#?}");
    // Nothing older on the server: no row for it, and no more asking.
    press(&mut a, Action::PageUp);
    press(&mut a, Action::PageUp);
    press(&mut a, Action::PageUp);
    let (rows, fx) = draw(&mut a);
    assert!(history_requests(&fx).is_empty());
    assert!(shows(&rows, "m1"), "{rows:#?}");
    assert!(!rows.iter().any(|r| r.contains("older messages")));
}

#[test]
fn a_room_that_fits_asks_for_older_messages_only_after_page_up() {
    let mut a = room_of(3, true);
    let (rows, fx) = draw(&mut a);
    assert!(history_requests(&fx).is_empty());
    assert!(
        rows.iter().any(|r| r.contains("PgUp loads older messages")),
        "{rows:#?}"
    );
    press(&mut a, Action::PageUp);
    let (rows, fx) = draw(&mut a);
    assert_eq!(history_requests(&fx).len(), 1);
    assert!(
        rows.iter().any(|r| r.contains("loading older messages…")),
        "{rows:#?}"
    );
    assert_eq!(a.rooms[0].scroll, Scroll::Bottom);
}

#[test]
fn scrolled_up_the_view_keeps_its_place_and_counts_what_arrives() {
    let mut a = room_of(100, false);
    draw(&mut a);
    press(&mut a, Action::PageUp);
    let up = top_row(&mut a);
    let anchored = a.rooms[0].scroll;
    assert!(matches!(anchored, Scroll::Anchored { .. }), "{anchored:?}");
    for seq in 101..=103 {
        a.update(server(msg("dev", seq, "bob", "later")), 0);
    }
    assert_eq!(a.rooms[0].scroll, anchored, "new messages do not move it");
    assert_eq!(top_row(&mut a), up);
    assert_eq!(a.rooms[0].new_below, 3);
    press(&mut a, Action::PageDown);
    draw(&mut a);
    assert_ne!(a.rooms[0].scroll, Scroll::Bottom, "three rows still below");
    press(&mut a, Action::PageDown);
    draw(&mut a);
    assert_eq!(a.rooms[0].scroll, Scroll::Bottom);
    assert_eq!(a.rooms[0].new_below, 0);
    // End comes back from anywhere.
    press(&mut a, Action::PageUp);
    press(&mut a, Action::PageUp);
    press(&mut a, Action::EndAndBottom);
    assert_eq!(a.rooms[0].scroll, Scroll::Bottom);
}

#[test]
fn a_report_about_another_room_or_view_is_ignored() {
    let mut a = room_of(60, false);
    draw(&mut a);
    let stale = Shown {
        room: "dev".into(),
        drawn: Scroll::Anchored { top: 3, row: 0 },
        top: 3,
        row: 0,
        beyond: Beyond {
            above: Some(0),
            below: Some(50),
        },
    };
    a.update(Event::Shown(stale.clone()), 0);
    assert_eq!(a.rooms[0].scroll, Scroll::Bottom);
    let other = Shown {
        room: "ops".into(),
        drawn: Scroll::Bottom,
        ..stale
    };
    a.update(Event::Shown(other), 0);
    assert_eq!(a.rooms[0].scroll, Scroll::Bottom);
}

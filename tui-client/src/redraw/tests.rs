use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;

use super::shift::{scroll_rows, upward};

/// A screen of `rows` lines: a sidebar of 6 columns (`side`), then the
/// pane's text.
fn screen(width: u16, side: &[&str], pane: &[String]) -> Buffer {
    let height = pane.len() as u16;
    let mut b = Buffer::empty(Rect::new(0, 0, width, height));
    for (y, text) in side.iter().enumerate() {
        b.set_string(0, y as u16, text, ratatui::style::Style::default());
    }
    for (y, text) in pane.iter().enumerate() {
        b.set_string(6, y as u16, text, ratatui::style::Style::default());
    }
    b
}

fn lines(from: usize, count: usize) -> Vec<String> {
    (from..from + count)
        .map(|n| {
            format!(
                "{n}: {:x}",
                (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            )
        })
        .collect()
}

#[test]
fn a_pane_moved_up_is_found_and_a_pane_in_place_is_not() {
    let pane = Rect::new(6, 0, 34, 10);
    let side = ["#dev", "#ops"];
    let before = screen(40, &side, &lines(0, 10));
    for k in 1..4 {
        let after = screen(40, &side, &lines(k, 10));
        assert_eq!(
            upward(&before, &after, pane),
            Some(k as u16),
            "moved by {k}"
        );
    }
    assert_eq!(upward(&before, &before, pane), None);
    // Everything different: nothing to gain by scrolling.
    let other: Vec<String> = (0..10).map(|n| format!("other {n}")).collect();
    assert_eq!(upward(&before, &screen(40, &side, &other), pane), None);
}

#[test]
fn scrolling_rows_moves_the_full_width_and_blanks_the_bottom() {
    let mut b = screen(20, &["#dev"], &lines(0, 5));
    scroll_rows(&mut b, 1, 4, 2);
    let row = |b: &Buffer, y: u16| -> String {
        (0..20)
            .map(|x| b[(x, y)].symbol().to_string())
            .collect::<String>()
    };
    assert!(row(&b, 0).starts_with("#dev  0: "));
    assert!(row(&b, 1).starts_with("      3: "));
    assert_eq!(b[(0, 2)], Cell::EMPTY);
    assert_eq!(row(&b, 2).trim(), "");
    assert_eq!(row(&b, 3).trim(), "");
    assert!(row(&b, 4).starts_with("      4: "));
}

#[test]
fn terminals_without_scrolling_regions_are_redrawn() {
    use super::Redraw;
    for term in [
        "xterm-256color",
        "xterm",
        "screen",
        "tmux-256color",
        "vt100",
    ] {
        assert_eq!(
            Redraw::for_terminal(Some(term), true),
            Redraw::Scroll,
            "{term}"
        );
        assert_eq!(
            Redraw::for_terminal(Some(term), false),
            Redraw::Full,
            "{term}"
        );
    }
    for term in [None, Some(""), Some("dumb"), Some("linux")] {
        assert_eq!(Redraw::for_terminal(term, true), Redraw::Full, "{term:?}");
    }
}

//! Where a room's view is: following the newest message, or scrolled up
//! with a given entry at the top of the pane.
//!
//! The view is anchored to an entry, not to a screen row, so nothing here
//! needs to know how entries wrap: a new message, a pending line that
//! becomes sent, or a page of older history put in front leaves a
//! scrolled view where it is, and a resize needs no bookkeeping.
//!
//! Paging moves the anchor by rows, which may point past either end of the
//! room until the next draw. The renderer, which knows the rows, clamps it
//! and reports what it showed ([`Shown`]): the anchor in range, and how
//! many rows lie beyond the pane on either side ([`Beyond`]). The app keeps
//! both, so the next page moves exactly one page of rows from what is on
//! screen and stops at the oldest and the newest row, however often the
//! key is pressed.

use super::entries::{Entries, EntryKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scroll {
    /// Following: the newest row is at the bottom of the pane.
    #[default]
    Bottom,
    /// Scrolled up: the pane's top row is `row` rows below the first row
    /// of entry `top` (above it when negative). `top` may be the key the
    /// next entry will get: the first row after the newest.
    Anchored { top: EntryKey, row: isize },
}

/// Rows of the room beyond the pane, towards the oldest (`above`) and the
/// newest (`below`) row: `Some` when known exactly, `None` when unknown
/// (something changed since the draw) or more than the renderer counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Beyond {
    pub above: Option<usize>,
    pub below: Option<usize>,
}

impl Beyond {
    pub const UNKNOWN: Beyond = Beyond {
        above: None,
        below: None,
    };

    /// The oldest row of the room is on screen.
    pub fn shows_oldest(self) -> bool {
        self.above == Some(0)
    }

    /// The newest row of the room is on screen.
    pub fn shows_newest(self) -> bool {
        self.below == Some(0)
    }

    /// The rows beyond after the view moved `rows` rows up.
    fn moved_up(self, rows: usize) -> Beyond {
        Beyond {
            above: self.above.map(|n| n.saturating_sub(rows)),
            below: self.below.map(|n| n + rows),
        }
    }

    /// The rows beyond after the view moved `rows` rows down.
    fn moved_down(self, rows: usize) -> Beyond {
        Beyond {
            above: self.above.map(|n| n + rows),
            below: self.below.map(|n| n.saturating_sub(rows)),
        }
    }
}

/// What the renderer showed of the current room in one draw, handed back
/// to `App::update` right after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    pub room: String,
    /// The view it was drawn from; a report about any other is stale.
    pub drawn: Scroll,
    /// The entry at the pane's top row, and how many of its rows are above
    /// the pane.
    pub top: EntryKey,
    pub row: usize,
    pub beyond: Beyond,
}

impl Shown {
    /// The view as shown: following when the newest row is on screen,
    /// otherwise anchored where the pane's top row was.
    pub fn scroll(&self) -> Scroll {
        if self.beyond.shows_newest() {
            Scroll::Bottom
        } else {
            Scroll::Anchored {
                top: self.top,
                row: self.row as isize,
            }
        }
    }
}

/// Rows one page moves in a pane of `pane` rows: all but one, kept for
/// context.
pub fn page(pane: usize) -> usize {
    pane.saturating_sub(1).max(1)
}

impl Scroll {
    /// One page towards older messages in a pane of `pane` rows, no
    /// further than the rows known to lie above it.
    pub fn page_up(self, entries: &Entries, beyond: Beyond, pane: usize) -> (Scroll, Beyond) {
        let step = beyond.above.map_or(page(pane), |n| n.min(page(pane)));
        if step == 0 || entries.is_empty() {
            return (self, beyond);
        }
        let scroll = match self {
            // The pane's top is `pane` rows above the end; `step` more.
            Scroll::Bottom => Scroll::Anchored {
                top: entries.end_key(),
                row: -((pane + step) as isize),
            },
            Scroll::Anchored { top, row } => Scroll::Anchored {
                top,
                row: row - step as isize,
            },
        };
        (scroll, beyond.moved_up(step))
    }

    /// One page towards newer messages; back to following once the newest
    /// row is known to come into view.
    pub fn page_down(self, beyond: Beyond, pane: usize) -> (Scroll, Beyond) {
        let Scroll::Anchored { top, row } = self else {
            return (self, beyond);
        };
        let step = page(pane);
        if beyond.below.is_some_and(|n| n <= step) {
            // At the bottom the rows above are the ones beyond either side.
            let above = beyond.above.zip(beyond.below).map(|(a, b)| a + b);
            let beyond = Beyond {
                above,
                below: Some(0),
            };
            return (Scroll::Bottom, beyond);
        }
        let scroll = Scroll::Anchored {
            top,
            row: row + step as isize,
        };
        (scroll, beyond.moved_down(step))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::entries::{Entry, EntryKind};

    fn entries(n: usize) -> Entries {
        let mut e = Entries::new();
        for i in 0..n {
            e.push(Entry::new(i as i64, EntryKind::Notice(String::new())));
        }
        e
    }

    fn known(above: usize, below: usize) -> Beyond {
        Beyond {
            above: Some(above),
            below: Some(below),
        }
    }

    #[test]
    fn a_page_up_from_the_bottom_puts_the_top_a_pane_and_a_page_above_the_end() {
        let e = entries(100);
        let (up, beyond) = Scroll::Bottom.page_up(&e, known(80, 0), 20);
        assert_eq!(
            up,
            Scroll::Anchored {
                top: e.end_key(),
                row: -39
            }
        );
        assert_eq!(beyond, known(61, 19));
        // And back down: the newest row comes into view, following again.
        assert_eq!(up.page_down(beyond, 20), (Scroll::Bottom, known(80, 0)));
    }

    #[test]
    fn paging_stops_at_the_rows_known_beyond_either_end() {
        let e = entries(60);
        let mut view = (Scroll::Bottom, known(45, 0));
        for _ in 0..7 {
            view = view.0.page_up(&e, view.1, 20);
        }
        // 45 rows up in all: 19, 19, 7, then nothing.
        assert_eq!(
            view,
            (
                Scroll::Anchored {
                    top: e.end_key(),
                    row: -65
                },
                known(0, 45)
            )
        );
        // The first page down moves a whole page at once.
        let down = view.0.page_down(view.1, 20);
        assert_eq!(
            down,
            (
                Scroll::Anchored {
                    top: e.end_key(),
                    row: -46
                },
                known(19, 26)
            )
        );
        let down = down.0.page_down(down.1, 20);
        assert_eq!(down.0.page_down(down.1, 20), (Scroll::Bottom, known(45, 0)));
    }

    #[test]
    fn unknown_rows_move_a_whole_page_and_leave_the_clamping_to_the_draw() {
        let e = entries(10);
        let (up, beyond) = Scroll::Bottom.page_up(&e, Beyond::UNKNOWN, 20);
        assert_eq!(
            up,
            Scroll::Anchored {
                top: e.end_key(),
                row: -39
            }
        );
        assert_eq!(beyond, Beyond::UNKNOWN);
        let (down, _) = up.page_down(Beyond::UNKNOWN, 20);
        assert_eq!(
            down,
            Scroll::Anchored {
                top: e.end_key(),
                row: -20
            }
        );
    }

    #[test]
    fn nothing_to_scroll_when_everything_is_on_screen_or_the_room_is_empty() {
        let e = entries(5);
        let all = known(0, 0);
        assert_eq!(Scroll::Bottom.page_up(&e, all, 20), (Scroll::Bottom, all));
        assert_eq!(Scroll::Bottom.page_down(all, 20), (Scroll::Bottom, all));
        let empty = entries(0);
        let (up, _) = Scroll::Bottom.page_up(&empty, Beyond::UNKNOWN, 20);
        assert_eq!(up, Scroll::Bottom);
    }

    #[test]
    fn a_report_follows_when_the_newest_row_shows_and_anchors_otherwise() {
        let shown = |below| Shown {
            room: "dev".into(),
            drawn: Scroll::Bottom,
            top: 7,
            row: 2,
            beyond: Beyond { above: None, below },
        };
        assert_eq!(shown(Some(0)).scroll(), Scroll::Bottom);
        assert_eq!(shown(Some(3)).scroll(), Scroll::Anchored { top: 7, row: 2 });
        assert_eq!(shown(None).scroll(), Scroll::Anchored { top: 7, row: 2 });
    }
}

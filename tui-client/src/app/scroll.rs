//! Where a room's view is: following the newest message, or scrolled up
//! and anchored to an entry.
//!
//! The anchor is an entry, not a screen row, so nothing here needs to know
//! how entries wrap: a new message, a pending line that becomes sent, or a
//! page of older history put in front leaves the anchored view where it
//! is, and a resize needs no bookkeeping at all. The renderer turns
//! `(anchor, rows)` into rows on screen; where the view would run past the
//! oldest row it shows the first page instead (see `ui::message_rows`).
//!
//! Paging counts screen rows from the anchor, exactly as far as the
//! core can know: past the anchor's own bottom it moves by entries, each
//! at least one row.

use super::entries::{Entries, EntryKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scroll {
    /// Following: the newest row is at the bottom of the pane.
    #[default]
    Bottom,
    /// Scrolled up: the bottom of the pane is `rows` screen rows above the
    /// last row of entry `anchor`.
    Anchored { anchor: EntryKey, rows: usize },
}

impl Scroll {
    /// One page (`page` rows) towards older messages.
    pub fn page_up(self, entries: &Entries, page: usize) -> Scroll {
        match self {
            Scroll::Bottom => match entries.last_key() {
                Some(anchor) => Scroll::Anchored { anchor, rows: page },
                None => Scroll::Bottom,
            },
            Scroll::Anchored { anchor, rows } => Scroll::Anchored {
                anchor,
                rows: rows.saturating_add(page),
            },
        }
    }

    /// One page towards newer messages; back to following once the newest
    /// entry is reached.
    pub fn page_down(self, entries: &Entries, page: usize) -> Scroll {
        let Scroll::Anchored { anchor, rows } = self else {
            return Scroll::Bottom;
        };
        if rows > page {
            return Scroll::Anchored {
                anchor,
                rows: rows - page,
            };
        }
        // The rest of the page lies below the anchor: move it down by as
        // many entries (each is one row or more).
        let index = entries.index(anchor) + (page - rows);
        if index + 1 >= entries.len() {
            Scroll::Bottom
        } else {
            Scroll::Anchored {
                anchor: entries.key(index),
                rows: 0,
            }
        }
    }

    /// Whether a pane of `pane` rows may now show the oldest entry held:
    /// true when there are no more entries up to the anchor than rows up
    /// to the pane's top (an entry takes one row or more). May say so a
    /// little early for entries of several rows, never late; asking the
    /// server for older messages early is harmless.
    pub fn may_show_oldest(self, entries: &Entries, pane: usize) -> bool {
        match self {
            Scroll::Bottom => entries.len() <= pane,
            Scroll::Anchored { anchor, rows } => entries.index(anchor) < rows.saturating_add(pane),
        }
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

    #[test]
    fn up_then_down_is_back_to_following() {
        let e = entries(100);
        let up = Scroll::Bottom.page_up(&e, 10);
        assert_eq!(
            up,
            Scroll::Anchored {
                anchor: e.key(99),
                rows: 10
            }
        );
        let up2 = up.page_up(&e, 10);
        assert_eq!(up2.page_down(&e, 10), up);
        assert_eq!(up.page_down(&e, 10), Scroll::Bottom);
    }

    #[test]
    fn paging_down_past_the_anchor_moves_through_what_arrived_since() {
        let mut e = entries(10);
        let up = Scroll::Bottom.page_up(&e, 4);
        for i in 10..30 {
            e.push(Entry::new(i, EntryKind::Notice(String::new())));
        }
        // 4 rows back to the anchor, then 6 entries on: entry 9 + 6.
        let down = up.page_down(&e, 10);
        assert_eq!(
            down,
            Scroll::Anchored {
                anchor: e.key(15),
                rows: 0
            }
        );
        assert_eq!(
            down.page_down(&e, 10),
            Scroll::Anchored {
                anchor: e.key(25),
                rows: 0
            }
        );
        assert_eq!(down.page_down(&e, 10).page_down(&e, 10), Scroll::Bottom);
    }

    #[test]
    fn nothing_to_scroll_in_an_empty_room() {
        let e = entries(0);
        assert_eq!(Scroll::Bottom.page_up(&e, 10), Scroll::Bottom);
        assert_eq!(Scroll::Bottom.page_down(&e, 10), Scroll::Bottom);
        assert!(Scroll::Bottom.may_show_oldest(&e, 10));
    }

    #[test]
    fn the_oldest_entry_may_show_once_the_rows_cover_the_entries() {
        let e = entries(50);
        let up = Scroll::Bottom.page_up(&e, 19);
        assert!(!up.may_show_oldest(&e, 20), "49 entries above, 39 rows");
        assert!(up.page_up(&e, 19).may_show_oldest(&e, 20));
        assert!(entries(20).len() <= 20 && Scroll::Bottom.may_show_oldest(&entries(20), 20));
        assert!(!Scroll::Bottom.may_show_oldest(&entries(21), 20));
    }
}

//! A room's view resolved into the rows on screen, and where that left it.
//!
//! The app keeps its view as an anchor ([`Scroll`]) that paging may have
//! moved past either end of the room; here it meets the rows. The pane
//! never shows anything above the oldest row, nor empty rows below the
//! newest (a room shorter than the pane shows all of it), and the result
//! says where the view ended up and how many rows lie beyond the pane, for
//! the renderer's report to the app ([`crate::app::scroll::Shown`]).

use std::collections::HashMap;

use crate::app::entries::{Entries, EntryKey};
use crate::app::scroll::{Beyond, Scroll};

/// Rows beyond the pane are counted up to this many pages on each side:
/// enough for a burst of page keys handled before the next draw to stop
/// exactly at either end, without laying out a long history on every draw.
const COUNTED_PAGES: usize = 4;

/// The rows of a pane, top to bottom, and where they are in the room.
#[derive(Debug, Clone, PartialEq)]
pub struct Viewport<R> {
    /// At most the pane's height; fewer only when the room has fewer.
    pub rows: Vec<R>,
    /// The entry at the top row, and how many of its rows are above it.
    pub top: EntryKey,
    pub row: usize,
    pub beyond: Beyond,
}

/// The rows a pane of `height` rows shows of `entries` for a view, with
/// `rows_of(i)` the rows of entry `i` (each entry laid out at most once).
pub fn resolve<R>(
    entries: &Entries,
    scroll: Scroll,
    height: usize,
    rows_of: impl FnMut(usize) -> Vec<R>,
) -> Viewport<R> {
    let mut laid = Laid {
        end: entries.len(),
        rows_of,
        cache: HashMap::new(),
    };
    let last_page = (laid.end, -(height as isize));
    let asked = match scroll {
        Scroll::Bottom => last_page,
        Scroll::Anchored { top, row } => (entries.slot(top), row),
    };
    let mut top = laid.settle(asked);
    if laid.rows_from(top, height) < height {
        // It would leave rows empty below the newest: the last page.
        top = laid.settle(last_page);
    }
    let limit = COUNTED_PAGES * height;
    let (rows, below) = laid.take(top, height, limit);
    let above = laid.count_above(top, limit);
    Viewport {
        rows,
        top: entries.key(top.0),
        row: top.1,
        beyond: Beyond { above, below },
    }
}

/// A place in the room: an entry's index (the number of entries for the
/// end) and a row of that entry.
type Place = (usize, usize);

/// The entries' rows, laid out once each as they are needed.
struct Laid<R, F> {
    end: usize,
    rows_of: F,
    cache: HashMap<usize, Vec<R>>,
}

impl<R, F: FnMut(usize) -> Vec<R>> Laid<R, F> {
    fn rows(&mut self, i: usize) -> &mut Vec<R> {
        self.cache.entry(i).or_insert_with(|| (self.rows_of)(i))
    }

    fn count(&mut self, i: usize) -> usize {
        self.rows(i).len()
    }

    /// The place `row` rows below the first row of entry `i` (above it
    /// when negative), stopping at the oldest row.
    fn settle(&mut self, (i, row): (usize, isize)) -> Place {
        let (mut i, mut row) = (i.min(self.end), row);
        while row < 0 {
            if i == 0 {
                row = 0;
                break;
            }
            i -= 1;
            row += self.count(i) as isize;
        }
        while i < self.end && row >= self.count(i) as isize {
            row -= self.count(i) as isize;
            i += 1;
        }
        (i, row as usize)
    }

    /// Rows from `place` to the end, counted up to `limit`.
    fn rows_from(&mut self, (mut i, mut skip): Place, limit: usize) -> usize {
        let mut rows = 0;
        while i < self.end && rows < limit {
            rows += self.count(i).saturating_sub(skip);
            skip = 0;
            i += 1;
        }
        rows
    }

    /// Up to `height` rows from `place` down, and the rows below them
    /// (`None` past `limit`).
    fn take(
        &mut self,
        (mut i, mut skip): Place,
        height: usize,
        limit: usize,
    ) -> (Vec<R>, Option<usize>) {
        let mut shown = Vec::new();
        let mut below = 0;
        while i < self.end && shown.len() < height {
            let mut rows = self.cache.remove(&i).unwrap_or_else(|| (self.rows_of)(i));
            rows.drain(..skip.min(rows.len()));
            let room = height - shown.len();
            if rows.len() > room {
                below += rows.len() - room;
                rows.truncate(room);
            }
            shown.extend(rows);
            skip = 0;
            i += 1;
        }
        while i < self.end && below <= limit {
            below += self.count(i);
            i += 1;
        }
        (shown, (i == self.end).then_some(below))
    }

    /// Rows above `place` (`None` past `limit`).
    fn count_above(&mut self, (mut i, row): Place, limit: usize) -> Option<usize> {
        let mut above = row;
        while i > 0 && above <= limit {
            i -= 1;
            above += self.count(i);
        }
        (i == 0).then_some(above)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::entries::{Entry, EntryKind};

    /// A room whose entry `i` has `heights[i]` rows, each row named
    /// `"i.r"`.
    fn room(heights: &[usize]) -> (Entries, impl Fn(usize) -> Vec<String> + '_) {
        let mut entries = Entries::new();
        for i in 0..heights.len() {
            entries.push(Entry::new(i as i64, EntryKind::Notice(String::new())));
        }
        let rows = move |i: usize| (0..heights[i]).map(|r| format!("{i}.{r}")).collect();
        (entries, rows)
    }

    fn names(v: &Viewport<String>) -> Vec<&str> {
        v.rows.iter().map(String::as_str).collect()
    }

    #[test]
    fn following_shows_the_last_rows_and_counts_those_above() {
        let (e, rows) = room(&[1, 2, 3, 1]);
        let v = resolve(&e, Scroll::Bottom, 4, rows);
        assert_eq!(names(&v), ["2.0", "2.1", "2.2", "3.0"]);
        assert_eq!((v.top, v.row), (e.key(2), 0));
        assert_eq!(
            v.beyond,
            Beyond {
                above: Some(3),
                below: Some(0)
            }
        );
    }

    #[test]
    fn an_anchor_inside_an_entry_starts_the_pane_at_that_row() {
        let (e, rows) = room(&[1, 2, 3, 1, 1, 1]);
        let v = resolve(
            &e,
            Scroll::Anchored {
                top: e.key(2),
                row: 1,
            },
            3,
            rows,
        );
        assert_eq!(names(&v), ["2.1", "2.2", "3.0"]);
        assert_eq!((v.top, v.row), (e.key(2), 1));
        assert_eq!(
            v.beyond,
            Beyond {
                above: Some(4),
                below: Some(2)
            }
        );
    }

    #[test]
    fn rows_above_or_below_an_entry_are_normalized_into_the_entry_shown() {
        let (e, rows) = room(&[1, 2, 3, 1, 1, 1]);
        // Two rows above entry 3 is row 1 of entry 2.
        let up = resolve(
            &e,
            Scroll::Anchored {
                top: e.key(3),
                row: -2,
            },
            2,
            &rows,
        );
        assert_eq!((up.top, up.row), (e.key(2), 1));
        // Four rows below entry 1's first is row 2 of entry 2.
        let down = resolve(
            &e,
            Scroll::Anchored {
                top: e.key(1),
                row: 4,
            },
            2,
            &rows,
        );
        assert_eq!((down.top, down.row), (e.key(2), 2));
        assert_eq!(names(&down), ["2.2", "3.0"]);
    }

    #[test]
    fn a_view_past_the_oldest_row_shows_the_first_page() {
        let (e, rows) = room(&[2, 2, 2, 2, 2]);
        let far = Scroll::Anchored {
            top: e.end_key(),
            row: -1000,
        };
        let v = resolve(&e, far, 3, rows);
        assert_eq!(names(&v), ["0.0", "0.1", "1.0"]);
        assert_eq!((v.top, v.row), (e.key(0), 0));
        assert_eq!(
            v.beyond,
            Beyond {
                above: Some(0),
                below: Some(7)
            }
        );
    }

    #[test]
    fn a_view_past_the_newest_row_shows_the_last_page() {
        let (e, rows) = room(&[2, 2, 2, 2, 2]);
        let v = resolve(
            &e,
            Scroll::Anchored {
                top: e.key(4),
                row: 1,
            },
            3,
            rows,
        );
        assert_eq!(names(&v), ["3.1", "4.0", "4.1"]);
        assert_eq!(v.beyond.below, Some(0));
        assert_eq!(v.beyond.above, Some(7));
    }

    #[test]
    fn a_room_shorter_than_the_pane_shows_all_of_it_whatever_the_view() {
        let (e, rows) = room(&[1, 2]);
        for scroll in [
            Scroll::Bottom,
            Scroll::Anchored {
                top: e.key(0),
                row: 0,
            },
            Scroll::Anchored {
                top: e.end_key(),
                row: -50,
            },
            Scroll::Anchored {
                top: e.key(1),
                row: 9,
            },
        ] {
            let v = resolve(&e, scroll, 10, &rows);
            assert_eq!(names(&v), ["0.0", "1.0", "1.1"], "{scroll:?}");
            assert_eq!((v.top, v.row), (e.key(0), 0));
            assert!(v.beyond.shows_oldest() && v.beyond.shows_newest());
        }
        let (empty, rows) = room(&[]);
        let v = resolve(&empty, Scroll::Bottom, 10, rows);
        assert!(v.rows.is_empty() && v.beyond.shows_newest());
    }

    #[test]
    fn rows_far_beyond_the_pane_are_not_counted() {
        let heights = vec![1; 100];
        let (e, rows) = room(&heights);
        let mut laid = 0;
        let counting = |i| {
            laid += 1;
            rows(i)
        };
        let v = resolve(&e, Scroll::Bottom, 5, counting);
        assert_eq!(v.beyond.above, None, "95 rows above, 20 counted");
        assert!(laid <= 5 + COUNTED_PAGES * 5 + 2, "{laid} entries laid out");
        let mid = Scroll::Anchored {
            top: e.key(50),
            row: 0,
        };
        let v = resolve(&e, mid, 5, &rows);
        assert_eq!(v.beyond, Beyond::UNKNOWN);
        let near = Scroll::Anchored {
            top: e.key(90),
            row: 0,
        };
        let v = resolve(&e, near, 5, &rows);
        assert_eq!(v.beyond.below, Some(5));
    }
}

//! The lines of a room (or of the lobby): what each says, whether it is a
//! message of yours on its way, and the bounded list that holds them under
//! keys that stay put, so the view can be anchored to an entry while
//! entries come and go at both ends.

use std::collections::VecDeque;

/// Most entries kept per room; older ones are dropped.
pub const HISTORY_LIMIT: usize = 5_000;

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

    /// Messages and locations: what unread counts and markers count.
    pub fn is_post(&self) -> bool {
        matches!(
            self.kind,
            EntryKind::Message { .. } | EntryKind::Location { .. }
        )
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
    /// Will not be delivered unless retried; the reason is shown with it.
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

/// Names an entry for as long as it is held: entry `i` of the list has
/// key `first_key + i`, and the key of every entry stays the same when
/// older entries are put in front or the oldest are dropped.
pub type EntryKey = i64;

/// A room's entries, oldest first, at most [`HISTORY_LIMIT`] of them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Entries {
    list: VecDeque<Entry>,
    first_key: EntryKey,
}

impl Entries {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends; past the limit the oldest tenth is dropped at once and the
    /// rest kept in one piece, so drawing can use it as a slice.
    pub fn push(&mut self, entry: Entry) {
        self.list.push_back(entry);
        if self.list.len() > HISTORY_LIMIT {
            let excess = self.list.len() - HISTORY_LIMIT + HISTORY_LIMIT / 10;
            self.list.drain(..excess);
            self.first_key += excess as EntryKey;
            self.list.make_contiguous();
        }
    }

    /// Puts older entries (oldest first) in front of the ones held.
    pub fn prepend(&mut self, older: Vec<Entry>) {
        for entry in older.into_iter().rev() {
            self.list.push_front(entry);
            self.first_key -= 1;
        }
        self.list.make_contiguous();
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Entry> {
        self.list.iter()
    }

    pub fn back(&self) -> Option<&Entry> {
        self.list.back()
    }

    /// The entries as one slice (they are kept in one piece), or a copy.
    pub fn as_slice(&self) -> std::borrow::Cow<'_, [Entry]> {
        match self.list.as_slices() {
            (all, []) => std::borrow::Cow::Borrowed(all),
            _ => std::borrow::Cow::Owned(self.list.iter().cloned().collect()),
        }
    }

    pub fn key(&self, index: usize) -> EntryKey {
        self.first_key + index as EntryKey
    }

    /// The key the next entry pushed will get: the first row after the
    /// newest, for a view anchored to the end.
    pub fn end_key(&self) -> EntryKey {
        self.key(self.len())
    }

    /// Where the entry with `key` is now, or `len()` for the end; an entry
    /// dropped since counts as the oldest one held.
    pub fn slot(&self, key: EntryKey) -> usize {
        (key - self.first_key).clamp(0, self.len() as EntryKey) as usize
    }

    /// The latest entry of yours sent with request id `id`.
    pub fn own_mut(&mut self, id: &str) -> Option<&mut Entry> {
        self.list
            .iter_mut()
            .rev()
            .find(|e| e.request.as_deref() == Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(ts: i64) -> Entry {
        Entry::new(ts, EntryKind::Notice(String::new()))
    }

    #[test]
    fn history_is_bounded_and_stays_in_one_piece() {
        let mut entries = Entries::new();
        for i in 0..(HISTORY_LIMIT * 2) {
            entries.push(notice(i as i64));
            assert!(entries.len() <= HISTORY_LIMIT);
        }
        assert_eq!(
            entries.back().map(|e| e.ts),
            Some(HISTORY_LIMIT as i64 * 2 - 1)
        );
        assert!(matches!(entries.as_slice(), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn keys_survive_dropping_the_oldest_and_prepending_older_ones() {
        let mut entries = Entries::new();
        for i in 0..3 {
            entries.push(notice(i));
        }
        let key_of_ts2 = entries.key(2);
        entries.prepend(vec![notice(-2), notice(-1)]);
        assert_eq!(entries.iter().next().map(|e| e.ts), Some(-2));
        let at = entries.slot(key_of_ts2);
        assert_eq!(entries.as_slice()[at].ts, 2);
        for i in 3..(HISTORY_LIMIT as i64 + 10) {
            entries.push(notice(i));
        }
        // ts 2 was dropped with the oldest: its key now means the oldest.
        assert_eq!(entries.slot(key_of_ts2), 0);
        let last = entries.end_key() - 1;
        assert_eq!(
            entries.as_slice()[entries.slot(last)].ts,
            HISTORY_LIMIT as i64 + 9
        );
        assert_eq!(entries.end_key(), last + 1);
        assert_eq!(entries.slot(last + 1), entries.len());
        assert_eq!(entries.slot(last + 100), entries.len());
    }
}

//! Moderation in memory, for a throwaway server (`--memory`) and tests.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::{Entry, ModerationStore, StoreFuture};

/// (room, kind, user) -> value.
type Table = BTreeMap<(String, String, String), String>;

/// The memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    table: Mutex<Table>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Table) -> T) -> T {
        f(&mut self.table.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

fn key(room: &str, kind: &str, user: &str) -> (String, String, String) {
    (room.to_owned(), kind.to_owned(), user.to_owned())
}

impl ModerationStore for MemoryStore {
    fn entries<'a>(&'a self, room: &'a str) -> StoreFuture<'a, Vec<Entry>> {
        let entries = self.with(|t| {
            t.range(key(room, "", "")..)
                .take_while(|((r, _, _), _)| r == room)
                .map(|((_, kind, user), value)| Entry {
                    kind: kind.clone(),
                    user: user.clone(),
                    value: value.clone(),
                })
                .collect()
        });
        Box::pin(async move { Ok(entries) })
    }

    fn put<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        self.with(|t| match value {
            Some(v) => t.insert(key(room, kind, user), v.to_owned()),
            None => t.remove(&key(room, kind, user)),
        });
        Box::pin(async { Ok(()) })
    }

    fn put_if_absent<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: &'a str,
    ) -> StoreFuture<'a, String> {
        let now = self.with(|t| {
            t.entry(key(room, kind, user))
                .or_insert_with(|| value.to_owned())
                .clone()
        });
        Box::pin(async move { Ok(now) })
    }
}

//! The rooms a connection is in, with the handle to each one's task.
//!
//! A vector searched by name, not a hash table: a connection is nearly
//! always in one or two rooms (at most `max_rooms_per_connection`), and
//! every idle connection keeps this for as long as it is open; a hash
//! table holding one room allocated room for four.

use crate::registry::RoomHandle;

/// Rooms by name, each once; see the module docs.
#[derive(Debug, Default)]
pub(super) struct Joined {
    rooms: Vec<(Box<str>, RoomHandle)>,
}

impl Joined {
    fn position(&self, room: &str) -> Option<usize> {
        self.rooms.iter().position(|(name, _)| **name == *room)
    }

    pub fn contains_key(&self, room: &str) -> bool {
        self.position(room).is_some()
    }

    pub fn get(&self, room: &str) -> Option<&RoomHandle> {
        self.position(room).map(|i| &self.rooms[i].1)
    }

    /// Adds `room`, or replaces its handle if already there.
    pub fn insert(&mut self, room: String, handle: RoomHandle) {
        match self.position(&room) {
            Some(i) => self.rooms[i].1 = handle,
            None => {
                // Exactly one more: a first push would make room for four.
                self.rooms.reserve_exact(1);
                self.rooms.push((room.into(), handle));
            }
        }
    }

    pub fn remove(&mut self, room: &str) -> Option<RoomHandle> {
        self.position(room).map(|i| self.rooms.swap_remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.rooms.len()
    }

    /// Every room's handle, leaving none.
    pub fn drain(&mut self) -> impl Iterator<Item = RoomHandle> + '_ {
        self.rooms.drain(..).map(|(_, handle)| handle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_found_replaced_and_removed_by_name() {
        let (handle, _commands) = RoomHandle::for_test();
        let mut joined = Joined::default();
        joined.insert("dev".into(), handle.clone());
        joined.insert("ops".into(), handle.clone());
        joined.insert("dev".into(), handle);
        assert_eq!(joined.len(), 2);
        // Every idle connection keeps this: room for exactly what it holds.
        assert_eq!(joined.rooms.capacity(), 2);
        assert!(joined.contains_key("dev") && joined.get("ops").is_some());
        assert!(joined.remove("dev").is_some());
        assert!(joined.remove("dev").is_none());
        assert!(!joined.contains_key("dev"));
        assert_eq!(joined.drain().count(), 1);
        assert_eq!(joined.len(), 0);
    }
}

//! Rooms and their fan-out.
//!
//! A room is a list of member queues behind one mutex. A broadcast takes
//! that lock once and pushes the same frame (a shared, reference-counted
//! buffer) into every member's [`Outbox`], so all members see a room's
//! messages in one order and the frame is serialized once whatever the
//! room's size. A member whose queue is full is dropped from the room (its
//! connection closes); the others get every frame.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::outbox::{Outbox, Refused};

/// Every room, by name. Rooms exist while they have members.
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
}

/// One room's members.
#[derive(Debug)]
pub struct Room {
    name: String,
    members: Mutex<Vec<Arc<Outbox>>>,
}

impl Rooms {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Room>>> {
        // Held only for a map lookup, insert or removal.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `member` to the room `name`, creating the room if needed.
    pub fn join(&self, name: &str, member: &Arc<Outbox>) -> Arc<Room> {
        let mut rooms = self.lock();
        let room = match rooms.get(name) {
            Some(room) => room.clone(),
            None => {
                let room = Arc::new(Room {
                    name: name.to_owned(),
                    members: Mutex::new(Vec::new()),
                });
                rooms.insert(name.to_owned(), room.clone());
                room
            }
        };
        room.lock().push(member.clone());
        room
    }

    /// Removes `member` from `room` (if a broadcast has not already dropped
    /// it) and forgets the room once it is empty.
    pub fn leave(&self, room: &Arc<Room>, member: &Arc<Outbox>) {
        // Joins and leaves take the map lock first, so a room is never
        // forgotten while someone is joining it.
        let mut rooms = self.lock();
        let empty = {
            let mut members = room.lock();
            members.retain(|m| !Arc::ptr_eq(m, member));
            members.is_empty()
        };
        if empty
            && rooms
                .get(&room.name)
                .is_some_and(|current| Arc::ptr_eq(current, room))
        {
            rooms.remove(&room.name);
        }
    }
}

impl Room {
    fn lock(&self) -> MutexGuard<'_, Vec<Arc<Outbox>>> {
        // Held for one broadcast, join or leave; never across an await.
        self.members.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The room's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues `frame` for every member. Members too slow to take it are
    /// dropped from the room; returns how many.
    pub fn broadcast(&self, frame: &Utf8Bytes) -> usize {
        let mut slow = 0;
        self.lock()
            .retain(|member| match member.push(frame.clone()) {
                Ok(()) => true,
                Err(Refused::Slow) => {
                    slow += 1;
                    false
                }
                Err(Refused::Closed) => false,
            });
        slow
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    async fn taken(outbox: &Outbox) -> Vec<String> {
        let mut batch = VecDeque::new();
        outbox.take_all(&mut batch).await.expect("not slow");
        batch.iter().map(|f| f.as_str().to_owned()).collect()
    }

    #[tokio::test]
    async fn a_broadcast_reaches_every_member_and_nobody_else() {
        let rooms = Rooms::default();
        let (a, b, c) = (
            Arc::new(Outbox::new(8)),
            Arc::new(Outbox::new(8)),
            Arc::new(Outbox::new(8)),
        );
        let room = rooms.join("one", &a);
        rooms.join("one", &b);
        let other = rooms.join("two", &c);
        assert_eq!(room.broadcast(&Utf8Bytes::from_static("hi")), 0);
        assert_eq!(taken(&a).await, ["hi"]);
        assert_eq!(taken(&b).await, ["hi"]);
        other.broadcast(&Utf8Bytes::from_static("there"));
        assert_eq!(taken(&c).await, ["there"], "c got only its room's frame");
    }

    #[tokio::test]
    async fn a_slow_member_is_dropped_and_the_others_get_everything() {
        let rooms = Rooms::default();
        let fast = Arc::new(Outbox::new(2));
        let slow = Arc::new(Outbox::new(2));
        let room = rooms.join("r", &fast);
        rooms.join("r", &slow);
        let mut got = Vec::new();
        let mut dropped = 0;
        for n in 0..6 {
            dropped += room.broadcast(&Utf8Bytes::from(n.to_string()));
            got.extend(taken(&fast).await);
        }
        assert_eq!(dropped, 1);
        assert_eq!(got, ["0", "1", "2", "3", "4", "5"]);
        assert_eq!(room.lock().len(), 1);
    }

    #[test]
    fn an_empty_room_is_forgotten() {
        let rooms = Rooms::default();
        let (a, b) = (Arc::new(Outbox::new(1)), Arc::new(Outbox::new(1)));
        let room = rooms.join("r", &a);
        rooms.join("r", &b);
        rooms.leave(&room, &a);
        assert_eq!(rooms.lock().len(), 1);
        rooms.leave(&room, &b);
        assert!(rooms.lock().is_empty());
    }
}

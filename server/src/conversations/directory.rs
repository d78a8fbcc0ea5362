//! Who is connected to this instance, as identities: each identity's live
//! connections (with their outbound queues, so a direct message reaches
//! every device without a join), its current name, whether it is away, and
//! which rooms its connections are in; and each room's topic and whether
//! the directory lists it.
//!
//! One `std` mutex, held only to read or change the maps, never across an
//! `await`.
//!
//! Each identity's connections and each connection's rooms are plain
//! vectors, not hash tables: nearly always one connection in one or two
//! rooms (at most `max_rooms_per_connection`), and every idle connection
//! pays for these, where two hash tables holding one entry each cost
//! about 500 bytes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::frame::Frame;
use crate::outbound::Outbound;

/// One live connection of an identity.
#[derive(Debug)]
struct Connection {
    outbound: Outbound,
    /// Rooms (and conversations) this connection is in, each once.
    rooms: Vec<Box<str>>,
}

/// An identity with at least one connection here.
#[derive(Debug)]
struct Person {
    name: Arc<str>,
    /// By connection id, each once.
    connections: Vec<(u64, Connection)>,
}

impl Person {
    fn connection(&mut self, id: u64) -> Option<&mut Connection> {
        self.connections
            .iter_mut()
            .find(|(c, _)| *c == id)
            .map(|(_, c)| c)
    }
}

impl Connection {
    fn is_in(&self, room: &str) -> bool {
        self.rooms.iter().any(|r| **r == *room)
    }
}

#[derive(Debug, Default)]
struct Inner {
    people: HashMap<Arc<str>, Person>,
    /// Away identities (here or, in a cluster, announced) and why.
    away: HashMap<String, String>,
    topics: HashMap<String, String>,
    hidden: HashSet<String>,
}

/// The identities connected here; see the module docs.
#[derive(Debug, Default)]
pub struct Directory {
    inner: Mutex<Inner>,
}

impl Directory {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change is a single insert or remove: a panic leaves the
        // maps consistent, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection of `user` (now called `name`) signed in.
    pub fn attach(&self, user: &Arc<str>, name: &Arc<str>, outbound: &Outbound) {
        let mut inner = self.lock();
        let person = inner.people.entry(user.clone()).or_insert_with(|| Person {
            name: name.clone(),
            connections: Vec::new(),
        });
        let connection = Connection {
            outbound: outbound.clone(),
            rooms: Vec::new(),
        };
        match person.connection(outbound.connection_id) {
            Some(known) => *known = connection,
            None => {
                // Exactly one more: a first push would make room for four.
                person.connections.reserve_exact(1);
                person
                    .connections
                    .push((outbound.connection_id, connection));
            }
        }
    }

    /// A connection closed. True when it was the identity's last one here
    /// (its away state is then forgotten).
    pub fn detach(&self, user: &str, connection: u64) -> bool {
        let mut inner = self.lock();
        let Some(person) = inner.people.get_mut(user) else {
            return false;
        };
        person.connections.retain(|(id, _)| *id != connection);
        if person.connections.is_empty() {
            inner.people.remove(user);
            inner.away.remove(user);
            return true;
        }
        false
    }

    /// A connection entered (`inside`) or left a room.
    pub fn in_room(&self, user: &str, connection: u64, room: &str, inside: bool) {
        let mut inner = self.lock();
        if let Some(c) = inner
            .people
            .get_mut(user)
            .and_then(|p| p.connection(connection))
        {
            if !inside {
                c.rooms.retain(|r| **r != *room);
            } else if !c.is_in(room) {
                c.rooms.reserve_exact(1);
                c.rooms.push(room.into());
            }
        }
    }

    /// Hands `frame` to every connection here of each identity in `users`
    /// (each connection once). Returns how many took it.
    pub fn deliver(&self, users: &[&str], frame: &Frame) -> usize {
        let inner = self.lock();
        let mut sent = HashSet::new();
        for user in users {
            let Some(person) = inner.people.get(*user) else {
                continue;
            };
            for (id, c) in &person.connections {
                if sent.insert(*id) {
                    let _ = c.outbound.push(frame.clone());
                }
            }
        }
        sent.len()
    }

    /// Hands `frame` once to every connection here that is in one of
    /// `rooms`, and to every connection of the identities in `users`.
    pub fn deliver_to_sharers(&self, rooms: &HashSet<String>, users: &[&str], frame: &Frame) {
        let inner = self.lock();
        let mut sent = HashSet::new();
        for (user, person) in &inner.people {
            let own = users.contains(&user.as_ref());
            for (id, c) in &person.connections {
                let shares = own || c.rooms.iter().any(|r| rooms.contains(&**r));
                if shares && sent.insert(*id) {
                    let _ = c.outbound.push(frame.clone());
                }
            }
        }
    }

    /// Whether connection `connection` of `user` is in `room` (a room
    /// takes out a kicked or banned connection on its own).
    pub fn is_in_room(&self, user: &str, connection: u64, room: &str) -> bool {
        self.lock()
            .people
            .get(user)
            .and_then(|p| p.connections.iter().find(|(id, _)| *id == connection))
            .is_some_and(|(_, c)| c.is_in(room))
    }

    /// The rooms the connections of `user` here are in.
    pub fn rooms_of(&self, user: &str) -> HashSet<String> {
        let inner = self.lock();
        inner
            .people
            .get(user)
            .map(|p| {
                p.connections
                    .iter()
                    .flat_map(|(_, c)| c.rooms.iter().map(|r| r.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// True when `user` has a connection here.
    pub fn is_online(&self, user: &str) -> bool {
        self.lock().people.contains_key(user)
    }

    /// The name `user` has now, if connected here.
    pub fn name_of(&self, user: &str) -> Option<Arc<str>> {
        self.lock().people.get(user).map(|p| p.name.clone())
    }

    /// `user`'s away reason (`Some("")`: away without one).
    pub fn away_of(&self, user: &str) -> Option<String> {
        self.lock().away.get(user).cloned()
    }

    /// Marks `user` away (`Some`) or back (`None`). False when it was
    /// already in that state.
    pub fn set_away(&self, user: &str, away: Option<String>) -> bool {
        let mut inner = self.lock();
        match away {
            Some(reason) => inner.away.insert(user.to_owned(), reason.clone()) != Some(reason),
            None => inner.away.remove(user).is_some(),
        }
    }

    /// `user` is now called `name`.
    pub fn rename(&self, user: &str, name: &Arc<str>) {
        if let Some(p) = self.lock().people.get_mut(user) {
            p.name = name.clone();
        }
    }

    /// The room's topic as last delivered here (`None`: none, or cleared).
    pub fn topic(&self, room: &str) -> Option<String> {
        self.lock().topics.get(room).cloned()
    }

    /// Remembers the room's topic (empty clears it).
    pub fn set_topic(&self, room: &str, topic: &str) {
        let mut inner = self.lock();
        if topic.is_empty() {
            inner.topics.remove(room);
        } else {
            inner.topics.insert(room.to_owned(), topic.to_owned());
        }
    }

    /// Lists the room in the directory (`true`, the default) or hides it.
    pub fn set_visible(&self, room: &str, visible: bool) {
        let mut inner = self.lock();
        if visible {
            inner.hidden.remove(room);
        } else {
            inner.hidden.insert(room.to_owned());
        }
    }

    /// Whether the directory lists the room.
    pub fn is_visible(&self, room: &str) -> bool {
        !self.lock().hidden.contains(room)
    }

    /// Every listed room with members here, and those members' identities.
    pub fn room_members(&self) -> BTreeMap<String, HashSet<Arc<str>>> {
        let inner = self.lock();
        let mut rooms: BTreeMap<String, HashSet<Arc<str>>> = BTreeMap::new();
        for (user, person) in &inner.people {
            for (_, c) in &person.connections {
                for room in c.rooms.iter().filter(|r| !inner.hidden.contains(&***r)) {
                    rooms
                        .entry(room.to_string())
                        .or_default()
                        .insert(user.clone());
                }
            }
        }
        rooms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(d: &Directory, user: &str, connection: u64) -> crate::outbound::Receiver {
        let (outbound, rx) = Outbound::new(connection, 16);
        d.attach(&Arc::from(user), &Arc::from(user), &outbound);
        rx
    }

    #[test]
    fn hidden_rooms_and_conversations_stay_out_of_the_directory() {
        let d = Directory::default();
        let _a = connect(&d, "u_a", 1);
        let _b = connect(&d, "u_b", 2);
        for (user, connection, room) in [
            ("u_a", 1, "dev"),
            ("u_b", 2, "dev"),
            ("u_a", 1, "secret"),
            ("u_a", 1, "@u_a+u_b"),
        ] {
            d.in_room(user, connection, room, true);
        }
        let listed = |d: &Directory| -> Vec<(String, usize)> {
            d.room_members()
                .into_iter()
                .map(|(room, members)| (room, members.len()))
                .collect()
        };
        assert!(d.is_visible("secret"));
        d.set_visible("secret", false);
        assert!(!d.is_visible("secret"));
        let rooms = listed(&d);
        assert!(rooms.contains(&("dev".to_string(), 2)), "{rooms:?}");
        assert!(
            !rooms.iter().any(|(r, _)| r == "secret"),
            "hidden: {rooms:?}"
        );
        d.set_visible("secret", true);
        assert!(listed(&d).iter().any(|(r, _)| r == "secret"));
    }

    #[test]
    fn away_is_forgotten_with_the_last_connection() {
        let d = Directory::default();
        let _a = connect(&d, "u_a", 1);
        let _a2 = connect(&d, "u_a", 2);
        assert!(d.set_away("u_a", Some("lunch".into())));
        assert!(!d.set_away("u_a", Some("lunch".into())), "no change");
        assert!(!d.detach("u_a", 1));
        assert_eq!(d.away_of("u_a").as_deref(), Some("lunch"));
        assert!(d.detach("u_a", 2));
        assert_eq!(d.away_of("u_a"), None);
    }
}

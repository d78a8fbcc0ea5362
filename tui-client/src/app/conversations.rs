//! Direct-message conversations (`/msg`, `/query`, and one arriving by
//! itself), and what people say about themselves: new names (`/nick`)
//! and being away (`/away`, `/back`).
//!
//! A conversation is a buffer like a room, under its key
//! (`@<uid1>+<uid2>`, [`protocol::dm`]), listed after the rooms and named
//! by the other person's current name. It is joined, resumed and written
//! to like a room; the outbox keeps its lines by the same rules.

use protocol::{AckResult, ClientEvent, DmSummary, ErrorCode, Member, UserRef};

use super::{App, Effect, EntryKind, Now, Request, Room};
use crate::sanitize;

impl App {
    /// Puts a buffer in the sidebar, rooms before conversations, and
    /// returns where it went (the current one stays current).
    pub(super) fn insert_buffer(&mut self, room: Room) -> usize {
        let at = if room.is_dm() {
            self.rooms.len()
        } else {
            self.rooms
                .iter()
                .position(Room::is_dm)
                .unwrap_or(self.rooms.len())
        };
        if at <= self.current && !self.rooms.is_empty() {
            self.current += 1;
        }
        self.rooms.insert(at, room);
        at
    }

    /// The conversation with the person called `name` (compared by the
    /// look-alike key names are told apart by), if there is a buffer.
    pub(super) fn conversation_with(&self, name: &str) -> Option<usize> {
        let key = protocol::validate::name_key(name);
        self.rooms.iter().position(|r| {
            r.peer
                .as_ref()
                .is_some_and(|p| protocol::validate::name_key(&p.name) == key)
        })
    }

    /// `/query NAME` (`text: None`) or `/msg NAME TEXT`: to the buffer
    /// when there is one, else the server is asked for the conversation.
    pub(super) fn open_conversation(
        &mut self,
        name: String,
        text: Option<String>,
        now: Now,
        fx: &mut Vec<Effect>,
    ) -> bool {
        if protocol::validate::name_key(&name) == protocol::validate::name_key(&self.me) {
            self.error("that is you: /msg and /query are for someone else");
            return false;
        }
        if let Some(i) = self.conversation_with(&name) {
            match text {
                Some(text) => return self.post_text_to(i, text, now, fx),
                None => self.switch_to(i),
            }
            return true;
        }
        if !self.connected() {
            self.error("opening a conversation needs a connection: try again once connected");
            return false;
        }
        let id = self.next_id();
        self.requests.insert(
            id.clone(),
            Request::Query {
                name: name.clone(),
                text,
                key: None,
            },
        );
        fx.push(Effect::Send(ClientEvent::Query { id, name }));
        true
    }

    /// A `room_state` for a conversation: its buffer (opened when there is
    /// none), and the `/query` or `/msg` waiting for it learns its key
    /// (matched by the other person's name, as names are told apart).
    pub(super) fn conversation_state(&mut self, key: &str, users: &[Member]) -> Option<usize> {
        let peer_id = protocol::dm::peer(key, &self.me_id)?.to_string();
        let peer = users
            .iter()
            .find(|u| u.id == peer_id && !u.name.trim().is_empty())
            .map(|u| UserRef {
                id: u.id.clone(),
                name: sanitize::one_line(&u.name),
            });
        if let Some(peer) = &peer {
            let wanted = protocol::validate::name_key(&peer.name);
            let waiting = self
                .requests
                .iter_mut()
                .filter(|(_, r)| {
                    matches!(r, Request::Query { key: None, name, .. }
                        if protocol::validate::name_key(name) == wanted)
                })
                .min_by_key(|(id, _)| request_number(id));
            if let Some((_, Request::Query { key: k, .. })) = waiting {
                *k = Some(key.to_string());
            }
        }
        if let Some(i) = self.room_index(key) {
            return Some(i);
        }
        let peer = peer.unwrap_or(UserRef {
            name: peer_id.clone(),
            id: peer_id,
        });
        Some(self.insert_buffer(Room::conversation(key, peer)))
    }

    /// The `/query` or `/msg` was answered: the buffer is open (and
    /// current, for `/query`), and the line of `/msg` goes out.
    pub(super) fn queried(
        &mut self,
        text: Option<String>,
        key: Option<String>,
        now: Now,
        fx: &mut Vec<Effect>,
    ) {
        let Some(key) = key else { return };
        self.joined(&key, now, fx);
        let Some(i) = self.room_index(&key) else {
            return;
        };
        match text {
            Some(text) => {
                self.post_text_to(i, text, now, fx);
            }
            None => self.switch_to(i),
        }
    }

    /// A message or location in a conversation this client shows no
    /// buffer for: the buffer opens by itself (the caller joins it once
    /// the message is in, resuming after it).
    pub(super) fn conversation_arrived(
        &mut self,
        key: &str,
        user: &str,
        from: &str,
        seq: u64,
    ) -> Option<usize> {
        let peer_id = protocol::dm::peer(key, &self.me_id)?;
        let name = if user == peer_id {
            sanitize::one_line(from)
        } else {
            peer_id.to_string()
        };
        let mut room = Room::conversation(
            key,
            UserRef {
                id: peer_id.to_string(),
                name,
            },
        );
        // Older lines are one PgUp away.
        room.more_before = seq > 1;
        Some(self.insert_buffer(room))
    }

    /// The conversations of the welcome: a buffer for each one not shown
    /// yet (they are joined with the rooms).
    pub(super) fn restore_conversations(&mut self, dms: Vec<DmSummary>) {
        for dm in dms.into_iter().rev() {
            if self.room_index(&dm.room).is_some()
                || protocol::dm::peer(&dm.room, &self.me_id).is_none()
            {
                continue;
            }
            let peer = UserRef {
                id: dm.peer.id,
                name: sanitize::one_line(&dm.peer.name),
            };
            self.insert_buffer(Room::conversation(dm.room, peer));
        }
    }

    /// `/nick NAME`.
    pub(super) fn ask_nick(&mut self, name: String, fx: &mut Vec<Effect>) -> bool {
        if !self.require_connection("/nick") {
            return false;
        }
        let id = self.next_id();
        self.requests
            .insert(id.clone(), Request::Nick(name.clone()));
        fx.push(Effect::Send(ClientEvent::Nick { id, name }));
        true
    }

    /// Someone's new name, shown where they appear; yours everywhere.
    pub(super) fn on_renamed(&mut self, user: &str, old: &str, name: &str, ts: i64) {
        let me = self.who();
        if user == self.me_id {
            self.me = sanitize::one_line(name);
            for room in &mut self.rooms {
                if !room.renamed(user, old, name, ts, &me) {
                    let text = format!("you are now known as {}", self.me);
                    room.push(super::Entry::new(ts, EntryKind::Notice(text)));
                }
            }
            return;
        }
        for room in &mut self.rooms {
            room.renamed(user, old, name, ts, &me);
        }
    }

    /// `/away [REASON]` and `/back`.
    pub(super) fn ask_away(&mut self, reason: Option<String>, fx: &mut Vec<Effect>) {
        if !self.require_connection("/away") {
            return;
        }
        let id = self.next_id();
        self.requests
            .insert(id.clone(), Request::Away(reason.clone()));
        fx.push(Effect::Send(ClientEvent::Away { id, reason }));
    }

    pub(super) fn ask_back(&mut self, fx: &mut Vec<Effect>) {
        if !self.require_connection("/back") {
            return;
        }
        let id = self.next_id();
        self.requests.insert(id.clone(), Request::Back);
        fx.push(Effect::Send(ClientEvent::Back { id }));
    }

    /// Whether someone is away: `Some(reason)` (empty without one).
    pub fn away_reason(&self, user: &str) -> Option<&str> {
        self.away.get(user).map(String::as_str)
    }

    /// The line of yours in a conversation went to someone away.
    pub(super) fn away_notice(&mut self, room: &str, name: &str, reason: &str, now: Now) {
        let name = sanitize::one_line(name);
        let reason = sanitize::one_line(reason);
        let text = if reason.is_empty() {
            format!("{name} is away")
        } else {
            format!("{name} is away: {reason}")
        };
        match self.room_index(room) {
            Some(i) => self.rooms[i].notice(now.wall_ms, text),
            None => self.info(text),
        }
    }
}

impl App {
    /// The answer to `/query`, `/msg`, `/nick`, `/away`, `/back`,
    /// `/whois`, `/list` or `/topic`.
    pub(super) fn on_conversation_ack(
        &mut self,
        request: Request,
        result: AckResult,
        now: Now,
        fx: &mut Vec<Effect>,
    ) {
        let err = match result {
            AckResult::Ok { .. } => {
                match request {
                    Request::Query { text, key, .. } => self.queried(text, key, now, fx),
                    Request::Away(reason) => self.info(match reason {
                        Some(r) => format!("you are marked away: {r} (/back when you are back)"),
                        None => "you are marked away (/back when you are back)".into(),
                    }),
                    Request::Back => self.info("you are back"),
                    _ => {}
                }
                return;
            }
            AckResult::Err(err) => err,
        };
        let message = sanitize::one_line(&err.message);
        let text = match request {
            Request::Query { name, text, .. } => {
                // The line of a /msg is not lost: back in the input line.
                if let Some(text) = text
                    && self.editor.text().is_empty()
                {
                    let line = format!("/msg {name} {text}");
                    let len = line.chars().count();
                    self.editor.set(line, len);
                }
                match err.code {
                    ErrorCode::NotFound => format!("nobody is called {name}"),
                    _ => format!("cannot write to {name}: {message}"),
                }
            }
            Request::Nick(name) => format!("cannot change your name to {name}: {message}"),
            Request::Whois(name) if err.code == ErrorCode::NotFound => {
                format!("nobody is called {name}")
            }
            Request::Topic(room) => format!("cannot set the topic of #{room}: {message}"),
            _ => format!("server: {message}"),
        };
        self.error(text);
    }
}

/// The number at the end of a request id (`prefix-7`), for their order.
fn request_number(id: &str) -> u64 {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

//! A room's members on this instance: who they are, the highest message
//! they were all handed, who left and is still to be announced, and the
//! broadcast.
//!
//! The broadcast never waits: a member whose outbound queue is full (or
//! already closed) is removed on the spot, and its departure is announced
//! after the command at hand.

use std::sync::Arc;

use protocol::moderation::ModAction;
use protocol::{Seq, ServerEvent, UserRef};

use crate::clock::now_ms;
use crate::conversations::Directory;
use crate::frame::Frame;
use crate::moderation::rules::RoomRules;
use crate::outbound::{Outbound, QueueError};

/// A connection in a room, as the room sees it: the identity and device it
/// is signed in as, and its queue.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: Arc<str>,
    /// The identity's id (`u_...`).
    pub user: Arc<str>,
    /// The device's id (`d_...`).
    pub device: Arc<str>,
    pub outbound: Outbound,
}

impl Member {
    pub fn id(&self) -> u64 {
        self.outbound.connection_id
    }
}

/// Someone who went away and whose departure is still to be announced.
#[derive(Debug)]
pub(super) struct Departure {
    pub connection_id: u64,
    pub name: Arc<str>,
    pub user: Arc<str>,
    /// No other connection of the identity is left here.
    pub last_here: bool,
}

/// The members of one room on this instance.
#[derive(Debug)]
pub struct Members {
    /// The room's name, as frames carry it.
    room: Arc<str>,
    /// Connections, in join order (an identity may have several).
    joined: Vec<Member>,
    /// Highest sequence number broadcast here.
    delivered: Seq,
    departed: Vec<Departure>,
    /// The identities connected here, for conversations and topics.
    directory: Arc<Directory>,
    /// For a direct-message conversation, its two identities: its events go
    /// to every connection of both here, joined or not.
    dm: Option<[Arc<str>; 2]>,
    /// The room's current topic.
    topic: Option<String>,
    /// Who may do what here: kept current by the `moderation` events
    /// delivered.
    pub(super) rules: RoomRules,
}

impl Members {
    /// No members yet; everything up to `delivered` counts as delivered.
    pub(super) fn new(room: Arc<str>, delivered: Seq, directory: Arc<Directory>) -> Self {
        let dm = protocol::dm::parse_key(&room).map(|(a, b)| [Arc::from(a), Arc::from(b)]);
        Members {
            room,
            joined: Vec::new(),
            delivered,
            departed: Vec::new(),
            directory,
            dm,
            topic: None,
            rules: RoomRules::default(),
        }
    }

    /// True for a direct-message conversation.
    pub fn is_dm(&self) -> bool {
        self.dm.is_some()
    }

    /// The room's current topic.
    pub fn topic(&self) -> Option<String> {
        self.topic.clone()
    }

    /// Sets the room's current topic (empty clears it).
    pub(super) fn set_topic(&mut self, text: &str) {
        self.topic = (!text.is_empty()).then(|| text.to_owned());
        self.directory.set_topic(&self.room, text);
    }

    /// The identities connected here.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }

    /// Every connection here of identity `user` now goes by `name`.
    pub(super) fn rename(&mut self, user: &str, name: &Arc<str>) {
        for m in self.joined.iter_mut().filter(|m| &*m.user == user) {
            m.name = name.clone();
        }
    }

    pub fn room(&self) -> &Arc<str> {
        &self.room
    }

    /// Highest sequence number broadcast here.
    pub fn delivered(&self) -> Seq {
        self.delivered
    }

    /// Nobody here and no departure left to announce.
    pub(super) fn is_empty(&self) -> bool {
        self.joined.is_empty() && self.departed.is_empty()
    }

    /// Whether a connection of this identity is here.
    pub(super) fn has_user(&self, user: &str) -> bool {
        self.joined.iter().any(|m| &*m.user == user)
    }

    /// The identities here, each once, in the order they joined.
    pub fn users(&self) -> Vec<UserRef> {
        let mut users: Vec<UserRef> = Vec::new();
        for m in &self.joined {
            if !users.iter().any(|u| u.id == *m.user) {
                users.push(UserRef {
                    id: m.user.to_string(),
                    name: m.name.to_string(),
                });
            }
        }
        users
    }

    pub(super) fn get(&self, connection_id: u64) -> Option<&Member> {
        self.joined.iter().find(|m| m.id() == connection_id)
    }

    /// The first connection here of this identity.
    pub fn id_of(&self, user: &str) -> Option<u64> {
        self.joined
            .iter()
            .find(|m| &*m.user == user)
            .map(Member::id)
    }

    pub(super) fn add(&mut self, member: Member) {
        self.joined.push(member);
    }

    /// Removes a member here and queues the announcement of its departure.
    pub(super) fn remove(&mut self, connection_id: u64) -> Option<Member> {
        let index = self.joined.iter().position(|m| m.id() == connection_id)?;
        let member = self.joined.remove(index);
        self.departed.push(Departure {
            connection_id,
            name: member.name.clone(),
            user: member.user.clone(),
            last_here: !self.has_user(&member.user),
        });
        Some(member)
    }

    /// Everyone who left since the last call.
    pub(super) fn take_departed(&mut self) -> Vec<Departure> {
        std::mem::take(&mut self.departed)
    }

    /// Broadcasts message `seq`, the next one in order.
    pub fn deliver(&mut self, seq: Seq, frame: &Frame) {
        self.delivered = seq;
        if frame.as_str().starts_with(r#"{"type":"topic""#)
            && let Ok(ServerEvent::Topic { text, .. }) = protocol::decode_server(frame.as_str())
        {
            self.set_topic(&text);
        }
        match &self.dm {
            Some([a, b]) => {
                let queued = self.directory.deliver(&[a, b], frame);
                crate::metrics::delivered(queued as u64);
            }
            None => self.broadcast(frame, None),
        }
        if frame.as_str().starts_with(r#"{"type":"moderation""#)
            && let Ok(event) = protocol::decode_server(frame.as_str())
        {
            self.apply_moderation(&event);
        }
    }

    /// A `moderation` event was delivered: the room's rules change, and a
    /// kicked or banned identity's connections here are told (`removed`)
    /// and taken out of the room.
    fn apply_moderation(&mut self, event: &ServerEvent) {
        self.rules.record.apply(event);
        let ServerEvent::Moderation {
            action: action @ (ModAction::Kick | ModAction::Ban),
            actor,
            target: Some(target),
            reason,
            ..
        } = event
        else {
            return;
        };
        let removed = ServerEvent::Removed {
            room: self.room.to_string(),
            action: *action,
            by: actor.clone(),
            reason: reason.clone(),
        };
        let gone: Vec<(u64, Outbound)> = self
            .joined
            .iter()
            .filter(|m| *m.user == target.id)
            .map(|m| (m.id(), m.outbound.clone()))
            .collect();
        for (id, outbound) in gone {
            let _ = outbound.send(&removed);
            self.directory.in_room(&target.id, id, &self.room, false);
            self.remove(id);
        }
    }

    /// Counts everything up to `seq` as delivered without sending it (the
    /// log no longer has it).
    pub fn skip_to(&mut self, seq: Seq) {
        self.delivered = self.delivered.max(seq);
    }

    /// Hands the same bytes to every member here (but `except`). Members
    /// whose queue is full or closed are removed; their departure is
    /// announced after the current command.
    pub fn broadcast(&mut self, frame: &Frame, except: Option<u64>) {
        let mut dropped = Vec::new();
        let mut queued = 0;
        for member in &self.joined {
            if Some(member.id()) == except {
                continue;
            }
            match member.outbound.push(frame.clone()) {
                Ok(()) => queued += 1,
                Err(e) => {
                    if e == QueueError::Slow {
                        tracing::info!(room = %self.room, name = %member.name, "slow consumer disconnected");
                    }
                    dropped.push(member.id());
                }
            }
        }
        crate::metrics::delivered(queued);
        for id in dropped {
            self.remove(id);
        }
    }

    /// `user_joined` for identity `user` called `name`, now.
    pub fn joined_frame(&self, name: &str, user: &str) -> Frame {
        Frame::encode(&ServerEvent::UserJoined {
            room: self.room.to_string(),
            name: name.to_owned(),
            user: user.to_owned(),
            role: self.rules.role_of(user),
            ts: now_ms(),
        })
    }

    /// `user_left` for identity `user` called `name`, now.
    pub fn left_frame(&self, name: &str, user: &str) -> Frame {
        Frame::encode(&ServerEvent::UserLeft {
            room: self.room.to_string(),
            name: name.to_owned(),
            user: user.to_owned(),
            ts: now_ms(),
        })
    }
}

//! A room's members on this instance: who they are, the highest message
//! they were all handed, who left and is still to be announced, and the
//! broadcast.
//!
//! The broadcast never waits: a member whose outbound queue is full (or
//! already closed) is removed on the spot, and its departure is announced
//! after the command at hand.

use std::collections::HashSet;
use std::sync::Arc;

use protocol::{Seq, ServerEvent};

use crate::clock::now_ms;
use crate::frame::Frame;
use crate::outbound::{Outbound, QueueError};

/// A connection in a room, as the room sees it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: Arc<str>,
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
}

/// The members of one room on this instance.
#[derive(Debug)]
pub struct Members {
    /// The room's name, as frames carry it.
    room: Arc<str>,
    /// In join order.
    joined: Vec<Member>,
    /// Name keys of `joined`: names are unique per room, ignoring case.
    names: HashSet<String>,
    /// Highest sequence number broadcast here.
    delivered: Seq,
    departed: Vec<Departure>,
}

impl Members {
    /// No members yet; everything up to `delivered` counts as delivered.
    pub(super) fn new(room: Arc<str>, delivered: Seq) -> Self {
        Members {
            room,
            joined: Vec::new(),
            names: HashSet::new(),
            delivered,
            departed: Vec::new(),
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

    /// Whether a member here has this name key.
    pub(super) fn has_name(&self, name_key: &str) -> bool {
        self.names.contains(name_key)
    }

    /// The names here, in join order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.joined.iter().map(|m| &*m.name)
    }

    pub(super) fn get(&self, connection_id: u64) -> Option<&Member> {
        self.joined.iter().find(|m| m.id() == connection_id)
    }

    /// The connection here whose name has this key.
    pub fn id_of(&self, name_key: &str) -> Option<u64> {
        self.joined
            .iter()
            .find(|m| protocol::validate::name_key(&m.name) == name_key)
            .map(Member::id)
    }

    pub(super) fn add(&mut self, member: Member, name_key: String) {
        self.names.insert(name_key);
        self.joined.push(member);
    }

    /// Removes a member here and queues the announcement of its departure.
    pub(super) fn remove(&mut self, connection_id: u64) -> Option<Member> {
        let index = self.joined.iter().position(|m| m.id() == connection_id)?;
        let member = self.joined.remove(index);
        self.names
            .remove(&protocol::validate::name_key(&member.name));
        self.departed.push(Departure {
            connection_id,
            name: member.name.clone(),
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
        self.broadcast(frame, None);
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

    /// `user_joined` for `name`, now.
    pub fn joined_frame(&self, name: &str) -> Frame {
        Frame::encode(&ServerEvent::UserJoined {
            room: self.room.to_string(),
            name: name.to_owned(),
            ts: now_ms(),
        })
    }

    /// `user_left` for `name`, now.
    pub fn left_frame(&self, name: &str) -> Frame {
        Frame::encode(&ServerEvent::UserLeft {
            room: self.room.to_string(),
            name: name.to_owned(),
            ts: now_ms(),
        })
    }
}

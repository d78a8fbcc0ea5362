//! A room's members on this instance: who they are, the highest message
//! they were all handed, who left and is still to be announced, and the
//! broadcast.
//!
//! The broadcast never waits: a member whose outbound queue is full (or
//! already closed) is removed on the spot, and its departure is announced
//! after the command at hand.

use std::sync::Arc;

use protocol::{Seq, ServerEvent, UserRef};

use crate::clock::now_ms;
use crate::frame::Frame;
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
}

impl Members {
    /// No members yet; everything up to `delivered` counts as delivered.
    pub(super) fn new(room: Arc<str>, delivered: Seq) -> Self {
        Members {
            room,
            joined: Vec::new(),
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

    /// `user_joined` for identity `user` called `name`, now.
    pub fn joined_frame(&self, name: &str, user: &str) -> Frame {
        Frame::encode(&ServerEvent::UserJoined {
            room: self.room.to_string(),
            name: name.to_owned(),
            user: user.to_owned(),
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

//! One task per room: it owns the member list and the sequence counter, so
//! presence and ordering need no locks. Connections talk to it through a
//! bounded command queue; it talks to connections only through their
//! [`Outbound`] queues and never waits on them.

use std::collections::HashSet;
use std::sync::Arc;

use protocol::{ErrorCode, Seq, ServerEvent};
use tokio::sync::{mpsc, oneshot};

use crate::clock::now_ms;
use crate::outbound::{Frame, Outbound, QueueError};
use crate::registry::Registry;

/// Capacity of a room's command queue. Senders wait when it is full, which
/// slows down only the connections talking to a busy room.
pub const COMMAND_QUEUE: usize = 256;

/// A connection in a room, as the room sees it.
#[derive(Debug, Clone)]
pub struct Member {
    pub name: Arc<str>,
    pub outbound: Outbound,
}

impl Member {
    fn id(&self) -> u64 {
        self.outbound.connection_id
    }
}

/// What a member asked for in a room.
#[derive(Debug)]
pub enum Post {
    Text { text: String, action: bool },
    Location { latitude: f64, longitude: f64 },
}

/// Requests to a room's task.
#[derive(Debug)]
pub enum RoomCommand {
    /// Add a member. The room answers the joiner itself (`room_state` then
    /// the `ack`, or a failed `ack`) and reports the outcome on `reply`.
    Join {
        member: Member,
        request_id: String,
        reply: oneshot::Sender<Result<(), ErrorCode>>,
    },
    /// Remove a member; `request_id` is set when the member asked to leave
    /// (and gets an `ack`), unset when its connection went away.
    Leave {
        connection_id: u64,
        request_id: Option<String>,
    },
    /// A message or location from a member.
    Post {
        connection_id: u64,
        request_id: String,
        post: Post,
    },
}

/// The room's state, owned by its task.
#[derive(Debug)]
pub struct Room {
    name: Arc<str>,
    /// In join order, which is the order `room_state` lists them in.
    members: Vec<Member>,
    /// Lower-cased names, for case-insensitive uniqueness.
    names: HashSet<String>,
    last_seq: Seq,
}

impl Room {
    pub fn new(name: Arc<str>, last_seq: Seq) -> Self {
        Room {
            name,
            members: Vec::new(),
            names: HashSet::new(),
            last_seq,
        }
    }

    /// Runs the room until it is empty and nobody is about to join, then
    /// retires it from the registry.
    pub async fn run(mut self, mut commands: mpsc::Receiver<RoomCommand>, registry: Arc<Registry>) {
        let mut batch = Vec::with_capacity(64);
        loop {
            if commands.recv_many(&mut batch, 64).await == 0 {
                return;
            }
            for command in batch.drain(..) {
                self.handle(command);
            }
            if self.members.is_empty() && registry.retire(&self.name, &commands, self.last_seq) {
                tracing::debug!(room = %self.name, "room empty, retired");
                return;
            }
        }
    }

    fn handle(&mut self, command: RoomCommand) {
        match command {
            RoomCommand::Join {
                member,
                request_id,
                reply,
            } => {
                let result = self.join(member, request_id);
                // The joiner may have gone away meanwhile; nothing to do then.
                let _ = reply.send(result);
            }
            RoomCommand::Leave {
                connection_id,
                request_id,
            } => self.leave(connection_id, request_id),
            RoomCommand::Post {
                connection_id,
                request_id,
                post,
            } => self.post(connection_id, request_id, post),
        }
    }

    fn join(&mut self, member: Member, request_id: String) -> Result<(), ErrorCode> {
        let key = protocol::validate::name_key(&member.name);
        if self.names.contains(&key) {
            let message = format!(
                "the name {:?} is already used in room {}",
                &*member.name, self.name
            );
            let _ = member.outbound.send(&ServerEvent::ack_err(
                request_id,
                ErrorCode::NameTaken,
                message,
            ));
            return Err(ErrorCode::NameTaken);
        }
        let name = member.name.clone();
        let id = member.id();
        self.names.insert(key);
        self.members.push(member);
        let state = ServerEvent::RoomState {
            room: self.name.to_string(),
            users: self.members.iter().map(|m| m.name.to_string()).collect(),
        };
        if let Some(joiner) = self.members.last() {
            let queued = joiner
                .outbound
                .send(&state)
                .and_then(|()| joiner.outbound.send(&ServerEvent::ack_ok(request_id, None)));
            if queued.is_err() {
                self.drop_members(vec![id]);
                return Err(ErrorCode::SlowConsumer);
            }
        }
        let joined = Frame::encode(&ServerEvent::UserJoined {
            room: self.name.to_string(),
            name: name.to_string(),
            ts: now_ms(),
        });
        self.broadcast(&joined, Some(id));
        Ok(())
    }

    fn leave(&mut self, connection_id: u64, request_id: Option<String>) {
        let Some(member) = self.remove(connection_id) else {
            if let Some(id) = request_id {
                tracing::debug!(room = %self.name, request = id, "leave from a non-member");
            }
            return;
        };
        if let Some(id) = request_id {
            let _ = member.outbound.send(&ServerEvent::ack_ok(id, None));
        }
        self.announce_left(&member.name);
    }

    fn post(&mut self, connection_id: u64, request_id: String, post: Post) {
        let Some(sender) = self.members.iter().find(|m| m.id() == connection_id) else {
            // The sender was dropped as a slow consumer while its request was
            // queued; its connection is closing and needs no answer.
            return;
        };
        self.last_seq += 1;
        let seq = self.last_seq;
        let room = self.name.to_string();
        let from = sender.name.to_string();
        let ts = now_ms();
        let event = match post {
            Post::Text { text, action } => ServerEvent::Message {
                room,
                seq,
                ts,
                from,
                id: request_id.clone(),
                text,
                action,
            },
            Post::Location {
                latitude,
                longitude,
            } => ServerEvent::Location {
                room,
                seq,
                ts,
                from,
                id: request_id.clone(),
                latitude,
                longitude,
            },
        };
        let _ = sender
            .outbound
            .send(&ServerEvent::ack_ok(request_id, Some(seq)));
        self.broadcast(&Frame::encode(&event), None);
    }

    /// Hands the same bytes to every member (but `except`). Members whose
    /// queue is full or closed are removed afterwards, and their departure
    /// announced, which may in turn find more.
    fn broadcast(&mut self, frame: &Frame, except: Option<u64>) {
        let mut dropped = Vec::new();
        for member in &self.members {
            if Some(member.id()) == except {
                continue;
            }
            if let Err(e) = member.outbound.push(frame.clone()) {
                if e == QueueError::Slow {
                    tracing::info!(room = %self.name, name = %member.name, "slow consumer disconnected");
                }
                dropped.push(member.id());
            }
        }
        self.drop_members(dropped);
    }

    fn drop_members(&mut self, ids: Vec<u64>) {
        for id in ids {
            if let Some(member) = self.remove(id) {
                self.announce_left(&member.name);
            }
        }
    }

    fn announce_left(&mut self, name: &str) {
        let left = Frame::encode(&ServerEvent::UserLeft {
            room: self.name.to_string(),
            name: name.to_string(),
            ts: now_ms(),
        });
        self.broadcast(&left, None);
    }

    fn remove(&mut self, connection_id: u64) -> Option<Member> {
        let index = self.members.iter().position(|m| m.id() == connection_id)?;
        let member = self.members.remove(index);
        self.names
            .remove(&protocol::validate::name_key(&member.name));
        Some(member)
    }
}

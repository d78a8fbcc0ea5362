//! One task per room: it owns the member list, the sequence counter and the
//! messages on their way to the store, so presence and ordering need no
//! locks. Connections talk to it through a bounded command queue; it talks
//! to connections only through their [`Outbound`] queues and never waits on
//! them.
//!
//! A message's life: the room numbers it, serializes it once and hands it to
//! the [`Store`]. When the store reports the commit, the room acknowledges
//! the sender and broadcasts the same bytes to every member. So nobody sees
//! (and no sender is told about) a message that a crash could still lose.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use protocol::{ErrorCode, Seq, ServerEvent};
use tokio::sync::{mpsc, oneshot};

use crate::clock::now_ms;
use crate::outbound::{Frame, Outbound, QueueError};
use crate::registry::Registry;
use crate::store::{Committed, Record, Store};

/// Capacity of a room's command queue. Senders wait when it is full, which
/// slows down only the connections talking to a busy room.
pub const COMMAND_QUEUE: usize = 256;
/// How many recent (sender, request id) pairs a room remembers to recognise
/// a resent message.
const RECENT_IDS: usize = 4096;

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

/// Where a joiner's history should start.
#[derive(Debug, Default)]
pub struct Resume {
    pub since: Option<Seq>,
    pub epoch: Option<String>,
}

/// Requests to a room's task.
#[derive(Debug)]
pub enum RoomCommand {
    /// Add a member. The room answers the joiner itself (`room_state`,
    /// `history`, then the `ack`; or a failed `ack`) and reports the outcome
    /// on `reply`.
    Join {
        member: Member,
        request_id: String,
        resume: Resume,
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
    /// Older messages for a member.
    History {
        connection_id: u64,
        request_id: String,
        before: Seq,
        limit: u32,
    },
}

/// How much history a room hands out.
#[derive(Debug, Clone, Copy)]
pub struct HistoryLimits {
    /// Messages sent to a joiner that is not resuming.
    pub on_join: u32,
    /// Most messages replayed to a resuming joiner; beyond this it gets the
    /// latest page and a count of what it missed.
    pub resume: u64,
}

/// A message numbered and sent to the store, not yet committed.
#[derive(Debug)]
struct Pending {
    seq: Seq,
    frame: Frame,
    /// Everyone to acknowledge once it is durable (a resend adds itself).
    acks: Vec<(Outbound, String)>,
}

/// The room's state, owned by its task.
#[derive(Debug)]
pub struct Room {
    name: Arc<str>,
    /// In join order, which is the order `room_state` lists them in.
    members: Vec<Member>,
    /// Lower-cased names, for case-insensitive uniqueness.
    names: HashSet<String>,
    /// Highest number handed out.
    last_seq: Seq,
    /// Highest number committed and broadcast.
    committed: Seq,
    pending: VecDeque<Pending>,
    recent: HashMap<(String, String), Seq>,
    recent_order: VecDeque<(String, String)>,
    store: Store,
    limits: HistoryLimits,
}

impl Room {
    /// Runs the room until it is empty, has nothing in flight and nobody is
    /// about to join; then retires it from the registry.
    pub async fn run(
        name: Arc<str>,
        mut commands: mpsc::Receiver<RoomCommand>,
        registry: Arc<Registry>,
        store: Store,
        limits: HistoryLimits,
    ) {
        let start = match store.start_room(name.clone(), RECENT_IDS).await {
            Ok(start) => start,
            Err(e) => {
                tracing::error!(room = %name, error = %e, "cannot open room");
                refuse_all(&mut commands, &registry, &name).await;
                return;
            }
        };
        let mut room = Room {
            name,
            members: Vec::new(),
            names: HashSet::new(),
            last_seq: start.last_seq,
            committed: start.last_seq,
            pending: VecDeque::new(),
            recent: HashMap::new(),
            recent_order: VecDeque::new(),
            store,
            limits,
        };
        for (sender, id, seq) in start.recent.into_iter().rev() {
            room.remember(sender, id, seq);
        }
        let (notify, mut commits) = mpsc::unbounded_channel();
        let mut batch = Vec::with_capacity(64);
        loop {
            tokio::select! {
                biased;
                Some(done) = commits.recv() => room.committed(done),
                n = commands.recv_many(&mut batch, 64) => {
                    if n == 0 {
                        return;
                    }
                    for command in batch.drain(..) {
                        room.handle(command, &notify).await;
                    }
                }
            }
            if room.members.is_empty()
                && room.pending.is_empty()
                && registry.retire(&room.name, &commands)
            {
                tracing::debug!(room = %room.name, "room empty, retired");
                return;
            }
        }
    }

    async fn handle(&mut self, command: RoomCommand, notify: &mpsc::UnboundedSender<Committed>) {
        match command {
            RoomCommand::Join {
                member,
                request_id,
                resume,
                reply,
            } => {
                let result = self.join(member, request_id, resume).await;
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
            } => self.post(connection_id, request_id, post, notify).await,
            RoomCommand::History {
                connection_id,
                request_id,
                before,
                limit,
            } => self.history(connection_id, request_id, before, limit).await,
        }
    }

    async fn join(
        &mut self,
        member: Member,
        request_id: String,
        resume: Resume,
    ) -> Result<(), ErrorCode> {
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
        let state = ServerEvent::RoomState {
            room: self.name.to_string(),
            users: self
                .members
                .iter()
                .map(|m| m.name.to_string())
                .chain(std::iter::once(member.name.to_string()))
                .collect(),
        };
        let history = match self.history_for_joiner(&resume).await {
            Ok(frame) => frame,
            Err(()) => {
                let _ = member.outbound.send(&ServerEvent::ack_err(
                    request_id,
                    ErrorCode::Internal,
                    "could not read the room's history; try again",
                ));
                return Err(ErrorCode::Internal);
            }
        };
        let queued = member
            .outbound
            .send(&state)
            .and_then(|()| member.outbound.push(history))
            .and_then(|()| member.outbound.send(&ServerEvent::ack_ok(request_id, None)));
        if queued.is_err() {
            return Err(ErrorCode::SlowConsumer);
        }
        let name = member.name.clone();
        let id = member.id();
        self.names.insert(key);
        self.members.push(member);
        let joined = Frame::encode(&ServerEvent::UserJoined {
            room: self.name.to_string(),
            name: name.to_string(),
            ts: now_ms(),
        });
        self.broadcast(&joined, Some(id));
        Ok(())
    }

    /// The `history` frame for a joiner: exactly what it missed if it is
    /// resuming within the same epoch and bound, else the latest page (with
    /// the count it missed, if it was resuming). Only committed messages are
    /// read; anything newer reaches the joiner live, so nothing is sent twice.
    async fn history_for_joiner(&self, resume: &Resume) -> Result<Frame, ()> {
        let upto = self.committed;
        let since = match (&resume.since, &resume.epoch) {
            (Some(since), Some(epoch)) if epoch == self.store.epoch() && *since <= upto => {
                Some(*since)
            }
            _ => None,
        };
        let (after, limit, missed) = match since {
            Some(since) if upto - since <= self.limits.resume => (since, (upto - since) as u32, 0),
            Some(since) => (0, self.limits.on_join, upto - since),
            None => (0, self.limits.on_join, 0),
        };
        let page = if limit == 0 {
            Default::default()
        } else {
            self.store
                .page(self.name.clone(), after, upto, limit)
                .await
                .map_err(
                    |e| tracing::error!(room = %self.name, error = %e, "history read failed"),
                )?
        };
        let missed = missed.saturating_sub(page.frames.len() as u64);
        let frames: Vec<&str> = page.frames.iter().map(String::as_str).collect();
        let more = if since.is_some() && missed == 0 {
            // A complete resume; older pages are the client's to ask for.
            false
        } else {
            page.more
        };
        Ok(Frame::from_text(protocol::history_frame(
            &self.name, &frames, more, missed,
        )))
    }

    async fn history(&mut self, connection_id: u64, request_id: String, before: Seq, limit: u32) {
        let Some(member) = self.members.iter().find(|m| m.id() == connection_id) else {
            return;
        };
        let outbound = member.outbound.clone();
        let limit = limit.clamp(1, protocol::limits::MAX_HISTORY_PAGE);
        let upto = before.saturating_sub(1).min(self.committed);
        match self.store.page(self.name.clone(), 0, upto, limit).await {
            Ok(page) => {
                let frames: Vec<&str> = page.frames.iter().map(String::as_str).collect();
                let frame =
                    Frame::from_text(protocol::history_frame(&self.name, &frames, page.more, 0));
                let _ = outbound
                    .push(frame)
                    .and_then(|()| outbound.send(&ServerEvent::ack_ok(request_id, None)));
            }
            Err(e) => {
                tracing::error!(room = %self.name, error = %e, "history read failed");
                let _ = outbound.send(&ServerEvent::ack_err(
                    request_id,
                    ErrorCode::Internal,
                    "could not read the room's history; try again",
                ));
            }
        }
    }

    fn leave(&mut self, connection_id: u64, request_id: Option<String>) {
        let Some(member) = self.remove(connection_id) else {
            return;
        };
        if let Some(id) = request_id {
            let _ = member.outbound.send(&ServerEvent::ack_ok(id, None));
        }
        self.announce_left(&member.name);
    }

    async fn post(
        &mut self,
        connection_id: u64,
        request_id: String,
        post: Post,
        notify: &mpsc::UnboundedSender<Committed>,
    ) {
        let Some(sender) = self.members.iter().find(|m| m.id() == connection_id) else {
            // The sender was dropped as a slow consumer while its request was
            // queued; its connection is closing and needs no answer.
            return;
        };
        let outbound = sender.outbound.clone();
        let from = sender.name.to_string();
        let sender_key = protocol::validate::name_key(&from);

        // A resend of a message we already have: acknowledge it with its
        // original number (now, or when its commit completes), store nothing.
        let key = (sender_key, request_id);
        if let Some(&seq) = self.recent.get(&key) {
            let request_id = key.1;
            if seq <= self.committed {
                let _ = outbound.send(&ServerEvent::ack_ok(request_id, Some(seq)));
            } else if let Some(p) = self.pending.iter_mut().find(|p| p.seq == seq) {
                p.acks.push((outbound, request_id));
            }
            return;
        }
        let (sender_key, request_id) = key;

        self.last_seq += 1;
        let seq = self.last_seq;
        let room = self.name.to_string();
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
        let frame = Frame::encode(&event);
        let record = Record {
            room: self.name.clone(),
            seq,
            ts,
            sender_key: sender_key.clone(),
            client_id: request_id.clone(),
            frame: frame.as_str().to_owned(),
        };
        if let Err(e) = self.store.append(record, notify.clone()).await {
            tracing::error!(room = %self.name, error = %e, "cannot store message");
            self.last_seq -= 1;
            let _ = outbound.send(&ServerEvent::ack_err(
                request_id,
                ErrorCode::Internal,
                "the message could not be stored; try again",
            ));
            return;
        }
        self.remember(sender_key, request_id.clone(), seq);
        self.pending.push_back(Pending {
            seq,
            frame,
            acks: vec![(outbound, request_id)],
        });
    }

    /// The store finished a commit: acknowledge and broadcast everything up
    /// to `upto`, in order.
    fn committed(&mut self, done: Committed) {
        while self.pending.front().is_some_and(|p| p.seq <= done.upto) {
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            if done.ok {
                for (outbound, id) in &p.acks {
                    let _ = outbound.send(&ServerEvent::ack_ok(id.clone(), Some(p.seq)));
                }
                self.committed = p.seq;
                self.broadcast(&p.frame, None);
            } else {
                for (outbound, id) in &p.acks {
                    let _ = outbound.send(&ServerEvent::ack_err(
                        id.clone(),
                        ErrorCode::Internal,
                        "the message could not be stored; try again",
                    ));
                }
                self.forget(&p);
            }
        }
    }

    fn remember(&mut self, sender_key: String, request_id: String, seq: Seq) {
        let key = (sender_key, request_id);
        if self.recent.insert(key.clone(), seq).is_none() {
            self.recent_order.push_back(key);
        }
        while self.recent_order.len() > RECENT_IDS {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent.remove(&old);
            }
        }
    }

    /// A failed message must not be acknowledged as a duplicate later.
    fn forget(&mut self, failed: &Pending) {
        self.recent.retain(|_, seq| *seq != failed.seq);
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
        for id in dropped {
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

/// A room that cannot start answers joins with an error and retires.
async fn refuse_all(
    commands: &mut mpsc::Receiver<RoomCommand>,
    registry: &Registry,
    name: &Arc<str>,
) {
    loop {
        while let Ok(command) = commands.try_recv() {
            if let RoomCommand::Join {
                member,
                request_id,
                reply,
                ..
            } = command
            {
                let _ = member.outbound.send(&ServerEvent::ack_err(
                    request_id,
                    ErrorCode::Internal,
                    "the room is unavailable; try again",
                ));
                let _ = reply.send(Err(ErrorCode::Internal));
            }
        }
        if registry.retire(name, commands) {
            return;
        }
        tokio::task::yield_now().await;
    }
}

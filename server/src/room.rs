//! One task per room: it owns the member list, the sequence counter and the
//! messages on their way to storage, so presence and ordering need no
//! locks. Connections talk to it through a bounded command queue; it talks
//! to connections only through their [`Outbound`] queues and never waits on
//! them.
//!
//! A message's life on a single instance: the room numbers it, serializes it
//! once and hands it to the [`Store`]. When the store reports the commit,
//! the room acknowledges the sender and broadcasts the same bytes to every
//! member, so nobody sees (and no sender is told about) a message that a
//! crash could still lose.
//!
//! In cluster mode ([`Backend::Cluster`]) Redis numbers, stores and
//! publishes the message in one step; the room acknowledges the sender when
//! Redis has it and broadcasts what the room's channel delivers, in sequence
//! order, filling any gap from the shared log. Presence goes through Redis
//! too, so names are unique and user lists complete across the cluster.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use protocol::{ErrorCode, Seq, ServerEvent};
use tokio::sync::{mpsc, oneshot};

use crate::clock::now_ms;
use crate::cluster::{Cluster, Feed, FeedEvent};
use crate::frame::Frame;
use crate::outbound::{Outbound, QueueError};
use crate::registry::Registry;
use crate::store::{Committed, Page, Record, Store};

/// Capacity of a room's command queue. Senders wait when it is full, which
/// slows down only the connections talking to a busy room.
pub const COMMAND_QUEUE: usize = 256;
/// How many recent (sender, request id) pairs a single-instance room
/// remembers to recognise a resent message.
const RECENT_IDS: usize = 4096;
/// Most messages read back from the shared log in one go when filling a gap.
const GAP_CHUNK: u32 = 1000;

/// Where a room keeps its messages and presence.
#[derive(Debug, Clone)]
pub enum Backend {
    /// This instance alone, with history in the embedded store.
    Local(Store),
    /// Shared with the other instances through Redis.
    Cluster(Cluster, Feed),
}

impl Backend {
    /// The epoch clients compare to know whether their numbers still hold.
    pub fn epoch(&self) -> &str {
        match self {
            Backend::Local(store) => store.epoch(),
            Backend::Cluster(cluster, _) => cluster.epoch(),
        }
    }
}

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

/// State only a single-instance room has.
#[derive(Debug)]
struct LocalState {
    store: Store,
    /// Highest number handed out.
    last_seq: Seq,
    pending: VecDeque<Pending>,
    recent: HashMap<(String, String), Seq>,
    recent_order: VecDeque<(String, String)>,
    notify: mpsc::UnboundedSender<Committed>,
}

/// State only a cluster room has.
#[derive(Debug)]
struct ClusterState {
    cluster: Cluster,
    feed: Feed,
    /// Our member entries in Redis, by connection: (name key, entry).
    entries: HashMap<u64, (String, String)>,
}

#[derive(Debug)]
enum Mode {
    Local(LocalState),
    Cluster(ClusterState),
}

/// The room's state, owned by its task.
#[derive(Debug)]
pub struct Room {
    name: Arc<str>,
    /// This instance's members, in join order.
    members: Vec<Member>,
    /// Lower-cased names of this instance's members.
    names: HashSet<String>,
    /// Highest number broadcast to members here.
    delivered: Seq,
    /// Members who went away whose departure is still to be announced.
    departed: Vec<Departure>,
    limits: HistoryLimits,
    mode: Mode,
}

#[derive(Debug)]
struct Departure {
    connection_id: u64,
    name: Arc<str>,
}

impl Room {
    /// Runs the room until it is empty, has nothing in flight and nobody is
    /// about to join; then retires it from the registry.
    pub async fn run(
        name: Arc<str>,
        mut commands: mpsc::Receiver<RoomCommand>,
        registry: Arc<Registry>,
        backend: Backend,
        limits: HistoryLimits,
    ) {
        let (notify, mut commits) = mpsc::unbounded_channel();
        let (feed_tx, mut feed_rx) = mpsc::unbounded_channel();
        let mut reap_timer = None;
        let started = match backend {
            Backend::Local(store) => Room::start_local(&name, store, notify).await,
            Backend::Cluster(cluster, feed) => {
                let period = cluster.config().instance_ttl / 2;
                reap_timer = Some(tokio::time::interval(period.max(Duration::from_millis(50))));
                Room::start_cluster(&name, cluster, feed, feed_tx).await
            }
        };
        let (mode, last_seq) = match started {
            Ok(started) => started,
            Err(code) => {
                refuse_all(&mut commands, &registry, &name, code).await;
                return;
            }
        };
        let mut room = Room {
            name,
            members: Vec::new(),
            names: HashSet::new(),
            delivered: last_seq,
            departed: Vec::new(),
            limits,
            mode,
        };
        let mut batch = Vec::with_capacity(64);
        loop {
            tokio::select! {
                biased;
                Some(done) = commits.recv() => room.committed(done),
                Some(event) = feed_rx.recv() => room.on_feed(event).await,
                n = commands.recv_many(&mut batch, 64) => {
                    if n == 0 {
                        return;
                    }
                    for command in batch.drain(..) {
                        room.handle(command).await;
                    }
                }
                () = tick(&mut reap_timer) => room.reap().await,
            }
            room.announce_departures().await;
            if room.is_idle() && registry.retire(&room.name, &commands) {
                if let Mode::Cluster(c) = &room.mode {
                    c.feed.unsubscribe(&room.name);
                }
                tracing::debug!(room = %room.name, "room empty, retired");
                return;
            }
        }
    }

    async fn start_local(
        name: &Arc<str>,
        store: Store,
        notify: mpsc::UnboundedSender<Committed>,
    ) -> Result<(Mode, Seq), ErrorCode> {
        let start = store
            .start_room(name.clone(), RECENT_IDS)
            .await
            .map_err(|e| {
                tracing::error!(room = %name, error = %e, "cannot open room");
                ErrorCode::Internal
            })?;
        let mut local = LocalState {
            store,
            last_seq: start.last_seq,
            pending: VecDeque::new(),
            recent: HashMap::new(),
            recent_order: VecDeque::new(),
            notify,
        };
        for (sender, id, seq) in start.recent.into_iter().rev() {
            local.remember(sender, id, seq);
        }
        Ok((Mode::Local(local), start.last_seq))
    }

    async fn start_cluster(
        name: &Arc<str>,
        cluster: Cluster,
        feed: Feed,
        events: mpsc::UnboundedSender<FeedEvent>,
    ) -> Result<(Mode, Seq), ErrorCode> {
        // Subscribe first, then read the counter: whatever is published in
        // between arrives on the feed and is skipped as already counted or
        // delivered in order.
        if !feed.subscribe(name, events).await {
            feed.unsubscribe(name);
            return Err(ErrorCode::Unavailable);
        }
        match cluster.last_seq(name).await {
            Ok(seq) => Ok((
                Mode::Cluster(ClusterState {
                    cluster,
                    feed,
                    entries: HashMap::new(),
                }),
                seq,
            )),
            Err(e) => {
                tracing::warn!(room = %name, error = %e, "cannot open room");
                feed.unsubscribe(name);
                Err(ErrorCode::Unavailable)
            }
        }
    }

    fn is_idle(&self) -> bool {
        self.members.is_empty()
            && self.departed.is_empty()
            && match &self.mode {
                Mode::Local(l) => l.pending.is_empty(),
                Mode::Cluster(_) => true,
            }
    }

    fn epoch(&self) -> &str {
        match &self.mode {
            Mode::Local(l) => l.store.epoch(),
            Mode::Cluster(c) => c.cluster.epoch(),
        }
    }

    async fn handle(&mut self, command: RoomCommand) {
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
            } => {
                if let Some(member) = self.remove(connection_id)
                    && let Some(id) = request_id
                {
                    let _ = member.outbound.send(&ServerEvent::ack_ok(id, None));
                }
            }
            RoomCommand::Post {
                connection_id,
                request_id,
                post,
            } => self.post(connection_id, request_id, post).await,
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
        let refuse = |member: &Member, code: ErrorCode, message: String| {
            let _ = member
                .outbound
                .send(&ServerEvent::ack_err(request_id.clone(), code, message));
            Err(code)
        };
        let key = protocol::validate::name_key(&member.name);
        let taken = format!(
            "the name {:?} is already used in room {}",
            &*member.name, self.name
        );
        if self.names.contains(&key) {
            return refuse(&member, ErrorCode::NameTaken, taken.clone());
        }
        let users = match &mut self.mode {
            Mode::Local(_) => self
                .members
                .iter()
                .map(|m| m.name.to_string())
                .chain(std::iter::once(member.name.to_string()))
                .collect(),
            Mode::Cluster(c) => {
                let entry = c.cluster.entry_for(&member.name);
                match c.cluster.claim(&self.name, &key, &entry).await {
                    Ok(true) => {}
                    Ok(false) => return refuse(&member, ErrorCode::NameTaken, taken.clone()),
                    Err(e) => return refuse(&member, ErrorCode::Unavailable, unavailable(&e)),
                }
                let members = match c.cluster.members(&self.name).await {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = c.cluster.release(&self.name, &key, &entry).await;
                        return refuse(&member, ErrorCode::Unavailable, unavailable(&e));
                    }
                };
                c.entries.insert(member.id(), (key.clone(), entry));
                members
                    .into_iter()
                    .filter(|(_, e, alive)| *alive || e.instance == c.cluster.instance())
                    .map(|(_, e, _)| e.name)
                    .collect()
            }
        };
        let state = ServerEvent::RoomState {
            room: self.name.to_string(),
            users,
        };
        // A client moving from another instance may have seen more than this
        // one has delivered yet: catch up first, so its `since` is covered.
        // (Never past the room's real counter: `since` comes from a client.)
        if let (Mode::Cluster(c), Some(since)) = (&self.mode, resume.since)
            && since > self.delivered
            && resume.epoch.as_deref() == Some(self.epoch())
            && let Ok(last) = c.cluster.last_seq(&self.name).await
        {
            self.fill_gap(since.min(last)).await;
        }
        let history = match self.history_for_joiner(&resume).await {
            Ok(frame) => frame,
            Err(()) => {
                self.forget_entry(member.id()).await;
                return refuse(
                    &member,
                    ErrorCode::Unavailable,
                    "could not read the room's history; try again".into(),
                );
            }
        };
        let queued = member
            .outbound
            .send(&state)
            .and_then(|()| member.outbound.push(history))
            .and_then(|()| {
                member
                    .outbound
                    .send(&ServerEvent::ack_ok(request_id.clone(), None))
            });
        if queued.is_err() {
            self.forget_entry(member.id()).await;
            return Err(ErrorCode::SlowConsumer);
        }
        let name = member.name.clone();
        let id = member.id();
        self.names.insert(key.clone());
        self.members.push(member);
        let joined = Frame::encode(&ServerEvent::UserJoined {
            room: self.name.to_string(),
            name: name.to_string(),
            ts: now_ms(),
        });
        match &self.mode {
            Mode::Local(_) => self.broadcast(&joined, Some(id)),
            Mode::Cluster(c) => {
                // Every instance, this one included, hears it from the channel.
                if let Err(e) = c
                    .cluster
                    .publish_presence(&self.name, Some(&key), &joined)
                    .await
                {
                    tracing::warn!(room = %self.name, error = %e, "join not announced");
                }
            }
        }
        Ok(())
    }

    /// Drops the Redis entry of a join that did not complete.
    async fn forget_entry(&mut self, connection_id: u64) {
        if let Mode::Cluster(c) = &mut self.mode
            && let Some((key, entry)) = c.entries.remove(&connection_id)
        {
            let _ = c.cluster.release(&self.name, &key, &entry).await;
        }
    }

    /// Stored frames with `after < seq <= upto`, the newest `limit` of them.
    async fn page(&self, after: Seq, upto: Seq, limit: u32) -> Result<Page, ()> {
        let result = match &self.mode {
            Mode::Local(l) => l
                .store
                .page(self.name.clone(), after, upto, limit)
                .await
                .map_err(|e| e.to_string()),
            Mode::Cluster(c) => async {
                let rows = c
                    .cluster
                    .range(&self.name, after, upto, limit, true)
                    .await?;
                let first = rows.first().map(|(s, _)| *s).unwrap_or(upto + 1);
                let more = c.cluster.has_before(&self.name, first).await?;
                Ok(Page {
                    frames: rows.into_iter().map(|(_, f)| f).collect(),
                    more,
                })
            }
            .await
            .map_err(|e: crate::cluster::ClusterError| e.to_string()),
        };
        result.map_err(|e| tracing::warn!(room = %self.name, error = %e, "history read failed"))
    }

    /// The `history` frame for a joiner: exactly what it missed if it is
    /// resuming within the same epoch and bound, else the latest page (with
    /// the count it missed, if it was resuming). Only messages already
    /// delivered here are read; anything newer reaches the joiner live, so
    /// nothing is sent twice.
    async fn history_for_joiner(&self, resume: &Resume) -> Result<Frame, ()> {
        let upto = self.delivered;
        let since = match (&resume.since, &resume.epoch) {
            (Some(since), Some(epoch)) if epoch == self.epoch() && *since <= upto => Some(*since),
            _ => None,
        };
        let (after, limit, missed) = match since {
            Some(since) if upto - since <= self.limits.resume => (since, (upto - since) as u32, 0),
            Some(since) => (0, self.limits.on_join, upto - since),
            None => (0, self.limits.on_join, 0),
        };
        let page = if limit == 0 {
            Page::default()
        } else {
            self.page(after, upto, limit).await?
        };
        let missed = missed.saturating_sub(page.frames.len() as u64);
        let frames: Vec<&str> = page.frames.iter().map(String::as_str).collect();
        // A complete resume has nothing older to offer beyond what the
        // client had; otherwise older pages can be asked for.
        let more = if since.is_some() && missed == 0 {
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
        let upto = before.saturating_sub(1).min(self.delivered);
        match self.page(0, upto, limit).await {
            Ok(page) => {
                let frames: Vec<&str> = page.frames.iter().map(String::as_str).collect();
                let frame =
                    Frame::from_text(protocol::history_frame(&self.name, &frames, page.more, 0));
                let _ = outbound
                    .push(frame)
                    .and_then(|()| outbound.send(&ServerEvent::ack_ok(request_id, None)));
            }
            Err(()) => {
                let _ = outbound.send(&ServerEvent::ack_err(
                    request_id,
                    ErrorCode::Unavailable,
                    "could not read the room's history; try again",
                ));
            }
        }
    }

    async fn post(&mut self, connection_id: u64, request_id: String, post: Post) {
        let Some(sender) = self.members.iter().find(|m| m.id() == connection_id) else {
            // The sender was dropped as a slow consumer while its request was
            // queued; its connection is closing and needs no answer.
            return;
        };
        let outbound = sender.outbound.clone();
        let from = sender.name.to_string();
        let key = (protocol::validate::name_key(&from), request_id);
        let seq = match &mut self.mode {
            Mode::Local(local) => {
                // A resend of a message we already have: acknowledge it with
                // its original number (now, or when its commit completes).
                if let Some(&seq) = local.recent.get(&key) {
                    let (_, request_id) = key;
                    if seq <= self.delivered {
                        let _ = outbound.send(&ServerEvent::ack_ok(request_id, Some(seq)));
                    } else if let Some(p) = local.pending.iter_mut().find(|p| p.seq == seq) {
                        p.acks.push((outbound, request_id));
                    }
                    return;
                }
                local.last_seq + 1
            }
            // Redis numbers it (and recognises resends) in the append script.
            Mode::Cluster(_) => 0,
        };
        let (sender_key, request_id) = key;
        let room = self.name.to_string();
        let ts = now_ms();
        let id = request_id.clone();
        let event = match post {
            Post::Text { text, action } => ServerEvent::Message {
                room,
                seq,
                ts,
                from,
                id,
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
                id,
                latitude,
                longitude,
            },
        };
        let frame = Frame::encode(&event);
        match &mut self.mode {
            Mode::Cluster(c) => {
                match c
                    .cluster
                    .append(&self.name, &sender_key, &request_id, frame.as_str())
                    .await
                {
                    Ok((_, seq)) => {
                        let _ = outbound.send(&ServerEvent::ack_ok(request_id, Some(seq)));
                    }
                    Err(e) => {
                        let _ = outbound.send(&ServerEvent::ack_err(
                            request_id,
                            ErrorCode::Unavailable,
                            unavailable(&e),
                        ));
                    }
                }
            }
            Mode::Local(local) => {
                let record = Record {
                    room: self.name.clone(),
                    seq,
                    ts,
                    sender_key: sender_key.clone(),
                    client_id: request_id.clone(),
                    frame: frame.clone(),
                };
                if let Err(e) = local.store.append(record, local.notify.clone()).await {
                    tracing::error!(room = %self.name, error = %e, "cannot store message");
                    let _ = outbound.send(&ServerEvent::ack_err(
                        request_id,
                        ErrorCode::Internal,
                        "the message could not be stored; try again",
                    ));
                    return;
                }
                local.last_seq = seq;
                local.remember(sender_key, request_id.clone(), seq);
                local.pending.push_back(Pending {
                    seq,
                    frame,
                    acks: vec![(outbound, request_id)],
                });
            }
        }
    }

    /// The store finished a commit: acknowledge and broadcast everything up
    /// to `upto`, in order.
    fn committed(&mut self, done: Committed) {
        let Mode::Local(local) = &mut self.mode else {
            return;
        };
        let mut ready = Vec::new();
        while local.pending.front().is_some_and(|p| p.seq <= done.upto) {
            let Some(p) = local.pending.pop_front() else {
                break;
            };
            if done.ok {
                for (outbound, id) in &p.acks {
                    let _ = outbound.send(&ServerEvent::ack_ok(id.clone(), Some(p.seq)));
                }
                ready.push(p);
            } else {
                for (outbound, id) in &p.acks {
                    let _ = outbound.send(&ServerEvent::ack_err(
                        id.clone(),
                        ErrorCode::Internal,
                        "the message could not be stored; try again",
                    ));
                }
                // A failed message must not be acknowledged as a duplicate later.
                local.recent.retain(|_, seq| *seq != p.seq);
            }
        }
        for p in ready {
            self.delivered = p.seq;
            self.broadcast(&p.frame, None);
        }
    }

    /// Something arrived on the room's cluster channel.
    async fn on_feed(&mut self, event: FeedEvent) {
        match event {
            FeedEvent::Message { seq, frame } => {
                if seq <= self.delivered {
                    return;
                }
                if seq > self.delivered + 1 {
                    self.fill_gap(seq - 1).await;
                }
                if seq == self.delivered + 1 {
                    self.delivered = seq;
                    self.broadcast(&frame, None);
                }
            }
            FeedEvent::Joined { name_key, frame } => {
                let except = self
                    .members
                    .iter()
                    .find(|m| protocol::validate::name_key(&m.name) == name_key)
                    .map(Member::id);
                self.broadcast(&frame, except);
            }
            FeedEvent::Presence { frame } => self.broadcast(&frame, None),
            FeedEvent::Resync => self.resync().await,
        }
    }

    /// Delivers stored messages after `delivered` up to `upto` from the
    /// shared log, in order (bounded: a room that missed more than the log
    /// keeps skips to what the log still has).
    async fn fill_gap(&mut self, upto: Seq) {
        let Mode::Cluster(c) = &self.mode else { return };
        let cluster = c.cluster.clone();
        for _ in 0..1000 {
            if self.delivered >= upto {
                return;
            }
            match cluster
                .range(&self.name, self.delivered, upto, GAP_CHUNK, false)
                .await
            {
                Ok(rows) if rows.is_empty() => {
                    // Trimmed from the log: nothing left to deliver.
                    self.delivered = upto;
                    return;
                }
                Ok(rows) => {
                    for (seq, frame) in rows {
                        if seq > self.delivered {
                            self.delivered = seq;
                            self.broadcast(&Frame::from_text(frame), None);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(room = %self.name, error = %e, "cannot read missed messages yet");
                    return;
                }
            }
        }
    }

    /// After Redis came back: deliver what the channel missed and make sure
    /// our members are registered again.
    async fn resync(&mut self) {
        let Mode::Cluster(c) = &self.mode else { return };
        let cluster = c.cluster.clone();
        // Numbers never go backwards, even if Redis lost its data.
        if let Ok(was) = cluster.raise_seq(&self.name, self.delivered).await
            && was > self.delivered
        {
            self.fill_gap(was).await;
        }
        if let Mode::Cluster(c) = &self.mode {
            for (key, entry) in c.entries.values() {
                if let Err(e) = cluster.claim(&self.name, key, entry).await {
                    tracing::warn!(room = %self.name, error = %e, "cannot register members again yet");
                    return;
                }
            }
        }
        self.reap().await;
    }

    /// Cluster mode: members whose instance died, and entries of ours whose
    /// member is gone (left while Redis was away), are removed and announced
    /// as left. Only the instance whose delete succeeds announces.
    async fn reap(&mut self) {
        let Mode::Cluster(c) = &self.mode else { return };
        let members = match c.cluster.members(&self.name).await {
            Ok(m) => m,
            Err(_) => return,
        };
        let ours: HashSet<&str> = c.entries.values().map(|(_, e)| e.as_str()).collect();
        for (key, entry, alive) in members {
            let stale_of_ours =
                entry.instance == c.cluster.instance() && !ours.contains(entry.raw.as_str());
            if alive && !stale_of_ours {
                continue;
            }
            if let Ok(true) = c.cluster.release(&self.name, &key, &entry.raw).await {
                let left = self.left_frame(&entry.name);
                let _ = c.cluster.publish_presence(&self.name, None, &left).await;
            }
        }
    }

    fn left_frame(&self, name: &str) -> Frame {
        Frame::encode(&ServerEvent::UserLeft {
            room: self.name.to_string(),
            name: name.to_string(),
            ts: now_ms(),
        })
    }

    /// Announces everyone who left since the last call.
    async fn announce_departures(&mut self) {
        // Bounded: each round removes members, and there are finitely many.
        for _ in 0..10_000 {
            let departed = std::mem::take(&mut self.departed);
            if departed.is_empty() {
                return;
            }
            for d in departed {
                let left = self.left_frame(&d.name);
                match &mut self.mode {
                    Mode::Local(_) => self.broadcast(&left, None),
                    Mode::Cluster(c) => {
                        let Some((key, entry)) = c.entries.remove(&d.connection_id) else {
                            continue;
                        };
                        // If Redis is away now, the reaper cleans up later.
                        if let Ok(true) = c.cluster.release(&self.name, &key, &entry).await {
                            let _ = c.cluster.publish_presence(&self.name, None, &left).await;
                        }
                    }
                }
            }
        }
    }

    /// Hands the same bytes to every member here (but `except`). Members
    /// whose queue is full or closed are removed; their departure is
    /// announced after the current command.
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
            self.remove(id);
        }
    }

    /// Removes a member here and queues the announcement of its departure.
    fn remove(&mut self, connection_id: u64) -> Option<Member> {
        let index = self.members.iter().position(|m| m.id() == connection_id)?;
        let member = self.members.remove(index);
        self.names
            .remove(&protocol::validate::name_key(&member.name));
        self.departed.push(Departure {
            connection_id,
            name: member.name.clone(),
        });
        Some(member)
    }
}

impl LocalState {
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
}

fn unavailable(e: &crate::cluster::ClusterError) -> String {
    tracing::warn!(error = %e, "cluster store unavailable");
    "the chat cluster cannot reach its shared store right now; nothing was sent, try again".into()
}

/// Ticks a timer if there is one; otherwise never completes.
async fn tick(timer: &mut Option<tokio::time::Interval>) {
    match timer {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// A room that cannot start answers joins with an error and retires.
async fn refuse_all(
    commands: &mut mpsc::Receiver<RoomCommand>,
    registry: &Registry,
    name: &Arc<str>,
    code: ErrorCode,
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
                    code,
                    "the room is unavailable right now; try again",
                ));
                let _ = reply.send(Err(code));
            }
        }
        if registry.retire(name, commands) {
            return;
        }
        tokio::task::yield_now().await;
    }
}

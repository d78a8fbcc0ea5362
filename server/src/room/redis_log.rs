//! The Redis log: a room's messages and names shared by every instance.
//!
//! Redis numbers, de-duplicates, stores and publishes a message in one
//! script; the sender is acknowledged when Redis has it. Every instance,
//! this one included, broadcasts what the room's channel delivers, in
//! sequence order, reading any gap back from the shared stream. Every
//! connection is registered in the room's member hash, so user lists are
//! complete and presence is per identity across the cluster; members of an
//! instance that died are reaped and announced as left by whichever
//! instance notices first.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use protocol::{Seq, ServerEvent, UserRef};
use tokio::sync::mpsc;
use tokio::time::Interval;

use super::log::{
    ClaimError, Claimed, Draft, LogError, LogKey, MessageLog, encode_numbered, topic_of,
};
use super::members::{Member, Members};
use crate::cluster::{Cluster, ClusterError, Feed, FeedEvent, Released};
use crate::frame::{Frame, Page};
use crate::outbound::Outbound;

/// Most messages read back from the shared log in one go when filling a gap.
const GAP_CHUNK: u32 = 1000;

/// What the Redis log reports to its room.
#[derive(Debug)]
pub enum RedisEvent {
    /// Something arrived on the room's channel.
    Feed(FeedEvent),
    /// Time to look for members whose instance died.
    Reap,
}

/// One room's log in Redis.
#[derive(Debug)]
pub struct RedisLog {
    cluster: Cluster,
    feed: Feed,
    key: LogKey,
    events: mpsc::UnboundedReceiver<FeedEvent>,
    reap: Interval,
    /// Our member entries in Redis, by connection.
    entries: HashMap<u64, Entry>,
}

/// A connection's entry in the room's member hash.
#[derive(Debug)]
struct Entry {
    field: String,
    value: String,
    user: String,
}

impl RedisLog {
    /// Opens the log of `key`: subscribes to its channel, then reads its
    /// counter. Returns the highest number given out.
    pub async fn open(
        cluster: Cluster,
        feed: Feed,
        key: LogKey,
    ) -> Result<(RedisLog, Seq), LogError> {
        // Subscribe first, then read the counter: whatever is published in
        // between arrives on the feed and is skipped as already counted or
        // delivered in order.
        let (tx, events) = mpsc::unbounded_channel();
        if !feed.subscribe(key.as_str(), tx).await {
            feed.unsubscribe(key.as_str());
            return Err(ClusterError::NotSubscribed.into());
        }
        let last_seq = match cluster.last_seq(key.as_str()).await {
            Ok(seq) => seq,
            Err(e) => {
                feed.unsubscribe(key.as_str());
                return Err(e.into());
            }
        };
        let period = (cluster.config().instance_ttl / 2).max(Duration::from_millis(50));
        let log = RedisLog {
            cluster,
            feed,
            key,
            events,
            reap: tokio::time::interval(period),
            entries: HashMap::new(),
        };
        Ok((log, last_seq))
    }

    /// Delivers stored messages after `here.delivered()` up to `upto` from
    /// the shared log, in order (bounded: a room that missed more than the
    /// log keeps skips to what the log still has).
    async fn fill_gap(&self, upto: Seq, here: &mut Members) {
        for _ in 0..1000 {
            let after = here.delivered();
            if after >= upto {
                return;
            }
            match self
                .cluster
                .range(self.key.as_str(), after, upto, GAP_CHUNK, false)
                .await
            {
                Ok(rows) if rows.is_empty() => {
                    // Trimmed from the log: nothing left to deliver.
                    here.skip_to(upto);
                    return;
                }
                Ok(rows) => {
                    for (seq, frame) in rows {
                        if seq > here.delivered() {
                            here.deliver(seq, &Frame::from_text(frame));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(room = %self.key, error = %e, "cannot read missed messages yet");
                    return;
                }
            }
        }
    }

    /// After Redis came back: deliver what the channel missed and make sure
    /// our members are registered again.
    async fn after_outage(&mut self, here: &mut Members) {
        // Numbers never go backwards, even if Redis lost its data.
        if let Ok(was) = self
            .cluster
            .raise_seq(self.key.as_str(), here.delivered())
            .await
            && was > here.delivered()
        {
            self.fill_gap(was, here).await;
        }
        for e in self.entries.values() {
            let claimed = self
                .cluster
                .claim(self.key.as_str(), &e.field, &e.value, &e.user)
                .await;
            if let Err(e) = claimed {
                tracing::warn!(room = %self.key, error = %e, "cannot register members again yet");
                return;
            }
        }
        self.reap(here).await;
    }

    /// Each of `users` with its current name and away state, which any
    /// instance may have changed since the member entry was written (the
    /// entry keeps the name it was registered with; the identity store and
    /// `away:{user}` are where changes go, so reading them when the roster
    /// is built is right whatever order renames and joins come in). If
    /// Redis cannot say, the entries' names and no away marks.
    async fn as_they_are_now(&self, users: Vec<UserRef>) -> Vec<protocol::Member> {
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        let people = match self.cluster.people(&ids).await {
            Ok(people) => people,
            Err(e) => {
                tracing::warn!(room = %self.key, error = %e, "roster without current names");
                Vec::new()
            }
        };
        users
            .into_iter()
            .enumerate()
            .map(|(i, u)| {
                let now = people.get(i).cloned().unwrap_or_default();
                protocol::Member {
                    name: now.name.unwrap_or(u.name),
                    away: now.away,
                    id: u.id,
                    // Set by the room, which keeps the roles.
                    role: None,
                }
            })
            .collect()
    }

    /// Members whose instance died, and entries of ours whose member is
    /// gone (left while Redis was away), are removed and announced as left.
    /// Only the instance whose delete succeeds announces.
    async fn reap(&self, here: &Members) {
        let room = self.key.as_str();
        let Ok(members) = self.cluster.members(room).await else {
            return;
        };
        let ours: HashSet<&str> = self.entries.values().map(|e| e.value.as_str()).collect();
        for (field, entry, alive) in members {
            let stale_of_ours =
                entry.instance == self.cluster.instance() && !ours.contains(entry.raw.as_str());
            if alive && !stale_of_ours {
                continue;
            }
            let released = self
                .cluster
                .release(room, &field, &entry.raw, &entry.user)
                .await;
            if let Ok(Released::Last) = released {
                let left = here.left_frame(&entry.name, &entry.user);
                let _ = self.cluster.publish_presence(room, None, &left).await;
            }
        }
    }
}

impl MessageLog for RedisLog {
    type Event = RedisEvent;

    fn epoch(&self) -> &str {
        self.cluster.epoch()
    }

    async fn next_event(&mut self) -> RedisEvent {
        tokio::select! {
            biased;
            Some(event) = self.events.recv() => RedisEvent::Feed(event),
            _ = self.reap.tick() => RedisEvent::Reap,
        }
    }

    async fn on_event(&mut self, event: RedisEvent, here: &mut Members) {
        let event = match event {
            RedisEvent::Feed(event) => event,
            RedisEvent::Reap => return self.reap(here).await,
        };
        match event {
            FeedEvent::Message { seq, frame } => {
                if seq <= here.delivered() {
                    return;
                }
                if seq > here.delivered() + 1 {
                    self.fill_gap(seq - 1, here).await;
                }
                if seq == here.delivered() + 1 {
                    here.deliver(seq, &frame);
                }
            }
            FeedEvent::Joined { user, frame } => {
                let except = here.id_of(&user);
                here.broadcast(&frame, except);
            }
            FeedEvent::Presence { frame } => here.broadcast(&frame, None),
            FeedEvent::Resync => self.after_outage(here).await,
        }
    }

    /// The script numbers the frame (encoded with `seq: 0`), recognises a
    /// resend and publishes; the room delivers it when the channel does.
    async fn append(&mut self, mut draft: Draft, sender: &Outbound) {
        let frame = encode_numbered(&mut draft.event, 0);
        let topic = topic_of(&draft.event);
        let appended = self
            .cluster
            .append(
                self.key.as_str(),
                &draft.sender_key,
                &draft.request_id,
                frame.as_str(),
                topic.as_deref(),
            )
            .await;
        if let Ok((true, seq)) = appended
            && let Some((a, b)) = protocol::dm::parse_key(self.key.as_str())
        {
            let (a, b) = (a.to_owned(), b.to_owned());
            if let Err(e) = self
                .cluster
                .note_dm(self.key.as_str(), &a, &b, draft.ts)
                .await
            {
                tracing::warn!(room = %self.key, error = %e, "cannot list the conversation");
            }
            let frame = encode_numbered(&mut draft.event, seq);
            let notice = crate::conversations::cluster::Notice {
                origin: String::new(),
                frame: frame.as_str().to_owned(),
                users: vec![a, b],
                rooms: Vec::new(),
                about: None,
                renamed: None,
                away: None,
                dm: Some(self.key.as_str().to_owned()),
            };
            crate::conversations::cluster::publish(&self.cluster, notice).await;
        }
        let ack = match appended {
            Ok((_, seq)) => ServerEvent::ack_ok(draft.request_id, Some(seq)),
            Err(e) => {
                tracing::warn!(room = %self.key, error = %e, "cluster store unavailable");
                let e = LogError::from(e);
                ServerEvent::ack_err(draft.request_id, e.code(), e.client_message())
            }
        };
        let _ = sender.send(&ack);
    }

    async fn topic(&self) -> Result<Option<String>, LogError> {
        Ok(self.cluster.topic(self.key.as_str()).await?)
    }

    async fn page(&self, after: Seq, upto: Seq, limit: u32) -> Result<Page, LogError> {
        let room = self.key.as_str();
        let rows = self.cluster.range(room, after, upto, limit, true).await?;
        let first = rows.first().map(|(s, _)| *s).unwrap_or(upto + 1);
        let more = self.cluster.has_before(room, first).await?;
        Ok(Page {
            frames: rows.into_iter().map(|(_, f)| f).collect(),
            more,
        })
    }

    /// Registers the connection in the room's member hash and lists the
    /// members of live instances, each identity once.
    async fn claim(&mut self, joiner: &Member, _here: &Members) -> Result<Claimed, ClaimError> {
        let room = self.key.as_str();
        let (field, value) = self
            .cluster
            .entry_for(joiner.id(), &joiner.user, &joiner.name);
        let first = self
            .cluster
            .claim(room, &field, &value, &joiner.user)
            .await
            .map_err(LogError::from)?;
        let members = match self.cluster.members(room).await {
            Ok(m) => m,
            Err(e) => {
                let _ = self
                    .cluster
                    .release(room, &field, &value, &joiner.user)
                    .await;
                return Err(LogError::from(e).into());
            }
        };
        self.entries.insert(
            joiner.id(),
            Entry {
                field,
                value,
                user: joiner.user.to_string(),
            },
        );
        let instance = self.cluster.instance();
        let mut users: Vec<UserRef> = Vec::new();
        for (_, e, alive) in members {
            if (alive || e.instance == instance) && !users.iter().any(|u| u.id == e.user) {
                users.push(UserRef {
                    id: e.user,
                    name: e.name,
                });
            }
        }
        if let Some((a, b)) = protocol::dm::parse_key(room) {
            // A conversation's roster is its two people, here or not.
            users.retain(|u| u.id == a || u.id == b);
            for id in [a, b] {
                if !users.iter().any(|u| u.id == id) {
                    users.push(UserRef {
                        id: id.to_owned(),
                        name: String::new(),
                    });
                }
            }
        }
        Ok(Claimed {
            users: self.as_they_are_now(users).await,
            first,
        })
    }

    /// If Redis is away now, the reaper cleans up later.
    async fn release(&mut self, connection_id: u64, _last_here: bool) -> bool {
        let Some(e) = self.entries.remove(&connection_id) else {
            return false;
        };
        matches!(
            self.cluster
                .release(self.key.as_str(), &e.field, &e.value, &e.user)
                .await,
            Ok(Released::Last)
        )
    }

    /// Every instance, this one included, hears it from the channel.
    async fn announce_join(
        &mut self,
        _joiner: u64,
        user: &str,
        frame: &Frame,
        _here: &mut Members,
    ) {
        if let Err(e) = self
            .cluster
            .publish_presence(self.key.as_str(), Some(user), frame)
            .await
        {
            tracing::warn!(room = %self.key, error = %e, "join not announced");
        }
    }

    async fn announce_left(&mut self, frame: &Frame, _here: &mut Members) {
        let _ = self
            .cluster
            .publish_presence(self.key.as_str(), None, frame)
            .await;
    }

    /// Never past the room's real counter: `upto` comes from a client.
    async fn resync(&mut self, upto: Seq, here: &mut Members) {
        if let Ok(last) = self.cluster.last_seq(self.key.as_str()).await {
            self.fill_gap(upto.min(last), here).await;
        }
    }

    fn is_idle(&self) -> bool {
        true
    }

    fn close(self) {
        self.feed.unsubscribe(self.key.as_str());
    }
}

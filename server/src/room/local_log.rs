//! The local log: a room's messages in this instance's SQLite store.
//!
//! The room numbers a message itself, serializes it once and hands it to
//! the store thread. When the store reports the commit, the log
//! acknowledges the senders and delivers the same bytes to the members, so
//! nobody sees (and no sender is told about) a message that a crash could
//! still lose. Presence (per identity) is decided among this instance's
//! members alone: there is nobody else to ask.
//!
//! With the store in memory a crash loses everything anyway, so waiting
//! for a commit would promise nothing and only cost two thread hand-offs
//! per message (room -> store thread -> room): the log acknowledges and
//! delivers as soon as the store has the append queued, on the room's next
//! turn.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use protocol::{ErrorCode, Seq, ServerEvent, UserRef};
use tokio::sync::mpsc;

use super::log::{
    ClaimError, Claimed, Draft, LogError, LogKey, MessageLog, NOT_STORED, encode_numbered, topic_of,
};
use super::members::{Member, Members};
use crate::frame::{Frame, Page};
use crate::outbound::Outbound;
use crate::store::{Committed, Record, Store};

/// How many recent (sender, request id) pairs a room remembers to recognise
/// a resent message.
const RECENT_IDS: usize = 4096;

/// A resend's identity: (sender key, request id). Shared between the map,
/// the order to forget in and the pending acks, so a message copies the
/// two strings once instead of at each of them.
type ResendKey = Arc<(String, String)>;

/// The resend map's hasher. Request ids are chosen by clients, so the map
/// is seeded at random (per process and per map) rather than fixed, and it
/// never holds more than [`RECENT_IDS`] keys: whoever learned the seed could
/// at worst make lookups in one room's bounded map slow, which costs them
/// more messages than it costs the room.
type Hasher = foldhash::fast::RandomState;

/// A message numbered and sent to the store, not yet committed.
#[derive(Debug)]
struct Pending {
    seq: Seq,
    frame: Frame,
    /// Everyone to acknowledge once it is durable (a resend adds itself).
    acks: Vec<(Outbound, ResendKey)>,
}

/// One room's log in the local store.
#[derive(Debug)]
pub struct LocalLog {
    store: Store,
    key: LogKey,
    /// Highest number handed out.
    last_seq: Seq,
    pending: VecDeque<Pending>,
    /// The numbers of recent messages by (sender key, request id), and the
    /// order to forget them in.
    recent: HashMap<ResendKey, Seq, Hasher>,
    recent_order: VecDeque<ResendKey>,
    /// The store reports commits here.
    notify: mpsc::UnboundedSender<Committed>,
    commits: mpsc::UnboundedReceiver<Committed>,
    /// The topic the store had when the log opened.
    topic_at_open: Option<String>,
    /// The store is in memory: a queued append is as kept as it gets.
    at_once: bool,
}

impl LocalLog {
    /// Opens the log of `key`: where its numbering stands and which request
    /// ids its recent messages had. Returns the highest number stored.
    pub async fn open(store: Store, key: LogKey) -> Result<(LocalLog, Seq), LogError> {
        let start = store.start_room(key.shared(), RECENT_IDS).await?;
        let (notify, commits) = mpsc::unbounded_channel();
        let mut log = LocalLog {
            store: store.clone(),
            key,
            last_seq: start.last_seq,
            pending: VecDeque::new(),
            recent: HashMap::default(),
            recent_order: VecDeque::new(),
            notify,
            commits,
            topic_at_open: start.topic,
            at_once: store.in_memory(),
        };
        for (sender, id, seq) in start.recent.into_iter().rev() {
            log.remember(Arc::new((sender, id)), seq);
        }
        Ok((log, start.last_seq))
    }

    fn remember(&mut self, key: ResendKey, seq: Seq) {
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

impl MessageLog for LocalLog {
    type Event = Committed;

    fn epoch(&self) -> &str {
        self.store.epoch()
    }

    async fn next_event(&mut self) -> Committed {
        if self.at_once
            && let Some(last) = self.pending.back()
        {
            return Committed {
                upto: last.seq,
                ok: true,
            };
        }
        match self.commits.recv().await {
            Some(done) => done,
            // Never: this log holds a sender itself.
            None => std::future::pending().await,
        }
    }

    /// The store finished a commit (in memory: queued the appends):
    /// acknowledge everything up to `upto`, then broadcast it, in order.
    async fn on_event(&mut self, done: Committed, here: &mut Members) {
        let ready = self
            .pending
            .iter()
            .take_while(|p| p.seq <= done.upto)
            .count();
        for p in self.pending.range(..ready) {
            for (outbound, key) in &p.acks {
                let id = &key.1;
                let _ = if done.ok {
                    outbound.ack_ok(id, Some(p.seq))
                } else {
                    outbound.send(&not_stored(id.clone()))
                };
            }
        }
        for p in self.pending.drain(..ready) {
            if done.ok {
                here.deliver(p.seq, &p.frame);
            } else {
                // A failed message must not be acknowledged as a resend later.
                self.recent.retain(|_, seq| *seq != p.seq);
            }
        }
    }

    async fn append(&mut self, mut draft: Draft, sender: &Outbound) {
        let key = (draft.sender_key, draft.request_id);
        // A resend of a message we already have: acknowledge it with its
        // original number (now, or when its commit completes).
        if let Some(&seq) = self.recent.get(&key) {
            match self.pending.iter_mut().find(|p| p.seq == seq) {
                Some(p) => p.acks.push((sender.clone(), Arc::new(key))),
                None => {
                    let _ = sender.ack_ok(&key.1, Some(seq));
                }
            }
            return;
        }
        let seq = self.last_seq + 1;
        let frame = encode_numbered(&mut draft.event, seq);
        let record = Record {
            room: self.key.shared(),
            seq,
            ts: draft.ts,
            sender_key: key.0.clone(),
            client_id: key.1.clone(),
            frame: frame.clone(),
            topic: topic_of(&draft.event),
        };
        let queued = if self.at_once {
            self.store.queue(record).await
        } else {
            self.store.append(record, self.notify.clone()).await
        };
        if let Err(e) = queued {
            tracing::error!(room = %self.key, error = %e, "cannot store message");
            let _ = sender.send(&not_stored(key.1));
            return;
        }
        self.last_seq = seq;
        let key = Arc::new(key);
        self.remember(key.clone(), seq);
        self.pending.push_back(Pending {
            seq,
            frame,
            acks: vec![(sender.clone(), key)],
        });
    }

    async fn topic(&self) -> Result<Option<String>, LogError> {
        Ok(self.topic_at_open.clone())
    }

    async fn page(&self, after: Seq, upto: Seq, limit: u32) -> Result<Page, LogError> {
        Ok(self
            .store
            .page(self.key.shared(), after, upto, limit)
            .await?)
    }

    /// On this instance alone, the members here are everyone, and its
    /// directory knows who is away.
    async fn claim(&mut self, joiner: &Member, here: &Members) -> Result<Claimed, ClaimError> {
        let first = !here.has_user(&joiner.user);
        let mut users = here.users();
        if first {
            users.push(UserRef {
                id: joiner.user.to_string(),
                name: joiner.name.to_string(),
            });
        }
        let directory = here.directory();
        let users = users
            .into_iter()
            .map(|u| protocol::Member {
                away: directory.away_of(&u.id),
                id: u.id,
                name: u.name,
                // Set by the room, which keeps the roles.
                role: None,
            })
            .collect();
        Ok(Claimed { users, first })
    }

    async fn release(&mut self, _connection_id: u64, last_here: bool) -> bool {
        last_here
    }

    async fn announce_join(&mut self, joiner: u64, _user: &str, frame: &Frame, here: &mut Members) {
        here.broadcast(frame, Some(joiner));
    }

    async fn announce_left(&mut self, frame: &Frame, here: &mut Members) {
        here.broadcast(frame, None);
    }

    /// Everything committed is delivered at once: nothing to catch up on.
    async fn resync(&mut self, _upto: Seq, _here: &mut Members) {}

    fn is_idle(&self) -> bool {
        self.pending.is_empty()
    }

    fn close(self) {}
}

/// The failed `ack` of a message the store could not keep.
fn not_stored(request_id: String) -> ServerEvent {
    ServerEvent::ack_err(request_id, ErrorCode::Internal, NOT_STORED)
}

//! Cluster mode: several `chat-server` instances share rooms through Redis.
//!
//! What lives in Redis (every key under a configurable prefix):
//!
//! - `seq:{room}`: the room's sequence counter (INCR), so numbers are
//!   strictly increasing across the cluster;
//! - `log:{room}`: a stream of the room's frames, entry id `{seq}-0`, trimmed
//!   to a bounded length: the shared history every instance reads for joins,
//!   resumes and older pages;
//! - `ids:{room}:{name length}:{sender}:{request id}`: the seq a request got
//!   (expires after a day), so a resend to any instance is recognised;
//! - `members:{room}`: hash of name key -> `instance \t join ms \t name`,
//!   for cluster-wide user lists and unique names;
//! - `instance:{id}`: a liveness key with a short expiry, refreshed by its
//!   instance; members owned by an expired instance are reaped and announced
//!   as left by whichever instance notices first;
//! - `epoch`: the cluster's store epoch.
//!
//! Room traffic is published on the channel `room:{room}`, one payload per
//! event: `M{seq}\n{frame}` for stored messages, `J{name key}\n{frame}` for
//! joins, `P\n{frame}` for other presence. A message is appended, numbered,
//! de-duplicated and published in one Lua script, so it is acknowledged only
//! once Redis has it, and every instance sees the same order. Pub/sub may
//! drop messages (for instance while a connection is re-established); rooms
//! notice the gap in sequence numbers and read it back from the stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use protocol::Seq;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::frame::Frame;

/// Settings for cluster mode.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `redis://host:port[/db]`.
    pub url: String,
    /// Prefix of every key and channel, so several clusters (or tests) can
    /// share one Redis.
    pub prefix: String,
    /// An instance whose liveness key is older than this is considered dead
    /// and its users leave the rooms.
    pub instance_ttl: Duration,
    /// Messages kept per room in the shared stream (approximately).
    pub max_log: u64,
}

impl ClusterConfig {
    pub fn new(url: impl Into<String>) -> Self {
        ClusterConfig {
            url: url.into(),
            prefix: "chat:".into(),
            instance_ttl: Duration::from_secs(10),
            max_log: 10_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis returned something unexpected: {0}")]
    Unexpected(String),
}

/// Appends a message: de-duplicates, numbers, stores, publishes. Returns
/// `{is_new, seq}`.
const APPEND: &str = r#"
local old = redis.call('GET', KEYS[3])
if old then return {0, tonumber(old)} end
local seq = redis.call('INCR', KEYS[1])
local frame = string.gsub(ARGV[1], '"seq":0,', '"seq":' .. seq .. ',', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'f', frame)
redis.call('SET', KEYS[3], seq, 'EX', ARGV[3])
redis.call('PUBLISH', ARGV[4], 'M' .. seq .. '\n' .. frame)
return {1, seq}
"#;

/// Claims a name in a room unless a live instance (other than ours) holds it.
const CLAIM: &str = r#"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local owner = string.match(cur, '^([^\t]*)')
  if owner ~= ARGV[3] and redis.call('EXISTS', ARGV[4] .. owner) == 1 then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"#;

/// Deletes a member entry only if it is still the one we saw.
const RELEASE: &str = r#"
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"#;

/// Raises a room's counter to at least ARGV[1]; returns what it was.
const RAISE: &str = r#"
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return cur
"#;

/// One entry of a Redis stream as XRANGE returns it: id and field pairs.
type StreamEntry = (String, Vec<(String, String)>);

/// One instance's view of the cluster. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClusterConfig,
    client: redis::Client,
    conn: ConnectionManager,
    instance: String,
    epoch: String,
    healthy: AtomicBool,
    append: redis::Script,
    claim: redis::Script,
    release: redis::Script,
    raise: redis::Script,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("instance", &self.inner.instance)
            .field("prefix", &self.inner.config.prefix)
            .finish()
    }
}

/// A member entry as stored in `members:{room}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEntry {
    pub instance: String,
    pub joined_ms: i64,
    pub name: String,
    /// The raw value, for compare-and-delete.
    pub raw: String,
}

impl MemberEntry {
    fn parse(raw: &str) -> Option<MemberEntry> {
        let mut parts = raw.splitn(3, '\t');
        let instance = parts.next()?.to_owned();
        let joined_ms = parts.next()?.parse().ok()?;
        let name = parts.next()?.to_owned();
        Some(MemberEntry {
            instance,
            joined_ms,
            name,
            raw: raw.to_owned(),
        })
    }
}

impl Cluster {
    /// Connects to Redis, registers this instance and reads (or sets) the
    /// cluster's epoch.
    pub async fn connect(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        let client = redis::Client::open(config.url.as_str())?;
        let mut conn = client.get_connection_manager().await?;
        let instance = crate::ids::new_id();
        let epoch_key = format!("{}epoch", config.prefix);
        let _: bool = conn.set_nx(&epoch_key, crate::ids::new_id()).await?;
        let epoch: String = conn.get(&epoch_key).await?;
        let cluster = Cluster {
            inner: Arc::new(Inner {
                config,
                client,
                conn,
                instance,
                epoch,
                healthy: AtomicBool::new(true),
                append: redis::Script::new(APPEND),
                claim: redis::Script::new(CLAIM),
                release: redis::Script::new(RELEASE),
                raise: redis::Script::new(RAISE),
            }),
        };
        cluster.heartbeat().await?;
        Ok(cluster)
    }

    pub fn epoch(&self) -> &str {
        &self.inner.epoch
    }

    pub fn instance(&self) -> &str {
        &self.inner.instance
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.inner.config
    }

    pub fn client(&self) -> &redis::Client {
        &self.inner.client
    }

    /// False while Redis is unreachable.
    pub fn is_healthy(&self) -> bool {
        self.inner.healthy.load(Ordering::Relaxed)
    }

    pub(crate) fn set_healthy(&self, healthy: bool) {
        let was = self.inner.healthy.swap(healthy, Ordering::Relaxed);
        if was && !healthy {
            tracing::warn!(
                "redis unreachable: cluster mode degraded, sends are refused until it is back"
            );
        } else if !was && healthy {
            tracing::info!("redis reachable again");
        }
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    fn key(&self, kind: &str, room: &str) -> String {
        format!("{}{kind}:{room}", self.inner.config.prefix)
    }

    /// The pub/sub channel of a room.
    pub fn channel(&self, room: &str) -> String {
        self.key("room", room)
    }

    /// The room a channel belongs to.
    pub fn room_of_channel<'a>(&self, channel: &'a str) -> Option<&'a str> {
        channel.strip_prefix(&format!("{}room:", self.inner.config.prefix))
    }

    fn track<T>(&self, result: Result<T, redis::RedisError>) -> Result<T, ClusterError> {
        match result {
            Ok(v) => {
                self.set_healthy(true);
                Ok(v)
            }
            Err(e) => {
                if e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_timeout()
                {
                    self.set_healthy(false);
                }
                Err(e.into())
            }
        }
    }

    /// Refreshes this instance's liveness key.
    pub async fn heartbeat(&self) -> Result<(), ClusterError> {
        let key = format!(
            "{}instance:{}",
            self.inner.config.prefix, self.inner.instance
        );
        let ttl = self.inner.config.instance_ttl.as_millis() as u64;
        let r: Result<(), _> = self.conn().pset_ex(key, 1, ttl.max(1)).await;
        self.track(r)
    }

    /// Removes this instance's liveness key (on clean shutdown), so its
    /// members are reaped at once rather than after the expiry.
    pub async fn deregister(&self) {
        let key = format!(
            "{}instance:{}",
            self.inner.config.prefix, self.inner.instance
        );
        let _: Result<(), _> = self.conn().del(key).await;
    }

    /// Appends a frame (encoded with `seq: 0`) to the room's log. Returns the
    /// sequence number, and whether it is new (false: a resend).
    pub async fn append(
        &self,
        room: &str,
        sender_key: &str,
        client_id: &str,
        frame_without_seq: &str,
    ) -> Result<(bool, Seq), ClusterError> {
        let ids = resend_key(&self.inner.config.prefix, room, sender_key, client_id);
        let mut conn = self.conn();
        let r: Result<(i64, i64), _> = self
            .inner
            .append
            .key(self.key("seq", room))
            .key(self.key("log", room))
            .key(ids)
            .arg(frame_without_seq)
            .arg(self.inner.config.max_log)
            .arg(86_400)
            .arg(self.channel(room))
            .invoke_async(&mut conn)
            .await;
        let (is_new, seq) = self.track(r)?;
        Ok((is_new == 1, seq.max(0) as Seq))
    }

    /// After a reconnect: if Redis lost its data (restarted without
    /// persistence), put our epoch back so the cluster keeps one.
    pub async fn restore_epoch(&self) -> Result<(), ClusterError> {
        let key = format!("{}epoch", self.inner.config.prefix);
        let r: Result<bool, _> = self.conn().set_nx(key, &self.inner.epoch).await;
        if self.track(r)? {
            tracing::error!(
                "redis had lost its data (no persistence?): history before now is gone, numbering continues"
            );
        }
        Ok(())
    }

    /// Makes sure a room's counter is at least `seq`, so numbers never go
    /// backwards even if Redis lost its data. Returns the counter as it was.
    pub async fn raise_seq(&self, room: &str, seq: Seq) -> Result<Seq, ClusterError> {
        let mut conn = self.conn();
        let r: Result<i64, _> = self
            .inner
            .raise
            .key(self.key("seq", room))
            .arg(seq)
            .invoke_async(&mut conn)
            .await;
        Ok(self.track(r)?.max(0) as Seq)
    }

    /// The room's current sequence number.
    pub async fn last_seq(&self, room: &str) -> Result<Seq, ClusterError> {
        let r: Result<Option<i64>, _> = self.conn().get(self.key("seq", room)).await;
        Ok(self.track(r)?.unwrap_or(0).max(0) as Seq)
    }

    /// Stored frames with `after < seq <= upto`, oldest first: the newest
    /// `limit` of them if `newest`, else the oldest `limit`.
    pub async fn range(
        &self,
        room: &str,
        after: Seq,
        upto: Seq,
        limit: u32,
        newest: bool,
    ) -> Result<Vec<(Seq, String)>, ClusterError> {
        if upto <= after || limit == 0 {
            return Ok(Vec::new());
        }
        let (start, end) = (format!("{}-0", after + 1), format!("{upto}-0"));
        let mut cmd = if newest {
            let mut c = redis::cmd("XREVRANGE");
            c.arg(self.key("log", room)).arg(&end).arg(&start);
            c
        } else {
            let mut c = redis::cmd("XRANGE");
            c.arg(self.key("log", room)).arg(&start).arg(&end);
            c
        };
        cmd.arg("COUNT").arg(limit);
        let r: Result<Vec<StreamEntry>, _> = cmd.query_async(&mut self.conn()).await;
        let mut out = Vec::new();
        for (id, fields) in self.track(r)? {
            let seq = id
                .split('-')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| ClusterError::Unexpected(format!("stream id {id}")))?;
            if let Some((_, frame)) = fields.into_iter().find(|(k, _)| k == "f") {
                out.push((seq, frame));
            }
        }
        if newest {
            out.reverse();
        }
        Ok(out)
    }

    /// Whether the log holds anything before `seq`.
    pub async fn has_before(&self, room: &str, seq: Seq) -> Result<bool, ClusterError> {
        if seq <= 1 {
            return Ok(false);
        }
        let r: Result<Vec<StreamEntry>, _> = redis::cmd("XREVRANGE")
            .arg(self.key("log", room))
            .arg(format!("{}-0", seq - 1))
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut self.conn())
            .await;
        Ok(!self.track(r)?.is_empty())
    }

    /// The entry this instance stores for a member.
    pub fn entry_for(&self, name: &str) -> String {
        format!(
            "{}\t{}\t{name}",
            self.inner.instance,
            crate::clock::now_ms()
        )
    }

    /// Claims `name_key` in a room for this instance. False: a live member
    /// elsewhere in the cluster has that name.
    pub async fn claim(
        &self,
        room: &str,
        name_key: &str,
        entry: &str,
    ) -> Result<bool, ClusterError> {
        let mut conn = self.conn();
        let r: Result<i64, _> = self
            .inner
            .claim
            .key(self.key("members", room))
            .arg(name_key)
            .arg(entry)
            .arg(&self.inner.instance)
            .arg(format!("{}instance:", self.inner.config.prefix))
            .invoke_async(&mut conn)
            .await;
        Ok(self.track(r)? == 1)
    }

    /// Removes a member entry if it is still `entry`. True if it was removed
    /// by this call (so the caller announces the departure).
    pub async fn release(
        &self,
        room: &str,
        name_key: &str,
        entry: &str,
    ) -> Result<bool, ClusterError> {
        let mut conn = self.conn();
        let r: Result<i64, _> = self
            .inner
            .release
            .key(self.key("members", room))
            .arg(name_key)
            .arg(entry)
            .invoke_async(&mut conn)
            .await;
        Ok(self.track(r)? == 1)
    }

    /// Every member entry of a room, with whether its instance is alive,
    /// in join order.
    pub async fn members(
        &self,
        room: &str,
    ) -> Result<Vec<(String, MemberEntry, bool)>, ClusterError> {
        let r: Result<Vec<(String, String)>, _> =
            self.conn().hgetall(self.key("members", room)).await;
        let raw = self.track(r)?;
        let mut owners: Vec<String> = Vec::new();
        let mut entries = Vec::new();
        for (key, value) in raw {
            if let Some(e) = MemberEntry::parse(&value) {
                if !owners.contains(&e.instance) {
                    owners.push(e.instance.clone());
                }
                entries.push((key, e));
            }
        }
        let mut alive = Vec::with_capacity(owners.len());
        for owner in &owners {
            let key = format!("{}instance:{owner}", self.inner.config.prefix);
            let r: Result<bool, _> = self.conn().exists(key).await;
            alive.push(self.track(r)?);
        }
        let mut out: Vec<(String, MemberEntry, bool)> = entries
            .into_iter()
            .map(|(k, e)| {
                let live = owners
                    .iter()
                    .position(|o| *o == e.instance)
                    .map(|i| alive[i])
                    .unwrap_or(false);
                (k, e, live)
            })
            .collect();
        out.sort_by_key(|(_, e, _)| e.joined_ms);
        Ok(out)
    }

    /// Publishes a presence frame to a room's instances. `joined` names the
    /// joiner's name key, so its own instance does not echo it to the joiner.
    pub async fn publish_presence(
        &self,
        room: &str,
        joined: Option<&str>,
        frame: &Frame,
    ) -> Result<(), ClusterError> {
        let payload = match joined {
            Some(key) => format!("J{key}\n{}", frame.as_str()),
            None => format!("P\n{}", frame.as_str()),
        };
        let r: Result<(), _> = self.conn().publish(self.channel(room), payload).await;
        self.track(r)
    }
}

/// The key remembering which seq a (sender, request id) got. The sender's
/// name is length-prefixed: names may contain `:`, and without the length
/// "a:b" + "c" and "a" + "b:c" would share a key.
fn resend_key(prefix: &str, room: &str, sender_key: &str, client_id: &str) -> String {
    format!(
        "{prefix}ids:{room}:{}:{sender_key}:{client_id}",
        sender_key.len()
    )
}

/// A decoded pub/sub payload.
#[derive(Debug)]
pub enum FeedEvent {
    Message {
        seq: Seq,
        frame: Frame,
    },
    Joined {
        name_key: String,
        frame: Frame,
    },
    Presence {
        frame: Frame,
    },
    /// The subscription was re-established after an outage: re-read what
    /// may have been missed and re-register members.
    Resync,
}

impl FeedEvent {
    pub fn parse(payload: &str) -> Option<FeedEvent> {
        let (head, frame) = payload.split_once('\n')?;
        let frame = Frame::from_text(frame.to_owned());
        match head.as_bytes().first()? {
            b'M' => Some(FeedEvent::Message {
                seq: head[1..].parse().ok()?,
                frame,
            }),
            b'J' => Some(FeedEvent::Joined {
                name_key: head[1..].to_owned(),
                frame,
            }),
            b'P' => Some(FeedEvent::Presence { frame }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resend_keys_are_unambiguous() {
        assert_ne!(
            resend_key("p:", "dev", "a:b", "c"),
            resend_key("p:", "dev", "a", "b:c")
        );
        assert_eq!(resend_key("p:", "dev", "ann", "7"), "p:ids:dev:3:ann:7");
    }

    #[test]
    fn member_entries_round_trip() {
        let e = MemberEntry::parse("abc\t1700\tZoë Smith").unwrap();
        assert_eq!(
            (e.instance.as_str(), e.joined_ms, e.name.as_str()),
            ("abc", 1700, "Zoë Smith")
        );
        assert!(MemberEntry::parse("abc\tnot-a-number\tx").is_none());
    }

    #[test]
    fn feed_payloads_parse() {
        match FeedEvent::parse("M42\n{\"type\":\"message\"}") {
            Some(FeedEvent::Message { seq, frame }) => {
                assert_eq!(seq, 42);
                assert_eq!(frame.as_str(), "{\"type\":\"message\"}");
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(FeedEvent::parse("Jann\n{}"), Some(FeedEvent::Joined { name_key, .. }) if name_key == "ann")
        );
        assert!(matches!(
            FeedEvent::parse("P\n{}"),
            Some(FeedEvent::Presence { .. })
        ));
        assert!(FeedEvent::parse("X\n{}").is_none());
        assert!(FeedEvent::parse("no newline").is_none());
    }

    /// The script's substitution finds the real field: a frame encoded with
    /// `seq: 0` has `"seq":0,` exactly once before any user text, and user
    /// text cannot contain an unescaped quote.
    #[test]
    fn the_seq_placeholder_is_unambiguous() {
        let event = protocol::ServerEvent::Message {
            room: "dev".into(),
            seq: 0,
            ts: 1,
            from: "\"seq\":0,".into(),
            id: "x".into(),
            text: "\"seq\":0, sneaky".into(),
            action: false,
        };
        let frame = protocol::encode(&event);
        assert_eq!(frame.matches("\"seq\":0,").count(), 1);
        let numbered = frame.replacen("\"seq\":0,", "\"seq\":7,", 1);
        let protocol::ServerEvent::Message {
            seq, text, from, ..
        } = protocol::decode_server(&numbered).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (seq, text.as_str(), from.as_str()),
            (7, "\"seq\":0, sneaky", "\"seq\":0,")
        );
    }
}

//! A room's messages in Redis: its counter `seq:{room}`, its stream
//! `log:{room}` and the resend keys `ids:...`. Appending numbers,
//! de-duplicates, stores and publishes in one script.

use protocol::Seq;
use redis::AsyncCommands;

use super::{Cluster, ClusterError};

/// One entry of a Redis stream as XRANGE returns it: id and field pairs.
type StreamEntry = (String, Vec<(String, String)>);

impl Cluster {
    /// Appends a frame (encoded with `seq: 0`) to the room's log (a topic
    /// event with its `topic` text, kept as the room's current one).
    /// Returns the sequence number, and whether it is new (false: a resend).
    pub async fn append(
        &self,
        room: &str,
        sender_key: &str,
        client_id: &str,
        frame_without_seq: &str,
        topic: Option<&str>,
    ) -> Result<(bool, Seq), ClusterError> {
        let ids = resend_key(&self.inner.config.prefix, room, sender_key, client_id);
        let mut conn = self.conn();
        let r: Result<(i64, i64), _> = self
            .inner
            .append
            .key(self.key("seq", room))
            .key(self.key("log", room))
            .key(ids)
            .key(self.key("topic", room))
            .arg(frame_without_seq)
            .arg(self.inner.config.max_log)
            .arg(86_400)
            .arg(self.channel(room))
            .arg(if topic.is_some() { "1" } else { "0" })
            .arg(topic.unwrap_or(""))
            .invoke_async(&mut conn)
            .await;
        let (is_new, seq) = self.track(r)?;
        Ok((is_new == 1, seq.max(0) as Seq))
    }

    /// The room's current topic (`Some("")`: cleared; `None`: none kept).
    pub async fn topic(&self, room: &str) -> Result<Option<String>, ClusterError> {
        let r: Result<Option<String>, _> = self.conn().get(self.key("topic", room)).await;
        self.track(r)
    }

    /// The current topics of `rooms`, in order (`None`: none or cleared).
    pub async fn topics(&self, rooms: &[String]) -> Result<Vec<Option<String>>, ClusterError> {
        if rooms.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = rooms.iter().map(|r| self.key("topic", r)).collect();
        let r: Result<Vec<Option<String>>, _> = redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut self.conn())
            .await;
        Ok(self
            .track(r)?
            .into_iter()
            .map(|t| t.filter(|t| !t.is_empty()))
            .collect())
    }

    /// Records that direct-message conversation `key` (of identities `a`
    /// and `b`) was used at `ts`, in each one's list of conversations.
    pub async fn note_dm(&self, key: &str, a: &str, b: &str, ts: i64) -> Result<(), ClusterError> {
        let mut pipe = redis::pipe();
        pipe.zadd(self.key("dms", a), key, ts)
            .ignore()
            .zadd(self.key("dms", b), key, ts)
            .ignore();
        let r: Result<(), _> = pipe.query_async(&mut self.conn()).await;
        self.track(r)
    }

    /// The keys of `user`'s conversations, most recently used first, with
    /// the `seq` of each one's latest event.
    pub async fn dms(&self, user: &str, limit: usize) -> Result<Vec<(String, Seq)>, ClusterError> {
        let stop = limit.max(1) as isize - 1;
        let r: Result<Vec<String>, _> = self.conn().zrevrange(self.key("dms", user), 0, stop).await;
        let keys = self.track(r)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let seq = self.last_seq(&key).await?;
            out.push((key, seq));
        }
        Ok(out)
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
            user: "u_0000000000000001".into(),
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

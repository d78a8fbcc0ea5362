//! The cluster-wide view behind `list` and `whois`: which rooms have
//! members on live instances and which rooms two identities share (from
//! the rooms' member hashes), and which
//! identities have a connection on a live instance (`online:{user}`, a
//! hash of instance -> open connections).

use std::collections::{BTreeMap, HashSet};

use redis::AsyncCommands;

use super::{Cluster, ClusterError};

/// Rooms scanned for the directory, at most.
const MAX_SCANNED_ROOMS: usize = 5_000;

impl Cluster {
    /// Counts a connection of `user` on this instance (`delta` +1 when it
    /// opens, -1 when it closes).
    pub async fn count_online(&self, user: &str, delta: i64) -> Result<(), ClusterError> {
        let key = self.key("online", user);
        let instance = self.instance().to_owned();
        let r: Result<i64, _> = self.conn().hincr(&key, &instance, delta).await;
        if self.track(r)? <= 0 {
            let r: Result<(), _> = self.conn().hdel(&key, &instance).await;
            self.track(r)?;
        }
        Ok(())
    }

    /// Whether `user` has a connection on a live instance.
    pub async fn is_online(&self, user: &str) -> Result<bool, ClusterError> {
        let r: Result<Vec<(String, i64)>, _> = self.conn().hgetall(self.key("online", user)).await;
        for (instance, count) in self.track(r)? {
            if count <= 0 {
                continue;
            }
            let key = format!("{}instance:{instance}", self.inner.config.prefix);
            let r: Result<bool, _> = self.conn().exists(key).await;
            if self.track(r)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Every room (direct-message conversations left out) with identities
    /// on live instances, and how many.
    pub async fn room_counts(&self) -> Result<BTreeMap<String, usize>, ClusterError> {
        let mut counts = BTreeMap::new();
        for room in self.rooms_with_members().await? {
            let users = self.live_users(&room).await?;
            if !users.is_empty() {
                counts.insert(room, users.len());
            }
        }
        Ok(counts)
    }

    /// The rooms (direct-message conversations left out) that both `a` and
    /// `b` are in through a connection on a live instance, any instance.
    pub async fn shared_rooms(&self, a: &str, b: &str) -> Result<Vec<String>, ClusterError> {
        let mut shared = Vec::new();
        for room in self.rooms_with_members().await? {
            let users = self.live_users(&room).await?;
            if users.contains(a) && users.contains(b) {
                shared.push(room);
            }
        }
        Ok(shared)
    }

    /// The identities in `room` through a connection on a live instance.
    async fn live_users(&self, room: &str) -> Result<HashSet<String>, ClusterError> {
        Ok(self
            .members(room)
            .await?
            .into_iter()
            .filter(|(_, _, live)| *live)
            .map(|(_, entry, _)| entry.user)
            .collect())
    }

    /// The rooms with a member hash (at most [`MAX_SCANNED_ROOMS`]),
    /// direct-message conversations and pseudo-rooms left out.
    async fn rooms_with_members(&self) -> Result<Vec<String>, ClusterError> {
        let pattern = self.key("members", "*");
        let r: Result<Vec<String>, _> = async {
            let mut conn = self.conn();
            let mut iter: redis::AsyncIter<'_, String> = conn.scan_match(&pattern).await?;
            let mut keys = Vec::new();
            while let Some(key) = iter.next_item().await {
                keys.push(key?);
                if keys.len() >= MAX_SCANNED_ROOMS {
                    break;
                }
            }
            Ok(keys)
        }
        .await;
        let prefix = self.key("members", "");
        Ok(self
            .track(r)?
            .into_iter()
            .filter_map(|key| key.strip_prefix(&prefix).map(str::to_owned))
            .filter(|room| !room.starts_with('@') && !room.starts_with('!'))
            .collect())
    }
}

//! Who is in a room across the cluster: the hash `members:{room}`, one
//! field per connection (`user \t instance \t connection` ->
//! `instance \t join ms \t user \t name`), registered and removed by
//! scripts that also tell whether the connection was its identity's first
//! or last in the room; and presence frames published on the room's
//! channel.

use redis::AsyncCommands;

use super::{Cluster, ClusterError};
use crate::frame::Frame;

/// A member entry as stored in `members:{room}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEntry {
    pub instance: String,
    pub joined_ms: i64,
    pub user: String,
    pub name: String,
    /// The raw value, for compare-and-delete.
    pub raw: String,
}

impl MemberEntry {
    fn parse(raw: &str) -> Option<MemberEntry> {
        let mut parts = raw.splitn(4, '\t');
        let instance = parts.next()?.to_owned();
        let joined_ms = parts.next()?.parse().ok()?;
        let user = parts.next()?.to_owned();
        let name = parts.next()?.to_owned();
        Some(MemberEntry {
            instance,
            joined_ms,
            user,
            name,
            raw: raw.to_owned(),
        })
    }
}

/// What removing a member entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// The entry was not (any more) the one we saw: someone else removed it.
    NotOurs,
    /// Removed, and it was its identity's last connection in the room.
    Last,
    /// Removed; the identity is still in the room through another one.
    OthersLeft,
}

impl Cluster {
    /// The hash field and the entry this instance stores for connection
    /// `connection` of identity `user` called `name`.
    pub fn entry_for(&self, connection: u64, user: &str, name: &str) -> (String, String) {
        let instance = &self.inner.instance;
        (
            format!("{user}\t{instance}\t{connection}"),
            format!("{instance}\t{}\t{user}\t{name}", crate::clock::now_ms()),
        )
    }

    /// Registers a connection (`field` from [`Cluster::entry_for`]) of
    /// `user` in a room. True if no other connection of that identity on a
    /// live instance is in it: the identity is new there.
    pub async fn claim(
        &self,
        room: &str,
        field: &str,
        entry: &str,
        user: &str,
    ) -> Result<bool, ClusterError> {
        let mut conn = self.conn();
        let r: Result<i64, _> = self
            .inner
            .claim
            .key(self.key("members", room))
            .arg(field)
            .arg(entry)
            .arg(format!("{user}\t"))
            .arg(format!("{}instance:", self.inner.config.prefix))
            .invoke_async(&mut conn)
            .await;
        Ok(self.track(r)? == 1)
    }

    /// Removes a member entry if it is still `entry`, and tells whether
    /// its identity has left the room with it.
    pub async fn release(
        &self,
        room: &str,
        field: &str,
        entry: &str,
        user: &str,
    ) -> Result<Released, ClusterError> {
        let mut conn = self.conn();
        let r: Result<i64, _> = self
            .inner
            .release
            .key(self.key("members", room))
            .arg(field)
            .arg(entry)
            .arg(format!("{user}\t"))
            .arg(format!("{}instance:", self.inner.config.prefix))
            .invoke_async(&mut conn)
            .await;
        Ok(match self.track(r)? {
            1 => Released::Last,
            2 => Released::OthersLeft,
            _ => Released::NotOurs,
        })
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
    /// joiner's identity, so its own instance does not echo it to the joiner.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_entries_round_trip() {
        let e = MemberEntry::parse("abc\t1700\tu_1\tZoë Smith").unwrap();
        assert_eq!(
            (
                e.instance.as_str(),
                e.joined_ms,
                e.user.as_str(),
                e.name.as_str()
            ),
            ("abc", 1700, "u_1", "Zoë Smith")
        );
        assert!(MemberEntry::parse("abc\tnot-a-number\tx").is_none());
    }
}

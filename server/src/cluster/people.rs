//! Each identity as the whole cluster sees it: its current name, read from
//! the identity store's record (the one place a rename is written, so a
//! roster built on any instance shows the name as it is now), and its away
//! state, `away:{user}` (the reason, possibly empty), one state per
//! identity whichever instance set it.

use redis::AsyncCommands;

use super::{Cluster, ClusterError};

/// An identity's current name and away reason, as Redis has them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    pub name: Option<String>,
    pub away: Option<String>,
}

impl Cluster {
    /// The current name (`None`: no such identity) and away reason
    /// (`None`: not away) of each of `users`, in order, in one round trip.
    pub async fn people(&self, users: &[String]) -> Result<Vec<Person>, ClusterError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for user in users {
            pipe.hget(
                crate::identity::store::redis_user_key(&self.inner.config.prefix, user),
                "name",
            )
            .get(self.key("away", user));
        }
        let r: Result<Vec<Option<String>>, _> = pipe.query_async(&mut self.conn()).await;
        let mut answers = self.track(r)?.into_iter();
        let mut out = Vec::with_capacity(users.len());
        while let (Some(name), Some(away)) = (answers.next(), answers.next()) {
            out.push(Person { name, away });
        }
        Ok(out)
    }

    /// The away reasons of `users`, in order (`None`: not away).
    pub async fn aways(&self, users: &[String]) -> Result<Vec<Option<String>>, ClusterError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = users.iter().map(|u| self.key("away", u)).collect();
        let r: Result<Vec<Option<String>>, _> = redis::cmd("MGET")
            .arg(keys)
            .query_async(&mut self.conn())
            .await;
        self.track(r)
    }

    /// Marks `user` away (`Some`) or back (`None`) on every instance. False
    /// when it was already in that state (one step in Redis, so of two
    /// instances changing it at once exactly one sees the change).
    pub async fn set_away(&self, user: &str, away: Option<&str>) -> Result<bool, ClusterError> {
        let key = self.key("away", user);
        match away {
            Some(reason) => {
                let r: Result<Option<String>, _> = redis::cmd("SET")
                    .arg(&key)
                    .arg(reason)
                    .arg("GET")
                    .query_async(&mut self.conn())
                    .await;
                Ok(self.track(r)?.as_deref() != Some(reason))
            }
            None => {
                let r: Result<i64, _> = self.conn().del(&key).await;
                Ok(self.track(r)? > 0)
            }
        }
    }
}

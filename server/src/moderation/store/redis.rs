//! Moderation in Redis, for cluster mode: a ban made through one instance
//! holds on every other. One hash per room under the cluster's prefix,
//! `mod:{room}` (server-wide entries under `mod:!`), with fields
//! `{kind}\t{user}`; `put_if_absent` is `HSETNX`.

use std::collections::HashMap;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{Entry, GLOBAL, ModerationStore, StoreError, StoreFuture};

/// The Redis store.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url`; every key starts with `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(url)?;
        Self::with_client(&client, prefix).await
    }

    /// Uses an existing client (the cluster's).
    pub async fn with_client(
        client: &redis::Client,
        prefix: &str,
    ) -> Result<RedisStore, StoreError> {
        Ok(RedisStore {
            conn: client.get_connection_manager().await?,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, room: &str) -> String {
        match room {
            GLOBAL => format!("{}mod:!", self.prefix),
            room => format!("{}mod:{room}", self.prefix),
        }
    }
}

fn field(kind: &str, user: &str) -> String {
    format!("{kind}\t{user}")
}

impl ModerationStore for RedisStore {
    fn entries<'a>(&'a self, room: &'a str) -> StoreFuture<'a, Vec<Entry>> {
        Box::pin(async move {
            let all: HashMap<String, String> = self.conn.clone().hgetall(self.key(room)).await?;
            let mut entries: Vec<Entry> = all
                .into_iter()
                .filter_map(|(f, value)| {
                    let (kind, user) = f.split_once('\t')?;
                    Some(Entry {
                        kind: kind.to_owned(),
                        user: user.to_owned(),
                        value,
                    })
                })
                .collect();
            entries.sort();
            Ok(entries)
        })
    }

    fn put<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            match value {
                Some(v) => {
                    conn.hset::<_, _, _, ()>(self.key(room), field(kind, user), v)
                        .await?
                }
                None => {
                    conn.hdel::<_, _, ()>(self.key(room), field(kind, user))
                        .await?
                }
            }
            Ok(())
        })
    }

    fn put_if_absent<'a>(
        &'a self,
        room: &'a str,
        kind: &'a str,
        user: &'a str,
        value: &'a str,
    ) -> StoreFuture<'a, String> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let (key, f) = (self.key(room), field(kind, user));
            let _: bool = conn.hset_nx(&key, &f, value).await?;
            let now: Option<String> = conn.hget(&key, &f).await?;
            now.ok_or_else(|| StoreError::Other("entry vanished".into()))
        })
    }
}

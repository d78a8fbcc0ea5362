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

/// Runs a command, and once more if it fails: the first command after
/// Redis came back may meet the connection that broke.
async fn twice<T, F, Fut>(f: F) -> Result<T, StoreError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, redis::RedisError>>,
{
    match f().await {
        Ok(v) => Ok(v),
        Err(_) => Ok(f().await?),
    }
}

impl ModerationStore for RedisStore {
    fn entries<'a>(&'a self, room: &'a str) -> StoreFuture<'a, Vec<Entry>> {
        Box::pin(async move {
            let key = self.key(room);
            let all: HashMap<String, String> =
                twice(|| async { self.conn.clone().hgetall(&key).await }).await?;
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
            let (key, f) = (self.key(room), field(kind, user));
            twice(|| async {
                let mut conn = self.conn.clone();
                match value {
                    Some(v) => conn.hset::<_, _, _, ()>(&key, &f, v).await,
                    None => conn.hdel::<_, _, ()>(&key, &f).await,
                }
            })
            .await
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
            let (key, f) = (self.key(room), field(kind, user));
            let now: Option<String> = twice(|| async {
                let mut conn = self.conn.clone();
                let _: bool = conn.hset_nx(&key, &f, value).await?;
                conn.hget(&key, &f).await
            })
            .await?;
            now.ok_or_else(|| StoreError::Other("entry vanished".into()))
        })
    }
}

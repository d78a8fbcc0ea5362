//! Identities in Redis, for cluster mode: every instance signs people in
//! against the same records. Keys, under the cluster's prefix:
//!
//! - `id:user:{id}`: hash `name`, `key`, `created`, `seen`;
//! - `id:name:{key}`: the id holding a name key (set only if absent, which
//!   is what makes names unique across the cluster);
//! - `id:dev:{id}`: hash `user`, `name`, `created`, `seen`, `cred`;
//! - `id:devs:{user}`: the set of an identity's devices;
//! - `id:cred:{hash}`: the device of a credential hash;
//! - `id:code:{hash}`: `user \t expiry ms` of a link code, expiring with
//!   it; taken with GETDEL, so it is used once;
//! - `id:seen`: sorted set of identities by when they were last seen;
//! - `id:rooms:{user}`: sorted set of the rooms an identity is in, scored
//!   by the order first joined.

use std::collections::HashMap;

use protocol::TimestampMs;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{
    Device, Identity, IdentityStore, LAST_ROOMS, Listed, NewDevice, StoreError, StoreFuture,
};

/// Adds a room (ARGV[1]) to an identity's rooms (KEYS[1]) after the
/// others, unless it is there already, and keeps the newest ARGV[2].
const ROOM_JOINED: &str = r"
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local n = 1
if top[2] then n = tonumber(top[2]) + 1 end
redis.call('ZADD', KEYS[1], n, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -tonumber(ARGV[2]) - 1)
return 1
";

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

type Fields = HashMap<String, String>;

/// The key of identity `id`'s record under `prefix` (its `name` field is
/// the identity's current name, which the cluster reads for rosters).
pub fn user_key(prefix: &str, id: &str) -> String {
    format!("{prefix}id:user:{id}")
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

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}id:{kind}:{id}", self.prefix)
    }

    fn seen_key(&self) -> String {
        format!("{}id:seen", self.prefix)
    }

    async fn user(&self, id: &str) -> Result<Option<Identity>, StoreError> {
        let f: Fields = self
            .conn
            .clone()
            .hgetall(user_key(&self.prefix, id))
            .await?;
        Ok(parse_user(id, &f))
    }

    async fn device(&self, id: &str) -> Result<Option<(Device, String)>, StoreError> {
        let f: Fields = self.conn.clone().hgetall(self.key("dev", id)).await?;
        Ok(parse_device(id, &f))
    }

    async fn add_device(&self, user: &str, d: &NewDevice) -> Result<Device, StoreError> {
        let now = d.now;
        redis::pipe()
            .atomic()
            .hset_multiple(
                self.key("dev", &d.id),
                &[
                    ("user", user),
                    ("name", &d.name),
                    ("created", &now.to_string()),
                    ("seen", &now.to_string()),
                    ("cred", &d.credential_hash),
                ],
            )
            .sadd(self.key("devs", user), &d.id)
            .set(self.key("cred", &d.credential_hash), &d.id)
            .hset(self.key("user", user), "seen", now)
            .zadd(self.seen_key(), user, now)
            .exec_async(&mut self.conn.clone())
            .await?;
        Ok(d.device(user))
    }

    async fn seen(&self, user: &str, device: &str, now: TimestampMs) -> Result<(), StoreError> {
        redis::pipe()
            .hset(self.key("dev", device), "seen", now)
            .hset(self.key("user", user), "seen", now)
            .zadd(self.seen_key(), user, now)
            .exec_async(&mut self.conn.clone())
            .await?;
        Ok(())
    }

    async fn remove_user(&self, id: &str) -> Result<Option<Identity>, StoreError> {
        let Some(user) = self.user(id).await? else {
            return Ok(None);
        };
        let devices: Vec<String> = self.conn.clone().smembers(self.key("devs", id)).await?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        for d in &devices {
            if let Some((_, cred)) = self.device(d).await? {
                pipe.del(self.key("cred", &cred));
            }
            pipe.del(self.key("dev", d));
        }
        pipe.del(self.key("devs", id))
            .del(self.key("rooms", id))
            .del(self.key("user", id))
            .zrem(self.seen_key(), id);
        pipe.exec_async(&mut self.conn.clone()).await?;
        let name_key = self.key("name", &user.key);
        let holder: Option<String> = self.conn.clone().get(&name_key).await?;
        if holder.as_deref() == Some(id) {
            let _: () = self.conn.clone().del(&name_key).await?;
        }
        Ok(Some(user))
    }
}

fn num(f: &Fields, k: &str) -> Option<i64> {
    f.get(k)?.parse().ok()
}

fn parse_user(id: &str, f: &Fields) -> Option<Identity> {
    Some(Identity {
        id: id.to_owned(),
        name: f.get("name")?.clone(),
        key: f.get("key")?.clone(),
        created_ts: num(f, "created")?,
        last_seen_ts: num(f, "seen")?,
    })
}

fn parse_device(id: &str, f: &Fields) -> Option<(Device, String)> {
    let device = Device {
        id: id.to_owned(),
        user: f.get("user")?.clone(),
        name: f.get("name")?.clone(),
        created_ts: num(f, "created")?,
        last_seen_ts: num(f, "seen")?,
    };
    Some((device, f.get("cred")?.clone()))
}

impl IdentityStore for RedisStore {
    fn register<'a>(
        &'a self,
        identity: &'a Identity,
        device: Option<&'a NewDevice>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let claimed: bool = redis::cmd("SET")
                .arg(self.key("name", &identity.key))
                .arg(&identity.id)
                .arg("NX")
                .query_async::<Option<String>>(&mut self.conn.clone())
                .await?
                .is_some();
            if !claimed {
                return Err(StoreError::NameHeld);
            }
            redis::pipe()
                .atomic()
                .hset_multiple(
                    self.key("user", &identity.id),
                    &[
                        ("name", identity.name.as_str()),
                        ("key", &identity.key),
                        ("created", &identity.created_ts.to_string()),
                        ("seen", &identity.last_seen_ts.to_string()),
                    ],
                )
                .zadd(self.seen_key(), &identity.id, identity.last_seen_ts)
                .exec_async(&mut self.conn.clone())
                .await?;
            if let Some(d) = device {
                self.add_device(&identity.id, d).await?;
            }
            Ok(())
        })
    }

    fn sign_in<'a>(
        &'a self,
        credential_hash: &'a str,
        now: TimestampMs,
    ) -> StoreFuture<'a, Option<(Identity, Device)>> {
        Box::pin(async move {
            let device_id: Option<String> = self
                .conn
                .clone()
                .get(self.key("cred", credential_hash))
                .await?;
            let Some(device_id) = device_id else {
                return Ok(None);
            };
            let Some((mut device, _)) = self.device(&device_id).await? else {
                return Ok(None);
            };
            let Some(mut user) = self.user(&device.user).await? else {
                return Ok(None);
            };
            self.seen(&user.id, &device.id, now).await?;
            device.last_seen_ts = now;
            user.last_seen_ts = now;
            Ok(Some((user, device)))
        })
    }

    fn add_code<'a>(
        &'a self,
        code_hash: &'a str,
        user: &'a str,
        expires: TimestampMs,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let _: () = redis::cmd("SET")
                .arg(self.key("code", code_hash))
                .arg(format!("{user}\t{expires}"))
                .arg("PXAT")
                .arg(expires)
                .query_async(&mut self.conn.clone())
                .await?;
            Ok(())
        })
    }

    fn redeem<'a>(
        &'a self,
        code_hash: &'a str,
        device: &'a NewDevice,
    ) -> StoreFuture<'a, Option<(Identity, Device)>> {
        Box::pin(async move {
            let entry: Option<String> = redis::cmd("GETDEL")
                .arg(self.key("code", code_hash))
                .query_async(&mut self.conn.clone())
                .await?;
            // Redis expires the key itself; the stored expiry also holds
            // against the caller's clock.
            let user = entry.as_deref().and_then(|e| {
                let (user, expires) = e.split_once('\t')?;
                let expires: TimestampMs = expires.parse().ok()?;
                (expires > device.now).then(|| user.to_owned())
            });
            let Some(user) = user else {
                return Ok(None);
            };
            let Some(identity) = self.user(&user).await? else {
                return Ok(None);
            };
            let added = self.add_device(&user, device).await?;
            Ok(Some((identity, added)))
        })
    }

    fn devices<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<Device>> {
        Box::pin(async move {
            let ids: Vec<String> = self.conn.clone().smembers(self.key("devs", user)).await?;
            let mut list = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some((d, _)) = self.device(&id).await? {
                    list.push(d);
                }
            }
            list.sort_by(|a, b| (a.created_ts, &a.id).cmp(&(b.created_ts, &b.id)));
            Ok(list)
        })
    }

    fn revoke<'a>(&'a self, user: &'a str, device: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let Some((d, cred)) = self.device(device).await? else {
                return Ok(false);
            };
            if d.user != user {
                return Ok(false);
            }
            redis::pipe()
                .atomic()
                .del(self.key("cred", &cred))
                .del(self.key("dev", device))
                .srem(self.key("devs", user), device)
                .exec_async(&mut self.conn.clone())
                .await?;
            Ok(true)
        })
    }

    fn touch<'a>(
        &'a self,
        devices: &'a [(String, String)],
        now: TimestampMs,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            for (user, device) in devices {
                self.seen(user, device, now).await?;
            }
            Ok(())
        })
    }

    fn expire(&self, before: TimestampMs) -> StoreFuture<'_, Vec<String>> {
        Box::pin(async move {
            let old: Vec<String> = self
                .conn
                .clone()
                .zrangebyscore(self.seen_key(), "-inf", format!("({before}"))
                .await?;
            let mut names = Vec::new();
            for id in old {
                if let Some(u) = self.remove_user(&id).await? {
                    names.push(u.name);
                }
            }
            Ok(names)
        })
    }

    fn find<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Identity>> {
        Box::pin(async move {
            let id: Option<String> = self.conn.clone().get(self.key("name", key)).await?;
            match id {
                Some(id) => self.user(&id).await,
                None => Ok(None),
            }
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Identity>> {
        Box::pin(self.user(id))
    }

    fn list(&self) -> StoreFuture<'_, Vec<Listed>> {
        Box::pin(async move {
            let ids: Vec<String> = self.conn.clone().zrange(self.seen_key(), 0, -1).await?;
            let mut list = Vec::new();
            for id in ids {
                if let Some(identity) = self.user(&id).await? {
                    let devices: usize = self.conn.clone().scard(self.key("devs", &id)).await?;
                    list.push(Listed { identity, devices });
                }
            }
            list.sort_by(|a, b| a.identity.name.cmp(&b.identity.name));
            Ok(list)
        })
    }

    fn remove<'a>(&'a self, user: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move { Ok(self.remove_user(user).await?.is_some()) })
    }

    fn rename<'a>(&'a self, user: &'a str, name: &'a str, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let Some(old) = self.user(user).await? else {
                return Err(StoreError::Other(format!("no identity {user}")));
            };
            if old.key != key {
                let claimed: Option<String> = redis::cmd("SET")
                    .arg(self.key("name", key))
                    .arg(user)
                    .arg("NX")
                    .query_async(&mut self.conn.clone())
                    .await?;
                if claimed.is_none() {
                    return Err(StoreError::NameHeld);
                }
                let _: () = self.conn.clone().del(self.key("name", &old.key)).await?;
            }
            let _: () = self
                .conn
                .clone()
                .hset_multiple(self.key("user", user), &[("name", name), ("key", key)])
                .await?;
            Ok(())
        })
    }

    fn room_joined<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let _: i64 = redis::Script::new(ROOM_JOINED)
                .key(self.key("rooms", user))
                .arg(room)
                .arg(LAST_ROOMS)
                .invoke_async(&mut self.conn.clone())
                .await?;
            Ok(())
        })
    }

    fn room_left<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let _: () = self
                .conn
                .clone()
                .zrem(self.key("rooms", user), room)
                .await?;
            Ok(())
        })
    }

    fn last_rooms<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<String>> {
        Box::pin(async move {
            Ok(self
                .conn
                .clone()
                .zrange(self.key("rooms", user), 0, -1)
                .await?)
        })
    }
}

//! Identities in memory, for a throwaway server (`--memory`) and tests.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use protocol::TimestampMs;

use super::{
    Device, Identity, IdentityStore, LAST_ROOMS, Listed, NewDevice, StoreError, StoreFuture,
};

#[derive(Debug, Default)]
struct Tables {
    users: HashMap<String, Identity>,
    /// name key -> user id
    keys: HashMap<String, String>,
    devices: HashMap<String, Device>,
    /// credential hash -> device id
    credentials: HashMap<String, String>,
    /// code hash -> (user id, expires)
    codes: HashMap<String, (String, TimestampMs)>,
    /// user id -> rooms, first joined first
    rooms: HashMap<String, Vec<String>>,
}

impl Tables {
    fn add_device(&mut self, user: &str, new: &NewDevice) -> Device {
        let device = new.device(user);
        self.devices.insert(device.id.clone(), device.clone());
        self.credentials
            .insert(new.credential_hash.clone(), device.id.clone());
        device
    }

    fn seen(&mut self, user: &str, device: &str, now: TimestampMs) {
        if let Some(d) = self.devices.get_mut(device) {
            d.last_seen_ts = d.last_seen_ts.max(now);
        }
        if let Some(u) = self.users.get_mut(user) {
            u.last_seen_ts = u.last_seen_ts.max(now);
        }
    }

    fn remove_user(&mut self, user: &str) -> Option<Identity> {
        let identity = self.users.remove(user)?;
        self.keys.remove(&identity.key);
        self.devices.retain(|_, d| d.user != user);
        let devices = &self.devices;
        self.credentials.retain(|_, d| devices.contains_key(d));
        self.codes.retain(|_, (u, _)| u != user);
        self.rooms.remove(user);
        Some(identity)
    }
}

/// The in-memory store.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // Every operation leaves the tables consistent before it can panic.
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now<T: Send + 'static>(result: Result<T, StoreError>) -> StoreFuture<'static, T> {
        Box::pin(std::future::ready(result))
    }
}

impl IdentityStore for MemoryStore {
    fn register<'a>(
        &'a self,
        identity: &'a Identity,
        device: Option<&'a NewDevice>,
    ) -> StoreFuture<'a, ()> {
        let mut t = self.lock();
        if t.keys.contains_key(&identity.key) {
            return Self::now(Err(StoreError::NameHeld));
        }
        t.keys.insert(identity.key.clone(), identity.id.clone());
        t.users.insert(identity.id.clone(), identity.clone());
        if let Some(new) = device {
            t.add_device(&identity.id, new);
        }
        Self::now(Ok(()))
    }

    fn sign_in<'a>(
        &'a self,
        credential_hash: &'a str,
        now: TimestampMs,
    ) -> StoreFuture<'a, Option<(Identity, Device)>> {
        let mut t = self.lock();
        let found = t.credentials.get(credential_hash).cloned().and_then(|d| {
            let device = t.devices.get(&d)?.clone();
            t.seen(&device.user, &device.id, now);
            let device = t.devices.get(&d)?.clone();
            Some((t.users.get(&device.user)?.clone(), device))
        });
        Self::now(Ok(found))
    }

    fn add_code<'a>(
        &'a self,
        code_hash: &'a str,
        user: &'a str,
        expires: TimestampMs,
    ) -> StoreFuture<'a, ()> {
        let mut t = self.lock();
        t.codes
            .insert(code_hash.to_owned(), (user.to_owned(), expires));
        Self::now(Ok(()))
    }

    fn redeem<'a>(
        &'a self,
        code_hash: &'a str,
        device: &'a NewDevice,
    ) -> StoreFuture<'a, Option<(Identity, Device)>> {
        let mut t = self.lock();
        let found = match t.codes.remove(code_hash) {
            Some((user, expires)) if expires > device.now && t.users.contains_key(&user) => {
                let added = t.add_device(&user, device);
                t.seen(&user, &added.id, device.now);
                t.users.get(&user).cloned().map(|u| (u, added))
            }
            _ => None,
        };
        Self::now(Ok(found))
    }

    fn devices<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<Device>> {
        let t = self.lock();
        let mut list: Vec<Device> = t
            .devices
            .values()
            .filter(|d| d.user == user)
            .cloned()
            .collect();
        list.sort_by(|a, b| (a.created_ts, &a.id).cmp(&(b.created_ts, &b.id)));
        Self::now(Ok(list))
    }

    fn revoke<'a>(&'a self, user: &'a str, device: &'a str) -> StoreFuture<'a, bool> {
        let mut t = self.lock();
        let ours = t.devices.get(device).is_some_and(|d| d.user == user);
        if ours {
            t.devices.remove(device);
            t.credentials.retain(|_, d| d != device);
        }
        Self::now(Ok(ours))
    }

    fn touch<'a>(
        &'a self,
        devices: &'a [(String, String)],
        now: TimestampMs,
    ) -> StoreFuture<'a, ()> {
        let mut t = self.lock();
        for (user, device) in devices {
            t.seen(user, device, now);
        }
        Self::now(Ok(()))
    }

    fn expire(&self, before: TimestampMs) -> StoreFuture<'_, Vec<String>> {
        let mut t = self.lock();
        let old: Vec<String> = t
            .users
            .values()
            .filter(|u| u.last_seen_ts < before)
            .map(|u| u.id.clone())
            .collect();
        let names = old
            .iter()
            .filter_map(|id| t.remove_user(id).map(|u| u.name))
            .collect();
        Self::now(Ok(names))
    }

    fn find<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Identity>> {
        let t = self.lock();
        let found = t.keys.get(key).and_then(|id| t.users.get(id)).cloned();
        Self::now(Ok(found))
    }

    fn get<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Identity>> {
        let found = self.lock().users.get(id).cloned();
        Self::now(Ok(found))
    }

    fn list(&self) -> StoreFuture<'_, Vec<Listed>> {
        let t = self.lock();
        let mut list: Vec<Listed> = t
            .users
            .values()
            .map(|u| Listed {
                identity: u.clone(),
                devices: t.devices.values().filter(|d| d.user == u.id).count(),
            })
            .collect();
        list.sort_by(|a, b| a.identity.name.cmp(&b.identity.name));
        Self::now(Ok(list))
    }

    fn remove<'a>(&'a self, user: &'a str) -> StoreFuture<'a, bool> {
        let removed = self.lock().remove_user(user).is_some();
        Self::now(Ok(removed))
    }

    fn rename<'a>(&'a self, user: &'a str, name: &'a str, key: &'a str) -> StoreFuture<'a, ()> {
        let mut t = self.lock();
        if t.keys.get(key).is_some_and(|holder| holder != user) {
            return Self::now(Err(StoreError::NameHeld));
        }
        let Some(old_key) = t.users.get(user).map(|u| u.key.clone()) else {
            return Self::now(Err(StoreError::Other(format!("no identity {user}"))));
        };
        t.keys.remove(&old_key);
        t.keys.insert(key.to_owned(), user.to_owned());
        if let Some(u) = t.users.get_mut(user) {
            u.name = name.to_owned();
            u.key = key.to_owned();
        }
        Self::now(Ok(()))
    }

    fn room_joined<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()> {
        let mut t = self.lock();
        let rooms = t.rooms.entry(user.to_owned()).or_default();
        if !rooms.iter().any(|r| r == room) {
            rooms.push(room.to_owned());
            let extra = rooms.len().saturating_sub(LAST_ROOMS);
            rooms.drain(..extra);
        }
        Self::now(Ok(()))
    }

    fn room_left<'a>(&'a self, user: &'a str, room: &'a str) -> StoreFuture<'a, ()> {
        if let Some(rooms) = self.lock().rooms.get_mut(user) {
            rooms.retain(|r| r != room);
        }
        Self::now(Ok(()))
    }

    fn last_rooms<'a>(&'a self, user: &'a str) -> StoreFuture<'a, Vec<String>> {
        let rooms = self.lock().rooms.get(user).cloned().unwrap_or_default();
        Self::now(Ok(rooms))
    }
}

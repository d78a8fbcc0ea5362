//! What a room's moderation entries mean: [`RoomRecord`] (owner, modes,
//! roles, bans, mutes, invites) read from the store's entries, kept
//! current by applying each `moderation` event, and [`persist`], which
//! writes what an event changes. Reading and writing go through the same
//! event, so the store, every instance's rooms and the history agree.

use std::collections::{HashMap, HashSet};

use protocol::moderation::{ModAction, Role, RoomModes};
use protocol::{ServerEvent, TimestampMs};
use serde::{Deserialize, Serialize};

use super::store::{Entry, GLOBAL, ModerationStore, StoreError};

const OWNER: &str = "owner";
const MODES: &str = "modes";
const ROLE: &str = "role";
const BAN: &str = "ban";
const MUTE: &str = "mute";
const INVITE: &str = "invite";
/// Server-wide: an admin (user) / an invite-only room (user = the room).
const ADMIN: &str = "admin";
const PRIVATE: &str = "private";

/// A ban or a mute: until when (`None`: until lifted), why, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restriction {
    pub until: Option<TimestampMs>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub by: Option<String>,
}

impl Restriction {
    /// Still in force at `now`.
    pub fn holds(&self, now: TimestampMs) -> bool {
        self.until.is_none_or(|until| now < until)
    }

    /// "for 55 min: spam", "until lifted": for refusals.
    pub fn describe(&self, now: TimestampMs) -> String {
        let time = match self.until {
            Some(until) => {
                let left = u64::try_from((until - now).max(1000) / 1000).unwrap_or(1);
                format!(
                    "for another {}",
                    protocol::moderation::format_duration(left)
                )
            }
            None => "until lifted".into(),
        };
        match &self.reason {
            Some(reason) if !reason.is_empty() => format!("{time}: {reason}"),
            _ => time,
        }
    }
}

/// A room's moderation state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoomRecord {
    pub owner: Option<String>,
    pub modes: RoomModes,
    /// `op` or `voice` by identity.
    pub roles: HashMap<String, Role>,
    pub bans: HashMap<String, Restriction>,
    pub mutes: HashMap<String, Restriction>,
    pub invites: HashSet<String>,
}

impl RoomRecord {
    /// The record the store's entries describe (unreadable values are
    /// skipped).
    pub fn from_entries(entries: &[Entry]) -> RoomRecord {
        let mut record = RoomRecord::default();
        for e in entries {
            match e.kind.as_str() {
                OWNER => record.owner = Some(e.value.clone()),
                MODES => record.modes = serde_json::from_str(&e.value).unwrap_or_default(),
                ROLE => {
                    if let Some(role) = Role::from_wire(&e.value) {
                        record.roles.insert(e.user.clone(), role);
                    }
                }
                BAN | MUTE => {
                    if let Ok(r) = serde_json::from_str(&e.value) {
                        let map = match e.kind.as_str() {
                            BAN => &mut record.bans,
                            _ => &mut record.mutes,
                        };
                        map.insert(e.user.clone(), r);
                    }
                }
                INVITE => {
                    record.invites.insert(e.user.clone());
                }
                _ => {}
            }
        }
        record
    }

    /// The role of `user` here: admin (when `admin`), owner, or the role
    /// given in this room.
    pub fn role_of(&self, user: &str, admin: bool) -> Option<Role> {
        if admin {
            Some(Role::Admin)
        } else if self.owner.as_deref() == Some(user) {
            Some(Role::Owner)
        } else {
            self.roles.get(user).copied()
        }
    }

    /// The ban of `user` in force at `now`.
    pub fn ban(&self, user: &str, now: TimestampMs) -> Option<&Restriction> {
        self.bans.get(user).filter(|r| r.holds(now))
    }

    /// The mute of `user` in force at `now`.
    pub fn mute(&self, user: &str, now: TimestampMs) -> Option<&Restriction> {
        self.mutes.get(user).filter(|r| r.holds(now))
    }

    /// Applies a `moderation` event (any other event changes nothing).
    pub fn apply(&mut self, event: &ServerEvent) {
        let Some(change) = Change::of(event) else {
            return;
        };
        match change {
            Change::Role(user, Some(role)) => {
                self.roles.insert(user, role);
            }
            Change::Role(user, None) => {
                self.roles.remove(&user);
            }
            Change::Ban(user, r) => set(&mut self.bans, user, r),
            Change::Mute(user, r) => set(&mut self.mutes, user, r),
            Change::Invite(user) => {
                self.invites.insert(user);
            }
            Change::Modes(modes) => self.modes = modes,
            Change::Nothing => {}
        }
    }
}

fn set(map: &mut HashMap<String, Restriction>, user: String, r: Option<Restriction>) {
    match r {
        Some(r) => map.insert(user, r),
        None => map.remove(&user),
    };
}

/// What an event changes in the record.
enum Change {
    Role(String, Option<Role>),
    Ban(String, Option<Restriction>),
    Mute(String, Option<Restriction>),
    Invite(String),
    Modes(RoomModes),
    Nothing,
}

impl Change {
    fn of(event: &ServerEvent) -> Option<Change> {
        let ServerEvent::Moderation {
            ts,
            action,
            actor,
            target,
            reason,
            duration_s,
            modes,
            ..
        } = event
        else {
            return None;
        };
        let restriction = || Restriction {
            until: duration_s
                .map(|s| ts.saturating_add(i64::try_from(s).unwrap_or(i64::MAX / 2000) * 1000)),
            reason: reason.clone(),
            by: actor.as_ref().map(|a| a.name.clone()),
        };
        if *action == ModAction::Mode {
            return Some(Change::Modes(modes.unwrap_or_default()));
        }
        let user = target.as_ref()?.id.clone();
        Some(match action {
            ModAction::Op => Change::Role(user, Some(Role::Op)),
            ModAction::Voice => Change::Role(user, Some(Role::Voice)),
            ModAction::Deop | ModAction::Devoice => Change::Role(user, None),
            ModAction::Ban => Change::Ban(user, Some(restriction())),
            ModAction::Unban => Change::Ban(user, None),
            ModAction::Mute | ModAction::AutoMute => Change::Mute(user, Some(restriction())),
            ModAction::Unmute => Change::Mute(user, None),
            ModAction::Invite => Change::Invite(user),
            ModAction::Kick | ModAction::Mode => Change::Nothing,
        })
    }
}

/// Writes what `event` changes in `room`'s record to the store, before the
/// event is kept in the room's history.
pub async fn persist(
    store: &dyn ModerationStore,
    room: &str,
    event: &ServerEvent,
) -> Result<(), StoreError> {
    let json = |r: &Restriction| serde_json::to_string(r).unwrap_or_default();
    match Change::of(event) {
        None | Some(Change::Nothing) => Ok(()),
        Some(Change::Role(user, role)) => {
            store.put(room, ROLE, &user, role.map(|r| r.as_str())).await
        }
        Some(Change::Ban(user, r)) => {
            store
                .put(room, BAN, &user, r.as_ref().map(json).as_deref())
                .await
        }
        Some(Change::Mute(user, r)) => {
            store
                .put(room, MUTE, &user, r.as_ref().map(json).as_deref())
                .await
        }
        Some(Change::Invite(user)) => store.put(room, INVITE, &user, Some("1")).await,
        Some(Change::Modes(modes)) => {
            let value = serde_json::to_string(&modes).unwrap_or_default();
            store.put(room, MODES, "", Some(&value)).await?;
            let private = modes.invite_only.then_some("1");
            store.put(GLOBAL, PRIVATE, room, private).await
        }
    }
}

/// Makes `user` the owner of `room` unless it has one; returns the owner.
pub async fn claim_owner(
    store: &dyn ModerationStore,
    room: &str,
    user: &str,
) -> Result<String, StoreError> {
    store.put_if_absent(room, OWNER, "", user).await
}

/// The server-wide records: admins (identity ids) and invite-only rooms.
#[derive(Debug, Clone, Default)]
pub struct ServerRecord {
    pub admins: HashSet<String>,
    pub private_rooms: HashSet<String>,
}

/// Reads the server-wide records.
pub async fn server_record(store: &dyn ModerationStore) -> Result<ServerRecord, StoreError> {
    let mut record = ServerRecord::default();
    for e in store.entries(GLOBAL).await? {
        match e.kind.as_str() {
            ADMIN => record.admins.insert(e.user),
            PRIVATE => record.private_rooms.insert(e.user),
            _ => false,
        };
    }
    Ok(record)
}

/// Names (`admin`) or un-names an admin.
pub async fn set_admin(
    store: &dyn ModerationStore,
    user: &str,
    admin: bool,
) -> Result<(), StoreError> {
    store.put(GLOBAL, ADMIN, user, admin.then_some("1")).await
}

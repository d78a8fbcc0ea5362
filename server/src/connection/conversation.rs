//! The conversation requests of an identified client: who may use a
//! direct-message key, `query`, `nick`, `away`/`back`, `whois`, `list` and
//! `topic`, and the `welcome`'s list of conversations.
//!
//! Every request naming a direct-message key goes through [`dm_access`]
//! first: anyone but its two people, and a key whose peer does not exist,
//! get the same `not_found`, so no answer tells whether a conversation
//! exists.

use std::sync::Arc;

use protocol::limits::{MAX_LISTED_ROOMS, MAX_WELCOME_DMS};
use protocol::{DmSummary, RoomListing, ServerEvent, UserRef, dm, names, validate};

use super::dispatch::{Client, Refusal, queue_reply};
use crate::Shared;
use crate::conversations::cluster::Notice;
use crate::frame::Frame;
use crate::identity::StoreError;
use crate::identity::store::Identity;
use crate::room::Backend;

/// The identity `name` (as typed) belongs to, found by its look-alike key.
pub(super) async fn find_by_name(shared: &Shared, name: &str) -> Result<Option<Identity>, Refusal> {
    let Ok(name) = names::normalize(name) else {
        return Ok(None);
    };
    let key = names::name_key(&name);
    Ok(shared.identities.store().find(&key).await?)
}

/// Refuses `room` (a direct-message key) unless `client` is one of its two
/// people and the other one exists.
pub(super) async fn dm_access(shared: &Shared, client: &Client, room: &str) -> Result<(), Refusal> {
    let missing = || Refusal::NoConversation(room.chars().take(80).collect());
    let Some(peer) = dm::peer(room, &client.user) else {
        return Err(missing());
    };
    if peer == &*client.user {
        return Err(missing());
    }
    if shared.registry.directory().is_online(peer) {
        return Ok(());
    }
    match shared.identities.store().get(peer).await? {
        Some(_) => Ok(()),
        None => Err(missing()),
    }
}

/// The key of the conversation with `name`, for `query`.
pub(super) async fn query_key(
    shared: &Shared,
    client: &Client,
    name: &str,
) -> Result<String, Refusal> {
    let Some(peer) = find_by_name(shared, name).await? else {
        return Err(Refusal::NoSuchName(name.chars().take(40).collect()));
    };
    if peer.id == *client.user {
        return Err(Refusal::QueryYourself);
    }
    Ok(dm::key(&client.user, &peer.id))
}

/// The identities `user` has direct-message conversations with (at most
/// [`MAX_WELCOME_DMS`] recent ones).
async fn dm_peers(shared: &Shared, user: &str) -> Vec<String> {
    match shared.registry.backend().dms(user, MAX_WELCOME_DMS).await {
        Ok(list) => list
            .iter()
            .filter_map(|(key, _)| dm::peer(key, user).map(str::to_owned))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list conversations");
            Vec::new()
        }
    }
}

/// What changed about an identity, for the other instances.
#[derive(Default)]
struct Change {
    renamed: Option<String>,
    away: Option<Option<String>>,
}

/// Hands `frame` once to every connection that shares a room or a
/// conversation with `user`, and to `user`'s own: here, and through the
/// other instances of a cluster (with `change` for them to apply).
async fn tell_sharers(shared: &Shared, user: &str, frame: &Frame, change: Change) {
    let mut users = dm_peers(shared, user).await;
    users.push(user.to_owned());
    let directory = shared.registry.directory();
    let rooms = directory.rooms_of(user);
    let targets: Vec<&str> = users.iter().map(String::as_str).collect();
    directory.deliver_to_sharers(&rooms, &targets, frame);
    if let Backend::Cluster(cluster, _) = shared.registry.backend() {
        let notice = Notice {
            origin: String::new(),
            frame: frame.as_str().to_owned(),
            users,
            rooms: rooms.into_iter().collect(),
            about: Some(user.to_owned()),
            renamed: change.renamed,
            away: change.away,
            dm: None,
        };
        crate::conversations::cluster::publish(cluster, notice).await;
    }
}

/// `welcome.dms`: the identity's recent conversations, newest first.
pub(super) async fn welcome_dms(shared: &Shared, user: &str) -> Vec<DmSummary> {
    let list = match shared.registry.backend().dms(user, MAX_WELCOME_DMS).await {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list conversations for welcome");
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (room, last_seq) in list {
        let Some(peer) = dm::peer(&room, user) else {
            continue;
        };
        let name = match shared.identities.store().get(peer).await {
            Ok(Some(identity)) => identity.name,
            // A removed identity's conversations are not offered.
            _ => continue,
        };
        out.push(DmSummary {
            peer: UserRef {
                id: peer.to_owned(),
                name,
            },
            room,
            last_seq,
        });
    }
    out
}

/// `nick`: renames the identity in the store, here, and in its rooms, then
/// tells everyone sharing a room or conversation, once per connection.
pub(super) async fn nick(
    shared: &Shared,
    client: &mut Client,
    id: &str,
    name: &str,
) -> Result<(), Refusal> {
    let new = names::normalize(name)?;
    validate::display_name(&new)?;
    let key = names::name_key(&new);
    let old = shared
        .registry
        .directory()
        .name_of(&client.user)
        .unwrap_or_else(|| client.name.clone());
    match shared
        .identities
        .store()
        .rename(&client.user, &new, &key)
        .await
    {
        Err(StoreError::NameHeld) => return Err(Refusal::NameTaken(new)),
        other => other?,
    }
    let new: Arc<str> = Arc::from(new.as_str());
    client.name = new.clone();
    let directory = shared.registry.directory();
    directory.rename(&client.user, &new);
    for room in directory.rooms_of(&client.user) {
        if let Some(handle) = shared.registry.running(&room) {
            handle
                .send(crate::room::RoomCommand::Rename {
                    user: client.user.to_string(),
                    name: new.clone(),
                })
                .await;
        }
    }
    queue_reply(client, &ServerEvent::ack_ok(id, None));
    if *old != *new {
        let renamed = Frame::encode(&ServerEvent::Renamed {
            user: client.user.to_string(),
            old: old.to_string(),
            name: new.to_string(),
            ts: crate::clock::now_ms(),
        });
        let change = Change {
            renamed: Some(new.to_string()),
            away: None,
        };
        tell_sharers(shared, &client.user, &renamed, change).await;
    }
    Ok(())
}

/// `away` (with `Some` reason, possibly empty) and `back` (`None`).
pub(super) async fn away(
    shared: &Shared,
    client: &Client,
    id: &str,
    reason: Option<&str>,
) -> Result<(), Refusal> {
    let reason = reason.map(validate::away_reason).transpose()?;
    let directory = shared.registry.directory();
    let mut changed = directory.set_away(&client.user, reason.map(str::to_owned));
    if let Backend::Cluster(cluster, _) = shared.registry.backend() {
        // One state per identity across the cluster: Redis says whether
        // this changed it, whatever this instance remembered.
        changed = cluster
            .set_away(&client.user, reason)
            .await
            .map_err(|e| Refusal::Cluster(e.to_string()))?;
    }
    queue_reply(client, &ServerEvent::ack_ok(id, None));
    if changed {
        let user = client.user.to_string();
        let change = Change {
            renamed: None,
            away: Some(reason.map(str::to_owned)),
        };
        let event = match reason {
            Some(reason) => ServerEvent::Away {
                user,
                reason: reason.to_owned(),
            },
            None => ServerEvent::Back { user },
        };
        tell_sharers(shared, &client.user, &Frame::encode(&event), change).await;
    }
    Ok(())
}

/// After a `send` or `location` in conversation `room`: if the peer is
/// away, tells the sending connection.
pub(super) async fn away_notice(shared: &Shared, client: &Client, room: &str) {
    let Some(peer) = dm::peer(room, &client.user) else {
        return;
    };
    if let Some(reason) = away_of(shared, peer).await {
        let name = match shared.registry.directory().name_of(peer) {
            Some(name) => name.to_string(),
            None => match shared.identities.store().get(peer).await {
                Ok(Some(identity)) => identity.name,
                _ => String::new(),
            },
        };
        queue_reply(
            client,
            &ServerEvent::AwayNotice {
                room: room.to_owned(),
                user: peer.to_owned(),
                name,
                reason,
            },
        );
    }
}

/// `user`'s away reason: the cluster's one state, else this instance's.
async fn away_of(shared: &Shared, user: &str) -> Option<String> {
    let directory = shared.registry.directory();
    if let Backend::Cluster(cluster, _) = shared.registry.backend() {
        match cluster.aways(&[user.to_owned()]).await {
            Ok(mut aways) => return aways.pop().flatten(),
            Err(e) => tracing::warn!(error = %e, "cannot read away states; this instance's used"),
        }
    }
    directory.away_of(user)
}

/// Counts a connection of `user` opening (+1) or closing (-1) for the
/// cluster's `whois`; nothing without a cluster. Like on a single server,
/// away ends with the identity's last connection, here: anywhere.
pub(super) async fn count_online(shared: &Shared, user: &str, delta: i64) {
    let Backend::Cluster(cluster, _) = shared.registry.backend() else {
        return;
    };
    if let Err(e) = cluster.count_online(user, delta).await {
        tracing::warn!(error = %e, "cannot count the connection as online");
        return;
    }
    if delta < 0
        && let Ok(false) = cluster.is_online(user).await
        && let Err(e) = cluster.set_away(user, None).await
    {
        tracing::warn!(error = %e, "cannot end the away state of a person gone");
    }
}

/// Whether `user` has a live connection here or, in a cluster, anywhere.
async fn is_online(shared: &Shared, user: &str) -> bool {
    if shared.registry.directory().is_online(user) {
        return true;
    }
    match shared.registry.backend() {
        Backend::Cluster(cluster, _) => cluster.is_online(user).await.unwrap_or(false),
        Backend::Local(_) => false,
    }
}

/// `whois`.
pub(super) async fn whois(
    shared: &Shared,
    client: &Client,
    id: &str,
    name: &str,
) -> Result<(), Refusal> {
    let Some(who) = find_by_name(shared, name).await? else {
        return Err(Refusal::NoSuchName(name.chars().take(40).collect()));
    };
    let devices = shared.identities.store().devices(&who.id).await?.len();
    let directory = shared.registry.directory();
    let mut rooms: Vec<String> = match shared.registry.backend() {
        Backend::Cluster(cluster, _) => cluster
            .shared_rooms(&client.user, &who.id)
            .await
            .map_err(|e| Refusal::Cluster(e.to_string()))?,
        Backend::Local(_) => {
            let mine = directory.rooms_of(&client.user);
            directory
                .rooms_of(&who.id)
                .intersection(&mine)
                .cloned()
                .collect()
        }
    };
    rooms.retain(|r| !dm::is_dm(r));
    rooms.sort();
    let online = is_online(shared, &who.id).await;
    let event = ServerEvent::Whois {
        online,
        // Away ends with the last connection; an instance that died
        // without ending it leaves nobody away who is not online.
        away: match online {
            true => away_of(shared, &who.id).await,
            false => None,
        },
        devices: u32::try_from(devices).unwrap_or(u32::MAX),
        rooms,
        since_ts: who.created_ts,
        user: UserRef {
            id: who.id,
            name: who.name,
        },
    };
    queue_reply(client, &event);
    queue_reply(client, &ServerEvent::ack_ok(id, None));
    Ok(())
}

/// `list`: the rooms with members (on every instance of a cluster), most
/// first, then by name.
pub(super) async fn list(shared: &Shared, client: &Client, id: &str) -> Result<(), Refusal> {
    let directory = shared.registry.directory();
    let counts: Vec<(String, usize)> = match shared.registry.backend() {
        Backend::Cluster(cluster, _) => cluster
            .room_counts()
            .await
            .map_err(|e| Refusal::Cluster(e.to_string()))?
            .into_iter()
            .filter(|(room, _)| directory.is_visible(room))
            .collect(),
        Backend::Local(_) => directory
            .room_members()
            .into_iter()
            .map(|(room, members)| (room, members.len()))
            .collect(),
    };
    // Invite-only rooms stay out of the directory, on every instance.
    let private = shared
        .moderation
        .private_rooms()
        .await
        .map_err(|e| Refusal::Cluster(e.to_string()))?;
    let mut rooms: Vec<RoomListing> = counts
        .into_iter()
        .filter(|(room, _)| !dm::is_dm(room) && !private.contains(room))
        .map(|(room, members)| RoomListing {
            topic: directory.topic(&room),
            members: u32::try_from(members).unwrap_or(u32::MAX),
            room,
        })
        .collect();
    rooms.sort_by(|a, b| b.members.cmp(&a.members).then_with(|| a.room.cmp(&b.room)));
    rooms.truncate(MAX_LISTED_ROOMS);
    if let Backend::Cluster(cluster, _) = shared.registry.backend() {
        // A room with nobody here has its topic in Redis only.
        let names: Vec<String> = rooms.iter().map(|r| r.room.clone()).collect();
        match cluster.topics(&names).await {
            Ok(topics) => {
                for (listing, topic) in rooms.iter_mut().zip(topics) {
                    listing.topic = topic.or(listing.topic.take());
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read room topics; this instance's shown"),
        }
    }
    queue_reply(client, &ServerEvent::RoomList { rooms });
    queue_reply(client, &ServerEvent::ack_ok(id, None));
    Ok(())
}

//! Conversations across a cluster. What one instance decides about an
//! identity (a new name, away, back) and the direct messages it stores are
//! announced on the cluster's conversation channel (a pseudo-room no room
//! name can be: `!conv`); every other instance applies them to its own
//! connections.
//!
//! A direct message is delivered by every instance running its
//! conversation's task (from the room's own channel, like any room event);
//! an instance that does not run it delivers the announced copy to its
//! connections of the two people instead, so each connection gets it once.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cluster::{Cluster, Feed, FeedEvent};
use crate::frame::Frame;
use crate::registry::Registry;
use crate::room::RoomCommand;

/// The pseudo-room whose channel carries [`Notice`]s.
const CHANNEL: &str = "!conv";

/// One announcement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notice {
    /// The instance that sent it (it applied it already).
    pub origin: String,
    /// The frame to hand on.
    pub frame: String,
    /// Identities whose every connection gets the frame.
    pub users: Vec<String>,
    /// Connections in these rooms get the frame too (with the rooms that
    /// `about`'s connections are in on the receiving instance).
    #[serde(default)]
    pub rooms: Vec<String>,
    /// The identity the notice is about, for sharers and updates.
    #[serde(default)]
    pub about: Option<String>,
    /// Its new name.
    #[serde(default)]
    pub renamed: Option<String>,
    /// Its away state changed: `Some(reason)` away, `None` back.
    #[serde(default)]
    pub away: Option<Option<String>>,
    /// The frame is an event of this direct-message conversation.
    #[serde(default)]
    pub dm: Option<String>,
}

/// Announces `notice` to the other instances.
pub async fn publish(cluster: &Cluster, mut notice: Notice) {
    notice.origin = cluster.instance().to_owned();
    let Ok(payload) = serde_json::to_string(&notice) else {
        return;
    };
    if let Err(e) = cluster
        .publish_presence(CHANNEL, None, &Frame::from_text(payload))
        .await
    {
        tracing::warn!(error = %e, "conversation notice not announced to the other instances");
    }
}

/// Applies the other instances' notices to this one's connections, until
/// `stop`.
pub async fn follow(
    registry: Arc<Registry>,
    cluster: Cluster,
    feed: Feed,
    stop: CancellationToken,
) {
    let (tx, mut events) = mpsc::unbounded_channel();
    // Unconfirmed now (Redis away): the feed subscribes once it is back.
    let _ = feed.subscribe(CHANNEL, tx).await;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(FeedEvent::Presence { frame }) => {
                    if let Ok(notice) = serde_json::from_str::<Notice>(frame.as_str())
                        && notice.origin != cluster.instance()
                    {
                        apply(&registry, notice).await;
                    }
                }
                Some(_) => {}
                None => return,
            },
            () = stop.cancelled() => {
                feed.unsubscribe(CHANNEL);
                return;
            }
        }
    }
}

async fn apply(registry: &Registry, notice: Notice) {
    let directory = registry.directory();
    let frame = Frame::from_text(notice.frame);
    let users: Vec<&str> = notice.users.iter().map(String::as_str).collect();
    if let Some(key) = &notice.dm {
        // A running task delivers it from the conversation's own channel.
        if registry.running(key).is_none() {
            directory.deliver(&users, &frame);
        }
        return;
    }
    let Some(about) = &notice.about else {
        return;
    };
    if let Some(name) = &notice.renamed {
        let name: Arc<str> = Arc::from(name.as_str());
        directory.rename(about, &name);
        for room in directory.rooms_of(about) {
            if let Some(handle) = registry.running(&room) {
                handle
                    .send(RoomCommand::Rename {
                        user: about.clone(),
                        name: name.clone(),
                    })
                    .await;
            }
        }
    }
    if let Some(away) = notice.away {
        directory.set_away(about, away);
    }
    let mut rooms = directory.rooms_of(about);
    rooms.extend(notice.rooms);
    directory.deliver_to_sharers(&rooms, &users, &frame);
}

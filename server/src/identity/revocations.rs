//! Revocations across a cluster: a device signed out through one instance
//! must lose its connections on every instance. The instance that revoked
//! it publishes the device id on the cluster's revocation channel (a
//! pseudo-room no real room name can be: `!revoked`); every instance
//! follows it and closes its own connections of that device.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Identities;
use crate::cluster::{Cluster, Feed, FeedEvent};
use crate::frame::Frame;

/// The pseudo-room whose channel carries revoked device ids.
const CHANNEL: &str = "!revoked";

/// Tells every instance that `device` was revoked.
pub async fn publish(cluster: &Cluster, device: &str) {
    let frame = Frame::from_text(device.to_owned());
    if let Err(e) = cluster.publish_presence(CHANNEL, None, &frame).await {
        tracing::warn!(error = %e, "revocation not announced to the other instances");
    }
}

/// Closes this instance's connections of every device another instance
/// revokes, until `stop`.
pub async fn follow(identities: Arc<Identities>, feed: Feed, stop: CancellationToken) {
    let (tx, mut events) = mpsc::unbounded_channel();
    // Unconfirmed now (Redis away): the feed subscribes once it is back.
    let _ = feed.subscribe(CHANNEL, tx).await;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(FeedEvent::Presence { frame }) => identities.close_device(frame.as_str()),
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

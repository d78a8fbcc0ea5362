//! The instance's one pub/sub connection to Redis, shared by its rooms.
//!
//! Rooms subscribe when they start and unsubscribe when they retire; the
//! feed routes every payload to its room's task. When the connection breaks
//! it reconnects with exponential backoff, subscribes again and tells every
//! room to resynchronise (read back what it missed from the shared log and
//! re-register its members), because pub/sub does not keep anything for a
//! subscriber that was away.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use protocol::Seq;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::Cluster;
use crate::frame::Frame;

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

enum Command {
    Subscribe {
        room: String,
        events: mpsc::UnboundedSender<FeedEvent>,
        done: oneshot::Sender<bool>,
    },
    Unsubscribe {
        room: String,
    },
}

/// Handle rooms use to (un)subscribe.
#[derive(Debug, Clone)]
pub struct Feed {
    commands: mpsc::UnboundedSender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Subscribe { room, .. } => write!(f, "Subscribe({room})"),
            Command::Unsubscribe { room } => write!(f, "Unsubscribe({room})"),
        }
    }
}

impl Feed {
    /// Starts the feed task; it ends when `shutdown` is cancelled.
    pub fn start(cluster: Cluster, shutdown: CancellationToken) -> Feed {
        let (commands, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(cluster, rx, shutdown));
        Feed { commands }
    }

    /// Subscribes a room; true once Redis confirmed the subscription (false
    /// if Redis is unreachable now; the subscription is then made when it is
    /// back, followed by a resync).
    pub async fn subscribe(&self, room: &str, events: mpsc::UnboundedSender<FeedEvent>) -> bool {
        let (done, confirmed) = oneshot::channel();
        let command = Command::Subscribe {
            room: room.to_owned(),
            events,
            done,
        };
        if self.commands.send(command).is_err() {
            return false;
        }
        confirmed.await.unwrap_or(false)
    }

    pub fn unsubscribe(&self, room: &str) {
        let _ = self.commands.send(Command::Unsubscribe {
            room: room.to_owned(),
        });
    }
}

/// Where each subscribed room's events go.
type Routes = HashMap<String, mpsc::UnboundedSender<FeedEvent>>;

async fn run(
    cluster: Cluster,
    mut commands: mpsc::UnboundedReceiver<Command>,
    shutdown: CancellationToken,
) {
    let mut routes: Routes = HashMap::new();
    let mut backoff = MIN_BACKOFF;
    let mut reconnecting = false;
    loop {
        let pubsub = tokio::select! {
            r = cluster.client().get_async_pubsub() => r,
            () = shutdown.cancelled() => return,
        };
        let (mut sink, mut stream) = match pubsub {
            Ok(p) => p.split(),
            Err(e) => {
                cluster.set_healthy(false);
                tracing::warn!(error = %e, retry_in = ?backoff, "redis pub/sub unreachable");
                // Answer subscriptions while we are down, so rooms do not wait.
                let deadline = tokio::time::sleep(backoff);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        () = &mut deadline => break,
                        () = shutdown.cancelled() => return,
                        Some(c) = commands.recv() => apply_offline(&mut routes, c),
                    }
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                reconnecting = true;
                continue;
            }
        };
        let rooms: Vec<String> = routes.keys().cloned().collect();
        let mut ok = true;
        for room in &rooms {
            if sink.subscribe(cluster.channel(room)).await.is_err() {
                ok = false;
                break;
            }
        }
        if !ok {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
            continue;
        }
        backoff = MIN_BACKOFF;
        cluster.set_healthy(true);
        if reconnecting {
            if let Err(e) = cluster.restore_epoch().await {
                tracing::warn!(error = %e, "cannot check the cluster epoch");
            }
            for tx in routes.values() {
                let _ = tx.send(FeedEvent::Resync);
            }
        }
        reconnecting = true;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                message = stream.next() => {
                    let Some(message) = message else {
                        cluster.set_healthy(false);
                        tracing::warn!("redis pub/sub connection lost; reconnecting");
                        break;
                    };
                    let Some(room) = cluster.room_of_channel(message.get_channel_name()) else { continue };
                    let Ok(payload) = std::str::from_utf8(message.get_payload_bytes()) else { continue };
                    let Some(events) = FeedEvent::parse(payload) else {
                        tracing::warn!(room, "unreadable cluster payload");
                        continue;
                    };
                    if let Some(tx) = routes.get(room) {
                        for event in events {
                            let _ = tx.send(event);
                        }
                    }
                }
                Some(command) = commands.recv() => match command {
                    Command::Subscribe { room, events, done } => {
                        routes.insert(room.clone(), events);
                        let ok = sink.subscribe(cluster.channel(&room)).await.is_ok();
                        let _ = done.send(ok);
                        if !ok {
                            break;
                        }
                    }
                    Command::Unsubscribe { room } => {
                        routes.remove(&room);
                        if sink.unsubscribe(cluster.channel(&room)).await.is_err() {
                            break;
                        }
                    }
                },
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn apply_offline(routes: &mut Routes, command: Command) {
    match command {
        Command::Subscribe { room, events, done } => {
            routes.insert(room, events);
            let _ = done.send(false);
        }
        Command::Unsubscribe { room } => {
            routes.remove(&room);
        }
    }
}

/// A decoded pub/sub payload.
#[derive(Debug)]
pub enum FeedEvent {
    Message {
        seq: Seq,
        frame: Frame,
    },
    /// An identity's first connection joined: its instance does not echo
    /// this to the joiner.
    Joined {
        user: String,
        frame: Frame,
    },
    Presence {
        frame: Frame,
    },
    /// The subscription was re-established after an outage: re-read what
    /// may have been missed and re-register members.
    Resync,
}

impl FeedEvent {
    /// The events of one payload: several for a batch of messages.
    pub fn parse(payload: &str) -> Option<Vec<FeedEvent>> {
        if let Some(batch) = payload.strip_prefix("B\n") {
            let mut events = Vec::new();
            let mut parts = batch.split('\n');
            while let Some(seq) = parts.next() {
                events.push(FeedEvent::Message {
                    seq: seq.parse().ok()?,
                    frame: Frame::from_text(parts.next()?.to_owned()),
                });
            }
            return Some(events);
        }
        Self::parse_one(payload).map(|e| vec![e])
    }

    fn parse_one(payload: &str) -> Option<FeedEvent> {
        let (head, frame) = payload.split_once('\n')?;
        let frame = Frame::from_text(frame.to_owned());
        match head.as_bytes().first()? {
            b'M' => Some(FeedEvent::Message {
                seq: head[1..].parse().ok()?,
                frame,
            }),
            b'J' => Some(FeedEvent::Joined {
                user: head[1..].to_owned(),
                frame,
            }),
            b'P' => Some(FeedEvent::Presence { frame }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_payloads_parse() {
        let one = |p: &str| {
            let mut events = FeedEvent::parse(p)?;
            assert_eq!(events.len(), 1, "{p}");
            events.pop()
        };
        match one("M42\n{\"type\":\"message\"}") {
            Some(FeedEvent::Message { seq, frame }) => {
                assert_eq!(seq, 42);
                assert_eq!(frame.as_str(), "{\"type\":\"message\"}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(one("Ju_1\n{}"), Some(FeedEvent::Joined { user, .. }) if user == "u_1"));
        assert!(matches!(one("P\n{}"), Some(FeedEvent::Presence { .. })));
        assert!(FeedEvent::parse("X\n{}").is_none());
        assert!(FeedEvent::parse("no newline").is_none());
    }

    #[test]
    fn a_batch_payload_is_its_messages_in_order() {
        let events = FeedEvent::parse("B\n7\n{\"a\":\"x\\ny\"}\n8\n{}").expect("parses");
        let got: Vec<(Seq, &str)> = events
            .iter()
            .map(|e| match e {
                FeedEvent::Message { seq, frame } => (*seq, frame.as_str()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(got, vec![(7, "{\"a\":\"x\\ny\"}"), (8, "{}")]);
        assert!(
            FeedEvent::parse("B\n7").is_none(),
            "a number without its frame"
        );
        assert!(FeedEvent::parse("B\nx\n{}").is_none());
    }
}

//! A message, location, topic change or moderation action from the server, sanitized, as an
//! entry: live events and stored history go through the same conversion.

use protocol::ServerEvent;

use super::Me;
use super::entries::{Entry, EntryKind};
use crate::sanitize;

/// A message or location from the server, sanitized, as an entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored {
    pub seq: u64,
    /// The sender's request id.
    pub id: String,
    /// Sent under your name (from here or from another client of yours).
    pub own: bool,
    pub entry: Entry,
    /// A topic change: the new topic (empty: cleared).
    pub topic: Option<String>,
}

impl Stored {
    /// Converts a `message` or `location` event; `None` for other events
    /// and for locations out of range. Live messages and stored history
    /// go through this same conversion.
    pub fn from_event(ev: ServerEvent, me: &Me) -> Option<Stored> {
        let (seq, ts, id, kind, own) = match ev {
            ServerEvent::Message {
                seq,
                ts,
                from,
                user,
                id,
                text,
                action,
                ..
            } => {
                let own = me.is(&user, &from);
                let from = sanitize::one_line(&from);
                let text = sanitize::message_text(&text);
                let mention = !own && protocol::mention::mentions(&text, &me.name);
                let kind = EntryKind::Message {
                    from: from.clone(),
                    text,
                    action,
                    mention,
                };
                (seq, ts, id, kind, own)
            }
            ServerEvent::Location {
                seq,
                ts,
                from,
                user,
                id,
                latitude,
                longitude,
                ..
            } if protocol::validate::location(latitude, longitude).is_ok() => {
                let own = me.is(&user, &from);
                let from = sanitize::one_line(&from);
                let kind = EntryKind::Location {
                    from: from.clone(),
                    latitude,
                    longitude,
                };
                (seq, ts, id, kind, own)
            }
            ServerEvent::Topic {
                seq,
                ts,
                from,
                user,
                id,
                text,
                ..
            } => {
                let own = me.is(&user, &from);
                let who = if own {
                    "you".to_string()
                } else {
                    sanitize::one_line(&from)
                };
                let text = sanitize::one_line(&text);
                let line = if text.is_empty() {
                    format!("{who} cleared the topic")
                } else {
                    format!("{who} set the topic: {text}")
                };
                return Some(Stored {
                    seq,
                    own,
                    id,
                    entry: Entry::new(ts, EntryKind::Notice(line)),
                    topic: Some(text),
                });
            }
            ServerEvent::Moderation { seq, ts, .. } => {
                // Who did what to whom, as every client words it.
                let text = protocol::moderation::describe(&ev)?;
                return Some(Stored {
                    seq,
                    own: false,
                    id: String::new(),
                    entry: Entry::new(ts, EntryKind::Notice(sanitize::one_line(&text))),
                    topic: None,
                });
            }
            _ => return None,
        };
        Some(Stored {
            seq,
            own,
            id,
            entry: Entry::new(ts, kind),
            topic: None,
        })
    }

    pub fn mention(&self) -> bool {
        matches!(self.entry.kind, EntryKind::Message { mention: true, .. })
    }

    pub(super) fn sender(&self) -> Option<&str> {
        match &self.entry.kind {
            EntryKind::Message { from, .. } | EntryKind::Location { from, .. } => Some(from),
            _ => None,
        }
    }
}

//! Lines of yours: shown at once as pending, handed to the outbox, and
//! marked sent or failed as the outbox decides.

use protocol::ClientEvent;

use super::outbox::{Change, Failure};
use super::{App, Delivery, Effect, Entry, EntryKind, Now};
use crate::sanitize;

/// The room a `send` or `location` frame is for.
fn post_room(frame: &ClientEvent) -> Option<&str> {
    match frame {
        ClientEvent::Send { room, .. } | ClientEvent::Location { room, .. } => Some(room),
        _ => None,
    }
}

impl App {
    /// The room a message typed now goes to. It need not be joined yet:
    /// the message waits (shown as pending) until it can be sent.
    pub(super) fn target_room(&mut self) -> Option<String> {
        let Some(room) = self.current_room() else {
            self.error("you are not in a room: /join ROOM first");
            return None;
        };
        if room.removed {
            let name = room.name.clone();
            self.error(format!("you are no longer in #{name}: /join {name} first"));
            return None;
        }
        Some(room.name.clone())
    }

    /// Sends text (or an action) to the current room; false if refused.
    pub(super) fn post_text(
        &mut self,
        text: String,
        action: bool,
        now: Now,
        fx: &mut Vec<Effect>,
    ) -> bool {
        if let Err(e) = protocol::validate::message_text(&text) {
            self.error(e.to_string());
            return false;
        }
        let Some(room) = self.target_room() else {
            return false;
        };
        self.post_line(room, text, action, now, fx);
        true
    }

    /// Sends text to buffer `index` (`/msg` to an open conversation);
    /// false if refused.
    pub(super) fn post_text_to(
        &mut self,
        index: usize,
        text: String,
        now: Now,
        fx: &mut Vec<Effect>,
    ) -> bool {
        if let Err(e) = protocol::validate::message_text(&text) {
            self.error(e.to_string());
            return false;
        }
        let Some(room) = self.rooms.get(index).map(|r| r.name.clone()) else {
            return false;
        };
        self.post_line(room, text, false, now, fx);
        true
    }

    fn post_line(
        &mut self,
        room: String,
        text: String,
        action: bool,
        now: Now,
        fx: &mut Vec<Effect>,
    ) {
        let id = self.next_id();
        self.post(
            ClientEvent::Send {
                id,
                room,
                text,
                action,
            },
            now,
            fx,
        );
    }

    /// Shows a message or location of yours at once as pending, and puts
    /// it in the outbox, which sends it now or once its room is joined.
    pub(super) fn post(&mut self, frame: ClientEvent, now: Now, fx: &mut Vec<Effect>) {
        let kind = match &frame {
            ClientEvent::Send { text, action, .. } => EntryKind::Message {
                from: self.me.clone(),
                text: sanitize::message_text(text),
                action: *action,
                mention: false,
            },
            ClientEvent::Location {
                latitude,
                longitude,
                ..
            } => EntryKind::Location {
                from: self.me.clone(),
                latitude: *latitude,
                longitude: *longitude,
            },
            _ => return,
        };
        let (Some(room), Some(id)) = (post_room(&frame), frame.request_id()) else {
            return;
        };
        let (room, id) = (room.to_string(), id.to_string());
        let Some(i) = self.room_index(&room) else {
            return;
        };
        let mut entry = Entry::new(now.wall_ms, kind);
        entry.delivery = Delivery::Pending;
        entry.request = Some(id.clone());
        self.rooms[i].push(entry);
        let changes = self.outbox.submit(id, room, frame, now.mono_ms);
        self.apply_outbox(changes, fx);
    }

    /// Carries out what the outbox decided: frames to send, and the marks
    /// of your lines.
    pub(super) fn apply_outbox(&mut self, changes: Vec<Change<ClientEvent>>, fx: &mut Vec<Effect>) {
        for change in changes {
            match change {
                Change::Send(frame) => fx.push(Effect::Send(frame)),
                Change::Sent { id, room } => self.mark(&room, &id, Delivery::Done),
                Change::Retrying { id, room } => self.mark(&room, &id, Delivery::Pending),
                Change::Failed { id, room, failure } => {
                    self.mark(&room, &id, Delivery::Failed(failure.message.clone()));
                    self.error(format!(
                        "not sent to {}: {}{}",
                        self.title_of(&room),
                        failure.message,
                        super::moderation::retry_hint(&failure.code)
                    ));
                }
            }
        }
    }

    fn mark(&mut self, room: &str, id: &str, delivery: Delivery) {
        if let Some(i) = self.room_index(room) {
            self.rooms[i].set_delivery(id, delivery);
        }
    }

    /// `/retry`: sends the failed messages of the current room again.
    pub(super) fn retry(&mut self, now: Now, fx: &mut Vec<Effect>) {
        let Some(room) = self.current_room().map(|r| r.name.clone()) else {
            self.error("you are not in a room");
            return;
        };
        let changes = self.outbox.retry_room(&room, now.mono_ms);
        if !changes.iter().any(|c| matches!(c, Change::Retrying { .. })) {
            self.info(format!("nothing to send again in #{room}"));
        }
        self.apply_outbox(changes, fx);
    }
}

/// A refusal from the server as the outbox keeps it.
pub(super) fn failure(err: &protocol::server::ErrorBody) -> Failure {
    Failure {
        code: err.code.as_str().to_string(),
        message: super::moderation::reason_of(err),
    }
}

//! Moderation as chat-tui shows it: the requests of `/op`, `/kick`,
//! `/ban`, `/mode`, `/slow`, `/filter`, `/modlog` and what their refusals
//! say; `moderation` events (the sentence [`protocol::moderation::describe`]
//! words, and the roles and modes they change); being removed from a room
//! (`removed`); the `/modlog` answer; and which refusals of a line of yours
//! are worth a `/retry`.

use protocol::moderation::{self as rules, ModAction, Role, RoomModes};
use protocol::{AckResult, ClientEvent, ErrorBody, ErrorCode, ServerEvent, UserRef};

use super::outbox::Failure;
use super::stored::Stored;
use super::{App, Effect, Entry, EntryKind, Now, Request, Room};
use crate::commands::{Command, ModeRequest};
use crate::sanitize;

/// Refusals of a line that say no for good (the text, the person or the
/// room is the reason): `/retry` would be refused the same way, so the
/// failure does not suggest it.
const FINAL_REFUSALS: &[ErrorCode] = &[
    ErrorCode::ContentBlocked,
    ErrorCode::Flood,
    ErrorCode::Banned,
    ErrorCode::Forbidden,
    ErrorCode::Moderated,
    ErrorCode::InviteOnly,
];

/// What a failed line of yours says after its reason: how to send it
/// again, unless that cannot help.
pub(super) fn retry_hint(code: &str) -> &'static str {
    if FINAL_REFUSALS.iter().any(|c| c.as_str() == code) {
        ""
    } else {
        " (/retry sends it again)"
    }
}

/// The reason of a refusal: the server's message, or what its code means
/// when the message is empty.
pub(super) fn reason_of(err: &ErrorBody) -> String {
    let message = sanitize::one_line(&err.message);
    if !message.trim().is_empty() {
        return message;
    }
    match err.code {
        ErrorCode::ContentBlocked => "refused by the content filter".into(),
        ErrorCode::Flood => "refused as flooding".into(),
        ErrorCode::Muted => "you are muted here".into(),
        ErrorCode::Moderated => "the room is moderated: only voiced people speak".into(),
        ErrorCode::SlowMode => "slow mode: wait before the next message".into(),
        ErrorCode::Banned => "you are banned from this room".into(),
        ErrorCode::InviteOnly => "the room is invite-only".into(),
        ErrorCode::TopicLocked => "the topic is locked to operators".into(),
        ErrorCode::Forbidden => "not allowed".into(),
        code => code.as_str().replace('_', " "),
    }
}

/// The modes as the status line shows them: `+mt slow 10s`, with the
/// filter when it is not the server's (`filter off`); empty when none.
pub fn modes_label(modes: &RoomModes) -> String {
    let letters: String = [
        (modes.moderated, 'm'),
        (modes.invite_only, 'i'),
        (modes.topic_lock, 't'),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, c)| *c)
    .collect();
    let mut parts = Vec::new();
    if !letters.is_empty() {
        parts.push(format!("+{letters}"));
    }
    if modes.slow_s > 0 {
        let slow = rules::format_duration(modes.slow_s.into()).replace(' ', "");
        parts.push(format!("slow {slow}"));
    }
    if modes.filter != rules::FilterMode::Server {
        parts.push(format!("filter {}", modes.filter.as_str()));
    }
    parts.join(" ")
}

impl Room {
    /// The role of the identity `id` here, as the last `room_state` and
    /// the `moderation` events since have it.
    pub fn role_of(&self, id: &str) -> Option<Role> {
        self.roles.get(id).copied()
    }

    /// What the user list shows before the name of `id`: `@`, `+` or
    /// nothing.
    pub fn prefix_of(&self, id: &str) -> &'static str {
        self.role_of(id).map_or("", Role::prefix)
    }

    /// A live `moderation` event: the role or the modes it changes. (A
    /// role higher than the one given or taken stays: an owner made
    /// operator is still the owner.)
    fn apply_moderation(
        &mut self,
        action: ModAction,
        target: Option<&UserRef>,
        modes: Option<RoomModes>,
    ) {
        if let (ModAction::Mode, Some(modes)) = (action, modes) {
            self.modes = modes;
            return;
        }
        let Some(target) = target else {
            return;
        };
        let now = self.role_of(&target.id);
        let next = match action {
            ModAction::Op if rules::rank(now) < rules::rank(Some(Role::Op)) => Some(Role::Op),
            ModAction::Voice if now.is_none() => Some(Role::Voice),
            ModAction::Deop if now == Some(Role::Op) => None,
            ModAction::Devoice if now == Some(Role::Voice) => None,
            _ => return,
        };
        match next {
            Some(role) => self.roles.insert(target.id.clone(), role),
            None => self.roles.remove(&target.id),
        };
    }
}

impl App {
    /// Sends a moderation request for the current room; false when it
    /// cannot be sent (no room, a conversation, no connection).
    pub(super) fn moderate(&mut self, cmd: Command, fx: &mut Vec<Effect>) -> bool {
        let Some(room) = self.current_room() else {
            self.error("you are not in a room");
            return false;
        };
        if room.is_dm() {
            self.error("moderation is for rooms, not conversations");
            return false;
        }
        let room = room.name.clone();
        if !self.require_connection("moderation") {
            return false;
        }
        let id = self.next_id();
        let (frame, what) = match cmd {
            Command::Moderate {
                action,
                name,
                duration_s,
                reason,
            } => {
                let what = format!("{} {name}", action.as_str());
                let frame = ClientEvent::Moderate {
                    id: id.clone(),
                    room: room.clone(),
                    action,
                    target: Some(name),
                    duration_s,
                    reason,
                };
                (frame, what)
            }
            Command::Mode(ModeRequest {
                moderated,
                invite_only,
                topic_lock,
                slow_s,
                filter,
            }) => {
                let frame = ClientEvent::Mode {
                    id: id.clone(),
                    room: room.clone(),
                    moderated,
                    invite_only,
                    topic_lock,
                    slow_s,
                    filter,
                };
                (frame, "change the modes".to_string())
            }
            Command::Modlog => {
                let frame = ClientEvent::Modlog {
                    id: id.clone(),
                    room: room.clone(),
                };
                (frame, "show the moderation log".to_string())
            }
            _ => return false,
        };
        self.requests.insert(id, Request::Moderation { room, what });
        fx.push(Effect::Send(frame));
        true
    }

    /// The answer to a moderation request: a refusal is said (success
    /// shows as the `moderation` event or the `mod_log` that came first).
    pub(super) fn moderation_answered(&mut self, room: &str, what: &str, result: AckResult) {
        if let AckResult::Err(err) = result {
            let title = self.title_of(room);
            self.error(format!("cannot {what} in {title}: {}", reason_of(&err)));
        }
    }

    /// A live `moderation` event: roles and modes, then the sentence in
    /// the room like any kept event (and on the notice line when it is
    /// about you).
    pub(super) fn on_moderation(&mut self, ev: ServerEvent, now: Now, fx: &mut Vec<Effect>) {
        let ServerEvent::Moderation {
            room,
            action,
            target,
            modes,
            ..
        } = &ev
        else {
            return;
        };
        let room = room.clone();
        let about_me = target.as_ref().is_some_and(|t| t.id == self.me_id);
        if let Some(i) = self.room_index(&room) {
            self.rooms[i].apply_moderation(*action, target.as_ref(), *modes);
        }
        if let Some(msg) = Stored::from_event(ev, &self.who()) {
            if about_me && let EntryKind::Notice(text) = &msg.entry.kind {
                self.info(format!("{}: {text}", self.title_of(&room)));
            }
            self.on_message(&room, msg, now, fx);
        }
    }

    /// You were kicked or banned from `room`: the buffer stays, read-only,
    /// with the reason; it is not joined again on reconnecting, only by
    /// `/join`. Your lines waiting for it fail.
    pub(super) fn on_removed(
        &mut self,
        room: &str,
        action: ModAction,
        by: Option<UserRef>,
        reason: Option<String>,
        now: Now,
        fx: &mut Vec<Effect>,
    ) {
        let Some(i) = self.room_index(room) else {
            return;
        };
        let by = by.map_or("the server".into(), |b| sanitize::one_line(&b.name));
        let verb = if action == ModAction::Ban {
            "banned"
        } else {
            "kicked"
        };
        let reason = reason
            .map(|r| sanitize::one_line(&r))
            .filter(|r| !r.is_empty())
            .map_or(String::new(), |r| format!(": {r}"));
        let title = self.rooms[i].title();
        let text = format!("you were {verb} from {title} by {by}{reason}");
        let r = &mut self.rooms[i];
        r.joined = false;
        r.removed = true;
        r.users.clear();
        r.user_ids.clear();
        let failure = Failure {
            code: action.as_str().into(),
            message: text.clone(),
        };
        let changes = self.outbox.join_failed(room, &failure);
        self.apply_outbox(changes, fx);
        let hint = if action == ModAction::Ban {
            String::new()
        } else {
            format!(" (/join {room} to come back)")
        };
        let text = format!("{text}{hint}");
        self.rooms[i].push(Entry::new(now.wall_ms, EntryKind::Error(text.clone())));
        self.error(text);
    }

    /// The answer to `/modlog`: one line per action, at the time it was
    /// taken, in the room's buffer.
    pub(super) fn show_mod_log(&mut self, room: &str, entries: Vec<ServerEvent>, now: Now) {
        let title = self.title_of(room);
        let head = if entries.is_empty() {
            format!("no moderation actions in {title}")
        } else {
            let n = super::plural(entries.len(), "action", "actions");
            format!("moderation log of {title} ({n}, oldest first):")
        };
        let mut lines = vec![Entry::new(now.wall_ms, EntryKind::Notice(head))];
        for ev in &entries {
            let (Some(text), ServerEvent::Moderation { ts, .. }) = (rules::describe(ev), ev) else {
                continue;
            };
            let text = format!("  {}", sanitize::one_line(&text));
            lines.push(Entry::new(*ts, EntryKind::Notice(text)));
        }
        match self.room_index(room) {
            Some(i) => lines.into_iter().for_each(|e| self.rooms[i].push(e)),
            None => lines.into_iter().for_each(|e| self.lobby.push(e)),
        }
    }
}

//! Finding out about people and rooms: `/whois`, the room directory
//! (`/list`, which Tab then completes from) and topics (`/topic`).

use protocol::{ClientEvent, RoomListing, UserRef};

use super::{App, Effect, EntryKind, Now, Request, plural};
use crate::sanitize;

impl App {
    /// `/whois NAME`.
    pub(super) fn ask_whois(&mut self, name: String, fx: &mut Vec<Effect>) -> bool {
        if !self.require_connection("/whois") {
            return false;
        }
        let id = self.next_id();
        self.requests
            .insert(id.clone(), Request::Whois(name.clone()));
        fx.push(Effect::Send(ClientEvent::Whois { id, name }));
        true
    }

    /// The answer to `/whois`, as lines in the current buffer.
    pub(super) fn show_whois(&mut self, answer: Whois, now: Now) {
        let name = sanitize::one_line(&answer.user.name);
        let online = if answer.online {
            "online"
        } else {
            "not online"
        };
        let devices = plural(answer.devices as usize, "device", "devices");
        let mut head = format!("{name} is {online} ({devices})");
        if let Some(reason) = &answer.away {
            let reason = sanitize::one_line(reason);
            if reason.is_empty() {
                head.push_str(", away");
            } else {
                head.push_str(&format!(", away: {reason}"));
            }
        }
        let rooms = if answer.rooms.is_empty() {
            "no room".to_string()
        } else {
            answer
                .rooms
                .iter()
                .map(|r| format!("#{}", sanitize::one_line(r)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let fmt = self.format();
        let since = fmt
            .zone
            .date(answer.since_ts)
            .map_or_else(|| "?".into(), |d| d.format("%-d %B %Y").to_string());
        let lines = [
            head,
            format!("  rooms you share: {rooms}"),
            format!("  known since {since}"),
        ];
        for line in lines {
            self.push_current(now.wall_ms, EntryKind::Notice(line));
        }
    }

    /// `/list`.
    pub(super) fn ask_list(&mut self, fx: &mut Vec<Effect>) {
        if !self.require_connection("/list") {
            return;
        }
        let id = self.next_id();
        self.requests.insert(id.clone(), Request::List);
        fx.push(Effect::Send(ClientEvent::List { id }));
    }

    /// The room directory: shown, and kept for Tab.
    pub(super) fn show_room_list(&mut self, rooms: Vec<RoomListing>, now: Now) {
        self.directory = rooms.iter().map(|r| sanitize::one_line(&r.room)).collect();
        let head = match rooms.len() {
            0 => "no rooms with anyone in them: /join ROOM makes one".to_string(),
            n => format!(
                "{} (/join ROOM; Tab completes them):",
                plural(n, "room", "rooms")
            ),
        };
        self.push_current(now.wall_ms, EntryKind::Notice(head));
        for r in rooms {
            let members = plural(r.members as usize, "member", "members");
            let topic = r
                .topic
                .map(|t| sanitize::one_line(&t))
                .filter(|t| !t.is_empty())
                .map(|t| format!(": {t}"))
                .unwrap_or_default();
            let line = format!("  #{} ({members}){topic}", sanitize::one_line(&r.room));
            self.push_current(now.wall_ms, EntryKind::Notice(line));
        }
    }

    /// `/topic`: shows the current room's topic; `/topic TEXT` sets it.
    pub(super) fn topic(&mut self, text: Option<String>, now: Now, fx: &mut Vec<Effect>) {
        let Some(room) = self.current_room() else {
            self.error("you are not in a room");
            return;
        };
        if room.is_dm() {
            self.error("a conversation has no topic: /topic is for rooms");
            return;
        }
        let name = room.name.clone();
        let Some(text) = text else {
            let line = match &room.topic {
                Some(t) => format!("the topic of #{name}: {t}"),
                None => format!("#{name} has no topic: /topic TEXT sets one"),
            };
            self.push_current(now.wall_ms, EntryKind::Notice(line));
            return;
        };
        if !self.require_connection("/topic") {
            return;
        }
        let id = self.next_id();
        self.requests
            .insert(id.clone(), Request::Topic(name.clone()));
        fx.push(Effect::Send(ClientEvent::Topic {
            id,
            room: name,
            text,
        }));
    }
}

/// The fields of a `whois` answer.
#[derive(Debug, Clone)]
pub(super) struct Whois {
    pub user: UserRef,
    pub online: bool,
    pub devices: u32,
    pub away: Option<String>,
    pub rooms: Vec<String>,
    pub since_ts: i64,
}

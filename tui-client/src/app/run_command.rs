//! Carrying out the slash commands that `crate::commands` parsed.

use protocol::ClientEvent;

use super::{App, Effect, EntryKind, Now, Request, Room, plural};
use crate::commands::Command;

impl App {
    /// Runs a command; returns true when the line should stay in the editor
    /// (the command could not be carried out and is worth fixing).
    pub(super) fn run_command(&mut self, cmd: Command, now: Now, fx: &mut Vec<Effect>) -> bool {
        match cmd {
            Command::Join(room) => self.join(room, fx),
            Command::Leave(room) => self.leave(room, now, fx),
            Command::Me(text) => return !self.post_text(text, true, now, fx),
            Command::Location(coords) => return !self.share_location(coords, now, fx),
            Command::Users => self.list_users(now),
            Command::Rooms => self.list_rooms(now),
            Command::Msg { name, text } => {
                return !self.open_conversation(name, Some(text), now, fx);
            }
            Command::Query(name) => return !self.open_conversation(name, None, now, fx),
            Command::Nick(name) => return !self.ask_nick(name, fx),
            Command::Away(reason) => self.ask_away(reason, fx),
            Command::Back => self.ask_back(fx),
            Command::Whois(name) => return !self.ask_whois(name, fx),
            Command::List => self.ask_list(fx),
            Command::Topic(text) => self.topic(text, now, fx),
            Command::Link => self.ask_link(fx),
            Command::Devices => self.ask_devices(fx),
            Command::Logout(device) => return !self.ask_logout(device, fx),
            Command::Keys(None) => self.ask_keys(fx),
            Command::Keys(Some(key)) => return !self.remove_key(&key, fx),
            Command::Help(None) => {
                for line in crate::help::lines() {
                    self.push_current(now.wall_ms, EntryKind::Notice(line));
                }
            }
            Command::Help(Some(name)) => match crate::commands::find(&name) {
                Some(spec) => {
                    let line = crate::help::one_command(spec);
                    self.push_current(now.wall_ms, EntryKind::Notice(line));
                }
                None => {
                    self.error(format!("no command /{name}: /help lists them"));
                    return true;
                }
            },
            Command::Retry => self.retry(now, fx),
            Command::Quit => self.quit(fx),
            cmd @ (Command::Moderate { .. } | Command::Mode(_) | Command::Modlog) => {
                return !self.moderate(cmd, fx);
            }
        }
        false
    }

    /// Joins a room and switches to it. A room already in the list is
    /// switched to; if its join was refused, it is asked for again.
    fn join(&mut self, room: String, fx: &mut Vec<Effect>) {
        if let Some(i) = self.room_index(&room) {
            self.switch_to(i);
            let asked = self
                .requests
                .values()
                .any(|r| *r == Request::Join(room.clone()));
            if self.rooms[i].joined {
                self.info(format!("already in #{room}"));
            } else if self.connected() && !asked {
                self.send_join(room, fx);
            }
            return;
        }
        if let Some(limits) = &self.limits
            && self.rooms.iter().filter(|r| !r.is_dm()).count() >= limits.max_rooms
        {
            self.error(format!("you can be in at most {} rooms", limits.max_rooms));
            return;
        }
        let mut new = Room::new(room.clone());
        new.tentative = true;
        let at = self.insert_buffer(new);
        self.switch_to(at);
        if self.connected() {
            self.send_join(room, fx);
        } else {
            self.info(format!("#{room} will be joined once connected"));
        }
    }

    fn leave(&mut self, room: Option<String>, now: Now, fx: &mut Vec<Effect>) {
        let index = match &room {
            Some(name) => self.room_index(name),
            None if self.rooms.is_empty() => None,
            None => Some(self.current),
        };
        let Some(index) = index else {
            self.error(match room {
                Some(r) => format!("you are not in #{r}"),
                None => "you are not in a room".into(),
            });
            return;
        };
        let left = self.remove_room(index);
        // Also when the join is still on its way: the server handles both in
        // order, and a `not_in_room` answer is ignored.
        if self.connected() {
            let id = self.next_id();
            self.requests
                .insert(id.clone(), Request::Leave(left.name.clone()));
            fx.push(Effect::Send(ClientEvent::Leave {
                id,
                room: left.name.clone(),
            }));
        }
        let text = match &left.peer {
            Some(p) => format!("you closed your conversation with {}", p.name),
            None => format!("you left #{}", left.name),
        };
        self.push_current(now.wall_ms, EntryKind::Notice(text));
    }

    /// Takes a room out of the list, and its lines out of the outbox.
    pub(super) fn remove_room(&mut self, index: usize) -> Room {
        let room = self.rooms.remove(index);
        self.outbox.leave(&room.name);
        if self.current >= index && self.current > 0 {
            self.current -= 1;
        }
        let current = self.current.min(self.rooms.len().saturating_sub(1));
        self.switch_to(current);
        room
    }

    /// `/location`: the coordinates given, or the configured default.
    fn share_location(
        &mut self,
        coords: Option<(f64, f64)>,
        now: Now,
        fx: &mut Vec<Effect>,
    ) -> bool {
        let Some((latitude, longitude)) = coords.or(self.default_location) else {
            self.error(
                "no default location: use /location LAT LON, or set [location] latitude and longitude in the config file",
            );
            return false;
        };
        let Some(room) = self.target_room() else {
            return false;
        };
        let id = self.next_id();
        let frame = ClientEvent::Location {
            id,
            room,
            latitude,
            longitude,
        };
        self.post(frame, now, fx);
        true
    }

    fn list_users(&mut self, now: Now) {
        let Some(room) = self.current_room() else {
            self.error("you are not in a room");
            return;
        };
        let mut users: Vec<String> = (room.users.iter().zip(&room.user_ids))
            .map(|(name, id)| format!("{}{name}", room.prefix_of(id)))
            .collect();
        users.sort_by_key(|u| u.trim_start_matches(['@', '+']).to_lowercase());
        let text = format!(
            "{} in #{}: {}",
            plural(users.len(), "person", "people"),
            room.name,
            users.join(", ")
        );
        self.push_current(now.wall_ms, EntryKind::Notice(text));
    }

    fn list_rooms(&mut self, now: Now) {
        if self.rooms.is_empty() {
            let text = "you are in no room: /join ROOM".into();
            self.push_current(now.wall_ms, EntryKind::Notice(text));
            return;
        }
        let list: Vec<String> = self
            .rooms
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let unread = if r.unread > 0 {
                    format!(", {} unread", r.unread)
                } else {
                    String::new()
                };
                let users = plural(r.users.len(), "user", "users");
                format!("{} #{} ({users}{unread})", i + 1, r.name)
            })
            .collect();
        let text = format!("your rooms: {}", list.join(", "));
        self.push_current(now.wall_ms, EntryKind::Notice(text));
    }
}

//! What the connection and the server say: connecting and losing the
//! connection, joins and their answers, room events, messages and
//! history, and the acks of every request.

use protocol::{AckResult, ClientEvent, ErrorBody, ErrorCode, ServerEvent};

use super::room::{Applied, Stored};
use super::sending::failure;
use super::{App, ConnState, Effect, EntryKind, Now, Request};
use crate::config::Bell;
use crate::net::NetEvent;
use crate::sanitize;

impl App {
    pub(super) fn on_net(&mut self, ev: NetEvent, now: Now, fx: &mut Vec<Effect>) {
        match ev {
            NetEvent::Connecting { attempt } => self.conn = ConnState::Connecting { attempt },
            NetEvent::Connected(welcome) => {
                let welcome = *welcome;
                if self.epoch.as_ref().is_some_and(|old| *old != welcome.epoch) {
                    for room in &mut self.rooms {
                        room.forget_numbers();
                    }
                }
                self.epoch = Some(welcome.epoch);
                self.conn = ConnState::Connected;
                self.outbox.connected();
                // Whatever was said about the old connection is over.
                self.notice = None;
                self.me = sanitize::one_line(&welcome.name);
                self.me_id = welcome.user.id;
                self.server_name = Some(sanitize::one_line(&welcome.server));
                self.limits = Some(welcome.limits);
                self.requests.clear();
                self.history_parts.clear();
                let text = format!(
                    "connected to {} as {}",
                    self.server_name.as_deref().unwrap_or("the server"),
                    self.me
                );
                self.push_lobby(now.wall_ms, EntryKind::Notice(text));
                // Said on the notice line, and kept in the lobby.
                if let Some(note) = welcome.note {
                    let note = sanitize::one_line(&note);
                    self.push_lobby(now.wall_ms, EntryKind::Notice(note.clone()));
                    self.info(note);
                }
                self.restore_conversations(welcome.dms);
                if self.rooms.is_empty() {
                    let text = "you are in no room yet: type /join ROOM (or /help)".into();
                    self.push_lobby(now.wall_ms, EntryKind::Notice(text));
                    self.startup = false;
                }
                // Not the rooms you were kicked or banned from.
                let names: Vec<String> = (self.rooms.iter().filter(|r| !r.removed))
                    .map(|r| r.name.clone())
                    .collect();
                for room in names {
                    self.send_join(room, fx);
                }
                self.fresh_joins = false;
            }
            NetEvent::Disconnected { reason, retry_in } => {
                let was_connected = self.connected();
                let reason = sanitize::one_line(&reason);
                self.conn = ConnState::Disconnected {
                    reason: reason.clone(),
                    retry_in,
                };
                self.requests.clear();
                self.history_parts.clear();
                // Also a failed attempt to connect: every pending line
                // counts a try, so none waits forever.
                let changes = self.outbox.disconnected();
                self.apply_outbox(changes, fx);
                if was_connected {
                    let text = format!("disconnected: {reason}");
                    for room in &mut self.rooms {
                        room.joined = false;
                        room.push(super::Entry::new(
                            now.wall_ms,
                            EntryKind::Error(text.clone()),
                        ));
                    }
                    if self.rooms.is_empty() {
                        self.push_lobby(now.wall_ms, EntryKind::Error(text));
                    }
                }
            }
            NetEvent::FrameTooLarge { size, limit } => {
                self.fresh_joins = true;
                if !self.told_too_large {
                    self.told_too_large = true;
                    let text = format!(
                        "the server sent a frame of {size} bytes, more than the {limit} it \
                         announced; rejoining without what was missed"
                    );
                    self.push_current(now.wall_ms, EntryKind::Error(text.clone()));
                    self.error(text);
                }
            }
            NetEvent::Fatal(message) => {
                if !self.quitting {
                    fx.push(Effect::Fatal(sanitize::one_line(&message)));
                }
            }
            NetEvent::Server(ev) => self.on_server(*ev, now, fx),
        }
    }

    /// Joins, or resumes after the last message seen when there is one
    /// (unless the last resume brought a frame too large to take).
    pub(super) fn send_join(&mut self, room: String, fx: &mut Vec<Effect>) {
        if let Some(i) = self.room_index(&room) {
            self.rooms[i].removed = false;
        }
        let since = self
            .room_index(&room)
            .and_then(|i| self.rooms[i].last_seq)
            .filter(|_| !self.fresh_joins);
        let epoch = since.and(self.epoch.clone());
        let id = self.next_id();
        self.requests
            .insert(id.clone(), Request::Join(room.clone()));
        fx.push(Effect::Send(ClientEvent::Join {
            id,
            room,
            since: epoch.as_ref().and(since),
            epoch,
        }));
    }

    /// Asks for the page of history before the oldest message held in the
    /// current room, unless it cannot be asked for now.
    pub(super) fn fetch_older(&mut self, fx: &mut Vec<Effect>) {
        let Some((room, before)) = self.older_request() else {
            return;
        };
        let id = self.next_id();
        self.requests
            .insert(id.clone(), Request::History(room.clone()));
        fx.push(Effect::Send(ClientEvent::History {
            id,
            room,
            before,
            limit: protocol::limits::HISTORY_PAGE,
        }));
    }

    /// The current room and the oldest sequence number held, when older
    /// messages can be asked for: the server has some, the room is joined
    /// on a live connection, and no request for them is on its way.
    pub(super) fn older_request(&self) -> Option<(String, u64)> {
        let room = self.current_room()?;
        let before = room.first_seq?;
        let ready = room.more_before && room.joined && self.connected();
        (ready && !self.history_pending(&room.name)).then(|| (room.name.clone(), before))
    }

    /// A request for older messages of `room` is on its way.
    pub(super) fn history_pending(&self, room: &str) -> bool {
        self.requests
            .values()
            .any(|r| matches!(r, Request::History(name) if name == room))
    }

    fn on_server(&mut self, ev: ServerEvent, now: Now, fx: &mut Vec<Effect>) {
        if let Some((id, result)) = ev.as_ack() {
            let id = id.to_string();
            self.on_ack(&id, result, now, fx);
            return;
        }
        match ev {
            ServerEvent::RoomState {
                room,
                users,
                topic,
                modes,
            } => {
                for u in &users {
                    match &u.away {
                        Some(reason) => self.away.insert(u.id.clone(), reason.clone()),
                        None => self.away.remove(&u.id),
                    };
                }
                let me = self.who();
                let i = if protocol::dm::is_dm(&room) {
                    self.conversation_state(&room, &users)
                } else {
                    self.room_index(&room)
                };
                if let Some(i) = i {
                    self.rooms[i].apply_room_state(&users, topic.as_deref(), &me);
                    self.rooms[i].modes = modes;
                }
            }
            ServerEvent::History {
                room,
                events,
                more,
                missed,
                continues,
            } => {
                let mut answer = self.history_parts.remove(&room).unwrap_or_default();
                answer.extend(events);
                // A room keeps no more than this anyway.
                let excess = answer.len().saturating_sub(super::HISTORY_LIMIT);
                answer.drain(..excess);
                if continues {
                    self.history_parts.insert(room, answer);
                } else {
                    self.on_history(&room, answer, more, missed, now, fx);
                }
            }
            ServerEvent::UserJoined {
                room,
                name,
                user,
                role,
                ts,
            } => {
                if let Some(i) = self.room_index(&room) {
                    self.rooms[i].user_joined(&user, &name, role, ts);
                }
            }
            ServerEvent::UserLeft {
                room,
                name,
                user,
                ts,
            } => {
                if let Some(i) = self.room_index(&room) {
                    self.rooms[i].user_left(&user, &name, ts);
                }
            }
            ServerEvent::LinkCode { code, expires_ts } => {
                self.show_link_code(&code, expires_ts, now)
            }
            ServerEvent::Devices { devices } => self.show_devices(&devices, now),
            ServerEvent::Message { ref room, .. }
            | ServerEvent::Location { ref room, .. }
            | ServerEvent::Topic { ref room, .. } => {
                let room = room.clone();
                let (user, from) = match &ev {
                    ServerEvent::Message { user, from, .. }
                    | ServerEvent::Location { user, from, .. }
                    | ServerEvent::Topic { user, from, .. } => (user.clone(), from.clone()),
                    _ => Default::default(),
                };
                if let Some(msg) = Stored::from_event(ev, &self.who()) {
                    let new = self.room_index(&room).is_none()
                        && protocol::dm::is_dm(&room)
                        && self
                            .conversation_arrived(&room, &user, &from, msg.seq)
                            .is_some();
                    self.on_message(&room, msg, now, fx);
                    if new && self.connected() {
                        self.send_join(room, fx);
                    }
                }
            }
            ServerEvent::Renamed {
                user,
                old,
                name,
                ts,
            } => self.on_renamed(&user, &old, &name, ts),
            ServerEvent::Away { user, reason } => {
                self.away.insert(user, reason);
            }
            ServerEvent::Back { user } => {
                self.away.remove(&user);
            }
            ServerEvent::AwayNotice {
                room, name, reason, ..
            } => self.away_notice(&room, &name, &reason, now),
            ServerEvent::Whois {
                user,
                online,
                devices,
                away,
                rooms,
                since_ts,
            } => {
                let answer = super::directory::Whois {
                    user,
                    online,
                    devices,
                    away,
                    rooms,
                    since_ts,
                };
                self.show_whois(answer, now);
            }
            ServerEvent::RoomList { rooms } => self.show_room_list(rooms, now),
            ServerEvent::Error { code, message } => {
                let message = sanitize::one_line(&message);
                if code == ErrorCode::ShuttingDown {
                    self.info(format!("server: {message}"));
                } else {
                    self.error(format!("server: {message}"));
                }
            }
            ev @ ServerEvent::Moderation { .. } => self.on_moderation(ev, now, fx),
            ServerEvent::Removed {
                room,
                action,
                by,
                reason,
            } => self.on_removed(&room, action, by, reason, now, fx),
            ServerEvent::ModLog { room, entries } => self.show_mod_log(&room, entries, now),
            ServerEvent::Welcome { .. } | ServerEvent::Ack { .. } => {}
        }
    }

    /// A live message or location.
    pub(super) fn on_message(&mut self, room: &str, msg: Stored, now: Now, fx: &mut Vec<Effect>) {
        let Some(i) = self.room_index(room) else {
            return;
        };
        self.own_echo(room, &msg, fx);
        let applied = self.rooms[i].apply_message(msg, now.wall_ms, i == self.current);
        if let Applied::Shown { own, mention } = applied {
            let ring = match self.display.bell {
                Bell::Off => false,
                Bell::Mentions => mention,
                Bell::All => !own,
            };
            if ring {
                fx.push(Effect::Bell);
            }
        }
    }

    /// A message under your name settles the line of the outbox with its
    /// id, if it is one of this client's.
    fn own_echo(&mut self, room: &str, msg: &Stored, fx: &mut Vec<Effect>) {
        if msg.own {
            let changes = self.outbox.echo(&msg.id, room);
            self.apply_outbox(changes, fx);
        }
    }

    /// History after a join (appended: recent messages, or what was missed
    /// while away) or in answer to a request for older messages (prepended).
    fn on_history(
        &mut self,
        room: &str,
        events: Vec<ServerEvent>,
        more: bool,
        missed: u64,
        now: Now,
        fx: &mut Vec<Effect>,
    ) {
        let Some(i) = self.room_index(room) else {
            return;
        };
        let requested = self.history_pending(room);
        let me = self.who();
        let stored: Vec<Stored> = events
            .into_iter()
            .filter_map(|ev| Stored::from_event(ev, &me))
            .collect();
        if requested {
            self.rooms[i].prepend_older(stored, more);
            return;
        }
        for msg in &stored {
            self.own_echo(room, msg, fx);
        }
        let current = i == self.current;
        self.rooms[i].apply_history(stored, more, missed, now.wall_ms, current);
    }

    fn on_ack(&mut self, id: &str, result: AckResult, now: Now, fx: &mut Vec<Effect>) {
        if self.outbox.status(id).is_some() {
            let changes = match result {
                AckResult::Ok { .. } => self.outbox.ack(id),
                AckResult::Err(err) => self.outbox.nack(id, failure(&err), now.mono_ms),
            };
            self.apply_outbox(changes, fx);
            return;
        }
        match (self.requests.remove(id), result) {
            (Some(Request::Join(room)), AckResult::Ok { .. }) => self.joined(&room, now, fx),
            (Some(Request::Join(room)), AckResult::Err(err)) => {
                self.join_refused(room, &err, now, fx);
            }
            (Some(Request::History(room)), AckResult::Err(err)) => {
                let message = sanitize::one_line(&err.message);
                self.error(format!("cannot load older messages of #{room}: {message}"));
            }
            (Some(Request::Leave(room)), AckResult::Err(err)) => {
                if err.code != ErrorCode::NotInRoom {
                    let message = sanitize::one_line(&err.message);
                    self.error(format!("cannot leave #{room}: {message}"));
                }
            }
            (None, AckResult::Err(err)) => {
                let message = sanitize::one_line(&err.message);
                self.error(format!("server: {message}"));
            }
            (Some(Request::Logout(device)), result) => self.logged_out(device, result, now),
            (Some(Request::Moderation { room, what }), result) => {
                self.moderation_answered(&room, &what, result);
            }
            (
                Some(
                    request @ (Request::Query { .. }
                    | Request::Nick(_)
                    | Request::Away(_)
                    | Request::Back
                    | Request::Whois(_)
                    | Request::List
                    | Request::Topic(_)),
                ),
                result,
            ) => self.on_conversation_ack(request, result, now, fx),
            (Some(Request::Link | Request::Devices | Request::Keys), AckResult::Err(err)) => {
                let message = sanitize::one_line(&err.message);
                self.error(format!("server: {message}"));
            }
            (
                Some(
                    Request::History(_)
                    | Request::Leave(_)
                    | Request::Link
                    | Request::Devices
                    | Request::Keys,
                )
                | None,
                AckResult::Ok { .. },
            ) => {}
        }
    }

    /// The room's join was acknowledged: its waiting lines go out. (A
    /// room left while its join was on its way stays left.)
    pub(super) fn joined(&mut self, room: &str, now: Now, fx: &mut Vec<Effect>) {
        self.end_of_startup();
        let Some(i) = self.room_index(room) else {
            return;
        };
        // Without a history (older servers) the notice waits for this.
        self.rooms[i].show_join_notice();
        let changes = self.outbox.joined(room, now.mono_ms);
        self.apply_outbox(changes, fx);
    }

    fn end_of_startup(&mut self) {
        if !self
            .requests
            .values()
            .any(|r| matches!(r, Request::Join(_)))
        {
            self.startup = false;
        }
    }

    /// The room's join was refused: its pending lines fail with the reason.
    /// Whatever the reason, the room stays in the list, so its lines can be
    /// seen and sent again, and the notice says how to try again; only a
    /// room just asked for with `/join`, never joined and holding no line
    /// of yours, is taken out again.
    fn join_refused(&mut self, room: String, err: &ErrorBody, now: Now, fx: &mut Vec<Effect>) {
        let message = sanitize::one_line(&err.message);
        if err.code == ErrorCode::AlreadyInRoom {
            self.joined(&room, now, fx);
            return;
        }
        self.end_of_startup();
        let changes = self.outbox.join_failed(&room, &failure(err));
        let had_lines = !changes.is_empty();
        self.apply_outbox(changes, fx);
        let Some(i) = self.room_index(&room) else {
            return;
        };
        if !self.rooms[i].tentative || had_lines {
            self.rooms[i].joined = false;
            let text = format!("cannot join #{room}: {message} (/join {room} tries again)");
            // In the room too: the notice line goes with the next event.
            self.rooms[i].push(super::Entry::new(
                now.wall_ms,
                EntryKind::Error(text.clone()),
            ));
            self.error(text);
        } else {
            self.remove_room(i);
            self.error(format!("cannot join #{room}: {message}"));
        }
    }
}

//! The client's state and everything that changes it.
//!
//! [`App::update`] takes one [`Event`] (a key action, a paste, something
//! from the network) and returns the [`Effect`]s the outside world should
//! carry out (frames to send, a bell, quitting). It does no I/O and reads no
//! clock: the current time is passed in, so tests are exact.

pub mod action;
pub mod outbox;

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use protocol::{AckResult, ClientEvent, ErrorCode, ServerEvent, ServerLimits};

use crate::commands::{self, Command, Input};
use crate::complete::{self, Completer};
use crate::config::{Bell, Clock};
use crate::editor::Editor;
use crate::layout::{self, Delivery, Entry, EntryKind, Format, Zone};
use crate::net::NetEvent;
use crate::sanitize;
use crate::theme::Theme;
use action::{Action, Edit};

/// Most entries kept per room; older ones are dropped.
pub const HISTORY_LIMIT: usize = 5_000;

/// A message of yours still unconfirmed after this many lost connections
/// or failed connection attempts is marked failed (with the backoff, about
/// one to two minutes without a server).
pub const MAX_TRIES: u32 = 8;

/// The label of the rule between a join's stored history and what follows.
pub const HISTORY_RULE: &str = "end of history";

/// Input to [`App::update`].
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Action(Action),
    Paste(String),
    Net(NetEvent),
    /// The terminal changed size; the next draw adapts.
    Resize,
}

/// What the caller has to do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send(ClientEvent),
    Bell,
    /// Clear the screen and draw everything again (Ctrl-L).
    Redraw,
    Quit,
    /// Exit with this one-line error (e.g. the name was refused at startup).
    Fatal(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConnState {
    Connecting { attempt: u32 },
    Connected,
    Disconnected { reason: String, retry_in: Duration },
}

/// A room you are in (or are joining, or will rejoin after a reconnect).
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    pub name: String,
    pub users: Vec<String>,
    pub entries: VecDeque<Entry>,
    /// Messages since you last looked at the room.
    pub unread: usize,
    /// Someone wrote your name since you last looked.
    pub mentioned: bool,
    /// The server confirmed the join on the current connection.
    pub joined: bool,
    /// Rows scrolled up from the bottom; 0 follows new messages.
    pub scroll: usize,
    /// Messages that arrived while scrolled up.
    pub new_below: usize,
    /// Highest sequence number seen (in the current epoch).
    last_seq: Option<u64>,
    /// Lowest sequence number held, where older history would continue.
    first_seq: Option<u64>,
    /// The server has older messages than the ones held.
    pub more_before: bool,
    /// Recent speakers, newest first, for nick completion.
    speakers: Vec<String>,
    /// Joined at least once, so a `room_state` is a rejoin.
    was_joined: bool,
    /// "you joined" / "rejoined", shown after the join's history.
    join_notice: Option<String>,
}

impl Room {
    pub fn new(name: impl Into<String>) -> Self {
        Room {
            name: name.into(),
            users: Vec::new(),
            entries: VecDeque::new(),
            unread: 0,
            mentioned: false,
            joined: false,
            scroll: 0,
            new_below: 0,
            last_seq: None,
            first_seq: None,
            more_before: false,
            speakers: Vec::new(),
            was_joined: false,
            join_notice: None,
        }
    }
}

/// A one-line message above the status line (command output errors etc.).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// How things are shown; fixed for a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Display {
    pub clock: Clock,
    pub zone: Zone,
    pub theme: Theme,
    pub bell: Bell,
}

#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Join(String),
    Leave(String),
    History(String),
}

/// A message or location of yours that the server has not confirmed, kept
/// whole so it can be sent again with the same id (which the server
/// recognises, so a resend is never stored twice).
#[derive(Debug, Clone, PartialEq)]
struct Outgoing {
    frame: ClientEvent,
    state: OutState,
    /// Connections lost (or attempts failed) while it waited.
    tries: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutState {
    /// Waiting for a connection and its room's join.
    Queued,
    /// Sent on the current connection; its ack is due.
    InFlight,
    /// Refused, or given up on; `/retry` queues it again.
    Failed,
}

/// A message or location from the server, as far as unread counts, the
/// bell and your own pending messages care.
struct Incoming<'a> {
    seq: u64,
    ts: i64,
    /// The sender's request id.
    id: &'a str,
    from: String,
    own: bool,
    mention: bool,
}

/// The room a `send` or `location` frame is for.
fn post_room(frame: &ClientEvent) -> &str {
    match frame {
        ClientEvent::Send { room, .. }
        | ClientEvent::Location { room, .. }
        | ClientEvent::Join { room, .. }
        | ClientEvent::Leave { room, .. }
        | ClientEvent::History { room, .. } => room,
        ClientEvent::Hello { .. } => "",
    }
}

#[derive(Debug)]
pub struct App {
    pub me: String,
    pub server_url: String,
    /// Server software from the welcome.
    pub server_name: Option<String>,
    pub conn: ConnState,
    pub rooms: Vec<Room>,
    pub current: usize,
    /// Shown when you are in no room.
    pub lobby: VecDeque<Entry>,
    pub editor: Editor,
    pub show_users: bool,
    pub notice: Option<Notice>,
    pub display: Display,
    pub limits: Option<ServerLimits>,
    /// Size of the message pane at the last draw (columns, rows).
    pub pane: (usize, usize),
    default_location: Option<(f64, f64)>,
    completer: Completer,
    /// The server's store epoch from the last welcome.
    epoch: Option<String>,
    /// Your messages not confirmed yet (or failed), in the order typed.
    outbox: Vec<Outgoing>,
    id_prefix: String,
    next_id: u64,
    pending: HashMap<String, Pending>,
    /// Until the first connection's joins are answered, a refused name ends
    /// the program with one clear line instead of a message on screen.
    startup: bool,
    quitting: bool,
}

impl App {
    pub fn new(
        me: &str,
        server_url: &str,
        rooms: &[String],
        display: Display,
        default_location: Option<(f64, f64)>,
    ) -> Self {
        App {
            me: me.to_string(),
            server_url: server_url.to_string(),
            server_name: None,
            conn: ConnState::Connecting { attempt: 1 },
            rooms: rooms.iter().map(Room::new).collect(),
            current: 0,
            lobby: VecDeque::new(),
            editor: Editor::new(),
            show_users: true,
            notice: None,
            display,
            limits: None,
            pane: (80, 20),
            default_location,
            completer: Completer::new(),
            epoch: None,
            outbox: Vec::new(),
            id_prefix: crate::net::request_id_prefix(),
            next_id: 0,
            pending: HashMap::new(),
            startup: true,
            quitting: false,
        }
    }

    pub fn format(&self) -> Format<'_> {
        Format {
            clock: self.display.clock,
            zone: self.display.zone,
            theme: self.display.theme,
            me: &self.me,
        }
    }

    pub fn current_room(&self) -> Option<&Room> {
        self.rooms.get(self.current)
    }

    fn current_room_mut(&mut self) -> Option<&mut Room> {
        self.rooms.get_mut(self.current)
    }

    pub fn room_index(&self, name: &str) -> Option<usize> {
        self.rooms.iter().position(|r| r.name == name)
    }

    /// The entries shown in the message pane right now.
    pub fn visible_entries(&self) -> &VecDeque<Entry> {
        match self.current_room() {
            Some(r) => &r.entries,
            None => &self.lobby,
        }
    }

    pub fn connected(&self) -> bool {
        self.conn == ConnState::Connected
    }

    /// Records the message pane size after a draw.
    pub fn set_pane(&mut self, width: usize, height: usize) {
        self.pane = (width.max(1), height.max(1));
    }

    pub fn update(&mut self, event: Event, now_ms: i64) -> Vec<Effect> {
        let mut fx = Vec::new();
        match event {
            Event::Action(action) => self.on_action(action, now_ms, &mut fx),
            Event::Paste(text) => {
                self.completer.reset();
                self.editor.insert_str(&text);
            }
            Event::Net(ev) => self.on_net(ev, now_ms, &mut fx),
            Event::Resize => {}
        }
        fx
    }

    // ----- keys -----

    fn on_action(&mut self, action: Action, now: i64, fx: &mut Vec<Effect>) {
        if action != Action::Complete {
            self.completer.reset();
        }
        match action {
            Action::Edit(edit) => {
                self.editor.apply(edit);
            }
            Action::Submit => self.submit(now, fx),
            Action::HistoryPrev => self.editor.history_prev(),
            Action::HistoryNext => self.editor.history_next(),
            Action::Complete => self.complete(),
            Action::GoToRoom(i) => {
                if i < self.rooms.len() {
                    self.switch_to(i);
                }
            }
            Action::NextRoom => {
                if !self.rooms.is_empty() {
                    self.switch_to((self.current + 1) % self.rooms.len());
                }
            }
            Action::PrevRoom => {
                if !self.rooms.is_empty() {
                    self.switch_to((self.current + self.rooms.len() - 1) % self.rooms.len());
                }
            }
            Action::NextActive => {
                if let Some(i) = self.next_active() {
                    self.switch_to(i);
                }
            }
            Action::PageUp => {
                if self.scroll_by(self.page() as isize) {
                    self.fetch_older(fx);
                }
            }
            Action::PageDown => {
                self.scroll_by(-(self.page() as isize));
            }
            Action::ScrollBottom => self.scroll_to_bottom(),
            Action::EndAndBottom => {
                self.editor.apply(Edit::End);
                self.scroll_to_bottom();
            }
            Action::ToggleUsers => self.show_users = !self.show_users,
            Action::Redraw => fx.push(Effect::Redraw),
            Action::Quit => self.quit(fx),
        }
    }

    fn quit(&mut self, fx: &mut Vec<Effect>) {
        self.quitting = true;
        fx.push(Effect::Quit);
    }

    fn switch_to(&mut self, index: usize) {
        self.current = index;
        if let Some(room) = self.rooms.get_mut(index) {
            room.unread = 0;
            room.mentioned = false;
        }
    }

    /// The next room with unread messages after the current one, rooms where
    /// you were mentioned first.
    fn next_active(&self) -> Option<usize> {
        let n = self.rooms.len();
        let order = (1..n).map(|k| (self.current + k) % n);
        order
            .clone()
            .find(|&i| self.rooms[i].mentioned)
            .or_else(|| order.clone().find(|&i| self.rooms[i].unread > 0))
    }

    fn page(&self) -> usize {
        self.pane.1.saturating_sub(1).max(1)
    }

    /// Scrolls the current room; true when the view is at the top.
    fn scroll_by(&mut self, delta: isize) -> bool {
        let (width, height) = self.pane;
        let fmt = self.format();
        let entries = self.visible_entries();
        let total = match entries.as_slices() {
            (all, []) => layout::total_rows(all, width, &fmt),
            _ => {
                let all: Vec<Entry> = entries.iter().cloned().collect();
                layout::total_rows(&all, width, &fmt)
            }
        };
        let max = total.saturating_sub(height);
        let Some(room) = self.current_room_mut() else {
            return false;
        };
        let new = (room.scroll as isize + delta).clamp(0, max as isize) as usize;
        room.scroll = new;
        if new == 0 {
            room.new_below = 0;
        }
        new == max
    }

    /// Asks for the page of history before the oldest message held.
    fn fetch_older(&mut self, fx: &mut Vec<Effect>) {
        let Some(room) = self.current_room() else {
            return;
        };
        let (name, first, more, joined) = (
            room.name.clone(),
            room.first_seq,
            room.more_before,
            room.joined,
        );
        let pending = self
            .pending
            .values()
            .any(|p| *p == Pending::History(name.clone()));
        let Some(before) = first else { return };
        if !more || !joined || !self.connected() || pending {
            return;
        }
        let id = self.next_id();
        self.pending
            .insert(id.clone(), Pending::History(name.clone()));
        self.info(format!("loading older messages of #{name}..."));
        fx.push(Effect::Send(ClientEvent::History {
            id,
            room: name,
            before,
            limit: protocol::limits::HISTORY_PAGE,
        }));
    }

    fn scroll_to_bottom(&mut self) {
        if let Some(room) = self.current_room_mut() {
            room.scroll = 0;
            room.new_below = 0;
        }
    }

    fn complete(&mut self) {
        let room_names: Vec<String> = self.rooms.iter().map(|r| r.name.clone()).collect();
        let nicks: Vec<String> = match self.current_room() {
            Some(room) => {
                let mut nicks = room.speakers.clone();
                let mut rest: Vec<String> = room
                    .users
                    .iter()
                    .filter(|u| !nicks.contains(u))
                    .cloned()
                    .collect();
                rest.sort_by_key(|u| u.to_lowercase());
                nicks.extend(rest);
                nicks
            }
            None => Vec::new(),
        };
        let ctx = complete::Context {
            nicks: &nicks,
            rooms: &room_names,
            me: &self.me,
        };
        let line = self.editor.text().to_string();
        if let Some(done) = self.completer.complete(&line, self.editor.cursor(), ctx) {
            self.editor.set(done.line, done.cursor);
        }
    }

    // ----- the input line -----

    fn submit(&mut self, now: i64, fx: &mut Vec<Effect>) {
        self.notice = None;
        let line = self.editor.text().to_string();
        if line.trim().is_empty() {
            return;
        }
        match commands::parse(&line) {
            Err(e) => self.error(e.to_string()),
            Ok(Input::Text(text)) => {
                if self.post_text(text, false, now, fx) {
                    self.editor.take_line();
                }
            }
            Ok(Input::Command(cmd)) => {
                // Commands go to the history even when they fail, so a typo
                // is one Up away from being fixed.
                let keep_line = self.run_command(cmd, now, fx);
                if !keep_line {
                    self.editor.take_line();
                }
            }
        }
    }

    fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("{}-{}", self.id_prefix, self.next_id)
    }

    fn error(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: true,
        });
    }

    fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
    }

    /// The room a message typed now goes to. It need not be joined yet:
    /// the message waits (shown as pending) until it can be sent.
    fn target_room(&mut self) -> Option<String> {
        let Some(room) = self.current_room() else {
            self.error("you are not in a room: /join ROOM first");
            return None;
        };
        Some(room.name.clone())
    }

    /// Sends text (or an action) to the current room; false if refused.
    fn post_text(&mut self, text: String, action: bool, now: i64, fx: &mut Vec<Effect>) -> bool {
        if let Err(e) = protocol::validate::message_text(&text) {
            self.error(e.to_string());
            return false;
        }
        let Some(room) = self.target_room() else {
            return false;
        };
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
        true
    }

    /// Shows a message of yours at once as pending, and sends it now or
    /// as soon as its room is joined on a connection.
    fn post(&mut self, frame: ClientEvent, now: i64, fx: &mut Vec<Effect>) {
        let room = post_room(&frame).to_string();
        let Some(i) = self.room_index(&room) else {
            return;
        };
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
        let mut entry = Entry::new(now, kind);
        entry.delivery = Delivery::Pending;
        entry.request = frame.request_id().map(str::to_string);
        self.push_room_entry(i, entry);
        self.outbox.push(Outgoing {
            frame,
            state: OutState::Queued,
            tries: 0,
        });
        self.flush_room(&room, fx);
    }

    /// Sends the queued messages of a room, in order, when it can.
    fn flush_room(&mut self, room: &str, fx: &mut Vec<Effect>) {
        let joined = self.room_index(room).is_some_and(|i| self.rooms[i].joined);
        if !self.connected() || !joined {
            return;
        }
        for o in &mut self.outbox {
            if o.state == OutState::Queued && post_room(&o.frame) == room {
                o.state = OutState::InFlight;
                fx.push(Effect::Send(o.frame.clone()));
            }
        }
    }

    /// Sets the delivery mark of your message `id` in `room`; returns the
    /// entry so the caller can update it further.
    fn own_entry_mut(&mut self, room: &str, id: &str) -> Option<(usize, usize)> {
        let i = self.room_index(room)?;
        let k = self.rooms[i]
            .entries
            .iter()
            .rposition(|e| e.request.as_deref() == Some(id))?;
        Some((i, k))
    }

    /// Replaces entry `k` of room `i`, keeping the view still while the
    /// room is scrolled up even if the entry's height changes.
    fn replace_entry(&mut self, i: usize, k: usize, f: impl FnOnce(&mut Entry)) {
        let (width, _) = self.pane;
        let fmt = Format {
            clock: self.display.clock,
            zone: self.display.zone,
            theme: self.display.theme,
            me: &self.me,
        };
        let Some(room) = self.rooms.get_mut(i) else {
            return;
        };
        let entries = room.entries.make_contiguous();
        if k >= entries.len() {
            return;
        }
        let before = layout::entry_height(entries, k, width, &fmt);
        f(&mut entries[k]);
        let after = layout::entry_height(entries, k, width, &fmt);
        if room.scroll > 0 {
            room.scroll = (room.scroll + after).saturating_sub(before);
        }
    }

    fn set_delivery(&mut self, room: &str, id: &str, delivery: Delivery) {
        if let Some((i, k)) = self.own_entry_mut(room, id) {
            self.replace_entry(i, k, |e| e.delivery = delivery);
        }
    }

    /// Your message came back from the server (live or in a resumed
    /// history): the pending entry becomes the stored one, in place, and
    /// nothing is shown twice. False when there is no such entry.
    fn settle_own(&mut self, room: &str, id: &str, stored: Entry) -> bool {
        let Some((i, k)) = self.own_entry_mut(room, id) else {
            return false;
        };
        self.outbox
            .retain(|o| o.frame.request_id() != Some(id) || post_room(&o.frame) != room);
        self.replace_entry(i, k, |e| {
            e.ts = stored.ts;
            e.kind = stored.kind;
            e.delivery = Delivery::Done;
        });
        true
    }

    /// `/retry`: sends the failed messages of the current room again.
    fn retry(&mut self, fx: &mut Vec<Effect>) {
        let Some(room) = self.current_room().map(|r| r.name.clone()) else {
            self.error("you are not in a room");
            return;
        };
        let mut ids = Vec::new();
        for o in &mut self.outbox {
            if o.state == OutState::Failed && post_room(&o.frame) == room {
                o.state = OutState::Queued;
                o.tries = 0;
                ids.extend(o.frame.request_id().map(str::to_string));
            }
        }
        if ids.is_empty() {
            self.info(format!("nothing to send again in #{room}"));
            return;
        }
        for id in &ids {
            self.set_delivery(&room, id, Delivery::Pending);
        }
        self.flush_room(&room, fx);
    }

    /// Marks a message of yours failed; it stays until `/retry` or `/leave`.
    fn fail_post(&mut self, index: usize, reason: String) {
        let Some(o) = self.outbox.get_mut(index) else {
            return;
        };
        o.state = OutState::Failed;
        let room = post_room(&o.frame).to_string();
        let id = o.frame.request_id().unwrap_or_default().to_string();
        self.set_delivery(&room, &id, Delivery::Failed(reason.clone()));
        self.error(format!(
            "not sent to #{room}: {reason} (/retry sends it again)"
        ));
    }

    /// Runs a command; returns true when the line should stay in the editor
    /// (the command could not be carried out and is worth fixing).
    fn run_command(&mut self, cmd: Command, now: i64, fx: &mut Vec<Effect>) -> bool {
        match cmd {
            Command::Join(room) => self.join(room, fx),
            Command::Leave(room) => self.leave(room, now, fx),
            Command::Me(text) => return !self.post_text(text, true, now, fx),
            Command::Location(coords) => {
                let Some((latitude, longitude)) = coords.or(self.default_location) else {
                    self.error(
                        "no default location: use /location LAT LON, or set [location] latitude and longitude in the config file",
                    );
                    return true;
                };
                let Some(room) = self.target_room() else {
                    return true;
                };
                let id = self.next_id();
                self.post(
                    ClientEvent::Location {
                        id,
                        room,
                        latitude,
                        longitude,
                    },
                    now,
                    fx,
                );
            }
            Command::Users => match self.current_room() {
                Some(room) => {
                    let mut users = room.users.clone();
                    users.sort_by_key(|u| u.to_lowercase());
                    let text = format!(
                        "{} in #{}: {}",
                        plural(users.len(), "person", "people"),
                        room.name,
                        users.join(", ")
                    );
                    self.push_current(now, EntryKind::Notice(text));
                }
                None => self.error("you are not in a room"),
            },
            Command::Rooms => {
                if self.rooms.is_empty() {
                    self.push_current(
                        now,
                        EntryKind::Notice("you are in no room: /join ROOM".into()),
                    );
                } else {
                    let list: Vec<String> = self
                        .rooms
                        .iter()
                        .enumerate()
                        .map(|(i, r)| {
                            format!(
                                "{} #{} ({}{})",
                                i + 1,
                                r.name,
                                plural(r.users.len(), "user", "users"),
                                if r.unread > 0 {
                                    format!(", {} unread", r.unread)
                                } else {
                                    String::new()
                                }
                            )
                        })
                        .collect();
                    self.push_current(
                        now,
                        EntryKind::Notice(format!("your rooms: {}", list.join(", "))),
                    );
                }
            }
            Command::Nick(_) => {
                self.error(
                    "renaming is not supported by this server yet (protocol v1); restart with --name NAME",
                );
                return true;
            }
            Command::Help => {
                for line in crate::help::lines() {
                    self.push_current(now, EntryKind::Notice(line));
                }
            }
            Command::Retry => self.retry(fx),
            Command::Quit => self.quit(fx),
        }
        false
    }

    fn join(&mut self, room: String, fx: &mut Vec<Effect>) {
        if let Some(i) = self.room_index(&room) {
            self.switch_to(i);
            if self.rooms[i].joined {
                self.info(format!("already in #{room}"));
            }
            return;
        }
        if let Some(limits) = &self.limits
            && self.rooms.len() >= limits.max_rooms
        {
            self.error(format!("you can be in at most {} rooms", limits.max_rooms));
            return;
        }
        self.rooms.push(Room::new(room.clone()));
        self.switch_to(self.rooms.len() - 1);
        if self.connected() {
            self.send_join(room, fx);
        } else {
            self.info(format!("#{room} will be joined once connected"));
        }
    }

    /// Joins, or resumes after the last message seen when there is one.
    fn send_join(&mut self, room: String, fx: &mut Vec<Effect>) {
        let since = self.room_index(&room).and_then(|i| self.rooms[i].last_seq);
        let epoch = since.and(self.epoch.clone());
        let id = self.next_id();
        self.pending.insert(id.clone(), Pending::Join(room.clone()));
        fx.push(Effect::Send(ClientEvent::Join {
            id,
            room,
            since: epoch.as_ref().and(since),
            epoch,
        }));
    }

    fn leave(&mut self, room: Option<String>, now: i64, fx: &mut Vec<Effect>) {
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
        let left = self.rooms.remove(index);
        self.outbox.retain(|o| post_room(&o.frame) != left.name);
        // Also when the join is still on its way: the server handles both in
        // order, and a `not_in_room` answer is ignored.
        if self.connected() {
            let id = self.next_id();
            self.pending
                .insert(id.clone(), Pending::Leave(left.name.clone()));
            fx.push(Effect::Send(ClientEvent::Leave {
                id,
                room: left.name.clone(),
            }));
        }
        if self.current >= index && self.current > 0 {
            self.current -= 1;
        }
        let current = self.current.min(self.rooms.len().saturating_sub(1));
        self.switch_to(current);
        self.push_current(now, EntryKind::Notice(format!("you left #{}", left.name)));
    }

    // ----- the network -----

    fn on_net(&mut self, ev: NetEvent, now: i64, fx: &mut Vec<Effect>) {
        match ev {
            NetEvent::Connecting { attempt } => self.conn = ConnState::Connecting { attempt },
            NetEvent::Connected {
                server,
                name,
                limits,
                epoch,
            } => {
                if self.epoch.as_ref().is_some_and(|old| *old != epoch) {
                    // The server's store was reset: old numbers mean nothing.
                    for room in &mut self.rooms {
                        room.last_seq = None;
                        room.first_seq = None;
                        room.more_before = false;
                    }
                }
                self.epoch = Some(epoch);
                self.conn = ConnState::Connected;
                // Whatever was said about the old connection is over.
                self.notice = None;
                self.me = sanitize::one_line(&name);
                self.server_name = Some(sanitize::one_line(&server));
                self.limits = Some(limits);
                self.pending.clear();
                let text = format!(
                    "connected to {} as {}",
                    self.server_name.as_deref().unwrap_or("the server"),
                    self.me
                );
                self.push_lobby(now, EntryKind::Notice(text));
                if self.rooms.is_empty() {
                    self.push_lobby(
                        now,
                        EntryKind::Notice(
                            "you are in no room yet: type /join ROOM (or /help)".into(),
                        ),
                    );
                    self.startup = false;
                }
                let names: Vec<String> = self.rooms.iter().map(|r| r.name.clone()).collect();
                for room in names {
                    self.send_join(room, fx);
                }
            }
            NetEvent::Disconnected { reason, retry_in } => {
                let was_connected = self.connected();
                let reason = sanitize::one_line(&reason);
                self.conn = ConnState::Disconnected {
                    reason: reason.clone(),
                    retry_in,
                };
                self.pending.clear();
                // Posts without an ack may or may not have been stored:
                // send them again after the rejoin; the server drops
                // duplicates. Each loss counts, so none waits forever.
                let mut give_up = Vec::new();
                for (k, o) in self.outbox.iter_mut().enumerate() {
                    if o.state == OutState::Failed {
                        continue;
                    }
                    o.state = OutState::Queued;
                    o.tries += 1;
                    if o.tries >= MAX_TRIES {
                        give_up.push(k);
                    }
                }
                for k in give_up {
                    self.fail_post(
                        k,
                        format!("no confirmation after {MAX_TRIES} connection attempts"),
                    );
                }
                if was_connected {
                    for room in &mut self.rooms {
                        room.joined = false;
                        push_entry(
                            &mut room.entries,
                            Entry::new(now, EntryKind::Error(format!("disconnected: {reason}"))),
                        );
                    }
                    if self.rooms.is_empty() {
                        self.push_lobby(now, EntryKind::Error(format!("disconnected: {reason}")));
                    }
                }
            }
            NetEvent::Fatal(message) => {
                if !self.quitting {
                    fx.push(Effect::Fatal(sanitize::one_line(&message)));
                }
            }
            NetEvent::Server(ev) => self.on_server(ev, now, fx),
        }
    }

    fn on_server(&mut self, ev: ServerEvent, now: i64, fx: &mut Vec<Effect>) {
        if let Some((id, result)) = ev.as_ack() {
            let id = id.to_string();
            self.on_ack(&id, result, fx);
            return;
        }
        match ev {
            ServerEvent::RoomState { room, users } => {
                let Some(i) = self.room_index(&room) else {
                    return;
                };
                let me = self.me.clone();
                let r = &mut self.rooms[i];
                r.users = users.iter().map(|u| sanitize::one_line(u)).collect();
                r.joined = true;
                let others = r
                    .users
                    .iter()
                    .filter(|u| !u.eq_ignore_ascii_case(&me))
                    .count();
                let text = format!(
                    "{} #{room} ({} here)",
                    if r.was_joined {
                        "rejoined"
                    } else {
                        "you joined"
                    },
                    if others == 0 {
                        "nobody else".to_string()
                    } else {
                        plural(others, "other person", "other people")
                    }
                );
                r.was_joined = true;
                // Shown after the history that follows.
                r.join_notice = Some(text);
            }
            ServerEvent::History {
                room,
                events,
                more,
                missed,
            } => self.on_history(&room, events, more, missed, now),
            ServerEvent::UserJoined { room, name, ts } => {
                let Some(i) = self.room_index(&room) else {
                    return;
                };
                let name = sanitize::one_line(&name);
                let r = &mut self.rooms[i];
                if !r.users.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
                    r.users.push(name.clone());
                }
                self.push_room(i, ts, EntryKind::Joined(format!("{name} joined #{room}")));
            }
            ServerEvent::UserLeft { room, name, ts } => {
                let Some(i) = self.room_index(&room) else {
                    return;
                };
                let name = sanitize::one_line(&name);
                let r = &mut self.rooms[i];
                r.users.retain(|u| !u.eq_ignore_ascii_case(&name));
                r.speakers.retain(|u| !u.eq_ignore_ascii_case(&name));
                self.push_room(i, ts, EntryKind::Left(format!("{name} left #{room}")));
            }
            ServerEvent::Message { ref room, .. } | ServerEvent::Location { ref room, .. } => {
                let room = room.clone();
                // The same conversion (and sanitizing) as stored history.
                let Some((seq, from, id, entry)) = self.stored_entry(ev) else {
                    return;
                };
                let own = from.eq_ignore_ascii_case(&self.me);
                let mention = matches!(entry.kind, EntryKind::Message { mention: true, .. });
                let msg = Incoming {
                    seq,
                    ts: entry.ts,
                    id: &id,
                    from,
                    own,
                    mention,
                };
                self.on_room_message(&room, msg, entry.kind, now, fx);
            }
            ServerEvent::Error { code, message } => {
                let message = sanitize::one_line(&message);
                if code == ErrorCode::ShuttingDown {
                    self.info(format!("server: {message}"));
                } else {
                    self.error(format!("server: {message}"));
                }
            }
            ServerEvent::Welcome { .. } | ServerEvent::Ack { .. } => {}
        }
    }

    /// A stored message or location as an entry, with its seq, sender and
    /// the sender's request id.
    fn stored_entry(&self, ev: ServerEvent) -> Option<(u64, String, String, Entry)> {
        match ev {
            ServerEvent::Message {
                seq,
                ts,
                from,
                id,
                text,
                action,
                ..
            } => {
                let from = sanitize::one_line(&from);
                let text = sanitize::message_text(&text);
                let own = from.eq_ignore_ascii_case(&self.me);
                let mention = !own && !layout::mention_ranges(&text, &self.me).is_empty();
                let kind = EntryKind::Message {
                    from: from.clone(),
                    text,
                    action,
                    mention,
                };
                Some((seq, from, id, Entry::new(ts, kind)))
            }
            ServerEvent::Location {
                seq,
                ts,
                from,
                id,
                latitude,
                longitude,
                ..
            } if protocol::validate::location(latitude, longitude).is_ok() => {
                let from = sanitize::one_line(&from);
                let kind = EntryKind::Location {
                    from: from.clone(),
                    latitude,
                    longitude,
                };
                Some((seq, from, id, Entry::new(ts, kind)))
            }
            _ => None,
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
        now: i64,
    ) {
        let Some(i) = self.room_index(room) else {
            return;
        };
        let requested = self
            .pending
            .values()
            .any(|p| *p == Pending::History(room.to_string()));
        let stored: Vec<(u64, String, String, Entry)> = events
            .into_iter()
            .filter_map(|ev| self.stored_entry(ev))
            .collect();
        let me = self.me.clone();
        if requested {
            let r = &mut self.rooms[i];
            let first = r.first_seq;
            let older: Vec<(u64, Entry)> = stored
                .into_iter()
                .filter(|(seq, _, _, _)| first.is_none_or(|f| *seq < f))
                .map(|(seq, _, _, e)| (seq, e))
                .collect();
            if let Some((seq, _)) = older.first() {
                r.first_seq = Some(*seq);
            }
            for (_, e) in older.into_iter().rev() {
                r.entries.push_front(e);
            }
            r.entries.make_contiguous();
            r.more_before = more;
            if self
                .notice
                .as_ref()
                .is_some_and(|n| n.text.starts_with("loading older"))
            {
                self.notice = None;
            }
            return;
        }
        let resumed = self.rooms[i].last_seq.is_some();
        if missed > 0 {
            let text = format!(
                "{} not shown (too many to replay)",
                plural(missed as usize, "message", "messages")
            );
            self.push_room(i, now, EntryKind::Notice(text));
        }
        let mut shown = None;
        for (seq, from, id, entry) in stored {
            let r = &mut self.rooms[i];
            if r.last_seq.is_some_and(|last| seq <= last) {
                continue; // already shown
            }
            r.last_seq = Some(seq);
            if r.first_seq.is_none() {
                r.first_seq = Some(seq);
                r.more_before = more;
            }
            let own = from.eq_ignore_ascii_case(&me);
            shown = Some(entry.ts);
            // Yours, sent while its ack was lost: it is the pending entry.
            if own && self.settle_own(room, &id, entry.clone()) {
                continue;
            }
            let mention = matches!(entry.kind, EntryKind::Message { mention: true, .. });
            // What was missed while away is new to you; a fresh join's
            // backlog is not.
            if resumed && !own && i != self.current {
                let r = &mut self.rooms[i];
                r.unread += 1;
                r.mentioned |= mention;
            }
            self.push_room(i, entry.ts, entry.kind);
        }
        if self.rooms[i].first_seq.is_none() {
            self.rooms[i].more_before = more;
        }
        // A fresh join's backlog is set apart from what happens from now on.
        if let Some(ts) = shown
            && !resumed
        {
            self.push_room(i, ts, EntryKind::Rule(HISTORY_RULE.into()));
        }
        if let Some(text) = self.rooms[i].join_notice.take() {
            self.push_room(i, now, EntryKind::Notice(text));
        }
    }

    fn on_room_message(
        &mut self,
        room: &str,
        msg: Incoming<'_>,
        kind: EntryKind,
        now: i64,
        fx: &mut Vec<Effect>,
    ) {
        let Incoming {
            seq,
            ts,
            id,
            from,
            own,
            mention,
        } = msg;
        let Some(i) = self.room_index(room) else {
            return;
        };
        let r = &mut self.rooms[i];
        if let Some(last) = r.last_seq
            && seq > last + 1
        {
            let missed = seq - last - 1;
            let text = format!(
                "{} missed while disconnected",
                plural(missed as usize, "message was", "messages were")
            );
            self.push_room(i, now, EntryKind::Notice(text));
        }
        let r = &mut self.rooms[i];
        r.last_seq = Some(seq);
        r.first_seq.get_or_insert(seq);
        if own && self.settle_own(room, id, Entry::new(ts, kind.clone())) {
            return;
        }
        let r = &mut self.rooms[i];
        if !own {
            r.speakers.retain(|s| s != &from);
            r.speakers.insert(0, from);
            r.speakers.truncate(50);
        }
        self.push_room(i, ts, kind);
        let r = &mut self.rooms[i];
        if !own && i != self.current {
            r.unread += 1;
            r.mentioned |= mention;
        }
        let ring = match self.display.bell {
            Bell::Off => false,
            Bell::Mentions => mention,
            Bell::All => !own,
        };
        if ring {
            fx.push(Effect::Bell);
        }
    }

    fn on_ack(&mut self, id: &str, result: AckResult, fx: &mut Vec<Effect>) {
        if let Some(k) = self
            .outbox
            .iter()
            .position(|o| o.state == OutState::InFlight && o.frame.request_id() == Some(id))
        {
            match result {
                AckResult::Ok { .. } => {
                    let o = self.outbox.remove(k);
                    let room = post_room(&o.frame).to_string();
                    self.set_delivery(&room, id, Delivery::Done);
                }
                AckResult::Err(err) => {
                    let reason = sanitize::one_line(&err.message);
                    self.fail_post(k, reason);
                }
            }
            return;
        }
        let pending = self.pending.remove(id);
        let AckResult::Err(err) = result else {
            if let Some(Pending::Join(room)) = &pending {
                // Without a history (older servers) the notice waits for this.
                if let Some(i) = self.room_index(room)
                    && let Some(text) = self.rooms[i].join_notice.take()
                {
                    let ts = self.rooms[i].entries.back().map_or(0, |e| e.ts);
                    self.push_room(i, ts, EntryKind::Notice(text));
                }
                if !self.pending.values().any(|p| matches!(p, Pending::Join(_))) {
                    self.startup = false;
                }
                let room = room.clone();
                self.flush_room(&room, fx);
            }
            return;
        };
        let message = sanitize::one_line(&err.message);
        match pending {
            Some(Pending::Join(room)) => {
                if self.startup && err.code == ErrorCode::NameTaken {
                    fx.push(Effect::Fatal(format!("cannot join #{room}: {message}")));
                    return;
                }
                if err.code == ErrorCode::AlreadyInRoom {
                    return;
                }
                self.outbox.retain(|o| post_room(&o.frame) != room);
                if let Some(i) = self.room_index(&room) {
                    self.rooms.remove(i);
                    if self.current >= self.rooms.len() && self.current > 0 {
                        self.current = self.rooms.len() - 1;
                    }
                }
                self.error(format!("cannot join #{room}: {message}"));
            }
            Some(Pending::History(room)) => {
                self.error(format!("cannot load older messages of #{room}: {message}"));
            }
            Some(Pending::Leave(room)) => {
                if err.code != ErrorCode::NotInRoom {
                    self.error(format!("cannot leave #{room}: {message}"));
                }
            }
            None => self.error(format!("server: {message}")),
        }
    }

    // ----- history -----

    fn push_current(&mut self, ts: i64, kind: EntryKind) {
        if self.rooms.is_empty() {
            self.push_lobby(ts, kind);
        } else {
            self.push_room(self.current, ts, kind);
        }
    }

    fn push_lobby(&mut self, ts: i64, kind: EntryKind) {
        push_entry(&mut self.lobby, Entry::new(ts, kind));
    }

    /// Appends to a room; while that room is scrolled up, the view is
    /// kept still and the "new messages below" count goes up instead.
    fn push_room(&mut self, index: usize, ts: i64, kind: EntryKind) {
        self.push_room_entry(index, Entry::new(ts, kind));
    }

    fn push_room_entry(&mut self, index: usize, entry: Entry) {
        let (width, _) = self.pane;
        let fmt = Format {
            clock: self.display.clock,
            zone: self.display.zone,
            theme: self.display.theme,
            me: &self.me,
        };
        let Some(room) = self.rooms.get_mut(index) else {
            return;
        };
        let counts = matches!(
            entry.kind,
            EntryKind::Message { .. } | EntryKind::Location { .. }
        );
        push_entry(&mut room.entries, entry);
        // Any room left scrolled up keeps its place, shown or not.
        if room.scroll > 0 {
            let entries = room.entries.make_contiguous();
            let added = layout::entry_height(entries, entries.len() - 1, width, &fmt);
            room.scroll += added;
            if counts {
                room.new_below += 1;
            }
        }
    }
}

fn push_entry(entries: &mut VecDeque<Entry>, entry: Entry) {
    entries.push_back(entry);
    if entries.len() > HISTORY_LIMIT {
        // Drop a tenth at once and keep the buffer in one piece, so drawing
        // can use it as a slice without copying.
        let excess = entries.len() - HISTORY_LIMIT + HISTORY_LIMIT / 10;
        entries.drain(..excess);
        entries.make_contiguous();
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::theme::ColorMode;

    fn limits() -> ServerLimits {
        ServerLimits {
            max_name_chars: 32,
            max_room_chars: 32,
            max_text_chars: 4000,
            max_frame_bytes: 32768,
            max_rooms: 32,
            rate_per_sec: 0.0,
            rate_burst: 0,
        }
    }

    fn app(rooms: &[&str]) -> App {
        let rooms: Vec<String> = rooms.iter().map(|r| r.to_string()).collect();
        let display = Display {
            clock: Clock::H24,
            zone: Zone::Local,
            theme: Theme::new(ColorMode::None),
            bell: Bell::Mentions,
        };
        App::new("ann", "ws://127.0.0.1:1/ws", &rooms, display, None)
    }

    fn connected() -> Event {
        Event::Net(NetEvent::Connected {
            server: "s".into(),
            name: "ann".into(),
            limits: limits(),
            epoch: "e1".into(),
        })
    }

    fn typed(app: &mut App, line: &str) -> Vec<Effect> {
        app.editor.set(line.to_string(), line.chars().count());
        app.update(Event::Action(Action::Submit), 0)
    }

    fn joins(fx: &[Effect]) -> Vec<(String, String)> {
        fx.iter()
            .filter_map(|e| match e {
                Effect::Send(ClientEvent::Join { id, room, .. }) => {
                    Some((id.clone(), room.clone()))
                }
                _ => None,
            })
            .collect()
    }

    fn room_state(app: &mut App, room: &str) {
        app.update(
            Event::Net(NetEvent::Server(ServerEvent::RoomState {
                room: room.into(),
                users: vec!["ann".into(), "bob".into()],
            })),
            0,
        );
    }

    #[test]
    fn connecting_joins_every_room_and_reconnecting_rejoins() {
        let mut a = app(&["dev", "ops"]);
        let fx = a.update(connected(), 0);
        assert_eq!(
            joins(&fx).iter().map(|j| j.1.as_str()).collect::<Vec<_>>(),
            ["dev", "ops"]
        );
        room_state(&mut a, "dev");
        a.update(
            Event::Net(NetEvent::Disconnected {
                reason: "gone".into(),
                retry_in: Duration::from_secs(1),
            }),
            0,
        );
        assert!(!a.rooms[0].joined);
        let fx = a.update(connected(), 0);
        assert_eq!(joins(&fx).len(), 2);
        room_state(&mut a, "dev");
        // The notice follows the join's history (here: none).
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::History {
                room: "dev".into(),
                events: Vec::new(),
                more: false,
                missed: 0,
            })),
            0,
        );
        let last = a.rooms[0].entries.back().map(|e| e.kind.clone());
        assert!(
            matches!(&last, Some(EntryKind::Notice(t)) if t.starts_with("rejoined #dev")),
            "{last:?}"
        );
    }

    /// The delivery marks of your messages in a room, oldest first.
    fn own(room: &Room) -> Vec<(String, Delivery)> {
        room.entries
            .iter()
            .filter_map(|e| match &e.kind {
                EntryKind::Message { from, text, .. } if from == "ann" => {
                    Some((text.clone(), e.delivery.clone()))
                }
                _ => None,
            })
            .collect()
    }

    /// Connects and joins `dev` (acked); returns nothing.
    fn joined_dev(a: &mut App) {
        let fx = a.update(connected(), 0);
        let (join_id, _) = joins(&fx).remove(0);
        room_state(a, "dev");
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(join_id, None))),
            0,
        );
    }

    fn sent_frame(fx: &[Effect]) -> ClientEvent {
        match fx {
            [Effect::Send(f @ ClientEvent::Send { .. })] => f.clone(),
            other => panic!("expected one send, got {other:?}"),
        }
    }

    fn echo(frame: &ClientEvent, seq: u64) -> Event {
        let ClientEvent::Send { id, room, text, .. } = frame else {
            panic!("{frame:?}");
        };
        Event::Net(NetEvent::Server(ServerEvent::Message {
            room: room.clone(),
            seq,
            ts: 5_000,
            from: "ann".into(),
            id: id.clone(),
            text: text.clone(),
            action: false,
        }))
    }

    fn ack(frame: &ClientEvent, seq: u64) -> Event {
        let id = frame.request_id().unwrap_or_default().to_string();
        Event::Net(NetEvent::Server(ServerEvent::ack_ok(id, Some(seq))))
    }

    #[test]
    fn a_message_is_pending_at_once_then_sent_and_its_echo_is_not_shown_twice() {
        let mut a = app(&["dev"]);
        joined_dev(&mut a);
        let fx = typed(&mut a, "hello");
        let frame = sent_frame(&fx);
        assert_eq!(a.editor.text(), "");
        assert_eq!(own(&a.rooms[0]), [("hello".into(), Delivery::Pending)]);
        a.update(ack(&frame, 7), 0);
        assert_eq!(own(&a.rooms[0]), [("hello".into(), Delivery::Done)]);
        a.update(echo(&frame, 7), 0);
        assert_eq!(own(&a.rooms[0]), [("hello".into(), Delivery::Done)]);
        // The entry now carries the server's time, and the number counts
        // for resuming.
        let e = a.rooms[0]
            .entries
            .iter()
            .find(|e| e.request.is_some())
            .cloned();
        assert_eq!(e.map(|e| e.ts), Some(5_000));
        assert_eq!(a.rooms[0].last_seq, Some(7));
        // Another person's message with the same id is someone else's.
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::Message {
                room: "dev".into(),
                seq: 8,
                ts: 6_000,
                from: "bob".into(),
                id: frame.request_id().unwrap_or_default().into(),
                text: "hello".into(),
                action: false,
            })),
            0,
        );
        assert_eq!(
            texts(&a.rooms[0]).iter().filter(|t| *t == "hello").count(),
            2
        );
    }

    #[test]
    fn the_echo_settles_a_message_even_when_it_comes_before_the_ack() {
        let mut a = app(&["dev"]);
        joined_dev(&mut a);
        let frame = sent_frame(&typed(&mut a, "quick"));
        a.update(echo(&frame, 3), 0);
        assert_eq!(own(&a.rooms[0]), [("quick".into(), Delivery::Done)]);
        a.update(ack(&frame, 3), 0);
        assert_eq!(own(&a.rooms[0]), [("quick".into(), Delivery::Done)]);
        // Nothing left to resend.
        disconnect(&mut a);
        let fx = a.update(connected(), 0);
        let (join_id, _) = joins(&fx).remove(0);
        room_state(&mut a, "dev");
        let fx = a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(join_id, None))),
            0,
        );
        assert!(fx.is_empty(), "{fx:?}");
    }

    #[test]
    fn a_refused_message_is_marked_failed_with_the_reason_and_can_be_retried() {
        let mut a = app(&["dev"]);
        joined_dev(&mut a);
        let frame = sent_frame(&typed(&mut a, "too fast"));
        let id = frame.request_id().unwrap_or_default().to_string();
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_err(
                id,
                ErrorCode::RateLimited,
                "slow down",
            ))),
            0,
        );
        assert_eq!(
            own(&a.rooms[0]),
            [("too fast".into(), Delivery::Failed("slow down".into()))]
        );
        assert!(
            a.notice
                .as_ref()
                .is_some_and(|n| n.error && n.text.contains("slow down"))
        );
        // A failed message is not resent by itself after a reconnect.
        disconnect(&mut a);
        let fx = a.update(connected(), 0);
        let (join_id, _) = joins(&fx).remove(0);
        room_state(&mut a, "dev");
        let fx = a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(join_id, None))),
            0,
        );
        assert!(fx.is_empty(), "{fx:?}");
        // /retry sends it again, with the same id, pending again.
        let fx = typed(&mut a, "/retry");
        assert_eq!(sent_frame(&fx), frame);
        assert_eq!(own(&a.rooms[0]), [("too fast".into(), Delivery::Pending)]);
        a.update(ack(&frame, 1), 0);
        assert_eq!(own(&a.rooms[0]), [("too fast".into(), Delivery::Done)]);
        assert!(typed(&mut a, "/retry").is_empty());
    }

    #[test]
    fn a_message_typed_while_disconnected_waits_and_is_sent_after_the_rejoin() {
        let mut a = app(&["dev"]);
        joined_dev(&mut a);
        disconnect(&mut a);
        let fx = typed(&mut a, "while away");
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(a.editor.text(), "");
        assert_eq!(own(&a.rooms[0]), [("while away".into(), Delivery::Pending)]);
        // Connected but not rejoined yet: still waiting.
        let fx = a.update(connected(), 0);
        assert!(
            fx.iter()
                .all(|e| matches!(e, Effect::Send(ClientEvent::Join { .. })))
        );
        let (join_id, _) = joins(&fx).remove(0);
        room_state(&mut a, "dev");
        let fx = a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(join_id, None))),
            0,
        );
        let frame = sent_frame(&fx);
        a.update(ack(&frame, 4), 0);
        a.update(echo(&frame, 4), 0);
        assert_eq!(own(&a.rooms[0]), [("while away".into(), Delivery::Done)]);
    }

    #[test]
    fn a_message_never_confirmed_fails_after_a_bounded_number_of_tries() {
        let mut a = app(&["dev"]);
        joined_dev(&mut a);
        let frame = sent_frame(&typed(&mut a, "into the void"));
        for _ in 1..MAX_TRIES {
            disconnect(&mut a);
            assert_eq!(
                own(&a.rooms[0]),
                [("into the void".into(), Delivery::Pending)]
            );
        }
        disconnect(&mut a);
        let marks = own(&a.rooms[0]);
        let [(_, Delivery::Failed(reason))] = marks.as_slice() else {
            panic!("{:?}", own(&a.rooms[0]));
        };
        assert!(reason.contains("no confirmation"), "{reason}");
        // If it did arrive after all, the resumed history says so.
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        let ClientEvent::Send { id, text, .. } = &frame else {
            panic!();
        };
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::History {
                room: "dev".into(),
                events: vec![ServerEvent::Message {
                    room: "dev".into(),
                    seq: 1,
                    ts: 9,
                    from: "ann".into(),
                    id: id.clone(),
                    text: text.clone(),
                    action: false,
                }],
                more: false,
                missed: 0,
            })),
            0,
        );
        assert_eq!(own(&a.rooms[0]), [("into the void".into(), Delivery::Done)]);
    }

    #[test]
    fn text_and_actions_go_to_the_current_room() {
        let mut a = app(&["dev"]);
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        let fx = typed(&mut a, "/me waves");
        assert!(matches!(
            fx.as_slice(),
            [Effect::Send(ClientEvent::Send { room, text, action: true, .. })] if room == "dev" && text == "waves"
        ));
        assert_eq!(a.editor.text(), "");
        let fx = typed(&mut a, "   ");
        assert!(fx.is_empty());
    }

    #[test]
    fn location_without_a_default_is_a_clear_error() {
        let mut a = app(&["dev"]);
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        assert!(typed(&mut a, "/location").is_empty());
        assert!(
            a.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("no default location"))
        );
        a.default_location = Some((1.0, 2.0));
        let fx = typed(&mut a, "/location");
        assert!(matches!(
            fx.as_slice(),
            [Effect::Send(ClientEvent::Location { latitude, longitude, .. })] if *latitude == 1.0 && *longitude == 2.0
        ));
    }

    #[test]
    fn nick_is_explained_not_sent() {
        let mut a = app(&["dev"]);
        a.update(connected(), 0);
        assert!(typed(&mut a, "/nick bob").is_empty());
        assert!(
            a.notice
                .as_ref()
                .is_some_and(|n| n.text.contains("not supported"))
        );
    }

    #[test]
    fn a_taken_name_is_fatal_only_at_startup() {
        let mut a = app(&["dev"]);
        let fx = a.update(connected(), 0);
        let (id, _) = joins(&fx).remove(0);
        let nack = |id: &str| {
            Event::Net(NetEvent::Server(ServerEvent::ack_err(
                id,
                ErrorCode::NameTaken,
                "the name \"ann\" is already used in room dev",
            )))
        };
        let fx = a.update(nack(&id), 0);
        assert!(matches!(fx.as_slice(), [Effect::Fatal(m)] if m.starts_with("cannot join #dev")));

        let mut a = app(&["dev"]);
        let fx = a.update(connected(), 0);
        let (id, _) = joins(&fx).remove(0);
        room_state(&mut a, "dev");
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(id, None))),
            0,
        );
        let fx = typed(&mut a, "/join ops");
        let (id, _) = joins(&fx).remove(0);
        let fx = a.update(nack(&id), 0);
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(a.rooms.len(), 1);
        assert!(
            a.notice
                .as_ref()
                .is_some_and(|n| n.text.starts_with("cannot join #ops"))
        );
    }

    #[test]
    fn leaving_while_the_join_is_on_its_way_still_tells_the_server() {
        let mut a = app(&[]);
        a.update(connected(), 0);
        typed(&mut a, "/join dev");
        let fx = typed(&mut a, "/leave");
        assert!(
            matches!(fx.as_slice(), [Effect::Send(ClientEvent::Leave { room, .. })] if room == "dev")
        );
        assert!(a.rooms.is_empty());
    }

    #[test]
    fn a_gap_in_sequence_numbers_is_shown() {
        let mut a = app(&["dev"]);
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        for seq in [1, 4] {
            a.update(
                Event::Net(NetEvent::Server(ServerEvent::Message {
                    room: "dev".into(),
                    seq,
                    ts: 0,
                    from: "bob".into(),
                    id: "x".into(),
                    text: "hi".into(),
                    action: false,
                })),
                0,
            );
        }
        assert!(a.rooms[0].entries.iter().any(
            |e| matches!(&e.kind, EntryKind::Notice(t) if t == "2 messages were missed while disconnected")
        ));
    }

    fn msg(room: &str, seq: u64, from: &str, text: &str) -> ServerEvent {
        ServerEvent::Message {
            room: room.into(),
            seq,
            ts: seq as i64 * 1000,
            from: from.into(),
            id: format!("x{seq}"),
            text: text.into(),
            action: false,
        }
    }

    fn history(
        app: &mut App,
        room: &str,
        seqs: std::ops::RangeInclusive<u64>,
        more: bool,
        missed: u64,
    ) {
        let events = seqs
            .map(|s| msg(room, s, "bob", &format!("m{s}")))
            .collect();
        app.update(
            Event::Net(NetEvent::Server(ServerEvent::History {
                room: room.into(),
                events,
                more,
                missed,
            })),
            0,
        );
    }

    fn texts(room: &Room) -> Vec<String> {
        room.entries
            .iter()
            .map(|e| match &e.kind {
                EntryKind::Message { text, .. } => text.clone(),
                EntryKind::Notice(t) | EntryKind::Error(t) => format!("-- {t}"),
                EntryKind::Rule(t) => format!("== {t}"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn disconnect(app: &mut App) {
        app.update(
            Event::Net(NetEvent::Disconnected {
                reason: "gone".into(),
                retry_in: Duration::from_secs(1),
            }),
            0,
        );
    }

    #[test]
    fn a_join_shows_recent_history_then_the_join_notice() {
        let mut a = app(&["dev", "ops"]);
        a.update(connected(), 0);
        room_state(&mut a, "ops");
        history(&mut a, "ops", 1..=3, true, 0);
        let r = &a.rooms[1];
        assert_eq!(
            texts(r),
            [
                "m1",
                "m2",
                "m3",
                "== end of history",
                "-- you joined #ops (1 other person here)"
            ]
        );
        // Backlog is not news: no unread count for it.
        assert_eq!(r.unread, 0);
        assert!(r.more_before);
    }

    #[test]
    fn reconnecting_resumes_after_the_last_message_seen() {
        let mut a = app(&["dev", "ops"]);
        a.update(connected(), 0);
        room_state(&mut a, "ops");
        history(&mut a, "ops", 1..=3, false, 0);
        disconnect(&mut a);
        let fx = a.update(connected(), 0);
        let resume = fx.iter().find_map(|e| match e {
            Effect::Send(ClientEvent::Join {
                room, since, epoch, ..
            }) if room == "ops" => Some((*since, epoch.clone())),
            _ => None,
        });
        assert_eq!(resume, Some((Some(3), Some("e1".to_string()))));
        room_state(&mut a, "ops");
        // The server replays from 4; a duplicate of 3 is ignored.
        history(&mut a, "ops", 3..=5, false, 0);
        let t = texts(&a.rooms[1]);
        assert_eq!(t.iter().filter(|x| *x == "m3").count(), 1, "{t:?}");
        assert!(
            t.ends_with(&[
                "m4".into(),
                "m5".into(),
                "-- rejoined #ops (1 other person here)".into()
            ]),
            "{t:?}"
        );
        // Missed messages in another room count as unread.
        assert_eq!(a.rooms[1].unread, 2);
    }

    #[test]
    fn too_many_missed_messages_are_counted() {
        let mut a = app(&["dev"]);
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        history(&mut a, "dev", 1..=1, false, 0);
        disconnect(&mut a);
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        history(&mut a, "dev", 2000..=2001, true, 1998);
        let t = texts(&a.rooms[0]);
        assert!(
            t.contains(&"-- 1998 messages not shown (too many to replay)".to_string()),
            "{t:?}"
        );
    }

    #[test]
    fn a_new_epoch_forgets_the_numbers() {
        let mut a = app(&["dev"]);
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        history(&mut a, "dev", 1..=3, false, 0);
        disconnect(&mut a);
        let fx = a.update(
            Event::Net(NetEvent::Connected {
                server: "s".into(),
                name: "ann".into(),
                limits: limits(),
                epoch: "e2".into(),
            }),
            0,
        );
        assert!(fx.iter().any(|e| matches!(
            e,
            Effect::Send(ClientEvent::Join {
                since: None,
                epoch: None,
                ..
            })
        )));
    }

    #[test]
    fn page_up_at_the_top_fetches_older_messages() {
        let mut a = app(&["dev"]);
        a.update(connected(), 0);
        room_state(&mut a, "dev");
        history(&mut a, "dev", 51..=53, true, 0);
        a.set_pane(80, 20);
        let fx = a.update(Event::Action(Action::PageUp), 0);
        let Some(Effect::Send(ClientEvent::History {
            id, room, before, ..
        })) = fx.first()
        else {
            panic!("{fx:?}");
        };
        assert_eq!((room.as_str(), *before), ("dev", 51));
        // Only one request at a time.
        assert!(a.update(Event::Action(Action::PageUp), 0).is_empty());
        let id = id.clone();
        history(&mut a, "dev", 49..=50, false, 0);
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(id, None))),
            0,
        );
        let t = texts(&a.rooms[0]);
        assert_eq!(t[..3], ["m49", "m50", "m51"], "{t:?}");
        assert!(!a.rooms[0].more_before);
        assert!(a.update(Event::Action(Action::PageUp), 0).is_empty());
    }

    #[test]
    fn a_message_whose_ack_was_lost_is_sent_again_with_the_same_id() {
        let mut a = app(&["dev"]);
        let fx = a.update(connected(), 0);
        let (join_id, _) = joins(&fx).remove(0);
        room_state(&mut a, "dev");
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(join_id, None))),
            0,
        );
        let fx = typed(&mut a, "did this arrive?");
        let [Effect::Send(sent)] = fx.as_slice() else {
            panic!("{fx:?}");
        };
        let sent = sent.clone();
        disconnect(&mut a);
        let fx = a.update(connected(), 0);
        assert!(
            fx.iter()
                .all(|e| matches!(e, Effect::Send(ClientEvent::Join { .. })))
        );
        let (join_id, _) = joins(&fx).remove(0);
        room_state(&mut a, "dev");
        let fx = a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(join_id, None))),
            0,
        );
        assert_eq!(fx, vec![Effect::Send(sent.clone())]);
        // Acknowledged now: nothing more to resend after another drop.
        let id = sent.request_id().unwrap().to_string();
        a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(id, Some(7)))),
            0,
        );
        disconnect(&mut a);
        let fx = a.update(connected(), 0);
        let (join_id, _) = joins(&fx).remove(0);
        let fx = a.update(
            Event::Net(NetEvent::Server(ServerEvent::ack_ok(join_id, None))),
            0,
        );
        assert!(fx.is_empty(), "{fx:?}");
    }

    #[test]
    fn history_is_bounded() {
        let mut entries = VecDeque::new();
        for i in 0..(HISTORY_LIMIT * 2) {
            push_entry(
                &mut entries,
                Entry::new(i as i64, EntryKind::Notice(String::new())),
            );
            assert!(entries.len() <= HISTORY_LIMIT);
        }
        assert_eq!(
            entries.back().map(|e| e.ts),
            Some(HISTORY_LIMIT as i64 * 2 - 1)
        );
        assert!(entries.as_slices().1.is_empty());
    }
}

//! The client's state and everything that changes it.
//!
//! [`App::update`] takes one [`Event`] (a key action, a paste, something
//! from the network, a resize, a timer tick) and returns the [`Effect`]s
//! the outside world should carry out (frames to send, a bell, quitting).
//! It is the only place the state changes. It does no I/O and reads no
//! clock: the current time is passed in, so tests are exact.
//!
//! The pieces:
//!
//! - [`room`]: one room, with its history ([`entries`]) and its view
//!   ([`scroll`]); messages and history pages are applied there;
//! - [`outbox`]: your lines on their way, by the protocol's rulebook;
//! - `input` and `run_command`: keys, the input line and slash commands;
//! - `network`: what the connection and the server say;
//! - `sending`: lines of yours into the room and the outbox;
//! - `viewing`: paging, and what the renderer reports it showed;
//! - `devices`: your devices (`/link`, `/devices`, `/logout`).
//!
//! Nothing here knows about terminals or how entries wrap into rows, so
//! the same core can be drawn on any ratatui backend. Where it needs to
//! know what the rows came to (how far a page can move, whether the
//! oldest message is on screen) the renderer tells it after each draw
//! ([`Event::Shown`]).

pub mod action;
mod conversations;
mod devices;
mod directory;
pub mod entries;
mod input;
mod input_area;
mod moderation;
mod network;
pub mod outbox;
pub mod room;
mod run_command;
pub mod scroll;
mod sending;
mod stored;
#[cfg(test)]
mod tests;
mod viewing;

use std::collections::HashMap;
use std::time::Duration;

use protocol::{ClientEvent, ServerLimits};

pub use action::{Action, Edit};
pub use entries::{Delivery, Entries, Entry, EntryKind, HISTORY_LIMIT};
pub use input_area::truncate;
pub use moderation::modes_label;
pub use room::{HISTORY_RULE, READ_MARKER, Room};
pub use scroll::{Beyond, Scroll, Shown};

use crate::complete::Completer;
use crate::config::{Bell, Clock};
use crate::editor::Editor;
use crate::net::NetEvent;
use crate::theme::Theme;
use crate::zone::Zone;
use outbox::{Millis, Outbox};

/// The current time on both clocks the core uses: the wall clock for
/// timestamps shown, a monotonic one for the outbox's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// UTC milliseconds since the Unix epoch.
    pub wall_ms: i64,
    /// Milliseconds since some fixed instant; never goes back.
    pub mono_ms: Millis,
}

impl From<i64> for Now {
    /// Both clocks at the same number: for tests and replays.
    fn from(ms: i64) -> Self {
        Now {
            wall_ms: ms,
            mono_ms: ms.max(0) as Millis,
        }
    }
}

/// Input to [`App::update`].
// Each event is moved once into `update` and dropped there: boxing the
// network's (large with the server's frames) would cost an allocation per
// frame and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Action(Action),
    Paste(String),
    Net(NetEvent),
    /// The terminal's size, at the start and whenever it changes.
    Resize {
        width: u16,
        height: u16,
    },
    /// The time [`App::wake`] asked for has come.
    Tick,
    /// A frame could not be handed to the network (its queue is full).
    NetBusy,
    /// What the last draw showed of the current room; handed in right
    /// after every draw. It changes nothing on screen.
    Shown(Shown),
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

/// A one-line message above the status line (command output errors etc.).
/// It goes at the next action other than editing the line, or after
/// [`NOTICE_FOR`] ([`ERROR_FOR`] for an error), whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// How long a notice stays on screen.
pub const NOTICE_FOR: Duration = Duration::from_secs(5);
/// How long an error stays on screen: longer, it may take some reading.
pub const ERROR_FOR: Duration = Duration::from_secs(10);

/// How things are shown; fixed for a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Display {
    pub clock: Clock,
    pub zone: Zone,
    pub theme: Theme,
    pub bell: Bell,
}

/// A request other than a line of yours, waiting for its ack.
#[derive(Debug, Clone, PartialEq)]
enum Request {
    Join(String),
    Leave(String),
    /// Older messages, asked for by scrolling up.
    History(String),
    /// A link code for another device.
    Link,
    Devices,
    /// `/keys`: the devices, shown as ssh keys.
    Keys,
    /// Signing out a device (`None`: this one).
    Logout(Option<String>),
    /// `/query` or `/msg` to someone without a buffer yet: their name, the
    /// line to send once it is open, and the conversation's key once its
    /// `room_state` came.
    Query {
        name: String,
        text: Option<String>,
        key: Option<String>,
    },
    Nick(String),
    Away(Option<String>),
    Back,
    Whois(String),
    List,
    /// Setting the topic of a room.
    Topic(String),
    /// A moderation request in `room` (`/kick`, `/mode`, `/modlog`...):
    /// `what` it asked, for the refusal ("cannot kick bob in #dev").
    Moderation {
        room: String,
        what: String,
    },
}

/// Who you are: your identity's id (from the welcome) and your name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Me {
    pub id: String,
    pub name: String,
}

impl Me {
    /// Whether the identity `id` (named `name`) is you. By id: a name
    /// says nothing about who sent a line. Only lines stored before
    /// identities existed carry no id; they are yours by name.
    pub fn is(&self, id: &str, name: &str) -> bool {
        if id.is_empty() || self.id.is_empty() {
            name.eq_ignore_ascii_case(&self.name)
        } else {
            id == self.id
        }
    }
}

/// Rows of the screen besides the message pane and the input area: the
/// status line (and the notice line while there is one), as `ui` lays out.
const CHROME_ROWS: usize = 1;

/// The narrowest terminal that shows the user list by itself: below it the
/// messages get the width (80 columns leave at least 55 for text).
pub const USERS_FROM_WIDTH: u16 = 100;

/// Most rows the input area grows to with a long or multi-line message;
/// beyond them it scrolls to keep the cursor in sight.
pub const INPUT_MAX_ROWS: usize = 5;

#[derive(Debug)]
pub struct App {
    /// Your name, as the server has it.
    pub me: String,
    /// Your identity's id (empty until the first welcome).
    pub me_id: String,
    pub server_url: String,
    /// Server software from the welcome.
    pub server_name: Option<String>,
    pub conn: ConnState,
    pub rooms: Vec<Room>,
    pub current: usize,
    /// Shown when you are in no room.
    pub lobby: Entries,
    pub editor: Editor,
    /// The user list shown (`Some(true)`) or hidden by F2; `None`: by
    /// the terminal's width (shown from [`USERS_FROM_WIDTH`] columns on).
    pub show_users: Option<bool>,
    pub notice: Option<Notice>,
    /// When the notice goes (monotonic milliseconds); set after the update
    /// that showed it.
    notice_until: Option<Millis>,
    /// A notice was shown during the current update.
    notice_new: bool,
    pub display: Display,
    pub limits: Option<ServerLimits>,
    /// The terminal's size (columns, rows), for the size of a page.
    screen: (u16, u16),
    default_location: Option<(f64, f64)>,
    completer: Completer,
    /// The server's store epoch from the last welcome.
    epoch: Option<String>,
    /// Your messages and locations until the server has them.
    outbox: Outbox<ClientEvent>,
    id_prefix: String,
    next_id: u64,
    requests: HashMap<String, Request>,
    /// The device ids of the last `/devices` list, for `/logout N`.
    devices_shown: Vec<String>,
    /// The ssh keys of the last `/keys` answer: (device id, name).
    keys_shown: Vec<(String, String)>,
    /// Who is away (by identity id), with their reason (empty: none).
    away: HashMap<String, String>,
    /// The rooms of the last `/list`, which Tab completes.
    directory: Vec<String>,
    /// History answers arriving in parts, by room: the events of the parts
    /// so far (the answer is applied whole, when its last part comes).
    history_parts: HashMap<String, Vec<protocol::ServerEvent>>,
    /// The server sent a frame too large to take: the next rejoins ask for
    /// the latest page, not for what was missed (that answer was the one).
    fresh_joins: bool,
    /// Whether that was said already (it is said once).
    told_too_large: bool,
    /// The rows beyond the current room's pane as the last draw showed
    /// them, moved by the pages since; unknown once anything else happens.
    beyond: Beyond,
    /// PgUp was pressed since the last draw: older messages are asked for
    /// if that draw shows the oldest one held.
    older_wanted: bool,
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
            me_id: String::new(),
            server_url: server_url.to_string(),
            server_name: None,
            conn: ConnState::Connecting { attempt: 1 },
            rooms: rooms.iter().map(Room::new).collect(),
            current: 0,
            lobby: Entries::new(),
            editor: Editor::new(),
            show_users: None,
            notice: None,
            notice_until: None,
            notice_new: false,
            display,
            limits: None,
            screen: (80, 24),
            default_location,
            completer: Completer::new(),
            epoch: None,
            outbox: Outbox::new(crate::net::jitter),
            id_prefix: crate::net::request_id_prefix(),
            next_id: 0,
            requests: HashMap::new(),
            devices_shown: Vec::new(),
            keys_shown: Vec::new(),
            away: HashMap::new(),
            directory: Vec::new(),
            history_parts: HashMap::new(),
            fresh_joins: false,
            told_too_large: false,
            beyond: Beyond::UNKNOWN,
            older_wanted: false,
            startup: true,
            quitting: false,
        }
    }

    pub fn update(&mut self, event: Event, now: impl Into<Now>) -> Vec<Effect> {
        let now = now.into();
        let mut fx = Vec::new();
        if !matches!(
            event,
            Event::Action(Action::PageUp | Action::PageDown) | Event::Shown(_)
        ) {
            // A message, a resize, a notice line or another room may
            // change the rows: the next draw counts them again.
            self.beyond = Beyond::UNKNOWN;
        }
        match event {
            Event::Action(action) => self.on_action(action, now, &mut fx),
            Event::Paste(text) => {
                self.completer.reset();
                self.editor.insert_str(&text);
            }
            Event::Net(ev) => self.on_net(ev, now, &mut fx),
            Event::Resize { width, height } => self.screen = (width, height),
            Event::Tick => {
                let changes = self.outbox.tick(now.mono_ms);
                self.apply_outbox(changes, &mut fx);
                if self.notice_until.is_some_and(|t| t <= now.mono_ms) {
                    self.notice = None;
                }
            }
            Event::NetBusy => self.error("the network is busy: not sent, try again"),
            Event::Shown(shown) => self.on_shown(shown, &mut fx),
        }
        if std::mem::take(&mut self.notice_new)
            && let Some(n) = &self.notice
        {
            let lasts = if n.error { ERROR_FOR } else { NOTICE_FOR };
            self.notice_until = Some(now.mono_ms + lasts.as_millis() as Millis);
        }
        if self.notice.is_none() {
            self.notice_until = None;
        }
        fx
    }

    /// When [`Event::Tick`] is next due, on the monotonic clock of
    /// [`Now::mono_ms`]; `None` while nothing waits for a time.
    pub fn wake(&self) -> Option<Millis> {
        match (self.outbox.wake(), self.notice_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
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
    pub fn visible_entries(&self) -> &Entries {
        match self.current_room() {
            Some(r) => &r.entries,
            None => &self.lobby,
        }
    }

    pub fn connected(&self) -> bool {
        self.conn == ConnState::Connected
    }

    /// Rows of the message pane, from the terminal size, the rows of the
    /// input area and whether a notice line is shown.
    pub fn message_pane_rows(&self) -> usize {
        let notice = usize::from(self.notice.is_some());
        let input = self.input_height(self.screen.0);
        usize::from(self.screen.1)
            .saturating_sub(CHROME_ROWS + notice + input)
            .max(1)
    }

    /// How history and times look in this run.
    pub(crate) fn format(&self) -> crate::layout::Format<'_> {
        crate::layout::Format {
            clock: self.display.clock,
            zone: self.display.zone,
            theme: self.display.theme,
            me: &self.me,
        }
    }

    /// How notices name the buffer `room` (a room's name or a
    /// conversation's key).
    pub fn title_of(&self, room: &str) -> String {
        self.room_index(room)
            .map_or_else(|| format!("#{room}"), |i| self.rooms[i].title())
    }

    /// You, for telling your lines and your entry in a room apart.
    fn who(&self) -> Me {
        Me {
            id: self.me_id.clone(),
            name: self.me.clone(),
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
        self.notice_new = true;
    }

    fn info(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            error: false,
        });
        self.notice_new = true;
    }

    /// A notice in the current room (or the lobby when in none).
    fn push_current(&mut self, ts: i64, kind: EntryKind) {
        let entry = Entry::new(ts, kind);
        match self.rooms.get_mut(self.current) {
            Some(room) => room.push(entry),
            None => self.lobby.push(entry),
        }
    }

    fn push_lobby(&mut self, ts: i64, kind: EntryKind) {
        self.lobby.push(Entry::new(ts, kind));
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

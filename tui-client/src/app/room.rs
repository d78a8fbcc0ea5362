//! One room as this client sees it: its people, its history, what you have
//! not read yet, and where its view is scrolled. Messages and pages of
//! history from the server are applied here, already sanitized.

use std::collections::HashMap;

use protocol::moderation::{Role, RoomModes};
use protocol::{Member, UserRef};

use super::entries::{Delivery, Entries, Entry, EntryKind};
use super::scroll::Scroll;
pub(super) use super::stored::Stored;
use super::{Me, plural};
use crate::sanitize;

/// The label of the rule between a join's stored history and what follows.
pub const HISTORY_RULE: &str = "end of history";

/// The label of the rule where you left the room, above what came since.
pub const READ_MARKER: &str = "unread below";

/// Most recent speakers remembered for nick completion.
const SPEAKERS: usize = 50;

/// A room you are in (or are joining, or will rejoin after a reconnect).
#[derive(Debug, Clone, PartialEq)]
pub struct Room {
    /// The room's name, or a conversation's key (`@<uid1>+<uid2>`): what
    /// the wire calls it.
    pub name: String,
    /// In a direct-message conversation: the other person, by their
    /// current name.
    pub peer: Option<UserRef>,
    /// The room's topic, if it has one.
    pub topic: Option<String>,
    /// The names of the people in the room, each identity once.
    pub users: Vec<String>,
    /// Their identity ids, in the same order.
    pub user_ids: Vec<String>,
    /// Roles by identity id (`room_state`, then `moderation` events).
    pub roles: HashMap<String, Role>,
    /// The room's modes (moderated, invite-only, slow mode...).
    pub modes: RoomModes,
    /// You were kicked or banned: read-only until `/join`.
    pub removed: bool,
    pub entries: Entries,
    /// Messages since you last looked at the room.
    pub unread: usize,
    /// Someone wrote your name since you last looked.
    pub mentioned: bool,
    /// The server confirmed the join on the current connection.
    pub joined: bool,
    pub scroll: Scroll,
    /// Messages that arrived while scrolled up.
    pub new_below: usize,
    /// Where you left the room: the entry after the last one there was
    /// then. Moves to the end each time you leave it again.
    pub read_marker: Option<super::entries::EntryKey>,
    /// Highest sequence number seen (in the current epoch).
    pub(super) last_seq: Option<u64>,
    /// Lowest sequence number held, where older history would continue.
    pub(super) first_seq: Option<u64>,
    /// The server has older messages than the ones held.
    pub more_before: bool,
    /// Recent speakers, newest first, for nick completion.
    pub(super) speakers: Vec<String>,
    /// Joined at least once, so a `room_state` is a rejoin.
    pub(super) was_joined: bool,
    /// Added by `/join` and not joined yet: a refused join takes it out
    /// of the list again. Any other room stays when its join is refused.
    pub(super) tentative: bool,
    /// "you joined" / "rejoined", shown after the join's history.
    pub(super) join_notice: Option<String>,
}

/// What a live message did to the room.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Applied {
    /// The echo of a line sent from here, shown once: its pending entry
    /// became the stored one.
    Settled {
        id: String,
    },
    Shown {
        own: bool,
        mention: bool,
    },
}

impl Room {
    pub fn new(name: impl Into<String>) -> Self {
        Room {
            name: name.into(),
            peer: None,
            topic: None,
            users: Vec::new(),
            user_ids: Vec::new(),
            roles: HashMap::new(),
            modes: RoomModes::default(),
            removed: false,
            entries: Entries::new(),
            unread: 0,
            mentioned: false,
            joined: false,
            scroll: Scroll::Bottom,
            new_below: 0,
            read_marker: None,
            last_seq: None,
            first_seq: None,
            more_before: false,
            speakers: Vec::new(),
            was_joined: false,
            tentative: false,
            join_notice: None,
        }
    }

    /// A direct-message conversation with `peer`, under its key.
    pub fn conversation(key: impl Into<String>, peer: UserRef) -> Self {
        Room {
            peer: Some(peer),
            ..Room::new(key)
        }
    }

    pub fn is_dm(&self) -> bool {
        self.peer.is_some()
    }

    /// What the sidebar and the prompt call it: the room's name, or the
    /// other person's current name.
    pub fn label(&self) -> &str {
        self.peer.as_ref().map_or(&self.name, |p| &p.name)
    }

    /// How notices name it: `#dev`, or `bob` for a conversation.
    pub fn title(&self) -> String {
        match &self.peer {
            Some(p) => p.name.clone(),
            None => format!("#{}", self.name),
        }
    }

    /// Appends an entry. A room scrolled up stays where it is (shown or
    /// not), and counts the messages arriving below.
    pub(super) fn push(&mut self, entry: Entry) {
        if self.scroll != Scroll::Bottom && entry.is_post() {
            self.new_below += 1;
        }
        self.entries.push(entry);
    }

    pub(super) fn notice(&mut self, ts: i64, text: String) {
        self.push(Entry::new(ts, EntryKind::Notice(text)));
    }

    pub(super) fn set_scroll(&mut self, scroll: Scroll) {
        self.scroll = scroll;
        if scroll == Scroll::Bottom {
            self.new_below = 0;
        }
    }

    /// You looked at the room.
    pub(super) fn seen(&mut self) {
        self.unread = 0;
        self.mentioned = false;
    }

    /// You went to another room: what arrives from now on is below the
    /// read marker.
    pub(super) fn left_view(&mut self) {
        self.read_marker = Some(self.entries.end_key());
    }

    /// The index of the entry the read marker is drawn above: only while
    /// a message or location arrived after it.
    pub fn read_marker_at(&self) -> Option<usize> {
        let key = self.read_marker?;
        let at = self.entries.slot(key);
        let news = self.entries.iter().skip(at).any(|e| e.is_post());
        (self.entries.key(at) == key && news).then_some(at)
    }

    /// The server's welcome to the room: who is in it. The notice saying
    /// so waits until the join's history has been shown.
    pub(super) fn apply_room_state(&mut self, users: &[Member], topic: Option<&str>, me: &Me) {
        self.users = users.iter().map(|u| sanitize::one_line(&u.name)).collect();
        self.user_ids = users.iter().map(|u| u.id.clone()).collect();
        self.roles = (users.iter())
            .filter_map(|u| Some((u.id.clone(), u.role?)))
            .collect();
        self.topic = topic.map(sanitize::one_line).filter(|t| !t.is_empty());
        self.joined = true;
        if let Some(peer) = &mut self.peer {
            // A name the server does not know right now (empty) does not
            // replace the one shown.
            if let Some(them) = users
                .iter()
                .find(|u| u.id == peer.id && !u.name.trim().is_empty())
            {
                peer.name = sanitize::one_line(&them.name);
            }
            for (name, id) in self.users.iter_mut().zip(&self.user_ids) {
                if name.trim().is_empty() {
                    *name = if *id == peer.id {
                        peer.name.clone()
                    } else {
                        me.name.clone()
                    };
                }
            }
            self.join_notice = Some(format!("your conversation with {}", peer.name));
            self.was_joined = true;
            self.tentative = false;
            return;
        }
        let others = users.iter().filter(|u| !me.is(&u.id, &u.name)).count();
        let verb = if self.was_joined {
            "rejoined"
        } else {
            "you joined"
        };
        let who = if others == 0 {
            "nobody else".to_string()
        } else {
            plural(others, "other person", "other people")
        };
        self.join_notice = Some(format!("{verb} #{} ({who} here)", self.name));
        self.was_joined = true;
        self.tentative = false;
    }

    /// An identity's first connection entered the room.
    pub(super) fn user_joined(&mut self, id: &str, name: &str, role: Option<Role>, ts: i64) {
        let name = sanitize::one_line(name);
        match role {
            Some(role) => self.roles.insert(id.to_string(), role),
            None => self.roles.remove(id),
        };
        match self.user_ids.iter().position(|u| u == id) {
            // Known already: at most a new name (renamed meanwhile).
            Some(i) => self.users[i].clone_from(&name),
            None => {
                self.users.push(name.clone());
                self.user_ids.push(id.to_string());
            }
        }
        let text = format!("{name} joined #{}", self.name);
        self.push(Entry::new(ts, EntryKind::Joined(text)));
    }

    /// An identity's last connection left the room.
    pub(super) fn user_left(&mut self, id: &str, name: &str, ts: i64) {
        let name = sanitize::one_line(name);
        if let Some(i) = self.user_ids.iter().position(|u| u == id) {
            self.users.remove(i);
            self.user_ids.remove(i);
        }
        self.speakers.retain(|u| !u.eq_ignore_ascii_case(&name));
        let text = format!("{name} left #{}", self.name);
        self.push(Entry::new(ts, EntryKind::Left(text)));
    }

    /// Whether a message calls for you: it names you, or it is written to
    /// you alone (in a conversation).
    fn mentions_you(&self, msg: &Stored) -> bool {
        msg.mention() || (self.is_dm() && !msg.own && msg.entry.is_post())
    }

    /// An identity changed its name: its entry in the user list, and a
    /// line saying so where it appears. False when it does not appear.
    pub(super) fn renamed(&mut self, id: &str, old: &str, name: &str, ts: i64, me: &Me) -> bool {
        let name = sanitize::one_line(name);
        let old = sanitize::one_line(old);
        let mut here = false;
        if let Some(i) = self.user_ids.iter().position(|u| u == id) {
            self.users[i].clone_from(&name);
            here = true;
        }
        if let Some(peer) = self.peer.as_mut().filter(|p| p.id == id) {
            peer.name.clone_from(&name);
            here = true;
        }
        if !here {
            return false;
        }
        for s in &mut self.speakers {
            if *s == old {
                s.clone_from(&name);
            }
        }
        let text = if me.id == id {
            format!("you are now known as {name}")
        } else {
            format!("{old} is now known as {name}")
        };
        self.push(Entry::new(ts, EntryKind::Notice(text)));
        true
    }

    /// The server's store was reset: the old numbers mean nothing.
    pub(super) fn forget_numbers(&mut self) {
        self.last_seq = None;
        self.first_seq = None;
        self.more_before = false;
    }

    /// A live message or location. `current`: the room is on screen, so
    /// it is read as it arrives.
    pub(super) fn apply_message(&mut self, msg: Stored, now: i64, current: bool) -> Applied {
        if let Some(last) = self.last_seq
            && msg.seq > last + 1
        {
            let missed = (msg.seq - last - 1) as usize;
            let were = plural(missed, "message was", "messages were");
            self.notice(now, format!("{were} missed while disconnected"));
        }
        self.last_seq = Some(msg.seq);
        self.first_seq.get_or_insert(msg.seq);
        if msg.own && self.settle_own(&msg.id, &msg.entry) {
            return Applied::Settled { id: msg.id };
        }
        if let Some(topic) = &msg.topic {
            self.topic = Some(topic.clone()).filter(|t| !t.is_empty());
        }
        let mention = self.mentions_you(&msg);
        if !msg.own
            && let Some(from) = msg.sender().map(str::to_string)
        {
            self.speakers.retain(|s| *s != from);
            self.speakers.insert(0, from);
            self.speakers.truncate(SPEAKERS);
        }
        let post = msg.entry.is_post();
        self.push(msg.entry);
        if post && !msg.own && !current {
            self.unread += 1;
            self.mentioned |= mention;
        }
        Applied::Shown {
            own: msg.own,
            mention,
        }
    }

    /// The history that follows a join: the latest messages, or what was
    /// missed since the last one seen. Returns the ids of your own lines
    /// it settled.
    pub(super) fn apply_history(
        &mut self,
        stored: Vec<Stored>,
        more: bool,
        missed: u64,
        now: i64,
        current: bool,
    ) -> Vec<String> {
        let resumed = self.last_seq.is_some();
        if missed > 0 {
            let messages = plural(missed as usize, "message", "messages");
            self.notice(now, format!("{messages} not shown (too many to replay)"));
        } else if let (Some(last), Some(first_new)) = (
            self.last_seq,
            stored
                .iter()
                .map(|m| m.seq)
                .find(|&s| self.last_seq < Some(s)),
        ) && first_new > last + 1
        {
            // A fresh page after a resume that could not be taken.
            let messages = plural((first_new - last - 1) as usize, "message", "messages");
            self.notice(now, format!("{messages} not shown"));
        }
        let mut settled = Vec::new();
        let mut shown = None;
        for msg in stored {
            if self.last_seq.is_some_and(|last| msg.seq <= last) {
                continue; // already shown
            }
            self.last_seq = Some(msg.seq);
            if self.first_seq.is_none() {
                self.first_seq = Some(msg.seq);
                self.more_before = more;
            }
            shown = Some(msg.entry.ts);
            // Yours, sent while its ack was lost: it is the pending entry.
            if msg.own && self.settle_own(&msg.id, &msg.entry) {
                settled.push(msg.id);
                continue;
            }
            // What was missed while away is new to you; a fresh join's
            // backlog is not.
            if resumed && !msg.own && !current && msg.entry.is_post() {
                self.unread += 1;
                self.mentioned |= self.mentions_you(&msg);
            }
            self.push(msg.entry);
        }
        if self.first_seq.is_none() {
            self.more_before = more;
        }
        // A fresh join's backlog is set apart from what happens from now on.
        if let Some(ts) = shown
            && !resumed
        {
            self.push(Entry::new(ts, EntryKind::Rule(HISTORY_RULE.into())));
        }
        if let Some(text) = self.join_notice.take() {
            self.notice(now, text);
        }
        settled
    }

    /// A page of older messages, asked for by scrolling up, put in front.
    pub(super) fn prepend_older(&mut self, stored: Vec<Stored>, more: bool) {
        let first = self.first_seq;
        let older: Vec<Stored> = stored
            .into_iter()
            .filter(|m| first.is_none_or(|f| m.seq < f))
            .collect();
        if let Some(m) = older.first() {
            self.first_seq = Some(m.seq);
        }
        self.entries
            .prepend(older.into_iter().map(|m| m.entry).collect());
        self.more_before = more;
    }

    /// The join was acknowledged without a history (an older server): the
    /// join notice waits no longer.
    pub(super) fn show_join_notice(&mut self) {
        if let Some(text) = self.join_notice.take() {
            let ts = self.entries.back().map_or(0, |e| e.ts);
            self.notice(ts, text);
        }
    }

    /// Your message came back from the server: the pending entry becomes
    /// the stored one, in place, and nothing is shown twice. False when
    /// there is no such entry.
    fn settle_own(&mut self, id: &str, stored: &Entry) -> bool {
        let Some(entry) = self.entries.own_mut(id) else {
            return false;
        };
        entry.ts = stored.ts;
        entry.kind = stored.kind.clone();
        entry.delivery = Delivery::Done;
        true
    }

    /// Sets the mark of your message `id`.
    pub(super) fn set_delivery(&mut self, id: &str, delivery: Delivery) {
        if let Some(entry) = self.entries.own_mut(id) {
            entry.delivery = delivery;
        }
    }
}

//! What keys do: editing and sending the input line, Tab completion,
//! moving between rooms and scrolling.

use super::{Action, App, Edit, Effect, Now};
use crate::commands::{self, Input};
use crate::complete;

impl App {
    pub(super) fn on_action(&mut self, action: Action, now: Now, fx: &mut Vec<Effect>) {
        if action != Action::Complete {
            self.completer.reset();
        }
        // A notice lasts while the line is edited (it may explain what to
        // fix), and goes with anything else you do.
        if !matches!(
            action,
            Action::Edit(_)
                | Action::Complete
                | Action::HistoryPrev
                | Action::HistoryNext
                | Action::Quit
        ) {
            self.notice = None;
        }
        match action {
            Action::Edit(edit) => self.editor.apply(edit),
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
            Action::PageUp => self.page_up(),
            Action::PageDown => self.page_down(),
            Action::ScrollBottom => self.scroll_to_bottom(),
            Action::EndAndBottom => {
                self.editor.apply(Edit::End);
                self.scroll_to_bottom();
            }
            Action::ToggleUsers => self.show_users = Some(!self.users_wanted()),
            Action::Redraw => fx.push(Effect::Redraw),
            Action::Quit => self.quit(fx),
        }
    }

    pub(super) fn quit(&mut self, fx: &mut Vec<Effect>) {
        self.quitting = true;
        fx.push(Effect::Quit);
    }

    pub(super) fn switch_to(&mut self, index: usize) {
        if index != self.current {
            // A PgUp was meant for the room left.
            self.older_wanted = false;
            if let Some(left) = self.rooms.get_mut(self.current) {
                left.left_view();
            }
        }
        self.current = index;
        if let Some(room) = self.rooms.get_mut(index) {
            room.seen();
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

    fn complete(&mut self) {
        // Your rooms, then every room of the last /list.
        let mut room_names: Vec<String> = self
            .rooms
            .iter()
            .filter(|r| !r.is_dm())
            .map(|r| r.name.clone())
            .collect();
        for r in &self.directory {
            if !room_names.contains(r) {
                room_names.push(r.clone());
            }
        }
        let mut nicks: Vec<String> = match self.current_room() {
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
        // Then everyone else you know of (for /msg, /query, /whois).
        for room in &self.rooms {
            let peer = room.peer.iter().map(|p| &p.name);
            for name in room.users.iter().chain(peer) {
                if !nicks.contains(name) {
                    nicks.push(name.clone());
                }
            }
        }
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

    fn submit(&mut self, now: Now, fx: &mut Vec<Effect>) {
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
}

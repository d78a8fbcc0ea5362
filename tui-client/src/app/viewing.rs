//! The current room's view: the paging keys, and what the renderer
//! reports it showed after each draw.
//!
//! A page moves the view by rows from where the last draw left it, no
//! further than the rows that draw saw beyond the pane; the draw after it
//! clamps whatever is left to the room and reports the view back (see
//! [`super::scroll`]). That report, not a guess from counting entries, is
//! what decides to ask the server for older messages: only once the
//! oldest one held is really on screen, and only after PgUp.

use super::scroll::{Scroll, Shown};
use super::{App, Effect};

impl App {
    /// Scrolls up a page; older messages are asked for after the draw if
    /// it shows the oldest one held.
    pub(super) fn page_up(&mut self) {
        let pane = self.message_pane_rows();
        let beyond = self.beyond;
        let Some(room) = self.current_room_mut() else {
            return;
        };
        let (scroll, beyond) = room.scroll.page_up(&room.entries, beyond, pane);
        room.set_scroll(scroll);
        self.beyond = beyond;
        self.older_wanted = true;
    }

    pub(super) fn page_down(&mut self) {
        let pane = self.message_pane_rows();
        let beyond = self.beyond;
        if let Some(room) = self.current_room_mut() {
            let (scroll, beyond) = room.scroll.page_down(beyond, pane);
            room.set_scroll(scroll);
            self.beyond = beyond;
        }
    }

    pub(super) fn scroll_to_bottom(&mut self) {
        if let Some(room) = self.current_room_mut() {
            room.set_scroll(Scroll::Bottom);
        }
    }

    /// What the last draw showed: the view is kept as it was shown (in
    /// range, and following once the newest row is on screen), with the
    /// rows beyond it for the next page. A report about another room or
    /// view than the current one is ignored.
    pub(super) fn on_shown(&mut self, shown: Shown, fx: &mut Vec<Effect>) {
        let older_wanted = std::mem::take(&mut self.older_wanted);
        let Some(room) = self.current_room_mut() else {
            return;
        };
        if room.name != shown.room || room.scroll != shown.drawn {
            return;
        }
        room.set_scroll(shown.scroll());
        self.beyond = shown.beyond;
        if older_wanted && shown.beyond.shows_oldest() {
            self.fetch_older(fx);
        }
    }

    /// Older messages of the current room are on their way: asked for, or
    /// about to be (PgUp was pressed and they can be asked for, which the
    /// report of a draw showing the oldest message held does).
    pub fn loading_older(&self) -> bool {
        let Some(room) = self.current_room() else {
            return false;
        };
        self.history_pending(&room.name) || (self.older_wanted && self.older_request().is_some())
    }
}

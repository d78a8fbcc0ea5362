//! What the app says about the screen around the message pane: the
//! input area (its prompt, and its rows as it grows with the message) and
//! whether the user list is wanted.

use super::{App, INPUT_MAX_ROWS, USERS_FROM_WIDTH};

impl App {
    /// Whether the user list is asked for: by F2, or else by the
    /// terminal's width.
    pub fn users_wanted(&self) -> bool {
        self.show_users.unwrap_or(self.screen.0 >= USERS_FROM_WIDTH)
    }

    /// What starts the input line: the room (or conversation) your lines
    /// go to.
    pub fn prompt(&self) -> String {
        match self.current_room() {
            Some(r) => format!("[{}] ", truncate(r.label(), 16)),
            None => "> ".to_string(),
        }
    }

    /// The input line's text in rows on a screen `width` columns wide,
    /// after the prompt.
    pub fn input_rows(&self, width: u16) -> crate::editor::Rows {
        let prompt = unicode_width::UnicodeWidthStr::width(self.prompt().as_str());
        let text_w = usize::from(width).saturating_sub(prompt).max(2);
        // One column stays free for the cursor after the last character.
        self.editor.rows(text_w - 1)
    }

    /// Rows of the input area on a screen `width` columns wide.
    pub fn input_height(&self, width: u16) -> usize {
        self.input_rows(width).rows.len().clamp(1, INPUT_MAX_ROWS)
    }
}

/// `s` cut to `width` columns, with `…` where it was cut.
pub fn truncate(s: &str, width: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if out.width() + 2 > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

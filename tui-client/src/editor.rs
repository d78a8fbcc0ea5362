//! The input line: readline-style editing and the history of sent lines.
//!
//! Cursor movement and deletion work on grapheme clusters (by way of the
//! `tui-input` crate), so `é`, `日` and `👩‍👩‍👧` each move and delete as one
//! character, and the cursor column accounts for double-width characters.

use tui_input::{Input, InputRequest};

use crate::app::action::Edit;

/// Most lines kept for Up/Down recall.
const HISTORY_LIMIT: usize = 200;

#[derive(Debug, Default)]
pub struct Editor {
    input: Input,
    history: Vec<String>,
    /// Position while browsing the history; `None` when editing a new line.
    browsing: Option<usize>,
    /// What was typed before Up was first pressed, restored by Down.
    draft: String,
}

impl Editor {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn text(&self) -> &str {
        self.input.value()
    }

    /// Cursor position in characters (Unicode scalar values).
    pub fn cursor(&self) -> usize {
        self.input.cursor()
    }

    /// Cursor position in display columns.
    pub fn cursor_column(&self) -> usize {
        self.input.visual_cursor()
    }

    /// First display column to show so the cursor fits in `width` columns.
    pub fn scroll_for(&self, width: usize) -> usize {
        self.input.visual_scroll(width)
    }

    /// Replaces the whole line, cursor at `cursor` (characters).
    pub fn set(&mut self, text: String, cursor: usize) {
        self.input = std::mem::take(&mut self.input)
            .with_value(text)
            .with_cursor(cursor);
    }

    pub fn apply(&mut self, edit: Edit) {
        let request = match edit {
            Edit::Insert(c) => InputRequest::InsertChar(c),
            Edit::Left => InputRequest::GoToPrevChar,
            Edit::Right => InputRequest::GoToNextChar,
            Edit::WordLeft => InputRequest::GoToPrevWord,
            Edit::WordRight => InputRequest::GoToNextWord,
            Edit::Home => InputRequest::GoToStart,
            Edit::End => InputRequest::GoToEnd,
            Edit::Backspace => InputRequest::DeletePrevChar,
            Edit::Delete => InputRequest::DeleteNextChar,
            Edit::DeleteWordBack => InputRequest::DeletePrevWord,
            Edit::DeleteWordForward => InputRequest::DeleteNextWord,
            Edit::DeleteToStart => InputRequest::DeleteFromStart,
            Edit::DeleteToEnd => InputRequest::DeleteTillEnd,
            Edit::Yank => InputRequest::Yank,
        };
        self.input.handle(request);
    }

    /// Inserts pasted text at the cursor; line breaks become spaces.
    pub fn insert_str(&mut self, text: &str) {
        for c in text.chars() {
            let c = if c == '\n' || c == '\r' || c == '\t' {
                ' '
            } else {
                c
            };
            if !c.is_control() {
                self.input.handle(InputRequest::InsertChar(c));
            }
        }
    }

    /// Takes the line out (for sending) and remembers it in the history.
    pub fn take_line(&mut self) -> String {
        let line = self.input.value_and_reset();
        self.browsing = None;
        self.draft.clear();
        if !line.trim().is_empty() && self.history.last() != Some(&line) {
            self.history.push(line.clone());
            if self.history.len() > HISTORY_LIMIT {
                self.history.remove(0);
            }
        }
        line
    }

    /// Up: the previous sent line.
    pub fn history_prev(&mut self) {
        let next = match self.browsing {
            None if self.history.is_empty() => return,
            None => {
                self.draft = self.text().to_string();
                self.history.len() - 1
            }
            Some(0) => return,
            Some(i) => i - 1,
        };
        self.browsing = Some(next);
        let line = self.history[next].clone();
        let len = line.chars().count();
        self.set(line, len);
    }

    /// Down: the next sent line, and after the newest, what was being typed.
    pub fn history_next(&mut self) {
        let Some(i) = self.browsing else { return };
        let line = if i + 1 < self.history.len() {
            self.browsing = Some(i + 1);
            self.history[i + 1].clone()
        } else {
            self.browsing = None;
            std::mem::take(&mut self.draft)
        };
        let len = line.chars().count();
        self.set(line, len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(s: &str) -> Editor {
        let mut e = Editor::new();
        e.insert_str(s);
        e
    }

    #[test]
    fn insert_and_move_over_multibyte_text() {
        let mut e = typed("héllo 日本");
        assert_eq!(e.cursor(), 8);
        // "日本" is 4 columns wide.
        assert_eq!(e.cursor_column(), 10);
        e.apply(Edit::Left);
        e.apply(Edit::Backspace);
        assert_eq!(e.text(), "héllo 本");
        e.apply(Edit::Home);
        e.apply(Edit::Right);
        e.apply(Edit::Delete);
        assert_eq!(e.text(), "hllo 本");
        e.apply(Edit::End);
        e.apply(Edit::Insert('!'));
        assert_eq!(e.text(), "hllo 本!");
    }

    #[test]
    fn emoji_sequences_are_one_character() {
        let mut e = typed("hi 👩‍👩‍👧");
        e.apply(Edit::Backspace);
        assert_eq!(e.text(), "hi ");
    }

    #[test]
    fn readline_word_and_line_kills() {
        let mut e = typed("one two three");
        e.apply(Edit::DeleteWordBack);
        assert_eq!(e.text(), "one two ");
        e.apply(Edit::WordLeft);
        assert_eq!(e.cursor(), 4);
        e.apply(Edit::DeleteToEnd);
        assert_eq!(e.text(), "one ");
        e.apply(Edit::Yank);
        assert_eq!(e.text(), "one two ");
        e.apply(Edit::WordLeft);
        e.apply(Edit::DeleteToStart);
        assert_eq!(e.text(), "two ");
        assert_eq!(e.cursor(), 0);
        e.apply(Edit::WordRight);
        assert!(e.cursor() >= 3, "{}", e.cursor());
    }

    #[test]
    fn ctrl_a_and_e() {
        let mut e = typed("日本語");
        e.apply(Edit::Home);
        assert_eq!((e.cursor(), e.cursor_column()), (0, 0));
        e.apply(Edit::End);
        assert_eq!((e.cursor(), e.cursor_column()), (3, 6));
    }

    #[test]
    fn history_recalls_and_restores_the_draft() {
        let mut e = Editor::new();
        for line in ["first", "second"] {
            e.insert_str(line);
            assert_eq!(e.take_line(), line);
        }
        e.insert_str("draft");
        e.history_prev();
        assert_eq!(e.text(), "second");
        e.history_prev();
        assert_eq!(e.text(), "first");
        e.history_prev();
        assert_eq!(e.text(), "first");
        e.history_next();
        assert_eq!(e.text(), "second");
        e.history_next();
        assert_eq!(e.text(), "draft");
        e.history_next();
        assert_eq!(e.text(), "draft");
    }

    #[test]
    fn paste_flattens_line_breaks_and_drops_controls() {
        let e = typed("a\nb\u{1b}c");
        assert_eq!(e.text(), "a bc");
    }
}

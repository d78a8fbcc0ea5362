//! The input line: readline-style editing and the history of sent lines.
//!
//! Cursor movement and deletion work on grapheme clusters (by way of the
//! `tui-input` crate), so `é`, `日` and `👩‍👩‍👧` each move and delete as one
//! character, and the cursor column accounts for double-width characters.
//!
//! A message may have several lines: a paste keeps its line breaks and
//! Alt-Enter inserts one. [`Editor::rows`] lays the text out in rows of a
//! given width, so the input area can grow with it.

use tui_input::{Input, InputRequest};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::app::action::Edit;

/// Most lines kept for Up/Down recall.
const HISTORY_LIMIT: usize = 200;

/// The text laid out in rows of a width: line breaks start a row, and so
/// does a grapheme that would not fit on the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    pub rows: Vec<String>,
    /// The cursor's row and display column.
    pub cursor: (usize, usize),
}

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
            Edit::Newline => InputRequest::InsertChar('\n'),
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

    /// Inserts pasted text at the cursor. Line breaks stay (`\r\n` and
    /// `\r` become `\n`), except at the very end of the paste, where they
    /// would only add empty lines; tabs become spaces; other control
    /// characters are dropped.
    pub fn insert_str(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        for c in text.trim_end_matches('\n').chars() {
            let c = if c == '\t' { ' ' } else { c };
            if c == '\n' || !c.is_control() {
                self.input.handle(InputRequest::InsertChar(c));
            }
        }
    }

    /// The text in rows of `width` columns, and where the cursor is. A
    /// cursor at the end of a full row goes to the start of the next.
    pub fn rows(&self, width: usize) -> Rows {
        let width = width.max(1);
        let mut rows = vec![String::new()];
        let mut col = 0;
        let mut chars = 0;
        let mut cursor = None;
        for g in self.text().graphemes(true) {
            if chars >= self.cursor() && cursor.is_none() {
                cursor = Some((rows.len() - 1, col));
            }
            chars += g.chars().count();
            if g == "\n" {
                rows.push(String::new());
                col = 0;
                continue;
            }
            let w = g.width();
            if col + w > width && col > 0 {
                rows.push(String::new());
                col = 0;
            }
            if let Some(row) = rows.last_mut() {
                row.push_str(g);
            }
            col += w;
        }
        let cursor = match cursor {
            Some(at) => at,
            None if col >= width => {
                rows.push(String::new());
                (rows.len() - 1, 0)
            }
            None => (rows.len() - 1, col),
        };
        Rows { rows, cursor }
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
    fn paste_keeps_line_breaks_and_drops_controls() {
        let e = typed("a\r\nb\u{1b}c\rd\te\n\n");
        assert_eq!(e.text(), "a\nbc\nd e");
    }

    #[test]
    fn rows_break_at_line_breaks_and_at_the_width() {
        let mut e = typed("one\ntwo three");
        assert_eq!(
            e.rows(5),
            Rows {
                rows: vec!["one".into(), "two t".into(), "hree".into()],
                cursor: (2, 4),
            }
        );
        e.apply(Edit::Home);
        assert_eq!(e.rows(5).cursor, (0, 0));
        // Right after the line break: the start of the second row.
        for _ in 0..4 {
            e.apply(Edit::Right);
        }
        assert_eq!(e.rows(5).cursor, (1, 0));
        // At the end of a full row the cursor starts the next one.
        let full = typed("abcde");
        assert_eq!(full.rows(5).rows, vec!["abcde", ""]);
        assert_eq!(full.rows(5).cursor, (1, 0));
        // Double-width characters never straddle a row.
        assert_eq!(typed("ab日本").rows(3).rows, vec!["ab", "日", "本"]);
    }

    #[test]
    fn alt_enter_inserts_a_line_break() {
        let mut e = typed("first");
        e.apply(Edit::Newline);
        e.insert_str("second");
        assert_eq!(e.text(), "first\nsecond");
        assert_eq!(e.rows(20).rows, vec!["first", "second"]);
    }
}

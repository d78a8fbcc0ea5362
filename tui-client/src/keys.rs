//! The key map: which key does what.
//!
//! Terminal key events are turned into [`Action`]s here and nowhere else,
//! so the whole keyboard interface is this one table (and its tests). The
//! habits are those of weechat and irssi with readline editing.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// A change to the input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    Left,
    Right,
    WordLeft,
    WordRight,
    Home,
    End,
    Backspace,
    Delete,
    /// Ctrl-W: delete the word before the cursor.
    DeleteWordBack,
    /// Alt-D: delete the word after the cursor.
    DeleteWordForward,
    /// Ctrl-U: delete from the start of the line to the cursor.
    DeleteToStart,
    /// Ctrl-K: delete from the cursor to the end of the line.
    DeleteToEnd,
    /// Ctrl-Y: paste what the last Ctrl-W/U/K deleted.
    Yank,
}

/// Everything a key can ask the client to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Edit(Edit),
    Submit,
    HistoryPrev,
    HistoryNext,
    Complete,
    /// Alt-1..9, Alt-0: jump to room N (0-based index).
    GoToRoom(usize),
    NextRoom,
    PrevRoom,
    /// Alt-A: the next room with activity, rooms with mentions first.
    NextActive,
    PageUp,
    PageDown,
    /// Back to the newest message.
    ScrollBottom,
    /// End: the cursor to the end of the line and the pane to the bottom.
    EndAndBottom,
    ToggleUsers,
    Redraw,
    Quit,
}

/// Maps one key event to an action; `None` for keys that do nothing.
pub fn map(key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    use Action::*;
    let action = match key.code {
        KeyCode::Char(c) if ctrl && !alt => match c.to_ascii_lowercase() {
            'a' => Edit(self::Edit::Home),
            'e' => Edit(self::Edit::End),
            'b' => Edit(self::Edit::Left),
            'f' => Edit(self::Edit::Right),
            'w' => Edit(self::Edit::DeleteWordBack),
            'h' => Edit(self::Edit::Backspace),
            'u' => Edit(self::Edit::DeleteToStart),
            'k' => Edit(self::Edit::DeleteToEnd),
            'y' => Edit(self::Edit::Yank),
            'd' => Edit(self::Edit::Delete),
            'n' => NextRoom,
            'p' => PrevRoom,
            'l' => Redraw,
            'c' => Quit,
            _ => return None,
        },
        KeyCode::Char(c) if alt && !ctrl => match c {
            '1'..='9' => GoToRoom(c as usize - '1' as usize),
            '0' => GoToRoom(9),
            'b' | 'B' => Edit(self::Edit::WordLeft),
            'f' | 'F' => Edit(self::Edit::WordRight),
            'd' | 'D' => Edit(self::Edit::DeleteWordForward),
            'a' | 'A' => NextActive,
            'u' | 'U' => ToggleUsers,
            _ => return None,
        },
        // AltGr arrives as Ctrl+Alt on some systems: treat it as typing.
        KeyCode::Char(c) => Edit(self::Edit::Insert(c)),
        KeyCode::Enter => Submit,
        KeyCode::Tab => Complete,
        KeyCode::Backspace if alt || ctrl => Edit(self::Edit::DeleteWordBack),
        KeyCode::Backspace => Edit(self::Edit::Backspace),
        KeyCode::Delete => Edit(self::Edit::Delete),
        KeyCode::Left if ctrl || alt => Edit(self::Edit::WordLeft),
        KeyCode::Right if ctrl || alt => Edit(self::Edit::WordRight),
        KeyCode::Left => Edit(self::Edit::Left),
        KeyCode::Right => Edit(self::Edit::Right),
        KeyCode::Home => Edit(self::Edit::Home),
        KeyCode::End if ctrl || alt => ScrollBottom,
        KeyCode::End => EndAndBottom,
        KeyCode::Up if alt => PrevRoom,
        KeyCode::Down if alt => NextRoom,
        KeyCode::Up => HistoryPrev,
        KeyCode::Down => HistoryNext,
        KeyCode::PageUp => PageUp,
        KeyCode::PageDown => PageDown,
        KeyCode::F(2) => ToggleUsers,
        _ => return None,
    };
    Some(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<Action> {
        map(KeyEvent::new(code, modifiers))
    }
    fn ctrl(c: char) -> Option<Action> {
        key(KeyCode::Char(c), KeyModifiers::CONTROL)
    }
    fn alt(c: char) -> Option<Action> {
        key(KeyCode::Char(c), KeyModifiers::ALT)
    }
    fn plain(code: KeyCode) -> Option<Action> {
        key(code, KeyModifiers::NONE)
    }

    #[test]
    fn typing_inserts_including_multibyte_and_shifted() {
        assert_eq!(
            plain(KeyCode::Char('é')),
            Some(Action::Edit(Edit::Insert('é')))
        );
        assert_eq!(
            plain(KeyCode::Char('日')),
            Some(Action::Edit(Edit::Insert('日')))
        );
        assert_eq!(
            key(KeyCode::Char('A'), KeyModifiers::SHIFT),
            Some(Action::Edit(Edit::Insert('A')))
        );
    }

    #[test]
    fn readline_keys() {
        assert_eq!(ctrl('a'), Some(Action::Edit(Edit::Home)));
        assert_eq!(ctrl('e'), Some(Action::Edit(Edit::End)));
        assert_eq!(ctrl('b'), Some(Action::Edit(Edit::Left)));
        assert_eq!(ctrl('f'), Some(Action::Edit(Edit::Right)));
        assert_eq!(alt('b'), Some(Action::Edit(Edit::WordLeft)));
        assert_eq!(alt('f'), Some(Action::Edit(Edit::WordRight)));
        assert_eq!(ctrl('w'), Some(Action::Edit(Edit::DeleteWordBack)));
        assert_eq!(ctrl('u'), Some(Action::Edit(Edit::DeleteToStart)));
        assert_eq!(ctrl('k'), Some(Action::Edit(Edit::DeleteToEnd)));
        assert_eq!(ctrl('y'), Some(Action::Edit(Edit::Yank)));
        assert_eq!(
            plain(KeyCode::Backspace),
            Some(Action::Edit(Edit::Backspace))
        );
        assert_eq!(plain(KeyCode::Delete), Some(Action::Edit(Edit::Delete)));
        assert_eq!(plain(KeyCode::Home), Some(Action::Edit(Edit::Home)));
        assert_eq!(plain(KeyCode::End), Some(Action::EndAndBottom));
        assert_eq!(plain(KeyCode::Left), Some(Action::Edit(Edit::Left)));
        assert_eq!(plain(KeyCode::Right), Some(Action::Edit(Edit::Right)));
    }

    #[test]
    fn room_keys() {
        assert_eq!(alt('1'), Some(Action::GoToRoom(0)));
        assert_eq!(alt('2'), Some(Action::GoToRoom(1)));
        assert_eq!(alt('9'), Some(Action::GoToRoom(8)));
        assert_eq!(alt('0'), Some(Action::GoToRoom(9)));
        assert_eq!(ctrl('n'), Some(Action::NextRoom));
        assert_eq!(ctrl('p'), Some(Action::PrevRoom));
        assert_eq!(alt('a'), Some(Action::NextActive));
    }

    #[test]
    fn pane_and_app_keys() {
        assert_eq!(plain(KeyCode::Enter), Some(Action::Submit));
        assert_eq!(plain(KeyCode::Tab), Some(Action::Complete));
        assert_eq!(plain(KeyCode::Up), Some(Action::HistoryPrev));
        assert_eq!(plain(KeyCode::Down), Some(Action::HistoryNext));
        assert_eq!(plain(KeyCode::PageUp), Some(Action::PageUp));
        assert_eq!(plain(KeyCode::PageDown), Some(Action::PageDown));
        assert_eq!(
            key(KeyCode::End, KeyModifiers::CONTROL),
            Some(Action::ScrollBottom)
        );
        assert_eq!(plain(KeyCode::F(2)), Some(Action::ToggleUsers));
        assert_eq!(alt('u'), Some(Action::ToggleUsers));
        assert_eq!(ctrl('l'), Some(Action::Redraw));
        assert_eq!(ctrl('c'), Some(Action::Quit));
        assert_eq!(ctrl('C'), Some(Action::Quit));
    }

    #[test]
    fn releases_and_unbound_keys_do_nothing() {
        let mut release = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(map(release), None);
        assert_eq!(plain(KeyCode::F(12)), None);
        assert_eq!(ctrl('q'), None);
        assert_eq!(alt('z'), None);
    }
}

//! What a person can ask of the client, whatever device the request came
//! from. The terminal's key map ([`crate::keymap`]) turns key presses into
//! these; the app core knows nothing about keys or terminals.

/// A change to the input line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Insert(char),
    /// A line break in the message (Alt-Enter).
    Newline,
    Left,
    Right,
    WordLeft,
    WordRight,
    Home,
    End,
    Backspace,
    Delete,
    /// Delete the word before the cursor.
    DeleteWordBack,
    /// Delete the word after the cursor.
    DeleteWordForward,
    /// Delete from the start of the line to the cursor.
    DeleteToStart,
    /// Delete from the cursor to the end of the line.
    DeleteToEnd,
    /// Paste what the last word or line deletion removed.
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
    /// Jump to room N (0-based index).
    GoToRoom(usize),
    NextRoom,
    PrevRoom,
    /// The next room with activity, rooms with mentions first.
    NextActive,
    PageUp,
    PageDown,
    /// Back to the newest message.
    ScrollBottom,
    /// The cursor to the end of the line and the pane to the bottom.
    EndAndBottom,
    ToggleUsers,
    Redraw,
    Quit,
}

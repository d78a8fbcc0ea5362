//! The key map: which key does what, as one table.
//!
//! [`KEYMAP`] is the whole keyboard interface. [`map`] looks key presses up
//! in it, and `/help`, `chat-tui --help` and the key table in README.md are
//! rendered from it (see [`crate::help`]), so what the keys do and what the
//! documentation says cannot drift apart. The habits are those of weechat
//! and irssi with readline editing.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub use crate::app::action::{Action, Edit};

/// The modifier a chord needs. Shift never matters: it only changes which
/// character is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mods {
    /// With or without modifiers.
    Any,
    /// Ctrl held. On a character key: without Alt, since Ctrl+Alt is how
    /// AltGr arrives on some systems, and AltGr types.
    Ctrl,
    /// Alt held. On a character key: without Ctrl.
    Alt,
}

/// The key of a chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A letter, case-insensitive.
    Char(char),
    /// The digits 1..9 and 0, for rooms 1..10.
    Digits,
    Code(KeyCode),
}

/// A key with the modifier it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chord {
    pub mods: Mods,
    pub key: Key,
}

/// What a binding does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Does {
    Act(Action),
    /// Go to the room numbered by the digit pressed (0 is room 10).
    GoToRoomByDigit,
}

/// One action and the chords that ask for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    pub does: Does,
    /// Shown in the help, in this order.
    pub keys: &'static [Chord],
    /// Work as well, but are not worth a place in the help (the terminal
    /// sends Ctrl-H for Backspace; Alt-Left is an alias of Ctrl-Left).
    pub also: &'static [Chord],
}

/// One row of the help: bindings shown together ("start / end of the
/// line") and what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRow {
    pub bindings: &'static [Binding],
    pub what: &'static str,
}

const fn ctrl(c: char) -> Chord {
    Chord {
        mods: Mods::Ctrl,
        key: Key::Char(c),
    }
}

const fn alt(c: char) -> Chord {
    Chord {
        mods: Mods::Alt,
        key: Key::Char(c),
    }
}

const fn key(code: KeyCode) -> Chord {
    Chord {
        mods: Mods::Any,
        key: Key::Code(code),
    }
}

const fn ctrl_key(code: KeyCode) -> Chord {
    Chord {
        mods: Mods::Ctrl,
        key: Key::Code(code),
    }
}

const fn alt_key(code: KeyCode) -> Chord {
    Chord {
        mods: Mods::Alt,
        key: Key::Code(code),
    }
}

const fn act(action: Action, keys: &'static [Chord]) -> Binding {
    Binding {
        does: Does::Act(action),
        keys,
        also: &[],
    }
}

const fn edit(edit: Edit, keys: &'static [Chord]) -> Binding {
    act(Action::Edit(edit), keys)
}

const fn with_also(binding: Binding, also: &'static [Chord]) -> Binding {
    Binding { also, ..binding }
}

const fn row(what: &'static str, bindings: &'static [Binding]) -> KeyRow {
    KeyRow { bindings, what }
}

/// Every key binding, in the order the help lists them. Typing a
/// character inserts it; that is the one binding not in the table.
pub const KEYMAP: &[KeyRow] = &[
    row(
        "send the line",
        &[act(Action::Submit, &[key(KeyCode::Enter)])],
    ),
    row(
        "a new line in the message (a paste keeps its line breaks)",
        &[edit(Edit::Newline, &[alt_key(KeyCode::Enter), ctrl('j')])],
    ),
    row(
        "recall sent lines",
        &[
            act(Action::HistoryPrev, &[key(KeyCode::Up)]),
            act(Action::HistoryNext, &[key(KeyCode::Down)]),
        ],
    ),
    row(
        "complete a nick (`bob: ` at the start of the line), a command, or a room (after `/join`, `/leave` or `#`); again to cycle",
        &[act(Action::Complete, &[key(KeyCode::Tab)])],
    ),
    row(
        "start / end of the line",
        &[
            edit(Edit::Home, &[ctrl('a'), key(KeyCode::Home)]),
            edit(Edit::End, &[ctrl('e')]),
        ],
    ),
    row(
        "character left / right",
        &[
            edit(Edit::Left, &[ctrl('b'), key(KeyCode::Left)]),
            edit(Edit::Right, &[ctrl('f'), key(KeyCode::Right)]),
        ],
    ),
    row(
        "word left / right",
        &[
            with_also(
                edit(Edit::WordLeft, &[alt('b'), ctrl_key(KeyCode::Left)]),
                &[alt_key(KeyCode::Left)],
            ),
            with_also(
                edit(Edit::WordRight, &[alt('f'), ctrl_key(KeyCode::Right)]),
                &[alt_key(KeyCode::Right)],
            ),
        ],
    ),
    row(
        "delete before / under the cursor",
        &[
            with_also(
                edit(Edit::Backspace, &[key(KeyCode::Backspace)]),
                &[ctrl('h')],
            ),
            edit(Edit::Delete, &[key(KeyCode::Delete), ctrl('d')]),
        ],
    ),
    row(
        "delete the word before / after the cursor",
        &[
            with_also(
                edit(Edit::DeleteWordBack, &[ctrl('w')]),
                &[ctrl_key(KeyCode::Backspace), alt_key(KeyCode::Backspace)],
            ),
            edit(Edit::DeleteWordForward, &[alt('d')]),
        ],
    ),
    row(
        "delete to the start / end of the line",
        &[
            edit(Edit::DeleteToStart, &[ctrl('u')]),
            edit(Edit::DeleteToEnd, &[ctrl('k')]),
        ],
    ),
    row(
        "paste what Ctrl-W/U/K deleted",
        &[edit(Edit::Yank, &[ctrl('y')])],
    ),
    row(
        "go to room 1..9, 10",
        &[Binding {
            does: Does::GoToRoomByDigit,
            keys: &[Chord {
                mods: Mods::Alt,
                key: Key::Digits,
            }],
            also: &[],
        }],
    ),
    row(
        "next / previous room",
        &[
            act(Action::NextRoom, &[ctrl('n'), alt_key(KeyCode::Down)]),
            act(Action::PrevRoom, &[ctrl('p'), alt_key(KeyCode::Up)]),
        ],
    ),
    row(
        "next room with activity, rooms that mention you first",
        &[act(Action::NextActive, &[alt('a')])],
    ),
    row(
        "scroll the messages; PgUp at the top loads older messages from the server; new messages do not move the view while you are scrolled up, a marker counts them",
        &[
            act(Action::PageUp, &[key(KeyCode::PageUp)]),
            act(Action::PageDown, &[key(KeyCode::PageDown)]),
        ],
    ),
    row(
        "end of the line and back to the newest message / only back to the newest message",
        &[
            act(Action::EndAndBottom, &[key(KeyCode::End)]),
            with_also(
                act(Action::ScrollBottom, &[ctrl_key(KeyCode::End)]),
                &[alt_key(KeyCode::End)],
            ),
        ],
    ),
    row(
        "show / hide the user list",
        &[act(Action::ToggleUsers, &[key(KeyCode::F(2)), alt('u')])],
    ),
    row("redraw the screen", &[act(Action::Redraw, &[ctrl('l')])]),
    row("quit", &[act(Action::Quit, &[ctrl('c')])]),
];

/// Maps one key event to an action; `None` for keys that do nothing.
///
/// Chords that need a modifier win over those that take any, so Alt-Up is
/// "previous room" although Up alone recalls a line.
pub fn map(event: KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let bindings = || KEYMAP.iter().flat_map(|r| r.bindings.iter());
    let found = [true, false].into_iter().find_map(|needs_modifier| {
        bindings().find_map(|b| {
            b.keys
                .iter()
                .chain(b.also)
                .filter(|c| (c.mods != Mods::Any) == needs_modifier)
                .find_map(|c| chord_matches(*c, event).then(|| action(b.does, event)))
        })
    });
    if let Some(action) = found {
        return action;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let alt = event.modifiers.contains(KeyModifiers::ALT);
    match event.code {
        // Typing, also with AltGr (which may arrive as Ctrl+Alt).
        KeyCode::Char(c) if ctrl == alt => Some(Action::Edit(Edit::Insert(c))),
        _ => None,
    }
}

fn chord_matches(chord: Chord, event: KeyEvent) -> bool {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let alt = event.modifiers.contains(KeyModifiers::ALT);
    match (chord.key, event.code) {
        (Key::Char(want), KeyCode::Char(got)) => {
            want.eq_ignore_ascii_case(&got) && char_mods(chord.mods, ctrl, alt)
        }
        (Key::Digits, KeyCode::Char(got)) => {
            got.is_ascii_digit() && char_mods(chord.mods, ctrl, alt)
        }
        (Key::Code(want), got) => {
            want == got
                && match chord.mods {
                    Mods::Any => true,
                    Mods::Ctrl => ctrl,
                    Mods::Alt => alt,
                }
        }
        _ => false,
    }
}

/// Character keys: one modifier exactly (both is AltGr typing).
fn char_mods(mods: Mods, ctrl: bool, alt: bool) -> bool {
    match mods {
        Mods::Any => !ctrl && !alt,
        Mods::Ctrl => ctrl && !alt,
        Mods::Alt => alt && !ctrl,
    }
}

fn action(does: Does, event: KeyEvent) -> Option<Action> {
    match (does, event.code) {
        (Does::Act(action), _) => Some(action),
        (Does::GoToRoomByDigit, KeyCode::Char(d)) => {
            let n = d.to_digit(10)? as usize;
            Some(Action::GoToRoom(if n == 0 { 9 } else { n - 1 }))
        }
        (Does::GoToRoomByDigit, _) => None,
    }
}

impl Chord {
    /// How the help writes it: `Ctrl-A`, `Alt-Up`, `PgDn`, `F2`.
    pub fn label(self) -> String {
        let prefix = match self.mods {
            Mods::Any => "",
            Mods::Ctrl => "Ctrl-",
            Mods::Alt => "Alt-",
        };
        match self.key {
            Key::Char(c) => format!("{prefix}{}", c.to_ascii_uppercase()),
            Key::Digits => format!("{prefix}1 .. {prefix}9, {prefix}0"),
            Key::Code(code) => format!("{prefix}{}", code_name(code)),
        }
    }
}

/// Our own names, the same on every platform (crossterm's differ on macOS).
fn code_name(code: KeyCode) -> String {
    match code {
        KeyCode::Enter => "Enter".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::Delete => "Delete".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::F(n) => format!("F{n}"),
        other => other.to_string(),
    }
}

impl KeyRow {
    /// The keys of the row, paired up by binding: `Ctrl-B / Ctrl-F, Left /
    /// Right` for "character left / right".
    pub fn keys_label(&self) -> String {
        pairs(self.bindings.iter().map(|b| b.keys))
    }

    /// The aliases of the row, paired up the same way; empty without any.
    pub fn also_label(&self) -> String {
        pairs(self.bindings.iter().map(|b| b.also))
    }
}

/// Chord `i` of every binding joined by ` / `, then those groups by `, `.
fn pairs<'a>(chords: impl Iterator<Item = &'a [Chord]> + Clone) -> String {
    let widest = chords.clone().map(<[Chord]>::len).max().unwrap_or(0);
    (0..widest)
        .map(|i| {
            chords
                .clone()
                .filter_map(|c| c.get(i).map(|c| c.label()))
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;

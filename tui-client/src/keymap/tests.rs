//! Tests of the `keymap` module.

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
    assert_eq!(
        key(KeyCode::Enter, KeyModifiers::ALT),
        Some(Action::Edit(Edit::Newline))
    );
    assert_eq!(ctrl('j'), Some(Action::Edit(Edit::Newline)));
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
fn the_aliases_outside_the_help_still_work() {
    assert_eq!(ctrl('h'), Some(Action::Edit(Edit::Backspace)));
    assert_eq!(
        key(KeyCode::Left, KeyModifiers::ALT),
        Some(Action::Edit(Edit::WordLeft))
    );
    assert_eq!(
        key(KeyCode::Backspace, KeyModifiers::ALT),
        Some(Action::Edit(Edit::DeleteWordBack))
    );
    assert_eq!(
        key(KeyCode::Backspace, KeyModifiers::CONTROL),
        Some(Action::Edit(Edit::DeleteWordBack))
    );
    assert_eq!(
        key(KeyCode::End, KeyModifiers::ALT),
        Some(Action::ScrollBottom)
    );
    // Ctrl with an arrow that only has an Alt binding: the plain one.
    assert_eq!(
        key(KeyCode::Up, KeyModifiers::CONTROL),
        Some(Action::HistoryPrev)
    );
    assert_eq!(key(KeyCode::Up, KeyModifiers::ALT), Some(Action::PrevRoom));
    assert_eq!(
        key(KeyCode::Down, KeyModifiers::ALT),
        Some(Action::NextRoom)
    );
}

#[test]
fn altgr_types_and_shift_does_not_matter() {
    assert_eq!(
        key(
            KeyCode::Char('@'),
            KeyModifiers::CONTROL | KeyModifiers::ALT
        ),
        Some(Action::Edit(Edit::Insert('@')))
    );
    assert_eq!(
        key(KeyCode::Char('B'), KeyModifiers::ALT | KeyModifiers::SHIFT),
        Some(Action::Edit(Edit::WordLeft))
    );
}

/// Every chord of the table, with each modifier set it answers to.
fn events_for(chord: Chord) -> Vec<KeyEvent> {
    let mods = match chord.mods {
        Mods::Any => KeyModifiers::NONE,
        Mods::Ctrl => KeyModifiers::CONTROL,
        Mods::Alt => KeyModifiers::ALT,
    };
    match chord.key {
        Key::Char(c) => vec![KeyEvent::new(KeyCode::Char(c), mods)],
        Key::Digits => ('0'..='9')
            .map(|d| KeyEvent::new(KeyCode::Char(d), mods))
            .collect(),
        Key::Code(code) => vec![KeyEvent::new(code, mods)],
    }
}

#[test]
fn every_chord_in_the_table_does_what_its_row_says_and_no_chord_is_bound_twice() {
    let mut seen: Vec<KeyEvent> = Vec::new();
    for row in KEYMAP {
        for b in row.bindings {
            for chord in b.keys.iter().chain(b.also) {
                for ev in events_for(*chord) {
                    assert!(!seen.contains(&ev), "{ev:?} is bound twice");
                    seen.push(ev);
                    let got = map(ev);
                    match b.does {
                        Does::Act(a) => assert_eq!(got, Some(a), "{ev:?}"),
                        Does::GoToRoomByDigit => {
                            assert!(matches!(got, Some(Action::GoToRoom(_))), "{ev:?}")
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn every_action_has_a_key_in_the_help() {
    let shown: Vec<Does> = KEYMAP
        .iter()
        .flat_map(|r| r.bindings)
        .filter(|b| !b.keys.is_empty())
        .map(|b| b.does)
        .collect();
    let edits = [
        Edit::Left,
        Edit::Right,
        Edit::WordLeft,
        Edit::WordRight,
        Edit::Home,
        Edit::End,
        Edit::Backspace,
        Edit::Delete,
        Edit::DeleteWordBack,
        Edit::DeleteWordForward,
        Edit::DeleteToStart,
        Edit::DeleteToEnd,
        Edit::Yank,
    ];
    let actions = [
        Action::Submit,
        Action::HistoryPrev,
        Action::HistoryNext,
        Action::Complete,
        Action::NextRoom,
        Action::PrevRoom,
        Action::NextActive,
        Action::PageUp,
        Action::PageDown,
        Action::ScrollBottom,
        Action::EndAndBottom,
        Action::ToggleUsers,
        Action::Redraw,
        Action::Quit,
    ];
    for a in edits.map(Action::Edit).into_iter().chain(actions) {
        assert!(
            shown.contains(&Does::Act(a)),
            "{a:?} has no key in the help"
        );
    }
    assert!(shown.contains(&Does::GoToRoomByDigit));
}

#[test]
fn rows_label_their_keys_in_pairs() {
    let label = |what: &str| {
        KEYMAP
            .iter()
            .find(|r| r.what == what)
            .map(|r| r.keys_label())
            .unwrap_or_default()
    };
    assert_eq!(
        label("character left / right"),
        "Ctrl-B / Ctrl-F, Left / Right"
    );
    assert_eq!(label("start / end of the line"), "Ctrl-A / Ctrl-E, Home");
    assert_eq!(label("go to room 1..9, 10"), "Alt-1 .. Alt-9, Alt-0");
    assert_eq!(label("show / hide the user list"), "F2, Alt-U");
    assert_eq!(
        label("next / previous room"),
        "Ctrl-N / Ctrl-P, Alt-Down / Alt-Up"
    );
    let also = |what: &str| {
        KEYMAP
            .iter()
            .find(|r| r.what == what)
            .map(|r| r.also_label())
            .unwrap_or_default()
    };
    assert_eq!(also("word left / right"), "Alt-Left / Alt-Right");
    assert_eq!(
        also("delete the word before / after the cursor"),
        "Ctrl-Backspace, Alt-Backspace"
    );
    assert_eq!(also("send the line"), "");
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

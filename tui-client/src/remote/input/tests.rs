use super::*;
use crate::app::{Action, Edit};
use crate::keymap;

/// What a read of `bytes` does: the key map's actions, and pastes.
#[derive(Debug, PartialEq)]
enum Does {
    Act(Action),
    Paste(String),
}

fn decode(reads: &[&[u8]]) -> Vec<Does> {
    let mut decoder = Decoder::new();
    reads
        .iter()
        .flat_map(|bytes| decoder.feed(bytes))
        .filter_map(|event| match event {
            TermEvent::Key(key) => keymap::map(key).map(Does::Act),
            TermEvent::Paste(text) => Some(Does::Paste(text)),
            _ => None,
        })
        .collect()
}

fn act(action: Action) -> Does {
    Does::Act(action)
}

fn edit(edit: Edit) -> Does {
    Does::Act(Action::Edit(edit))
}

#[test]
fn byte_sequences_from_common_terminals_map_to_the_same_actions_as_locally() {
    let table: &[(&[u8], Vec<Does>)] = &[
        (
            b"hi",
            vec![edit(Edit::Insert('h')), edit(Edit::Insert('i'))],
        ),
        (b"\r", vec![act(Action::Submit)]),
        (b"\x7f", vec![edit(Edit::Backspace)]),
        (b"\x08", vec![edit(Edit::Backspace)]),
        (b"\t", vec![act(Action::Complete)]),
        (b"\x03", vec![act(Action::Quit)]),
        (b"\x0c", vec![act(Action::Redraw)]),
        (b"\x0a", vec![edit(Edit::Newline)]),
        (b"\x1b\r", vec![edit(Edit::Newline)]),
        (b"\x17", vec![edit(Edit::DeleteWordBack)]),
        // Arrows, normal and application cursor mode.
        (b"\x1b[A", vec![act(Action::HistoryPrev)]),
        (b"\x1b[B", vec![act(Action::HistoryNext)]),
        (b"\x1bOD", vec![edit(Edit::Left)]),
        (b"\x1bOC", vec![edit(Edit::Right)]),
        // Modified arrows: Ctrl-Left, Alt-Up (xterm) and Alt as ESC prefix.
        (b"\x1b[1;5D", vec![edit(Edit::WordLeft)]),
        (b"\x1b[1;3A", vec![act(Action::PrevRoom)]),
        (b"\x1b\x1b[B", vec![act(Action::NextRoom)]),
        // Home / End / PgUp / PgDn / Delete in their common spellings.
        (b"\x1b[H", vec![edit(Edit::Home)]),
        (b"\x1b[1~", vec![edit(Edit::Home)]),
        (b"\x1b[F", vec![act(Action::EndAndBottom)]),
        (b"\x1b[4~", vec![act(Action::EndAndBottom)]),
        (b"\x1b[1;5F", vec![act(Action::ScrollBottom)]),
        (b"\x1b[5~", vec![act(Action::PageUp)]),
        (b"\x1b[6~", vec![act(Action::PageDown)]),
        (b"\x1b[3~", vec![edit(Edit::Delete)]),
        // Function keys: F2 toggles the user list (xterm, vt100, linux).
        (b"\x1bOQ", vec![act(Action::ToggleUsers)]),
        (b"\x1b[12~", vec![act(Action::ToggleUsers)]),
        (b"\x1b[[B", vec![act(Action::ToggleUsers)]),
        // Alt keys: ESC then the key.
        (b"\x1bb", vec![edit(Edit::WordLeft)]),
        (b"\x1bf", vec![edit(Edit::WordRight)]),
        (b"\x1bu", vec![act(Action::ToggleUsers)]),
        (b"\x1b2", vec![act(Action::GoToRoom(1))]),
        (b"\x1ba", vec![act(Action::NextActive)]),
        // A lone ESC does nothing; it is not the start of an Alt key.
        (b"\x1b", vec![]),
        // UTF-8, also split across reads below.
        (
            "é€😀".as_bytes(),
            vec![
                edit(Edit::Insert('é')),
                edit(Edit::Insert('€')),
                edit(Edit::Insert('😀')),
            ],
        ),
        // Bracketed paste: one event, line breaks and escapes kept as text.
        (
            b"\x1b[200~two\nlines \x1b[A\x1b[201~x",
            vec![
                Does::Paste("two\nlines \x1b[A".into()),
                edit(Edit::Insert('x')),
            ],
        ),
        // Noise is dropped, and what follows still works.
        (b"\x1b[99;99;99Zq", vec![edit(Edit::Insert('q'))]),
    ];
    for (bytes, expected) in table {
        assert_eq!(
            &decode(&[bytes]),
            expected,
            "bytes {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn sequences_split_across_reads_are_put_back_together() {
    assert_eq!(decode(&[b"\x1b[", b"5~"]), vec![act(Action::PageUp)]);
    assert_eq!(decode(&[b"\x1b[1;", b"5D"]), vec![edit(Edit::WordLeft)]);
    let euro = "€".as_bytes();
    assert_eq!(
        decode(&[&euro[..1], &euro[1..]]),
        vec![edit(Edit::Insert('€'))]
    );
    assert_eq!(
        decode(&[b"\x1b[200~a", b"b\x1b[20", b"1~"]),
        vec![Does::Paste("ab".into())]
    );
}

#[test]
fn a_paste_is_bounded_as_it_arrives() {
    let mut decoder = Decoder::new();
    assert!(decoder.feed(PASTE_START).is_empty());
    let chunk = vec![b'a'; 64 * 1024];
    for _ in 0..(MAX_PASTE / chunk.len() + 4) {
        assert!(decoder.feed(&chunk).is_empty());
        assert!(decoder.paste.as_ref().unwrap().len() <= MAX_PASTE + PASTE_END.len());
    }
    let events = decoder.feed(PASTE_END);
    assert!(matches!(&events[..], [TermEvent::Paste(t)] if t.len() == MAX_PASTE));
}

#[test]
fn shift_tab_is_back_tab_as_crossterm_reads_it() {
    let events = Decoder::new().feed(b"\x1b[Z");
    assert!(matches!(
        &events[..],
        [TermEvent::Key(KeyEvent {
            code: KeyCode::BackTab,
            ..
        })]
    ));
}

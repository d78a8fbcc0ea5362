//! Making untrusted text safe to draw in a terminal.
//!
//! Message text, names and room names come from other people. Before any of
//! it reaches the screen, everything a terminal could interpret is removed:
//! C0 and C1 control characters (BEL, backspace, carriage return, ...),
//! whole escape sequences (CSI such as `ESC[2J`, OSC such as a window title
//! or an OSC 52 clipboard write, DCS/SOS/PM/APC strings, and their 8-bit C1
//! forms) and bidirectional controls that could reorder the text around
//! them. What is left is plain printable text; only `\n` survives as a line
//! break (in [`message_text`]), tabs become spaces.
//!
//! A sequence that is broken (cut off by the end of the text, or by a
//! character that cannot belong to it) hides nothing: only its escape
//! character is dropped, and what followed is shown as text, as the web
//! page shows it. Once the escape character is gone, the rest is inert.

use protocol::validate::is_bidi_control;

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
/// Cancel and Substitute: abort any sequence in progress.
const CAN: char = '\u{18}';
const SUB: char = '\u{1a}';
/// 8-bit String Terminator.
const ST: char = '\u{9c}';

/// What kind of escape sequence the scanner is inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// Just saw ESC.
    Escape,
    /// ESC followed by intermediate bytes (0x20-0x2F), waiting for a final byte.
    EscapeIntermediate,
    /// Inside a control sequence (CSI): parameter and intermediate bytes
    /// (0x20-0x3F) up to a final byte 0x40-0x7E.
    Csi,
    /// Inside a control string (OSC, DCS, SOS, PM, APC) until ST or BEL.
    ControlString,
    /// Saw ESC inside a control string: `ESC \` ends it.
    ControlStringEscape,
}

/// Cleans message text: keeps line breaks (`\n`, also from `\r\n` and the
/// Unicode line/paragraph separators), turns tabs into spaces and removes
/// everything else a terminal would act on.
pub fn message_text(raw: &str) -> String {
    clean(raw, true)
}

/// Cleans a short single-line value such as a name or a room: like
/// [`message_text`] but line breaks become spaces too.
pub fn one_line(raw: &str) -> String {
    clean(raw, false)
}

/// The scanner: the output so far, and the characters of the sequence in
/// progress after its introducer (shown as text if the sequence breaks).
struct Scanner {
    out: String,
    pending: String,
    keep_newlines: bool,
}

impl Scanner {
    /// A character outside any sequence. Returns the state that follows.
    fn text(&mut self, c: char) -> State {
        match c {
            ESC => return State::Escape,
            '\u{9b}' => return State::Csi,
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => return State::ControlString,
            _ => self.plain(c),
        }
        State::Text
    }

    /// A character shown as text: line breaks and tabs normalised, every
    /// other control and bidi character dropped.
    fn plain(&mut self, c: char) {
        match c {
            '\n' | '\u{2028}' | '\u{2029}' => {
                self.out.push(if self.keep_newlines { '\n' } else { ' ' })
            }
            '\t' => self.out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => self.out.push(c),
        }
    }

    /// The sequence in progress is complete: it is removed.
    fn complete(&mut self) -> State {
        self.pending.clear();
        State::Text
    }

    /// The sequence in progress is broken: what it held is shown as text
    /// (its escape character is already gone), then `next`, if any, is read
    /// as text.
    fn broken(&mut self, next: Option<char>) -> State {
        let pending = std::mem::take(&mut self.pending);
        for c in pending.chars() {
            self.plain(c);
        }
        match next {
            Some(c) => self.text(c),
            None => State::Text,
        }
    }

    fn step(&mut self, state: State, c: char) -> State {
        let state = match state {
            State::Text => return self.text(c),
            State::Escape => match c {
                '[' => State::Csi,
                ']' | 'P' | 'X' | '^' | '_' => State::ControlString,
                '\u{20}'..='\u{2f}' => State::EscapeIntermediate,
                // ESC 7, ESC c, ...: a whole two-character sequence.
                '\u{30}'..='\u{7e}' => return self.complete(),
                _ => return self.broken(Some(c)),
            },
            State::EscapeIntermediate => match c {
                '\u{20}'..='\u{2f}' => State::EscapeIntermediate,
                '\u{30}'..='\u{7e}' => return self.complete(),
                _ => return self.broken(Some(c)),
            },
            State::Csi => match c {
                '\u{20}'..='\u{3f}' => State::Csi,
                '\u{40}'..='\u{7e}' => return self.complete(),
                _ => return self.broken(Some(c)),
            },
            State::ControlString => match c {
                BEL | ST => return self.complete(),
                CAN | SUB => return self.broken(Some(c)),
                ESC => State::ControlStringEscape,
                _ => State::ControlString,
            },
            State::ControlStringEscape => match c {
                '\\' => return self.complete(),
                CAN | SUB => return self.broken(Some(c)),
                ESC => State::ControlStringEscape,
                _ => State::ControlString,
            },
        };
        // Still inside the sequence.
        self.pending.push(c);
        state
    }
}

fn clean(raw: &str, keep_newlines: bool) -> String {
    let mut scanner = Scanner {
        out: String::with_capacity(raw.len()),
        pending: String::new(),
        keep_newlines,
    };
    let mut state = State::Text;
    for c in raw.chars() {
        state = scanner.step(state, c);
    }
    if state != State::Text {
        scanner.broken(None);
    }
    scanner.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_inert(s: &str) {
        assert!(
            !s.chars()
                .any(|c| c.is_control() && c != '\n' || is_bidi_control(c)),
            "not inert: {s:?}"
        );
    }

    #[test]
    fn plain_text_is_unchanged() {
        for s in [
            "hello",
            "Zoë 🦀 日本語",
            "<b>html</b> & \"quotes\"",
            "👩‍👩‍👧 family",
        ] {
            assert_eq!(message_text(s), s);
        }
    }

    #[test]
    fn clear_screen_and_colours_are_removed() {
        assert_eq!(message_text("a\u{1b}[2Jb"), "ab");
        assert_eq!(message_text("\u{1b}[1;31mred\u{1b}[0m"), "red");
        assert_eq!(message_text("x\u{1b}[10;20Hy"), "xy");
        assert_eq!(message_text("8-bit \u{9b}2Jcsi"), "8-bit csi");
    }

    #[test]
    fn osc_title_clipboard_and_hyperlinks_are_removed() {
        // Window title, terminated by BEL.
        assert_eq!(message_text("a\u{1b}]0;pwned\u{07}b"), "ab");
        // OSC 52 clipboard write, terminated by ST (ESC \).
        assert_eq!(message_text("a\u{1b}]52;c;cm0gLXJmIH4=\u{1b}\\b"), "ab");
        // A forged hyperlink keeps its visible text only.
        assert_eq!(
            message_text("\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\"),
            "click"
        );
        // 8-bit OSC ended by 8-bit ST.
        assert_eq!(message_text("a\u{9d}0;t\u{9c}b"), "ab");
    }

    #[test]
    fn dcs_and_other_strings_are_removed() {
        assert_eq!(message_text("a\u{1b}P+q544e\u{1b}\\b"), "ab");
        assert_eq!(message_text("a\u{1b}_apc\u{1b}\\b"), "ab");
        assert_eq!(message_text("a\u{1b}(0b"), "ab");
        assert_eq!(message_text("a\u{1b}7b\u{1b}8c"), "abc");
    }

    #[test]
    fn bell_and_control_characters_are_removed() {
        assert_eq!(message_text("ding\u{07}\u{07}"), "ding");
        assert_eq!(message_text("over\rwrite\u{08}\u{08}"), "overwrite");
        assert_eq!(message_text("a\tb"), "a b");
        assert_eq!(message_text("a\u{7f}b\u{85}c"), "abc");
    }

    #[test]
    fn bidi_overrides_are_removed() {
        assert_eq!(message_text("abc\u{202e}fed\u{202c}"), "abcfed");
        assert_eq!(message_text("\u{2066}x\u{2069}\u{200f}"), "x");
    }

    #[test]
    fn line_breaks() {
        assert_eq!(message_text("a\r\nb\nc"), "a\nb\nc");
        assert_eq!(one_line("a\nb\u{2028}c"), "a b c");
    }

    #[test]
    fn broken_sequences_hide_nothing_after_them() {
        // An OSC never terminated: the rest of the message stays visible.
        assert_eq!(
            message_text("ok\u{1b}]0;title without end\nand more"),
            "ok]0;title without end\nand more"
        );
        assert_eq!(message_text("a\u{9d}0;t rest"), "a0;t rest");
        assert_eq!(message_text("ok\u{1b}[12"), "ok[12");
        assert_eq!(message_text("ok\u{1b}"), "ok");
        // A lone ESC takes nothing with it, not even a line break.
        assert_eq!(message_text("a\u{1b}\nb"), "a\nb");
        assert_eq!(message_text("a\u{1b}é"), "aé");
        assert_eq!(message_text("a\u{1b}[12\nb"), "a[12\nb");
        assert_eq!(message_text("a\u{1b}(\u{1b}[1mb"), "a(b");
        // CAN aborts a string; whatever a string held is shown inert.
        assert_eq!(
            message_text("x\u{1b}]8;;http://e\u{18}visible"),
            "x]8;;http://evisible"
        );
        assert_eq!(message_text("x\u{1b}]0;a\u{1b}[31mred"), "x]0;a[31mred");
        assert_inert(&message_text(
            "\u{1b}]0;\u{7}\u{1b}]\u{1b}\u{9b}\u{1b}P\u{1b}\u{1b}",
        ));
    }

    #[test]
    fn a_hostile_payload_comes_out_inert() {
        let payload = "\u{1b}[2J\u{1b}[H\u{1b}]0;owned\u{07}\u{1b}]52;c;ZWNobyBoaQ==\u{07}\u{07}\u{1b}[?1049l\u{202e}visible\u{9b}31m";
        let clean = message_text(payload);
        assert_inert(&clean);
        assert_eq!(clean, "visible");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Text with a generous share of escapes, controls and C1 bytes.
        fn hostile() -> impl Strategy<Value = String> {
            let piece = prop_oneof![
                "[a-zé日 ;0-9\\[\\]\\\\()?]{0,6}",
                Just("\u{1b}".to_string()),
                Just("\u{1b}[".to_string()),
                Just("\u{1b}]".to_string()),
                Just("\u{1b}P".to_string()),
                Just("\u{7}".to_string()),
                Just("\u{9b}".to_string()),
                Just("\u{9d}".to_string()),
                Just("\u{9c}".to_string()),
                Just("\u{18}".to_string()),
                Just("\n".to_string()),
                Just("\r\t".to_string()),
                Just("\u{202e}".to_string()),
                any::<char>().prop_map(String::from),
            ];
            proptest::collection::vec(piece, 0..24).prop_map(|p| p.concat())
        }

        /// Printable text that cannot end or continue any sequence:
        /// nothing in 0x20-0x7E, no controls.
        fn inert_tail() -> impl Strategy<Value = String> {
            "[é日ßøπ\u{1F980}]{0,20}"
        }

        proptest! {
            #[test]
            fn output_is_inert_and_cleaning_twice_changes_nothing(raw in hostile()) {
                for clean in [message_text(&raw), one_line(&raw)] {
                    assert_inert(&clean);
                    prop_assert_eq!(message_text(&clean), clean.clone());
                }
                prop_assert!(!one_line(&raw).contains('\n'));
            }

            #[test]
            fn plain_text_passes_unchanged(text in "[^\\p{C}\u{2028}\u{2029}]{0,80}") {
                prop_assume!(!text.chars().any(is_bidi_control));
                prop_assert_eq!(message_text(&text), text);
            }

            #[test]
            fn a_broken_sequence_hides_nothing_after_it(
                before in hostile(),
                introducer in prop_oneof![Just("\u{1b}]0;"), Just("\u{1b}[1"), Just("\u{1b}"), Just("\u{1b}(")],
                tail in inert_tail(),
            ) {
                let shown = message_text(&format!("{before}{introducer}{tail}"));
                prop_assert!(shown.ends_with(&tail), "{:?} hides {:?}", shown, tail);
                let broken_line = message_text(&format!("{before}{introducer}\n{tail}"));
                let line_and_tail = format!("\n{tail}");
                prop_assert!(broken_line.ends_with(&line_and_tail), "{:?}", broken_line);
            }
        }
    }
}

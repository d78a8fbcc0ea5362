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

use protocol::validate::is_bidi_control;

const ESC: char = '\u{1b}';
const BEL: char = '\u{07}';
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
    /// Inside a control sequence (CSI), waiting for its final byte 0x40-0x7E.
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

fn clean(raw: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut state = State::Text;
    for c in raw.chars() {
        state = match state {
            State::Text => match c {
                ESC => State::Escape,
                '\u{9b}' => State::Csi,
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => State::ControlString,
                '\n' | '\u{2028}' | '\u{2029}' => {
                    out.push(if keep_newlines { '\n' } else { ' ' });
                    State::Text
                }
                '\t' => {
                    out.push(' ');
                    State::Text
                }
                c if c.is_control() || is_bidi_control(c) => State::Text,
                c => {
                    out.push(c);
                    State::Text
                }
            },
            State::Escape => match c {
                '[' => State::Csi,
                ']' | 'P' | 'X' | '^' | '_' => State::ControlString,
                '\u{20}'..='\u{2f}' => State::EscapeIntermediate,
                // Any other character ends a two-character sequence
                // (ESC 7, ESC c, ...) and is swallowed with it.
                _ => State::Text,
            },
            State::EscapeIntermediate => match c {
                '\u{20}'..='\u{2f}' => State::EscapeIntermediate,
                _ => State::Text,
            },
            State::Csi => match c {
                '\u{40}'..='\u{7e}' => State::Text,
                // An ESC inside a CSI aborts it and starts a new sequence.
                ESC => State::Escape,
                _ => State::Csi,
            },
            State::ControlString => match c {
                BEL | ST => State::Text,
                ESC => State::ControlStringEscape,
                _ => State::ControlString,
            },
            State::ControlStringEscape => match c {
                '\\' => State::Text,
                ESC => State::ControlStringEscape,
                _ => State::ControlString,
            },
        };
    }
    out
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
    fn unterminated_sequences_swallow_the_rest() {
        assert_eq!(message_text("ok\u{1b}]0;title without end"), "ok");
        assert_eq!(message_text("ok\u{1b}[12"), "ok");
        assert_eq!(message_text("ok\u{1b}"), "ok");
    }

    #[test]
    fn a_hostile_payload_comes_out_inert() {
        let payload = "\u{1b}[2J\u{1b}[H\u{1b}]0;owned\u{07}\u{1b}]52;c;ZWNobyBoaQ==\u{07}\u{07}\u{1b}[?1049l\u{202e}visible\u{9b}31m";
        let clean = message_text(payload);
        assert_inert(&clean);
        assert_eq!(clean, "visible");
    }
}

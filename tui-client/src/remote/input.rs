//! Bytes from the ssh channel into the terminal events the key map reads.
//!
//! The parsing is `terminput`'s (crossterm's own escape-sequence parser,
//! published as a library): legacy xterm keys, function keys, modifiers,
//! Alt as an `ESC` prefix, bracketed paste. Here it is fed the way
//! crossterm feeds it from a local terminal: one byte at a time, an event
//! whenever the bytes so far make one, and a lone `ESC` taken as the Esc
//! key only when nothing follows it in the same read. What comes out is
//! crossterm's `Event`, so [`crate::keymap`] applies unchanged.

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers,
};

/// The longest escape sequence kept while it is incomplete; longer ones
/// are noise and dropped.
const MAX_SEQUENCE: usize = 256;
/// The longest paste taken; a longer one is cut here (the input line's
/// own limit is far lower).
pub const MAX_PASTE: usize = 1 << 20;

const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// Turns the bytes of a terminal into events, across reads.
#[derive(Debug, Default)]
pub struct Decoder {
    buffer: Vec<u8>,
    /// Inside a bracketed paste: its bytes so far.
    paste: Option<Vec<u8>>,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    /// The events in `bytes` (one read), in order. An incomplete sequence
    /// at the end waits for the next read.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<TermEvent> {
        let mut events = Vec::new();
        for (i, &byte) in bytes.iter().enumerate() {
            let more = i + 1 < bytes.len();
            if let Some(paste) = &mut self.paste {
                if paste.len() == MAX_PASTE + PASTE_END.len() {
                    // Full: the text stays as it is, the last bytes keep
                    // moving so the end is still seen.
                    paste.remove(MAX_PASTE);
                }
                paste.push(byte);
                if paste.ends_with(PASTE_END) {
                    let mut text = self.paste.take().unwrap_or_default();
                    text.truncate(text.len() - PASTE_END.len());
                    text.truncate(MAX_PASTE);
                    events.push(TermEvent::Paste(
                        String::from_utf8_lossy(&text).into_owned(),
                    ));
                }
                continue;
            }
            self.buffer.push(byte);
            if self.buffer == PASTE_START {
                // The paste is collected here rather than by the parser, so
                // its size is bounded as it arrives.
                self.buffer.clear();
                self.paste = Some(Vec::new());
                continue;
            }
            if (self.buffer == b"\x1b" || self.buffer == b"\x1b\x1b") && more {
                // ESC followed by more in the same read: the start of a
                // sequence (or Alt), not the Esc key.
                continue;
            }
            match parse(&self.buffer) {
                Ok(Some(event)) => {
                    self.buffer.clear();
                    if let Some(event) = convert(event) {
                        events.push(event);
                    }
                }
                Ok(None) if self.buffer.len() < MAX_SEQUENCE => {}
                // Not a sequence anyone sends, or too long: dropped.
                Ok(None) | Err(_) => self.buffer.clear(),
            }
        }
        events
    }
}

/// One event from the start of `buffer`: terminput's parser, plus Alt as an
/// `ESC` before a whole sequence (`ESC ESC [ B`, Alt-Down on rxvt and in
/// terminals set to send Alt as Escape), which it does not read.
fn parse(buffer: &[u8]) -> std::io::Result<Option<terminput::Event>> {
    match buffer.strip_prefix(b"\x1b") {
        Some(rest) if rest.starts_with(b"\x1b[") => Ok(terminput::Event::parse_from(rest)?.map(
            |event| match event {
                terminput::Event::Key(mut key) => {
                    key.modifiers |= terminput::KeyModifiers::ALT;
                    terminput::Event::Key(key)
                }
                other => other,
            },
        )),
        _ => terminput::Event::parse_from(buffer),
    }
}

/// terminput's event as crossterm's; `None` for what the app does not read
/// (mouse, focus).
fn convert(event: terminput::Event) -> Option<TermEvent> {
    match event {
        terminput::Event::Key(key) => Some(TermEvent::Key(convert_key(key)?)),
        terminput::Event::Paste(text) => Some(TermEvent::Paste(text)),
        terminput::Event::Resize { rows, cols } => Some(TermEvent::Resize(
            u16::try_from(cols).unwrap_or(u16::MAX),
            u16::try_from(rows).unwrap_or(u16::MAX),
        )),
        _ => None,
    }
}

fn convert_key(key: terminput::KeyEvent) -> Option<KeyEvent> {
    use terminput::KeyCode as K;
    let code = match key.code {
        K::Backspace => KeyCode::Backspace,
        K::Enter => KeyCode::Enter,
        K::Left => KeyCode::Left,
        K::Right => KeyCode::Right,
        K::Up => KeyCode::Up,
        K::Down => KeyCode::Down,
        K::Home => KeyCode::Home,
        K::End => KeyCode::End,
        K::PageUp => KeyCode::PageUp,
        K::PageDown => KeyCode::PageDown,
        K::Tab if key.modifiers.contains(terminput::KeyModifiers::SHIFT) => KeyCode::BackTab,
        K::Tab => KeyCode::Tab,
        K::Delete => KeyCode::Delete,
        K::Insert => KeyCode::Insert,
        K::F(n) => KeyCode::F(n),
        K::Char(c) => KeyCode::Char(c),
        K::Esc => KeyCode::Esc,
        K::Menu => KeyCode::Menu,
        K::KeypadBegin => KeyCode::KeypadBegin,
        _ => return None,
    };
    let kind = match key.kind {
        terminput::KeyEventKind::Press => KeyEventKind::Press,
        terminput::KeyEventKind::Repeat => KeyEventKind::Repeat,
        terminput::KeyEventKind::Release => KeyEventKind::Release,
    };
    let mut modifiers = KeyModifiers::NONE;
    let from = key.modifiers;
    for (theirs, ours) in [
        (terminput::KeyModifiers::SHIFT, KeyModifiers::SHIFT),
        (terminput::KeyModifiers::CTRL, KeyModifiers::CONTROL),
        (terminput::KeyModifiers::ALT, KeyModifiers::ALT),
        (terminput::KeyModifiers::SUPER, KeyModifiers::SUPER),
        (terminput::KeyModifiers::HYPER, KeyModifiers::HYPER),
        (terminput::KeyModifiers::META, KeyModifiers::META),
    ] {
        if from.contains(theirs) {
            modifiers |= ours;
        }
    }
    Some(KeyEvent {
        code,
        modifiers,
        kind,
        state: KeyEventState::NONE,
    })
}

#[cfg(test)]
mod tests;

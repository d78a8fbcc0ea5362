//! Colours and text styles, with graceful degradation.
//!
//! Every name gets a stable colour derived from a hash of the name, so
//! `ann` looks the same in every room and after every restart. Terminals
//! with 256 colours get a wider palette, 16-colour terminals the basic
//! one, and with `NO_COLOR` set (or `colors = "none"`) nothing but bold,
//! dim, reverse and underline is used.

use ratatui::style::{Color, Modifier, Style};

/// How many colours the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    /// No colours at all, only text attributes (`NO_COLOR`).
    None,
    /// The 16 ANSI colours.
    Basic,
    /// The 256-colour palette.
    Extended,
}

impl ColorMode {
    /// Picks a mode from the environment: `NO_COLOR` (any non-empty value)
    /// wins, then `COLORTERM`/`TERM` tell whether 256 colours are there.
    pub fn detect(no_color: Option<&str>, term: Option<&str>, colorterm: Option<&str>) -> Self {
        if no_color.is_some_and(|v| !v.is_empty()) {
            return ColorMode::None;
        }
        let colorterm = colorterm.unwrap_or("");
        let term = term.unwrap_or("");
        if colorterm.contains("truecolor") || colorterm.contains("24bit") || term.contains("256") {
            ColorMode::Extended
        } else {
            ColorMode::Basic
        }
    }
}

/// Readable on dark and light backgrounds; no blacks, whites or greys.
const BASIC_NICK_COLORS: [Color; 10] = [
    Color::Red,
    Color::Green,
    Color::Yellow,
    Color::Blue,
    Color::Magenta,
    Color::Cyan,
    Color::LightRed,
    Color::LightGreen,
    Color::LightBlue,
    Color::LightMagenta,
];

/// A spread of mid-brightness 256-palette entries.
const EXTENDED_NICK_COLORS: [u8; 24] = [
    33, 39, 41, 43, 69, 75, 105, 111, 135, 141, 167, 168, 170, 172, 173, 176, 178, 179, 203, 204,
    208, 209, 214, 215,
];

/// FNV-1a: tiny, and unlike the standard hasher guaranteed to stay the same
/// across Rust versions, so colours never change under a user.
fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.to_lowercase().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// All styles the screen uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub mode: ColorMode,
}

impl Theme {
    pub fn new(mode: ColorMode) -> Self {
        Theme { mode }
    }

    fn fg(&self, color: Color) -> Style {
        match self.mode {
            ColorMode::None => Style::default(),
            _ => Style::default().fg(color),
        }
    }

    /// The stable colour of a name.
    pub fn nick(&self, name: &str) -> Style {
        let h = stable_hash(name);
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::BOLD),
            ColorMode::Basic => Style::default()
                .fg(BASIC_NICK_COLORS[(h % BASIC_NICK_COLORS.len() as u64) as usize]),
            ColorMode::Extended => Style::default().fg(Color::Indexed(
                EXTENDED_NICK_COLORS[(h % EXTENDED_NICK_COLORS.len() as u64) as usize],
            )),
        }
    }

    pub fn timestamp(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// Joins, leaves, welcome and other notices: visibly dimmer.
    pub fn system(&self) -> Style {
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::DIM),
            _ => Style::default().fg(Color::DarkGray),
        }
    }

    /// A message of yours the server has not confirmed yet.
    pub fn pending(&self) -> Style {
        Style::default().add_modifier(Modifier::DIM)
    }

    pub fn error(&self) -> Style {
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::BOLD),
            _ => Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
        }
    }

    pub fn separator(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// Your own name where someone else wrote it.
    pub fn mention(&self) -> Style {
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            _ => Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        }
    }

    pub fn link(&self) -> Style {
        self.fg(Color::Blue).add_modifier(Modifier::UNDERLINED)
    }

    pub fn sidebar_current(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    pub fn sidebar_unread(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn sidebar_mention(&self) -> Style {
        self.fg(Color::Magenta).add_modifier(Modifier::BOLD)
    }

    pub fn status_bar(&self) -> Style {
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::REVERSED),
            _ => Style::default().fg(Color::White).bg(Color::Blue),
        }
    }

    pub fn status_warning(&self) -> Style {
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            _ => Style::default()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
        }
    }

    pub fn marker(&self) -> Style {
        match self.mode {
            ColorMode::None => Style::default().add_modifier(Modifier::REVERSED),
            _ => Style::default().fg(Color::Black).bg(Color::Cyan),
        }
    }

    pub fn border(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    pub fn prompt(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_wins() {
        assert_eq!(
            ColorMode::detect(Some("1"), Some("xterm-256color"), Some("truecolor")),
            ColorMode::None
        );
        // An empty NO_COLOR does not count, as the convention says.
        assert_eq!(
            ColorMode::detect(Some(""), Some("xterm-256color"), None),
            ColorMode::Extended
        );
        assert_eq!(
            ColorMode::detect(None, Some("xterm"), None),
            ColorMode::Basic
        );
        assert_eq!(
            ColorMode::detect(None, Some("linux"), None),
            ColorMode::Basic
        );
    }

    #[test]
    fn nick_colours_are_stable_and_case_blind() {
        let t = Theme::new(ColorMode::Extended);
        assert_eq!(t.nick("ann"), t.nick("ann"));
        assert_eq!(t.nick("Ann"), t.nick("ann"));
        // Pinned so a change of hash is noticed: it would recolour everyone.
        assert_eq!(stable_hash("ann"), stable_hash("ANN"));
        assert_ne!(t.nick("ann"), t.nick("bob"));
        assert_eq!(Theme::new(ColorMode::None).nick("ann").fg, None);
        assert!(matches!(
            Theme::new(ColorMode::Basic).nick("ann").fg,
            Some(c) if BASIC_NICK_COLORS.contains(&c)
        ));
    }
}

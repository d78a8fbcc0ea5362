//! Moderation: roles, room modes, actions, and the rules both clients and
//! the server read them by.
//!
//! - [`Role`]: per room `owner` (who created it), `op`, `voice`; server-wide
//!   `admin`. [`rank`] orders them: admin > owner > op > voice > none, and
//!   someone may act only on people of lower rank ([`may_act_on`]).
//! - [`RoomModes`]: moderated, invite-only, topic lock, slow mode and the
//!   content filter, carried in `room_state` and in `moderation` events.
//! - [`parse_duration`] and [`format_duration`]: `30s`, `10m`, `2h`, `1d`,
//!   `1w` (a bare number is minutes) and their display (`30 s`, `5 min`).
//! - [`split_duration`]: what `/ban NAME [DURATION] [REASON]` and `/mute`
//!   read after the name; [`parse_mode_flags`]: `/mode +mt`.
//! - [`describe`]: the one sentence every client shows for a `moderation`
//!   event ("bob was kicked by ann: spam").
//! - [`distinct_mentions`]: the `@names` flood protection counts.
//!
//! The page replays all of these from `protocol/vectors/moderation.json`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::ServerEvent;
use crate::limits::MAX_MOD_DURATION_S;

/// A role: in one room (`owner`, `op`, `voice`) or on the whole server
/// (`admin`, which counts in every room).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Voice,
    Op,
    Owner,
    Admin,
}

impl Role {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Voice => "voice",
            Role::Op => "op",
            Role::Owner => "owner",
            Role::Admin => "admin",
        }
    }

    /// What user lists show before the name, as IRC does: `@` for an
    /// operator (and owner and admin), `+` for voice.
    pub fn prefix(self) -> &'static str {
        match self {
            Role::Voice => "+",
            Role::Op | Role::Owner | Role::Admin => "@",
        }
    }

    /// The role spelled `text` on the wire.
    pub fn from_wire(text: &str) -> Option<Role> {
        [Role::Voice, Role::Op, Role::Owner, Role::Admin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// The rank of a role (none is 0, voice 1, op 2, owner 3, admin 4).
pub fn rank(role: Option<Role>) -> u8 {
    match role {
        None => 0,
        Some(Role::Voice) => 1,
        Some(Role::Op) => 2,
        Some(Role::Owner) => 3,
        Some(Role::Admin) => 4,
    }
}

/// Whether the role counts as an operator (op, owner, admin).
pub fn is_operator(role: Option<Role>) -> bool {
    rank(role) >= rank(Some(Role::Op))
}

/// Whether the role may speak in a moderated room (voice and above).
pub fn may_speak_moderated(role: Option<Role>) -> bool {
    rank(role) >= rank(Some(Role::Voice))
}

/// Whether someone of role `actor` may carry out `action` on someone of
/// role `target`: operators act on people ranked below them, and only
/// owners and admins give or take `op`. `mode` and `auto_mute` are not
/// requests and are never allowed here.
pub fn may_act_on(actor: Option<Role>, action: ModAction, target: Option<Role>) -> bool {
    let needed = match action {
        ModAction::Op | ModAction::Deop => rank(Some(Role::Owner)),
        ModAction::Mode | ModAction::AutoMute => return false,
        _ => rank(Some(Role::Op)),
    };
    // Inviting or unbanning someone is not an act against them.
    let above_target =
        matches!(action, ModAction::Invite | ModAction::Unban) || rank(actor) > rank(target);
    rank(actor) >= needed && above_target
}

/// A moderation action: what a `moderate` request asks for (every action
/// but `mode` and `auto_mute`), and what a `moderation` event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    Op,
    Deop,
    Voice,
    Devoice,
    Kick,
    Ban,
    Unban,
    Mute,
    Unmute,
    Invite,
    /// The room's modes changed (events only).
    Mode,
    /// Flood protection muted a repeat offender (events only).
    AutoMute,
}

impl ModAction {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ModAction::Op => "op",
            ModAction::Deop => "deop",
            ModAction::Voice => "voice",
            ModAction::Devoice => "devoice",
            ModAction::Kick => "kick",
            ModAction::Ban => "ban",
            ModAction::Unban => "unban",
            ModAction::Mute => "mute",
            ModAction::Unmute => "unmute",
            ModAction::Invite => "invite",
            ModAction::Mode => "mode",
            ModAction::AutoMute => "auto_mute",
        }
    }

    /// Whether a client may ask for it in a `moderate` request.
    pub fn is_request(self) -> bool {
        !matches!(self, ModAction::Mode | ModAction::AutoMute)
    }

    /// Whether it takes a duration (`ban`, `mute`).
    pub fn takes_duration(self) -> bool {
        matches!(self, ModAction::Ban | ModAction::Mute)
    }
}

/// Which content filter applies in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FilterMode {
    /// The server's default (`--content-filter`).
    #[default]
    Server,
    /// No filter in this room.
    Off,
    /// The profanity filter, whatever the server's default.
    Profanity,
}

impl FilterMode {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterMode::Server => "server",
            FilterMode::Off => "off",
            FilterMode::Profanity => "profanity",
        }
    }

    /// The mode typed in `/filter off|profanity|server` (ASCII case
    /// ignored).
    pub fn parse(text: &str) -> Option<FilterMode> {
        let text = text.to_ascii_lowercase();
        [FilterMode::Server, FilterMode::Off, FilterMode::Profanity]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// A room's modes, as `room_state` and `moderation` events (action `mode`)
/// carry them. Every field may be absent (then off / the server's filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RoomModes {
    /// Only voiced people and operators speak.
    #[serde(default)]
    pub moderated: bool,
    /// Joining needs an invite (or operator rank); the room is left out of
    /// `list`.
    #[serde(default)]
    pub invite_only: bool,
    /// Only operators change the topic.
    #[serde(default)]
    pub topic_lock: bool,
    /// One message per person every `slow_s` seconds; 0 is off. Operators
    /// are exempt.
    #[serde(default)]
    pub slow_s: u32,
    #[serde(default)]
    pub filter: FilterMode,
}

/// Reads a duration: a number followed by `s`, `m`, `h`, `d` or `w`
/// (seconds, minutes, hours, days, weeks; ASCII case ignored), or a bare
/// number of minutes. Zero, anything else, and more than
/// [`MAX_MOD_DURATION_S`] are `None`.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.to_ascii_lowercase();
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text.as_str(), "m"),
    };
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let unit_s = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return None,
    };
    let seconds = n.checked_mul(unit_s)?;
    (seconds > 0 && seconds <= MAX_MOD_DURATION_S).then_some(seconds)
}

/// A duration as people read it, in the largest unit that divides it
/// exactly: `30 s`, `90 s`, `5 min`, `1 h`, `2 d`.
pub fn format_duration(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{} h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// What follows the name in `/ban NAME [DURATION] [REASON]` and
/// `/mute NAME [DURATION] [REASON]`: the first word is a duration if
/// [`parse_duration`] reads it, else it starts the reason. Returns the
/// duration and the reason (trimmed; `None` when empty).
pub fn split_duration(rest: &str) -> (Option<u64>, Option<String>) {
    let rest = rest.trim_matches(crate::commands::is_separator);
    let (first, after) = match rest.find(crate::commands::is_separator) {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let reason = |text: &str| {
        let text = text.trim_matches(crate::commands::is_separator);
        (!text.is_empty()).then(|| text.to_string())
    };
    match parse_duration(first) {
        Some(seconds) => (Some(seconds), reason(after)),
        None => (None, reason(rest)),
    }
}

/// The modes `/mode` changes: `Some(true)` set, `Some(false)` cleared,
/// `None` untouched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ModeChange {
    pub moderated: Option<bool>,
    pub invite_only: Option<bool>,
    pub topic_lock: Option<bool>,
}

/// Reads `/mode`'s argument: an optional `+` (set, the default) or `-`
/// (clear), then one or more of `m` (moderated), `i` (invite-only), `t`
/// (topic lock); a later sign switches for the letters after it
/// (`+m-t`). `None` when a letter is unknown or none is given.
pub fn parse_mode_flags(text: &str) -> Option<ModeChange> {
    let mut change = ModeChange::default();
    let mut set = true;
    let mut any = false;
    for c in text.chars() {
        match c {
            '+' => set = true,
            '-' => set = false,
            'm' | 'M' => change.moderated = Some(set),
            'i' | 'I' => change.invite_only = Some(set),
            't' | 'T' => change.topic_lock = Some(set),
            _ => return None,
        }
        any |= c != '+' && c != '-';
    }
    any.then_some(change)
}

/// The distinct `@names` in a message (case-folded): `@` followed by at
/// least one word character ([`crate::mention::is_word_char`]), not
/// preceded by one (so `ann@example.org` is no mention). Flood protection
/// refuses a message with more than [`crate::limits::MAX_MENTIONS`].
pub fn distinct_mentions(text: &str) -> usize {
    let mut seen = BTreeSet::new();
    let mut prev: Option<char> = None;
    for (at, c) in text.char_indices() {
        let starts = c == '@' && !prev.is_some_and(crate::mention::is_word_char);
        prev = Some(c);
        if !starts {
            continue;
        }
        let rest = &text[at + 1..];
        let end = rest
            .find(|c: char| !crate::mention::is_word_char(c))
            .unwrap_or(rest.len());
        if end > 0 {
            seen.insert(rest[..end].to_lowercase());
        }
    }
    seen.len()
}

fn modes_text(modes: &RoomModes) -> String {
    let mut parts = Vec::new();
    if modes.moderated {
        parts.push("moderated".to_string());
    }
    if modes.invite_only {
        parts.push("invite-only".to_string());
    }
    if modes.topic_lock {
        parts.push("topic locked".to_string());
    }
    if modes.slow_s > 0 {
        parts.push(format!(
            "slow mode {}",
            format_duration(modes.slow_s.into())
        ));
    }
    if modes.filter != FilterMode::Server {
        parts.push(format!("filter {}", modes.filter.as_str()));
    }
    if parts.is_empty() {
        "no modes".into()
    } else {
        parts.join(", ")
    }
}

/// The sentence every client shows for a `moderation` event, e.g.
/// "bob was kicked by ann: spam", "ann banned bob for 1 h: spam",
/// "ann set the room's modes: moderated, slow mode 10 s",
/// "bob was muted for 5 min by the server: flooding". `None` for any other
/// event.
pub fn describe(event: &ServerEvent) -> Option<String> {
    let ServerEvent::Moderation {
        action,
        actor,
        target,
        reason,
        duration_s,
        modes,
        ..
    } = event
    else {
        return None;
    };
    let actor = actor.as_ref().map_or("the server", |a| a.name.as_str());
    let target = target.as_ref().map_or("someone", |t| t.name.as_str());
    let time = duration_s.map_or(String::new(), |s| format!(" for {}", format_duration(s)));
    let text = match action {
        ModAction::Op => format!("{actor} made {target} an operator"),
        ModAction::Deop => format!("{actor} took operator from {target}"),
        ModAction::Voice => format!("{actor} gave voice to {target}"),
        ModAction::Devoice => format!("{actor} took voice from {target}"),
        ModAction::Kick => format!("{target} was kicked by {actor}"),
        ModAction::Ban => format!("{actor} banned {target}{time}"),
        ModAction::Unban => format!("{actor} lifted the ban on {target}"),
        ModAction::Mute => format!("{actor} muted {target}{time}"),
        ModAction::Unmute => format!("{actor} unmuted {target}"),
        ModAction::Invite => format!("{actor} invited {target}"),
        ModAction::Mode => format!(
            "{actor} set the room's modes: {}",
            modes_text(&modes.unwrap_or_default())
        ),
        ModAction::AutoMute => format!("{target} was muted{time} by {actor}"),
    };
    Some(match reason.as_deref() {
        Some(reason) if !reason.is_empty() => format!("{text}: {reason}"),
        _ => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_and_print() {
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("10"), Some(600));
        assert_eq!(parse_duration("2H"), Some(7200));
        assert_eq!(parse_duration("1w"), Some(604_800));
        assert_eq!(parse_duration("0"), None);
        assert_eq!(parse_duration("spam"), None);
        assert_eq!(parse_duration("99999999999999d"), None);
        assert_eq!(format_duration(300), "5 min");
        assert_eq!(format_duration(90), "90 s");
        assert_eq!(format_duration(172_800), "2 d");
    }

    #[test]
    fn ranks_decide_who_acts_on_whom() {
        assert!(may_act_on(Some(Role::Op), ModAction::Kick, None));
        assert!(!may_act_on(Some(Role::Op), ModAction::Kick, Some(Role::Op)));
        assert!(!may_act_on(Some(Role::Op), ModAction::Op, None));
        assert!(may_act_on(Some(Role::Owner), ModAction::Op, None));
        assert!(may_act_on(
            Some(Role::Admin),
            ModAction::Ban,
            Some(Role::Owner)
        ));
        assert!(!may_act_on(None, ModAction::Kick, None));
        assert!(!may_act_on(Some(Role::Voice), ModAction::Mute, None));
    }

    #[test]
    fn mentions_are_counted_once_each() {
        assert_eq!(distinct_mentions("@a @b @A ann@example.org @"), 2);
    }
}

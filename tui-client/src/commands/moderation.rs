//! The moderation commands' arguments (`/kick`, `/ban`, `/mode`, `/slow`,
//! ...), read by the rules of [`protocol::moderation`] that the page
//! follows too: durations, `/mode` letters, filter names.

use protocol::limits::MAX_SLOW_S;
use protocol::moderation::{self as rules, FilterMode, ModAction};
use protocol::validate;

use super::{Command, CommandError, name_arg};

/// A change of the current room's modes: only the fields given change
/// (`/mode +mt`, `/slow 10`, `/filter off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModeRequest {
    pub moderated: Option<bool>,
    pub invite_only: Option<bool>,
    pub topic_lock: Option<bool>,
    pub slow_s: Option<u32>,
    pub filter: Option<FilterMode>,
}

/// The action a moderation command asks for, by the command's name.
fn action_of(name: &str) -> Option<ModAction> {
    Some(match name {
        "op" => ModAction::Op,
        "deop" => ModAction::Deop,
        "voice" => ModAction::Voice,
        "devoice" => ModAction::Devoice,
        "kick" => ModAction::Kick,
        "ban" => ModAction::Ban,
        "unban" => ModAction::Unban,
        "mute" => ModAction::Mute,
        "unmute" => ModAction::Unmute,
        "invite" => ModAction::Invite,
        _ => return None,
    })
}

fn invalid(e: impl ToString) -> CommandError {
    CommandError::Invalid(e.to_string())
}

/// Reads a moderation command (`name` from the shared table) and its
/// arguments; `None` when `name` is none of them.
pub(super) fn parse(
    name: &str,
    usage: &'static str,
    args: &[String],
) -> Option<Result<Command, CommandError>> {
    let first = args.first().map_or("", String::as_str);
    let rest = args.get(1).map(String::as_str);
    if let Some(action) = action_of(name) {
        return Some(moderate(action, first, rest));
    }
    let mode = match name {
        "modlog" => return Some(Ok(Command::Modlog)),
        "mode" => rules::parse_mode_flags(first).map(|c| ModeRequest {
            moderated: c.moderated,
            invite_only: c.invite_only,
            topic_lock: c.topic_lock,
            ..ModeRequest::default()
        }),
        "slow" => first
            .parse::<u32>()
            .ok()
            .filter(|&s| s <= MAX_SLOW_S)
            .map(|s| ModeRequest {
                slow_s: Some(s),
                ..ModeRequest::default()
            }),
        "filter" => FilterMode::parse(first).map(|f| ModeRequest {
            filter: Some(f),
            ..ModeRequest::default()
        }),
        _ => return None,
    };
    Some(mode.map(Command::Mode).ok_or(CommandError::Usage(usage)))
}

/// `/kick NAME [REASON]`, `/ban NAME [DURATION] [REASON]`, `/op NAME`...
fn moderate(action: ModAction, name: &str, rest: Option<&str>) -> Result<Command, CommandError> {
    let name = name_arg(name)?;
    let (duration_s, reason) = match rest {
        None => (None, None),
        Some(rest) if action.takes_duration() => rules::split_duration(rest),
        Some(rest) => (None, Some(rest.to_string())),
    };
    let reason = reason
        .map(|r| validate::mod_reason(&r).map(str::to_string))
        .transpose()
        .map_err(invalid)?
        .filter(|r| !r.is_empty());
    Ok(Command::Moderate {
        action,
        name,
        duration_s,
        reason,
    })
}

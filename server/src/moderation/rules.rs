//! One room's rules as its task applies them: the room's [`RoomRecord`]
//! (kept current by the `moderation` events it delivers), the server's
//! admins as last read, and flood protection. Joins and posts are checked
//! here, without waiting on anything.

use std::collections::HashSet;

use protocol::moderation::{self, FilterMode, Role};
use protocol::{ErrorCode, TimestampMs};

use super::filter::ServerFilter;
use super::flood::Flood;
use super::records::RoomRecord;

/// What a member wants to post.
#[derive(Debug, Clone, Copy)]
pub enum PostKind<'a> {
    Text(&'a str),
    Location,
    Topic(&'a str),
}

/// A refused join or post: its code and message, and whether it counts
/// as a flood offence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: ErrorCode,
    pub message: String,
    pub strike: bool,
}

fn refused(code: ErrorCode, message: String) -> Refused {
    Refused {
        code,
        message,
        strike: false,
    }
}

/// The text of content the filter refused.
pub const BLOCKED: &str = "the content filter refused this text; nothing was sent";

/// A room's rules on this instance.
#[derive(Debug, Default)]
pub struct RoomRules {
    pub record: RoomRecord,
    /// The server's admins, as read at the latest join.
    pub admins: HashSet<String>,
    pub flood: Flood,
}

impl RoomRules {
    pub fn new(record: RoomRecord) -> Self {
        RoomRules {
            record,
            ..RoomRules::default()
        }
    }

    /// The role of `user` in this room.
    pub fn role_of(&self, user: &str) -> Option<Role> {
        self.record.role_of(user, self.admins.contains(user))
    }

    /// Whether `user` may join `room` now.
    pub fn check_join(&self, room: &str, user: &str, now: TimestampMs) -> Result<(), Refused> {
        let role = self.role_of(user);
        if role == Some(Role::Admin) {
            return Ok(());
        }
        if let Some(ban) = self.record.ban(user, now) {
            return Err(refused(
                ErrorCode::Banned,
                format!("you are banned from {room} {}", ban.describe(now)),
            ));
        }
        let invited = self.record.invites.contains(user) || moderation::is_operator(role);
        if self.record.modes.invite_only && !invited {
            return Err(refused(
                ErrorCode::InviteOnly,
                format!("{room} is invite-only; ask one of its operators for an /invite"),
            ));
        }
        Ok(())
    }

    /// Whether `user` may post `kind` in `room` (`dm`: a direct-message
    /// conversation, where only the filter and flood protection apply).
    pub fn check_post(
        &self,
        room: &str,
        user: &str,
        kind: PostKind<'_>,
        dm: bool,
        filter: &ServerFilter,
        now: TimestampMs,
    ) -> Result<(), Refused> {
        let role = self.role_of(user);
        let operator = moderation::is_operator(role);
        let modes = &self.record.modes;
        if !dm {
            if let Some(mute) = self
                .record
                .mute(user, now)
                .filter(|_| role != Some(Role::Admin))
            {
                return Err(refused(
                    ErrorCode::Muted,
                    format!("you are muted in {room} {}", mute.describe(now)),
                ));
            }
            match kind {
                PostKind::Text(_) | PostKind::Location
                    if modes.moderated && !moderation::may_speak_moderated(role) =>
                {
                    return Err(refused(
                        ErrorCode::Moderated,
                        format!("{room} is moderated: only voiced people and operators speak"),
                    ));
                }
                PostKind::Topic(_) if modes.topic_lock && !operator => {
                    return Err(refused(
                        ErrorCode::TopicLocked,
                        format!("the topic of {room} is locked to its operators"),
                    ));
                }
                _ => {}
            }
        }
        let mode = if dm { FilterMode::Server } else { modes.filter };
        if let PostKind::Text(text) | PostKind::Topic(text) = kind
            && filter.blocks(mode, text)
        {
            return Err(refused(ErrorCode::ContentBlocked, BLOCKED.into()));
        }
        if let PostKind::Text(text) = kind
            && let Err(flooding) = self.flood.check(user, text)
        {
            return Err(Refused {
                code: ErrorCode::Flood,
                message: flooding.message(),
                strike: true,
            });
        }
        let slowed = !dm && !operator && !matches!(kind, PostKind::Topic(_));
        if slowed && let Some(wait) = self.flood.slow_wait(user, modes.slow_s, now) {
            return Err(refused(
                ErrorCode::SlowMode,
                format!(
                    "slow mode in {room}: wait {} before your next message",
                    moderation::format_duration(wait)
                ),
            ));
        }
        Ok(())
    }

    /// A post of `user` was accepted at `now`.
    pub fn kept(&mut self, user: &str, kind: PostKind<'_>, now: TimestampMs) {
        match kind {
            PostKind::Text(text) => self.flood.kept(user, Some(text), now),
            PostKind::Location => self.flood.kept(user, None, now),
            PostKind::Topic(_) => {}
        }
    }
}

//! The moderation requests of an identified client, checked here before
//! they reach the room: `moderate` (the action is one a client may ask
//! for, the target exists, the reason and duration are valid), `mode`
//! (slow mode within its bound) and `modlog`. Who may do what is the
//! room's to decide (`room/moderate.rs`). Conversations have no
//! moderators.

use protocol::limits::{MAX_MOD_DURATION_S, MAX_SLOW_S};
use protocol::{ClientEvent, ErrorCode, UserRef, dm, validate};

use super::conversation::find_by_name;
use super::dispatch::{Client, Refusal, to_room};
use crate::Shared;
use crate::room::{ModeChange, RoomCommand};

/// Checks the room a moderation request names.
fn room_of(room: &str) -> Result<(), Refusal> {
    if dm::is_dm(room) {
        return Err(Refusal::Moderation(
            ErrorCode::InvalidRoom,
            "conversations have no moderators; moderation is for rooms".into(),
        ));
    }
    validate::room_name(room)?;
    Ok(())
}

/// `moderate`, `mode` or `modlog` (anything else is not for here).
pub(super) async fn request(
    shared: &Shared,
    client: &mut Client,
    event: ClientEvent,
    id: &str,
) -> Result<(), Refusal> {
    let connection_id = client.outbound.connection_id;
    let request_id = id.to_owned();
    match event {
        ClientEvent::Moderate {
            room,
            action,
            target,
            duration_s,
            reason,
            ..
        } => {
            room_of(&room)?;
            if !action.is_request() {
                return Err(Refusal::Moderation(
                    ErrorCode::Malformed,
                    format!("{} is not something to ask for", action.as_str()),
                ));
            }
            let reason = validate::mod_reason(reason.as_deref().unwrap_or(""))?;
            let reason = (!reason.is_empty()).then(|| reason.to_owned());
            if duration_s.is_some_and(|d| d == 0 || d > MAX_MOD_DURATION_S) {
                return Err(Refusal::Moderation(
                    ErrorCode::Malformed,
                    format!(
                        "a duration is 1 to {MAX_MOD_DURATION_S} seconds; leave it out for \"until lifted\""
                    ),
                ));
            }
            let name = target.unwrap_or_default();
            let Some(who) = find_by_name(shared, &name).await? else {
                return Err(Refusal::NoSuchName(name.chars().take(40).collect()));
            };
            let target = UserRef {
                id: who.id,
                name: who.name,
            };
            let duration_s = duration_s.filter(|_| action.takes_duration());
            let command = RoomCommand::Moderate {
                connection_id,
                request_id,
                asked: Box::new((action, target, duration_s, reason)),
            };
            to_room(client, room, command).await
        }
        ClientEvent::Mode {
            room,
            moderated,
            invite_only,
            topic_lock,
            slow_s,
            filter,
            ..
        } => {
            room_of(&room)?;
            if slow_s.is_some_and(|s| s > MAX_SLOW_S) {
                return Err(Refusal::Moderation(
                    ErrorCode::Malformed,
                    format!("slow mode is 0 (off) to {MAX_SLOW_S} seconds"),
                ));
            }
            let change = ModeChange {
                moderated,
                invite_only,
                topic_lock,
                slow_s,
                filter,
            };
            let command = RoomCommand::Mode {
                connection_id,
                request_id,
                change,
            };
            to_room(client, room, command).await
        }
        ClientEvent::Modlog { room, .. } => {
            room_of(&room)?;
            let command = RoomCommand::Modlog {
                connection_id,
                request_id,
            };
            to_room(client, room, command).await
        }
        _ => Err(Refusal::Moderation(
            ErrorCode::Internal,
            "not a moderation request".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn events_only_actions_are_refused() {
        assert!(!protocol::moderation::ModAction::AutoMute.is_request());
        assert!(super::room_of("@u_1+u_2").is_err());
        assert!(super::room_of("dev").is_ok());
    }
}

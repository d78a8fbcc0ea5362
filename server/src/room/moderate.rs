//! Moderation in the room task: who may join ([`Room::admit`]) and post
//! ([`Room::allowed`], with flood protection's automatic mute), and the
//! `moderate`, `mode` and `modlog` requests.
//!
//! An action is checked against the room's rules (ranks by
//! `protocol::moderation::may_act_on`), written to the moderation store,
//! and then kept as a `moderation` event in the room's log, which
//! acknowledges the requester with its `seq`. Its effects (roles, modes,
//! bans, removing a kicked identity's connections) follow when the log
//! delivers it, on this instance and every other, in `members.rs`.

use protocol::moderation::{self, ModAction, Role};
use protocol::{ErrorCode, ServerEvent, UserRef};

use super::log::{Draft, MessageLog, resend_key};
use super::members::Member;
use super::task::Room;
use super::{Asked, ModeChange, Post};
use crate::moderation::records;
use crate::moderation::rules::{PostKind, Refused};
use crate::outbound::Outbound;

fn unavailable(e: impl std::fmt::Display) -> Refused {
    tracing::warn!(error = %e, "moderation store unreachable");
    Refused {
        code: ErrorCode::Unavailable,
        message: "the moderation store cannot be reached right now; try again".into(),
        strike: false,
    }
}

fn forbidden(message: String) -> Refused {
    Refused {
        code: ErrorCode::Forbidden,
        message,
        strike: false,
    }
}

fn post_kind(post: &Post) -> PostKind<'_> {
    match post {
        Post::Text { text, .. } => PostKind::Text(text),
        Post::Location { .. } => PostKind::Location,
        Post::Topic { text } => PostKind::Topic(text),
    }
}

impl<L: MessageLog> Room<L> {
    /// Whether `member` may join: not banned, invited where that is needed
    /// (admins pass). The first joiner of a room without an owner becomes
    /// its owner.
    pub(super) async fn admit(&mut self, member: &Member) -> Result<(), Refused> {
        if self.members.is_dm() {
            return Ok(());
        }
        let admins = self.moderation.admins().await.map_err(unavailable)?;
        self.members.rules.admins = admins;
        let room = self.members.room().clone();
        let now = crate::clock::now_ms();
        self.members.rules.check_join(&room, &member.user, now)?;
        if self.members.rules.record.owner.is_none() {
            let store = self.moderation.store();
            let owner = records::claim_owner(store, &room, &member.user)
                .await
                .map_err(unavailable)?;
            self.members.rules.record.owner = Some(owner);
        }
        Ok(())
    }

    /// Whether the post of member `connection_id` may go on; a refusal is
    /// answered here (and a repeat flooder muted).
    pub(super) async fn allowed(
        &mut self,
        connection_id: u64,
        request_id: &str,
        post: &Post,
    ) -> bool {
        let Some(sender) = self.members.get(connection_id) else {
            return true; // gone: the post path says nothing either
        };
        let (user, name, outbound) = (
            sender.user.clone(),
            sender.name.clone(),
            sender.outbound.clone(),
        );
        let now = crate::clock::now_ms();
        let dm = self.members.is_dm();
        let kind = post_kind(post);
        let verdict = self.members.rules.check_post(
            self.members.room(),
            &user,
            kind,
            dm,
            self.moderation.filter(),
            now,
        );
        let refused = match verdict {
            Ok(()) => {
                self.members.rules.kept(&user, kind, now);
                return true;
            }
            Err(refused) => refused,
        };
        crate::metrics::moderation_refused(refused.code.as_str());
        let _ = outbound.send(&ServerEvent::ack_err(
            request_id,
            refused.code,
            refused.message,
        ));
        if refused.strike && !dm && self.members.rules.flood.strike(&user, now) {
            // Boxed: rare, and large enough to double the room task's
            // future, which every room keeps for as long as it runs.
            let target = UserRef {
                id: user.to_string(),
                name: name.to_string(),
            };
            Box::pin(self.auto_mute(target)).await;
        }
        false
    }

    /// Flood protection mutes a repeat offender in this room.
    async fn auto_mute(&mut self, target: UserRef) {
        let ts = crate::clock::now_ms();
        let request_id = format!("auto-mute-{}-{ts}", target.id);
        let event = self.event(ModAction::AutoMute, None, Some(target), ts);
        let event = with(
            event,
            Some("flooding".into()),
            Some(protocol::limits::AUTO_MUTE_S),
        );
        // Nobody asked: the acknowledgement goes nowhere.
        let (nobody, _) = Outbound::new(0, 1);
        self.keep(event, "server".into(), request_id, &nobody).await;
    }

    /// A `moderate` request.
    pub(super) async fn moderate(&mut self, connection_id: u64, request_id: String, asked: Asked) {
        let Some(actor) = self.members.get(connection_id).cloned() else {
            return;
        };
        match self.check_action(&actor, &asked).await {
            Ok(()) => {}
            Err(refused) => {
                let _ = actor.outbound.send(&ServerEvent::ack_err(
                    request_id,
                    refused.code,
                    refused.message,
                ));
                return;
            }
        }
        let (action, target, duration_s, reason) = asked;
        let ts = crate::clock::now_ms();
        let by = UserRef {
            id: actor.user.to_string(),
            name: actor.name.to_string(),
        };
        let event = self.event(action, Some(by), Some(target), ts);
        let duration_s = duration_s.filter(|_| action.takes_duration());
        let event = with(event, reason, duration_s);
        let key = resend_key(&actor.user, &actor.device);
        self.keep(event, key, request_id, &actor.outbound).await;
    }

    /// Whether `actor` may do what it asks.
    async fn check_action(&self, actor: &Member, asked: &Asked) -> Result<(), Refused> {
        let (action, target, _, _) = asked;
        let room = self.members.room();
        let rules = &self.members.rules;
        let mine = rules.role_of(&actor.user);
        if !moderation::is_operator(mine) {
            return Err(forbidden(format!("only operators of {room} may do that")));
        }
        let admin = match rules.admins.contains(&target.id) {
            true => true,
            false => self
                .moderation
                .admins()
                .await
                .map_err(unavailable)?
                .contains(&target.id),
        };
        let theirs = rules.record.role_of(&target.id, admin);
        if !moderation::may_act_on(mine, *action, theirs) {
            let why = match action {
                ModAction::Op | ModAction::Deop => {
                    format!("only the owner of {room} and server admins give or take operator")
                }
                _ => format!("{} ranks as high as you in {room}", target.name),
            };
            return Err(forbidden(why));
        }
        let now = crate::clock::now_ms();
        let state = match action {
            ModAction::Deop if theirs != Some(Role::Op) => Some("is not an operator"),
            ModAction::Devoice if theirs != Some(Role::Voice) => Some("has no voice"),
            ModAction::Unban if rules.record.ban(&target.id, now).is_none() => {
                Some("is not banned")
            }
            ModAction::Unmute if rules.record.mute(&target.id, now).is_none() => {
                Some("is not muted")
            }
            _ => None,
        };
        match state {
            Some(state) => Err(Refused {
                code: ErrorCode::NotFound,
                message: format!("{} {state} in {room}", target.name),
                strike: false,
            }),
            None => Ok(()),
        }
    }

    /// A `mode` request.
    pub(super) async fn change_modes(
        &mut self,
        connection_id: u64,
        request_id: String,
        change: ModeChange,
    ) {
        let Some(actor) = self.members.get(connection_id).cloned() else {
            return;
        };
        let room = self.members.room();
        if !moderation::is_operator(self.members.rules.role_of(&actor.user)) {
            let refused = forbidden(format!("only operators of {room} change its modes"));
            let _ = actor.outbound.send(&ServerEvent::ack_err(
                request_id,
                refused.code,
                refused.message,
            ));
            return;
        }
        let mut modes = self.members.rules.record.modes;
        modes.moderated = change.moderated.unwrap_or(modes.moderated);
        modes.invite_only = change.invite_only.unwrap_or(modes.invite_only);
        modes.topic_lock = change.topic_lock.unwrap_or(modes.topic_lock);
        modes.slow_s = change.slow_s.unwrap_or(modes.slow_s);
        modes.filter = change.filter.unwrap_or(modes.filter);
        let by = UserRef {
            id: actor.user.to_string(),
            name: actor.name.to_string(),
        };
        let mut event = self.event(ModAction::Mode, Some(by), None, crate::clock::now_ms());
        if let ServerEvent::Moderation { modes: m, .. } = &mut event {
            *m = Some(modes);
        }
        let key = resend_key(&actor.user, &actor.device);
        self.keep(event, key, request_id, &actor.outbound).await;
    }

    /// A `modlog` request: the latest moderation events, from the log.
    pub(super) async fn modlog(&mut self, connection_id: u64, request_id: String) {
        let Some(asker) = self.members.get(connection_id).cloned() else {
            return;
        };
        let room = self.members.room().to_string();
        if !moderation::is_operator(self.members.rules.role_of(&asker.user)) {
            let refused = forbidden(format!("only operators of {room} read its moderation log"));
            let _ = asker.outbound.send(&ServerEvent::ack_err(
                request_id,
                refused.code,
                refused.message,
            ));
            return;
        }
        match recent_actions(&self.log, self.members.delivered()).await {
            Ok(entries) => {
                let _ = asker.outbound.send(&ServerEvent::ModLog { room, entries });
                let _ = asker.outbound.send(&ServerEvent::ack_ok(request_id, None));
            }
            Err(e) => {
                let _ = asker.outbound.send(&ServerEvent::ack_err(
                    request_id,
                    e.code(),
                    e.client_message(),
                ));
            }
        }
    }

    /// A moderation event of this room, not numbered yet.
    fn event(
        &self,
        action: ModAction,
        actor: Option<UserRef>,
        target: Option<UserRef>,
        ts: protocol::TimestampMs,
    ) -> ServerEvent {
        ServerEvent::Moderation {
            room: self.members.room().to_string(),
            seq: 0,
            ts,
            action,
            actor,
            target,
            reason: None,
            duration_s: None,
            modes: None,
        }
    }

    /// Writes what `event` changes to the store, then keeps it in the log
    /// (which acknowledges `ack_to` with its `seq`, and delivers it).
    async fn keep(
        &mut self,
        event: ServerEvent,
        sender_key: String,
        request_id: String,
        ack_to: &Outbound,
    ) {
        let room = self.members.room().clone();
        if let Err(e) = records::persist(self.moderation.store(), &room, &event).await {
            let refused = unavailable(e);
            let _ = ack_to.send(&ServerEvent::ack_err(
                request_id,
                refused.code,
                refused.message,
            ));
            return;
        }
        if let ServerEvent::Moderation { action, .. } = &event {
            tracing::info!(room = %room, action = action.as_str(), "moderation");
        }
        // The room's rules change now, not when the event comes back from
        // the log: a second request queued behind this one (`/mode +t`
        // then `/slow 10`) must start from this one's result. Applying it
        // again on delivery changes nothing.
        self.members.rules.record.apply(&event);
        let ts = match &event {
            ServerEvent::Moderation { ts, .. } => *ts,
            _ => crate::clock::now_ms(),
        };
        let draft = Draft {
            sender_key,
            request_id,
            ts,
            event,
        };
        self.log.append(draft, ack_to).await;
    }
}

/// `event` with a reason and a duration.
fn with(mut event: ServerEvent, why: Option<String>, time: Option<u64>) -> ServerEvent {
    if let ServerEvent::Moderation {
        reason, duration_s, ..
    } = &mut event
    {
        *reason = why.filter(|r| !r.is_empty());
        *duration_s = time;
    }
    event
}

/// The room's latest moderation events, oldest first, at most
/// [`protocol::limits::MAX_MODLOG_ENTRIES`], looked for in at most a few
/// pages back from `upto`.
async fn recent_actions<L: MessageLog>(
    log: &L,
    upto: protocol::Seq,
) -> Result<Vec<ServerEvent>, super::LogError> {
    const PAGES: usize = 20;
    let max = protocol::limits::MAX_MODLOG_ENTRIES;
    let mut found = Vec::new();
    let mut upto = upto;
    for _ in 0..PAGES {
        if upto == 0 || found.len() >= max {
            break;
        }
        let page = log
            .page(0, upto, protocol::limits::MAX_HISTORY_PAGE)
            .await?;
        let mut oldest = upto;
        for frame in page.frames.iter().rev() {
            if let Ok(event) = protocol::decode_server(frame.as_str()) {
                if let Some(seq) = seq_of(&event) {
                    oldest = oldest.min(seq);
                }
                if matches!(event, ServerEvent::Moderation { .. }) && found.len() < max {
                    found.push(event);
                }
            }
        }
        if !page.more || oldest <= 1 || oldest == upto && page.frames.is_empty() {
            break;
        }
        upto = oldest - 1;
    }
    found.reverse();
    Ok(found)
}

fn seq_of(event: &ServerEvent) -> Option<protocol::Seq> {
    match event {
        ServerEvent::Message { seq, .. }
        | ServerEvent::Location { seq, .. }
        | ServerEvent::Topic { seq, .. }
        | ServerEvent::Moderation { seq, .. } => Some(*seq),
        _ => None,
    }
}

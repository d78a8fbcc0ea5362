//! The room loop: one task per room. It owns the room's members here and
//! its log, takes commands from the room's bounded queue and events from
//! the log, and talks to connections only through their outbound queues,
//! never waiting on them.
//!
//! A message's way through the room: the member's `Post` becomes a
//! [`Draft`], the log numbers and stores it and acknowledges the sender;
//! the log then hands it to [`Members::deliver`] in sequence order, which
//! passes the same bytes to every member. The posts taken in one turn of
//! the loop may be stored together (one Redis round trip for all of them).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use protocol::{ErrorCode, ServerEvent};
use tokio::sync::mpsc;

use super::history::UNREADABLE;
use super::log::{ClaimError, Claimed, Draft, LogError, MessageLog};
use super::members::{Member, Members};
use super::{HistoryLimits, JoinError, Joining, Post, Resume, Retire, RoomCommand};
use crate::conversations::Directory;
use crate::moderation::Moderation;
use crate::moderation::rules::RoomRules;

/// Commands handled per turn of the loop, at most.
const COMMAND_BATCH: usize = 64;

/// The room's state, owned by its task.
#[derive(Debug)]
pub(super) struct Room<L> {
    pub(super) members: Members,
    pub(super) log: L,
    pub(super) limits: HistoryLimits,
    pub(super) moderation: Arc<Moderation>,
}

/// Runs the room `name` until it is empty, has nothing in flight and nobody
/// is about to join; then retires it. `open` opens its log; a room whose log
/// cannot be opened refuses its joiners and retires at once.
///
/// The task's future lives as long as the room, idle or not, and is as
/// large as its largest state: opening the room and the rare commands (a
/// join, moderation, history) are boxed, so that only the message path is
/// in it (`footprint.rs` keeps it under a budget).
pub(crate) async fn run<L: MessageLog>(
    name: Arc<str>,
    mut commands: mpsc::Receiver<RoomCommand>,
    retire: impl Retire,
    limits: HistoryLimits,
    directory: Arc<Directory>,
    moderation: Arc<Moderation>,
    open: Pin<Box<impl Future<Output = Result<(L, protocol::Seq), LogError>>>>,
) {
    let opening = open_room(
        name,
        &mut commands,
        &retire,
        limits,
        directory,
        moderation,
        open,
    );
    let Some(mut room) = Box::pin(opening).await else {
        return;
    };
    // Grows to the largest turn this room has seen, not before: 64 commands
    // up front were 9 KB for every room, idle ones too.
    let mut batch = Vec::new();
    loop {
        tokio::select! {
            biased;
            event = room.log.next_event() => room.log.on_event(event, &mut room.members).await,
            n = commands.recv_many(&mut batch, COMMAND_BATCH) => {
                if n == 0 {
                    return;
                }
                for command in batch.drain(..) {
                    match command {
                        RoomCommand::Post {
                            connection_id,
                            request_id,
                            post,
                        } => room.post(connection_id, request_id, post).await,
                        command => {
                            room.log.flush().await;
                            Box::pin(room.handle(command)).await;
                        }
                    }
                }
                // The posts of this turn, stored in one go.
                room.log.flush().await;
            }
        }
        room.announce_departures().await;
        if room.is_idle() && retire.retire(&commands) {
            tracing::debug!(room = %room.members.room(), "room empty, retired");
            room.log.close();
            return;
        }
    }
}

/// Opens the room's log and reads its moderation record and topic. `None`:
/// it could not, and has refused its joiners and retired.
async fn open_room<L: MessageLog>(
    name: Arc<str>,
    commands: &mut mpsc::Receiver<RoomCommand>,
    retire: &impl Retire,
    limits: HistoryLimits,
    directory: Arc<Directory>,
    moderation: Arc<Moderation>,
    open: Pin<Box<impl Future<Output = Result<(L, protocol::Seq), LogError>>>>,
) -> Option<Room<L>> {
    let (log, last_seq) = match open.await {
        Ok(opened) => opened,
        Err(e) => {
            tracing::warn!(room = %name, error = %e, "cannot open room");
            refuse_all(commands, retire, e.code()).await;
            return None;
        }
    };
    let mut room = Room {
        members: Members::new(name.clone(), last_seq, directory),
        log,
        limits,
        moderation,
    };
    if !room.members.is_dm() {
        match room.moderation.room(&name).await {
            Ok(record) => room.members.rules = RoomRules::new(record),
            Err(e) => {
                // Without its bans the room must not open.
                tracing::warn!(room = %name, error = %e, "cannot read the room's moderation");
                room.log.close();
                refuse_all(commands, retire, ErrorCode::Unavailable).await;
                return None;
            }
        }
    }
    let topic = match room.log.topic().await {
        Ok(Some(kept)) => Some(kept),
        // None kept (set before topics were): look for the latest event.
        Ok(None) => last_topic(&room.log, last_seq).await,
        Err(e) => {
            tracing::warn!(room = %room.members.room(), error = %e, "cannot read the room's topic");
            last_topic(&room.log, last_seq).await
        }
    };
    if let Some(topic) = topic.filter(|t| !t.is_empty()) {
        room.members.set_topic(&topic);
    }
    Some(room)
}

impl<L: MessageLog> Room<L> {
    fn is_idle(&self) -> bool {
        self.members.is_empty() && self.log.is_idle()
    }

    async fn handle(&mut self, command: RoomCommand) {
        match command {
            RoomCommand::Join(joining) => {
                let Joining {
                    member,
                    request_id,
                    resume,
                    reply,
                } = *joining;
                let result = self.join(member, request_id, resume).await;
                // The joiner may have gone away meanwhile; nothing to do then.
                let _ = reply.send(result.map_err(JoinError::Refused));
            }
            RoomCommand::Leave {
                connection_id,
                request_id,
            } => {
                if let Some(member) = self.members.remove(connection_id)
                    && let Some(id) = request_id
                {
                    let _ = member.outbound.send(&ServerEvent::ack_ok(id, None));
                }
            }
            RoomCommand::Post {
                connection_id,
                request_id,
                post,
            } => self.post(connection_id, request_id, post).await,
            RoomCommand::Rename { user, name } => self.members.rename(&user, &name),
            RoomCommand::History {
                connection_id,
                request_id,
                before,
                limit,
            } => self.history(connection_id, request_id, before, limit).await,
            RoomCommand::Moderate {
                connection_id,
                request_id,
                asked,
            } => self.moderate(connection_id, request_id, *asked).await,
            RoomCommand::Mode {
                connection_id,
                request_id,
                change,
            } => self.change_modes(connection_id, request_id, change).await,
            RoomCommand::Modlog {
                connection_id,
                request_id,
            } => self.modlog(connection_id, request_id).await,
        }
    }

    /// Adds a member: registers it, sends it `room_state`, `history` and
    /// the `ack`, and announces its identity if it is the identity's first
    /// connection in the room. A refusal is answered here too.
    async fn join(
        &mut self,
        member: Member,
        request_id: String,
        resume: Resume,
    ) -> Result<(), ErrorCode> {
        let refuse = |member: &Member, code: ErrorCode, message: &str| {
            let _ = member
                .outbound
                .send(&ServerEvent::ack_err(request_id.clone(), code, message));
            Err(code)
        };
        if let Err(refused) = self.admit(&member).await {
            return refuse(&member, refused.code, &refused.message);
        }
        let Claimed { mut users, first } = match self.log.claim(&member, &self.members).await {
            Ok(claimed) => claimed,
            Err(ClaimError::Log(e)) => {
                tracing::warn!(room = %self.members.room(), error = %e, "cannot claim a name");
                return refuse(&member, e.code(), e.client_message());
            }
        };
        let directory = self.members.directory().clone();
        for user in &mut users {
            user.role = self.members.rules.role_of(&user.id);
        }
        if let Some([a, b]) = protocol::dm::parse_key(self.members.room()).map(|(a, b)| [a, b]) {
            // A conversation's roster is its two people, here or not.
            users = [a, b]
                .into_iter()
                .map(|id| {
                    let known = users.iter().find(|u| u.id == id).cloned();
                    known.unwrap_or_else(|| protocol::Member {
                        id: id.to_owned(),
                        name: directory
                            .name_of(id)
                            .map(|n| n.to_string())
                            .unwrap_or_default(),
                        away: directory.away_of(id),
                        role: None,
                    })
                })
                .collect();
        }
        let state = ServerEvent::RoomState {
            room: self.members.room().to_string(),
            users,
            topic: self.members.topic(),
            modes: self.members.rules.record.modes,
        };
        // A client moving from another instance may have seen more than this
        // one has delivered yet: catch up first, so its `since` is covered.
        if let Some(since) = resume.since
            && since > self.members.delivered()
            && resume.epoch.as_deref() == Some(self.log.epoch())
        {
            self.log.resync(since, &mut self.members).await;
        }
        let history = match self.history_for_joiner(&resume).await {
            Ok(frame) => frame,
            Err(_) => {
                self.log.release(member.id(), false).await;
                return refuse(&member, ErrorCode::Unavailable, UNREADABLE);
            }
        };
        let queued = if resume.silent {
            Ok(())
        } else {
            member.outbound.send(&state)
        };
        let queued = queued
            .and_then(|()| {
                history
                    .into_iter()
                    .filter(|_| !resume.silent)
                    .try_for_each(|frame| member.outbound.push(frame))
            })
            .and_then(|()| match resume.silent {
                true => Ok(()),
                false => member
                    .outbound
                    .send(&ServerEvent::ack_ok(request_id.clone(), None)),
            });
        if queued.is_err() {
            self.log.release(member.id(), false).await;
            return Err(ErrorCode::SlowConsumer);
        }
        let id = member.id();
        let user = member.user.clone();
        let joined = self.members.joined_frame(&member.name, &user);
        self.members.add(member);
        crate::metrics::joined();
        // Conversations have no presence events.
        if first && !self.members.is_dm() {
            self.log
                .announce_join(id, &user, &joined, &mut self.members)
                .await;
        }
        Ok(())
    }

    async fn post(&mut self, connection_id: u64, request_id: String, post: Post) {
        if !self.allowed(connection_id, &request_id, &post).await {
            return;
        }
        let Some(sender) = self.members.get(connection_id) else {
            // The sender was dropped as a slow consumer while its request was
            // queued; its connection is closing and needs no answer.
            return;
        };
        crate::metrics::message_in();
        let draft = Draft::new(self.members.room(), sender, request_id, post);
        self.log.append(draft, &sender.outbound).await;
    }

    /// Announces everyone who left since the last call.
    async fn announce_departures(&mut self) {
        // Bounded: each round removes members, and there are finitely many.
        for _ in 0..10_000 {
            let departed = self.members.take_departed();
            if departed.is_empty() {
                return;
            }
            for d in departed {
                if self.log.release(d.connection_id, d.last_here).await && !self.members.is_dm() {
                    let left = self.members.left_frame(&d.name, &d.user);
                    self.log.announce_left(&left, &mut self.members).await;
                }
            }
        }
    }
}

/// The room's topic where none is kept beside the log (a store from before
/// topics were kept): the text of its latest `topic` event, looked for in
/// at most a few pages back from `last_seq`.
async fn last_topic<L: MessageLog>(log: &L, last_seq: protocol::Seq) -> Option<String> {
    const PAGES: usize = 20;
    let mut upto = last_seq;
    for _ in 0..PAGES {
        if upto == 0 {
            return None;
        }
        let page = log
            .page(0, upto, protocol::limits::MAX_HISTORY_PAGE)
            .await
            .ok()?;
        let mut oldest = upto;
        for frame in page.frames.iter().rev() {
            match protocol::decode_server(frame.as_str()) {
                Ok(ServerEvent::Topic { text, .. }) => return Some(text),
                Ok(
                    ServerEvent::Message { seq, .. }
                    | ServerEvent::Location { seq, .. }
                    | ServerEvent::Moderation { seq, .. },
                ) => {
                    oldest = oldest.min(seq);
                }
                _ => {}
            }
        }
        if !page.more || oldest <= 1 {
            return None;
        }
        upto = oldest - 1;
    }
    None
}

/// A room that cannot open its log answers joins with an error and retires.
async fn refuse_all(
    commands: &mut mpsc::Receiver<RoomCommand>,
    retire: &impl Retire,
    code: ErrorCode,
) {
    loop {
        while let Ok(command) = commands.try_recv() {
            if let RoomCommand::Join(joining) = command {
                let Joining {
                    member,
                    request_id,
                    reply,
                    ..
                } = *joining;
                let _ = member.outbound.send(&ServerEvent::ack_err(
                    request_id,
                    code,
                    "the room is unavailable right now; try again",
                ));
                let _ = reply.send(Err(JoinError::Refused(code)));
            }
        }
        if retire.retire(commands) {
            return;
        }
        tokio::task::yield_now().await;
    }
}

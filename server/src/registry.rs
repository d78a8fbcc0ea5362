//! The room registry: finds the task of a room by name, starting one on
//! first join on the server's backend, and gives each task a `Seat` to
//! retire itself with once it has emptied.
//!
//! The lock here is a plain `std` mutex held only to look up or insert a
//! map entry, never across an `await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

use crate::conversations::Directory;
use crate::moderation::Moderation;
use crate::rate_limit::TokenBucket;
use crate::room::{
    Backend, COMMAND_QUEUE, HistoryLimits, JoinError, Joining, Member, Resume, Retire, RoomCommand,
};

/// A cheap handle to a running room task.
#[derive(Debug, Clone)]
pub struct RoomHandle {
    commands: mpsc::Sender<RoomCommand>,
}

impl RoomHandle {
    /// Sends a command, waiting if the room's queue is full. Returns false
    /// if the room has stopped (it had emptied and retired).
    pub async fn send(&self, command: RoomCommand) -> bool {
        self.commands.send(command).await.is_ok()
    }

    /// A handle to no task, and the receiving end of its queue.
    #[cfg(test)]
    pub fn for_test() -> (RoomHandle, mpsc::Receiver<RoomCommand>) {
        let (commands, receiver) = mpsc::channel(1);
        (RoomHandle { commands }, receiver)
    }
}

/// All rooms of this server.
#[derive(Debug)]
pub struct Registry {
    running: Mutex<HashMap<Arc<str>, RoomHandle>>,
    backend: Backend,
    limits: HistoryLimits,
    /// Rooms that may run at once.
    max_rooms: usize,
    /// The identities connected here, handed to every room.
    directory: Arc<Directory>,
    /// Moderation's store and filter, handed to every room.
    moderation: Arc<Moderation>,
}

impl Registry {
    pub fn new(
        backend: Backend,
        limits: HistoryLimits,
        max_rooms: usize,
        directory: Arc<Directory>,
        moderation: Arc<Moderation>,
    ) -> Self {
        Registry {
            running: Mutex::new(HashMap::new()),
            backend,
            limits,
            max_rooms,
            directory,
            moderation,
        }
    }

    /// The identities connected here.
    pub fn directory(&self) -> &Arc<Directory> {
        &self.directory
    }

    /// The handle of `room` if its task is running here.
    pub fn running(&self, room: &str) -> Option<RoomHandle> {
        self.lock().get(room).cloned()
    }

    /// Where rooms keep their messages.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, RoomHandle>> {
        // A panic while holding this lock leaves a consistent map (every
        // operation is a single insert or remove), so poisoning is ignored.
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The handle of `room`, starting its task if it is not running, the
    /// server runs fewer rooms than it allows, and `creations` has a token.
    fn handle(
        self: &Arc<Self>,
        room: &str,
        creations: &mut TokenBucket,
    ) -> Result<RoomHandle, JoinError> {
        let mut rooms = self.lock();
        if let Some(handle) = rooms.get(room) {
            return Ok(handle.clone());
        }
        if rooms.len() >= self.max_rooms {
            return Err(JoinError::ServerFull(self.max_rooms));
        }
        if !creations.try_take() {
            return Err(JoinError::CreatingTooFast);
        }
        let name: Arc<str> = Arc::from(room);
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let handle = RoomHandle { commands: tx };
        rooms.insert(name.clone(), handle.clone());
        crate::metrics::rooms(rooms.len());
        let seat = Seat {
            registry: self.clone(),
            room: name.clone(),
        };
        let shared = (self.directory.clone(), self.moderation.clone());
        self.backend.spawn_room(name, rx, seat, self.limits, shared);
        Ok(handle)
    }

    /// Adds `member` to `room` (validated by the caller). The room sends the
    /// joiner its answer; this returns the room's handle on success. A room
    /// that is not running is started if the server's room limit and the
    /// joiner's `creations` allow it.
    pub async fn join(
        self: &Arc<Self>,
        room: &str,
        member: Member,
        request_id: &str,
        resume: Resume,
        creations: &mut TokenBucket,
    ) -> Result<RoomHandle, JoinError> {
        // A room may retire between our lookup and our command reaching it;
        // its task then drops the command (and our reply sender) and we start
        // over with a fresh task. The bound only guards against a bug.
        for _ in 0..8 {
            let handle = self.handle(room, creations)?;
            let (reply, answer) = oneshot::channel();
            let command = RoomCommand::Join(Box::new(Joining {
                member: member.clone(),
                request_id: request_id.to_owned(),
                resume: resume.clone(),
                reply,
            }));
            if !handle.send(command).await {
                continue;
            }
            match answer.await {
                Ok(result) => return result.map(|()| handle),
                Err(_) => continue,
            }
        }
        Err(JoinError::Unreachable)
    }

    /// Number of rooms with a running task.
    pub fn running_rooms(&self) -> usize {
        self.lock().len()
    }
}

/// A running room's place in the registry, handed to its task so that it
/// can retire itself.
#[derive(Debug)]
struct Seat {
    registry: Arc<Registry>,
    room: Arc<str>,
}

impl Retire for Seat {
    fn retire(&self, commands: &mpsc::Receiver<RoomCommand>) -> bool {
        // Checked under the lock: a joiner that found the room before this
        // has already queued its command, and one after starts a new task.
        let mut rooms = self.registry.lock();
        if !commands.is_empty() {
            return false;
        }
        rooms.remove(&self.room);
        // The map keeps the capacity of its busiest moment; give it back
        // once it is mostly empty, so a wave of rooms leaves nothing behind.
        if rooms.capacity() > 64 && rooms.len() < rooms.capacity() / 4 {
            let keep = rooms.len() * 2;
            rooms.shrink_to(keep);
        }
        crate::metrics::rooms(rooms.len());
        true
    }
}

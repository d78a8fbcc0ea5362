//! The room registry: finds the task of a room by name, starting one on
//! first join on the server's backend, and gives each task a `Seat` to
//! retire itself with once it has emptied.
//!
//! The lock here is a plain `std` mutex held only to look up or insert a
//! map entry, never across an `await`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

use crate::room::{
    Backend, COMMAND_QUEUE, HistoryLimits, JoinError, Member, Resume, Retire, RoomCommand,
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
}

/// All rooms of this server.
#[derive(Debug)]
pub struct Registry {
    running: Mutex<HashMap<Arc<str>, RoomHandle>>,
    backend: Backend,
    limits: HistoryLimits,
}

impl Registry {
    pub fn new(backend: Backend, limits: HistoryLimits) -> Self {
        Registry {
            running: Mutex::new(HashMap::new()),
            backend,
            limits,
        }
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

    /// The handle of `room`, starting its task if it is not running.
    fn handle(self: &Arc<Self>, room: &str) -> RoomHandle {
        let mut rooms = self.lock();
        if let Some(handle) = rooms.get(room) {
            return handle.clone();
        }
        let name: Arc<str> = Arc::from(room);
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let handle = RoomHandle { commands: tx };
        rooms.insert(name.clone(), handle.clone());
        let seat = Seat {
            registry: self.clone(),
            room: name.clone(),
        };
        self.backend.spawn_room(name, rx, seat, self.limits);
        handle
    }

    /// Adds `member` to `room` (validated by the caller). The room sends the
    /// joiner its answer; this returns the room's handle on success.
    pub async fn join(
        self: &Arc<Self>,
        room: &str,
        member: Member,
        request_id: &str,
        since: Option<protocol::Seq>,
        epoch: Option<&str>,
    ) -> Result<RoomHandle, JoinError> {
        // A room may retire between our lookup and our command reaching it;
        // its task then drops the command (and our reply sender) and we start
        // over with a fresh task. The bound only guards against a bug.
        for _ in 0..8 {
            let handle = self.handle(room);
            let (reply, answer) = oneshot::channel();
            let command = RoomCommand::Join {
                member: member.clone(),
                request_id: request_id.to_owned(),
                resume: Resume {
                    since,
                    epoch: epoch.map(str::to_owned),
                },
                reply,
            };
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
        true
    }
}

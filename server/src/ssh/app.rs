//! One ssh session's chat, from the shell (or command) request to the
//! goodbye: the session limits, a terminal required, the first screen for
//! an unknown key, the rooms to open, chat-tui's app over the channel
//! (`tui_client::remote`) with its connections through the in-process
//! transport, the idle timeout, and the closing words with an exit status.
//!
//! Output backpressure: the app hands over at most one frame at a time
//! (a channel of one slot to the writer task below); the writer waits for
//! the client's ssh window, so a client that stops reading stops the
//! drawing (the app skips the frames in between) instead of growing
//! memory.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use russh::ChannelWriteHalf;
use russh::server::{Handle, Msg};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tui_client::remote::{
    self, Answer, BoxSocket, Dialer, Exit, Incoming, RemoteOptions, RemoteSignIn, TerminalInfo,
};

use super::Ssh;
use super::auth::{self, Standing};
use super::transport::InProcess;
use crate::Shared;
use crate::identity::keys::{PreAuth, SshKey};

/// What a shell or command request starts.
#[derive(Debug)]
pub(super) struct Request {
    pub shared: Arc<Shared>,
    pub ssh: Arc<Ssh>,
    pub peer: SocketAddr,
    pub ssh_user: String,
    pub key: SshKey,
    /// Room names from the command line (none: the last rooms).
    pub rooms: Vec<String>,
    pub terminal: Option<TerminalInfo>,
    pub no_color: bool,
    pub input: mpsc::Receiver<Incoming>,
    /// Ends the app's input (the idle timeout).
    pub stop: mpsc::Sender<Incoming>,
    pub last_key: LastKey,
}

/// How a session ended, for the exit status and the last words.
struct Ending {
    status: u32,
    words: Option<String>,
}

impl Ending {
    fn quiet() -> Self {
        Ending {
            status: 0,
            words: None,
        }
    }

    fn refused(words: impl Into<String>) -> Self {
        Ending {
            status: 1,
            words: Some(words.into()),
        }
    }
}

/// Runs the chat on `channel` until it ends, then says why and closes it.
pub(super) async fn run(request: Request, writer: ChannelWriteHalf<Msg>, handle: Handle) {
    let id = writer.id();
    // The one slot between the app and the channel.
    let (frames, queued) = mpsc::channel::<Vec<u8>>(1);
    let writing = tokio::spawn(write_frames(writer, queued));
    let ending = chat(request, frames.clone()).await;
    if let Some(words) = &ending.words {
        let line = format!("{}\r\n", words.replace('\n', "\r\n"));
        let _ = frames.send(line.into_bytes()).await;
    }
    drop(frames);
    if let Ok(writer) = writing.await {
        let _ = writer.exit_status(ending.status).await;
        let _ = writer.eof().await;
        let _ = writer.close().await;
    } else {
        let _ = handle.close(id).await;
    }
}

/// Writes each frame to the channel, waiting for the client's window.
async fn write_frames(
    writer: ChannelWriteHalf<Msg>,
    mut queued: mpsc::Receiver<Vec<u8>>,
) -> ChannelWriteHalf<Msg> {
    while let Some(frame) = queued.recv().await {
        if writer.data_bytes(frame).await.is_err() {
            break;
        }
    }
    writer
}

async fn chat(request: Request, mut frames: mpsc::Sender<Vec<u8>>) -> Ending {
    let shared = request.shared.clone();
    let _permit = match request.ssh.sessions.admit(request.peer.ip()) {
        Ok(permit) => permit,
        Err(refusal) => {
            tracing::debug!(peer = %request.peer, %refusal, "ssh session refused");
            return Ending::refused(format!(
                "chat-server: {}: no more ssh sessions for now; try again later.",
                refusal
            ));
        }
    };
    let Some(terminal) = request.terminal.clone() else {
        return Ending::refused(
            "chat-server: the chat needs a terminal; connect with ssh -t (for rooms: ssh -t HOST dev ops).",
        );
    };
    let idle = request.ssh.config.idle_timeout;
    let (mut input, last_key) = (request.input, request.last_key);
    let signed = match auth::sign_in(&shared.identities, &request.key, &request.ssh_user).await {
        Ok(Standing::Known(who)) => RemoteSignIn {
            user: who.user.to_string(),
            name: who.name.to_string(),
            device: who.device.to_string(),
        },
        Ok(Standing::Unknown { message }) => {
            let claim = claimer(shared.clone(), request.key.clone());
            let first =
                remote::first_screen(terminal.clone(), message, &mut input, &mut frames, claim);
            match with_idle(first, &last_key, idle).await {
                Some(Ok(Some(signed))) => signed,
                Some(Ok(None)) => return Ending::quiet(),
                Some(Err(e)) => return Ending::refused(format!("chat-server: {e}")),
                None => return idle_ending(idle),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "ssh sign-in failed");
            return Ending::refused(format!("chat-server: {e}"));
        }
    };
    let rooms = rooms_to_open(&shared, &signed.user, request.rooms).await;
    let pre = PreAuth::new(&signed.user, &signed.device, &request.key);
    let dialer: Arc<dyn Dialer> = Arc::new(InProcessDialer(InProcess::new(shared.clone(), pre)));
    let mut options = RemoteOptions::new(terminal, rooms, "chat-server over ssh".into());
    options.no_color = request.no_color;
    let running = remote::run(options, signed, input, frames.clone(), dialer);
    tokio::pin!(running);
    let exit = tokio::select! {
        exit = &mut running => Some(exit),
        () = idle_expired(&last_key, idle) => None,
    };
    let exit = match exit {
        Some(exit) => exit,
        None => {
            // Let the app leave the screen as it always does.
            let _ = request.stop.send(Incoming::Closed).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), &mut running).await;
            return idle_ending(idle);
        }
    };
    match exit {
        Ok(Exit::Quit) | Ok(Exit::Gone) => Ending::quiet(),
        // The app said why on the terminal already.
        Ok(Exit::Fatal(_)) => Ending {
            status: 1,
            words: None,
        },
        Err(e) => Ending::refused(format!("chat-server: {e}")),
    }
}

fn idle_ending(idle: Duration) -> Ending {
    Ending::refused(format!(
        "chat-server: no key pressed for {} minutes; closing. Come back any time.",
        idle.as_secs().div_ceil(60)
    ))
}

/// The rooms a session opens: those named on the command line, else the
/// identity's last rooms, else `lobby`.
async fn rooms_to_open(shared: &Shared, user: &str, named: Vec<String>) -> Vec<String> {
    if !named.is_empty() {
        return named;
    }
    match shared.identities.store().last_rooms(user).await {
        Ok(rooms) if !rooms.is_empty() => rooms,
        Ok(_) => vec!["lobby".into()],
        Err(e) => {
            tracing::debug!(error = %e, "last rooms unknown");
            vec!["lobby".into()]
        }
    }
}

/// The first screen's answers, tried against the identity store.
fn claimer(
    shared: Arc<Shared>,
    key: SshKey,
) -> impl FnMut(Answer) -> BoxFuture<'static, Result<RemoteSignIn, String>> + Send {
    move |answer| {
        let (shared, key) = (shared.clone(), key.clone());
        async move {
            let identities = &shared.identities;
            let signed = match &answer {
                Answer::Name(name) => identities.claim_with_key(name, &key).await,
                Answer::LinkCode(code) => identities.link_key(code, &key).await,
            };
            match signed {
                Ok(who) => Ok(RemoteSignIn {
                    user: who.user.to_string(),
                    name: who.name.to_string(),
                    device: who.device.to_string(),
                }),
                Err(crate::identity::SignInError::NameClaimed(name)) => Err(format!(
                    "The name {name} belongs to someone else. Pick another, or enter a link code."
                )),
                Err(e) => Err(e.to_string()),
            }
        }
        .boxed()
    }
}

/// Opens the app's connections in process.
#[derive(Debug)]
struct InProcessDialer(InProcess);

impl Dialer for InProcessDialer {
    fn dial(&self) -> BoxFuture<'static, Result<BoxSocket, String>> {
        let socket: BoxSocket = Box::new(self.0.open());
        async move { Ok(socket) }.boxed()
    }

    fn describe(&self) -> String {
        "chat-server".into()
    }
}

/// When a key was last pressed (set by the session's handler).
pub(super) type LastKey = Arc<std::sync::Mutex<Instant>>;

/// Completes once no key was pressed for `idle`.
async fn idle_expired(last: &LastKey, idle: Duration) {
    loop {
        let due = *last.lock().unwrap_or_else(|e| e.into_inner()) + idle;
        if Instant::now() >= due {
            return;
        }
        tokio::time::sleep_until(due).await;
    }
}

/// `future`, unless the person is idle for `idle` first.
async fn with_idle<T>(
    future: impl Future<Output = T>,
    last: &LastKey,
    idle: Duration,
) -> Option<T> {
    tokio::select! {
        out = future => Some(out),
        () = idle_expired(last, idle) => None,
    }
}

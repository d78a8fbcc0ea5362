//! chat-tui over bytes: the whole app (the same core, key map, commands,
//! sidebar, history paging and resume) for a terminal at the other end of
//! an ssh channel instead of this process's own.
//!
//! The ssh side (in the server) owns the channel. It hands in what the
//! channel brings ([`Incoming`]: bytes typed, window changes, the end), an
//! [`Output`] that takes drawn frames, and a [`Dialer`] that opens an
//! in-process connection into the server's connection loop. [`run`] then
//! does what `chat-tui` does on a local terminal:
//!
//! - drawing goes through a ratatui backend that writes into a frame; at
//!   most one frame is in flight, and while the channel cannot take one the
//!   app keeps changing its state but does not draw: the next frame shows
//!   the latest state, diffed from the last frame handed over (intermediate
//!   frames are skipped, never queued);
//! - input bytes are decoded into key, paste and resize events, the same
//!   events the local key map reads;
//! - colours follow the terminal type (256 where it says so, else 16;
//!   none with `NO_COLOR`), the bell rings on mentions;
//! - the network actor dials with the [`Dialer`]; a reconnect dials again.
//!
//! [`first_screen`] asks a person with an unknown key for a name (or a link
//! code) before [`run`].

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use crate::config::{Bell, Clock};
use crate::zone::Zone;

mod channel;
mod first_screen;
pub mod input;
mod session;

pub use crate::net::transport::{BoxSocket, Dialer, EndpointDialer, FrameSocket};
pub use channel::{ENTER, LEAVE, MAX_COLS, MAX_ROWS};

/// The terminal at the other end, from the ssh pty request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerminalInfo {
    /// `TERM` as the client sent it (`xterm-256color`, `screen`, `dumb`...).
    pub term: String,
    pub cols: u16,
    pub rows: u16,
}

/// What the ssh channel brings in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// Bytes the person typed or pasted, as the terminal sent them.
    Data(Vec<u8>),
    /// A window-change request.
    Resize { cols: u16, rows: u16 },
    /// The channel closed (end of file, or the client went away).
    Closed,
}

/// The channel can take no more: the person has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the terminal's channel is closed")]
pub struct Closed;

/// Where drawn bytes go; the ssh side implements it (or uses the ready-made
/// implementation for a bounded [`mpsc::Sender`], whose receiving task
/// writes each frame to the channel).
///
/// The app calls [`Output::ready`] and draws only once it resolves, then
/// hands the frame to [`Output::send`]. So a client that stops reading
/// holds at most one frame (plus the one being written) and the app skips
/// the frames in between.
pub trait Output: Send + 'static {
    /// Resolves when one more frame can be handed over. It must be cancel
    /// safe: the app may drop it (something else happened first) and ask
    /// again later.
    fn ready(&mut self) -> BoxFuture<'_, Result<(), Closed>>;
    /// Hands over one frame; called only after [`Output::ready`] resolved
    /// (and nothing else was sent since).
    fn send(&mut self, frame: Vec<u8>) -> Result<(), Closed>;
}

/// A bounded channel to a task that writes frames out: `ready` waits for a
/// free slot, `send` fills it. Give it a capacity of 1.
impl Output for mpsc::Sender<Vec<u8>> {
    fn ready(&mut self) -> BoxFuture<'_, Result<(), Closed>> {
        Box::pin(async move {
            // Taking and dropping the permit leaves the slot free; this is
            // the only producer, so `send` finds it free.
            self.reserve().await.map(drop).map_err(|_| Closed)
        })
    }

    fn send(&mut self, frame: Vec<u8>) -> Result<(), Closed> {
        self.try_send(frame).map_err(|_| Closed)
    }
}

/// Who this ssh person is: already authenticated by key as this identity
/// and device. The app says an ordinary `hello` with `name` set; the
/// server's handshake signs in `user`/`device` for its pre-authenticated
/// in-process peer and ignores the hello's name and credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSignIn {
    pub user: String,
    pub name: String,
    pub device: String,
}

/// How [`run`] shows things; fixed for a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteOptions {
    /// Rooms to open (the ssh command line's, or the person's last rooms).
    pub rooms: Vec<String>,
    pub terminal: TerminalInfo,
    /// `NO_COLOR` was set by the client (ssh `SetEnv`): no colours.
    pub no_color: bool,
    /// What the status line calls the server (e.g. `ssh chat.example.com`).
    pub server_label: String,
    pub clock: Clock,
    /// The clock timestamps are shown in; the server's local time means
    /// nothing to the person, so UTC unless the client says otherwise.
    pub zone: Zone,
    pub bell: Bell,
    /// Scroll the message pane with the terminal's scrolling region (far
    /// fewer bytes per new message); `false` always redraws what moved.
    /// Terminals known not to have scrolling regions never use it.
    pub scroll_region: bool,
}

impl RemoteOptions {
    /// The defaults: 12-hour clock in UTC, bell on mentions, colours by
    /// `TERM`, scrolling region on.
    pub fn new(terminal: TerminalInfo, rooms: Vec<String>, server_label: String) -> Self {
        RemoteOptions {
            rooms,
            terminal,
            no_color: false,
            server_label,
            clock: Clock::default(),
            zone: Zone::Fixed(chrono::FixedOffset::east_opt(0).expect("UTC is an offset")),
            bell: Bell::default(),
            scroll_region: true,
        }
    }
}

/// How [`run`] ended; the ssh side closes the channel accordingly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The person quit (`/quit`, Ctrl-C, Ctrl-D on an empty line).
    Quit,
    /// The input ended ([`Incoming::Closed`]: the client went, or the
    /// server ends the session, e.g. when idle) or the channel stopped
    /// taking frames. The bytes that give the terminal back were still
    /// sent, if the channel took them within 2 s.
    Gone,
    /// The server will not have this person (refused, signed out/revoked):
    /// one line to write on the normal screen before closing.
    Fatal(String),
}

/// What went wrong on the way (not a normal ending).
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("drawing failed: {0}")]
    Draw(String),
}

/// Runs chat-tui for one ssh channel until the person quits, goes away or
/// is refused. Enters the alternate screen with bracketed paste on the
/// channel first and leaves it again on every way out (the bytes to leave
/// are the last frame sent, followed by the line of an [`Exit::Fatal`]).
/// The screen is at most [`MAX_COLS`] x [`MAX_ROWS`], whatever the client
/// says.
pub async fn run(
    options: RemoteOptions,
    sign_in: RemoteSignIn,
    input: mpsc::Receiver<Incoming>,
    output: impl Output,
    dialer: std::sync::Arc<dyn Dialer>,
) -> Result<Exit, RemoteError> {
    session::run(options, sign_in, input, output, dialer).await
}

/// An answer on the first screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A name to claim.
    Name(String),
    /// A code from `/link` on another device of the person's.
    LinkCode(String),
}

/// The first screen for a key the server does not know: shows `message`
/// (e.g. "the name ann belongs to someone else: pick another name, or enter
/// a link code from one of your devices") above a prompt and calls `claim`
/// with each answer. A refusal (`Err(text)`) is shown and the prompt stays.
/// `Ok(None)`: the person left (Ctrl-C, Ctrl-D, or the input closed).
/// Draws on the alternate screen and leaves it before returning. A caller
/// that drops this future (or [`run`]'s) before it ends, e.g. on a
/// timeout, should write [`LEAVE`] itself before its last words.
pub async fn first_screen<O, C>(
    terminal: TerminalInfo,
    message: String,
    input: &mut mpsc::Receiver<Incoming>,
    output: &mut O,
    claim: C,
) -> Result<Option<RemoteSignIn>, RemoteError>
where
    O: Output,
    C: FnMut(Answer) -> BoxFuture<'static, Result<RemoteSignIn, String>> + Send,
{
    first_screen::first_screen(terminal, message, input, output, claim).await
}

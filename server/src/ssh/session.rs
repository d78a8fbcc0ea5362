//! One ssh connection's handler: authentication by public key, then one
//! session channel at a time with its pty, environment and shell or
//! command; what the person types and window changes go to the app (see
//! `app.rs`), started by the shell or command request.

use std::net::SocketAddr;
use std::sync::Arc;

use russh::server::{Auth, ChannelOpenHandle, Msg, Session, VerifiedPublicKey};
use russh::{Channel, ChannelId, ChannelWriteHalf};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tui_client::remote::Incoming;

use super::Ssh;
use super::app::{self, LastKey, Request};
use crate::Shared;
use crate::identity::keys::SshKey;

/// Bytes and window changes waiting for the app, at most (each up to a
/// packet): typing never gets near it; a paste of megabytes waits on the
/// connection instead of in memory.
const INPUT_QUEUE: usize = 32;

/// Why a handler call failed: the connection is closed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Ssh(#[from] russh::Error),
}

/// The handler of one ssh connection.
#[derive(Debug)]
pub struct Connection {
    shared: Arc<Shared>,
    ssh: Arc<Ssh>,
    peer: SocketAddr,
    /// Set once a key authenticated: the ssh user name and the key.
    signed: Option<(String, SshKey)>,
    /// Cancelled when a key authenticated (the login timeout stops).
    pub(super) authenticated: CancellationToken,
    /// The session channel, until its shell or command starts.
    channel: Option<Pending>,
    /// Where typed bytes and window changes go, once a channel is open.
    input: Option<(ChannelId, mpsc::Sender<Incoming>)>,
    /// When the person last typed (the idle timeout).
    last_key: LastKey,
}

/// A session channel being set up.
#[derive(Debug)]
struct Pending {
    /// Its writing half. Input comes through this handler's callbacks; an
    /// unread reading half would hold russh's connection task up once its
    /// small buffer filled, so it is dropped at once.
    channel: ChannelWriteHalf<Msg>,
    input: mpsc::Receiver<Incoming>,
    stop: mpsc::Sender<Incoming>,
    terminal: Option<tui_client::remote::TerminalInfo>,
    no_color: bool,
}

impl Connection {
    pub fn new(shared: Arc<Shared>, ssh: Arc<Ssh>, peer: SocketAddr) -> Self {
        Connection {
            shared,
            ssh,
            peer,
            signed: None,
            authenticated: CancellationToken::new(),
            channel: None,
            input: None,
            last_key: Arc::new(std::sync::Mutex::new(tokio::time::Instant::now())),
        }
    }

    /// Starts the app on the pending channel (a shell or a command).
    fn start(&mut self, id: ChannelId, command: &str, session: &mut Session) {
        let (Some(pending), Some((user, key))) = (self.channel.take(), self.signed.clone()) else {
            let _ = session.channel_failure(id);
            return;
        };
        if pending.channel.id() != id {
            let _ = session.channel_failure(id);
            return;
        }
        let _ = session.channel_success(id);
        let request = Request {
            shared: self.shared.clone(),
            ssh: self.ssh.clone(),
            peer: self.peer,
            ssh_user: user,
            key,
            rooms: command.split_whitespace().map(str::to_owned).collect(),
            terminal: pending.terminal,
            no_color: pending.no_color,
            input: pending.input,
            stop: pending.stop,
            last_key: self.last_key.clone(),
        };
        self.shared
            .connections
            .spawn(app::run(request, pending.channel, session.handle()));
    }

    async fn forward(&mut self, id: ChannelId, incoming: Incoming) {
        if let Some((channel, input)) = &self.input
            && *channel == id
            && input.send(incoming).await.is_err()
        {
            self.input = None;
        }
    }
}

impl russh::server::Handler for Connection {
    type Error = SessionError;

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        // Any verified key gets in: one bound to an identity signs in as
        // it, an unknown one may claim a name (`app.rs`).
        let key = super::auth::key_of(key.public_key);
        tracing::debug!(peer = %self.peer, %key, "ssh key authenticated");
        self.signed = Some((user.to_owned(), key));
        self.authenticated.cancel();
        Ok(Auth::Accept)
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _: &mut Session,
    ) -> Result<(), Self::Error> {
        // One chat per connection at a time.
        if self.channel.is_some() || self.input.is_some() {
            return Ok(()); // dropping `reply` refuses the channel
        }
        let (tx, rx) = mpsc::channel(INPUT_QUEUE);
        self.input = Some((channel.id(), tx.clone()));
        let (reader, channel) = channel.split();
        drop(reader);
        self.channel = Some(Pending {
            channel,
            input: rx,
            stop: tx,
            terminal: None,
            no_color: false,
        });
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        id: ChannelId,
        term: &str,
        cols: u32,
        rows: u32,
        _: u32,
        _: u32,
        _: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channel.as_mut().filter(|p| p.channel.id() == id) {
            Some(pending) => {
                pending.terminal = Some(tui_client::remote::TerminalInfo {
                    term: term.chars().take(64).collect(),
                    cols: dimension(cols, 80),
                    rows: dimension(rows, 24),
                });
                session.channel_success(id)?;
            }
            None => session.channel_failure(id)?,
        }
        Ok(())
    }

    async fn env_request(
        &mut self,
        id: ChannelId,
        name: &str,
        _: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        match self.channel.as_mut().filter(|p| p.channel.id() == id) {
            Some(pending) if name == "NO_COLOR" => {
                pending.no_color = true;
                session.channel_success(id)?;
            }
            _ => session.channel_failure(id)?,
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        id: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.start(id, "", session);
        Ok(())
    }

    async fn exec_request(
        &mut self,
        id: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let command = String::from_utf8_lossy(&data[..data.len().min(4096)]).into_owned();
        self.start(id, &command, session);
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        id: ChannelId,
        _: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(id)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        id: ChannelId,
        cols: u32,
        rows: u32,
        _: u32,
        _: u32,
        _: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(pending) = self.channel.as_mut().filter(|p| p.channel.id() == id)
            && let Some(terminal) = pending.terminal.as_mut()
        {
            terminal.cols = dimension(cols, terminal.cols);
            terminal.rows = dimension(rows, terminal.rows);
            return Ok(());
        }
        let resize = Incoming::Resize {
            cols: dimension(cols, 80),
            rows: dimension(rows, 24),
        };
        self.forward(id, resize).await;
        Ok(())
    }

    async fn data(
        &mut self,
        id: ChannelId,
        data: &[u8],
        _: &mut Session,
    ) -> Result<(), Self::Error> {
        *self.last_key.lock().unwrap_or_else(|e| e.into_inner()) = tokio::time::Instant::now();
        self.forward(id, Incoming::Data(data.to_vec())).await;
        Ok(())
    }

    async fn channel_eof(&mut self, id: ChannelId, _: &mut Session) -> Result<(), Self::Error> {
        self.forward(id, Incoming::Closed).await;
        Ok(())
    }

    async fn channel_close(&mut self, id: ChannelId, _: &mut Session) -> Result<(), Self::Error> {
        self.forward(id, Incoming::Closed).await;
        if self.input.as_ref().is_some_and(|(c, _)| *c == id) {
            self.input = None;
        }
        if self.channel.as_ref().is_some_and(|p| p.channel.id() == id) {
            self.channel = None;
        }
        Ok(())
    }
}

/// A terminal dimension as the app takes it: 0 means unknown (RFC 4254,
/// 6.2: a client without a terminal of its own, `ssh -tt` from a script),
/// so `otherwise`; the app clamps what is too large.
fn dimension(n: u32, otherwise: u16) -> u16 {
    match n {
        0 => otherwise,
        n => n.min(u32::from(u16::MAX)) as u16,
    }
}

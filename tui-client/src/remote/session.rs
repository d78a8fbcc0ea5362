//! [`super::run`]: the event loop of chat-tui, on the ssh channel.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::channel::{self, FramePacer, Keys};
use super::{Closed, Dialer, Exit, Incoming, Output, RemoteError, RemoteOptions, RemoteSignIn};
use crate::address::ServerAddress;
use crate::app::{App, Display};
use crate::event_loop::{self, LoopOptions, NetLink};
use crate::net::{self, Account};
use crate::redraw::{LeanTerminal, Redraw, ShadowBackend, SharedBuffer, SharedSize};
use crate::theme::{ColorMode, Theme};

/// How long the last frame (leaving the alternate screen) may wait for a
/// client that stopped reading.
const GOODBYE_WAIT: Duration = Duration::from_secs(2);

pub async fn run(
    options: RemoteOptions,
    sign_in: RemoteSignIn,
    mut input: mpsc::Receiver<Incoming>,
    mut output: impl Output,
    dialer: Arc<dyn Dialer>,
) -> Result<Exit, RemoteError> {
    let term = options.terminal.term.as_str();
    let size = SharedSize::new(channel::bounded(
        options.terminal.cols,
        options.terminal.rows,
    ));
    let redraw = Redraw::for_terminal(Some(term), options.scroll_region);
    let mut frames = SharedBuffer::default();
    frames
        .write_all(channel::ENTER)
        .map_err(|e| RemoteError::Draw(e.to_string()))?;
    let backend = ShadowBackend::remote(frames.clone(), redraw, size.clone());
    // Keeps no frames between draws: an idle session holds little.
    let mut terminal = LeanTerminal::new(backend);

    // The address is only a label here: the dialer knows the way in.
    let server =
        ServerAddress::parse("ws://localhost/ws").map_err(|e| RemoteError::Draw(e.to_string()))?;
    let account = Account::pre_authenticated(sign_in.name.clone(), sign_in.device, server);
    let handle = net::spawn_with(dialer, account, None);

    let mode = ColorMode::detect(options.no_color.then_some("1"), Some(term), None);
    let display = Display {
        clock: options.clock,
        zone: options.zone,
        theme: Theme::new(mode),
        bell: options.bell,
    };
    let mut app = App::new(
        &sign_in.name,
        &options.server_label,
        &options.rooms,
        display,
        None,
    );
    let loop_options = LoopOptions {
        hyperlinks: !matches!(term, "linux" | "dumb" | ""),
        link_color: mode != ColorMode::None,
    };
    let net_link = NetLink {
        commands: handle.commands.clone(),
        events: handle.events,
    };
    let mut keys = Keys::new(&mut input, size);
    let outcome = event_loop::run_paced(
        &mut terminal,
        &mut keys,
        net_link,
        &mut app,
        loop_options,
        std::future::pending(),
        &mut FramePacer {
            output: &mut output,
            frames: frames.clone(),
        },
    )
    .await;
    let closed = keys.closed;
    let _ = handle.commands.try_send(net::NetCommand::Shutdown);

    let (exit, result) = match outcome {
        Err(e) if e.downcast_ref::<Closed>().is_some() => return Ok(Exit::Gone),
        // Input closed (the client went, or the server ends the session):
        // the terminal is still given back, if anyone is there to take it.
        Ok(_) if closed => (Exit::Gone, Ok(())),
        Ok(event_loop::Exit::Quit) => (Exit::Quit, Ok(())),
        Ok(event_loop::Exit::Fatal(line)) => (Exit::Fatal(line), Ok(())),
        Err(e) => (Exit::Gone, Err(RemoteError::Draw(e.to_string()))),
    };
    // The terminal as it was, then the reason, if any, on the normal screen.
    let mut goodbye = frames.take();
    goodbye.extend_from_slice(channel::LEAVE);
    if let Exit::Fatal(line) = &exit {
        goodbye.extend_from_slice(format!("chat-tui: {line}\r\n").as_bytes());
    }
    let delivered = match tokio::time::timeout(GOODBYE_WAIT, output.ready()).await {
        Ok(Ok(())) => output.send(goodbye).is_ok(),
        _ => false,
    };
    result?;
    Ok(if delivered { exit } else { Exit::Gone })
}

//! `chat-tui`: reads options and the config file, connects, and hands the
//! terminal to the event loop. Every error ends here as one line on stderr.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tui_client::app::{App, Display};
use tui_client::cli::{self, Invocation};
use tui_client::config::{Colors, ConfigError, Settings};
use tui_client::credentials::CredentialStore;
use tui_client::dial::Endpoint;
use tui_client::event_loop::{self, Exit, LoopOptions, NetLink};
use tui_client::net;
use tui_client::redraw::Redraw;
use tui_client::terminal::TerminalGuard;
use tui_client::theme::{ColorMode, Theme};
use tui_client::zone::Zone;

fn main() -> ExitCode {
    let request = match cli::parse_from(std::env::args_os()) {
        Ok(Invocation::Chat(request)) => request,
        Ok(Invocation::Tool(tool)) => {
            return match cli::run_tool(tool, &mut std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                // `chat-tui man | head`: the reader has seen enough.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("chat-tui: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("bad option");
            eprintln!(
                "chat-tui: {} (see chat-tui --help)",
                first.trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    let settings = match request.settings() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chat-tui: {e}");
            return ExitCode::from(2);
        }
    };
    let endpoint = match endpoint(&settings) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            eprintln!("chat-tui: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(warning) = endpoint.address.unencrypted_warning() {
        eprintln!("chat-tui: warning: {warning}");
    }
    let account = match net::Account::choose(
        settings.server.clone(),
        CredentialStore::default_location(),
        settings.link_code.clone(),
        settings.name.clone(),
    ) {
        Ok(Some(account)) => account,
        Ok(None) => {
            eprintln!(
                "chat-tui: {}",
                ConfigError::NoName(settings.config_shown.clone())
            );
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("chat-tui: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chat-tui: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(settings, endpoint, account));
    // Do not wait for a stuck socket on the way out.
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat-tui: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Where to connect, with TLS set up for `wss://` (a `--ca-file` is read
/// and checked even for `ws://`, so a mistake in it shows at once).
fn endpoint(settings: &Settings) -> Result<Endpoint, tui_client::tls::TlsSetupError> {
    let tls = if settings.server.is_tls() || settings.ca_file.is_some() {
        Some(tui_client::tls::client_config(settings.ca_file.as_deref())?)
    } else {
        None
    };
    Ok(Endpoint {
        address: settings.server.clone(),
        tls: tls.filter(|_| settings.server.is_tls()),
    })
}

fn color_mode(colors: Colors) -> ColorMode {
    let var = |k: &str| std::env::var(k).ok();
    match colors {
        Colors::Auto => ColorMode::detect(
            var("NO_COLOR").as_deref(),
            var("TERM").as_deref(),
            var("COLORTERM").as_deref(),
        ),
        Colors::C256 => ColorMode::Extended,
        Colors::C16 => ColorMode::Basic,
        Colors::None => ColorMode::None,
    }
}

/// OSC 8 is harmless where unsupported, except on the Linux console and
/// dumb terminals, which may print it.
fn hyperlinks_supported() -> bool {
    !matches!(
        std::env::var("TERM").as_deref(),
        Ok("linux" | "dumb") | Err(_)
    )
}

async fn run(
    settings: Settings,
    endpoint: Endpoint,
    mut account: net::Account,
) -> anyhow::Result<()> {
    // Connect before taking over the screen, so an unreachable server or a
    // refused name is a plain line on a normal terminal.
    let first = net::connect(&endpoint, &mut account).await?;
    let me = first.1.name.clone();
    let handle = net::spawn(endpoint, account, Some(first));

    let display = Display {
        clock: settings.clock,
        zone: Zone::Local,
        theme: Theme::new(color_mode(settings.colors)),
        bell: settings.bell,
    };
    let mut app = App::new(
        &me,
        settings.server.as_str(),
        &settings.rooms,
        display,
        settings.location,
    );
    let options = LoopOptions {
        hyperlinks: settings.hyperlinks && hyperlinks_supported(),
        link_color: display.theme.mode != ColorMode::None,
    };
    let net_link = NetLink {
        commands: handle.commands.clone(),
        events: handle.events,
    };

    let term = std::env::var("TERM").ok();
    let redraw = Redraw::for_terminal(term.as_deref(), settings.scroll_region);
    let mut guard = TerminalGuard::enter(redraw).context("cannot set up the terminal")?;
    let outcome = event_loop::run(
        &mut guard.terminal,
        tui_client::terminal::input_events(),
        net_link,
        &mut app,
        options,
        termination_signal(),
    )
    .await;
    drop(guard);

    // Give the actor a moment to close the socket politely.
    let _ = tokio::time::timeout(Duration::from_secs(1), handle.task).await;
    match outcome {
        Ok(Exit::Quit) => Ok(()),
        Ok(Exit::Fatal(line)) => Err(anyhow::anyhow!(line)),
        Err(e) => Err(anyhow::anyhow!("terminal error: {e}")),
    }
}

/// SIGTERM or SIGHUP (the terminal went away): exit cleanly.
async fn termination_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(mut term), Ok(mut hup)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                }
            }
            _ => std::future::pending::<()>().await,
        }
    }
    #[cfg(not(unix))]
    std::future::pending::<()>().await
}

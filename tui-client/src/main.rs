//! `chat-tui`: reads options and the config file, connects, and hands the
//! terminal to the event loop. Every error ends here as one line on stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tui_client::app::{App, Display};
use tui_client::config::{self, Bell, Clock, Colors, Overrides, Settings};
use tui_client::event_loop::{self, Exit, LoopOptions, NetLink};
use tui_client::net;
use tui_client::terminal::TerminalGuard;
use tui_client::theme::{ColorMode, Theme};
use tui_client::zone::Zone;

/// A keyboard-driven terminal chat client.
///
/// Every option can also be given as an environment variable (shown in
/// brackets) or in the config file; options win over the environment,
/// which wins over the file.
#[derive(Debug, Parser)]
#[command(
    name = "chat-tui",
    version,
    after_help = tui_client::help::after_help()
)]
struct Cli {
    /// Your display name
    #[arg(short, long, env = "CHAT_NAME", value_name = "NAME")]
    name: Option<String>,

    /// Room to join; repeat for several (the environment takes a comma-separated list)
    #[arg(
        short,
        long = "room",
        env = "CHAT_ROOMS",
        value_delimiter = ',',
        value_name = "ROOM"
    )]
    rooms: Vec<String>,

    /// Server address, e.g. ws://chat.example.com:3000/ws (host:port is enough)
    #[arg(short, long, env = "CHAT_SERVER", value_name = "URL")]
    server: Option<String>,

    /// 12-hour or 24-hour timestamps
    #[arg(long, env = "CHAT_CLOCK", value_enum)]
    clock: Option<Clock>,

    /// When to ring the terminal bell
    #[arg(long, env = "CHAT_BELL", value_enum)]
    bell: Option<Bell>,

    /// How many colours to use (auto respects NO_COLOR)
    #[arg(long, env = "CHAT_COLORS", value_enum)]
    colors: Option<Colors>,

    /// Show map links as plain text, without terminal hyperlinks (OSC 8)
    #[arg(long)]
    no_hyperlinks: bool,

    /// Config file to read instead of the default one
    #[arg(long, env = "CHAT_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
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
    let settings = match settings(cli) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chat-tui: {e}");
            return ExitCode::from(2);
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
    let result = runtime.block_on(run(settings));
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

fn settings(cli: Cli) -> Result<Settings, config::ConfigError> {
    let path = cli.config.or_else(config::default_path);
    let file = match &path {
        Some(p) => config::load_file(p)?,
        None => config::FileConfig::default(),
    };
    let shown_path = path.map_or_else(
        || "the config file".to_string(),
        |p| p.display().to_string(),
    );
    let overrides = Overrides {
        server: cli.server,
        name: cli.name,
        rooms: cli.rooms,
        clock: cli.clock,
        bell: cli.bell,
        colors: cli.colors,
        no_hyperlinks: cli.no_hyperlinks,
    };
    Settings::merge(overrides, file, &shown_path)
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

async fn run(settings: Settings) -> anyhow::Result<()> {
    // Connect before taking over the screen, so an unreachable server or a
    // refused name is a plain line on a normal terminal.
    let first = net::connect(&settings.server, &settings.name).await?;
    let handle = net::spawn(settings.server.clone(), settings.name.clone(), Some(first));

    let display = Display {
        clock: settings.clock,
        zone: Zone::Local,
        theme: Theme::new(color_mode(settings.colors)),
        bell: settings.bell,
    };
    let mut app = App::new(
        &settings.name,
        &settings.server,
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

    let mut guard = TerminalGuard::enter().context("cannot set up the terminal")?;
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

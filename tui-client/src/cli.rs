//! The command line of `chat-tui`: the options (each also from the
//! environment, each default shown in `--help`) and two tools, `completions`
//! and `man`, generated from the same definition so they cannot drift.
//!
//! Options carry clap defaults so `--help` can show them, but a default
//! must not hide the config file: clap tells where each value came from
//! ([`ValueSource`]), and only values from the command line or the
//! environment override the file.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::config::{self, Bell, Clock, Colors, ConfigError, Overrides, Presence, Settings};

/// A keyboard-driven terminal chat client.
///
/// Every option can also be given as an environment variable (shown in
/// brackets) or in the config file; options win over the environment,
/// which wins over the file, which wins over the defaults shown.
#[derive(Debug, Parser)]
#[command(
    name = "chat-tui",
    version,
    after_help = crate::help::after_help(),
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    tool: Option<Tool>,

    /// Your name: registered as yours on a server the first time (its key
    /// is kept in the data directory); later runs sign in with the key
    #[arg(short, long, env = "CHAT_NAME", value_name = "NAME")]
    name: Option<String>,

    /// Sign this device in as someone already signed in elsewhere, with
    /// the one-time code /link shows there
    #[arg(long = "link", value_name = "CODE")]
    link_code: Option<String>,

    /// Room to join; repeat for several (the environment takes a
    /// comma-separated list) [default: none]
    #[arg(
        short,
        long = "room",
        env = "CHAT_ROOMS",
        value_delimiter = ',',
        value_name = "ROOM"
    )]
    rooms: Vec<String>,

    /// The server: the page's address (https://chat.example.com/), host:port,
    /// or the WebSocket URL (wss://chat.example.com/ws)
    #[arg(short, long, env = "CHAT_SERVER", value_name = "URL", default_value = config::DEFAULT_SERVER)]
    server: String,

    /// A private CA's certificate (PEM) to trust for wss://, besides the
    /// system's trusted CAs [default: the system's only]
    #[arg(long, env = "CHAT_CA_FILE", value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// 12-hour or 24-hour timestamps
    #[arg(long, env = "CHAT_CLOCK", value_enum, default_value_t = Clock::default())]
    clock: Clock,

    /// When to ring the terminal bell
    #[arg(long, env = "CHAT_BELL", value_enum, default_value_t = Bell::default())]
    bell: Bell,

    /// How many colours to use (auto respects NO_COLOR)
    #[arg(long, env = "CHAT_COLORS", value_enum, default_value_t = Colors::default())]
    colors: Colors,

    /// Show map links as plain text, without terminal hyperlinks (OSC 8)
    #[arg(long)]
    no_hyperlinks: bool,

    /// Redraw what moved instead of scrolling the message pane with the
    /// terminal's scrolling region (for terminals that get it wrong)
    #[arg(long)]
    no_scroll_region: bool,

    /// Config file to read; an error if it is named here and missing
    #[arg(long, env = "CHAT_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
}

/// What can be run besides the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Tool {
    /// Print a shell completion script, e.g.
    /// `chat-tui completions bash > ~/.local/share/bash-completion/completions/chat-tui`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `chat-tui man > ~/.local/share/man/man1/chat-tui.1`
    Man,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Invocation {
    /// Run the client with these options, over this config file.
    Chat(Request),
    /// Print a completion script or the manual page.
    Tool(Tool),
}

/// The client's options as given, and the config file to read under them.
#[derive(Debug)]
pub struct Request {
    pub overrides: Overrides,
    /// `None` when the platform has no config directory.
    pub config: Option<PathBuf>,
    pub config_presence: Presence,
}

/// The command definition, with the platform's config path as the shown
/// default of `--config`.
pub fn command() -> clap::Command {
    let cmd = Cli::command();
    match config::default_path() {
        Some(path) => cmd.mut_arg("config", |arg| {
            arg.default_value(path.to_string_lossy().into_owned())
        }),
        None => cmd,
    }
}

/// Parses the command line (and the environment).
pub fn parse_from<I, T>(args: I) -> Result<Invocation, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = command().try_get_matches_from(args)?;
    let cli = Cli::from_arg_matches(&matches)?;
    if let Some(tool) = cli.tool {
        return Ok(Invocation::Tool(tool));
    }
    let given = |id: &str| is_given(&matches, id);
    let overrides = Overrides {
        server: given("server").then_some(cli.server),
        ca_file: cli.ca_file,
        name: cli.name,
        link_code: cli.link_code,
        rooms: cli.rooms,
        clock: given("clock").then_some(cli.clock),
        bell: given("bell").then_some(cli.bell),
        colors: given("colors").then_some(cli.colors),
        no_hyperlinks: cli.no_hyperlinks,
        no_scroll_region: cli.no_scroll_region,
    };
    Ok(Invocation::Chat(Request {
        overrides,
        config_presence: if given("config") {
            Presence::Required
        } else {
            Presence::Optional
        },
        config: cli.config,
    }))
}

/// Whether a value came from the command line or the environment rather
/// than from the defaults.
fn is_given(matches: &ArgMatches, id: &str) -> bool {
    matches!(
        matches.value_source(id),
        Some(ValueSource::CommandLine | ValueSource::EnvVariable)
    )
}

impl Request {
    /// Reads the config file and merges the options over it.
    pub fn settings(self) -> Result<Settings, ConfigError> {
        let file = match &self.config {
            Some(path) => config::load_file(path, self.config_presence)?,
            None => config::FileConfig::default(),
        };
        let shown_path = self.config.map_or_else(
            || "the config file".to_string(),
            |p| p.display().to_string(),
        );
        Settings::merge(self.overrides, file, &shown_path)
    }
}

/// Writes a completion script or the manual page to `out`.
pub fn run_tool(tool: Tool, out: &mut impl Write) -> std::io::Result<()> {
    // The definition without this machine's config path: the output may
    // be packaged for others.
    let mut cmd = Cli::command();
    let mut text = Vec::new();
    match tool {
        // clap_complete panics on a failed write: generate into memory.
        Tool::Completions { shell } => {
            clap_complete::generate(shell, &mut cmd, "chat-tui", &mut text);
        }
        Tool::Man => clap_mangen::Man::new(cmd).render(&mut text)?,
    }
    out.write_all(&text)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(args: &[&str]) -> Request {
        match parse_from(std::iter::once("chat-tui").chain(args.iter().copied())) {
            Ok(Invocation::Chat(r)) => r,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_shown_but_do_not_override_the_file() {
        let r = chat(&["--name", "ann"]);
        // Unless the environment of the test run sets them.
        if std::env::var_os("CHAT_SERVER").is_none() {
            assert_eq!(r.overrides.server, None);
        }
        if std::env::var_os("CHAT_CLOCK").is_none() {
            assert_eq!(r.overrides.clock, None);
        }
        if std::env::var_os("CHAT_CONFIG").is_none() {
            assert_eq!(r.config_presence, Presence::Optional);
        }
        let r = chat(&["--name", "ann", "--clock", "12h", "--server", "h:1"]);
        assert_eq!(r.overrides.clock, Some(Clock::H12));
        assert_eq!(r.overrides.server.as_deref(), Some("h:1"));
    }

    #[test]
    fn a_named_config_file_must_exist() {
        let r = chat(&["--config", "/nonexistent/chat-tui.toml", "--name", "ann"]);
        assert_eq!(r.config_presence, Presence::Required);
        let e = r.settings().unwrap_err();
        assert!(matches!(e, ConfigError::Read { .. }), "{e}");
    }

    #[test]
    fn help_shows_every_default() {
        let help = command().render_long_help().to_string();
        for default in [
            "[default: ws://127.0.0.1:3000/ws]",
            "[default: 12h]",
            "[default: mentions]",
            "[default: auto]",
            "[default: none]",
            "[default: the system's only]",
        ] {
            assert!(help.contains(default), "{default} missing from:\n{help}");
        }
        assert!(help.contains("--config <PATH>"), "{help}");
        assert!(help.contains("[default:"), "{help}");
    }

    #[test]
    fn version_names_the_binary() {
        let v = Cli::command().render_version();
        assert_eq!(v.trim(), format!("chat-tui {}", env!("CARGO_PKG_VERSION")));
    }

    #[test]
    fn tools_need_no_name() {
        match parse_from(["chat-tui", "completions", "zsh"]) {
            Ok(Invocation::Tool(Tool::Completions { shell })) => {
                assert_eq!(shell, clap_complete::Shell::Zsh);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_from(["chat-tui", "man"]),
            Ok(Invocation::Tool(Tool::Man))
        ));
        assert!(parse_from(["chat-tui", "completions", "tcsh"]).is_err());
    }
}

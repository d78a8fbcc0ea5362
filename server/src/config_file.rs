//! The server's config file: TOML whose keys are the long options.
//!
//! ```toml
//! listen = "0.0.0.0:3000"
//! data-dir = "/var/lib/chat"
//! allowed-origin = ["https://chat.example.com"]
//! rate-limit = 10
//! memory = false
//! ```
//!
//! Rather than a second list of settings to keep in step with the options,
//! the file's values become the options' defaults in clap before the
//! command line is parsed. So clap parses and checks them with the same
//! rules, and the order is clap's own: options over environment variables
//! over the file over the built-in defaults.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{ArgAction, ArgMatches, Command};

/// Why the config file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: unknown key {key:?} (the keys are the long options: {known})")]
    UnknownKey {
        path: PathBuf,
        key: String,
        known: String,
    },
    #[error("config file {path}: {key} {problem}")]
    BadValue {
        path: PathBuf,
        key: String,
        problem: &'static str,
    },
}

/// Keys the file may not set: they are about reading options, not settings.
const NOT_IN_FILE: &[&str] = &["config", "help", "version"];

/// Why the command line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// From clap: a bad option, or `--help` / `--version` (print it with
    /// `clap::Error::exit`).
    #[error(transparent)]
    Options(#[from] clap::Error),
    #[error(transparent)]
    File(#[from] ConfigFileError),
}

/// Parses `args` with `command`, reading the config file its `config`
/// option (or that option's environment variable) names first.
pub fn matches<I, T>(command: Command, args: I) -> Result<ArgMatches, ParseError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    // A first look, only for the config file: errors are left to the real
    // parse below, which reports them properly.
    let named = command
        .clone()
        .ignore_errors(true)
        .try_get_matches_from(&args)
        .ok()
        .and_then(|m| m.try_get_one::<PathBuf>("config").ok().flatten().cloned());
    let command = match named {
        Some(path) => apply(command, &path)?,
        None => command,
    };
    Ok(command.try_get_matches_from(&args)?)
}

/// Reads `path` (it must exist) and makes its values the defaults of
/// `command`'s options.
pub fn apply(command: Command, path: &Path) -> Result<Command, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    apply_text(command, &text, path)
}

/// [`apply`] on text already read.
pub fn apply_text(
    mut command: Command,
    text: &str,
    path: &Path,
) -> Result<Command, ConfigFileError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigFileError::Parse {
        path: path.to_path_buf(),
        message: one_line_toml_error(&e, text),
    })?;
    for (key, value) in table {
        let Some(arg) = command
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()) && !NOT_IN_FILE.contains(&key.as_str()))
        else {
            return Err(ConfigFileError::UnknownKey {
                path: path.to_path_buf(),
                known: known_keys(&command),
                key,
            });
        };
        let many = matches!(arg.get_action(), ArgAction::Append);
        let values = values_of(&value, many).map_err(|problem| ConfigFileError::BadValue {
            path: path.to_path_buf(),
            key: key.clone(),
            problem,
        })?;
        let id = arg.get_id().clone();
        command = command.mut_arg(id, |arg| arg.default_values(values));
    }
    Ok(command)
}

/// A TOML value as the strings clap would have read on the command line.
fn values_of(value: &toml::Value, many: bool) -> Result<Vec<String>, &'static str> {
    match value {
        toml::Value::Array(items) if many => items.iter().map(scalar).collect(),
        toml::Value::Array(_) => Err("takes one value, not a list"),
        other => Ok(vec![scalar(other)?]),
    }
}

fn scalar(value: &toml::Value) -> Result<String, &'static str> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        toml::Value::Array(_) => Err("takes plain values, not nested lists"),
        toml::Value::Table(_) => Err("takes a value, not a table"),
    }
}

fn known_keys(command: &Command) -> String {
    let keys: Vec<&str> = command
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .filter(|l| !NOT_IN_FILE.contains(l))
        .collect();
    keys.join(", ")
}

fn one_line_toml_error(e: &toml::de::Error, text: &str) -> String {
    let line = e.span().map_or(1, |s| {
        text[..s.start.min(text.len())].matches('\n').count() + 1
    });
    format!("line {line}: {}", e.message().trim().replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Arg;

    fn command() -> Command {
        Command::new("t")
            .arg(
                Arg::new("listen")
                    .long("listen")
                    .default_value("127.0.0.1:3000"),
            )
            .arg(
                Arg::new("rate_limit")
                    .long("rate-limit")
                    .value_parser(clap::value_parser!(f64))
                    .default_value("10"),
            )
            .arg(Arg::new("memory").long("memory").action(ArgAction::SetTrue))
            .arg(
                Arg::new("origins")
                    .long("allowed-origin")
                    .action(ArgAction::Append)
                    .value_delimiter(','),
            )
            .arg(
                Arg::new("config")
                    .long("config")
                    .value_parser(clap::value_parser!(PathBuf)),
            )
    }

    fn parse(file: &str, args: &[&str]) -> Result<clap::ArgMatches, String> {
        let cmd = apply_text(command(), file, Path::new("chat.toml")).map_err(|e| e.to_string())?;
        cmd.try_get_matches_from(std::iter::once("t").chain(args.iter().copied()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_file_wins_over_defaults_and_options_win_over_the_file() {
        let file = "listen = \"0.0.0.0:4000\"\nrate-limit = 2.5\nmemory = true\n\
                    allowed-origin = [\"https://a.example\", \"https://b.example\"]\n";
        let m = parse(file, &[]).unwrap();
        assert_eq!(m.get_one::<String>("listen").unwrap(), "0.0.0.0:4000");
        assert_eq!(*m.get_one::<f64>("rate_limit").unwrap(), 2.5);
        assert!(m.get_flag("memory"));
        let origins: Vec<&String> = m.get_many("origins").unwrap().collect();
        assert_eq!(origins, ["https://a.example", "https://b.example"]);

        let m = parse(
            file,
            &["--listen", "127.0.0.1:5000", "--allowed-origin", "*"],
        )
        .unwrap();
        assert_eq!(m.get_one::<String>("listen").unwrap(), "127.0.0.1:5000");
        let origins: Vec<&String> = m.get_many("origins").unwrap().collect();
        assert_eq!(origins, ["*"]);

        let m = parse("", &[]).unwrap();
        assert_eq!(m.get_one::<String>("listen").unwrap(), "127.0.0.1:3000");
        assert!(!m.get_flag("memory"));
        // An integer where a float is expected is read like the option.
        let m = parse("rate-limit = 3", &[]).unwrap();
        assert_eq!(*m.get_one::<f64>("rate_limit").unwrap(), 3.0);
    }

    #[test]
    fn the_file_named_by_config_is_read_before_the_options() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chat.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:4000\"\nmemory = true\n").unwrap();
        let path = path.to_str().unwrap();
        let m = matches(command(), ["t", "--config", path]).unwrap();
        assert_eq!(m.get_one::<String>("listen").unwrap(), "0.0.0.0:4000");
        assert!(m.get_flag("memory"));
        let m = matches(
            command(),
            ["t", "--listen", "127.0.0.1:1", "--config", path],
        )
        .unwrap();
        assert_eq!(m.get_one::<String>("listen").unwrap(), "127.0.0.1:1");
        let m = matches(command(), ["t"]).unwrap();
        assert_eq!(m.get_one::<String>("listen").unwrap(), "127.0.0.1:3000");
        let e = matches(command(), ["t", "--config", "/nonexistent/chat.toml"]).unwrap_err();
        assert!(
            matches!(e, ParseError::File(ConfigFileError::Read { .. })),
            "{e}"
        );
        let e = matches(command(), ["t", "--frobnicate"]).unwrap_err();
        assert!(matches!(e, ParseError::Options(_)), "{e}");
    }

    #[test]
    fn mistakes_are_named() {
        let e = parse("lissen = \"x\"", &[]).unwrap_err();
        assert!(e.contains("unknown key \"lissen\""), "{e}");
        assert!(
            e.contains("listen, rate-limit, memory, allowed-origin"),
            "{e}"
        );
        let e = parse("config = \"other.toml\"", &[]).unwrap_err();
        assert!(e.contains("unknown key \"config\""), "{e}");
        let e = parse("listen = [\"a\", \"b\"]", &[]).unwrap_err();
        assert!(e.contains("listen takes one value"), "{e}");
        let e = parse("listen = { a = 1 }", &[]).unwrap_err();
        assert!(e.contains("not a table"), "{e}");
        let e = parse("listen = \"x\"\nrate-limit = ", &[]).unwrap_err();
        assert!(e.starts_with("config file chat.toml: line 2"), "{e}");
        // A value of the wrong kind is refused by clap, naming the option.
        let e = parse("rate-limit = \"fast\"", &[]).unwrap_err();
        assert!(e.contains("rate-limit"), "{e}");
        let e = apply(command(), Path::new("/nonexistent/chat.toml")).unwrap_err();
        assert!(e.to_string().starts_with("cannot read config file"), "{e}");
    }
}

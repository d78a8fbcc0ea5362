//! Tests of `chat-server`'s options: defaults shown, addresses, refused
//! values, the front door's options.
use super::*;

fn parse(args: &[&str]) -> Options {
    Options::try_parse_from(std::iter::once("chat-server").chain(args.iter().copied()))
        .expect("options parse")
}

#[test]
fn help_shows_every_default_and_version_names_the_binary() {
    let mut command = command();
    command.build();
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if arg.is_hide_set() || ["help", "version"].contains(&id) {
            continue;
        }
        let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
        let shown = !arg.get_default_values().is_empty() || help.contains("[default: ");
        // Flags are simply off unless given.
        assert!(
            shown || !arg.get_action().takes_values(),
            "--help shows no default for --{}",
            arg.get_long().unwrap_or(id)
        );
    }
    let version = Options::command().render_version();
    assert_eq!(
        version.trim(),
        format!("chat-server {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn listen_address_defaults_port_and_override() {
    assert_eq!(
        parse(&["--memory"]).listen_addr().to_string(),
        "127.0.0.1:3000"
    );
    // PORT (here as its flag) means every interface, as hosting platforms expect.
    assert_eq!(
        parse(&["--port", "4000"]).listen_addr().to_string(),
        "0.0.0.0:4000"
    );
    assert_eq!(
        parse(&["--port", "4000", "--listen", "127.0.0.1:5000"])
            .listen_addr()
            .to_string(),
        "127.0.0.1:5000"
    );
}

#[test]
fn bad_values_are_refused_with_a_reason() {
    let err = parse(&["--rate-limit=-1", "--memory"])
        .config()
        .unwrap_err();
    assert!(err.to_string().contains("--rate-limit"), "{err}");
    assert!(Options::try_parse_from(["chat-server", "--memory", "--data-dir", "x"]).is_err());
    let memory = parse(&["--memory"]).config().expect("config");
    assert!(memory.store.path.is_none());
    let dir = parse(&["--data-dir", "some/dir"]).config().expect("config");
    assert_eq!(
        dir.store.path.as_deref(),
        Some(std::path::Path::new("some/dir/chat.sqlite3"))
    );
}

#[test]
fn front_door_options() {
    let config = parse(&[
        "--memory",
        "--public-url",
        "https://chat.example.com/",
        "--trusted-proxy",
        "10.0.0.0/8,192.0.2.7",
        "--max-connections",
        "500",
        "--header-timeout-secs",
        "0.5",
    ])
    .config()
    .expect("config");
    assert_eq!(config.allowed_hosts, vec!["chat.example.com".to_string()]);
    assert_eq!(
        config.allowed_origins,
        vec!["https://chat.example.com".to_string()]
    );
    assert_eq!(config.admission.trusted_proxies.len(), 2);
    assert_eq!(config.admission.max_connections, 500);
    assert_eq!(config.header_timeout, Duration::from_millis(500));
    let defaults = parse(&["--memory"]).config().expect("config");
    assert_eq!(defaults.admission.max_per_address, 64);
    assert!(defaults.admission.max_connections > 0);
    for bad in [
        &["--memory", "--public-url", "chat.example.com"][..],
        &["--memory", "--trusted-proxy", "proxy.example"][..],
        &["--memory", "--write-timeout-secs", "0"][..],
    ] {
        assert!(parse(bad).config().is_err(), "{bad:?}");
    }
}

//! The ssh entrance with the real OpenSSH client: keys made by ssh-keygen,
//! `ssh` in a pseudo-terminal, its screen read by a terminal emulator, and
//! WebSocket clients in the same rooms.

#![allow(clippy::unwrap_used)]

mod common;
mod ssh_kit;

use protocol::ServerEvent;
use ssh_kit::{SshServer, SshTerm, have_openssh, keygen, ssh_args, ssh_batch};

const SIZE: (u16, u16) = (100, 30);

fn is_message_from(from: &str, text: &str) -> impl Fn(&ServerEvent) -> bool {
    let (from, text) = (from.to_owned(), text.to_owned());
    move |e| matches!(e, ServerEvent::Message { from: f, text: t, .. } if *f == from && *t == text)
}

#[test]
fn an_ssh_user_sees_history_and_talks_with_a_websocket_user() {
    if !have_openssh() {
        return;
    }
    let server = SshServer::start();
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "ann");
    let known = keys.path().join("known_hosts");
    let addr = server.http.to_string();
    let mut bob = server.runtime.block_on(async {
        let mut bob = common::raw_client(&addr, "bob").await;
        bob.join("lobby").await;
        common::assert_ok(&bob.say("lobby", "written before ann came").await);
        bob
    });

    let args = ssh_args(&server, &key, &known, "accept-new");
    let mut ann = SshTerm::start(&args, "ann", &[], SIZE);
    ann.wait_for("written before ann came");

    ann.line("hello from ssh");
    server.runtime.block_on(async {
        bob.expect("ann's line", is_message_from("ann", "hello from ssh"))
            .await;
        common::assert_ok(&bob.say("lobby", "welcome, ann").await);
    });
    ann.wait_for("welcome, ann");

    // The window changes: the app draws for the new size.
    ann.resize((140, 40));
    ann.wait_until("a redraw at 140x40", |t| {
        let parser = t.parser.lock().unwrap();
        let rows: Vec<String> = parser.screen().rows(0, 140).collect();
        rows.iter().skip(30).any(|r| !r.trim().is_empty())
            && rows.iter().any(|r| r.contains("welcome, ann"))
    });

    ann.line("/quit");
    assert_eq!(ann.wait_exit(), 0, "a quit is a clean exit");
}

#[test]
fn a_claimed_name_with_another_key_is_refused_with_the_name_prompt() {
    if !have_openssh() {
        return;
    }
    let server = SshServer::start();
    let keys = tempfile::tempdir().unwrap();
    let (first, second) = (keygen(keys.path(), "k1"), keygen(keys.path(), "k2"));
    let known = keys.path().join("known_hosts");
    let addr = server.http.to_string();
    server.runtime.block_on(async {
        let mut cat = common::raw_client(&addr, "cat").await;
        cat.join("lobby").await;
    });

    // `cat` is taken (from the web): this key is told so and asked.
    let mut other = SshTerm::start(
        &ssh_args(&server, &first, &known, "accept-new"),
        "cat",
        &[],
        SIZE,
    );
    other.wait_for("belongs to someone else");
    other.line("kit");
    other.wait_until("the chat, as kit", |t| t.screen().contains("kit"));
    other.line("/quit");
    assert_eq!(other.wait_exit(), 0);

    // The same key later: straight in as kit; a second key asking for kit
    // is refused the same way.
    let mut web = server.runtime.block_on(async {
        let mut web = common::raw_client(&addr, "dan").await;
        web.join("lobby").await;
        web
    });
    let mut again = SshTerm::start(
        &ssh_args(&server, &first, &known, "yes"),
        "whoever",
        &[],
        SIZE,
    );
    server.runtime.block_on(async {
        web.expect(
            "kit, by key, joins",
            |e| matches!(e, ServerEvent::UserJoined { name, .. } if name == "kit"),
        )
        .await;
    });
    again.line("signed in by key");
    server.runtime.block_on(async {
        web.expect(
            "kit's line by key",
            is_message_from("kit", "signed in by key"),
        )
        .await;
    });
    drop(again);
    let mut wrong = SshTerm::start(&ssh_args(&server, &second, &known, "yes"), "kit", &[], SIZE);
    wrong.wait_for("belongs to someone else");
    // A look-alike of a taken name is refused on the prompt too.
    wrong.line("KIT");
    wrong.wait_until("the prompt's refusal", |t| {
        t.screen().contains("Pick another, or enter a link code")
    });
}

#[test]
fn the_host_key_survives_a_restart_and_known_hosts_still_matches() {
    if !have_openssh() {
        return;
    }
    let mut server = SshServer::start();
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "eve");
    let known = keys.path().join("known_hosts");
    let (code, out) = ssh_batch(
        &ssh_args(&server, &key, &known, "accept-new"),
        &["-T"],
        "eve",
        &[],
    );
    // No terminal: refused with words, but the host key is now known.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("needs a terminal"), "{out}");
    assert!(
        std::fs::read_to_string(&known)
            .unwrap()
            .contains("ssh-ed25519")
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(server.host_key())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the host key is private");
    }

    server.restart();
    let (code, out) = ssh_batch(&ssh_args(&server, &key, &known, "yes"), &["-T"], "eve", &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("needs a terminal"), "the same host key: {out}");
    assert!(!out.contains("IDENTIFICATION HAS CHANGED"), "{out}");
}

#[test]
fn password_authentication_is_refused() {
    if !have_openssh() {
        return;
    }
    let server = SshServer::start();
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "mallory");
    let known = keys.path().join("known_hosts");
    let mut args = ssh_args(&server, &key, &known, "accept-new");
    // Undo the key-only defaults of `ssh_args`: ask for passwords only.
    let key_only = |a: &String| a.starts_with("PasswordAuthentication") || a.starts_with("Kbd");
    while let Some(i) = args.iter().position(key_only) {
        args.drain(i - 1..=i);
    }
    let extra = [
        "-o",
        "PreferredAuthentications=password,keyboard-interactive",
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "BatchMode=yes",
        "-T",
    ];
    let (code, out) = ssh_batch(&args, &extra, "mallory", &[]);
    assert_eq!(code, 255, "{out}");
    assert!(out.contains("Permission denied"), "{out}");
    assert!(
        out.contains("publickey"),
        "only publickey is offered: {out}"
    );
}

#[test]
fn sessions_beyond_the_limit_are_refused_with_words() {
    if !have_openssh() {
        return;
    }
    let server = SshServer::start_with(|config| {
        if let Some(ssh) = config.ssh.as_mut() {
            ssh.max_sessions_per_ip = 1;
        }
    });
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "fay");
    let known = keys.path().join("known_hosts");
    let mut first = SshTerm::start(
        &ssh_args(&server, &key, &known, "accept-new"),
        "fay",
        &[],
        SIZE,
    );
    first.wait_for("lobby");
    let (code, out) = ssh_batch(
        &ssh_args(&server, &key, &known, "yes"),
        &["-tt"],
        "fay",
        &[],
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no more ssh sessions"), "{out}");
    first.line("/quit");
    assert_eq!(first.wait_exit(), 0);
}

#[test]
fn rooms_from_the_command_line_are_remembered_for_next_time() {
    if !have_openssh() {
        return;
    }
    let server = SshServer::start();
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "gus");
    let known = keys.path().join("known_hosts");
    let addr = server.http.to_string();
    let mut web = server.runtime.block_on(async {
        let mut web = common::raw_client(&addr, "hal").await;
        web.join("ops").await;
        web
    });
    let args = ssh_args(&server, &key, &known, "accept-new");
    let mut gus = SshTerm::start(&args, "gus", &["dev", "ops"], SIZE);
    gus.wait_until("both rooms", |t| {
        let s = t.screen();
        s.contains("dev") && s.contains("ops")
    });

    server.runtime.block_on(async {
        web.expect("gus joins ops", |e| {
            matches!(e, ServerEvent::UserJoined { room, name, .. } if room == "ops" && name == "gus")
        })
        .await;
    });
    gus.line("/quit");
    assert_eq!(gus.wait_exit(), 0);
    server.runtime.block_on(async {
        web.expect("gus leaves ops", |e| {
            matches!(e, ServerEvent::UserLeft { room, name, .. } if room == "ops" && name == "gus")
        })
        .await;
    });

    // No rooms named: the last ones.
    let back = SshTerm::start(&args, "gus", &[], SIZE);
    server.runtime.block_on(async {
        web.expect("gus is back in ops", |e| {
            matches!(e, ServerEvent::UserJoined { room, name, .. } if room == "ops" && name == "gus")
        })
        .await;
    });
    back.wait_until("dev as well", |t| t.screen().contains("dev"));
}

/// The link code a screen shows after `/link`.
fn code_on(screen: &str) -> Option<String> {
    let after = screen.split("link code ").nth(1)?;
    let code: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (code.len() == 9).then_some(code)
}

#[test]
fn link_codes_work_both_ways_between_a_key_and_other_devices() {
    if !have_openssh() {
        return;
    }
    let server = SshServer::start();
    let keys = tempfile::tempdir().unwrap();
    let (ivy_key, jo_key) = (keygen(keys.path(), "ivy"), keygen(keys.path(), "jo"));
    let known = keys.path().join("known_hosts");
    let addr = server.http.to_string();

    // From the key to a browser: ivy runs /link over ssh, the page uses it.
    let mut ivy = SshTerm::start(
        &ssh_args(&server, &ivy_key, &known, "accept-new"),
        "ivy",
        &[],
        SIZE,
    );
    ivy.wait_for("lobby");
    ivy.line("/link");
    ivy.wait_until("a link code", |t| code_on(&t.screen()).is_some());
    let code = code_on(&ivy.screen()).unwrap();
    let welcome = server.runtime.block_on(async {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
            .await
            .unwrap();
        let mut page = common::Client::from_ws(ws);
        page.send(&protocol::ClientEvent::Hello {
            protocol: protocol::PROTOCOL_VERSION,
            name: None,
            credential: None,
            link_code: Some(code.clone()),
            device: Some("browser".into()),
            client: None,
        })
        .await;
        page.welcome().await
    });
    assert!(
        matches!(&welcome, ServerEvent::Welcome { name, .. } if name == "ivy"),
        "{welcome:?}"
    );

    // From a browser to a key: jo's page makes a code, jo's new key
    // (asking for the taken name jo) enters it on the first screen.
    let mut page = server.runtime.block_on(async {
        let mut page = common::raw_client(&addr, "jo").await;
        page.join("lobby").await;
        page
    });
    let code = server.runtime.block_on(async {
        let (_, events) = page
            .request(protocol::ClientEvent::Link { id: "l1".into() })
            .await;
        events
            .into_iter()
            .find_map(|e| match e {
                ServerEvent::LinkCode { code, .. } => Some(code),
                _ => None,
            })
            .expect("a link code")
    });
    let mut jo = SshTerm::start(&ssh_args(&server, &jo_key, &known, "yes"), "jo", &[], SIZE);
    jo.wait_for("belongs to someone else");
    jo.line(&code);
    jo.wait_for("lobby");
    jo.line("linked by code");
    server.runtime.block_on(async {
        page.expect(
            "jo's line from the key",
            is_message_from("jo", "linked by code"),
        )
        .await;
    });

    // The key is one of jo's devices: /keys lists it, and removing it
    // signs this session out.
    jo.line("/keys");
    jo.wait_for("your ssh keys (1");
    let fingerprint = std::process::Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&jo_key)
        .output()
        .unwrap();
    let fingerprint = String::from_utf8_lossy(&fingerprint.stdout);
    let fingerprint = fingerprint.split_whitespace().nth(1).unwrap().to_string();
    jo.wait_for(&fingerprint[..20]);
    jo.line("/keys remove 1");
    assert_eq!(jo.wait_exit(), 1, "signed out: {}", jo.output());
    let again = SshTerm::start(&ssh_args(&server, &jo_key, &known, "yes"), "jo", &[], SIZE);
    again.wait_for("belongs to someone else");
}

#[test]
fn a_connection_that_never_logs_in_and_a_session_left_idle_are_closed() {
    if !have_openssh() {
        return;
    }
    let server = SshServer::start_with(|config| {
        if let Some(ssh) = config.ssh.as_mut() {
            ssh.login_timeout = std::time::Duration::from_secs(1);
            ssh.idle_timeout = std::time::Duration::from_secs(2);
        }
    });
    // Says nothing after connecting: closed (the read ends), not kept.
    let addr = server.ssh;
    server.runtime.block_on(async {
        use tokio::io::AsyncReadExt;
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut seen = Vec::new();
        let read = tokio::time::timeout(ssh_kit::WAIT, tcp.read_to_end(&mut seen)).await;
        assert!(read.is_ok(), "the silent connection is closed");
        assert!(String::from_utf8_lossy(&seen).starts_with("SSH-2.0-chat-server"));
    });

    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "idle");
    let known = keys.path().join("known_hosts");
    let mut idle = SshTerm::start(
        &ssh_args(&server, &key, &known, "accept-new"),
        "idle",
        &[],
        SIZE,
    );
    assert_eq!(idle.wait_exit(), 1, "{}", idle.output());
    assert!(
        idle.output().contains("no key pressed"),
        "{}",
        idle.output()
    );
}

#[test]
fn the_binary_turns_the_entrance_on_from_the_environment() {
    use std::io::{BufRead, BufReader, Read};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chat-server"))
        .args(["--memory", "--listen", "127.0.0.1:0"])
        .env("CHAT_SSH_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let (mut http, mut ssh) = (String::new(), String::new());
    lines.read_line(&mut http).unwrap();
    lines.read_line(&mut ssh).unwrap();
    assert!(http.starts_with("listening on http://"), "{http:?}");
    let addr = ssh
        .trim()
        .strip_prefix("ssh listening on ")
        .unwrap_or_else(|| panic!("no ssh line: {ssh:?}"))
        .to_owned();
    let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
    tcp.set_read_timeout(Some(ssh_kit::WAIT)).unwrap();
    let mut banner = [0u8; 19];
    tcp.read_exact(&mut banner).unwrap();
    assert_eq!(&banner, b"SSH-2.0-chat-server");
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    // With --memory there is no data directory: a key for this run only,
    // said loudly.
    assert!(log.contains("for this run only"), "{log}");
}

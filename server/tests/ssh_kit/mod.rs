//! What the ssh entrance's tests share: a real server with its ssh
//! listener on loopback ports (its data directory, hence host key and
//! identities, kept across restarts), keys made by `ssh-keygen`, and the
//! real OpenSSH client in a pseudo-terminal, its screen parsed by a
//! terminal emulator (vt100) and polled with a deadline.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use tokio::sync::oneshot;

pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

/// Whether the OpenSSH client is here; skips (fails in CI) when not.
pub fn have_openssh() -> bool {
    let found = ["ssh", "ssh-keygen"].iter().all(|tool| {
        Command::new(tool)
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stderr.is_empty())
    });
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("the OpenSSH client (ssh, ssh-keygen) is required in CI");
        }
        eprintln!("SKIPPED: no OpenSSH client (apt-get install openssh-client)");
    }
    found
}

pub struct SshServer {
    pub runtime: tokio::runtime::Runtime,
    pub http: SocketAddr,
    pub ssh: SocketAddr,
    pub dir: tempfile::TempDir,
    pub tweak: fn(&mut server::Config),
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), server::ServerError>>>,
}

impl SshServer {
    pub fn start() -> SshServer {
        Self::start_with(|_| {})
    }

    /// With `tweak` applied to the config (the ssh settings included).
    pub fn start_with(tweak: fn(&mut server::Config)) -> SshServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let mut server = SshServer {
            runtime,
            http: "127.0.0.1:0".parse().unwrap(),
            ssh: "127.0.0.1:0".parse().unwrap(),
            dir: tempfile::tempdir().unwrap(),
            tweak,
            stop: None,
            task: None,
        };
        server.listen();
        server
    }

    pub fn host_key(&self) -> PathBuf {
        self.dir.path().join("ssh_host_ed25519_key")
    }

    fn listen(&mut self) {
        let bind = |addr| self.runtime.block_on(bind_again(addr));
        let (http, ssh) = (bind(self.http), bind(self.ssh));
        self.http = http.local_addr().unwrap();
        self.ssh = ssh.local_addr().unwrap();
        let mut config = server::Config {
            shutdown_grace: Duration::from_secs(2),
            rate_per_sec: 0.0,
            store: server::store::StoreConfig {
                path: Some(self.dir.path().join("chat.sqlite3")),
                ..Default::default()
            },
            ssh: Some(server::ssh::SshConfig::new(Some(self.host_key()))),
            ..server::Config::default()
        };
        (self.tweak)(&mut config);
        let (tx, rx) = oneshot::channel::<()>();
        self.task =
            Some(
                self.runtime
                    .spawn(server::run_with_ssh(http, Some(ssh), config, async {
                        let _ = rx.await;
                    })),
            );
        self.stop = Some(tx);
    }

    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let ended = self
                .runtime
                .block_on(async { tokio::time::timeout(WAIT, task).await });
            ended
                .expect("the server stops in time")
                .unwrap()
                .expect("the server ran");
        }
    }

    /// Stops and starts again on the same ports and data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.listen();
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.http)
    }
}

/// Binds `addr` (port 0: any), retrying a just-released port a bounded
/// number of times.
async fn bind_again(addr: SocketAddr) -> tokio::net::TcpListener {
    for _ in 0..50 {
        if let Ok(listener) = tokio::net::TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot bind {addr}");
}

impl Drop for SshServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A new Ed25519 key pair without a passphrase, made by ssh-keygen: the
/// private key's path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "ssh-keygen: {out:?}");
    path
}

/// The OpenSSH client's options for a test: no user config, this key
/// only, a known_hosts file of the test's own.
pub fn ssh_args(server: &SshServer, key: &Path, known_hosts: &Path, strict: &str) -> Vec<String> {
    let mut args: Vec<String> = ["-F", "/dev/null", "-p"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(server.ssh.port().to_string());
    args.push("-i".into());
    args.push(key.display().to_string());
    for option in [
        "IdentitiesOnly=yes".to_string(),
        "IdentityAgent=none".to_string(),
        format!("UserKnownHostsFile={}", known_hosts.display()),
        format!("StrictHostKeyChecking={strict}"),
        "PasswordAuthentication=no".to_string(),
        "KbdInteractiveAuthentication=no".to_string(),
        "LogLevel=ERROR".to_string(),
        "ConnectTimeout=10".to_string(),
    ] {
        args.push("-o".into());
        args.push(option);
    }
    args
}

/// The OpenSSH client in a pseudo-terminal.
pub struct SshTerm {
    pub parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    pub child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    reader: Option<std::thread::JoinHandle<()>>,
    pub raw: Arc<Mutex<Vec<u8>>>,
}

impl SshTerm {
    /// `ssh -t ARGS user@127.0.0.1 [command...]` in a terminal of `size`.
    pub fn start(args: &[String], user: &str, command: &[&str], (cols, rows): (u16, u16)) -> Self {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new("ssh");
        cmd.arg("-t");
        cmd.args(args);
        cmd.arg(format!("{user}@127.0.0.1"));
        cmd.args(command);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("SSH_AUTH_SOCK");
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let (sink, bytes) = (parser.clone(), raw.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
                let mut raw = bytes.lock().unwrap();
                // Only the last few kilobytes matter (the last words).
                if raw.len() > 64 * 1024 {
                    raw.drain(..32 * 1024);
                }
                raw.extend_from_slice(&buf[..n]);
            }
        });
        let writer = pair.master.take_writer().unwrap();
        SshTerm {
            parser,
            writer,
            child,
            master: pair.master,
            reader: Some(reader),
            raw,
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Everything the terminal received, as text (escapes included).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.raw.lock().unwrap()).into_owned()
    }

    pub fn wait_until(&self, what: &str, pred: impl Fn(&SshTerm) -> bool) {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if pred(self) {
                return;
            }
            std::thread::sleep(POLL);
        }
        panic!(
            "timed out waiting for {what}; screen:\n{}\noutput tail:\n{:?}",
            self.screen(),
            tail(&self.output())
        );
    }

    pub fn wait_for(&self, text: &str) {
        self.wait_until(&format!("{text:?}"), |t| t.screen().contains(text));
    }

    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    pub fn line(&mut self, text: &str) {
        self.send(text);
        self.send("\r");
    }

    /// Resizes the terminal (ssh sends a window change) and the emulator.
    pub fn resize(&mut self, (cols, rows): (u16, u16)) {
        self.parser
            .lock()
            .unwrap()
            .screen_mut()
            .set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// Waits for ssh to exit; its exit code.
    pub fn wait_exit(&mut self) -> u32 {
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                while self.reader.as_ref().is_some_and(|r| !r.is_finished())
                    && Instant::now() < deadline
                {
                    std::thread::sleep(POLL);
                }
                return status.exit_code();
            }
            std::thread::sleep(POLL);
        }
        panic!("ssh did not exit; screen:\n{}", self.screen());
    }
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(2000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

impl Drop for SshTerm {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(r) = self.reader.take() {
            drop(std::mem::replace(
                &mut self.writer,
                Box::new(std::io::sink()),
            ));
            let _ = r.join();
        }
    }
}

/// Runs `ssh ARGS user@127.0.0.1 command...` without a terminal, bounded;
/// (exit code, stdout and stderr).
pub fn ssh_batch(args: &[String], extra: &[&str], user: &str, command: &[&str]) -> (i32, String) {
    let mut child = Command::new("ssh")
        .args(args)
        .args(extra)
        .arg(format!("{user}@127.0.0.1"))
        .args(command)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return (status.code().unwrap_or(-1), text);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ssh hung (no answer within {WAIT:?})");
        }
        std::thread::sleep(POLL);
    }
}

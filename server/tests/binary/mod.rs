//! The real `chat-server` binary as a child process: started with
//! options, read from its stdout until it says where it listens, stopped
//! with SIGTERM. Its stderr (the log) is kept for the test to read.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct Running {
    child: Child,
    /// The chat's address and scheme, from `listening on SCHEME://ADDR`.
    pub addr: SocketAddr,
    pub scheme: String,
    /// From `metrics on http://ADDR/metrics`, if metrics are on.
    pub metrics: Option<SocketAddr>,
    stderr: Option<std::thread::JoinHandle<String>>,
    /// The log's lines as they come.
    log_lines: mpsc::Receiver<String>,
}

/// `chat-server` with none of the caller's CHAT_* settings.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chat-server"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CHAT_") || key == "PORT" {
            cmd.env_remove(key);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

impl Running {
    /// Starts `cmd` and waits until it listens.
    pub fn start(mut cmd: Command) -> Running {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (log_tx, log_lines) = mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                text.push_str(&line);
                text.push('\n');
                let _ = log_tx.send(line);
            }
            text
        });
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        let deadline = Instant::now() + PATIENCE;
        let mut metrics = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = stderr.join().unwrap_or_default();
                    panic!("chat-server did not say where it listens; its log:\n{log}");
                }
            };
            if let Some(rest) = line.strip_prefix("metrics on http://") {
                metrics = Some(rest.trim_end_matches("/metrics").parse().unwrap());
            }
            if let Some(rest) = line.strip_prefix("listening on ") {
                let (scheme, addr) = rest.split_once("://").unwrap();
                return Running {
                    child,
                    addr: addr.parse().unwrap(),
                    scheme: scheme.to_string(),
                    metrics,
                    stderr: Some(stderr),
                    log_lines,
                };
            }
        }
    }

    /// Waits until the log has a line containing `text`.
    pub fn wait_for_log(&self, text: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log_lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return,
                Ok(_) => {}
                Err(_) => panic!("no log line with {text:?}"),
            }
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal by name (TERM, HUP) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// SIGTERM, then waits for the exit; the exit status and the whole log.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal("TERM");
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("chat-server did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = self.stderr.take().unwrap().join().unwrap_or_default();
        (status, log)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

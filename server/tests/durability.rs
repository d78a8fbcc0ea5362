//! What `--durability` promises, checked on the real binary.
//!
//! `power`: the write-ahead log is fsynced before the ack leaves, so the
//! message survives power loss. `process`: it is written to the log (the
//! operating system has it) but not fsynced, so it survives the process
//! being killed. The first is checked by tracing the server's system calls
//! with strace: the order of the fsync and of the ack's write is the
//! promise. The second by SIGKILL (see also `history.rs`).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::*;
use protocol::ServerEvent;

fn strace_missing() -> bool {
    let found = std::process::Command::new("strace")
        .arg("-V")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    !found
        && skip_without(
            "strace",
            "the durability tests trace the server's fsync calls",
        )
}

fn args(dir: &Path, durability: &str) -> Vec<String> {
    vec![
        "--data-dir".into(),
        dir.display().to_string(),
        "--durability".into(),
        durability.into(),
    ]
}

/// One system call of the trace, with the index of the line where it
/// returned (a call another thread interrupted is `<unfinished ...>` on
/// one line and `<... NAME resumed>` on a later one of the same thread).
struct Call {
    text: String,
    at: usize,
    returned_at: usize,
}

fn calls(trace: &str) -> Vec<Call> {
    let lines: Vec<&str> = trace.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.contains(" resumed>") {
            continue;
        }
        let returned_at = if line.ends_with("<unfinished ...>") {
            let pid = line.split_whitespace().next().unwrap_or_default();
            lines[i + 1..]
                .iter()
                .position(|l| l.starts_with(pid) && l.contains(" resumed>"))
                .map(|p| i + 1 + p)
                .unwrap_or(usize::MAX)
        } else {
            i
        };
        out.push(Call {
            text: line.to_string(),
            at: i,
            returned_at,
        });
    }
    out
}

fn is_wal_sync(call: &Call) -> bool {
    (call.text.contains(" fsync(") || call.text.contains(" fdatasync("))
        && call.text.contains("chat.sqlite3-wal>")
}

/// Runs the server under strace in `durability` mode, sends one message
/// after joining, and returns the syscalls between the write of the join's
/// history and the first write that carries the message or its ack.
async fn calls_between_join_and_ack(durability: &str) -> Vec<Call> {
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace");
    let data = dir.path().join("data");
    let probe = format!("probe-{durability}");
    let ack_id;
    {
        let server = Process::start_traced(&args(&data, durability), &trace_path);
        let mut ann = raw_client(&server.addr, "ann").await;
        ann.join("dev").await;
        let ack = ann.say("dev", &probe).await;
        assert_ok(&ack);
        let ServerEvent::Ack { id, .. } = ack else {
            unreachable!()
        };
        ack_id = id;
        ann.close().await;
    }
    let trace = std::fs::read_to_string(&trace_path).expect("the trace");
    let all = calls(&trace);
    let joined = all
        .iter()
        .position(|c| c.text.contains(r#"\"type\":\"history\""#))
        .unwrap_or_else(|| panic!("no write of the join's history in the trace:\n{trace}"));
    let acked = all
        .iter()
        .position(|c| {
            (c.text.contains(&probe) || c.text.contains(&format!(r#"\"id\":\"{ack_id}\""#)))
                && !c.text.contains("sync(")
        })
        .unwrap_or_else(|| panic!("no write of the message or its ack in the trace:\n{trace}"));
    assert!(joined < acked, "the join is answered before the message");
    let (start, end) = (all[joined].at, all[acked].at);
    all.into_iter()
        .filter(|c| c.returned_at > start && c.returned_at < end)
        .collect()
}

#[tokio::test]
async fn power_fsyncs_the_log_before_the_ack_is_written() {
    if strace_missing() {
        return;
    }
    let between = calls_between_join_and_ack("power").await;
    assert!(
        between.iter().any(is_wal_sync),
        "no fsync of the write-ahead log returned before the ack; calls in between:\n{}",
        between
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn process_acknowledges_without_waiting_for_the_disk() {
    if strace_missing() {
        return;
    }
    let between = calls_between_join_and_ack("process").await;
    assert!(
        !between.iter().any(is_wal_sync),
        "the write-ahead log was fsynced before the ack although only the process promise was asked for:\n{}",
        between
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        between
            .iter()
            .any(|c| c.text.contains("chat.sqlite3-wal>") && c.text.contains("write")),
        "the message was not written to the write-ahead log before the ack:\n{}",
        between
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The process promise, kept: SIGKILL right after the acks, and every
/// acknowledged message is there after the restart.
#[tokio::test]
async fn process_keeps_acknowledged_messages_through_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Process::start(&args(dir.path(), "process"));
    let mut ann = raw_client(&server.addr, "ann").await;
    ann.join("dev").await;
    let mut sent = Vec::new();
    for i in 0..40 {
        let text = format!("kept {i}");
        assert_ok(&ann.say("dev", &text).await);
        sent.push(text);
    }
    server.kill();

    let restarted = Process::start(&args(dir.path(), "process"));
    let mut reader = raw_client(&restarted.addr, "reader").await;
    let (events, _, _) = reader.join_with("dev", None, None).await;
    let texts: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Message { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, sent, "every acknowledged message, in order, once");
}

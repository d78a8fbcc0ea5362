//! Replays the outbox rulebook's test vectors (protocol/vectors/outbox.json,
//! shared with every other client) against chat-tui's outbox, and checks
//! that its constants and backoff schedule are the rulebook's.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use tui_client::app::outbox::{self, Change, Failure, Millis, Outbox, Status};

fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol/vectors/outbox.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn ms(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("not a number of ms: {v}"))
}

fn string(step: &Value, key: &str) -> String {
    step[key]
        .as_str()
        .unwrap_or_else(|| panic!("step without {key:?}: {step}"))
        .to_string()
}

#[test]
fn the_constants_are_the_rulebooks() {
    let v = vectors();
    let c = &v["constants"];
    assert_eq!(ms(&c["max_tries"]), u64::from(outbox::MAX_TRIES));
    assert_eq!(
        Duration::from_millis(ms(&c["ack_timeout_ms"])),
        outbox::ACK_TIMEOUT
    );
    assert_eq!(
        Duration::from_millis(ms(&c["backoff_first_ms"])),
        outbox::BACKOFF_FIRST
    );
    assert_eq!(
        Duration::from_millis(ms(&c["backoff_max_ms"])),
        outbox::BACKOFF_MAX
    );
    let codes: Vec<&str> = v["unknown_outcome_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes, outbox::UNKNOWN_OUTCOME_CODES);
}

#[test]
fn the_backoff_follows_the_table() {
    let v = vectors();
    let rows = v["backoff"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let attempt = u32::try_from(ms(&row["attempt"])).unwrap();
        let jitter = row["jitter"].as_f64().unwrap();
        assert_eq!(
            outbox::backoff(attempt, jitter),
            Duration::from_millis(ms(&row["ms"])),
            "{row}"
        );
    }
}

/// One scenario's outbox, with what the harness saw go out and settle.
struct Run {
    outbox: Outbox<String>,
    now: Millis,
    /// Ids sent since the last expectation.
    sent: Vec<String>,
    /// Ids the outbox reported as stored by the server.
    settled: HashMap<String, ()>,
}

impl Run {
    fn apply(&mut self, changes: Vec<Change<String>>) {
        for c in changes {
            match c {
                Change::Send(id) => self.sent.push(id),
                Change::Sent { id, .. } => {
                    self.settled.insert(id, ());
                }
                Change::Failed { .. } | Change::Retrying { .. } => {}
            }
        }
    }

    fn state(&self, id: &str) -> String {
        match self.outbox.status(id) {
            Some(Status::Queued | Status::InFlight) => "pending".into(),
            Some(Status::Failed(f)) => format!("failed:{}", f.code),
            None if self.settled.contains_key(id) => "sent".into(),
            None => "unknown".into(),
        }
    }

    fn step(&mut self, step: &Value) {
        if let Some(at) = step.get("at") {
            self.now = ms(at);
        }
        if let Some(expect) = step.get("expect") {
            self.check(expect);
            return;
        }
        let now = self.now;
        let failure = |step: &Value| Failure {
            code: string(step, "code"),
            message: "from the vectors".into(),
        };
        let changes = match step["do"].as_str() {
            Some("connected") => {
                self.outbox.connected();
                Vec::new()
            }
            Some("disconnected") => self.outbox.disconnected(),
            Some("joined") => self.outbox.joined(&string(step, "room"), now),
            Some("join_failed") => self
                .outbox
                .join_failed(&string(step, "room"), &failure(step)),
            Some("leave") => {
                self.outbox.leave(&string(step, "room"));
                Vec::new()
            }
            Some("submit") => {
                let id = string(step, "id");
                assert!(
                    ["text", "action", "location"].contains(&string(step, "kind").as_str()),
                    "{step}"
                );
                self.outbox
                    .submit(id.clone(), string(step, "room"), id, now)
            }
            Some("ack") => self.outbox.ack(&string(step, "id")),
            Some("nack") => self.outbox.nack(&string(step, "id"), failure(step), now),
            Some("echo") => self.outbox.echo(&string(step, "id"), &string(step, "room")),
            Some("retry") => self.outbox.retry(&string(step, "id"), now),
            Some("retry_room") => self.outbox.retry_room(&string(step, "room"), now),
            Some("tick") => self.outbox.tick(now),
            other => panic!("a step this harness does not know: {other:?} in {step}"),
        };
        self.apply(changes);
    }

    fn check(&mut self, expect: &Value) {
        let object = expect.as_object().unwrap();
        for (key, want) in object {
            match key.as_str() {
                "sent" => {
                    let want: Vec<&str> = want
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap())
                        .collect();
                    assert_eq!(self.sent, want, "sent");
                }
                "states" => {
                    for (id, state) in want.as_object().unwrap() {
                        assert_eq!(self.state(id), state.as_str().unwrap(), "state of {id}");
                    }
                }
                "wake" => assert_eq!(self.outbox.wake(), want.as_u64(), "wake"),
                other => panic!("an expectation this harness does not know: {other}"),
            }
        }
        self.sent.clear();
    }
}

#[test]
fn every_scenario_ends_as_the_rulebook_says() {
    let v = vectors();
    let scenarios = v["scenarios"].as_array().unwrap();
    assert!(!scenarios.is_empty());
    let mut checks = 0;
    for scenario in scenarios {
        let name = scenario["name"].as_str().unwrap();
        // The vectors fix jitter at 1.0: every delay is its full base.
        let mut run = Run {
            outbox: Outbox::new(|| 1.0),
            now: 0,
            sent: Vec::new(),
            settled: HashMap::new(),
        };
        for (i, step) in scenario["steps"].as_array().unwrap().iter().enumerate() {
            checks += usize::from(step.get("expect").is_some());
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run.step(step)));
            if let Err(e) = result {
                let why = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("scenario {name:?}, step {i} {step}:\n{why}");
            }
        }
    }
    assert!(
        checks >= scenarios.len(),
        "every scenario expects something"
    );
}

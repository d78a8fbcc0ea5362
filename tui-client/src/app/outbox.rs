//! The outbox: your lines on their way to the server, kept by the rulebook
//! every client follows (protocol/README.md, "How a client keeps its
//! outbox", replayed from `protocol/vectors/outbox.json` by
//! `tests/outbox_vectors.rs`).
//!
//! A line is *pending* (queued, or in flight with its ack due) until the
//! server confirms it, then *sent*; or *failed* with a reason, after which
//! only an explicit retry sends it again. An unknown outcome (the
//! connection dropped, an `unavailable` answer, no ack in time) is always
//! resent under the same request id, which the server recognises, so a
//! line is stored once however often it goes out.
//!
//! Pure bookkeeping: no I/O and no clock. Every call takes the time (in
//! milliseconds on a monotonic clock) and returns the [`Change`]s to carry
//! out; [`Outbox::wake`] says when it next wants a [`Outbox::tick`].

use std::time::Duration;

/// Unknown outcomes one line may have before it is given up on.
pub const MAX_TRIES: u32 = 8;
/// How long an ack may take before the outcome counts as unknown.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(15);
/// The first backoff delay, doubled for every further try...
pub const BACKOFF_FIRST: Duration = Duration::from_millis(500);
/// ...up to this.
pub const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Refusals that do not say whether the line was stored: resent.
pub const UNKNOWN_OUTCOME_CODES: &[&str] = &["unavailable"];
/// The failure code of a line given up on after [`MAX_TRIES`].
pub const GAVE_UP: &str = "gave_up";

/// Milliseconds on the caller's monotonic clock.
pub type Millis = u64;

/// `min(BACKOFF_FIRST × 2^(attempt−1), BACKOFF_MAX) × (0.5 + 0.5 × jitter)`,
/// with `jitter` in 0..=1 so that many clients do not retry in lockstep.
/// Spaces resends of a line and reconnection attempts alike.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(16);
    let base = BACKOFF_FIRST.saturating_mul(1u32 << exp).min(BACKOFF_MAX);
    base.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Why a line will not go out by itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The server's error code, or [`GAVE_UP`].
    pub code: String,
    /// What to tell the person.
    pub message: String,
}

impl Failure {
    pub fn gave_up() -> Failure {
        Failure {
            code: GAVE_UP.into(),
            message: format!("not confirmed after {MAX_TRIES} tries"),
        }
    }
}

/// Where one line is, as far as anyone outside the outbox cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Pending: waiting for its room's join or a backoff delay.
    Queued,
    /// Pending: sent on this connection, its ack due.
    InFlight,
    Failed(Failure),
}

/// What the caller has to do, or show, after a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<T> {
    /// Put this frame on the wire now.
    Send(T),
    /// Stored by the server; the line has left the outbox.
    Sent { id: String, room: String },
    /// Will not go out again by itself.
    Failed {
        id: String,
        room: String,
        failure: Failure,
    },
    /// Pending again after an explicit retry.
    Retrying { id: String, room: String },
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// `not_before`: the end of a backoff delay, if it is waiting one out.
    Queued {
        not_before: Option<Millis>,
    },
    InFlight {
        deadline: Millis,
    },
    Failed(Failure),
}

#[derive(Debug, Clone, PartialEq)]
struct Line<T> {
    id: String,
    room: String,
    frame: T,
    state: State,
    /// Unknown outcomes so far.
    tries: u32,
}

/// The lines not yet confirmed, in the order they were typed, and what the
/// outbox knows of the connection: whether there is one, and which rooms
/// are joined on it.
#[derive(Debug, Clone)]
pub struct Outbox<T> {
    lines: Vec<Line<T>>,
    connected: bool,
    joined: Vec<String>,
    /// A number in 0..=1 for each backoff delay.
    jitter: fn() -> f64,
}

impl<T: Clone> Outbox<T> {
    pub fn new(jitter: fn() -> f64) -> Self {
        Outbox {
            lines: Vec::new(),
            connected: false,
            joined: Vec::new(),
            jitter,
        }
    }

    /// A line was typed: queued, and sent at once if its room is joined.
    pub fn submit(&mut self, id: String, room: String, frame: T, now: Millis) -> Vec<Change<T>> {
        self.lines.push(Line {
            id,
            room: room.clone(),
            frame,
            state: State::Queued { not_before: None },
            tries: 0,
        });
        let mut out = Vec::new();
        self.flush(&room, now, &mut out);
        out
    }

    /// A new connection is up; no room is joined on it yet.
    pub fn connected(&mut self) {
        self.connected = true;
        self.joined.clear();
    }

    /// The connection was lost, or an attempt to connect failed: an unknown
    /// outcome for every pending line, which goes out again right after
    /// its room is rejoined (any backoff delay is cancelled).
    pub fn disconnected(&mut self) -> Vec<Change<T>> {
        self.connected = false;
        self.joined.clear();
        let mut out = Vec::new();
        for line in &mut self.lines {
            if !matches!(line.state, State::Failed(_)) {
                unknown_outcome(line, None, &mut out);
            }
        }
        out
    }

    /// The room's join was acknowledged: its queued lines go out, in order.
    pub fn joined(&mut self, room: &str, now: Millis) -> Vec<Change<T>> {
        if !self.joined.iter().any(|r| r == room) {
            self.joined.push(room.to_string());
        }
        let mut out = Vec::new();
        self.flush(room, now, &mut out);
        out
    }

    /// The room's join was refused: its pending lines fail with the reason.
    pub fn join_failed(&mut self, room: &str, failure: &Failure) -> Vec<Change<T>> {
        self.joined.retain(|r| r != room);
        let mut out = Vec::new();
        for line in self.lines.iter_mut().filter(|l| l.room == room) {
            if !matches!(line.state, State::Failed(_)) {
                fail(line, failure.clone(), &mut out);
            }
        }
        out
    }

    /// Leaving a room forgets its lines.
    pub fn leave(&mut self, room: &str) {
        self.joined.retain(|r| r != room);
        self.lines.retain(|l| l.room != room);
    }

    /// A positive `ack`: sent, whatever state the line was in.
    pub fn ack(&mut self, id: &str) -> Vec<Change<T>> {
        self.settle(|l| l.id == id)
    }

    /// The line's own echo (live, or in a resumed history): sent.
    pub fn echo(&mut self, id: &str, room: &str) -> Vec<Change<T>> {
        self.settle(|l| l.id == id && l.room == room)
    }

    /// An `ack` with an error: an unknown outcome for the codes that leave
    /// it open (only while the line is in flight), a failure otherwise.
    pub fn nack(&mut self, id: &str, failure: Failure, now: Millis) -> Vec<Change<T>> {
        let mut out = Vec::new();
        let jitter = self.jitter;
        let Some(line) = self.lines.iter_mut().find(|l| l.id == id) else {
            return out;
        };
        if UNKNOWN_OUTCOME_CODES.contains(&failure.code.as_str()) {
            if matches!(line.state, State::InFlight { .. }) {
                unknown_outcome(line, Some((now, jitter())), &mut out);
            }
        } else if !matches!(line.state, State::Failed(_)) {
            fail(line, failure, &mut out);
        }
        out
    }

    /// Queues a failed line again with a fresh count of tries.
    pub fn retry(&mut self, id: &str, now: Millis) -> Vec<Change<T>> {
        self.retry_where(|l| l.id == id, now)
    }

    /// Queues every failed line of a room again, in the order typed.
    pub fn retry_room(&mut self, room: &str, now: Millis) -> Vec<Change<T>> {
        self.retry_where(|l| l.room == room, now)
    }

    /// Handles what is due at `now`: acks that did not come in time, and
    /// lines whose backoff delay is over.
    pub fn tick(&mut self, now: Millis) -> Vec<Change<T>> {
        let mut out = Vec::new();
        let jitter = self.jitter;
        for line in &mut self.lines {
            if let State::InFlight { deadline } = line.state
                && deadline <= now
            {
                unknown_outcome(line, Some((now, jitter())), &mut out);
            }
        }
        let rooms = self.joined.clone();
        for room in &rooms {
            self.flush(room, now, &mut out);
        }
        // A delay that ended while its room could not be sent to: the line
        // waits for the join instead, so `wake` never names a past time.
        for line in &mut self.lines {
            if let State::Queued { not_before } = &mut line.state
                && not_before.is_some_and(|t| t <= now)
            {
                *not_before = None;
            }
        }
        out
    }

    /// When [`Outbox::tick`] next has something to do: the earliest ack
    /// deadline or end of a backoff delay. `None`: nothing until an event.
    pub fn wake(&self) -> Option<Millis> {
        self.lines
            .iter()
            .filter_map(|l| match l.state {
                State::InFlight { deadline } => Some(deadline),
                State::Queued { not_before } => not_before,
                State::Failed(_) => None,
            })
            .min()
    }

    /// Where the line `id` is; `None` once sent (or forgotten).
    pub fn status(&self, id: &str) -> Option<Status> {
        let line = self.lines.iter().find(|l| l.id == id)?;
        Some(match &line.state {
            State::Queued { .. } => Status::Queued,
            State::InFlight { .. } => Status::InFlight,
            State::Failed(f) => Status::Failed(f.clone()),
        })
    }

    fn settle(&mut self, which: impl Fn(&Line<T>) -> bool) -> Vec<Change<T>> {
        let Some(k) = self.lines.iter().position(which) else {
            return Vec::new();
        };
        let line = self.lines.remove(k);
        vec![Change::Sent {
            id: line.id,
            room: line.room,
        }]
    }

    fn retry_where(&mut self, which: impl Fn(&Line<T>) -> bool, now: Millis) -> Vec<Change<T>> {
        let mut out = Vec::new();
        let mut rooms: Vec<String> = Vec::new();
        for line in self.lines.iter_mut().filter(|l| which(l)) {
            if matches!(line.state, State::Failed(_)) {
                line.state = State::Queued { not_before: None };
                line.tries = 0;
                out.push(Change::Retrying {
                    id: line.id.clone(),
                    room: line.room.clone(),
                });
                if !rooms.contains(&line.room) {
                    rooms.push(line.room.clone());
                }
            }
        }
        for room in &rooms {
            self.flush(room, now, &mut out);
        }
        out
    }

    /// Sends the room's queued lines whose delay (if any) is over, in
    /// order, when the room is joined on a connection.
    fn flush(&mut self, room: &str, now: Millis, out: &mut Vec<Change<T>>) {
        if !self.connected || !self.joined.iter().any(|r| r == room) {
            return;
        }
        for line in self.lines.iter_mut().filter(|l| l.room == room) {
            if let State::Queued { not_before } = line.state
                && not_before.is_none_or(|t| t <= now)
            {
                line.state = State::InFlight {
                    deadline: now.saturating_add(millis(ACK_TIMEOUT)),
                };
                out.push(Change::Send(line.frame.clone()));
            }
        }
    }
}

/// One more try counted: given up after [`MAX_TRIES`], else queued again,
/// after a backoff delay when `delay` gives the time and a jitter.
fn unknown_outcome<T>(line: &mut Line<T>, delay: Option<(Millis, f64)>, out: &mut Vec<Change<T>>) {
    line.tries = line.tries.saturating_add(1);
    if line.tries >= MAX_TRIES {
        fail(line, Failure::gave_up(), out);
        return;
    }
    let not_before =
        delay.map(|(now, jitter)| now.saturating_add(millis(backoff(line.tries, jitter))));
    line.state = State::Queued { not_before };
}

fn fail<T>(line: &mut Line<T>, failure: Failure, out: &mut Vec<Change<T>>) {
    line.state = State::Failed(failure.clone());
    out.push(Change::Failed {
        id: line.id.clone(),
        room: line.room.clone(),
        failure,
    });
}

fn millis(d: Duration) -> Millis {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox() -> Outbox<&'static str> {
        Outbox::new(|| 1.0)
    }

    fn sends<T: Clone>(changes: &[Change<T>]) -> Vec<T> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Send(f) => Some(f.clone()),
                _ => None,
            })
            .collect()
    }

    fn failure(code: &str) -> Failure {
        Failure {
            code: code.into(),
            message: format!("{code} message"),
        }
    }

    #[test]
    fn the_backoff_doubles_up_to_its_cap_and_jitter_takes_off_up_to_half() {
        assert_eq!(backoff(1, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(2, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(4, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(20, 1.0), BACKOFF_MAX);
        assert_eq!(backoff(u32::MAX, 1.0), BACKOFF_MAX);
        assert_eq!(backoff(2, 0.0), Duration::from_millis(500));
        // Out-of-range jitter is clamped, never a longer or negative delay.
        assert_eq!(backoff(1, 7.0), Duration::from_millis(500));
        assert_eq!(backoff(1, -1.0), Duration::from_millis(250));
    }

    #[test]
    fn the_backoff_delay_uses_the_jitter_source() {
        let mut o: Outbox<&str> = Outbox::new(|| 0.0);
        o.connected();
        o.joined("dev", 0);
        o.submit("a".into(), "dev".into(), "A", 0);
        o.nack("a", failure("unavailable"), 100);
        // backoff(1) at jitter 0 is half of 500 ms.
        assert_eq!(o.wake(), Some(350));
    }

    #[test]
    fn wake_is_the_earliest_of_several_lines() {
        let mut o = outbox();
        o.connected();
        o.joined("dev", 0);
        o.submit("a".into(), "dev".into(), "A", 0);
        o.submit("b".into(), "dev".into(), "B", 1_000);
        assert_eq!(o.wake(), Some(15_000));
        o.nack("b", failure("unavailable"), 2_000);
        assert_eq!(o.wake(), Some(2_500));
        o.ack("a");
        assert_eq!(o.wake(), Some(2_500));
        // A tick before anything is due changes nothing.
        assert!(o.tick(2_499).is_empty());
        assert_eq!(sends(&o.tick(2_500)), ["B"]);
        assert_eq!(o.wake(), Some(17_500));
    }

    #[test]
    fn a_delay_that_ends_while_the_room_is_not_joined_waits_for_the_join() {
        let mut o = outbox();
        o.connected();
        o.joined("dev", 0);
        o.submit("a".into(), "dev".into(), "A", 0);
        o.nack("a", failure("unavailable"), 0);
        // Not reachable through the calls (a lost connection cancels
        // delays), but the outbox must not ask to be woken in the past.
        o.joined.clear();
        assert!(sends(&o.tick(10_000)).is_empty());
        assert_eq!(o.status("a"), Some(Status::Queued));
        assert_eq!(o.wake(), None);
        assert_eq!(sends(&o.joined("dev", 10_001)), ["A"]);
    }

    #[test]
    fn a_late_refusal_of_a_line_already_failed_keeps_the_first_reason() {
        let mut o = outbox();
        o.connected();
        o.joined("dev", 0);
        o.submit("a".into(), "dev".into(), "A", 0);
        o.nack("a", failure("rate_limited"), 0);
        assert!(o.nack("a", failure("internal"), 0).is_empty());
        assert_eq!(o.status("a"), Some(Status::Failed(failure("rate_limited"))));
    }

    #[test]
    fn changes_name_the_line_and_its_room() {
        let mut o = outbox();
        o.submit("a".into(), "dev".into(), "A", 0);
        let fx = o.join_failed("dev", &failure("too_many_rooms"));
        assert_eq!(
            fx,
            [Change::Failed {
                id: "a".into(),
                room: "dev".into(),
                failure: failure("too_many_rooms")
            }]
        );
        o.connected();
        o.joined("dev", 5);
        let fx = o.retry_room("dev", 5);
        assert_eq!(
            fx,
            [
                Change::Retrying {
                    id: "a".into(),
                    room: "dev".into()
                },
                Change::Send("A")
            ]
        );
        assert_eq!(
            o.echo("a", "dev"),
            [Change::Sent {
                id: "a".into(),
                room: "dev".into()
            }]
        );
        assert_eq!(o.status("a"), None);
    }
}

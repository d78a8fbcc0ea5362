//! The client's own check that the link is alive (protocol/README.md,
//! `heartbeat_ms` under "Handshake and identities"): a link can die without a word (a laptop asleep, a NAT
//! forgetting the mapping, a proxy that stops forwarding), and then only
//! silence tells. Anything received counts as a sign of life. After one
//! heartbeat interval of silence the client asks (`ping`); after two it
//! gives the link up and reconnects.

use std::time::Duration;

use tokio::time::Instant;

/// What is due when the timer of [`Liveness::deadline`] fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Nothing yet (something was heard since the timer was set).
    Nothing,
    /// Silent for one interval: send a ping.
    Ping,
    /// Silent for two intervals: the link is dead.
    Dead,
}

#[derive(Debug, Clone, Copy)]
pub struct Liveness {
    period: Duration,
    last_heard: Instant,
    pinged: bool,
}

impl Liveness {
    /// `period`: the server's heartbeat interval (from its welcome).
    pub fn new(period: Duration, now: Instant) -> Liveness {
        Liveness {
            // A zero interval would make every instant a deadline.
            period: period.max(Duration::from_millis(100)),
            last_heard: now,
            pinged: false,
        }
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    /// Something arrived.
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
        self.pinged = false;
    }

    /// When to look again: the end of the first silent interval, or of
    /// the second once the ping went out.
    pub fn deadline(&self) -> Instant {
        let intervals = if self.pinged { 2 } else { 1 };
        self.last_heard + self.period * intervals
    }

    /// What is due at `now`; a ping counts as sent once asked for.
    pub fn due(&mut self, now: Instant) -> Due {
        let silent = now.saturating_duration_since(self.last_heard);
        if silent >= self.period * 2 {
            Due::Dead
        } else if silent >= self.period && !self.pinged {
            self.pinged = true;
            Due::Ping
        } else {
            Due::Nothing
        }
    }

    /// How long the link has been silent, for the message that gives it up.
    pub fn silent_for(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.last_heard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn silence_asks_once_then_gives_up_after_two_intervals() {
        let t0 = Instant::now();
        let mut l = Liveness::new(S * 10, t0);
        assert_eq!(l.deadline(), t0 + S * 10);
        assert_eq!(l.due(t0 + S * 9), Due::Nothing);
        assert_eq!(l.due(t0 + S * 10), Due::Ping);
        // Asked once: the next look is at two intervals.
        assert_eq!(l.deadline(), t0 + S * 20);
        assert_eq!(l.due(t0 + S * 15), Due::Nothing);
        assert_eq!(l.due(t0 + S * 20), Due::Dead);
    }

    #[test]
    fn anything_heard_starts_the_count_again() {
        let t0 = Instant::now();
        let mut l = Liveness::new(S * 10, t0);
        assert_eq!(l.due(t0 + S * 12), Due::Ping);
        l.heard(t0 + S * 13);
        assert_eq!(l.deadline(), t0 + S * 23);
        assert_eq!(l.due(t0 + S * 22), Due::Nothing);
        assert_eq!(l.due(t0 + S * 23), Due::Ping);
        assert_eq!(l.silent_for(t0 + S * 30), S * 17);
    }

    #[test]
    fn a_late_timer_still_finds_a_dead_link() {
        let t0 = Instant::now();
        let mut l = Liveness::new(S, t0);
        // The process was suspended past both intervals.
        assert_eq!(l.due(t0 + S * 60), Due::Dead);
        // A zero interval is not a busy loop.
        assert!(Liveness::new(Duration::ZERO, t0).deadline() > t0);
    }
}

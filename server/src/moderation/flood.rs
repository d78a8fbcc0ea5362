//! Flood protection and slow mode for one room, beyond the connection's
//! token bucket: the same text three times in a row, too many `@names` in
//! one message, repeat offenders, and one message per N seconds. Kept by
//! the room's task on this instance (a room's members on another instance
//! are counted there), forgotten when the room retires.

use std::collections::{HashMap, VecDeque};

use protocol::TimestampMs;
use protocol::limits::{FLOOD_REPEATS, FLOOD_STRIKE_WINDOW_S, FLOOD_STRIKES, MAX_MENTIONS};

/// People remembered per room, at most; beyond it the oldest memories are
/// dropped (a room with this many writers is not flooded by one of them).
const MAX_PEOPLE: usize = 10_000;

/// Why flood protection refused a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flooding {
    Repeated,
    Mentions(usize),
}

impl Flooding {
    pub fn message(self) -> String {
        match self {
            Flooding::Repeated => format!(
                "you sent the same message {FLOOD_REPEATS} times in a row; say something else"
            ),
            Flooding::Mentions(n) => format!(
                "a message may name at most {MAX_MENTIONS} people with @ (this one names {n})"
            ),
        }
    }
}

#[derive(Debug, Default)]
struct Person {
    /// Hashes of their latest texts here, normalised, newest last (a hash,
    /// not the text: a room's memory stays small however long the lines).
    recent: VecDeque<u64>,
    /// When their latest refusals were.
    strikes: VecDeque<TimestampMs>,
    /// When their latest message here was kept.
    last_post: Option<TimestampMs>,
}

/// One room's memory of who wrote what.
#[derive(Debug, Default)]
pub struct Flood {
    /// By identity id (given out by the server, not chosen by the person),
    /// so a fast hasher will do; seeded at random per process anyway.
    people: HashMap<String, Person, foldhash::fast::RandomState>,
}

/// The text trimmed and case-folded, hashed.
///
/// Runs twice for every text message (the check, then the memory of it),
/// so the folded text goes to the hasher in chunks of bytes: a hasher call
/// per character made this the largest per-message cost of a busy room,
/// more than storing the message. The hasher is foldhash with a fixed
/// seed: the hashes are only compared with the same person's own recent
/// ones, so someone who made two texts collide would only get their own
/// message refused as a repeat.
fn normal(text: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    const CHUNK: usize = 128;
    /// Chunks of exactly `CHUNK` folded bytes, whatever the characters:
    /// foldhash (unlike SipHash) hashes each `write` as a unit, so the
    /// same folded text must be cut in the same places.
    struct Chunks {
        hasher: foldhash::fast::FoldHasher<'static>,
        buf: [u8; CHUNK],
        len: usize,
    }
    impl Chunks {
        fn push(&mut self, byte: u8) {
            if self.len == CHUNK {
                self.hasher.write(&self.buf);
                self.len = 0;
            }
            self.buf[self.len] = byte;
            self.len += 1;
        }
    }
    let mut chunks = Chunks {
        hasher: foldhash::fast::FixedState::default().build_hasher(),
        buf: [0u8; CHUNK],
        len: 0,
    };
    let text = text.trim();
    if text.is_ascii() {
        // The common case, a chunk at a time: the same bytes in the same
        // chunks as the loop below makes, without a branch per byte.
        let mut parts = text.as_bytes().chunks(CHUNK).peekable();
        while let Some(part) = parts.next() {
            chunks.buf[..part.len()].copy_from_slice(part);
            chunks.buf[..part.len()].make_ascii_lowercase();
            match parts.peek() {
                Some(_) => chunks.hasher.write(&chunks.buf),
                None => chunks.len = part.len(),
            }
        }
    } else {
        let mut utf8 = [0u8; 4];
        for c in text.chars() {
            if c.is_ascii() {
                chunks.push(c.to_ascii_lowercase() as u8);
            } else {
                for lower in c.to_lowercase() {
                    for &byte in lower.encode_utf8(&mut utf8).as_bytes() {
                        chunks.push(byte);
                    }
                }
            }
        }
    }
    let Chunks {
        mut hasher,
        buf,
        len,
    } = chunks;
    hasher.write(&buf[..len]);
    hasher.finish()
}

impl Flood {
    /// Whether `user`'s `text` floods.
    pub fn check(&self, user: &str, text: &str) -> Result<(), Flooding> {
        let mentions = protocol::moderation::distinct_mentions(text);
        if mentions > MAX_MENTIONS {
            return Err(Flooding::Mentions(mentions));
        }
        let text = normal(text);
        let repeats = self.people.get(user).is_some_and(|p| {
            p.recent.len() >= FLOOD_REPEATS - 1 && p.recent.iter().all(|t| *t == text)
        });
        if repeats {
            return Err(Flooding::Repeated);
        }
        Ok(())
    }

    fn person(&mut self, user: &str) -> &mut Person {
        if self.people.len() >= MAX_PEOPLE && !self.people.contains_key(user) {
            self.people.clear();
        }
        self.people.entry(user.to_owned()).or_default()
    }

    /// `user`'s message was kept at `now` (`text` for a text message).
    pub fn kept(&mut self, user: &str, text: Option<&str>, now: TimestampMs) {
        let person = self.person(user);
        person.last_post = Some(now);
        if let Some(text) = text {
            person.recent.push_back(normal(text));
            while person.recent.len() > FLOOD_REPEATS - 1 {
                person.recent.pop_front();
            }
        }
    }

    /// Counts a refusal; true when it makes `user` a repeat offender (then
    /// the count starts again).
    pub fn strike(&mut self, user: &str, now: TimestampMs) -> bool {
        let window = i64::try_from(FLOOD_STRIKE_WINDOW_S * 1000).unwrap_or(i64::MAX);
        let person = self.person(user);
        person.strikes.push_back(now);
        while person
            .strikes
            .front()
            .is_some_and(|&t| now.saturating_sub(t) >= window)
        {
            person.strikes.pop_front();
        }
        if person.strikes.len() >= FLOOD_STRIKES {
            person.strikes.clear();
            return true;
        }
        false
    }

    /// Seconds `user` still has to wait under slow mode of `slow_s`.
    pub fn slow_wait(&self, user: &str, slow_s: u32, now: TimestampMs) -> Option<u64> {
        if slow_s == 0 {
            return None;
        }
        let last = self.people.get(user)?.last_post?;
        let next = last + i64::from(slow_s) * 1000;
        (now < next).then(|| u64::try_from((next - now + 999) / 1000).unwrap_or(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_third_repeat_is_refused_and_three_refusals_make_an_offender() {
        let mut f = Flood::default();
        for t in 0..2 {
            assert_eq!(f.check("ann", " Buy NOW "), Ok(()));
            f.kept("ann", Some("buy now"), t);
        }
        assert_eq!(f.check("ann", "buy now"), Err(Flooding::Repeated));
        assert_eq!(f.check("bob", "buy now"), Ok(()));
        assert_eq!(f.check("ann", "something else"), Ok(()));
        assert!(!f.strike("ann", 1_000));
        assert!(!f.strike("ann", 2_000));
        assert!(f.strike("ann", 3_000));
        assert!(!f.strike("ann", 100_000));
        assert!(
            !f.strike("ann", 170_000),
            "the first fell out of the window"
        );
    }

    #[test]
    fn repeats_are_recognised_whatever_the_case_and_length() {
        let long = "Ab ÄÖ İ ß ".repeat(40);
        assert_eq!(normal(&long), normal(&long.to_lowercase()));
        assert_eq!(normal(&format!("  {long}\n")), normal(&long));
        assert_ne!(normal(&long), normal(&format!("{long}x")));
        assert_ne!(normal("ab"), normal("a b"));
        assert_eq!(normal("ΣΑΣ"), normal("σασ"), "folded per character");
        // The Kelvin sign folds to an ASCII `k`: the same text through the
        // character loop and through the ASCII path, at every chunk edge.
        for n in [0, 1, 126, 127, 128, 200, 254, 255, 256, 300] {
            let rest = "A".repeat(n);
            assert_eq!(
                normal(&format!("\u{212A}{rest}")),
                normal(&format!("k{rest}")),
                "{n}"
            );
            assert_eq!(
                normal(&format!("K{rest}")),
                normal(&format!("k{}", rest.to_lowercase()))
            );
        }
    }

    #[test]
    fn mentions_and_slow_mode() {
        let f = Flood::default();
        assert_eq!(
            f.check("ann", "@a @b @c @d @e @f"),
            Err(Flooding::Mentions(6))
        );
        assert_eq!(f.check("ann", "@a @b @c @d @e"), Ok(()));
        let mut f = Flood::default();
        assert_eq!(f.slow_wait("ann", 10, 0), None);
        f.kept("ann", None, 1_000);
        assert_eq!(f.slow_wait("ann", 10, 2_000), Some(9));
        assert_eq!(f.slow_wait("ann", 10, 11_000), None);
        assert_eq!(f.slow_wait("ann", 0, 2_000), None);
    }
}

//! The text of a benchmark message carries its send time, so latency is
//! measured by the receiver without any clock shared with the server, and a
//! cheap way to find that text in a server frame without a full JSON parse.
//!
//! Format: `b<send_ns>.<sender> <padding>`, where `send_ns` is nanoseconds
//! since the generator's start and `sender` the sending client's index.

/// What a benchmark message says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Nanoseconds since the generator's start at which the message was due.
    pub send_ns: u64,
    /// Index of the sending client.
    pub sender: u32,
}

/// Shortest text [`encode`] produces (room for the largest numbers).
pub const MIN_TEXT_BYTES: usize = 33;

/// The message text for `stamp`, padded with `x` to `size` bytes when
/// `size` is larger than the stamp itself.
pub fn encode(stamp: Stamp, size: usize) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(size.max(MIN_TEXT_BYTES));
    // Writing to a String cannot fail.
    let _ = write!(text, "b{}.{}", stamp.send_ns, stamp.sender);
    if text.len() < size {
        text.push(' ');
        while text.len() < size {
            text.push('x');
        }
    }
    text
}

/// Reads the stamp back from a message text; `None` if it is not ours.
pub fn decode(text: &str) -> Option<Stamp> {
    let rest = text.strip_prefix('b')?;
    let (ns, rest) = rest.split_once('.')?;
    let sender = match rest.split_once(' ') {
        Some((sender, _)) => sender,
        None => rest,
    };
    Some(Stamp {
        send_ns: parse_digits(ns)?,
        sender: u32::try_from(parse_digits(sender)?).ok()?,
    })
}

fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// What a server frame is, as far as the generator cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A `message` event, with its text (only texts without JSON escapes are
    /// returned; ours never have any).
    Message(Option<&'a str>),
    /// An `ack`, successful or not.
    Ack { ok: bool },
    /// An `error` event.
    Error,
    /// `room_state` for a room.
    RoomState,
    /// `welcome`.
    Welcome,
    /// Anything else (presence events, locations).
    Other,
}

/// Classifies a server frame by its leading `type` field (serde writes the
/// tag first) and, for messages, finds the text.
pub fn classify(frame: &str) -> Frame<'_> {
    let Some(rest) = frame.strip_prefix(r#"{"type":""#) else {
        return Frame::Other;
    };
    if rest.starts_with(r#"message""#) {
        Frame::Message(message_text(rest))
    } else if rest.starts_with(r#"ack""#) {
        Frame::Ack {
            ok: !rest.contains(r#""ok":false"#),
        }
    } else if rest.starts_with(r#"error""#) {
        Frame::Error
    } else if rest.starts_with(r#"room_state""#) {
        Frame::RoomState
    } else if rest.starts_with(r#"welcome""#) {
        Frame::Welcome
    } else {
        Frame::Other
    }
}

fn message_text(frame: &str) -> Option<&str> {
    const KEY: &str = r#""text":""#;
    let start = frame.find(KEY)? + KEY.len();
    let rest = &frame[start..];
    let end = rest.find('"')?;
    let text = &rest[..end];
    if text.contains('\\') {
        return None;
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        for (ns, sender, size) in [
            (0, 0, 0),
            (1_234_567_890, 7, 64),
            (u64::MAX, u32::MAX, 10),
            (42, 3, 4000),
        ] {
            let stamp = Stamp {
                send_ns: ns,
                sender,
            };
            let text = encode(stamp, size);
            assert!(text.len() >= size.min(4000));
            if size > MIN_TEXT_BYTES {
                assert_eq!(text.len(), size);
            }
            assert_eq!(decode(&text), Some(stamp), "{text}");
        }
    }

    #[test]
    fn stamps_fit_the_minimum() {
        let text = encode(
            Stamp {
                send_ns: u64::MAX,
                sender: u32::MAX,
            },
            0,
        );
        assert!(text.len() <= MIN_TEXT_BYTES, "{}", text.len());
    }

    #[test]
    fn foreign_texts_are_not_stamps() {
        for text in [
            "",
            "hello",
            "b",
            "b12",
            "b12.",
            "b.3",
            "b1x.2",
            "b1.2x",
            "B1.2",
            "b1.99999999999",
        ] {
            assert_eq!(decode(text), None, "{text}");
        }
    }

    #[test]
    fn frames_are_classified() {
        let message = protocol::encode(&protocol::ServerEvent::Message {
            room: "r".into(),
            seq: 1,
            ts: 2,
            from: "c1".into(),
            user: "u_0123456789abcdef".into(),
            id: "9".into(),
            text: "b5.1 xx".into(),
            action: false,
        });
        assert_eq!(classify(&message), Frame::Message(Some("b5.1 xx")));
        let escaped = protocol::encode(&protocol::ServerEvent::Message {
            room: "r".into(),
            seq: 1,
            ts: 2,
            from: "c1".into(),
            user: "u_0123456789abcdef".into(),
            id: "9".into(),
            text: "say \"hi\"".into(),
            action: false,
        });
        assert_eq!(classify(&escaped), Frame::Message(None));
        let ack = protocol::encode(&protocol::ServerEvent::ack_ok("1", Some(3)));
        assert_eq!(classify(&ack), Frame::Ack { ok: true });
        let nack = protocol::encode(&protocol::ServerEvent::ack_err(
            "1",
            protocol::ErrorCode::RateLimited,
            "slow down",
        ));
        assert_eq!(classify(&nack), Frame::Ack { ok: false });
        let error = protocol::encode(&protocol::ServerEvent::error(
            protocol::ErrorCode::Malformed,
            "x",
        ));
        assert_eq!(classify(&error), Frame::Error);
        let state = protocol::encode(&protocol::ServerEvent::RoomState {
            room: "r".into(),
            users: vec![],
            topic: None,
            modes: Default::default(),
        });
        assert_eq!(classify(&state), Frame::RoomState);
        assert_eq!(classify("not json"), Frame::Other);
        assert_eq!(
            classify(r#"{"type":"user_left","room":"r","name":"a","ts":1}"#),
            Frame::Other
        );
    }
}

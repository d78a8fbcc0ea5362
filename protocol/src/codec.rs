//! Turning frames into events and back.
//!
//! Decoding a well-formed frame is one `serde_json` pass. Only when that
//! fails is the frame looked at again, to tell a client precisely what was
//! wrong (not JSON, no `type`, an unknown `type`, or bad fields) and, when
//! the frame had one, which request id the error belongs to.

use serde::Deserialize;

use crate::{ClientEvent, ErrorCode, ServerEvent};

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    /// [`ErrorCode::Malformed`] or [`ErrorCode::UnknownType`].
    pub code: ErrorCode,
    pub message: String,
    /// The request id, if the frame had a usable one, so the error can be
    /// sent as that request's `ack`.
    pub id: Option<String>,
}

/// Decodes one client frame.
pub fn decode_client(text: &str) -> Result<ClientEvent, DecodeError> {
    serde_json::from_str(text).map_err(|err| classify(text, err, KNOWN_CLIENT_TYPES))
}

/// Decodes one server frame (for clients).
pub fn decode_server(text: &str) -> Result<ServerEvent, DecodeError> {
    serde_json::from_str(text).map_err(|err| classify(text, err, KNOWN_SERVER_TYPES))
}

/// Serializes an event to the JSON text of one frame.
pub fn encode<T: serde::Serialize>(event: &T) -> String {
    // Our event types contain only strings, numbers, booleans and plain
    // structs, for which serde_json cannot fail; a failure would be a bug in
    // this crate, caught by its tests.
    serde_json::to_string(event).expect("protocol events always serialize")
}

/// The JSON text of a successful `ack` (`ServerEvent::ack_ok(id, seq)`),
/// written directly.
///
/// A busy room acknowledges every message it stores; building the event
/// (an owned copy of the id) and running it through serde cost more than
/// the frame is long. The bytes are the same as [`encode`]'s: the golden
/// files `server_ack_ok.json` and `server_ack_join.json` and an equality
/// test over awkward ids hold both to it. The id goes through serde_json's
/// own string escaping.
pub fn encode_ack_ok(id: &str, seq: Option<crate::Seq>) -> String {
    let mut out = String::with_capacity(40 + id.len());
    out.push_str(r#"{"type":"ack","id":"#);
    // A `str` always serializes.
    out.push_str(&serde_json::to_string(id).expect("a string always serializes"));
    out.push_str(r#","ok":true"#);
    if let Some(seq) = seq {
        use std::fmt::Write;
        let _ = write!(out, r#","seq":{seq}"#);
    }
    out.push('}');
    out
}

const KNOWN_CLIENT_TYPES: &[&str] = &[
    "hello", "join", "leave", "send", "location", "history", "ping", "link", "devices", "logout",
];
const KNOWN_SERVER_TYPES: &[&str] = &[
    "welcome",
    "room_state",
    "user_joined",
    "user_left",
    "message",
    "location",
    "history",
    "link_code",
    "devices",
    "ack",
    "error",
];

/// The two fields we can still make sense of in a frame that failed to decode.
#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    id: Option<serde_json::Value>,
}

fn classify(text: &str, err: serde_json::Error, known: &[&str]) -> DecodeError {
    let Ok(envelope) = serde_json::from_str::<Envelope>(text) else {
        return DecodeError {
            code: ErrorCode::Malformed,
            message: format!("frame is not a JSON object: {err}"),
            id: None,
        };
    };
    let id = match envelope.id {
        Some(serde_json::Value::String(id)) if crate::validate::request_id(&id).is_ok() => Some(id),
        _ => None,
    };
    match envelope.kind {
        Some(serde_json::Value::String(kind)) if !known.contains(&kind.as_str()) => DecodeError {
            code: ErrorCode::UnknownType,
            message: format!(
                "unknown event type {:?}; expected one of: {}",
                truncate(&kind, 40),
                known.join(", ")
            ),
            id,
        },
        Some(serde_json::Value::String(kind)) => DecodeError {
            code: ErrorCode::Malformed,
            message: format!("bad {kind:?} event: {err}"),
            id,
        },
        _ => DecodeError {
            code: ErrorCode::Malformed,
            message: "frame has no string field \"type\"".into(),
            id,
        },
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_frames_decode() {
        let ev = decode_client(r#"{"type":"join","id":"1","room":"dev"}"#).unwrap();
        assert_eq!(
            ev,
            ClientEvent::Join {
                id: "1".into(),
                room: "dev".into(),
                since: None,
                epoch: None,
            }
        );
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let ev = decode_client(r#"{"type":"leave","id":"1","room":"dev","future":true}"#);
        assert!(ev.is_ok());
    }

    #[test]
    fn errors_are_classified() {
        let e = decode_client("not json").unwrap_err();
        assert_eq!((e.code, e.id), (ErrorCode::Malformed, None));

        let e = decode_client(r#"{"id":"7"}"#).unwrap_err();
        assert_eq!((e.code, e.id.as_deref()), (ErrorCode::Malformed, Some("7")));

        let e = decode_client(r#"{"type":"dance","id":"8"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.id.as_deref()),
            (ErrorCode::UnknownType, Some("8"))
        );
        assert!(e.message.contains("dance"));

        let e = decode_client(r#"{"type":"send","id":"9","room":"dev"}"#).unwrap_err();
        assert_eq!((e.code, e.id.as_deref()), (ErrorCode::Malformed, Some("9")));
        assert!(e.message.contains("text"), "{}", e.message);

        let e = decode_client(r#"[1,2]"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::Malformed);
    }

    #[test]
    fn the_direct_ack_is_the_serde_ack() {
        let ids = [
            "",
            "1",
            "a\"b",
            "back\\slash",
            "new\nline",
            "tab\t",
            "\u{1}ctl",
            "é ü 漢字 🎉",
            "</script>",
        ];
        for id in ids {
            for seq in [None, Some(0), Some(1), Some(42), Some(u64::MAX)] {
                assert_eq!(
                    encode_ack_ok(id, seq),
                    encode(&ServerEvent::ack_ok(id, seq)),
                    "id {id:?}, seq {seq:?}"
                );
            }
        }
    }
}

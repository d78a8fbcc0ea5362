//! The few fields of a client frame the floor looks at, read in one
//! borrowing `serde_json` pass: strings without escapes are not copied.
//! Everything else in the frame is skipped, and nothing is validated.
//!
//! The fields are plain `Cow`s defaulting to "" rather than `Option<Cow>`:
//! serde borrows a `Cow` only when it is the field's own type, and would
//! copy every string inside an `Option`.

use std::borrow::Cow;

use serde::Deserialize;

/// A client frame, as far as the floor cares.
#[derive(Debug, Deserialize)]
pub struct Request<'a> {
    /// `hello`, `join`, `send`; anything else is ignored. The other
    /// fields are "" when absent.
    #[serde(rename = "type", borrow)]
    pub kind: Cow<'a, str>,
    #[serde(default, borrow)]
    pub name: Cow<'a, str>,
    #[serde(default, borrow)]
    pub room: Cow<'a, str>,
    #[serde(default, borrow)]
    pub id: Cow<'a, str>,
    #[serde(default, borrow)]
    pub text: Cow<'a, str>,
}

impl<'a> Request<'a> {
    /// Reads a frame; `None` if it is not a JSON object with a `type`.
    pub fn parse(text: &'a str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generators_frames_are_read_without_copies() {
        let frame = protocol::encode(&protocol::ClientEvent::Send {
            id: "7".into(),
            room: "bench-0".into(),
            text: "b12.3 xxx".into(),
            action: false,
        });
        let request = Request::parse(&frame).expect("parses");
        assert_eq!(request.kind, "send");
        assert!(matches!(request.room, Cow::Borrowed("bench-0")));
        assert!(matches!(request.id, Cow::Borrowed("7")));
        assert!(matches!(request.text, Cow::Borrowed("b12.3 xxx")));
        assert_eq!(request.name, "", "absent");
    }

    #[test]
    fn escaped_text_is_unescaped() {
        let request = Request::parse(r#"{"type":"send","text":"say \"hi\""}"#).expect("parses");
        assert_eq!(request.text, r#"say "hi""#);
    }

    #[test]
    fn other_input_is_not_a_request() {
        for text in ["", "not json", "[1]", r#"{"name":"a"}"#, r#"{"type":1}"#] {
            assert!(Request::parse(text).is_none(), "{text}");
        }
    }
}

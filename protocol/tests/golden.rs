//! Golden wire-format tests: each event is encoded and compared byte for
//! byte with a file under `tests/golden/`, then the file is decoded and
//! compared with the event. A change to the wire format fails here, on
//! purpose: update the files (run with `UPDATE_GOLDEN=1`) only together with
//! `protocol/README.md` and, for incompatible changes, `PROTOCOL_VERSION`.

use std::path::PathBuf;

use protocol::{ClientEvent, ErrorCode, PROTOCOL_VERSION, ServerEvent, ServerLimits};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check<T>(name: &str, event: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let path = golden_dir().join(format!("{name}.json"));
    let encoded = protocol::encode(event);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{encoded}\n")).expect("write golden file");
    }
    let golden = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("missing golden file {}: {e}", path.display()));
    assert_eq!(encoded, golden.trim_end(), "wire format of {name} changed");
    let decoded: T = serde_json::from_str(&golden).expect("golden file decodes");
    assert_eq!(
        &decoded, event,
        "golden file {name} decodes to a different event"
    );
}

#[test]
fn client_events() {
    check(
        "client_hello",
        &ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: "ann".into(),
            client: Some("chat-tui/0.1.0".into()),
        },
    );
    check(
        "client_join",
        &ClientEvent::Join {
            id: "1".into(),
            room: "dev".into(),
            since: None,
            epoch: None,
        },
    );
    check(
        "client_join_resume",
        &ClientEvent::Join {
            id: "7".into(),
            room: "dev".into(),
            since: Some(41),
            epoch: Some("5f1c9a2b7d3e4f60".into()),
        },
    );
    check(
        "client_history",
        &ClientEvent::History {
            id: "8".into(),
            room: "dev".into(),
            before: 42,
            limit: 50,
        },
    );
    check(
        "client_leave",
        &ClientEvent::Leave {
            id: "2".into(),
            room: "dev".into(),
        },
    );
    check(
        "client_send",
        &ClientEvent::Send {
            id: "3".into(),
            room: "dev".into(),
            text: "hello <b>world</b> \"quoted\"".into(),
            action: false,
        },
    );
    check(
        "client_send_action",
        &ClientEvent::Send {
            id: "4".into(),
            room: "dev".into(),
            text: "waves".into(),
            action: true,
        },
    );
    check(
        "client_location",
        &ClientEvent::Location {
            id: "5".into(),
            room: "dev".into(),
            latitude: 51.5007,
            longitude: -0.1246,
        },
    );
}

#[test]
fn server_events() {
    check(
        "server_welcome",
        &ServerEvent::Welcome {
            protocol: PROTOCOL_VERSION,
            server: "chat-server/0.1.0".into(),
            name: "ann".into(),
            limits: ServerLimits {
                max_name_chars: 32,
                max_room_chars: 32,
                max_text_chars: 4000,
                max_frame_bytes: 32768,
                max_rooms: 32,
                rate_per_sec: 10.0,
                rate_burst: 30,
            },
            epoch: "5f1c9a2b7d3e4f60".into(),
        },
    );
    check(
        "server_room_state",
        &ServerEvent::RoomState {
            room: "dev".into(),
            users: vec!["bob".into(), "ann".into()],
        },
    );
    check(
        "server_user_joined",
        &ServerEvent::UserJoined {
            room: "dev".into(),
            name: "ann".into(),
            ts: 1_790_000_000_000,
        },
    );
    check(
        "server_user_left",
        &ServerEvent::UserLeft {
            room: "dev".into(),
            name: "ann".into(),
            ts: 1_790_000_060_000,
        },
    );
    check(
        "server_message",
        &ServerEvent::Message {
            room: "dev".into(),
            seq: 42,
            ts: 1_790_000_001_234,
            from: "ann".into(),
            id: "3".into(),
            text: "hello <b>world</b> \"quoted\"".into(),
            action: false,
        },
    );
    check(
        "server_message_action",
        &ServerEvent::Message {
            room: "dev".into(),
            seq: 43,
            ts: 1_790_000_001_300,
            from: "ann".into(),
            id: "4".into(),
            text: "waves".into(),
            action: true,
        },
    );
    check(
        "server_location",
        &ServerEvent::Location {
            room: "dev".into(),
            seq: 44,
            ts: 1_790_000_002_000,
            from: "ann".into(),
            id: "5".into(),
            latitude: 51.5007,
            longitude: -0.1246,
        },
    );
    check(
        "server_history",
        &ServerEvent::History {
            room: "dev".into(),
            events: vec![ServerEvent::Message {
                room: "dev".into(),
                seq: 42,
                ts: 1_790_000_001_234,
                from: "ann".into(),
                id: "3".into(),
                text: "hello".into(),
                action: false,
            }],
            more: true,
            missed: 0,
        },
    );
    check(
        "server_history_missed",
        &ServerEvent::History {
            room: "dev".into(),
            events: vec![],
            more: true,
            missed: 1200,
        },
    );
    check("server_ack_ok", &ServerEvent::ack_ok("3", Some(42)));
    check("server_ack_join", &ServerEvent::ack_ok("1", None));
    check(
        "server_ack_error",
        &ServerEvent::ack_err(
            "6",
            ErrorCode::NameTaken,
            "the name \"ann\" is already used in room dev",
        ),
    );
    check(
        "server_error",
        &ServerEvent::error(
            ErrorCode::UnsupportedVersion,
            "this server speaks protocol 1; please upgrade your client",
        ),
    );
}

/// Every error code has the spelling the docs promise.
#[test]
fn error_codes_spell_as_documented() {
    let json = serde_json::to_string(&ErrorCode::TextTooLong).unwrap();
    assert_eq!(json, "\"text_too_long\"");
    assert_eq!(ErrorCode::TextTooLong.as_str(), "text_too_long");
    let back: ErrorCode = serde_json::from_str("\"rate_limited\"").unwrap();
    assert_eq!(back, ErrorCode::RateLimited);
}

/// The server replays stored frames with `history_frame`; it must produce
/// exactly what the typed event encodes to.
#[test]
fn history_frame_matches_the_typed_event() {
    let m = ServerEvent::Message {
        room: "dev".into(),
        seq: 1,
        ts: 5,
        from: "a\"b".into(),
        id: "x".into(),
        text: "<hi>".into(),
        action: false,
    };
    let l = ServerEvent::Location {
        room: "dev".into(),
        seq: 2,
        ts: 6,
        from: "c".into(),
        id: "y".into(),
        latitude: 1.5,
        longitude: -2.25,
    };
    let (ms, ls) = (protocol::encode(&m), protocol::encode(&l));
    for (more, missed) in [(false, 0), (true, 7)] {
        let typed = ServerEvent::History {
            room: "dev".into(),
            events: vec![m.clone(), l.clone()],
            more,
            missed,
        };
        let built = protocol::history_frame("dev", &[&ms, &ls], more, missed);
        assert_eq!(built, protocol::encode(&typed));
    }
    let empty = protocol::history_frame("dev", &[], false, 0);
    assert_eq!(
        protocol::decode_server(&empty).unwrap(),
        ServerEvent::History {
            room: "dev".into(),
            events: vec![],
            more: false,
            missed: 0
        }
    );
}

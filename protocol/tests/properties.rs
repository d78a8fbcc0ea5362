//! Property tests: whatever arrives, decoding and validation do not panic
//! and keep their promises, and history frames split any answer within
//! their bound without losing, reordering or altering an event.

use proptest::prelude::*;
use protocol::limits::{MAX_NAME_CHARS, MAX_ROOM_CHARS, MAX_TEXT_CHARS};
use protocol::{ClientEvent, ErrorCode, ServerEvent, validate};

/// Frames a client might send: arbitrary text, and JSON objects built from
/// the protocol's own field names with values of any type.
fn frames() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("null".to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        ".{0,40}".prop_map(|s| serde_json::to_string(&s).expect("string")),
        Just("[]".to_string()),
        Just("{}".to_string()),
    ];
    let key = prop_oneof![
        Just("type"),
        Just("id"),
        Just("room"),
        Just("text"),
        Just("name"),
        Just("protocol"),
        Just("since"),
        Just("epoch"),
        Just("before"),
        Just("limit"),
        Just("latitude"),
        Just("longitude"),
        Just("action"),
    ];
    let kind = prop_oneof![
        Just("hello"),
        Just("join"),
        Just("leave"),
        Just("send"),
        Just("location"),
        Just("history"),
        Just("dance"),
    ];
    let object =
        (kind, proptest::collection::vec((key, value), 0..8)).prop_map(|(kind, fields)| {
            let mut out = format!("{{\"type\":\"{kind}\"");
            for (k, v) in fields {
                out.push_str(&format!(",\"{k}\":{v}"));
            }
            out.push('}');
            out
        });
    prop_oneof![".{0,200}", object]
}

fn events() -> impl Strategy<Value = ClientEvent> {
    let id = "[a-z0-9-]{1,64}";
    prop_oneof![
        (
            any::<u32>(),
            any::<Option<String>>(),
            any::<Option<String>>(),
            any::<Option<String>>()
        )
            .prop_map(|(protocol, name, credential, device)| ClientEvent::Hello {
                protocol,
                name,
                credential,
                link_code: None,
                device,
                client: None
            }),
        "[a-z0-9-]{1,64}".prop_map(|id| ClientEvent::Ping { id }),
        "[a-z0-9-]{1,64}".prop_map(|id| ClientEvent::Link { id }),
        "[a-z0-9-]{1,64}".prop_map(|id| ClientEvent::Devices { id }),
        ("[a-z0-9-]{1,64}", any::<Option<String>>())
            .prop_map(|(id, device)| ClientEvent::Logout { id, device }),
        (
            id,
            "[a-z0-9_-]{1,32}",
            any::<Option<u64>>(),
            any::<Option<String>>()
        )
            .prop_map(|(id, room, since, epoch)| ClientEvent::Join {
                id,
                room,
                since,
                epoch
            }),
        (id, ".{0,32}", any::<u64>(), any::<u32>()).prop_map(|(id, room, before, limit)| {
            ClientEvent::History {
                id,
                room,
                before,
                limit,
            }
        }),
        (id, ".{0,32}", ".{0,300}", any::<bool>()).prop_map(|(id, room, text, action)| {
            ClientEvent::Send {
                id,
                room,
                text,
                action,
            }
        }),
        (id, ".{0,32}", -90.0..90.0f64, -180.0..180.0f64).prop_map(
            |(id, room, latitude, longitude)| ClientEvent::Location {
                id,
                room,
                latitude,
                longitude
            }
        ),
    ]
}

proptest! {
    #[test]
    fn decoding_never_panics_and_errors_are_well_formed(frame in frames()) {
        if let Err(e) = protocol::decode_client(&frame) {
            prop_assert!(matches!(e.code, ErrorCode::Malformed | ErrorCode::UnknownType));
            prop_assert!(!e.message.is_empty());
            if let Some(id) = &e.id {
                prop_assert!(validate::request_id(id).is_ok(), "an error carries only a usable id");
            }
        }
        let _ = protocol::decode_server(&frame);
    }

    #[test]
    fn every_client_event_survives_the_wire(event in events()) {
        let decoded = protocol::decode_client(&protocol::encode(&event)).expect("decodes");
        prop_assert_eq!(decoded, event);
    }

    #[test]
    fn validation_keeps_its_promises(raw in ".{0,80}") {
        if let Ok(name) = validate::display_name(&raw) {
            prop_assert_eq!(name, raw.trim());
            prop_assert!((1..=MAX_NAME_CHARS).contains(&name.chars().count()));
            prop_assert!(!name.chars().any(validate::is_invisible_or_control));
        }
        if validate::room_name(&raw).is_ok() {
            prop_assert!((1..=MAX_ROOM_CHARS).contains(&raw.chars().count()));
            prop_assert!(raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'));
        }
        if validate::message_text(&raw).is_ok() {
            prop_assert!(!raw.trim().is_empty());
            prop_assert!(raw.chars().count() <= MAX_TEXT_CHARS);
        }
        if validate::request_id(&raw).is_ok() {
            prop_assert!(!raw.is_empty() && raw.chars().count() <= 64);
            prop_assert!(!raw.chars().any(validate::is_invisible_or_control));
        }
        // A typed room that normalizes to a valid name is a fixed point: the
        // name a client sends normalizes to itself. (Invalid leftovers need
        // not be: "#\u{b}x" loses the '#' first and the inner white space
        // only on a second pass, and is refused either way.)
        let normalized = validate::normalize_room(&raw);
        if validate::room_name(&normalized).is_ok() {
            prop_assert_eq!(validate::normalize_room(&normalized), normalized);
        }
    }

    #[test]
    fn history_frames_split_without_loss_within_the_bound(
        texts in proptest::collection::vec(".{1,400}", 0..40),
        more in any::<bool>(),
        missed in 0..5u64,
        max_bytes in 3_000usize..20_000,
    ) {
        let events: Vec<ServerEvent> = texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| ServerEvent::Message {
                room: "dev".into(),
                seq: i as u64 + 1,
                ts: 1,
                from: "ann".into(),
                user: "u_3f9a1c0e5b7d2468".into(),
                id: format!("m{i}"),
                text,
                action: false,
            })
            .collect();
        let encoded: Vec<String> = events.iter().map(protocol::encode).collect();
        let refs: Vec<&str> = encoded.iter().map(String::as_str).collect();
        let parts = protocol::history_frames("dev", &refs, more, missed, max_bytes);
        prop_assert!(!parts.is_empty());
        let mut got = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            // Every event here is under 2,500 bytes, so every part fits.
            prop_assert!(part.len() <= max_bytes, "part {} is {} bytes", i, part.len());
            let decoded = protocol::decode_server(part).expect("a part decodes");
            let ServerEvent::History { events, more: m, missed: x, continues, .. } = decoded else {
                panic!("not a history part");
            };
            prop_assert_eq!((m, x), (more, missed));
            prop_assert_eq!(continues, i + 1 < parts.len());
            prop_assert!(!events.is_empty() || parts.len() == 1);
            got.extend(events);
        }
        prop_assert_eq!(got, events);
    }
}

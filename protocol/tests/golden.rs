//! Golden wire-format tests: each event is encoded and compared byte for
//! byte with a file under `tests/golden/`, then the file is decoded and
//! compared with the event. A change to the wire format fails here, on
//! purpose: update the files (run with `UPDATE_GOLDEN=1`) only together with
//! `protocol/README.md` and, for incompatible changes, `PROTOCOL_VERSION`.
//!
//! Coverage is exhaustive without a list kept by hand: the event types and
//! error codes come from serde's own derive (the names it accepts), every
//! event is named after its golden file by a `match` without a wildcard (a
//! new variant does not compile until it has one), every error code gets
//! its example frame from another such `match`, and every file in the
//! folder must belong to one of the events. Other clients (the page's
//! `protocol.js`) decode every file in the folder, so they see each type and
//! code too.

use std::collections::BTreeSet;
use std::path::PathBuf;

use protocol::moderation::{FilterMode, ModAction, Role, RoomModes};
use protocol::{
    ClientEvent, DeviceInfo, DeviceRef, DmSummary, ErrorCode, Member, PROTOCOL_VERSION,
    RoomListing, ServerEvent, ServerLimits, UserRef,
};
use serde::de::value::{MapDeserializer, StrDeserializer};
use serde::de::{DeserializeOwned, IntoDeserializer};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Checks `event` against the golden file `name`.json: the encoding byte for
/// byte, and the file decoded (by `decode`, the codec clients use) back to
/// the event.
fn check<T, E>(name: &str, event: &T, decode: fn(&str) -> Result<T, E>)
where
    T: serde::Serialize + PartialEq + std::fmt::Debug,
    E: std::fmt::Debug,
{
    let path = golden_dir().join(format!("{name}.json"));
    let encoded = protocol::encode(event);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, format!("{encoded}\n")).expect("write golden file");
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "missing golden file {}: {e} (write it with UPDATE_GOLDEN=1)",
            path.display()
        )
    });
    assert_eq!(encoded, golden.trim_end(), "wire format of {name} changed");
    let decoded = decode(golden.trim_end())
        .unwrap_or_else(|e| panic!("golden file {name} does not decode: {e:?}"));
    assert_eq!(
        &decoded, event,
        "golden file {name} decodes to a different event"
    );
}

// ------------------------------------------------------------ client events

/// The golden file of a client event. No wildcard: a new variant does not
/// compile until it is named here (and then fails until its file exists).
fn client_golden(event: &ClientEvent) -> &'static str {
    match event {
        ClientEvent::Hello {
            credential: Some(_),
            ..
        } => "client_hello_credential",
        ClientEvent::Hello {
            link_code: Some(_), ..
        } => "client_hello_link_code",
        ClientEvent::Hello { .. } => "client_hello",
        ClientEvent::Join { since: None, .. } => "client_join",
        ClientEvent::Join { since: Some(_), .. } => "client_join_resume",
        ClientEvent::History { .. } => "client_history",
        ClientEvent::Leave { .. } => "client_leave",
        ClientEvent::Send { action: false, .. } => "client_send",
        ClientEvent::Send { action: true, .. } => "client_send_action",
        ClientEvent::Location { .. } => "client_location",
        ClientEvent::Ping { .. } => "client_ping",
        ClientEvent::Link { .. } => "client_link",
        ClientEvent::Devices { .. } => "client_devices",
        ClientEvent::Logout { device: None, .. } => "client_logout",
        ClientEvent::Logout {
            device: Some(_), ..
        } => "client_logout_device",
        ClientEvent::Query { .. } => "client_query",
        ClientEvent::Nick { .. } => "client_nick",
        ClientEvent::Away {
            reason: Some(_), ..
        } => "client_away",
        ClientEvent::Away { reason: None, .. } => "client_away_no_reason",
        ClientEvent::Back { .. } => "client_back",
        ClientEvent::Whois { .. } => "client_whois",
        ClientEvent::List { .. } => "client_list",
        ClientEvent::Topic { .. } => "client_topic",
        ClientEvent::Moderate {
            duration_s: Some(_),
            ..
        } => "client_moderate_ban",
        ClientEvent::Moderate { .. } => "client_moderate",
        ClientEvent::Mode { .. } => "client_mode",
        ClientEvent::Modlog { .. } => "client_modlog",
    }
}

fn client_events() -> Vec<ClientEvent> {
    vec![
        ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: Some("ann".into()),
            credential: None,
            link_code: None,
            device: Some("chat-tui on laptop".into()),
            client: Some("chat-tui/0.2.0".into()),
        },
        ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: None,
            credential: Some("q8Xw2nC1YbVt0mZkR4sJpLhE7uGfA3oD9iN6eKcB5Ty".into()),
            link_code: None,
            device: Some("chat-tui on laptop".into()),
            client: Some("chat-tui/0.2.0".into()),
        },
        ClientEvent::Hello {
            protocol: PROTOCOL_VERSION,
            name: None,
            credential: None,
            link_code: Some("K7Q2-M9XD".into()),
            device: Some("Firefox on phone".into()),
            client: Some("chat-web/0.2.0".into()),
        },
        ClientEvent::Ping { id: "p7".into() },
        ClientEvent::Link { id: "3".into() },
        ClientEvent::Devices { id: "4".into() },
        ClientEvent::Logout {
            id: "5".into(),
            device: None,
        },
        ClientEvent::Logout {
            id: "6".into(),
            device: Some("d_81c2a9e04b7f3d16".into()),
        },
        ClientEvent::Join {
            id: "1".into(),
            room: "dev".into(),
            since: None,
            epoch: None,
        },
        ClientEvent::Join {
            id: "7".into(),
            room: "dev".into(),
            since: Some(41),
            epoch: Some("5f1c9a2b7d3e4f60".into()),
        },
        ClientEvent::History {
            id: "8".into(),
            room: "dev".into(),
            before: 42,
            limit: 50,
        },
        ClientEvent::Leave {
            id: "2".into(),
            room: "dev".into(),
        },
        ClientEvent::Send {
            id: "3".into(),
            room: "dev".into(),
            text: "hello <b>world</b> \"quoted\"".into(),
            action: false,
        },
        ClientEvent::Send {
            id: "4".into(),
            room: "dev".into(),
            text: "waves".into(),
            action: true,
        },
        ClientEvent::Location {
            id: "5".into(),
            room: "dev".into(),
            latitude: 51.5007,
            longitude: -0.1246,
        },
        ClientEvent::Query {
            id: "7".into(),
            name: "bob".into(),
        },
        ClientEvent::Nick {
            id: "8".into(),
            name: "anna".into(),
        },
        ClientEvent::Away {
            id: "9".into(),
            reason: Some("lunch".into()),
        },
        ClientEvent::Away {
            id: "9b".into(),
            reason: None,
        },
        ClientEvent::Back { id: "10".into() },
        ClientEvent::Whois {
            id: "11".into(),
            name: "bob".into(),
        },
        ClientEvent::List { id: "12".into() },
        ClientEvent::Topic {
            id: "13".into(),
            room: "dev".into(),
            text: "ship it".into(),
        },
        ClientEvent::Moderate {
            id: "14".into(),
            room: "dev".into(),
            action: ModAction::Kick,
            target: Some("bob".into()),
            duration_s: None,
            reason: Some("spam".into()),
        },
        ClientEvent::Moderate {
            id: "15".into(),
            room: "dev".into(),
            action: ModAction::Ban,
            target: Some("bob".into()),
            duration_s: Some(3600),
            reason: Some("spam".into()),
        },
        ClientEvent::Mode {
            id: "16".into(),
            room: "dev".into(),
            moderated: Some(true),
            invite_only: None,
            topic_lock: Some(false),
            slow_s: Some(10),
            filter: Some(FilterMode::Profanity),
        },
        ClientEvent::Modlog {
            id: "17".into(),
            room: "dev".into(),
        },
    ]
}

// ------------------------------------------------------------ server events

/// The golden file of a server event; acks and errors are named after their
/// code. No wildcard, as in [`client_golden`].
fn server_golden(event: &ServerEvent) -> String {
    match event {
        ServerEvent::Welcome {
            credential: Some(_),
            ..
        } => "server_welcome_credential".into(),
        ServerEvent::Welcome { .. } => "server_welcome".into(),
        ServerEvent::RoomState { topic: Some(_), .. } => "server_room_state_topic".into(),
        ServerEvent::RoomState { modes, .. } if *modes != RoomModes::default() => {
            "server_room_state_modes".into()
        }
        ServerEvent::RoomState { room, .. } if protocol::dm::is_dm(room) => {
            "server_room_state_dm".into()
        }
        ServerEvent::Topic { text, .. } if text.is_empty() => "server_topic_cleared".into(),
        ServerEvent::Topic { .. } => "server_topic".into(),
        ServerEvent::Renamed { .. } => "server_renamed".into(),
        ServerEvent::Moderation { actor: None, .. } => "server_moderation_auto_mute".into(),
        ServerEvent::Moderation { modes: Some(_), .. } => "server_moderation_mode".into(),
        ServerEvent::Moderation { .. } => "server_moderation".into(),
        ServerEvent::Removed { .. } => "server_removed".into(),
        ServerEvent::ModLog { .. } => "server_mod_log".into(),
        ServerEvent::Away { reason, .. } if reason.is_empty() => "server_away_no_reason".into(),
        ServerEvent::Away { .. } => "server_away".into(),
        ServerEvent::Back { .. } => "server_back".into(),
        ServerEvent::AwayNotice { .. } => "server_away_notice".into(),
        ServerEvent::Whois { away: Some(_), .. } => "server_whois_away".into(),
        ServerEvent::Whois { .. } => "server_whois".into(),
        ServerEvent::RoomList { .. } => "server_room_list".into(),
        ServerEvent::LinkCode { .. } => "server_link_code".into(),
        ServerEvent::Devices { .. } => "server_devices".into(),
        ServerEvent::RoomState { .. } => "server_room_state".into(),
        ServerEvent::UserJoined { .. } => "server_user_joined".into(),
        ServerEvent::UserLeft { .. } => "server_user_left".into(),
        ServerEvent::Message { action: false, .. } => "server_message".into(),
        ServerEvent::Message { action: true, .. } => "server_message_action".into(),
        ServerEvent::Location { .. } => "server_location".into(),
        ServerEvent::History {
            continues: true, ..
        } => "server_history_continues".into(),
        ServerEvent::History { missed: 0, .. } => "server_history".into(),
        ServerEvent::History { .. } => "server_history_missed".into(),
        ServerEvent::Ack {
            error: None,
            seq: Some(_),
            ..
        } => "server_ack_ok".into(),
        ServerEvent::Ack {
            error: None,
            seq: None,
            ..
        } => "server_ack_join".into(),
        ServerEvent::Ack { error: Some(e), .. } => format!("server_ack_{}", e.code),
        ServerEvent::Error { code, .. } => format!("server_error_{code}"),
    }
}

/// The example frame of each error code: an `ack` for a request that was
/// refused, or an `error` where there is no request id to answer. No
/// wildcard: a new code does not compile until it has its example.
fn error_example(code: ErrorCode) -> ServerEvent {
    let ack = |message: &str| ServerEvent::ack_err("6", code, message);
    let error = |message: &str| ServerEvent::error(code, message);
    match code {
        ErrorCode::UnsupportedVersion => {
            error("this server speaks protocol 2; please upgrade your client")
        }
        ErrorCode::NotIdentified => ack("send hello first"),
        ErrorCode::AlreadyIdentified => error("already identified"),
        ErrorCode::Malformed => {
            error("frame is not a JSON object: expected value at line 1 column 1")
        }
        ErrorCode::UnknownType => ack(
            "unknown event type \"dance\"; expected one of: hello, join, leave, send, location, history, ping, link, devices, logout",
        ),
        ErrorCode::BinaryNotSupported => error("binary frames are not supported; send JSON text"),
        ErrorCode::InvalidName => error("name must not be empty"),
        ErrorCode::InvalidRoom => ack(
            "room name may only contain lower-case letters a-z, digits, '-' and '_' (found 'D')",
        ),
        ErrorCode::EmptyText => ack("message text must not be empty"),
        ErrorCode::TextTooLong => ack("message text must be at most 4000 characters (got 4001)"),
        ErrorCode::InvalidLocation => ack("latitude must be a number from -90 to 90 (got 91)"),
        ErrorCode::InvalidTopic => ack("topic must be at most 200 characters (got 201)"),
        ErrorCode::InvalidReason => {
            ack("reason must not contain control or invisible characters (found U+000A)")
        }
        ErrorCode::InvalidId => error("request id must be 1 to 64 printable characters"),
        ErrorCode::NameClaimed => error(
            "the name ann belongs to someone; if it is yours, run /link on a device where you are signed in and use the code here",
        ),
        ErrorCode::BadCredential => {
            error("this credential is unknown or was revoked; sign in again")
        }
        ErrorCode::BadLinkCode => error("this link code is unknown, used or expired"),
        ErrorCode::RegistrationClosed => {
            error("this server does not register new names; ask its operator for a link code")
        }
        ErrorCode::CredentialRevoked => error("this device was signed out"),
        ErrorCode::NotFound => {
            ack("no conversation or room called @u_3f9a1c0e5b7d2468+u_9e04b7f3d1681c2a")
        }
        ErrorCode::NotInRoom => ack("not in room dev"),
        ErrorCode::AlreadyInRoom => ack("already in room dev"),
        ErrorCode::TooManyRooms => ack("a connection may be in at most 32 rooms"),
        ErrorCode::RateLimited => ack("too many requests; slow down"),
        ErrorCode::ShuttingDown => error("the server is shutting down"),
        ErrorCode::SlowConsumer => error("you did not read your messages fast enough"),
        ErrorCode::Unavailable => ack("the shared store cannot be reached; nothing was done"),
        ErrorCode::Internal => ack("the message could not be stored; resend it"),
        ErrorCode::Forbidden => ack("only operators of dev may do that"),
        ErrorCode::Banned => ack("you are banned from dev for 55 min: spam"),
        ErrorCode::Muted => ack("you are muted in dev until lifted"),
        ErrorCode::Moderated => ack("dev is moderated: only voiced people and operators speak"),
        ErrorCode::InviteOnly => ack("dev is invite-only; ask an operator for an invite"),
        ErrorCode::TopicLocked => ack("the topic of dev is locked to operators"),
        ErrorCode::SlowMode => ack("slow mode in dev: wait 7 s before your next message"),
        ErrorCode::ContentBlocked => ack("the content filter refused this text"),
        ErrorCode::Flood => ack("you sent the same message three times in a row"),
    }
}

const ANN: &str = "u_3f9a1c0e5b7d2468";
const BOB: &str = "u_9e04b7f3d1681c2a";
const DM: &str = "@u_3f9a1c0e5b7d2468+u_9e04b7f3d1681c2a";

fn welcome(credential: Option<&str>) -> ServerEvent {
    ServerEvent::Welcome {
        protocol: PROTOCOL_VERSION,
        server: "chat-server/0.2.0".into(),
        name: "ann".into(),
        user: UserRef {
            id: ANN.into(),
            name: "ann".into(),
        },
        device: DeviceRef {
            id: "d_81c2a9e04b7f3d16".into(),
            name: "chat-tui on laptop".into(),
        },
        credential: credential.map(Into::into),
        heartbeat_ms: 30_000,
        limits: ServerLimits {
            max_name_chars: 32,
            max_room_chars: 32,
            max_text_chars: 4000,
            max_frame_bytes: 32768,
            max_rooms: 32,
            rate_per_sec: 10.0,
            rate_burst: 30,
            max_server_frame_bytes: 1_048_576,
        },
        epoch: "5f1c9a2b7d3e4f60".into(),
        dms: vec![DmSummary {
            room: DM.into(),
            peer: UserRef {
                id: BOB.into(),
                name: "bob".into(),
            },
            last_seq: 12,
        }],
    }
}

fn member(id: &str, name: &str, away: Option<&str>) -> Member {
    Member {
        id: id.into(),
        name: name.into(),
        away: away.map(Into::into),
        role: None,
    }
}

fn user(id: &str, name: &str) -> UserRef {
    UserRef {
        id: id.into(),
        name: name.into(),
    }
}

fn server_events() -> Vec<ServerEvent> {
    let hello = ServerEvent::Message {
        room: "dev".into(),
        seq: 42,
        ts: 1_790_000_001_234,
        from: "ann".into(),
        user: ANN.into(),
        id: "3".into(),
        text: "hello".into(),
        action: false,
    };
    let mut events = vec![
        welcome(None),
        welcome(Some("q8Xw2nC1YbVt0mZkR4sJpLhE7uGfA3oD9iN6eKcB5Ty")),
        ServerEvent::RoomState {
            room: "dev".into(),
            users: vec![member(BOB, "bob", None), member(ANN, "ann", None)],
            topic: None,
            modes: RoomModes::default(),
        },
        ServerEvent::RoomState {
            room: "dev".into(),
            users: vec![
                Member {
                    role: Some(Role::Owner),
                    ..member(ANN, "ann", None)
                },
                Member {
                    role: Some(Role::Voice),
                    ..member(BOB, "bob", None)
                },
            ],
            topic: None,
            modes: RoomModes {
                moderated: true,
                invite_only: false,
                topic_lock: true,
                slow_s: 10,
                filter: FilterMode::Server,
            },
        },
        ServerEvent::Moderation {
            room: "dev".into(),
            seq: 47,
            ts: 1_790_000_006_000,
            action: ModAction::Kick,
            actor: Some(user(ANN, "ann")),
            target: Some(user(BOB, "bob")),
            reason: Some("spam".into()),
            duration_s: None,
            modes: None,
        },
        ServerEvent::Moderation {
            room: "dev".into(),
            seq: 48,
            ts: 1_790_000_007_000,
            action: ModAction::Mode,
            actor: Some(user(ANN, "ann")),
            target: None,
            reason: None,
            duration_s: None,
            modes: Some(RoomModes {
                slow_s: 10,
                ..RoomModes::default()
            }),
        },
        ServerEvent::Moderation {
            room: "dev".into(),
            seq: 49,
            ts: 1_790_000_008_000,
            action: ModAction::AutoMute,
            actor: None,
            target: Some(user(BOB, "bob")),
            reason: Some("flooding".into()),
            duration_s: Some(300),
            modes: None,
        },
        ServerEvent::Removed {
            room: "dev".into(),
            action: ModAction::Ban,
            by: Some(user(ANN, "ann")),
            reason: Some("spam".into()),
        },
        ServerEvent::ModLog {
            room: "dev".into(),
            entries: vec![ServerEvent::Moderation {
                room: "dev".into(),
                seq: 47,
                ts: 1_790_000_006_000,
                action: ModAction::Kick,
                actor: Some(user(ANN, "ann")),
                target: Some(user(BOB, "bob")),
                reason: Some("spam".into()),
                duration_s: None,
                modes: None,
            }],
        },
        ServerEvent::RoomState {
            room: "dev".into(),
            users: vec![
                member(BOB, "bob", Some("lunch")),
                member(ANN, "ann", Some("")),
            ],
            topic: Some("ship it".into()),
            modes: RoomModes::default(),
        },
        ServerEvent::RoomState {
            room: DM.into(),
            users: vec![member(ANN, "ann", None), member(BOB, "bob", None)],
            topic: None,
            modes: RoomModes::default(),
        },
        ServerEvent::Topic {
            room: "dev".into(),
            seq: 45,
            ts: 1_790_000_003_000,
            from: "ann".into(),
            user: ANN.into(),
            id: "13".into(),
            text: "ship it".into(),
        },
        ServerEvent::Topic {
            room: "dev".into(),
            seq: 46,
            ts: 1_790_000_004_000,
            from: "ann".into(),
            user: ANN.into(),
            id: "14".into(),
            text: "".into(),
        },
        ServerEvent::Renamed {
            user: ANN.into(),
            old: "ann".into(),
            name: "anna".into(),
            ts: 1_790_000_005_000,
        },
        ServerEvent::Away {
            user: BOB.into(),
            reason: "lunch".into(),
        },
        ServerEvent::Away {
            user: BOB.into(),
            reason: "".into(),
        },
        ServerEvent::Back { user: BOB.into() },
        ServerEvent::AwayNotice {
            room: DM.into(),
            user: BOB.into(),
            name: "bob".into(),
            reason: "lunch".into(),
        },
        ServerEvent::Whois {
            user: UserRef {
                id: BOB.into(),
                name: "bob".into(),
            },
            online: true,
            devices: 2,
            away: None,
            rooms: vec!["dev".into()],
            since_ts: 1_789_000_000_000,
        },
        ServerEvent::Whois {
            user: UserRef {
                id: BOB.into(),
                name: "bob".into(),
            },
            online: false,
            devices: 1,
            away: Some("lunch".into()),
            rooms: vec![],
            since_ts: 1_789_000_000_000,
        },
        ServerEvent::RoomList {
            rooms: vec![
                RoomListing {
                    room: "dev".into(),
                    members: 3,
                    topic: Some("ship it".into()),
                },
                RoomListing {
                    room: "lobby".into(),
                    members: 1,
                    topic: None,
                },
            ],
        },
        ServerEvent::UserJoined {
            room: "dev".into(),
            name: "ann".into(),
            user: ANN.into(),
            role: None,
            ts: 1_790_000_000_000,
        },
        ServerEvent::UserLeft {
            room: "dev".into(),
            name: "ann".into(),
            user: ANN.into(),
            ts: 1_790_000_060_000,
        },
        ServerEvent::Message {
            room: "dev".into(),
            seq: 42,
            ts: 1_790_000_001_234,
            from: "ann".into(),
            user: ANN.into(),
            id: "3".into(),
            text: "hello <b>world</b> \"quoted\"".into(),
            action: false,
        },
        ServerEvent::Message {
            room: "dev".into(),
            seq: 43,
            ts: 1_790_000_001_300,
            from: "ann".into(),
            user: ANN.into(),
            id: "4".into(),
            text: "waves".into(),
            action: true,
        },
        ServerEvent::Location {
            room: "dev".into(),
            seq: 44,
            ts: 1_790_000_002_000,
            from: "ann".into(),
            user: ANN.into(),
            id: "5".into(),
            latitude: 51.5007,
            longitude: -0.1246,
        },
        ServerEvent::History {
            room: "dev".into(),
            events: vec![hello],
            more: true,
            missed: 0,
            continues: false,
        },
        ServerEvent::History {
            room: "dev".into(),
            events: vec![],
            more: true,
            missed: 1200,
            continues: false,
        },
        ServerEvent::History {
            room: "dev".into(),
            events: vec![ServerEvent::Message {
                room: "dev".into(),
                seq: 41,
                ts: 1_790_000_001_200,
                from: "bob".into(),
                user: BOB.into(),
                id: "b7".into(),
                text: "first part".into(),
                action: false,
            }],
            more: false,
            missed: 0,
            continues: true,
        },
        ServerEvent::LinkCode {
            code: "K7Q2-M9XD".into(),
            expires_ts: 1_790_000_600_000,
        },
        ServerEvent::Devices {
            devices: vec![
                DeviceInfo {
                    id: "d_81c2a9e04b7f3d16".into(),
                    name: "chat-tui on laptop".into(),
                    created_ts: 1_789_000_000_000,
                    last_seen_ts: 1_790_000_000_000,
                    current: true,
                },
                DeviceInfo {
                    id: "d_0b5e77c1f2a94e38".into(),
                    name: "Firefox on phone".into(),
                    created_ts: 1_789_500_000_000,
                    last_seen_ts: 1_789_900_000_000,
                    current: false,
                },
            ],
        },
        ServerEvent::ack_ok("3", Some(42)),
        ServerEvent::ack_ok("1", None),
    ];
    events.extend(variants::<ErrorCode>().iter().map(|&name| {
        let code: ErrorCode = serde_json::from_value(name.into()).expect("a known code");
        error_example(code)
    }));
    events
}

// ------------------------------------------------- what serde's derive knows

/// The wire names of `T`'s variants, as serde's derive lists them when it
/// refuses a name it does not know.
fn variants<T: DeserializeOwned>() -> &'static [&'static str] {
    const NOT_A_VARIANT: &str = "\u{0}not a variant";
    // A plain enum (ErrorCode) is a string; a tagged one (the events) is a
    // map with a "type" field.
    let plain: StrDeserializer<'_, Variants> = NOT_A_VARIANT.into_deserializer();
    let tagged = MapDeserializer::<_, Variants>::new([("type", NOT_A_VARIANT)].into_iter());
    [T::deserialize(plain).err(), T::deserialize(tagged).err()]
        .into_iter()
        .flatten()
        .find_map(|found| found.0)
        .unwrap_or_else(|| panic!("serde names no variants of {}", std::any::type_name::<T>()))
}

/// A deserializer error that keeps the list of variants serde reports with
/// `unknown_variant`.
#[derive(Debug)]
struct Variants(Option<&'static [&'static str]>);

impl std::fmt::Display for Variants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Variants {}

impl serde::de::Error for Variants {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Variants(None)
    }

    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Variants(Some(expected))
    }
}

fn wire_type(event: &impl serde::Serialize) -> String {
    let value = serde_json::to_value(event).expect("events serialize");
    value["type"].as_str().expect("a type").to_owned()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_string()).collect()
}

// ------------------------------------------------------------------- tests

#[test]
fn client_events_match_their_golden_frames() {
    for event in client_events() {
        check(client_golden(&event), &event, protocol::decode_client);
    }
}

#[test]
fn server_events_match_their_golden_frames() {
    for event in server_events() {
        check(&server_golden(&event), &event, protocol::decode_server);
    }
}

#[test]
fn every_type_and_every_code_has_a_golden_frame() {
    let client: BTreeSet<String> = client_events().iter().map(wire_type).collect();
    assert_eq!(client, set(variants::<ClientEvent>()), "client event types");
    let server: BTreeSet<String> = server_events().iter().map(wire_type).collect();
    assert_eq!(server, set(variants::<ServerEvent>()), "server event types");

    let codes: BTreeSet<String> = server_events()
        .iter()
        .filter_map(|event| match event {
            ServerEvent::Ack { error: Some(e), .. } => Some(e.code.to_string()),
            ServerEvent::Error { code, .. } => Some(code.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(codes, set(variants::<ErrorCode>()), "error codes");
}

#[test]
fn every_golden_file_belongs_to_one_event() {
    let mut named: Vec<String> = client_events()
        .iter()
        .map(|e| client_golden(e).to_owned())
        .chain(server_events().iter().map(server_golden))
        .collect();
    let count = named.len();
    named.sort();
    named.dedup();
    assert_eq!(named.len(), count, "two events share a golden file");

    let files: Vec<String> = std::fs::read_dir(golden_dir())
        .expect("the golden folder")
        .map(|entry| entry.expect("a folder entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .map(|name| match name.strip_suffix(".json") {
            Some(stem) => stem.to_owned(),
            None => panic!("{name} in tests/golden is not a .json golden frame"),
        })
        .collect();
    let stray: Vec<&String> = files.iter().filter(|f| !named.contains(f)).collect();
    let missing: Vec<&String> = named.iter().filter(|n| !files.contains(n)).collect();
    assert!(
        stray.is_empty() && missing.is_empty(),
        "golden files that belong to no event: {stray:?}; events without a golden file: {missing:?}"
    );
}

/// Every error code has the spelling the docs promise.
#[test]
fn error_codes_spell_as_documented() {
    for &name in variants::<ErrorCode>() {
        let code: ErrorCode = serde_json::from_value(name.into()).expect("a known code");
        assert_eq!(code.as_str(), name);
        assert_eq!(code.to_string(), name);
        assert_eq!(serde_json::to_string(&code).unwrap(), format!("\"{name}\""));
    }
    let readme = include_str!("../README.md");
    let (_, codes) = readme
        .split_once("## Error codes")
        .expect("an error codes section");
    for &name in variants::<ErrorCode>() {
        assert!(codes.contains(&format!("`{name}`")), "{name} is documented");
    }
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
        user: "u_0000000000000001".into(),
        id: "x".into(),
        text: "<hi>".into(),
        action: false,
    };
    let l = ServerEvent::Location {
        room: "dev".into(),
        seq: 2,
        ts: 6,
        from: "c".into(),
        user: "u_0000000000000002".into(),
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
            continues: false,
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
            missed: 0,
            continues: false,
        }
    );
}

/// An answer split into parts decodes, part by part, to the events of the
/// typed answer in order, and a server that predates the frame bound (no
/// `max_server_frame_bytes` in `welcome`) is read with the default bound.
#[test]
fn history_parts_and_old_welcomes_decode() {
    let events: Vec<String> = (1..=30)
        .map(|seq| {
            protocol::encode(&ServerEvent::Message {
                room: "dev".into(),
                seq,
                ts: 5,
                from: "ann".into(),
                user: ANN.into(),
                id: format!("m{seq}"),
                text: "\u{0}".repeat(200),
                action: false,
            })
        })
        .collect();
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let parts = protocol::history_frames("dev", &refs, true, 4, 4096);
    assert!(parts.len() > 1);
    let mut seqs = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        assert!(part.len() <= 4096);
        let ServerEvent::History {
            events,
            more,
            missed,
            continues,
            ..
        } = protocol::decode_server(part).expect("part decodes")
        else {
            panic!("not a history part");
        };
        assert_eq!((more, missed, continues), (true, 4, i + 1 < parts.len()));
        seqs.extend(events.iter().filter_map(|e| match e {
            ServerEvent::Message { seq, .. } => Some(*seq),
            _ => None,
        }));
    }
    assert_eq!(seqs, (1..=30).collect::<Vec<_>>());

    let old = r#"{"type":"welcome","protocol":2,"server":"chat-server/0.2.0","name":"ann","user":{"id":"u_3f9a1c0e5b7d2468","name":"ann"},"device":{"id":"d_81c2a9e04b7f3d16","name":"x"},"heartbeat_ms":30000,"limits":{"max_name_chars":32,"max_room_chars":32,"max_text_chars":4000,"max_frame_bytes":32768,"max_rooms":32,"rate_per_sec":10.0,"rate_burst":30},"epoch":"e"}"#;
    let ServerEvent::Welcome { limits, .. } = protocol::decode_server(old).expect("decodes") else {
        panic!("not a welcome");
    };
    assert_eq!(
        limits.max_server_frame_bytes,
        protocol::limits::LEGACY_SERVER_FRAME_BYTES
    );
}

/// The ack the server writes without serde is the golden ack too.
#[test]
fn the_direct_ack_matches_the_golden_files() {
    for (name, id, seq) in [
        ("server_ack_ok", "3", Some(42)),
        ("server_ack_join", "1", None),
    ] {
        let golden = std::fs::read_to_string(golden_dir().join(format!("{name}.json")))
            .expect("golden file");
        assert_eq!(
            protocol::encode_ack_ok(id, seq),
            golden.trim_end(),
            "{name}"
        );
    }
}

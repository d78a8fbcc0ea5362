//! Moderation's shared rules, exported for the page: writes
//! `protocol/vectors/moderation.json` (durations read and printed, what
//! `/ban` and `/mute` read after the name, `/mode` flags, `@mention`
//! counts, role prefixes and ranks, and the sentence for each kind of
//! `moderation` event) and fails when the committed copy differs from what
//! `protocol::moderation` says now. Rewrite it with
//! `UPDATE_VECTORS=1 cargo test -p protocol --test moderation`.

use std::path::PathBuf;

use protocol::moderation::{
    self, FilterMode, ModAction, Role, RoomModes, describe, format_duration, parse_duration,
    parse_mode_flags, split_duration,
};
use protocol::{ServerEvent, UserRef};
use serde_json::{Value, json};

fn user(id: &str, name: &str) -> UserRef {
    UserRef {
        id: id.into(),
        name: name.into(),
    }
}

fn event(
    action: ModAction,
    actor: Option<&str>,
    target: Option<&str>,
    reason: Option<&str>,
    duration_s: Option<u64>,
    modes: Option<RoomModes>,
) -> ServerEvent {
    ServerEvent::Moderation {
        room: "dev".into(),
        seq: 7,
        ts: 1_790_000_000_000,
        action,
        actor: actor.map(|n| user("u_3f9a1c0e5b7d2468", n)),
        target: target.map(|n| user("u_9e04b7f3d1681c2a", n)),
        reason: reason.map(Into::into),
        duration_s,
        modes,
    }
}

fn events() -> Vec<ServerEvent> {
    use ModAction::*;
    let ann = Some("ann");
    let bob = Some("bob");
    vec![
        event(Op, ann, bob, None, None, None),
        event(Deop, ann, bob, None, None, None),
        event(Voice, ann, bob, None, None, None),
        event(Devoice, ann, bob, None, None, None),
        event(Kick, ann, bob, Some("spam"), None, None),
        event(Kick, ann, bob, None, None, None),
        event(Ban, ann, bob, Some("spam"), Some(3600), None),
        event(Ban, ann, bob, None, None, None),
        event(Unban, ann, bob, None, None, None),
        event(Mute, ann, bob, None, Some(300), None),
        event(Mute, ann, bob, Some("calm down"), None, None),
        event(Unmute, ann, bob, None, None, None),
        event(Invite, ann, bob, None, None, None),
        event(
            Mode,
            ann,
            None,
            None,
            None,
            Some(RoomModes {
                slow_s: 10,
                ..RoomModes::default()
            }),
        ),
        event(
            Mode,
            ann,
            None,
            None,
            None,
            Some(RoomModes {
                moderated: true,
                invite_only: true,
                topic_lock: true,
                slow_s: 90,
                filter: FilterMode::Profanity,
            }),
        ),
        event(Mode, ann, None, None, None, Some(RoomModes::default())),
        event(
            Mode,
            ann,
            None,
            None,
            None,
            Some(RoomModes {
                filter: FilterMode::Off,
                ..RoomModes::default()
            }),
        ),
        event(AutoMute, None, bob, Some("flooding"), Some(300), None),
        event(Kick, None, bob, Some("<b>x</b>"), None, None),
    ]
}

// Every action a `moderate` request may ask for.
const REQUESTS: [ModAction; 10] = [
    ModAction::Op,
    ModAction::Deop,
    ModAction::Voice,
    ModAction::Devoice,
    ModAction::Kick,
    ModAction::Ban,
    ModAction::Unban,
    ModAction::Mute,
    ModAction::Unmute,
    ModAction::Invite,
];

fn durations() -> Vec<&'static str> {
    vec![
        "30s",
        "30S",
        "10m",
        "10",
        "2h",
        "1d",
        "1w",
        "0",
        "0s",
        "",
        "s",
        "1x",
        "1.5h",
        "-5m",
        "spam",
        "366d",
        "367d",
        "52w",
        "53w",
        "999999999999999",
        "1h30m",
        " 5m",
    ]
}

fn splits() -> Vec<&'static str> {
    vec![
        "",
        "1h",
        "1h spam",
        "spam",
        "spam and abuse",
        "  10m   too loud  ",
        "0 zero is no duration",
        "2d\tbye",
    ]
}

fn mode_flags() -> Vec<&'static str> {
    vec![
        "+m", "m", "-m", "+mt", "+m-t", "-it", "+i", "+", "-", "", "+x", "mit", "+M", "+m+m",
    ]
}

fn mention_texts() -> Vec<&'static str> {
    vec![
        "hello",
        "@ann hi",
        "@ann @Ann @ANN",
        "@a @b @c @d @e",
        "@a @b @c @d @e @f",
        "mail ann@example.org",
        "@ alone",
        "(@bob) and @carl, @dan!",
    ]
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

fn ascii(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii() && (!c.is_ascii_control() || c == '\n') {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn render() -> String {
    let rows = |items: Vec<Value>| {
        items
            .iter()
            .map(|v| format!("    {v}"))
            .collect::<Vec<_>>()
            .join(",\n")
    };
    let durations: Vec<Value> = durations()
        .into_iter()
        .map(|input| json!({"input": input, "seconds": parse_duration(input)}))
        .collect();
    let formatted: Vec<Value> = [
        1u64, 30, 59, 60, 90, 300, 3600, 5400, 86_400, 172_800, 604_800,
    ]
    .into_iter()
    .map(|s| json!({"seconds": s, "text": format_duration(s)}))
    .collect();
    let splits: Vec<Value> = splits()
        .into_iter()
        .map(|input| {
            let (duration_s, reason) = split_duration(input);
            json!({"input": input, "duration_s": duration_s, "reason": reason})
        })
        .collect();
    let modes: Vec<Value> = mode_flags()
        .into_iter()
        .map(|input| json!({"input": input, "change": parse_mode_flags(input)}))
        .collect();
    let mentions: Vec<Value> = mention_texts()
        .into_iter()
        .map(|text| json!({"text": text, "count": moderation::distinct_mentions(text)}))
        .collect();
    let roles: Vec<Value> = [
        None,
        Some(Role::Voice),
        Some(Role::Op),
        Some(Role::Owner),
        Some(Role::Admin),
    ]
    .into_iter()
    .map(|role| {
        json!({
            "role": role,
            "rank": moderation::rank(role),
            "prefix": role.map_or("", Role::prefix),
            "operator": moderation::is_operator(role),
        })
    })
    .collect();
    let all_roles = [
        None,
        Some(Role::Voice),
        Some(Role::Op),
        Some(Role::Owner),
        Some(Role::Admin),
    ];
    let mut acts: Vec<Value> = Vec::new();
    for action in REQUESTS {
        for actor in all_roles {
            for target in all_roles {
                acts.push(json!({
                    "actor": actor,
                    "action": action,
                    "target": target,
                    "allowed": moderation::may_act_on(actor, action, target),
                }));
            }
        }
    }
    let filters: Vec<Value> = [
        "off",
        "profanity",
        "server",
        "OFF",
        "Profanity",
        "",
        "on",
        "strict",
    ]
    .into_iter()
    .map(|input| json!({"input": input, "filter": FilterMode::parse(input)}))
    .collect();
    let described: Vec<Value> = events()
        .iter()
        .map(|e| json!({"event": e, "text": describe(e).expect("a moderation event")}))
        .collect();
    let about = "Moderation rules both clients share (protocol::moderation), written by protocol/tests/moderation.rs. \
        durations: parse_duration (seconds, or null). formatted: format_duration. splits: what /ban and /mute read after \
        the name (split_duration). modes: parse_mode_flags for /mode (null: refused). mentions: distinct @names counted \
        by flood protection. roles: rank, user-list prefix, operator. acts: may_act_on (who may do what to whom). \
        filters: FilterMode::parse for /filter (null: refused). max_slow_s: the largest /slow. \
        describe: the sentence shown for each moderation event.";
    ascii(&format!(
        "{{\n  \"about\": {},\n  \"durations\": [\n{}\n  ],\n  \"formatted\": [\n{}\n  ],\n  \"splits\": [\n{}\n  ],\n  \"modes\": [\n{}\n  ],\n  \"mentions\": [\n{}\n  ],\n  \"roles\": [\n{}\n  ],\n  \"acts\": [\n{}\n  ],\n  \"filters\": [\n{}\n  ],\n  \"max_slow_s\": {},\n  \"describe\": [\n{}\n  ]\n}}\n",
        json!(about),
        rows(durations),
        rows(formatted),
        rows(splits),
        rows(modes),
        rows(mentions),
        rows(roles),
        rows(acts),
        rows(filters),
        protocol::limits::MAX_SLOW_S,
        rows(described),
    ))
}

#[test]
fn vectors_match_the_rules() {
    let path = root().join("protocol/vectors/moderation.json");
    let expected = render();
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::write(&path, &expected).expect("write the vectors");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "{} is not what protocol::moderation says now; rewrite it with \
         UPDATE_VECTORS=1 cargo test -p protocol --test moderation, and review the diff",
        path.display()
    );
}

#[test]
fn the_spec_sentences() {
    let texts: Vec<String> = events().iter().filter_map(describe).collect();
    assert!(texts.contains(&"bob was kicked by ann: spam".to_string()));
    assert!(texts.contains(&"ann banned bob for 1 h: spam".to_string()));
    assert!(texts.contains(&"ann set the room's modes: slow mode 10 s".to_string()));
    assert!(texts.contains(&"bob was muted for 5 min by the server: flooding".to_string()));
    let message = ServerEvent::ack_ok("1", None);
    assert_eq!(describe(&message), None);
}

#[test]
fn every_request_action_has_a_command() {
    for action in REQUESTS {
        assert!(action.is_request());
        let c = protocol::commands::find(action.as_str())
            .unwrap_or_else(|| panic!("/{} missing", action.as_str()));
        assert_eq!(c.clients.len(), 2);
    }
    for name in ["mode", "slow", "filter", "modlog"] {
        assert!(protocol::commands::find(name).is_some(), "/{name} missing");
    }
}

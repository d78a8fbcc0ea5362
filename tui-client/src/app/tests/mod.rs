//! Tests of the app core, driven through `App::update` only, with helpers
//! that play the server's part.

mod conversations;
mod devices;
mod lines;
mod moderation;
mod parts;
mod rooms;
mod scrolling;

use std::time::Duration;

use protocol::{ClientEvent, ServerEvent, ServerLimits};

use super::*;
use crate::net::Welcome;
use crate::theme::ColorMode;

fn limits() -> ServerLimits {
    ServerLimits {
        max_name_chars: 32,
        max_room_chars: 32,
        max_text_chars: 4000,
        max_frame_bytes: 32768,
        max_server_frame_bytes: protocol::limits::MAX_SERVER_FRAME_BYTES,
        max_rooms: 32,
        rate_per_sec: 0.0,
        rate_burst: 0,
    }
}

fn app(rooms: &[&str]) -> App {
    let rooms: Vec<String> = rooms.iter().map(|r| r.to_string()).collect();
    let display = Display {
        clock: Clock::H24,
        zone: Zone::Local,
        theme: Theme::new(ColorMode::None),
        bell: Bell::Mentions,
    };
    App::new("ann", "ws://127.0.0.1:1/ws", &rooms, display, None)
}

fn connected() -> Event {
    connected_to("e1")
}

fn connected_to(epoch: &str) -> Event {
    Event::Net(NetEvent::from(Welcome {
        server: "s".into(),
        name: "ann".into(),
        limits: limits(),
        epoch: epoch.into(),
        user: user("ann"),
        device: protocol::DeviceRef {
            id: "d_1".into(),
            name: "test".into(),
        },
        heartbeat: crate::net::DEFAULT_HEARTBEAT,
        note: None,
        dms: Vec::new(),
    }))
}

/// The identity id the tests give `name`.
fn uid(name: &str) -> String {
    format!("u_{name}")
}

fn user(name: &str) -> protocol::UserRef {
    protocol::UserRef {
        id: uid(name),
        name: name.into(),
    }
}

fn member(name: &str) -> protocol::Member {
    let u = user(name);
    protocol::Member {
        id: u.id,
        name: u.name,
        away: None,
        role: None,
    }
}

fn server(ev: ServerEvent) -> Event {
    Event::Net(NetEvent::from(ev))
}

fn typed(app: &mut App, line: &str) -> Vec<Effect> {
    typed_at(app, line, 0)
}

fn typed_at(app: &mut App, line: &str, now: i64) -> Vec<Effect> {
    app.editor.set(line.to_string(), line.chars().count());
    app.update(Event::Action(Action::Submit), now)
}

/// The joins among the effects, as (request id, room).
fn joins(fx: &[Effect]) -> Vec<(String, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(ClientEvent::Join { id, room, .. }) => Some((id.clone(), room.clone())),
            _ => None,
        })
        .collect()
}

fn room_state(app: &mut App, room: &str) {
    app.update(
        server(ServerEvent::RoomState {
            room: room.into(),
            users: vec![member("ann"), member("bob")],
            topic: None,
            modes: Default::default(),
        }),
        0,
    );
}

/// Connects and joins every room of the app (acked); the effects of the
/// acks (lines going out).
fn connect_and_join(a: &mut App) -> Vec<Effect> {
    let fx = a.update(connected(), 0);
    let mut out = Vec::new();
    for (join_id, room) in joins(&fx) {
        room_state(a, &room);
        out.extend(a.update(server(ServerEvent::ack_ok(join_id, None)), 0));
    }
    out
}

fn disconnect(app: &mut App) -> Vec<Effect> {
    app.update(
        Event::Net(NetEvent::Disconnected {
            reason: "gone".into(),
            retry_in: Duration::from_secs(1),
        }),
        0,
    )
}

/// The delivery marks of your messages in a room, oldest first.
fn own(room: &Room) -> Vec<(String, Delivery)> {
    room.entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Message { from, text, .. } if from == "ann" => {
                Some((text.clone(), e.delivery.clone()))
            }
            EntryKind::Location { from, .. } if from == "ann" => {
                Some(("(location)".into(), e.delivery.clone()))
            }
            _ => None,
        })
        .collect()
}

fn sent_frame(fx: &[Effect]) -> ClientEvent {
    match fx {
        [Effect::Send(f @ (ClientEvent::Send { .. } | ClientEvent::Location { .. }))] => f.clone(),
        other => panic!("expected one send, got {other:?}"),
    }
}

fn id_of(frame: &ClientEvent) -> String {
    frame.request_id().unwrap_or_default().to_string()
}

fn echo(frame: &ClientEvent, seq: u64) -> Event {
    let ClientEvent::Send { id, room, text, .. } = frame else {
        panic!("{frame:?}");
    };
    server(ServerEvent::Message {
        room: room.clone(),
        seq,
        ts: 5_000,
        from: "ann".into(),
        user: uid("ann"),
        id: id.clone(),
        text: text.clone(),
        action: false,
    })
}

fn ack(frame: &ClientEvent, seq: u64) -> Event {
    server(ServerEvent::ack_ok(id_of(frame), Some(seq)))
}

fn nack(id: &str, code: protocol::ErrorCode, message: &str) -> Event {
    server(ServerEvent::ack_err(id, code, message))
}

fn msg(room: &str, seq: u64, from: &str, text: &str) -> ServerEvent {
    ServerEvent::Message {
        room: room.into(),
        seq,
        ts: seq as i64 * 1000,
        from: from.into(),
        user: uid(from),
        id: format!("x{seq}"),
        text: text.into(),
        action: false,
    }
}

fn history(
    app: &mut App,
    room: &str,
    seqs: std::ops::RangeInclusive<u64>,
    more: bool,
    missed: u64,
) {
    let events = seqs
        .map(|s| msg(room, s, "bob", &format!("m{s}")))
        .collect();
    app.update(
        server(ServerEvent::History {
            room: room.into(),
            events,
            more,
            missed,
            continues: false,
        }),
        0,
    );
}

fn texts(room: &Room) -> Vec<String> {
    room.entries
        .iter()
        .map(|e| match &e.kind {
            EntryKind::Message { text, .. } => text.clone(),
            EntryKind::Notice(t) | EntryKind::Error(t) => format!("-- {t}"),
            EntryKind::Rule(t) => format!("== {t}"),
            other => format!("{other:?}"),
        })
        .collect()
}

fn notice(app: &App) -> &str {
    app.notice.as_ref().map_or("", |n| n.text.as_str())
}

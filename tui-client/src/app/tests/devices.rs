//! Your devices: `/link`, `/devices`, `/logout`.

use protocol::{DeviceInfo, ErrorCode};

use super::*;

fn texts_of_notices(app: &App) -> Vec<String> {
    app.rooms[0]
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Notice(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

fn one_frame(fx: &[Effect]) -> ClientEvent {
    match fx {
        [Effect::Send(f)] => f.clone(),
        other => panic!("expected one frame, got {other:?}"),
    }
}

fn device(id: &str, name: &str, current: bool) -> DeviceInfo {
    DeviceInfo {
        id: id.into(),
        name: name.into(),
        created_ts: 0,
        last_seen_ts: 0,
        current,
    }
}

#[test]
fn link_shows_the_code_how_long_it_lasts_and_how_to_use_it() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let fx = typed(&mut a, "/link");
    let frame = one_frame(&fx);
    assert!(matches!(frame, ClientEvent::Link { .. }), "{frame:?}");
    a.update(
        server(ServerEvent::LinkCode {
            code: "K7Q2-M9XD".into(),
            expires_ts: 600_000,
        }),
        0,
    );
    a.update(server(ServerEvent::ack_ok(id_of(&frame), None)), 0);
    let notices = texts_of_notices(&a);
    assert!(
        notices.iter().any(
            |t| t.starts_with("link code K7Q2-M9XD: valid for 10 minutes (until ")
                && t.ends_with(") and usable once")
        ),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|t| t.contains("chat-tui --link K7Q2-M9XD")),
        "{notices:?}"
    );
}

#[test]
fn devices_are_numbered_and_logout_takes_a_number_or_an_id() {
    let mut a = app(&["dev"]);
    connect_and_join(&mut a);
    let frame = one_frame(&typed(&mut a, "/devices"));
    assert!(matches!(frame, ClientEvent::Devices { .. }), "{frame:?}");
    a.update(
        server(ServerEvent::Devices {
            devices: vec![
                device("d_a", "chat-tui on laptop", true),
                device("d_b", "browser \u{1b}[31mred", false),
            ],
        }),
        0,
    );
    let notices = texts_of_notices(&a);
    assert!(notices.iter().any(|t| t.starts_with("your devices (2;")));
    assert!(
        notices
            .iter()
            .any(|t| t.contains("1 chat-tui on laptop (d_a") && t.contains("this one")),
        "{notices:?}"
    );
    // Device names are untrusted text.
    assert!(notices.iter().all(|t| !t.contains('\u{1b}')), "{notices:?}");

    let frame = one_frame(&typed(&mut a, "/logout 2"));
    assert!(
        matches!(&frame, ClientEvent::Logout { device: Some(d), .. } if d == "d_b"),
        "{frame:?}"
    );
    a.update(server(ServerEvent::ack_ok(id_of(&frame), None)), 0);
    assert_eq!(notice(&a), "device d_b is signed out");

    let frame = one_frame(&typed(&mut a, "/logout d_zz"));
    let ClientEvent::Logout { id, device } = &frame else {
        panic!("{frame:?}");
    };
    assert_eq!(device.as_deref(), Some("d_zz"));
    a.update(nack(id, ErrorCode::NotFound, "no such device"), 0);
    assert_eq!(notice(&a), "cannot sign out device d_zz: no such device");

    // A number not in the list is explained, and nothing is sent.
    assert!(typed(&mut a, "/logout 9").is_empty());
    assert!(notice(&a).contains("no device 9"), "{}", notice(&a));
}

#[test]
fn device_commands_need_a_connection() {
    let mut a = app(&["dev"]);
    for line in ["/link", "/devices", "/logout"] {
        assert!(typed(&mut a, line).is_empty(), "{line}");
        assert!(notice(&a).contains("needs a connection"), "{}", notice(&a));
    }
}

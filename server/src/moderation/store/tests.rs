//! One conformance test, run against every moderation store: the memory
//! one, SQLite in a file (also read again after reopening it), and Redis on
//! 127.0.0.1:6379 (skipped when it is not running, failed when CI is set).

use protocol::moderation::{ModAction, Role, RoomModes};
use protocol::{ServerEvent, UserRef};

use super::*;
use crate::durability::Durability;
use crate::moderation::records::{self, RoomRecord};

fn user(id: &str) -> UserRef {
    UserRef {
        id: id.into(),
        name: id.trim_start_matches("u_").into(),
    }
}

fn event(room: &str, action: ModAction, target: &str, duration_s: Option<u64>) -> ServerEvent {
    ServerEvent::Moderation {
        room: room.into(),
        seq: 0,
        ts: 1_000_000,
        action,
        actor: Some(user("u_ann")),
        target: Some(user(target)),
        reason: Some("spam".into()),
        duration_s,
        modes: None,
    }
}

/// Everything a room's record keeps, written through `persist` and read
/// back through `entries`; the same events applied in memory agree.
async fn conformance(store: &dyn ModerationStore, tag: &str) {
    let room = format!("{tag}room");
    let other = format!("{tag}other");
    let (bob, carl) = (format!("u_{tag}bob"), format!("u_{tag}carl"));
    assert_eq!(store.entries(&room).await.unwrap(), vec![]);
    assert_eq!(
        records::claim_owner(store, &room, "u_ann").await.unwrap(),
        "u_ann"
    );
    assert_eq!(
        records::claim_owner(store, &room, &bob).await.unwrap(),
        "u_ann",
        "the first owner stays"
    );
    let modes = RoomModes {
        invite_only: true,
        slow_s: 10,
        ..RoomModes::default()
    };
    let mut events = vec![
        event(&room, ModAction::Op, &bob, None),
        event(&room, ModAction::Voice, &carl, None),
        event(&room, ModAction::Ban, &carl, Some(60)),
        event(&room, ModAction::Mute, &bob, None),
        event(&room, ModAction::Invite, &carl, None),
        event(&room, ModAction::Kick, &bob, None),
    ];
    if let ServerEvent::Moderation {
        action,
        modes: m,
        target,
        ..
    } = &mut events[5]
    {
        *action = ModAction::Mode;
        *m = Some(modes);
        *target = None;
    }
    let mut applied = RoomRecord::default();
    for e in &events {
        records::persist(store, &room, e).await.unwrap();
        applied.apply(e);
    }
    applied.owner = Some("u_ann".into());
    let stored = RoomRecord::from_entries(&store.entries(&room).await.unwrap());
    assert_eq!(stored, applied);
    assert_eq!(stored.roles.get(&bob), Some(&Role::Op));
    assert_eq!(
        stored.ban(&carl, 1_000_000 + 59_000).map(|b| b.until),
        Some(Some(1_060_000))
    );
    assert!(stored.ban(&carl, 1_060_000).is_none(), "expired");
    assert!(stored.mute(&bob, i64::MAX / 2).is_some(), "until lifted");
    assert!(stored.invites.contains(&carl));
    assert_eq!(stored.modes, modes);
    assert_eq!(
        RoomRecord::from_entries(&store.entries(&other).await.unwrap()),
        RoomRecord::default(),
        "rooms are apart"
    );

    // Lifting, and the server-wide records.
    for e in [
        event(&room, ModAction::Deop, &bob, None),
        event(&room, ModAction::Unban, &carl, None),
        event(&room, ModAction::Unmute, &bob, None),
    ] {
        records::persist(store, &room, &e).await.unwrap();
    }
    let stored = RoomRecord::from_entries(&store.entries(&room).await.unwrap());
    assert!(!stored.roles.contains_key(&bob));
    assert!(stored.bans.is_empty() && stored.mutes.is_empty());
    let server = records::server_record(store).await.unwrap();
    assert!(server.private_rooms.contains(&room));
    records::set_admin(store, &bob, true).await.unwrap();
    assert!(
        records::server_record(store)
            .await
            .unwrap()
            .admins
            .contains(&bob)
    );
    records::set_admin(store, &bob, false).await.unwrap();
    assert!(
        !records::server_record(store)
            .await
            .unwrap()
            .admins
            .contains(&bob)
    );
}

#[tokio::test]
async fn the_memory_store_conforms() {
    conformance(&MemoryStore::new(), "m").await;
}

#[tokio::test]
async fn the_sqlite_store_conforms_and_keeps_bans_in_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chat.sqlite3");
    let store = SqliteStore::open(&path, Durability::default()).unwrap();
    conformance(&store, "s").await;
    records::persist(
        &store,
        "kept",
        &event("kept", ModAction::Ban, "u_bob", None),
    )
    .await
    .unwrap();
    drop(store);
    let again = SqliteStore::open(&path, Durability::default()).unwrap();
    let record = RoomRecord::from_entries(&again.entries("kept").await.unwrap());
    assert!(record.ban("u_bob", 5).is_some());
}

#[tokio::test]
async fn the_redis_store_conforms() {
    let url = "redis://127.0.0.1:6379";
    let prefix = format!("test:mod:{}:", crate::ids::new_id());
    let store = match RedisStore::connect(url, &prefix).await {
        Ok(store) => store,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: no Redis on 127.0.0.1:6379 ({e})");
            return;
        }
        Err(e) => panic!("Redis is needed in CI: {e}"),
    };
    if let Err(e) = store.entries("probe").await {
        assert!(
            std::env::var_os("CI").is_none(),
            "Redis is needed in CI: {e}"
        );
        eprintln!("skipped: no Redis on 127.0.0.1:6379 ({e})");
        return;
    }
    conformance(&store, "r").await;
    // Leave nothing behind.
    let client = ::redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = ::redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    if !keys.is_empty() {
        let _: () = ::redis::cmd("DEL")
            .arg(keys)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

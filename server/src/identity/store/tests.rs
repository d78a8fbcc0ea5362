//! One conformance test, run against every store: the memory one, SQLite
//! in a file, and Redis on 127.0.0.1:6379 (skipped when it is not running,
//! failed when CI is set).

use super::*;
use crate::durability::Durability;

fn identity(id: &str, name: &str, now: TimestampMs) -> Identity {
    Identity {
        id: id.into(),
        name: name.into(),
        key: protocol::names::name_key(name),
        created_ts: now,
        last_seen_ts: now,
    }
}

fn device(id: &str, cred: &str, now: TimestampMs) -> NewDevice {
    NewDevice {
        id: id.into(),
        name: format!("{id} device"),
        credential_hash: cred.into(),
        now,
    }
}

async fn conformance(store: &dyn IdentityStore, tag: &str) {
    // Real times: Redis expires link codes by its own clock.
    let t = crate::clock::now_ms();
    let u = |s: &str| format!("u_{tag}{s}");
    let d = |s: &str| format!("d_{tag}{s}");
    let c = |s: &str| format!("{tag}cred{s}");
    let ann = identity(&u("ann"), "ann", t + 1_000);
    store
        .register(&ann, Some(&device(&d("1"), &c("1"), t + 1_000)))
        .await
        .expect("register ann");
    let alike = identity(&u("ann2"), "\u{0430}NN", t + 1_000);
    assert!(matches!(
        store.register(&alike, None).await,
        Err(StoreError::NameHeld)
    ));
    let (who, dev) = store
        .sign_in(&c("1"), t + 2_000)
        .await
        .unwrap()
        .expect("signed in");
    assert_eq!(
        (who.id.as_str(), dev.id.as_str()),
        (ann.id.as_str(), d("1").as_str())
    );
    assert_eq!(who.last_seen_ts, t + 2_000);
    assert!(
        store
            .sign_in(&c("nope"), t + 2_000)
            .await
            .unwrap()
            .is_none()
    );

    // A link code: once, and not after it expired.
    store
        .add_code(&c("code"), &ann.id, t + 10_000)
        .await
        .unwrap();
    let second = store
        .redeem(&c("code"), &device(&d("2"), &c("2"), t + 3_000))
        .await
        .unwrap()
        .expect("the code works");
    assert_eq!(second.0.id, ann.id);
    assert!(
        store
            .redeem(&c("code"), &device(&d("3"), &c("3"), t + 3_000))
            .await
            .unwrap()
            .is_none(),
        "used once"
    );
    store.add_code(&c("old"), &ann.id, t + 4_000).await.unwrap();
    assert!(
        store
            .redeem(&c("old"), &device(&d("4"), &c("4"), t + 5_000))
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    let devices = store.devices(&ann.id).await.unwrap();
    let ids: Vec<&str> = devices.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, [d("1"), d("2")]);

    // Revoking: only one's own device, and its credential stops working.
    let bob = identity(&u("bob"), "bob", t + 1_000);
    store.register(&bob, None).await.unwrap();
    assert!(!store.revoke(&bob.id, &d("2")).await.unwrap());
    assert!(store.revoke(&ann.id, &d("2")).await.unwrap());
    assert!(store.sign_in(&c("2"), t + 6_000).await.unwrap().is_none());
    assert!(store.sign_in(&c("1"), t + 6_000).await.unwrap().is_some());

    // Last rooms: in the order first joined, a leave forgets one, a
    // second join keeps its place, at most LAST_ROOMS.
    for room in ["dev", "ops", "dev", "lobby"] {
        store.room_joined(&ann.id, room).await.unwrap();
    }
    store.room_left(&ann.id, "ops").await.unwrap();
    assert_eq!(store.last_rooms(&ann.id).await.unwrap(), ["dev", "lobby"]);
    assert!(store.last_rooms(&bob.id).await.unwrap().is_empty());
    for i in 0..LAST_ROOMS {
        store
            .room_joined(&bob.id, &format!("r{i:02}"))
            .await
            .unwrap();
    }
    store.room_joined(&bob.id, "newest").await.unwrap();
    let kept = store.last_rooms(&bob.id).await.unwrap();
    assert_eq!(kept.len(), LAST_ROOMS);
    assert_eq!(
        (kept[0].as_str(), kept[LAST_ROOMS - 1].as_str()),
        ("r01", "newest")
    );

    // A key as a credential: a device whose credential hash is the key's
    // finds its identity like any other.
    let key_hash = c("ssh-key");
    let key_device = NewDevice {
        name: format!("{}ED25519 SHA256:abc", protocol::SSH_KEY_DEVICE_PREFIX),
        ..device(&d("k"), &key_hash, t + 6_000)
    };
    store
        .add_code(&c("kcode"), &ann.id, t + 60_000)
        .await
        .unwrap();
    store
        .redeem(&c("kcode"), &key_device)
        .await
        .unwrap()
        .expect("linked");
    let (by_key, dev) = store
        .sign_in(&key_hash, t + 6_500)
        .await
        .unwrap()
        .expect("by key");
    assert_eq!(
        (by_key.id.as_str(), dev.name.as_str()),
        (ann.id.as_str(), key_device.name.as_str())
    );

    // Renaming, listing, expiring, removing.
    assert!(matches!(
        store.rename(&bob.id, "Ann", "ann").await,
        Err(StoreError::NameHeld)
    ));
    store.rename(&bob.id, "robert", "robert").await.unwrap();
    assert!(store.find("bob").await.unwrap().is_none());
    assert_eq!(store.find("robert").await.unwrap().unwrap().id, bob.id);
    let listed = store.list().await.unwrap();
    let mine: Vec<(String, usize)> = listed
        .iter()
        .filter(|l| l.identity.id.starts_with(&format!("u_{tag}")))
        .map(|l| (l.identity.name.clone(), l.devices))
        .collect();
    assert_eq!(mine, [("ann".to_string(), 2), ("robert".to_string(), 0)]);
    store
        .touch(&[(ann.id.clone(), d("1"))], t + 9_000)
        .await
        .unwrap();
    let expired = store.expire(t + 8_000).await.unwrap();
    assert!(expired.contains(&"robert".to_string()), "{expired:?}");
    assert!(
        !expired.contains(&"ann".to_string()),
        "ann was seen at 9000"
    );
    assert!(store.find("robert").await.unwrap().is_none());
    assert!(store.remove(&ann.id).await.unwrap());
    assert!(
        store.last_rooms(&ann.id).await.unwrap().is_empty(),
        "rooms go with it"
    );
    assert!(store.sign_in(&c("1"), t + 9_500).await.unwrap().is_none());
    assert!(
        store.find("ann").await.unwrap().is_none(),
        "the name is free"
    );
}

#[tokio::test]
async fn the_memory_store_conforms() {
    conformance(&MemoryStore::new(), "m").await;
}

#[tokio::test]
async fn the_sqlite_store_conforms_and_keeps_identities_in_its_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("chat.sqlite3");
    let store = SqliteStore::open(Some(&path), Durability::default()).expect("open");
    conformance(&store, "s").await;
    let ann = identity("u_keep", "keep", 1);
    store.register(&ann, None).await.unwrap();
    drop(store);
    let again = SqliteStore::open(Some(&path), Durability::default()).expect("reopen");
    assert_eq!(
        again.find("keep").await.unwrap().map(|u| u.id),
        Some(ann.id)
    );
}

#[tokio::test]
async fn the_redis_store_conforms() {
    let url = "redis://127.0.0.1:6379";
    let store = match RedisStore::connect(url, &format!("t{}:", crate::ids::new_id())).await {
        Ok(store) => store,
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: no Redis on 127.0.0.1:6379 ({e})");
            return;
        }
        Err(e) => panic!("Redis is needed in CI: {e}"),
    };
    if let Err(e) = store.find("x").await {
        assert!(
            std::env::var_os("CI").is_none(),
            "Redis is needed in CI: {e}"
        );
        eprintln!("skipped: no Redis on 127.0.0.1:6379 ({e})");
        return;
    }
    conformance(&store, "r").await;
}

//! Finding 8: rooms were an unbounded lever. 200 connections created 6,000
//! rooms (RSS 7 MB to 96 MB), and the memory was not returned after they
//! emptied. Now the server runs a bounded number of rooms, each connection
//! may start rooms only so fast, and emptied rooms retire.

use protocol::{ClientEvent, ErrorCode};

use super::net::*;
use crate::common::*;

async fn try_join(c: &mut Client, room: &str) -> Result<(), ErrorCode> {
    let id = c.next_id();
    let (ack, _) = c
        .request(ClientEvent::Join {
            id,
            room: room.into(),
            since: None,
            epoch: None,
        })
        .await;
    match ack {
        protocol::ServerEvent::Ack { ok: true, .. } => Ok(()),
        other => Err(ack_code(&other)),
    }
}

async fn running_rooms(addr: &str) -> u64 {
    health(addr).await["rooms"].as_u64().expect("rooms")
}

#[tokio::test]
async fn a_connection_may_start_rooms_only_so_fast() {
    let server = TestServer::with_config(server::Config {
        room_create_rate: 0.001,
        room_create_burst: 3,
        ..Default::default()
    })
    .await;
    let mut ann = Client::named(&server, "ann").await;
    for room in ["r0", "r1", "r2"] {
        assert_eq!(try_join(&mut ann, room).await, Ok(()));
    }
    assert_eq!(try_join(&mut ann, "r3").await, Err(ErrorCode::RateLimited));
    // Joining a room someone else started costs nothing.
    let mut bob = Client::named(&server, "bob").await;
    bob.join("shared").await;
    assert_eq!(try_join(&mut ann, "shared").await, Ok(()));
}

#[tokio::test]
async fn the_server_runs_a_bounded_number_of_rooms_and_retires_empty_ones() {
    let server = TestServer::with_config(server::Config {
        max_rooms_total: 5,
        room_create_rate: 0.0,
        ..Default::default()
    })
    .await;
    let addr = server.addr.to_string();
    let mut ann = Client::named(&server, "ann").await;
    for i in 0..5 {
        assert_eq!(try_join(&mut ann, &format!("r{i}")).await, Ok(()));
    }
    let mut bob = Client::named(&server, "bob").await;
    assert_eq!(try_join(&mut bob, "r5").await, Err(ErrorCode::TooManyRooms));
    assert_eq!(try_join(&mut bob, "r0").await, Ok(()), "an existing room");
    assert_eq!(running_rooms(&addr).await, 5);
    ann.close().await;
    bob.close().await;
    eventually("every emptied room retires", || async {
        running_rooms(&addr).await == 0
    })
    .await;
    let mut cat = Client::named(&server, "cat").await;
    assert_eq!(try_join(&mut cat, "r5").await, Ok(()));
}

/// Waves of connections that each start many rooms and leave: every wave's
/// rooms retire, and the server's memory after the last wave is reported
/// next to that after the first (see SECURITY.md for measured figures).
#[tokio::test]
async fn waves_of_room_churn_leave_no_rooms_behind() {
    let server = Process::start(
        &[
            "--memory",
            "--max-connections-per-ip",
            "0",
            "--connection-rate-per-ip",
            "0",
            "--room-create-rate",
            "0",
        ]
        .map(String::from),
    );
    let (connections, rooms_each) = (40, 30);
    let mut rss = Vec::new();
    for wave in 0..3 {
        let mut clients = Vec::new();
        for c in 0..connections {
            let ws = ws_from([127, 0, 2, 1], &server.addr)
                .await
                .expect("connect");
            let mut client = identify(ws, &format!("w{wave}c{c}")).await;
            for r in 0..rooms_each {
                assert_eq!(
                    try_join(&mut client, &format!("w{wave}-c{c}-r{r}")).await,
                    Ok(())
                );
            }
            clients.push(client);
        }
        assert_eq!(
            running_rooms(&server.addr).await,
            (connections * rooms_each) as u64
        );
        for client in clients {
            client.close().await;
        }
        eventually("the wave's rooms retire", || async {
            running_rooms(&server.addr).await == 0
        })
        .await;
        rss.extend(server.rss_kib());
    }
    eprintln!("RSS after each wave of {connections}x{rooms_each} rooms (KiB): {rss:?}");
}

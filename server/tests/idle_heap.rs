//! What the directory of connected identities keeps on the heap for each
//! idle connection (signed in, in one room), counted by dhat as this test
//! binary's allocator. Every connection pays this for as long as it is
//! open: two hash tables per connection holding one entry each were about
//! 500 bytes; plain vectors are a fraction of that.
//!
//! One test in this binary, so that nothing else allocates while it counts.

use std::sync::Arc;

use server::conversations::Directory;
use server::outbound::Outbound;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Connections counted; 7/8 of a power of two, so that the table of
/// identities is as full as it gets before it grows (its share per
/// connection is then the least it is, the same for any layout).
const CONNECTIONS: usize = 896;

#[test]
fn an_idle_connection_keeps_little_in_the_directory() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let directory = Directory::default();
    // Made before counting: the connection owns these, not the directory.
    let people: Vec<(Arc<str>, Outbound, String)> = (0..CONNECTIONS)
        .map(|i| {
            let (outbound, receiver) = Outbound::new(i as u64, 16);
            std::mem::forget(receiver);
            let user = Arc::from(format!("u_{i:08}"));
            (user, outbound, format!("room-{:04}", i / 10))
        })
        .collect();
    let before = dhat::HeapStats::get().curr_bytes;
    for (user, outbound, room) in &people {
        directory.attach(user, user, outbound);
        directory.in_room(user, outbound.connection_id, room, true);
    }
    let held = dhat::HeapStats::get().curr_bytes - before;
    let per_connection = held / CONNECTIONS;
    // 525 bytes with hash tables; 330 with vectors that made room for
    // four; 138 with vectors holding what they hold.
    dhat::assert!(
        per_connection <= 200,
        "the directory keeps {per_connection} bytes per idle connection"
    );
    // Checked, so that the count above is of a working directory.
    dhat::assert!(directory.is_in_room(&people[9].0, 9, "room-0000"));
}

//! `chat-bench`, a load generator that speaks the chat protocol, and the
//! pieces it is made of. The binaries are thin: `chat-bench` parses
//! [`args::Args`] and calls [`generator::run`]; `floor-server` runs
//! [`floor::serve`]. The benchmark script compares `chat-server` against two
//! floors: `bare-server`, a minimal broadcast server on chat-server's own
//! stack (axum `ws`, default settings), and `floor-server`, the fastest
//! plain tokio-tungstenite broadcast server we know how to write.
//!
//! Fairness rule: a sender counts a message as acknowledged when its own
//! copy of the broadcast (the "echo") comes back, for every server. The
//! floors send no acks, and `chat-server` queues its ack just before
//! the echo, so all servers are driven by the same signal.

pub mod args;
pub mod floor;
pub mod generator;
pub mod procfs;
pub mod redis_stats;
pub mod report;
pub mod run_tag;
pub mod stamp;

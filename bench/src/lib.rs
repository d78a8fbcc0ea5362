//! `chat-bench`, a load generator that speaks the chat protocol, and the
//! pieces it is made of. The binaries are thin: `chat-bench` parses
//! [`args::Args`] and calls [`generator::run`]; `bare-server` is the minimal
//! broadcast server the benchmark script compares `chat-server` against.
//!
//! Fairness rule: a sender counts a message as acknowledged when its own
//! copy of the broadcast (the "echo") comes back, for both servers. The
//! bare server sends no acks, and `chat-server` queues its ack just before
//! the echo, so the two servers are driven by the same signal.

pub mod args;
pub mod generator;
pub mod procfs;
pub mod report;
pub mod stamp;

//! A connection's outbound side as seen by rooms: a bounded queue of
//! already-serialized frames, plus a switch to disconnect it.
//!
//! Rooms never wait on a client. They `try_send` into the queue; if it is
//! full the client is not keeping up, and rather than buffering without
//! bound or slowing the whole room, the room flips the client's kill switch
//! and forgets it. The connection then closes with
//! [`protocol::close::SLOW_CONSUMER`].

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};

use crate::frame::Frame;

/// Frames' worth of queue kept by a quiet client: small bursts (a join's
/// presence frames) never allocate twice.
const KEPT: usize = 64;

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The client is too slow; it has been told to disconnect.
    #[error("the client is too slow and is being disconnected")]
    Slow,
    /// The connection is already gone.
    #[error("the connection is closed")]
    Closed,
}

/// The queue itself, shared by the handles and the connection's writer.
///
/// A plain deque under a mutex (held only to push or to drain, never across
/// an `await`) with the writer's waker beside it, rather than a channel: an
/// idle connection's queue then owns no buffer at all (a tokio channel
/// allocates a block of 32 slots per connection up front, about 1.1 KB,
/// which is a fifth of the memory budget of an idle connection), and the
/// writer drains everything queued in one lock. The waker sits under the
/// same lock (not in a `Notify`, which has a lock and a waiter list of its
/// own to register with every time the writer waits): one task, the
/// connection's, ever waits on a queue.
#[derive(Debug)]
struct Queue {
    frames: Mutex<Frames>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Frames {
    queued: VecDeque<Frame>,
    closed: bool,
    /// Set when a push found the queue full: the client is disconnected.
    slow: bool,
    /// The connection's task, while it waits for frames or for `slow`.
    writer: Option<Waker>,
}

impl Frames {
    /// Remembers the waiting task (once: polling again with the same waker
    /// clones nothing).
    fn wait(&mut self, waker: &Waker) {
        match &self.writer {
            Some(current) if current.will_wake(waker) => {}
            _ => self.writer = Some(waker.clone()),
        }
    }
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Frames> {
        // Every critical section is a push or a drain: never left half-done.
        self.frames.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The handle rooms (and the connection itself) use to queue frames for one
/// client.
#[derive(Debug, Clone)]
pub struct Outbound {
    pub connection_id: u64,
    queue: Arc<Queue>,
}

impl Outbound {
    /// A new outbound queue of `capacity` frames and the receiving end for
    /// the connection's writer.
    pub fn new(connection_id: u64, capacity: usize) -> (Self, Receiver) {
        let queue = Arc::new(Queue {
            frames: Mutex::new(Frames::default()),
            capacity: capacity.max(1),
        });
        let handle = Outbound {
            connection_id,
            queue: queue.clone(),
        };
        (handle, Receiver { queue })
    }

    /// Queues a frame without waiting. A full queue marks the client slow.
    pub fn push(&self, frame: Frame) -> Result<(), QueueError> {
        let mut frames = self.queue.lock();
        if frames.closed {
            return Err(QueueError::Closed);
        }
        if frames.slow {
            return Err(QueueError::Slow);
        }
        if frames.queued.len() >= self.queue.capacity {
            frames.slow = true;
            frames.queued.clear();
            let writer = frames.writer.take();
            drop(frames);
            if let Some(writer) = writer {
                writer.wake();
            }
            return Err(QueueError::Slow);
        }
        frames.queued.push_back(frame);
        // Only the first frame wakes the writer: it takes all of them.
        let writer = match frames.queued.len() {
            1 => frames.writer.take(),
            _ => None,
        };
        drop(frames);
        if let Some(writer) = writer {
            writer.wake();
        }
        Ok(())
    }

    /// Serializes and queues one event for this client only.
    pub fn send(&self, event: &protocol::ServerEvent) -> Result<(), QueueError> {
        self.push(Frame::encode(event))
    }

    /// Queues a successful `ack` of `id` (with the message's number, if
    /// any), written without building the event: a busy room sends one per
    /// message.
    pub fn ack_ok(&self, id: &str, seq: Option<protocol::Seq>) -> Result<(), QueueError> {
        self.push(Frame::from_text(protocol::encode_ack_ok(id, seq)))
    }
}

/// The connection writer's end of its queue. Dropping it closes the queue:
/// later pushes fail with [`QueueError::Closed`].
#[derive(Debug)]
pub struct Receiver {
    queue: Arc<Queue>,
}

impl Receiver {
    /// Waits until something is queued, then moves up to `limit` frames into
    /// `batch`. Returns how many were moved (never 0), or `Slow` once the
    /// client has been found too slow.
    pub async fn recv_many(&mut self, batch: &mut Vec<Frame>, limit: usize) -> Result<usize, Slow> {
        poll_fn(|cx| {
            let mut frames = self.queue.lock();
            if frames.slow {
                return Poll::Ready(Err(Slow));
            }
            let n = frames.queued.len().min(limit.max(1));
            if n > 0 {
                // The queue keeps what it grew to while the client is
                // busy: giving it back after every drain made each
                // burst grow it again, copy by copy (5% of the server's
                // instructions in a saturated room). [`Receiver::trim`]
                // gives it back once the client is quiet.
                batch.extend(frames.queued.drain(..n));
                return Poll::Ready(Ok(n));
            }
            frames.wait(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Gives back the memory a burst grew the queue to, if nothing is
    /// queued now, so a quiet client holds no buffer. The connection calls
    /// it at every heartbeat.
    pub fn trim(&self) {
        let mut frames = self.queue.lock();
        if frames.queued.is_empty() && frames.queued.capacity() > KEPT {
            frames.queued = VecDeque::new();
        }
    }

    /// Completes once the client has been found too slow (for waiting on
    /// while a write to it is blocked).
    pub async fn slowed(&self) {
        poll_fn(|cx| {
            let mut frames = self.queue.lock();
            if frames.slow {
                return Poll::Ready(());
            }
            frames.wait(cx.waker());
            Poll::Pending
        })
        .await
    }
}

/// The client let its queue fill up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client let its outbound queue fill up")]
pub struct Slow;

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut frames = self.queue.lock();
        frames.closed = true;
        frames.queued.clear();
        frames.writer = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64) -> Frame {
        Frame::encode(&protocol::ServerEvent::ack_ok(n.to_string(), None))
    }

    #[tokio::test]
    async fn frames_come_out_in_order_in_batches() {
        let (out, mut rx) = Outbound::new(1, 10);
        for n in 0..5 {
            out.push(frame(n)).unwrap();
        }
        let mut batch = Vec::new();
        assert_eq!(rx.recv_many(&mut batch, 3).await, Ok(3));
        assert_eq!(rx.recv_many(&mut batch, 10).await, Ok(2));
        let ids: Vec<String> = batch.iter().map(|f| f.as_str().to_owned()).collect();
        for (n, text) in ids.iter().enumerate() {
            assert!(text.contains(&format!("\"id\":\"{n}\"")), "{text}");
        }
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_client_slow() {
        let (out, mut rx) = Outbound::new(1, 2);
        out.push(frame(1)).unwrap();
        out.push(frame(2)).unwrap();
        assert_eq!(out.push(frame(3)), Err(QueueError::Slow));
        assert_eq!(out.push(frame(4)), Err(QueueError::Slow), "stays slow");
        let mut batch = Vec::new();
        assert_eq!(rx.recv_many(&mut batch, 8).await, Err(Slow));
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.slowed())
            .await
            .expect("slowed completes");
    }

    #[tokio::test]
    async fn a_burst_grows_the_queue_until_the_client_is_quiet() {
        let (out, mut rx) = Outbound::new(1, 1024);
        let mut batch = Vec::new();
        for round in 0..2 {
            for n in 0..500 {
                out.push(frame(n)).unwrap();
            }
            assert_eq!(rx.recv_many(&mut batch, 1024).await, Ok(500));
            let grown = out.queue.lock().queued.capacity();
            assert!(grown >= 500, "round {round}: kept for the next burst");
        }
        out.push(frame(1)).unwrap();
        rx.trim();
        assert!(out.queue.lock().queued.capacity() >= 500, "not while busy");
        assert_eq!(rx.recv_many(&mut batch, 1024).await, Ok(1));
        rx.trim();
        assert_eq!(out.queue.lock().queued.capacity(), 0, "quiet: given back");
    }

    #[tokio::test]
    async fn a_dropped_receiver_closes_the_queue() {
        let (out, rx) = Outbound::new(1, 2);
        drop(rx);
        assert_eq!(out.push(frame(1)), Err(QueueError::Closed));
    }

    #[tokio::test]
    async fn the_writer_wakes_when_a_frame_arrives() {
        let (out, mut rx) = Outbound::new(1, 8);
        let writer = tokio::spawn(async move {
            let mut batch = Vec::new();
            rx.recv_many(&mut batch, 8).await
        });
        tokio::task::yield_now().await;
        out.push(frame(1)).unwrap();
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), writer)
            .await
            .expect("woken")
            .expect("no panic");
        assert_eq!(n, Ok(1));
    }
}

//! One connection's outbound queue: serialized frames waiting to be
//! written, bounded, with a switch that marks the client too slow.
//!
//! Rooms never wait on a client: they [`Outbox::push`] and move on. When a
//! queue is full its client is not keeping up; instead of buffering without
//! bound, slowing the room down or skipping frames for that client (which
//! would make it look faster than it is), the queue marks the client slow,
//! drops what it held and refuses everything after. The connection then
//! closes with `protocol::close::SLOW_CONSUMER`. No other client is touched.
//!
//! The writer takes everything queued in one lock by swapping its (empty)
//! batch with the queue, so a burst of broadcasts costs one wake-up, one
//! lock and one flush per client. The queue owns no buffer until the first
//! frame arrives, so an idle connection pays only for this struct.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::{Mutex, MutexGuard};
use std::task::{Poll, Waker};

use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Why a frame was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The queue was (or just became) full: the client is being disconnected.
    Slow,
    /// The connection is gone.
    Closed,
}

/// The client let its queue fill up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slow;

/// A bounded queue of frames for one connection, shared by the rooms that
/// push into it and the connection task that writes it out.
#[derive(Debug)]
pub struct Outbox {
    state: Mutex<State>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct State {
    frames: VecDeque<Utf8Bytes>,
    /// The connection task, when it waits for frames (or for `slow`).
    writer: Option<Waker>,
    slow: bool,
    closed: bool,
}

impl Outbox {
    /// An empty queue that holds at most `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Outbox {
            state: Mutex::new(State::default()),
            capacity: capacity.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section is a push, a swap or a flag: never left
        // half-done by a panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame without waiting. A full queue marks the client slow.
    pub fn push(&self, frame: Utf8Bytes) -> Result<(), Refused> {
        let mut state = self.lock();
        if state.closed {
            return Err(Refused::Closed);
        }
        if state.slow {
            return Err(Refused::Slow);
        }
        if state.frames.len() >= self.capacity {
            state.slow = true;
            state.frames = VecDeque::new();
            let writer = state.writer.take();
            drop(state);
            if let Some(writer) = writer {
                writer.wake();
            }
            return Err(Refused::Slow);
        }
        state.frames.push_back(frame);
        // Only the first frame needs to wake the writer: it takes the whole
        // queue when it runs.
        let writer = if state.frames.len() == 1 {
            state.writer.take()
        } else {
            None
        };
        drop(state);
        if let Some(writer) = writer {
            writer.wake();
        }
        Ok(())
    }

    /// Waits until something is queued, then swaps the whole queue into
    /// `batch` (which should be empty; its capacity is reused by the queue).
    /// Fails once the client has been found too slow. Cancel-safe: nothing
    /// is taken unless it returns.
    pub async fn take_all(&self, batch: &mut VecDeque<Utf8Bytes>) -> Result<(), Slow> {
        poll_fn(|cx| {
            let mut state = self.lock();
            if state.slow {
                return Poll::Ready(Err(Slow));
            }
            if !state.frames.is_empty() {
                std::mem::swap(&mut state.frames, batch);
                return Poll::Ready(Ok(()));
            }
            register(&mut state.writer, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Completes once the client has been found too slow, to give up a
    /// write that the client is not reading.
    pub async fn slowed(&self) {
        poll_fn(|cx| {
            let mut state = self.lock();
            if state.slow {
                return Poll::Ready(());
            }
            register(&mut state.writer, cx.waker());
            Poll::Pending
        })
        .await
    }

    /// The connection is gone: refuse and drop everything from now on.
    pub fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.frames = VecDeque::new();
        state.writer = None;
    }
}

fn register(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(current) if current.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Utf8Bytes {
        Utf8Bytes::from(n.to_string())
    }

    #[tokio::test]
    async fn everything_queued_comes_out_in_order_at_once() {
        let outbox = Outbox::new(8);
        for n in 0..5 {
            outbox.push(frame(n)).unwrap();
        }
        let mut batch = VecDeque::new();
        outbox.take_all(&mut batch).await.unwrap();
        let texts: Vec<&str> = batch.iter().map(|f| f.as_str()).collect();
        assert_eq!(texts, ["0", "1", "2", "3", "4"]);
    }

    #[tokio::test]
    async fn a_full_queue_marks_the_client_slow_and_stays_so() {
        let outbox = Outbox::new(2);
        outbox.push(frame(1)).unwrap();
        outbox.push(frame(2)).unwrap();
        assert_eq!(outbox.push(frame(3)), Err(Refused::Slow));
        assert_eq!(outbox.push(frame(4)), Err(Refused::Slow));
        let mut batch = VecDeque::new();
        assert_eq!(outbox.take_all(&mut batch).await, Err(Slow));
        assert!(batch.is_empty(), "a slow client gets nothing more");
        tokio::time::timeout(std::time::Duration::from_secs(5), outbox.slowed())
            .await
            .expect("slowed completes");
    }

    #[tokio::test]
    async fn a_closed_queue_refuses() {
        let outbox = Outbox::new(2);
        outbox.close();
        assert_eq!(outbox.push(frame(1)), Err(Refused::Closed));
    }

    #[tokio::test]
    async fn a_waiting_writer_wakes_for_the_first_frame_and_for_slowness() {
        let outbox = std::sync::Arc::new(Outbox::new(1));
        let writer = tokio::spawn({
            let outbox = outbox.clone();
            async move {
                let mut batch = VecDeque::new();
                outbox.take_all(&mut batch).await.map(|()| batch.len())
            }
        });
        tokio::task::yield_now().await;
        outbox.push(frame(1)).unwrap();
        let taken = tokio::time::timeout(std::time::Duration::from_secs(5), writer)
            .await
            .expect("woken by a frame")
            .expect("no panic");
        assert_eq!(taken, Ok(1));

        let waiter = tokio::spawn({
            let outbox = outbox.clone();
            async move { outbox.slowed().await }
        });
        tokio::task::yield_now().await;
        outbox.push(frame(2)).unwrap();
        assert_eq!(outbox.push(frame(3)), Err(Refused::Slow));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken by slowness")
            .expect("no panic");
    }
}

//! One SQLite connection used from async code through tokio's blocking
//! pool: what the identity and moderation stores run their statements on
//! (the history has a writer thread of its own, `crate::store`).
//!
//! At most [`BlockingSqlite::PLACES`] operations are on the blocking pool at
//! once; the others wait for a place before they go there, not on the pool:
//! a burst of `hello`s otherwise made the pool start a thread for each one,
//! only to park it on the connection's lock (hundreds of threads, each with
//! its stack and its allocator cache, kept for seconds and costing resident
//! memory long after).

use std::future::Future;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

/// Why an operation did not run; each store words it in its own error.
#[derive(Debug, thiserror::Error)]
pub enum BlockingError {
    #[error("closed: {0}")]
    Closed(#[from] tokio::sync::AcquireError),
    #[error("task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A connection and the places on the blocking pool its operations take.
#[derive(Debug, Clone)]
pub struct BlockingSqlite {
    conn: Arc<Mutex<Connection>>,
    places: Arc<Semaphore>,
}

impl BlockingSqlite {
    /// Operations of one connection on the blocking pool at once: more
    /// would only wait on the connection's lock there.
    pub const PLACES: usize = 4;

    pub fn new(conn: Connection) -> Self {
        BlockingSqlite {
            conn: Arc::new(Mutex::new(conn)),
            places: Arc::new(Semaphore::new(Self::PLACES)),
        }
    }

    /// Runs `f` with the connection on the blocking pool, once it has a
    /// place there.
    pub fn run<T, E, F>(&self, f: F) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        T: Send + 'static,
        E: From<BlockingError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let this = self.clone();
        async move {
            let place = this
                .places
                .acquire_owned()
                .await
                .map_err(BlockingError::from)?;
            let work = move || {
                let _place = place;
                f(&mut this.conn.lock().unwrap_or_else(|e| e.into_inner()))
            };
            tokio::task::spawn_blocking(work)
                .await
                .map_err(BlockingError::from)?
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Mutex as StdMutex;
    use std::sync::mpsc;

    use super::*;

    /// Operations queue for a place before the blocking pool. Were they to
    /// wait on the pool instead, every operation of a burst (a wave of
    /// `hello`s) would get a thread of its own, parked until the connection
    /// is free: hundreds of threads, each keeping its stack and its
    /// allocator cache resident.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_operations_does_not_get_a_thread_each() {
        const OPERATIONS: usize = 64;
        let db = BlockingSqlite::new(Connection::open_in_memory().expect("in memory"));
        // The first operation to run holds the connection until every
        // operation has been issued.
        let (go, wait) = mpsc::channel::<()>();
        let wait = Arc::new(StdMutex::new(Some(wait)));
        let threads = Arc::new(StdMutex::new(HashSet::new()));
        let operations = (0..OPERATIONS).map(|_| {
            let (wait, threads) = (wait.clone(), threads.clone());
            db.run(move |_| {
                threads
                    .lock()
                    .expect("threads")
                    .insert(std::thread::current().id());
                if let Some(wait) = wait.lock().expect("wait").take() {
                    let _ = wait.recv();
                }
                Ok::<(), BlockingError>(())
            })
        });
        let mut all = futures::future::join_all(operations);
        // Issue every operation: each is polled once.
        assert!(futures::poll!(&mut all).is_pending());
        go.send(()).expect("the first operation waits");
        for result in all.await {
            result.expect("ran");
        }
        let used = threads.lock().expect("threads").len();
        assert!(
            used < OPERATIONS / 2,
            "{used} blocking threads for {OPERATIONS} operations"
        );
    }
}

//! The write deadline without a clock read per frame: a write step that
//! completes at once (the common case: the frame fits in the write buffer)
//! costs no timer; one that has to wait gets the whole timeout from the
//! moment it first waited.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::Poll;
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// One timer shared by the steps of a write, made only when a step waits.
pub(super) struct Deadline {
    limit: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl Deadline {
    /// A deadline of `limit` per step. Its timer (an allocation and a clock
    /// read) is made only when a step has to wait.
    pub(super) fn new(limit: Duration) -> Deadline {
        Deadline { limit, timer: None }
    }

    /// Runs `step` to completion, or `None` if it waited `limit` without
    /// completing.
    pub(super) async fn within<T>(&mut self, step: impl Future<Output = T>) -> Option<T> {
        let mut step = pin!(step);
        let mut armed = false;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(v) = step.as_mut().poll(cx) {
                return Poll::Ready(Some(v));
            }
            let at = || Instant::now() + self.limit;
            let timer = match &mut self.timer {
                Some(timer) if armed => timer,
                Some(timer) => {
                    timer.as_mut().reset(at());
                    timer
                }
                None => self.timer.insert(Box::pin(tokio::time::sleep_until(at()))),
            };
            armed = true;
            match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_step_that_completes_at_once_needs_no_time() {
        let mut d = Deadline::new(Duration::from_millis(20));
        // Past the timer's original expiry: steps that never wait do not
        // run out of time.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(d.within(async { 7 }).await, Some(7));
    }

    #[tokio::test]
    async fn a_step_that_waits_completes_or_runs_out_of_time() {
        let mut d = Deadline::new(Duration::from_secs(30));
        let waits = async {
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            "done"
        };
        assert_eq!(d.within(waits).await, Some("done"));
        let mut d = Deadline::new(Duration::from_millis(20));
        assert_eq!(d.within(std::future::pending::<()>()).await, None);
    }
}

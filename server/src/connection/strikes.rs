//! Strikes: malformed frames are answered, but only so often. A connection
//! that sends more than `malformed_limit` of them within
//! `malformed_window` is closed with 1008 (policy violation), so garbage
//! costs the sender its connection instead of costing the server an answer
//! forever.

use super::exit::{Exit, too_many_malformed};
use crate::config::Config;
use crate::rate_limit::TokenBucket;

/// The strikes a connection has left.
#[derive(Debug)]
pub(super) struct Strikes(TokenBucket);

impl Strikes {
    pub fn new(config: &Config) -> Self {
        let limit = config.malformed_limit.max(1);
        let window = config.malformed_window.as_secs_f64().max(0.001);
        Strikes(TokenBucket::new(f64::from(limit) / window, limit))
    }

    /// Counts one malformed frame; `Err` once there were too many.
    pub fn strike(&mut self) -> Result<(), Exit> {
        if self.0.try_take() {
            Ok(())
        } else {
            tracing::debug!("too many malformed frames");
            Err(too_many_malformed())
        }
    }
}

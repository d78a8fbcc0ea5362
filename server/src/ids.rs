//! Fresh ids for things that must not be confused with their predecessors:
//! store epochs, the cluster's epoch, cluster instances.

use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh, practically unique id: the creation time in nanoseconds mixed
/// with the process id and a per-process counter, in hex.
pub fn new_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    let pid = u64::from(std::process::id());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", nanos ^ pid.rotate_left(40) ^ n.rotate_left(20))
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_fresh_and_fixed_width() {
        let a = super::new_id();
        let b = super::new_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()), "{a}");
    }
}

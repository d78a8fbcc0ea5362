//! The tag of a load run: chat-server keeps the names a run registers, so
//! each run's connections take names of their own (`c{index}-{tag}`).

/// A short tag of the run in progress (8 hex digits from the time it
/// started), so the names one run registers are not taken by the last one.
pub fn run_tag() -> String {
    format!("{:08x}", RUN_TAG.load(std::sync::atomic::Ordering::Relaxed))
}

static RUN_TAG: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Gives the run that starts now its tag.
pub fn new_run_tag() {
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tag = (nanos as u32) ^ std::process::id().rotate_left(16) ^ n.wrapping_mul(0x9E37_79B9);
    RUN_TAG.store(tag, std::sync::atomic::Ordering::Relaxed);
}

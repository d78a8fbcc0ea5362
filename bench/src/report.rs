//! The numbers of one run and how they are printed.

use std::fmt::Write;

use hdrhistogram::Histogram;

/// Latencies are recorded in microseconds, from 1 µs to this.
pub const MAX_LATENCY_US: u64 = 120_000_000;

/// An empty latency histogram (3 significant figures).
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("valid histogram bounds")
}

/// p50, p99, p99.9 and max of a histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Percentiles {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

impl Percentiles {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub mode: String,
    pub clients: usize,
    pub rooms: usize,
    pub senders: usize,
    pub slow: usize,
    /// Clients connected and joined.
    pub joined: usize,
    /// Seconds from the first connect to the last join.
    pub setup_secs: f64,
    /// Connect-to-welcome times (from the start of the TCP connect).
    pub connect: Percentiles,
    pub measured_secs: f64,
    /// Messages sent inside the measured window.
    pub sent: u64,
    /// Deliveries of those messages expected (room size each).
    pub expected: u64,
    /// Deliveries of those messages received.
    pub delivered: u64,
    /// The same per server (`--url`), in the order given.
    pub delivered_each: Vec<u64>,
    /// Sends skipped in rate mode because the window was full.
    pub skipped: u64,
    pub latency: Percentiles,
    pub acks: u64,
    pub errors: u64,
    /// The first few error descriptions.
    pub error_samples: Vec<String>,
    /// Server CPU time in the measured window, all instances together.
    pub server_cpu_secs: Option<f64>,
    /// The same per instance, in the order their pids were given.
    pub server_cpu_secs_each: Vec<f64>,
    /// Commands Redis ran in the measured window.
    pub redis: Option<crate::redis_stats::Counts>,
    pub server_rss_before_kib: Option<u64>,
    pub server_rss_loaded_kib: Option<u64>,
    pub server_hwm_kib: Option<u64>,
    pub bench_cpu_secs: Option<f64>,
}

impl Report {
    pub fn deliveries_per_sec(&self) -> f64 {
        if self.measured_secs > 0.0 {
            self.delivered as f64 / self.measured_secs
        } else {
            0.0
        }
    }

    pub fn lost(&self) -> u64 {
        self.expected.saturating_sub(self.delivered)
    }

    /// Lost deliveries as a fraction of the expected ones.
    pub fn loss(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            self.lost() as f64 / self.expected as f64
        }
    }

    /// Server resident memory added per connection while loaded, in bytes.
    pub fn rss_per_connection(&self) -> Option<f64> {
        let (before, loaded) = (self.server_rss_before_kib?, self.server_rss_loaded_kib?);
        let conns = (self.joined).max(1) as f64;
        Some((loaded.saturating_sub(before) * 1024) as f64 / conns)
    }

    /// Deliveries per second of server CPU time.
    pub fn deliveries_per_cpu_sec(&self) -> Option<f64> {
        let cpu = self.server_cpu_secs?;
        (cpu > 0.0).then(|| self.delivered as f64 / cpu)
    }

    /// Server CPU time per delivery, in microseconds, of each instance:
    /// its CPU time over the deliveries to its own clients (the pids given
    /// in the order of the `--url`s).
    pub fn cpu_us_per_delivery_each(&self) -> Vec<f64> {
        self.server_cpu_secs_each
            .iter()
            .zip(&self.delivered_each)
            .map(|(cpu, &n)| cpu * 1e6 / n.max(1) as f64)
            .collect()
    }

    /// Redis commands (those inside scripts included) and script calls per
    /// message sent.
    pub fn redis_per_message(&self) -> Option<(f64, f64)> {
        let r = self.redis?;
        let sent = self.sent.max(1) as f64;
        Some((r.commands as f64 / sent, r.scripts as f64 / sent))
    }

    /// `key=value` lines, one per figure, for scripts.
    pub fn to_kv(&self) -> String {
        let mut out = String::new();
        let mut kv = |k: &str, v: String| {
            let _ = writeln!(out, "{k}={v}");
        };
        kv("mode", self.mode.clone());
        kv("clients", self.clients.to_string());
        kv("rooms", self.rooms.to_string());
        kv("senders", self.senders.to_string());
        kv("slow", self.slow.to_string());
        kv("joined", self.joined.to_string());
        kv("setup_secs", format!("{:.3}", self.setup_secs));
        kv("connect_p50_us", self.connect.p50.to_string());
        kv("connect_p99_us", self.connect.p99.to_string());
        kv("connect_max_us", self.connect.max.to_string());
        kv("measured_secs", format!("{:.3}", self.measured_secs));
        kv("sent", self.sent.to_string());
        kv("expected", self.expected.to_string());
        kv("delivered", self.delivered.to_string());
        kv("lost", self.lost().to_string());
        kv("loss", format!("{:.6}", self.loss()));
        kv("skipped", self.skipped.to_string());
        kv(
            "deliveries_per_sec",
            format!("{:.0}", self.deliveries_per_sec()),
        );
        kv("latency_p50_us", self.latency.p50.to_string());
        kv("latency_p99_us", self.latency.p99.to_string());
        kv("latency_p999_us", self.latency.p999.to_string());
        kv("latency_max_us", self.latency.max.to_string());
        kv("acks", self.acks.to_string());
        kv("errors", self.errors.to_string());
        let opt = |v: Option<String>| v.unwrap_or_else(|| "NA".into());
        kv(
            "server_cpu_secs",
            opt(self.server_cpu_secs.map(|v| format!("{v:.2}"))),
        );
        kv(
            "deliveries_per_cpu_sec",
            opt(self.deliveries_per_cpu_sec().map(|v| format!("{v:.0}"))),
        );
        kv(
            "server_rss_before_kib",
            opt(self.server_rss_before_kib.map(|v| v.to_string())),
        );
        kv(
            "server_rss_loaded_kib",
            opt(self.server_rss_loaded_kib.map(|v| v.to_string())),
        );
        kv(
            "server_hwm_kib",
            opt(self.server_hwm_kib.map(|v| v.to_string())),
        );
        kv(
            "rss_per_connection_bytes",
            opt(self.rss_per_connection().map(|v| format!("{v:.0}"))),
        );
        kv(
            "bench_cpu_secs",
            opt(self.bench_cpu_secs.map(|v| format!("{v:.2}"))),
        );
        for (i, us) in self.cpu_us_per_delivery_each().iter().enumerate() {
            kv(
                &format!("server{}_cpu_us_per_delivery", i + 1),
                format!("{us:.3}"),
            );
        }
        let redis = self.redis_per_message();
        kv(
            "redis_commands_per_message",
            opt(redis.map(|(c, _)| format!("{c:.2}"))),
        );
        kv(
            "redis_scripts_per_message",
            opt(redis.map(|(_, s)| format!("{s:.3}"))),
        );
        out
    }

    /// A readable report.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} mode: {} clients in {} rooms, {} senders, {} slow consumers",
            self.mode, self.clients, self.rooms, self.senders, self.slow
        );
        let _ = writeln!(
            out,
            "setup:      {} joined in {:.2} s; connect p50 {} p99 {} max {}",
            self.joined,
            self.setup_secs,
            micros(self.connect.p50),
            micros(self.connect.p99),
            micros(self.connect.max)
        );
        if self.senders > 0 {
            let _ = writeln!(
                out,
                "throughput: {:.0} deliveries/s over {:.1} s ({} messages sent, {} deliveries)",
                self.deliveries_per_sec(),
                self.measured_secs,
                self.sent,
                self.delivered
            );
            let _ = writeln!(
                out,
                "loss:       {} of {} ({:.4}%), {} sends skipped (window full)",
                self.lost(),
                self.expected,
                self.loss() * 100.0,
                self.skipped
            );
            let _ = writeln!(
                out,
                "latency:    p50 {}  p99 {}  p99.9 {}  max {}  ({} samples)",
                micros(self.latency.p50),
                micros(self.latency.p99),
                micros(self.latency.p999),
                micros(self.latency.max),
                self.latency.count
            );
        }
        let _ = writeln!(out, "errors:     {} ({} acks seen)", self.errors, self.acks);
        for e in &self.error_samples {
            let _ = writeln!(out, "  - {e}");
        }
        if let Some(cpu) = self.server_cpu_secs {
            let _ = write!(out, "server:     {cpu:.2} CPU-s while measured");
            if let Some(per) = self.deliveries_per_cpu_sec() {
                let _ = write!(out, " ({per:.0} deliveries per CPU-s)");
            }
            let _ = writeln!(out);
        }
        if self.server_cpu_secs_each.len() > 1 {
            let each: Vec<String> = self
                .cpu_us_per_delivery_each()
                .iter()
                .map(|us| format!("{us:.2} us"))
                .collect();
            let _ = writeln!(out, "per instance: CPU per delivery {}", each.join(", "));
        }
        if let Some((commands, scripts)) = self.redis_per_message() {
            let _ = writeln!(
                out,
                "redis:      {commands:.2} commands and {scripts:.3} script calls per message"
            );
        }
        if let (Some(before), Some(loaded), Some(hwm)) = (
            self.server_rss_before_kib,
            self.server_rss_loaded_kib,
            self.server_hwm_kib,
        ) {
            let _ = writeln!(
                out,
                "server RSS: {before} KiB before, {loaded} KiB loaded, peak {hwm} KiB; {} per connection",
                bytes(self.rss_per_connection().unwrap_or(0.0))
            );
        }
        out
    }
}

/// A duration in microseconds, human-sized: `850 µs`, `1.25 ms`, `3.10 s`.
pub fn micros(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.2} ms", us as f64 / 1e3)
    } else {
        format!("{:.2} s", us as f64 / 1e6)
    }
}

/// A byte count, human-sized: `512 B`, `5.9 KB` (1 KB = 1,000 bytes).
pub fn bytes(b: f64) -> String {
    if b < 1_000.0 {
        format!("{b:.0} B")
    } else if b < 1_000_000.0 {
        format!("{:.1} KB", b / 1e3)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        let mut h = histogram();
        for v in 1..=1000u64 {
            h.record(v).unwrap();
        }
        let p = Percentiles::of(&h);
        assert_eq!(p.count, 1000);
        assert_eq!(p.p50, 500);
        assert_eq!(p.p99, 990);
        assert_eq!(p.p999, 999);
        assert_eq!(p.max, 1000);
        assert_eq!(Percentiles::of(&histogram()), Percentiles::default());
    }

    #[test]
    fn durations_and_sizes_are_formatted() {
        assert_eq!(micros(850), "850 µs");
        assert_eq!(micros(1_250), "1.25 ms");
        assert_eq!(micros(3_100_000), "3.10 s");
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(5_900.0), "5.9 KB");
        assert_eq!(bytes(2_500_000.0), "2.5 MB");
    }

    #[test]
    fn derived_figures() {
        let r = Report {
            measured_secs: 2.0,
            expected: 1000,
            delivered: 990,
            joined: 100,
            server_rss_before_kib: Some(1000),
            server_rss_loaded_kib: Some(1500),
            server_hwm_kib: Some(1600),
            server_cpu_secs: Some(0.5),
            ..Report::default()
        };
        assert_eq!(r.deliveries_per_sec(), 495.0);
        assert_eq!(r.lost(), 10);
        assert!((r.loss() - 0.01).abs() < 1e-12);
        assert_eq!(r.rss_per_connection(), Some(5120.0));
        assert_eq!(r.deliveries_per_cpu_sec(), Some(1980.0));
        let kv = r.to_kv();
        assert!(kv.contains("\ndeliveries_per_sec=495\n"), "{kv}");
        assert!(kv.contains("\nlost=10\n"), "{kv}");
        assert!(kv.contains("\nrss_per_connection_bytes=5120\n"), "{kv}");
        assert!(kv.contains("\nbench_cpu_secs=NA\n"), "{kv}");
        let text = r.to_text();
        assert!(text.contains("5.1 KB per connection"), "{text}");
    }

    #[test]
    fn nothing_expected_is_no_loss() {
        assert_eq!(Report::default().loss(), 0.0);
        assert_eq!(Report::default().deliveries_per_sec(), 0.0);
    }
}

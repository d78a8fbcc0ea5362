//! The load generator: connects the clients, drives the senders, measures
//! every delivery, and folds it all into a [`Report`].
//!
//! Every client is one task that owns its socket. Time is split into a
//! warm-up, a measured window and a drain: only messages whose send time
//! falls inside the measured window are counted (sent, expected, delivered,
//! latency), and senders stop at the end of the window so every counted
//! message has the drain to arrive. A sender treats its own copy of a
//! message (the echo) as the acknowledgement, for every server alike.
//!
//! `setup.rs` connects a client and joins its room; `drive.rs` is the
//! measured part: sending on schedule, reading, and counting deliveries.

mod drive;
mod setup;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use hdrhistogram::Histogram;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::args::{Mode, Plan};
use crate::report::{self, Percentiles, Report};
use drive::{drive, note_control};
use setup::connect_and_join;
pub use setup::room_name;

/// Error descriptions kept per client and per report.
const MAX_ERROR_SAMPLES: usize = 8;
/// Most messages a rate-mode sender sends in one go when it fell behind.
const MAX_CATCH_UP: u64 = 1_000;
/// Receive buffer of a slow consumer's socket, small so the server notices
/// quickly that it stopped reading.
const SLOW_RECV_BUFFER: u32 = 4 * 1024;
/// How long after the planned end the run may take to collect its clients.
const COLLECT_GRACE: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<TcpStream>;

/// When the phases begin, decided once every client is set up.
#[derive(Debug, Clone, Copy)]
struct Schedule {
    start: Instant,
    measure_end: Instant,
    end: Instant,
    measure_start_ns: u64,
    measure_end_ns: u64,
}

impl Schedule {
    fn measured(&self, send_ns: u64) -> bool {
        (self.measure_start_ns..self.measure_end_ns).contains(&send_ns)
    }
}

struct Shared {
    plan: Plan,
    base: Instant,
    schedule: watch::Receiver<Option<Schedule>>,
    setup: Semaphore,
}

impl Shared {
    fn ns(&self, t: Instant) -> u64 {
        u64::try_from(t.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// What one client measured.
#[derive(Debug, Default)]
struct ClientStats {
    sent: u64,
    delivered: u64,
    skipped: u64,
    acks: u64,
    errors: u64,
    error_samples: Vec<String>,
    latency: Option<Histogram<u64>>,
}

impl ClientStats {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.error_samples.len() < MAX_ERROR_SAMPLES {
            self.error_samples.push(what);
        }
    }
}

/// Outcome of one client's setup, sent to the coordinator.
struct Ready {
    connect_us: Option<u64>,
}

/// Runs the whole plan and reports.
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    crate::run_tag::new_run_tag();
    let total = plan.clients + plan.slow;
    // Every client is a socket; make room for them and some spare.
    let _ = rlimit::increase_nofile_limit(total as u64 * 2 + 256);

    let server_before = plan
        .first_server()
        .and_then(|pid| crate::procfs::sample(Some(pid)));
    let base = Instant::now();
    let (set_schedule, schedule) = watch::channel(None);
    let shared = Arc::new(Shared {
        setup: Semaphore::new(plan.connect_concurrency),
        plan,
        base,
        schedule,
    });
    let plan = &shared.plan;

    let (ready_tx, mut ready_rx) = mpsc::channel(1024);
    let mut tasks = Vec::with_capacity(total);
    for index in 0..total {
        let shared = shared.clone();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(client(shared, index, ready)));
    }
    drop(ready_tx);

    // Setup: wait (bounded) for every client to connect and join.
    let setup_deadline =
        base + plan.connect_timeout * (total / plan.connect_concurrency + 2) as u32;
    let mut connect = report::histogram();
    let mut joined = 0;
    let mut setup_failures = 0u64;
    for _ in 0..total {
        match timeout_at(setup_deadline, ready_rx.recv()).await {
            Ok(Some(Ready {
                connect_us: Some(us),
            })) => {
                joined += 1;
                let _ = connect.record(us.max(1));
            }
            Ok(Some(Ready { connect_us: None })) => setup_failures += 1,
            Ok(None) | Err(_) => break,
        }
    }
    let setup_secs = base.elapsed().as_secs_f64();

    let start = Instant::now() + Duration::from_millis(50);
    let measure_start = start + plan.warmup;
    let measure_end = measure_start + plan.duration;
    let end = measure_end
        + if plan.mode == Mode::Idle {
            Duration::ZERO
        } else {
            plan.drain
        };
    let schedule = Schedule {
        start,
        measure_end,
        end,
        measure_start_ns: shared.ns(measure_start),
        measure_end_ns: shared.ns(measure_end),
    };
    let _ = set_schedule.send(Some(schedule));

    sleep_until(measure_start).await;
    let servers_start = sample_servers(plan);
    let redis_start = sample_redis(plan).await;
    let bench_start = crate::procfs::sample(None);
    sleep_until(measure_end).await;
    let servers_end = sample_servers(plan);
    let redis_end = sample_redis(plan).await;
    let bench_end = crate::procfs::sample(None);

    let mut latency = report::histogram();
    let mut report = Report {
        mode: format!("{:?}", plan.mode).to_lowercase(),
        clients: plan.clients,
        rooms: plan.rooms,
        senders: plan.senders,
        slow: plan.slow,
        joined,
        setup_secs,
        connect: Percentiles::of(&connect),
        measured_secs: plan.duration.as_secs_f64(),
        errors: setup_failures,
        delivered_each: vec![0; plan.targets.len()],
        ..Report::default()
    };
    let sizes = plan.room_sizes();
    let collect_deadline = end + COLLECT_GRACE;
    for (index, task) in tasks.into_iter().enumerate() {
        let stats = match timeout_at(collect_deadline, task).await {
            Ok(Ok(stats)) => stats,
            Ok(Err(e)) => {
                report.errors += 1;
                report
                    .error_samples
                    .push(format!("client {index} failed: {e}"));
                continue;
            }
            Err(_) => {
                report.errors += 1;
                report
                    .error_samples
                    .push(format!("client {index} did not finish in time"));
                continue;
            }
        };
        report.sent += stats.sent;
        report.expected += stats.sent * sizes[plan.room_of(index)];
        report.delivered += stats.delivered;
        report.delivered_each[index % plan.targets.len()] += stats.delivered;
        report.skipped += stats.skipped;
        report.acks += stats.acks;
        report.errors += stats.errors;
        for e in stats.error_samples {
            if report.error_samples.len() < MAX_ERROR_SAMPLES {
                report.error_samples.push(format!("client {index}: {e}"));
            }
        }
        if let Some(h) = stats.latency {
            let _ = latency.add(&h);
        }
    }
    if setup_failures > 0 && report.error_samples.len() < MAX_ERROR_SAMPLES {
        report.error_samples.push(format!(
            "{setup_failures} clients failed to connect or join"
        ));
    }
    report.latency = Percentiles::of(&latency);
    let per_server: Option<Vec<_>> = servers_start
        .iter()
        .zip(&servers_end)
        .map(|(a, b)| Some((a.as_ref()?, b.as_ref()?)))
        .collect();
    if let Some(per_server) = per_server.filter(|p| !p.is_empty()) {
        let cpu: Vec<f64> = per_server
            .iter()
            .map(|(a, b)| b.cpu_secs - a.cpu_secs)
            .collect();
        report.server_cpu_secs = Some(cpu.iter().sum());
        report.server_cpu_secs_each = cpu;
        let (a, b) = per_server[0];
        report.server_rss_loaded_kib = Some(a.rss_kib.max(b.rss_kib));
        report.server_hwm_kib = Some(b.hwm_kib);
    }
    if let (Some(a), Some(b)) = (redis_start, redis_end) {
        report.redis = Some(a.since(b));
    }
    report.server_rss_before_kib = server_before.map(|s| s.rss_kib);
    if let (Some(a), Some(b)) = (bench_start, bench_end) {
        report.bench_cpu_secs = Some(b.cpu_secs - a.cpu_secs);
    }
    Ok(report)
}

/// Every server process, in the order given (`None` for one that is gone).
fn sample_servers(plan: &Plan) -> Vec<Option<crate::procfs::Sample>> {
    plan.server_pid
        .iter()
        .map(|&pid| crate::procfs::sample(Some(pid)))
        .collect()
}

async fn sample_redis(plan: &Plan) -> Option<crate::redis_stats::Counts> {
    crate::redis_stats::sample(plan.redis?).await
}

/// One client from connect to the end of the run.
async fn client(shared: Arc<Shared>, index: usize, ready: mpsc::Sender<Ready>) -> ClientStats {
    let plan = &shared.plan;
    let slow = index >= plan.clients;
    let mut stats = ClientStats::default();
    let setup = async {
        let _permit = shared
            .setup
            .acquire()
            .await
            .map_err(|_| "setup closed".to_string())?;
        let started = Instant::now();
        let deadline = Instant::now() + plan.connect_timeout;
        let (ws, connected) = timeout_at(deadline, connect_and_join(plan, index, slow))
            .await
            .map_err(|_| "connect and join timed out".to_string())??;
        Ok::<_, String>((ws, connected.duration_since(started)))
    };
    let mut ws = match setup.await {
        Ok((ws, connected)) => {
            let us = connected.as_micros();
            let _ = ready
                .send(Ready {
                    connect_us: Some(u64::try_from(us).unwrap_or(u64::MAX)),
                })
                .await;
            ws
        }
        Err(e) => {
            stats.error(e);
            let _ = ready.send(Ready { connect_us: None }).await;
            return stats;
        }
    };
    drop(ready);

    // Until the schedule is set, keep reading so that presence events from
    // later joiners do not pile up in the server's queue for us.
    let mut schedule_rx = shared.schedule.clone();
    let wait_deadline = Instant::now()
        + plan.connect_timeout
            * (1 + (plan.clients + plan.slow) / plan.connect_concurrency + 2) as u32;
    let schedule = loop {
        if let Some(s) = *schedule_rx.borrow_and_update() {
            break s;
        }
        tokio::select! {
            changed = schedule_rx.changed() => if changed.is_err() { return stats },
            msg = ws.next(), if !slow => {
                if !matches!(msg, Some(Ok(_))) {
                    stats.error("connection ended before the run started".into());
                    return stats;
                }
                if let Some(Ok(Message::Text(t))) = msg {
                    note_control(&mut stats, &t);
                }
            }
            () = sleep_until(wait_deadline) => {
                stats.error("no schedule in time".into());
                return stats;
            }
        }
    };

    if slow {
        // Joined, and now never reads again.
        sleep_until(schedule.end).await;
        return stats;
    }
    drive(&shared, index, &mut ws, schedule, &mut stats).await;
    stats
}

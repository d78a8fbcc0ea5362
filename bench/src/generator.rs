//! The load generator: connects the clients, drives the senders, measures
//! every delivery, and folds it all into a [`Report`].
//!
//! Every client is one task that owns its socket. Time is split into a
//! warm-up, a measured window and a drain: only messages whose send time
//! falls inside the measured window are counted (sent, expected, delivered,
//! latency), and senders stop at the end of the window so every counted
//! message has the drain to arrive. A sender treats its own copy of a
//! message (the echo) as the acknowledgement, for every server alike.

use std::sync::Arc;
use std::time::Duration;

use futures::future::Either;
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use protocol::{ClientEvent, PROTOCOL_VERSION};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout_at};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::args::{Mode, Plan};
use crate::report::{self, Percentiles, Report};
use crate::stamp::{self, Frame, Stamp};

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
        .server_pid
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
    let server_start = plan
        .server_pid
        .and_then(|pid| crate::procfs::sample(Some(pid)));
    let bench_start = crate::procfs::sample(None);
    sleep_until(measure_end).await;
    let server_end = plan
        .server_pid
        .and_then(|pid| crate::procfs::sample(Some(pid)));
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
    if let (Some(a), Some(b)) = (server_start, server_end) {
        report.server_cpu_secs = Some(b.cpu_secs - a.cpu_secs);
        report.server_rss_loaded_kib = Some(a.rss_kib.max(b.rss_kib));
        report.server_hwm_kib = Some(b.hwm_kib);
    }
    report.server_rss_before_kib = server_before.map(|s| s.rss_kib);
    if let (Some(a), Some(b)) = (bench_start, bench_end) {
        report.bench_cpu_secs = Some(b.cpu_secs - a.cpu_secs);
    }
    Ok(report)
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

async fn connect_and_join(plan: &Plan, index: usize, slow: bool) -> Result<(Ws, Instant), String> {
    let (url, addr) = &plan.targets[index % plan.targets.len()];
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("socket: {e}"))?;
    if slow {
        socket
            .set_recv_buffer_size(SLOW_RECV_BUFFER)
            .map_err(|e| format!("SO_RCVBUF: {e}"))?;
    }
    let stream = socket
        .connect(*addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("nodelay: {e}"))?;
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config))
            .await
            .map_err(|e| format!("handshake: {e}"))?;

    // Every connection registers a name of its own; the run's tag keeps
    // them apart from an earlier run's on a server that remembers names.
    let hello = ClientEvent::Hello {
        protocol: PROTOCOL_VERSION,
        name: Some(format!("c{index}-{}", crate::run_tag::run_tag())),
        credential: None,
        link_code: None,
        device: Some("chat-bench".into()),
        client: Some(concat!("chat-bench/", env!("CARGO_PKG_VERSION")).into()),
    };
    send(&mut ws, &hello).await?;
    expect(&mut ws, Frame::Welcome, "welcome").await?;
    let connected = Instant::now();
    let join = ClientEvent::Join {
        id: "j".into(),
        room: room_name(plan.room_of(index)),
        since: None,
        epoch: None,
    };
    send(&mut ws, &join).await?;
    expect(&mut ws, Frame::RoomState, "room_state").await?;
    Ok((ws, connected))
}

/// The name of room `r`.
pub fn room_name(r: usize) -> String {
    format!("bench-{r}")
}

async fn send(ws: &mut Ws, event: &ClientEvent) -> Result<(), String> {
    ws.send(Message::text(protocol::encode(event)))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// Reads until a frame of kind `want`; an error or failed ack ends setup.
/// Bounded by the caller's timeout.
async fn expect(ws: &mut Ws, want: Frame<'static>, what: &str) -> Result<(), String> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                let kind = stamp::classify(&t);
                if kind == want {
                    return Ok(());
                }
                if matches!(kind, Frame::Error | Frame::Ack { ok: false }) {
                    return Err(format!("waiting for {what}: {}", t.as_str()));
                }
            }
            Some(Ok(Message::Close(c))) => return Err(format!("closed waiting for {what}: {c:?}")),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(format!("waiting for {what}: {e}")),
            None => return Err(format!("closed waiting for {what}")),
        }
    }
}

/// Counts acks and errors in a frame that is not a message.
fn note_control(stats: &mut ClientStats, text: &str) {
    match stamp::classify(text) {
        Frame::Ack { ok } => {
            stats.acks += 1;
            if !ok {
                stats.error(format!("failed ack: {}", truncate(text)));
            }
        }
        Frame::Error => stats.error(format!("error: {}", truncate(text))),
        _ => {}
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(200) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The measured part of a reading (and maybe sending) client.
async fn drive(
    shared: &Shared,
    index: usize,
    ws: &mut Ws,
    schedule: Schedule,
    stats: &mut ClientStats,
) {
    let plan = &shared.plan;
    let sender = index < plan.senders;
    let ack_mode = plan.mode == Mode::Ack;
    let me = u32::try_from(index).unwrap_or(u32::MAX);
    let room = room_name(plan.room_of(index));
    let period = Duration::from_secs_f64(1.0 / plan.rate);
    // Rate-mode senders are spread evenly over one period instead of all
    // sending at the same instant.
    let first = schedule.start + period.mul_f64(index as f64 / plan.senders.max(1) as f64);
    let mut in_flight = 0usize;
    let mut scheduled = 0u64; // rate mode: messages due so far
    let mut next_id = 0u64;
    let end = sleep_until(schedule.end);
    tokio::pin!(end);

    loop {
        let now = Instant::now();
        let may_send = sender && now < schedule.measure_end && now >= schedule.start;
        let can_send = may_send && (!ack_mode || in_flight < plan.window);
        let send_at = if ack_mode || !can_send {
            Either::Left(std::future::ready(()))
        } else {
            Either::Right(sleep_until(first + period.mul_f64(scheduled as f64)))
        };
        let sleep_start = if sender && now < schedule.start {
            Either::Left(sleep_until(schedule.start))
        } else {
            Either::Right(std::future::pending())
        };
        tokio::select! {
            biased;
            () = &mut end => break,
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let kind = stamp::classify(&t);
                    if let Frame::Message(Some(text)) = kind {
                        if let Some(s) = stamp::decode(text) {
                            on_delivery(shared, &schedule, stats, me, &mut in_flight, s);
                        }
                    } else {
                        note_control(stats, &t);
                    }
                }
                Some(Ok(Message::Close(c))) => {
                    stats.error(format!("closed by the server: {c:?}"));
                    break;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    stats.error(format!("read: {e}"));
                    break;
                }
                None => {
                    stats.error("connection ended".into());
                    break;
                }
            },
            () = send_at, if can_send => {
                let result = if ack_mode {
                    let n = plan.window - in_flight;
                    let now_ns = shared.ns(Instant::now());
                    let mut r = Ok(());
                    for _ in 0..n {
                        r = feed(ws, &room, &mut next_id, Stamp { send_ns: now_ns, sender: me }, plan.size).await;
                        if r.is_err() { break; }
                        in_flight += 1;
                        if schedule.measured(now_ns) { stats.sent += 1; }
                    }
                    r
                } else {
                    let elapsed = Instant::now().saturating_duration_since(first);
                    let due_now = (elapsed.as_secs_f64() * plan.rate) as u64 + 1;
                    let until = due_now.min(scheduled + MAX_CATCH_UP);
                    let mut r = Ok(());
                    // Stamped with the real send time: the timer's
                    // millisecond granularity is the generator's, not the
                    // server's, latency.
                    let send_ns = shared.ns(Instant::now());
                    let measured = schedule.measured(send_ns);
                    while scheduled < until && r.is_ok() {
                        let at = first + period.mul_f64(scheduled as f64);
                        scheduled += 1;
                        if at >= schedule.measure_end {
                            break;
                        }
                        if in_flight >= plan.window {
                            if measured {
                                stats.skipped += 1;
                            }
                            continue;
                        }
                        r = feed(ws, &room, &mut next_id, Stamp { send_ns, sender: me }, plan.size).await;
                        in_flight += 1;
                        if measured {
                            stats.sent += 1;
                        }
                    }
                    r
                };
                let result = match result {
                    Ok(()) => ws.flush().await.map_err(|e| format!("flush: {e}")),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    stats.error(e);
                    break;
                }
            }
            () = sleep_start => {}
        }
    }
}

fn on_delivery(
    shared: &Shared,
    schedule: &Schedule,
    stats: &mut ClientStats,
    me: u32,
    in_flight: &mut usize,
    s: Stamp,
) {
    if s.sender == me {
        *in_flight = in_flight.saturating_sub(1);
    }
    if !schedule.measured(s.send_ns) {
        return;
    }
    stats.delivered += 1;
    let now_ns = shared.ns(Instant::now());
    let us = (now_ns.saturating_sub(s.send_ns) / 1_000).clamp(1, report::MAX_LATENCY_US);
    let h = stats.latency.get_or_insert_with(report::histogram);
    let _ = h.record(us);
}

async fn feed(
    ws: &mut Ws,
    room: &str,
    next_id: &mut u64,
    stamp: Stamp,
    size: usize,
) -> Result<(), String> {
    *next_id += 1;
    let event = ClientEvent::Send {
        id: format!("{}-{next_id}", run_id()),
        room: room.to_owned(),
        text: stamp::encode(stamp, size),
        action: false,
    };
    ws.feed(Message::text(protocol::encode(&event)))
        .await
        .map_err(|e| format!("send: {e}"))
}

/// A prefix that makes request ids unique to this run: the server treats a
/// repeated (name, id) as a resend and would not deliver it again.
fn run_id() -> &'static str {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    RUN.get_or_init(|| {
        let micros = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default();
        format!("{:x}{:x}", std::process::id(), micros)
    })
}

//! The measured part of a client: sending on the plan's schedule (as fast
//! as acks allow, or at a fixed rate), reading every frame, and counting
//! each delivery whose send time falls in the measured window.

use std::time::Duration;

use futures::future::Either;
use futures::{SinkExt, StreamExt};
use protocol::ClientEvent;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::tungstenite::Message;

use super::setup::room_name;
use super::{ClientStats, MAX_CATCH_UP, Schedule, Shared, Ws};
use crate::args::Mode;
use crate::report;
use crate::stamp::{self, Frame, Stamp};

/// Counts acks and errors in a frame that is not a message.
pub(super) fn note_control(stats: &mut ClientStats, text: &str) {
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
pub(super) async fn drive(
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
        text: stamp::encode(stamp, *next_id, size),
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

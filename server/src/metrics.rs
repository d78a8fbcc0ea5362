//! Metrics for operators, in Prometheus' text format on a listener of
//! their own (`--metrics-listen`), never on the chat's public port.
//!
//! The code that decides or counts something says so through the small
//! functions here (one line at each place), which record through the
//! `metrics` facade. Until [`install`] is called they cost one atomic load
//! each and record nothing, which is what the library's tests and embedders
//! get; `chat-server --metrics-listen` installs the Prometheus recorder.
//! The names are constants, so the exporter's histogram buckets, the
//! `# HELP` lines and the tests name the same series.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const CONNECTIONS_OPEN: &str = "chat_connections_open";
pub const CONNECTIONS_OPENED: &str = "chat_connections_opened_total";
pub const CONNECTIONS_REFUSED: &str = "chat_connections_refused_total";
pub const ROOMS: &str = "chat_rooms";
pub const JOINS: &str = "chat_joins_total";
pub const MESSAGES_IN: &str = "chat_messages_in_total";
pub const DELIVERIES: &str = "chat_deliveries_total";
pub const BYTES_OUT: &str = "chat_bytes_out_total";
pub const SLOW_CONSUMERS: &str = "chat_slow_consumer_disconnects_total";
pub const RATE_LIMITED: &str = "chat_rate_limited_total";
pub const MODERATION_REFUSED: &str = "chat_moderation_refused_total";
pub const STORE_COMMIT: &str = "chat_store_commit_seconds";
pub const REDIS_UP: &str = "chat_redis_up";
pub const REDIS_RTT: &str = "chat_redis_rtt_seconds";

/// Why a connection was refused (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A browser page from an origin that is not allowed.
    Origin,
    /// The server is shutting down.
    ShuttingDown,
    /// No valid `hello` (timeout, wrong protocol version, gone before it).
    Handshake,
    /// The server has as many connections as it allows.
    ServerFull,
    /// Too many connections from one address at once.
    PerAddress,
    /// New connections from one address coming too fast.
    PerAddressRate,
}

impl From<crate::front::Refusal> for Refused {
    fn from(refusal: crate::front::Refusal) -> Self {
        use crate::front::Refusal;
        match refusal {
            Refusal::Full => Refused::ServerFull,
            Refusal::TooManyFromAddress => Refused::PerAddress,
            Refusal::TooFastFromAddress => Refused::PerAddressRate,
        }
    }
}

impl Refused {
    fn label(self) -> &'static str {
        match self {
            Refused::Origin => "origin",
            Refused::ShuttingDown => "shutting_down",
            Refused::Handshake => "handshake",
            Refused::ServerFull => "server_full",
            Refused::PerAddress => "per_address",
            Refused::PerAddressRate => "per_address_rate",
        }
    }
}

/// Counts an open WebSocket connection while it lives.
#[derive(Debug)]
pub struct OpenConnection(());

impl OpenConnection {
    pub fn new() -> Self {
        counter!(CONNECTIONS_OPENED).increment(1);
        gauge!(CONNECTIONS_OPEN).increment(1.0);
        OpenConnection(())
    }
}

impl Default for OpenConnection {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        gauge!(CONNECTIONS_OPEN).decrement(1.0);
    }
}

pub fn refused(reason: Refused) {
    counter!(CONNECTIONS_REFUSED, "reason" => reason.label()).increment(1);
}

/// Rooms running on this instance, after one started or retired.
pub fn rooms(running: usize) {
    gauge!(ROOMS).set(running as f64);
}

pub fn joined() {
    counter!(JOINS).increment(1);
}

/// A message (text, `/me` or location) a room received from a member.
pub fn message_in() {
    counter!(MESSAGES_IN).increment(1);
}

/// Room events (messages, joins, leaves) handed to `members` queues.
pub fn delivered(members: u64) {
    if members > 0 {
        counter!(DELIVERIES).increment(members);
    }
}

/// Bytes of frames written to a client's socket.
pub fn bytes_out(bytes: usize) {
    counter!(BYTES_OUT).increment(bytes as u64);
}

pub fn slow_consumer() {
    counter!(SLOW_CONSUMERS).increment(1);
}

pub fn rate_limited() {
    counter!(RATE_LIMITED).increment(1);
}

/// A post refused by a room's moderation (muted, filtered, flooding, ...),
/// by its error code.
pub fn moderation_refused(code: &'static str) {
    counter!(MODERATION_REFUSED, "code" => code).increment(1);
}

/// How long one group commit of the history store took.
pub fn store_commit(took: Duration) {
    histogram!(STORE_COMMIT).record(took.as_secs_f64());
}

/// Cluster mode: whether Redis answers.
pub fn redis_up(up: bool) {
    gauge!(REDIS_UP).set(if up { 1.0 } else { 0.0 });
}

/// Cluster mode: one round trip to Redis (the liveness refresh).
pub fn redis_rtt(took: Duration) {
    histogram!(REDIS_RTT).record(took.as_secs_f64());
}

/// Why metrics could not be turned on.
#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot set up the metrics recorder: {0}")]
    Recorder(String),
    #[error("cannot listen for metrics on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder for this process (once; later calls
/// return the same handle).
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    // Commits take milliseconds (an fsync); Redis round trips well under.
    let seconds = [
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(STORE_COMMIT.into()), &seconds)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Full(REDIS_RTT.into()), &seconds))
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| MetricsError::Recorder(e.to_string()))?;
    describe();
    start_at_zero();
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// Every series of a single server from the first scrape on, so rates
/// and alerts need not wait for the first event.
fn start_at_zero() {
    for name in [
        CONNECTIONS_OPENED,
        JOINS,
        MESSAGES_IN,
        DELIVERIES,
        BYTES_OUT,
        SLOW_CONSUMERS,
        RATE_LIMITED,
    ] {
        counter!(name).absolute(0);
    }
    for reason in [
        Refused::Origin,
        Refused::ShuttingDown,
        Refused::Handshake,
        Refused::ServerFull,
        Refused::PerAddress,
        Refused::PerAddressRate,
    ] {
        counter!(CONNECTIONS_REFUSED, "reason" => reason.label()).absolute(0);
    }
    gauge!(CONNECTIONS_OPEN).set(0.0);
    gauge!(ROOMS).set(0.0);
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(CONNECTIONS_OPEN, "WebSocket connections open now");
    describe_counter!(CONNECTIONS_OPENED, "WebSocket connections opened");
    describe_counter!(CONNECTIONS_REFUSED, "connections refused, by reason");
    describe_gauge!(ROOMS, "rooms running on this instance");
    describe_counter!(JOINS, "joins accepted");
    describe_counter!(MESSAGES_IN, "messages received by rooms");
    describe_counter!(DELIVERIES, "room events queued to members");
    describe_counter!(BYTES_OUT, "bytes of frames written to clients");
    describe_counter!(SLOW_CONSUMERS, "clients disconnected for not reading");
    describe_counter!(RATE_LIMITED, "requests refused by the rate limit");
    describe_counter!(
        MODERATION_REFUSED,
        "posts refused by moderation (mute, filter, flood, ...), by code"
    );
    describe_histogram!(
        STORE_COMMIT,
        metrics::Unit::Seconds,
        "history store group commits"
    );
    describe_gauge!(REDIS_UP, "1 while Redis answers (cluster mode)");
    describe_histogram!(
        REDIS_RTT,
        metrics::Unit::Seconds,
        "Redis round trips (cluster mode)"
    );
}

/// Reads `--metrics-listen`: `ADDR:PORT`, or a bare `PORT` on loopback.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        format!("{text:?} is neither a port (9300) nor an address with a port (127.0.0.1:9300)")
    })
}

/// Binds the metrics listener.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, MetricsError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| MetricsError::Listen { addr, source })
}

/// Serves `GET /metrics` on `listener` until `stop` is cancelled, and keeps
/// the recorder's histograms drained meanwhile.
pub async fn serve(listener: TcpListener, handle: PrometheusHandle, stop: CancellationToken) {
    let upkeep = {
        let handle = handle.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = tick.tick() => handle.run_upkeep(),
                    () = stop.cancelled() => return,
                }
            }
        })
    };
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    );
    let stopped = stop.clone();
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stopped.cancelled().await })
        .await
    {
        tracing::error!(error = %e, "metrics listener failed");
    }
    upkeep.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_port_means_loopback() {
        assert_eq!(parse_listen("9300"), Ok("127.0.0.1:9300".parse().unwrap()));
        assert_eq!(
            parse_listen("[::1]:9300"),
            Ok("[::1]:9300".parse().unwrap())
        );
        assert_eq!(
            parse_listen("0.0.0.0:9300"),
            Ok("0.0.0.0:9300".parse().unwrap())
        );
        assert!(
            parse_listen("localhost")
                .unwrap_err()
                .contains("neither a port")
        );
        assert!(parse_listen("99999").is_err());
    }
}

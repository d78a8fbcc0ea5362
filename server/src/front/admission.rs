//! Admission: whether a new connection may be served at all, counted before
//! a single byte of it is read.
//!
//! Three limits, each answered (never a silent drop) and counted:
//! the total of open connections (so the server keeps file descriptors for
//! its store and for the people already connected), the open connections
//! per client address, and the rate of new connections per client address.
//!
//! Nothing here knows about HTTP: a listener asks [`Admission::admit`] for
//! every accepted transport connection and keeps the [`Permit`] as long as
//! the connection lives. Connections from a trusted reverse proxy count
//! against the total only; the client behind the proxy is counted with
//! [`Admission::admit_forwarded`] once the listener knows its address
//! (for HTTP, from the request's forwarding headers). An ssh listener can
//! share the same `Admission` and so the same limits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ipnet::IpNet;

use crate::rate_limit::TokenBucket;

/// The limits, as configured.
#[derive(Debug, Clone)]
pub struct AdmissionConfig {
    /// Connections open at once, from everyone.
    pub max_connections: usize,
    /// Connections open at once from one client address (an IPv6 client
    /// counts by its /64 network); 0 turns the limit off.
    pub max_per_address: usize,
    /// New connections per second from one client address, sustained, and
    /// in a burst; a rate of 0 turns the limit off.
    pub rate_per_address: f64,
    pub burst_per_address: u32,
    /// Reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Refusals are logged at most once per this interval (summed up).
    pub log_interval: Duration,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        AdmissionConfig {
            max_connections: default_max_connections(),
            max_per_address: 64,
            rate_per_address: 10.0,
            burst_per_address: 50,
            trusted_proxies: Vec::new(),
            log_interval: Duration::from_secs(10),
        }
    }
}

/// What the open-file limit of this process leaves for connections: the
/// soft `RLIMIT_NOFILE` less a tenth of it (at least 64) for the store, the
/// logs, the runtime and the refusals being answered.
pub fn default_max_connections() -> usize {
    let soft = open_file_limit();
    let headroom = (soft / 10).max(64);
    usize::try_from(soft.saturating_sub(headroom))
        .unwrap_or(usize::MAX)
        .max(1)
}

#[cfg(unix)]
fn open_file_limit() -> u64 {
    match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok((soft, _)) if soft != rlimit::INFINITY => soft,
        Ok(_) => 1 << 20,
        Err(_) => 1024,
    }
}

#[cfg(not(unix))]
fn open_file_limit() -> u64 {
    8192
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the server has as many connections as it allows")]
    Full,
    #[error("too many connections from this address")]
    TooManyFromAddress,
    #[error("new connections from this address are coming too fast")]
    TooFastFromAddress,
}

/// The client address connections are counted by: an IPv4 address, or the
/// /64 network of an IPv6 address (one subscriber usually has a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AddressKey {
    V4(u32),
    V6Net(u64),
}

impl AddressKey {
    fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => AddressKey::V4(v4.into()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressKey::V4(v4.into()),
                None => AddressKey::V6Net((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

#[derive(Debug)]
struct AddressEntry {
    open: usize,
    /// New connections from this address.
    arrivals: TokenBucket,
}

#[derive(Debug, Default)]
struct Book {
    total: usize,
    by_address: HashMap<AddressKey, AddressEntry>,
    admitted_since_sweep: u32,
}

/// Admits connections and keeps count of the open ones. Shared by every
/// listener of the server.
#[derive(Debug)]
pub struct Admission {
    config: AdmissionConfig,
    book: Mutex<Book>,
    refusals: RefusalLog,
}

/// Addresses forgotten once idle and refilled are swept this often (in
/// admissions), so the table stays as small as the recent clients.
const SWEEP_EVERY: u32 = 1024;

impl Admission {
    pub fn new(config: AdmissionConfig) -> Arc<Self> {
        let refusals = RefusalLog::new(config.log_interval);
        Arc::new(Admission {
            config,
            book: Mutex::new(Book::default()),
            refusals,
        })
    }

    pub fn config(&self) -> &AdmissionConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, Book> {
        // Every critical section is a few counter updates: never half-done.
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `peer` is a reverse proxy whose forwarding headers count.
    pub fn is_trusted_proxy(&self, peer: IpAddr) -> bool {
        let peer = canonical(peer);
        self.config
            .trusted_proxies
            .iter()
            .any(|net| net.contains(&peer))
    }

    /// A new transport connection from `peer`: counted against the total
    /// and, unless `peer` is a trusted proxy, against its address.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Permit, Refusal> {
        let by_address = !self.is_trusted_proxy(peer);
        self.take(peer, true, by_address)
    }

    /// A client a trusted proxy forwarded, known once its request was read:
    /// counted against its own address (its proxy's connection already
    /// counts against the total).
    pub fn admit_forwarded(self: &Arc<Self>, client: IpAddr) -> Result<Permit, Refusal> {
        self.take(client, false, true)
    }

    fn take(
        self: &Arc<Self>,
        ip: IpAddr,
        total: bool,
        by_address: bool,
    ) -> Result<Permit, Refusal> {
        let key = AddressKey::of(ip);
        let result = {
            let mut book = self.lock();
            self.check(&mut book, key, total, by_address)
        };
        match result {
            Ok(()) => Ok(Permit {
                admission: self.clone(),
                total,
                address: by_address.then_some(key),
            }),
            Err(refusal) => {
                self.refusals.record(refusal, ip);
                Err(refusal)
            }
        }
    }

    fn check(
        &self,
        book: &mut Book,
        key: AddressKey,
        total: bool,
        by_address: bool,
    ) -> Result<(), Refusal> {
        if total && book.total >= self.config.max_connections {
            return Err(Refusal::Full);
        }
        if by_address {
            let config = &self.config;
            let entry = book.by_address.entry(key).or_insert_with(|| AddressEntry {
                open: 0,
                arrivals: TokenBucket::new(config.rate_per_address, config.burst_per_address),
            });
            if config.max_per_address > 0 && entry.open >= config.max_per_address {
                return Err(Refusal::TooManyFromAddress);
            }
            if !entry.arrivals.try_take() {
                return Err(Refusal::TooFastFromAddress);
            }
            entry.open += 1;
        }
        if total {
            book.total += 1;
        }
        book.admitted_since_sweep += 1;
        if book.admitted_since_sweep >= SWEEP_EVERY {
            book.admitted_since_sweep = 0;
            let now = Instant::now();
            book.by_address
                .retain(|_, e| e.open > 0 || !e.arrivals.is_full_at(now));
        }
        Ok(())
    }

    fn release(&self, total: bool, address: Option<AddressKey>) {
        let mut book = self.lock();
        if total {
            book.total = book.total.saturating_sub(1);
        }
        if let Some(key) = address
            && let Some(entry) = book.by_address.get_mut(&key)
        {
            entry.open = entry.open.saturating_sub(1);
        }
    }

    /// Connections open now (each counted once).
    pub fn open(&self) -> usize {
        self.lock().total
    }

    /// Connections refused since the server started.
    pub fn refused(&self) -> u64 {
        self.refusals.total.load(Ordering::Relaxed)
    }
}

/// The IPv4 address inside an IPv4-mapped IPv6 address, so that proxies
/// listed as IPv4 match on a dual-stack listener.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One admitted connection; dropping it gives its place back.
#[derive(Debug)]
pub struct Permit {
    admission: Arc<Admission>,
    total: bool,
    address: Option<AddressKey>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.admission.release(self.total, self.address);
    }
}

/// Counts refusals and logs them at most once per interval: the first of
/// an interval with its address, the others as a sum with the next line.
#[derive(Debug)]
struct RefusalLog {
    interval: Duration,
    total: AtomicU64,
    window: Mutex<Window>,
}

#[derive(Debug, Default)]
struct Window {
    started: Option<Instant>,
    /// Refused in this window after the one that was logged, by reason.
    full: u64,
    too_many: u64,
    too_fast: u64,
}

impl RefusalLog {
    fn new(interval: Duration) -> Self {
        RefusalLog {
            interval,
            total: AtomicU64::new(0),
            window: Mutex::new(Window::default()),
        }
    }

    fn record(&self, refusal: Refusal, ip: IpAddr) {
        self.total.fetch_add(1, Ordering::Relaxed);
        crate::metrics::refused(refusal.into());
        let mut w = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if w.started
            .is_some_and(|s| now.duration_since(s) < self.interval)
        {
            match refusal {
                Refusal::Full => w.full += 1,
                Refusal::TooManyFromAddress => w.too_many += 1,
                Refusal::TooFastFromAddress => w.too_fast += 1,
            }
            return;
        }
        let (full, too_many, too_fast) = (w.full, w.too_many, w.too_fast);
        *w = Window {
            started: Some(now),
            ..Window::default()
        };
        drop(w);
        tracing::warn!(
            address = %ip,
            reason = %refusal,
            earlier_full = full,
            earlier_too_many_from_address = too_many,
            earlier_too_fast_from_address = too_fast,
            "connection refused (refusals are logged at most every {:?})",
            self.interval
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(max: usize, per_address: usize, rate: f64, burst: u32) -> Arc<Admission> {
        Admission::new(AdmissionConfig {
            max_connections: max,
            max_per_address: per_address,
            rate_per_address: rate,
            burst_per_address: burst,
            trusted_proxies: vec!["10.0.0.1/32".parse().expect("net")],
            log_interval: Duration::from_secs(60),
        })
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn the_total_is_capped_and_given_back() {
        let a = admission(2, 0, 0.0, 0);
        let one = a.admit(ip("192.0.2.1")).expect("first");
        let _two = a.admit(ip("192.0.2.2")).expect("second");
        assert_eq!(a.admit(ip("192.0.2.3")).unwrap_err(), Refusal::Full);
        drop(one);
        assert_eq!(a.open(), 1);
        assert!(a.admit(ip("192.0.2.3")).is_ok());
        assert_eq!(a.refused(), 1);
    }

    #[test]
    fn one_address_is_capped_and_ipv6_counts_by_its_network() {
        let a = admission(100, 2, 0.0, 0);
        let _p = [
            a.admit(ip("2001:db8::1")).expect("1"),
            a.admit(ip("2001:db8::2")).expect("2"),
        ];
        assert_eq!(
            a.admit(ip("2001:db8::ffff")).unwrap_err(),
            Refusal::TooManyFromAddress
        );
        assert!(a.admit(ip("2001:db8:0:1::1")).is_ok(), "another /64");
        let _q = [
            a.admit(ip("192.0.2.1")).expect("v4"),
            a.admit(ip("::ffff:192.0.2.1")).expect("mapped"),
        ];
        assert_eq!(
            a.admit(ip("192.0.2.1")).unwrap_err(),
            Refusal::TooManyFromAddress,
            "a mapped address is the same client"
        );
    }

    #[test]
    fn arrivals_are_rate_limited_per_address() {
        let a = admission(100, 0, 0.001, 3);
        for _ in 0..3 {
            drop(a.admit(ip("192.0.2.1")).expect("within the burst"));
        }
        assert_eq!(
            a.admit(ip("192.0.2.1")).unwrap_err(),
            Refusal::TooFastFromAddress
        );
        assert!(a.admit(ip("192.0.2.2")).is_ok());
    }

    #[test]
    fn a_trusted_proxy_counts_against_the_total_only() {
        let a = admission(3, 1, 0.0, 0);
        let _proxied = [
            a.admit(ip("10.0.0.1")).expect("1"),
            a.admit(ip("10.0.0.1")).expect("2"),
        ];
        let _client = a.admit_forwarded(ip("192.0.2.9")).expect("forwarded");
        assert_eq!(
            a.admit_forwarded(ip("192.0.2.9")).unwrap_err(),
            Refusal::TooManyFromAddress
        );
        assert_eq!(
            a.open(),
            2,
            "forwarded clients ride on their proxy's connection"
        );
        assert!(a.is_trusted_proxy(ip("::ffff:10.0.0.1")));
        assert!(!a.is_trusted_proxy(ip("10.0.0.2")));
    }
}

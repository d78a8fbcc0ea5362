//! Command-line options of `chat-bench` and their validation into a
//! [`Plan`]. Only loopback targets are accepted: this tool generates real
//! load and must never be pointed at someone else's machine.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// Most clients one run may open.
pub const MAX_CLIENTS: usize = 20_000;
/// Longest phase (warm-up, measurement, drain) one run may have, in seconds.
pub const MAX_PHASE_SECS: f64 = 600.0;

/// Load generator for chat-server (and the bare broadcast server it is
/// compared against). Loopback targets only.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Args {
    /// WebSocket URL of the server; its host must be a loopback address.
    /// Repeat it to spread the clients over several servers of one cluster
    /// (client i connects to URL i mod the number of URLs).
    #[arg(long, default_value = "ws://127.0.0.1:3000/ws")]
    pub url: Vec<String>,
    /// Clients to connect (senders included, slow consumers not).
    #[arg(long, default_value_t = 10)]
    pub clients: usize,
    /// Rooms the clients are spread over (client i joins room i mod rooms).
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// How many of the clients send (the first ones, so they spread over
    /// the rooms round-robin).
    #[arg(long, default_value_t = 1)]
    pub senders: usize,
    /// `ack`: as fast as echoes come back, with at most --window messages in
    /// flight per sender; `rate`: --rate messages/s per sender; `idle`:
    /// connect, join and hold.
    #[arg(long, value_enum, default_value_t = Mode::Ack)]
    pub mode: Mode,
    /// Messages per second per sender in `rate` mode.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Messages a sender may have in flight (sent, own echo not yet back).
    #[arg(long, default_value_t = 32)]
    pub window: usize,
    /// Bytes of message text (at least what the timestamp needs).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Seconds of load before measuring.
    #[arg(long, default_value_t = 2.0)]
    pub warmup: f64,
    /// Seconds measured (in idle mode: seconds held after the warm-up).
    #[arg(long, default_value_t = 5.0)]
    pub duration: f64,
    /// Seconds after the last measured send to wait for deliveries.
    #[arg(long, default_value_t = 2.0)]
    pub drain: f64,
    /// Extra clients in room 0 that join and then stop reading.
    #[arg(long, default_value_t = 0)]
    pub slow: usize,
    /// Connections being set up at once.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Seconds one client may take to connect and join.
    #[arg(long, default_value_t = 20.0)]
    pub connect_timeout: f64,
    /// Process id of the server, to sample its CPU time and memory from /proc.
    /// Repeat it for several instances: CPU time is reported per instance
    /// and in total, memory for the first.
    #[arg(long)]
    pub server_pid: Vec<u32>,
    /// A Redis on loopback (`127.0.0.1:6379`) whose command counts
    /// (`INFO commandstats`) are sampled over the measured window.
    #[arg(long)]
    pub redis: Option<String>,
    /// Output: a readable report, or `key=value` lines for scripts.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    Ack,
    Rate,
    Idle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Kv,
}

/// A validated run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where clients connect, in turn: (URL, its loopback address).
    pub targets: Vec<(String, SocketAddr)>,
    pub clients: usize,
    pub rooms: usize,
    pub senders: usize,
    pub mode: Mode,
    pub rate: f64,
    pub window: usize,
    pub size: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub drain: Duration,
    pub slow: usize,
    pub connect_concurrency: usize,
    pub connect_timeout: Duration,
    pub server_pid: Vec<u32>,
    pub redis: Option<std::net::SocketAddr>,
    pub format: Format,
}

impl Plan {
    /// Checks every option; the error says which one is wrong and why.
    pub fn from_args(args: &Args) -> Result<Plan, String> {
        let targets = args
            .url
            .iter()
            .map(|u| loopback_target(u).map(|a| (u.clone(), a)))
            .collect::<Result<Vec<_>, _>>()?;
        if targets.is_empty() {
            return Err("--url is required".into());
        }
        let total = args.clients.saturating_add(args.slow);
        if args.clients == 0 || total > MAX_CLIENTS {
            return Err(format!(
                "--clients plus --slow must be 1 to {MAX_CLIENTS}, not {total}"
            ));
        }
        if args.rooms == 0 || args.rooms > args.clients {
            return Err(format!("--rooms must be 1 to --clients ({})", args.clients));
        }
        let senders = if args.mode == Mode::Idle {
            0
        } else {
            args.senders
        };
        if args.mode != Mode::Idle && (senders == 0 || senders > args.clients) {
            return Err(format!(
                "--senders must be 1 to --clients ({})",
                args.clients
            ));
        }
        if args.mode == Mode::Rate && !(args.rate > 0.0 && args.rate <= 100_000.0) {
            return Err("--rate must be above 0 and at most 100000 messages/s".into());
        }
        if args.window == 0 || args.window > 100_000 {
            return Err("--window must be 1 to 100000".into());
        }
        if args.size > protocol::limits::MAX_TEXT_CHARS {
            return Err(format!(
                "--size must be at most {} bytes",
                protocol::limits::MAX_TEXT_CHARS
            ));
        }
        if args.connect_concurrency == 0 || args.connect_concurrency > MAX_CLIENTS {
            return Err(format!("--connect-concurrency must be 1 to {MAX_CLIENTS}"));
        }
        Ok(Plan {
            targets,
            clients: args.clients,
            rooms: args.rooms,
            senders,
            mode: args.mode,
            rate: args.rate,
            window: args.window,
            size: args.size.max(crate::stamp::MIN_TEXT_BYTES),
            warmup: seconds("--warmup", args.warmup, 0.0)?,
            duration: seconds("--duration", args.duration, 0.1)?,
            drain: seconds("--drain", args.drain, 0.0)?,
            slow: args.slow,
            connect_concurrency: args.connect_concurrency,
            connect_timeout: seconds("--connect-timeout", args.connect_timeout, 0.1)?,
            server_pid: args.server_pid.clone(),
            redis: match &args.redis {
                Some(a) => Some(loopback_addr(a)?),
                None => None,
            },
            format: args.format,
        })
    }

    /// The servers' first process, whose memory is reported.
    pub fn first_server(&self) -> Option<u32> {
        self.server_pid.first().copied()
    }

    /// The room client `index` joins.
    pub fn room_of(&self, index: usize) -> usize {
        if index < self.clients {
            index % self.rooms
        } else {
            0
        }
    }

    /// Reading members of each room (slow consumers not counted): how many
    /// deliveries one message to that room should make.
    pub fn room_sizes(&self) -> Vec<u64> {
        let mut sizes = vec![0u64; self.rooms];
        for i in 0..self.clients {
            sizes[self.room_of(i)] += 1;
        }
        sizes
    }
}

fn seconds(name: &str, value: f64, min: f64) -> Result<Duration, String> {
    if !(value.is_finite() && value >= min && value <= MAX_PHASE_SECS) {
        return Err(format!(
            "{name} must be {min} to {MAX_PHASE_SECS} seconds, not {value}"
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// The socket address of a `ws://` URL whose host is loopback (`localhost`,
/// 127.0.0.0/8 or `[::1]`); anything else is refused.
/// A Redis address on loopback, as `host:port` or `redis://host:port`.
pub fn loopback_addr(addr: &str) -> Result<SocketAddr, String> {
    let host_port = addr.strip_prefix("redis://").unwrap_or(addr);
    let host_port = host_port.trim_end_matches('/');
    loopback_target(&format!("ws://{host_port}/"))
        .map_err(|_| format!("--redis {addr:?}: only a loopback host:port is allowed"))
}

pub fn loopback_target(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("{url:?}: only ws:// URLs are supported"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(format!("{url:?}: user information is not allowed"));
    }
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{url:?}: unclosed [ in host"))?;
            (host, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port: u16 = match port {
        Some(p) => p.parse().map_err(|_| format!("{url:?}: bad port {p:?}"))?,
        None => 80,
    };
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::from([127, 0, 0, 1])
    } else {
        host.parse()
            .map_err(|_| format!("{url:?}: host must be localhost or a loopback IP address"))?
    };
    if !ip.is_loopback() {
        return Err(format!(
            "{url:?}: refusing a non-loopback target; chat-bench only loads this machine"
        ));
    }
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["chat-bench"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).expect("options parse")
    }

    #[test]
    fn loopback_targets_are_accepted() {
        for (url, addr) in [
            ("ws://127.0.0.1:3000/ws", "127.0.0.1:3000"),
            ("ws://localhost:8080/ws", "127.0.0.1:8080"),
            ("ws://LOCALHOST/ws", "127.0.0.1:80"),
            ("ws://127.9.8.7:1/", "127.9.8.7:1"),
            ("ws://[::1]:3000/ws", "[::1]:3000"),
            ("ws://127.0.0.1:3000", "127.0.0.1:3000"),
        ] {
            assert_eq!(loopback_target(url), Ok(addr.parse().unwrap()), "{url}");
        }
    }

    #[test]
    fn other_targets_are_refused() {
        for url in [
            "ws://10.0.0.1:3000/ws",
            "ws://192.168.1.2/ws",
            "ws://8.8.8.8/ws",
            "ws://0.0.0.0:3000/ws",
            "ws://example.com/ws",
            "ws://localhost.example.com/ws",
            "ws://[::2]:3000/ws",
            "ws://[::ffff:10.0.0.1]/ws",
            "ws://user@127.0.0.1/ws",
            "wss://127.0.0.1/ws",
            "http://127.0.0.1:3000/ws",
            "ws://127.0.0.1:99999/ws",
            "ws://[::1/ws",
            "127.0.0.1:3000",
        ] {
            assert!(loopback_target(url).is_err(), "{url} was accepted");
        }
    }

    #[test]
    fn a_good_plan_is_built() {
        let plan = Plan::from_args(&args(&[
            "--clients",
            "200",
            "--rooms",
            "2",
            "--senders",
            "4",
            "--slow",
            "1",
            "--size",
            "1",
        ]))
        .unwrap();
        assert_eq!(plan.targets[0].1, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(plan.size, crate::stamp::MIN_TEXT_BYTES);
        assert_eq!(plan.room_sizes(), vec![100, 100]);
        assert_eq!(plan.room_of(3), 1);
        assert_eq!(plan.room_of(200), 0, "slow consumers go to room 0");
    }

    #[test]
    fn several_urls_spread_clients_over_a_cluster() {
        let args = Args::try_parse_from([
            "chat-bench",
            "--url",
            "ws://127.0.0.1:3001/ws",
            "--url",
            "ws://127.0.0.1:3002/ws",
        ])
        .unwrap();
        let plan = Plan::from_args(&args).unwrap();
        let ports: Vec<u16> = plan.targets.iter().map(|(_, a)| a.port()).collect();
        assert_eq!(ports, vec![3001, 3002]);
        let args = Args::try_parse_from([
            "chat-bench",
            "--url",
            "ws://127.0.0.1:3001/ws",
            "--url",
            "ws://192.168.1.2:3002/ws",
        ])
        .unwrap();
        assert!(
            Plan::from_args(&args).is_err(),
            "one non-loopback URL refuses the run"
        );
    }

    #[test]
    fn idle_mode_needs_no_senders() {
        let plan = Plan::from_args(&args(&[
            "--mode",
            "idle",
            "--clients",
            "5",
            "--senders",
            "0",
        ]))
        .unwrap();
        assert_eq!(plan.senders, 0);
    }

    #[test]
    fn bad_plans_are_refused() {
        for bad in [
            &["--url", "ws://10.1.2.3:3000/ws"][..],
            &["--clients", "0"],
            &["--clients", "20001"],
            &["--clients", "20000", "--slow", "1"],
            &["--clients", "4", "--rooms", "5"],
            &["--rooms", "0"],
            &["--senders", "0"],
            &["--clients", "3", "--senders", "4"],
            &["--mode", "rate", "--rate", "0"],
            &["--mode", "rate", "--rate", "NaN"],
            &["--window", "0"],
            &["--size", "4001"],
            &["--duration", "0"],
            &["--duration", "601"],
            &["--warmup=-1"],
            &["--connect-concurrency", "0"],
        ] {
            assert!(Plan::from_args(&args(bad)).is_err(), "{bad:?} was accepted");
        }
    }
}

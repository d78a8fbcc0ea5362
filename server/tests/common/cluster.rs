//! Cluster tests' shared parts: the machine's Redis, a key prefix of each
//! test's own (its keys deleted when the test ends), and instances of the
//! real binary started on that prefix.

use std::time::Duration;

use super::{Process, skip_without};

pub const REDIS: &str = "redis://127.0.0.1:6379";

/// A unique key prefix per test, so tests never see each other's keys;
/// its keys are deleted when the test ends.
pub struct Prefix {
    pub url: String,
    pub prefix: String,
}

impl Prefix {
    pub fn new(url: &str, test: &str) -> Prefix {
        Prefix {
            url: url.into(),
            prefix: format!(
                "chat-test:{}:{}:{}:",
                test,
                std::process::id(),
                chrono::Utc::now().timestamp_micros()
            ),
        }
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        let Ok(client) = redis::Client::open(self.url.as_str()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let keys: Vec<String> = match redis::cmd("KEYS")
            .arg(format!("{}*", self.prefix))
            .query(&mut conn)
        {
            Ok(k) => k,
            Err(_) => return,
        };
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
        }
    }
}

pub fn redis_up(url: &str) -> bool {
    let Some(addr) = url.strip_prefix("redis://") else {
        return false;
    };
    std::net::TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_secs(1))
        .is_ok()
}

pub fn cluster_args(url: &str, prefix: &str) -> Vec<String> {
    vec![
        "--redis".into(),
        url.into(),
        "--redis-prefix".into(),
        prefix.into(),
        "--cluster-ttl-ms".into(),
        "1500".into(),
    ]
}

/// `n` instances sharing a fresh prefix of the machine's Redis. The
/// processes are declared before the prefix so they stop before its keys go.
pub fn instances(n: usize, test: &str) -> Option<(Vec<Process>, Prefix)> {
    if !redis_up(REDIS) {
        skip_without("redis on 127.0.0.1:6379", "nothing listens there");
        return None;
    }
    let p = Prefix::new(REDIS, test);
    Some((
        (0..n)
            .map(|_| Process::start(&cluster_args(REDIS, &p.prefix)))
            .collect(),
        p,
    ))
}

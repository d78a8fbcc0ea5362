//! How many commands a Redis ran, from `INFO commandstats`: every command,
//! those run inside scripts included, and the script calls themselves.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The largest `INFO` answer read.
const MAX_REPLY: usize = 1 << 20;

/// Command counts since Redis started (or its stats were reset).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every command Redis ran, those inside scripts too.
    pub commands: u64,
    /// Script calls (`EVAL`, `EVALSHA` and their read-only forms, `FCALL`):
    /// each one round trip from a client.
    pub scripts: u64,
}

impl Counts {
    /// What ran between `self` and `later`.
    pub fn since(self, later: Counts) -> Counts {
        Counts {
            commands: later.commands.saturating_sub(self.commands),
            scripts: later.scripts.saturating_sub(self.scripts),
        }
    }
}

/// Asks the Redis at `addr`; `None` if it cannot be asked within a second.
pub async fn sample(addr: SocketAddr) -> Option<Counts> {
    let text = tokio::time::timeout(Duration::from_secs(1), info(addr))
        .await
        .ok()??;
    Some(parse(&text))
}

async fn info(addr: SocketAddr) -> Option<String> {
    let mut conn = TcpStream::connect(addr).await.ok()?;
    conn.write_all(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")
        .await
        .ok()?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = conn.read(&mut buf).await.ok()?;
        if n == 0 || reply.len() + n > MAX_REPLY {
            return None;
        }
        reply.extend_from_slice(&buf[..n]);
        // A bulk string: `$LEN\r\n` then LEN bytes and `\r\n`.
        let text = std::str::from_utf8(&reply).ok()?;
        let (head, body) = text.strip_prefix('$')?.split_once("\r\n")?;
        let len: usize = head.parse().ok()?;
        if body.len() >= len {
            return Some(body[..len].to_owned());
        }
    }
}

/// Sums the `calls=` of each `cmdstat_NAME:calls=N,...` line.
pub fn parse(info: &str) -> Counts {
    let mut counts = Counts::default();
    for line in info.lines() {
        let Some((name, stats)) = line
            .strip_prefix("cmdstat_")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        let calls = stats
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        counts.commands += calls;
        if matches!(
            name,
            "eval" | "evalsha" | "eval_ro" | "evalsha_ro" | "fcall"
        ) {
            counts.scripts += calls;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commandstats_are_summed() {
        let info = "# Commandstats\r\n\
            cmdstat_evalsha:calls=10,usec=50,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\n\
            cmdstat_incr:calls=40,usec=4,usec_per_call=0.10,rejected_calls=0,failed_calls=0\r\n\
            cmdstat_publish:calls=40,usec=9,usec_per_call=0.22,rejected_calls=0,failed_calls=0\r\n";
        assert_eq!(
            parse(info),
            Counts {
                commands: 90,
                scripts: 10
            }
        );
        let before = Counts {
            commands: 5,
            scripts: 1,
        };
        assert_eq!(before.since(parse(info)).commands, 85);
    }
}

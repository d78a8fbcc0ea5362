//! `floor-server`: the fastest plain tokio-tungstenite broadcast server we
//! know how to write, the floor chat-server is measured against. It speaks
//! just enough of the chat protocol for `chat-bench`; see `bench::floor`.

use std::net::SocketAddr;

use clap::Parser;

/// Minimal, fast broadcast server for benchmarks (loopback by default).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Options {
    /// Address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:3002")]
    listen: SocketAddr,
    /// Read buffer per connection, in bytes.
    #[arg(long, default_value_t = bench::floor::Config::default().read_buffer_bytes)]
    read_buffer: usize,
    /// Bytes of frames buffered before a write, short of a flush.
    #[arg(long, default_value_t = bench::floor::Config::default().write_buffer_bytes)]
    write_buffer: usize,
    /// Frames queued for one client before it is disconnected as too slow.
    #[arg(long, default_value_t = bench::floor::Config::default().queue_frames)]
    queue: usize,
}

fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    // One descriptor per client: make room for the idle scenarios.
    let _ = rlimit::increase_nofile_limit(65_536);
    let config = bench::floor::Config {
        read_buffer_bytes: options.read_buffer,
        write_buffer_bytes: options.write_buffer,
        queue_frames: options.queue,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.listen).await?;
        println!("listening on ws://{}/ws", listener.local_addr()?);
        tokio::select! {
            () = bench::floor::serve(listener, config) => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(())
    })
}

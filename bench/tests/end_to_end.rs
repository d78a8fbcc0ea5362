//! Runs the generator briefly against an in-process chat-server. Checks
//! that it measures something and loses nothing; no timing is asserted.

use bench::args::{Args, Plan};
use clap::Parser;

async fn start_server() -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let config = server::Config {
        rate_per_sec: 0.0,
        ..server::Config::default()
    };
    tokio::spawn(server::run(listener, config, async {
        let _ = stopped.await;
    }));
    (addr, stop)
}

fn plan(addr: std::net::SocketAddr, extra: &[&str]) -> Plan {
    let url = format!("ws://{addr}/ws");
    let mut argv = vec![
        "chat-bench",
        "--url",
        &url,
        "--warmup",
        "0.2",
        "--duration",
        "1",
        "--drain",
        "1",
    ];
    argv.extend_from_slice(extra);
    Plan::from_args(&Args::try_parse_from(argv).expect("options parse")).expect("valid plan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_clients_for_a_second_lose_nothing() {
    let (addr, stop) = start_server().await;
    let report = bench::generator::run(plan(
        addr,
        &[
            "--clients",
            "10",
            "--rooms",
            "2",
            "--senders",
            "2",
            "--window",
            "4",
        ],
    ))
    .await
    .expect("run");
    assert_eq!(report.joined, 10);
    assert_eq!(report.errors, 0, "{:?}", report.error_samples);
    assert!(report.sent > 0);
    assert!(report.delivered > 0);
    assert_eq!(report.expected, report.delivered, "no loss");
    assert_eq!(report.latency.count, report.delivered);
    // chat-server acknowledges every request: the joins and every send.
    assert!(report.acks >= 10);
    let _ = stop.send(());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_rate_and_idle_modes_run() {
    let (addr, stop) = start_server().await;
    let report = bench::generator::run(plan(
        addr,
        &[
            "--clients",
            "6",
            "--senders",
            "3",
            "--mode",
            "rate",
            "--rate",
            "20",
        ],
    ))
    .await
    .expect("rate run");
    assert_eq!(report.errors, 0, "{:?}", report.error_samples);
    assert!(report.delivered > 0);
    assert_eq!(report.expected, report.delivered, "no loss");

    let report = bench::generator::run(plan(
        addr,
        &["--clients", "20", "--rooms", "4", "--mode", "idle"],
    ))
    .await
    .expect("idle run");
    assert_eq!(report.joined, 20);
    assert_eq!(report.errors, 0, "{:?}", report.error_samples);
    assert_eq!(report.sent, 0);
    let _ = stop.send(());
}

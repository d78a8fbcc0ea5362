//! `chat-bench`: load generator for chat-server. See `chat-bench --help`.

use clap::Parser;

use bench::args::{Args, Format, Plan};

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let plan = match Plan::from_args(&args) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!("chat-bench: {e}");
            std::process::exit(2);
        }
    };
    let format = plan.format;
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(bench::generator::run(plan))?;
    match format {
        Format::Text => print!("{}", report.to_text()),
        Format::Kv => print!("{}", report.to_kv()),
    }
    Ok(())
}

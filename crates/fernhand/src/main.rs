//! The `fernhand` binary: one command line for every part of the product.
//!
//! Subcommands arrive as the parts land; each one says plainly what it does
//! and, where a part is not built yet, says so instead of pretending.

mod admin;
mod agent_cmd;
mod bench;
mod cli;
mod expert_cmd;
mod relay_cmd;
mod secret_input;
mod server;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FERNHAND_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        cli::Command::Server(args) => server::run(&args),
        cli::Command::Relay(args) => relay_cmd::run(&args),
        cli::Command::Admin(args) => admin::run(&args),
        cli::Command::Agent(args) => agent_cmd::run(&args),
        cli::Command::Expert(args) => expert_cmd::run(&args),
        cli::Command::Bench(args) => bench::run(&args),
        cli::Command::BenchNode { mode } => bench::relay_node::run(&mode),
        cli::Command::RecordScreen {
            out,
            frames,
            interval_ms,
        } => bench::corpus::record(&out, frames, interval_ms),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("fernhand: {error:#}");
            ExitCode::FAILURE
        }
    }
}

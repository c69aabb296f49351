//! Command-line interface: the subcommands and their options.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Fernhand: remote support with end-to-end encryption.
#[derive(Debug, Parser)]
#[command(name = "fernhand", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the control plane (with an in-process relay and SQLite by default).
    Server(ServerArgs),
    /// Measure a part of Fernhand against a baseline measured in the same run.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Data folder of the embedded default.
    #[arg(long, default_value = "./fernhand-data")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// What to measure.
    pub area: BenchArea,
    /// Print one JSON object per scenario instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Seconds of measurement per scenario and side.
    #[arg(long, default_value_t = 1.0)]
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchArea {
    /// End-to-end layer: seal/open throughput against bare AES-CTR + HMAC,
    /// and the SRP join handshake against bare SRP.
    E2e,
}

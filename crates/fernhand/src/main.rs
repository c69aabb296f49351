//! The `fernhand` binary: one command line for every part of the product.
//!
//! Subcommands arrive as the parts land; each one says plainly what it does
//! and, where a part is not built yet, says so instead of pretending.

mod bench;
mod cli;
mod server;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Server(args) => server::run(&args),
        cli::Command::Bench(args) => bench::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("fernhand: {error:#}");
            ExitCode::FAILURE
        }
    }
}

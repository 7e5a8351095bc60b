//! `mycli stats`: a plugin whose command can fail, written with the SDK.
//!
//! `mycli stats N` prints the sum of `0..=N`, with checked arithmetic: a sum
//! too large for a `u64` is a clear error (exit status 1), never a wrong
//! number.

use std::process::ExitCode;

mod sum;

use clap::Subcommand;
use snapin_sdk::{Context, Error};
use sum::StatsArgs;

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Sum the integers from 0 to N
    Stats(StatsArgs),
}

fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Stats(args) => {
            for line in sum::lines(&args)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    snapin_sdk::plugin!("mycli", "^1.0").run(run)
}

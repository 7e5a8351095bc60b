//! `mycli stale`: a plugin built for a future major version of the mycli
//! plugin API (`^99`). A host with API 1.x refuses to load it, and says why;
//! it exists to show the version gate at work.

use std::process::ExitCode;

use clap::Subcommand;
use snapin_sdk::{Context, Error};

/// The commands this plugin would add to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Needs a newer mycli
    Stale,
}

fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Stale => println!("stale ran"),
    }
    Ok(())
}

fn main() -> ExitCode {
    snapin_sdk::plugin!("mycli", "^99").run(run)
}

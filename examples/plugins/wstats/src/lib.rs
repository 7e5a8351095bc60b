//! `mycli wstats`: the `stats` example as a sandboxed WebAssembly plugin.
//!
//! `mycli wstats N` prints the sum of `0..=N` (with `--mean`, also the mean),
//! with checked arithmetic: a sum too large for a `u64` is a clear error
//! (exit status 1), never a wrong number. It also shows the two host calls a
//! component has: it logs a debug record, and prints the configuration value
//! `greeting` first when the user set one (for `mycli`, in
//! `[plugins.wstats.config]`).
//!
//! Build with `cargo build --target wasm32-wasip2 -p mycli-wstats`; the
//! component is `target/wasm32-wasip2/debug/mycli_wstats.wasm`.

// The same arithmetic and output as the executable `stats`, by sharing its
// source rather than a copy of it.
#[path = "../../stats/src/sum.rs"]
mod sum;

use clap::Subcommand;
use snapin_guest::{Context, Error, Level};
use sum::StatsArgs;

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Sum the integers from 0 to N
    Wstats(StatsArgs),
}

fn run(cmd: Commands, ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Wstats(args) => {
            let host = &ctx.host.name;
            snapin_guest::log(
                Level::Debug,
                &format!("wstats: summing 0..{} for {host}", args.n),
            );
            if let Some(greeting) = snapin_guest::config("greeting") {
                println!("{greeting}");
            }
            for line in sum::lines(&args)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

snapin_guest::export_plugin!(Commands, run, host = "mycli", api = "^1.0");

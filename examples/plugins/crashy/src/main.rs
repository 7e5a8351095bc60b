//! `mycli crash`: a plugin that dies of a signal, to show that the host
//! survives a crashing plugin and reports it in one clear line.
//!
//! It describes itself normally; running `crash` kills the process with
//! SIGSEGV (the default) or SIGABRT (`--signal abort`).

// The null-pointer write below is the point of this plugin.
#![allow(unsafe_code)]

use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use snapin_sdk::{Context, Error};

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Crash on purpose
    Crash(CrashArgs),
}

/// Arguments of `mycli crash`.
#[derive(Args)]
struct CrashArgs {
    /// The signal to die of
    #[arg(long, value_enum, default_value_t = Signal::Segv)]
    signal: Signal,
}

/// How to die.
#[derive(Clone, Copy, ValueEnum)]
enum Signal {
    /// Write through a null pointer (SIGSEGV)
    Segv,
    /// Abort the process (SIGABRT)
    Abort,
}

fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Crash(args) => match args.signal {
            Signal::Segv => {
                // black_box keeps the compiler from reasoning about the null
                // pointer, so the write really happens and faults.
                let ptr = std::hint::black_box(std::ptr::null_mut::<u8>());
                // SAFETY: none; this is deliberately undefined behaviour, to
                // make the process die of SIGSEGV.
                unsafe { ptr.write_volatile(1) };
                Err(Error::new("the null-pointer write did not crash"))
            }
            Signal::Abort => std::process::abort(),
        },
    }
}

fn main() -> ExitCode {
    snapin_sdk::plugin!("mycli", "^1.0").run(run)
}

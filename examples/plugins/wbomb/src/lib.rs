//! `mycli wloop`, `walloc`, `wtrap`, `wpanic`: a WebAssembly plugin that
//! exhausts or breaks its sandbox on purpose, to test that the host bounds
//! CPU time and memory, and reports traps and panics in one line without
//! crashing itself.
//!
//! Do not run these commands natively: `wloop` and `walloc` never end there.

use std::hint::black_box;

use clap::Subcommand;
use snapin_guest::{Context, Error};

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Loop forever
    Wloop,
    /// Allocate memory until stopped
    Walloc,
    /// Execute a WebAssembly trap
    Wtrap,
    /// Panic
    Wpanic,
}

/// Size of each allocation of `walloc`.
const CHUNK: usize = 16 << 20;

/// Spins forever; `black_box` keeps the optimiser from removing the loop.
fn spin() -> ! {
    let mut counter: u64 = 0;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Allocates `CHUNK` bytes at a time, writing to every page so the memory is
/// really used, and keeps every chunk, until the allocator or the host gives
/// up.
fn hog() -> ! {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; CHUNK];
        for i in (0..CHUNK).step_by(4096) {
            chunk[i] = 1;
        }
        chunks.push(black_box(chunk));
    }
}

/// Executes the `unreachable` instruction, the plainest trap there is.
fn trap() -> ! {
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    std::process::abort();
}

fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Wloop => spin(),
        Commands::Walloc => hog(),
        Commands::Wtrap => trap(),
        Commands::Wpanic => panic!("wbomb: deliberate panic"),
    }
}

snapin_guest::export_plugin!(Commands, run, host = "mycli", api = "^1.0");

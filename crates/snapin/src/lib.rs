//! Plugins for clap command-line programs.
//!
//! snapin lets other teams ship commands for your CLI as separate,
//! independently versioned programs that snap in at run time:
//!
//! - **Discovery from an index, never by scanning.** `mycli plugins install`
//!   describes a plugin once, checks it, pins its sha256 and records its
//!   manifest; start-up reads that one file. `--help`, usage errors and
//!   dispatch decisions for plugin commands come from the cached manifests,
//!   without starting any plugin.
//! - **A versioned contract and a semver gate.** A plugin states the host
//!   API it needs (`^1.0`); one built for an incompatible API is skipped
//!   with a message naming both versions.
//! - **Isolation.** Every plugin goes through one loader loop with one
//!   outcome each; a broken, crashing or changed plugin is reported in one
//!   line and the rest of the program carries on.
//!
//! # A host in a handful of lines
//!
//! ```no_run
//! use clap::{CommandFactory, FromArgMatches, Parser};
//! use std::process::ExitCode;
//!
//! #[derive(Parser)]
//! #[command(name = "mycli", version)]
//! enum Cli {
//!     /// A command of the host's own
//!     Version,
//! }
//!
//! fn main() -> ExitCode {
//!     let host = snapin::Host::builder("mycli")
//!         .version(env!("CARGO_PKG_VERSION"))
//!         .api(snapin::Version::new(1, 2, 0))
//!         .build();
//!     let mut app = host.load(Cli::command());
//!     let matches = app.get_matches();
//!     if let Some(code) = app.dispatch(&matches) {
//!         return code; // a plugin command, or `mycli plugins ...`
//!     }
//!     match Cli::from_arg_matches(&matches) {
//!         Ok(Cli::Version) => println!("mycli {}", env!("CARGO_PKG_VERSION")),
//!         Err(e) => e.exit(),
//!     }
//!     ExitCode::SUCCESS
//! }
//! ```
//!
//! Plugins are executables in any language that follow `docs/protocol.md`
//! (the `snapin-sdk` crate writes one from clap derive), or types compiled
//! into the host that implement [`Plugin`].

pub mod check;
pub mod cli;
pub mod complete;
pub mod config;
pub mod gate;
mod host;
pub mod index;
pub mod loader;
pub mod logging;
pub mod lookup;
pub mod manage;
pub mod manifest;
pub mod paths;
pub mod pin;
pub mod runtime;
pub mod scaffold;
pub mod trust;

/// The Rust examples of `docs/host-guide.md`, compiled and run as doctests
/// so that the guide keeps to the API.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/host-guide.md")]
pub struct HostGuide;

pub use host::{
    App, EXIT_CANNOT_RUN, EXIT_MEMORY_LIMIT, EXIT_TIME_LIMIT, EXIT_TRAP, Host, HostBuilder,
};
pub use runtime::{Exit, Invocation, Plugin, PluginError};
pub use semver::Version;
pub use snapin_protocol as protocol;

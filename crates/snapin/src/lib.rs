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
//!         .api(snapin::Version::new(1, 3, 0))
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

//!
//! # How the crate is laid out
//!
//! Each file owns one concept, and a file only uses files of its own layer
//! or below (`tests/layers.rs` fails otherwise):
//!
//! | layer | files | what they own |
//! |---|---|---|
//! | 0 | `text`, `diagnostic`, `paths`, `pin`, `gate`, `manifest`, `values`, `unknown`, `config`, `trust`, `clap_spec`, `scaffold`, `whole_file`, `provenance/*` | leaves: one rule or format each (`values`: typed argument values); publishers' keys, signatures and catalogs |
//! | 1 | `ui` | everything written to stderr for a person: prefix, colour, prompts |
//! | 2 | `index`, `registry/*` | the installed-plugins index file; plugins as OCI artifacts, the download cache and the lock file |
//! | 3 | `runtime` (`exec`, `wasm`) | running a plugin behind the [`Plugin`] trait |
//! | 4 | `host` | the host author's settings ([`HostBuilder`]) |
//! | 5 | `loader`, `lookup` | the one loop every plugin goes through; the start-up lookup |
//! | 6 | `engine` | a host plus its command line's names: loader runs and runtimes |
//! | 7 | `startup`, `run` | what a command line needs loaded; running a plugin command and its exit status |
//! | 8 | `complete`, `plugins/*` | shell completion; the `plugins` command group, a file per subcommand |
//! | 9 | `app`, `two_majors_tests` | [`App`]: load, parse, dispatch; (tests only) a host serving two majors of its plugin API, end to end |

// Only the printer writes to stderr; only the `plugins` commands print
// their results on stdout.
#![deny(clippy::print_stderr, clippy::print_stdout)]

mod app;
mod clap_spec;
mod complete;
// Read only when a sandboxed plugin runs or installs, or a command reaches
// a registry.
#[cfg_attr(not(all(feature = "wasm", feature = "registry")), allow(dead_code))]
mod config;
mod diagnostic;
mod engine;
mod gate;
mod host;
mod index;
mod loader;
mod lookup;
mod manifest;
mod paths;
mod pin;
#[allow(clippy::print_stdout)]
mod plugins;
#[cfg(feature = "provenance")]
mod provenance;
#[cfg(feature = "registry")]
mod registry;
mod run;
mod runtime;
mod scaffold;
mod startup;
mod text;
mod trust;
#[cfg(test)]
mod two_majors_tests;
#[allow(clippy::print_stderr)]
mod ui;
mod unknown;
mod values;
mod whole_file;

/// The Rust examples of `docs/host-guide.md`, compiled and run as doctests
/// so that the guide keeps to the API.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/host-guide.md")]
pub struct HostGuide;

pub use app::App;
pub use host::{Host, HostBuilder};
pub use index::Kind;
pub use loader::{Check, Outcome, Status};
pub use paths::Paths;
pub use plugins::COMMAND as PLUGINS_COMMAND;
pub use plugins::check::{CheckLine, CheckReport};
pub use run::{EXIT_CANNOT_RUN, EXIT_MEMORY_LIMIT, EXIT_TIME_LIMIT, EXIT_TRAP};
pub use runtime::exec::DescribeLimits;
#[cfg(feature = "wasm")]
pub use runtime::wasm::WasmLimits;
pub use runtime::{Exit, Invocation, Plugin, PluginError};
pub use semver::Version;
pub use snapin_protocol as protocol;

/// What the fuzz targets, benches and fault tests reach inside the crate.
/// Not part of the API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::clap_spec::{command_from_spec, plugin_argv};
    pub use crate::index::{
        DirGrant, Entry, FileStamp, Grants, INDEX_FORMAT, Index, IndexError, OciOrigin, Origin,
        Signer, now_rfc3339,
    };
    pub use crate::lookup::{Found, Lookup, Stamp};
    pub use crate::manifest::{Reserved, validate};
    pub use crate::pin::{pin_file, sha256_file};
    #[cfg(feature = "provenance")]
    pub use crate::provenance::{catalog::Catalog, key::PublicKey, signature::Signature};
}

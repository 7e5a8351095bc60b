//! Write an executable snapin plugin in Rust, with clap derive.
//!
//! A snapin host (say `mycli`) takes commands from plugins that ship on their
//! own. An executable plugin follows a small contract (see
//! `snapin_protocol` and `docs/protocol.md`): asked with `--snapin-describe`,
//! it prints a manifest of its commands as JSON; asked with
//! `COMMAND [ARGS...]`, it runs the command with a run context in the
//! `SNAPIN_CONTEXT` environment variable. This crate does both for you, from
//! the same clap definitions you would write for any command-line program, so
//! the manifest the host shows help from cannot drift from the parser the
//! plugin runs with.
//!
//! ```no_run
//! use std::process::ExitCode;
//! use clap::{Args, Subcommand};
//! use snapin_sdk::{Context, Plugin};
//!
//! #[derive(Subcommand)]
//! enum Commands {
//!     /// Say hello
//!     Greet(GreetArgs),
//! }
//! #[derive(Args)]
//! struct GreetArgs {
//!     /// Who to greet
//!     #[arg(long, default_value = "world")]
//!     who: String,
//! }
//! fn main() -> ExitCode {
//!     snapin_sdk::plugin!("mycli", "^1.0")          // host namespace, API requirement
//!         .run(|cmd: Commands, ctx: &Context| match cmd {
//!             Commands::Greet(a) => { println!("hello, {}", a.who); Ok(()) }
//!         })
//! }
//! ```
//!
//! Built as package `mycli-greet`, this is plugin `greet` with one command,
//! `greet`, which users run as `mycli greet --who Rust` once the plugin is
//! installed. Each variant of the [`Subcommand`](clap::Subcommand) enum is a
//! top-level command of the host; nested subcommands, aliases, hidden
//! commands, options, switches, positionals, defaults and choices (for
//! example from a [`ValueEnum`](clap::ValueEnum)) all reach the manifest.
//! What the contract cannot express (argument groups, conflicts, custom
//! validation) still applies, because the plugin parses its own arguments
//! again when it runs.
//!
//! # Without a host
//!
//! Run the binary by hand (`mycli-greet greet --who Rust`, or from your
//! tests): when `SNAPIN_CONTEXT` is absent the handler gets a standalone
//! [`Context`] (see [`ContextExt::standalone`]). `mycli-greet --snapin-describe`
//! shows the manifest, and [`Plugin::manifest`] gives it to your tests.
//!
//! # Failures
//!
//! A handler returns [`Error`], which any standard error converts into, so
//! `?` works; it is printed as `error: MESSAGE` and its code (1 by default)
//! becomes the exit status. Usage errors exit with status 2, as with clap.
//!
//! # WebAssembly plugins
//!
//! The same [`Plugin`], clap definitions and handler make a sandboxed
//! WebAssembly plugin with crate `snapin-guest`, which exports
//! [`Plugin::manifest`] and [`Plugin::run_command`] to the host. Such a
//! plugin can ask for access beyond its sandbox with
//! [`Plugin::request_dir`] and [`Plugin::request_env`].

mod context;
mod manifest;
mod run;

pub use context::{ContextError, ContextExt};
pub use run::{Error, Plugin};
pub use snapin_protocol::{
    Access, ArgSpec, Bound, Capabilities, ColorChoice, CommandSpec, Context, DirRequest, HostInfo,
    Manifest, PluginDirs, ValueRange, ValueType,
};

/// A [`Plugin`] described by the calling crate's `Cargo.toml`.
///
/// `plugin!(host, api)` is [`Plugin::from_package`] with the package name,
/// version and description: package `mycli-greet` at version `0.2.0` is
/// plugin `greet` at `0.2.0`, for host namespace `host` and host API
/// requirement `api`.
#[macro_export]
macro_rules! plugin {
    ($host:expr, $api:expr $(,)?) => {
        $crate::Plugin::from_package(
            $host,
            $api,
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
            ::core::env!("CARGO_PKG_DESCRIPTION"),
        )
    };
}

//! Write a sandboxed WebAssembly snapin plugin in Rust, with clap derive.
//!
//! A snapin host (say `mycli`) can run plugins as WebAssembly components
//! inside its own process, with WASI but no files, network or environment
//! unless the user granted them at install, and with bounded memory and CPU
//! time. Such a component implements the WIT world `snapin:plugin/plugin`
//! (this crate's `wit/snapin-plugin.wit`): it exports `describe` (its manifest as JSON)
//! and `run` (one command), and may call the host's `log` and `config`.
//!
//! This crate writes both exports for you from the same clap definitions
//! and handler an executable plugin uses with `snapin_sdk`, so one set of
//! definitions gives the manifest the host shows help from and the parser
//! the plugin runs with:
//!
//! ```no_run
//! use clap::{Args, Subcommand};
//! use snapin_guest::{Context, Error};
//!
//! #[derive(Subcommand)]
//! enum Commands {
//!     /// Sum the integers from 0 to N
//!     Wstats(StatsArgs),
//! }
//!
//! #[derive(Args)]
//! struct StatsArgs {
//!     /// Upper bound, inclusive
//!     n: u64,
//! }
//!
//! fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
//!     match cmd {
//!         Commands::Wstats(args) => {
//!             snapin_guest::log(snapin_guest::Level::Debug, "summing");
//!             println!("sum 0..{} = {}", args.n, (0..=args.n).sum::<u64>());
//!         }
//!     }
//!     Ok(())
//! }
//!
//! snapin_guest::export_plugin!(Commands, run, host = "mycli", api = "^1.0");
//! ```
//!
//! In a library crate with `crate-type = ["cdylib"]`, named after the
//! plugin (package `mycli-wstats` is plugin `wstats`, its version and
//! description come from `Cargo.toml`), build it with
//! `cargo build --target wasm32-wasip2` and install the `.wasm` file with
//! `mycli plugins install`.
//!
//! # Running commands
//!
//! The host calls `run` with the command path and its arguments
//! (`["wstats", "10"]`) and the run's [`Context`] as JSON. The arguments are
//! parsed with clap against your `Subcommand` enum: a usage error is printed
//! on stderr and returns 2, `--help` prints help and returns 0. Otherwise the
//! handler runs; an [`Error`] it returns is printed as `error: MESSAGE` on
//! stderr, and its code (1 by default) is the exit status. `println!` and
//! `eprintln!` reach the user's terminal through WASI; a panic or a trap ends
//! the command, and the host reports it.
//!
//! # Asking for more than the sandbox
//!
//! A plugin that needs a directory or an environment variable says so in
//! its manifest, and the user decides at install what to grant:
//!
//! ```no_run
//! # use clap::Subcommand;
//! # use snapin_guest::{Context, Error};
//! # #[derive(Subcommand)]
//! # enum Commands { Noop }
//! # fn run(_: Commands, _: &Context) -> Result<(), Error> { Ok(()) }
//! snapin_guest::export_plugin!(
//!     Commands, run, host = "mycli", api = "^1.0",
//!     configure = |p| p
//!         .request_dir(snapin_guest::Access::Read, "files to summarise")
//!         .request_env("LANG"),
//! );
//! ```
//!
//! A granted directory appears inside the sandbox at the path the host
//! chooses (usually the same path as outside), and `std::fs` works on it;
//! everything else fails with an error such as "not found" or "permission
//! denied", which a plugin should report like any I/O error.
//!
//! # Testing
//!
//! The crate also compiles for the host's own target, so the logic of a
//! plugin can be unit-tested with `cargo test`; there [`log`] writes to
//! stderr and [`config`] returns `None`. To test the whole component, build
//! it for `wasm32-wasip2` and run it through a host.

pub use snapin_sdk::{
    Access, Capabilities, Context, ContextExt, DirRequest, Error, Manifest, Plugin,
};

pub use bindings::snapin::plugin::host::Level;

/// The bindings generated from this crate's `wit/snapin-plugin.wit`
/// (world `plugin`).
///
/// Used by [`export_plugin!`]; plugins rarely need them directly.
#[doc(hidden)]
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "plugin",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_snapin_plugin_world",
        default_bindings_module: "::snapin_guest::bindings",
    });
}

/// Writes `message` into the host's log at `level`; the host shows it
/// according to the user's `-q` / `-v` / `--debug`.
///
/// Outside WebAssembly (in unit tests), writes `LEVEL: message` on stderr.
pub fn log(level: Level, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::snapin::plugin::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("{level}: {message}");
}

/// This plugin's configuration value `key`, from the host's configuration
/// file (for `mycli`, the table `[plugins.NAME.config]`), if the user set
/// one.
///
/// Outside WebAssembly (in unit tests), always `None`.
pub fn config(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        bindings::snapin::plugin::host::config(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        None
    }
}

/// The lowercase name of the level, as in the WIT (`debug`).
impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        })
    }
}

/// Exports a WebAssembly plugin: its commands, its handler, and who it is.
///
/// ```ignore
/// snapin_guest::export_plugin!(Commands, run, host = "mycli", api = "^1.0");
/// ```
///
/// - `Commands` is a [`clap::Subcommand`] enum; each variant is one
///   top-level command of the host.
/// - `run` is the handler, any `FnOnce(Commands, &Context) -> Result<(), Error>`
///   (a function or a closure).
/// - `host` is the host's namespace and `api` a semver requirement on the
///   host API.
/// - Optionally, `configure = |plugin| ...` adjusts the [`Plugin`] (made with
///   [`Plugin::from_package`] from the `CARGO_PKG_*` values) before use, for
///   example to request capabilities with [`Plugin::request_dir`] and
///   [`Plugin::request_env`].
///
/// Use it once per crate, at module level: it implements the exports
/// `describe` and `run` of `snapin:plugin/guest@1.0.0` when compiled for
/// `wasm32`, and only type-checks the plugin on other targets (so that
/// `cargo build --workspace` and `cargo test` work natively). The exports
/// are `extern "C"` functions, which the macro allows locally against a
/// `deny(unsafe_code)` lint; a crate with `#![forbid(unsafe_code)]` cannot
/// use it.
#[macro_export]
macro_rules! export_plugin {
    (
        $commands:ty, $handler:expr,
        host = $host:expr, api = $api:expr
        $(, configure = $configure:expr)?
        $(,)?
    ) => {
        // The exports are `extern "C"` functions generated by wit-bindgen.
        // Natively nothing is exported (their names are not valid symbol
        // names for every native linker), but everything else is checked.
        #[allow(unsafe_code, dead_code)]
        const _: () = {
            struct __SnapinGuestPlugin;

            fn __snapin_guest_plugin() -> $crate::Plugin {
                let plugin = $crate::Plugin::from_package(
                    $host,
                    $api,
                    ::core::env!("CARGO_PKG_NAME"),
                    ::core::env!("CARGO_PKG_VERSION"),
                    ::core::env!("CARGO_PKG_DESCRIPTION"),
                );
                $(let plugin = $crate::__private::configure(plugin, $configure);)?
                plugin
            }

            impl $crate::__private::Guest for __SnapinGuestPlugin {
                fn describe() -> ::std::string::String {
                    __snapin_guest_plugin().manifest_json::<$commands>()
                }

                fn run(
                    argv: ::std::vec::Vec<::std::string::String>,
                    context: ::std::string::String,
                ) -> u8 {
                    __snapin_guest_plugin().run_command::<$commands, _, _>(
                        argv,
                        &context,
                        $handler,
                    )
                }
            }

            #[cfg(target_arch = "wasm32")]
            $crate::bindings::__export_snapin_plugin_world!(
                __SnapinGuestPlugin with_types_in $crate::bindings
            );
        };
    };
}

/// Support for [`export_plugin!`]; not public API.
#[doc(hidden)]
pub mod __private {
    use crate::Plugin;
    pub use crate::bindings::exports::snapin::plugin::guest::Guest;

    /// Applies the `configure` argument of [`export_plugin!`]; a function, so
    /// that a closure's parameter type is known.
    pub fn configure(plugin: Plugin, configure: impl FnOnce(Plugin) -> Plugin) -> Plugin {
        configure(plugin)
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, Subcommand};

    use super::*;

    #[derive(Subcommand)]
    enum Commands {
        /// Double a number
        Double(DoubleArgs),
    }

    #[derive(Args)]
    struct DoubleArgs {
        /// The number
        n: u8,
    }

    fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
        match cmd {
            Commands::Double(args) => {
                let d = args.n.checked_mul(2).ok_or_else(|| Error::new("too big"))?;
                println!("{d}");
            }
        }
        Ok(())
    }

    // The macro compiles natively too, so `cargo build --workspace` builds
    // every plugin crate.
    export_plugin!(
        Commands,
        run,
        host = "mycli",
        api = "^1.0",
        configure = |p| p.request_dir(Access::Write, "scratch").request_env("HOME"),
    );

    fn guest_describe() -> String {
        // The type the macro defines is private to it, and its exports are
        // C ABI functions; make the same calls they make.
        let plugin = __private::configure(
            Plugin::from_package(
                "mycli",
                "^1.0",
                env!("CARGO_PKG_NAME"),
                env!("CARGO_PKG_VERSION"),
                env!("CARGO_PKG_DESCRIPTION"),
            ),
            |p| p.request_dir(Access::Write, "scratch").request_env("HOME"),
        );
        plugin.manifest_json::<Commands>()
    }

    #[test]
    fn describe_gives_the_manifest_with_capabilities() {
        let m: Manifest = serde_json::from_str(&guest_describe()).unwrap();
        assert_eq!(m.host, "mycli");
        assert_eq!(m.name, "snapin-guest");
        assert_eq!(m.commands[0].name, "double");
        assert_eq!(m.capabilities.dirs[0].access, Access::Write);
        assert_eq!(m.capabilities.env, ["HOME"]);
    }

    #[test]
    fn run_returns_exit_statuses() {
        let plugin = Plugin::new("mycli", "^1.0", "t", "1.0.0");
        assert_eq!(plugin.run_command(["double", "4"], "", run), 0);
        assert_eq!(plugin.run_command(["double", "200"], "", run), 1);
        assert_eq!(plugin.run_command(["double"], "", run), 2);
        assert_eq!(plugin.run_command(["double", "--help"], "", run), 0);
    }

    #[test]
    fn host_calls_have_native_stand_ins() {
        log(Level::Debug, "a record");
        assert_eq!(config("greeting"), None);
        assert_eq!(Level::Warn.to_string(), "warn");
    }
}

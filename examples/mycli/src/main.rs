//! `mycli`, the reference snapin host.
//!
//! Its own commands are few on purpose: everything else comes from plugins.
//! The whole integration is the `main` below.

mod echo;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};

/// The plugin API this build of mycli provides. `MYCLI_API_VERSION`, read at
/// build time, lets the demo build a "newer" mycli to show plugins going
/// stale after a host upgrade.
const API: &str = match option_env!("MYCLI_API_VERSION") {
    Some(v) => v,
    None => "1.3.0",
};

/// A small CLI whose commands come from plugins.
#[derive(Parser)]
#[command(name = "mycli", version, about)]
enum Cli {
    /// Print mycli's version and plugin API version
    Version,
}

fn main() -> ExitCode {
    let api = snapin::Version::parse(API).unwrap_or(snapin::Version::new(1, 3, 0));
    let host = snapin::Host::builder("mycli")
        .version(env!("CARGO_PKG_VERSION"))
        .api(api.clone())
        .plugin(echo::Echo)
        // Without the `registry` feature, the registry commands run in
        // `mycli-registry`, installed beside this binary.
        .registry_helper("mycli-registry")
        .build();
    let mut app = host.load(Cli::command());
    let matches = app.get_matches();
    if let Some(code) = app.dispatch(&matches) {
        return code;
    }
    match Cli::from_arg_matches(&matches) {
        Ok(Cli::Version) => {
            println!("mycli {} (plugin API {api})", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Err(e) => e.exit(),
    }
}

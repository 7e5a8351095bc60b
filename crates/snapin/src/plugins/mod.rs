//! The `plugins` command group: one file per subcommand, each with its
//! clap definition, its arguments parsed into a struct, and its run.
//!
//! | subcommand               | file          |
//! |--------------------------|---------------|
//! | `install`                | install.rs    |
//! | `upgrade`                | upgrade.rs    |
//! | `list`, `info`, `doctor` | list.rs, info.rs, doctor.rs |
//! | `remove`, `enable`, `disable` | state.rs |
//! | `grant`, `revoke`        | grant.rs      |
//! | `check`                  | check.rs      |
//! | `new`                    | new.rs        |
//! | `publish`                | publish.rs    |
//! | `outdated`               | outdated.rs   |
//! | `lock`, `sync`, `export` | lock.rs, sync.rs, export.rs |
//! | `sign`                   | sign.rs       |
//! | `trust`                  | trusted_keys.rs |
//! | `catalog`                | catalog.rs (the copies on disk: catalogs.rs) |
//! | `search`, `audit`        | search.rs, audit.rs |
//!
//! Installing and upgrading from an `oci://` or `oci-layout://` source,
//! and what sync shares with them, is in artifact.rs; checking who signed
//! what they fetch, in verify.rs. The registry
//! commands run only in a build with the `registry` feature; a build
//! without it hands them to its helper (registry_commands.rs).
//!
//! What install, upgrade and sync share when they record a file: its checks and
//! questions (record.rs). What install, upgrade and check share: finding and describing a file
//! (inspect.rs), the questions and refusals before anything is recorded
//! (consent.rs, grants.rs, broad_grants.rs, lookalike.rs), and which plugin names a NAME
//! argument completes to (names.rs). What every subcommand uses (the
//! failure type, the index, common arguments) is in common.rs.
//!
//! Every check goes through the same loader loop as start-up, so `install`
//! refuses exactly what start-up would skip, with the same words.

use std::process::ExitCode;

use clap::{ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::ui::{self, Options};

#[cfg(feature = "registry")]
mod artifact;
#[cfg(feature = "registry")]
mod audit;
mod broad_grants;
#[cfg(feature = "registry")]
mod catalog;
#[cfg(feature = "registry")]
mod catalogs;
pub(crate) mod check;
mod common;
mod consent;
mod doctor;
#[cfg(feature = "registry")]
mod export;
mod grant;
mod grants;
mod info;
mod inspect;
mod install;
mod list;
#[cfg(feature = "registry")]
mod lock;
mod lookalike;
mod names;
mod new;
#[cfg(feature = "registry")]
mod outdated;
#[cfg(feature = "registry")]
mod publish;
mod record;
mod registry_commands;
#[cfg(feature = "registry")]
mod search;
#[cfg(feature = "registry")]
mod sign;
mod state;
#[cfg(feature = "registry")]
mod sync;
#[cfg(feature = "registry")]
mod trusted_keys;
mod upgrade;
#[cfg(feature = "registry")]
mod verify;

use names::PluginNames;

/// The name of the command group.
pub const COMMAND: &str = "plugins";

/// The clap definition of `plugins` and its subcommands for `engine`'s
/// host; NAME arguments complete to installed plugins and the plugins
/// `compiled_in` (name, description).
pub(crate) fn command(engine: &Engine, compiled_in: Vec<(String, Option<String>)>) -> Command {
    let ns = engine.ns();
    let names = PluginNames::new(engine.host.paths.index_file(), compiled_in);
    let group = Command::new(COMMAND)
        .about(format!("Install and manage {ns} plugins"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(install::command(ns))
        .subcommand(list::command())
        .subcommand(info::command(&names))
        .subcommand(state::remove_command(&names))
        .subcommand(state::enable_command(&names))
        .subcommand(state::disable_command(&names))
        .subcommand(upgrade::command(&names))
        .subcommand(grant::grant_command(&names))
        .subcommand(grant::revoke_command(&names))
        .subcommand(doctor::command())
        .subcommand(check::command(ns))
        .subcommand(new::command(ns));
    #[cfg(not(feature = "registry"))]
    let group = group.subcommands(registry_commands::listed(engine));
    #[cfg(feature = "registry")]
    let group = group
        .subcommand(publish::command())
        .subcommand(outdated::command())
        .subcommand(lock::command(ns))
        .subcommand(sync::command(ns))
        .subcommand(export::command(ns))
        .subcommand(sign::command(ns))
        .subcommand(trusted_keys::command())
        .subcommand(catalog::command(ns))
        .subcommand(search::command())
        .subcommand(audit::command());
    group
}

/// Runs `plugins <subcommand>` and returns its exit status; a failure is
/// printed as one line.
pub(crate) fn run(engine: &Engine, matches: &ArgMatches, options: &Options) -> ExitCode {
    let result = match matches.subcommand() {
        Some(("install", m)) => install::run(engine, &install::InstallArgs::from(m), options),
        Some(("list", m)) => list::run(engine, &list::ListArgs::from(m), options),
        Some(("info", m)) => info::run(engine, &info::InfoArgs::from(m)),
        Some(("remove", m)) => state::remove(engine, &state::NameArgs::from(m)),
        Some(("enable", m)) => state::set_enabled(engine, &state::NameArgs::from(m), true),
        Some(("disable", m)) => state::set_enabled(engine, &state::NameArgs::from(m), false),
        Some(("upgrade", m)) => upgrade::run(engine, &upgrade::UpgradeArgs::from(m), options),
        Some(("grant", m)) => grant::grant(engine, &grant::GrantArgs::from(m), options),
        Some(("revoke", m)) => grant::revoke(engine, &grant::GrantArgs::from(m)),
        Some(("doctor", m)) => doctor::run(engine, &doctor::DoctorArgs::from(m)),
        Some(("check", m)) => check::run(engine, &check::CheckArgs::from(m), options),
        Some(("new", m)) => new::run(engine, &new::NewArgs::from(m)),
        #[cfg(not(feature = "registry"))]
        Some((name, _)) if registry_commands::is_registry_command(name) => {
            registry_commands::hand_over(engine, &format!("run `{} {COMMAND} {name}`", engine.ns()))
        }
        #[cfg(feature = "registry")]
        Some(("publish", m)) => publish::run(engine, &publish::PublishArgs::from(m), options),
        #[cfg(feature = "registry")]
        Some(("outdated", m)) => outdated::run(engine, &outdated::OutdatedArgs::from(m), options),
        #[cfg(feature = "registry")]
        Some(("lock", m)) => lock::run(engine, &lock::LockArgs::from(engine.ns(), m)),
        #[cfg(feature = "registry")]
        Some(("sync", m)) => sync::run(engine, &sync::SyncArgs::from(engine.ns(), m), options),
        #[cfg(feature = "registry")]
        Some(("export", m)) => export::run(engine, &export::ExportArgs::from(engine.ns(), m)),
        #[cfg(feature = "registry")]
        Some(("sign", m)) => sign::run(engine, &sign::SignArgs::from(m)),
        #[cfg(feature = "registry")]
        Some(("search", m)) => search::run(engine, &search::SearchArgs::from(m), options),
        #[cfg(feature = "registry")]
        Some(("audit", m)) => audit::run(engine, &audit::AuditArgs::from(m)),
        #[cfg(feature = "registry")]
        Some(("catalog", m)) => match catalog::CatalogArgs::from(m) {
            Some(args) => catalog::run(engine, &args, options),
            None => Err(Diagnostic::new("unknown plugins catalog command")
                .with_fix(format!("see `{} {COMMAND} catalog --help`", engine.ns()))
                .into()),
        },
        #[cfg(feature = "registry")]
        Some(("trust", m)) => match trusted_keys::TrustArgs::from(m) {
            Some(args) => trusted_keys::run(engine, &args),
            None => Err(Diagnostic::new("unknown plugins trust command")
                .with_fix(format!("see `{} {COMMAND} trust --help`", engine.ns()))
                .into()),
        },
        _ => Err(Diagnostic::new("unknown plugins command")
            .with_fix(format!("see `{} {COMMAND} --help`", engine.ns()))
            .into()),
    };
    result.unwrap_or_else(|failure| {
        let diagnostic = failure.diagnostic(engine.ns());
        ui::error(engine.ns(), &diagnostic, options);
        ExitCode::from(diagnostic.exit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_a_valid_clap_command() {
        let home = tempfile::tempdir().unwrap();
        let host = crate::host::Host::builder("mycli")
            .home(home.path())
            .build();
        let engine = Engine::new(host, &Command::new("mycli"), COMMAND);
        command(&engine, Vec::new()).debug_assert();
    }
}

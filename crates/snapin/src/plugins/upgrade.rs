//! `plugins upgrade NAME`: describe a plugin's file again after it changed,
//! show what changed, ask, and re-pin it.

use std::process::ExitCode;

use clap::{ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::Index;
use crate::pin;
use crate::ui::Options;

use super::common::{
    Result, force_arg, index_path, index_to_change, not_installed, say, string, trust_owner_arg,
    version_of, yes_arg,
};
use super::consent::{
    check_trust, confirm, question, refuse_broken_commands, refuse_unless_forced, show_trust,
};
use super::grants::{check_grants, refuse_host_dirs};
use super::inspect::inspect;
use super::install::check_against;
use super::lookalike::confirm_lookalikes;
use super::names::{PluginNames, Which};

/// The clap definition of `plugins upgrade`.
pub(super) fn command(names: &PluginNames) -> Command {
    Command::new("upgrade")
        .about("Describe a plugin again and re-pin its file after it changed")
        .arg(names.arg(Which::Installed))
        .arg(yes_arg())
        .arg(force_arg())
        .arg(trust_owner_arg())
}

/// The arguments of `plugins upgrade`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UpgradeArgs {
    pub(super) name: String,
    pub(super) yes: bool,
    pub(super) force: bool,
    pub(super) trust_owner: bool,
}

impl From<&ArgMatches> for UpgradeArgs {
    fn from(m: &ArgMatches) -> UpgradeArgs {
        UpgradeArgs {
            name: string(m, "name"),
            yes: m.get_flag("yes"),
            force: m.get_flag("force"),
            trust_owner: m.get_flag("trust-owner"),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &UpgradeArgs, options: &Options) -> Result {
    let ns = engine.ns();
    let name = args.name.as_str();
    let index = index_to_change(engine)?;
    let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
    let old = index
        .get(name)
        .cloned()
        .ok_or_else(|| not_installed(ns, name, &names))?;
    if !old.path.exists() {
        return Err(Diagnostic::new(format!(
            "cannot upgrade plugin '{name}': its file {} is missing",
            old.path.display()
        ))
        .with_fix(format!(
            "put the new version there, or `{ns} plugins remove {name}`"
        ))
        .into());
    }
    let trusted_owners = check_trust(
        &format!("upgrade plugin '{name}'"),
        &old.path,
        old.trusted_owners.clone(),
        args.trust_owner,
    )?;
    let mut inspected = inspect(
        engine,
        &old.path,
        old.origin.clone(),
        old.grants.clone(),
        options,
    )?;
    inspected.entry.trusted_owners = trusted_owners;
    let entry = &mut inspected.entry;
    if entry.sha256 == old.sha256
        && entry.manifest == old.manifest
        && entry.trusted_owners == old.trusted_owners
    {
        // Nothing the user trusts changed. The file's stamp may have moved
        // (a `chmod`, a copy with the same bytes), and the machine code
        // compiled from a component may differ (another version of the host
        // compiles it differently): record both, or every run would hash
        // the file again and compile the component again.
        let compiled = entry.compiled_sha256.clone();
        if entry.file != old.file || compiled != old.compiled_sha256 {
            let file = entry.file.clone();
            Index::update(&index_path(engine), |index| {
                if let Some(slot) = index.get_mut(name)
                    && slot.sha256 == old.sha256
                {
                    slot.file = file;
                    slot.compiled_sha256 = compiled;
                }
                Ok::<_, super::common::Failure>(())
            })?;
        }
        println!(
            "plugin '{name}' is up to date (sha256 {})",
            pin::short(&old.sha256)
        );
        return Ok(ExitCode::SUCCESS);
    }
    if entry.name != old.name {
        return Err(Diagnostic::new(format!(
            "cannot upgrade plugin '{name}': the file at {} now describes itself as '{}'",
            old.path.display(),
            entry.name
        ))
        .with_fix(format!(
            "`{ns} plugins remove {name}` and install it under its new name"
        ))
        .into());
    }
    entry.enabled = old.enabled;
    let outcome = check_against(engine, &index, entry);
    refuse_unless_forced(engine, "upgrade", &outcome, &inspected, args.force)?;
    let entry = inspected.entry;
    refuse_broken_commands(engine, "upgrade", &entry, args.force)?;
    check_grants(&entry).map_err(|d| {
        Diagnostic::new(format!(
            "{}: the new release asks for less than was granted",
            d.what()
        ))
        .with_fix(format!(
            "take back what it no longer asks for, then upgrade again: `{ns} plugins revoke {name} --all`"
        ))
    })?;
    refuse_host_dirs(
        engine,
        &format!("upgrade plugin '{name}'"),
        &entry,
        |grant| crate::engine::revoke_fix(ns, name, grant),
    )?;
    show_trust(engine, &entry, Some(&old));
    confirm_lookalikes(engine, &index, &entry, Some(&old), args.yes, options)?;
    confirm(ns, &question(&entry, Some(&old)), args.yes)?;
    Index::update(&index_path(engine), |index| {
        let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
        let slot = index
            .get_mut(name)
            .ok_or_else(|| not_installed(ns, name, &names))?;
        *slot = entry.clone();
        Ok::<_, super::common::Failure>(())
    })?;
    say(&format!(
        "upgraded plugin '{name}' {} -> {} (sha256 {})",
        version_of(&old),
        version_of(&entry),
        pin::short(&entry.sha256)
    ));
    Ok(ExitCode::SUCCESS)
}

//! `plugins upgrade NAME|--all`: for a plugin from a registry, move to the
//! newest version this host can run (artifact.rs); for one installed from a
//! path, describe its file again after it changed, show what changed, ask,
//! and re-pin it.

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Index, Origin};
use crate::pin;
use crate::ui::Options;

use super::common::{
    Result, force_arg, index_path, index_to_change, not_installed, require_signatures_arg, say,
    trust_owner_arg, version_of, yes_arg,
};
use super::consent::check_trust;
use super::inspect::inspect;
use super::names::{PluginNames, Which};
use super::record::{Choices, replace};

/// The clap definition of `plugins upgrade`.
pub(super) fn command(names: &PluginNames) -> Command {
    Command::new("upgrade")
        .about("Move a registry plugin to its newest compatible version, or re-pin a file that changed")
        .arg(
            names
                .arg(Which::Installed)
                .required(false)
                .required_unless_present("all")
                .conflicts_with("all"),
        )
        .arg(
            Arg::new("all")
                .long("all")
                .action(ArgAction::SetTrue)
                .help("Upgrade every installed plugin"),
        )
        .arg(
            Arg::new("dry-run")
                .long("dry-run")
                .action(ArgAction::SetTrue)
                .help("Show what would change, and change nothing"),
        )
        .arg(yes_arg())
        .arg(force_arg())
        .arg(trust_owner_arg())
        .arg(require_signatures_arg())
}

/// The arguments of `plugins upgrade`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct UpgradeArgs {
    /// The plugin, or none with `--all`.
    pub(super) name: Option<String>,
    pub(super) all: bool,
    pub(super) dry_run: bool,
    pub(super) yes: bool,
    pub(super) force: bool,
    pub(super) trust_owner: bool,
    pub(super) require_signatures: bool,
}

impl UpgradeArgs {
    /// The choices that apply to recording the new release.
    pub(super) fn choices(&self) -> Choices {
        Choices {
            grants: Vec::new(),
            yes: self.yes,
            force: self.force,
            trust_owner: self.trust_owner,
            require_signatures: self.require_signatures,
        }
    }
}

impl From<&ArgMatches> for UpgradeArgs {
    fn from(m: &ArgMatches) -> UpgradeArgs {
        UpgradeArgs {
            name: m.get_one::<String>("name").cloned(),
            all: m.get_flag("all"),
            dry_run: m.get_flag("dry-run"),
            yes: m.get_flag("yes"),
            force: m.get_flag("force"),
            trust_owner: m.get_flag("trust-owner"),
            require_signatures: m.get_flag("require-signatures"),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &UpgradeArgs, options: &Options) -> Result {
    let ns = engine.ns();
    let index = index_to_change(engine)?;
    let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
    // A build that hands registry commands over hands over the whole
    // upgrade when it involves a registry plugin, before changing anything.
    #[cfg(not(feature = "registry"))]
    if engine.host.registry_helper.is_some()
        && index.plugins.iter().any(|e| {
            matches!(e.origin, Origin::Oci(_)) && args.name.as_ref().is_none_or(|n| *n == e.name)
        })
    {
        return super::registry_commands::hand_over(engine, "upgrade registry plugins");
    }
    let Some(name) = &args.name else {
        // `--all`: each plugin in turn; one that fails is reported and the
        // rest go on.
        let mut failed = 0;
        for name in &names {
            if let Err(failure) = upgrade_one(engine, &index, name, args, options) {
                crate::ui::error(ns, &failure.diagnostic(ns), options);
                failed += 1;
            }
        }
        return if failed == 0 {
            Ok(ExitCode::SUCCESS)
        } else {
            Err(Diagnostic::new(format!(
                "{failed} of {} plugins could not be upgraded",
                names.len()
            ))
            .with_fix("see the errors above")
            .into())
        };
    };
    index
        .get(name)
        .ok_or_else(|| not_installed(ns, name, &names))?;
    upgrade_one(engine, &index, name, args, options)?;
    Ok(ExitCode::SUCCESS)
}

fn upgrade_one(
    engine: &Engine,
    index: &Index,
    name: &str,
    args: &UpgradeArgs,
    options: &Options,
) -> Result<()> {
    let ns = engine.ns();
    let Some(old) = index.get(name).cloned() else {
        return Ok(());
    };
    if let Origin::Oci(_) = &old.origin {
        #[cfg(feature = "registry")]
        return super::artifact::upgrade(
            engine,
            index,
            &old,
            args.dry_run,
            &args.choices(),
            options,
        );
        #[cfg(not(feature = "registry"))]
        return super::registry_commands::hand_over(engine, &format!("upgrade plugin '{name}'"))
            .map(|_| ());
    }
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
        return Ok(());
    }
    if args.dry_run {
        say(&format!(
            "plugin '{name}' {} -> {} (sha256 {} -> {}): would re-pin",
            version_of(&old),
            version_of(entry),
            pin::short(&old.sha256),
            pin::short(&entry.sha256)
        ));
        return Ok(());
    }
    let entry = replace(engine, index, &old, inspected, &args.choices(), options)?;
    say(&format!(
        "upgraded plugin '{name}' {} -> {} (sha256 {})",
        version_of(&old),
        version_of(&entry),
        pin::short(&entry.sha256)
    ));
    Ok(())
}

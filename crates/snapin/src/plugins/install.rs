//! `plugins install SOURCE`: find the file, check who can change it,
//! describe it, run the loader's checks, ask, then record it.

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Grants, Index};
use crate::loader::{self, Check, Claimant, Outcome, Status};
use crate::ui::Options;

use super::broad_grants::confirm_broad_grants;
use super::common::{
    Result, commands_of, force_arg, index_path, index_to_change, say, source_arg, string,
    trust_owner_arg, version_of, yes_arg,
};
use super::consent::{
    check_trust, confirm, question, refuse_broken_commands, refuse_unless_forced, show_trust,
};
use super::grants::{check_grants, grant_elsewhere, parse_grants, prompt_grants, refuse_host_dirs};
use super::inspect::{inspect, resolve_source};
use super::lookalike::confirm_lookalikes;

/// The clap definition of `plugins install`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("install")
        .about("Describe, check, pin and record a plugin")
        .arg(source_arg(format!(
            "Path to a plugin executable, or NAME of a `{ns}-NAME` executable on PATH"
        )))
        .arg(
            Arg::new("grant")
                .long("grant")
                .value_name("WHAT=TARGET")
                .action(ArgAction::Append)
                .help("Let a sandboxed plugin reach read=DIR, write=DIR or env=NAME (repeatable)"),
        )
        .arg(yes_arg())
        .arg(force_arg())
        .arg(trust_owner_arg())
}

/// The arguments of `plugins install`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InstallArgs {
    pub(super) source: String,
    pub(super) grants: Vec<String>,
    pub(super) yes: bool,
    pub(super) force: bool,
    pub(super) trust_owner: bool,
}

impl From<&ArgMatches> for InstallArgs {
    fn from(m: &ArgMatches) -> InstallArgs {
        InstallArgs {
            source: string(m, "source"),
            grants: m
                .get_many::<String>("grant")
                .map(|g| g.cloned().collect())
                .unwrap_or_default(),
            yes: m.get_flag("yes"),
            force: m.get_flag("force"),
            trust_owner: m.get_flag("trust-owner"),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &InstallArgs, options: &Options) -> Result {
    let ns = engine.ns();
    let (path, origin) = resolve_source(ns, &args.source)?;
    let what = format!("install {}", path.display());
    let trusted_owners = check_trust(&what, &path, Vec::new(), args.trust_owner)?;
    let index = index_to_change(engine)?;
    let mut inspected = inspect(engine, &path, origin, parse_grants(&args.grants)?, options)?;
    inspected.entry.trusted_owners = trusted_owners;
    let name = inspected.entry.name.clone();
    if let Some(existing) = index.get(&name) {
        return Err(Diagnostic::new(format!(
            "plugin '{name}' is already installed from {}",
            existing.path.display()
        ))
        .with_fix(if args.grants.is_empty() {
            format!(
                "`{ns} plugins upgrade {name}` to re-pin it, or `{ns} plugins remove {name}` first"
            )
        } else {
            format!(
                "to change what it may reach: `{ns} plugins grant {name} {}`",
                args.grants.join(" ")
            )
        })
        .into());
    }
    let outcome = check_against(engine, &index, &inspected.entry);
    refuse_unless_forced(engine, "install", &outcome, &inspected, args.force)?;
    refuse_broken_commands(engine, "install", &inspected.entry, args.force)?;
    let mut entry = inspected.entry;
    show_trust(engine, &entry, None);
    confirm_lookalikes(engine, &index, &entry, None, args.yes, options)?;
    if args.grants.is_empty() && !args.yes {
        prompt_grants(&mut entry)?;
    }
    check_grants(&entry)?;
    refuse_host_dirs(engine, &format!("install plugin '{name}'"), &entry, |_| {
        grant_elsewhere(engine, &name)
    })?;
    confirm_broad_grants(engine, &entry, &Grants::default(), args.yes, options)?;
    confirm(ns, &question(&entry, None), args.yes)?;
    Index::update(&index_path(engine), |index| {
        if index.get(&name).is_some() {
            return Err(Diagnostic::new(format!(
                "plugin '{name}' was installed meanwhile by another {ns} process"
            ))
            .with_fix(format!("see it with `{ns} plugins info {name}`"))
            .into());
        }
        index.plugins.push(entry.clone());
        Ok::<_, super::common::Failure>(())
    })?;
    say(&format!(
        "installed plugin '{}' {}{}",
        name,
        version_of(&entry),
        commands_of(&entry)
            .map(|c| format!(": commands {c}"))
            .unwrap_or_default()
    ));
    if outcome.status != Status::Ok {
        say(&format!(
            "it will not run until this is fixed: {}",
            outcome.status_line()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the loader would say of `entry` next to the plugins in `index`
/// (except one of the same name), with a conflict's fix for a plugin not
/// recorded yet in this form.
pub(super) fn check_against(engine: &Engine, index: &Index, entry: &Entry) -> Outcome {
    let mut others = index.clone();
    others.plugins.retain(|e| e.name != entry.name);
    others.plugins.push(entry.clone());
    let loaded = engine.run_loader(others, false);
    let mut outcome = loaded
        .outcomes
        .into_iter()
        .next_back()
        .expect("the loader returns one outcome per candidate");
    if outcome.check == Some(Check::Conflict)
        && let Some(m) = &entry.manifest
        && let Err(c) = loader::conflicts(m, &engine.loader_settings(false), &loaded.taken)
    {
        outcome.fix = Some(c.fix(engine.ns(), &entry.name, Claimant::Recording));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arguments_are_parsed_once_into_a_struct() {
        let m = command("mycli").get_matches_from([
            "install",
            "./mycli-greet",
            "--grant",
            "env=HOME",
            "--grant",
            "read=/tmp",
            "-y",
            "--trust-owner",
        ]);
        assert_eq!(
            InstallArgs::from(&m),
            InstallArgs {
                source: "./mycli-greet".to_string(),
                grants: vec!["env=HOME".to_string(), "read=/tmp".to_string()],
                yes: true,
                force: false,
                trust_owner: true,
            }
        );
    }
}

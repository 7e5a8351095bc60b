//! `plugins grant NAME WHAT=TARGET...` and `plugins revoke NAME
//! WHAT=TARGET...` (or `--all`): change what an installed sandboxed plugin
//! may reach, without re-installing it. A grant follows the rules and
//! questions of `install --grant`; taking one back needs no question.

use std::path::Path;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Grants, Index};
use crate::ui::{self, Options};

use super::broad_grants::confirm_broad_grants;
use super::common::{Failure, Result, index_path, index_to_change, not_installed, string, yes_arg};
use super::consent::confirm;
use super::grants::{
    check_grants, describe_requests, grant_elsewhere, parse_grants, refuse_host_dirs,
};
use super::names::{PluginNames, Which};

/// The clap definition of `plugins grant`.
pub(super) fn grant_command(names: &PluginNames) -> Command {
    Command::new("grant")
        .about("Let an installed sandboxed plugin reach more of what it asks for")
        .arg(names.arg(Which::Installed))
        .arg(
            Arg::new("grants")
                .value_name("WHAT=TARGET")
                .num_args(1..)
                .required(true)
                .help("read=DIR, write=DIR or env=NAME"),
        )
        .arg(yes_arg())
}

/// The clap definition of `plugins revoke`.
pub(super) fn revoke_command(names: &PluginNames) -> Command {
    Command::new("revoke")
        .about("Take back what a sandboxed plugin was granted")
        .arg(names.arg(Which::Installed))
        .arg(
            Arg::new("grants")
                .value_name("WHAT=TARGET")
                .num_args(1..)
                .required_unless_present("all")
                .conflicts_with("all")
                .help("read=DIR or write=DIR (either takes back the grant of DIR), or env=NAME"),
        )
        .arg(
            Arg::new("all")
                .long("all")
                .action(ArgAction::SetTrue)
                .help("Take back everything it was granted"),
        )
}

/// The arguments of `plugins grant` and `plugins revoke`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GrantArgs {
    pub(super) name: String,
    pub(super) grants: Vec<String>,
    /// `--yes` (grant only).
    pub(super) yes: bool,
    /// `--all` (revoke only).
    pub(super) all: bool,
}

impl From<&ArgMatches> for GrantArgs {
    fn from(m: &ArgMatches) -> GrantArgs {
        let flag = |id: &str| m.try_get_one::<bool>(id).ok().flatten() == Some(&true);
        GrantArgs {
            name: string(m, "name"),
            grants: m
                .get_many::<String>("grants")
                .map(|g| g.cloned().collect())
                .unwrap_or_default(),
            yes: flag("yes"),
            all: flag("all"),
        }
    }
}

/// The installed entry of plugin `name`.
fn installed(engine: &Engine, name: &str) -> Result<Entry> {
    let index = index_to_change(engine)?;
    let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
    index
        .get(name)
        .cloned()
        .ok_or_else(|| not_installed(engine.ns(), name, &names))
}

/// Records `grants` for plugin `name`, unless its entry changed since it
/// was read as `read` (another process upgraded it or changed its grants).
fn record(engine: &Engine, read: &Entry, grants: &Grants) -> Result<()> {
    let (ns, name) = (engine.ns(), read.name.as_str());
    Index::update(&index_path(engine), |index| {
        let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
        let slot = index
            .get_mut(name)
            .ok_or_else(|| not_installed(ns, name, &names))?;
        if slot.grants != read.grants || slot.sha256 != read.sha256 {
            return Err(Diagnostic::new(format!(
                "plugin '{name}' was changed meanwhile by another {ns} process; nothing was changed"
            ))
            .with_fix(format!("see it with `{ns} plugins info {name}`"))
            .into());
        }
        slot.grants = grants.clone();
        Ok::<_, Failure>(())
    })
}

pub(super) fn grant(engine: &Engine, args: &GrantArgs, options: &Options) -> Result {
    let (ns, name) = (engine.ns(), args.name.as_str());
    let old = installed(engine, name)?;
    let mut entry = old.clone();
    let added = parse_grants(&args.grants)?;
    for dir in added.dirs {
        match entry.grants.dirs.iter_mut().find(|d| d.path == dir.path) {
            Some(held) => held.write |= dir.write,
            None => entry.grants.dirs.push(dir),
        }
    }
    for env in added.env {
        if !entry.grants.env.contains(&env) {
            entry.grants.env.push(env);
        }
    }
    if entry.grants == old.grants {
        println!("plugin '{name}' already has that: {}", old.grants);
        return Ok(ExitCode::SUCCESS);
    }
    check_grants(&entry)?;
    refuse_host_dirs(
        engine,
        &format!("grant that to plugin '{name}'"),
        &entry,
        |_| grant_elsewhere(engine, name),
    )?;
    confirm_broad_grants(engine, &entry, &old.grants, args.yes, options)?;
    let requests = entry
        .manifest
        .as_ref()
        .map(describe_requests)
        .unwrap_or_default();
    ui::notice(&format!(
        "Plugin '{name}'\n  requests: {requests}\n  grants:   {} -> {}\n",
        old.grants, entry.grants
    ));
    confirm(
        ns,
        &format!("Let '{name}' reach {}?", entry.grants),
        args.yes,
    )?;
    record(engine, &old, &entry.grants)?;
    println!("plugin '{name}' is granted: {}", entry.grants);
    Ok(ExitCode::SUCCESS)
}

pub(super) fn revoke(engine: &Engine, args: &GrantArgs) -> Result {
    let (ns, name) = (engine.ns(), args.name.as_str());
    let old = installed(engine, name)?;
    let mut grants = old.grants.clone();
    if args.all {
        grants = Grants::default();
    }
    for value in &args.grants {
        let held = |grants: &Grants| grants.dirs.len() + grants.env.len();
        let before = held(&grants);
        match value.split_once('=') {
            Some(("read" | "write", dir)) => {
                // The directory may be gone: match it as given, or resolved.
                let resolved = dunce::canonicalize(dir).ok();
                grants
                    .dirs
                    .retain(|d| d.path != Path::new(dir) && Some(&d.path) != resolved.as_ref());
            }
            Some(("env", var)) => grants.env.retain(|e| e != var),
            _ => {
                return Err(Diagnostic::new(format!("{value:?} is not understood"))
                    .with_fix("use read=DIR, write=DIR or env=NAME")
                    .into());
            }
        }
        if held(&grants) == before {
            return Err(Diagnostic::new(format!(
                "plugin '{name}' holds no grant of {value} (it is granted: {}); nothing was changed",
                old.grants
            ))
            .with_fix(format!("see its grants with `{ns} plugins info {name}`"))
            .into());
        }
    }
    if grants == old.grants {
        println!("plugin '{name}' is granted nothing");
        return Ok(ExitCode::SUCCESS);
    }
    record(engine, &old, &grants)?;
    println!("plugin '{name}' is granted: {grants}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> PluginNames {
        PluginNames::new("/nonexistent/plugins.json".into(), Vec::new())
    }

    #[test]
    fn the_arguments_are_parsed_once_into_a_struct() {
        let m = grant_command(&names()).get_matches_from([
            "grant",
            "wescape",
            "read=/tmp",
            "env=LANG",
            "--yes",
        ]);
        assert_eq!(
            GrantArgs::from(&m),
            GrantArgs {
                name: "wescape".to_string(),
                grants: vec!["read=/tmp".to_string(), "env=LANG".to_string()],
                yes: true,
                all: false,
            }
        );
        let m = revoke_command(&names()).get_matches_from(["revoke", "wescape", "--all"]);
        assert_eq!(
            GrantArgs::from(&m),
            GrantArgs {
                name: "wescape".to_string(),
                grants: Vec::new(),
                yes: false,
                all: true,
            }
        );
        assert!(
            revoke_command(&names())
                .try_get_matches_from(["revoke", "wescape"])
                .is_err()
        );
    }
}

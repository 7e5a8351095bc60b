//! `plugins remove`, `enable` and `disable`: change what the index says of
//! one installed plugin.

use std::process::ExitCode;

use clap::{ArgMatches, Command};

use crate::engine::Engine;
use crate::index::{Entry, Index, Origin};

use super::common::{Failure, Result, index_path, not_installed, say, string, version_of};
use super::names::{PluginNames, Which};

/// The clap definition of `plugins remove`.
pub(super) fn remove_command(names: &PluginNames) -> Command {
    Command::new("remove")
        .visible_alias("uninstall")
        .about("Forget a plugin (a file installed from a path is left in place)")
        .arg(names.arg(Which::Installed))
}

/// The clap definition of `plugins enable`.
pub(super) fn enable_command(names: &PluginNames) -> Command {
    Command::new("enable")
        .about("Turn a disabled plugin back on")
        .arg(names.arg(Which::Disabled))
}

/// The clap definition of `plugins disable`.
pub(super) fn disable_command(names: &PluginNames) -> Command {
    Command::new("disable")
        .about("Keep a plugin installed but add none of its commands")
        .arg(names.arg(Which::Enabled))
}

/// The argument of `remove`, `enable` and `disable`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NameArgs {
    pub(super) name: String,
}

impl From<&ArgMatches> for NameArgs {
    fn from(m: &ArgMatches) -> NameArgs {
        NameArgs {
            name: string(m, "name"),
        }
    }
}

pub(super) fn remove(engine: &Engine, args: &NameArgs) -> Result {
    let (ns, name) = (engine.ns(), args.name.as_str());
    let removed = Index::update(&index_path(engine), |index| {
        let Some(at) = index.plugins.iter().position(|e| e.name == name) else {
            let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
            return Err(not_installed(ns, name, &names));
        };
        Ok(index.plugins.remove(at))
    })?;
    if matches!(removed.origin, Origin::Oci(_)) {
        remove_placed(engine, &removed);
        say(&format!(
            "removed plugin '{name}' {} and its file",
            version_of(&removed)
        ));
    } else {
        say(&format!(
            "removed plugin '{name}' {} (its file {} was left in place)",
            version_of(&removed),
            removed.path.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Removes the directory holding a file the host placed for a plugin
/// installed from an artifact, after its entry left the index. A path
/// outside the host's installed files is never touched.
pub(super) fn remove_placed(engine: &Engine, entry: &Entry) {
    let root = engine.host.paths.installed_files();
    if let (Origin::Oci(_), Some(dir)) = (&entry.origin, entry.path.parent())
        && dir.starts_with(&root)
        && dir
            .parent()
            .is_some_and(|p| p != root && p.starts_with(&root))
        && let Err(e) = std::fs::remove_dir_all(dir)
    {
        tracing::warn!("cannot remove {}: {e}", dir.display());
    }
}

pub(super) fn set_enabled(engine: &Engine, args: &NameArgs, enabled: bool) -> Result {
    let (ns, name) = (engine.ns(), args.name.as_str());
    let changed = Index::update(&index_path(engine), |index| {
        let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
        let entry = index
            .get_mut(name)
            .ok_or_else(|| not_installed(ns, name, &names))?;
        let changed = entry.enabled != enabled;
        entry.enabled = enabled;
        Ok::<_, Failure>(changed)
    })?;
    let word = if enabled { "enabled" } else { "disabled" };
    if changed {
        println!("{word} plugin '{name}'");
    } else {
        println!("plugin '{name}' was already {word}");
    }
    Ok(ExitCode::SUCCESS)
}

//! Recording a described plugin file in the index: the checks and
//! questions that installing a file (from a path or an artifact) and
//! replacing an installed one share, and the loader's verdict on it beside
//! the plugins already there.

use snapin_protocol::Manifest;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Grants, Index, Origin};
use crate::loader::{self, Check, Claimant, Outcome, Status};
use crate::ui::Options;

use super::broad_grants::confirm_broad_grants;
use super::common::{
    Result, commands_of, index_path, index_to_change, not_installed, say, version_of,
};
use super::consent::{
    check_trust, confirm, question, refuse_broken_commands, refuse_unless_forced, show_trust,
};
use super::grants::{check_grants, grant_elsewhere, parse_grants, prompt_grants, refuse_host_dirs};
use super::inspect::{Inspected, inspect};
use super::lookalike::confirm_lookalikes;

/// What the user chose on the command line of an install or upgrade.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Choices {
    /// `--grant WHAT=TARGET` values.
    pub(super) grants: Vec<String>,
    pub(super) yes: bool,
    pub(super) force: bool,
    pub(super) trust_owner: bool,
    /// `--require-signatures`: refuse a registry plugin no trusted key
    /// signed.
    pub(super) require_signatures: bool,
}

/// Installs the plugin file at `path`, which came from `origin`. A file
/// fetched from an artifact comes with the manifest `published` with it,
/// which its describe output must equal.
pub(super) fn install_file(
    engine: &Engine,
    path: &std::path::Path,
    origin: Origin,
    source: &str,
    args: &Choices,
    options: &Options,
    published: Option<&Manifest>,
) -> Result<Entry> {
    let ns = engine.ns();
    let what = format!("install {}", path.display());
    let trusted_owners = check_trust(&what, path, Vec::new(), args.trust_owner)?;
    let index = index_to_change(engine)?;
    let mut inspected = inspect(engine, path, origin, parse_grants(&args.grants)?, options)?;
    inspected.entry.trusted_owners = trusted_owners;
    refuse_unpublished(source, &inspected.entry, published)?;
    let name = inspected.entry.name.clone();
    if let Some(existing) = index.get(&name) {
        return Err(Diagnostic::new(format!(
            "plugin '{name}' is already installed from {}",
            match &existing.origin {
                Origin::Oci(_) => existing.origin.to_string(),
                _ => existing.path.display().to_string(),
            }
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
    Ok(entry)
}

/// Refuses a fetched file whose describe output is not the manifest
/// `published` with it: what a host reads before downloading must be what
/// it runs.
pub(super) fn refuse_unpublished(
    source: &str,
    entry: &Entry,
    published: Option<&Manifest>,
) -> std::result::Result<(), Diagnostic> {
    let Some(published) = published else {
        return Ok(());
    };
    if entry.manifest.as_ref() == Some(published) {
        return Ok(());
    }
    let said = match &entry.manifest {
        Some(m) => format!("'{}' {}", m.name, m.version),
        None => "nothing it could describe".to_string(),
    };
    Err(Diagnostic::new(format!(
        "refused {source}: the file describes itself ({said}) differently from the manifest published with it ('{}' {})",
        published.name, published.version
    ))
    .with_fix("tell the plugin's publisher; publish it again with `plugins publish`, which writes the file's own manifest"))
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

/// Records `inspected` in place of `old` after the checks and questions an
/// upgrade asks: the same name, the loader's verdict, the grants, the
/// owners, look-alike names, and the user's yes.
pub(super) fn replace(
    engine: &Engine,
    index: &Index,
    old: &Entry,
    mut inspected: Inspected,
    args: &Choices,
    options: &Options,
) -> Result<Entry> {
    let ns = engine.ns();
    let name = old.name.as_str();
    let entry = &mut inspected.entry;
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
    let outcome = check_against(engine, index, entry);
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
    show_trust(engine, &entry, Some(old));
    confirm_lookalikes(engine, index, &entry, Some(old), args.yes, options)?;
    confirm(ns, &question(&entry, Some(old)), args.yes)?;
    Index::update(&index_path(engine), |index| {
        let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
        let slot = index
            .get_mut(name)
            .ok_or_else(|| not_installed(ns, name, &names))?;
        if slot.sha256 != old.sha256 || slot.origin != old.origin {
            return Err(Diagnostic::new(format!(
                "plugin '{name}' was changed meanwhile by another {ns} process"
            ))
            .with_fix(format!(
                "see it with `{ns} plugins info {name}`, then upgrade again"
            ))
            .into());
        }
        *slot = entry.clone();
        Ok::<_, super::common::Failure>(())
    })?;
    Ok(entry)
}

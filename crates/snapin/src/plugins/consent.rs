//! What install and upgrade check and ask before they record a plugin: who
//! can change its file, whether the loader would take it, what the user is
//! about to trust, and their yes.

use std::fmt::Write as _;
use std::path::Path;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Kind, Origin};
use crate::loader::{Check, Outcome, Status};
use crate::trust;
use crate::ui;

use super::check;
use super::common::{commands_of, version_of};
use super::inspect::Inspected;

/// Checks, before the file at `path` is described (which runs it), that
/// only the user, root and the owners in `trusted` can change it (see
/// [`trust`]): a refusal here is not overridden by `--force`. With
/// `--trust-owner`, the other owners found on its path are trusted first.
/// Returns the owners to record for the plugin.
pub(super) fn check_trust(
    what: &str,
    path: &Path,
    trusted: Vec<u32>,
    trust_owner: bool,
) -> Result<Vec<u32>, Diagnostic> {
    trust::check_trusting(path, trusted, trust_owner).map_err(|e| {
        Diagnostic::new(format!("cannot {what}: {e}"))
            .with_fix(e.fix_or_trust("re-run with `--trust-owner`"))
    })
}

/// Stops an install or upgrade the loader would refuse, unless `--force`.
/// The fix is the loader's, except where it speaks of a plugin that is
/// already installed, or where the runtime knows better why the plugin
/// could not describe itself.
pub(super) fn refuse_unless_forced(
    engine: &Engine,
    verb: &str,
    outcome: &Outcome,
    inspected: &Inspected,
    force: bool,
) -> Result<(), Diagnostic> {
    if outcome.status == Status::Ok || force {
        return Ok(());
    }
    let (ns, name) = (engine.ns(), &outcome.name);
    let runtime_fix = inspected.describe_error.as_ref().and_then(|e| e.fix());
    let fix = match (outcome.check, runtime_fix) {
        (Some(Check::Describe), Some(fix)) => fix.to_string(),
        (Some(Check::Gate), _) => format!(
            "install a release of {name} built for {ns} API {}",
            engine.host.apis.majors()
        ),
        (Some(Check::Describe | Check::Contract), _) => format!(
            "it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `{ns} --debug plugins {verb} ...` shows what it printed"
        ),
        _ => outcome.fix.clone().unwrap_or_default(),
    };
    let why = outcome.reason.as_deref().unwrap_or(outcome.status.as_str());
    Err(
        Diagnostic::new(format!("cannot {verb} plugin '{name}': {why}")).with_fix(format!(
            "{fix} (or `--force` to record it anyway; it will not run until it passes)"
        )),
    )
}

/// Stops an install or upgrade of a plugin whose commands clap refuses or
/// whose `--help` does not render (the `clap` and `help` steps of
/// `plugins check`), unless `--force`.
pub(super) fn refuse_broken_commands(
    engine: &Engine,
    verb: &str,
    entry: &Entry,
    force: bool,
) -> Result<(), Diagnostic> {
    let Some(manifest) = entry.manifest.as_ref().filter(|_| !force) else {
        return Ok(());
    };
    check::commands_render(engine, manifest).map_err(|line| {
        Diagnostic::new(format!(
            "cannot {verb} plugin '{}': {}",
            entry.name, line.detail
        ))
        .with_fix(format!(
            "{} (or `--force` to record it anyway)",
            line.fix.unwrap_or_default()
        ))
    })
}

/// Shows what the user is about to trust, on stderr (stdout stays for
/// results).
pub(super) fn show_trust(engine: &Engine, entry: &Entry, previous: Option<&Entry>) {
    let ns = engine.ns();
    let m = entry.manifest.as_ref();
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Plugin '{}' {} ({})",
        entry.name,
        version_of(entry),
        entry.kind.as_str()
    );
    if let Some(description) = m.and_then(|m| m.description.as_ref()) {
        let _ = writeln!(text, "  {description}");
    }
    let _ = writeln!(text, "  path:     {}", entry.path.display());
    let _ = writeln!(text, "  origin:   {}", entry.origin);
    if let Origin::Oci(o) = &entry.origin {
        match &o.signer {
            Some(signer) => {
                let _ = writeln!(text, "  signer:   {} ({})", signer.id, signer.key);
            }
            None => {
                let _ = writeln!(
                    text,
                    "  signer:   none: it is not signed, so nothing shows who published it"
                );
            }
        }
    }
    if !entry.trusted_owners.is_empty() {
        let _ = writeln!(text, "  trusts:   {}", owners_of(entry));
    }
    match previous {
        Some(prev) => {
            let _ = writeln!(
                text,
                "  version:  {} -> {}",
                version_of(prev),
                version_of(entry)
            );
            let _ = writeln!(text, "  sha256:   {} -> {}", prev.sha256, entry.sha256);
        }
        None => {
            let _ = writeln!(text, "  sha256:   {}", entry.sha256);
        }
    }
    if let Some(m) = m {
        let _ = writeln!(
            text,
            "  api:      {} ({})",
            m.api,
            engine.host.apis.provides(ns, &m.api)
        );
    }
    let _ = writeln!(
        text,
        "  commands: {}",
        commands_of(entry).unwrap_or_else(|| "(none: it could not describe itself)".to_string())
    );
    if entry.kind == Kind::Wasm {
        if let Some(m) = m.filter(|m| !m.capabilities.is_empty()) {
            let _ = writeln!(text, "  requests: {}", super::grants::describe_requests(m));
        }
        let _ = writeln!(text, "  grants:   {}", entry.grants);
        let _ = writeln!(
            text,
            "It runs in a sandbox: no files, network or environment beyond what is granted."
        );
    } else {
        let _ = writeln!(
            text,
            "It runs as you, with your permissions, whenever you use one of its commands."
        );
    }
    ui::notice(&text);
}

/// The final question of an install (or, with the `previous` entry, an
/// upgrade), restating what the yes grants, so that nothing printed above
/// it can change what the user agrees to: `Install plugin 'greet' 0.2.0
/// and grant read /home/u/docs?`.
pub(super) fn question(entry: &Entry, previous: Option<&Entry>) -> String {
    let what = match previous {
        Some(prev) => format!(
            "Upgrade plugin '{}' {} -> {}",
            entry.name,
            version_of(prev),
            version_of(entry)
        ),
        None => format!("Install plugin '{}' {}", entry.name, version_of(entry)),
    };
    let unsigned = match &entry.origin {
        Origin::Oci(o) if o.signer.is_none() => " (unsigned)",
        _ => "",
    };
    let what = format!("{what}{unsigned}");
    let grant = match entry.kind {
        Kind::Wasm if entry.grants.is_empty() => " in its sandbox, granting nothing".to_string(),
        Kind::Wasm => format!(" and grant {}", entry.grants),
        _ => ", to run as you with your permissions".to_string(),
    };
    format!("{what}{grant}?")
}

/// The other users trusted to own the plugin's file, in one line.
pub(super) fn owners_of(entry: &Entry) -> String {
    let uids: Vec<String> = entry
        .trusted_owners
        .iter()
        .map(|u| format!("uid {u}"))
        .collect();
    format!(
        "{} (owner of its file or a directory above it)",
        uids.join(", ")
    )
}

/// Asks on the terminal; without one, only `--yes` says yes.
pub(super) fn confirm(ns: &str, question: &str, yes: bool) -> Result<(), Diagnostic> {
    if yes {
        return Ok(());
    }
    if !ui::can_ask() {
        return Err(Diagnostic::new(format!(
            "not confirmed: stdin is not a terminal, so {ns} cannot ask"
        ))
        .with_fix("re-run with --yes if you trust this plugin"));
    }
    let answer = ui::ask(&format!("{question} [y/N] "))
        .map_err(|e| Diagnostic::new(format!("cannot read the answer: {e}")))?;
    if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Diagnostic::new("not confirmed: nothing was changed"))
    }
}

//! Look-alike names: a new plugin or command named within a slip or two
//! of a known one is pointed out before it is installed.

use crate::host::App;
use crate::index::{Entry, Index, Kind};

use super::Result;
use super::install::confirm;

/// Whether a new name `new` could be mistaken for the known name `known`:
/// at most one edit (a letter added, dropped or changed, or two neighbours
/// swapped) apart when the shorter is under 6 characters, two from 6 on.
/// Identical names are not look-alikes: they are conflicts, refused
/// elsewhere.
pub(super) fn looks_like(new: &str, known: &str) -> bool {
    let shorter = new.chars().count().min(known.chars().count());
    let slips = if shorter >= 6 { 2 } else { 1 };
    let distance = strsim::damerau_levenshtein(new, known);
    distance > 0 && distance <= slips
}

/// The plugin's name and its top-level command names and aliases.
pub(super) fn names_of(entry: &Entry) -> Vec<String> {
    let commands = entry.manifest.iter().flat_map(|m| &m.commands);
    std::iter::once(entry.name.clone())
        .chain(commands.flat_map(|c| std::iter::once(&c.name).chain(&c.aliases).cloned()))
        .collect()
}

/// Pairs (new name, known name, what the known name is) where a name
/// `entry` brings looks like a built-in command, a plugin compiled in, an
/// installed plugin, or one of their commands: a plugin named to be
/// mistaken for another (typosquatting). Names `previous` (the release
/// being upgraded) already had are not new.
pub(super) fn lookalikes(
    app: &App,
    index: &Index,
    entry: &Entry,
    previous: Option<&Entry>,
) -> Vec<(String, String, String)> {
    let ns = &app.host.ns;
    let mut known: std::collections::BTreeMap<String, String> = Default::default();
    for name in &app.builtins {
        known.insert(name.clone(), format!("a command built into {ns}"));
    }
    let compiled_in = app
        .loaded
        .outcomes
        .iter()
        .filter(|o| o.kind == Kind::Builtin);
    for o in compiled_in {
        known
            .entry(o.name.clone())
            .or_insert_with(|| format!("compiled-in plugin '{}'", o.name));
        for c in &o.commands {
            known
                .entry(c.clone())
                .or_insert_with(|| format!("a command of compiled-in plugin '{}'", o.name));
        }
    }
    for other in index.plugins.iter().filter(|e| e.name != entry.name) {
        for (at, name) in names_of(other).into_iter().enumerate() {
            let what = if at == 0 {
                format!("installed plugin '{}'", other.name)
            } else {
                format!("a command of installed plugin '{}'", other.name)
            };
            known.entry(name).or_insert(what);
        }
    }
    let old = previous.map(names_of).unwrap_or_default();
    let mut new = names_of(entry);
    new.sort();
    new.dedup();
    new.retain(|n| !old.contains(n));
    new.iter()
        .flat_map(|n| {
            known
                .iter()
                .filter(|(k, _)| looks_like(n, k))
                .map(|(k, what)| (n.clone(), k.clone(), what.clone()))
        })
        .collect()
}

/// Warns, one line each, about names `entry` brings that look like known
/// ones, and then asks again (`--yes` answers; without a terminal, only
/// `--yes` goes on).
pub(super) fn confirm_lookalikes(
    app: &App,
    index: &Index,
    entry: &Entry,
    previous: Option<&Entry>,
    yes: bool,
) -> Result<()> {
    let ns = &app.host.ns;
    let found = lookalikes(app, index, entry, previous);
    for (new, known, what) in &found {
        eprintln!(
            "{ns}: warning: '{new}' looks like '{known}' ({what}): make sure '{}' is the plugin you meant, not a look-alike",
            entry.name
        );
    }
    match found.first() {
        Some((_, known, _)) => confirm(
            ns,
            &format!("Is '{}' really what you want, not '{known}'?", entry.name),
            yes,
        ),
        None => Ok(()),
    }
}

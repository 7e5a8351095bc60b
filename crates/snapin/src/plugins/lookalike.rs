//! Look-alike names: a new plugin or command named within a slip or two
//! of a known one is pointed out before it is installed.

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Index};
use crate::loader::Source;
use crate::ui::{self, Options};

use super::consent::confirm;

/// Whether a new name `new` could be mistaken for the known name `known`:
/// at most one edit (a letter added, dropped or changed, or two neighbours
/// swapped) apart when the shorter is under 6 characters, two from 6 on.
/// Identical names are not look-alikes: they are conflicts, refused
/// elsewhere.
fn looks_like(new: &str, known: &str) -> bool {
    let shorter = new.chars().count().min(known.chars().count());
    let slips = if shorter >= 6 { 2 } else { 1 };
    let distance = strsim::damerau_levenshtein(new, known);
    distance > 0 && distance <= slips
}

/// The plugin's name and its top-level command names and aliases.
fn names_of(entry: &Entry) -> Vec<String> {
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
fn lookalikes(
    engine: &Engine,
    index: &Index,
    entry: &Entry,
    previous: Option<&Entry>,
) -> Vec<(String, String, String)> {
    let ns = engine.ns();
    let mut known: std::collections::BTreeMap<String, String> = Default::default();
    for name in &engine.host_commands {
        known.insert(name.clone(), format!("a command built into {ns}"));
    }
    for c in engine.compiled_in() {
        let name = c.name;
        let commands = match &c.source {
            Source::CompiledIn {
                described: Ok(m), ..
            } => m.commands.iter().map(|c| c.name.clone()).collect(),
            _ => Vec::new(),
        };
        known
            .entry(name.clone())
            .or_insert_with(|| format!("compiled-in plugin '{name}'"));
        for command in commands {
            known
                .entry(command)
                .or_insert_with(|| format!("a command of compiled-in plugin '{name}'"));
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
    engine: &Engine,
    index: &Index,
    entry: &Entry,
    previous: Option<&Entry>,
    yes: bool,
    options: &Options,
) -> Result<(), Diagnostic> {
    let ns = engine.ns();
    let found = lookalikes(engine, index, entry, previous);
    for (new, known, what) in &found {
        let warning = format!(
            "'{new}' looks like '{known}' ({what}): make sure '{}' is the plugin you meant, not a look-alike",
            entry.name
        );
        ui::warning(ns, &warning, options);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slip_or_two_is_a_look_alike_and_the_same_name_is_not() {
        let table = [
            ("greet", "greet", false),
            ("gret", "greet", true),
            ("grete", "greet", true),
            ("grxxt", "greet", false),
            ("deploy", "depoly", true),
            ("deploys", "depoly", true),
            ("stats", "greet", false),
        ];
        for (new, known, expected) in table {
            assert_eq!(looks_like(new, known), expected, "{new} vs {known}");
        }
    }
}

//! Look-alike names: a new plugin or command named within a slip or two
//! of a known one, or as a known one with an affix (`greet-cli`), is
//! pointed out before it is installed.

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Index};
use crate::loader::Source;
use crate::ui::{self, Options};

use super::consent::confirm;

/// Whether a new name `new` could be mistaken for the known name `known`,
/// for host `ns`: a slip or two apart ([`slipped`]), or one is the other
/// with an affix ([`affixed`]). Identical names are not look-alikes: they
/// are conflicts, refused elsewhere.
pub(super) fn looks_like(new: &str, known: &str, ns: &str) -> bool {
    new != known && (slipped(new, known) || affixed(new, known, ns) || affixed(known, new, ns))
}

/// At most one edit (a letter added, dropped or changed, or two neighbours
/// swapped) apart when the shorter is under 6 characters, two from 6 on.
fn slipped(new: &str, known: &str) -> bool {
    let shorter = new.chars().count().min(known.chars().count());
    let slips = if shorter >= 6 { 2 } else { 1 };
    strsim::damerau_levenshtein(new, known) <= slips
}

/// Words squatters add to a name, whole: `greet-cli`, `greettool`.
const AFFIX_WORDS: &[&str] = &[
    "app", "bin", "cli", "cmd", "ng", "new", "next", "official", "plug", "plugin", "plus", "pro",
    "tool", "tools", "util", "utils",
];

/// Whether `long` is `short` (3 characters or more) with something added
/// before or after it: whole parts (separated by `-`, `_` or `.`: any
/// part, as in `mycli-greet` or `fmt-formatter`), or, joined directly,
/// digits, a word of [`AFFIX_WORDS`], the host's name `ns`, or (for a
/// `short` of 4 characters or more) up to two letters (`greetxy`).
fn affixed(long: &str, short: &str, ns: &str) -> bool {
    let short_len = short.chars().count();
    if short_len < 3 || long.len() <= short.len() {
        return false;
    }
    let parts = |name: &'_ str| -> Vec<String> {
        name.split(['-', '_', '.'])
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (long_parts, short_parts) = (parts(long), parts(short));
    if long_parts.len() > short_parts.len()
        && long_parts
            .windows(short_parts.len())
            .any(|w| w == short_parts.as_slice())
    {
        return true;
    }
    let Some(extra) = long
        .strip_prefix(short)
        .or_else(|| long.strip_suffix(short))
    else {
        return false;
    };
    let extra = extra.trim_matches(['-', '_', '.']);
    !extra.is_empty()
        && (extra.chars().all(|c| c.is_ascii_digit())
            || AFFIX_WORDS.contains(&extra)
            || extra == ns
            || (short_len >= 4 && extra.chars().count() <= 2))
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
                .filter(|(k, _)| looks_like(n, k, ns))
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
            ("status", "stats", true),
        ];
        for (new, known, expected) in table {
            assert_eq!(
                looks_like(new, known, "mycli"),
                expected,
                "{new} vs {known}"
            );
        }
    }

    #[test]
    fn a_known_name_with_an_affix_is_a_look_alike() {
        let warned = [
            ("greet-cli", "greet"),
            ("fmt-formatter", "fmt"),
            ("mycli-greet", "greet"),
            ("mycligreet", "greet"),
            ("greet_mycli", "greet"),
            ("greet2", "greet"),
            ("greet2024", "greet"),
            ("greetx", "greet"),
            ("greetxy", "greet"),
            ("xgreet", "greet"),
            ("greetcli", "greet"),
            ("greettool", "greet"),
            ("ng-greet", "greet"),
            ("super-greet-tool", "greet"),
            ("greet.plugin", "greet"),
            ("echo-ng", "echo"),
            ("fmt2", "fmt"),
            ("fmtcli", "fmt"),
            ("deploy-prod", "deploy"),
            // Either way round: a plugin named for a command of another.
            ("greet", "greet-cli"),
            ("stats", "mycli-stats"),
        ];
        for (new, known) in warned {
            assert!(
                looks_like(new, known, "mycli"),
                "{new} vs {known} should warn"
            );
        }
        let not_warned = [
            ("format", "fmt"),
            ("greeting", "greet"),
            ("digit", "git"),
            ("concat", "cat"),
            ("stash", "stats"),
            ("echoes-of-x", "echo"),
            ("greetings-cli", "greet"),
            ("ab-cd", "ab"),
            ("weather", "eat"),
            ("deployment", "deploy"),
        ];
        for (new, known) in not_warned {
            assert!(
                !looks_like(new, known, "mycli"),
                "{new} vs {known} should not warn"
            );
        }
    }
}

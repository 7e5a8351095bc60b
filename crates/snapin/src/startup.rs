//! Start-up: which plugins a command line needs, and loading just those.
//!
//! The command line is scanned before clap parses it ([`need`]), the way
//! clap will read it, to find the one command it names. Then [`prepare`]
//! loads what that needs: from the start-up lookup ([`crate::lookup`]) when
//! it is current, so the cost does not grow with the number of plugins
//! installed, else from the whole index, refreshing the lookup.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;

use clap::{Arg, Command};

use crate::clap_spec;
use crate::engine::Engine;
use crate::index::{Entry, Index, IndexError};
use crate::loader::{self, Candidate, Loaded, Outcome, Source};
use crate::lookup::{Found, Listed, Lookup, Stamp};

/// What a command line needs loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// Every plugin: help, an unknown command (for suggestions), no command.
    All,
    /// Only the plugin providing this command (none if it is the host's
    /// own or no plugin's).
    Plugin(String),
    /// No plugin: an option such as `--version` and no command.
    Nothing,
}

/// What has been loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Every plugin, with its full command specs.
    All,
    /// Every plugin command's name and about, from the start-up lookup:
    /// enough for help and suggestions, not to parse a plugin command.
    /// Loaded for help, or for this need when it names a command no
    /// plugin provides (whose usage error suggests names).
    Listing(Need),
    /// What this need asked for.
    Only(Need),
}

impl Scope {
    /// Whether what was loaded also serves `need`.
    pub(crate) fn covers(&self, need: &Need) -> bool {
        match self {
            Scope::All => true,
            Scope::Listing(listed_for) => *need == Need::All || need == listed_for,
            Scope::Only(only) => only == need,
        }
    }
}

/// Which plugins the command line `args` (program name first) needs, for a
/// host whose command is `base`: it finds the subcommand the way clap will,
/// skipping `base`'s options and their values.
pub(crate) fn need(base: &Command, args: &[OsString]) -> Need {
    let takes_value = |found: Option<&Arg>| found.is_some_and(|a| a.get_action().takes_values());
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        let Some(text) = arg.to_str() else {
            return Need::All;
        };
        if text == "--" || text == "-h" || text == "--help" {
            return Need::All;
        }
        if let Some(long) = text.strip_prefix("--") {
            let arg = base.get_arguments().find(|a| a.get_long() == Some(long));
            if takes_value(arg) {
                rest.next();
            }
            continue;
        }
        if let Some(shorts) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (at, c) in shorts.char_indices() {
                if c == 'h' {
                    return Need::All;
                }
                let arg = base.get_arguments().find(|a| a.get_short() == Some(c));
                if takes_value(arg) {
                    // The value is the rest of the word, or the next one.
                    if at + c.len_utf8() == shorts.len() {
                        rest.next();
                    }
                    break;
                }
            }
            continue;
        }
        if text == "help" {
            // `help NAME` renders NAME's full help; `help` alone lists.
            return match rest.find(|a| !a.to_string_lossy().starts_with('-')) {
                Some(name) => Need::Plugin(name.to_string_lossy().into_owned()),
                None => Need::All,
            };
        }
        return Need::Plugin(text.to_string());
    }
    if args.len() <= 1 {
        Need::All
    } else {
        Need::Nothing
    }
}

/// Which plugins completing the word after `words` (program name first)
/// needs: as for running `words`, except that before any command is named
/// the word may be one, so every command name is needed.
pub(crate) fn need_to_complete(base: &Command, words: &[OsString]) -> Need {
    match need(base, words) {
        Need::Nothing => Need::All,
        need => need,
    }
}

/// What [`prepare`] loaded.
pub(crate) struct Prepared {
    pub(crate) loaded: Loaded,
    pub(crate) scope: Scope,
    /// Why the index could not be used, when it could not.
    pub(crate) index_error: Option<IndexError>,
    /// The clap commands of the loaded plugins and, for help, the listed
    /// ones, sorted by name.
    pub(crate) commands: Vec<Command>,
}

/// What [`prepare`] loads when the start-up lookup (or the absence of an
/// index) answers: the plugins compiled in, the entry of the one plugin
/// needed, and the listing of every plugin command for help and
/// suggestions. When it cannot answer (the lookup is missing, stale or not
/// to be believed), the whole index is read and the lookup written anew.
struct Targeted {
    entry: Option<Entry>,
    problems: Vec<Outcome>,
    listing: Option<Vec<Listed>>,
}

impl Targeted {
    /// Nothing installed to load.
    fn nothing(problems: Vec<Outcome>) -> Targeted {
        Targeted {
            entry: None,
            problems,
            listing: None,
        }
    }
}

/// Loads what `need` asks for and builds the plugin commands: from the
/// start-up lookup when it is current, else from the whole index (and then
/// refreshes the lookup).
pub(crate) fn prepare(engine: &Engine, need: Need) -> Prepared {
    let paths = &engine.host.paths;
    let index_path = paths.index_file();
    let compiled_in = engine.compiled_in();
    // The index is opened once: its stamp, the entry a run reads through
    // the lookup and a full read all come from this one version of it.
    let index = match File::open(&index_path) {
        Ok(file) => Some(Ok(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => Some(Err(e)),
    };
    let stamp = match &index {
        Some(Ok(file)) => Stamp::of(file, &identity(engine, &compiled_in)),
        _ => None,
    };
    let lookup_path = paths.lookup_file();
    let targeted = match (&index, &stamp) {
        // No index: nothing is installed.
        (None, _) => Some(Targeted::nothing(Vec::new())),
        (Some(Ok(file)), Some(stamp)) => Lookup::open(&lookup_path, stamp)
            .and_then(|lookup| plan(engine, &need, &compiled_in, &lookup, file, stamp.len)),
        _ => None,
    };
    let mut index_error = None;
    let mut listed = None;
    let (loaded, scope) = match targeted {
        Some(Targeted {
            entry,
            problems,
            listing,
        }) => {
            let candidates = compiled_in
                .into_iter()
                .chain(entry.map(Candidate::installed))
                .collect();
            let mut loaded = loader::load(candidates, &engine.loader_settings(false));
            loaded.outcomes.extend(problems);
            let scope = match (&listing, &index) {
                (Some(_), _) => Scope::Listing(need),
                // Without an index every need is met.
                (None, None) => Scope::All,
                (None, Some(_)) => Scope::Only(need),
            };
            listed = listing;
            (loaded, scope)
        }
        None => {
            let read = match &index {
                Some(Ok(file)) => Index::read_with_spans(file, &index_path),
                Some(Err(e)) => Err(IndexError::Io {
                    action: "read",
                    path: index_path.clone(),
                    source: io::Error::new(e.kind(), e.to_string()),
                }),
                None => Ok((Index::default(), Vec::new())),
            };
            let (index, spans) = match read {
                Ok((index, spans)) => {
                    // Written by a newer host: run what it holds, warn, and
                    // leave the lookup alone so every run warns.
                    index_error = index.read_only(&index_path);
                    (index, spans)
                }
                Err(e) => {
                    index_error = Some(e);
                    (Index::default(), Vec::new())
                }
            };
            let candidates = compiled_in
                .into_iter()
                .chain(
                    index
                        .plugins
                        .into_iter()
                        .zip(spans)
                        .map(|(entry, span)| Candidate::installed_at(entry, span)),
                )
                .collect();
            let loaded = loader::load(candidates, &engine.loader_settings(false));
            // Refresh the lookup: it is missing, stale or not to be
            // believed.
            if let (Some(stamp), None) = (&stamp, &index_error)
                && let Err(e) = Lookup::write(&lookup_path, stamp, &loaded)
            {
                tracing::debug!("cannot write {}: {e}", lookup_path.display());
            }
            (loaded, Scope::All)
        }
    };
    let plugin_commands = loaded.commands.values().map(|&(plugin, command)| {
        clap_spec::command_from_spec(&loaded.active[plugin].manifest.commands[command])
    });
    // Help and suggestions list the commands of plugins not loaded, by
    // name.
    let listed = listed.into_iter().flatten().map(|l| {
        let mut stub = Command::new(l.name).aliases(l.aliases).hide(l.hidden);
        if let Some(about) = l.about {
            stub = stub.about(about);
        }
        stub
    });
    let mut commands: Vec<Command> = plugin_commands.chain(listed).collect();
    commands.sort_by(|a, b| a.get_name().cmp(b.get_name()));
    Prepared {
        loaded,
        scope,
        index_error,
        commands,
    }
}

/// What to load for `need` with the current start-up `lookup`, whose
/// records point into the open index file `index` (`index_len` bytes);
/// `None` when the whole index must decide.
fn plan(
    engine: &Engine,
    need: &Need,
    compiled_in: &[Candidate],
    lookup: &Lookup,
    index: &File,
    index_len: u64,
) -> Option<Targeted> {
    let problems = lookup.problems().to_vec();
    let listing = |problems| {
        Some(Targeted {
            listing: Some(lookup.listing()?),
            ..Targeted::nothing(problems)
        })
    };
    let name = match need {
        Need::All => return listing(problems),
        Need::Nothing => return Some(Targeted::nothing(problems)),
        Need::Plugin(name) => name,
    };
    match lookup.find(name) {
        // A record that does not lead to an entry providing the name is
        // damaged or forged: the whole index decides.
        Found::Record(record) => Some(Targeted {
            entry: Some(record.entry(index, index_len)?),
            ..Targeted::nothing(problems)
        }),
        Found::Damaged => None,
        // The host's own command, or a plugin compiled in: nothing to read.
        Found::Nothing
            if engine.host_commands.contains(name)
                || compiled_in_names(compiled_in).any(|n| n == name) =>
        {
            Some(Targeted::nothing(problems))
        }
        // A word no command has: every name, for suggestions.
        Found::Nothing => listing(problems),
    }
}

/// The command names and aliases of the plugins compiled in that could
/// describe themselves.
fn compiled_in_names(compiled_in: &[Candidate]) -> impl Iterator<Item = &str> {
    compiled_in.iter().flat_map(|c| match &c.source {
        Source::CompiledIn {
            described: Ok(m), ..
        } => m
            .commands
            .iter()
            .flat_map(|c| std::iter::once(&c.name).chain(&c.aliases))
            .map(String::as_str)
            .collect(),
        _ => Vec::new(),
    })
}

/// Everything besides the index that decides loader outcomes; the start-up
/// lookup is only valid for the same identity.
fn identity(engine: &Engine, compiled_in: &[Candidate]) -> String {
    let sorted = |set: &HashSet<String>| {
        let mut v: Vec<&String> = set.iter().collect();
        v.sort();
        v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
    };
    let reserved = &engine.reserved;
    let mut shorts: Vec<char> = reserved.shorts.iter().copied().collect();
    shorts.sort_unstable();
    let compiled_in = compiled_in_names(compiled_in).collect::<Vec<_>>().join(",");
    format!(
        "snapin {} rules {}; ns {}; api {}; wasm {}; builtins {}; longs {}; shorts {}; names {}; compiled in {}",
        env!("CARGO_PKG_VERSION"),
        crate::manifest::RULES,
        engine.host.ns,
        engine.host.apis,
        cfg!(feature = "wasm"),
        sorted(&engine.host_commands),
        sorted(&reserved.longs),
        shorts.iter().collect::<String>(),
        sorted(&reserved.names),
        compiled_in
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn the_command_is_found_past_global_options_and_their_values() {
        let base = crate::ui::with_global_args(
            Command::new("t")
                .subcommand(Command::new("version"))
                .arg(Arg::new("config").short('c').long("config").global(true)),
        );
        let plugin = |name: &str| Need::Plugin(name.to_string());
        let table: &[(&[&str], Need)] = &[
            (&["t"], Need::All),
            (&["t", "--help"], Need::All),
            (&["t", "-h"], Need::All),
            (&["t", "-vh"], Need::All),
            (&["t", "--"], Need::All),
            (&["t", "help"], Need::All),
            (&["t", "help", "greet"], plugin("greet")),
            (&["t", "help", "-v", "greet"], plugin("greet")),
            (&["t", "--version"], Need::Nothing),
            (&["t", "-v"], Need::Nothing),
            (&["t", "greet", "--help"], plugin("greet")),
            (&["t", "--color", "never", "greet", "x"], plugin("greet")),
            (&["t", "--color=never", "greet"], plugin("greet")),
            (&["t", "-vq", "--debug", "greet"], plugin("greet")),
            (&["t", "-c", "file", "greet"], plugin("greet")),
            (&["t", "-cfile", "greet"], plugin("greet")),
            (&["t", "-vc", "file", "greet"], plugin("greet")),
            (&["t", "--unknown", "greet"], plugin("greet")),
            (&["t", "version"], plugin("version")),
        ];
        for (args, expected) in table {
            assert_eq!(&need(&base, &os(args)), expected, "{args:?}");
        }
    }

    #[test]
    fn a_word_that_is_not_unicode_needs_every_plugin() {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            let args = vec![OsString::from("t"), OsString::from_vec(vec![0xff])];
            assert_eq!(need(&Command::new("t"), &args), Need::All);
        }
    }

    #[test]
    fn completing_the_first_word_needs_every_command_name() {
        let base = crate::ui::with_global_args(Command::new("t"));
        assert_eq!(need_to_complete(&base, &os(&["t"])), Need::All);
        assert_eq!(need_to_complete(&base, &os(&["t", "-v"])), Need::All);
        assert_eq!(
            need_to_complete(&base, &os(&["t", "greet"])),
            Need::Plugin("greet".to_string())
        );
    }

    #[test]
    fn a_scope_covers_only_what_it_loaded() {
        let greet = Need::Plugin("greet".to_string());
        assert!(Scope::All.covers(&greet));
        assert!(Scope::Listing(Need::All).covers(&Need::All));
        assert!(!Scope::Listing(Need::All).covers(&greet));
        let unknown = Need::Plugin("nosuch".to_string());
        assert!(Scope::Listing(unknown.clone()).covers(&unknown));
        assert!(Scope::Listing(unknown).covers(&Need::All));
        assert!(Scope::Only(greet.clone()).covers(&greet));
        assert!(!Scope::Only(greet).covers(&Need::Nothing));
    }
}

//! Which plugin names a NAME argument of the `plugins` group completes to:
//! read from the index only when a shell asks for a NAME, never at
//! start-up.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Arg;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};

use crate::index::{Entry, Index};

/// Which plugins a subcommand's NAME can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Which {
    /// Installed and compiled-in plugins (`info`).
    Any,
    /// Installed plugins (`remove`, `upgrade`).
    Installed,
    /// Installed plugins that are disabled (`enable`).
    Disabled,
    /// Installed plugins that are enabled (`disable`).
    Enabled,
}

impl Which {
    fn admits(self, entry: &Entry) -> bool {
        match self {
            Which::Any | Which::Installed => true,
            Which::Disabled => !entry.enabled,
            Which::Enabled => entry.enabled,
        }
    }
}

/// Where plugin names come from: the index, and the plugins compiled in
/// (name, description).
#[derive(Debug, Clone)]
pub(super) struct PluginNames {
    index: PathBuf,
    compiled_in: Arc<Vec<(String, Option<String>)>>,
}

impl PluginNames {
    pub(super) fn new(index: PathBuf, compiled_in: Vec<(String, Option<String>)>) -> PluginNames {
        PluginNames {
            index,
            compiled_in: Arc::new(compiled_in),
        }
    }

    /// The required NAME argument, completing to the names `which` admits.
    pub(super) fn arg(&self, which: Which) -> Arg {
        let names = self.clone();
        Arg::new("name")
            .required(true)
            .value_name("NAME")
            .help("Installed plugin name")
            .add(ArgValueCandidates::new(move || names.candidates(which)))
    }

    /// The plugin names `which` admits, with their descriptions as help (zsh
    /// and fish show it), sorted. An index that cannot be read completes no
    /// installed name: the command itself will say why.
    fn candidates(&self, which: Which) -> Vec<CompletionCandidate> {
        let installed = Index::load(&self.index)
            .map(|i| i.plugins)
            .unwrap_or_default();
        let mut names: Vec<(String, Option<String>)> = installed
            .into_iter()
            .filter(|e| which.admits(e))
            .map(|e| {
                let description = e.manifest.and_then(|m| m.description);
                (e.name, description)
            })
            .collect();
        if which == Which::Any {
            names.extend(self.compiled_in.iter().cloned());
        }
        names.sort();
        names.dedup_by(|a, b| a.0 == b.0);
        names
            .into_iter()
            .map(|(name, description)| {
                CompletionCandidate::new(name).help(description.map(Into::into))
            })
            .collect()
    }
}

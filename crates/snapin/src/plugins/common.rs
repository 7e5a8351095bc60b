//! What every `plugins` subcommand uses: how it fails, the index, and the
//! arguments several of them take.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches};
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Index, IndexError};

/// Why a `plugins` command failed: the index said no, or the command did.
#[derive(Debug)]
pub(crate) enum Failure {
    Index(IndexError),
    Said(Diagnostic),
}

impl Failure {
    /// The failure as the user reads it, for host `ns`.
    pub(crate) fn diagnostic(self, ns: &str) -> Diagnostic {
        match self {
            Failure::Index(e) => e.diagnostic(ns),
            Failure::Said(d) => d,
        }
    }
}

impl From<IndexError> for Failure {
    fn from(e: IndexError) -> Failure {
        Failure::Index(e)
    }
}

impl From<Diagnostic> for Failure {
    fn from(d: Diagnostic) -> Failure {
        Failure::Said(d)
    }
}

pub(super) type Result<T = ExitCode> = std::result::Result<T, Failure>;

pub(super) fn index_path(engine: &Engine) -> PathBuf {
    engine.host.paths.index_file()
}

pub(super) fn load_index(engine: &Engine) -> Result<Index> {
    Ok(Index::load(&index_path(engine))?)
}

/// The index, for a command that will change it: refused up front when it
/// is read-only, before anything is described or asked.
pub(super) fn index_to_change(engine: &Engine) -> Result<Index> {
    let index = load_index(engine)?;
    match index.read_only(&index_path(engine)) {
        Some(e) => Err(e.into()),
        None => Ok(index),
    }
}

pub(super) fn version_of(entry: &Entry) -> String {
    entry
        .manifest
        .as_ref()
        .map(|m| m.version.clone())
        .unwrap_or_else(|| "(unknown version)".to_string())
}

pub(super) fn commands_of(entry: &Entry) -> Option<String> {
    let m = entry.manifest.as_ref()?;
    Some(
        m.commands
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Prints one line of a `plugins` command's result on stdout, made safe to
/// print: such lines carry plugin-supplied text (versions, file names,
/// reasons).
pub(super) fn say(line: &str) {
    println!("{}", crate::text::one_line(line));
}

pub(super) fn print_json(value: &impl Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| Diagnostic::new(format!("cannot encode JSON: {e}")))?;
    println!("{json}");
    Ok(())
}

pub(super) fn not_installed(ns: &str, name: &str, installed: &[String]) -> Failure {
    let known = if installed.is_empty() {
        "no plugins are installed".to_string()
    } else {
        format!("installed: {}", installed.join(", "))
    };
    Diagnostic::new(format!("no plugin named '{name}' is installed ({known})"))
        .with_fix(format!("see `{ns} plugins list`"))
        .into()
}

/// `--json`.
pub(super) fn json_arg() -> Arg {
    Arg::new("json")
        .long("json")
        .action(ArgAction::SetTrue)
        .help("Print JSON instead of text")
}

/// `-y/--yes`.
pub(super) fn yes_arg() -> Arg {
    Arg::new("yes")
        .short('y')
        .long("yes")
        .action(ArgAction::SetTrue)
        .help("Trust the plugin without asking")
}

/// `--force`.
/// `--require-signatures`.
pub(super) fn require_signatures_arg() -> Arg {
    Arg::new("require-signatures")
        .long("require-signatures")
        .action(ArgAction::SetTrue)
        .help("From a registry: refuse plugins that no trusted key signed")
}

pub(super) fn force_arg() -> Arg {
    Arg::new("force")
        .long("force")
        .action(ArgAction::SetTrue)
        .help("Record the plugin even if it fails its checks (it will not run until they pass)")
}

/// `--trust-owner`.
pub(super) fn trust_owner_arg() -> Arg {
    Arg::new("trust-owner")
        .long("trust-owner")
        .action(ArgAction::SetTrue)
        .help("Trust the other user who owns the plugin file or a directory above it (for this plugin only)")
}

/// SOURCE: a path, or a name looked up on PATH; completes paths.
pub(super) fn source_arg(help: String) -> Arg {
    Arg::new("source")
        .required(true)
        .value_name("SOURCE")
        .value_hint(clap::ValueHint::AnyPath)
        .help(help)
}

/// The string value of argument `id`, empty when absent.
pub(super) fn string(m: &ArgMatches, id: &str) -> String {
    m.get_one::<String>(id).cloned().unwrap_or_default()
}

/// The bytes of the file at `path`, refused past `cap` bytes before more
/// are read.
#[cfg_attr(not(feature = "registry"), allow(dead_code))]
pub(super) fn read_capped(path: &Path, cap: u64) -> std::result::Result<Vec<u8>, String> {
    crate::whole_file::read_capped(path, cap)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("it is larger than {cap} bytes"))
}

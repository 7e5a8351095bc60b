//! `plugins lock`: writes the lock file naming every registry plugin
//! installed, by digest, with the digest of every platform its version
//! was built for, and its grants.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgMatches, Command};

use crate::engine::Engine;
use crate::index::Origin;
use crate::registry::lockfile::{LOCK_FORMAT, LockFile, Locked, default_name};

use super::artifact::{Session, block_on, repository_of};
use super::common::{Result, load_index, say, version_of};

/// `--file F`: the lock file, `<NS>-plugins.lock` in the current directory
/// by default.
pub(super) fn file_arg(ns: &str) -> Arg {
    Arg::new("file")
        .long("file")
        .value_name("FILE")
        .value_hint(clap::ValueHint::FilePath)
        .help(format!("The lock file [default: {}]", default_name(ns)))
}

/// The lock file `--file` names.
pub(super) fn file_of(ns: &str, m: &ArgMatches) -> PathBuf {
    m.get_one::<String>("file")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(default_name(ns)))
}

/// The clap definition of `plugins lock`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("lock")
        .about(super::registry_commands::LOCK)
        .arg(file_arg(ns))
}

/// The arguments of `plugins lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LockArgs {
    pub(super) file: PathBuf,
}

impl LockArgs {
    pub(super) fn from(ns: &str, m: &ArgMatches) -> LockArgs {
        LockArgs {
            file: file_of(ns, m),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &LockArgs) -> Result {
    let ns = engine.ns();
    let index = load_index(engine)?;
    let mut session = Session::start(engine)?;
    let mut plugins = Vec::new();
    for entry in &index.plugins {
        let Origin::Oci(origin) = &entry.origin else {
            continue;
        };
        let store = session.store(engine, &repository_of(origin)?)?;
        // The index was kept in the cache at install: read there first.
        let read = block_on(async { Ok(store.document(&session.cache, &origin.digest).await?) })?;
        let platforms = match &read.document.manifests {
            Some(manifests) => manifests
                .iter()
                .filter_map(|d| Some((d.platform.as_ref()?.to_string(), d.digest.clone())))
                .collect(),
            None => [(origin.platform.clone(), origin.manifest.clone())].into(),
        };
        plugins.push(Locked {
            name: entry.name.clone(),
            source: origin.source.clone(),
            version: version_of(entry),
            tag: origin.tag.clone(),
            digest: origin.digest.clone(),
            platforms,
            signer: origin.signer.clone(),
            signature: origin.signature.clone(),
            grants: entry.grants.clone(),
        });
    }
    let lock = LockFile {
        version: LOCK_FORMAT,
        plugins,
    };
    lock.save(ns, &args.file)?;
    session.cache.commit();
    say(&format!(
        "locked {} registry plugin{} in {}",
        lock.plugins.len(),
        if lock.plugins.len() == 1 { "" } else { "s" },
        args.file.display()
    ));
    Ok(ExitCode::SUCCESS)
}

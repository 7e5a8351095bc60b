//! `plugins sync`: makes the registry plugins installed match the lock
//! file, by digest. Plugins installed from a path are left alone.
//! `--frozen` never touches the network: it reads the download cache, or
//! the layout `--from` names.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Grants, Index, Origin};
use crate::registry::artifact::{self, Prefer, Unusable};
use crate::registry::layout::Layout;
use crate::registry::lockfile::{LockFile, Locked};
use crate::registry::oci::short;
use crate::registry::reference::Repository;
use crate::registry::store::Store;
use crate::ui::Options;

use super::artifact::{Session, block_on, check_signer, origin_of, parse_reference, place};
use super::common::{Result, index_path, index_to_change, require_signatures_arg, say, yes_arg};
use super::inspect::inspect;
use super::lock::{file_arg, file_of};
use super::record::{Choices, install_file, refuse_unpublished, replace};
use super::state::remove_placed;
use super::verify::Expected;

/// The clap definition of `plugins sync`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("sync")
        .about(super::registry_commands::SYNC)
        .arg(file_arg(ns))
        .arg(
            Arg::new("frozen")
                .long("frozen")
                .action(ArgAction::SetTrue)
                .help("Never touch the network: read the download cache, or --from"),
        )
        .arg(
            Arg::new("from")
                .long("from")
                .value_name("oci-layout://DIR")
                .help("Read the locked plugins from an OCI image layout (see `plugins export`)"),
        )
        .arg(yes_arg())
        .arg(require_signatures_arg())
}

/// The arguments of `plugins sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyncArgs {
    pub(super) file: PathBuf,
    pub(super) frozen: bool,
    pub(super) from: Option<String>,
    pub(super) yes: bool,
    pub(super) require_signatures: bool,
}

impl SyncArgs {
    pub(super) fn from(ns: &str, m: &ArgMatches) -> SyncArgs {
        SyncArgs {
            file: file_of(ns, m),
            frozen: m.get_flag("frozen"),
            from: m.get_one::<String>("from").cloned(),
            yes: m.get_flag("yes"),
            require_signatures: m.get_flag("require-signatures"),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &SyncArgs, options: &Options) -> Result {
    let ns = engine.ns();
    let lock = LockFile::load(ns, &args.file)?;
    let mut session = Session::start(engine)?;
    let offline = offline_store(engine, &session, args)?;
    let index = index_to_change(engine)?;
    let mut changed = 0;
    for locked in &lock.plugins {
        let repository = parse_reference("sync", &locked.source)?.repository;
        if let Some(Origin::Oci(o)) = index.get(&locked.name).map(|e| &e.origin)
            && o.digest == locked.digest
            && locked.platforms.values().any(|d| *d == o.manifest)
        {
            continue;
        }
        let online;
        let store = match &offline {
            Some(store) => store,
            None => {
                online = session.store(engine, &repository)?;
                &online
            }
        };
        sync_one(
            engine,
            &session,
            store,
            &index,
            locked,
            &repository,
            args,
            options,
        )?;
        session.cache.commit();
        changed += 1;
    }
    for entry in &index.plugins {
        if matches!(entry.origin, Origin::Oci(_))
            && !lock.plugins.iter().any(|l| l.name == entry.name)
        {
            Index::update(&index_path(engine), |index| {
                index.plugins.retain(|e| e.name != entry.name);
                Ok::<_, super::common::Failure>(())
            })?;
            remove_placed(engine, entry);
            say(&format!(
                "removed plugin '{}' (not in the lock)",
                entry.name
            ));
            changed += 1;
        }
    }
    session.cache.commit();
    if changed == 0 {
        say(&format!(
            "the registry plugins match {} ({} plugin{})",
            args.file.display(),
            lock.plugins.len(),
            if lock.plugins.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// The layout to read instead of the network: `--from`, or the cache with
/// `--frozen`.
fn offline_store(engine: &Engine, session: &Session, args: &SyncArgs) -> Result<Option<Store>> {
    let ns = engine.ns();
    if let Some(from) = &args.from {
        let reference = parse_reference("sync from", from)?;
        if !matches!(reference.repository, Repository::Layout { .. }) {
            return Err(Diagnostic::new(format!(
                "cannot sync from {from}: --from takes an OCI image layout"
            ))
            .with_fix(format!(
                "write one with `{ns} plugins export --layout DIR`, then `--from oci-layout://DIR`"
            ))
            .into());
        }
        return Ok(Some(session.store(engine, &reference.repository)?));
    }
    if !args.frozen {
        return Ok(None);
    }
    let dir = engine.host.paths.download_cache();
    Layout::open(&dir).map(|l| Some(Store::Layout(l))).map_err(|e| {
        Diagnostic::new(format!("cannot sync --frozen: the download cache is missing: {e}"))
            .with_fix(format!(
                "sync once with the network (`{ns} plugins sync`), or give a layout: `{ns} plugins sync --frozen --from oci-layout://DIR`"
            ))
            .into()
    })
}

#[allow(clippy::too_many_arguments)]
fn sync_one(
    engine: &Engine,
    session: &Session,
    store: &Store,
    index: &Index,
    locked: &Locked,
    repository: &Repository,
    args: &SyncArgs,
    options: &Options,
) -> Result<()> {
    let ns = engine.ns();
    let name = &locked.name;
    let opened = block_on(async {
        Ok(artifact::open(store, &session.cache, &locked.digest, Prefer::Native).await)
    })?;
    let mut version = match opened {
        Ok(Ok(version)) => version,
        Ok(Err(Unusable::NoPlatform(platforms))) => {
            return Err(Diagnostic::new(format!(
                "cannot sync plugin '{name}': its locked version has no build for {} (it has {})",
                crate::registry::platform::Platform::current(),
                platforms.join(", ")
            ))
            .with_fix("ask its publisher for a build for this machine, then lock again")
            .into());
        }
        Err(_) if args.frozen || args.from.is_some() => {
            return Err(Diagnostic::new(format!(
                "cannot sync plugin '{name}' without the network: its locked version {} is not in {}",
                locked.digest,
                match &args.from {
                    Some(from) => from.clone(),
                    None => "the download cache".to_string(),
                }
            ))
            .with_fix(format!(
                "sync once with the network (`{ns} plugins sync`), or give the layout `{ns} plugins export` wrote: --from oci-layout://DIR"
            ))
            .into());
        }
        Err(d) => return Err(d.into()),
    };
    if !locked
        .platforms
        .values()
        .any(|d| *d == version.manifest_digest)
    {
        return Err(Diagnostic::new(format!(
            "cannot sync plugin '{name}': the lock's platforms do not match its index {}",
            locked.digest
        ))
        .with_fix(format!("write the lock again with `{ns} plugins lock`"))
        .into());
    }
    version.tag = locked.tag.clone();
    let choices = Choices {
        grants: grant_words(&locked.grants),
        yes: args.yes,
        require_signatures: args.require_signatures,
        ..Choices::default()
    };
    let verdict = block_on(check_signer(
        engine,
        session,
        store,
        repository,
        &version,
        &Expected {
            pinned: locked.signer.as_ref().map(|s| s.key.as_str()),
            signature: locked.signature.as_deref(),
            from_lock: true,
            ..Expected::default()
        },
        &choices,
        &format!("sync plugin '{name}' {}", locked.version),
    ))?;
    let placed = block_on(place(engine, store, &session.cache, &version))?;
    let origin = origin_of(repository, &version, &verdict);
    match index.get(name) {
        None => {
            install_file(
                engine,
                &placed.file,
                origin,
                &locked.source,
                &choices,
                options,
                version.plugin.as_ref(),
            )?;
        }
        Some(old) => {
            let mut inspected =
                inspect(engine, &placed.file, origin, locked.grants.clone(), options)?;
            refuse_unpublished(&locked.source, &inspected.entry, version.plugin.as_ref())?;
            inspected.entry.trusted_owners = old.trusted_owners.clone();
            let choices = Choices {
                grants: Vec::new(),
                ..choices
            };
            replace(engine, index, old, inspected, &choices, options)?;
            remove_placed(engine, old);
            say(&format!(
                "synced plugin '{name}' {} (sha256:{})",
                locked.version,
                short(&locked.digest)
            ));
        }
    }
    placed.keep();
    verdict.warn(ns, options);
    Ok(())
}

/// Grants as `--grant` words.
fn grant_words(grants: &Grants) -> Vec<String> {
    let dirs = grants.dirs.iter().map(|d| {
        format!(
            "{}={}",
            if d.write { "write" } else { "read" },
            d.path.display()
        )
    });
    dirs.chain(grants.env.iter().map(|e| format!("env={e}")))
        .collect()
}

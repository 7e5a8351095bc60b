//! Installing and upgrading plugins from OCI artifacts (`oci://...`,
//! `oci-layout://...`): decide the version and build from the index and
//! config blobs, download the one file into the cache, place it under the
//! host's data directory, then hand it to the same checks as a path
//! install, which must find the manifest that was published with it.
//!
//! Whatever fails, the index, the cache and the installed files are left
//! as they were: blobs and the placed file are kept only on success.

use std::path::{Path, PathBuf};

use crate::config::HostConfig;
use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Index, OciOrigin, Origin, Signer};
use crate::manifest;
use crate::registry::artifact::{self, PluginVersion, Prefer, Unusable};
use crate::registry::layout::Layout;
use crate::registry::oci::{self, short};
use crate::registry::reference::{Pick, Reference, Repository};
use crate::registry::remote::Connection;
use crate::registry::store::Store;
use crate::ui::Options;

use super::common::{Result, say, version_of};
use super::inspect::inspect;
use super::record::{Choices, install_file, refuse_unpublished, replace};
use super::state::remove_placed;
use super::verify::{self, Expected, Policy, Signed, Verdict};

/// What a command that reads artifacts works with: the registries the
/// host reaches over plain HTTP, and the download cache.
pub(super) struct Session {
    pub(super) insecure: Vec<String>,
    /// The config file's `require-signatures`.
    pub(super) require_signatures: bool,
    /// One connection per registry, made when first needed.
    connections: std::cell::RefCell<std::collections::HashMap<String, Connection>>,
    pub(super) cache: Layout,
    /// Held while the command runs, so that what one command takes back
    /// from the cache on failure is never what another just stored.
    _cache_lock: std::fs::File,
}

impl Session {
    /// Reads the configuration and opens the download cache.
    pub(super) fn start(engine: &Engine) -> Result<Session> {
        let paths = &engine.host.paths;
        let config = HostConfig::load(&paths.config_file())
            .map_err(|e| Diagnostic::new(e.to_string()).with_fix(e.fix()))?;
        let dir = paths.download_cache();
        let unusable = |e: std::io::Error| {
            Diagnostic::new(format!(
                "cannot use the download cache {}: {e}",
                dir.display()
            ))
            .with_fix("check that the directory is writable and the disk has room")
        };
        let cache = Layout::create(&dir).map_err(unusable)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))
            .map_err(unusable)?;
        lock.lock().map_err(unusable)?;
        Ok(Session {
            insecure: config.registry.insecure,
            require_signatures: config.registry.require_signatures,
            connections: Default::default(),
            cache,
            _cache_lock: lock,
        })
    }

    /// The store `repository` names.
    pub(super) fn store(&self, engine: &Engine, repository: &Repository) -> Result<Store> {
        let ns = engine.ns();
        Ok(Store::open(ns, repository, |registry| {
            if let Some(c) = self.connections.borrow().get(registry) {
                return Ok(c.clone());
            }
            let connection = Connection::open(ns, registry, &self.insecure)?;
            self.connections
                .borrow_mut()
                .insert(registry.to_string(), connection.clone());
            Ok(connection)
        })?)
    }
}

/// Reads a reference typed by the user, or says how to write one.
pub(super) fn parse_reference(what: &str, text: &str) -> Result<Reference> {
    Reference::parse(text).map_err(|why| {
        Diagnostic::new(format!("cannot {what} {text}: {why}"))
            .with_fix("write oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST] or oci-layout://DIR[:REF]")
            .into()
    })
}

/// Runs `future` on a runtime started for this command.
pub(super) fn block_on<T>(future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    crate::registry::block_on(future).map_err(|e| {
        Diagnostic::new(format!("cannot start the registry client: {e}"))
            .with_fix("check the system's limits on threads and open files")
    })?
}

/// `plugins install oci://...` and `oci-layout://...`.
pub(super) fn install(
    engine: &Engine,
    source: &str,
    prefer_wasm: bool,
    choices: &Choices,
    expected: &Expected<'_>,
    options: &Options,
) -> Result {
    let ns = engine.ns();
    let reference = parse_reference("install", source)?;
    let mut session = Session::start(engine)?;
    let store = session.store(engine, &reference.repository)?;
    let prefer = if prefer_wasm {
        Prefer::Wasm
    } else {
        Prefer::Native
    };
    let version = block_on(resolve(
        engine,
        &store,
        &session.cache,
        &reference,
        prefer,
        None,
    ))?;
    let index = super::common::index_to_change(engine)?;
    if let Some(name) = version.plugin.as_ref().map(|m| m.name.as_str())
        && let Some(existing) = index.get(name)
    {
        return Err(Diagnostic::new(format!(
            "plugin '{name}' is already installed from {}",
            existing.origin
        ))
        .with_fix(format!(
            "`{ns} plugins upgrade {name}` to move to the newest version, or `{ns} plugins remove {name}` first"
        ))
        .into());
    }
    let verdict = block_on(check_signer(
        engine,
        &session,
        &store,
        &reference.repository,
        &version,
        expected,
        choices,
        &format!("install {source}"),
    ))?;
    let placed = block_on(place(engine, &store, &session.cache, &version))?;
    let origin = origin_of(&reference.repository, &version, &verdict);
    install_file(
        engine,
        &placed.file,
        origin,
        source,
        choices,
        options,
        version.plugin.as_ref(),
    )?;
    placed.keep();
    session.cache.commit();
    verdict.warn(ns, options);
    Ok(std::process::ExitCode::SUCCESS)
}

/// The version `reference` picks that this host can run: by tag or digest,
/// or the newest compatible (of plugin `name`, when known: a layout may
/// hold several plugins, `NAME:VERSION` each).
pub(super) async fn resolve(
    engine: &Engine,
    store: &Store,
    cache: &Layout,
    reference: &Reference,
    prefer: Prefer,
    name: Option<&str>,
) -> Result<PluginVersion> {
    let ns = engine.ns();
    let api = &engine.host.apis;
    let tag_or_digest = match &reference.pick {
        Pick::Tag(tag) => tag.clone(),
        Pick::Digest(digest) => digest.clone(),
        Pick::Newest => {
            let survey = artifact::survey(store, cache, ns, api, prefer, name).await?;
            return match survey.compatible {
                Some(version) => {
                    refuse_substituted_tag(reference, &version)?;
                    Ok(version)
                }
                None => Err(no_compatible(ns, api, reference, &survey).into()),
            };
        }
    };
    match artifact::open(store, cache, &tag_or_digest, prefer).await {
        Ok(Ok(version)) => {
            if let Some(m) = &version.plugin
                && let Err(e) = crate::gate::check(&m.api, ns, api)
            {
                return Err(Diagnostic::new(format!(
                    "cannot install {reference}: plugin '{}' {} cannot run here: {e}",
                    m.name, m.version
                ))
                .with_fix(format!(
                    "install the newest version that can: `{ns} plugins install {}`",
                    reference.at(Pick::Newest)
                ))
                .into());
            }
            refuse_substituted_tag(reference, &version)?;
            Ok(version)
        }
        Ok(Err(Unusable::NoPlatform(platforms))) => Err(Diagnostic::new(format!(
            "cannot install {reference}: it has no build for {} and no WebAssembly component (it has {})",
            crate::registry::platform::Platform::current(),
            if platforms.is_empty() { "none".to_string() } else { platforms.join(", ") }
        ))
        .with_fix("ask its publisher for a build for this machine")
        .into()),
        Err(diagnostic) if diagnostic.what().contains("does not exist") => {
            Err(not_found(ns, store, reference, diagnostic).await.into())
        }
        Err(diagnostic) => Err(diagnostic.into()),
    }
}

/// Refuses a version tag that holds another version: a tag `0.3.0` (or
/// a layout's `NAME:0.3.0`) pointing at what was published as 0.1.0 is a
/// substituted tag (the signature binds the version, not the tag).
fn refuse_substituted_tag(reference: &Reference, version: &PluginVersion) -> Result<()> {
    let (Some(tag), Some(plugin)) = (&version.tag, &version.plugin) else {
        return Ok(());
    };
    let said = tag.rsplit_once(':').map_or(tag.as_str(), |(_, v)| v);
    let said = said.strip_prefix('v').unwrap_or(said);
    match (
        semver::Version::parse(said),
        semver::Version::parse(&plugin.version),
    ) {
        (Ok(tagged), Ok(published)) if tagged != published => Err(Diagnostic::new(format!(
            "refused {reference}: its tag {tag} holds '{}' {published}, not {tagged}",
            plugin.name
        ))
        .with_fix("tell the plugin's publisher or the registry's operator: the tag was moved to another version")
        .into()),
        _ => Ok(()),
    }
}

/// A tag or digest that does not exist: the fix lists the versions there
/// are, closest first.
async fn not_found(
    ns: &str,
    store: &Store,
    reference: &Reference,
    diagnostic: Diagnostic,
) -> Diagnostic {
    let Ok(tags) = store.tags().await else {
        return diagnostic;
    };
    let versions = artifact::versions(&tags, None);
    let wanted = match &reference.pick {
        Pick::Tag(t) => t.clone(),
        _ => String::new(),
    };
    let mut close: Vec<String> = versions.into_iter().map(|(_, t)| t).collect();
    close.sort_by(|a, b| {
        strsim::jaro_winkler(&wanted, b)
            .partial_cmp(&strsim::jaro_winkler(&wanted, a))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    close.truncate(3);
    let what = format!("cannot install {reference}: there is no such version");
    match close.first() {
        Some(best) => Diagnostic::new(format!("{what} (there are: {})", close.join(", ")))
            .with_fix(format!(
                "`{ns} plugins install {}`",
                reference.at(Pick::Tag(best.clone()))
            )),
        None => Diagnostic::new(format!("{what}, and the repository has no version tags"))
            .with_fix("check the repository's name"),
    }
}

fn no_compatible(
    ns: &str,
    api: &crate::gate::Apis,
    reference: &Reference,
    survey: &artifact::Survey,
) -> Diagnostic {
    match (&survey.latest, &survey.latest_needs, &survey.latest_platforms) {
        (None, _, _) => Diagnostic::new(format!(
            "cannot install {reference}: it has no version tags (such as 1.2.0)"
        ))
        .with_fix("check the repository's name, or name a tag: oci://HOST/REPO:TAG"),
        (Some((newest, _)), Some(needs), _) => Diagnostic::new(format!(
            "cannot install {reference}: no version works with this {ns} (API {api}); the newest, {newest}, needs API {needs}"
        ))
        .with_fix(format!("upgrade {ns} to one that provides API {needs}")),
        (Some((newest, _)), None, Some(platforms)) => Diagnostic::new(format!(
            "cannot install {reference}: no version has a build for {}; the newest, {newest}, has {}",
            crate::registry::platform::Platform::current(),
            platforms.join(", ")
        ))
        .with_fix("ask its publisher for a build for this machine, or a WebAssembly component"),
        (Some((newest, _)), None, None) => Diagnostic::new(format!(
            "cannot install {reference}: no version works with this {ns} (API {api}); the newest is {newest}"
        ))
        .with_fix(format!("upgrade {ns}")),
    }
}

/// A plugin file placed under the host's data directory, removed again
/// unless [`Placed::keep`] is called.
pub(super) struct Placed {
    dir: Option<tempfile::TempDir>,
    pub(super) file: PathBuf,
}

impl Placed {
    /// Keeps the file.
    pub(super) fn keep(mut self) {
        if let Some(dir) = self.dir.take() {
            let _ = dir.keep();
        }
    }
}

/// Downloads `version`'s file into the cache and copies it to a new
/// directory under the host's installed files.
pub(super) async fn place(
    engine: &Engine,
    store: &Store,
    cache: &Layout,
    version: &PluginVersion,
) -> Result<Placed> {
    let ns = engine.ns();
    let Some(layer) = version.layer() else {
        return Err(Diagnostic::new("the artifact has no layer").into());
    };
    let name = version
        .plugin
        .as_ref()
        .map(|m| m.name.clone())
        .filter(|n| manifest::is_valid_name(n))
        .unwrap_or_else(|| "unnamed".to_string());
    let label = format!(
        "{name} {}",
        version.plugin.as_ref().map_or("", |m| m.version.as_str())
    );
    let blob = store.blob(cache, layer, oci::FILE_CAP, &label).await?;
    let root = engine.host.paths.installed_files().join(&name);
    let disk = |e: std::io::Error| -> super::common::Failure {
        Diagnostic::new(format!(
            "cannot place plugin '{name}' under {}: {e}",
            root.display()
        ))
        .with_fix("free some disk space or fix the directory's permissions, then try again")
        .into()
    };
    std::fs::create_dir_all(&root).map_err(disk)?;
    let prefix = version
        .plugin
        .as_ref()
        .map(|m| m.version.clone())
        .filter(|v| semver::Version::parse(v).is_ok())
        .unwrap_or_else(|| "unknown".to_string());
    let dir = tempfile::Builder::new()
        .prefix(&format!("{prefix}-"))
        .tempdir_in(&root)
        .map_err(disk)?;
    let file = dir.path().join(version.file_name(ns));
    std::fs::copy(&blob, &file).map_err(disk)?;
    set_mode(&file, !version.platform.is_component()).map_err(disk)?;
    Ok(Placed {
        dir: Some(dir),
        file,
    })
}

#[cfg(unix)]
fn set_mode(file: &Path, executable: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &Path, _executable: bool) -> std::io::Result<()> {
    Ok(())
}

/// Checks who signed `version` from `repository` (see verify.rs): a
/// version without a plugin manifest (a component pushed by other tools)
/// cannot be named by a signature, so it counts as unsigned.
#[allow(clippy::too_many_arguments)]
pub(super) async fn check_signer(
    engine: &Engine,
    session: &Session,
    store: &Store,
    repository: &Repository,
    version: &PluginVersion,
    expected: &Expected<'_>,
    choices: &Choices,
    what: &str,
) -> Result<Verdict> {
    let policy = Policy::load(
        engine,
        session.require_signatures || choices.require_signatures,
    )?;
    let Some(plugin) = &version.plugin else {
        if policy.require || expected.pinned.is_some() || expected.catalog.is_some() {
            return Err(Diagnostic::new(format!(
                "cannot {what}: it has no plugin manifest, so no signature can name it"
            ))
            .with_fix(format!(
                "ask its publisher to publish it with `{} plugins publish --sign KEY`",
                engine.ns()
            ))
            .into());
        }
        return Ok(Verdict::default());
    };
    // What a signature names must be one line each: a name and a semver.
    if !crate::manifest::is_valid_name(&plugin.name)
        || semver::Version::parse(&plugin.version).is_err()
    {
        return Err(Diagnostic::new(format!(
            "cannot {what}: its config names no valid plugin name and version"
        ))
        .with_fix("publish it again with `plugins publish`")
        .into());
    }
    let source = repository.to_string();
    let signed = Signed {
        name: &plugin.name,
        version: &plugin.version,
        digest: &version.digest,
        source: &source,
    };
    verify::check(
        engine,
        store,
        &session.cache,
        &signed,
        expected,
        &policy,
        what,
    )
    .await
}

/// The index's record of where `version` came from, and who signed it.
pub(super) fn origin_of(
    repository: &Repository,
    version: &PluginVersion,
    verdict: &Verdict,
) -> Origin {
    let (registry, repo) = match repository {
        Repository::Registry {
            registry,
            repository,
        } => (Some(registry.clone()), Some(repository.clone())),
        Repository::Layout { .. } => (None, None),
    };
    Origin::Oci(Box::new(OciOrigin {
        source: repository.to_string(),
        registry,
        repository: repo,
        tag: version.tag.clone(),
        digest: version.digest.clone(),
        platform: version.platform.to_string(),
        manifest: version.manifest_digest.clone(),
        signer: verdict.signer.as_ref().map(|k| Signer {
            id: k.id(),
            key: k.to_text(),
        }),
        signature: verdict.signature.clone(),
    }))
}

/// The plugin's name where its repository is a layout, which may hold
/// several plugins; none for a registry repository, which holds one.
pub(super) fn layout_name<'a>(repository: &Repository, name: &'a str) -> Option<&'a str> {
    matches!(repository, Repository::Layout { .. }).then_some(name)
}

/// The repository an installed plugin came from.
pub(super) fn repository_of(origin: &OciOrigin) -> Result<Repository> {
    Ok(parse_reference("read", &origin.source)?.repository)
}

/// `plugins upgrade NAME` for a plugin installed from an artifact.
pub(super) fn upgrade(
    engine: &Engine,
    index: &Index,
    old: &Entry,
    dry_run: bool,
    choices: &Choices,
    options: &Options,
) -> Result<()> {
    let Origin::Oci(origin) = &old.origin else {
        return Ok(());
    };
    let name = old.name.as_str();
    let repository = repository_of(origin)?;
    let mut session = Session::start(engine)?;
    let store = session.store(engine, &repository)?;
    let prefer = Prefer::as_installed(&origin.platform);
    let reference = Reference {
        repository: repository.clone(),
        pick: Pick::Newest,
    };
    let version = block_on(resolve(
        engine,
        &store,
        &session.cache,
        &reference,
        prefer,
        layout_name(&repository, name),
    ))?;
    let new_version = version
        .plugin
        .as_ref()
        .map_or_else(|| "(unknown version)".to_string(), |m| m.version.clone());
    if let (Ok(before), Ok(after)) = (
        semver::Version::parse(&version_of(old)),
        semver::Version::parse(&new_version),
    ) && after < before
    {
        return Err(Diagnostic::new(format!(
            "cannot upgrade plugin '{name}': the newest version {} offers is {after}, older than the {before} installed",
            origin.source
        ))
        .with_fix(format!(
            "keep {before}; if the publisher withdrew it on purpose, `{ns} plugins remove {name}` and install {after} by its tag",
            ns = engine.ns()
        ))
        .into());
    }
    if version.digest == origin.digest && version.manifest_digest == origin.manifest {
        say(&format!(
            "plugin '{name}' is up to date ({} at {}@sha256:{})",
            version_of(old),
            origin.source,
            short(&origin.digest)
        ));
        return Ok(());
    }
    say(&format!(
        "plugin '{name}' {} -> {new_version} (sha256:{} -> sha256:{})",
        version_of(old),
        short(&origin.digest),
        short(&version.digest)
    ));
    if let (Some(before), Some(after)) = (&old.manifest, &version.plugin) {
        for line in capability_changes(&before.capabilities, &after.capabilities) {
            say(&format!("  {line}"));
        }
    }
    let verdict = block_on(check_signer(
        engine,
        &session,
        &store,
        &repository,
        &version,
        &Expected {
            pinned: origin.signer.as_ref().map(|s| s.key.as_str()),
            ..Expected::default()
        },
        choices,
        &format!("upgrade plugin '{name}' to {new_version}"),
    ))?;
    if dry_run {
        return Ok(());
    }
    let placed = block_on(place(engine, &store, &session.cache, &version))?;
    let mut inspected = inspect(
        engine,
        &placed.file,
        origin_of(&repository, &version, &verdict),
        old.grants.clone(),
        options,
    )?;
    refuse_unpublished(
        &reference.to_string(),
        &inspected.entry,
        version.plugin.as_ref(),
    )?;
    inspected.entry.trusted_owners = old.trusted_owners.clone();
    let entry = replace(engine, index, old, inspected, choices, options)?;
    placed.keep();
    session.cache.commit();
    verdict.warn(engine.ns(), options);
    remove_placed(engine, old);
    say(&format!(
        "upgraded plugin '{name}' {} -> {} ({}@sha256:{})",
        version_of(old),
        version_of(&entry),
        origin.source,
        short(&version.digest)
    ));
    Ok(())
}

/// What a new release asks to reach that the old one did not, and what it
/// no longer asks for, one line each.
fn capability_changes(
    before: &snapin_protocol::Capabilities,
    after: &snapin_protocol::Capabilities,
) -> Vec<String> {
    let words = |c: &snapin_protocol::Capabilities| -> Vec<String> {
        let dirs = c.dirs.iter().map(|d| {
            format!(
                "{} a directory ({})",
                serde_json::to_value(d.access)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                d.why.as_deref().unwrap_or("no reason given")
            )
        });
        dirs.chain(c.env.iter().map(|e| format!("env {e}")))
            .collect()
    };
    let (before, after) = (words(before), words(after));
    let added = after
        .iter()
        .filter(|w| !before.contains(w))
        .map(|w| format!("asks for more: {w}"));
    let removed = before
        .iter()
        .filter(|w| !after.contains(w))
        .map(|w| format!("no longer asks for: {w}"));
    added.chain(removed).collect()
}

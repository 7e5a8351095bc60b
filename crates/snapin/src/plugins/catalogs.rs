//! The catalogs the user added, on disk: the list (`catalogs.toml`: each
//! catalog's name, reference, key and when it was fetched) and the copy of
//! each last fetched with its signature (`NAME.json`, `NAME.sig`), checked
//! again with the catalog's key whenever it is read. Read by `search`,
//! `install NAME`, and `audit` without the network; written by `catalog
//! add`, `update` and `remove`. And fetching one: a catalog is an OCI
//! artifact of two layers, the document and its signature.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::provenance::catalog::{CATALOG_CAP, Catalog, CatalogEntry, ENTRIES_CAP};
use crate::provenance::key::PublicKey;
use crate::provenance::signature::{SIGNATURE_CAP, Signature};
use crate::registry::layout::Layout;
use crate::registry::oci;
use crate::registry::store::Store;

use super::common::{Result, read_capped, say};

/// Writes a file of the catalogs directory whole.
fn replace_file(path: &Path, bytes: &[u8]) -> std::result::Result<(), String> {
    crate::whole_file::replace(path, ".catalog-", bytes).map_err(|e| e.to_string())
}

use crate::paths::CATALOG_LIST_FILE as LIST_FILE;

/// One catalog the user added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Added {
    pub(super) name: String,
    /// `oci://HOST/REPO:TAG` or `oci-layout://DIR:REF`.
    pub(super) reference: String,
    /// The key its maintainers sign it with.
    pub(super) key: String,
    /// When the copy was fetched (RFC 3339).
    pub(super) fetched: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct List {
    #[serde(default, rename = "catalog")]
    catalogs: Vec<Added>,
}

/// The catalogs directory and its list.
pub(super) struct Catalogs {
    dir: PathBuf,
    pub(super) added: Vec<Added>,
}

/// A catalog read back from its copy.
pub(super) struct Loaded {
    pub(super) added: Added,
    pub(super) catalog: Catalog,
}

impl Catalogs {
    /// Reads the list; no directory or list is no catalogs.
    pub(super) fn load(engine: &Engine) -> Result<Catalogs> {
        let dir = engine.host.paths.catalogs_dir();
        let path = dir.join(LIST_FILE);
        let list = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<List>(&text).map_err(|e| {
                Diagnostic::new(format!(
                    "cannot read the catalog list {}: {}",
                    path.display(),
                    e.message().lines().next().unwrap_or("")
                ))
                .with_fix(format!(
                    "fix it by hand, or remove it and add the catalogs again with `{} plugins catalog add`",
                    engine.ns()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => List::default(),
            Err(e) => {
                return Err(Diagnostic::new(format!(
                    "cannot read the catalog list {}: {e}",
                    path.display()
                ))
                .with_fix("check the file's permissions")
                .into());
            }
        };
        Ok(Catalogs {
            dir,
            added: list.catalogs,
        })
    }

    /// Writes the list, and the copy of catalog `name` when given, each
    /// through a temporary file beside it.
    pub(super) fn save(&self, copy: Option<(&str, &[u8], &[u8])>) -> Result<()> {
        let failed = |e: String| -> super::common::Failure {
            Diagnostic::new(format!(
                "cannot write the catalogs in {}: {e}",
                self.dir.display()
            ))
            .with_fix("check that the directory is writable and the disk has room")
            .into()
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| failed(e.to_string()))?;
        if let Some((name, document, signature)) = copy {
            replace_file(&self.dir.join(format!("{name}.json")), document).map_err(failed)?;
            replace_file(&self.dir.join(format!("{name}.sig")), signature).map_err(failed)?;
        }
        let list = List {
            catalogs: self.added.clone(),
        };
        let text = toml::to_string_pretty(&list).map_err(|e| failed(e.to_string()))?;
        replace_file(&self.dir.join(LIST_FILE), text.as_bytes()).map_err(failed)
    }

    /// Forgets catalog `name` and deletes its copy.
    pub(super) fn forget(&mut self, name: &str) -> Result<()> {
        self.added.retain(|a| a.name != name);
        self.save(None)?;
        for ext in ["json", "sig"] {
            let _ = std::fs::remove_file(self.dir.join(format!("{name}.{ext}")));
        }
        Ok(())
    }

    /// Catalog `added` from its copy, its signature checked again.
    pub(super) fn read(&self, ns: &str, added: &Added) -> Result<Catalog> {
        let what = format!("read catalog '{}'", added.name);
        let read = |ext: &str, cap: u64| -> Result<Vec<u8>> {
            let path = self.dir.join(format!("{}.{ext}", added.name));
            read_capped(&path, cap).map_err(|e| {
                Diagnostic::new(format!("cannot {what}: {}: {e}", path.display()))
                    .with_fix(format!(
                        "fetch it again with `{ns} plugins catalog update {}`",
                        added.name
                    ))
                    .into()
            })
        };
        let document = read("json", CATALOG_CAP)?;
        let signature = read("sig", SIGNATURE_CAP)?;
        let key = PublicKey::parse(&added.key).map_err(|why| {
            Diagnostic::new(format!("cannot {what}: its key is unreadable: {why}")).with_fix(
                format!(
                    "add it again: `{ns} plugins catalog remove {0}`, then `{ns} plugins catalog add {0} REF --key KEY`",
                    added.name
                ),
            )
        })?;
        verified(ns, &document, &signature, &key, &what, &added.name)
    }

    /// Every catalog from its copy.
    pub(super) fn all(&self, ns: &str) -> Result<Vec<Loaded>> {
        self.added
            .iter()
            .map(|added| {
                Ok(Loaded {
                    added: added.clone(),
                    catalog: self.read(ns, added)?,
                })
            })
            .collect()
    }
}

impl Loaded {
    /// The entry for plugin `name`.
    pub(super) fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.catalog.get(name)
    }
}

/// The catalog in `document`, if `key` signed it (the exact bytes).
pub(super) fn verified(
    ns: &str,
    document: &[u8],
    signature: &[u8],
    key: &PublicKey,
    what: &str,
    name: &str,
) -> Result<Catalog> {
    let signature = Signature::parse(signature).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: its signature is unreadable: {why}"))
            .with_fix(format!(
                "fetch it again with `{ns} plugins catalog update {name}`; if it persists, tell its maintainers"
            ))
    })?;
    signature.verify(key, document).map_err(|why| {
        Diagnostic::new(format!(
            "cannot {what}: it is not signed by the catalog's key {}: {why}",
            key.id()
        ))
        .with_fix(
            "do not use it; check the key with the catalog's maintainers (the registry may serve something else)",
        )
    })?;
    Ok(Catalog::parse(document).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: {why}"))
            .with_fix("tell the catalog's maintainers; it is signed but this host cannot read it")
    })?)
}

/// Fetches the catalog artifact at `tag_or_digest`: the document and its
/// signature, each within its cap.
pub(super) async fn fetch(
    store: &Store,
    cache: &Layout,
    tag_or_digest: &str,
    what: &str,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let read = store.document(cache, tag_or_digest).await?;
    let not_catalog = |why: &str| -> super::common::Failure {
        Diagnostic::new(format!("cannot {what}: {why}"))
            .with_fix("check the reference; a catalog is written by `plugins catalog build`")
            .into()
    };
    if read.document.artifact_type.as_deref() != Some(oci::CATALOG_ARTIFACT_TYPE) {
        return Err(not_catalog("it is not a catalog"));
    }
    let layers = read.document.layers.clone().unwrap_or_default();
    let (Some(document), Some(signature)) = (
        layers
            .iter()
            .find(|l| l.media_type == oci::CATALOG_MEDIA_TYPE),
        layers.iter().find(|l| {
            crate::provenance::signature::Format::from_media_type(&l.media_type).is_some()
        }),
    ) else {
        return Err(not_catalog("it lacks its document or its signature"));
    };
    // Refused by the size the manifest states, before any of it is
    // downloaded (the download is held to that size too).
    for (layer, cap, which, limit) in [
        (document, CATALOG_CAP, "it", "a catalog"),
        (signature, SIGNATURE_CAP, "its signature", "a signature"),
    ] {
        if layer.size > cap {
            return Err(Diagnostic::new(format!(
                "cannot {what}: {which} is {} bytes, more than the {cap} bytes {limit} may be",
                layer.size
            ))
            .with_fix(format!(
                "check that the reference names the catalog you meant; if it does, tell its maintainers: a catalog lists at most {ENTRIES_CAP} plugins in {CATALOG_CAP} bytes"
            ))
            .into());
        }
    }
    let document = store.blob(cache, document, CATALOG_CAP, "catalog").await?;
    let signature = store
        .blob(cache, signature, SIGNATURE_CAP, "signature")
        .await?;
    let read_file = |path: &Path| {
        std::fs::read(path).map_err(|e| {
            super::common::Failure::from(
                Diagnostic::new(format!("cannot {what}: {}: {e}", path.display()))
                    .with_fix("try again"),
            )
        })
    };
    Ok((read_file(&document)?, read_file(&signature)?))
}

/// How long ago `fetched` (RFC 3339) was, in words: "3 hours".
pub(super) fn age(fetched: &str, now: SystemTime) -> String {
    let Ok(then) = humantime::parse_rfc3339(fetched) else {
        return "an unknown time".to_string();
    };
    let secs = now.duration_since(then).map(|d| d.as_secs()).unwrap_or(0);
    let (n, unit) = match secs {
        0..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..86400 => (secs / 3600, "hour"),
        _ => (secs / 86400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Prints `rows` as columns two spaces apart, the last one unpadded, each
/// cell made safe to print first (cells carry catalog-supplied text), so
/// that the columns line up as they show.
pub(super) fn print_columns(rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::text::one_line(c).into_owned())
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(width),
                None => widths.push(width),
            }
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 < row.len() {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            } else {
                line.push_str(cell);
            }
        }
        say(line.trim_end());
    }
}

/// Whether a version needing API `api` (none: unknown) can run on this
/// host, as the gate decides.
pub(super) fn fits(engine: &Engine, api: Option<&str>) -> bool {
    api.is_none_or(|req| crate::gate::check(req, engine.ns(), &engine.host.apis).is_ok())
}

/// A plugin named on the command line (`NAME` or `NAME@REQ`), found in
/// one catalog.
pub(super) struct Hit {
    pub(super) catalog: String,
    pub(super) entry: CatalogEntry,
    /// The version chosen: the newest not yanked that this host can run
    /// (and that REQ allows).
    pub(super) version: String,
}

impl Hit {
    /// The reference to install: the source at the version's tag.
    pub(super) fn reference(&self) -> String {
        format!("{}:{}", self.entry.source, self.version)
    }
}

/// Finds `NAME[@REQ]` in the catalogs. None when it is no catalog's and
/// no REQ was given (the caller looks for a `NS-NAME` executable on PATH
/// instead). A name in two catalogs, in a stale catalog, or with no
/// version this host can run is refused; a name that looks like another
/// catalog name gets a warning.
pub(super) fn find(
    engine: &Engine,
    text: &str,
    options: &crate::ui::Options,
) -> Result<Option<Hit>> {
    let ns = engine.ns();
    let (name, req) = match text.split_once('@') {
        Some((n, r)) => (n, Some(r)),
        None => (text, None),
    };
    let what = format!("install {text}");
    let catalogs = Catalogs::load(engine)?;
    if catalogs.added.is_empty() {
        return match req {
            None => Ok(None),
            Some(_) => Err(Diagnostic::new(format!(
                "cannot {what}: a version requirement needs a catalog, and none is added"
            ))
            .with_fix(format!(
                "add one with `{ns} plugins catalog add NAME REF --key KEY`, or install by reference (oci://HOST/REPO:TAG)"
            ))
            .into()),
        };
    }
    let loaded = catalogs.all(ns)?;
    let hits: Vec<&Loaded> = loaded.iter().filter(|l| l.get(name).is_some()).collect();
    let all_names = || {
        loaded.iter().flat_map(|l| {
            l.catalog
                .plugins
                .iter()
                .map(move |e| (e.name.as_str(), l.added.name.as_str()))
        })
    };
    let Some(loaded_hit) = hits.first() else {
        let close: Vec<String> = all_names()
            .filter(|(n, _)| super::lookalike::looks_like(name, n, ns))
            .map(|(n, c)| format!("{n} (catalog {c})"))
            .collect();
        if req.is_none() && close.is_empty() {
            return Ok(None);
        }
        return Err(Diagnostic::new(format!(
            "cannot {what}: no catalog lists plugin '{name}'{}",
            if close.is_empty() {
                String::new()
            } else {
                format!("; close: {}", close.join(", "))
            }
        ))
        .with_fix(format!(
            "check the name with `{ns} plugins search`, or fetch the catalogs again with `{ns} plugins catalog update`"
        ))
        .into());
    };
    if hits.len() > 1 {
        let both: Vec<String> = hits
            .iter()
            .filter_map(|l| {
                Some(format!(
                    "catalog {} ({})",
                    l.added.name,
                    l.get(name)?.source
                ))
            })
            .collect();
        let first = loaded_hit
            .get(name)
            .map(|e| e.source.clone())
            .unwrap_or_default();
        return Err(Diagnostic::new(format!(
            "cannot {what}: plugin '{name}' is in more than one catalog: {}",
            both.join(", ")
        ))
        .with_fix(format!(
            "install it by reference from the one you mean, such as `{ns} plugins install {first}`"
        ))
        .into());
    }
    let catalog = &loaded_hit.added.name;
    loaded_hit
        .catalog
        .check_fresh(SystemTime::now())
        .map_err(|why| {
            Diagnostic::new(format!(
                "cannot {what}: catalog '{catalog}' is stale: {why}"
            ))
            .with_fix(format!("`{ns} plugins catalog update {catalog}`"))
        })?;
    let Some(entry) = loaded_hit.get(name) else {
        return Ok(None);
    };
    let fits = |api: Option<&str>| fits(engine, api);
    let chosen = match req {
        Some(req) => entry.newest_matching(req, fits).map_err(|why| {
            Diagnostic::new(format!("cannot {what}: {why}")).with_fix(format!(
                "write a requirement such as `{name}@^1.2` or `{name}@=1.2.0`"
            ))
        })?,
        None => entry.newest(fits),
    };
    let Some(version) = chosen else {
        let yanked = if entry.yanked.is_empty() {
            String::new()
        } else {
            " (yanked versions are left out)".to_string()
        };
        return Err(Diagnostic::new(format!(
            "cannot {what}: catalog '{catalog}' has no version of '{name}'{} that this {ns} (API {}) can run{yanked}",
            req.map(|r| format!(" matching {r}")).unwrap_or_default(),
            engine.host.apis
        ))
        .with_fix(format!(
            "see its versions with `{ns} plugins search {name}`; upgrade {ns} if they need a newer API"
        ))
        .into());
    };
    for (other, in_catalog) in
        all_names().filter(|(n, _)| super::lookalike::looks_like(name, n, ns))
    {
        crate::ui::warning(
            ns,
            &format!(
                "'{name}' looks like '{other}' (catalog {in_catalog}): check that '{name}' is the plugin you meant"
            ),
            options,
        );
    }
    Ok(Some(Hit {
        catalog: catalog.clone(),
        entry: entry.clone(),
        version: version.version.clone(),
    }))
}

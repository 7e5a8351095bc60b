//! `plugins export --layout DIR`: the locked plugins, every platform of
//! each, written as a standard OCI image layout (reference names
//! `NAME:VERSION`), for machines without network: `install` and `sync
//! --from` read it, and `skopeo copy --all` pushes it to a registry.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::registry::layout::Layout;
use crate::registry::lockfile::LockFile;
use crate::registry::oci::{self, Descriptor, Document};
use crate::registry::store::{Store, referrers_tag};

use super::artifact::{Session, block_on, parse_reference};
use super::common::{Result, say};
use super::lock::{file_arg, file_of};

/// The clap definition of `plugins export`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("export")
        .about(super::registry_commands::EXPORT)
        .arg(
            Arg::new("layout")
                .long("layout")
                .required(true)
                .value_name("DIR")
                .value_hint(clap::ValueHint::DirPath)
                .help("The layout directory to write (created when missing)"),
        )
        .arg(file_arg(ns))
}

/// The arguments of `plugins export`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExportArgs {
    pub(super) layout: PathBuf,
    pub(super) file: PathBuf,
}

impl ExportArgs {
    pub(super) fn from(ns: &str, m: &ArgMatches) -> ExportArgs {
        ExportArgs {
            layout: m
                .get_one::<String>("layout")
                .map(PathBuf::from)
                .unwrap_or_default(),
            file: file_of(ns, m),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &ExportArgs) -> Result {
    let ns = engine.ns();
    let lock = LockFile::load(ns, &args.file)?;
    let mut session = Session::start(engine)?;
    let mut out = Layout::create(&args.layout).map_err(|e| {
        Diagnostic::new(format!(
            "cannot write the layout {}: {e}",
            args.layout.display()
        ))
        .with_fix("check that the directory is writable and the disk has room")
    })?;
    let mut refs = Vec::new();
    for locked in &lock.plugins {
        let repository = parse_reference("export", &locked.source)?.repository;
        let store = session.store(engine, &repository)?;
        let top = block_on(copy_version(&store, &session.cache, &out, &locked.digest))?;
        refs.push((format!("{}:{}", locked.name, locked.version), top));
        if let Some(signature) = &locked.signature {
            // The signature goes with it, listed as the index's referrer
            // under the tag schema's `sha256-HEX`, which `sync --from` reads.
            let entry = block_on(copy_manifest(&store, &session.cache, &out, signature))?;
            let list = Document::index(vec![entry], Default::default());
            let bytes = list.to_bytes();
            out.put(&bytes).map_err(|e| {
                Diagnostic::new(format!(
                    "cannot write the layout {}: {e}",
                    args.layout.display()
                ))
                .with_fix("check that the directory is writable and the disk has room")
            })?;
            refs.push((
                referrers_tag(&locked.digest),
                Descriptor::of(list.media_type(), &bytes),
            ));
        }
    }
    for (name, descriptor) in &refs {
        out.set_ref(name, descriptor).map_err(|e| {
            Diagnostic::new(format!(
                "cannot write the layout {}: {e}",
                args.layout.display()
            ))
            .with_fix("check that the directory is writable and the disk has room")
        })?;
    }
    out.commit();
    session.cache.commit();
    // The plugins, not the lists of their signatures beside them.
    let exported: Vec<&str> = refs
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| !n.starts_with("sha256-"))
        .collect();
    let signed = lock
        .plugins
        .iter()
        .filter(|l| l.signature.is_some())
        .count();
    say(&format!(
        "exported {} plugin{} to {} ({}){}",
        exported.len(),
        if exported.len() == 1 { "" } else { "s" },
        args.layout.display(),
        exported.join(", "),
        match (signed, exported.len()) {
            (0, _) => String::new(),
            (1, 1) => ", with its signature".to_string(),
            (n, all) if n == all => ", with their signatures".to_string(),
            (1, _) => ", with the signature of one".to_string(),
            (n, _) => format!(", with the signatures of {n}"),
        }
    ));
    Ok(ExitCode::SUCCESS)
}

/// Copies the blob or document at `digest` from the cache into `out`.
fn copy_into(out: &Layout, cache: &Layout, digest: &str) -> Result<()> {
    out.copy_from(cache, digest).map_err(|e| {
        Diagnostic::new(format!(
            "cannot write the layout {}: {e}",
            out.dir().display()
        ))
        .with_fix("check that the directory is writable and the disk has room")
        .into()
    })
}

/// Copies the image manifest at `digest` and its blobs into `out`; returns
/// its entry in a list of referrers.
async fn copy_manifest(
    store: &Store,
    cache: &Layout,
    out: &Layout,
    digest: &str,
) -> Result<Descriptor> {
    let read = store.document(cache, digest).await?;
    let blobs = read
        .document
        .config
        .iter()
        .chain(read.document.layers.iter().flatten());
    for blob in blobs {
        let cap = if blob.media_type == oci::CONFIG_MEDIA_TYPE {
            oci::CONFIG_CAP
        } else {
            oci::FILE_CAP
        };
        store.blob(cache, blob, cap, &blob.digest).await?;
        copy_into(out, cache, &blob.digest)?;
    }
    copy_into(out, cache, digest)?;
    let mut entry = read.descriptor();
    entry.artifact_type = read.document.artifact_type.clone();
    entry.annotations = read.document.annotations.clone();
    Ok(entry)
}

/// Copies the index at `digest`, every manifest it lists and their blobs
/// into `out`; returns the index's descriptor.
async fn copy_version(
    store: &Store,
    cache: &Layout,
    out: &Layout,
    digest: &str,
) -> Result<Descriptor> {
    let top = store.document(cache, digest).await?;
    let manifests = match &top.document.manifests {
        Some(list) => list.iter().map(|d| d.digest.clone()).collect(),
        None => vec![top.digest.clone()],
    };
    for m in &manifests {
        copy_manifest(store, cache, out, m).await?;
    }
    copy_into(out, cache, &top.digest)?;
    let bytes = cache.read(&top.digest, oci::MANIFEST_CAP).map_err(|e| {
        Diagnostic::new(format!("cannot read the download cache: {e}")).with_fix("try again")
    })?;
    Ok(Descriptor::of(top.document.media_type(), &bytes))
}

//! `plugins publish REF FILE...`: one version of a plugin, built for
//! several platforms, pushed as one OCI image index whose per-platform
//! manifests carry the plugin's manifest as their config blob, so that a
//! host decides what to install before downloading any code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Grants, Origin};
use crate::manifest;
use crate::registry::artifact::{Build, publication};
use crate::registry::layout::Layout;
use crate::registry::oci::{self, short};
use crate::registry::platform::{Platform, platforms_of};
use crate::registry::reference::{Pick, Repository, is_tag};
use crate::ui::Options;

use super::artifact::{Session, block_on, parse_reference};
use super::common::{Result, say};
use super::inspect::inspect;

/// The clap definition of `plugins publish`.
pub(super) fn command() -> Command {
    Command::new("publish")
        .about(super::registry_commands::PUBLISH)
        .arg(
            Arg::new("ref")
                .required(true)
                .value_name("REF")
                .help("oci://HOST[:PORT]/REPO[:TAG] (TAG defaults to the plugin's version) or oci-layout://DIR[:REF]"),
        )
        .arg(
            Arg::new("files")
                .required(true)
                .num_args(1..)
                .value_name("FILE")
                .value_hint(clap::ValueHint::FilePath)
                .help("Executables (one per platform, read from their headers) and WebAssembly components of one plugin version"),
        )
        .arg(
            Arg::new("annotation")
                .long("annotation")
                .value_name("KEY=VALUE")
                .action(ArgAction::Append)
                .help("Add or override an annotation of the image index (repeatable)"),
        )
        .arg(
            Arg::new("sign")
                .long("sign")
                .value_name("KEY_FILE")
                .value_hint(clap::ValueHint::FilePath)
                .help("Sign the version with this secret key (minisign, or an OpenSSH private key)"),
        )
}

/// The arguments of `plugins publish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PublishArgs {
    pub(super) reference: String,
    pub(super) files: Vec<PathBuf>,
    pub(super) annotations: Vec<String>,
    pub(super) sign: Option<PathBuf>,
}

impl From<&ArgMatches> for PublishArgs {
    fn from(m: &ArgMatches) -> PublishArgs {
        PublishArgs {
            reference: m.get_one::<String>("ref").cloned().unwrap_or_default(),
            files: m
                .get_many::<String>("files")
                .map(|f| f.map(PathBuf::from).collect())
                .unwrap_or_default(),
            annotations: m
                .get_many::<String>("annotation")
                .map(|a| a.cloned().collect())
                .unwrap_or_default(),
            sign: m.get_one::<String>("sign").map(PathBuf::from),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &PublishArgs, options: &Options) -> Result {
    let ns = engine.ns();
    let reference = parse_reference("publish to", &args.reference)?;
    let annotations = parse_annotations(&args.annotations)?;
    let key = args
        .sign
        .as_deref()
        .map(|p| super::sign::secret_key(ns, p))
        .transpose()?;
    let builds = describe_builds(engine, &args.files, options)?;
    let plugin = &builds[0].plugin;
    let tag = match &reference.pick {
        Pick::Newest => plugin.version.clone(),
        Pick::Tag(tag) => tag.clone(),
        Pick::Digest(_) => {
            return Err(Diagnostic::new(format!(
                "cannot publish to {}: a version is pushed under a tag, not a digest",
                args.reference
            ))
            .with_fix(format!(
                "leave the digest out: `{ns} plugins publish {} FILE...`",
                reference.at(Pick::Newest)
            ))
            .into());
        }
    };
    // A layout's reference name may hold `:` (`greet:0.2.0`); a registry's
    // tag may not.
    let is_layout = matches!(reference.repository, Repository::Layout { .. });
    if !(is_tag(&tag) || is_layout && !tag.is_empty()) {
        return Err(Diagnostic::new(format!(
            "cannot publish '{}' {}: {tag:?} cannot be a tag",
            plugin.name, plugin.version
        ))
        .with_fix("give a tag in the reference: oci://HOST/REPO:TAG (letters, digits, _ . -)")
        .into());
    }
    let publication = publication(&builds, &annotations, created());
    let session = Session::start(engine)?;
    if let Repository::Layout { dir } = &reference.repository {
        // Publishing to a layout writes one when there is none.
        Layout::create(dir).map_err(|e| {
            Diagnostic::new(format!("cannot write the layout {}: {e}", dir.display()))
                .with_fix("check that the directory is writable and the disk has room")
        })?;
    }
    let mut store = session.store(engine, &reference.repository)?;
    let pushed = block_on(async {
        for blob in &publication.blobs {
            store.push_blob(blob).await?;
        }
        for manifest in &publication.manifests {
            store.push_document(manifest, None).await?;
        }
        let pushed = store.push_document(&publication.index, Some(&tag)).await?;
        let signer = match &key {
            Some(key) => {
                let what = format!("sign '{}' {}", plugin.name, plugin.version);
                Some(super::sign::sign_version(&store, &pushed, plugin, key, &what).await?)
            }
            None => None,
        };
        Ok((pushed, signer))
    })?;
    let (pushed, signer) = pushed;
    store.commit();
    let platforms: Vec<String> = builds
        .iter()
        .flat_map(|b| b.platforms.iter().map(Platform::to_string))
        .collect();
    say(&format!(
        "published plugin '{}' {} to {}:{tag}@sha256:{} ({})",
        plugin.name,
        plugin.version,
        reference.repository,
        short(&pushed.digest),
        platforms.join(", ")
    ));
    if let Some(signer) = signer {
        say(&format!("signed it with {}", signer.id()));
    }
    Ok(ExitCode::SUCCESS)
}

/// `KEY=VALUE` pairs.
fn parse_annotations(given: &[String]) -> Result<BTreeMap<String, String>> {
    given
        .iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(
                Diagnostic::new(format!("--annotation {a:?} is not KEY=VALUE"))
                    .with_fix(format!(
                        "write it as --annotation {}=https://example.com/source",
                        oci::SOURCE
                    ))
                    .into(),
            ),
        })
        .collect()
}

/// When the version was made: `SOURCE_DATE_EPOCH` when set, so that a
/// rebuild pushes the same digests; otherwise now.
fn created() -> String {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|secs| {
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
            )
            .to_string()
        })
        .unwrap_or_else(crate::index::now_rfc3339)
}

/// Reads each file's platforms from its header and its manifest by
/// describing it. A build for another machine cannot run here: it is
/// published with the manifest of the builds that could, which must agree
/// with each other (a host checks each build's describe output against its
/// config when it installs it).
fn describe_builds(engine: &Engine, files: &[PathBuf], options: &Options) -> Result<Vec<Build>> {
    let here = Platform::current();
    let mut builds: Vec<(PathBuf, Vec<Platform>, Vec<u8>)> = Vec::new();
    for file in files {
        let refuse = |why: String| -> super::common::Failure {
            Diagnostic::new(format!("cannot publish {}: {why}", file.display()))
                .with_fix("give the plugin's executables, one per platform, and its WebAssembly component")
                .into()
        };
        let bytes = std::fs::read(file).map_err(|e| refuse(e.to_string()))?;
        if bytes.len() as u64 > oci::FILE_CAP {
            return Err(refuse(format!("it is larger than {} bytes", oci::FILE_CAP)));
        }
        let platforms =
            platforms_of(&bytes[..bytes.len().min(4096)]).map_err(|w| refuse(w.to_string()))?;
        builds.push((file.clone(), platforms, bytes));
    }
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for (file, platforms, _) in &builds {
        for p in platforms {
            if let Some(other) = seen.insert(p.to_string(), file.clone()) {
                return Err(Diagnostic::new(format!(
                    "cannot publish: {} and {} are both builds for {p}",
                    other.display(),
                    file.display()
                ))
                .with_fix("give one file per platform")
                .into());
            }
        }
    }
    let mut manifests: Vec<Option<snapin_protocol::Manifest>> = Vec::new();
    for (file, platforms, _) in &builds {
        let runnable = platforms.iter().any(|p| *p == here || p.is_component());
        manifests.push(if runnable {
            Some(describe(engine, file, options)?)
        } else {
            None
        });
    }
    let described: Vec<(&PathBuf, &snapin_protocol::Manifest)> = builds
        .iter()
        .zip(&manifests)
        .filter_map(|((file, _, _), m)| Some((file, m.as_ref()?)))
        .collect();
    let Some(&(first_file, first)) = described.first() else {
        return Err(Diagnostic::new(format!(
            "cannot publish: none of the files runs on this machine ({here}) to describe itself"
        ))
        .with_fix(format!(
            "add the build for {here} or the WebAssembly component to the files"
        ))
        .into());
    };
    if let Some((file, m)) = described
        .iter()
        .find(|(_, m)| m.name != first.name || m.version != first.version)
    {
        return Err(Diagnostic::new(format!(
            "cannot publish: {} is '{}' {} but {} is '{}' {}",
            first_file.display(),
            first.name,
            first.version,
            file.display(),
            m.name,
            m.version
        ))
        .with_fix("publish the builds of one plugin version together")
        .into());
    }
    // Builds for other machines carry the manifest an executable gave, or
    // the component's without its sandbox requests (an executable has no
    // sandbox).
    let for_others = builds
        .iter()
        .zip(&manifests)
        .find(|((_, platforms, _), m)| m.is_some() && !platforms.iter().any(Platform::is_component))
        .and_then(|(_, m)| m.clone())
        .unwrap_or_else(|| {
            let mut m = first.clone();
            m.capabilities = Default::default();
            m
        });
    Ok(builds
        .into_iter()
        .zip(manifests)
        .map(|((path, platforms, bytes), m)| Build {
            path,
            plugin: m.unwrap_or_else(|| for_others.clone()),
            platforms,
            bytes,
        })
        .collect())
}

/// The manifest `file` describes, checked against the contract hosts apply.
fn describe(engine: &Engine, file: &Path, options: &Options) -> Result<snapin_protocol::Manifest> {
    let ns = engine.ns();
    let path = dunce::canonicalize(file).map_err(|e| {
        Diagnostic::new(format!("cannot publish {}: {e}", file.display()))
            .with_fix("check the path")
    })?;
    let origin = Origin::Path {
        given: file.display().to_string(),
    };
    let inspected = inspect(engine, &path, origin, Grants::default(), options)?;
    let Some(m) = inspected.entry.manifest else {
        return Err(Diagnostic::new(format!(
            "cannot publish {}: it does not describe itself: {}",
            file.display(),
            inspected.entry.describe_error.unwrap_or_default()
        ))
        .with_fix(format!(
            "see why: `{ns} plugins check {}`",
            crate::trust::quoted(&path)
        ))
        .into());
    };
    if let Err(e) = manifest::validate(&m, ns, &engine.reserved) {
        return Err(Diagnostic::new(format!(
            "cannot publish {}: hosts would refuse its manifest: {e}",
            file.display()
        ))
        .with_fix(format!(
            "see why: `{ns} plugins check {}`",
            crate::trust::quoted(&path)
        ))
        .into());
    }
    Ok(m)
}

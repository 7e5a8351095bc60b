//! `plugins catalog build|add|list|remove|update`: signed catalogs of
//! plugins. Maintainers build one from a draft and push it as an OCI
//! artifact; users add it with the key it must be signed by. Catalogs are
//! fetched only by these commands; `search`, `install NAME` and `audit`
//! read the copies (catalogs.rs).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::{Arg, ArgMatches, Command};
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::provenance::catalog::{Catalog, CatalogVersion};
use crate::provenance::key::PublicKey;
use crate::registry::artifact;
use crate::registry::oci::{self, Descriptor, Document, short};
use crate::registry::reference::{Pick, Reference};
use crate::ui::Options;

use super::artifact::{Session, block_on, parse_reference};
use super::catalogs::{Added, Catalogs, age, fetch, print_columns, verified};
use super::common::{Result, json_arg, print_json, say};
use super::sign::{public_key, secret_key, version_of};

/// The tag a catalog is pushed under and read from when none is given.
const DEFAULT_TAG: &str = "latest";
/// How long a catalog built without `--expires` is valid.
const DEFAULT_VALIDITY: &str = "30days";

/// The clap definition of `plugins catalog` and its subcommands.
pub(super) fn command(ns: &str) -> Command {
    let name = || {
        Arg::new("name")
            .required(true)
            .value_name("NAME")
            .help("The catalog's name on this machine")
    };
    Command::new("catalog")
        .about(super::registry_commands::CATALOG)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("build")
                .about("Build a catalog from a draft, sign it and push it")
                .arg(
                    Arg::new("draft")
                        .required(true)
                        .value_name("FILE")
                        .value_hint(clap::ValueHint::FilePath)
                        .help("The draft (TOML): [[plugin]] tables with name, description, source, keys, and optionally versions and yanked"),
                )
                .arg(
                    Arg::new("sign")
                        .long("sign")
                        .required(true)
                        .value_name("KEY_FILE")
                        .value_hint(clap::ValueHint::FilePath)
                        .help("The maintainers' secret key (minisign, or an OpenSSH private key)"),
                )
                .arg(
                    Arg::new("to")
                        .long("to")
                        .required(true)
                        .value_name("REF")
                        .help("Where to push it: oci://HOST/REPO[:TAG] (TAG defaults to latest) or oci-layout://DIR[:REF]"),
                )
                .arg(
                    Arg::new("expires")
                        .long("expires")
                        .value_name("DURATION")
                        .default_value(DEFAULT_VALIDITY)
                        .help("How long hosts accept it (30days, 12h...): an older copy replayed after that is refused"),
                ),
        )
        .subcommand(
            Command::new("add")
                .about("Add a catalog, checked with the key it must be signed by")
                .arg(name())
                .arg(
                    Arg::new("ref")
                        .required(true)
                        .value_name("REF")
                        .help("oci://HOST/REPO[:TAG] or oci-layout://DIR[:REF]"),
                )
                .arg(
                    Arg::new("key")
                        .long("key")
                        .required(true)
                        .value_name("PUBLIC_KEY")
                        .help(format!(
                            "The maintainers' public key, or a file holding it (see `{ns} plugins trust add --help`)"
                        )),
                ),
        )
        .subcommand(
            Command::new("list")
                .about("Show the catalogs added")
                .arg(json_arg()),
        )
        .subcommand(Command::new("remove").about("Forget a catalog").arg(name()))
        .subcommand(
            Command::new("update")
                .about("Fetch the catalogs again (all, or the one named)")
                .arg(name().required(false)),
        )
}

/// One of the `catalog` subcommands, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CatalogArgs {
    Build {
        draft: PathBuf,
        sign: PathBuf,
        to: String,
        expires: String,
    },
    Add {
        name: String,
        reference: String,
        key: String,
    },
    List {
        json: bool,
    },
    Remove {
        name: String,
    },
    Update {
        name: Option<String>,
    },
}

impl CatalogArgs {
    pub(super) fn from(m: &ArgMatches) -> Option<CatalogArgs> {
        let text = |m: &ArgMatches, id: &str| m.get_one::<String>(id).cloned().unwrap_or_default();
        Some(match m.subcommand()? {
            ("build", m) => CatalogArgs::Build {
                draft: PathBuf::from(text(m, "draft")),
                sign: PathBuf::from(text(m, "sign")),
                to: text(m, "to"),
                expires: text(m, "expires"),
            },
            ("add", m) => CatalogArgs::Add {
                name: text(m, "name"),
                reference: text(m, "ref"),
                key: text(m, "key"),
            },
            ("list", m) => CatalogArgs::List {
                json: m.get_flag("json"),
            },
            ("remove", m) => CatalogArgs::Remove {
                name: text(m, "name"),
            },
            ("update", m) => CatalogArgs::Update {
                name: m.get_one::<String>("name").cloned(),
            },
            _ => return None,
        })
    }
}

pub(super) fn run(engine: &Engine, args: &CatalogArgs, options: &Options) -> Result {
    match args {
        CatalogArgs::Build {
            draft,
            sign,
            to,
            expires,
        } => build(engine, draft, sign, to, expires),
        CatalogArgs::Add {
            name,
            reference,
            key,
        } => add(engine, name, reference, key),
        CatalogArgs::List { json } => list(engine, *json),
        CatalogArgs::Remove { name } => remove(engine, name),
        CatalogArgs::Update { name } => update(engine, name.as_deref(), options),
    }
}

/// The tag or digest a catalog reference picks.
fn pick(reference: &Reference) -> String {
    match &reference.pick {
        Pick::Tag(t) => t.clone(),
        Pick::Digest(d) => d.clone(),
        Pick::Newest => DEFAULT_TAG.to_string(),
    }
}

fn build(engine: &Engine, draft: &Path, sign: &Path, to: &str, expires: &str) -> Result {
    let ns = engine.ns();
    let what = format!("build a catalog from {}", draft.display());
    let valid_for: Duration = humantime::parse_duration(expires).map_err(|e| {
        Diagnostic::new(format!("cannot {what}: --expires {expires:?}: {e}"))
            .with_fix("give a duration such as 30days or 12h")
    })?;
    let key = secret_key(ns, sign)?;
    let reference = parse_reference("push a catalog to", to)?;
    let text = std::fs::read_to_string(draft).map_err(|e| {
        Diagnostic::new(format!("cannot {what}: {e}"))
            .with_fix("give the draft catalog file (TOML)")
    })?;
    let mut catalog = Catalog::from_draft(&text, SystemTime::now(), valid_for).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: {why}")).with_fix(format!(
            "fix the draft; `{ns} plugins catalog build --help` describes it"
        ))
    })?;
    for entry in &catalog.plugins {
        for k in &entry.keys {
            PublicKey::parse(k).map_err(|why| {
                Diagnostic::new(format!(
                    "cannot {what}: plugin '{}' lists a key that is not one: {why}",
                    entry.name
                ))
                .with_fix("give minisign public keys (RW...) or OpenSSH public key lines")
            })?;
        }
    }
    let mut session = Session::start(engine)?;
    // Versions a draft leaves out are read from the plugin's registry.
    for entry in catalog.plugins.iter_mut().filter(|e| e.versions.is_empty()) {
        let source = parse_reference("read", &entry.source)?;
        let store = session.store(engine, &source.repository)?;
        let found = block_on(async {
            let tags = store.tags().await?;
            let mut versions = Vec::new();
            for (version, tag) in artifact::versions(&tags, None) {
                let (_, plugin) = version_of(&store, &session.cache, &tag, &what).await?;
                versions.push(CatalogVersion {
                    version: version.to_string(),
                    api: Some(plugin.api),
                });
            }
            Ok(versions)
        })?;
        entry.versions = found;
    }
    let catalog = Catalog::parse(&catalog.to_bytes()).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: {why}"))
            .with_fix("fix the draft, or publish the plugins it names")
    })?;
    let document = catalog.to_bytes();
    let signature = key.sign(&document).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: signing failed: {why}"))
            .with_fix("check the key file")
    })?;
    let signer = key.public();
    let tag = pick(&reference);
    if let crate::registry::reference::Repository::Layout { dir } = &reference.repository {
        crate::registry::layout::Layout::create(dir).map_err(|e| {
            Diagnostic::new(format!("cannot write the layout {}: {e}", dir.display()))
                .with_fix("check that the directory is writable and the disk has room")
        })?;
    }
    let mut store = session.store(engine, &reference.repository)?;
    let pushed = block_on(async {
        let mut signature_layer =
            Descriptor::of(signature.format().media_type(), signature.to_bytes());
        signature_layer
            .annotations
            .insert(oci::SIGNER.to_string(), signer.to_text());
        let manifest = Document::artifact(
            oci::CATALOG_ARTIFACT_TYPE,
            vec![
                Descriptor::of(oci::CATALOG_MEDIA_TYPE, &document),
                signature_layer,
            ],
            None,
            BTreeMap::from([(oci::CREATED.to_string(), catalog.issued.clone())]),
        );
        store.push_blob(oci::EMPTY).await?;
        store.push_blob(&document).await?;
        store.push_blob(signature.to_bytes()).await?;
        Ok(store.push_document(&manifest, Some(&tag)).await?)
    })?;
    store.commit();
    session.cache.commit();
    say(&format!(
        "built a catalog of {} plugin{}, signed by {}, valid until {}: {}:{tag}@sha256:{}",
        catalog.plugins.len(),
        if catalog.plugins.len() == 1 { "" } else { "s" },
        signer.id(),
        catalog.expires,
        reference.repository,
        short(&pushed.digest)
    ));
    Ok(ExitCode::SUCCESS)
}

/// Fetches the catalog `reference` names and checks it with `key`: its
/// document, signature and freshness.
fn fetch_checked(
    engine: &Engine,
    name: &str,
    reference: &str,
    key: &PublicKey,
    what: &str,
    keep: impl FnOnce(&Catalog, &[u8], &[u8]) -> Result<()>,
) -> Result<Catalog> {
    let ns = engine.ns();
    let parsed = parse_reference(what, reference)?;
    let mut session = Session::start(engine)?;
    let store = session.store(engine, &parsed.repository)?;
    let (document, signature) = block_on(fetch(&store, &session.cache, &pick(&parsed), what))?;
    let catalog = verified(ns, &document, &signature, key, what, name)?;
    catalog.check_fresh(SystemTime::now()).map_err(|why| {
        Diagnostic::new(format!("cannot {what}: {why}")).with_fix(
            "ask its maintainers to build it again; an expired catalog may be an old one replayed",
        )
    })?;
    // What was downloaded stays in the cache only once the catalog is kept.
    keep(&catalog, &document, &signature)?;
    session.cache.commit();
    Ok(catalog)
}

fn add(engine: &Engine, name: &str, reference: &str, key: &str) -> Result {
    let ns = engine.ns();
    let what = format!("add catalog '{name}'");
    if !crate::manifest::is_valid_name(name) {
        return Err(Diagnostic::new(format!(
            "cannot {what}: a catalog's name is lowercase letters, digits and dashes"
        ))
        .with_fix(format!(
            "`{ns} plugins catalog add acme {reference} --key KEY`"
        ))
        .into());
    }
    let mut catalogs = Catalogs::load(engine)?;
    if let Some(there) = catalogs.added.iter().find(|a| a.name == name) {
        return Err(Diagnostic::new(format!(
            "cannot {what}: it is already added, from {}",
            there.reference
        ))
        .with_fix(format!(
            "`{ns} plugins catalog update {name}` to fetch it again, or `{ns} plugins catalog remove {name}` first"
        ))
        .into());
    }
    let key = public_key(ns, key, &what)?;
    let catalog = fetch_checked(
        engine,
        name,
        reference,
        &key,
        &what,
        |_, document, signature| {
            catalogs.added.push(Added {
                name: name.to_string(),
                reference: reference.to_string(),
                key: key.to_text(),
                fetched: crate::index::now_rfc3339(),
            });
            catalogs.save(Some((name, document, signature)))
        },
    )?;
    say(&format!(
        "added catalog '{name}': {} plugin{}, signed by {}, valid until {}",
        catalog.plugins.len(),
        if catalog.plugins.len() == 1 { "" } else { "s" },
        key.id(),
        catalog.expires
    ));
    Ok(ExitCode::SUCCESS)
}

/// A row of `catalog list`.
#[derive(Serialize)]
struct Row {
    name: String,
    reference: String,
    key: String,
    fetched: String,
    plugins: Option<usize>,
    expires: Option<String>,
}

fn list(engine: &Engine, json: bool) -> Result {
    let ns = engine.ns();
    let catalogs = Catalogs::load(engine)?;
    let rows: Vec<Row> = catalogs
        .added
        .iter()
        .map(|added| {
            let catalog = catalogs.read(ns, added).ok();
            Row {
                name: added.name.clone(),
                reference: added.reference.clone(),
                key: PublicKey::parse(&added.key)
                    .map(|k| k.id())
                    .unwrap_or_else(|_| added.key.clone()),
                fetched: added.fetched.clone(),
                plugins: catalog.as_ref().map(|c| c.plugins.len()),
                expires: catalog.map(|c| c.expires),
            }
        })
        .collect();
    if json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        say(&format!(
            "no catalogs; add one with `{ns} plugins catalog add NAME REF --key KEY`"
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let now = SystemTime::now();
    let mut table = vec![
        ["NAME", "REFERENCE", "KEY", "PLUGINS", "FETCHED", "EXPIRES"]
            .map(str::to_string)
            .to_vec(),
    ];
    for row in rows {
        let expires = match &row.expires {
            None => "? (its copy is unreadable)".to_string(),
            Some(at) if humantime::parse_rfc3339(at).is_ok_and(|t| t <= now) => {
                format!("{at} (expired)")
            }
            Some(at) => at.clone(),
        };
        table.push(vec![
            row.name,
            row.reference,
            row.key,
            row.plugins
                .map_or_else(|| "?".to_string(), |n| n.to_string()),
            format!("{} ago", age(&row.fetched, now)),
            expires,
        ]);
    }
    print_columns(&table);
    Ok(ExitCode::SUCCESS)
}

fn remove(engine: &Engine, name: &str) -> Result {
    let ns = engine.ns();
    let mut catalogs = Catalogs::load(engine)?;
    if !catalogs.added.iter().any(|a| a.name == name) {
        let names: Vec<&str> = catalogs.added.iter().map(|a| a.name.as_str()).collect();
        return Err(Diagnostic::new(format!(
            "cannot remove catalog '{name}': no such catalog{}",
            if names.is_empty() {
                String::new()
            } else {
                format!(" (there are: {})", names.join(", "))
            }
        ))
        .with_fix(format!("see them with `{ns} plugins catalog list`"))
        .into());
    }
    catalogs.forget(name)?;
    say(&format!("removed catalog '{name}'"));
    Ok(ExitCode::SUCCESS)
}

fn update(engine: &Engine, only: Option<&str>, options: &Options) -> Result {
    let ns = engine.ns();
    let mut catalogs = Catalogs::load(engine)?;
    if let Some(name) = only
        && !catalogs.added.iter().any(|a| a.name == name)
    {
        return Err(
            Diagnostic::new(format!("cannot update catalog '{name}': no such catalog"))
                .with_fix(format!("see them with `{ns} plugins catalog list`"))
                .into(),
        );
    }
    let chosen: Vec<usize> = (0..catalogs.added.len())
        .filter(|&i| only.is_none_or(|n| n == catalogs.added[i].name))
        .collect();
    let mut failed = 0;
    for &i in &chosen {
        let added = catalogs.added[i].clone();
        let what = format!("update catalog '{}'", added.name);
        let result = (|| -> Result<Catalog> {
            let key = public_key(ns, &added.key, &what)?;
            fetch_checked(
                engine,
                &added.name,
                &added.reference,
                &key,
                &what,
                |catalog, document, signature| {
                    if let Ok(held) = catalogs.read(ns, &added) {
                        catalog.check_not_older(&held).map_err(|why| {
                            Diagnostic::new(format!("cannot {what}: {why}")).with_fix(
                                "keep the copy you have; tell the catalog's maintainers if it persists",
                            )
                        })?;
                    }
                    catalogs.added[i].fetched = crate::index::now_rfc3339();
                    catalogs.save(Some((&added.name, document, signature)))
                },
            )
        })();
        match result {
            Ok(catalog) => say(&format!(
                "updated catalog '{}': {} plugin{}, valid until {}",
                added.name,
                catalog.plugins.len(),
                if catalog.plugins.len() == 1 { "" } else { "s" },
                catalog.expires
            )),
            // One catalog to update: its failure is the command's, one line.
            Err(failure) if chosen.len() == 1 => return Err(failure),
            Err(failure) => {
                failed += 1;
                crate::ui::error(ns, &failure.diagnostic(ns), options);
            }
        }
    }
    if failed == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Diagnostic::new(format!(
            "{failed} of {} catalogs could not be updated",
            chosen.len()
        ))
        .with_fix("see the errors above; the copies held of those are unchanged")
        .into())
    }
}

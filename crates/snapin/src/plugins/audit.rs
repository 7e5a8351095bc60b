//! `plugins audit [--json]`: what deserves a second look among the
//! plugins installed, from the index and the catalogs' copies, without the
//! network. Exit status 1 when anything is found:
//!
//! - a version a catalog has yanked, with its reason;
//! - a registry plugin no one signed;
//! - a signer that is not among the keys a catalog lists for the plugin;
//! - a plugin file, or a directory above it, that others can write;
//! - a component granted write access, or the whole file system (`/`).

use std::process::ExitCode;

use clap::{ArgMatches, Command};
use serde::Serialize;

use crate::engine::Engine;
use crate::index::{Entry, Kind, Origin};
use crate::provenance::key::PublicKey;
use crate::ui;

use super::catalogs::{Catalogs, Loaded, print_columns};
use super::common::{Result, json_arg, load_index, print_json, say};

/// The clap definition of `plugins audit`.
pub(super) fn command() -> Command {
    Command::new("audit")
        .about(super::registry_commands::AUDIT)
        .arg(json_arg())
}

/// The arguments of `plugins audit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AuditArgs {
    pub(super) json: bool,
}

impl From<&ArgMatches> for AuditArgs {
    fn from(m: &ArgMatches) -> AuditArgs {
        AuditArgs {
            json: m.get_flag("json"),
        }
    }
}

/// One thing found.
#[derive(Debug, Serialize)]
struct Finding {
    plugin: String,
    /// `yanked`, `unsigned`, `signer`, `writable` or `grant`.
    check: &'static str,
    what: String,
    fix: String,
}

pub(super) fn run(engine: &Engine, args: &AuditArgs) -> Result {
    let ns = engine.ns();
    let index = load_index(engine)?;
    let catalogs = Catalogs::load(engine)?;
    let loaded = catalogs.all(ns)?;
    let mut findings = Vec::new();
    for entry in &index.plugins {
        findings.extend(audit(engine, entry, &loaded));
    }
    if args.json {
        print_json(&findings)?;
    } else if findings.is_empty() {
        say(&format!(
            "audited {} plugin{} against {} catalog{}: nothing found",
            index.plugins.len(),
            if index.plugins.len() == 1 { "" } else { "s" },
            loaded.len(),
            if loaded.len() == 1 { "" } else { "s" }
        ));
    } else {
        let rows: Vec<Vec<String>> = findings
            .iter()
            .map(|f| {
                vec![
                    f.plugin.clone(),
                    f.check.to_string(),
                    format!("{}; fix: {}", f.what, f.fix),
                ]
            })
            .collect();
        print_columns(&rows);
        ui::notice(&format!(
            "{} finding{} in {} plugin{}\n",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            index.plugins.len(),
            if index.plugins.len() == 1 { "" } else { "s" }
        ));
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What is found about one installed plugin.
fn audit(engine: &Engine, entry: &Entry, catalogs: &[Loaded]) -> Vec<Finding> {
    let ns = engine.ns();
    let name = &entry.name;
    let mut found = Vec::new();
    let mut finding = |check, what: String, fix: String| {
        found.push(Finding {
            plugin: name.clone(),
            check,
            what,
            fix,
        })
    };
    if let Origin::Oci(origin) = &entry.origin {
        let version = entry.manifest.as_ref().map(|m| m.version.as_str());
        let listed = catalogs.iter().filter_map(|l| {
            let e = l
                .catalog
                .plugins
                .iter()
                .find(|e| e.source == origin.source)?;
            Some((l.added.name.as_str(), e))
        });
        if origin.signer.is_none() {
            finding(
                "unsigned",
                format!(
                    "installed from {} unsigned: nothing shows who published it",
                    origin.source
                ),
                format!(
                    "ask its publisher to sign it (`{ns} plugins sign`), then `{ns} plugins remove {name}` and install it again"
                ),
            );
        }
        for (catalog, e) in listed {
            if let Some(reason) = version.and_then(|v| e.yanked(v)) {
                finding(
                    "yanked",
                    format!(
                        "version {} is yanked in catalog {catalog}: {reason}",
                        version.unwrap_or_default()
                    ),
                    format!("`{ns} plugins upgrade {name}`"),
                );
            }
            if let Some(signer) = &origin.signer {
                let signer_key = PublicKey::parse(&signer.key).ok();
                let vouched = e
                    .keys
                    .iter()
                    .filter_map(|k| PublicKey::parse(k).ok())
                    .any(|k| Some(&k) == signer_key.as_ref());
                if !vouched {
                    finding(
                        "signer",
                        format!(
                            "signed by {}, which catalog {catalog} does not list for it",
                            signer.id
                        ),
                        format!(
                            "check with the catalog's maintainers; to install the catalog's: `{ns} plugins remove {name}`, then `{ns} plugins install {name}`"
                        ),
                    );
                }
            }
        }
    }
    if let Err(e) = crate::trust::check(&entry.path, &entry.trusted_owners) {
        finding("writable", e.to_string(), e.fix());
    }
    if entry.kind == Kind::Wasm {
        for grant in &entry.grants.dirs {
            if grant.write || grant.path == std::path::Path::new("/") {
                finding(
                    "grant",
                    format!(
                        "it may {} {}",
                        if grant.write {
                            "write to"
                        } else {
                            "read all of"
                        },
                        grant.path.display()
                    ),
                    crate::engine::revoke_fix(ns, name, grant),
                );
            }
        }
    }
    found
}

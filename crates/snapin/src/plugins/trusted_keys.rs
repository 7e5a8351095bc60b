//! `plugins trust add KEY [--for PREFIX]`, `trust list` and `trust remove
//! KEY`: the publishers' keys the user trusts, each for every source or
//! for the sources under one prefix (see `provenance/keyring.rs`).

use std::process::ExitCode;

use clap::{Arg, ArgMatches, Command};
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::provenance::keyring::{Keyring, TrustedKey};

use super::common::{Result, json_arg, print_json, say};
use super::sign::public_key;

/// The clap definition of `plugins trust` and its subcommands.
pub(super) fn command() -> Command {
    let key = || {
        Arg::new("key")
            .required(true)
            .value_name("KEY")
            .help("A minisign public key (RW...), an OpenSSH public key line (ssh-ed25519 AAAA...), or a .pub file holding one")
    };
    Command::new("trust")
        .about(super::registry_commands::TRUST)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("add")
                .about("Trust a publisher's key")
                .arg(key())
                .arg(
                    Arg::new("for")
                        .long("for")
                        .value_name("oci://HOST/PREFIX")
                        .help("Only for plugins whose source is under this prefix"),
                ),
        )
        .subcommand(
            Command::new("list")
                .about("Show the keys you trust")
                .arg(json_arg()),
        )
        .subcommand(
            Command::new("remove")
                .about("Stop trusting a key")
                .arg(key().help("The key, its file, or its id as `trust list` shows it")),
        )
}

/// One of the `trust` subcommands, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TrustArgs {
    Add { key: String, scope: Option<String> },
    List { json: bool },
    Remove { key: String },
}

impl TrustArgs {
    pub(super) fn from(m: &ArgMatches) -> Option<TrustArgs> {
        let key = |m: &ArgMatches| m.get_one::<String>("key").cloned().unwrap_or_default();
        match m.subcommand()? {
            ("add", m) => Some(TrustArgs::Add {
                key: key(m),
                scope: m.get_one::<String>("for").cloned(),
            }),
            ("list", m) => Some(TrustArgs::List {
                json: m.get_flag("json"),
            }),
            ("remove", m) => Some(TrustArgs::Remove { key: key(m) }),
            _ => None,
        }
    }
}

pub(super) fn run(engine: &Engine, args: &TrustArgs) -> Result {
    let ns = engine.ns();
    let path = engine.host.paths.trusted_keys_file();
    let unreadable = |why: String| {
        Diagnostic::new(format!(
            "cannot read the trusted keys file {}: {why}",
            path.display()
        ))
        .with_fix(format!(
            "fix the file by hand, or move it away and add the keys again with `{ns} plugins trust add KEY`"
        ))
    };
    let mut keyring = Keyring::load(&path).map_err(unreadable)?;
    let save = |keyring: &Keyring| -> Result<()> {
        keyring.save(&path).map_err(|why| {
            Diagnostic::new(format!(
                "cannot write the trusted keys file {}: {why}",
                path.display()
            ))
            .with_fix("check that the directory is writable and the disk has room")
            .into()
        })
    };
    match args {
        TrustArgs::Add { key, scope } => {
            let parsed = public_key(ns, key, "trust the key")?;
            if let Some(prefix) = scope
                && !(prefix.starts_with("oci://") || prefix.starts_with("oci-layout://"))
            {
                return Err(Diagnostic::new(format!(
                    "cannot trust the key for {prefix:?}: a prefix starts with oci:// or oci-layout://"
                ))
                .with_fix(format!(
                    "`{ns} plugins trust add KEY --for oci://ghcr.io/ORG/`"
                ))
                .into());
            }
            let entry = TrustedKey {
                key: parsed.to_text(),
                scope: scope.clone(),
            };
            if keyring.keys.contains(&entry) {
                say(&format!(
                    "{} is already trusted{}",
                    parsed.id(),
                    for_scope(scope)
                ));
                return Ok(ExitCode::SUCCESS);
            }
            keyring.keys.push(entry);
            save(&keyring)?;
            say(&format!("trusted {}{}", parsed.id(), for_scope(scope)));
        }
        TrustArgs::List { json } => {
            let rows: Vec<Row> = keyring
                .keys
                .iter()
                .map(|k| Row {
                    id: crate::provenance::key::PublicKey::parse(&k.key)
                        .map(|p| p.id())
                        .unwrap_or_default(),
                    key: k.key.clone(),
                    scope: k.scope.clone(),
                })
                .collect();
            if *json {
                print_json(&rows)?;
            } else if rows.is_empty() {
                say(&format!(
                    "no trusted keys (add one with `{ns} plugins trust add KEY`)"
                ));
            } else {
                for row in rows {
                    println!(
                        "{}\t{}\t{}",
                        row.id,
                        row.scope.as_deref().unwrap_or("(every source)"),
                        row.key
                    );
                }
            }
        }
        TrustArgs::Remove { key } => {
            let wanted = public_key(ns, key, "stop trusting the key")
                .ok()
                .map(|k| k.to_text());
            let before = keyring.keys.len();
            keyring.keys.retain(|k| {
                let id = crate::provenance::key::PublicKey::parse(&k.key)
                    .map(|p| p.id())
                    .unwrap_or_default();
                Some(&k.key) != wanted.as_ref() && id != *key
            });
            let removed = before - keyring.keys.len();
            if removed == 0 {
                return Err(Diagnostic::new(format!(
                    "cannot stop trusting {key}: it is not trusted"
                ))
                .with_fix(format!(
                    "see the trusted keys with `{ns} plugins trust list`"
                ))
                .into());
            }
            save(&keyring)?;
            say(&format!(
                "no longer trusted: {key} ({removed} entr{})",
                if removed == 1 { "y" } else { "ies" }
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn for_scope(scope: &Option<String>) -> String {
    scope
        .as_deref()
        .map(|p| format!(" for {p}"))
        .unwrap_or_else(|| " for every source".to_string())
}

/// A row of `trust list`.
#[derive(Serialize)]
struct Row {
    id: String,
    key: String,
    #[serde(rename = "for", skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

//! `plugins info NAME`: everything about one plugin, as text or JSON.

use std::io::Write;
use std::process::ExitCode;

use clap::{ArgMatches, Command};
use serde::Serialize;
use snapin_protocol::{CommandSpec, Manifest};

use crate::engine::Engine;
use crate::index::Kind;
use crate::loader::Status;
use crate::text;

use super::common::{Result, json_arg, load_index, not_installed, print_json, string};
use super::consent::owners_of;
use super::grants::describe_requests;
use super::list::{Row, rows};
use super::names::{PluginNames, Which};

/// The clap definition of `plugins info`.
pub(super) fn command(names: &PluginNames) -> Command {
    Command::new("info")
        .about("Show everything about one plugin")
        .arg(names.arg(Which::Any))
        .arg(json_arg())
}

/// The arguments of `plugins info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InfoArgs {
    pub(super) name: String,
    pub(super) json: bool,
}

impl From<&ArgMatches> for InfoArgs {
    fn from(m: &ArgMatches) -> InfoArgs {
        InfoArgs {
            name: string(m, "name"),
            json: m.get_flag("json"),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &InfoArgs) -> Result {
    let name = args.name.as_str();
    let index = load_index(engine)?;
    // The one entry is kept before the loader consumes the index.
    let entry = index.get(name).cloned();
    let rows = rows(engine, index);
    let names: Vec<String> = rows.iter().map(|r| r.outcome.name.clone()).collect();
    let row = rows
        .into_iter()
        .find(|r| r.outcome.name == name)
        .ok_or_else(|| not_installed(engine.ns(), name, &names))?;
    let manifest: Option<Manifest> = entry.as_ref().and_then(|e| e.manifest.clone());
    if args.json {
        #[derive(Serialize)]
        struct Info<'a> {
            #[serde(flatten)]
            row: &'a Row,
            manifest: Option<Manifest>,
            describe_error: Option<String>,
            trusted_owners: Vec<u32>,
        }
        print_json(&Info {
            row: &row,
            manifest,
            describe_error: entry.as_ref().and_then(|e| e.describe_error.clone()),
            trusted_owners: entry
                .as_ref()
                .map(|e| e.trusted_owners.clone())
                .unwrap_or_default(),
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    // Written whole at the end, each line made safe to print: most of it
    // is what the plugin said of itself.
    let mut out = Vec::new();
    let _ = writeln!(out, "name:         {}", row.outcome.name);
    let _ = writeln!(
        out,
        "version:      {}",
        row.outcome.version.as_deref().unwrap_or("-")
    );
    if let Some(d) = manifest.as_ref().and_then(|m| m.description.as_ref()) {
        let _ = writeln!(out, "description:  {d}");
    }
    let _ = writeln!(out, "kind:         {}", row.outcome.kind.as_str());
    let _ = writeln!(out, "status:       {}", row.outcome.status_line());
    if let Some(fix) = row
        .outcome
        .fix
        .as_ref()
        .filter(|_| row.outcome.status != Status::Ok)
    {
        let _ = writeln!(out, "fix:          {fix}");
    }
    if let Some(m) = &manifest {
        let _ = writeln!(
            out,
            "api:          {} ({})",
            m.api,
            engine.host.apis.provides(engine.ns(), &m.api)
        );
    }
    let _ = writeln!(
        out,
        "enabled:      {}",
        if row.enabled { "yes" } else { "no" }
    );
    if let Some(path) = &row.path {
        let _ = writeln!(out, "path:         {}", path.display());
    }
    let _ = writeln!(
        out,
        "origin:       {}",
        row.origin.as_deref().unwrap_or("compiled in")
    );
    match (&row.signer, row.from_registry) {
        (Some(signer), _) => {
            let _ = writeln!(out, "signer:       {} ({})", signer.id, signer.key);
        }
        (None, true) => {
            let _ = writeln!(out, "signer:       none: nothing shows who published it");
        }
        (None, false) => {}
    }
    if let Some(sha) = &row.sha256 {
        let _ = writeln!(out, "sha256:       {sha}");
    }
    if let Some(entry) = entry.as_ref().filter(|e| !e.trusted_owners.is_empty()) {
        let _ = writeln!(out, "trusts:       {}", owners_of(entry));
    }
    if row.outcome.kind == Kind::Wasm {
        if let Some(m) = manifest.as_ref().filter(|m| !m.capabilities.is_empty()) {
            let _ = writeln!(out, "requests:     {}", describe_requests(m));
        }
        let grants = entry
            .as_ref()
            .map(|e| e.grants.to_string())
            .unwrap_or_default();
        let _ = writeln!(out, "grants:       {grants}");
    }
    if let Some(at) = &row.installed_at {
        let _ = writeln!(out, "installed at: {at}");
    }
    let dirs = engine.host.paths.plugin_dirs(name);
    let _ = writeln!(out, "data dir:     {}", dirs.data.display());
    if let Some(m) = &manifest {
        let _ = writeln!(out, "commands:");
        for cmd in &m.commands {
            write_command(&mut out, engine.ns(), cmd, 1);
        }
    }
    let _ = std::io::stdout()
        .lock()
        .write_all(text::lines(&String::from_utf8_lossy(&out)).as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// A command and its subcommands, one per line, indented by depth.
fn write_command(out: &mut impl Write, prefix: &str, cmd: &CommandSpec, depth: usize) {
    let path = format!("{prefix} {}", cmd.name);
    let about = cmd
        .about
        .as_deref()
        .map(|a| format!("  {a}"))
        .unwrap_or_default();
    let _ = writeln!(out, "{}{path}{about}", "  ".repeat(depth));
    for sub in &cmd.subcommands {
        write_command(out, &path, sub, depth + 1);
    }
}

//! What is installed, as text or JSON: `plugins list`, `info` and
//! `doctor`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;
use snapin_protocol::Manifest;

use crate::host::{App, Options};
use crate::index::{Grants, Kind};
use crate::loader::{Outcome, Status};
use crate::pin;
use crate::runtime::exec::is_executable;

use super::install::{describe_requests, owners_of};
use super::{Result, load_index, not_installed, print_json, write_command};

/// One row of `plugins list`: the loader's outcome and, for installed
/// plugins, what the index says about the file.
#[derive(Debug, Serialize)]
pub(super) struct Row {
    #[serde(flatten)]
    outcome: Outcome,
    origin: Option<String>,
    path: Option<PathBuf>,
    sha256: Option<String>,
    enabled: bool,
    installed_at: Option<String>,
    /// For sandboxed plugins: what the user granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    grants: Option<Grants>,
}

/// Every plugin with its outcome, checking pins too.
pub(super) fn rows(app: &App) -> Result<Vec<Row>> {
    let index = load_index(app)?;
    // What the rows show of each entry, taken before the loader consumes
    // the index: cloning whole entries would copy every manifest.
    let facts: Vec<Row> = index
        .plugins
        .iter()
        .map(|e| Row {
            outcome: Outcome::placeholder(),
            origin: Some(e.origin.to_string()),
            path: Some(e.path.clone()),
            sha256: Some(e.sha256.clone()),
            enabled: e.enabled,
            installed_at: Some(e.installed_at.clone()),
            grants: (e.kind == Kind::Wasm).then(|| e.grants.clone()),
        })
        .collect();
    let loaded = app.run_loader(index, true);
    let compiled_in = loaded.outcomes.len() - facts.len();
    let compiled_in_rows = (0..compiled_in).map(|_| Row {
        outcome: Outcome::placeholder(),
        origin: None,
        path: None,
        sha256: None,
        enabled: true,
        installed_at: None,
        grants: None,
    });
    Ok(compiled_in_rows
        .chain(facts)
        .zip(loaded.outcomes)
        .map(|(row, outcome)| Row { outcome, ..row })
        .collect())
}

pub(super) fn list(app: &App, json: bool, options: &Options) -> Result {
    let rows = rows(app)?;
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!(
            "no plugins installed; add one with `{} plugins install PATH`",
            app.host.ns
        );
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.outcome.name.clone(),
                r.outcome.version.clone().unwrap_or_else(|| "-".into()),
                r.outcome.kind.as_str().to_string(),
                if r.outcome.commands.is_empty() {
                    "-".into()
                } else {
                    r.outcome.commands.join(",")
                },
                r.sha256
                    .as_deref()
                    .map(pin::short)
                    .unwrap_or("-")
                    .to_string(),
                r.origin.clone().unwrap_or_else(|| "compiled in".into()),
                r.outcome.status_line(),
            ]
        })
        .collect();
    let header = [
        "NAME", "VERSION", "KIND", "COMMANDS", "SHA256", "ORIGIN", "STATUS",
    ]
    .map(String::from);
    print_table(&header, &table, options.color_stdout());
    Ok(ExitCode::SUCCESS)
}

/// Prints aligned columns; the status, the one long column, goes last so
/// a long reason does not push the others apart. With `color`, the status
/// word is coloured.
pub(super) fn print_table(header: &[String; 7], rows: &[[String; 7]], color: bool) {
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    // One write for the table, not one per line.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (at, row) in std::iter::once(header).chain(rows).enumerate() {
        let mut line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        // The last column needs no padding, so its word can be painted.
        if let (Some(status), Some(raw)) = (line.last_mut().filter(|_| color && at > 0), row.last())
        {
            let (word, rest) = raw.split_at(raw.find(':').unwrap_or(raw.len()));
            let painted = match word {
                "ok" => paint(word, Paint::Good),
                "disabled" => paint(word, Paint::Dim),
                "skipped" => paint(word, Paint::Warn),
                _ => paint(word, Paint::Bad),
            };
            *status = format!("{painted}{rest}");
        }
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    let _ = out.flush();
}

/// What a coloured word says.
#[derive(Clone, Copy)]
pub(super) enum Paint {
    Good,
    Warn,
    Bad,
    Dim,
}

/// `text` in the ANSI colour for `what`.
pub(super) fn paint(text: &str, what: Paint) -> String {
    let code = match what {
        Paint::Good => "32",
        Paint::Warn => "33",
        Paint::Bad => "31",
        Paint::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

pub(super) fn find_row(app: &App, name: &str) -> Result<Row> {
    let rows = rows(app)?;
    let names: Vec<String> = rows.iter().map(|r| r.outcome.name.clone()).collect();
    rows.into_iter()
        .find(|r| r.outcome.name == name)
        .ok_or_else(|| not_installed(&app.host.ns, name, &names))
}

pub(super) fn info(app: &App, name: &str, json: bool) -> Result {
    let row = find_row(app, name)?;
    let index = load_index(app)?;
    let manifest: Option<Manifest> = index.get(name).and_then(|e| e.manifest.clone());
    if json {
        #[derive(Serialize)]
        struct Info<'a> {
            #[serde(flatten)]
            row: &'a Row,
            manifest: Option<Manifest>,
            describe_error: Option<String>,
            trusted_owners: Vec<u32>,
        }
        return print_json(&Info {
            row: &row,
            manifest,
            describe_error: index.get(name).and_then(|e| e.describe_error.clone()),
            trusted_owners: index
                .get(name)
                .map(|e| e.trusted_owners.clone())
                .unwrap_or_default(),
        });
    }
    let mut out = std::io::stdout().lock();
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
            "api:          {} ({} provides {})",
            m.api, app.host.ns, app.host.api
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
    if let Some(sha) = &row.sha256 {
        let _ = writeln!(out, "sha256:       {sha}");
    }
    if let Some(entry) = index.get(name).filter(|e| !e.trusted_owners.is_empty()) {
        let _ = writeln!(out, "trusts:       {}", owners_of(entry));
    }
    if row.outcome.kind == Kind::Wasm {
        if let Some(m) = manifest.as_ref().filter(|m| !m.capabilities.is_empty()) {
            let _ = writeln!(out, "requests:     {}", describe_requests(m));
        }
        let grants = index
            .get(name)
            .map(|e| e.grants.to_string())
            .unwrap_or_default();
        let _ = writeln!(out, "grants:       {grants}");
    }
    if let Some(at) = &row.installed_at {
        let _ = writeln!(out, "installed at: {at}");
    }
    let dirs = app.host.paths.plugin_dirs(name);
    let _ = writeln!(out, "data dir:     {}", dirs.data.display());
    if let Some(m) = &manifest {
        let _ = writeln!(out, "commands:");
        for cmd in &m.commands {
            write_command(&mut out, &app.host.ns, cmd, 1);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One problem `plugins doctor` found; the text line and the JSON object
/// carry the same fields.
#[derive(Debug, Serialize)]
pub(super) struct Problem {
    /// The plugin, or `(index)`.
    plugin: String,
    /// What is wrong.
    problem: String,
    /// What to do.
    fix: String,
}

pub(super) fn doctor(app: &App, json: bool) -> Result {
    let ns = &app.host.ns;
    let mut problems: Vec<Problem> = Vec::new();
    if let Some(e) = &app.index_error {
        problems.push(Problem {
            plugin: "(index)".into(),
            problem: e.to_string(),
            fix: "see above".into(),
        });
    }
    let rows = rows(app)?;
    for row in &rows {
        if let Some(path) = &row.path
            && row.outcome.kind == Kind::Exec
            && path.exists()
            && !is_executable(path)
        {
            problems.push(Problem {
                plugin: row.outcome.name.clone(),
                problem: format!("its file {} is not executable", path.display()),
                fix: format!("`chmod +x {}`", path.display()),
            });
        }
        if matches!(row.outcome.status, Status::Skipped | Status::Error) {
            problems.push(Problem {
                plugin: row.outcome.name.clone(),
                problem: row.outcome.status_line(),
                fix: row.outcome.fix.clone().unwrap_or_default(),
            });
        }
    }
    if json {
        print_json(&problems)?;
    } else if problems.is_empty() {
        println!("{ns} plugins: all {} healthy", rows.len());
    } else {
        for p in &problems {
            println!("{}: {}; fix: {}", p.plugin, p.problem, p.fix);
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

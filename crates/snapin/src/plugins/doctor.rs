//! `plugins doctor`: every problem with every plugin, one line each with
//! its fix, as text or JSON; exit status 1 when there is any.

use std::process::ExitCode;

use clap::{ArgMatches, Command};
use serde::Serialize;

use crate::engine::Engine;
use crate::index::Kind;
use crate::loader::Status;
use crate::runtime::exec::is_executable;

use super::common::{Result, json_arg, load_index, print_json, say};
use super::list::rows;

/// The clap definition of `plugins doctor`.
pub(super) fn command() -> Command {
    Command::new("doctor")
        .about("Re-check every plugin; one line per problem with its fix")
        .arg(json_arg())
}

/// The arguments of `plugins doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DoctorArgs {
    pub(super) json: bool,
}

impl From<&ArgMatches> for DoctorArgs {
    fn from(m: &ArgMatches) -> DoctorArgs {
        DoctorArgs {
            json: m.get_flag("json"),
        }
    }
}

/// One problem `plugins doctor` found; the text line and the JSON object
/// carry the same fields.
#[derive(Debug, Serialize)]
struct Problem {
    /// The plugin, or `(index)`.
    plugin: String,
    problem: String,
    fix: String,
}

pub(super) fn run(engine: &Engine, args: &DoctorArgs) -> Result {
    let ns = engine.ns();
    let mut problems: Vec<Problem> = Vec::new();
    let index = load_index(engine)?;
    if let Some(e) = index.read_only(&engine.host.paths.index_file()) {
        problems.push(Problem {
            plugin: "(index)".into(),
            problem: e.to_string(),
            fix: e.fix(ns).unwrap_or_default(),
        });
    }
    let rows = rows(engine, index);
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
    if args.json {
        print_json(&problems)?;
    } else if problems.is_empty() {
        println!("{ns} plugins: all {} healthy", rows.len());
    } else {
        for p in &problems {
            say(&format!("{}: {}; fix: {}", p.plugin, p.problem, p.fix));
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

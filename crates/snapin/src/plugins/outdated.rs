//! `plugins outdated`: for each plugin installed from a registry, the
//! version installed, the newest this host can run and the newest there
//! is. Reads tags, indexes and config blobs only: no code is downloaded.

use std::process::ExitCode;

use clap::{ArgMatches, Command};
use futures_util::StreamExt as _;
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Origin};
use crate::registry::artifact::{self, Prefer};
use crate::ui::{self, Options};

use super::artifact::{Session, block_on, layout_name, repository_of};
use super::common::{Result, json_arg, load_index, print_json, version_of};

/// How many repositories are asked at once.
const AT_ONCE: usize = 8;

/// The clap definition of `plugins outdated`.
pub(super) fn command() -> Command {
    Command::new("outdated")
        .about(super::registry_commands::OUTDATED)
        .arg(json_arg())
}

/// The arguments of `plugins outdated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OutdatedArgs {
    pub(super) json: bool,
}

impl From<&ArgMatches> for OutdatedArgs {
    fn from(m: &ArgMatches) -> OutdatedArgs {
        OutdatedArgs {
            json: m.get_flag("json"),
        }
    }
}

/// One row: a registry plugin and its versions.
#[derive(Debug, Serialize)]
struct Row {
    name: String,
    current: String,
    /// The newest version this host can run.
    compatible: Option<String>,
    /// The newest version there is.
    latest: Option<String>,
    source: String,
}

pub(super) fn run(engine: &Engine, args: &OutdatedArgs, options: &Options) -> Result {
    let ns = engine.ns();
    let index = load_index(engine)?;
    let entries: Vec<&Entry> = index
        .plugins
        .iter()
        .filter(|e| matches!(e.origin, Origin::Oci(_)))
        .collect();
    let mut session = Session::start(engine)?;
    let results: Vec<Result<Row>> = block_on(async {
        let session = &session;
        Ok(
            futures_util::stream::iter(entries.iter().map(|e| row(engine, session, e)))
                .buffered(AT_ONCE)
                .collect()
                .await,
        )
    })?;
    session.cache.commit();
    let mut rows = Vec::new();
    let mut failed = 0;
    for result in results {
        match result {
            Ok(row) => rows.push(row),
            Err(failure) => {
                ui::error(ns, &failure.diagnostic(ns), options);
                failed += 1;
            }
        }
    }
    if args.json {
        print_json(&rows)?;
    } else if entries.is_empty() {
        println!("no plugins are installed from a registry");
    } else {
        print_table(&rows);
    }
    if failed > 0 {
        return Err(Diagnostic::new(format!(
            "{failed} of {} registries could not be read",
            entries.len()
        ))
        .with_fix("see the errors above")
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

async fn row(engine: &Engine, session: &Session, entry: &Entry) -> Result<Row> {
    let Origin::Oci(origin) = &entry.origin else {
        return Err(Diagnostic::new("not a registry plugin").into());
    };
    let repository = repository_of(origin)?;
    let store = session.store(engine, &repository)?;
    let prefer = Prefer::as_installed(&origin.platform);
    let survey = artifact::survey(
        &store,
        &session.cache,
        engine.ns(),
        &engine.host.apis,
        prefer,
        layout_name(&repository, &entry.name),
    )
    .await?;
    Ok(Row {
        name: entry.name.clone(),
        current: version_of(entry),
        compatible: survey
            .compatible
            .and_then(|v| v.plugin.map(|m| m.version).or(v.tag)),
        latest: survey.latest.map(|(v, _)| v.to_string()),
        source: origin.source.clone(),
    })
}

fn print_table(rows: &[Row]) {
    let dash = || "-".to_string();
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|r| {
            [
                r.name.clone(),
                r.current.clone(),
                r.compatible.clone().unwrap_or_else(dash),
                r.latest.clone().unwrap_or_else(dash),
            ]
        })
        .collect();
    let header = ["NAME", "CURRENT", "COMPATIBLE", "LATEST"].map(str::to_string);
    let widths: Vec<usize> = (0..4)
        .map(|i| {
            cells
                .iter()
                .chain(std::iter::once(&header))
                .map(|c| c[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for line in std::iter::once(&header).chain(&cells) {
        let text = format!(
            "{:w0$}  {:w1$}  {:w2$}  {}",
            line[0],
            line[1],
            line[2],
            line[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        println!("{}", crate::text::one_line(text.trim_end()));
    }
}

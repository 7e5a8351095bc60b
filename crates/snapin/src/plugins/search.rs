//! `plugins search [TERM] [--json]`: the plugins of every catalog added
//! whose name or description holds TERM, with the newest version this host
//! can run. Read from the copies fetched, without the network; says how
//! old they are.

use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Arg, ArgMatches, Command};
use serde::Serialize;

use crate::engine::Engine;
use crate::ui::{self, Options};

use super::catalogs::{Catalogs, age, print_columns};
use super::common::{Result, json_arg, print_json, say};

/// The clap definition of `plugins search`.
pub(super) fn command() -> Command {
    Command::new("search")
        .about(super::registry_commands::SEARCH)
        .arg(
            Arg::new("term")
                .value_name("TERM")
                .help("Part of a name or description (every plugin when left out)"),
        )
        .arg(json_arg())
}

/// The arguments of `plugins search`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SearchArgs {
    pub(super) term: String,
    pub(super) json: bool,
}

impl From<&ArgMatches> for SearchArgs {
    fn from(m: &ArgMatches) -> SearchArgs {
        SearchArgs {
            term: m.get_one::<String>("term").cloned().unwrap_or_default(),
            json: m.get_flag("json"),
        }
    }
}

/// One plugin found.
#[derive(Debug, Serialize)]
struct Found {
    name: String,
    description: Option<String>,
    /// The newest version not yanked whose API this host provides.
    version: Option<String>,
    source: String,
    catalog: String,
}

pub(super) fn run(engine: &Engine, args: &SearchArgs, options: &Options) -> Result {
    let ns = engine.ns();
    let catalogs = Catalogs::load(engine)?;
    if catalogs.added.is_empty() {
        say(&format!(
            "no catalogs to search; add one with `{ns} plugins catalog add NAME REF --key KEY`"
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let now = SystemTime::now();
    let mut found = Vec::new();
    for loaded in catalogs.all(ns)? {
        let name = &loaded.added.name;
        if let Err(why) = loaded.catalog.check_fresh(now) {
            ui::warning(
                ns,
                &format!(
                    "catalog '{name}' is stale ({why}): update it with `{ns} plugins catalog update {name}`"
                ),
                options,
            );
        }
        ui::notice(&format!(
            "catalog '{name}' as fetched {} ago\n",
            age(&loaded.added.fetched, now)
        ));
        for entry in loaded.catalog.search(&args.term) {
            found.push(Found {
                name: entry.name.clone(),
                description: entry.description.clone(),
                version: entry
                    .newest(|api| super::catalogs::fits(engine, api))
                    .map(|v| v.version.clone()),
                source: entry.source.clone(),
                catalog: name.clone(),
            });
        }
    }
    if args.json {
        print_json(&found)?;
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        say(&format!("no plugin matches {:?}", args.term));
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = vec![
        ["NAME", "VERSION", "CATALOG", "DESCRIPTION"]
            .map(str::to_string)
            .to_vec(),
    ];
    for f in found {
        table.push(vec![
            f.name,
            f.version
                .unwrap_or_else(|| "(none for this host)".to_string()),
            f.catalog,
            f.description.unwrap_or_default(),
        ]);
    }
    print_columns(&table);
    Ok(ExitCode::SUCCESS)
}

//! The `plugins` command group: install, list, info, remove, enable,
//! disable, upgrade, doctor, and `new`, which writes a plugin crate.
//!
//! Every check here goes through the same loader loop as start-up, so
//! `install` refuses exactly what start-up would skip, with the same words.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::Serialize;

use crate::check;
use crate::host::{App, Options};
use crate::index::{Entry, Index, IndexError};
use crate::scaffold::{self, Scaffold};

mod install;
mod lookalike;
mod report;

use install::resolve_source;
pub(crate) use install::{inspect, kind_of};
use report::{Paint, paint};

/// The name of the command group.
pub const COMMAND: &str = "plugins";

/// The clap definition of `plugins` and its subcommands.
pub fn command(ns: &str) -> Command {
    let name = || {
        Arg::new("name")
            .required(true)
            .value_name("NAME")
            .help("Installed plugin name")
    };
    let json = || {
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("Print JSON instead of text")
    };
    let yes = || {
        Arg::new("yes")
            .short('y')
            .long("yes")
            .action(ArgAction::SetTrue)
            .help("Trust the plugin without asking")
    };
    let force = || {
        Arg::new("force")
            .long("force")
            .action(ArgAction::SetTrue)
            .help("Record the plugin even if it fails its checks (it will not run until they pass)")
    };
    let trust_owner = || {
        Arg::new("trust-owner")
            .long("trust-owner")
            .action(ArgAction::SetTrue)
            .help("Trust the other user who owns the plugin file or a directory above it (for this plugin only)")
    };
    Command::new(COMMAND)
        .about(format!("Install and manage {ns} plugins"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("install")
                .about("Describe, check, pin and record a plugin")
                .arg(
                    Arg::new("source")
                        .required(true)
                        .value_name("SOURCE")
                        .help(format!(
                            "Path to a plugin executable, or NAME of a `{ns}-NAME` executable on PATH"
                        )),
                )
                .arg(
                    Arg::new("grant")
                        .long("grant")
                        .value_name("WHAT=TARGET")
                        .action(ArgAction::Append)
                        .help("Let a sandboxed plugin reach read=DIR, write=DIR or env=NAME (repeatable)"),
                )
                .arg(yes())
                .arg(force())
                .arg(trust_owner()),
        )
        .subcommand(
            Command::new("list")
                .visible_alias("ls")
                .about("Show installed plugins and whether they load")
                .arg(json()),
        )
        .subcommand(Command::new("info").about("Show everything about one plugin").arg(name()).arg(json()))
        .subcommand(
            Command::new("remove")
                .visible_alias("uninstall")
                .about("Forget a plugin (its file is left in place)")
                .arg(name()),
        )
        .subcommand(Command::new("enable").about("Turn a disabled plugin back on").arg(name()))
        .subcommand(Command::new("disable").about("Keep a plugin installed but add none of its commands").arg(name()))
        .subcommand(
            Command::new("upgrade")
                .about("Describe a plugin again and re-pin its file after it changed")
                .arg(name())
                .arg(yes())
                .arg(force())
                .arg(trust_owner()),
        )
        .subcommand(
            Command::new("doctor")
                .about("Re-check every plugin; one line per problem with its fix")
                .arg(json()),
        )
        .subcommand(
            Command::new("check")
                .about("Run a plugin file through every check of the contract without installing it")
                .arg(
                    Arg::new("source")
                        .required(true)
                        .value_name("SOURCE")
                        .help(format!(
                            "Path to a plugin executable or component, or NAME of a `{ns}-NAME` executable on PATH"
                        )),
                )
                .arg(json())
                .arg(trust_owner()),
        )
        .subcommand(scaffold::command(ns))
}

/// A failed `plugins` command: what went wrong and, where there is one,
/// the fix.
#[derive(Debug)]
pub(crate) struct Failure {
    /// `WHAT; fix: FIX`.
    pub(crate) message: String,
    code: u8,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<IndexError> for Failure {
    fn from(e: IndexError) -> Failure {
        Failure::new(e.to_string())
    }
}

type Result<T = ExitCode> = std::result::Result<T, Failure>;

/// Runs `plugins <subcommand>`.
pub(crate) fn run(app: &App, matches: &ArgMatches, options: &Options) -> ExitCode {
    let flag = |m: &ArgMatches, id| m.get_flag(id);
    let name = |m: &ArgMatches| m.get_one::<String>("name").cloned().unwrap_or_default();
    let result = match matches.subcommand() {
        Some(("install", m)) => {
            let source = m.get_one::<String>("source").cloned().unwrap_or_default();
            let grants: Vec<String> = m
                .get_many::<String>("grant")
                .map(|g| g.cloned().collect())
                .unwrap_or_default();
            install::install(
                app,
                &source,
                &grants,
                flag(m, "yes"),
                flag(m, "force"),
                flag(m, "trust-owner"),
                options,
            )
        }
        Some(("list", m)) => report::list(app, flag(m, "json"), options),
        Some(("info", m)) => report::info(app, &name(m), flag(m, "json")),
        Some(("remove", m)) => remove(app, &name(m)),
        Some(("enable", m)) => set_enabled(app, &name(m), true),
        Some(("disable", m)) => set_enabled(app, &name(m), false),
        Some(("upgrade", m)) => install::upgrade(
            app,
            &name(m),
            flag(m, "yes"),
            flag(m, "force"),
            flag(m, "trust-owner"),
            options,
        ),
        Some(("doctor", m)) => report::doctor(app, flag(m, "json")),
        Some(("check", m)) => check_plugin(
            app,
            m.get_one::<String>("source").map_or("", String::as_str),
            flag(m, "json"),
            flag(m, "trust-owner"),
            options,
        ),
        Some(("new", m)) => new_plugin(app, m),
        _ => Err(Failure::new(
            "unknown plugins command; see `plugins --help`",
        )),
    };
    result.unwrap_or_else(|f| {
        eprintln!("{}: error: {}", app.host.ns, f.message);
        ExitCode::from(f.code)
    })
}

fn index_path(app: &App) -> PathBuf {
    app.host.paths.index_file()
}

fn load_index(app: &App) -> Result<Index> {
    Ok(Index::load(&index_path(app))?)
}

/// The index, for a command that will change it: refused up front when it
/// is read-only, before anything is described or asked.
fn index_to_change(app: &App) -> Result<Index> {
    let index = load_index(app)?;
    match index.read_only(&index_path(app)) {
        Some(e) => Err(e.into()),
        None => Ok(index),
    }
}

fn version_of(entry: &Entry) -> String {
    entry
        .manifest
        .as_ref()
        .map(|m| m.version.clone())
        .unwrap_or_else(|| "(unknown version)".to_string())
}

fn commands_of(entry: &Entry) -> Option<String> {
    let m = entry.manifest.as_ref()?;
    Some(
        m.commands
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

fn print_json(value: &impl Serialize) -> Result {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(format!("cannot encode JSON: {e}")))?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

fn not_installed(ns: &str, name: &str, installed: &[String]) -> Failure {
    let known = if installed.is_empty() {
        "no plugins are installed".to_string()
    } else {
        format!("installed: {}", installed.join(", "))
    };
    Failure::new(format!(
        "no plugin named '{name}' is installed ({known}); fix: see `{ns} plugins list`"
    ))
}

fn write_command(
    out: &mut impl Write,
    prefix: &str,
    cmd: &snapin_protocol::CommandSpec,
    depth: usize,
) {
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

fn remove(app: &App, name: &str) -> Result {
    let ns = &app.host.ns;
    let removed = Index::update(&index_path(app), |index| {
        let Some(at) = index.plugins.iter().position(|e| e.name == name) else {
            let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
            return Err(not_installed(ns, name, &names));
        };
        Ok(index.plugins.remove(at))
    })?;
    println!(
        "removed plugin '{name}' {} (its file {} was left in place)",
        version_of(&removed),
        removed.path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn set_enabled(app: &App, name: &str, enabled: bool) -> Result {
    let ns = &app.host.ns;
    let changed = Index::update(&index_path(app), |index| {
        let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
        let entry = index
            .get_mut(name)
            .ok_or_else(|| not_installed(ns, name, &names))?;
        let changed = entry.enabled != enabled;
        entry.enabled = enabled;
        Ok::<_, Failure>(changed)
    })?;
    let word = if enabled { "enabled" } else { "disabled" };
    if changed {
        println!("{word} plugin '{name}'");
    } else {
        println!("plugin '{name}' was already {word}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `plugins check SOURCE`: one line per check (see [`crate::check`]), or
/// the report as JSON; exit status 1 when any check fails, like `doctor`.
fn check_plugin(
    app: &App,
    source: &str,
    json: bool,
    trust_owner: bool,
    options: &Options,
) -> Result {
    // A source that cannot be found is reported by the `file` check.
    let path = resolve_source(&app.host.ns, source)
        .map(|(path, _)| path)
        .unwrap_or_else(|_| PathBuf::from(source));
    let report = check::check_with(app, &path, trust_owner, options);
    let code = if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if json {
        print_json(&report)?;
        return Ok(code);
    }
    let color = options.color_stdout();
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for line in &report.checks {
        let mark = match (line.passed, color) {
            (true, true) => paint("ok  ", Paint::Good),
            (true, false) => "ok  ".to_string(),
            (false, true) => paint("FAIL", Paint::Bad),
            (false, false) => "FAIL".to_string(),
        };
        let _ = writeln!(out, "{mark}  {:<width$}  {}", line.name, line.detail);
        if let Some(fix) = &line.fix {
            let _ = writeln!(out, "      {:<width$}  fix: {fix}", "");
        }
    }
    let failed = report.checks.iter().filter(|c| !c.passed).count();
    let what = report.plugin.as_deref().map_or_else(
        || report.path.display().to_string(),
        |name| format!("plugin '{name}'"),
    );
    if failed == 0 {
        let _ = writeln!(out, "{what} passes all {} checks", report.checks.len());
    } else {
        let _ = writeln!(
            out,
            "{what} fails {failed} of {} checks",
            report.checks.len()
        );
    }
    Ok(code)
}

/// `plugins new NAME`: writes a plugin crate for this host (see
/// [`scaffold`]) and says how to build, install and run it.
fn new_plugin(app: &App, matches: &ArgMatches) -> Result {
    let ns = &app.host.ns;
    let scaffold = Scaffold::from_matches(ns, &app.host.api, matches);
    if app.builtins.contains(&scaffold.name) {
        return Err(Failure::new(format!(
            "'{}' is a command of {ns} itself, so a plugin command of that name would never load; fix: choose another name",
            scaffold.name
        )));
    }
    let created = scaffold
        .create()
        .map_err(|e| Failure::new(format!("cannot create the plugin crate: {e}")))?;
    println!(
        "created {} ({} plugin, {} {}, {ns} API {}) in {}",
        created.package,
        scaffold.kind.as_str(),
        scaffold.kind.sdk(),
        created.sdk_requirement,
        created.api_requirement,
        created.dir.display()
    );
    println!("next:\n  cd {}", created.dir.display());
    for step in &created.steps {
        println!("  {step}");
    }
    if let Some(note) = &created.note {
        println!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_is_a_valid_clap_command() {
        command("mycli").debug_assert();
    }
}

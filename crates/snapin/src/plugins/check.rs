//! `plugins check SOURCE`, the conformance check: runs a plugin file
//! through the whole contract without installing it.
//!
//! Plugin authors ship on their own schedule; this tells them, on their own
//! machine and in their CI, whether a host will take their plugin. The steps
//! are the ones `plugins install` runs — the same file-kind test, ownership
//! rule, bounded describe, contract check, version gate and conflict check —
//! plus two that clap would otherwise only report by panicking: the clap tree
//! of every command builds, and the `--help` of every command renders. Unlike
//! install, every step that can run does, so one run shows every problem.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgMatches, Command};
use serde::Serialize;
use snapin_protocol::{CommandSpec, Manifest};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Grants, Index, Kind, Origin};
use crate::loader::{self, Claimant};
use crate::manifest::ManifestError;
use crate::runtime::{PluginError, catch_panic};
use crate::text::one_line;
use crate::ui::{Options, Paint, paint};
use crate::{clap_spec, gate, pin, trust};

use super::common::{Result, json_arg, print_json, source_arg, string, trust_owner_arg};
use super::inspect::{inspect, kind_of, resolve_source};

/// One step of the check and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CheckLine {
    /// Which step: `file`, `permissions`, `describe`, `fields`,
    /// `contract`, `gate`, `conflicts`, `clap` or `help`.
    pub name: &'static str,
    /// Whether the plugin passed it.
    pub passed: bool,
    /// What was found.
    pub detail: String,
    /// What to do about a failure, or about a warning on a step passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The result of checking one plugin file.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// The file checked.
    pub path: PathBuf,
    /// The plugin's name, once it described itself.
    pub plugin: Option<String>,
    /// What runs it, once that is known.
    pub kind: Option<Kind>,
    /// Whether every step passed.
    pub passed: bool,
    /// One line per step, in order. A step that needs what an earlier one
    /// failed to produce (a readable file, a manifest) is left out.
    pub checks: Vec<CheckLine>,
    /// The manifest it described, for tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<Manifest>,
}

impl CheckLine {
    fn pass(name: &'static str, detail: impl Into<String>) -> CheckLine {
        CheckLine {
            name,
            passed: true,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fail(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> CheckLine {
        CheckLine {
            name,
            passed: false,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    /// A step passed with a warning: it does not fail the check.
    fn warn(name: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> CheckLine {
        CheckLine {
            fix: Some(fix.into()),
            ..CheckLine::pass(name, detail)
        }
    }

    /// A failed step from what `plugins install` would have said.
    fn failed(name: &'static str, diagnostic: &Diagnostic) -> CheckLine {
        CheckLine {
            name,
            passed: false,
            detail: diagnostic.what().to_string(),
            fix: diagnostic.fix().map(str::to_string),
        }
    }
}

/// The clap definition of `plugins check`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("check")
        .about("Run a plugin file through every check of the contract without installing it")
        .arg(source_arg(format!(
            "Path to a plugin executable or component, or NAME of a `{ns}-NAME` executable on PATH"
        )))
        .arg(json_arg())
        .arg(trust_owner_arg())
}

/// The arguments of `plugins check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CheckArgs {
    pub(super) source: String,
    pub(super) json: bool,
    pub(super) trust_owner: bool,
}

impl From<&ArgMatches> for CheckArgs {
    fn from(m: &ArgMatches) -> CheckArgs {
        CheckArgs {
            source: string(m, "source"),
            json: m.get_flag("json"),
            trust_owner: m.get_flag("trust-owner"),
        }
    }
}

/// `plugins check SOURCE`: one line per check, or the report as JSON; exit
/// status 1 when any check fails, like `doctor`.
pub(super) fn run(engine: &Engine, args: &CheckArgs, options: &Options) -> Result {
    // A source that cannot be found is reported by the `file` check.
    let path = resolve_source(engine.ns(), &args.source)
        .map(|(path, _)| path)
        .unwrap_or_else(|_| PathBuf::from(&args.source));
    let report = check(engine, &path, args.trust_owner, options);
    let code = if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if args.json {
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
            (true, true) if line.fix.is_some() => paint("warn", Paint::Warn),
            (true, false) if line.fix.is_some() => "warn".to_string(),
            (true, true) => paint("ok  ", Paint::Good),
            (true, false) => "ok  ".to_string(),
            (false, true) => paint("FAIL", Paint::Bad),
            (false, false) => "FAIL".to_string(),
        };
        let _ = writeln!(
            out,
            "{mark}  {:<width$}  {}",
            line.name,
            one_line(&line.detail)
        );
        if let Some(fix) = &line.fix {
            let _ = writeln!(out, "      {:<width$}  fix: {}", "", one_line(fix));
        }
    }
    let failed = report.checks.iter().filter(|c| !c.passed).count();
    let what = report.plugin.as_deref().map_or_else(
        || report.path.display().to_string(),
        |name| format!("plugin '{name}'"),
    );
    if failed == 0 {
        let _ = writeln!(
            out,
            "{} passes all {} checks",
            one_line(&what),
            report.checks.len()
        );
    } else {
        let _ = writeln!(
            out,
            "{} fails {failed} of {} checks",
            one_line(&what),
            report.checks.len()
        );
    }
    Ok(code)
}

/// Checks the plugin file at `path` against the contract of `engine`'s
/// host, without installing it: nothing is recorded (a WebAssembly
/// component is compiled into the host's cache, as install would). With
/// `trust_owner` (`plugins check --trust-owner`, as install takes it), the
/// other owners of the file and the directories above it are trusted.
pub(crate) fn check(
    engine: &Engine,
    path: &Path,
    trust_owner: bool,
    options: &Options,
) -> CheckReport {
    let mut report = CheckReport {
        path: path.to_path_buf(),
        plugin: None,
        kind: None,
        passed: false,
        checks: Vec::new(),
        manifest: None,
    };
    run_steps(engine, path, trust_owner, options, &mut report);
    report.passed = report.checks.iter().all(|c| c.passed);
    report
}

fn run_steps(
    engine: &Engine,
    path: &Path,
    trust_owner: bool,
    options: &Options,
    report: &mut CheckReport,
) {
    let ns = engine.ns();
    let lines = &mut report.checks;
    let path = match dunce::canonicalize(path) {
        Ok(p) => p,
        Err(e) => {
            lines.push(CheckLine::fail(
                "file",
                format!("cannot read {}: {e}", path.display()),
                "check the path",
            ));
            return;
        }
    };
    match kind_of(&path) {
        Ok(kind) => {
            report.kind = Some(kind);
            lines.push(CheckLine::pass(
                "file",
                match kind {
                    Kind::Wasm => "a WebAssembly component",
                    _ => "an executable",
                },
            ));
        }
        Err(d) => return lines.push(CheckLine::failed("file", &d)),
    }
    // Describing runs the file: not when others could have changed it.
    match trust::check_trusting(&path, Vec::new(), trust_owner) {
        Ok(trusted) if trusted.is_empty() => lines.push(CheckLine::pass(
            "permissions",
            if cfg!(windows) {
                "only you, SYSTEM and Administrators can change it or a directory above it"
            } else {
                "only you and root can change it or a directory above it"
            },
        )),
        Ok(trusted) => lines.push(CheckLine::pass(
            "permissions",
            format!(
                "only you, root and the users you trust (uid {}) can change it or a directory above it",
                trusted
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        Err(e) => {
            let fix = e.fix_or_trust("check it with `--trust-owner`");
            return lines.push(CheckLine::fail("permissions", e.to_string(), fix));
        }
    }
    let origin = Origin::Path {
        given: path.display().to_string(),
    };
    let inspected = match inspect(engine, &path, origin, Grants::default(), options) {
        Ok(inspected) => inspected,
        Err(d) => return lines.push(CheckLine::failed("describe", &d)),
    };
    let entry = &inspected.entry;
    let Some(m) = entry.manifest.clone() else {
        let error = inspected.describe_error.as_ref();
        let why = error.map(ToString::to_string).unwrap_or_default();
        let fix = if entry.kind == Kind::Wasm && !cfg!(feature = "wasm") {
            format!("check it with a build of {ns} that has snapin's `wasm` feature")
        } else if entry.kind == Kind::Wasm {
            "build it with snapin-guest's `export_plugin!` for wasm32-wasip2 (docs/protocol.md §12)"
                .to_string()
        } else {
            format!(
                "`{path} --snapin-describe` must print the manifest as JSON on stdout and exit 0 within the bounds of docs/protocol.md §3; `{ns} --debug plugins check {path}` shows what it printed on stderr",
                path = path.display()
            )
        };
        // The runtime's own fix, where it has one, is the most precise.
        let fix = error.and_then(|e| e.fix()).map_or(fix, str::to_string);
        return lines.push(CheckLine::fail(
            "describe",
            format!("it could not describe itself: {why}"),
            fix,
        ));
    };
    report.plugin = Some(m.name.clone());
    let unknown = &inspected.unknown;
    lines.push(CheckLine::pass(
        "describe",
        format!(
            "{} {}: {} (sha256 {})",
            m.name,
            m.version,
            command_list(&m),
            pin::short(&entry.sha256)
        ),
    ));
    lines.push(if unknown.is_empty() {
        CheckLine::pass("fields", format!("every field is one {ns} knows"))
    } else {
        CheckLine::warn(
            "fields",
            format!("{ns} does not know these fields and ignores them: {unknown}"),
            "correct the misspelt ones in the manifest (docs/protocol.md §2); fields of a later minor version of the contract are ignored by this one",
        )
    });
    let settings = engine.loader_settings(false);
    let contract = loader::contract(&m, &settings);
    // Past a cap, building clap commands is the cost the caps keep away
    // (thousands of subcommands take minutes): those steps are left out.
    let over_a_cap = matches!(contract, Err(ManifestError::OverLimit { .. }));
    lines.push(match contract {
        Ok(()) => CheckLine::pass("contract", format!("a valid manifest for {ns}")),
        Err(e) => CheckLine::fail(
            "contract",
            format!("invalid manifest: {e}"),
            "follow the manifest rules of docs/protocol.md §2 (docs/manifest.schema.json checks the shape)",
        ),
    });
    let apis = &engine.host.apis;
    lines.push(match gate::check(&m.api, ns, apis) {
        Ok(_) => CheckLine::pass(
            "gate",
            format!(
                "it requires {ns} API {}; {}",
                m.api,
                apis.provides(ns, &m.api)
            ),
        ),
        Err(e) => CheckLine::fail(
            "gate",
            e.to_string(),
            format!(
                "build it for {ns} API {} (`api` such as \"^{}.0\")",
                apis.majors(),
                apis.newest().major
            ),
        ),
    });
    if over_a_cap {
        report.manifest = Some(m);
        return;
    }
    lines.push(conflicts(engine, &m));
    let root = engine.root_command();
    lines.push(clap_tree(&root, &m));
    lines.push(help(&root, &m));
    report.manifest = Some(m);
}

/// The two steps clap would otherwise only report by panicking: every
/// command's clap tree builds and every `--help` renders. `plugins install`
/// and `upgrade` refuse a plugin that fails them, as `plugins check` reports
/// it; the failing step is returned.
pub(super) fn commands_render(engine: &Engine, m: &Manifest) -> std::result::Result<(), CheckLine> {
    let root = engine.root_command();
    [clap_tree(&root, m), help(&root, m)]
        .into_iter()
        .find(|line| !line.passed)
        .map_or(Ok(()), Err)
}

/// `greet, hello` or `1 command (greet)`-style summary of the top-level
/// commands.
fn command_list(m: &Manifest) -> String {
    let names: Vec<&str> = m.commands.iter().map(|c| c.name.as_str()).collect();
    match names.len() {
        0 => "no commands".to_string(),
        1 => format!("command {}", names[0]),
        _ => format!("commands {}", names.join(", ")),
    }
}

/// The loader's conflict step against the host's own commands, plugins
/// compiled in and the installed plugins other than one of the same name.
fn conflicts(engine: &Engine, m: &Manifest) -> CheckLine {
    let mut others = match Index::load(&engine.host.paths.index_file()) {
        Ok(index) => index,
        Err(e) => {
            return CheckLine::fail(
                "conflicts",
                format!("cannot compare with the installed plugins: {e}"),
                format!(
                    "repair the index, then check again (`{} plugins doctor`)",
                    engine.ns()
                ),
            );
        }
    };
    others.plugins.retain(|e| e.name != m.name);
    let taken = engine.run_loader(others, false).taken;
    match loader::conflicts(m, &engine.loader_settings(false), &taken) {
        Ok(()) => CheckLine::pass(
            "conflicts",
            "no command or alias is taken by the host or another plugin",
        ),
        Err(c) => CheckLine::fail(
            "conflicts",
            c.reason(engine.ns()),
            c.fix(engine.ns(), &m.name, Claimant::Author),
        ),
    }
}

/// Clap's own consistency checks on every command, which panic on a bad
/// tree: caught and reported instead.
fn clap_tree(root: &Command, m: &Manifest) -> CheckLine {
    let mut failures = Vec::new();
    for spec in &m.commands {
        let cmd = root.clone().subcommand(clap_spec::command_from_spec(spec));
        if let Err(e) = catch_panic(|| {
            cmd.debug_assert();
            Ok(())
        }) {
            failures.push(format!("{}: {}", spec.name, panic_text(&e)));
        }
    }
    if failures.is_empty() {
        CheckLine::pass("clap", "the clap command of every command builds")
    } else {
        CheckLine::fail(
            "clap",
            format!("clap refuses {}", failures.join("; ")),
            "fix the commands' arguments in the manifest (docs/protocol.md §2)",
        )
    }
}

/// Renders `--help` of every command and subcommand, as a user would ask
/// for it.
fn help(root: &Command, m: &Manifest) -> CheckLine {
    let mut paths = Vec::new();
    for spec in &m.commands {
        command_paths(spec, Vec::new(), &mut paths);
    }
    let mut failures = Vec::new();
    for path in &paths {
        let Some(top) = m.commands.iter().find(|c| Some(&c.name) == path.first()) else {
            continue;
        };
        let mut cmd = root.clone().subcommand(clap_spec::command_from_spec(top));
        let args = std::iter::once(root.get_name().to_string())
            .chain(path.iter().cloned())
            .chain(std::iter::once("--help".to_string()));
        let rendered = catch_panic(|| match cmd.try_get_matches_from_mut(args) {
            Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => Ok(e.render().to_string()),
            Err(e) => Err(PluginError::Other(e.render().to_string())),
            Ok(_) => Err(PluginError::Other(
                "--help was taken as an argument".to_string(),
            )),
        });
        match rendered {
            Ok(text) if text.contains("Usage:") => {}
            Ok(_) => failures.push(format!("`{}`: no usage line", path.join(" "))),
            Err(e) => failures.push(format!("`{}`: {}", path.join(" "), panic_text(&e))),
        }
    }
    if failures.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.join(" ")).collect();
        CheckLine::pass("help", format!("--help renders for {}", shown.join(", ")))
    } else {
        CheckLine::fail(
            "help",
            format!("--help does not render for {}", failures.join("; ")),
            "fix the commands' arguments in the manifest (docs/protocol.md §2)",
        )
    }
}

/// Every command path under `spec`: `["tool"]`, `["tool", "sub"]`, ...
fn command_paths(spec: &CommandSpec, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    prefix.push(spec.name.clone());
    out.push(prefix.clone());
    for sub in &spec.subcommands {
        command_paths(sub, prefix.clone(), out);
    }
}

/// The first line of a caught panic or error, for a one-line detail.
fn panic_text(e: &PluginError) -> String {
    let text = match e {
        PluginError::Panicked { message } => message.clone(),
        other => other.to_string(),
    };
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

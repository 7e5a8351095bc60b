//! The conformance check: runs a plugin file through the whole contract
//! without installing it (`mycli plugins check PATH`).
//!
//! Plugin authors ship on their own schedule; this tells them, on their own
//! machine and in their CI, whether a host will take their plugin. The steps
//! are the ones `plugins install` runs — the same file-kind test, ownership
//! rule, bounded describe, contract check, version gate and conflict check —
//! plus two that clap would otherwise only report by panicking: the clap tree
//! of every command builds, and the `--help` of every command renders. Unlike
//! install, every step that can run does, so one run shows every problem.

use std::path::{Path, PathBuf};

use clap::Command;
use serde::Serialize;
use snapin_protocol::{CommandSpec, Manifest};

use crate::host::{App, Options};
use crate::index::{Grants, Index, Kind, Origin};
use crate::loader::{self, Check, Status};
use crate::runtime::{PluginError, catch_panic};
use crate::{cli, gate, manage, pin, trust};

/// One step of the check and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckLine {
    /// Which step: `file`, `permissions`, `describe`, `contract`, `gate`,
    /// `conflicts`, `clap` or `help`.
    pub name: &'static str,
    /// Whether the plugin passed it.
    pub passed: bool,
    /// What was found.
    pub detail: String,
    /// What to do about a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// The result of checking one plugin file.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
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

    /// A failed step from a `plugins` error message, which reads
    /// `WHAT; fix: FIX`.
    fn from_message(name: &'static str, message: &str) -> CheckLine {
        match message.split_once("; fix: ") {
            Some((detail, fix)) => CheckLine::fail(name, detail, fix),
            None => CheckLine {
                name,
                passed: false,
                detail: message.to_string(),
                fix: None,
            },
        }
    }
}

/// Checks the plugin file at `path` against the contract of `app`'s host,
/// without installing it: nothing is recorded. (A WebAssembly component is
/// compiled into the host's cache, as install would.)
pub fn check(app: &App, path: &Path) -> Report {
    check_with(app, path, false, &Options::quiet())
}

/// [`check`], trusting the other owners of the file and the directories
/// above it when `trust_owner` (`plugins check --trust-owner`, as install
/// takes it), and with the host's global options.
pub(crate) fn check_with(app: &App, path: &Path, trust_owner: bool, options: &Options) -> Report {
    let mut report = Report {
        path: path.to_path_buf(),
        plugin: None,
        kind: None,
        passed: false,
        checks: Vec::new(),
        manifest: None,
    };
    run_steps(app, path, trust_owner, options, &mut report);
    report.passed = report.checks.iter().all(|c| c.passed);
    report
}

fn run_steps(app: &App, path: &Path, trust_owner: bool, options: &Options, report: &mut Report) {
    let ns = &app.host.ns;
    let lines = &mut report.checks;
    let path = match std::fs::canonicalize(path) {
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
    match manage::kind_of(&path) {
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
        Err(f) => return lines.push(CheckLine::from_message("file", &f.message)),
    }
    // Describing runs the file: not when others could have changed it.
    match trust::check_trusting(&path, Vec::new(), trust_owner) {
        Ok(trusted) if trusted.is_empty() => lines.push(CheckLine::pass(
            "permissions",
            "only you and root can change it or a directory above it",
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
            let fix = match e.other_owner() {
                Some(uid) => format!(
                    "{}, or, if you trust uid {uid}, check it with `--trust-owner`",
                    e.fix()
                ),
                None => e.fix(),
            };
            return lines.push(CheckLine::fail("permissions", e.to_string(), fix));
        }
    }
    let origin = Origin::Path {
        given: path.display().to_string(),
    };
    let entry = match manage::inspect(app, &path, origin, Grants::default(), options) {
        Ok(entry) => entry,
        Err(f) => return lines.push(CheckLine::from_message("describe", &f.message)),
    };
    let Some(m) = entry.manifest.clone() else {
        let why = entry.describe_error.clone().unwrap_or_default();
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
        let (why, fix) = match why.split_once("; fix: ") {
            Some((why, own)) => (why.to_string(), own.to_string()),
            None => (why, fix),
        };
        return lines.push(CheckLine::fail(
            "describe",
            format!("it could not describe itself: {why}"),
            fix,
        ));
    };
    report.plugin = Some(m.name.clone());
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
    let settings = app.loader_settings(false);
    lines.push(match loader::contract(&m, &settings) {
        Ok(()) => CheckLine::pass("contract", format!("a valid manifest for {ns}")),
        Err(e) => CheckLine::fail(
            "contract",
            format!("invalid manifest: {e}"),
            "follow the manifest rules of docs/protocol.md §2 (docs/manifest.schema.json checks the shape)",
        ),
    });
    lines.push(match gate::check(&m.api, ns, &app.host.api) {
        Ok(()) => CheckLine::pass(
            "gate",
            format!(
                "it requires {ns} API {}; {ns} provides {}",
                m.api, app.host.api
            ),
        ),
        Err(e) => CheckLine::fail(
            "gate",
            e.to_string(),
            format!(
                "build it for {ns} API {}.x (`api` such as \"^{}.0\")",
                app.host.api.major, app.host.api.major
            ),
        ),
    });
    lines.push(conflicts(app, &m));
    let root = host_root(app);
    lines.push(clap_tree(&root, &m));
    lines.push(help(&root, &m));
    report.manifest = Some(m);
}

/// The two steps clap would otherwise only report by panicking: every
/// command's clap tree builds and every `--help` renders. `plugins install`
/// and `upgrade` refuse a plugin that fails them, as `plugins check` reports
/// it; the failing step is returned.
pub(crate) fn commands_render(app: &App, m: &Manifest) -> Result<(), CheckLine> {
    let root = host_root(app);
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
fn conflicts(app: &App, m: &Manifest) -> CheckLine {
    let mut others = match Index::load(&app.host.paths.index_file()) {
        Ok(index) => index,
        Err(e) => {
            return CheckLine::fail(
                "conflicts",
                format!("cannot compare with the installed plugins: {e}"),
                format!(
                    "repair the index, then check again (`{} plugins doctor`)",
                    app.host.ns
                ),
            );
        }
    };
    others.plugins.retain(|e| e.name != m.name);
    let taken = app.run_loader(others, false).taken;
    match loader::conflicts(&m.name, m, &app.loader_settings(false), &taken) {
        Ok(()) => CheckLine::pass(
            "conflicts",
            "no command or alias is taken by the host or another plugin",
        ),
        Err(p) => {
            debug_assert_eq!((p.check, p.status), (Check::Conflict, Status::Error));
            let fix = if p.reason.contains("is built into") {
                "rename the command: the host's own commands always win".to_string()
            } else {
                p.fix
            };
            CheckLine::fail("conflicts", p.reason, fix)
        }
    }
}

/// The host's command as a plugin command is mounted in: its name and the
/// global options every command inherits, without its other commands.
fn host_root(app: &App) -> Command {
    let globals = app
        .command()
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned();
    Command::new(app.host.ns.clone()).args(globals)
}

/// Clap's own consistency checks on every command, which panic on a bad
/// tree: caught and reported instead.
fn clap_tree(root: &Command, m: &Manifest) -> CheckLine {
    let mut failures = Vec::new();
    for spec in &m.commands {
        let cmd = root.clone().subcommand(cli::command_from_spec(spec));
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
        let mut cmd = root.clone().subcommand(cli::command_from_spec(top));
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

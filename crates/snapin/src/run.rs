//! Running a plugin command, and what the user reads when it ends badly.
//!
//! [`exit_of`] is the one mapping from how a plugin run ended to the host's
//! exit status and message (docs/protocol.md §5): a plugin's own status
//! passes through; a crash, a limit or a plugin that cannot start gives one
//! line naming the plugin, what happened and the fix.

use std::path::Path;
use std::process::ExitCode;

use clap::ArgMatches;
use snapin_protocol::{CommandSpec, Context, HostInfo};

use crate::clap_spec;
use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::loader::{self, Active, Source};
use crate::runtime::{Exit, Invocation, PluginError, catch_panic};
use crate::trust;
use crate::ui::{self, Options};

/// Exit status when a plugin could not be started at all (missing file,
/// changed pin, a file others could change, not executable).
pub const EXIT_CANNOT_RUN: u8 = 126;

/// Exit status when a sandboxed plugin crashed (a WebAssembly trap), like
/// a native program's abort; on Windows also when an executable plugin
/// crashed (an exception such as an access violation), where no signal
/// number gives the status as on Unix.
pub const EXIT_TRAP: u8 = 134;

/// Exit status when a sandboxed plugin ran past its time limit, like
/// `timeout(1)`.
pub const EXIT_TIME_LIMIT: u8 = 124;

/// Exit status when a sandboxed plugin hit its memory limit, like a
/// process killed for using too much memory.
pub const EXIT_MEMORY_LIMIT: u8 = 137;

/// The exit code of a Windows process ended by Ctrl-C or Ctrl-Break.
const STATUS_CONTROL_C_EXIT: u32 = 0xC000_013A;

/// Runs the command `spec` of the loaded plugin `active`, as the user
/// typed it (`top` holds the global options, `matches` the command's own
/// arguments), and returns the host's exit status.
pub(crate) fn run_plugin(
    engine: &Engine,
    active: &Active,
    spec: &CommandSpec,
    top: &ArgMatches,
    matches: &ArgMatches,
) -> ExitCode {
    let host = &engine.host;
    let ns = &host.ns;
    let name = &active.candidate.name;
    let options = Options::from_matches(top);
    let argv = clap_spec::plugin_argv(spec, matches);
    let command = clap_spec::command_path(spec, matches);
    let context = Context::new(
        HostInfo::new(ns.clone(), host.version.clone(), active.api.to_string()),
        name.clone(),
        command.clone(),
        host.paths.plugin_dirs(name),
    )
    .with_verbosity(options.verbosity.level)
    .with_color(options.color);
    let invocation = Invocation {
        context: &context,
        argv: &argv,
    };
    tracing::debug!(
        "running plugin '{name}' with: {}",
        crate::runtime::exec::display_argv(&argv)
    );
    let result = match &active.candidate.source {
        // A file that is not the one pinned, or that others could change,
        // cannot run: `exit_of` reports it like any plugin that cannot
        // start.
        Source::Installed(entry) => loader::verify(entry, ns, &trust::Checker::default())
            .map_err(|problem| PluginError::Unusable {
                reason: problem.reason,
                fix: problem.fix,
            })
            .and_then(|()| engine.with_runtime(entry, |plugin| plugin.run(&invocation))),
        Source::CompiledIn { plugin, .. } => catch_panic(|| plugin.run(&invocation)),
    };
    let ran = Ran {
        ns,
        plugin: name,
        command_line: &format!("{ns} {}", command.join(" ")),
        config_file: &host.paths.config_file(),
    };
    let (code, diagnostic) = exit_of(result, &ran);
    if let Some(diagnostic) = diagnostic {
        ui::error(ns, &diagnostic, &options);
    }
    ExitCode::from(code)
}

/// What the messages about a run name.
struct Ran<'a> {
    ns: &'a str,
    plugin: &'a str,
    /// `mycli greet --who x`, as the user would retype it.
    command_line: &'a str,
    /// Where the user sets a sandboxed plugin's limits.
    config_file: &'a Path,
}

/// The host's exit status for a run that ended with `result`, and the
/// message to print, if any.
fn exit_of(result: Result<Exit, PluginError>, ran: &Ran<'_>) -> (u8, Option<Diagnostic>) {
    let Ran {
        ns,
        plugin,
        command_line,
        config_file,
    } = ran;
    let turn_off = format!("or turn it off with `{ns} plugins disable {plugin}`");
    let signal_status = |signal: i32| 128u8.saturating_add(u8::try_from(signal).unwrap_or(127));
    let failed = |what: String, fix: String, exit: u8| {
        let diagnostic = Diagnostic::new(what).with_fix(fix).with_exit(exit);
        (exit, Some(diagnostic))
    };
    match result {
        Ok(Exit::Code(code)) => (u8::try_from(code).unwrap_or(1), None),
        // Stopped by the user or the system (Ctrl-C, kill, a closed pipe):
        // not the plugin's fault, nothing to report.
        Ok(Exit::Signal(signal @ (1 | 2 | 13 | 15))) => (signal_status(signal), None),
        // SIGKILL comes from outside: the system when memory runs out, or a
        // user. Other signals are the plugin's own doing.
        // Ctrl-C or Ctrl-Break in the console, as SIGINT on Unix.
        Ok(Exit::Exception(STATUS_CONTROL_C_EXIT)) => (signal_status(2), None),
        Ok(exit @ Exit::Exception(_)) => failed(
            format!(
                "plugin '{plugin}' {exit} while running `{command_line}`: this is a bug in the plugin"
            ),
            format!("report it to its author, {turn_off}"),
            EXIT_TRAP,
        ),
        Ok(exit @ Exit::Signal(signal)) => {
            let killed = format!("plugin '{plugin}' was {exit} while running `{command_line}`");
            if signal == 9 {
                failed(
                    format!(
                        "{killed}: something outside it ended it, often the system when memory runs out"
                    ),
                    format!("if it happens again, report it to its author, {turn_off}"),
                    signal_status(signal),
                )
            } else {
                failed(
                    format!("{killed}: this is a bug in the plugin"),
                    format!("report it to its author, {turn_off}"),
                    signal_status(signal),
                )
            }
        }
        Err(e @ PluginError::Trap { .. }) => failed(
            format!(
                "plugin '{plugin}' {e} while running `{command_line}`: this is a bug in the plugin"
            ),
            format!("report it to its author, {turn_off}"),
            EXIT_TRAP,
        ),
        Err(e @ PluginError::TimeLimit { .. }) => failed(
            format!("plugin '{plugin}' {e} while running `{command_line}`"),
            format!(
                "if it needs longer, set `cpu-seconds` under [plugins.{plugin}] in {}",
                config_file.display()
            ),
            EXIT_TIME_LIMIT,
        ),
        Err(e @ PluginError::MemoryLimit { .. }) => failed(
            format!("plugin '{plugin}' {e} while running `{command_line}`"),
            format!(
                "if it needs more, set `memory-mib` under [plugins.{plugin}] in {}",
                config_file.display()
            ),
            EXIT_MEMORY_LIMIT,
        ),
        Err(e @ PluginError::Panicked { .. }) => failed(
            format!("plugin '{plugin}' failed while running `{command_line}`: {e}"),
            format!("it is compiled into {ns}: report it to {ns}'s authors"),
            101,
        ),
        Err(e) => {
            let fix = e.fix().map_or_else(
                || format!("reinstall it, or `{ns} plugins remove {plugin}`"),
                str::to_string,
            );
            failed(
                format!("plugin '{plugin}' cannot run: {e}"),
                fix,
                EXIT_CANNOT_RUN,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// Each way a run can end, the status and the line the user reads.
    #[test]
    fn how_a_run_ends_decides_the_status_and_the_message() {
        let config = PathBuf::from("/h/config/config.toml");
        let ran = Ran {
            ns: "mycli",
            plugin: "x",
            command_line: "mycli x run",
            config_file: &config,
        };
        let table: Vec<(Result<Exit, PluginError>, u8, Option<&str>)> = vec![
            (Ok(Exit::Code(0)), 0, None),
            (Ok(Exit::Code(3)), 3, None),
            (Ok(Exit::Code(255)), 255, None),
            (Ok(Exit::Code(-1)), 1, None),
            (Ok(Exit::Code(256)), 1, None),
            (Ok(Exit::Signal(2)), 130, None),
            (Ok(Exit::Signal(13)), 141, None),
            (Ok(Exit::Signal(15)), 143, None),
            (
                Ok(Exit::Signal(11)),
                139,
                Some(
                    "plugin 'x' was killed by SIGSEGV (signal 11) while running `mycli x run`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable x`",
                ),
            ),
            (
                Ok(Exit::Signal(9)),
                137,
                Some(
                    "plugin 'x' was killed by SIGKILL (signal 9) while running `mycli x run`: something outside it ended it, often the system when memory runs out; fix: if it happens again, report it to its author, or turn it off with `mycli plugins disable x`",
                ),
            ),
            (Ok(Exit::Exception(0xC000_013A)), 130, None),
            (
                Ok(Exit::Exception(0xC000_0005)),
                EXIT_TRAP,
                Some(
                    "plugin 'x' crashed with exception 0xC0000005 (access violation) while running `mycli x run`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable x`",
                ),
            ),
            (
                Ok(Exit::Exception(0xC000_0409)),
                EXIT_TRAP,
                Some(
                    "plugin 'x' crashed with exception 0xC0000409 (fail-fast abort) while running `mycli x run`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable x`",
                ),
            ),
            (
                Err(PluginError::Trap {
                    message: "unreachable".into(),
                }),
                EXIT_TRAP,
                Some(
                    "plugin 'x' crashed (WebAssembly trap: unreachable) while running `mycli x run`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable x`",
                ),
            ),
            (
                Err(PluginError::TimeLimit { seconds: 2.0 }),
                EXIT_TIME_LIMIT,
                Some(
                    "plugin 'x' ran longer than its limit of 2 s and was stopped while running `mycli x run`; fix: if it needs longer, set `cpu-seconds` under [plugins.x] in /h/config/config.toml",
                ),
            ),
            (
                Err(PluginError::MemoryLimit { mib: 64 }),
                EXIT_MEMORY_LIMIT,
                Some(
                    "plugin 'x' tried to use more than its memory limit of 64 MiB and was stopped while running `mycli x run`; fix: if it needs more, set `memory-mib` under [plugins.x] in /h/config/config.toml",
                ),
            ),
            (
                Err(PluginError::Panicked {
                    message: "oops".into(),
                }),
                101,
                Some(
                    "plugin 'x' failed while running `mycli x run`: it panicked: oops; fix: it is compiled into mycli: report it to mycli's authors",
                ),
            ),
            (
                Err(PluginError::Missing {
                    path: "/p/x".into(),
                }),
                EXIT_CANNOT_RUN,
                Some(
                    "plugin 'x' cannot run: its file /p/x is missing; fix: reinstall it, or `mycli plugins remove x`",
                ),
            ),
            (
                Err(PluginError::Unusable {
                    reason: "its configuration is broken".into(),
                    fix: "mend it".into(),
                }),
                EXIT_CANNOT_RUN,
                Some("plugin 'x' cannot run: its configuration is broken; fix: mend it"),
            ),
        ];
        for (result, status, message) in table {
            let shown = format!("{result:?}");
            let (code, diagnostic) = exit_of(result, &ran);
            assert_eq!(code, status, "{shown}");
            assert_eq!(
                diagnostic.as_ref().map(|d| d.exit()),
                message.map(|_| status)
            );
            assert_eq!(
                diagnostic.map(|d| d.to_string()).as_deref(),
                message,
                "{shown}"
            );
        }
    }
}

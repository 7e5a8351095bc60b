//! Everything the host writes for a person to read on stderr, and the
//! global options that decide how: `-v`, `-q`, `--debug` and `--color`.
//!
//! One owner for the prefix, the colours and the one-line formats:
//!
//! - errors: `mycli: error: WHAT; fix: FIX` ([`error`], from a
//!   [`Diagnostic`]);
//! - warnings and log lines: `mycli: warning: ...`, through `tracing` and
//!   the subscriber [`init_logging`] installs (`-q` hides warnings, `-v`
//!   adds the loader's outcomes, `--debug` or `-vv` everything);
//! - prompts, the consent summary before an install, and the status line
//!   while a component compiles.
//!
//! The `plugins` commands print their own results on stdout; clippy's
//! `print_stderr` lint keeps every other file of this crate off stderr.

use std::fmt;
use std::io::{BufRead, IsTerminal, Write};

use clap::{Arg, ArgAction, ArgMatches, Command};
use snapin_protocol::ColorChoice;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::diagnostic::Diagnostic;

/// How chatty the host should be, from `-v`, `-q` and `--debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verbosity {
    /// `-v` count minus `-q` count.
    pub(crate) level: i8,
    /// `--debug` was given.
    pub(crate) debug: bool,
}

impl Verbosity {
    /// The most detailed level shown.
    fn max_level(self) -> Level {
        match (self.debug, self.level) {
            (true, _) => Level::TRACE,
            (_, 2..) => Level::DEBUG,
            (_, 1) => Level::INFO,
            (_, 0) => Level::WARN,
            _ => Level::ERROR,
        }
    }
}

/// The global options snapin adds, as parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub(crate) verbosity: Verbosity,
    pub(crate) color: ColorChoice,
}

impl Default for Options {
    /// No `-v`, `-q` or `--debug`; colour on a terminal: for library calls
    /// made outside a command line, and before the command line is parsed.
    fn default() -> Options {
        Options {
            verbosity: Verbosity {
                level: 0,
                debug: false,
            },
            color: ColorChoice::Auto,
        }
    }
}

impl Options {
    /// The options in `m`, parsed by a command built with
    /// [`with_global_args`]; options the host defined itself under the same
    /// ids are read when their types match, else ignored.
    pub(crate) fn from_matches(m: &ArgMatches) -> Options {
        let count = |id| match m.try_get_one::<u8>(id) {
            Ok(Some(n)) => *n as i8,
            _ => 0,
        };
        let debug = matches!(m.try_get_one::<bool>("debug"), Ok(Some(true)));
        let color = match m.try_get_one::<String>("color") {
            Ok(Some(c)) if c == "always" => ColorChoice::Always,
            Ok(Some(c)) if c == "never" => ColorChoice::Never,
            _ => ColorChoice::Auto,
        };
        Options {
            verbosity: Verbosity {
                level: count("verbose") - count("quiet"),
                debug,
            },
            color,
        }
    }

    /// Whether to colour what goes to stderr.
    pub(crate) fn color_stderr(&self) -> bool {
        self.color_for(std::io::stderr().is_terminal())
    }

    /// Whether to colour what goes to stdout.
    pub(crate) fn color_stdout(&self) -> bool {
        self.color_for(std::io::stdout().is_terminal())
    }

    /// `--color always|never`, else colour only on a terminal and when
    /// `NO_COLOR` is unset or empty.
    fn color_for(&self, terminal: bool) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
            }
        }
    }
}

/// `cli` with the global options `-v`, `-q`, `--debug` and `--color`, each
/// unless `cli` already has an argument with that id.
pub(crate) fn with_global_args(cli: Command) -> Command {
    let has = |id: &str| cli.get_arguments().any(|a| a.get_id() == id);
    let mut globals = Vec::new();
    if !has("verbose") {
        globals.push(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::Count)
                .global(true)
                .help("Say more (-v: plugin loading outcomes, -vv: debug)"),
        );
    }
    if !has("quiet") {
        globals.push(
            Arg::new("quiet")
                .short('q')
                .long("quiet")
                .action(ArgAction::Count)
                .global(true)
                .help("Say less: no warnings about broken plugins"),
        );
    }
    if !has("debug") {
        globals.push(
            Arg::new("debug")
                .long("debug")
                .action(ArgAction::SetTrue)
                .global(true)
                .help("Show everything, with cause chains and plugin stderr"),
        );
    }
    if !has("color") {
        globals.push(
            Arg::new("color")
                .long("color")
                .value_name("WHEN")
                .value_parser(["auto", "always", "never"])
                .default_value("auto")
                .global(true)
                .help("When to use colour"),
        );
    }
    cli.args(
        globals
            .into_iter()
            .map(|a| a.help_heading("Global options")),
    )
}

/// Installs the stderr logger for namespace `ns`. Does nothing if the
/// program already installed a global subscriber of its own.
pub(crate) fn init_logging(ns: &str, options: &Options) {
    let color = options.color_stderr();
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(options.verbosity.max_level())
        .with_ansi(color)
        .event_format(Prefixed {
            ns: ns.to_string(),
            color,
        })
        .try_init();
}

/// Prints `NS: error: WHAT; fix: FIX`.
pub(crate) fn error(ns: &str, diagnostic: &Diagnostic, options: &Options) {
    line(ns, Level::ERROR, diagnostic, options);
}

/// Prints `NS: warning: WHAT` whatever the verbosity: for warnings the
/// user must see before answering a question.
pub(crate) fn warning(ns: &str, what: &str, options: &Options) {
    line(ns, Level::WARN, &what, options);
}

/// One prefixed line on stderr.
fn line(ns: &str, level: Level, text: &dyn fmt::Display, options: &Options) {
    eprintln!("{}{text}", prefix(ns, level, options.color_stderr()));
}

/// `NS: WORD: `, the word coloured for its level.
fn prefix(ns: &str, level: Level, color: bool) -> String {
    let (word, code) = match level {
        Level::ERROR => ("error", "1;31"),
        Level::WARN => ("warning", "1;33"),
        Level::INFO => ("info", "1;32"),
        Level::DEBUG => ("debug", "1;36"),
        Level::TRACE => ("trace", "1;35"),
    };
    if color {
        format!("{ns}: \x1b[{code}m{word}\x1b[0m: ")
    } else {
        format!("{ns}: {word}: ")
    }
}

/// `mycli: warning: message`, like compilers and git.
struct Prefixed {
    ns: String,
    color: bool,
}

impl<S, N> FormatEvent<S, N> for Prefixed
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        write!(writer, "{}", prefix(&self.ns, level, self.color))?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// Asks `question` on stderr and returns the answer typed on stdin,
/// trimmed.
pub(crate) fn ask(question: &str) -> std::io::Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim().to_string())
}

/// Whether a question can be asked: stdin is a terminal.
pub(crate) fn can_ask() -> bool {
    std::io::stdin().is_terminal()
}

/// Prints a block of lines the user reads before answering (what a plugin
/// is, where it comes from), on stderr so that stdout stays for results.
pub(crate) fn notice(lines: &str) {
    let _ = std::io::stderr().lock().write_all(lines.as_bytes());
}

/// A status line shown on a terminal while something slow happens, erased
/// when it is dropped: what follows replaces it.
pub(crate) struct StatusLine {
    shown: bool,
}

impl StatusLine {
    /// Shows `NS: TEXT...` when stderr is a terminal.
    pub(crate) fn show(ns: &str, text: &str) -> StatusLine {
        let shown = std::io::stderr().is_terminal();
        if shown {
            eprint!("{ns}: {text}...");
        }
        StatusLine { shown }
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
        }
    }
}

/// What a coloured word says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paint {
    Good,
    Warn,
    Bad,
    Dim,
}

/// `text` in the ANSI colour for `what`.
pub(crate) fn paint(text: &str, what: Paint) -> String {
    let code = match what {
        Paint::Good => "32",
        Paint::Warn => "33",
        Paint::Bad => "31",
        Paint::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_levels() {
        let v = |level, debug| Verbosity { level, debug }.max_level();
        assert_eq!(v(0, false), Level::WARN);
        assert_eq!(v(-1, false), Level::ERROR);
        assert_eq!(v(1, false), Level::INFO);
        assert_eq!(v(2, false), Level::DEBUG);
        assert_eq!(v(-1, true), Level::TRACE);
    }

    #[test]
    fn errors_are_coloured_like_warnings() {
        assert_eq!(prefix("mycli", Level::ERROR, false), "mycli: error: ");
        assert_eq!(
            prefix("mycli", Level::ERROR, true),
            "mycli: \x1b[1;31merror\x1b[0m: "
        );
        assert_eq!(
            prefix("mycli", Level::WARN, true),
            "mycli: \x1b[1;33mwarning\x1b[0m: "
        );
    }

    #[test]
    fn global_args_are_added_unless_the_host_has_them() {
        let cli = with_global_args(Command::new("t").arg(Arg::new("color").long("colour")));
        let ids: Vec<&str> = cli.get_arguments().map(|a| a.get_id().as_str()).collect();
        assert_eq!(ids, ["color", "verbose", "quiet", "debug"]);
        cli.debug_assert();
    }
}

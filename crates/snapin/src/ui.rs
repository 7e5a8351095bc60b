//! Everything the host writes for a person to read on stderr, and the
//! global options that decide how: `-v`, `-q`, `--debug` and `--color`.
//!
//! One owner for the prefix, the colours and the one-line formats:
//!
//! - errors: `mycli: error: WHAT; fix: FIX` ([`error`], from a
//!   [`Diagnostic`]);
//! - warnings and log lines: `mycli: warning: ...`, through `tracing` and
//!   the subscriber [`init_logging`] installs (`-q` hides warnings, `-v`
//!   adds the loader's outcomes, `-vv` the host's debug lines, `--debug`
//!   its trace lines too; the WebAssembly runtime's own lines only at
//!   `-vvv`);
//! - prompts, the consent summary before an install, and the status line
//!   while a component compiles.
//!
//! Every line goes through [`text::one_line`] (a block through
//! [`text::lines`]), so that plugin-supplied text in it cannot drive the
//! terminal.
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
use crate::text;

/// How chatty the host should be, from `-v`, `-q` and `--debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verbosity {
    /// `-v` count minus `-q` count.
    pub(crate) level: i8,
    /// `--debug` was given.
    pub(crate) debug: bool,
}

impl Verbosity {
    /// The most detailed level shown of the host's own lines (and of the
    /// plugins' log lines).
    fn max_level(self) -> Level {
        match (self.debug, self.level) {
            (true, _) => Level::TRACE,
            (_, 2..) => Level::DEBUG,
            (_, 1) => Level::INFO,
            (_, 0) => Level::WARN,
            _ => Level::ERROR,
        }
    }

    /// The most detailed level shown of the WebAssembly runtime's lines
    /// (wasmtime, cranelift, WASI): hundreds of lines per component, so
    /// their debug and trace lines only at `-vvv`, and `--debug` stays the
    /// host's.
    fn runtime_level(self) -> Level {
        if self.level >= 3 {
            Level::TRACE
        } else {
            self.max_level().min(Level::WARN)
        }
    }

    /// What the logger lets through: every target at [`Self::max_level`],
    /// the runtime's at [`Self::runtime_level`].
    fn filter(self) -> tracing_subscriber::filter::Targets {
        let runtime = self.runtime_level();
        RUNTIME_TARGETS.iter().fold(
            tracing_subscriber::filter::Targets::new().with_default(self.max_level()),
            |filter, target| filter.with_target(*target, runtime),
        )
    }
}

/// The crates of the WebAssembly runtime, whose log lines are the
/// runtime's, not the host's. A target is the crate and module path of a
/// line (`wasmtime_internal_cranelift::...`), and each entry covers every
/// target that begins with it.
const RUNTIME_TARGETS: &[&str] = &[
    "wasmtime",
    "wasmparser",
    "wasm_encoder",
    "wasi",
    "cranelift",
    "regalloc2",
    "wit_",
    "cap_",
    "object",
    "gimli",
    "tokio",
];

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
    use tracing_subscriber::layer::SubscriberExt;

    let color = options.color_stderr();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(Level::TRACE)
        .with_ansi(color)
        .event_format(Prefixed {
            ns: ns.to_string(),
            color,
        })
        .finish()
        .with(options.verbosity.filter());
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Prints `NS: error: WHAT; fix: FIX`.
pub(crate) fn error(ns: &str, diagnostic: &Diagnostic, options: &Options) {
    line(ns, Level::ERROR, &diagnostic.to_string(), options);
}

/// Prints `NS: warning: WHAT` whatever the verbosity: for warnings the
/// user must see before answering a question.
pub(crate) fn warning(ns: &str, what: &str, options: &Options) {
    line(ns, Level::WARN, what, options);
}

/// One prefixed line on stderr, made safe to print.
fn line(ns: &str, level: Level, text: &str, options: &Options) {
    eprintln!(
        "{}{}",
        prefix(ns, level, options.color_stderr()),
        text::one_line(text)
    );
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
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = *event.metadata().level();
        // The fields are written into a string first, as they are, so that
        // the whole line (a plugin's log line, its stderr) is made safe to
        // print by the one function that does it everywhere, and only the
        // prefix is coloured.
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        writeln!(
            writer,
            "{}{}",
            prefix(&self.ns, level, self.color),
            text::one_line(&fields.0)
        )
    }
}

/// An event's fields as one text: the message, then `name=value` for each
/// other field.
struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        use fmt::Write as _;
        let sep = if self.0.is_empty() { "" } else { " " };
        let _ = if field.name() == "message" {
            write!(self.0, "{sep}{value:?}")
        } else {
            write!(self.0, "{sep}{}={value:?}", field.name())
        };
    }
}

/// Asks `question` on stderr and returns the answer typed on stdin,
/// trimmed.
pub(crate) fn ask(question: &str) -> std::io::Result<String> {
    eprint!("{}", text::one_line(question));
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
/// is, where it comes from), on stderr so that stdout stays for results;
/// each line made safe to print.
pub(crate) fn notice(lines: &str) {
    let _ = std::io::stderr()
        .lock()
        .write_all(text::lines(lines).as_bytes());
}

/// A status line shown on a terminal while something slow happens, erased
/// when it is dropped: what follows replaces it.
pub(crate) struct StatusLine {
    shown: bool,
}

impl StatusLine {
    /// Shows `NS: TEXT...` when stderr is a terminal.
    pub(crate) fn show(ns: &str, what: &str) -> StatusLine {
        let shown = std::io::stderr().is_terminal();
        if shown {
            eprint!("{ns}: {}...", text::one_line(what));
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

/// A download's progress bar, drawn only when stderr is a terminal and
/// erased when dropped.
#[cfg(feature = "registry")]
pub(crate) struct Progress {
    bar: indicatif::ProgressBar,
}

#[cfg(feature = "registry")]
impl Progress {
    /// A bar for `total` bytes of `what`, shown as `NS: WHAT [bar] N/M`.
    pub(crate) fn bytes(ns: &str, what: &str, total: u64) -> Progress {
        let bar = if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            )
        } else {
            indicatif::ProgressBar::hidden()
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{prefix}: {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(ns.to_string());
        bar.set_message(text::one_line(what).into_owned());
        Progress { bar }
    }

    /// `n` more bytes arrived.
    pub(crate) fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
}

#[cfg(feature = "registry")]
impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
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
    fn the_runtime_speaks_only_at_three_v() {
        let runtime = |level, debug| Verbosity { level, debug }.runtime_level();
        assert_eq!(runtime(0, false), Level::WARN);
        assert_eq!(runtime(-1, false), Level::ERROR);
        assert_eq!(runtime(2, false), Level::WARN);
        assert_eq!(runtime(0, true), Level::WARN);
        assert_eq!(runtime(3, false), Level::TRACE);
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

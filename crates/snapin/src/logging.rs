//! Log output for the host: one short line per event on stderr.
//!
//! Levels follow the global flags snapin adds: by default only warnings (at
//! most one line per failing plugin), `-q` only errors, `-v` the loader's
//! per-plugin outcomes, `--debug` (or `-vv`) everything, with cause chains.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// How chatty the host should be, from `-v`, `-q` and `--debug`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbosity {
    /// `-v` count minus `-q` count.
    pub level: i8,
    /// `--debug` was given.
    pub debug: bool,
}

impl Verbosity {
    /// The most detailed level shown.
    pub fn max_level(self) -> Level {
        match (self.debug, self.level) {
            (true, _) => Level::TRACE,
            (_, 2..) => Level::DEBUG,
            (_, 1) => Level::INFO,
            (_, 0) => Level::WARN,
            _ => Level::ERROR,
        }
    }
}

/// Installs the stderr logger for namespace `ns`. Does nothing if the
/// program already installed a global subscriber of its own.
pub fn init(ns: &str, verbosity: Verbosity, color: bool) {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(verbosity.max_level())
        .with_ansi(color)
        .event_format(Prefixed {
            ns: ns.to_string(),
            color,
        })
        .try_init();
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
        let (word, code) = match *event.metadata().level() {
            Level::ERROR => ("error", "31"),
            Level::WARN => ("warning", "33"),
            Level::INFO => ("info", "32"),
            Level::DEBUG => ("debug", "36"),
            Level::TRACE => ("trace", "35"),
        };
        if self.color {
            write!(writer, "{}: \x1b[1;{code}m{word}\x1b[0m: ", self.ns)?;
        } else {
            write!(writer, "{}: {word}: ", self.ns)?;
        }
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
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
}

//! The [`Plugin`] entry point and the [`Error`] a command returns.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::{Command, FromArgMatches, Subcommand};
use snapin_protocol::{CommandSpec, Context, DESCRIBE_FLAG, ENV_HOST, MANIFEST_FORMAT, Manifest};

use crate::context::ContextExt;
use crate::manifest::command_spec;

/// Exit status for problems between host and plugin (a bad `SNAPIN_CONTEXT`),
/// the same status clap uses for usage errors.
const EXIT_USAGE: u8 = 2;

/// An executable plugin: who it is, which host and API it is built for.
///
/// Usually made with [`plugin!`](crate::plugin!), which fills in the name,
/// version and description from `Cargo.toml`; then
/// [`run`](Plugin::run) is the whole of `main`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    host: String,
    api: String,
    name: String,
    version: String,
    description: Option<String>,
}

impl Plugin {
    /// A plugin named `name` at `version`, for host namespace `host` and host
    /// API requirement `api` (a semver requirement such as `^1.0`).
    pub fn new(
        host: impl Into<String>,
        api: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Self {
        Plugin {
            host: host.into(),
            api: api.into(),
            name: name.into(),
            version: version.into(),
            description: None,
        }
    }

    /// A plugin named after its Cargo package: `package` with a leading
    /// `"{host}-"` removed (package `mycli-greet` is plugin `greet`), and a
    /// description unless `description` is empty. This is what
    /// [`plugin!`](crate::plugin!) calls with the `CARGO_PKG_*` values.
    pub fn from_package(
        host: &str,
        api: &str,
        package: &str,
        version: &str,
        description: &str,
    ) -> Self {
        let name = package
            .strip_prefix(host)
            .and_then(|rest| rest.strip_prefix('-'))
            .filter(|rest| !rest.is_empty())
            .unwrap_or(package);
        let plugin = Plugin::new(host, api, name, version);
        if description.trim().is_empty() {
            plugin
        } else {
            plugin.description(description.trim())
        }
    }

    /// Sets the one-line description shown by the host's `plugins` commands.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// The plugin's name, as in its manifest.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The manifest for commands `C`: each variant of `C` is one top-level
    /// command of the host, described from its clap definitions.
    pub fn manifest<C: Subcommand>(&self) -> Manifest {
        let root = C::augment_subcommands(Command::new(self.name.clone()));
        Manifest {
            manifest: MANIFEST_FORMAT,
            host: self.host.clone(),
            name: self.name.clone(),
            version: self.version.clone(),
            api: self.api.clone(),
            description: self.description.clone(),
            commands: root
                .get_subcommands()
                .map(|c| command_spec(c, &[]))
                .collect::<Vec<CommandSpec>>(),
            capabilities: Default::default(),
        }
    }

    /// Runs the plugin with the process's arguments; see
    /// [`run_from`](Plugin::run_from).
    pub fn run<C>(self, handler: impl FnOnce(C, &Context) -> Result<(), Error>) -> ExitCode
    where
        C: Subcommand + FromArgMatches,
    {
        self.run_from(std::env::args_os(), handler)
    }

    /// Runs the plugin with `args` (the first one is the program name):
    ///
    /// - `PROGRAM --snapin-describe` prints the manifest as one line of JSON
    ///   and succeeds;
    /// - `PROGRAM COMMAND [ARGS...]` parses the arguments with clap (usage
    ///   errors exit with status 2, `--help` with 0), reads the [`Context`]
    ///   (see [`ContextExt::from_env`]) and calls `handler`. An [`Error`] is
    ///   printed as `error: MESSAGE` on stderr and its code is the exit status.
    pub fn run_from<C, I, T>(
        self,
        args: I,
        handler: impl FnOnce(C, &Context) -> Result<(), Error>,
    ) -> ExitCode
    where
        C: Subcommand + FromArgMatches,
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        if args.get(1).is_some_and(|a| a == DESCRIBE_FLAG) {
            return self.describe::<C>();
        }

        let mut cmd = self.command::<C>(args.first());
        let matches = match cmd.try_get_matches_from_mut(&args) {
            Ok(m) => m,
            Err(e) => e.exit(),
        };
        let parsed = match C::from_arg_matches(&matches) {
            Ok(c) => c,
            Err(e) => e.format(&mut cmd).exit(),
        };
        let mut path = Vec::new();
        let mut level = &matches;
        while let Some((name, sub)) = level.subcommand() {
            path.push(name.to_owned());
            level = sub;
        }
        let ctx = match Context::from_env(&self.host, &self.name, path) {
            Ok(ctx) => ctx,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        };
        match handler(parsed, &ctx) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                if !e.message.is_empty() {
                    eprintln!("error: {}", e.message);
                }
                ExitCode::from(e.code)
            }
        }
    }

    /// Prints the manifest on stdout.
    fn describe<C: Subcommand>(&self) -> ExitCode {
        let manifest = self.manifest::<C>();
        let result = serde_json::to_string(&manifest)
            .map_err(|e| e.to_string())
            .and_then(|json| {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{json}")
                    .and_then(|()| out.flush())
                    .map_err(|e| e.to_string())
            });
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write the manifest: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// The clap command that parses `COMMAND [ARGS...]`.
    fn command<C: Subcommand>(&self, argv0: Option<&OsString>) -> Command {
        // Usage lines read `mycli greet ...` when a host runs the plugin (that
        // is what the user typed) and `mycli-greet greet ...` when run by hand.
        let bin_name = std::env::var(ENV_HOST)
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| {
                argv0
                    .and_then(|a| Path::new(a).file_name())
                    .map(|f| f.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| format!("{}-{}", self.host, self.name));
        let cmd = Command::new(self.name.clone())
            .bin_name(bin_name)
            .version(self.version.clone())
            .subcommand_required(true)
            .arg_required_else_help(true);
        // After augmenting, so that the description wins over a doc comment
        // on the `Subcommand` enum.
        let cmd = C::augment_subcommands(cmd);
        match &self.description {
            Some(d) => cmd.about(d.clone()),
            None => cmd,
        }
    }
}

/// A command's failure: a message for the user and an exit status.
///
/// Any error type converts into it, so `?` works in a handler; the message is
/// the error's text followed by its sources (`outer: inner`). The exit status
/// is 1 unless set with [`with_code`](Error::with_code).
///
/// `Error` deliberately does not implement [`std::error::Error`]: that is what
/// makes the blanket `From` conversion possible.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    code: u8,
}

impl Error {
    /// An error with `message` and exit status 1. An empty message prints
    /// nothing, for a command that has already said what went wrong.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            code: 1,
        }
    }

    /// Sets the exit status. `0` is taken as `1`: a failure never looks
    /// like success.
    #[must_use]
    pub fn with_code(mut self, code: u8) -> Self {
        self.code = code.max(1);
        self
    }

    /// The message shown to the user.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The exit status.
    pub fn code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(err: E) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            // Some errors repeat their source's text in their own; say it once.
            if !message.ends_with(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = cause.source();
        }
        Error::new(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_lose_the_host_prefix() {
        let p = Plugin::from_package("mycli", "^1.0", "mycli-greet", "0.2.0", "Hi");
        assert_eq!(
            p,
            Plugin::new("mycli", "^1.0", "greet", "0.2.0").description("Hi")
        );
        let p = Plugin::from_package("mycli", "^1.0", "greet", "0.2.0", "");
        assert_eq!(p, Plugin::new("mycli", "^1.0", "greet", "0.2.0"));
        let p = Plugin::from_package("mycli", "^1.0", "myclix", "1.0.0", " ");
        assert_eq!(p.name(), "myclix");
    }

    #[test]
    fn std_errors_convert_with_their_sources() {
        fn parse(s: &str) -> Result<u64, Error> {
            Ok(s.parse::<u64>()?)
        }
        let err = parse("x").unwrap_err();
        assert_eq!(err.message(), "invalid digit found in string");
        assert_eq!(err.code(), 1);

        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("cannot read config")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let err = Error::from(Outer(io));
        assert_eq!(err.to_string(), "cannot read config: no such file");
    }

    #[test]
    fn codes_default_to_one_and_are_never_zero() {
        assert_eq!(Error::new("bad").code(), 1);
        assert_eq!(Error::new("bad").with_code(4).code(), 4);
        assert_eq!(Error::new("bad").with_code(0).code(), 1);
        assert_eq!(Error::new("bad").with_code(7).to_string(), "bad");
    }
}

//! The [`Plugin`] entry point and the [`Error`] a command returns.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::{Command, FromArgMatches, Subcommand};
use snapin_protocol::{
    Access, Capabilities, Context, DESCRIBE_FLAG, DirRequest, ENV_HOST, Manifest,
};

use crate::context::{ContextError, ContextExt};
use crate::manifest::command_spec;

/// Exit status for problems between host and plugin (a bad `SNAPIN_CONTEXT`),
/// the same status clap uses for usage errors.
const EXIT_USAGE: u8 = 2;

/// A plugin: who it is, which host and API it is built for, and what a
/// sandboxed plugin asks to reach.
///
/// Usually made with [`plugin!`](crate::plugin!), which fills in the name,
/// version and description from `Cargo.toml`; then
/// [`run`](Plugin::run) is the whole of `main` of an executable plugin. A
/// WebAssembly plugin (crate `snapin-guest`) uses the same type through
/// [`manifest`](Plugin::manifest) and [`run_command`](Plugin::run_command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    host: String,
    api: String,
    name: String,
    version: String,
    description: Option<String>,
    capabilities: Capabilities,
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
            capabilities: Capabilities::default(),
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

    /// Replaces the capabilities the manifest requests (see
    /// [`Capabilities`]). Only sandboxed (WebAssembly) plugins are limited by
    /// them; the user decides at install what to grant.
    #[must_use]
    pub fn capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Requests one directory with `access`; `why` is shown to the user at
    /// install, who picks which directory (if any) to grant.
    #[must_use]
    pub fn request_dir(mut self, access: Access, why: impl Into<String>) -> Self {
        let why = why.into();
        let mut dir = DirRequest::new(access);
        dir.why = (!why.trim().is_empty()).then_some(why);
        self.capabilities.dirs.push(dir);
        self
    }

    /// Requests read access to the environment variable `name`.
    #[must_use]
    pub fn request_env(mut self, name: impl Into<String>) -> Self {
        self.capabilities.env.push(name.into());
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
        let mut manifest = Manifest::new(
            self.host.clone(),
            self.name.clone(),
            self.version.clone(),
            self.api.clone(),
        )
        .with_commands(root.get_subcommands().map(|c| command_spec(c, &[])))
        .with_capabilities(self.capabilities.clone());
        manifest.description = self.description.clone();
        manifest
    }

    /// The [manifest](Plugin::manifest) for commands `C` as one line of JSON:
    /// what an executable prints for `--snapin-describe` and what a
    /// WebAssembly plugin's `describe` returns.
    pub fn manifest_json<C: Subcommand>(&self) -> String {
        serde_json::to_string(&self.manifest::<C>())
            .expect("a manifest has only string keys and plain values, so it always serializes")
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
        // Usage lines read `mycli greet ...` when a host runs the plugin (that
        // is what the user typed) and `mycli-greet greet ...` when run by hand.
        let bin_name = std::env::var(ENV_HOST)
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| {
                args.first()
                    .and_then(|a| Path::new(a).file_name())
                    .map(|f| f.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| format!("{}-{}", self.host, self.name));
        let code = self.execute(
            bin_name,
            args.into_iter().skip(1),
            |path| Context::from_env(&self.host, &self.name, path),
            handler,
        );
        ExitCode::from(code)
    }

    /// Runs one command and returns its exit status; this is how a host runs
    /// a WebAssembly plugin (see crate `snapin-guest`), and what
    /// [`run_from`](Plugin::run_from) does after reading the process's
    /// arguments and environment.
    ///
    /// `argv` is the command path then its arguments, without a program name
    /// (`["greet", "--who", "Rust"]`); `context` is the run's [`Context`] as
    /// JSON (the value of `SNAPIN_CONTEXT`), or empty for a
    /// [standalone](ContextExt::standalone) run without a host.
    ///
    /// Usage errors are printed on stderr and return 2, `--help` prints help
    /// on stdout and returns 0; an unusable `context` prints
    /// `error: SNAPIN_CONTEXT ...` and returns 2; otherwise `handler` runs, and
    /// an [`Error`] is printed as `error: MESSAGE` on stderr and its code is
    /// returned. Nothing here exits the process.
    ///
    /// ```
    /// use clap::Subcommand;
    /// use snapin_sdk::{Context, Error, Plugin};
    ///
    /// #[derive(Subcommand)]
    /// enum Commands {
    ///     /// Fail on purpose
    ///     Fail,
    /// }
    /// let plugin = Plugin::new("mycli", "^1.0", "demo", "1.0.0");
    /// let code = plugin.run_command(["fail"], "", |cmd: Commands, _ctx: &Context| match cmd {
    ///     Commands::Fail => Err(Error::new("").with_code(3)),
    /// });
    /// assert_eq!(code, 3);
    /// assert_eq!(plugin.run_command(["nope"], "", |_: Commands, _: &Context| Ok(())), 2);
    /// ```
    pub fn run_command<C, I, T>(
        &self,
        argv: I,
        context: &str,
        handler: impl FnOnce(C, &Context) -> Result<(), Error>,
    ) -> u8
    where
        C: Subcommand + FromArgMatches,
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        self.execute(
            self.host.clone(),
            argv,
            |path| {
                if context.trim().is_empty() {
                    Ok(Context::standalone(&self.host, &self.name, path))
                } else {
                    Context::from_json(context)
                }
            },
            handler,
        )
    }

    /// Parses `argv` (command path and arguments) for commands `C`, gets the
    /// context for the parsed command path and calls `handler`; returns the
    /// exit status. Shared by executable and WebAssembly plugins.
    fn execute<C, I, T>(
        &self,
        bin_name: String,
        argv: I,
        context: impl FnOnce(Vec<String>) -> Result<Context, ContextError>,
        handler: impl FnOnce(C, &Context) -> Result<(), Error>,
    ) -> u8
    where
        C: Subcommand + FromArgMatches,
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        let mut cmd = self.command::<C>(bin_name.clone());
        let args =
            std::iter::once(OsString::from(bin_name)).chain(argv.into_iter().map(Into::into));
        let parsed = cmd.try_get_matches_from_mut(args).and_then(|matches| {
            C::from_arg_matches(&matches)
                .map_err(|e| e.format(&mut cmd))
                .map(|parsed| (matches, parsed))
        });
        let (matches, parsed) = match parsed {
            Ok(ok) => ok,
            Err(e) => {
                // Help and version on stdout with status 0, usage errors on
                // stderr with status 2: what `clap::Error::exit` does, without
                // ending the process.
                let _ = e.print();
                return u8::try_from(e.exit_code()).unwrap_or(EXIT_USAGE);
            }
        };
        let mut path = Vec::new();
        let mut level = &matches;
        while let Some((name, sub)) = level.subcommand() {
            path.push(name.to_owned());
            level = sub;
        }
        let code = match context(path) {
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_USAGE
            }
            Ok(ctx) => match handler(parsed, &ctx) {
                Ok(()) => 0,
                Err(e) => {
                    if !e.message.is_empty() {
                        eprintln!("error: {}", e.message);
                    }
                    e.code
                }
            },
        };
        // A WebAssembly plugin does not end its process after a command, so
        // whatever the handler printed without a newline is flushed here.
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        code
    }

    /// Prints the manifest on stdout.
    fn describe<C: Subcommand>(&self) -> ExitCode {
        let json = self.manifest_json::<C>();
        let mut out = std::io::stdout().lock();
        match writeln!(out, "{json}").and_then(|()| out.flush()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write the manifest: {e}");
                ExitCode::FAILURE
            }
        }
    }

    /// The clap command that parses `COMMAND [ARGS...]`, with usage lines
    /// that start with `bin_name`.
    fn command<C: Subcommand>(&self, bin_name: String) -> Command {
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

    #[derive(clap::Subcommand, Debug, PartialEq)]
    enum Commands {
        /// Add two numbers
        Add {
            /// First
            a: u8,
            /// Second
            b: u8,
        },
    }

    fn add(cmd: Commands, ctx: &Context) -> Result<(), Error> {
        assert_eq!(ctx.command, ["add"]);
        let Commands::Add { a, b } = cmd;
        a.checked_add(b)
            .map(drop)
            .ok_or_else(|| Error::new("too big").with_code(5))
    }

    #[test]
    fn run_command_returns_the_exit_status() {
        let plugin = Plugin::new("mycli", "^1.0", "calc", "1.0.0");
        assert_eq!(plugin.run_command(["add", "1", "2"], "", add), 0);
        assert_eq!(plugin.run_command(["add", "200", "100"], "", add), 5);
        // Usage errors, a missing command and an unknown one.
        assert_eq!(plugin.run_command(["add", "1"], "", add), 2);
        assert_eq!(plugin.run_command(Vec::<String>::new(), "", add), 2);
        assert_eq!(plugin.run_command(["sub"], "", add), 2);
        // Help is not a failure.
        assert_eq!(plugin.run_command(["add", "--help"], "", add), 0);
    }

    #[test]
    fn run_command_reads_the_context_json() {
        let plugin = Plugin::new("mycli", "^1.0", "calc", "1.0.0");
        let json = r#"{"host": {"name": "mycli", "version": "1.4.0", "api": "1.2.0"},
            "plugin": "calc", "command": ["add"], "verbosity": 2,
            "dirs": {"config": "/c", "data": "/d", "cache": "/k"}}"#;
        let mut seen = None;
        let code = plugin.run_command(["add", "1", "2"], json, |cmd: Commands, ctx: &Context| {
            seen = Some((cmd, ctx.verbosity, ctx.host.version.clone()));
            Ok(())
        });
        assert_eq!(code, 0);
        assert_eq!(
            seen,
            Some((Commands::Add { a: 1, b: 2 }, 2, "1.4.0".into()))
        );

        let called = std::cell::Cell::new(false);
        let code = plugin.run_command(["add", "1", "2"], "{", |_: Commands, _: &Context| {
            called.set(true);
            Ok(())
        });
        assert_eq!(code, 2);
        assert!(!called.get());
    }

    #[test]
    fn capabilities_reach_the_manifest() {
        let plugin = Plugin::new("mycli", "^1.0", "calc", "1.0.0")
            .request_dir(Access::Read, "inputs")
            .request_dir(Access::Write, "")
            .request_env("HOME");
        let m = plugin.manifest::<Commands>();
        assert_eq!(
            m.capabilities.dirs,
            [
                DirRequest::new(Access::Read).with_why("inputs"),
                DirRequest::new(Access::Write),
            ]
        );
        assert_eq!(m.capabilities.env, ["HOME"]);
        let plain = Plugin::new("mycli", "^1.0", "calc", "1.0.0");
        assert!(plain.manifest::<Commands>().capabilities.is_empty());
        assert_eq!(
            plain
                .capabilities(m.capabilities.clone())
                .manifest::<Commands>(),
            m
        );
    }

    #[test]
    fn codes_default_to_one_and_are_never_zero() {
        assert_eq!(Error::new("bad").code(), 1);
        assert_eq!(Error::new("bad").with_code(4).code(), 4);
        assert_eq!(Error::new("bad").with_code(0).code(), 1);
        assert_eq!(Error::new("bad").with_code(7).to_string(), "bad");
    }
}

//! The [`App`]: a host's command line with plugins loaded. [`Host::load`]
//! makes one; it parses the command line and dispatches plugin commands
//! and the `plugins` group.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{ArgMatches, Command};

use crate::engine::Engine;
use crate::host::Host;
use crate::index::IndexError;
use crate::loader::{Loaded, Outcome, Source, Status};
use crate::plugins::check::CheckReport;
use crate::startup::{self, Need, Scope};
use crate::ui::{self, Options};
use crate::{complete, plugins, run};

impl Host {
    /// Runs the loader loop and returns the host's command extended with
    /// the plugin commands, the `plugins` command group and the global
    /// options `-v`, `-q`, `--debug` and `--color` (each unless `cli`
    /// already has an argument with that id).
    ///
    /// No plugin is started: commands are built from cached manifests. When
    /// the process's command line names one command, only the plugin that
    /// provides it is loaded, found through the start-up lookup, so
    /// start-up does not grow with the number of plugins installed; help
    /// and unknown commands load them all.
    ///
    /// When a shell asks for completions (`<NS>_COMPLETE` is set, e.g.
    /// `MYCLI_COMPLETE=bash`; docs/host-guide.md says how users enable
    /// them), it prints them and exits instead of returning.
    pub fn load(self, cli: Command) -> App {
        self.load_from(cli, std::env::args_os())
    }

    /// [`Host::load`] for the command line `args` (program name first)
    /// instead of the process's own: for tests, benches and hosts that parse
    /// a command line of their making. Pass the same `args` to
    /// [`App::get_matches_from`].
    pub fn load_from<I, T>(self, cli: Command, args: I) -> App
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString>,
    {
        report_oversized_writes_as_errors();
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let base = ui::with_global_args(named_as_typed(cli, args.first()));
        let engine = Engine::new(self, &base, plugins::COMMAND);
        let mut app = App {
            engine,
            command: base.clone(),
            base,
            loaded: Loaded::default(),
            index_error: None,
            scope: Scope::All,
        };
        if let Some(request) = complete::Request::from_env(app.engine.ns(), &args) {
            app.prepare(startup::need_to_complete(
                &app.base,
                request.words_before_cursor(),
            ));
            std::process::exit(complete::answer(&app.engine, &app.command, request));
        }
        app.prepare(startup::need(&app.base, &args));
        app
    }
}

/// `cli` named in usage lines as clap would name it, after the program's
/// file name, but without Windows' `.exe`: `mycli`, the word users type,
/// on every system. A name the host set is kept.
fn named_as_typed(cli: Command, program: Option<&OsString>) -> Command {
    if cli.get_bin_name().is_some() {
        return cli;
    }
    let Some(file_name) = program
        .and_then(|p| std::path::Path::new(p).file_name())
        .and_then(|n| n.to_str())
    else {
        return cli;
    };
    let suffix = std::env::consts::EXE_SUFFIX;
    let name = match file_name.len().checked_sub(suffix.len()) {
        Some(cut)
            if !suffix.is_empty()
                && file_name.is_char_boundary(cut)
                && file_name[cut..].eq_ignore_ascii_case(suffix) =>
        {
            &file_name[..cut]
        }
        _ => file_name,
    };
    let name = name.to_string();
    cli.bin_name(name)
}

/// Makes a write past the file size limit (`ulimit -f`) fail with an error
/// the host reports, index intact, instead of killing it with SIGXFSZ.
/// Plugins start with the default again (handlers do not survive `exec`).
fn report_oversized_writes_as_errors() {
    // Once per process: every registration adds a handler.
    #[cfg(unix)]
    static REGISTERED: std::sync::Once = std::sync::Once::new();
    #[cfg(unix)]
    REGISTERED.call_once(|| {
        let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, ignored) {
            tracing::debug!("cannot handle SIGXFSZ: {e}");
        }
    });
}

/// A host command line with plugins loaded: parse it, then dispatch.
pub struct App {
    engine: Engine,
    /// The host's command with the global options, without plugins.
    base: Command,
    /// `base` with the loaded plugin commands and `plugins`.
    command: Command,
    loaded: Loaded,
    /// What `loaded` covers.
    scope: Scope,
    /// Why the index could not be used at start-up, when it could not.
    index_error: Option<IndexError>,
}

impl App {
    /// The full command: the host's own, plugin commands and `plugins`.
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// The host settings.
    pub fn host(&self) -> &Host {
        &self.engine.host
    }

    /// Per-plugin results of the loader at start-up: every plugin when all
    /// were loaded; otherwise the plugin that was needed and the recorded
    /// outcomes of the plugins that failed to load.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.loaded.outcomes
    }

    /// Runs the plugin file at `path` through every check of the contract
    /// for this host without installing it, as `plugins check` does:
    /// nothing is recorded (a WebAssembly component is compiled into the
    /// host's cache, as install would).
    pub fn check(&self, path: &std::path::Path) -> CheckReport {
        plugins::check::check(&self.engine, path, false, &Options::default())
    }

    /// Parses the process's arguments (exiting on `--help` or a usage
    /// error, like clap), sets up logging from the global options and
    /// reports plugins that failed to load.
    pub fn get_matches(&mut self) -> ArgMatches {
        self.get_matches_from(std::env::args_os())
    }

    /// [`App::get_matches`] with explicit arguments (the first is the
    /// program name).
    pub fn get_matches_from<I, T>(&mut self, args: I) -> ArgMatches
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let need = startup::need(&self.base, &args);
        if !self.scope.covers(&need) {
            self.prepare(need);
        }
        let matches = match self.command.try_get_matches_from_mut(args) {
            Ok(m) => m,
            Err(e) => {
                // The command may be one of the plugins an unreadable index
                // hides: say why, as the `plugins` commands do, rather than
                // that no such command exists.
                if e.kind() == clap::error::ErrorKind::InvalidSubcommand
                    && let Some(index_error) =
                        self.index_error.as_ref().filter(|e| !e.is_read_only())
                {
                    let diagnostic = index_error.diagnostic(self.engine.ns());
                    ui::error(self.engine.ns(), &diagnostic, &Options::default());
                    std::process::exit(i32::from(diagnostic.exit()));
                }
                e.exit()
            }
        };
        let options = Options::from_matches(&matches);
        ui::init_logging(self.engine.ns(), &options);
        let listing = matches.subcommand_name() == Some(plugins::COMMAND);
        self.report(listing);
        matches
    }

    /// Runs the command in `matches` if it belongs to a plugin or to the
    /// `plugins` group, and returns its exit status; `None` means the
    /// command is one of the host's own.
    pub fn dispatch(&self, matches: &ArgMatches) -> Option<ExitCode> {
        let (name, sub) = matches.subcommand()?;
        if name == plugins::COMMAND {
            let options = Options::from_matches(matches);
            return Some(plugins::run(&self.engine, sub, &options));
        }
        let (active, spec) = self.loaded.command(name)?;
        Some(run::run_plugin(&self.engine, active, spec, matches, sub))
    }

    /// Loads what `need` asks for and builds the full command.
    fn prepare(&mut self, need: Need) {
        let prepared = startup::prepare(&self.engine, need);
        self.loaded = prepared.loaded;
        self.scope = prepared.scope;
        self.index_error = prepared.index_error;
        let mut base = self.base.clone();
        if matches!(self.scope, Scope::Listing(_)) {
            // Help and errors only: no subcommand is parsed, so global
            // options need not be copied into every listed command (clap
            // would clone each into thousands of them).
            base = base.mut_args(|arg| arg.global(false));
        }
        let compiled_in = self
            .loaded
            .active
            .iter()
            .filter(|a| matches!(a.candidate.source, Source::CompiledIn { .. }))
            .map(|a| (a.manifest.name.clone(), a.manifest.description.clone()))
            .collect();
        self.command = base
            .subcommands(prepared.commands)
            .subcommand(plugins::command(&self.engine, compiled_in));
    }

    /// Logs the loader's outcomes: `ok` lines at info level (`-v`), one
    /// warning per failing plugin (unless the user is already looking at
    /// `plugins` output).
    fn report(&self, listing: bool) {
        let ns = self.engine.ns();
        if let Some(e) = &self.index_error {
            tracing::warn!("{}", e.diagnostic(ns));
        }
        for o in &self.loaded.outcomes {
            let version = o.version.as_deref().unwrap_or("?");
            match o.status {
                Status::Ok => tracing::info!(
                    "plugin '{}' {version} ({}): ok, commands: {}",
                    o.name,
                    o.kind.as_str(),
                    o.commands.join(", ")
                ),
                Status::Disabled => tracing::info!("plugin '{}' {version}: disabled", o.name),
                Status::Skipped | Status::Error if listing => {
                    tracing::info!("plugin '{}' {version}: {}", o.name, o.status_line())
                }
                Status::Skipped | Status::Error => tracing::warn!(
                    "plugin '{}' {} (`{ns} plugins doctor` says how to fix it)",
                    o.name,
                    o.status_line(),
                ),
            }
        }
    }
}

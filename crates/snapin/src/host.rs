//! The host author's entry point: a builder, then an [`App`] that parses the
//! command line with plugin commands in it and dispatches them.

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Arg, ArgAction, ArgMatches, Command};
use semver::Version;
use snapin_protocol::{ColorChoice, CommandSpec, Context, HostInfo};

use crate::index::{Entry, Index, IndexError, Kind};
use crate::loader::{self, Active, Candidate, Loaded, LoaderSettings, Source, Status};
use crate::logging::{self, Verbosity};
use crate::lookup::{self, Lookup, Stamp};
use crate::manifest::Reserved;
use crate::paths::Paths;
use crate::runtime::exec::{DescribeLimits, ExecPlugin};
use crate::runtime::{Exit, Invocation, Plugin, PluginError, catch_panic, signal_name};
use crate::{cli, complete, manage};

/// Exit status when a plugin could not be started at all (missing file,
/// changed pin, a file others could change, not executable).
pub const EXIT_CANNOT_RUN: u8 = 126;

/// Exit status when a sandboxed plugin crashed (a WebAssembly trap), like
/// a native program's abort.
pub const EXIT_TRAP: u8 = 134;

/// Exit status when a sandboxed plugin ran past its time limit, like
/// `timeout(1)`.
pub const EXIT_TIME_LIMIT: u8 = 124;

/// Exit status when a sandboxed plugin hit its memory limit, like a
/// process killed for using too much memory.
pub const EXIT_MEMORY_LIMIT: u8 = 137;

/// Configures a [`Host`]: namespace, versions, plugins compiled in.
pub struct HostBuilder {
    ns: String,
    version: String,
    api: Version,
    plugins: Vec<Arc<dyn Plugin>>,
    limits: DescribeLimits,
    #[cfg(feature = "wasm")]
    wasm_limits: crate::runtime::wasm::Limits,
    home: Option<PathBuf>,
}

impl HostBuilder {
    /// The host program's own version (shown to plugins in their context).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The plugin API version the host provides: bump the minor version when
    /// the contract gains something, the major when it breaks.
    pub fn api(mut self, api: Version) -> Self {
        self.api = api;
        self
    }

    /// Compiles a plugin into the host. It goes through the same loader loop
    /// as installed plugins; a panic while it registers is reported like any
    /// other failure.
    pub fn plugin(mut self, plugin: impl Plugin + 'static) -> Self {
        self.plugins.push(Arc::new(plugin));
        self
    }

    /// Bounds on `--snapin-describe` calls at install and upgrade.
    pub fn describe_limits(mut self, limits: DescribeLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Default memory and time limits for sandboxed plugins (users can
    /// override them per plugin in the configuration file).
    #[cfg(feature = "wasm")]
    pub fn wasm_limits(mut self, limits: crate::runtime::wasm::Limits) -> Self {
        self.wasm_limits = limits;
        self
    }

    /// Keeps the index and plugin directories under `root` instead of the
    /// platform directories or `$<NS>_HOME`.
    pub fn home(mut self, root: impl Into<PathBuf>) -> Self {
        self.home = Some(root.into());
        self
    }

    /// Finishes the configuration.
    pub fn build(self) -> Host {
        debug_assert!(
            crate::manifest::is_valid_name(&self.ns),
            "host namespace {:?} must match ^[a-z][a-z0-9-]{{0,63}}$",
            self.ns
        );
        let paths = match self.home {
            Some(root) => Paths::under(root),
            None => Paths::for_namespace(&self.ns),
        };
        Host {
            ns: self.ns,
            version: self.version,
            api: self.api,
            plugins: self.plugins,
            limits: self.limits,
            #[cfg(feature = "wasm")]
            wasm_limits: self.wasm_limits,
            paths,
        }
    }
}

/// A host program's plugin settings.
pub struct Host {
    pub(crate) ns: String,
    pub(crate) version: String,
    pub(crate) api: Version,
    pub(crate) plugins: Vec<Arc<dyn Plugin>>,
    pub(crate) limits: DescribeLimits,
    #[cfg(feature = "wasm")]
    pub(crate) wasm_limits: crate::runtime::wasm::Limits,
    pub(crate) paths: Paths,
}

impl Host {
    /// Starts configuring the host with namespace `ns` (e.g. `mycli`).
    pub fn builder(ns: impl Into<String>) -> HostBuilder {
        HostBuilder {
            ns: ns.into(),
            version: "0.0.0".to_string(),
            api: Version::new(1, 0, 0),
            plugins: Vec::new(),
            limits: DescribeLimits::default(),
            #[cfg(feature = "wasm")]
            wasm_limits: crate::runtime::wasm::Limits::default(),
            home: None,
        }
    }

    /// The host's namespace.
    pub fn namespace(&self) -> &str {
        &self.ns
    }

    /// Where the host keeps its index and plugin directories.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Runs the loader loop and returns the host's command extended with
    /// the plugin commands, the `plugins` command group and the global
    /// options `-v`, `-q`, `--debug` and `--color` (each unless `cli`
    /// already has an argument with that id).
    ///
    /// No plugin is started: commands are built from cached manifests. When
    /// the process's command line names one command, only the plugin that
    /// provides it is loaded, found through the start-up lookup (see
    /// [`crate::lookup`]), so start-up does not grow with the number of
    /// plugins installed; help and unknown commands load them all.
    ///
    /// When a shell asks for completions (`<NS>_COMPLETE` is set, see
    /// [`crate::complete`]), it prints them and exits instead of returning.
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
        let cli = with_global_args(cli);
        let mut builtins: HashSet<String> = cli
            .get_subcommands()
            .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
            .map(str::to_string)
            .collect();
        builtins.extend([manage::COMMAND.to_string(), "help".to_string()]);
        let mut reserved = Reserved::clap_defaults();
        for arg in cli.get_arguments().filter(|a| a.is_global_set()) {
            reserved.longs.extend(arg.get_long().map(str::to_string));
            reserved.shorts.extend(arg.get_short());
            reserved.names.insert(arg.get_id().to_string());
        }

        let mut app = App {
            host: self,
            command: cli.clone(),
            base: cli,
            loaded: Loaded::default(),
            builtins,
            reserved,
            index_error: None,
            scope: Scope::All,
            #[cfg(feature = "wasm")]
            wasm: std::sync::OnceLock::new(),
        };
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        if let Some(request) = complete::Request::from_env(&app.host.ns, &args) {
            let need = app.need_to_complete(request.words_before_cursor());
            app.prepare(need);
            std::process::exit(complete::answer(app, request));
        }
        let need = app.need(&args);
        app.prepare(need);
        app
    }
}

/// What has been loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// Every plugin, with its full command specs.
    All,
    /// Every plugin command's name and about, from the start-up lookup:
    /// enough for help and suggestions, not to parse a plugin command.
    Listing,
    /// What this need asked for.
    Only(Need),
}

impl Scope {
    fn covers(&self, need: &Need) -> bool {
        match self {
            Scope::All => true,
            Scope::Listing => *need == Need::Full,
            Scope::Only(only) => only == need,
        }
    }
}

/// What a command line needs loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    /// Every plugin: help, an unknown command (for suggestions), no command.
    Full,
    /// Only the plugin providing this command, or none for the host's own
    /// commands and `--version`.
    Command(Option<String>),
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
        let ignored = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, ignored) {
            tracing::debug!("cannot handle SIGXFSZ: {e}");
        }
    });
}

fn with_global_args(cli: Command) -> Command {
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

/// A host command line with plugins loaded: parse it, then dispatch.
pub struct App {
    pub(crate) host: Host,
    /// The host's command with the global options, without plugins.
    base: Command,
    /// `base` with the loaded plugin commands and `plugins`.
    command: Command,
    pub(crate) loaded: Loaded,
    /// What `loaded` covers.
    scope: Scope,
    pub(crate) builtins: HashSet<String>,
    pub(crate) reserved: Reserved,
    pub(crate) index_error: Option<IndexError>,
    /// The WebAssembly engine, made on first use.
    #[cfg(feature = "wasm")]
    wasm: std::sync::OnceLock<Result<crate::runtime::wasm::WasmRuntime, String>>,
}

impl App {
    /// The full command: the host's own, plugin commands and `plugins`.
    pub fn command(&self) -> &Command {
        &self.command
    }

    /// The host settings.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// Per-plugin results of the loader at start-up: every plugin when all
    /// were loaded; otherwise the plugin that was needed and the recorded
    /// outcomes of the plugins that failed to load.
    pub fn outcomes(&self) -> &[loader::Outcome] {
        &self.loaded.outcomes
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
        let need = self.need(&args);
        if !self.scope.covers(&need) {
            self.prepare(need);
        }
        let matches = match self.command.try_get_matches_from_mut(args) {
            Ok(m) => m,
            Err(e) => e.exit(),
        };
        let options = Options::from_matches(&matches);
        logging::init(&self.host.ns, options.verbosity, options.color_stderr());
        let listing = matches.subcommand_name() == Some(manage::COMMAND);
        self.report(listing);
        matches
    }

    /// Logs the loader's outcomes: `ok` lines at info level (`-v`), one
    /// warning per failing plugin (unless the user is already looking at
    /// `plugins` output).
    fn report(&self, listing: bool) {
        let ns = &self.host.ns;
        if let Some(e) = &self.index_error {
            tracing::warn!("{e}");
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

    /// Runs the command in `matches` if it belongs to a plugin or to the
    /// `plugins` group, and returns its exit status; `None` means the
    /// command is one of the host's own.
    pub fn dispatch(&self, matches: &ArgMatches) -> Option<ExitCode> {
        let (name, sub) = matches.subcommand()?;
        if name == manage::COMMAND {
            return Some(manage::run(self, sub, &Options::from_matches(matches)));
        }
        let (active, spec) = self.loaded.command(name)?;
        Some(self.run_plugin(active, spec, matches, sub))
    }

    fn run_plugin(
        &self,
        active: &Active,
        spec: &CommandSpec,
        top: &ArgMatches,
        matches: &ArgMatches,
    ) -> ExitCode {
        let ns = &self.host.ns;
        let name = &active.candidate.name;
        let options = Options::from_matches(top);
        let argv = cli::plugin_argv(spec, matches);
        let command = cli::command_path(spec, matches);
        let context = Context::new(
            HostInfo::new(
                ns.clone(),
                self.host.version.clone(),
                self.host.api.to_string(),
            ),
            name.clone(),
            command.clone(),
            self.host.paths.plugin_dirs(name),
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
            Source::Installed(entry) => {
                if let Err(problem) = loader::verify(entry, ns, &crate::trust::Checker::default()) {
                    eprintln!(
                        "{ns}: error: plugin '{name}' cannot run: {}; fix: {}",
                        problem.reason, problem.fix
                    );
                    return ExitCode::from(EXIT_CANNOT_RUN);
                }
                self.with_runtime(entry, |plugin| plugin.run(&invocation))
            }
            Source::InProcess { plugin, .. } => catch_panic(|| plugin.run(&invocation)),
        };
        let shown = format!("{ns} {}", command.join(" "));
        match result {
            Ok(Exit::Code(code)) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            // Stopped by the user or the system (Ctrl-C, kill, a closed
            // pipe): not the plugin's fault, nothing to report.
            Ok(Exit::Signal(signal @ (1 | 2 | 13 | 15))) => {
                ExitCode::from(128u8.saturating_add(u8::try_from(signal).unwrap_or(127)))
            }
            Ok(Exit::Signal(signal)) => {
                // SIGKILL comes from outside: the system when memory runs
                // out, or a user. Other signals are the plugin's own doing.
                let why = if signal == 9 {
                    "something outside it ended it, often the system when memory runs out; if it happens again, report it to its author"
                } else {
                    "this is a bug in the plugin: report it to its author"
                };
                eprintln!(
                    "{ns}: error: plugin '{name}' was killed by {} (signal {signal}) while running `{shown}`; {why}, or turn it off with `{ns} plugins disable {name}`",
                    signal_name(signal)
                );
                ExitCode::from(128u8.saturating_add(u8::try_from(signal).unwrap_or(127)))
            }
            Err(e @ PluginError::Trap { .. }) => {
                eprintln!(
                    "{ns}: error: plugin '{name}' {e} while running `{shown}`; this is a bug in the plugin: report it to its author, or turn it off with `{ns} plugins disable {name}`"
                );
                ExitCode::from(EXIT_TRAP)
            }
            Err(e @ PluginError::TimeLimit { .. }) => {
                eprintln!(
                    "{ns}: error: plugin '{name}' {e} while running `{shown}`; if it needs longer, set `cpu-seconds` under [plugins.{name}] in {}",
                    self.host.paths.config_file().display()
                );
                ExitCode::from(EXIT_TIME_LIMIT)
            }
            Err(e @ PluginError::MemoryLimit { .. }) => {
                eprintln!(
                    "{ns}: error: plugin '{name}' {e} while running `{shown}`; if it needs more, set `memory-mib` under [plugins.{name}] in {}",
                    self.host.paths.config_file().display()
                );
                ExitCode::from(EXIT_MEMORY_LIMIT)
            }
            Err(e @ PluginError::Panicked { .. }) => {
                eprintln!(
                    "{ns}: error: plugin '{name}' failed while running `{shown}`: {e}; report it to the program's authors"
                );
                ExitCode::from(101)
            }
            Err(e) => {
                eprintln!(
                    "{ns}: error: plugin '{name}' cannot run: {e}; fix: reinstall it, or `{ns} plugins remove {name}`"
                );
                ExitCode::from(EXIT_CANNOT_RUN)
            }
        }
    }

    /// Calls `f` with the runtime that runs the installed plugin `entry`.
    pub(crate) fn with_runtime<T>(
        &self,
        entry: &Entry,
        f: impl FnOnce(&dyn Plugin) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        match entry.kind {
            Kind::Exec => f(&ExecPlugin::new(
                entry.path.clone(),
                &self.host.ns,
                &self.host.api.to_string(),
                self.host.limits,
            )),
            Kind::Wasm => self.with_wasm(entry, f),
            Kind::Builtin => Err(PluginError::Other(
                "a compiled-in plugin cannot come from the index".to_string(),
            )),
        }
    }

    #[cfg(feature = "wasm")]
    fn with_wasm<T>(
        &self,
        entry: &Entry,
        f: impl FnOnce(&dyn Plugin) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        use crate::config::HostConfig;
        use crate::runtime::wasm::{WasmPluginSpec, WasmRuntime};

        let runtime = self
            .wasm
            .get_or_init(|| {
                WasmRuntime::new(self.host.paths.compiled_cache()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| PluginError::Other(e.clone()))?;
        let config = HostConfig::load(&self.host.paths.config_file())
            .map_err(|e| PluginError::Other(e.to_string()))?
            .plugin(&entry.name);
        let mut limits = self.host.wasm_limits;
        if let Some(mib) = config.memory_mib {
            limits.memory = usize::try_from(mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
        }
        if let Some(seconds) = config.cpu_seconds.filter(|s| s.is_finite() && *s > 0.0) {
            limits.time = std::time::Duration::from_secs_f64(seconds);
        }
        f(&runtime.plugin(WasmPluginSpec {
            name: entry.name.clone(),
            path: entry.path.clone(),
            sha256: entry.sha256.clone(),
            grants: entry.grants.clone(),
            limits,
            config: config.config,
        }))
    }

    #[cfg(not(feature = "wasm"))]
    fn with_wasm<T>(
        &self,
        _entry: &Entry,
        _f: impl FnOnce(&dyn Plugin) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        Err(PluginError::Other(format!(
            "this {} was built without WebAssembly support (snapin's `wasm` feature)",
            self.host.ns
        )))
    }

    /// Which plugins completing the word after `words` (program name
    /// first) needs: as for running `words`, except that before any command
    /// is named the word may be one, so every command name is needed.
    fn need_to_complete(&self, words: &[OsString]) -> Need {
        match self.need(words) {
            Need::Command(None) => Need::Full,
            need => need,
        }
    }

    /// Which plugins the command line `args` (program name first) needs: it
    /// finds the subcommand the way clap will, skipping global options and
    /// their values.
    fn need(&self, args: &[OsString]) -> Need {
        let takes_value =
            |found: Option<&Arg>| found.is_some_and(|a| a.get_action().takes_values());
        let mut rest = args.iter().skip(1);
        while let Some(arg) = rest.next() {
            let Some(text) = arg.to_str() else {
                return Need::Full;
            };
            if text == "--" || text == "-h" || text == "--help" {
                return Need::Full;
            }
            if let Some(long) = text.strip_prefix("--") {
                let arg = self
                    .base
                    .get_arguments()
                    .find(|a| a.get_long() == Some(long));
                if takes_value(arg) {
                    rest.next();
                }
                continue;
            }
            if let Some(shorts) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
                for (at, c) in shorts.char_indices() {
                    if c == 'h' {
                        return Need::Full;
                    }
                    let arg = self.base.get_arguments().find(|a| a.get_short() == Some(c));
                    if takes_value(arg) {
                        // The value is the rest of the word, or the next one.
                        if at + c.len_utf8() == shorts.len() {
                            rest.next();
                        }
                        break;
                    }
                }
                continue;
            }
            if text == "help" {
                // `help NAME` renders NAME's full help; `help` alone lists.
                return match rest.find(|a| !a.to_string_lossy().starts_with('-')) {
                    Some(name) => Need::Command(Some(name.to_string_lossy().into_owned())),
                    None => Need::Full,
                };
            }
            return Need::Command(Some(text.to_string()));
        }
        if args.len() <= 1 {
            Need::Full
        } else {
            Need::Command(None)
        }
    }

    /// Loads what `need` asks for and builds the clap command: from the
    /// start-up lookup when it is current, else from the whole index (and
    /// then refreshes the lookup).
    fn prepare(&mut self, need: Need) {
        let index_path = self.host.paths.index_file();
        let in_process: Vec<Candidate> = self
            .host
            .plugins
            .iter()
            .map(|p| Candidate::in_process(Arc::clone(p)))
            .collect();
        let identity = self.identity(&in_process);
        let stamp = Stamp::of(&index_path, &identity);
        let lookup_path = lookup::path_for(&index_path);
        let lookup = stamp
            .as_ref()
            .and_then(|stamp| Lookup::open(&lookup_path, stamp));
        self.index_error = None;
        let mut listing = None;
        let targeted = match (&need, &stamp, &lookup) {
            // No index: nothing is installed.
            (_, None, _) => Some((None, Vec::new())),
            (Need::Full, Some(_), Some(lookup)) => {
                listing = lookup.listing();
                listing.as_ref().map(|_| (None, lookup.problems().to_vec()))
            }
            (Need::Command(name), Some(_), Some(lookup)) => {
                let record = name.as_deref().and_then(|n| lookup.find(n));
                let known = name
                    .as_deref()
                    .is_none_or(|n| record.is_some() || self.builtins.contains(n));
                // An unknown command needs every name for suggestions.
                known.then(|| (record.map(|r| r.entry), lookup.problems().to_vec()))
            }
            (_, Some(_), None) => None,
        };
        match targeted {
            Some((entry, problems)) => {
                let candidates = in_process
                    .into_iter()
                    .chain(entry.map(Candidate::installed))
                    .collect();
                self.loaded = loader::load(candidates, &self.loader_settings(false));
                self.loaded.outcomes.extend(problems);
                self.scope = match (&listing, &stamp) {
                    (Some(_), _) => Scope::Listing,
                    // Without an index every need is met.
                    (None, None) => Scope::All,
                    (None, Some(_)) => Scope::Only(need),
                };
            }
            None => {
                let index = match Index::load(&index_path) {
                    Ok(index) => {
                        // Written by a newer host: run what it holds, warn,
                        // and leave the lookup alone so every run warns.
                        self.index_error = index.read_only(&index_path);
                        index
                    }
                    Err(e) => {
                        self.index_error = Some(e);
                        Index::default()
                    }
                };
                let candidates = in_process
                    .into_iter()
                    .chain(index.plugins.into_iter().map(Candidate::installed))
                    .collect();
                self.loaded = loader::load(candidates, &self.loader_settings(false));
                // Refresh the lookup: it is missing or stale, or it would
                // have been used.
                if let (Some(stamp), None) = (&stamp, &self.index_error)
                    && let Err(e) = Lookup::write(&lookup_path, stamp, &self.loaded)
                {
                    tracing::debug!("cannot write {}: {e}", lookup_path.display());
                }
                self.scope = Scope::All;
            }
        }
        let loaded = &self.loaded;
        let plugin_commands = loaded.commands.values().map(|&(plugin, command)| {
            cli::command_from_spec(&loaded.active[plugin].manifest.commands[command])
        });
        // Help lists the commands of plugins it did not load, by name.
        let listed = listing.into_iter().flatten().map(|l| {
            let mut stub = Command::new(l.name).aliases(l.aliases).hide(l.hidden);
            if let Some(about) = l.about {
                stub = stub.about(about);
            }
            stub
        });
        let mut commands: Vec<Command> = plugin_commands.chain(listed).collect();
        commands.sort_by(|a, b| a.get_name().cmp(b.get_name()));
        let mut base = self.base.clone();
        if self.scope == Scope::Listing {
            // Help and errors only: no subcommand is parsed, so global
            // options need not be copied into every listed command (clap
            // would clone each into thousands of them).
            base = base.mut_args(|arg| arg.global(false));
        }
        self.command = base
            .subcommands(commands)
            .subcommand(manage::command(&self.host.ns));
    }

    /// Everything besides the index that decides loader outcomes; the
    /// start-up lookup is only valid for the same identity.
    fn identity(&self, in_process: &[Candidate]) -> String {
        let sorted = |set: &HashSet<String>| {
            let mut v: Vec<&String> = set.iter().collect();
            v.sort();
            v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
        };
        let mut shorts: Vec<char> = self.reserved.shorts.iter().copied().collect();
        shorts.sort_unstable();
        let compiled_in: Vec<String> = in_process
            .iter()
            .filter_map(|c| match &c.source {
                Source::InProcess {
                    described: Ok(m), ..
                } => Some(
                    m.commands
                        .iter()
                        .flat_map(|c| std::iter::once(&c.name).chain(&c.aliases))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                _ => None,
            })
            .collect();
        format!(
            "snapin {}; ns {}; api {}; wasm {}; builtins {}; longs {}; shorts {}; names {}; compiled in {}",
            env!("CARGO_PKG_VERSION"),
            self.host.ns,
            self.host.api,
            cfg!(feature = "wasm"),
            sorted(&self.builtins),
            sorted(&self.reserved.longs),
            shorts.iter().collect::<String>(),
            sorted(&self.reserved.names),
            compiled_in.join(";")
        )
    }

    /// Runs the loader loop over the in-process plugins and `index`.
    pub(crate) fn run_loader(&self, index: Index, verify_pins: bool) -> Loaded {
        let candidates = self
            .host
            .plugins
            .iter()
            .map(|p| Candidate::in_process(Arc::clone(p)))
            .chain(index.plugins.into_iter().map(Candidate::installed))
            .collect();
        loader::load(candidates, &self.loader_settings(verify_pins))
    }

    pub(crate) fn loader_settings(&self, verify_pins: bool) -> LoaderSettings<'_> {
        LoaderSettings {
            ns: &self.host.ns,
            api: &self.host.api,
            reserved: &self.reserved,
            builtins: &self.builtins,
            verify_pins,
        }
    }
}

/// The global options snapin adds, as parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub verbosity: Verbosity,
    pub color: ColorChoice,
}

impl Options {
    fn from_matches(m: &ArgMatches) -> Options {
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

    /// No `-v`, `-q`, `--debug` or colour: for library calls made outside
    /// a command line.
    pub fn quiet() -> Options {
        Options {
            verbosity: Verbosity {
                level: 0,
                debug: false,
            },
            color: ColorChoice::Never,
        }
    }

    /// Whether to colour what goes to stderr.
    pub fn color_stderr(&self) -> bool {
        self.color_for(std::io::stderr().is_terminal())
    }

    /// Whether to colour what goes to stdout.
    pub fn color_stdout(&self) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subcommand_is_found_past_global_options_and_their_values() {
        let home = tempfile::tempdir().unwrap();
        let app = Host::builder("t")
            .home(home.path())
            .build()
            .load(Command::new("t").subcommand(Command::new("version")));
        let need = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            app.need(&args)
        };
        let only = |name: &str| Need::Command(Some(name.to_string()));
        assert_eq!(need(&["t"]), Need::Full);
        assert_eq!(need(&["t", "--help"]), Need::Full);
        assert_eq!(need(&["t", "-vh"]), Need::Full);
        assert_eq!(need(&["t", "help"]), Need::Full);
        assert_eq!(need(&["t", "help", "greet"]), only("greet"));
        assert_eq!(need(&["t", "--version"]), Need::Command(None));
        assert_eq!(need(&["t", "greet", "--help"]), only("greet"));
        assert_eq!(
            need(&["t", "--color", "never", "greet", "x"]),
            only("greet")
        );
        assert_eq!(need(&["t", "--color=never", "greet"]), only("greet"));
        assert_eq!(need(&["t", "-vq", "--debug", "greet"]), only("greet"));
        assert_eq!(need(&["t", "version"]), only("version"));
    }
}

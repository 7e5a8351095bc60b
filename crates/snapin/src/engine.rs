//! The engine: a host's settings plus what its command line decides about
//! plugins (the host's own command names, the options plugins may not use),
//! and the two things every layer above needs from them: a loader run and
//! a runtime for an installed plugin.
//!
//! The `plugins` commands, completion, start-up and the run of a plugin
//! command all take an `&Engine`; none of them sees the `App`
//! that owns it, so dependencies point down.

use std::collections::HashSet;
use std::sync::Arc;

use clap::{Arg, Command};

use crate::host::Host;
use crate::index::{DirGrant, Entry, Index, Kind};
use crate::loader::{self, Candidate, Loaded, LoaderSettings};
use crate::manifest::Reserved;
use crate::runtime::exec::ExecPlugin;
use crate::runtime::{Plugin, PluginError};

/// A host with its command line's names and reservations.
pub(crate) struct Engine {
    pub(crate) host: Host,
    /// Command names and aliases the host itself owns (its own commands,
    /// `plugins` and `help`): no plugin may take them.
    pub(crate) host_commands: HashSet<String>,
    /// Options every command inherits from the host.
    pub(crate) reserved: Reserved,
    /// The host's global arguments, which a plugin command is mounted
    /// under.
    pub(crate) globals: Vec<Arg>,
    /// The WebAssembly engine, made on first use.
    #[cfg(feature = "wasm")]
    wasm: std::sync::OnceLock<Result<crate::runtime::wasm::WasmRuntime, String>>,
}

impl Engine {
    /// The engine for `host` whose command line is `cli` (with the global
    /// options already added) and whose command group is `group`.
    pub(crate) fn new(host: Host, cli: &Command, group: &str) -> Engine {
        let mut host_commands: HashSet<String> = cli
            .get_subcommands()
            .flat_map(|c| std::iter::once(c.get_name()).chain(c.get_all_aliases()))
            .map(str::to_string)
            .collect();
        host_commands.extend([group.to_string(), "help".to_string()]);
        let globals: Vec<Arg> = cli
            .get_arguments()
            .filter(|a| a.is_global_set())
            .cloned()
            .collect();
        let mut reserved = Reserved::clap_defaults();
        for arg in &globals {
            reserved.longs.extend(arg.get_long().map(str::to_string));
            reserved.shorts.extend(arg.get_short());
            reserved.names.insert(arg.get_id().to_string());
        }
        Engine {
            host,
            host_commands,
            reserved,
            globals,
            #[cfg(feature = "wasm")]
            wasm: std::sync::OnceLock::new(),
        }
    }

    /// The host's namespace.
    pub(crate) fn ns(&self) -> &str {
        &self.host.ns
    }

    /// A candidate for each plugin compiled in, each described once.
    pub(crate) fn compiled_in(&self) -> Vec<Candidate> {
        self.host
            .plugins
            .iter()
            .map(|p| Candidate::compiled_in(Arc::clone(p)))
            .collect()
    }

    /// Runs the loader loop over the plugins compiled in and `index`.
    pub(crate) fn run_loader(&self, index: Index, verify_pins: bool) -> Loaded {
        let candidates = self
            .compiled_in()
            .into_iter()
            .chain(index.plugins.into_iter().map(Candidate::installed))
            .collect();
        loader::load(candidates, &self.loader_settings(verify_pins))
    }

    /// What the loader needs to know about this host.
    pub(crate) fn loader_settings(&self, verify_pins: bool) -> LoaderSettings<'_> {
        LoaderSettings {
            ns: &self.host.ns,
            apis: &self.host.apis,
            reserved: &self.reserved,
            host_commands: &self.host_commands,
            verify_pins,
        }
    }

    /// The host's command as a plugin command is mounted in: its name and
    /// the global options every command inherits, without its other
    /// commands.
    pub(crate) fn root_command(&self) -> Command {
        Command::new(self.host.ns.clone()).args(self.globals.iter().cloned())
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
                &self.host.apis.newest().to_string(),
                self.host.limits,
            )),
            Kind::Wasm => self.with_wasm(entry, f),
            Kind::CompiledIn => Err(PluginError::Other(
                "a compiled-in plugin cannot come from the index".to_string(),
            )),
        }
    }

    /// Why granting `grant` to plugin `plugin` would let it change the
    /// host's own files (see [`Paths::host_dir_met_by`]), if it would:
    /// write access to a directory that contains, is or lies inside one of
    /// the host's directories, or read access to one that is or lies inside
    /// one. Reading a directory above them (a home directory) changes
    /// nothing there.
    ///
    /// [`Paths::host_dir_met_by`]: crate::paths::Paths::host_dir_met_by
    pub(crate) fn host_dir_reason(&self, grant: &DirGrant, plugin: &str) -> Option<String> {
        let met = self.host.paths.host_dir_met_by(&grant.path, plugin)?;
        if met.contains && !grant.write {
            return None;
        }
        let ns = &self.host.ns;
        let (access, dir) = (
            if grant.write { "write" } else { "read" },
            grant.path.display(),
        );
        let how = if met.contains {
            format!(
                "contains {ns}'s {} directory {}",
                met.which,
                met.dir.display()
            )
        } else if met.dir == grant.path {
            format!("is {ns}'s {} directory", met.which)
        } else {
            format!(
                "lies inside {ns}'s {} directory {}",
                met.which,
                met.dir.display()
            )
        };
        let holds = match met.which {
            "data" => "the plugin index",
            "config" => "the configuration and every plugin's limits",
            _ => "the compiled code of components",
        };
        let could = if grant.write {
            format!("change what {ns} runs")
        } else {
            format!("read {ns}'s own files")
        };
        Some(format!(
            "a grant of {access} access to {dir} would let plugin '{plugin}' {could}: {dir} {how} ({holds})"
        ))
    }

    /// For a component: compiles it into the cache and returns the digest
    /// of its machine code, for its index entry (see
    /// `Entry::compiled_sha256`). Nothing for an executable.
    pub(crate) fn compile_for_index(&self, entry: &Entry) -> Result<Option<String>, PluginError> {
        match entry.kind {
            #[cfg(feature = "wasm")]
            Kind::Wasm => self
                .wasm_runtime()?
                .compile_for_index(&entry.path, &entry.sha256),
            _ => Ok(None),
        }
    }

    /// The WebAssembly runtime, made on first use.
    #[cfg(feature = "wasm")]
    fn wasm_runtime(&self) -> Result<&crate::runtime::wasm::WasmRuntime, PluginError> {
        use crate::runtime::wasm::WasmRuntime;
        self.wasm
            .get_or_init(|| {
                WasmRuntime::new(self.host.paths.compiled_cache()).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| PluginError::Other(e.clone()))
    }

    /// Runs `f` with the sandbox for `entry`, limited by the host's
    /// defaults and the user's configuration file.
    #[cfg(feature = "wasm")]
    fn with_wasm<T>(
        &self,
        entry: &Entry,
        f: impl FnOnce(&dyn Plugin) -> Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        use crate::config::HostConfig;
        use crate::runtime::wasm::WasmPluginSpec;

        for grant in &entry.grants.dirs {
            if let Some(reason) = self.host_dir_reason(grant, &entry.name) {
                return Err(PluginError::Unusable {
                    reason,
                    fix: revoke_fix(&self.host.ns, &entry.name, grant),
                });
            }
        }
        let runtime = self.wasm_runtime()?;
        let config = HostConfig::load(&self.host.paths.config_file())
            .map_err(|e| PluginError::Unusable {
                reason: e.to_string(),
                fix: e.fix(),
            })?
            .plugin(&entry.name);
        f(&runtime.plugin(WasmPluginSpec {
            name: entry.name.clone(),
            path: entry.path.clone(),
            sha256: entry.sha256.clone(),
            compiled: entry.compiled_sha256.clone(),
            host: self.host.ns.clone(),
            grants: entry.grants.clone(),
            limits: wasm_limits(self.host.wasm_limits, &config),
            describe: self.host.limits,
            config: config.config,
            api: self.host.apis.newest().to_string(),
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
}

/// The fix for a plugin holding `grant`, which it must not have.
pub(crate) fn revoke_fix(ns: &str, plugin: &str, grant: &DirGrant) -> String {
    let access = if grant.write { "write" } else { "read" };
    format!(
        "take the grant back: `{ns} plugins revoke {plugin} {access}={}`",
        grant.path.display()
    )
}

/// The limits of one sandboxed run: the host's, with what the user's
/// configuration sets for the plugin in their place (a time that is not a
/// positive number is ignored).
#[cfg(feature = "wasm")]
fn wasm_limits(
    host: crate::runtime::wasm::WasmLimits,
    config: &crate::config::PluginConfig,
) -> crate::runtime::wasm::WasmLimits {
    let mut limits = host;
    if let Some(mib) = config.memory_mib {
        limits.memory = usize::try_from(mib.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
    }
    if let Some(seconds) = config.cpu_seconds.filter(|s| s.is_finite() && *s > 0.0) {
        limits.time = std::time::Duration::from_secs_f64(seconds);
    }
    limits
}

#[cfg(all(test, feature = "wasm"))]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::PluginConfig;

    /// The defaults a host gets without asking, and that a plugin runs
    /// under when the user's configuration sets nothing for it: 256 MiB
    /// and 30 s. The end-to-end tests exercise the memory default; waiting
    /// out 30 s in a test would cost more than it shows.
    #[test]
    fn a_plugin_with_nothing_configured_runs_under_the_host_defaults() {
        let host = Host::builder("t").build();
        let limits = wasm_limits(host.wasm_limits, &PluginConfig::default());
        assert_eq!(limits.memory, 256 * 1024 * 1024);
        assert_eq!(limits.time, Duration::from_secs(30));
    }

    #[test]
    fn the_configuration_overrides_each_limit_and_ignores_a_time_that_is_not_positive() {
        let host = Host::builder("t").build();
        let config = PluginConfig {
            memory_mib: Some(64),
            cpu_seconds: Some(1.5),
            ..PluginConfig::default()
        };
        let limits = wasm_limits(host.wasm_limits, &config);
        assert_eq!(limits.memory, 64 * 1024 * 1024);
        assert_eq!(limits.time, Duration::from_millis(1500));
        for seconds in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let config = PluginConfig {
                cpu_seconds: Some(seconds),
                ..PluginConfig::default()
            };
            let limits = wasm_limits(host.wasm_limits, &config);
            assert_eq!(limits.time, Duration::from_secs(30), "{seconds}");
        }
    }
}

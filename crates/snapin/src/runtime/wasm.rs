//! WebAssembly component plugins, run by wasmtime in a sandbox inside the
//! host process.
//!
//! A component gets WASI 0.2 stdio, clocks and random, plus exactly what the
//! user granted at install (directories, named environment variables): no
//! other files, no network, no subprocesses. Memory is capped by a
//! [`ResourceLimiter`] and running time by epoch interruption. Components are
//! compiled once, at install, into a cache keyed by the component's sha256
//! and the engine's configuration; the index records the sha256 of that
//! machine code, and a run loads a cache entry only when it has that digest
//! (a plugin granted the cache directory could write it, but not the
//! index).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use snapin_protocol::Manifest;
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use wasmtime_wasi::p2::pipe::{ClosedInputStream, MemoryOutputPipe};

use super::exec::DescribeLimits;
use super::{Exit, FileKind, Invocation, Plugin, PluginError};
use crate::index::Grants;

mod bindings {
    wasmtime::component::bindgen!({
        world: "plugin",
        path: "wit",
    });
}

use bindings::snapin::plugin::host::{Host as HostImports, Level};

/// The WIT package version this host implements.
pub const WIT_VERSION: &str = "1.0.0";

/// The majors of the WIT package this host links, newest first: a
/// component runs if it exports `guest` at a version of one of them. When
/// the package gets a new major, the old one stays linked for the
/// transition docs/protocol.md ("Versions of the contract") promises.
const WIT_MAJORS: &[u64] = &[
    #[cfg(test)]
    next_major::MAJOR,
    1,
];

/// The export every snapin component provides, without its version.
const GUEST_EXPORT: &str = "snapin:plugin/guest";

/// How often the deadline clock ticks.
const TICK: Duration = Duration::from_millis(10);

/// Memory and time a sandboxed plugin may use in one call: start from
/// `WasmLimits::default()` and change the fields you need.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct WasmLimits {
    /// Bytes of linear memory, all memories together.
    pub memory: usize,
    /// Wall-clock time the call may run.
    pub time: Duration,
}

impl Default for WasmLimits {
    fn default() -> Self {
        WasmLimits {
            memory: 256 * 1024 * 1024,
            time: Duration::from_secs(30),
        }
    }
}

/// The wasmtime engine, linker and compiled-component cache of one host
/// process. Made once, only when a sandboxed plugin is installed or run.
pub struct WasmRuntime {
    engine: Engine,
    linker: Linker<State>,
    cache_dir: PathBuf,
    engine_key: String,
}

impl WasmRuntime {
    /// Sets up the engine with epoch interruption and the component model,
    /// caching compiled components in `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> Result<WasmRuntime, PluginError> {
        let setup = |e: wasmtime::Error| {
            PluginError::Other(format!("cannot set up the WebAssembly runtime: {e}"))
        };
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(setup)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(setup)?;
        bindings::Plugin::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(setup)?;
        #[cfg(test)]
        next_major::add_to_linker(&mut linker).map_err(setup)?;
        // Compiled code is only valid for an engine configured the same way
        // (and the same wasmtime), so that goes into the cache key.
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let engine_key = format!("{:016x}", hasher.finish());
        Ok(WasmRuntime {
            engine,
            linker,
            cache_dir,
            engine_key,
        })
    }

    /// Where the compiled form of the component with this sha256 lives.
    pub fn artifact_path(&self, sha256: &str) -> PathBuf {
        self.cache_dir
            .join(format!("{sha256}-{}.cwasm", self.engine_key))
    }

    /// Compiles the component at `path` (which must match its pin
    /// `sha256`), stores the machine code in the cache, and returns the
    /// sha256 of that machine code, for the index to record: a run loads
    /// the cache entry only when it still has this digest. `None` when the
    /// component compiles but cannot be serialized (every run then compiles
    /// it again).
    pub fn compile_for_index(
        &self,
        path: &Path,
        sha256: &str,
    ) -> Result<Option<String>, PluginError> {
        let (_, compiled) = self.compile(path, sha256)?;
        Ok(compiled.map(|compiled| {
            self.store(sha256, &compiled);
            crate::pin::sha256_bytes(&compiled)
        }))
    }

    /// The compiled component of `spec`: the cache entry when its sha256 is
    /// the one the index recorded at install (`spec.compiled`), else
    /// compiled again from the component file, which must still match its
    /// pin. A cache entry is never trusted on its own: any program that can
    /// write the cache directory could have put machine code there.
    fn load(&self, spec: &WasmPluginSpec) -> Result<Component, PluginError> {
        let artifact = self.artifact_path(&spec.sha256);
        let cached = match &spec.compiled {
            Some(recorded) => self.load_cached(&artifact, recorded),
            None => Cached::Missing,
        };
        let changed = match cached {
            Cached::Loaded(component) => return Ok(component),
            Cached::Missing => false,
            Cached::Changed => true,
        };
        let (component, compiled) = self.compile(&spec.path, &spec.sha256)?;
        let digest = compiled.as_deref().map(crate::pin::sha256_bytes);
        match (&spec.compiled, compiled) {
            (Some(recorded), Some(compiled)) if digest.as_ref() == Some(recorded) => {
                // The genuine machine code, compiled again: put it back.
                self.store(&spec.sha256, &compiled);
                if changed {
                    tracing::warn!(
                        "plugin '{}': its machine code in the cache ({}) is not what was compiled at install, so it was compiled again from the pinned component and the cache entry replaced",
                        spec.name,
                        artifact.display()
                    );
                }
            }
            _ => tracing::warn!(
                "plugin '{}': the index records no machine code that this {} compiles from it (it was installed by another version), so it is compiled on every run; fix: `{} plugins upgrade {}`",
                spec.name,
                spec.host,
                spec.host,
                spec.name
            ),
        }
        Ok(component)
    }

    /// The cache entry at `artifact`, loaded only when its sha256 is
    /// `recorded`.
    fn load_cached(&self, artifact: &Path, recorded: &str) -> Cached {
        let Ok(bytes) = std::fs::read(artifact) else {
            return Cached::Missing;
        };
        if crate::pin::sha256_bytes(&bytes) != recorded {
            return Cached::Changed;
        }
        // SAFETY: `deserialize` trusts its input to be machine code that this
        // engine produced. These bytes have the digest the index recorded
        // when this engine configuration (the key names it) compiled the
        // pinned component at install; the cache directory is not trusted,
        // the index is. wasmtime also checks the engine compatibility header
        // itself.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(&self.engine, &bytes) };
        match component {
            Ok(component) => Cached::Loaded(component),
            Err(e) => {
                tracing::debug!(
                    "compiled cache entry {} is unusable ({e}); compiling again",
                    artifact.display()
                );
                Cached::Changed
            }
        }
    }

    /// Compiles the component at `path` (which must match `sha256`): the
    /// component and its machine code serialized (`None` when that fails).
    fn compile(
        &self,
        path: &Path,
        sha256: &str,
    ) -> Result<(Component, Option<Vec<u8>>), PluginError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => PluginError::Missing {
                path: path.to_path_buf(),
            },
            _ => PluginError::Other(format!("cannot read {}: {e}", path.display())),
        })?;
        if crate::pin::sha256_bytes(&bytes) != sha256 {
            return Err(PluginError::Other(format!(
                "{} changed since it was pinned",
                path.display()
            )));
        }
        check_component_header(&bytes)?;
        let component = Component::new(&self.engine, &bytes).map_err(|e| {
            PluginError::Other(format!("it is not a valid WebAssembly component: {e}"))
        })?;
        check_world(&self.engine, &component)?;
        let compiled = component
            .serialize()
            .map_err(|e| tracing::warn!("cannot serialize the compiled component: {e}"))
            .ok();
        Ok((component, compiled))
    }

    /// Writes `compiled` as the cache entry of the component pinned as
    /// `sha256`, whole or not at all. A cache that cannot be written costs
    /// speed, not safety.
    fn store(&self, sha256: &str, compiled: &[u8]) {
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.cache_dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(&self.cache_dir)?;
            tmp.write_all(compiled)?;
            tmp.as_file().sync_all()?;
            tmp.persist(self.artifact_path(sha256))
                .map_err(|e| e.error)?;
            Ok(())
        };
        if let Err(e) = write() {
            tracing::warn!(
                "cannot cache the compiled component in {}: {e}",
                self.cache_dir.display()
            );
        }
    }

    /// A plugin backed by the component at `path`.
    pub fn plugin<'a>(&'a self, spec: WasmPluginSpec) -> WasmPlugin<'a> {
        WasmPlugin {
            runtime: self,
            spec,
        }
    }
}

/// Refuses core modules and other WebAssembly binaries with the fix, and
/// anything that is not WebAssembly.
fn check_component_header(bytes: &[u8]) -> Result<(), PluginError> {
    let kind = FileKind::of(bytes.get(..8).unwrap_or(bytes));
    match kind.unusable() {
        Some((reason, fix)) => Err(PluginError::Unusable {
            reason: reason.to_string(),
            fix: fix.to_string(),
        }),
        None if kind == FileKind::NotWasm => Err(PluginError::Other(
            "it is not a WebAssembly file".to_string(),
        )),
        None => Ok(()),
    }
}

/// Checks that the component exports `snapin:plugin/guest` at a version
/// this host runs, and returns that version's major.
fn check_world(engine: &Engine, component: &Component) -> Result<u64, PluginError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_string())
        .collect();
    let guest = exports
        .iter()
        .find_map(|name| name.strip_prefix(GUEST_EXPORT)?.strip_prefix('@'));
    let Some(version) = guest else {
        return Err(PluginError::Unusable {
            reason: format!(
                "it is not a snapin plugin: the component does not export {GUEST_EXPORT} (it exports: {})",
                if exports.is_empty() {
                    "nothing".to_string()
                } else {
                    exports.join(", ")
                }
            ),
            fix: format!(
                "build it with snapin-guest, or against the world `plugin` of snapin:plugin@{WIT_VERSION} (snapin-guest's wit/snapin-plugin.wit)"
            ),
        });
    };
    let major = semver::Version::parse(version)
        .ok()
        .filter(|v| v.major > 0 && WIT_MAJORS.contains(&v.major))
        .map(|v| v.major);
    if let Some(major) = major {
        Ok(major)
    } else {
        Err(PluginError::Unusable {
            reason: format!(
                "it is built for snapin:plugin@{version}, but this host runs snapin:plugin@{WIT_VERSION} components"
            ),
            fix: "install a release of the plugin built for snapin:plugin@1.x".to_string(),
        })
    }
}

/// What the cache holds for a component.
enum Cached {
    /// Machine code with the recorded digest.
    Loaded(Component),
    /// Nothing (or nothing recorded to check it against).
    Missing,
    /// Something else than what was recorded.
    Changed,
}

/// Everything needed to run one sandboxed plugin.
#[derive(Debug, Clone)]
pub struct WasmPluginSpec {
    /// Plugin name (for logs and the context).
    pub name: String,
    /// The component file.
    pub path: PathBuf,
    /// Its pinned sha256.
    pub sha256: String,
    /// The sha256 of its machine code, as the index recorded it when it
    /// was compiled at install or upgrade.
    pub compiled: Option<String>,
    /// The host's namespace, for the commands messages suggest.
    pub host: String,
    /// What the user granted.
    pub grants: Grants,
    /// Memory and time limits.
    pub limits: WasmLimits,
    /// Bounds on what describe may write (the executables' bounds).
    pub describe: DescribeLimits,
    /// Values for the `config` host function.
    pub config: BTreeMap<String, String>,
    /// The newest plugin API version the host provides: what the plugin
    /// is told while it describes itself (a run tells it the version it
    /// runs under, from the context).
    pub api: String,
}

/// One instance's exports, for whichever major of the WIT package the
/// component was built.
enum Guest {
    /// `snapin:plugin@1.x`.
    V1(bindings::Plugin),
    /// The hypothetical next major the tests link beside 1.x.
    #[cfg(test)]
    Next(next_major::bindings::Plugin),
}

impl Guest {
    /// Instantiates `component`, built for WIT major `major`.
    fn instantiate(
        major: u64,
        store: &mut Store<State>,
        component: &Component,
        linker: &Linker<State>,
    ) -> wasmtime::Result<Guest> {
        #[cfg(test)]
        if major == next_major::MAJOR {
            return next_major::bindings::Plugin::instantiate(store, component, linker)
                .map(Guest::Next);
        }
        debug_assert_eq!(major, 1, "check_world lets only linked majors through");
        bindings::Plugin::instantiate(store, component, linker).map(Guest::V1)
    }

    fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<String> {
        match self {
            Guest::V1(b) => b.snapin_plugin_guest().call_describe(store),
            #[cfg(test)]
            Guest::Next(b) => b.snapin_plugin_guest().call_describe(store),
        }
    }

    fn run(
        &self,
        store: &mut Store<State>,
        argv: &[String],
        context: &str,
    ) -> wasmtime::Result<u8> {
        match self {
            Guest::V1(b) => b.snapin_plugin_guest().call_run(store, argv, context),
            #[cfg(test)]
            Guest::Next(b) => b.snapin_plugin_guest().call_run(store, argv, context),
        }
    }
}

/// A sandboxed plugin, ready to describe itself or run.
pub struct WasmPlugin<'a> {
    runtime: &'a WasmRuntime,
    spec: WasmPluginSpec,
}

/// Where a call's standard streams go.
enum Stdio {
    /// The user's terminal: a run, which the user asked for.
    Terminal,
    /// Nothing to read, and what it writes kept in memory up to each
    /// pipe's capacity: a describe, which runs before the user has agreed
    /// to anything and must not read what they type or flood the host.
    Captured {
        stdout: MemoryOutputPipe,
        stderr: MemoryOutputPipe,
    },
}

impl WasmPlugin<'_> {
    /// Instantiates the component in a fresh store with `grants` and calls
    /// `f` on it, mapping traps, limits and `exit` to [`Exit`] or errors.
    fn call<T>(
        &self,
        grants: &Grants,
        args: &[String],
        stdio: &Stdio,
        api: &str,
        f: impl FnOnce(&Guest, &mut Store<State>) -> wasmtime::Result<T>,
    ) -> Result<Result<T, Exit>, PluginError> {
        let rt = self.runtime;
        let spec = &self.spec;
        let component = rt.load(spec)?;
        let major = check_world(&rt.engine, &component)?;

        let mut wasi = WasiCtxBuilder::new();
        match stdio {
            Stdio::Terminal => {
                wasi.inherit_stdin().inherit_stdout().inherit_stderr();
            }
            Stdio::Captured { stdout, stderr } => {
                wasi.stdin(ClosedInputStream)
                    .stdout(stdout.clone())
                    .stderr(stderr.clone());
            }
        }
        wasi.args(args);
        for name in &grants.env {
            if let Ok(value) = std::env::var(name) {
                wasi.env(name, value);
            }
        }
        for dir in &grants.dirs {
            let perms = if dir.write {
                FsPerms::ReadWrite
            } else {
                FsPerms::ReadOnly
            };
            let guest = dir.path.to_string_lossy();
            wasi.preopened_dir(&dir.path, &guest, perms).map_err(|e| {
                PluginError::Other(format!(
                    "cannot open the granted directory {}: {e}",
                    dir.path.display()
                ))
            })?;
        }
        let state = State {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            budget: Budget {
                memory: spec.limits.memory,
                exceeded: false,
            },
            plugin: spec.name.clone(),
            config: spec.config.clone(),
            api: api.to_string(),
        };
        let mut store = Store::new(&rt.engine, state);
        store.limiter(|state| &mut state.budget);
        let ticks = (spec.limits.time.as_millis() / TICK.as_millis()).max(1);
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX));
        store.epoch_deadline_trap();
        let _ticker = Ticker::start(&rt.engine);

        let result = Guest::instantiate(major, &mut store, &component, &rt.linker)
            .map_err(|e| (e, true))
            .and_then(|bindings| f(&bindings, &mut store).map_err(|e| (e, false)));
        match result {
            Ok(value) => Ok(Ok(value)),
            Err((e, instantiating)) => self.classify(e, &store, instantiating).map(Err),
        }
    }

    fn classify(
        &self,
        e: wasmtime::Error,
        store: &Store<State>,
        instantiating: bool,
    ) -> Result<Exit, PluginError> {
        if let Some(exit) = e.downcast_ref::<I32Exit>() {
            return Ok(Exit::Code(exit.0));
        }
        tracing::debug!("plugin '{}' stopped: {e:?}", self.spec.name);
        if store.data().budget.exceeded {
            return Err(PluginError::MemoryLimit {
                mib: self.spec.limits.memory / (1024 * 1024),
            });
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => Err(PluginError::TimeLimit {
                seconds: self.spec.limits.time.as_secs_f64(),
            }),
            Some(trap) => Err(PluginError::Trap {
                message: trap.to_string(),
            }),
            None if instantiating => Err(PluginError::Other(format!(
                "the component cannot be set up: {}",
                e.root_cause()
            ))),
            None => Err(PluginError::Trap {
                message: e.root_cause().to_string(),
            }),
        }
    }
}

impl Plugin for WasmPlugin<'_> {
    fn describe(&self) -> Result<Manifest, PluginError> {
        super::decode_manifest(&self.describe_json()?)
            .map(|d| d.manifest)
            .map_err(|reason| PluginError::BadManifest { reason })
    }

    /// What the component's `describe` returned.
    fn describe_json(&self) -> Result<Vec<u8>, PluginError> {
        // Describing runs with nothing granted, whatever the user granted,
        // and with stdin closed and its output bounded, like an
        // executable's.
        let limits = &self.spec.describe;
        // One byte more than allowed tells "too much" from "just enough".
        let stdout = MemoryOutputPipe::new(limits.max_output.saturating_add(1));
        let stderr = MemoryOutputPipe::new(limits.max_stderr);
        let stdio = Stdio::Captured {
            stdout: stdout.clone(),
            stderr: stderr.clone(),
        };
        let outcome = self.call(
            &Grants::default(),
            std::slice::from_ref(&self.spec.name),
            &stdio,
            &self.spec.api,
            |guest, store| guest.describe(store),
        );
        let stderr = String::from_utf8_lossy(&stderr.contents()).into_owned();
        if stdout.contents().len() > limits.max_output {
            return Err(PluginError::Other(format!(
                "its describe wrote more than the {} byte limit on stdout (the manifest is describe's return value; nothing is expected on stdout)",
                limits.max_output
            )));
        }
        let json = match outcome {
            Ok(Ok(json)) => json,
            Ok(Err(exit)) => {
                return Err(PluginError::DescribeFailed {
                    status: exit.to_string(),
                    stderr,
                });
            }
            // A crash shows the last line it wrote, as a panic's message.
            Err(e @ PluginError::Trap { .. }) => {
                return Err(PluginError::DescribeFailed {
                    status: e.to_string(),
                    stderr,
                });
            }
            Err(e) => return Err(e),
        };
        Ok(json.into_bytes())
    }

    fn run(&self, invocation: &Invocation<'_>) -> Result<Exit, PluginError> {
        let argv: Vec<String> = invocation
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let context = serde_json::to_string(invocation.context)
            .map_err(|e| PluginError::Other(format!("cannot encode the context: {e}")))?;
        let mut args = vec![self.spec.name.clone()];
        args.extend(argv.iter().cloned());
        let api = &invocation.context.host.api;
        let outcome = self.call(
            &self.spec.grants,
            &args,
            &Stdio::Terminal,
            api,
            |guest, store| guest.run(store, &argv, &context),
        )?;
        Ok(match outcome {
            Ok(code) => Exit::Code(i32::from(code)),
            Err(exit) => exit,
        })
    }
}

/// Per-store state: WASI, the memory budget, and what the host imports
/// need.
struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    budget: Budget,
    plugin: String,
    config: BTreeMap<String, String>,
    /// The plugin API version this call runs under. WIT 1.x has no import
    /// that reads it; the next major linked by the tests does.
    #[cfg_attr(not(test), allow(dead_code))]
    api: String,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostImports for State {
    fn log(&mut self, level: Level, message: String) {
        let plugin = &self.plugin;
        // Its words, not the host's: one line that cannot drive the
        // terminal (the logger makes every line safe too).
        let message = crate::text::one_line(&message);
        match level {
            Level::Error => tracing::error!("plugin '{plugin}': {message}"),
            Level::Warn => tracing::warn!("plugin '{plugin}': {message}"),
            Level::Info => tracing::info!("plugin '{plugin}': {message}"),
            Level::Debug => tracing::debug!("plugin '{plugin}': {message}"),
            Level::Trace => tracing::trace!("plugin '{plugin}': {message}"),
        }
    }

    fn config(&mut self, key: String) -> Option<String> {
        self.config.get(&key).cloned()
    }
}

/// The memory cap: growth past it fails and traps at once, and is
/// remembered so the error can say why.
struct Budget {
    memory: usize,
    exceeded: bool,
}

impl ResourceLimiter for Budget {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory {
            self.exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // Trap rather than let the guest carry on with a failed allocation.
        Err(error.context("the plugin's memory limit was reached"))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Advances the engine's epoch while a call runs, so deadlines fire.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: &Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let flag = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(TICK);
                engine.increment_epoch();
            }
        });
        Ticker { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_told_apart() {
        assert!(
            check_component_header(b"\0asm\x01\0\0\0")
                .unwrap_err()
                .to_string()
                .contains("core WebAssembly module")
        );
        assert!(check_component_header(b"\0asm\x0d\0\x01\0").is_ok());
        assert!(check_component_header(b"#!/bin/sh").is_err());
    }
}

/// A hypothetical next major of the WIT package, linked beside 1.x by the
/// tests only: `snapin:plugin@2.0.0` of examples/plugins/wfuture/wit, whose
/// one difference is a new import, `host.api`. It shows what a host in
/// transition does, with a real component built for it.
#[cfg(test)]
mod next_major {
    use wasmtime::component::{HasSelf, Linker};

    use super::State;

    /// Its major.
    pub(super) const MAJOR: u64 = 2;

    pub(super) mod bindings {
        wasmtime::component::bindgen!({
            world: "plugin",
            path: "../../examples/plugins/wfuture/wit",
        });
    }

    use bindings::snapin::plugin::host::{Host, Level};

    pub(super) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
        bindings::Plugin::add_to_linker::<_, HasSelf<_>>(linker, |state| state)
    }

    /// The 1.x imports, unchanged, plus `api`.
    impl Host for State {
        fn log(&mut self, level: Level, message: String) {
            use super::bindings::snapin::plugin::host::Host as V1;
            let level = match level {
                Level::Error => super::Level::Error,
                Level::Warn => super::Level::Warn,
                Level::Info => super::Level::Info,
                Level::Debug => super::Level::Debug,
                Level::Trace => super::Level::Trace,
            };
            V1::log(self, level, message);
        }

        fn config(&mut self, key: String) -> Option<String> {
            use super::bindings::snapin::plugin::host::Host as V1;
            V1::config(self, key)
        }

        fn api(&mut self) -> String {
            self.api.clone()
        }
    }
}

//! The host author's configuration: namespace, versions, plugins compiled
//! in, limits and where plugins are kept. [`Host::load`] (in
//! `app.rs`) turns it into an `App`.

use std::path::PathBuf;
use std::sync::Arc;

use semver::Version;

use crate::gate::Apis;
use crate::paths::Paths;
use crate::runtime::Plugin;
use crate::runtime::exec::DescribeLimits;

/// Configures a [`Host`]: namespace, versions, plugins compiled in.
pub struct HostBuilder {
    ns: String,
    version: String,
    api: Version,
    older_apis: Vec<Version>,
    plugins: Vec<Arc<dyn Plugin>>,
    limits: DescribeLimits,
    #[cfg(feature = "wasm")]
    wasm_limits: crate::runtime::wasm::WasmLimits,
    home: Option<PathBuf>,
    registry_helper: Option<String>,
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

    /// Also serves plugins written for an older major of the plugin API,
    /// during a transition: with `.api(2.0.0).older_api(1.3.0)` a plugin
    /// that accepts `^1.0` still loads, and each plugin runs under the
    /// newest version its requirement accepts (docs/protocol.md, "Versions
    /// of the contract"). Another version of a major already served
    /// replaces it only if newer.
    pub fn older_api(mut self, api: Version) -> Self {
        self.older_apis.push(api);
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
    pub fn wasm_limits(mut self, limits: crate::runtime::wasm::WasmLimits) -> Self {
        self.wasm_limits = limits;
        self
    }

    /// Keeps the index and plugin directories under `root` instead of the
    /// platform directories or `$<NS>_HOME`.
    pub fn home(mut self, root: impl Into<PathBuf>) -> Self {
        self.home = Some(root.into());
        self
    }

    /// In a build without the `registry` feature: the executable, in the
    /// same directory as this one, that runs the registry commands
    /// (`publish`, `install oci://...`, `outdated`, `lock`, `sync`,
    /// `export`, and `upgrade` of a registry plugin): the same host built
    /// with the feature. This build lists those commands and hands them
    /// over, so that the commands that never reach a registry do not carry
    /// its client. A build with the feature runs them itself.
    pub fn registry_helper(mut self, executable: impl Into<String>) -> Self {
        self.registry_helper = Some(executable.into());
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
        let mut apis = Apis::new(self.api);
        for older in self.older_apis {
            apis.add(older);
        }
        Host {
            ns: self.ns,
            version: self.version,
            apis,
            plugins: self.plugins,
            limits: self.limits,
            #[cfg(feature = "wasm")]
            wasm_limits: self.wasm_limits,
            paths,
            registry_helper: self.registry_helper,
        }
    }
}

/// A host program's plugin settings.
pub struct Host {
    pub(crate) ns: String,
    pub(crate) version: String,
    /// The plugin API versions served, newest first.
    pub(crate) apis: Apis,
    pub(crate) plugins: Vec<Arc<dyn Plugin>>,
    pub(crate) limits: DescribeLimits,
    #[cfg(feature = "wasm")]
    pub(crate) wasm_limits: crate::runtime::wasm::WasmLimits,
    pub(crate) paths: Paths,
    /// See [`HostBuilder::registry_helper`].
    #[cfg_attr(feature = "registry", allow(dead_code))]
    pub(crate) registry_helper: Option<String>,
}

impl Host {
    /// Starts configuring the host with namespace `ns` (e.g. `mycli`).
    pub fn builder(ns: impl Into<String>) -> HostBuilder {
        HostBuilder {
            ns: ns.into(),
            version: "0.0.0".to_string(),
            api: Version::new(1, 0, 0),
            older_apis: Vec::new(),
            plugins: Vec::new(),
            limits: DescribeLimits::default(),
            #[cfg(feature = "wasm")]
            wasm_limits: crate::runtime::wasm::WasmLimits::default(),
            home: None,
            registry_helper: None,
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
}

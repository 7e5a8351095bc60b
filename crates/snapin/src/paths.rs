//! Where a host keeps its installed-plugins index and each plugin's own
//! directories.
//!
//! Everything lives under one directory so that `<NS>_HOME` (e.g.
//! `MYCLI_HOME`) can move all of it at once: tests, demos and users with
//! several setups point it at a throw-away directory.

use std::path::{Path, PathBuf};

use snapin_protocol::PluginDirs;

/// The file names in the data directory, beside the index. Only this file
/// names them, so the index and the start-up lookup need not know of each
/// other.
pub(crate) const INDEX_FILE: &str = "plugins.json";
/// The start-up lookup (see `lookup.rs`), derived from the index.
pub(crate) const LOOKUP_FILE: &str = ".plugins.lookup";
/// The lock index writers hold.
pub(crate) const INDEX_LOCK_FILE: &str = ".plugins.lock";
/// The list of catalogs added, in the catalogs directory.
pub(crate) const CATALOG_LIST_FILE: &str = "catalogs.toml";
/// The prefix of the temporary files an index is written through.
pub(crate) const INDEX_TEMPORARY_PREFIX: &str = ".plugins.json.";
/// The prefix of the temporary files a lookup is written through (swept by
/// the next index write when a writer was killed).
pub(crate) const LOOKUP_TEMPORARY_PREFIX: &str = ".plugins.lookup.";

/// The directories a host uses, resolved once at start-up.
#[derive(Debug, Clone)]
pub struct Paths {
    data: PathBuf,
    config: PathBuf,
    cache: PathBuf,
}

impl Paths {
    /// Resolves the directories for namespace `ns`: `$<NS>_HOME` when set,
    /// otherwise the platform's data, config and cache directories.
    pub fn for_namespace(ns: &str) -> Paths {
        if let Some(home) = std::env::var_os(home_var(ns)).filter(|h| !h.is_empty()) {
            return Paths::under(PathBuf::from(home));
        }
        match directories::ProjectDirs::from("", "", ns) {
            Some(dirs) => Paths {
                data: dirs.data_dir().to_path_buf(),
                config: dirs.config_dir().to_path_buf(),
                cache: dirs.cache_dir().to_path_buf(),
            },
            // No home directory at all (rare: some service accounts): use the
            // working directory rather than failing every command.
            None => Paths::under(PathBuf::from(format!(".{ns}"))),
        }
    }

    /// All directories under one root, as with `$<NS>_HOME`.
    pub fn under(root: PathBuf) -> Paths {
        Paths {
            config: root.join("config"),
            cache: root.join("cache"),
            data: root,
        }
    }

    /// The installed-plugins index file.
    pub fn index_file(&self) -> PathBuf {
        self.data.join(INDEX_FILE)
    }

    /// The start-up lookup, rebuilt from the index when it is stale.
    pub fn lookup_file(&self) -> PathBuf {
        self.data.join(LOOKUP_FILE)
    }

    /// The host's configuration file: per-plugin sandbox limits and values.
    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }

    /// Where compiled WebAssembly components are cached.
    pub fn compiled_cache(&self) -> PathBuf {
        self.cache.join("compiled")
    }

    /// The download cache of registry artifacts, an OCI image layout.
    pub fn download_cache(&self) -> PathBuf {
        self.cache.join("oci")
    }

    /// The publishers' keys the user trusts (`plugins trust`).
    pub fn trusted_keys_file(&self) -> PathBuf {
        self.config.join("trusted-keys.toml")
    }

    /// The catalogs the user added, and the copy of each last fetched.
    pub fn catalogs_dir(&self) -> PathBuf {
        self.data.join("catalogs")
    }

    /// Where the files of plugins installed from OCI artifacts live, one
    /// directory per plugin, owned by the host (no plugin is granted it).
    pub fn installed_files(&self) -> PathBuf {
        self.data.join("installed")
    }

    /// The directories reserved for plugin `name`.
    pub fn plugin_dirs(&self, name: &str) -> PluginDirs {
        PluginDirs::new(
            self.config.join("plugins").join(name),
            self.data.join("plugins").join(name),
            self.cache.join("plugins").join(name),
        )
    }
}

/// How a directory meets one of the host's own directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostDirMet {
    /// Which one: "data", "config" or "cache".
    pub(crate) which: &'static str,
    /// The host's directory, resolved through symbolic links.
    pub(crate) dir: PathBuf,
    /// Whether the directory met contains it (is above it) rather than being
    /// it or lying inside it.
    pub(crate) contains: bool,
}

impl Paths {
    /// The first of the host's own directories (data, config, cache, each
    /// resolved through symbolic links) that `dir` (an absolute path,
    /// already resolved) contains, is, or lies inside, unless `dir` lies
    /// inside one of plugin `plugin`'s own directories, which hold none of
    /// the host's files. Those directories are where the index, the
    /// configuration and the compiled-code cache live: a plugin that could
    /// change them could change what the host runs.
    pub(crate) fn host_dir_met_by(&self, dir: &Path, plugin: &str) -> Option<HostDirMet> {
        let own = self.plugin_dirs(plugin);
        if [&own.data, &own.config, &own.cache]
            .iter()
            .any(|d| dir.starts_with(resolved(d)))
        {
            return None;
        }
        let host = [
            ("data", &self.data),
            ("config", &self.config),
            ("cache", &self.cache),
        ]
        .map(|(which, host)| (which, resolved(host)));
        // The deepest one `dir` is or lies inside, else the first it
        // contains.
        let inside = host
            .iter()
            .filter(|(_, host)| dir.starts_with(host))
            .max_by_key(|(_, host)| host.components().count());
        let contains = || host.iter().find(|(_, host)| host.starts_with(dir));
        inside
            .map(|found| (found, false))
            .or_else(|| contains().map(|found| (found, true)))
            .map(|((which, host), contains)| HostDirMet {
                which,
                dir: host.clone(),
                contains,
            })
    }
}

/// `path` resolved through symbolic links as far as it exists, the rest
/// appended: where it is, or would be once created.
fn resolved(path: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut at = path;
    loop {
        if let Ok(real) = dunce::canonicalize(at) {
            return rest.iter().rev().fold(real, |p, c| p.join(c));
        }
        match (at.parent(), at.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                at = parent;
            }
            _ => return path.to_path_buf(),
        }
    }
}

/// The environment variable that overrides the home of namespace `ns`:
/// `mycli` → `MYCLI_HOME`.
pub fn home_var(ns: &str) -> String {
    env_var(ns, "HOME")
}

/// The environment variable `<NS>_<NAME>` of namespace `ns`: (`my-cli`,
/// `HOME`) → `MY_CLI_HOME`. Prefixed so that hosts, and the programs they
/// run, do not read each other's settings.
pub fn env_var(ns: &str, name: &str) -> String {
    format!("{}_{name}", ns.to_ascii_uppercase().replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_var_is_upper_snake() {
        assert_eq!(home_var("mycli"), "MYCLI_HOME");
        assert_eq!(home_var("my-cli"), "MY_CLI_HOME");
    }

    #[test]
    fn everything_lives_under_one_root() {
        let p = Paths::under(PathBuf::from("/h"));
        assert_eq!(p.index_file(), PathBuf::from("/h/plugins.json"));
        let d = p.plugin_dirs("greet");
        assert_eq!(d.data, PathBuf::from("/h/plugins/greet"));
        assert_eq!(d.config, PathBuf::from("/h/config/plugins/greet"));
        assert_eq!(d.cache, PathBuf::from("/h/cache/plugins/greet"));
    }

    // Unix only: the paths are made up, and on Windows `/` resolves to the
    // current drive (`\\?\C:\`), which the unresolved paths given never
    // start with (real grants are resolved, `plugins::grants`).
    #[cfg(unix)]
    #[test]
    fn a_plugin_own_directories_hold_none_of_the_host_files() {
        let p = Paths::under(PathBuf::from("/h"));
        let host_files = [p.index_file(), p.lookup_file(), p.config_file()];
        for name in ["greet", "compiled", "config", "plugins"] {
            let d = p.plugin_dirs(name);
            for own in [&d.data, &d.config, &d.cache] {
                for file in host_files.iter().chain([&p.compiled_cache()]) {
                    assert!(
                        !file.starts_with(own),
                        "{} in {}",
                        file.display(),
                        own.display()
                    );
                }
                assert_eq!(p.host_dir_met_by(own, name), None);
                assert!(p.host_dir_met_by(own, "other").is_some());
            }
        }
    }

    /// A namespace whose `<NS>_HOME` no one sets: its directories are the
    /// platform's defaults.
    #[cfg(any(target_os = "macos", target_os = "linux"))]
    const UNSET_NS: &str = "snapin-paths-test";

    /// The user's home, as `$HOME` gives it.
    #[cfg(any(target_os = "macos", target_os = "linux"))]
    fn home() -> PathBuf {
        assert!(std::env::var_os(home_var(UNSET_NS)).is_none());
        PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
    }

    #[cfg(target_os = "macos")]
    #[test]
    fn on_macos_a_host_keeps_its_files_under_library() {
        let p = Paths::for_namespace(UNSET_NS);
        let support = home().join("Library/Application Support").join(UNSET_NS);
        let caches = home().join("Library/Caches").join(UNSET_NS);
        assert_eq!(p.index_file(), support.join("plugins.json"));
        assert_eq!(p.catalogs_dir(), support.join("catalogs"));
        // macOS has one directory for data and configuration.
        assert_eq!(p.config_file(), support.join("config.toml"));
        assert_eq!(p.trusted_keys_file(), support.join("trusted-keys.toml"));
        assert_eq!(p.compiled_cache(), caches.join("compiled"));
        assert_eq!(p.download_cache(), caches.join("oci"));
        let d = p.plugin_dirs("greet");
        assert_eq!(d.data, support.join("plugins/greet"));
        assert_eq!(d.config, d.data);
        assert_eq!(d.cache, caches.join("plugins/greet"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn on_linux_a_host_keeps_its_files_where_xdg_says() {
        let base = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|d| d.is_absolute())
                .unwrap_or_else(|| home().join(default))
                .join(UNSET_NS)
        };
        let p = Paths::for_namespace(UNSET_NS);
        let data = base("XDG_DATA_HOME", ".local/share");
        let config = base("XDG_CONFIG_HOME", ".config");
        let cache = base("XDG_CACHE_HOME", ".cache");
        assert_eq!(p.index_file(), data.join("plugins.json"));
        assert_eq!(p.config_file(), config.join("config.toml"));
        assert_eq!(p.compiled_cache(), cache.join("compiled"));
        let d = p.plugin_dirs("greet");
        assert_eq!(d.data, data.join("plugins/greet"));
        assert_eq!(d.config, config.join("plugins/greet"));
        assert_eq!(d.cache, cache.join("plugins/greet"));
    }

    // Unix only: the paths are made up, and on Windows `/` resolves to the
    // current drive (`\\?\C:\`), which the unresolved paths given never
    // start with (real grants are resolved, `plugins::grants`).
    #[cfg(unix)]
    #[test]
    fn grants_above_at_or_below_the_host_directories_meet_them() {
        let p = Paths::under(PathBuf::from("/h/home"));
        let met = |dir: &str| {
            p.host_dir_met_by(Path::new(dir), "greet")
                .map(|m| (m.which, m.contains))
        };
        assert_eq!(met("/"), Some(("data", true)));
        assert_eq!(met("/h"), Some(("data", true)));
        assert_eq!(met("/h/home"), Some(("data", false)));
        assert_eq!(met("/h/home/cache"), Some(("cache", false)));
        assert_eq!(met("/h/home/cache/compiled"), Some(("cache", false)));
        assert_eq!(met("/h/home/plugins"), Some(("data", false)));
        assert_eq!(met("/h/home/plugins/greet/sub"), None);
        assert_eq!(met("/h/other"), None);
        assert_eq!(met("/h/homework"), None);
    }
}

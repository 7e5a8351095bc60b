//! The host's configuration file: per-plugin sandbox limits and the values
//! a plugin can read with the `config` host function.
//!
//! ```toml
//! # $MYCLI_HOME/config/config.toml (or the platform config directory)
//! [plugins.wstats]
//! memory-mib = 64       # memory cap for this sandboxed plugin
//! cpu-seconds = 2       # run-time deadline for this sandboxed plugin
//!
//! [plugins.wstats.config]
//! greeting = "hi"
//! ```
//!
//! It is read only when a sandboxed plugin runs or installs, never at
//! start-up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostConfig {
    /// Settings per plugin name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginConfig>,
}

/// Settings for one plugin.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PluginConfig {
    /// Memory cap in MiB, overriding the host's default.
    pub memory_mib: Option<u64>,
    /// Run-time deadline in seconds, overriding the host's default.
    pub cpu_seconds: Option<f64>,
    /// Values the plugin reads with the `config` host function.
    #[serde(default)]
    pub config: BTreeMap<String, String>,
}

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the configuration file {path}: {reason}")]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

impl ConfigError {
    /// What to do about it.
    pub fn fix(&self) -> String {
        "correct it or move it away".to_string()
    }
}

impl HostConfig {
    /// Reads the configuration at `path`; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<HostConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HostConfig::default()),
            Err(e) => {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            reason: e.to_string().trim().replace('\n', " "),
        })
    }

    /// The settings for plugin `name` (empty when there are none).
    pub fn plugin(&self, name: &str) -> PluginConfig {
        self.plugins.get(name).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_limits_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        assert!(HostConfig::load(&path).unwrap().plugins.is_empty());
        std::fs::write(
            &path,
            "[plugins.w]\nmemory-mib = 64\ncpu-seconds = 0.5\n[plugins.w.config]\ngreeting = \"hi\"\n",
        )
        .unwrap();
        let c = HostConfig::load(&path).unwrap().plugin("w");
        assert_eq!(c.memory_mib, Some(64));
        assert_eq!(c.cpu_seconds, Some(0.5));
        assert_eq!(c.config["greeting"], "hi");
    }

    #[test]
    fn a_broken_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[plugins.w\n").unwrap();
        let err = HostConfig::load(&path).unwrap_err().to_string();
        assert!(err.contains("config.toml"), "{err}");
    }
}

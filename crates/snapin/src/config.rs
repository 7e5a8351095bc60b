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
//!
//! [registry]
//! insecure = ["registry.internal:5000"]  # reached over plain HTTP
//! require-signatures = true              # refuse unsigned plugins
//! ```
//!
//! It is read only when a sandboxed plugin runs or installs, or a command
//! reaches a registry; never at start-up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::unknown;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostConfig {
    /// Settings per plugin name.
    #[serde(default)]
    pub plugins: BTreeMap<String, PluginConfig>,
    /// How registries are reached.
    #[serde(default)]
    pub registry: RegistryConfig,
}

/// How registries are reached.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RegistryConfig {
    /// Registries (`HOST[:PORT]`) reached over plain HTTP. Loopback
    /// addresses always are.
    #[serde(default)]
    pub insecure: Vec<String>,
    /// Refuse plugins from registries that no key signed (the command
    /// line's `--require-signatures`).
    #[serde(default)]
    pub require_signatures: bool,
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

/// Why the configuration file could not be used: one line with the file,
/// where in it (key, line and column) and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot use the configuration file {}: {}{reason}", path.display(), at.as_ref().map(|a| format!("{a}: ")).unwrap_or_default())]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// Where in the file, when known.
    pub at: Option<Place>,
    /// What is wrong: the parser's message, its first line.
    pub reason: String,
}

/// A place in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The key, dotted (`plugins.wstats.memory-mib`), when the place is in
    /// a `key = value` line.
    pub key: Option<String>,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

impl std::fmt::Display for Place {
    /// `` `plugins.w.memory-mib` at line 2, column 14 ``
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(key) = &self.key {
            write!(f, "`{key}` at ")?;
        }
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl Place {
    /// The place of byte `offset` of `text`, and the key of its line:
    /// the name before `=`, under the last `[table]` header above it.
    fn of(text: &str, offset: usize) -> Place {
        let offset = (0..=offset.min(text.len()))
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        let before = &text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line_text = text[line_start..].lines().next().unwrap_or("");
        let table = before[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('[') && !l.starts_with("[["))
            .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        let key = line_text
            .split_once('=')
            .filter(|(k, _)| line_start + k.len() <= offset)
            .map(|(k, _)| k.trim().trim_matches('"').to_string())
            .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with('['))
            .map(|k| match &table {
                Some(t) => format!("{t}.{k}"),
                None => k,
            });
        Place {
            key,
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        }
    }
}

impl ConfigError {
    /// What to do about it: correct that key, or that line.
    pub fn fix(&self) -> String {
        let path = self.path.display();
        match &self.at {
            Some(Place { key: Some(key), .. }) => format!(
                "correct `{key}` in {path} (docs/protocol.md §12, Limits, says what each key takes)"
            ),
            Some(place) => format!("correct line {} of {path}", place.line),
            None => format!("make {path} readable, or move it away"),
        }
    }
}

impl HostConfig {
    /// Reads the configuration at `path`; a missing file is an empty one.
    /// Keys this version does not know are ignored, with a warning.
    pub fn load(path: &Path) -> Result<HostConfig, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HostConfig::default()),
            Err(e) => {
                return Err(ConfigError {
                    path: path.to_path_buf(),
                    at: None,
                    reason: e.to_string(),
                });
            }
        };
        let config = toml::from_str(&text).map_err(|e: toml::de::Error| ConfigError {
            path: path.to_path_buf(),
            at: e.span().map(|span| Place::of(&text, span.start)),
            reason: e.message().lines().next().unwrap_or("").trim().to_string(),
        })?;
        if let Ok(table) = toml::from_str::<toml::Table>(&text) {
            let unknown = unknown::in_config(&table);
            if !unknown.is_empty() {
                tracing::warn!(
                    "{} has keys this version does not know, ignored: {unknown}",
                    path.display()
                );
            }
        }
        Ok(config)
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
        assert!(!err.contains('\n'), "{err}");
    }

    /// A bad value: one line naming the file, the key, line and column,
    /// and the parser's reason; the fix names the key.
    #[test]
    fn a_bad_value_names_its_key_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let cases = [
            (
                "[plugins.w]\nmemory-mib = \"lots\"\n",
                "`plugins.w.memory-mib` at line 2, column 14: invalid type: string \"lots\", expected u64",
                "correct `plugins.w.memory-mib` in",
            ),
            (
                "# limits\n[plugins.w]\ncpu-seconds = 1\n\n[plugins.\"v\"]\nmemory-mib = -1\n",
                "`plugins.\"v\".memory-mib` at line 6, column 14: invalid value: integer `-1`, expected u64",
                "correct `plugins.\"v\".memory-mib` in",
            ),
            ("[plugins.w\n", "line 1, column 11: ", "correct line 1 of"),
        ];
        for (text, at, fix) in cases {
            std::fs::write(&path, text).unwrap();
            let err = HostConfig::load(&path).unwrap_err();
            let line = err.to_string();
            let expected = format!("cannot use the configuration file {}: {at}", path.display());
            assert!(line.starts_with(&expected), "{line}\n{expected}");
            assert!(!line.contains('\n'), "{line}");
            assert!(err.fix().starts_with(fix), "{}", err.fix());
        }
    }
}

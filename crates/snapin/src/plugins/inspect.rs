//! Finding the plugin file a user means and describing it: what install,
//! upgrade and check do before any of their checks.

use std::path::{Path, PathBuf};

use crate::config::HostConfig;
use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{Entry, Grants, Kind, Origin, now_rfc3339};
use crate::runtime::exec::is_executable;
use crate::runtime::{FileKind, PluginError, decode_manifest};
use crate::ui::{Options, StatusLine};
use crate::unknown::Unknowns;
use crate::{manifest, pin, trust};

/// Finds the plugin file the user meant: a path, or `<ns>-NAME` on PATH.
pub(super) fn resolve_source(ns: &str, source: &str) -> Result<(PathBuf, Origin), Diagnostic> {
    let as_path = Path::new(source);
    if source.contains(['/', std::path::MAIN_SEPARATOR]) || as_path.exists() {
        let path = dunce::canonicalize(as_path).map_err(|e| {
            Diagnostic::new(format!("cannot install {source}: {e}")).with_fix("check the path")
        })?;
        return Ok((
            path,
            Origin::Path {
                given: source.to_string(),
            },
        ));
    }
    let command = if source.starts_with(&format!("{ns}-")) {
        source.to_string()
    } else {
        format!("{ns}-{source}")
    };
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .flat_map(|dir| executable_names(&command).map(move |name| dir.join(name)))
        .find(|p| is_executable(p));
    match found {
        Some(path) => Ok((
            dunce::canonicalize(&path).unwrap_or(path),
            Origin::Search { command },
        )),
        None => Err(Diagnostic::new(format!(
            "cannot install '{source}': there is no such file and no `{command}` executable on PATH"
        ))
        .with_fix("give the path to the plugin executable")),
    }
}

/// The file names `command` may have on PATH: itself on Unix; on Windows
/// with each extension of `PATHEXT` (`.COM;.EXE;.BAT;.CMD` when unset),
/// in its order, as the shells search.
fn executable_names(command: &str) -> impl Iterator<Item = String> + '_ {
    let extensions: Vec<String> = if cfg!(windows) {
        std::env::var("PATHEXT")
            .unwrap_or_else(|_| ".COM;.EXE;.BAT;.CMD".to_string())
            .split(';')
            .filter(|e| e.starts_with('.') && e.len() > 1)
            .map(str::to_ascii_lowercase)
            .collect()
    } else {
        vec![String::new()]
    };
    extensions.into_iter().map(move |e| format!("{command}{e}"))
}

/// A described plugin file: the index entry it would get, and why it could
/// not describe itself, when it could not.
pub(super) struct Inspected {
    pub(super) entry: Entry,
    pub(super) describe_error: Option<PluginError>,
    /// The manifest's fields this version does not know.
    pub(super) unknown: Unknowns,
}

/// Describes the file at `path` and builds the index entry it would get.
/// A WebAssembly component is compiled here, once, into the cache (with a
/// status line while it compiles, on a terminal), and the entry records the
/// digest of its machine code.
pub(super) fn inspect(
    engine: &Engine,
    path: &Path,
    origin: Origin,
    grants: Grants,
    options: &Options,
) -> Result<Inspected, Diagnostic> {
    let ns = engine.ns();
    let kind = kind_of(path)?;
    let pin::Pin { sha256, stamp } = pin::pin_file(path)
        .map_err(|e| Diagnostic::new(format!("cannot read {}: {e}", path.display())))?;
    let mut entry = Entry {
        name: name_from_file(ns, path),
        kind,
        path: path.to_path_buf(),
        origin,
        sha256,
        enabled: true,
        installed_at: now_rfc3339(),
        manifest: None,
        describe_error: None,
        // Describing runs with nothing granted; the grants are checked
        // after it, against the name it gives.
        grants: Grants::default(),
        compiled_sha256: None,
        file: stamp,
        trusted_owners: Vec::new(),
    };
    // The user's configuration applies to a component's describe too: a
    // broken one is the user's to correct, not a fault of the plugin that
    // `--force` could record past.
    if kind == Kind::Wasm {
        HostConfig::load(&engine.host.paths.config_file())
            .map_err(|e| Diagnostic::new(e.to_string()).with_fix(e.fix()))?;
    }
    let described = {
        let _compiling = (entry.kind == Kind::Wasm)
            .then(|| StatusLine::show(ns, &format!("compiling {}", entry.name)));
        engine.compile_for_index(&entry).and_then(|compiled| {
            entry.compiled_sha256 = compiled;
            engine.with_runtime(&entry, |plugin| plugin.describe_json())
        })
    };
    entry.grants = grants;
    let described = described.and_then(|json| {
        decode_manifest(&json).map_err(|reason| PluginError::BadManifest { reason })
    });
    let mut unknown = Unknowns::default();
    let describe_error = match described {
        Ok(decoded) => {
            let m = decoded.manifest;
            unknown = decoded.unknown;
            if !unknown.is_empty() {
                tracing::info!(
                    "{}'s manifest has fields this {ns} does not know, ignored: {unknown}",
                    m.name
                );
            }
            // An invalid name (`../x`, a screenful, control characters) is
            // reported by the contract check, never used as a name.
            if manifest::is_valid_name(&m.name) {
                entry.name = m.name.clone();
            }
            entry.manifest = Some(m);
            None
        }
        Err(e) => {
            if options.verbosity.debug
                && let Some(stderr) = e.stderr()
            {
                // One log line per line it wrote, each made safe to print
                // by the logger, so that none can pass for a line of ours.
                let call = match entry.kind {
                    Kind::Wasm => "describe",
                    _ => "--snapin-describe",
                };
                for line in stderr.trim_end().lines() {
                    tracing::debug!("{} {call} wrote on stderr: {line}", path.display());
                }
            }
            entry.describe_error = Some(e.to_string());
            Some(e)
        }
    };
    Ok(Inspected {
        entry,
        describe_error,
        unknown,
    })
}

/// Tells a WebAssembly component from an executable by its first bytes
/// ([`FileKind`]); refuses anything else with the fix for what it is.
pub(super) fn kind_of(path: &Path) -> Result<Kind, Diagnostic> {
    if path.is_dir() {
        return Err(Diagnostic::new(format!(
            "cannot install {}: it is a directory, not a plugin file",
            path.display()
        ))
        .with_fix("give the path of the plugin file inside it"));
    }
    let mut head = Vec::with_capacity(8);
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read;
        f.take(8).read_to_end(&mut head)
    });
    if let Err(e) = read {
        return Err(Diagnostic::new(format!(
            "cannot read {}: {e}",
            path.display()
        )));
    }
    let kind = FileKind::of(&head);
    match kind.unusable() {
        Some((why, fix)) => {
            Err(Diagnostic::new(format!("{} is not a plugin: {why}", path.display())).with_fix(fix))
        }
        None if kind == FileKind::Component => Ok(Kind::Wasm),
        None if is_executable(path) => Ok(Kind::Exec),
        None => Err(Diagnostic::new(format!(
            "{} is neither an executable file nor a WebAssembly component",
            path.display()
        ))
        .with_fix(format!(
            "`chmod +x {}` if it is an executable plugin",
            trust::quoted(path)
        ))),
    }
}

/// `mycli-greet` → `greet`, for plugins that cannot say their own name.
fn name_from_file(ns: &str, path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = stem.replace('_', "-");
    let name = stem
        .strip_prefix(&format!("{ns}-"))
        .unwrap_or(&stem)
        .to_ascii_lowercase();
    if manifest::is_valid_name(&name) {
        name
    } else {
        "unnamed".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_files() {
        assert_eq!(
            name_from_file("mycli", Path::new("/x/mycli-greet")),
            "greet"
        );
        assert_eq!(name_from_file("mycli", Path::new("/x/tool.py")), "tool");
        assert_eq!(name_from_file("mycli", Path::new("/x/9lives")), "unnamed");
    }
}

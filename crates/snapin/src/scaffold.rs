//! `plugins new`: a new plugin crate that builds, tests and installs with no
//! edits.
//!
//! Every host gets it from this library, so the crate it writes is always
//! for that host: package `<ns>-NAME` (the name the SDKs turn into plugin
//! `NAME`, and the executable `plugins install NAME` looks for on `PATH`),
//! the host's namespace, and an API requirement of `^MAJOR.MINOR` of the
//! host's plugin API, so the plugin loads in this host and in every later
//! minor release of it.
//!
//! The plugin depends on `snapin-sdk` (an executable) or `snapin-guest` (a
//! WebAssembly component). Both are released in step with this crate, so
//! the requirement written is `MAJOR.MINOR` of this crate's version
//! ([`SDK_VERSION`]). Every 0.1 release of them writes manifest format 1
//! and, for components, the WIT world `snapin:plugin@1.0.0`, which every
//! host of plugin API 1.x reads; the gate that matters is the manifest's
//! `api` requirement. Before the SDKs are published, `--sdk-path` points
//! the dependency at a local checkout, keeping the version so the same
//! line works once they are.

use std::path::{Path, PathBuf};

use semver::{Version, VersionReq};

use crate::manifest;

/// The version of `snapin-sdk` and `snapin-guest` this host was built
/// with: they are released together with this crate.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which kind of plugin crate to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A native executable using `snapin-sdk`.
    Exec,
    /// A WebAssembly component using `snapin-guest`, run sandboxed.
    Wasm,
}

impl Template {
    /// The SDK crate the plugin depends on.
    pub fn sdk(self) -> &'static str {
        match self {
            Template::Exec => "snapin-sdk",
            Template::Wasm => "snapin-guest",
        }
    }

    /// The name used on the command line (`--kind exec`).
    pub fn as_str(self) -> &'static str {
        match self {
            Template::Exec => "exec",
            Template::Wasm => "wasm",
        }
    }
}

/// What to write: a plugin `name` of `kind` for host `ns` at API `api`,
/// in the directory `dir`.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// The host's namespace (`mycli`).
    pub ns: String,
    /// The host's plugin API version; the plugin requires `^MAJOR.MINOR`.
    pub api: Version,
    /// The plugin's name (`hello`), also its one command.
    pub name: String,
    /// Executable or WebAssembly.
    pub kind: Template,
    /// Where the crate goes: a new or empty directory.
    pub dir: PathBuf,
    /// A local checkout of the SDK crate to depend on by path.
    pub sdk_path: Option<PathBuf>,
}

/// Why `plugins new` wrote nothing (or, for [`ScaffoldError::Write`],
/// stopped).
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The plugin name breaks the naming rule.
    #[error(
        "'{name}' is not a valid plugin name: it must be a lowercase ASCII letter followed by up to 63 of a-z, 0-9 and '-'"
    )]
    InvalidName {
        /// The name given.
        name: String,
        /// A valid name close to it, if there is one.
        suggestion: Option<String>,
    },
    /// The name given already carries the host prefix.
    #[error("'{name}' already starts with '{ns}-', so the crate would be {ns}-{name}")]
    Prefixed {
        /// The name given.
        name: String,
        /// The host's namespace.
        ns: String,
        /// The name without the prefix.
        rest: String,
    },
    /// The target directory has files in it (or is a file).
    #[error("{} already exists and is not an empty directory", dir.display())]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// `--sdk-path` does not point at the SDK crate.
    #[error("--sdk-path {}: {why}", path.display())]
    SdkPath {
        /// The path given.
        path: PathBuf,
        /// The SDK crate expected there.
        sdk: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl ScaffoldError {
    /// What to do about it, for host `ns`, when there is something.
    pub fn fix(&self, ns: &str) -> Option<String> {
        match self {
            ScaffoldError::InvalidName { suggestion, .. } => suggestion
                .as_ref()
                .map(|s| format!("try `{ns} plugins new {s}`")),
            ScaffoldError::Prefixed { name, rest, .. } => Some(format!(
                "give the plugin name alone, `{ns} plugins new {rest}`, and the crate is called {name}"
            )),
            ScaffoldError::NotEmpty { .. } => {
                Some("choose another NAME or --dir, or move it away".to_string())
            }
            ScaffoldError::SdkPath { sdk, .. } => Some(format!(
                "give the directory of the {sdk} crate (crates/{sdk} in a snapin checkout)"
            )),
            ScaffoldError::Write { .. } => None,
        }
    }
}

/// A crate `plugins new` wrote.
#[derive(Debug, Clone)]
pub struct Created {
    /// Its directory.
    pub dir: PathBuf,
    /// Its package name (`mycli-hello`).
    pub package: String,
    /// The requirement on the SDK crate written into `Cargo.toml` (`0.1`).
    pub sdk_requirement: String,
    /// The manifest's API requirement (`^1.2`).
    pub api_requirement: String,
    /// The commands that build, install and run it, from inside `dir`.
    pub steps: Vec<String>,
    /// Where the SDK comes from, when that needs saying.
    pub note: Option<String>,
}

impl Scaffold {
    /// Checks the name, the directory and `sdk_path`, then writes the crate.
    /// Nothing is written when a check fails; when writing fails half-way,
    /// a directory this call created is removed again.
    pub fn create(&self) -> Result<Created, ScaffoldError> {
        self.check_name()?;
        let sdk_path = self.checked_sdk_path()?;
        let files = self.files(sdk_path.as_deref());
        let existed = self.dir.exists();
        if existed && !is_empty_dir(&self.dir) {
            return Err(ScaffoldError::NotEmpty {
                dir: self.dir.clone(),
            });
        }
        let written = files.iter().try_for_each(|(file, text)| {
            let path = self.dir.join(file);
            let parent = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(parent)
                .and_then(|()| std::fs::write(&path, text))
                .map_err(|source| ScaffoldError::Write { path, source })
        });
        if let Err(e) = written {
            if !existed {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
            return Err(e);
        }
        Ok(Created {
            dir: self.dir.clone(),
            package: self.package(),
            sdk_requirement: sdk_requirement(),
            api_requirement: self.api_requirement(),
            steps: self.steps(),
            note: sdk_path.is_none().then(|| {
                format!(
                    "{} {} comes from crates.io; to build against a local snapin checkout instead, create the crate with --sdk-path DIR/crates/{}",
                    self.kind.sdk(),
                    sdk_requirement(),
                    self.kind.sdk()
                )
            }),
        })
    }

    /// `<ns>-NAME`.
    pub fn package(&self) -> String {
        format!("{}-{}", self.ns, self.name)
    }

    /// `^MAJOR.MINOR` of the host's API.
    pub fn api_requirement(&self) -> String {
        format!("^{}.{}", self.api.major, self.api.minor)
    }

    fn check_name(&self) -> Result<(), ScaffoldError> {
        let name = &self.name;
        if !manifest::is_valid_name(name) {
            let suggestion = suggest_name(name);
            return Err(ScaffoldError::InvalidName {
                name: name.clone(),
                suggestion,
            });
        }
        match name.strip_prefix(&format!("{}-", self.ns)) {
            Some(rest) if manifest::is_valid_name(rest) => Err(ScaffoldError::Prefixed {
                name: name.clone(),
                ns: self.ns.clone(),
                rest: rest.to_string(),
            }),
            _ => Ok(()),
        }
    }

    /// `sdk_path` made absolute, once it is known to hold the SDK crate at
    /// a version the requirement accepts.
    fn checked_sdk_path(&self) -> Result<Option<PathBuf>, ScaffoldError> {
        let Some(given) = &self.sdk_path else {
            return Ok(None);
        };
        let sdk = self.kind.sdk();
        let fail = |why: String| ScaffoldError::SdkPath {
            path: given.clone(),
            sdk,
            why,
        };
        let dir = dunce::canonicalize(given).map_err(|e| fail(e.to_string()))?;
        let text = std::fs::read_to_string(dir.join("Cargo.toml"))
            .map_err(|e| fail(format!("cannot read its Cargo.toml: {e}")))?;
        let table: toml::Table = toml::from_str(&text)
            .map_err(|e| fail(format!("its Cargo.toml is not valid TOML: {e}")))?;
        let package = table.get("package").and_then(|p| p.as_table());
        let name = package.and_then(|p| p.get("name")).and_then(|n| n.as_str());
        if name != Some(sdk) {
            return Err(fail(format!(
                "it holds {}, not {sdk}",
                name.map_or("no package".to_string(), |n| format!("package {n}"))
            )));
        }
        let version = package
            .and_then(|p| p.get("version"))
            .and_then(|v| v.as_str());
        if let Some(version) = version.and_then(|v| Version::parse(v).ok()) {
            let req = VersionReq::parse(&sdk_requirement()).map_err(|e| fail(e.to_string()))?;
            if !req.matches(&version) {
                return Err(fail(format!(
                    "it is {sdk} {version}, but this {} was built with {sdk} {SDK_VERSION}",
                    self.ns
                )));
            }
        }
        if dir.to_str().is_none() {
            return Err(fail(
                "its path is not UTF-8, which Cargo.toml cannot hold".into(),
            ));
        }
        Ok(Some(dir))
    }

    /// The files of the crate, by path relative to its directory.
    fn files(&self, sdk_path: Option<&Path>) -> Vec<(&'static str, String)> {
        let source = match self.kind {
            Template::Exec => ("src/main.rs", EXEC_MAIN),
            Template::Wasm => ("src/lib.rs", WASM_LIB),
        };
        let manifest = match self.kind {
            Template::Exec => EXEC_CARGO_TOML,
            Template::Wasm => WASM_CARGO_TOML,
        };
        [
            ("Cargo.toml", manifest),
            source,
            ("README.md", README),
            (".gitignore", GITIGNORE),
        ]
        .into_iter()
        .map(|(file, template)| (file, self.fill(template, sdk_path)))
        .collect()
    }

    /// `template` with its `@KEY@` placeholders replaced.
    fn fill(&self, template: &str, sdk_path: Option<&Path>) -> String {
        let sdk = self.kind.sdk();
        let dependency = match sdk_path.and_then(Path::to_str) {
            // JSON string escapes are valid TOML basic-string escapes.
            Some(path) => format!(
                "{sdk} = {{ version = \"{}\", path = {} }}",
                sdk_requirement(),
                serde_json::Value::from(path)
            ),
            None => format!("{sdk} = \"{}\"", sdk_requirement()),
        };
        let local = match sdk_path {
            Some(path) => format!(
                "\n`Cargo.toml` takes `{sdk}` from the local checkout at `{}`\n\
                 (`path = ...`) and keeps the version requirement: once `{sdk}` is\n\
                 published, delete `path = ...` to build from crates.io.\n",
                path.display()
            ),
            None => format!(
                "\n`Cargo.toml` takes `{sdk}` from crates.io. To build against a local\n\
                 checkout of snapin instead, add `path = \"DIR/crates/{sdk}\"` to its\n\
                 line, or create the crate with `{} plugins new {} --sdk-path DIR/crates/{sdk}`.\n",
                self.ns, self.name
            ),
        };
        let (kind_words, run) = match self.kind {
            Template::Exec => ("an executable plugin", "runs as its own process"),
            Template::Wasm => (
                "a sandboxed WebAssembly plugin",
                "runs inside the host in a sandbox: no files, network or environment unless the user grants them at install",
            ),
        };
        let replacements = [
            // The shared fragments first: they hold placeholders too.
            ("@COMMANDS@", COMMANDS.to_string()),
            ("@GREETS_TEST@", GREETS_TEST.trim_end().to_string()),
            ("@NS@", self.ns.clone()),
            ("@NAME@", self.name.clone()),
            ("@PACKAGE@", self.package()),
            ("@VARIANT@", pascal_case(&self.name)),
            ("@API@", self.api_requirement()),
            ("@HOST_API@", self.api.to_string()),
            ("@MAJOR@", self.api.major.to_string()),
            ("@SDK@", sdk.to_string()),
            ("@SDK_CRATE@", sdk.replace('-', "_")),
            ("@SDK_DEPENDENCY@", dependency),
            ("@SDK_VERSION@", SDK_VERSION.to_string()),
            ("@LOCAL_SDK@", local),
            ("@KIND@", kind_words.to_string()),
            ("@RUNS@", run.to_string()),
            ("@STEPS@", self.steps().join("\n")),
        ];
        replacements
            .iter()
            .fold(template.to_string(), |text, (key, value)| {
                text.replace(key, value)
            })
    }

    /// Build, install and run, from inside the crate's directory.
    fn steps(&self) -> Vec<String> {
        let (ns, name) = (&self.ns, &self.name);
        let (build, file) = match self.kind {
            Template::Exec => (
                "cargo build --release".to_string(),
                format!("target/release/{}", self.package()),
            ),
            Template::Wasm => (
                "cargo build --release --target wasm32-wasip2".to_string(),
                format!(
                    "target/wasm32-wasip2/release/{}.wasm",
                    self.package().replace('-', "_")
                ),
            ),
        };
        let mut steps = vec!["cargo test".to_string(), build];
        if self.kind == Template::Wasm {
            steps.insert(0, "rustup target add wasm32-wasip2".to_string());
        }
        steps.push(format!("{ns} plugins install {file}"));
        steps.push(format!("{ns} {name} --who you"));
        steps
    }
}

/// `^MAJOR.MINOR` of [`SDK_VERSION`], without the caret (Cargo's default).
fn sdk_requirement() -> String {
    match Version::parse(SDK_VERSION) {
        Ok(v) => format!("{}.{}", v.major, v.minor),
        Err(_) => SDK_VERSION.to_string(),
    }
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// A valid name close to `name` (`Hello_World` → `hello-world`), if any.
fn suggest_name(name: &str) -> Option<String> {
    let lowered: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .skip_while(|c| !c.is_ascii_lowercase())
        .take(64)
        .collect();
    let trimmed = lowered.trim_end_matches('-').to_string();
    manifest::is_valid_name(&trimmed).then_some(trimmed)
}

/// `hello-world` → `HelloWorld`, the command's enum variant. `self` would
/// be the keyword `Self`, so it becomes `SelfCommand`.
fn pascal_case(name: &str) -> String {
    let pascal: String = name
        .split('-')
        .flat_map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
        })
        .collect();
    if pascal == "Self" {
        "SelfCommand".to_string()
    } else {
        pascal
    }
}

// The templates, with `@KEY@` placeholders (see `Scaffold::fill`).
const GITIGNORE: &str = include_str!("scaffold/gitignore.in");
const EXEC_CARGO_TOML: &str = include_str!("scaffold/exec-Cargo.toml.in");
const WASM_CARGO_TOML: &str = include_str!("scaffold/wasm-Cargo.toml.in");
/// The command, its arguments and what it prints: the same in both
/// templates, filled in as `@COMMANDS@`.
const COMMANDS: &str = include_str!("scaffold/commands.rs.in");
/// The unit test of what the command prints, filled in as
/// `@GREETS_TEST@`.
const GREETS_TEST: &str = include_str!("scaffold/greets-test.rs.in");
const EXEC_MAIN: &str = include_str!("scaffold/exec-main.rs.in");
const WASM_LIB: &str = include_str!("scaffold/wasm-lib.rs.in");
const README: &str = include_str!("scaffold/README.md.in");

#[cfg(test)]
mod tests {
    use super::*;

    fn scaffold(name: &str, kind: Template) -> Scaffold {
        Scaffold {
            ns: "mycli".into(),
            api: Version::new(1, 2, 0),
            name: name.into(),
            kind,
            dir: PathBuf::from("unused"),
            sdk_path: None,
        }
    }

    #[test]
    fn a_crate_is_written_for_the_host() {
        let parent = tempfile::tempdir().unwrap();
        let created = Scaffold {
            dir: parent.path().join("mycli-hello"),
            ..scaffold("hello", Template::Exec)
        }
        .create()
        .unwrap();
        assert_eq!(created.package, "mycli-hello");
        assert_eq!(created.api_requirement, "^1.2");
        assert!(created.dir.join("src/main.rs").is_file());
    }

    #[test]
    fn every_placeholder_is_filled() {
        for kind in [Template::Exec, Template::Wasm] {
            for (file, text) in scaffold("hello-world", kind).files(None) {
                let left = text.match_indices('@').find(|(at, _)| {
                    let key: String = text[at + 1..]
                        .chars()
                        .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                        .collect();
                    !key.is_empty() && text[at + 1 + key.len()..].starts_with('@')
                });
                assert_eq!(left, None, "a placeholder is left in {file}:\n{text}");
            }
        }
    }

    #[test]
    fn the_crate_is_named_for_the_host_and_requires_its_api() {
        let s = scaffold("hello-world", Template::Exec);
        let files = s.files(None);
        let cargo = &files[0].1;
        assert!(cargo.contains("name = \"mycli-hello-world\""), "{cargo}");
        assert!(cargo.contains("snapin-sdk = \"0.1\""), "{cargo}");
        let main = &files[1].1;
        assert!(main.contains("const API: &str = \"^1.2\";"), "{main}");
        assert!(main.contains("HelloWorld(HelloWorldArgs)"), "{main}");
    }

    #[test]
    fn a_local_sdk_is_a_path_with_the_version() {
        let s = scaffold("hello", Template::Wasm);
        let cargo = &s.files(Some(Path::new("/src/snapin/crates/snapin-guest")))[0].1;
        assert!(
            cargo.contains(
                r#"snapin-guest = { version = "0.1", path = "/src/snapin/crates/snapin-guest" }"#
            ),
            "{cargo}"
        );
        assert!(cargo.contains("crate-type = [\"cdylib\"]"));
    }

    #[test]
    fn the_sdks_are_released_with_this_crate() {
        for sdk in ["snapin-sdk", "snapin-guest"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../{sdk}/Cargo.toml"));
            let table: toml::Table =
                toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            assert_eq!(
                table["package"]["version"].as_str(),
                Some(SDK_VERSION),
                "{sdk}"
            );
        }
    }

    #[test]
    fn names_become_identifiers_and_suggestions() {
        assert_eq!(pascal_case("hello"), "Hello");
        assert_eq!(pascal_case("a2-b--c-"), "A2BC");
        assert_eq!(pascal_case("self"), "SelfCommand");
        assert_eq!(suggest_name("Hello_World").as_deref(), Some("hello-world"));
        assert_eq!(suggest_name("9lives").as_deref(), Some("lives"));
        assert_eq!(suggest_name("42"), None);
    }
}

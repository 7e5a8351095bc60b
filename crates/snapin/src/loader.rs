//! The loader: one loop over every plugin, whatever its kind.
//!
//! For each candidate, in order: enabled? → contract check (manifest valid,
//! built for this host) → version gate → integrity (pin still matches, when
//! asked: start-up leaves it to the run of the one plugin used) →
//! permissions (only the user and root can change the file, see
//! [`crate::trust`]; checked with the pin) → conflicts
//! (built-in commands always win; a later plugin never shadows an earlier
//! one) → register. Each candidate ends with one [`Outcome`]; a failure
//! affects that plugin only.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use semver::Version;
use serde::{Deserialize, Serialize};
use snapin_protocol::Manifest;

use crate::gate::{self, Apis};
use crate::index::{Entry, Kind, Span};
use crate::manifest::{self, Reserved};
use crate::pin;
use crate::runtime::{Plugin, catch_panic};
use crate::trust;

/// A plugin the loader considers.
pub struct Candidate {
    /// Its name.
    pub name: String,
    /// What runs it.
    pub kind: Kind,
    /// Where it comes from.
    pub source: Source,
    /// Where its entry lies in the index file it was read from, when it
    /// was read from one: what the start-up lookup records for its
    /// commands.
    pub span: Option<Span>,
}

/// Where a candidate comes from.
// Candidates are made once per plugin and moved, never copied in bulk: the
// size difference between the variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum Source {
    /// Recorded in the installed-plugins index.
    Installed(Entry),
    /// Compiled into the host.
    CompiledIn {
        /// The plugin.
        plugin: Arc<dyn Plugin>,
        /// What its `describe` returned (or why it failed or panicked).
        described: Result<Manifest, String>,
    },
}

impl Candidate {
    /// A candidate for an index entry.
    pub fn installed(entry: Entry) -> Candidate {
        Candidate {
            name: entry.name.clone(),
            kind: entry.kind,
            source: Source::Installed(entry),
            span: None,
        }
    }

    /// A candidate for the index entry found at `span` of the index file.
    pub fn installed_at(entry: Entry, span: Span) -> Candidate {
        Candidate {
            span: Some(span),
            ..Candidate::installed(entry)
        }
    }

    /// A candidate for a plugin compiled into the host: asks it to
    /// describe itself once, catching a panic.
    pub fn compiled_in(plugin: Arc<dyn Plugin>) -> Candidate {
        let described = catch_panic(|| plugin.describe()).map_err(|e| e.to_string());
        Candidate {
            name: described
                .as_ref()
                .map_or_else(|_| "(compiled-in plugin)".to_string(), |m| m.name.clone()),
            kind: Kind::CompiledIn,
            source: Source::CompiledIn { plugin, described },
            span: None,
        }
    }

    /// The index entry, for installed plugins.
    pub fn entry(&self) -> Option<&Entry> {
        match &self.source {
            Source::Installed(entry) => Some(entry),
            Source::CompiledIn { .. } => None,
        }
    }
}

/// The result of the loader for one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Outcome {
    /// The plugin's name.
    pub name: String,
    /// Its version, when known.
    pub version: Option<String>,
    /// What runs it.
    pub kind: Kind,
    /// Whether its commands are available.
    pub status: Status,
    /// The check it failed, when it is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// Why it is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What the user can do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// The top-level commands it adds (or would add).
    pub commands: Vec<String>,
}

/// How a plugin came out of the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Status {
    /// Its commands are registered.
    Ok,
    /// The user disabled it.
    Disabled,
    /// Deliberately left out (built for another API version).
    Skipped,
    /// Something is wrong with it.
    Error,
}

impl Status {
    /// The word shown in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Disabled => "disabled",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
}

impl Outcome {
    /// An outcome to be filled in later.
    pub(crate) fn placeholder() -> Outcome {
        Outcome {
            name: String::new(),
            version: None,
            kind: Kind::Exec,
            status: Status::Ok,
            check: None,
            reason: None,
            fix: None,
            commands: Vec::new(),
        }
    }

    /// `ok`, `disabled`, or the status with its reason:
    /// `skipped: it requires ...`.
    pub fn status_line(&self) -> String {
        match (self.status, &self.reason) {
            (Status::Skipped | Status::Error, Some(reason)) => {
                format!("{}: {reason}", self.status.as_str())
            }
            _ => self.status.as_str().to_string(),
        }
    }
}

/// The steps of the loop, named in outcomes so tools can tell a gate
/// refusal from a conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Check {
    /// The user turned it off.
    Enabled,
    /// It could not say what it is.
    Describe,
    /// Its manifest breaks the contract.
    Contract,
    /// It needs another host API version.
    Gate,
    /// Its file is gone or changed since it was pinned.
    Integrity,
    /// Someone besides the user and root could change its file.
    Permissions,
    /// Its commands are taken.
    Conflict,
    /// A component holds a grant that reaches the host's own directories
    /// (recorded before such grants were refused): it does not run.
    Grants,
}

/// A problem found by one step of the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Which step found it.
    pub check: Check,
    /// Skipped or error.
    pub status: Status,
    /// Why.
    pub reason: String,
    /// What to do.
    pub fix: String,
}

/// What the loader needs to know about the host.
#[derive(Debug, Clone)]
pub struct LoaderSettings<'a> {
    /// The host's namespace.
    pub ns: &'a str,
    /// The API versions the host provides.
    pub apis: &'a Apis,
    /// Options plugins may not use.
    pub reserved: &'a Reserved,
    /// Command names the host itself owns.
    pub host_commands: &'a HashSet<String>,
    /// Also hash every installed plugin file (for `list` and `doctor`).
    pub verify_pins: bool,
}

/// A registered plugin.
pub struct Active {
    /// The candidate it came from (for installed plugins, its entry without
    /// the manifest, which is moved into `manifest`).
    pub candidate: Candidate,
    /// Its manifest.
    pub manifest: Manifest,
    /// The API version it runs under: the newest one the host provides
    /// that its requirement accepts.
    pub api: Version,
}

/// What the loop produced: the registered plugins, which command belongs to
/// which, and one outcome per candidate.
#[derive(Default)]
pub struct Loaded {
    /// Registered plugins.
    pub active: Vec<Active>,
    /// Top-level command name (not aliases) → (index in `active`, index of
    /// the command in its manifest).
    pub commands: BTreeMap<String, (usize, usize)>,
    /// Every registered command name and alias → the plugin that holds it:
    /// what a later plugin's commands are checked against ([`conflicts`]).
    pub taken: BTreeMap<String, Holder>,
    /// One per candidate, in order.
    pub outcomes: Vec<Outcome>,
}

impl Loaded {
    /// The plugin and command spec registered under top-level command `name`.
    pub fn command(&self, name: &str) -> Option<(&Active, &snapin_protocol::CommandSpec)> {
        let &(plugin, command) = self.commands.get(name)?;
        let active = &self.active[plugin];
        Some((active, &active.manifest.commands[command]))
    }
}

/// Runs the loader loop over `candidates`.
pub fn load(candidates: Vec<Candidate>, settings: &LoaderSettings<'_>) -> Loaded {
    let mut loaded = Loaded::default();
    // One look at each directory the plugin files share, for this run.
    let trust = trust::Checker::default();
    for mut candidate in candidates {
        let manifest = describe(&mut candidate, settings.ns);
        let mut outcome = Outcome {
            name: candidate.name.clone(),
            version: manifest.as_ref().ok().map(|m| m.version.clone()),
            kind: candidate.kind,
            status: Status::Ok,
            check: None,
            reason: None,
            fix: None,
            commands: manifest
                .as_ref()
                .map(|m| m.commands.iter().map(|c| c.name.clone()).collect())
                .unwrap_or_default(),
        };
        let checked = enabled(&candidate, settings.ns)
            .and(manifest)
            .and_then(|m| {
                let api = check(&candidate, &m, settings, &loaded.taken, &trust)?;
                Ok((m, api))
            });
        match checked {
            Ok((manifest, api)) => {
                let at = loaded.active.len();
                for (i, cmd) in manifest.commands.iter().enumerate() {
                    loaded.commands.insert(cmd.name.clone(), (at, i));
                    for name in std::iter::once(&cmd.name).chain(&cmd.aliases) {
                        loaded.taken.insert(name.clone(), Holder::of(&candidate));
                    }
                }
                loaded.active.push(Active {
                    candidate,
                    manifest,
                    api,
                });
            }
            Err(problem) => {
                outcome.status = problem.status;
                outcome.check = Some(problem.check);
                outcome.reason = Some(problem.reason);
                outcome.fix = Some(problem.fix);
            }
        }
        loaded.outcomes.push(outcome);
    }
    loaded
}

/// The candidate's manifest: cached in the index for installed plugins,
/// described once when the candidate was made for plugins compiled in.
fn describe(candidate: &mut Candidate, ns: &str) -> Result<Manifest, Problem> {
    let name = &candidate.name;
    let failed = |reason: String| Problem {
        check: Check::Describe,
        status: Status::Error,
        reason,
        fix: format!(
            "fix the plugin, then re-pin it with `{ns} plugins upgrade {name}`, or `{ns} plugins remove {name}`"
        ),
    };
    match &mut candidate.source {
        // Moved out, not copied: `Active` keeps it.
        Source::Installed(entry) => match (entry.manifest.take(), &entry.describe_error) {
            (Some(m), _) => Ok(m),
            (None, Some(e)) => Err(failed(format!("it could not describe itself: {e}"))),
            (None, None) => Err(failed("the index holds no manifest for it".to_string())),
        },
        Source::CompiledIn { described, .. } => described.clone().map_err(|e| Problem {
            check: Check::Describe,
            status: Status::Error,
            reason: format!("it failed to register: {e}"),
            fix: compiled_in_fix(ns),
        }),
    }
}

fn compiled_in_fix(ns: &str) -> String {
    format!("this plugin is compiled into {ns}: report it to {ns}'s authors")
}

fn enabled(candidate: &Candidate, ns: &str) -> Result<(), Problem> {
    match candidate.entry() {
        Some(entry) if !entry.enabled => Err(Problem {
            check: Check::Enabled,
            status: Status::Disabled,
            reason: "disabled by the user".to_string(),
            fix: format!("`{ns} plugins enable {}`", entry.name),
        }),
        _ => Ok(()),
    }
}

fn check(
    candidate: &Candidate,
    m: &Manifest,
    settings: &LoaderSettings<'_>,
    taken: &BTreeMap<String, Holder>,
    trust: &trust::Checker,
) -> Result<Version, Problem> {
    let name = &candidate.name;
    let ns = settings.ns;
    if candidate.kind == Kind::Wasm && !cfg!(feature = "wasm") {
        return Err(Problem {
            check: Check::Describe,
            status: Status::Error,
            reason: format!(
                "it is a WebAssembly plugin, and this {ns} was built without WebAssembly support"
            ),
            fix: format!(
                "use a build of {ns} with snapin's `wasm` feature, or `{ns} plugins remove {name}`"
            ),
        });
    }
    // Plugins compiled in cannot be reinstalled by the user.
    let fix = |installed_fix: String| match candidate.entry() {
        Some(_) => installed_fix,
        None => compiled_in_fix(ns),
    };
    contract(m, settings).map_err(|e| Problem {
        check: Check::Contract,
        status: Status::Error,
        reason: format!("invalid manifest: {e}"),
        fix: fix(format!(
            "install a release of {name} that follows the snapin contract, or `{ns} plugins remove {name}`"
        )),
    })?;
    let api = gate::check(&m.api, ns, settings.apis).map_err(|e| Problem {
        check: Check::Gate,
        status: Status::Skipped,
        reason: e.to_string(),
        fix: fix(format!(
            "install a release of {name} built for {ns} API {}, or `{ns} plugins remove {name}`",
            settings.apis.majors()
        )),
    })?;
    if settings.verify_pins
        && let Some(entry) = candidate.entry()
    {
        verify(entry, ns, trust)?;
    }
    let claimant = match candidate.source {
        Source::Installed(_) => Claimant::Installed,
        Source::CompiledIn { .. } => Claimant::CompiledIn,
    };
    conflicts(m, settings, taken).map_err(|c| c.problem(ns, name, claimant))?;
    Ok(api)
}

/// The contract check for a manifest under these settings.
pub fn contract(
    m: &Manifest,
    settings: &LoaderSettings<'_>,
) -> Result<(), manifest::ManifestError> {
    manifest::validate(m, settings.ns, settings.reserved)
}

/// The checks an installed plugin's file must pass before it runs: it is
/// still the one that was pinned ([`integrity`]), and only the user and
/// root can change it ([`permissions`], by `trust`).
pub fn verify(entry: &Entry, ns: &str, trust: &trust::Checker) -> Result<(), Problem> {
    integrity(entry, ns)?;
    permissions(entry, ns, trust)
}

/// Checks that no one besides the user, root and the owners the user
/// trusts for this plugin can change its file (see [`crate::trust`]).
pub fn permissions(entry: &Entry, ns: &str, trust: &trust::Checker) -> Result<(), Problem> {
    let name = &entry.name;
    trust
        .check(&entry.path, &entry.trusted_owners)
        .map_err(|e| Problem {
            check: Check::Permissions,
            status: Status::Error,
            reason: e.to_string(),
            fix: e.fix_or_trust(&format!("run `{ns} plugins upgrade {name} --trust-owner`")),
        })
}

/// Checks that an installed plugin's file is still there and still the one
/// that was pinned.
pub fn integrity(entry: &Entry, ns: &str) -> Result<(), Problem> {
    let name = &entry.name;
    let path = &entry.path;
    if !Path::new(path).exists() {
        return Err(Problem {
            check: Check::Integrity,
            status: Status::Error,
            reason: format!("its file {} is missing", path.display()),
            fix: format!(
                "put the file back or reinstall the plugin, or `{ns} plugins remove {name}`"
            ),
        });
    }
    match pin::changed(path, &entry.sha256, entry.file.as_ref()) {
        Ok(None) => Ok(()),
        Ok(Some(sha)) => Err(Problem {
            check: Check::Integrity,
            status: Status::Error,
            reason: format!(
                "its file {} changed since it was pinned (sha256 {} at install, {} now), so it is not run",
                path.display(),
                pin::short(&entry.sha256),
                pin::short(&sha)
            ),
            fix: format!("if you trust the new file, re-pin it: `{ns} plugins upgrade {name}`"),
        }),
        Err(e) => Err(Problem {
            check: Check::Integrity,
            status: Status::Error,
            reason: format!("cannot read its file {}: {e}", path.display()),
            fix: format!("check the file's permissions, or `{ns} plugins remove {name}`"),
        }),
    }
}

/// The conflict step: the plugin's top-level command names and aliases
/// are neither built into the host nor in `taken` (name or alias → the
/// plugin that already has it). The first name taken is returned.
pub fn conflicts(
    m: &Manifest,
    settings: &LoaderSettings<'_>,
    taken: &BTreeMap<String, Holder>,
) -> Result<(), Conflict> {
    for cmd in &m.commands {
        for command in std::iter::once(&cmd.name).chain(&cmd.aliases) {
            let holder = if settings.host_commands.contains(command) {
                Some(Holder::Host)
            } else {
                taken.get(command).cloned()
            };
            if let Some(holder) = holder {
                return Err(Conflict {
                    command: command.clone(),
                    holder,
                });
            }
        }
    }
    Ok(())
}

/// Who already holds a command name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// The host itself.
    Host,
    /// The plugin of this name, compiled into the host.
    CompiledIn(String),
    /// The installed plugin of this name.
    Installed(String),
}

impl Holder {
    fn of(candidate: &Candidate) -> Holder {
        match candidate.source {
            Source::Installed(_) => Holder::Installed(candidate.name.clone()),
            Source::CompiledIn { .. } => Holder::CompiledIn(candidate.name.clone()),
        }
    }
}

/// Who claims a name that is taken: which fixes work depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimant {
    /// An installed plugin: the user can disable or remove it.
    Installed,
    /// A plugin compiled into the host: only the host's authors can act.
    CompiledIn,
    /// A plugin being installed or upgraded: not recorded in this form,
    /// so there is nothing of it to disable or remove.
    Recording,
    /// A plugin's author, in `plugins check`: the manifest can change.
    Author,
}

/// A command name or alias a plugin claims that another already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The name or alias.
    pub command: String,
    /// Who keeps it.
    pub holder: Holder,
}

impl Conflict {
    /// Why the plugin cannot have the name, in host `ns`.
    pub fn reason(&self, ns: &str) -> String {
        let command = &self.command;
        match &self.holder {
            Holder::Host => format!("its command '{command}' is built into {ns}, which keeps it"),
            Holder::CompiledIn(owner) => format!(
                "its command '{command}' is provided by plugin '{owner}', compiled into {ns}, which keeps it"
            ),
            Holder::Installed(owner) => {
                format!("its command '{command}' is already provided by plugin '{owner}'")
            }
        }
    }

    /// What `claimant`, plugin `name`, can do about it: only an installed
    /// plugin is offered to be disabled or removed, and only the plugin's
    /// author can rename the command.
    pub fn fix(&self, ns: &str, name: &str, claimant: Claimant) -> String {
        let command = &self.command;
        let rename = format!("ask the author of {name} to rename the command '{command}'");
        match (claimant, &self.holder) {
            (Claimant::Installed, Holder::Host | Holder::CompiledIn(_)) => {
                format!("{rename}, or `{ns} plugins remove {name}`")
            }
            (Claimant::Installed, Holder::Installed(owner)) => format!(
                "keep one of them: `{ns} plugins disable {name}` or `{ns} plugins remove {owner}`"
            ),
            (Claimant::CompiledIn, Holder::Host | Holder::CompiledIn(_)) => compiled_in_fix(ns),
            (Claimant::CompiledIn, Holder::Installed(owner)) => {
                format!("`{ns} plugins remove {owner}`, or {}", compiled_in_fix(ns))
            }
            (Claimant::Recording, Holder::Host | Holder::CompiledIn(_)) => {
                format!("{rename}: {ns} keeps its own")
            }
            (Claimant::Recording, Holder::Installed(owner)) => {
                format!("{rename}, or `{ns} plugins remove {owner}` first")
            }
            (Claimant::Author, Holder::Host | Holder::CompiledIn(_)) => {
                format!("rename the command '{command}' in the manifest: {ns} keeps its own")
            }
            (Claimant::Author, Holder::Installed(owner)) => format!(
                "rename the command '{command}' in the manifest, or `{ns} plugins remove {owner}` to try it here"
            ),
        }
    }

    /// The loader's problem for this conflict.
    fn problem(&self, ns: &str, name: &str, claimant: Claimant) -> Problem {
        Problem {
            check: Check::Conflict,
            status: Status::Error,
            reason: self.reason(ns),
            fix: self.fix(ns, name, claimant),
        }
    }
}

/// Candidates and loader runs for tests, here and in `lookup.rs`.
#[cfg(test)]
pub(crate) mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::index::Origin;
    use crate::runtime::{Exit, Invocation, PluginError};

    /// An installed plugin `name` with the manifest `json` (host, name and
    /// version filled in), its file at `path`.
    pub(crate) fn installed(name: &str, json: &str, path: PathBuf) -> Candidate {
        let manifest: Manifest = serde_json::from_str(&format!(
            r#"{{"manifest":1,"host":"mycli","name":"{name}","version":"1.0.0",{json}}}"#
        ))
        .expect("a test manifest parses");
        Candidate::installed(Entry {
            name: name.into(),
            kind: Kind::Exec,
            path,
            origin: Origin::Path { given: name.into() },
            sha256: "0".repeat(64),
            enabled: true,
            installed_at: String::new(),
            manifest: Some(manifest),
            describe_error: None,
            grants: Default::default(),
            compiled_sha256: None,
            file: None,
            trusted_owners: Vec::new(),
        })
    }

    /// An installed plugin `name` with the manifest `json`, its file at
    /// `/plugins/NAME`.
    pub(crate) fn plugin(name: &str, json: &str) -> Candidate {
        installed(name, json, PathBuf::from(format!("/plugins/{name}")))
    }

    /// A loader run over `candidates` in host `mycli` at API 1.2.0, whose
    /// own commands are `version`, `plugins` and `help`.
    pub(crate) fn load_in_mycli(candidates: Vec<Candidate>, verify_pins: bool) -> Loaded {
        let apis = Apis::new(Version::new(1, 2, 0));
        let reserved = Reserved::clap_defaults();
        let host_commands: HashSet<String> =
            ["version", "plugins", "help"].map(String::from).into();
        let settings = LoaderSettings {
            ns: "mycli",
            apis: &apis,
            reserved: &reserved,
            host_commands: &host_commands,
            verify_pins,
        };
        load(candidates, &settings)
    }

    /// `greet` loads first; each case is the outcome of one more plugin
    /// loaded after it: its status, the step that stopped it, and the
    /// reason and fix the user reads.
    #[test]
    fn each_step_of_the_loop_has_its_outcome() {
        let api = r#""api":"^1.0""#;
        let disabled = {
            let mut c = plugin("off", &format!(r#"{api},"commands":[{{"name":"off"}}]"#));
            if let Source::Installed(entry) = &mut c.source {
                entry.enabled = false;
            }
            c
        };
        let undescribed = {
            let mut c = plugin("mute", &format!(r#"{api},"commands":[{{"name":"mute"}}]"#));
            if let Source::Installed(entry) = &mut c.source {
                entry.manifest = None;
                entry.describe_error = Some("it printed nothing on stdout".into());
            }
            c
        };
        let cases: Vec<(Candidate, Status, Option<Check>, &str, &str)> = vec![
            (
                plugin(
                    "stats",
                    &format!(r#"{api},"commands":[{{"name":"stats"}}]"#),
                ),
                Status::Ok,
                None,
                "",
                "",
            ),
            (
                disabled,
                Status::Disabled,
                Some(Check::Enabled),
                "disabled by the user",
                "`mycli plugins enable off`",
            ),
            (
                undescribed,
                Status::Error,
                Some(Check::Describe),
                "it could not describe itself: it printed nothing on stdout",
                "fix the plugin, then re-pin it with `mycli plugins upgrade mute`, or `mycli plugins remove mute`",
            ),
            (
                plugin("odd", r#""api":"^1.0","commands":[]"#),
                Status::Error,
                Some(Check::Contract),
                r#"invalid manifest: commands "[]" is invalid: a plugin must add at least one command"#,
                "install a release of odd that follows the snapin contract, or `mycli plugins remove odd`",
            ),
            (
                plugin("future", r#""api":"^2.0","commands":[{"name":"future"}]"#),
                Status::Skipped,
                Some(Check::Gate),
                "it requires mycli API ^2.0, but this mycli provides API 1.2.0",
                "install a release of future built for mycli API 1.x, or `mycli plugins remove future`",
            ),
            (
                plugin(
                    "usurper",
                    &format!(r#"{api},"commands":[{{"name":"version"}}]"#),
                ),
                Status::Error,
                Some(Check::Conflict),
                "its command 'version' is built into mycli, which keeps it",
                "ask the author of usurper to rename the command 'version', or `mycli plugins remove usurper`",
            ),
            (
                plugin(
                    "rival",
                    &format!(r#"{api},"commands":[{{"name":"hi","aliases":["hello"]}}]"#),
                ),
                Status::Error,
                Some(Check::Conflict),
                "its command 'hello' is already provided by plugin 'greet'",
                "keep one of them: `mycli plugins disable rival` or `mycli plugins remove greet`",
            ),
        ];
        for (candidate, status, check, reason, fix) in cases {
            let greet = plugin(
                "greet",
                &format!(r#"{api},"commands":[{{"name":"greet","aliases":["hello"]}}]"#),
            );
            let name = candidate.name.clone();
            let loaded = load_in_mycli(vec![greet, candidate], false);
            let outcome = &loaded.outcomes[1];
            assert_eq!(loaded.outcomes[0].status, Status::Ok, "{name}");
            assert_eq!(
                (outcome.status, outcome.check),
                (status, check),
                "{name}: {outcome:?}"
            );
            assert_eq!(outcome.reason.as_deref().unwrap_or(""), reason, "{name}");
            assert_eq!(outcome.fix.as_deref().unwrap_or(""), fix, "{name}");
            // Only a plugin that loads holds commands; the others leave
            // the names to who comes later.
            assert_eq!(
                loaded.active.len(),
                if status == Status::Ok { 2 } else { 1 }
            );
            assert_eq!(
                loaded.taken.get("hello"),
                Some(&Holder::Installed("greet".into()))
            );
        }
    }

    /// Each kind of holder against each kind of claimant: the reason names
    /// the holder, and the fix offers to disable or remove only a plugin
    /// that is installed, and renaming only through the plugin's author.
    #[test]
    fn a_conflicts_fix_fits_who_holds_the_name_and_who_claims_it() {
        let holders = [
            Holder::Host,
            Holder::CompiledIn("echo".into()),
            Holder::Installed("greet".into()),
        ];
        let reasons = [
            "its command 'hi' is built into mycli, which keeps it",
            "its command 'hi' is provided by plugin 'echo', compiled into mycli, which keeps it",
            "its command 'hi' is already provided by plugin 'greet'",
        ];
        let fixes = [
            (
                Claimant::Installed,
                [
                    "ask the author of new to rename the command 'hi', or `mycli plugins remove new`",
                    "ask the author of new to rename the command 'hi', or `mycli plugins remove new`",
                    "keep one of them: `mycli plugins disable new` or `mycli plugins remove greet`",
                ],
            ),
            (
                Claimant::CompiledIn,
                [
                    "this plugin is compiled into mycli: report it to mycli's authors",
                    "this plugin is compiled into mycli: report it to mycli's authors",
                    "`mycli plugins remove greet`, or this plugin is compiled into mycli: report it to mycli's authors",
                ],
            ),
            (
                Claimant::Recording,
                [
                    "ask the author of new to rename the command 'hi': mycli keeps its own",
                    "ask the author of new to rename the command 'hi': mycli keeps its own",
                    "ask the author of new to rename the command 'hi', or `mycli plugins remove greet` first",
                ],
            ),
            (
                Claimant::Author,
                [
                    "rename the command 'hi' in the manifest: mycli keeps its own",
                    "rename the command 'hi' in the manifest: mycli keeps its own",
                    "rename the command 'hi' in the manifest, or `mycli plugins remove greet` to try it here",
                ],
            ),
        ];
        for (at, holder) in holders.iter().enumerate() {
            let conflict = Conflict {
                command: "hi".into(),
                holder: holder.clone(),
            };
            assert_eq!(conflict.reason("mycli"), reasons[at]);
            for (claimant, fix) in &fixes {
                assert_eq!(
                    conflict.fix("mycli", "new", *claimant),
                    fix[at],
                    "{claimant:?} against {holder:?}"
                );
            }
        }
    }

    /// A plugin compiled in holds its names before any installed plugin.
    #[test]
    fn an_installed_plugin_clashing_with_one_compiled_in_is_not_told_to_remove_it() {
        let compiled = plugin("echo", r#""api":"^1.0","commands":[{"name":"echo"}]"#);
        let Source::Installed(entry) = compiled.source else {
            unreachable!("plugin() makes an installed candidate")
        };
        let echo = Candidate {
            name: "echo".into(),
            kind: Kind::CompiledIn,
            span: None,
            source: Source::CompiledIn {
                plugin: Arc::new(Panicky),
                described: Ok(entry.manifest.expect("a manifest")),
            },
        };
        let clash = plugin("loud", r#""api":"^1.0","commands":[{"name":"echo"}]"#);
        let loaded = load_in_mycli(vec![echo, clash], false);
        assert_eq!(loaded.outcomes[0].status, Status::Ok);
        assert_eq!(
            loaded.outcomes[1].fix.as_deref(),
            Some(
                "ask the author of loud to rename the command 'echo', or `mycli plugins remove loud`"
            )
        );
    }

    #[test]
    fn pins_are_checked_only_when_asked() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("mycli-pinned");
        std::fs::write(&file, "#!/bin/sh\n").expect("the plugin file is written");
        let json = r#""api":"^1.0","commands":[{"name":"pinned"}]"#;
        let missing = || plugin("gone", r#""api":"^1.0","commands":[{"name":"gone"}]"#);
        let changed = || installed("pinned", json, file.clone());

        let loaded = load_in_mycli(vec![missing(), changed()], false);
        assert!(loaded.outcomes.iter().all(|o| o.status == Status::Ok));

        let loaded = load_in_mycli(vec![missing(), changed()], true);
        let outcome = |at: usize| &loaded.outcomes[at];
        assert_eq!(outcome(0).check, Some(Check::Integrity));
        assert_eq!(
            outcome(0).reason.as_deref(),
            Some("its file /plugins/gone is missing")
        );
        assert_eq!(outcome(1).check, Some(Check::Integrity));
        let reason = outcome(1).reason.clone().unwrap_or_default();
        assert!(reason.contains("changed since it was pinned"), "{reason}");
        assert_eq!(
            outcome(1).fix.as_deref(),
            Some("if you trust the new file, re-pin it: `mycli plugins upgrade pinned`")
        );
    }

    /// A compiled-in plugin whose `describe` panics.
    struct Panicky;

    impl Plugin for Panicky {
        fn describe(&self) -> Result<Manifest, PluginError> {
            panic!("no manifest today")
        }

        fn run(&self, _: &Invocation<'_>) -> Result<Exit, PluginError> {
            Ok(Exit::Code(0))
        }
    }

    #[test]
    fn a_compiled_in_plugin_that_panics_is_reported_to_the_hosts_authors() {
        let loaded = load_in_mycli(vec![Candidate::compiled_in(Arc::new(Panicky))], false);
        let outcome = &loaded.outcomes[0];
        assert_eq!(outcome.name, "(compiled-in plugin)");
        assert_eq!(outcome.kind, Kind::CompiledIn);
        assert_eq!(
            (outcome.status, outcome.check),
            (Status::Error, Some(Check::Describe))
        );
        assert_eq!(
            outcome.reason.as_deref(),
            Some("it failed to register: it panicked: no manifest today")
        );
        assert_eq!(
            outcome.fix.as_deref(),
            Some("this plugin is compiled into mycli: report it to mycli's authors")
        );
    }
}

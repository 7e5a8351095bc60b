//! The `plugins` command group: install, list, info, remove, enable,
//! disable, upgrade, doctor, and `new`, which writes a plugin crate.
//!
//! Every check here goes through the same loader loop as start-up, so
//! `install` refuses exactly what start-up would skip, with the same words.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};
use serde::Serialize;
use snapin_protocol::{Access, Manifest};

use crate::check;
use crate::host::{App, Options};
use crate::index::{
    DirGrant, Entry, FileStamp, Grants, Index, IndexError, Kind, Origin, now_rfc3339,
};
use crate::loader::{Check, Outcome, Status};
use crate::runtime::exec::is_executable;
use crate::runtime::is_wasm;
use crate::scaffold::{self, Scaffold};
use crate::trust::{self, TrustError};
use crate::{manifest, pin};

/// The name of the command group.
pub const COMMAND: &str = "plugins";

/// The clap definition of `plugins` and its subcommands.
pub fn command(ns: &str) -> Command {
    let name = || {
        Arg::new("name")
            .required(true)
            .value_name("NAME")
            .help("Installed plugin name")
    };
    let json = || {
        Arg::new("json")
            .long("json")
            .action(ArgAction::SetTrue)
            .help("Print JSON instead of text")
    };
    let yes = || {
        Arg::new("yes")
            .short('y')
            .long("yes")
            .action(ArgAction::SetTrue)
            .help("Trust the plugin without asking")
    };
    let force = || {
        Arg::new("force")
            .long("force")
            .action(ArgAction::SetTrue)
            .help("Record the plugin even if it fails its checks (it will not run until they pass)")
    };
    let trust_owner = || {
        Arg::new("trust-owner")
            .long("trust-owner")
            .action(ArgAction::SetTrue)
            .help("Trust the other user who owns the plugin file or a directory above it (for this plugin only)")
    };
    Command::new(COMMAND)
        .about(format!("Install and manage {ns} plugins"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("install")
                .about("Describe, check, pin and record a plugin")
                .arg(
                    Arg::new("source")
                        .required(true)
                        .value_name("SOURCE")
                        .help(format!(
                            "Path to a plugin executable, or NAME of a `{ns}-NAME` executable on PATH"
                        )),
                )
                .arg(
                    Arg::new("grant")
                        .long("grant")
                        .value_name("WHAT=TARGET")
                        .action(ArgAction::Append)
                        .help("Let a sandboxed plugin reach read=DIR, write=DIR or env=NAME (repeatable)"),
                )
                .arg(yes())
                .arg(force())
                .arg(trust_owner()),
        )
        .subcommand(
            Command::new("list")
                .visible_alias("ls")
                .about("Show installed plugins and whether they load")
                .arg(json()),
        )
        .subcommand(Command::new("info").about("Show everything about one plugin").arg(name()).arg(json()))
        .subcommand(
            Command::new("remove")
                .visible_alias("uninstall")
                .about("Forget a plugin (its file is left in place)")
                .arg(name()),
        )
        .subcommand(Command::new("enable").about("Turn a disabled plugin back on").arg(name()))
        .subcommand(Command::new("disable").about("Keep a plugin installed but add none of its commands").arg(name()))
        .subcommand(
            Command::new("upgrade")
                .about("Describe a plugin again and re-pin its file after it changed")
                .arg(name())
                .arg(yes())
                .arg(force())
                .arg(trust_owner()),
        )
        .subcommand(
            Command::new("doctor")
                .about("Re-check every plugin; one line per problem with its fix")
                .arg(json()),
        )
        .subcommand(
            Command::new("check")
                .about("Run a plugin file through every check of the contract without installing it")
                .arg(
                    Arg::new("source")
                        .required(true)
                        .value_name("SOURCE")
                        .help(format!(
                            "Path to a plugin executable or component, or NAME of a `{ns}-NAME` executable on PATH"
                        )),
                )
                .arg(json()),
        )
        .subcommand(scaffold::command(ns))
}

/// A failed `plugins` command: what went wrong and, where there is one,
/// the fix.
#[derive(Debug)]
pub(crate) struct Failure {
    /// `WHAT; fix: FIX`.
    pub(crate) message: String,
    code: u8,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 1,
        }
    }
}

impl From<IndexError> for Failure {
    fn from(e: IndexError) -> Failure {
        Failure::new(e.to_string())
    }
}

type Result<T = ExitCode> = std::result::Result<T, Failure>;

/// Runs `plugins <subcommand>`.
pub(crate) fn run(app: &App, matches: &ArgMatches, options: &Options) -> ExitCode {
    let flag = |m: &ArgMatches, id| m.get_flag(id);
    let name = |m: &ArgMatches| m.get_one::<String>("name").cloned().unwrap_or_default();
    let result = match matches.subcommand() {
        Some(("install", m)) => {
            let source = m.get_one::<String>("source").cloned().unwrap_or_default();
            let grants: Vec<String> = m
                .get_many::<String>("grant")
                .map(|g| g.cloned().collect())
                .unwrap_or_default();
            install(
                app,
                &source,
                &grants,
                flag(m, "yes"),
                flag(m, "force"),
                flag(m, "trust-owner"),
                options,
            )
        }
        Some(("list", m)) => list(app, flag(m, "json"), options),
        Some(("info", m)) => info(app, &name(m), flag(m, "json")),
        Some(("remove", m)) => remove(app, &name(m)),
        Some(("enable", m)) => set_enabled(app, &name(m), true),
        Some(("disable", m)) => set_enabled(app, &name(m), false),
        Some(("upgrade", m)) => upgrade(
            app,
            &name(m),
            flag(m, "yes"),
            flag(m, "force"),
            flag(m, "trust-owner"),
            options,
        ),
        Some(("doctor", m)) => doctor(app, flag(m, "json")),
        Some(("check", m)) => check_plugin(
            app,
            m.get_one::<String>("source").map_or("", String::as_str),
            flag(m, "json"),
            options,
        ),
        Some(("new", m)) => new_plugin(app, m),
        _ => Err(Failure::new(
            "unknown plugins command; see `plugins --help`",
        )),
    };
    result.unwrap_or_else(|f| {
        eprintln!("{}: error: {}", app.host.ns, f.message);
        ExitCode::from(f.code)
    })
}

fn index_path(app: &App) -> PathBuf {
    app.host.paths.index_file()
}

fn load_index(app: &App) -> Result<Index> {
    Ok(Index::load(&index_path(app))?)
}

/// The index, for a command that will change it: refused up front when it
/// is read-only, before anything is described or asked.
fn index_to_change(app: &App) -> Result<Index> {
    let index = load_index(app)?;
    match index.read_only(&index_path(app)) {
        Some(e) => Err(e.into()),
        None => Ok(index),
    }
}

/// Finds the plugin file the user meant: a path, or `<ns>-NAME` on PATH.
fn resolve_source(ns: &str, source: &str) -> Result<(PathBuf, Origin)> {
    let as_path = Path::new(source);
    if source.contains(std::path::MAIN_SEPARATOR) || as_path.exists() {
        let path = std::fs::canonicalize(as_path).map_err(|e| {
            Failure::new(format!("cannot install {source}: {e}; fix: check the path"))
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
        .map(|dir| dir.join(&command))
        .find(|p| is_executable(p));
    match found {
        Some(path) => Ok((
            std::fs::canonicalize(&path).unwrap_or(path),
            Origin::Search { command },
        )),
        None => Err(Failure::new(format!(
            "cannot install '{source}': there is no such file and no `{command}` executable on PATH; fix: give the path to the plugin executable"
        ))),
    }
}

/// Describes the file at `path` and builds the index entry it would get.
/// A WebAssembly component is compiled here, once, into the cache (with a
/// status line while it compiles, on a terminal). Install, upgrade and
/// [`crate::check`] share it.
pub(crate) fn inspect(
    app: &App,
    path: &Path,
    origin: Origin,
    grants: Grants,
    options: &Options,
) -> Result<Entry> {
    let ns = &app.host.ns;
    let kind = kind_of(path)?;
    let sha256 = pin::sha256_file(path)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", path.display())))?;
    let file = FileStamp::of(path);
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
        grants,
        file,
        trusted_owners: Vec::new(),
    };
    let progress = entry.kind == Kind::Wasm && std::io::stderr().is_terminal();
    if progress {
        eprint!("{ns}: compiling {}...", entry.name);
    }
    let described = app.with_runtime(&entry, |plugin| plugin.describe());
    if progress {
        // Erase the status line: what follows replaces it.
        eprint!("\r\x1b[2K");
    }
    match described {
        Ok(m) => {
            // An invalid name (`../x`, a screenful, control characters) is
            // reported by the contract check, never used as a name.
            if manifest::is_valid_name(&m.name) {
                entry.name = m.name.clone();
            }
            entry.manifest = Some(m);
        }
        Err(e) => {
            if options.verbosity.debug
                && let Some(stderr) = e.stderr()
            {
                tracing::debug!(
                    "{} --snapin-describe wrote on stderr:\n{}",
                    path.display(),
                    stderr.trim_end()
                );
            }
            entry.describe_error = Some(e.to_string());
        }
    }
    Ok(entry)
}

/// Tells a WebAssembly component from an executable by its first bytes.
pub(crate) fn kind_of(path: &Path) -> Result<Kind> {
    if path.is_dir() {
        return Err(Failure::new(format!(
            "cannot install {}: it is a directory, not a plugin file; fix: give the path of the plugin file inside it",
            path.display()
        )));
    }
    let mut head = [0u8; 4];
    let read = std::fs::File::open(path).and_then(|mut f| {
        use std::io::Read;
        f.read(&mut head)
    });
    match read {
        Ok(4) if is_wasm(&head) => Ok(Kind::Wasm),
        Ok(_) if is_executable(path) => Ok(Kind::Exec),
        Ok(_) => Err(Failure::new(format!(
            "{} is neither an executable file nor a WebAssembly component; fix: `chmod +x {}` if it is an executable plugin",
            path.display(),
            path.display()
        ))),
        Err(e) => Err(Failure::new(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Parses `--grant read=DIR`, `--grant write=DIR` and `--grant env=NAME`.
fn parse_grants(values: &[String]) -> Result<Grants> {
    let mut grants = Grants::default();
    for value in values {
        let bad = || {
            Failure::new(format!(
                "--grant {value:?} is not understood; fix: use read=DIR, write=DIR or env=NAME"
            ))
        };
        let (what, target) = value.split_once('=').ok_or_else(bad)?;
        match what {
            "read" | "write" => {
                let path = std::fs::canonicalize(target)
                    .ok()
                    .filter(|p| p.is_dir())
                    .ok_or_else(|| {
                        Failure::new(format!(
                            "--grant {value}: {target} is not a directory; fix: grant an existing directory"
                        ))
                    })?;
                grants.dirs.push(DirGrant {
                    path,
                    write: what == "write",
                });
            }
            "env" if !target.is_empty() => grants.env.push(target.to_string()),
            _ => return Err(bad()),
        }
    }
    Ok(grants)
}

/// Refuses grants the plugin did not ask for: a sandbox gets no more than
/// it requested, and only for sandboxed plugins.
fn check_grants(ns: &str, entry: &Entry) -> Result<()> {
    let grants = &entry.grants;
    if grants.is_empty() {
        return Ok(());
    }
    if entry.kind != Kind::Wasm {
        return Err(Failure::new(format!(
            "--grant applies to sandboxed (WebAssembly) plugins only: '{}' is an executable and already runs with all your permissions",
            entry.name
        )));
    }
    let requested = entry
        .manifest
        .as_ref()
        .map(|m| m.capabilities.clone())
        .unwrap_or_default();
    for env in &grants.env {
        if !requested.env.contains(env) {
            return Err(Failure::new(format!(
                "plugin '{}' does not ask for the environment variable {env}, so it cannot be granted; see `{ns} plugins info {}`",
                entry.name, entry.name
            )));
        }
    }
    let wants_write = requested.dirs.iter().any(|d| d.access == Access::Write);
    for dir in &grants.dirs {
        if requested.dirs.is_empty() || (dir.write && !wants_write) {
            return Err(Failure::new(format!(
                "plugin '{}' does not ask for {} access to a directory, so {} cannot be granted",
                entry.name,
                if dir.write { "write" } else { "read" },
                dir.path.display()
            )));
        }
    }
    Ok(())
}

/// On a terminal, asks about each capability the plugin requests that the
/// command line did not settle.
fn prompt_grants(entry: &mut Entry) -> Result<()> {
    let Some(m) = entry.manifest.as_ref() else {
        return Ok(());
    };
    let requested = m.capabilities.clone();
    if entry.kind != Kind::Wasm || requested.is_empty() || !std::io::stdin().is_terminal() {
        return Ok(());
    }
    for dir in &requested.dirs {
        let access = match dir.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        let why = dir.why.as_deref().unwrap_or("no reason given");
        let answer = ask(&format!(
            "It asks to {access} a directory ({why}). Directory to grant (empty: none): "
        ))?;
        if !answer.is_empty() {
            let mut more = parse_grants(&[format!("{access}={answer}")])?;
            entry.grants.dirs.append(&mut more.dirs);
        }
    }
    for env in &requested.env {
        if entry.grants.env.contains(env) {
            continue;
        }
        let answer = ask(&format!("It asks to read ${env}. Allow? [y/N] "))?;
        if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
            entry.grants.env.push(env.clone());
        }
    }
    Ok(())
}

fn ask(question: &str) -> Result<String> {
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Failure::new(format!("cannot read the answer: {e}")))?;
    Ok(answer.trim().to_string())
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

/// What the loader would say of `entry` next to the plugins in `index`
/// (except one of the same name).
fn check_against(app: &App, index: &Index, entry: &Entry) -> Outcome {
    let mut others = index.clone();
    others.plugins.retain(|e| e.name != entry.name);
    others.plugins.push(entry.clone());
    let loaded = app.run_loader(others, false);
    loaded
        .outcomes
        .into_iter()
        .next_back()
        .expect("the loader returns one outcome per candidate")
}

fn install(
    app: &App,
    source: &str,
    grants: &[String],
    yes: bool,
    force: bool,
    trust_owner: bool,
    options: &Options,
) -> Result {
    let ns = &app.host.ns;
    let (path, origin) = resolve_source(ns, source)?;
    let what = format!("install {}", path.display());
    let trusted_owners = check_trust(&what, &path, Vec::new(), trust_owner)?;
    let index = index_to_change(app)?;
    let mut entry = inspect(app, &path, origin, parse_grants(grants)?, options)?;
    entry.trusted_owners = trusted_owners;
    if let Some(existing) = index.get(&entry.name) {
        return Err(Failure::new(format!(
            "plugin '{}' is already installed from {}; fix: `{ns} plugins upgrade {}` to re-pin it, or `{ns} plugins remove {}` first",
            entry.name,
            existing.path.display(),
            entry.name,
            entry.name
        )));
    }
    let outcome = check_against(app, &index, &entry);
    refuse_unless_forced(app, "install", &outcome, force)?;
    refuse_broken_commands(app, "install", &entry, force)?;
    show_trust(app, &entry, None);
    confirm_lookalikes(app, &index, &entry, None, yes)?;
    if grants.is_empty() && !yes {
        prompt_grants(&mut entry)?;
    }
    check_grants(ns, &entry)?;
    confirm(ns, "Install this plugin?", yes)?;
    let name = entry.name.clone();
    Index::update(&index_path(app), |index| {
        if index.get(&name).is_some() {
            return Err(Failure::new(format!(
                "plugin '{name}' was installed meanwhile by another {ns} process"
            )));
        }
        index.plugins.push(entry.clone());
        Ok(())
    })?;
    println!(
        "installed plugin '{}' {}{}",
        name,
        version_of(&entry),
        commands_of(&entry)
            .map(|c| format!(": commands {c}"))
            .unwrap_or_default()
    );
    if outcome.status != Status::Ok {
        println!(
            "it will not run until this is fixed: {}",
            outcome.status_line()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Stops an install or upgrade the loader would refuse, unless `--force`.
/// The fix is the loader's, except where it speaks of a plugin that is
/// already installed.
fn refuse_unless_forced(app: &App, verb: &str, outcome: &Outcome, force: bool) -> Result<()> {
    if outcome.status == Status::Ok || force {
        return Ok(());
    }
    let (ns, name) = (&app.host.ns, &outcome.name);
    let fix = match outcome.check {
        Some(Check::Gate) => format!(
            "install a release of {name} built for {ns} API {}.x",
            app.host.api.major
        ),
        Some(Check::Describe | Check::Contract) => format!(
            "it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `{ns} --debug plugins {verb} ...` shows what it printed"
        ),
        _ => outcome.fix.clone().unwrap_or_default(),
    };
    Err(Failure::new(format!(
        "cannot {verb} plugin '{name}': {}; fix: {fix} (or `--force` to record it anyway; it will not run until it passes)",
        outcome.status_line(),
    )))
}

/// Stops an install or upgrade of a plugin whose commands clap refuses or
/// whose `--help` does not render (the `clap` and `help` steps of
/// `plugins check`), unless `--force`.
fn refuse_broken_commands(app: &App, verb: &str, entry: &Entry, force: bool) -> Result<()> {
    let Some(manifest) = entry.manifest.as_ref().filter(|_| !force) else {
        return Ok(());
    };
    check::commands_render(app, manifest).map_err(|line| {
        Failure::new(format!(
            "cannot {verb} plugin '{}': {}; fix: {} (or `--force` to record it anyway)",
            entry.name,
            line.detail,
            line.fix.unwrap_or_default()
        ))
    })
}

/// Checks, before the file at `path` is described (which runs it), that
/// only the user, root and the owners in `trusted` can change it (see
/// [`trust`]): a refusal here is not overridden by `--force`. With
/// `--trust-owner`, the other owners found on its path are trusted first.
/// Returns the owners to record for the plugin.
fn check_trust(
    what: &str,
    path: &Path,
    mut trusted: Vec<u32>,
    trust_owner: bool,
) -> Result<Vec<u32>> {
    let refuse = |e: TrustError| {
        let trust_hint = e
            .other_owner()
            .map(|uid| format!(", or, if you trust uid {uid}, re-run with `--trust-owner`"))
            .unwrap_or_default();
        Failure::new(format!("cannot {what}: {e}; fix: {}{trust_hint}", e.fix()))
    };
    if trust_owner {
        trusted.extend(trust::other_owners(path).map_err(refuse)?);
        trusted.sort_unstable();
        trusted.dedup();
    }
    trust::check(path, &trusted).map_err(refuse)?;
    Ok(trusted)
}

/// Whether a new name `new` could be mistaken for the known name `known`:
/// at most one edit (a letter added, dropped or changed, or two neighbours
/// swapped) apart when the shorter is under 6 characters, two from 6 on.
/// Identical names are not look-alikes: they are conflicts, refused
/// elsewhere.
fn looks_like(new: &str, known: &str) -> bool {
    let shorter = new.chars().count().min(known.chars().count());
    let slips = if shorter >= 6 { 2 } else { 1 };
    let distance = strsim::damerau_levenshtein(new, known);
    distance > 0 && distance <= slips
}

/// The plugin's name and its top-level command names and aliases.
fn names_of(entry: &Entry) -> Vec<String> {
    let commands = entry.manifest.iter().flat_map(|m| &m.commands);
    std::iter::once(entry.name.clone())
        .chain(commands.flat_map(|c| std::iter::once(&c.name).chain(&c.aliases).cloned()))
        .collect()
}

/// Pairs (new name, known name, what the known name is) where a name
/// `entry` brings looks like a built-in command, a plugin compiled in, an
/// installed plugin, or one of their commands: a plugin named to be
/// mistaken for another (typosquatting). Names `previous` (the release
/// being upgraded) already had are not new.
fn lookalikes(
    app: &App,
    index: &Index,
    entry: &Entry,
    previous: Option<&Entry>,
) -> Vec<(String, String, String)> {
    let ns = &app.host.ns;
    let mut known: std::collections::BTreeMap<String, String> = Default::default();
    for name in &app.builtins {
        known.insert(name.clone(), format!("a command built into {ns}"));
    }
    let compiled_in = app
        .loaded
        .outcomes
        .iter()
        .filter(|o| o.kind == Kind::Builtin);
    for o in compiled_in {
        known
            .entry(o.name.clone())
            .or_insert_with(|| format!("compiled-in plugin '{}'", o.name));
        for c in &o.commands {
            known
                .entry(c.clone())
                .or_insert_with(|| format!("a command of compiled-in plugin '{}'", o.name));
        }
    }
    for other in index.plugins.iter().filter(|e| e.name != entry.name) {
        for (at, name) in names_of(other).into_iter().enumerate() {
            let what = if at == 0 {
                format!("installed plugin '{}'", other.name)
            } else {
                format!("a command of installed plugin '{}'", other.name)
            };
            known.entry(name).or_insert(what);
        }
    }
    let old = previous.map(names_of).unwrap_or_default();
    let mut new = names_of(entry);
    new.sort();
    new.dedup();
    new.retain(|n| !old.contains(n));
    new.iter()
        .flat_map(|n| {
            known
                .iter()
                .filter(|(k, _)| looks_like(n, k))
                .map(|(k, what)| (n.clone(), k.clone(), what.clone()))
        })
        .collect()
}

/// Warns, one line each, about names `entry` brings that look like known
/// ones, and then asks again (`--yes` answers; without a terminal, only
/// `--yes` goes on).
fn confirm_lookalikes(
    app: &App,
    index: &Index,
    entry: &Entry,
    previous: Option<&Entry>,
    yes: bool,
) -> Result<()> {
    let ns = &app.host.ns;
    let found = lookalikes(app, index, entry, previous);
    for (new, known, what) in &found {
        eprintln!(
            "{ns}: warning: '{new}' looks like '{known}' ({what}): make sure '{}' is the plugin you meant, not a look-alike",
            entry.name
        );
    }
    match found.first() {
        Some((_, known, _)) => confirm(
            ns,
            &format!("Is '{}' really what you want, not '{known}'?", entry.name),
            yes,
        ),
        None => Ok(()),
    }
}

fn version_of(entry: &Entry) -> String {
    entry
        .manifest
        .as_ref()
        .map(|m| m.version.clone())
        .unwrap_or_else(|| "(unknown version)".to_string())
}

fn commands_of(entry: &Entry) -> Option<String> {
    let m = entry.manifest.as_ref()?;
    Some(
        m.commands
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Shows what the user is about to trust, on stderr (stdout stays for
/// results).
fn show_trust(app: &App, entry: &Entry, previous: Option<&Entry>) {
    let ns = &app.host.ns;
    let mut err = std::io::stderr().lock();
    let m = entry.manifest.as_ref();
    let _ = writeln!(
        err,
        "Plugin '{}' {} ({})",
        entry.name,
        version_of(entry),
        entry.kind.as_str()
    );
    if let Some(description) = m.and_then(|m| m.description.as_ref()) {
        let _ = writeln!(err, "  {description}");
    }
    let _ = writeln!(err, "  path:     {}", entry.path.display());
    let _ = writeln!(err, "  origin:   {}", entry.origin);
    if !entry.trusted_owners.is_empty() {
        let _ = writeln!(err, "  trusts:   {}", owners_of(entry));
    }
    match previous {
        Some(prev) => {
            let _ = writeln!(
                err,
                "  version:  {} -> {}",
                version_of(prev),
                version_of(entry)
            );
            let _ = writeln!(err, "  sha256:   {} -> {}", prev.sha256, entry.sha256);
        }
        None => {
            let _ = writeln!(err, "  sha256:   {}", entry.sha256);
        }
    }
    if let Some(m) = m {
        let _ = writeln!(
            err,
            "  api:      {} ({ns} provides {})",
            m.api, app.host.api
        );
    }
    let _ = writeln!(
        err,
        "  commands: {}",
        commands_of(entry).unwrap_or_else(|| "(none: it could not describe itself)".to_string())
    );
    if entry.kind == Kind::Wasm {
        if let Some(m) = m.filter(|m| !m.capabilities.is_empty()) {
            let _ = writeln!(err, "  requests: {}", describe_requests(m));
        }
        let _ = writeln!(err, "  grants:   {}", entry.grants);
        let _ = writeln!(
            err,
            "It runs in a sandbox: no files, network or environment beyond what is granted."
        );
    } else {
        let _ = writeln!(
            err,
            "It runs as you, with your permissions, whenever you use one of its commands."
        );
    }
}

/// The other users trusted to own the plugin's file, in one line.
fn owners_of(entry: &Entry) -> String {
    let uids: Vec<String> = entry
        .trusted_owners
        .iter()
        .map(|u| format!("uid {u}"))
        .collect();
    format!(
        "{} (owner of its file or a directory above it)",
        uids.join(", ")
    )
}

/// What a sandboxed plugin asks for, in one line.
fn describe_requests(m: &Manifest) -> String {
    let dirs = m.capabilities.dirs.iter().map(|d| {
        let access = match d.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        match &d.why {
            Some(why) => format!("{access} a directory ({why})"),
            None => format!("{access} a directory"),
        }
    });
    let env = m.capabilities.env.iter().map(|e| format!("env {e}"));
    dirs.chain(env).collect::<Vec<_>>().join(", ")
}

/// Asks on the terminal; without one, only `--yes` says yes.
fn confirm(ns: &str, question: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::new(format!(
            "not confirmed: stdin is not a terminal, so {ns} cannot ask; fix: re-run with --yes if you trust this plugin"
        )));
    }
    let answer = ask(&format!("{question} [y/N] "))?;
    if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new("not confirmed: nothing was changed"))
    }
}

/// One row of `plugins list`: the loader's outcome and, for installed
/// plugins, what the index says about the file.
#[derive(Debug, Serialize)]
struct Row {
    #[serde(flatten)]
    outcome: Outcome,
    origin: Option<String>,
    path: Option<PathBuf>,
    sha256: Option<String>,
    enabled: bool,
    installed_at: Option<String>,
    /// For sandboxed plugins: what the user granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    grants: Option<Grants>,
}

/// Every plugin with its outcome, checking pins too.
fn rows(app: &App) -> Result<Vec<Row>> {
    let index = load_index(app)?;
    // What the rows show of each entry, taken before the loader consumes
    // the index: cloning whole entries would copy every manifest.
    let facts: Vec<Row> = index
        .plugins
        .iter()
        .map(|e| Row {
            outcome: Outcome::placeholder(),
            origin: Some(e.origin.to_string()),
            path: Some(e.path.clone()),
            sha256: Some(e.sha256.clone()),
            enabled: e.enabled,
            installed_at: Some(e.installed_at.clone()),
            grants: (e.kind == Kind::Wasm).then(|| e.grants.clone()),
        })
        .collect();
    let loaded = app.run_loader(index, true);
    let compiled_in = loaded.outcomes.len() - facts.len();
    let compiled_in_rows = (0..compiled_in).map(|_| Row {
        outcome: Outcome::placeholder(),
        origin: None,
        path: None,
        sha256: None,
        enabled: true,
        installed_at: None,
        grants: None,
    });
    Ok(compiled_in_rows
        .chain(facts)
        .zip(loaded.outcomes)
        .map(|(row, outcome)| Row { outcome, ..row })
        .collect())
}

fn print_json(value: &impl Serialize) -> Result {
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(format!("cannot encode JSON: {e}")))?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

fn list(app: &App, json: bool, options: &Options) -> Result {
    let rows = rows(app)?;
    if json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!(
            "no plugins installed; add one with `{} plugins install PATH`",
            app.host.ns
        );
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.outcome.name.clone(),
                r.outcome.version.clone().unwrap_or_else(|| "-".into()),
                r.outcome.kind.as_str().to_string(),
                if r.outcome.commands.is_empty() {
                    "-".into()
                } else {
                    r.outcome.commands.join(",")
                },
                r.sha256
                    .as_deref()
                    .map(pin::short)
                    .unwrap_or("-")
                    .to_string(),
                r.origin.clone().unwrap_or_else(|| "compiled in".into()),
                r.outcome.status_line(),
            ]
        })
        .collect();
    let header = [
        "NAME", "VERSION", "KIND", "COMMANDS", "SHA256", "ORIGIN", "STATUS",
    ]
    .map(String::from);
    print_table(&header, &table, options.color_stdout());
    Ok(ExitCode::SUCCESS)
}

/// Prints aligned columns; the status, the one long column, goes last so
/// a long reason does not push the others apart. With `color`, the status
/// word is coloured.
fn print_table(header: &[String; 7], rows: &[[String; 7]], color: bool) {
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = std::io::stdout().lock();
    for (at, row) in std::iter::once(header).chain(rows).enumerate() {
        let mut line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        // The last column needs no padding, so its word can be painted.
        if let (Some(status), Some(raw)) = (line.last_mut().filter(|_| color && at > 0), row.last())
        {
            let (word, rest) = raw.split_at(raw.find(':').unwrap_or(raw.len()));
            let painted = match word {
                "ok" => paint(word, Paint::Good),
                "disabled" => paint(word, Paint::Dim),
                "skipped" => paint(word, Paint::Warn),
                _ => paint(word, Paint::Bad),
            };
            *status = format!("{painted}{rest}");
        }
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
}

/// What a coloured word says.
#[derive(Clone, Copy)]
enum Paint {
    Good,
    Warn,
    Bad,
    Dim,
}

/// `text` in the ANSI colour for `what`.
fn paint(text: &str, what: Paint) -> String {
    let code = match what {
        Paint::Good => "32",
        Paint::Warn => "33",
        Paint::Bad => "31",
        Paint::Dim => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn find_row(app: &App, name: &str) -> Result<Row> {
    let rows = rows(app)?;
    let names: Vec<String> = rows.iter().map(|r| r.outcome.name.clone()).collect();
    rows.into_iter()
        .find(|r| r.outcome.name == name)
        .ok_or_else(|| not_installed(&app.host.ns, name, &names))
}

fn not_installed(ns: &str, name: &str, installed: &[String]) -> Failure {
    let known = if installed.is_empty() {
        "no plugins are installed".to_string()
    } else {
        format!("installed: {}", installed.join(", "))
    };
    Failure::new(format!(
        "no plugin named '{name}' is installed ({known}); fix: see `{ns} plugins list`"
    ))
}

fn info(app: &App, name: &str, json: bool) -> Result {
    let row = find_row(app, name)?;
    let index = load_index(app)?;
    let manifest: Option<Manifest> = index.get(name).and_then(|e| e.manifest.clone());
    if json {
        #[derive(Serialize)]
        struct Info<'a> {
            #[serde(flatten)]
            row: &'a Row,
            manifest: Option<Manifest>,
            describe_error: Option<String>,
            trusted_owners: Vec<u32>,
        }
        return print_json(&Info {
            row: &row,
            manifest,
            describe_error: index.get(name).and_then(|e| e.describe_error.clone()),
            trusted_owners: index
                .get(name)
                .map(|e| e.trusted_owners.clone())
                .unwrap_or_default(),
        });
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "name:         {}", row.outcome.name);
    let _ = writeln!(
        out,
        "version:      {}",
        row.outcome.version.as_deref().unwrap_or("-")
    );
    if let Some(d) = manifest.as_ref().and_then(|m| m.description.as_ref()) {
        let _ = writeln!(out, "description:  {d}");
    }
    let _ = writeln!(out, "kind:         {}", row.outcome.kind.as_str());
    let _ = writeln!(out, "status:       {}", row.outcome.status_line());
    if let Some(fix) = row
        .outcome
        .fix
        .as_ref()
        .filter(|_| row.outcome.status != Status::Ok)
    {
        let _ = writeln!(out, "fix:          {fix}");
    }
    if let Some(m) = &manifest {
        let _ = writeln!(
            out,
            "api:          {} ({} provides {})",
            m.api, app.host.ns, app.host.api
        );
    }
    let _ = writeln!(
        out,
        "enabled:      {}",
        if row.enabled { "yes" } else { "no" }
    );
    if let Some(path) = &row.path {
        let _ = writeln!(out, "path:         {}", path.display());
    }
    let _ = writeln!(
        out,
        "origin:       {}",
        row.origin.as_deref().unwrap_or("compiled in")
    );
    if let Some(sha) = &row.sha256 {
        let _ = writeln!(out, "sha256:       {sha}");
    }
    if let Some(entry) = index.get(name).filter(|e| !e.trusted_owners.is_empty()) {
        let _ = writeln!(out, "trusts:       {}", owners_of(entry));
    }
    if row.outcome.kind == Kind::Wasm {
        if let Some(m) = manifest.as_ref().filter(|m| !m.capabilities.is_empty()) {
            let _ = writeln!(out, "requests:     {}", describe_requests(m));
        }
        let grants = index
            .get(name)
            .map(|e| e.grants.to_string())
            .unwrap_or_default();
        let _ = writeln!(out, "grants:       {grants}");
    }
    if let Some(at) = &row.installed_at {
        let _ = writeln!(out, "installed at: {at}");
    }
    let dirs = app.host.paths.plugin_dirs(name);
    let _ = writeln!(out, "data dir:     {}", dirs.data.display());
    if let Some(m) = &manifest {
        let _ = writeln!(out, "commands:");
        for cmd in &m.commands {
            write_command(&mut out, &app.host.ns, cmd, 1);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_command(
    out: &mut impl Write,
    prefix: &str,
    cmd: &snapin_protocol::CommandSpec,
    depth: usize,
) {
    let path = format!("{prefix} {}", cmd.name);
    let about = cmd
        .about
        .as_deref()
        .map(|a| format!("  {a}"))
        .unwrap_or_default();
    let _ = writeln!(out, "{}{path}{about}", "  ".repeat(depth));
    for sub in &cmd.subcommands {
        write_command(out, &path, sub, depth + 1);
    }
}

fn remove(app: &App, name: &str) -> Result {
    let ns = &app.host.ns;
    let removed = Index::update(&index_path(app), |index| {
        let Some(at) = index.plugins.iter().position(|e| e.name == name) else {
            let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
            return Err(not_installed(ns, name, &names));
        };
        Ok(index.plugins.remove(at))
    })?;
    println!(
        "removed plugin '{name}' {} (its file {} was left in place)",
        version_of(&removed),
        removed.path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn set_enabled(app: &App, name: &str, enabled: bool) -> Result {
    let ns = &app.host.ns;
    let changed = Index::update(&index_path(app), |index| {
        let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
        let entry = index
            .get_mut(name)
            .ok_or_else(|| not_installed(ns, name, &names))?;
        let changed = entry.enabled != enabled;
        entry.enabled = enabled;
        Ok::<_, Failure>(changed)
    })?;
    let word = if enabled { "enabled" } else { "disabled" };
    if changed {
        println!("{word} plugin '{name}'");
    } else {
        println!("plugin '{name}' was already {word}");
    }
    Ok(ExitCode::SUCCESS)
}

fn upgrade(
    app: &App,
    name: &str,
    yes: bool,
    force: bool,
    trust_owner: bool,
    options: &Options,
) -> Result {
    let ns = &app.host.ns;
    let index = index_to_change(app)?;
    let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
    let old = index
        .get(name)
        .cloned()
        .ok_or_else(|| not_installed(ns, name, &names))?;
    if !old.path.exists() {
        return Err(Failure::new(format!(
            "cannot upgrade plugin '{name}': its file {} is missing; fix: put the new version there, or `{ns} plugins remove {name}`",
            old.path.display()
        )));
    }
    let trusted_owners = check_trust(
        &format!("upgrade plugin '{name}'"),
        &old.path,
        old.trusted_owners.clone(),
        trust_owner,
    )?;
    let mut entry = inspect(
        app,
        &old.path,
        old.origin.clone(),
        old.grants.clone(),
        options,
    )?;
    entry.trusted_owners = trusted_owners;
    if entry.sha256 == old.sha256
        && entry.manifest == old.manifest
        && entry.trusted_owners == old.trusted_owners
    {
        println!(
            "plugin '{name}' is up to date (sha256 {})",
            pin::short(&old.sha256)
        );
        return Ok(ExitCode::SUCCESS);
    }
    if entry.name != old.name {
        return Err(Failure::new(format!(
            "cannot upgrade plugin '{name}': the file at {} now describes itself as '{}'; fix: `{ns} plugins remove {name}` and install it under its new name",
            old.path.display(),
            entry.name
        )));
    }
    entry.enabled = old.enabled;
    let outcome = check_against(app, &index, &entry);
    refuse_unless_forced(app, "upgrade", &outcome, force)?;
    refuse_broken_commands(app, "upgrade", &entry, force)?;
    check_grants(ns, &entry).map_err(|f| {
        Failure::new(format!(
            "{}; the new release asks for less than was granted: `{ns} plugins remove {name}` and install it again",
            f.message
        ))
    })?;
    show_trust(app, &entry, Some(&old));
    confirm_lookalikes(app, &index, &entry, Some(&old), yes)?;
    confirm(ns, "Trust the new file?", yes)?;
    Index::update(&index_path(app), |index| {
        let names: Vec<String> = index.plugins.iter().map(|e| e.name.clone()).collect();
        let slot = index
            .get_mut(name)
            .ok_or_else(|| not_installed(ns, name, &names))?;
        *slot = entry.clone();
        Ok::<_, Failure>(())
    })?;
    println!(
        "upgraded plugin '{name}' {} -> {} (sha256 {})",
        version_of(&old),
        version_of(&entry),
        pin::short(&entry.sha256)
    );
    Ok(ExitCode::SUCCESS)
}

/// One problem `plugins doctor` found; the text line and the JSON object
/// carry the same fields.
#[derive(Debug, Serialize)]
struct Problem {
    /// The plugin, or `(index)`.
    plugin: String,
    /// What is wrong.
    problem: String,
    /// What to do.
    fix: String,
}

fn doctor(app: &App, json: bool) -> Result {
    let ns = &app.host.ns;
    let mut problems: Vec<Problem> = Vec::new();
    if let Some(e) = &app.index_error {
        problems.push(Problem {
            plugin: "(index)".into(),
            problem: e.to_string(),
            fix: "see above".into(),
        });
    }
    let rows = rows(app)?;
    for row in &rows {
        if let Some(path) = &row.path
            && row.outcome.kind == Kind::Exec
            && path.exists()
            && !is_executable(path)
        {
            problems.push(Problem {
                plugin: row.outcome.name.clone(),
                problem: format!("its file {} is not executable", path.display()),
                fix: format!("`chmod +x {}`", path.display()),
            });
        }
        if matches!(row.outcome.status, Status::Skipped | Status::Error) {
            problems.push(Problem {
                plugin: row.outcome.name.clone(),
                problem: row.outcome.status_line(),
                fix: row.outcome.fix.clone().unwrap_or_default(),
            });
        }
    }
    if json {
        print_json(&problems)?;
    } else if problems.is_empty() {
        println!("{ns} plugins: all {} healthy", rows.len());
    } else {
        for p in &problems {
            println!("{}: {}; fix: {}", p.plugin, p.problem, p.fix);
        }
    }
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `plugins check SOURCE`: one line per check (see [`crate::check`]), or
/// the report as JSON; exit status 1 when any check fails, like `doctor`.
fn check_plugin(app: &App, source: &str, json: bool, options: &Options) -> Result {
    // A source that cannot be found is reported by the `file` check.
    let path = resolve_source(&app.host.ns, source)
        .map(|(path, _)| path)
        .unwrap_or_else(|_| PathBuf::from(source));
    let report = check::check_with(app, &path, options);
    let code = if report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    if json {
        print_json(&report)?;
        return Ok(code);
    }
    let color = options.color_stdout();
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for line in &report.checks {
        let mark = match (line.passed, color) {
            (true, true) => paint("ok  ", Paint::Good),
            (true, false) => "ok  ".to_string(),
            (false, true) => paint("FAIL", Paint::Bad),
            (false, false) => "FAIL".to_string(),
        };
        let _ = writeln!(out, "{mark}  {:<width$}  {}", line.name, line.detail);
        if let Some(fix) = &line.fix {
            let _ = writeln!(out, "      {:<width$}  fix: {fix}", "");
        }
    }
    let failed = report.checks.iter().filter(|c| !c.passed).count();
    let what = report.plugin.as_deref().map_or_else(
        || report.path.display().to_string(),
        |name| format!("plugin '{name}'"),
    );
    if failed == 0 {
        let _ = writeln!(out, "{what} passes all {} checks", report.checks.len());
    } else {
        let _ = writeln!(
            out,
            "{what} fails {failed} of {} checks",
            report.checks.len()
        );
    }
    Ok(code)
}

/// `plugins new NAME`: writes a plugin crate for this host (see
/// [`scaffold`]) and says how to build, install and run it.
fn new_plugin(app: &App, matches: &ArgMatches) -> Result {
    let ns = &app.host.ns;
    let scaffold = Scaffold::from_matches(ns, &app.host.api, matches);
    if app.builtins.contains(&scaffold.name) {
        return Err(Failure::new(format!(
            "'{}' is a command of {ns} itself, so a plugin command of that name would never load; fix: choose another name",
            scaffold.name
        )));
    }
    let created = scaffold
        .create()
        .map_err(|e| Failure::new(format!("cannot create the plugin crate: {e}")))?;
    println!(
        "created {} ({} plugin, {} {}, {ns} API {}) in {}",
        created.package,
        scaffold.kind.as_str(),
        scaffold.kind.sdk(),
        created.sdk_requirement,
        created.api_requirement,
        created.dir.display()
    );
    println!("next:\n  cd {}", created.dir.display());
    for step in &created.steps {
        println!("  {step}");
    }
    if let Some(note) = &created.note {
        println!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
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

    #[test]
    fn the_group_is_a_valid_clap_command() {
        command("mycli").debug_assert();
    }
}

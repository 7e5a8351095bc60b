//! `plugins install` and `upgrade`: find the file, check who can change
//! it, describe it, run the loader's checks, ask, then record it.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use snapin_protocol::{Access, Manifest};

use crate::check;
use crate::host::{App, Options};
use crate::index::{DirGrant, Entry, FileStamp, Grants, Index, Kind, Origin, now_rfc3339};
use crate::loader::{Check, Outcome, Status};
use crate::runtime::exec::is_executable;
use crate::runtime::is_wasm;
use crate::trust::{self, TrustError};
use crate::{manifest, pin};

use super::lookalike::confirm_lookalikes;
use super::{Failure, Result, commands_of, index_path, index_to_change, not_installed, version_of};

/// Finds the plugin file the user meant: a path, or `<ns>-NAME` on PATH.
pub(super) fn resolve_source(ns: &str, source: &str) -> Result<(PathBuf, Origin)> {
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
pub(super) fn parse_grants(values: &[String]) -> Result<Grants> {
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
pub(super) fn check_grants(ns: &str, entry: &Entry) -> Result<()> {
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
pub(super) fn prompt_grants(entry: &mut Entry) -> Result<()> {
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

pub(super) fn ask(question: &str) -> Result<String> {
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
pub(super) fn name_from_file(ns: &str, path: &Path) -> String {
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
pub(super) fn check_against(app: &App, index: &Index, entry: &Entry) -> Outcome {
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

pub(super) fn install(
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
pub(super) fn refuse_unless_forced(
    app: &App,
    verb: &str,
    outcome: &Outcome,
    force: bool,
) -> Result<()> {
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
pub(super) fn refuse_broken_commands(
    app: &App,
    verb: &str,
    entry: &Entry,
    force: bool,
) -> Result<()> {
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
pub(super) fn check_trust(
    what: &str,
    path: &Path,
    trusted: Vec<u32>,
    trust_owner: bool,
) -> Result<Vec<u32>> {
    trust::check_trusting(path, trusted, trust_owner).map_err(|e: TrustError| {
        let trust_hint = e
            .other_owner()
            .map(|uid| format!(", or, if you trust uid {uid}, re-run with `--trust-owner`"))
            .unwrap_or_default();
        Failure::new(format!("cannot {what}: {e}; fix: {}{trust_hint}", e.fix()))
    })
}

/// Shows what the user is about to trust, on stderr (stdout stays for
/// results).
pub(super) fn show_trust(app: &App, entry: &Entry, previous: Option<&Entry>) {
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
pub(super) fn owners_of(entry: &Entry) -> String {
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
pub(super) fn describe_requests(m: &Manifest) -> String {
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
pub(super) fn confirm(ns: &str, question: &str, yes: bool) -> Result<()> {
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

pub(super) fn upgrade(
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

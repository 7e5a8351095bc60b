//! What a sandboxed plugin may reach: `--grant` values, the questions asked
//! about what it requests, and the rule that it gets no more than it asked
//! for.

use snapin_protocol::{Access, Manifest};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{DirGrant, Entry, Grants, Kind};
use crate::ui;

/// Parses `--grant read=DIR`, `--grant write=DIR` and `--grant env=NAME`.
pub(super) fn parse_grants(values: &[String]) -> Result<Grants, Diagnostic> {
    let mut grants = Grants::default();
    for value in values {
        let bad = || {
            Diagnostic::new(format!("--grant {value:?} is not understood"))
                .with_fix("use read=DIR, write=DIR or env=NAME")
        };
        let (what, target) = value.split_once('=').ok_or_else(bad)?;
        match what {
            "read" | "write" => {
                let path = dunce::canonicalize(target)
                    .ok()
                    .filter(|p| p.is_dir())
                    .ok_or_else(|| {
                        Diagnostic::new(format!("--grant {value}: {target} is not a directory"))
                            .with_fix("grant an existing directory")
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
pub(super) fn check_grants(entry: &Entry) -> Result<(), Diagnostic> {
    let grants = &entry.grants;
    if grants.is_empty() {
        return Ok(());
    }
    let name = &entry.name;
    if entry.kind != Kind::Wasm {
        return Err(Diagnostic::new(format!(
            "--grant applies to sandboxed (WebAssembly) plugins only: '{name}' is an executable and already runs with all your permissions"
        ))
        .with_fix("leave out --grant"));
    }
    let requested = entry
        .manifest
        .as_ref()
        .map(|m| m.capabilities.clone())
        .unwrap_or_default();
    // The fix says what can be granted: the plugin is not installed yet,
    // so `plugins info` could not show it.
    let asked = entry
        .manifest
        .as_ref()
        .map(describe_requests)
        .filter(|asked| !asked.is_empty())
        .unwrap_or_else(|| "nothing".to_string());
    let grant_what_it_asks = format!("grant only what it asks for ({asked}), or leave out --grant");
    for env in &grants.env {
        if !requested.env.contains(env) {
            return Err(Diagnostic::new(format!(
                "plugin '{name}' does not ask for the environment variable {env}, so it cannot be granted"
            ))
            .with_fix(grant_what_it_asks));
        }
    }
    let wants_write = requested.dirs.iter().any(|d| d.access == Access::Write);
    for dir in &grants.dirs {
        if requested.dirs.is_empty() || (dir.write && !wants_write) {
            return Err(Diagnostic::new(format!(
                "plugin '{name}' does not ask for {} access to a directory, so {} cannot be granted",
                if dir.write { "write" } else { "read" },
                dir.path.display()
            ))
            .with_fix(grant_what_it_asks));
        }
    }
    Ok(())
}

/// Refuses a grant of `entry` that reaches the host's own directories (see
/// `Engine::host_dir_reason`), with the fix `fix` gives for that grant.
pub(super) fn refuse_host_dirs(
    engine: &Engine,
    verb: &str,
    entry: &Entry,
    fix: impl Fn(&DirGrant) -> String,
) -> Result<(), Diagnostic> {
    for grant in &entry.grants.dirs {
        if let Some(reason) = engine.host_dir_reason(grant, &entry.name) {
            return Err(Diagnostic::new(format!("cannot {verb}: {reason}")).with_fix(fix(grant)));
        }
    }
    Ok(())
}

/// What to grant plugin `name` instead of a directory that reaches the
/// host's own: one elsewhere, or its own data directory.
pub(super) fn grant_elsewhere(engine: &Engine, name: &str) -> String {
    let own = engine.host.paths.plugin_dirs(name).data;
    format!(
        "grant a directory outside {}'s own; for files of its own, its data directory: `mkdir -p {}` and grant that",
        engine.ns(),
        own.display()
    )
}

/// On a terminal, asks about each capability the plugin requests that the
/// command line did not settle.
pub(super) fn prompt_grants(entry: &mut Entry) -> Result<(), Diagnostic> {
    let Some(m) = entry.manifest.as_ref() else {
        return Ok(());
    };
    let requested = m.capabilities.clone();
    if entry.kind != Kind::Wasm || requested.is_empty() || !ui::can_ask() {
        return Ok(());
    }
    let ask = |question: String| {
        ui::ask(&question).map_err(|e| Diagnostic::new(format!("cannot read the answer: {e}")))
    };
    for dir in &requested.dirs {
        let access = access_word(dir.access);
        let why = dir.why.as_deref().unwrap_or("no reason given");
        let answer = ask(format!(
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
        let answer = ask(format!("It asks to read ${env}. Allow? [y/N] "))?;
        if matches!(answer.to_ascii_lowercase().as_str(), "y" | "yes") {
            entry.grants.env.push(env.clone());
        }
    }
    Ok(())
}

fn access_word(access: Access) -> &'static str {
    match access {
        Access::Read => "read",
        Access::Write => "write",
    }
}

/// What a sandboxed plugin asks for, in one line.
pub(super) fn describe_requests(m: &Manifest) -> String {
    let dirs = m.capabilities.dirs.iter().map(|d| {
        let access = access_word(d.access);
        match &d.why {
            Some(why) => format!("{access} a directory ({why})"),
            None => format!("{access} a directory"),
        }
    });
    let env = m.capabilities.env.iter().map(|e| format!("env {e}"));
    dirs.chain(env).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_are_parsed_or_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let grants = parse_grants(&[format!("read={d}"), "env=HOME".to_string()]).unwrap();
        assert_eq!(grants.dirs.len(), 1);
        assert!(!grants.dirs[0].write);
        assert_eq!(grants.env, ["HOME"]);
        for bad in ["net=all", "env=", "read"] {
            let e = parse_grants(&[bad.to_string()]).unwrap_err();
            assert_eq!(
                e.fix(),
                Some("use read=DIR, write=DIR or env=NAME"),
                "{bad}"
            );
        }
        let e = parse_grants(&["write=/no/such/dir".to_string()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--grant write=/no/such/dir: /no/such/dir is not a directory; fix: grant an existing directory"
        );
    }
}

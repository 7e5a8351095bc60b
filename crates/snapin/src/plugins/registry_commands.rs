//! The registry commands as every build knows them: their names and what
//! each does. A build with the `registry` feature runs them (publish.rs,
//! outdated.rs, lock.rs, sync.rs, export.rs, sign.rs, trusted_keys.rs,
//! artifact.rs, verify.rs); a build without
//! it that names a helper ([`crate::host::HostBuilder::registry_helper`]) lists
//! them and hands the whole command line over to the helper, the same host
//! built with the feature, so that the commands that never reach a
//! registry do not carry its client.

#[cfg(not(feature = "registry"))]
use crate::engine::Engine;

#[cfg(not(feature = "registry"))]
use super::common::Result;

/// What `plugins publish` does.
pub(super) const PUBLISH: &str = "Push a plugin's builds to an OCI registry as one version";
/// What `plugins outdated` does.
pub(super) const OUTDATED: &str =
    "Show registry plugins that have newer versions (downloads no code)";
/// What `plugins lock` does.
pub(super) const LOCK: &str = "Write the registry plugins installed, by digest, to a lock file";
/// What `plugins sync` does.
pub(super) const SYNC: &str = "Install, replace and remove registry plugins to match the lock file";
/// What `plugins export` does.
pub(super) const EXPORT: &str =
    "Write the locked plugins as an OCI image layout, for machines without network";

/// What `plugins sign` does.
pub(super) const SIGN: &str =
    "Sign a published plugin version, or attach a signature made elsewhere";
/// What `plugins trust` does.
pub(super) const TRUST: &str = "Keep the publishers' keys you trust, each for a registry prefix";

/// What `plugins catalog` does.
pub(super) const CATALOG: &str = "Build, add and update signed catalogs of plugins";
/// What `plugins search` does.
pub(super) const SEARCH: &str = "Search the catalogs' plugins (offline, from the copies fetched)";
/// What `plugins audit` does.
pub(super) const AUDIT: &str =
    "Report yanked, unsigned or mis-signed plugins, writable files and broad grants";

/// The commands that only the registry build runs.
#[cfg_attr(feature = "registry", allow(dead_code))]
const COMMANDS: &[(&str, &str)] = &[
    ("publish", PUBLISH),
    ("outdated", OUTDATED),
    ("lock", LOCK),
    ("sync", SYNC),
    ("export", EXPORT),
    ("sign", SIGN),
    ("trust", TRUST),
    ("catalog", CATALOG),
    ("search", SEARCH),
    ("audit", AUDIT),
];

/// Whether `source` names an artifact, which only the registry build
/// installs.
pub(super) fn is_artifact(source: &str) -> bool {
    source.starts_with("oci://") || source.starts_with("oci-layout://")
}

/// Whether `text` is a plugin name (`NAME` or `NAME@REQ`) rather than a
/// path or a reference.
pub(super) fn is_plugin_name(text: &str) -> bool {
    let name = text.split_once('@').map_or(text, |(n, _)| n);
    crate::manifest::is_valid_name(name) && !std::path::Path::new(text).exists()
}

/// Whether `source` may name a plugin of a catalog (`NAME` or
/// `NAME@REQ`, not a file, with catalogs added), which only the registry
/// build reads.
#[cfg(not(feature = "registry"))]
pub(super) fn names_a_catalog_plugin(engine: &Engine, source: &str) -> bool {
    is_plugin_name(source)
        && engine.host.registry_helper.is_some()
        && engine
            .host
            .paths
            .catalogs_dir()
            .join(crate::paths::CATALOG_LIST_FILE)
            .is_file()
}

/// The registry commands as listed by a build that hands them over: each
/// takes whatever follows it (`--help` included) to the helper.
#[cfg(not(feature = "registry"))]
pub(super) fn listed(engine: &Engine) -> Vec<clap::Command> {
    if engine.host.registry_helper.is_none() {
        return Vec::new();
    }
    COMMANDS
        .iter()
        .map(|(name, about)| {
            clap::Command::new(*name)
                .about(*about)
                .disable_help_flag(true)
                .arg(
                    clap::Arg::new("args")
                        .num_args(0..)
                        .trailing_var_arg(true)
                        .allow_hyphen_values(true)
                        .value_name("ARGS"),
                )
        })
        .collect()
}

/// Whether `name` is a registry command.
#[cfg(not(feature = "registry"))]
pub(super) fn is_registry_command(name: &str) -> bool {
    COMMANDS.iter().any(|(n, _)| *n == name)
}

/// Runs this command line in the registry helper, or says why it cannot.
#[cfg(not(feature = "registry"))]
pub(super) fn hand_over(engine: &Engine, what: &str) -> Result {
    use crate::diagnostic::Diagnostic;
    let ns = engine.ns();
    let Some(helper) = &engine.host.registry_helper else {
        return Err(Diagnostic::new(format!(
            "cannot {what}: this {ns} was built without registry support"
        ))
        .with_fix("use a build of it with the registry feature")
        .into());
    };
    let file = format!("{helper}{}", std::env::consts::EXE_SUFFIX);
    let path = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join(&file)));
    let Some(path) = path.filter(|p| p.is_file()) else {
        return Err(Diagnostic::new(format!(
            "cannot {what}: {ns} runs registry commands with `{file}`, which is not installed beside it"
        ))
        .with_fix(format!("install {ns} again, with {file} in the same directory"))
        .into());
    };
    let mut command = std::process::Command::new(&path);
    command.args(std::env::args_os().skip(1));
    run(command, &path, what)
}

#[cfg(all(unix, not(feature = "registry")))]
fn run(mut command: std::process::Command, path: &std::path::Path, what: &str) -> Result {
    use std::os::unix::process::CommandExt;
    // The helper takes this process's place: its output, prompts and exit
    // status are the command's, and its usage lines name this program.
    if let Some(name) = std::env::args_os().next() {
        command.arg0(name);
    }
    let e = command.exec();
    Err(crate::diagnostic::Diagnostic::new(format!(
        "cannot {what}: cannot start {}: {e}",
        path.display()
    ))
    .with_fix("check that the file is executable")
    .into())
}

#[cfg(all(not(unix), not(feature = "registry")))]
fn run(mut command: std::process::Command, path: &std::path::Path, what: &str) -> Result {
    let status = command.status().map_err(|e| {
        crate::diagnostic::Diagnostic::new(format!(
            "cannot {what}: cannot start {}: {e}",
            path.display()
        ))
        .with_fix("check that the file is executable")
    })?;
    let code = status.code().unwrap_or(1).clamp(0, 255) as u8;
    Ok(std::process::ExitCode::from(code))
}

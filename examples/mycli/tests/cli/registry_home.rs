//! A home that installs from a registry: `mycli` run in it with no
//! registry credentials from the environment that runs the tests, plugins
//! published to the registry, what the home holds, and the refusal every
//! failed command must be (one line with its fix, the home unchanged).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::publisher_keys::Keys;
use crate::registry::{Auth, Registry};
use crate::support::{Home, entries_under, native_plugin, one_line, stderr, stdout};

/// The variable that gives mycli a user name for every registry.
pub const USER_VAR: &str = "MYCLI_REGISTRY_USERNAME";
/// The variable that gives mycli a password for every registry.
pub const PASSWORD_VAR: &str = "MYCLI_REGISTRY_PASSWORD";
/// The variable that gives mycli the password of a signing key.
const SIGNING_PASSWORD_VAR: &str = "MYCLI_SIGNING_PASSWORD";

/// `mycli` in `h` with no credentials from the environment that runs the
/// tests: no credential or signing password variables, and a Docker
/// configuration directory that does not exist.
pub fn mycli(h: &Home) -> assert_cmd::Command {
    without_credentials(h, h.mycli())
}

/// The last `mycli ...` command the fix of `message` quotes, ready to run
/// in `h` as [`mycli`] runs.
pub fn fix_command(h: &Home, message: &str) -> assert_cmd::Command {
    without_credentials(h, h.fix_command(message))
}

/// `cmd` with the credential and signing password variables removed and
/// `DOCKER_CONFIG` pointing where nothing is.
fn without_credentials(h: &Home, mut cmd: assert_cmd::Command) -> assert_cmd::Command {
    cmd.env_remove(USER_VAR)
        .env_remove(PASSWORD_VAR)
        .env_remove(SIGNING_PASSWORD_VAR)
        .env("DOCKER_CONFIG", h.scratch("no-docker-config"));
    cmd
}

/// `mycli ARGS` in `h`, run to its end.
pub fn run(h: &Home, args: &[&str]) -> Output {
    mycli(h).args(args).output().expect("mycli runs")
}

/// `mycli ARGS` in `h`, which must succeed; its stdout.
#[track_caller]
pub fn ok(h: &Home, args: &[&str]) -> String {
    stdout(&ok_output(h, args))
}

/// `mycli ARGS` in `h`, which must succeed; all it wrote.
#[track_caller]
pub fn ok_output(h: &Home, args: &[&str]) -> Output {
    let out = run(h, args);
    assert!(
        out.status.success(),
        "mycli {} failed: {}",
        args.join(" "),
        stderr(&out)
    );
    out
}

/// An anonymous registry and a publisher's keys made in `h`: what a test
/// of signed plugins starts from; `None` (the test is skipped) where the
/// registry or the tools that make the keys are not installed.
pub fn registry_and_keys(h: &Home) -> Option<(Registry, Keys)> {
    let registry = Registry::start(Auth::Anonymous)?;
    let keys = Keys::make(h)?;
    Some((registry, keys))
}

/// Compiles plugin `name` `version` needing host API `^1.0` and publishes
/// it to `repo` of `registry`, signed with key file `sign` when given; the
/// output of publish.
pub fn publish(
    h: &Home,
    registry: &Registry,
    repo: &str,
    name: &str,
    version: &str,
    sign: Option<&str>,
) -> Output {
    publish_for_api(h, registry, repo, name, version, "^1.0", sign)
}

/// [`publish`] for a plugin needing host API `api`.
pub fn publish_for_api(
    h: &Home,
    registry: &Registry,
    repo: &str,
    name: &str,
    version: &str,
    api: &str,
    sign: Option<&str>,
) -> Output {
    let file = native_plugin(
        &h.scratch(&format!("{repo}/{name}-{version}")),
        name,
        version,
        api,
    );
    let target = registry.oci(repo);
    let file = file.to_str().expect("a UTF-8 path");
    let mut args = vec!["plugins", "publish", &target, file];
    if let Some(key) = sign {
        args.extend(["--sign", key]);
    }
    ok_output(h, &args)
}

/// Asserts that plugin `name` runs as version `version`.
#[track_caller]
pub fn assert_runs(h: &Home, name: &str, version: &str) {
    mycli(h)
        .arg(name)
        .assert()
        .success()
        .stdout(format!("{name} {version} ran\n"));
}

/// What a refused command must leave as it found it: `plugins.json`, and
/// every directory and file (with its bytes) under `installed/`,
/// `catalogs/` and the download cache's blobs.
const WATCHED: &[&str] = &["installed", "catalogs", "cache/oci/blobs/sha256"];

/// The files and directories of a home: `plugins.json` and all under some
/// of its directories, by path under the home, files with their bytes.
struct HomeState(BTreeMap<PathBuf, Option<Vec<u8>>>);

impl HomeState {
    /// `plugins.json` and all under the directories `roots` of `h`.
    fn of(h: &Home, roots: &[&str]) -> HomeState {
        let home = h.home();
        let mut found = BTreeMap::new();
        found.insert(PathBuf::from("plugins.json"), fs::read(h.index()).ok());
        for root in roots {
            for entry in entries_under(&home.join(root)) {
                let relative = Path::new(root).join(entry);
                let path = home.join(&relative);
                let bytes = if path.is_dir() {
                    None
                } else {
                    Some(fs::read(&path).expect("read a file of the home"))
                };
                found.insert(relative, bytes);
            }
        }
        HomeState(found)
    }

    /// The paths that are not the same in `self` and `other`: added,
    /// removed or changed.
    fn changes(&self, other: &HomeState) -> Vec<PathBuf> {
        let mut paths: Vec<&PathBuf> = self.0.keys().chain(other.0.keys()).collect();
        paths.sort();
        paths.dedup();
        paths
            .into_iter()
            .filter(|p| self.0.get(*p) != other.0.get(*p))
            .cloned()
            .collect()
    }
}

/// Runs `mycli ARGS` in `h`, which must be refused in one line with its
/// fix, holding each of `words`, and leave `h` as it found it, the blobs of
/// its download cache too, with nothing half-written there either;
/// returns the line.
#[track_caller]
pub fn refused(h: &Home, args: &[&str], words: &[&str]) -> String {
    let before = HomeState::of(h, WATCHED);
    let out = run(h, args);
    let line = refusal_line(&out);
    for word in words {
        assert!(
            line.contains(word),
            "the line does not say {word:?}: {line}"
        );
    }
    let changes = before.changes(&HomeState::of(h, WATCHED));
    assert!(changes.is_empty(), "the home changed: {changes:?} ({line})");
    assert_nothing_half_written(h, &line);
    line
}

/// Asserts that `out` failed and wrote one line, `mycli: error: WHAT; fix:
/// FIX`; returns the line.
#[track_caller]
pub fn refusal_line(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "it succeeded: {}{}",
        stdout(out),
        stderr(out)
    );
    let line = one_line(&stderr(out));
    assert!(line.starts_with("mycli: error: "), "{line}");
    assert!(line.contains("; fix: "), "{line}");
    line
}

/// Asserts that the download cache of `h` holds no file half-written (a
/// `.partial-` name) after the refusal `line`.
#[track_caller]
pub fn assert_nothing_half_written(h: &Home, line: &str) {
    let partial: Vec<PathBuf> = entries_under(&h.home().join("cache/oci"))
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".partial-"))
        .collect();
    assert!(partial.is_empty(), "half-written: {partial:?} ({line})");
}

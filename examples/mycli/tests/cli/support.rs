//! Test support: a throw-away `MYCLI_HOME`, the real built binaries, and
//! plugin scripts written on the fly.

// On Windows only the areas that need no Unix tools run (main.rs), and
// they use part of this.
#![cfg_attr(windows, allow(dead_code))]

use std::fs;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};
use std::sync::OnceLock;

use assert_cmd::Command;
use sha2::{Digest, Sha256};

/// The example plugin packages the tests run.
const PLUGINS: &[&str] = &[
    // Not a plugin: mycli built with the registry feature, which mycli
    // hands its registry commands to.
    "mycli-registry",
    "mycli-greet",
    "mycli-stats",
    "mycli-broken",
    "mycli-stale",
    "mycli-crashy",
];

/// The directory holding the built binaries (target/debug).
pub fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mycli"))
        .parent()
        .expect("the mycli binary lives in a directory")
        .to_path_buf()
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `cargo build ARGS -p PACKAGE...` from the repository root, unless
/// the caller (`cargo xtask test`) already built everything.
fn cargo_build(args: &[&str], packages: &[&str], what: &str) {
    if std::env::var_os("SNAPIN_TEST_PREBUILT").is_some() {
        return;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = StdCommand::new(cargo);
    cmd.current_dir(repo())
        .args(["build", "--quiet"])
        .args(args);
    for p in packages {
        cmd.args(["-p", p]);
    }
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "building {what} failed");
}

/// Builds the example plugins once per test process.
fn ensure_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| cargo_build(&[], PLUGINS, "the example plugins"));
}

/// Builds `mycli-registry`, which `mycli` runs the registry commands in
/// (with the example plugins, once per test process).
pub fn ensure_registry_helper() {
    ensure_built();
}

/// The WebAssembly example plugins (package names).
pub const WASM_PLUGINS: &[&str] = &[
    "mycli-wstats",
    "mycli-wescape",
    "mycli-wbomb",
    "mycli-wfuture",
    "mycli-wnotaplugin",
];

/// Builds the WebAssembly examples for wasm32-wasip2 once per test process.
fn ensure_wasm_built() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo_build(
            &["--release", "--target", "wasm32-wasip2"],
            WASM_PLUGINS,
            "the WebAssembly examples (is the target installed? `rustup target add wasm32-wasip2`)",
        )
    });
}

/// cargo's target directory: `target`, above `target/debug`, or above
/// `target/x86_64-pc-windows-gnu/debug` when the tests are built for
/// another target (`cargo xtask wine`).
pub fn target_dir() -> PathBuf {
    let above_profile = bin_dir()
        .parent()
        .expect("target/debug has a parent")
        .to_path_buf();
    let cross = above_profile
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.matches('-').count() >= 2);
    match above_profile.parent() {
        Some(root) if cross => root.to_path_buf(),
        _ => above_profile,
    }
}

/// The component built from example `name` (`wstats` →
/// target/wasm32-wasip2/release/mycli_wstats.wasm). Release builds are
/// ten times smaller, so compiling them at install is quick.
pub fn wasm_example(name: &str) -> PathBuf {
    ensure_wasm_built();
    let dir = target_dir().join("wasm32-wasip2/release");
    let library = dir.join(format!("mycli_{name}.wasm"));
    let binary = dir.join(format!("mycli-{name}.wasm"));
    let path = if library.exists() { library } else { binary };
    assert!(path.exists(), "{} is not built", path.display());
    path
}

/// The path of example plugin `name` (`greet` → target/debug/mycli-greet,
/// with `.exe` on Windows).
pub fn example(name: &str) -> PathBuf {
    ensure_built();
    let path = bin_dir().join(format!("mycli-{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(path.exists(), "{} is not built", path.display());
    path
}

/// Whether `tool` is installed: `tool PROBE...` runs and succeeds. When it
/// does not, the test cannot do its work: under CI (`CI` set, as `.ci/run`
/// sets it, and `.ci/run` installs every tool the tests use) the test
/// fails; elsewhere it is [`skipped`], loudly, and the caller returns.
pub fn require_tool(tool: &str, probe: &[&str], needed_for: &str) -> bool {
    let works = StdCommand::new(tool)
        .args(probe)
        .stdin(std::process::Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        return true;
    }
    let reason = format!(
        "`{tool} {}` does not work here ({needed_for})",
        probe.join(" ")
    );
    if std::env::var_os("CI").is_some() {
        panic!("{reason}; CI installs it: see .ci/run");
    }
    skipped(&reason);
    false
}

/// Records that the running test skipped its work for `reason`: a
/// `SKIPPED: TEST: REASON` line on stderr and, when `cargo xtask test`
/// runs the tests, in the file `SNAPIN_TEST_SKIPS` names, which it lists
/// at the end of the run, so that a skip never passes for a pass.
pub fn skipped(reason: &str) {
    use std::io::Write;
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed test)")
        .to_string();
    let line = format!("SKIPPED: {test}: {reason}\n");
    eprint!("{line}");
    if let Some(file) = std::env::var_os("SNAPIN_TEST_SKIPS") {
        // One short append per skip: whole lines, even from parallel tests.
        let mut skips = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&file)
            .expect("open the skip list");
        skips
            .write_all(line.as_bytes())
            .expect("write the skip list");
    }
}

/// A throw-away `MYCLI_HOME` with a scratch directory beside it.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    /// A home with `greet` installed: the good plugin that must keep
    /// working beside a hostile or broken one.
    pub fn with_greet() -> Home {
        let h = Home::new();
        h.install(&example("greet"));
        h
    }

    /// Asserts that `greet` still runs and prints what it should.
    pub fn assert_greet_runs(&self) {
        self.mycli()
            .args(["greet", "--who", "still"])
            .assert()
            .success()
            .stdout("hello, still\n");
    }

    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn index(&self) -> PathBuf {
        self.home().join("plugins.json")
    }

    /// A scratch path outside the home.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join("scratch");
        fs::create_dir_all(&dir).expect("scratch dir");
        dir.join(name)
    }

    /// `mycli` with this home, no colour and no inherited snapin variables.
    pub fn mycli(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mycli"));
        cmd.env("MYCLI_HOME", self.home())
            .env("NO_COLOR", "1")
            .env_remove("SNAPIN_CONTEXT")
            .env_remove("SNAPIN_HOST")
            .env_remove("SNAPIN_API")
            .env_remove("RUST_LOG");
        cmd
    }

    /// `mycli plugins install PATH --yes`, to add more arguments to.
    pub fn install_cmd(&self, path: &Path) -> Command {
        let mut cmd = self.mycli();
        cmd.args(["plugins", "install"]).arg(path).arg("--yes");
        cmd
    }

    /// Installs the plugin file at `path` with `--yes`, asserting success.
    pub fn install(&self, path: &Path) {
        self.install_cmd(path).assert().success();
    }

    /// Copies example plugin `name` into the scratch directory, so a test
    /// can change or delete it.
    pub fn copy_example(&self, name: &str) -> PathBuf {
        let to = self.scratch(&format!("mycli-{name}{}", std::env::consts::EXE_SUFFIX));
        fs::copy(example(name), &to).expect("copy plugin");
        to
    }

    /// Writes an executable POSIX sh plugin: `manifest` is printed on
    /// `--snapin-describe`, `body` runs otherwise.
    #[cfg(unix)]
    pub fn script(&self, file: &str, manifest: &str, body: &str) -> PathBuf {
        let path = self.scratch(file);
        let text = format!(
            "#!/bin/sh\nif [ \"$1\" = --snapin-describe ]; then\ncat <<'MANIFEST'\n{manifest}\nMANIFEST\nexit 0\nfi\n{body}\n"
        );
        write_executable(&path, &text);
        path
    }

    /// Runs `mycli ARGS` on a real pseudo-terminal (through `script`),
    /// typing `input`; `None` (the test is skipped, see [`require_tool`])
    /// where `script` is not installed. The output is the terminal's:
    /// prompts and results together.
    pub fn on_terminal(&self, args: &str, input: &str) -> Option<std::process::Output> {
        if !require_tool("script", &["--version"], "it makes the terminal") {
            return None;
        }
        let line = format!("{} {args}", env!("CARGO_BIN_EXE_mycli"));
        let out = Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env("MYCLI_HOME", self.home())
            .env("NO_COLOR", "1")
            .write_stdin(input)
            .output()
            .expect("script runs");
        Some(out)
    }

    /// The `plugins list --json` rows.
    pub fn list(&self) -> Vec<serde_json::Value> {
        let out = self
            .mycli()
            .args(["plugins", "list", "--json"])
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("list --json is JSON")
    }

    /// `text` with what varies from run to run replaced, for snapshots:
    /// this home → `[HOME]`, the rest of its temporary directory → `[TMP]`
    /// (so a scratch file is `[TMP]/scratch/NAME`), cargo's target
    /// directory → `[TARGET]` (`[TARGET]/debug/mycli-greet`), the
    /// repository → `[REPO]`, and sha256 digests, whole or shortened to 12
    /// digits, → `[SHA256]`. On Windows, what differs from Unix goes too:
    /// each path is also matched in its canonical form (under wine,
    /// `Z:\work\...` for `/work/...`), `\` becomes `/` and `.exe` goes, so
    /// one snapshot serves both.
    pub fn redact(&self, text: &str) -> String {
        let target = bin_dir()
            .parent()
            .expect("target/debug has a parent")
            .to_path_buf();
        let repo = repo();
        let mut text = text.to_string();
        // Inner paths first: the target directory may be inside the
        // repository.
        for (path, name) in [
            (self.home(), "[HOME]"),
            (self.dir.path().to_path_buf(), "[TMP]"),
            (target, "[TARGET]"),
            (target_dir().join("wasm32-wasip2"), "[TARGET]/wasm32-wasip2"),
            (repo, "[REPO]"),
        ] {
            for form in path_forms(&path) {
                text = text.replace(&form, name);
            }
        }
        if cfg!(windows) {
            text = text.replace('\\', "/").replace(".exe", "");
        }
        redact_digests(&text)
    }

    /// What a user reads of a finished command, redacted, for snapshots:
    /// `[exit N]` (or `[signal N]`) and stderr.
    pub fn outcome(&self, out: &Output) -> String {
        #[cfg(unix)]
        let signal = std::os::unix::process::ExitStatusExt::signal(&out.status);
        #[cfg(not(unix))]
        let signal: Option<i32> = None;
        let status = match (out.status.code(), signal) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(signal)) => format!("signal {signal}"),
            (None, None) => "no status".to_string(),
        };
        let err = self.redact(&stderr(out));
        format!("[{status}] {}", err.trim_end())
            .trim_end()
            .to_string()
    }

    /// The last `mycli ...` command a message's fix quotes in backticks,
    /// ready to run in this home as a user would paste it.
    pub fn fix_command(&self, message: &str) -> Command {
        let quoted = quoted_in_fix(message)
            .filter(|q| q.starts_with("mycli "))
            .last()
            .unwrap_or_else(|| panic!("no `mycli ...` command in the fix of {message:?}"));
        let mut cmd = self.mycli();
        cmd.args(quoted.split_whitespace().skip(1));
        cmd
    }

    /// Runs the last `mycli ...` command the fix of `message` quotes in
    /// backticks through `sh`, pasted as written (quotes and all), with
    /// this build's `mycli` first on PATH and this home as its home.
    pub fn paste_fix(&self, message: &str) -> Output {
        let command = quoted_in_fix(message)
            .filter(|q| q.starts_with("mycli "))
            .last()
            .unwrap_or_else(|| panic!("no `mycli ...` command in the fix of {message:?}"));
        let path = std::env::var("PATH").unwrap_or_default();
        StdCommand::new("sh")
            .args(["-c", command])
            .env("PATH", format!("{}:{path}", bin_dir().display()))
            .env("MYCLI_HOME", self.home())
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("sh runs")
    }

    /// The one file this home installed for plugin `name`.
    pub fn installed_file(&self, name: &str) -> PathBuf {
        let dir = self.home().join("installed").join(name);
        let versions: Vec<PathBuf> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(
            versions.len(),
            1,
            "one directory per installed plugin: {versions:?}"
        );
        let files: Vec<PathBuf> = fs::read_dir(&versions[0])
            .expect("read")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files[0].clone()
    }

    /// The row of plugin `name` in `plugins list --json`.
    pub fn row(&self, name: &str) -> serde_json::Value {
        self.list()
            .into_iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("no plugin {name} in the list"))
    }
}

/// A manifest for host mycli with one command.
pub fn manifest(name: &str, command: &str, api: &str) -> String {
    format!(
        r#"{{"manifest":1,"host":"mycli","name":"{name}","version":"1.0.0","api":"{api}","commands":[{{"name":"{command}","about":"The {command} command","args":[{{"name":"level","long":"level","help":"How much"}},{{"name":"item","help":"What"}}]}}]}}"#
    )
}

/// stdout as a string.
pub fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What the fix of `message` (after `; fix: `) quotes in backticks.
fn quoted_in_fix(message: &str) -> impl Iterator<Item = &str> {
    let (_, fix) = message
        .rsplit_once("; fix: ")
        .unwrap_or_else(|| panic!("no fix in {message:?}"));
    fix.split('`').skip(1).step_by(2)
}

/// Runs the shell command a message's fix quotes last in backticks, as a
/// user would paste it, asserting that it succeeds.
pub fn run_quoted_fix(message: &str) {
    let quoted = quoted_in_fix(message)
        .last()
        .unwrap_or_else(|| panic!("no quoted command in the fix of {message:?}"));
    let status = StdCommand::new("sh")
        .args(["-c", quoted])
        .status()
        .expect("sh runs");
    assert!(status.success(), "the fix `{quoted}` failed");
}

/// The single line of `text`, asserting there is exactly one: what a
/// failure must print.
pub fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line:\n{text}");
    lines[0].to_string()
}

/// stderr as a string.
pub fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every path under `dir` (files and directories), relative to it, in
/// order; none when `dir` does not exist.
pub fn entries_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                todo.push(path.clone());
            }
            found.push(path.strip_prefix(dir).expect("under dir").to_path_buf());
        }
    }
    found.sort();
    found
}

/// How `path` may appear in what mycli prints: as given and canonical
/// (symbolic links resolved; on Windows without the `\\?\` prefix).
fn path_forms(path: &Path) -> Vec<String> {
    let mut forms = vec![path.to_string_lossy().into_owned()];
    if let Ok(canonical) = path.canonicalize() {
        let canonical = canonical.to_string_lossy();
        forms.push(
            canonical
                .strip_prefix(r"\\?\")
                .unwrap_or(&canonical)
                .to_string(),
        );
    }
    forms
}

/// `sha256:HEX` of `bytes`, as OCI names blobs and manifests.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// `text` with each run of exactly 12 or 64 lower-case hex digits (a
/// shortened or whole sha256) replaced by `[SHA256]`.
fn redact_digests(text: &str) -> String {
    let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_hex) {
        let (before, from) = rest.split_at(start);
        let len = from.find(|c: char| !is_hex(c)).unwrap_or(from.len());
        let word_before = before
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric);
        let word_after = from[len..]
            .chars()
            .next()
            .is_some_and(char::is_alphanumeric);
        out.push_str(before);
        if matches!(len, 12 | 64) && !word_before && !word_after {
            out.push_str("[SHA256]");
        } else {
            out.push_str(&from[..len]);
        }
        rest = &from[len..];
    }
    out.push_str(rest);
    out
}

/// Writes `text` to `path` and makes it executable.
#[cfg(unix)]
pub fn write_executable(path: &Path, text: &str) {
    fs::write(path, text).expect("write script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn redact_digests_replaces_whole_and_short_sha256_only() {
    let whole = "0123456789abcdef".repeat(4);
    let text =
        format!("sha256 {whole}, pinned 0123456789ab, 0123456789abc, x0123456789ab, 1048576");
    assert_eq!(
        redact_digests(&text),
        "sha256 [SHA256], pinned [SHA256], 0123456789abc, x0123456789ab, 1048576"
    );
}

/// Compiles a real executable plugin with the C compiler Rust links with:
/// `dir/mycli-NAME`, describing itself as `NAME` `VERSION` needing host
/// API `API`, with one command `NAME` that prints `NAME VERSION ran`.
/// Each version is a different file, as a release would be.
pub fn native_plugin(dir: &Path, name: &str, version: &str, api: &str) -> PathBuf {
    // The registry commands the tests of such plugins run need the helper.
    ensure_built();
    fs::create_dir_all(dir).expect("create the build directory");
    let source = dir.join(format!("{name}-{version}.c"));
    let manifest = format!(
        r#"{{"manifest":1,"host":"mycli","name":"{name}","version":"{version}","api":"{api}","description":"Says {name}","commands":[{{"name":"{name}","about":"Say {name}"}}]}}"#
    )
    .replace('\\', "\\\\")
    .replace('"', "\\\"");
    fs::write(
        &source,
        format!(
            "#include <stdio.h>\n#include <string.h>\nint main(int argc, char **argv) {{\n  if (argc > 1 && strcmp(argv[1], \"--snapin-describe\") == 0) {{ puts(\"{manifest}\"); return 0; }}\n  puts(\"{name} {version} ran\");\n  return 0;\n}}\n"
        ),
    )
    .expect("write the plugin source");
    let out = dir.join(format!("mycli-{name}"));
    let status = StdCommand::new(std::env::var("CC").unwrap_or_else(|_| "cc".to_string()))
        .args(["-O1", "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .expect("the C compiler runs");
    assert!(status.success(), "compiling {} failed", source.display());
    out
}

/// A copy of the ELF executable `from` at `to` whose header names another
/// machine (arm64 for an x86-64 file, x86-64 otherwise): a build for a
/// platform this machine cannot run, for publishing several platforms.
#[cfg(unix)]
pub fn other_machine_copy(from: &Path, to: &Path) {
    let mut bytes = fs::read(from).expect("read the executable");
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    let other: u16 = if machine == 0x3e { 0xb7 } else { 0x3e };
    bytes[18..20].copy_from_slice(&other.to_le_bytes());
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).expect("create the directory");
    }
    fs::write(to, bytes).expect("write the copy");
    fs::set_permissions(to, fs::Permissions::from_mode(0o755)).expect("chmod");
}

//! Plugins built for API 1.0, kept in tests/compat/api-1.0 and never
//! changed, run on this mycli through describe, help, completion, run and
//! exit status; and a manifest from a later minor, with fields this host
//! does not know, still loads (docs/protocol.md, "Versions of the
//! contract").

use std::fs;
use std::path::{Path, PathBuf};

use predicates::str::contains;

use crate::complete::{bash, have, script};
use crate::support::{Home, repo, sha256, stderr, stdout};

/// A fixture of API `api` (`1.0`), as committed.
fn fixture(api: &str, file: &str) -> PathBuf {
    repo()
        .join("tests/compat")
        .join(format!("api-{api}"))
        .join(file)
}

/// Installs `plugin` (a fixture) and checks what every plugin of the
/// contract gets: describe (`plugins info` shows what it said), help from
/// the manifest, completion of its options, the gate's choice of API.
fn installed(h: &Home, plugin: &Path, name: &str, command: &str, option: &str) {
    h.install(plugin);
    let row = h.row(name);
    assert_eq!(row["status"], "ok", "{row}");
    h.mycli()
        .args(["plugins", "info", name])
        .assert()
        .success()
        .stdout(contains("api:          ^1.0 (mycli provides "));
    h.mycli()
        .args([command, "--help"])
        .assert()
        .success()
        .stdout(contains(format!("Usage: mycli {command}")))
        .stdout(contains(format!("--{option}")));
    if have("bash") {
        let script = script(h, "bash");
        let candidates = bash(h, &script, &format!("mycli {command} --"));
        assert!(
            candidates.iter().any(|c| c == &format!("--{option}")),
            "{candidates:?}"
        );
    }
}

#[test]
fn a_component_built_for_api_1_0_runs_here() {
    let h = Home::new();
    let wstats = fixture("1.0", "mycli_wstats.wasm");
    installed(&h, &wstats, "wstats", "wstats", "mean");
    h.mycli()
        .args(["wstats", "4", "--mean"])
        .assert()
        .success()
        .stdout("sum 0..4 = 10\nmean = 2\n");
    // Its own failure keeps its exit status and message.
    let out = h
        .mycli()
        .args(["wstats", "18446744073709551615"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not fit in 64 bits"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_sh_plugin_written_for_api_1_0_runs_here() {
    let h = Home::new();
    let hello = fixture("1.0", "mycli-hello");
    installed(&h, &hello, "hello", "hello", "upper");
    let out = h
        .mycli()
        .args(["hello", "--upper", "compat"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let api = h
        .mycli()
        .arg("version")
        .output()
        .expect("run mycli version");
    let api = stdout(&api);
    let api = api
        .split("plugin API ")
        .nth(1)
        .and_then(|rest| rest.strip_suffix(")\n"))
        .expect("mycli version names its API");
    assert_eq!(
        stdout(&out),
        format!("hello from sh, COMPAT\nhost=mycli api={api}\n")
    );
}

/// Each manifest exactly as an API 1.0 SDK printed it, behind a plugin
/// that exits 7 when run: it installs, its commands get their help, and
/// the status passes through.
#[test]
fn manifests_printed_by_the_api_1_0_sdks_load_here() {
    let dir = fixture("1.0", "manifests");
    let mut seen = 0;
    for file in fs::read_dir(&dir).expect("read the fixtures") {
        let path = file.expect("read the fixtures").path();
        let manifest = fs::read_to_string(&path).expect("read a fixture");
        let json: serde_json::Value = serde_json::from_str(&manifest).expect("a fixture is JSON");
        assert_eq!(json["api"], "^1.0", "{}", path.display());
        let name = json["name"].as_str().expect("a name");
        let command = json["commands"][0]["name"].as_str().expect("a command");
        let h = Home::new();
        let plugin = h.script(&format!("mycli-{name}"), manifest.trim_end(), "exit 7");
        h.mycli()
            .args(["plugins", "check"])
            .arg(&plugin)
            .assert()
            .success();
        h.install(&plugin);
        h.mycli()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(contains(format!("Usage: mycli {command}")));
        let required: Vec<&str> = json["commands"][0]["args"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|a| a["required"] == true)
            .map(|_| "1")
            .collect();
        let out = h
            .mycli()
            .arg(command)
            .args(&required)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(7), "{}: {}", name, stderr(&out));
        seen += 1;
    }
    assert_eq!(seen, 3, "greet, stats and wstats");
}

/// A plugin written for a later minor uses fields this host does not know:
/// with a requirement this host meets it loads, the fields are ignored,
/// and `-v` names them.
#[test]
fn a_later_minor_field_is_ignored_and_reported_at_v() {
    let h = Home::new();
    let manifest = r#"{"manifest":1,"host":"mycli","name":"later","version":"1.0.0","api":"^1.0","homepage":"https://example.com","commands":[{"name":"later","args":[{"name":"token","long":"token","sensitive":true}]}]}"#;
    let plugin = h.script("mycli-later", manifest, "echo ran \"$@\"");
    let out = h.install_cmd(&plugin).arg("-v").output().expect("install");
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(log.contains("homepage"), "{log}");
    assert!(log.contains("sensitive"), "{log}");
    h.mycli()
        .args(["later", "--token", "x"])
        .assert()
        .success()
        .stdout("ran later --token x\n");
    // Without -v, nothing is said about them.
    let quiet = h.mycli().args(["later"]).output().expect("run");
    assert!(quiet.status.success());
    assert_eq!(stderr(&quiet), "");
}

/// The first way the fixtures under `repo`'s tests/compat break the rule
/// (edited, deleted, or not listed in SHA256SUMS), with its fix.
fn fixtures_kept(repo: &Path) -> Result<(), String> {
    let root = repo.join("tests/compat");
    let sums = fs::read_to_string(root.join("SHA256SUMS")).map_err(|e| e.to_string())?;
    let mut listed = Vec::new();
    for line in sums.lines() {
        let (digest, file) = line
            .split_once("  ")
            .ok_or(format!("not a sha256sum line: {line}"))?;
        let bytes = fs::read(root.join(file)).map_err(|e| {
            format!(
                "tests/compat/{file} is gone ({e}): fixtures are never deleted (docs/protocol.md, \"Versions of the contract\"); restore it with `git checkout -- tests/compat/{file}`"
            )
        })?;
        if sha256(&bytes) != format!("sha256:{digest}") {
            return Err(format!(
                "tests/compat/{file} changed: fixtures are never edited; restore it with `git checkout -- tests/compat/{file}`, and fix the host instead"
            ));
        }
        listed.push(file.to_string());
    }
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| e.to_string())? {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let file = path.strip_prefix(&root).map_err(|e| e.to_string())?;
            let file = file.to_string_lossy();
            if file != "SHA256SUMS" && file != "README.md" && !listed.iter().any(|l| *l == file) {
                return Err(format!(
                    "tests/compat/{file} is not in SHA256SUMS: add it with `cd tests/compat && sha256sum {file} >> SHA256SUMS`"
                ));
            }
        }
    }
    Ok(())
}

/// The fixtures are never edited or deleted, and a new one is listed:
/// tests/compat/SHA256SUMS holds each file's digest (`sha256sum` format).
#[test]
fn every_fixture_is_kept_byte_for_byte() {
    if let Err(e) = fixtures_kept(&repo()) {
        panic!("{e}");
    }
}

/// Each way of breaking the rule is caught in a copy of the fixtures kept
/// in git, and the command its message gives, run as written from the
/// copy's root, puts it right.
#[test]
fn the_fixes_for_a_broken_fixture_work_when_copied() {
    if !crate::support::require_tool("git", &["--version"], "the fix restores a fixture with it") {
        return;
    }
    let copy = tempfile::tempdir().expect("temp dir");
    let root = copy.path();
    let sh = |line: &str| {
        let out = std::process::Command::new("sh")
            .args(["-c", line])
            .current_dir(root)
            .output()
            .expect("sh runs");
        assert!(out.status.success(), "{line}: {}", stderr(&out));
    };
    sh(&format!(
        "mkdir tests && cp -R '{}' tests/compat && git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm fixtures",
        repo().join("tests/compat").display()
    ));
    assert_eq!(fixtures_kept(root), Ok(()));
    let fixed_by_its_command = |breakage: &str| {
        sh(breakage);
        let message = fixtures_kept(root).expect_err(breakage);
        let fix = message.split('`').nth(1).expect("a command in backticks");
        sh(fix);
        assert_eq!(fixtures_kept(root), Ok(()), "{breakage}: {fix}");
    };
    fixed_by_its_command("rm tests/compat/api-1.0/mycli-hello");
    fixed_by_its_command("echo >> tests/compat/api-1.2/manifest.json");
    fixed_by_its_command(
        "mkdir -p tests/compat/api-1.4 && echo '{}' > tests/compat/api-1.4/manifest.json",
    );
}

//! End-to-end tests of sandboxed plugins: real components built from the
//! example crates for wasm32-wasip2, run by the real `mycli`.

use std::fs;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{Home, stderr, stdout, wasm_example};

/// Installs component `name` with `extra` install arguments.
fn install(h: &Home, name: &str, extra: &[&str]) {
    h.install_cmd(&wasm_example(name))
        .args(extra)
        .assert()
        .success();
}

fn write_config(h: &Home, text: &str) {
    let dir = h.home().join("config");
    fs::create_dir_all(&dir).expect("config dir");
    fs::write(dir.join("config.toml"), text).expect("write config");
}

fn cached_artifacts(h: &Home) -> Vec<std::path::PathBuf> {
    let dir = h.home().join("cache/compiled");
    let mut found: Vec<_> = fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "cwasm"));
    found
}

#[test]
fn a_component_installs_compiled_and_runs_like_an_executable() {
    let h = Home::new();
    install(&h, "wstats", &[]);
    assert_eq!(
        cached_artifacts(&h).len(),
        1,
        "install compiles ahead of time"
    );
    let row = h.row("wstats");
    assert_eq!(row["kind"], "wasm");
    assert_eq!(row["status"], "ok");
    assert_eq!(row["commands"], serde_json::json!(["wstats"]));

    h.mycli()
        .args(["wstats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
    h.mycli()
        .args(["wstats", "--mean", "4"])
        .assert()
        .success()
        .stdout(contains("sum 0..4 = 10").and(contains("mean = 2")));
    // Usage errors come from the cached manifest, as for executables.
    h.mycli()
        .arg("wstats")
        .assert()
        .code(2)
        .stderr(contains("Usage: mycli wstats"));
    let out = h.mycli().args(["plugins", "list"]).output().unwrap();
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("wstats ") && l.contains(" wasm ")),
        "{}",
        stdout(&out)
    );
}

#[test]
fn host_functions_log_into_the_host_and_read_plugin_config() {
    let h = Home::new();
    install(&h, "wstats", &[]);
    write_config(&h, "[plugins.wstats.config]\ngreeting = \"good morning\"\n");
    let out = h.mycli().args(["--debug", "wstats", "3"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "good morning\nsum 0..3 = 6\n");
    assert!(
        stderr(&out).contains("mycli: debug: plugin 'wstats': "),
        "{}",
        stderr(&out)
    );
    // Without --debug, the plugin's debug records stay hidden.
    h.mycli()
        .args(["wstats", "3"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn escape_attempts_are_denied_without_grants() {
    // The network, against a port that listens: see
    // promises::a_component_cannot_connect_to_a_port_that_accepts_connections.
    let h = Home::new();
    install(&h, "wescape", &[]);
    let secret_dir = h.scratch("secret");
    fs::create_dir_all(&secret_dir).unwrap();
    fs::write(secret_dir.join("note.txt"), "top secret").unwrap();

    for args in [
        vec!["wread", "/etc/passwd"],
        vec!["wread", secret_dir.join("note.txt").to_str().unwrap()],
        vec!["wls", "/"],
        vec!["wenv", "SNAPIN_TEST_SECRET"],
        vec!["wenv", "PATH"],
        vec!["wwrite", secret_dir.join("x").to_str().unwrap(), "x"],
    ] {
        let out = h
            .mycli()
            .args(&args)
            .env("SNAPIN_TEST_SECRET", "hunter2")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(!stdout(&out).contains("root:"), "{args:?} read /etc/passwd");
        assert!(!stdout(&out).contains("top secret"), "{args:?}");
        assert!(!stdout(&out).contains("hunter2"), "{args:?}");
        assert_eq!(
            stderr(&out).lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
    }
    assert!(!secret_dir.join("x").exists());
    h.mycli().args(["plugins", "doctor"]).assert().success();
}

// Unix only: on Windows the component sees a granted directory under its
// Windows path, which WASI's `/`-separated lookup does not match (README,
// "Platforms").
#[cfg(unix)]
#[test]
fn a_granted_directory_is_readable_and_nothing_else() {
    let h = Home::new();
    let shared = h.scratch("shared");
    fs::create_dir_all(&shared).unwrap();
    fs::write(shared.join("a.txt"), "granted content").unwrap();
    let grant = format!("read={}", shared.display());
    install(
        &h,
        "wescape",
        &["--grant", &grant, "--grant", "env=SNAPIN_TEST_SECRET"],
    );
    h.mycli()
        .args(["plugins", "info", "wescape"])
        .assert()
        .success()
        .stdout(contains(format!("grants:       read {}", shared.display())))
        .stdout(contains("env SNAPIN_TEST_SECRET"));

    let grants = &h.row("wescape")["grants"];
    assert_eq!(grants["dirs"][0]["path"], shared.to_str().unwrap());
    assert_eq!(grants["dirs"][0]["write"], false);
    assert_eq!(grants["env"], serde_json::json!(["SNAPIN_TEST_SECRET"]));

    let file = shared.join("a.txt");
    h.mycli()
        .args(["wread", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout(contains("granted content"));
    h.mycli()
        .args(["wls", shared.to_str().unwrap()])
        .assert()
        .success()
        .stdout("a.txt\n");
    h.mycli()
        .args(["wenv", "SNAPIN_TEST_SECRET"])
        .env("SNAPIN_TEST_SECRET", "hunter2")
        .assert()
        .success()
        .stdout(contains("hunter2"));
    // Read-only: writing is refused; and nothing outside is reachable.
    h.mycli()
        .args(["wwrite", shared.join("new.txt").to_str().unwrap(), "x"])
        .assert()
        .code(1);
    assert!(!shared.join("new.txt").exists());
    h.mycli().args(["wread", "/etc/passwd"]).assert().code(1);
    h.mycli()
        .args(["wenv", "PATH"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("/").not());
}

// Unix only: it grants /tmp.
#[cfg(unix)]
#[test]
fn grants_must_match_requests() {
    let h = Home::new();
    let lines: Vec<String> = [
        ("wescape", "env=HOME"),
        ("wescape", "write=/tmp"),
        ("wstats", "sideways=1"),
    ]
    .into_iter()
    .map(|(name, grant)| {
        let out = h
            .install_cmd(&wasm_example(name))
            .args(["--grant", grant])
            .output()
            .unwrap();
        h.outcome(&out)
    })
    .collect();
    // The fix of a refused grant names what can be granted, and granting
    // that works (below, once the refusals are shown to leave no index).
    assert!(lines[0].contains("; fix: grant only what it asks for (read a directory (files to read when granted), env SNAPIN_TEST_SECRET), or leave out --grant"), "{}", lines[0]);
    insta::assert_snapshot!(lines.join("\n"), @r#"
    [exit 1] Plugin 'wescape' 0.1.0 (wasm)
      Tries to leave its sandbox
      path:     [TARGET]/wasm32-wasip2/release/mycli_wescape.wasm
      origin:   path [TARGET]/wasm32-wasip2/release/mycli_wescape.wasm
      sha256:   [SHA256]
      api:      ^1.0 (mycli provides 1.3.0)
      commands: wread, wls, wenv, wnet, wwrite
      requests: read a directory (files to read when granted), env SNAPIN_TEST_SECRET
      grants:   env HOME
    It runs in a sandbox: no files, network or environment beyond what is granted.
    mycli: error: plugin 'wescape' does not ask for the environment variable HOME, so it cannot be granted; fix: grant only what it asks for (read a directory (files to read when granted), env SNAPIN_TEST_SECRET), or leave out --grant
    [exit 1] Plugin 'wescape' 0.1.0 (wasm)
      Tries to leave its sandbox
      path:     [TARGET]/wasm32-wasip2/release/mycli_wescape.wasm
      origin:   path [TARGET]/wasm32-wasip2/release/mycli_wescape.wasm
      sha256:   [SHA256]
      api:      ^1.0 (mycli provides 1.3.0)
      commands: wread, wls, wenv, wnet, wwrite
      requests: read a directory (files to read when granted), env SNAPIN_TEST_SECRET
      grants:   write /tmp
    It runs in a sandbox: no files, network or environment beyond what is granted.
    mycli: error: plugin 'wescape' does not ask for write access to a directory, so /tmp cannot be granted; fix: grant only what it asks for (read a directory (files to read when granted), env SNAPIN_TEST_SECRET), or leave out --grant
    [exit 1] mycli: error: --grant "sideways=1" is not understood; fix: use read=DIR, write=DIR or env=NAME
    "#);
    assert!(!h.index().exists());
    h.install_cmd(&wasm_example("wescape"))
        .args(["--grant", "env=SNAPIN_TEST_SECRET"])
        .assert()
        .success();
}

#[test]
fn traps_loops_and_memory_bombs_end_the_run_with_one_line() {
    let h = Home::new();
    install(&h, "wbomb", &[]);
    write_config(&h, "[plugins.wbomb]\ncpu-seconds = 1\nmemory-mib = 32\n");
    let index_before = fs::read(h.index()).unwrap();

    let out = h.mycli().arg("wloop").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 124] mycli: error: plugin 'wbomb' ran longer than its limit of 1 s and was stopped while running `mycli wloop`; fix: if it needs longer, set `cpu-seconds` under [plugins.wbomb] in [HOME]/config/config.toml");

    // What the plugin itself wrote before it was stopped is left out.
    let out = h.mycli().arg("walloc").output().unwrap();
    let err = h.redact(&stderr(&out));
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("mycli: ")).collect();
    let status = out.status.code().unwrap_or(-1);
    insta::assert_snapshot!(format!("[exit {status}] {}", ours.join("\n")), @"[exit 137] mycli: error: plugin 'wbomb' tried to use more than its memory limit of 32 MiB and was stopped while running `mycli walloc`; fix: if it needs more, set `memory-mib` under [plugins.wbomb] in [HOME]/config/config.toml");

    let out = h.mycli().arg("wtrap").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 134] mycli: error: plugin 'wbomb' crashed (WebAssembly trap: wasm trap: wasm `unreachable` instruction executed) while running `mycli wtrap`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable wbomb`");

    let out = h.mycli().arg("wpanic").output().unwrap();
    assert_eq!(out.status.code(), Some(134), "{}", stderr(&out));
    assert!(stderr(&out).contains("wbomb: deliberate panic"));
    assert!(stderr(&out).contains("plugin 'wbomb' crashed"));

    // The host is healthy and the index untouched.
    assert_eq!(fs::read(h.index()).unwrap(), index_before);
    h.mycli().args(["plugins", "doctor"]).assert().success();
}

#[test]
fn a_corrupt_or_missing_cache_entry_is_rebuilt() {
    let h = Home::new();
    install(&h, "wstats", &[]);
    let artifacts = cached_artifacts(&h);
    assert_eq!(artifacts.len(), 1);
    let artifact = &artifacts[0];
    let good = fs::read(artifact).unwrap();

    // Same length, flipped bytes in the middle: only the digest recorded in
    // the index can tell.
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    for b in &mut bad[mid..mid + 64] {
        *b ^= 0xff;
    }
    fs::write(artifact, &bad).unwrap();
    h.mycli()
        .args(["wstats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
    assert_eq!(fs::read(artifact).unwrap(), good, "the entry was rebuilt");

    fs::remove_file(artifact).unwrap();
    h.mycli()
        .args(["wstats", "2"])
        .assert()
        .success()
        .stdout("sum 0..2 = 3\n");
    assert!(artifact.exists());
}

#[test]
fn wrong_kinds_of_component_are_refused_with_the_reason() {
    let h = Home::new();
    let core = h.scratch("core.wasm");
    fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let lines: Vec<String> = [wasm_example("wfuture"), wasm_example("wnotaplugin"), core]
        .iter()
        .map(|path| h.outcome(&h.install_cmd(path).output().unwrap()))
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @"
    [exit 1] mycli: error: cannot install plugin 'wfuture': it could not describe itself: it is built for snapin:plugin@2.0.0, but this host runs snapin:plugin@1.0.0 components; fix: install a release of the plugin built for snapin:plugin@1.x (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'wnotaplugin': it could not describe itself: it is not a snapin plugin: the component does not export snapin:plugin/guest (it exports: wasi:cli/run@0.2.0); fix: build it with snapin-guest, or against the world `plugin` of snapin:plugin@1.0.0 (snapin-guest's wit/snapin-plugin.wit) (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: [TMP]/scratch/core.wasm is not a plugin: it is a core WebAssembly module, not a component; fix: build it as a component: `cargo build --release --target wasm32-wasip2` (see docs/protocol.md §12), or wrap the module with `wasm-tools component new`
    ");
    assert!(!h.index().exists());
}

#[test]
fn a_changed_component_is_refused_until_upgrade() {
    let h = Home::new();
    let copy = h.scratch("mycli_wstats.wasm");
    fs::copy(wasm_example("wstats"), &copy).unwrap();
    h.install(&copy);
    // Append a custom section: still a valid component, different bytes.
    let mut bytes = fs::read(&copy).unwrap();
    bytes.extend_from_slice(&[0, 5, 4, b'n', b'o', b't', b'e']);
    fs::write(&copy, bytes).unwrap();
    let out = h.mycli().args(["wstats", "1"]).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'wstats' cannot run: its file [TMP]/scratch/mycli_wstats.wasm changed since it was pinned (sha256 [SHA256] at install, [SHA256] now), so it is not run; fix: if you trust the new file, re-pin it: `mycli plugins upgrade wstats`");
    h.mycli()
        .args(["plugins", "upgrade", "wstats", "--yes"])
        .assert()
        .success();
    h.mycli()
        .args(["wstats", "1"])
        .assert()
        .success()
        .stdout("sum 0..1 = 1\n");
}

#[cfg(unix)]
#[test]
fn on_a_terminal_install_asks_for_each_requested_capability() {
    let h = Home::new();
    let shared = h.scratch("shared");
    fs::create_dir_all(&shared).unwrap();
    let args = format!("plugins install {}", wasm_example("wescape").display());
    let Some(out) = h.on_terminal(&args, &format!("{}\ny\ny\n", shared.display())) else {
        return;
    };
    let screen = stdout(&out);
    assert!(
        screen.contains(
            "requests: read a directory (files to read when granted), env SNAPIN_TEST_SECRET"
        ),
        "{screen}"
    );
    assert!(screen.contains("It asks to read a directory"), "{screen}");
    assert!(
        screen.contains("It asks to read $SNAPIN_TEST_SECRET. Allow? [y/N]"),
        "{screen}"
    );
    assert!(screen.contains("installed plugin 'wescape'"), "{screen}");
    h.mycli()
        .args(["plugins", "info", "wescape"])
        .assert()
        .success()
        .stdout(contains(format!(
            "grants:       read {}, env SNAPIN_TEST_SECRET",
            shared.canonicalize().unwrap().display()
        )));
}

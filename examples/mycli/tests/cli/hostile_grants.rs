//! Grants and the compiled-code cache under attack: machine code replaced
//! in the cache, grants that reach the host's own directories or the whole
//! home directory, and `plugins grant`/`revoke` that change grants.

use std::fs;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{Home, example, one_line, stderr, stdout, wasm_example};

/// The compiled-code cache entry of installed component `name`.
fn artifact_of(h: &Home, name: &str) -> PathBuf {
    let sha = h.row(name)["sha256"].as_str().expect("sha256").to_string();
    let dir = h.home().join("cache/compiled");
    fs::read_dir(&dir)
        .expect("cache dir")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "cwasm")
                && p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(&sha))
        })
        .unwrap_or_else(|| panic!("no cache entry for {name}"))
}

/// The index with `change` applied to plugin `name`'s entry, as an older
/// version (or a hand edit) might have left it.
fn edit_entry(h: &Home, name: &str, change: impl FnOnce(&mut serde_json::Value)) {
    let bytes = fs::read(h.index()).expect("read the index");
    let mut index: serde_json::Value = serde_json::from_slice(&bytes).expect("the index is JSON");
    let entry = index["plugins"]
        .as_array_mut()
        .and_then(|plugins| plugins.iter_mut().find(|e| e["name"] == name))
        .expect("the plugin is in the index");
    change(entry);
    let bytes = serde_json::to_vec_pretty(&index).expect("encode the index");
    fs::write(h.index(), bytes).expect("write the index");
}

/// A home with the component `wstats` and the executable `greet` (the
/// good plugin beside the hostile one).
fn home_with_good_plugins() -> Home {
    let h = Home::new();
    h.install(&example("greet"));
    h.install(&wasm_example("wstats"));
    h
}

fn good_plugins_still_run(h: &Home) {
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
    h.mycli()
        .args(["wstats", "3"])
        .assert()
        .success()
        .stdout("sum 0..3 = 6\n");
}

/// What the host says, past the block that shows what is installed.
fn said(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("mycli: "))
        .collect();
    lines.join("\n")
}

#[test]
fn machine_code_put_into_the_cache_is_never_loaded() {
    let h = home_with_good_plugins();
    h.install(&wasm_example("wescape"));
    let target = artifact_of(&h, "wstats");
    let genuine = fs::read(&target).unwrap();
    let index_before = fs::read(h.index()).unwrap();
    let other_code = fs::read(artifact_of(&h, "wescape")).unwrap();
    // What a plugin granted the cache directory could write: another
    // component's valid machine code, bytes made up, an empty file; each
    // with the checksum file that older versions trusted beside it.
    let mut crafted = genuine.clone();
    let mid = crafted.len() / 2;
    crafted[mid..mid + 16]
        .copy_from_slice(b"\xcc\xcc\xcc\xcc\xcc\xcc\xcc\xcc\x0f\x0b\x0f\x0b\xcc\xcc\xcc\xcc");
    for fake in [other_code, crafted, Vec::new()] {
        fs::write(&target, &fake).unwrap();
        let digest = sha256_hex(&fake);
        fs::write(target.with_extension("cwasm.sha256"), digest).unwrap();
        let out = h.mycli().args(["wstats", "10"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), "sum 0..10 = 55\n");
        let line = one_line(&stderr(&out));
        assert!(
            line.starts_with("mycli: warning: plugin 'wstats': its machine code in the cache")
                && line.contains("compiled again from the pinned component"),
            "{line}"
        );
        assert_eq!(
            fs::read(&target).unwrap(),
            genuine,
            "the entry was put back"
        );
        assert_eq!(h.row("wstats")["status"], "ok");
        assert_eq!(fs::read(h.index()).unwrap(), index_before);
        // Put back: the next run is quiet.
        h.mycli()
            .args(["wstats", "1"])
            .assert()
            .success()
            .stderr("");
    }
    good_plugins_still_run(&h);
}

#[test]
fn an_entry_without_a_recorded_digest_is_compiled_again_until_upgrade() {
    let h = home_with_good_plugins();
    edit_entry(&h, "wstats", |e| {
        e.as_object_mut().unwrap().remove("compiled_sha256");
    });
    let target = artifact_of(&h, "wstats");
    // Even with nothing recorded, whatever the cache holds is not loaded.
    fs::write(&target, b"not machine code").unwrap();
    let index_before = fs::read(h.index()).unwrap();
    let out = h.mycli().args(["wstats", "4"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "sum 0..4 = 10\n");
    let line = one_line(&stderr(&out));
    assert!(line.contains("is compiled on every run"), "{line}");
    assert_eq!(
        fs::read(h.index()).unwrap(),
        index_before,
        "a run never writes the index"
    );
    // The fix records the digest; then runs are quiet and load the cache.
    h.fix_command(&line)
        .arg("--yes")
        .assert()
        .success()
        .stdout(contains("is up to date"));
    let index: serde_json::Value = serde_json::from_slice(&fs::read(h.index()).unwrap()).unwrap();
    let recorded = index["plugins"][1]["compiled_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(recorded, sha256_hex(&fs::read(&target).unwrap()));
    h.mycli()
        .args(["wstats", "4"])
        .assert()
        .success()
        .stderr("");
    good_plugins_still_run(&h);
}

/// The hex sha256 of `bytes`, as `sha256sum` prints it.
fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child
        .stdin
        .take()
        .expect("a pipe")
        .write_all(bytes)
        .expect("write to sha256sum");
    let out = child.wait_with_output().expect("sha256sum ends");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("sha256sum prints a digest")
        .to_string()
}

#[test]
fn grants_reaching_the_host_directories_are_refused() {
    let h = home_with_good_plugins();
    let home = h.home();
    let link = h.scratch("looks-innocent");
    std::os::unix::fs::symlink(&home, &link).unwrap();
    let compiled = home.join("cache/compiled");
    let all_plugins = home.join("plugins");
    fs::create_dir_all(&all_plugins).unwrap();
    let other_plugin_data = home.join("plugins/wstats");
    fs::create_dir_all(&other_plugin_data).unwrap();
    let index_before = fs::read(h.index()).unwrap();
    let mut lines = Vec::new();
    for dir in [&home, &compiled, &all_plugins, &other_plugin_data, &link] {
        let out = h
            .install_cmd(&wasm_example("wescape"))
            .arg("--grant")
            .arg(format!("read={}", dir.display()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        lines.push(one_line(&said(&h.redact(&stderr(&out)))));
        assert_eq!(fs::read(h.index()).unwrap(), index_before);
    }
    insta::assert_snapshot!(lines.join("\n"), @"
    mycli: error: cannot install plugin 'wescape': a grant of read access to [HOME] would let plugin 'wescape' read mycli's own files: [HOME] is mycli's data directory (the plugin index); fix: grant a directory outside mycli's own; for files of its own, its data directory: `mkdir -p [HOME]/plugins/wescape` and grant that
    mycli: error: cannot install plugin 'wescape': a grant of read access to [HOME]/cache/compiled would let plugin 'wescape' read mycli's own files: [HOME]/cache/compiled lies inside mycli's cache directory [HOME]/cache (the compiled code of components); fix: grant a directory outside mycli's own; for files of its own, its data directory: `mkdir -p [HOME]/plugins/wescape` and grant that
    mycli: error: cannot install plugin 'wescape': a grant of read access to [HOME]/plugins would let plugin 'wescape' read mycli's own files: [HOME]/plugins lies inside mycli's data directory [HOME] (the plugin index); fix: grant a directory outside mycli's own; for files of its own, its data directory: `mkdir -p [HOME]/plugins/wescape` and grant that
    mycli: error: cannot install plugin 'wescape': a grant of read access to [HOME]/plugins/wstats would let plugin 'wescape' read mycli's own files: [HOME]/plugins/wstats lies inside mycli's data directory [HOME] (the plugin index); fix: grant a directory outside mycli's own; for files of its own, its data directory: `mkdir -p [HOME]/plugins/wescape` and grant that
    mycli: error: cannot install plugin 'wescape': a grant of read access to [HOME] would let plugin 'wescape' read mycli's own files: [HOME] is mycli's data directory (the plugin index); fix: grant a directory outside mycli's own; for files of its own, its data directory: `mkdir -p [HOME]/plugins/wescape` and grant that
    ");
    good_plugins_still_run(&h);

    // The fix: the plugin's own data directory, created first.
    let own = home.join("plugins/wescape");
    assert!(lines[0].contains(&format!(
        "`mkdir -p {}` and grant that",
        "[HOME]/plugins/wescape"
    )));
    fs::create_dir_all(&own).unwrap();
    fs::write(own.join("note.txt"), "own data").unwrap();
    h.install_cmd(&wasm_example("wescape"))
        .arg("--grant")
        .arg(format!("read={}", own.display()))
        .assert()
        .success();
    h.mycli()
        .args(["wread", own.join("note.txt").to_str().unwrap()])
        .assert()
        .success()
        .stdout("own data");
    // Even through its own directory the host's files are out of reach.
    h.mycli()
        .args(["wread", h.index().to_str().unwrap()])
        .assert()
        .code(1);
    good_plugins_still_run(&h);
}

#[test]
fn a_grant_of_the_host_directories_recorded_before_is_not_used() {
    let h = home_with_good_plugins();
    h.install(&wasm_example("wescape"));
    // Write access to the cache, as an older version let a user grant it.
    let cache = h.home().join("cache");
    edit_entry(&h, "wescape", |e| {
        e["grants"] = serde_json::json!({"dirs": [{"path": cache, "write": true}], "env": []});
    });
    let index_before = fs::read(h.index()).unwrap();
    let out = h
        .mycli()
        .args(["wwrite", cache.join("x").to_str().unwrap(), "x"])
        .output()
        .unwrap();
    let line = one_line(&stderr(&out));
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'wescape' cannot run: a grant of write access to [HOME]/cache would let plugin 'wescape' change what mycli runs: [HOME]/cache is mycli's cache directory (the compiled code of components); fix: take the grant back: `mycli plugins revoke wescape write=[HOME]/cache`");
    assert!(!cache.join("x").exists());
    assert_eq!(fs::read(h.index()).unwrap(), index_before);
    // list and doctor say what the run does, with the same fix.
    let row = h.row("wescape");
    assert_eq!(
        (&row["status"], &row["check"]),
        (&"error".into(), &"grants".into())
    );
    let doctor = h.mycli().args(["plugins", "doctor"]).output().unwrap();
    assert_eq!(doctor.status.code(), Some(1));
    assert!(
        h.redact(&stdout(&doctor)).contains(
            "fix: take the grant back: `mycli plugins revoke wescape write=[HOME]/cache`"
        ),
        "{}",
        stdout(&doctor)
    );
    good_plugins_still_run(&h);
    // The fix takes the grant back, and the plugin runs again.
    h.fix_command(&line).assert().success();
    h.mycli()
        .args(["wls", "/"])
        .assert()
        .code(1)
        .stderr(contains("wls: cannot list /"));
    assert_eq!(h.row("wescape")["grants"]["dirs"], serde_json::json!([]));
    assert_eq!(h.row("wescape")["status"], "ok");
}

#[test]
fn a_grant_of_the_whole_home_directory_is_warned_about_and_asked_again() {
    let h = Home::new();
    h.install(&example("greet"));
    let user_home = h.scratch("user");
    let notes = user_home.join("notes");
    fs::create_dir_all(&notes).unwrap();
    let user_home = user_home.canonicalize().unwrap();
    let scratch = user_home.parent().unwrap().to_path_buf();
    let mut lines = Vec::new();
    for dir in [Path::new("/"), &scratch, &user_home] {
        // Without a terminal only --yes goes past the second question.
        let out = h
            .install_cmd(&wasm_example("wescape"))
            .env("HOME", &user_home)
            .arg("--grant")
            .arg(format!("read={}", dir.display()))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        lines.push(one_line(&said(&h.redact(&stderr(&out)))));
        h.mycli()
            .args(["plugins", "remove", "wescape"])
            .assert()
            .success();
        let index_before = fs::read(h.index()).unwrap();
        let mut install = h.mycli();
        install
            .args(["plugins", "install"])
            .arg(wasm_example("wescape"))
            .env("HOME", &user_home)
            .arg("--grant")
            .arg(format!("read={}", dir.display()));
        let out = install.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(fs::read(h.index()).unwrap(), index_before);
    }
    insta::assert_snapshot!(lines.join("\n"), @"
    mycli: warning: --grant read=/ lets plugin 'wescape' read every file in your home directory [TMP]/scratch/user, keys and passwords included: grant only the directory it needs
    mycli: warning: --grant read=[TMP]/scratch lets plugin 'wescape' read every file in your home directory [TMP]/scratch/user, keys and passwords included: grant only the directory it needs
    mycli: warning: --grant read=[TMP]/scratch/user lets plugin 'wescape' read every file in your home directory [TMP]/scratch/user, keys and passwords included: grant only the directory it needs
    ");
    // A directory inside the home is not.
    h.install_cmd(&wasm_example("wescape"))
        .env("HOME", &user_home)
        .arg("--grant")
        .arg(format!("read={}", notes.display()))
        .assert()
        .success()
        .stderr(contains("warning").not());
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
}

#[test]
fn grants_are_changed_with_grant_and_revoke() {
    let h = home_with_good_plugins();
    h.install(&wasm_example("wescape"));
    let shared = h.scratch("shared");
    fs::create_dir_all(&shared).unwrap();
    fs::write(shared.join("a.txt"), "granted content").unwrap();
    let file = shared.join("a.txt");
    h.mycli()
        .args(["wread", file.to_str().unwrap()])
        .assert()
        .code(1);

    // Installing again with --grant names the command that changes grants.
    let out = h
        .install_cmd(&wasm_example("wescape"))
        .arg("--grant")
        .arg(format!("read={}", shared.display()))
        .output()
        .unwrap();
    let line = one_line(&stderr(&out));
    assert!(line.contains("is already installed"), "{line}");
    h.fix_command(&line)
        .arg("--yes")
        .assert()
        .success()
        .stdout(format!(
            "plugin 'wescape' is granted: read {}\n",
            shared.display()
        ));
    h.mycli()
        .args(["wread", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout("granted content");
    h.mycli()
        .args([
            "plugins",
            "grant",
            "wescape",
            "env=SNAPIN_TEST_SECRET",
            "--yes",
        ])
        .assert()
        .success();
    h.mycli()
        .args(["wenv", "SNAPIN_TEST_SECRET"])
        .env("SNAPIN_TEST_SECRET", "hunter2")
        .assert()
        .success()
        .stdout("hunter2\n");

    // Refused like install's --grant, and the index is untouched.
    let index_before = fs::read(h.index()).unwrap();
    let mut lines = Vec::new();
    for args in [
        vec!["wescape".to_string(), format!("write={}", shared.display())],
        vec!["wescape".to_string(), "env=HOME".to_string()],
        vec![
            "wescape".to_string(),
            format!("read={}", h.home().display()),
        ],
        vec!["greet".to_string(), format!("read={}", shared.display())],
        vec!["nosuch".to_string(), "env=HOME".to_string()],
        vec!["wescape".to_string(), "net=all".to_string()],
    ] {
        let out = h
            .mycli()
            .args(["plugins", "grant"])
            .args(&args)
            .arg("--yes")
            .output()
            .unwrap();
        lines.push(h.outcome(&out));
        assert_eq!(fs::read(h.index()).unwrap(), index_before);
    }
    // Without a terminal, only --yes says yes.
    let more = h.scratch("more");
    fs::create_dir_all(&more).unwrap();
    let out = h
        .mycli()
        .args([
            "plugins",
            "grant",
            "wescape",
            &format!("read={}", more.display()),
        ])
        .output()
        .unwrap();
    let outcome = h.outcome(&out);
    lines.push(outcome.lines().last().unwrap_or_default().to_string());
    assert_eq!(fs::read(h.index()).unwrap(), index_before);
    insta::assert_snapshot!(lines.join("\n"), @r#"
    [exit 1] mycli: error: plugin 'wescape' does not ask for write access to a directory, so [TMP]/scratch/shared cannot be granted; fix: grant only what it asks for (read a directory (files to read when granted), env SNAPIN_TEST_SECRET), or leave out --grant
    [exit 1] mycli: error: plugin 'wescape' does not ask for the environment variable HOME, so it cannot be granted; fix: grant only what it asks for (read a directory (files to read when granted), env SNAPIN_TEST_SECRET), or leave out --grant
    [exit 1] mycli: error: cannot grant that to plugin 'wescape': a grant of read access to [HOME] would let plugin 'wescape' read mycli's own files: [HOME] is mycli's data directory (the plugin index); fix: grant a directory outside mycli's own; for files of its own, its data directory: `mkdir -p [HOME]/plugins/wescape` and grant that
    [exit 1] mycli: error: --grant applies to sandboxed (WebAssembly) plugins only: 'greet' is an executable and already runs with all your permissions; fix: leave out --grant
    [exit 1] mycli: error: no plugin named 'nosuch' is installed (installed: greet, wstats, wescape); fix: see `mycli plugins list`
    [exit 1] mycli: error: --grant "net=all" is not understood; fix: use read=DIR, write=DIR or env=NAME
    mycli: error: not confirmed: stdin is not a terminal, so mycli cannot ask; fix: re-run with --yes if you trust this plugin
    "#);

    // revoke takes back one grant, then the rest.
    h.mycli()
        .args([
            "plugins",
            "revoke",
            "wescape",
            &format!("read={}", shared.display()),
        ])
        .assert()
        .success()
        .stdout("plugin 'wescape' is granted: env SNAPIN_TEST_SECRET\n");
    h.mycli()
        .args(["wread", file.to_str().unwrap()])
        .assert()
        .code(1);
    let out = h
        .mycli()
        .args(["plugins", "revoke", "wescape", "env=HOME"])
        .output()
        .unwrap();
    let line = one_line(&stderr(&out));
    assert!(line.contains("holds no grant of env=HOME"), "{line}");
    h.fix_command(&line)
        .assert()
        .success()
        .stdout(contains("grants:       env SNAPIN_TEST_SECRET"));
    h.mycli()
        .args(["plugins", "revoke", "wescape", "--all"])
        .assert()
        .success()
        .stdout("plugin 'wescape' is granted: nothing\n");
    h.mycli()
        .args(["wenv", "SNAPIN_TEST_SECRET"])
        .env("SNAPIN_TEST_SECRET", "hunter2")
        .assert()
        .code(1);
    // A directory that is gone can still be taken back.
    let gone = h.scratch("gone");
    fs::create_dir_all(&gone).unwrap();
    h.mycli()
        .args([
            "plugins",
            "grant",
            "wescape",
            &format!("read={}", gone.display()),
            "--yes",
        ])
        .assert()
        .success();
    fs::remove_dir(&gone).unwrap();
    h.mycli()
        .args([
            "plugins",
            "revoke",
            "wescape",
            &format!("read={}", gone.display()),
        ])
        .assert()
        .success()
        .stdout("plugin 'wescape' is granted: nothing\n");
    good_plugins_still_run(&h);
}

#[test]
fn upgrade_keeps_no_grant_it_must_not_and_its_fixes_work() {
    let h = home_with_good_plugins();
    let copy = h.scratch("mycli_wescape.wasm");
    fs::copy(wasm_example("wescape"), &copy).unwrap();
    h.install(&copy);
    let changed = || {
        // A new release: still a valid component, different bytes.
        let mut bytes = fs::read(&copy).unwrap();
        bytes.extend_from_slice(&[0, 5, 4, b'n', b'o', b't', b'e']);
        fs::write(&copy, bytes).unwrap();
    };
    changed();
    // Grants an older version let through: one the plugin does not ask
    // for, and one of the host's own cache directory.
    let cache = h.home().join("cache");
    for grants in [
        serde_json::json!({"dirs": [], "env": ["HOME"]}),
        serde_json::json!({"dirs": [{"path": cache, "write": false}], "env": []}),
    ] {
        edit_entry(&h, "wescape", |e| e["grants"] = grants);
        let index_before = fs::read(h.index()).unwrap();
        let out = h
            .mycli()
            .args(["plugins", "upgrade", "wescape", "--yes"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let line = one_line(&stderr(&out));
        assert!(line.contains("; fix: "), "{line}");
        assert_eq!(fs::read(h.index()).unwrap(), index_before);
        good_plugins_still_run(&h);
        h.fix_command(&line).assert().success();
        h.mycli()
            .args(["plugins", "upgrade", "wescape", "--yes"])
            .assert()
            .success()
            .stdout(contains("upgraded plugin 'wescape'"));
        assert_eq!(h.row("wescape")["grants"]["dirs"], serde_json::json!([]));
        assert_eq!(h.row("wescape")["grants"]["env"], serde_json::json!([]));
        changed();
    }
}

#[test]
fn on_a_terminal_grant_shows_the_change_and_a_broad_grant_is_asked_again() {
    let h = Home::new();
    h.install(&wasm_example("wescape"));
    let shared = h.scratch("shared");
    fs::create_dir_all(&shared).unwrap();
    let index_before = fs::read(h.index()).unwrap();
    // Granting `/`: the warning, the second question, answered no.
    let Some(out) = h.on_terminal("plugins grant wescape read=/", "n\n") else {
        return;
    };
    let screen = stdout(&out);
    assert!(
        screen.contains("mycli: warning: --grant read=/ lets plugin 'wescape' read every file"),
        "{screen}"
    );
    assert!(
        screen.contains("Really let 'wescape' read everything under /? [y/N]"),
        "{screen}"
    );
    assert!(
        screen.contains("not confirmed: nothing was changed"),
        "{screen}"
    );
    assert_eq!(fs::read(h.index()).unwrap(), index_before);
    // An ordinary directory: the grants before and after, then yes.
    let args = format!("plugins grant wescape read={}", shared.display());
    let Some(out) = h.on_terminal(&args, "y\n") else {
        return;
    };
    let screen = stdout(&out);
    let shared = shared.canonicalize().unwrap();
    assert!(
        screen.contains(&format!("grants:   nothing -> read {}", shared.display())),
        "{screen}"
    );
    assert!(
        screen.contains(&format!(
            "plugin 'wescape' is granted: read {}",
            shared.display()
        )),
        "{screen}"
    );
    assert!(!screen.contains("warning"), "{screen}");
}

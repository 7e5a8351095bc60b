//! Hostile plugin files: a file changed without changing its size or
//! times, on a filesystem whose stamps cannot be trusted, or reachable by
//! another user through a group that is not private or an ACL. Each test
//! asserts one clear line, an unchanged index, and that a good plugin
//! installed beside the hostile one still runs.

// The helpers below are test code too, so they may unwrap like the tests
// (clippy's test allowance covers only `#[test]` functions).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use predicates::str::contains;

use crate::support::{
    Home, example, manifest, require_tool, run_quoted_fix, stderr, stdout, write_executable,
};

/// A sh plugin `tamper` whose command prints `genuine`, written in `dir`.
fn genuine_plugin(dir: &Path) -> PathBuf {
    let path = dir.join("mycli-tamper");
    let text = format!(
        "#!/bin/sh\nif [ \"$1\" = --snapin-describe ]; then\ncat <<'MANIFEST'\n{}\nMANIFEST\nexit 0\nfi\necho genuine\n",
        manifest("tamper", "tamper", "^1.0")
    );
    write_executable(&path, &text);
    // File times tick in steps: a file changed in the step its pin is
    // taken in gets no stamp, and these tests are about the stamp.
    std::thread::sleep(Duration::from_millis(50));
    path
}

/// The same bytes, `genuine` swapped for `forgery`: the same size.
fn forged(path: &Path) -> Vec<u8> {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains("echo genuine"));
    text.replace("echo genuine", "echo forgery").into_bytes()
}

/// Installs `plugin` and the example `stats` beside it, runs `plugin`
/// once, and returns the index as it was then.
fn install_beside_a_good_plugin(h: &Home, plugin: &Path) -> Vec<u8> {
    h.install(plugin);
    h.install(&example("stats"));
    h.mycli()
        .arg("tamper")
        .assert()
        .success()
        .stdout("genuine\n");
    fs::read(h.index()).unwrap()
}

/// The changed plugin is refused in one line, `list` and `doctor` do not
/// call it ok, the index is as it was, the good plugin still runs, and the
/// fix (re-pinning, here after the user restored the file) works.
fn assert_caught(h: &Home, index: &[u8]) {
    let out = h.mycli().arg("tamper").output().unwrap();
    assert_eq!(stdout(&out), "", "the forged plugin ran");
    let outcome = h.outcome(&out);
    assert_eq!(outcome.lines().count(), 1, "{outcome}");
    assert!(
        outcome.starts_with("[exit 126] mycli: error: plugin 'tamper' cannot run: its file ")
            && outcome.contains(
                " changed since it was pinned (sha256 [SHA256] at install, [SHA256] now)"
            ),
        "{outcome}"
    );
    let row = h.row("tamper");
    assert_eq!(row["status"], "error");
    assert_eq!(row["check"], "integrity");
    h.mycli()
        .args(["plugins", "doctor"])
        .assert()
        .code(1)
        .stdout(contains("tamper: error: its file"));
    h.mycli()
        .args(["stats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");

    // The fix re-pins the file as it is now (with `--yes`: no terminal).
    h.fix_command(&outcome).arg("--yes").assert().success();
    h.mycli()
        .arg("tamper")
        .assert()
        .success()
        .stdout("forgery\n");
}

#[test]
fn a_same_size_edit_with_its_times_set_back_is_caught() {
    // A directory on the disk (the temporary directory may be a tmpfs,
    // where no stamp is kept).
    let disk = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let h = Home::new();
    let plugin = genuine_plugin(disk.path());
    let index = install_beside_a_good_plugin(&h, &plugin);
    let stamped: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let tamper = stamped["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "tamper")
        .unwrap();
    assert!(
        tamper["file"].is_object(),
        "install keeps a stamp on a disk filesystem: {tamper}"
    );

    // Same size, times set back as they were.
    let times = fs::metadata(&plugin).unwrap();
    let bytes = forged(&plugin);
    fs::write(&plugin, &bytes).unwrap();
    let file = fs::File::options().write(true).open(&plugin).unwrap();
    file.set_times(
        fs::FileTimes::new()
            .set_modified(times.modified().unwrap())
            .set_accessed(times.accessed().unwrap()),
    )
    .unwrap();
    drop(file);
    assert_eq!(fs::metadata(&plugin).unwrap().len(), times.len());
    assert_eq!(
        fs::metadata(&plugin).unwrap().modified().unwrap(),
        times.modified().unwrap()
    );
    assert_caught(&h, &index);
}

#[test]
fn a_file_on_tmpfs_edited_through_a_memory_map_is_caught() {
    // tmpfs changes neither size, times nor inode when a file is written
    // through a memory map.
    let shm = tempfile::tempdir_in("/dev/shm").expect("/dev/shm is a tmpfs on Linux");
    let h = Home::new();
    let plugin = genuine_plugin(shm.path());
    let index = install_beside_a_good_plugin(&h, &plugin);
    let before = fs::metadata(&plugin).unwrap();

    let edit = r#"
import mmap, sys
with open(sys.argv[1], "r+b") as f:
    m = mmap.mmap(f.fileno(), 0)
    at = m.find(b"echo genuine")
    m[at:at + 12] = b"echo forgery"
    m.flush()
    m.close()
"#;
    let status = std::process::Command::new("python3")
        .args(["-c", edit])
        .arg(&plugin)
        .status()
        .expect("python3 runs");
    assert!(status.success());
    let after = fs::metadata(&plugin).unwrap();
    {
        use std::os::unix::fs::MetadataExt;
        assert_eq!(
            (
                after.len(),
                after.mtime_nsec(),
                after.ctime_nsec(),
                after.ino()
            ),
            (
                before.len(),
                before.mtime_nsec(),
                before.ctime_nsec(),
                before.ino()
            ),
            "the edit changed the stamp: this tmpfs is not the one this test is about"
        );
    }
    assert_caught(&h, &index);
}

/// `setfacl ARGS PATH`, asserting it worked; false when setfacl is not
/// installed and the test is skipped (it fails under CI, see
/// [`require_tool`]).
fn setfacl(args: &[&str], path: &Path) -> bool {
    if !require_tool("setfacl", &["--version"], "the `acl` package sets ACLs") {
        return false;
    }
    let status = std::process::Command::new("setfacl")
        .args(args)
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "setfacl {args:?} {}", path.display());
    true
}

/// Installs `greet` in its own directory and `stats` beside it, gives
/// `acl_on(greet's file or directory)` an ACL with `entry`, and checks the
/// refusal, the list, the unchanged index, the good plugin, and the fix.
fn refused_for_its_acl(entry: &str, on_dir: bool, by: &str) {
    let h = Home::new();
    let dir = h.scratch("acl");
    fs::create_dir_all(&dir).unwrap();
    let greet = dir.join("mycli-greet");
    fs::copy(example("greet"), &greet).unwrap();
    h.install(&greet);
    h.install(&example("stats"));
    let index = fs::read(h.index()).unwrap();

    let target = if on_dir { dir.clone() } else { greet.clone() };
    if !setfacl(&["-m", entry], &target) {
        return;
    }
    let out = h.mycli().args(["greet", "--who", "x"]).output().unwrap();
    assert_eq!(stdout(&out), "");
    let subject = if on_dir {
        "the directory [TMP]/scratch/acl above its file"
    } else {
        "its file [TMP]/scratch/acl/mycli-greet"
    };
    let fixed = if on_dir {
        "[TMP]/scratch/acl"
    } else {
        "[TMP]/scratch/acl/mycli-greet"
    };
    assert_eq!(
        h.outcome(&out),
        format!(
            "[exit 126] mycli: error: plugin 'greet' cannot run: {subject} is writable by {by}, who could replace the plugin; fix: `chmod go-w {fixed}`"
        )
    );
    assert_eq!(h.row("greet")["status"], "error");
    assert_eq!(h.row("greet")["check"], "permissions");
    h.mycli()
        .args(["plugins", "doctor"])
        .assert()
        .code(1)
        .stdout(contains("greet: error: "));
    h.mycli()
        .args(["stats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    // Install refuses it too, before running it.
    let other = Home::new();
    other
        .install_cmd(&greet)
        .assert()
        .code(1)
        .stderr(contains(format!("is writable by {by}")));
    assert!(!other.index().exists());

    // The fix the message gives: chmod clears the ACL mask's write bit.
    run_quoted_fix(&stderr(&out));
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
}

#[test]
fn a_file_whose_acl_lets_another_user_write_is_refused() {
    refused_for_its_acl("u:65534:rwx", false, "user 65534 (through its ACL)");
}

#[test]
fn a_directory_whose_acl_lets_a_group_write_is_refused() {
    refused_for_its_acl("g:100:rwx", true, "group 100 (through its ACL)");
}

#[test]
fn an_acl_that_only_lets_others_read_is_fine() {
    let h = Home::new();
    let greet = h.copy_example("greet");
    if !setfacl(&["-m", "u:65534:r-x,g:100:r-x"], &greet) {
        return;
    }
    h.install(&greet);
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
    assert_eq!(h.row("greet")["status"], "ok");
}

// ------------------------------------------------- describe that escapes

/// Waits up to twenty seconds for a plugin to write `file`; its content.
fn wait_for(file: &Path) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = fs::read_to_string(file)
            && text.ends_with('\n')
        {
            return text.trim().to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_describe_whose_child_escapes_with_setsid_ends_promptly_naming_the_cause() {
    // The escaped process holds stdout, stderr, or both; the plugin exits
    // once it has left the process group (it has written its pid).
    for (holds, redirect) in [
        ("stdout", "2>/dev/null"),
        ("stderr", ">/dev/null"),
        ("both", ""),
    ] {
        let h = Home::new();
        h.install(&example("greet"));
        let index = fs::read(h.index()).unwrap();
        let pid_file = h.scratch("escaped.pid");
        let plugin = h.script(
            "mycli-escape",
            &manifest("escape", "escape", "^1.0"),
            "echo ran",
        );
        let text = fs::read_to_string(&plugin).unwrap().replacen(
            "then\n",
            &format!(
                "then\nsetsid sh -c 'echo $$ > \"{pid}\"; exec sleep 60' {redirect} &\n\
                 while [ ! -s \"{pid}\" ]; do sleep 0.05; done\n",
                pid = pid_file.display()
            ),
            1,
        );
        write_executable(&plugin, &text);

        let started = std::time::Instant::now();
        let out = h.install_cmd(&plugin).output().unwrap();
        let took = started.elapsed();
        let pid = wait_for(&pid_file);
        // Not the plugin's: stop it before asserting.
        let _ = std::process::Command::new("kill").arg(&pid).status();
        assert!(took < Duration::from_secs(5), "{holds}: took {took:?}");
        assert_eq!(
            h.outcome(&out).lines().next().unwrap_or_default(),
            "[exit 1] mycli: error: cannot install plugin 'escape': it could not describe itself: it exited but left a process running that holds its output (a process it started in a session of its own); fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)",
            "{holds}"
        );
        assert_eq!(h.outcome(&out).lines().count(), 1, "{holds}");
        assert_eq!(
            fs::read(h.index()).unwrap(),
            index,
            "{holds}: the index changed"
        );
        h.mycli()
            .args(["greet", "--who", "x"])
            .assert()
            .success()
            .stdout("hello, x\n");
    }
}

// ------------------------------------------------ an up-to-date upgrade

/// The stamp `plugins.json` records for plugin `name`.
fn recorded_stamp(h: &Home, name: &str) -> serde_json::Value {
    let index: serde_json::Value = serde_json::from_slice(&fs::read(h.index()).unwrap()).unwrap();
    index["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap()["file"]
        .clone()
}

/// The stamp of the file at `path` now, as `plugins.json` records it.
fn stamp_of(path: &Path) -> serde_json::Value {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).unwrap();
    serde_json::json!({
        "len": m.size(),
        "mtime": [m.mtime(), m.mtime_nsec()],
        "ctime": [m.ctime(), m.ctime_nsec()],
        "ino": m.ino(),
        "dev": m.dev(),
    })
}

#[test]
fn an_up_to_date_upgrade_records_the_files_stamp_as_it_is_now() {
    let disk = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let h = Home::new();
    let plugin = genuine_plugin(disk.path());
    h.install(&plugin);
    assert_eq!(recorded_stamp(&h, "tamper"), stamp_of(&plugin));

    // A chmod moves the change time: the content is the same.
    let status = std::process::Command::new("chmod")
        .args(["u-w"])
        .arg(&plugin)
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(50));
    assert_ne!(recorded_stamp(&h, "tamper"), stamp_of(&plugin));
    h.mycli()
        .arg("tamper")
        .assert()
        .success()
        .stdout("genuine\n");

    h.mycli()
        .args(["plugins", "upgrade", "tamper"])
        .assert()
        .success()
        .stdout(contains("is up to date"));
    assert_eq!(recorded_stamp(&h, "tamper"), stamp_of(&plugin));
    h.mycli()
        .arg("tamper")
        .assert()
        .success()
        .stdout("genuine\n");
}

// ------------------------------------------------------- affix squats

/// A sh plugin `name` with one command `command`.
fn named(h: &Home, name: &str, command: &str) -> PathBuf {
    h.script(
        &format!("mycli-{name}"),
        &manifest(name, command, "^1.0"),
        &format!("echo {name}"),
    )
}

#[test]
fn a_known_name_with_an_affix_is_warned_about() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install(&example("stats"));
    let index = fs::read(h.index()).unwrap();
    // (plugin, command, the warning's start); `echo` is compiled in,
    // `version` built in.
    let squats = [
        (
            "greet-cli",
            "salute",
            "'greet-cli' looks like 'greet' (installed plugin 'greet')",
        ),
        (
            "mycli-stats",
            "sums",
            "'mycli-stats' looks like 'stats' (installed plugin 'stats')",
        ),
        (
            "statstool",
            "tally",
            "'statstool' looks like 'stats' (installed plugin 'stats')",
        ),
        (
            "greet2024",
            "wave",
            "'greet2024' looks like 'greet' (installed plugin 'greet')",
        ),
        (
            "wave",
            "echo-ng",
            "'echo-ng' looks like 'echo' (compiled-in plugin 'echo')",
        ),
        (
            "wave",
            "version-pro",
            "'version-pro' looks like 'version' (a command built into mycli)",
        ),
    ];
    for (name, command, warning) in squats {
        let out = h
            .mycli()
            .args(["plugins", "install"])
            .arg(named(&h, name, command))
            .output()
            .unwrap();
        let err = crate::support::stderr(&out);
        let warnings: Vec<&str> = err.lines().filter(|l| l.contains("looks like")).collect();
        assert_eq!(warnings.len(), 1, "{name}/{command}: {err}");
        assert!(
            warnings[0].starts_with(&format!(
                "mycli: warning: {warning}: make sure '{name}' is the plugin you meant"
            )),
            "{name}/{command}: {err}"
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{name}: not confirmed without --yes"
        );
        assert_eq!(
            fs::read(h.index()).unwrap(),
            index,
            "{name}: the index changed"
        );
    }
    // Names that only share letters are left alone, and --yes goes on.
    for (name, command) in [
        ("greeting", "hi"),
        ("format", "fmt"),
        ("statistics", "mean"),
    ] {
        let out = h.install_cmd(&named(&h, name, command)).output().unwrap();
        assert!(out.status.success(), "{name}");
        let err = crate::support::stderr(&out);
        assert!(!err.contains("looks like"), "{name}: {err}");
    }
    h.install_cmd(&named(&h, "greet-cli", "salute"))
        .assert()
        .success();
    h.mycli()
        .arg("salute")
        .assert()
        .success()
        .stdout("greet-cli\n");
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
}

//! End-to-end tests of the security checks: plugin files others could
//! change, plugins owned by another user, look-alike names, and where each
//! plugin came from. The real `mycli` with real plugins, each test in its
//! own throw-away `MYCLI_HOME`.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use predicates::prelude::*;
use predicates::str::contains;

use crate::support::{Home, example, manifest, skipped, stderr, stdout, wasm_example};

/// A user no test runs as, with a group it shares with other users.
const NOBODY: u32 = 65534;

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Whether the tests run as root: a new file belongs to whoever creates it.
fn running_as_root(h: &Home) -> bool {
    let probe = h.scratch("owner-probe");
    fs::write(&probe, "").expect("write probe");
    fs::metadata(&probe).expect("stat probe").uid() == 0
}

// ------------------------------------------------- files others can change

#[test]
fn a_plugin_file_others_can_write_is_refused_with_the_chmod_that_fixes_it() {
    let h = Home::new();
    let greet = h.copy_example("greet");
    h.install(&greet);
    h.install(&example("stats"));
    let index = fs::read(h.index()).unwrap();

    chmod(&greet, 0o757);
    let fix = format!("`chmod go-w {}`", greet.display());
    let out = h.mycli().args(["greet", "--who", "x"]).output().unwrap();
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'greet' cannot run: its file [TMP]/scratch/mycli-greet is writable by others, who could replace the plugin; fix: `chmod go-w [TMP]/scratch/mycli-greet`");
    // The other plugins keep working, and nothing was written.
    h.mycli()
        .args(["stats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    let row = h.row("greet");
    assert_eq!(row["status"], "error");
    assert_eq!(row["check"], "permissions");
    assert_eq!(row["fix"], fix);
    assert_eq!(h.row("stats")["status"], "ok");
    h.mycli()
        .args(["plugins", "doctor"])
        .assert()
        .code(1)
        .stdout(contains("greet: error: its file").and(contains(&fix)));

    // The fix works; the pin still matches, so no upgrade is needed.
    chmod(&greet, 0o755);
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
}

#[test]
fn install_refuses_a_file_others_can_write_before_running_it() {
    let h = Home::new();
    // A plugin that leaves a mark whenever it runs, describing or not.
    let mark = h.scratch("ran");
    let body = format!("touch {}", mark.display());
    let path = h.script(
        "mycli-marked",
        &manifest("marked", "marked", "^1.0"),
        &format!("{body}\necho ran"),
    );
    let text = fs::read_to_string(&path).unwrap().replacen(
        "#!/bin/sh\n",
        &format!("#!/bin/sh\n{body}\n"),
        1,
    );
    fs::write(&path, text).unwrap();
    chmod(&path, 0o757);

    let out = h.install_cmd(&path).arg("--force").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install [TMP]/scratch/mycli-marked: its file [TMP]/scratch/mycli-marked is writable by others, who could replace the plugin; fix: `chmod go-w [TMP]/scratch/mycli-marked`");
    assert!(!mark.exists(), "the plugin ran before it was trusted");
    assert!(!h.index().exists(), "something was recorded");

    chmod(&path, 0o755);
    h.install(&path);
    assert!(mark.exists(), "the plugin was never described");
    assert_eq!(h.row("marked")["status"], "ok");
}

#[test]
fn a_plugin_in_a_directory_others_can_write_is_refused() {
    let h = Home::new();
    let greet = h.copy_example("greet");
    h.install(&greet);
    let dir = greet.parent().unwrap().to_path_buf();
    chmod(&dir, 0o757);
    let out = h.mycli().arg("greet").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'greet' cannot run: the directory [TMP]/scratch above its file is writable by others, who could replace the plugin; fix: `chmod go-w [TMP]/scratch`");
    // The same directory with the sticky bit, as /tmp has, is still
    // refused when root does not own it: only root's sticky directories
    // are safe to share.
    chmod(&dir, 0o1777);
    if running_as_root(&h) {
        eprintln!("ran the root half: a sticky directory root does not own cannot be made");
    } else {
        eprintln!("ran the non-root half: a sticky directory of the user's");
        h.mycli().arg("greet").assert().code(126);
    }
    chmod(&dir, 0o755);
    h.mycli()
        .arg("greet")
        .assert()
        .success()
        .stdout("hello, world\n");
}

#[test]
fn a_sticky_directory_owned_by_root_such_as_tmp_is_accepted() {
    let tmp = Path::new("/tmp");
    let meta = fs::metadata(tmp).unwrap();
    if meta.uid() != 0 || meta.mode() & 0o1002 != 0o1002 {
        skipped("/tmp is not a root-owned, world-writable sticky directory here");
        return;
    }
    let h = Home::new();
    // Closed (a file open for writing cannot run), removed when dropped.
    let file = tempfile::Builder::new()
        .prefix("mycli-sticky-")
        .tempfile_in(tmp)
        .unwrap()
        .into_temp_path();
    let path = file.to_path_buf();
    fs::copy(example("greet"), &path).unwrap();
    chmod(&path, 0o755);
    h.install(&path);
    h.mycli()
        .args(["greet", "--who", "tmp"])
        .assert()
        .success()
        .stdout("hello, tmp\n");
    assert_eq!(h.row("greet")["status"], "ok");
}

#[test]
fn a_group_that_others_share_may_not_write_the_plugin() {
    let h = Home::new();
    if !running_as_root(&h) {
        skipped("giving a file to another group needs root");
        return;
    }
    let greet = h.copy_example("greet");
    h.install(&greet);
    // nogroup is shared by several system users.
    std::os::unix::fs::chown(&greet, None, Some(NOBODY)).unwrap();
    chmod(&greet, 0o775);
    let out = h.mycli().arg("greet").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'greet' cannot run: its file [TMP]/scratch/mycli-greet is writable by its group, who could replace the plugin; fix: `chmod go-w [TMP]/scratch/mycli-greet`");
}

#[test]
fn a_writable_component_is_refused_too() {
    let h = Home::new();
    let component = h.scratch("wstats.wasm");
    fs::copy(wasm_example("wstats"), &component).unwrap();
    chmod(&component, 0o644);
    h.install(&component);
    chmod(&component, 0o646);
    let out = h.mycli().args(["wstats", "10"]).output().unwrap();
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'wstats' cannot run: its file [TMP]/scratch/wstats.wasm is writable by others, who could replace the plugin; fix: `chmod go-w [TMP]/scratch/wstats.wasm`");
    chmod(&component, 0o644);
    h.mycli()
        .args(["wstats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
}

// ------------------------------------------------ files of another user

#[test]
fn as_root_a_plugin_owned_by_another_user_is_refused_unless_trusted() {
    let h = Home::new();
    if !running_as_root(&h) {
        skipped("only root can give a file to another user");
        return;
    }
    let greet = h.copy_example("greet");
    std::os::unix::fs::chown(&greet, Some(NOBODY), None).unwrap();

    // Refused at install, before it is described, with both fixes.
    let out = h.install_cmd(&greet).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install [TMP]/scratch/mycli-greet: its file [TMP]/scratch/mycli-greet belongs to uid 65534, not root, and it would run as root; fix: `chown root [TMP]/scratch/mycli-greet`, or, if you trust uid 65534, re-run with `--trust-owner`");
    assert!(!h.index().exists());

    // `plugins check` says the same, and takes `--trust-owner` as install
    // does, still recording nothing.
    h.mycli()
        .args(["plugins", "check"])
        .arg(&greet)
        .assert()
        .code(1)
        .stdout(contains("FAIL  permissions").and(contains(format!("belongs to uid {NOBODY}"))))
        .stdout(contains(format!(
            "if you trust uid {NOBODY}, check it with `--trust-owner`"
        )));
    h.mycli()
        .args(["plugins", "check", "--trust-owner"])
        .arg(&greet)
        .assert()
        .success()
        .stdout(contains(format!("users you trust (uid {NOBODY})")));
    assert!(!h.index().exists());

    // Explicitly trusted: recorded, shown, and it runs.
    h.install_cmd(&greet)
        .arg("--trust-owner")
        .assert()
        .success()
        .stderr(contains(format!("trusts:   uid {NOBODY}")));
    h.mycli()
        .arg("greet")
        .assert()
        .success()
        .stdout("hello, world\n");
    h.mycli()
        .args(["plugins", "info", "greet"])
        .assert()
        .success()
        .stdout(contains(format!("trusts:       uid {NOBODY}")));

    // The trust is for that owner only: another one is refused again.
    std::os::unix::fs::chown(&greet, Some(NOBODY - 1), None).unwrap();
    let out = h.mycli().arg("greet").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'greet' cannot run: its file [TMP]/scratch/mycli-greet belongs to uid 65533, not root, and it would run as root; fix: `chown root [TMP]/scratch/mycli-greet`, or, if you trust uid 65533, run `mycli plugins upgrade greet --trust-owner`");
}

#[test]
fn as_root_a_plugin_given_to_another_user_after_install_is_refused_until_trusted() {
    let h = Home::new();
    if !running_as_root(&h) {
        skipped("only root can give a file to another user");
        return;
    }
    let greet = h.copy_example("greet");
    h.install(&greet);
    h.install(&example("stats"));
    let dir = greet.parent().unwrap().to_path_buf();
    // A directory above the file is enough.
    std::os::unix::fs::chown(&dir, Some(NOBODY), None).unwrap();
    let out = h.mycli().arg("greet").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'greet' cannot run: the directory [TMP]/scratch above its file belongs to uid 65534, not root, and it would run as root; fix: `chown root [TMP]/scratch`, or, if you trust uid 65534, run `mycli plugins upgrade greet --trust-owner`");
    h.mycli().args(["stats", "1"]).assert().success();
    // Without --trust-owner, upgrade refuses as well; with it, the same
    // file is re-pinned with the owner trusted.
    let out = h
        .mycli()
        .args(["plugins", "upgrade", "greet", "--yes"])
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot upgrade plugin 'greet': the directory [TMP]/scratch above its file belongs to uid 65534, not root, and it would run as root; fix: `chown root [TMP]/scratch`, or, if you trust uid 65534, re-run with `--trust-owner`");
    h.mycli()
        .args(["plugins", "upgrade", "greet", "--yes", "--trust-owner"])
        .assert()
        .success()
        .stdout(contains("upgraded plugin 'greet'"));
    h.mycli().arg("greet").assert().success();
    let info: serde_json::Value = serde_json::from_slice(
        &h.mycli()
            .args(["plugins", "info", "greet", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(info["trusted_owners"], serde_json::json!([NOBODY]));
}

// ---------------------------------------------------------- look-alikes

/// A plugin named `name` with one command, `command`.
fn named(h: &Home, name: &str, command: &str) -> std::path::PathBuf {
    h.script(
        &format!("mycli-{name}"),
        &manifest(name, command, "^1.0"),
        "echo ran",
    )
}

#[test]
fn a_name_like_an_installed_plugin_is_warned_about_and_yes_goes_on() {
    let h = Home::new();
    h.install(&example("greet"));
    let gret = named(&h, "gret", "salute");
    let out = h.install_cmd(&gret).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r"
    [exit 0] Plugin 'gret' 1.0.0 (exec)
      path:     [TMP]/scratch/mycli-gret
      origin:   path [TMP]/scratch/mycli-gret
      sha256:   [SHA256]
      api:      ^1.0 (mycli provides 1.3.0)
      commands: salute
    It runs as you, with your permissions, whenever you use one of its commands.
    mycli: warning: 'gret' looks like 'greet' (installed plugin 'greet'): make sure 'gret' is the plugin you meant, not a look-alike
    ");
    assert_eq!(h.row("gret")["status"], "ok");

    // Without a terminal and without --yes, nothing is installed.
    let grete = named(&h, "grete", "grete");
    let out = h
        .mycli()
        .args(["plugins", "install"])
        .arg(&grete)
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r"
    [exit 1] Plugin 'grete' 1.0.0 (exec)
      path:     [TMP]/scratch/mycli-grete
      origin:   path [TMP]/scratch/mycli-grete
      sha256:   [SHA256]
      api:      ^1.0 (mycli provides 1.3.0)
      commands: grete
    It runs as you, with your permissions, whenever you use one of its commands.
    mycli: warning: 'grete' looks like 'greet' (installed plugin 'greet'): make sure 'grete' is the plugin you meant, not a look-alike
    mycli: warning: 'grete' looks like 'gret' (installed plugin 'gret'): make sure 'grete' is the plugin you meant, not a look-alike
    mycli: error: not confirmed: stdin is not a terminal, so mycli cannot ask; fix: re-run with --yes if you trust this plugin
    ");
    assert!(h.list().iter().all(|r| r["name"] != "grete"));
}

#[test]
fn names_like_built_in_and_compiled_in_commands_are_warned_about() {
    let h = Home::new();
    // `versoin` swaps two letters of mycli's own `version`; `ecko` is one
    // letter from the compiled-in `echo`.
    let path = named(&h, "versoin", "ecko");
    let out = h.install_cmd(&path).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r"
    [exit 0] Plugin 'versoin' 1.0.0 (exec)
      path:     [TMP]/scratch/mycli-versoin
      origin:   path [TMP]/scratch/mycli-versoin
      sha256:   [SHA256]
      api:      ^1.0 (mycli provides 1.3.0)
      commands: ecko
    It runs as you, with your permissions, whenever you use one of its commands.
    mycli: warning: 'ecko' looks like 'echo' (compiled-in plugin 'echo'): make sure 'versoin' is the plugin you meant, not a look-alike
    mycli: warning: 'versoin' looks like 'version' (a command built into mycli): make sure 'versoin' is the plugin you meant, not a look-alike
    ");
    // A name far from every other is not.
    let out = h.install_cmd(&example("stats")).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("looks like"), "{}", stderr(&out));
}

#[test]
fn a_look_alike_asks_again_on_a_terminal_and_no_leaves_the_index_alone() {
    let h = Home::new();
    h.install(&example("greet"));
    let index = fs::read(h.index()).unwrap();
    let gret = named(&h, "gret", "salute");
    let args = format!("plugins install {}", gret.display());
    let Some(out) = h.on_terminal(&args, "n\n") else {
        return;
    };
    let screen = stdout(&out);
    assert!(screen.contains("'gret' looks like 'greet'"), "{screen}");
    assert!(
        screen.contains("Is 'gret' really what you want, not 'greet'? [y/N]"),
        "{screen}"
    );
    assert!(
        screen.contains("not confirmed: nothing was changed"),
        "{screen}"
    );
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");

    // Yes to both questions installs it.
    let Some(out) = h.on_terminal(&args, "y\ny\n") else {
        return;
    };
    assert!(
        stdout(&out).contains("installed plugin 'gret'"),
        "{}",
        stdout(&out)
    );
}

// ---------------------------------------------------------------- origin

#[test]
fn list_and_info_show_where_each_plugin_came_from() {
    let h = Home::new();
    let copy = h.copy_example("greet");
    h.install(&copy);
    // `stats` by name, from a directory on PATH.
    let path_dir = h.scratch("bin");
    fs::create_dir_all(&path_dir).unwrap();
    fs::copy(example("stats"), path_dir.join("mycli-stats")).unwrap();
    h.mycli()
        .env("PATH", &path_dir)
        .args(["plugins", "install", "stats", "--yes"])
        .assert()
        .success();

    let out = h.mycli().args(["plugins", "list"]).output().unwrap();
    let table = stdout(&out);
    let column = table
        .lines()
        .next()
        .and_then(|header| header.find("ORIGIN"))
        .expect("an ORIGIN column");
    let origin_of = |name: &str| {
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name} in\n{table}"));
        line[column..].to_string()
    };
    assert!(
        origin_of("greet").starts_with(&format!("path {}", copy.display())),
        "{table}"
    );
    assert!(
        origin_of("stats").starts_with("PATH mycli-stats "),
        "{table}"
    );
    assert!(origin_of("echo").starts_with("compiled in "), "{table}");

    let info = |name: &str| stdout(&h.mycli().args(["plugins", "info", name]).output().unwrap());
    assert!(
        info("greet").contains(&format!("origin:       path {}\n", copy.display())),
        "{}",
        info("greet")
    );
    assert!(
        info("stats").contains("origin:       PATH mycli-stats\n"),
        "{}",
        info("stats")
    );
    assert!(info("echo").contains("origin:       compiled in\n"));
}

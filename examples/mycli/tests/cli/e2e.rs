//! End-to-end tests: the real `mycli` binary with the real example plugins
//! and plugin scripts, each test in its own throw-away `MYCLI_HOME`.

use std::fs;

use predicates::prelude::*;
use predicates::str::contains;

// Plugin scripts and the repository's sh example: Unix only.
#[cfg(unix)]
use crate::support::{self, manifest};
use crate::support::{Home, example, stderr, stdout};

// ---------------------------------------------------------------- scenario

#[test]
fn classic_scenario_greet_stats_ok_broken_error_stale_skipped() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install(&example("stats"));

    // Refused at install, with the reason and the fix ...
    let out = h.install_cmd(&example("stale")).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install plugin 'stale': it requires mycli API ^99, but this mycli provides API 1.3.0; fix: install a release of stale built for mycli API 1.x (or `--force` to record it anyway; it will not run until it passes)");
    let out = h.install_cmd(&example("broken")).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install plugin 'broken': it could not describe itself: `--snapin-describe` failed (exit status 3): broken: cannot describe itself: configuration file /nonexistent/broken.toml is missing; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)");
    // ... and recorded anyway with --force, to fail its checks at load.
    for name in ["stale", "broken"] {
        h.install_cmd(&example(name))
            .arg("--force")
            .assert()
            .success()
            .stdout(contains("it will not run until this is fixed"));
    }

    let greet = h.row("greet");
    assert_eq!(greet["status"], "ok");
    assert_eq!(greet["version"], "0.2.0");
    assert_eq!(greet["kind"], "exec");
    assert_eq!(greet["commands"], serde_json::json!(["greet"]));
    assert!(greet["origin"].as_str().unwrap().starts_with("path "));
    assert_eq!(greet["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(h.row("stats")["status"], "ok");
    let stale = h.row("stale");
    assert_eq!(stale["status"], "skipped");
    assert!(stale["reason"].as_str().unwrap().contains("^99"));
    assert!(
        stale["fix"]
            .as_str()
            .unwrap()
            .contains("plugins remove stale")
    );
    let broken = h.row("broken");
    assert_eq!(broken["status"], "error");
    assert!(
        broken["reason"]
            .as_str()
            .unwrap()
            .contains("could not describe itself")
    );

    // The table a user reads.
    let out = h.mycli().args(["plugins", "list"]).output().unwrap();
    let table = stdout(&out);
    let line = |name: &str| {
        table
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row for {name} in\n{table}"))
            .to_string()
    };
    assert!(table.starts_with("NAME"), "{table}");
    assert!(line("greet").ends_with(" ok"), "{table}");
    assert!(line("greet").contains(&greet["sha256"].as_str().unwrap()[..12]));
    assert!(
        line("stale").contains("skipped: it requires mycli API ^99"),
        "{table}"
    );
    assert!(
        line("broken").contains("error: it could not describe itself"),
        "{table}"
    );

    // The two good ones run, despite the two bad ones.
    h.mycli()
        .args(["greet", "--who", "Rust"])
        .assert()
        .success()
        .stdout("hello, Rust\n");
    h.mycli()
        .args(["stats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
    h.mycli()
        .args(["greet"])
        .assert()
        .success()
        .stdout("hello, world\n");
}

#[cfg(unix)]
#[test]
fn a_plugin_without_the_sdk_works_from_the_protocol_alone() {
    let h = Home::new();
    let script = support::repo().join("examples/plugins/hello-sh/mycli-hello");
    h.install(&script);
    h.mycli()
        .args(["hello", "--upper", "snapin"])
        .assert()
        .success()
        .stdout(contains("hello from sh, SNAPIN"))
        .stdout(contains("host=mycli api=1.3.0"));
    h.mycli()
        .arg("hello")
        .assert()
        .success()
        .stdout(contains("hello from sh, world"));
}

#[test]
fn a_compiled_in_plugin_goes_through_the_same_loader() {
    let h = Home::new();
    h.mycli()
        .args(["echo", "a", "--", "-b"])
        .assert()
        .success()
        .stdout("a -b\n");
    let row = h.row("echo");
    assert_eq!(row["kind"], "builtin");
    assert_eq!(row["status"], "ok");
    assert_eq!(row["origin"], serde_json::Value::Null);
    let out = h.mycli().args(["plugins", "list"]).output().unwrap();
    assert!(
        stdout(&out)
            .lines()
            .any(|l| l.starts_with("echo ") && l.contains("compiled in"))
    );
}

// ------------------------------------------------- help without spawning

#[cfg(unix)]
#[test]
fn help_and_usage_errors_come_from_the_index_without_starting_plugins() {
    let h = Home::new();
    let log = h.scratch("starts.log");
    let probe = h.script(
        "mycli-probe",
        &manifest("probe", "probe", "^1.0"),
        &format!("echo start >> '{}'\necho probed", log.display()),
    );
    // Describing at install is the one start we allow.
    h.install(&probe);
    fs::write(&log, "").unwrap();

    // The first run after an install loads the index and derives the
    // start-up lookup; the second lists plugin commands from the lookup.
    for _ in 0..2 {
        h.mycli()
            .arg("--help")
            .assert()
            .success()
            .stdout(contains("probe").and(contains("The probe command")));
    }
    assert!(h.home().join(".plugins.lookup").exists());
    h.mycli()
        .args(["help", "probe"])
        .assert()
        .success()
        .stdout(contains("--level <LEVEL>").and(contains("How much")));
    h.mycli()
        .args(["probe", "--help"])
        .assert()
        .success()
        .stdout(
            contains("--level <LEVEL>")
                .and(contains("How much"))
                .and(contains("[ITEM]")),
        );
    h.mycli()
        .args(["probe", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(contains("unexpected argument '--no-such-flag'"));
    h.mycli()
        .args(["probe", "a", "b"])
        .assert()
        .code(2)
        .stderr(contains("unexpected argument 'b'"));
    h.mycli().args(["plugins", "list"]).assert().success();
    h.mycli().arg("version").assert().success();
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        "",
        "a plugin was started"
    );

    h.mycli()
        .args(["probe", "--level", "3", "x"])
        .assert()
        .success()
        .stdout("probed\n");
    assert_eq!(fs::read_to_string(&log).unwrap(), "start\n");
}

#[test]
fn usage_errors_for_sdk_plugins_come_from_the_host() {
    let h = Home::new();
    h.install(&example("stats"));
    h.mycli().arg("stats").assert().code(2).stderr(
        contains("required arguments were not provided").and(contains("Usage: mycli stats")),
    );
}

// ---------------------------------------------------------- run contract

#[cfg(unix)]
#[test]
fn the_plugin_gets_its_arguments_and_context() {
    let h = Home::new();
    let plugin = h.script(
        "mycli-ctx",
        &manifest("ctx", "ctx", "^1.0"),
        r#"printf '%s\n' "$@"; echo "HOST=$SNAPIN_HOST"; echo "API=$SNAPIN_API"; echo "$SNAPIN_CONTEXT""#,
    );
    h.install(&plugin);
    let out = h
        .mycli()
        .args(["-v", "ctx", "thing", "--level=-3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[..5],
        ["ctx", "--level=-3", "thing", "HOST=mycli", "API=1.3.0"]
    );
    let ctx: serde_json::Value = serde_json::from_str(lines[5]).unwrap();
    assert_eq!(ctx["host"]["name"], "mycli");
    assert_eq!(ctx["host"]["api"], "1.3.0");
    assert_eq!(ctx["plugin"], "ctx");
    assert_eq!(ctx["command"], serde_json::json!(["ctx"]));
    assert_eq!(ctx["verbosity"], 1);
    assert_eq!(ctx["color"], "auto");
    let data = ctx["dirs"]["data"].as_str().unwrap();
    assert!(data.starts_with(h.home().to_str().unwrap()), "{data}");
    assert!(data.ends_with("ctx"), "{data}");
}

#[cfg(unix)]
#[test]
fn a_non_zero_exit_status_passes_through_silently() {
    let h = Home::new();
    let plugin = h.script(
        "mycli-fail",
        &manifest("fail", "fail", "^1.0"),
        "echo 'fail: nothing to do' >&2\nexit 7",
    );
    h.install(&plugin);
    h.mycli()
        .arg("fail")
        .assert()
        .code(7)
        .stderr("fail: nothing to do\n");
}

#[cfg(unix)]
#[test]
fn a_plugin_killed_by_a_signal_costs_one_line_and_128_plus_signal() {
    let h = Home::new();
    h.install(&example("crashy"));
    let out = h.mycli().arg("crash").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 139] mycli: error: plugin 'crashy' was killed by SIGSEGV (signal 11) while running `mycli crash`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable crashy`");

    let out = h
        .mycli()
        .args(["crash", "--signal", "abort"])
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 134] mycli: error: plugin 'crashy' was killed by SIGABRT (signal 6) while running `mycli crash`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable crashy`");
    // The host is fine afterwards.
    h.mycli().args(["plugins", "doctor"]).assert().success();
    // The fix works as pasted: the plugin is off, its command gone.
    h.fix_command(&h.outcome(&out))
        .assert()
        .success()
        .stdout("disabled plugin 'crashy'\n");
    h.mycli().arg("crash").assert().code(2);
}

#[cfg(unix)]
#[test]
fn ctrl_c_is_left_to_the_plugin_and_its_status_kept() {
    let h = Home::new();
    let started = h.scratch("started");
    let go = h.scratch("go");
    // The plugin runs until the test lets it finish (or two minutes pass,
    // should the test fail first), so the signal surely comes while it runs.
    let plugin = h.script(
        "mycli-slow",
        &manifest("slow", "slow", "^1.0"),
        &format!(
            "touch '{}'\ni=0\nwhile [ ! -e '{}' ] && [ $i -lt 2400 ]; do sleep 0.05; i=$((i+1)); done\necho finished\nexit 5",
            started.display(),
            go.display()
        ),
    );
    h.install(&plugin);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mycli"))
        .arg("slow")
        .env("MYCLI_HOME", h.home())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !started.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the plugin never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Only the host gets this SIGINT; it must wait for the plugin.
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    // The signal is pending or handled by now: a host it would stop
    // cannot outlive it once the plugin returns.
    fs::write(&go, "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(stdout(&out), "finished\n");
}

#[test]
fn a_missing_plugin_file_gives_the_fix() {
    let h = Home::new();
    let copy = h.copy_example("greet");
    h.install(&copy);
    fs::remove_file(&copy).unwrap();
    let out = h.mycli().arg("greet").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'greet' cannot run: its file [TMP]/scratch/mycli-greet is missing; fix: put the file back or reinstall the plugin, or `mycli plugins remove greet`");
    assert_eq!(h.row("greet")["status"], "error");
}

#[test]
fn a_changed_plugin_file_is_refused_until_upgrade() {
    let h = Home::new();
    let copy = h.copy_example("greet");
    h.install(&copy);
    let before = h.row("greet")["sha256"].clone();
    let mut bytes = fs::read(&copy).unwrap();
    bytes.extend_from_slice(b"tampered");
    fs::write(&copy, bytes).unwrap();

    let out = h.mycli().args(["greet", "--who", "x"]).output().unwrap();
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!(h.outcome(&out), @"[exit 126] mycli: error: plugin 'greet' cannot run: its file [TMP]/scratch/mycli-greet changed since it was pinned (sha256 [SHA256] at install, [SHA256] now), so it is not run; fix: if you trust the new file, re-pin it: `mycli plugins upgrade greet`");
    let row = h.row("greet");
    assert_eq!(row["status"], "error");
    h.mycli()
        .args(["plugins", "doctor"])
        .assert()
        .code(1)
        .stdout(contains("greet: error: its file").and(contains("fix: if you trust the new file")));

    h.mycli()
        .args(["plugins", "upgrade", "greet"])
        .assert()
        .code(1)
        .stderr(contains("--yes"));
    h.mycli()
        .args(["plugins", "upgrade", "greet", "--yes"])
        .assert()
        .success()
        .stdout(contains("upgraded plugin 'greet'"));
    assert_ne!(h.row("greet")["sha256"], before);
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
    h.mycli()
        .args(["plugins", "upgrade", "greet"])
        .assert()
        .success()
        .stdout(contains("is up to date"));
}

// ------------------------------------------------------------- conflicts

#[cfg(unix)]
#[test]
fn built_in_commands_win_and_plugins_never_shadow_each_other() {
    let h = Home::new();
    h.install(&example("greet"));
    let rival = h.script(
        "mycli-rival",
        &manifest("rival", "greet", "^1.0"),
        "echo rival",
    );
    let out = h.install_cmd(&rival).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install plugin 'rival': its command 'greet' is already provided by plugin 'greet'; fix: ask the author of rival to rename the command 'greet', or `mycli plugins remove greet` first (or `--force` to record it anyway; it will not run until it passes)");
    h.install_cmd(&rival).arg("--force").assert().success();
    // The first one keeps the command, and the second is reported.
    h.mycli()
        .arg("greet")
        .assert()
        .success()
        .stdout("hello, world\n");
    let row = h.row("rival");
    assert_eq!(row["status"], "error");
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("already provided by plugin 'greet'")
    );
    let out = h.mycli().arg("version").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 0] mycli: warning: plugin 'rival' error: its command 'greet' is already provided by plugin 'greet' (`mycli plugins doctor` says how to fix it)");

    let mut lines = Vec::new();
    for builtin in ["version", "plugins", "help"] {
        let usurper = h.script(
            &format!("mycli-{builtin}-usurper"),
            &manifest(&format!("{builtin}-usurper"), builtin, "^1.0"),
            "echo usurper",
        );
        let out = h.install_cmd(&usurper).output().unwrap();
        lines.push(h.outcome(&out));
    }
    insta::assert_snapshot!(lines.join("\n"), @r#"
    [exit 1] mycli: error: cannot install plugin 'version-usurper': its command 'version' is built into mycli, which keeps it; fix: ask the author of version-usurper to rename the command 'version': mycli keeps its own (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'plugins-usurper': its command 'plugins' is built into mycli, which keeps it; fix: ask the author of plugins-usurper to rename the command 'plugins': mycli keeps its own (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'help-usurper': invalid manifest: commands[0].name "help" is invalid: a command name or alias is used twice (or is 'help'); fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    "#);
    h.mycli()
        .arg("version")
        .assert()
        .success()
        .stdout(contains("mycli 0.1.0"));
}

#[cfg(unix)]
#[test]
fn a_plugin_option_may_not_take_a_host_global_option() {
    let h = Home::new();
    let m = r#"{"manifest":1,"host":"mycli","name":"vee","version":"1.0.0","api":"^1.0","commands":[{"name":"vee","args":[{"name":"very","short":"v","flag":true}]}]}"#;
    let plugin = h.script("mycli-vee", m, "echo vee");
    let out = h.install_cmd(&plugin).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r#"[exit 1] mycli: error: cannot install plugin 'vee': invalid manifest: commands[0].args[0].short "v" is invalid: already used by the host or by another arg of this command; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)"#);
    // Nor its name: clap would give the two one value.
    let m = r#"{"manifest":1,"host":"mycli","name":"vee","version":"1.0.0","api":"^1.0","commands":[{"name":"vee","args":[{"name":"verbose","long":"loud","flag":true}]}]}"#;
    let plugin = h.script("mycli-vee2", m, "echo vee");
    let out = h.install_cmd(&plugin).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r#"[exit 1] mycli: error: cannot install plugin 'vee': invalid manifest: commands[0].args[0].name "verbose" is invalid: already the name of one of the host's global options; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)"#);
}

// --------------------------------------------------- management commands

#[test]
fn enable_disable_remove_and_info() {
    let h = Home::new();
    h.install(&example("greet"));
    h.mycli()
        .args(["plugins", "disable", "greet"])
        .assert()
        .success()
        .stdout("disabled plugin 'greet'\n");
    assert_eq!(h.row("greet")["status"], "disabled");
    assert_eq!(h.row("greet")["enabled"], false);
    h.mycli()
        .arg("greet")
        .assert()
        .code(2)
        .stderr(contains("unrecognized subcommand 'greet'"));
    // A disabled plugin is not a problem to warn about.
    h.mycli().arg("version").assert().success().stderr("");
    h.mycli()
        .args(["plugins", "enable", "greet"])
        .assert()
        .success();
    h.mycli()
        .arg("greet")
        .assert()
        .success()
        .stdout("hello, world\n");

    let out = h
        .mycli()
        .args(["plugins", "info", "greet"])
        .output()
        .unwrap();
    let info = stdout(&out);
    let sha = h.row("greet")["sha256"].as_str().unwrap().to_string();
    assert!(info.contains(&format!("sha256:       {sha}")), "{info}");
    assert!(info.contains("description:  Friendly greetings"), "{info}");
    assert!(info.contains("mycli greet  Say hello"), "{info}");
    let json: serde_json::Value = serde_json::from_slice(
        &h.mycli()
            .args(["plugins", "info", "greet", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(json["manifest"]["commands"][0]["args"][0]["long"], "who");

    h.mycli()
        .args(["plugins", "remove", "greet"])
        .assert()
        .success()
        .stdout(contains("removed plugin 'greet' 0.2.0"));
    assert!(h.list().iter().all(|r| r["name"] != "greet"));
    h.mycli().arg("greet").assert().code(2);
    let out = h
        .mycli()
        .args(["plugins", "remove", "greet"])
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: no plugin named 'greet' is installed (no plugins are installed); fix: see `mycli plugins list`");
    // The file itself is never touched.
    assert!(example("greet").exists());
}

#[test]
fn install_needs_confirmation_and_shows_what_is_trusted() {
    let h = Home::new();
    let out = h
        .mycli()
        .args(["plugins", "install"])
        .arg(example("greet"))
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r"
    [exit 1] Plugin 'greet' 0.2.0 (exec)
      Friendly greetings
      path:     [TARGET]/debug/mycli-greet
      origin:   path [TARGET]/debug/mycli-greet
      sha256:   [SHA256]
      api:      ^1.0 (mycli provides 1.3.0)
      commands: greet
    It runs as you, with your permissions, whenever you use one of its commands.
    mycli: error: not confirmed: stdin is not a terminal, so mycli cannot ask; fix: re-run with --yes if you trust this plugin
    ");
    assert!(
        !h.index().exists(),
        "nothing may be installed without confirmation"
    );
    h.install(&example("greet"));
    let out = h.install_cmd(&example("greet")).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: plugin 'greet' is already installed from [TARGET]/debug/mycli-greet; fix: `mycli plugins upgrade greet` to re-pin it, or `mycli plugins remove greet` first");
}

#[cfg(unix)]
#[test]
fn install_asks_on_a_terminal() {
    let h = Home::new();
    let args = format!("plugins install {}", example("greet").display());
    let Some(out) = h.on_terminal(&args, "n\n") else {
        return;
    };
    assert!(
        stdout(&out)
            .contains("Install plugin 'greet' 0.2.0, to run as you with your permissions? [y/N]"),
        "{}",
        stdout(&out)
    );
    assert!(!h.index().exists());
    let Some(out) = h.on_terminal(&args, "y\n") else {
        return;
    };
    assert!(
        stdout(&out).contains("installed plugin 'greet'"),
        "{}",
        stdout(&out)
    );
    assert_eq!(h.row("greet")["status"], "ok");
}

#[test]
fn doctor_lists_each_problem_with_its_fix() {
    let h = Home::new();
    h.install(&example("greet"));
    h.mycli()
        .args(["plugins", "doctor"])
        .assert()
        .success()
        .stdout("mycli plugins: all 2 healthy\n");
    h.install_cmd(&example("stale"))
        .arg("--force")
        .assert()
        .success();
    let copy = h.copy_example("stats");
    h.install(&copy);
    fs::remove_file(&copy).unwrap();
    let out = h.mycli().args(["plugins", "doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(h.redact(&stdout(&out)), @r"
    stale: skipped: it requires mycli API ^99, but this mycli provides API 1.3.0; fix: install a release of stale built for mycli API 1.x, or `mycli plugins remove stale`
    stats: error: its file [TMP]/scratch/mycli-stats is missing; fix: put the file back or reinstall the plugin, or `mycli plugins remove stats`
    ");
}

// ------------------------------------------------------- index integrity

#[cfg(unix)]
#[test]
fn the_index_survives_a_plugin_that_writes_garbage() {
    let h = Home::new();
    h.install(&example("greet"));
    let before = fs::read(h.index()).unwrap();
    let garbage = h.scratch("mycli-garbage");
    support::write_executable(
        &garbage,
        "#!/bin/sh\nhead -c 4096 /dev/urandom\nprintf '\\n{\"manifest\": 1, oops'\n",
    );
    h.install_cmd(&garbage)
        .assert()
        .code(1)
        .stderr(contains("its description is not a valid manifest"));
    assert_eq!(fs::read(h.index()).unwrap(), before, "the index changed");
    h.mycli()
        .arg("greet")
        .assert()
        .success()
        .stdout("hello, world\n");
}

#[test]
fn a_damaged_index_is_reported_and_never_overwritten() {
    let h = Home::new();
    h.install(&example("greet"));
    fs::write(h.index(), "{ half a file").unwrap();
    let out = h.mycli().arg("version").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 0] mycli: warning: the plugin index [HOME]/plugins.json is damaged: key must be a string at line 1 column 3; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins");
    let out = h.install_cmd(&example("stats")).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r"
    [exit 1] mycli: warning: the plugin index [HOME]/plugins.json is damaged: key must be a string at line 1 column 3; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    mycli: error: the plugin index [HOME]/plugins.json is damaged: key must be a string at line 1 column 3; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    ");
    assert_eq!(fs::read_to_string(h.index()).unwrap(), "{ half a file");
}

#[cfg(unix)]
#[test]
fn concurrent_installs_lose_no_entry() {
    let h = Home::new();
    let plugins: Vec<_> = (0..6)
        .map(|i| {
            h.script(
                &format!("mycli-p{i}"),
                &manifest(&format!("p{i}"), &format!("cmd{i}"), "^1.0"),
                "echo ok",
            )
        })
        .collect();
    let children: Vec<_> = plugins
        .iter()
        .map(|p| {
            std::process::Command::new(env!("CARGO_BIN_EXE_mycli"))
                .args(["plugins", "install"])
                .arg(p)
                .arg("--yes")
                .env("MYCLI_HOME", h.home())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let installed = h.list().into_iter().filter(|r| r["kind"] == "exec").count();
    assert_eq!(installed, 6);
}

// --------------------------------------------------------------- logging

#[test]
fn a_failing_plugin_costs_one_warning_line_and_quiet_silences_it() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install_cmd(&example("stale"))
        .arg("--force")
        .assert()
        .success();

    let out = h.mycli().args(["greet"]).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 0] mycli: warning: plugin 'stale' skipped: it requires mycli API ^99, but this mycli provides API 1.3.0 (`mycli plugins doctor` says how to fix it)");

    h.mycli()
        .args(["-q", "greet"])
        .assert()
        .success()
        .stderr("");

    let out = h.mycli().args(["-v", "greet"]).output().unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("mycli: info: plugin 'greet' 0.2.0 (exec): ok, commands: greet"),
        "{err}"
    );
    assert!(err.contains("plugin 'stale' skipped"), "{err}");
}

#[test]
fn debug_shows_the_plugin_stderr_when_describe_fails() {
    let h = Home::new();
    let args = |debug: bool| {
        let mut cmd = h.mycli();
        if debug {
            cmd.arg("--debug");
        }
        cmd.args(["plugins", "install"])
            .arg(example("broken"))
            .arg("--yes");
        cmd.output().unwrap()
    };
    let plain = stderr(&args(false));
    let debug = stderr(&args(true));
    assert!(!plain.contains("wrote on stderr"), "{plain}");
    assert!(
        debug.contains("--snapin-describe wrote on stderr"),
        "{debug}"
    );
    assert!(
        debug.contains("configuration file /nonexistent/broken.toml is missing"),
        "{debug}"
    );
}

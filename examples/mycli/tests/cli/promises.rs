//! Promises that a test could pass without keeping: the sandbox's network
//! denial against a port that really listens, built-in commands against
//! plugins recorded with `--force`, the permission check of every directory
//! above a plugin (not just its parent), and the default sandbox limits.

use std::fs;
use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use predicates::str::contains;

use crate::support::{Home, example, run_quoted_fix, stderr, stdout, wasm_example};

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

// ----------------------------------------------------------------- network

#[test]
fn a_component_cannot_connect_to_a_port_that_accepts_connections() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install_cmd(&wasm_example("wescape")).assert().success();
    let index = fs::read(h.index()).unwrap();

    // A live listener, on the loopback address and on IPv6 where there is
    // one: a plain connection from this process gets through, so a refusal
    // can only come from the sandbox.
    let mut listeners = vec![TcpListener::bind("127.0.0.1:0").unwrap()];
    listeners.extend(TcpListener::bind("[::1]:0"));
    let mut targets = Vec::new();
    for listener in &listeners {
        let addr = listener.local_addr().unwrap();
        TcpStream::connect(addr).expect("the listener accepts connections");
        listener
            .accept()
            .expect("the test's own connection arrives");
        listener.set_nonblocking(true).unwrap();
        targets.push(addr.to_string());
        // By name, the same port: the name lookup is denied too.
        targets.push(format!("localhost:{}", addr.port()));
    }

    for target in &targets {
        let out = h.mycli().args(["wnet", target]).output().unwrap();
        assert_eq!(stdout(&out), "", "{target}: the component connected");
        assert_eq!(out.status.code(), Some(1), "{target}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{target}: {err}");
        assert!(
            err.starts_with(&format!("wnet: cannot connect to {target}: ")),
            "{err}"
        );
        assert!(!err.contains("refused"), "{target}: not the sandbox: {err}");
    }
    for listener in &listeners {
        match listener.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Ok((_, from)) => panic!("a connection from {from} reached the listener"),
            Err(e) => panic!("accept: {e}"),
        }
    }
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    h.mycli()
        .args(["greet", "--who", "net"])
        .assert()
        .success()
        .stdout("hello, net\n");
}

// ------------------------------------------------------ built-ins always win

#[test]
fn built_in_commands_win_over_plugins_recorded_with_force() {
    let h = Home::new();
    h.install(&example("greet"));
    let ran = h.scratch("usurper-ran");
    // `version` is mycli's own command, `plugins` snapin's, `echo` a plugin
    // compiled into mycli; `vers` claims `version` as an alias.
    let claims: &[(&str, &str)] = &[
        ("version", r#"{"name":"version"}"#),
        ("plugins", r#"{"name":"plugins"}"#),
        (
            "echo",
            r#"{"name":"echo","args":[{"name":"words","multiple":true}]}"#,
        ),
        ("alias", r#"{"name":"vers","aliases":["version"]}"#),
    ];
    for (name, command) in claims {
        let m = format!(
            r#"{{"manifest":1,"host":"mycli","name":"{name}-usurper","version":"1.0.0","api":"^1.0","commands":[{command}]}}"#
        );
        let plugin = h.script(
            &format!("mycli-{name}-usurper"),
            &m,
            &format!("echo usurper; touch '{}'", ran.display()),
        );
        let out = h.install_cmd(&plugin).arg("--force").output().unwrap();
        assert!(out.status.success(), "{name}: {}", stderr(&out));
    }
    let index = fs::read(h.index()).unwrap();

    // Twice: the first run after the index changed builds the start-up
    // lookup, the second reads it.
    for _ in 0..2 {
        let out = h.mycli().arg("version").output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).starts_with("mycli 0.1.0"), "{}", stdout(&out));
        h.mycli()
            .args(["echo", "a", "b"])
            .assert()
            .success()
            .stdout("a b\n");
        h.mycli()
            .args(["plugins", "info", "greet"])
            .assert()
            .success()
            .stdout(contains("name:         greet\n"));
    }
    assert!(!ran.exists(), "a plugin ran in place of a built-in command");

    // Each is reported, by list and by doctor, as the conflict it is.
    let mut reasons = Vec::new();
    for (name, _) in claims {
        let row = h.row(&format!("{name}-usurper"));
        assert_eq!(row["status"], "error", "{name}: {row}");
        reasons.push(format!("{name}: {}", row["reason"].as_str().unwrap()));
    }
    insta::assert_snapshot!(reasons.join("\n"), @"
    version: its command 'version' is built into mycli, which keeps it
    plugins: its command 'plugins' is built into mycli, which keeps it
    echo: its command 'echo' is provided by plugin 'echo', compiled into mycli, which keeps it
    alias: its command 'version' is built into mycli, which keeps it
    ");
    let out = h.mycli().args(["plugins", "doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(h.redact(&stdout(&out)), @"
    version-usurper: error: its command 'version' is built into mycli, which keeps it; fix: ask the author of version-usurper to rename the command 'version', or `mycli plugins remove version-usurper`
    plugins-usurper: error: its command 'plugins' is built into mycli, which keeps it; fix: ask the author of plugins-usurper to rename the command 'plugins', or `mycli plugins remove plugins-usurper`
    echo-usurper: error: its command 'echo' is provided by plugin 'echo', compiled into mycli, which keeps it; fix: ask the author of echo-usurper to rename the command 'echo', or `mycli plugins remove echo-usurper`
    alias-usurper: error: its command 'version' is built into mycli, which keeps it; fix: ask the author of alias-usurper to rename the command 'version', or `mycli plugins remove alias-usurper`
    ");

    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    assert!(!ran.exists(), "a plugin ran while being reported");

    // Each fix works as pasted.
    for line in stdout(&out).lines() {
        h.fix_command(line).assert().success();
    }
    h.mycli().args(["plugins", "doctor"]).assert().success();
    h.mycli()
        .args(["echo", "still", "built", "in"])
        .assert()
        .success()
        .stdout("still built in\n");
    assert!(!ran.exists(), "a plugin ran");
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
}

// ------------------------------------------- every directory above a plugin

/// Whether the tests run as root: a new file belongs to whoever creates it.
fn running_as_root(h: &Home) -> bool {
    let probe = h.scratch("owner-probe");
    fs::write(&probe, "").expect("write probe");
    fs::metadata(&probe).expect("stat probe").uid() == 0
}

#[test]
fn a_grandparent_or_higher_directory_others_can_write_is_refused_until_fixed() {
    let h = Home::new();
    // scratch/great grand/grand/parent/mycli-greet: a space in one name,
    // which the fix must quote.
    let great = h.scratch("great grand");
    let grand = great.join("grand");
    let parent = grand.join("parent");
    fs::create_dir_all(&parent).unwrap();
    let greet = parent.join("mycli-greet");
    fs::copy(example("greet"), &greet).unwrap();
    chmod(&greet, 0o755);
    h.install(&greet);
    h.install(&example("stats"));
    let index = fs::read(h.index()).unwrap();

    // Others may write the grandparent.
    chmod(&grand, 0o757);
    let out = h.mycli().args(["greet", "--who", "x"]).output().unwrap();
    assert_eq!(stdout(&out), "");
    let line = h.outcome(&out);
    insta::assert_snapshot!(line, @"[exit 126] mycli: error: plugin 'greet' cannot run: the directory [TMP]/scratch/great grand/grand above its file is writable by others, who could replace the plugin; fix: `chmod go-w '[TMP]/scratch/great grand/grand'`");
    let row = h.row("greet");
    assert_eq!(row["status"], "error");
    assert_eq!(row["check"], "permissions");
    run_quoted_fix(&stderr(&out));
    assert_eq!(fs::metadata(&grand).unwrap().mode() & 0o022, 0);
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");

    // Its group may write the great-grandparent: a group others share
    // (root can give the directory to one), else others again.
    let as_root = running_as_root(&h);
    if as_root {
        std::os::unix::fs::chown(&great, None, Some(65534)).unwrap();
        chmod(&great, 0o775);
    } else {
        chmod(&great, 0o757);
    }
    eprintln!(
        "great-grandparent writable by {}",
        if as_root {
            "its group (running as root)"
        } else {
            "others (not running as root)"
        }
    );
    let out = h.mycli().args(["greet", "--who", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(126));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    let by = if as_root { "its group" } else { "others" };
    assert!(
        err.contains(&format!(
            "the directory {} above its file is writable by {by}, who could replace the plugin; fix: `chmod go-w '{}'`",
            great.display(),
            great.display()
        )),
        "{err}"
    );
    h.mycli()
        .args(["plugins", "doctor"])
        .assert()
        .code(1)
        .stdout(contains("greet: error: the directory "));
    run_quoted_fix(&err);
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");

    // The plugin beside it, in another directory, never stopped working.
    h.mycli()
        .args(["stats", "10"])
        .assert()
        .success()
        .stdout("sum 0..10 = 55\n");
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    assert_eq!(h.row("greet")["status"], "ok");
}

// --------------------------------------------------- default sandbox limits

#[test]
fn the_default_memory_limit_stops_a_component_with_no_limit_configured() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install_cmd(&wasm_example("wbomb")).assert().success();
    assert!(!h.home().join("config/config.toml").exists());
    let index = fs::read(h.index()).unwrap();

    // walloc keeps allocating 16 MiB chunks until something stops it.
    let out = h.mycli().arg("walloc").output().unwrap();
    let err = h.redact(&stderr(&out));
    let ours: Vec<&str> = err.lines().filter(|l| l.starts_with("mycli: ")).collect();
    assert_eq!(out.status.code(), Some(137), "{err}");
    insta::assert_snapshot!(ours.join("\n"), @"mycli: error: plugin 'wbomb' tried to use more than its memory limit of 256 MiB and was stopped while running `mycli walloc`; fix: if it needs more, set `memory-mib` under [plugins.wbomb] in [HOME]/config/config.toml");

    // The fix, raising the limit, takes effect.
    let config = h.home().join("config/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, "[plugins.wbomb]\nmemory-mib = 272\n").unwrap();
    h.mycli()
        .arg("walloc")
        .assert()
        .code(137)
        .stderr(contains("its memory limit of 272 MiB"));

    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    h.mycli()
        .args(["greet", "--who", "x"])
        .assert()
        .success()
        .stdout("hello, x\n");
}

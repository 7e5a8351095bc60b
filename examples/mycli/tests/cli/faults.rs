//! The fault matrix: plugins are third-party code and the index lives on a
//! disk that can fill up, so each test here injects one fault for real —
//! a plugin script that hangs, floods, lies or crashes; an index that is
//! damaged, newer, read-only or on a full disk; writers killed at random
//! or racing each other — and checks what a user would check: the exit
//! status, one stderr line naming the plugin, the cause and the fix, that
//! the other plugins still work, and that the index is intact. The lines
//! a user reads are inline snapshots, redacted by `Home::redact`.
//!
//! Rows of the matrix tested in `e2e` instead: a Rust plugin that dies
//! of SIGSEGV or SIGABRT (`a_plugin_killed_by_a_signal_costs_one_line...`),
//! a plain non-zero exit (`a_non_zero_exit_status_passes_through_silently`),
//! SIGINT sent to the host alone (`ctrl_c_is_left_to_the_plugin...`), a
//! plugin that cannot describe itself with its stderr under `--debug`
//! (`debug_shows_the_plugin_stderr_when_describe_fails`), a plugin that
//! prints random bytes (`the_index_survives_a_plugin_that_writes_garbage`),
//! a half-written index (`a_damaged_index_is_reported_and_never_overwritten`).

// The helpers below are test code too, so they may unwrap like the tests
// (clippy's test allowance covers only `#[test]` functions).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use snapin::__private::{INDEX_FORMAT, Index};

use crate::support::{
    Home, example, manifest, one_line, require_tool, stderr, stdout, write_executable,
};

/// Installs `plugin` and asserts it is refused with one stderr line, that
/// `greet` still works and that the index did not change by a byte; the
/// exit status and the line, redacted, for a snapshot (which shows the
/// plugin, or its path when there is no plugin to speak of, the cause and
/// the fix).
fn refused(h: &Home, plugin: &Path) -> String {
    let before = fs::read(h.index()).unwrap();
    let out = h.install_cmd(plugin).output().unwrap();
    one_line(&stderr(&out));
    assert_eq!(fs::read(h.index()).unwrap(), before, "the index changed");
    h.assert_greet_runs();
    h.outcome(&out)
}

/// A bound that only catches a hang: far above what any step here takes on
/// a loaded machine, far below the 600 s that the plugins' own children
/// sleep, which is how long a host that waited for them would take. The
/// test asserts behaviour; how fast is for the benchmarks.
const HANG: Duration = Duration::from_secs(120);

/// A plugin script `mycli-NAME` whose `--snapin-describe` runs `describe`
/// (any sh), for faults at describe time.
fn describing(h: &Home, name: &str, describe: &str) -> PathBuf {
    let path = h.scratch(&format!("mycli-{name}"));
    write_executable(&path, &format!("#!/bin/sh\n{describe}\n"));
    path
}

/// A plugin script `mycli-NAME` that describes itself with `manifest`.
fn printing(h: &Home, name: &str, manifest: &str) -> PathBuf {
    h.script(&format!("mycli-{name}"), manifest, "echo ran")
}

/// A manifest for plugin `name` (any string) with one valid command.
fn manifest_named(name: &str) -> String {
    serde_json::json!({
        "manifest": 1, "host": "mycli", "name": name, "version": "1.0.0",
        "api": "^1.0", "commands": [{"name": "odd"}]
    })
    .to_string()
}

/// Whether process `pid` is gone (or a zombie waiting to be reaped, which
/// runs nothing), waiting up to [`HANG`] for it to go.
fn gone(pid: &str) -> bool {
    let deadline = Instant::now() + HANG;
    loop {
        let state = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(") ")?.1.chars().next());
        if matches!(state, None | Some('Z')) {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits up to [`HANG`] for a plugin to write `file`; its content.
fn wait_for(file: &Path) -> String {
    let deadline = Instant::now() + HANG;
    loop {
        if let Ok(text) = fs::read_to_string(file)
            && text.ends_with('\n')
        {
            return text.trim().to_string();
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ------------------------------------------------------------ describe time

#[test]
fn describe_output_that_is_not_a_manifest_is_refused_with_the_cause() {
    let h = Home::with_greet();
    let cases: &[(&str, &str)] = &[
        ("flood", "head -c 104857600 /dev/zero"),
        ("nothing", "exit 0"),
        ("invalid", "echo '{\"manifest\": 1, oops'"),
        ("array", "echo '[1, 2, 3]'"),
        (
            "shape",
            "echo '{\"manifest\": 1, \"host\": \"mycli\", \"name\": 5}'",
        ),
        (
            "latin1",
            r#"printf '{"manifest": 1, "host": "mycli", "name": "caf\351"}'"#,
        ),
        (
            "fails",
            "echo 'reading config' >&2\necho 'cannot open /etc/fails.toml' >&2\nexit 3",
        ),
        ("segv", "kill -SEGV $$"),
    ];
    let mut lines = Vec::new();
    for (name, describe) in cases {
        let plugin = describing(&h, name, describe);
        lines.push(refused(&h, &plugin));
    }
    insta::assert_snapshot!(lines.join("\n"), @r#"
    [exit 1] mycli: error: cannot install plugin 'flood': it could not describe itself: its description is larger than the 1048576 byte limit; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'nothing': it could not describe itself: its description is not a valid manifest: it printed nothing on stdout; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'invalid': it could not describe itself: its description is not a valid manifest: it is not valid JSON: key must be a string at line 1 column 17; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'array': it could not describe itself: its description is not a valid manifest: it is JSON but not an object (an array instead of {"manifest": 1, ...}); fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'shape': it could not describe itself: its description is not a valid manifest: it is JSON but not a manifest: invalid type: integer `5`, expected a string; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'latin1': it could not describe itself: its description is not a valid manifest: it is not UTF-8 text (invalid byte at offset 45); fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'fails': it could not describe itself: `--snapin-describe` failed (exit status 3): cannot open /etc/fails.toml; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'segv': it could not describe itself: `--snapin-describe` failed (killed by SIGSEGV (signal 11)); fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    "#);

    // --debug shows everything the plugin wrote on stderr, not just the
    // last line.
    let out = h
        .mycli()
        .args(["--debug", "plugins", "install"])
        .arg(h.scratch("mycli-fails"))
        .arg("--yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("--snapin-describe wrote on stderr"), "{err}");
    assert!(err.contains("reading config"), "{err}");
}

/// Text a plugin supplies that would drive the terminal (clear it, set its
/// title, write the clipboard, forge a line of the consent prompt) is
/// refused at install, before anything of it is shown, and the refusal
/// shows the text escaped.
#[test]
fn text_that_would_drive_the_terminal_is_refused_before_it_is_shown() {
    let h = Home::with_greet();
    let with = |name: &str, pointer: &str, text: &str| {
        let mut m: serde_json::Value = serde_json::from_str(&manifest(name, name, "^1.0")).unwrap();
        m["description"] = serde_json::Value::from("ok");
        m["commands"][0]["about"] = serde_json::Value::from("ok");
        m["commands"][0]["args"] =
            serde_json::json!([{"name": "x", "long": "ex", "help": "ok", "value_name": "X"}]);
        *m.pointer_mut(pointer).unwrap() = serde_json::Value::from(text);
        m.to_string()
    };
    let cases = [
        ("forge", "/description", "fine\n  path:     /usr/bin/ls"),
        ("clip", "/commands/0/about", "\u{1b}]52;c;ZWNobyBoaQ==\u{7}"),
        ("swap", "/commands/0/args/0/help", "read\rwrite"),
        ("flip", "/commands/0/args/0/value_name", "\u{202e}DAER"),
    ];
    let mut lines = Vec::new();
    for (name, pointer, text) in cases {
        let plugin = printing(&h, name, &with(name, pointer, text));
        let out = h.install_cmd(&plugin).output().unwrap();
        let err = stderr(&out);
        let unprintable = |c: char| (c.is_control() && c != '\n') || c == '\u{202e}';
        assert!(!err.chars().any(unprintable), "{err:?}");
        assert!(
            !err.lines().any(|l| l.starts_with("  path:")),
            "no consent prompt was shown: {err}"
        );
        lines.push(h.outcome(&out));
    }
    insta::assert_snapshot!(lines.join("\n"), @r#"
    [exit 1] mycli: error: cannot install plugin 'forge': invalid manifest: description "fine\n  path:     /usr/bin/ls" is invalid: control characters (escape sequences, carriage returns, newlines) and invisible or reordering characters are not allowed in text the host prints; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'clip': invalid manifest: commands[0].about "\u{1b}]52;c;ZWNobyBoaQ==\u{7}" is invalid: control characters (escape sequences, carriage returns, newlines) and invisible or reordering characters are not allowed in text the host prints; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'swap': invalid manifest: commands[0].args[0].help "read\rwrite" is invalid: control characters (escape sequences, carriage returns, newlines) and invisible or reordering characters are not allowed in text the host prints; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'flip': invalid manifest: commands[0].args[0].value_name "\u{202e}DAER" is invalid: control characters (escape sequences, carriage returns, newlines) and invisible or reordering characters are not allowed in text the host prints; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    "#);
}

#[test]
fn a_manifest_that_breaks_the_contract_is_refused_naming_the_field() {
    let h = Home::with_greet();
    let other_host = manifest("other", "other", "^1.0").replace("\"mycli\"", "\"othercli\"");
    let long = "x".repeat(1000);
    let cases = [
        ("other", other_host),
        ("slash", manifest_named("a/b")),
        ("dots", manifest_named("..")),
        ("upper", manifest_named("Greet")),
        ("long", manifest_named(&long)),
        ("accents", manifest_named("grüß")),
        ("escape", manifest_named("\u{1b}[2Jx")),
    ];
    let mut lines = Vec::new();
    for (file, manifest) in &cases {
        let plugin = printing(&h, file, manifest);
        lines.push(refused(&h, &plugin));
    }
    // A name that breaks the rules is never used to name the plugin: the
    // message names it by its file; a long one is cut after 64 characters.
    insta::assert_snapshot!(lines.join("\n"), @r#"
    [exit 1] mycli: error: cannot install plugin 'other': invalid manifest: it is built for host 'othercli', not 'mycli'; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'slash': invalid manifest: name "a/b" is invalid: names are a lowercase letter then up to 63 of a-z, 0-9 and '-'; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'dots': invalid manifest: name ".." is invalid: names are a lowercase letter then up to 63 of a-z, 0-9 and '-'; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'upper': invalid manifest: name "Greet" is invalid: names are a lowercase letter then up to 63 of a-z, 0-9 and '-'; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'long': invalid manifest: name "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... (1000 characters)" is invalid: names are a lowercase letter then up to 63 of a-z, 0-9 and '-'; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'accents': invalid manifest: name "grüß" is invalid: names are a lowercase letter then up to 63 of a-z, 0-9 and '-'; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    [exit 1] mycli: error: cannot install plugin 'escape': invalid manifest: name "\u{1b}[2Jx" is invalid: names are a lowercase letter then up to 63 of a-z, 0-9 and '-'; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    "#);
}

#[test]
fn a_plugin_file_that_cannot_be_run_is_refused_naming_the_path() {
    let h = Home::with_greet();
    let not_executable = h.scratch("mycli-plain");
    fs::write(&not_executable, "#!/bin/sh\necho hi\n").unwrap();
    let missing = h.scratch("mycli-missing");
    let directory = h.scratch("mycli-dir");
    fs::create_dir_all(&directory).unwrap();
    let loop_a = h.scratch("mycli-loop");
    let loop_b = h.scratch("mycli-loop-back");
    std::os::unix::fs::symlink(&loop_b, &loop_a).unwrap();
    std::os::unix::fs::symlink(&loop_a, &loop_b).unwrap();
    let lines: Vec<String> = [&not_executable, &missing, &directory, &loop_a]
        .into_iter()
        .map(|path| refused(&h, path))
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @r"
    [exit 1] mycli: error: [TMP]/scratch/mycli-plain is neither an executable file nor a WebAssembly component; fix: `chmod +x [TMP]/scratch/mycli-plain` if it is an executable plugin
    [exit 1] mycli: error: cannot install [TMP]/scratch/mycli-missing: No such file or directory (os error 2); fix: check the path
    [exit 1] mycli: error: cannot install [TMP]/scratch/mycli-dir: it is a directory, not a plugin file; fix: give the path of the plugin file inside it
    [exit 1] mycli: error: cannot install [TMP]/scratch/mycli-loop: Too many levels of symbolic links (os error 40); fix: check the path
    ");
}

#[test]
fn a_describe_that_hangs_is_stopped_in_bounded_time_with_everything_it_started() {
    let h = Home::with_greet();
    let pid_file = h.scratch("hang.pid");
    // The plugin waits on a child of its own: both must be stopped.
    let plugin = describing(
        &h,
        "hang",
        &format!(
            "sh -c 'echo $$ > \"{}\"; exec sleep 600'",
            pid_file.display()
        ),
    );
    let started = Instant::now();
    let line = refused(&h, &plugin);
    let took = started.elapsed();
    insta::assert_snapshot!(line, @"[exit 1] mycli: error: cannot install plugin 'hang': it could not describe itself: it did not describe itself within 10 s (it was killed); fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)");
    // It was given its 10 s, and not held up by the child's 600.
    assert!(took >= Duration::from_secs(10) && took < HANG, "{took:?}");
    let pid = wait_for(&pid_file);
    assert!(gone(&pid), "the plugin's child {pid} outlived describe");
}

#[test]
fn a_describe_that_leaves_a_child_behind_does_not_hold_up_the_install() {
    let h = Home::with_greet();
    let pid_file = h.scratch("left.pid");
    // The child keeps the stdout pipe open: waiting for end of file would
    // take its whole minute.
    let plugin = h.script("mycli-left", &manifest("left", "left", "^1.0"), "echo ran");
    let text = fs::read_to_string(&plugin).unwrap().replacen(
        "then\n",
        &format!("then\nsleep 600 &\necho $! > '{}'\n", pid_file.display()),
        1,
    );
    write_executable(&plugin, &text);
    let started = Instant::now();
    h.install(&plugin);
    assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
    let pid = wait_for(&pid_file);
    assert!(
        gone(&pid),
        "the describe call's child {pid} was left running"
    );
    h.mycli().arg("left").assert().success().stdout("ran\n");
    h.assert_greet_runs();
}

// ----------------------------------------------------------------- run time

#[test]
fn a_plugin_that_dies_is_reported_in_one_line_and_the_rest_keeps_working() {
    let h = Home::with_greet();
    // (command, body)
    let cases = [
        ("segv", "kill -SEGV $$"),
        ("abrt", "kill -ABRT $$"),
        ("sigkill", "kill -KILL $$"),
        ("status", "exit 255"),
    ];
    for (name, body) in cases {
        h.install(&h.script(
            &format!("mycli-{name}"),
            &manifest(name, name, "^1.0"),
            body,
        ));
    }
    let before = fs::read(h.index()).unwrap();
    let mut lines = Vec::new();
    for (name, _) in cases {
        let out = h.mycli().arg(name).output().unwrap();
        assert!(stderr(&out).lines().count() <= 1, "{}", stderr(&out));
        lines.push(h.outcome(&out));
        h.assert_greet_runs();
    }
    // A signal is the shell's 128 + N and one line; a status is the
    // plugin's answer, passed on silently.
    insta::assert_snapshot!(lines.join("\n"), @"
    [exit 139] mycli: error: plugin 'segv' was killed by SIGSEGV (signal 11) while running `mycli segv`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable segv`
    [exit 134] mycli: error: plugin 'abrt' was killed by SIGABRT (signal 6) while running `mycli abrt`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable abrt`
    [exit 137] mycli: error: plugin 'sigkill' was killed by SIGKILL (signal 9) while running `mycli sigkill`: something outside it ended it, often the system when memory runs out; fix: if it happens again, report it to its author, or turn it off with `mycli plugins disable sigkill`
    [exit 255]
    ");
    assert_eq!(fs::read(h.index()).unwrap(), before, "the index changed");
    h.mycli().args(["plugins", "doctor"]).assert().success();
}

#[test]
fn output_piped_into_head_ends_quietly_when_head_has_enough() {
    let h = Home::with_greet();
    let flood = h.script(
        "mycli-flood",
        &manifest("flood", "flood", "^1.0"),
        "i=0\nwhile :; do echo \"line $i\"; i=$((i+1)); done",
    );
    let closer = h.script(
        "mycli-closer",
        &manifest("closer", "closer", "^1.0"),
        "echo first\nexec >&-\nsleep 0.2\necho 'closer: done without stdout' >&2",
    );
    h.install(&flood);
    h.install(&closer);
    let index = fs::read(h.index()).unwrap();

    // `mycli flood | head -n 2`: head leaves, the plugin dies of SIGPIPE,
    // and the host passes that on as a shell would, without a message.
    let pipe = |command: &str| {
        let mut mycli = Command::new(env!("CARGO_BIN_EXE_mycli"))
            .arg(command)
            .env("MYCLI_HOME", h.home())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let head = Command::new("head")
            .args(["-n", "2"])
            .stdin(mycli.stdout.take().unwrap())
            .output()
            .unwrap();
        let started = Instant::now();
        let host = mycli.wait_with_output().unwrap();
        assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
        (stdout(&head), host)
    };
    let (shown, host) = pipe("flood");
    assert_eq!(shown, "line 0\nline 1\n");
    assert_eq!(host.status.code(), Some(128 + 13));
    assert_eq!(stderr(&host), "");

    // A plugin that closes its stdout early and carries on: head sees the
    // end, the plugin's status is the host's.
    let (shown, host) = pipe("closer");
    assert_eq!(shown, "first\n");
    assert_eq!(host.status.code(), Some(0));
    assert_eq!(stderr(&host), "closer: done without stdout\n");
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    h.assert_greet_runs();
}

#[test]
fn a_plugin_that_leaves_a_process_behind_does_not_hold_up_the_host() {
    let h = Home::with_greet();
    let pid_file = h.scratch("bg.pid");
    let plugin = h.script(
        "mycli-spawner",
        &manifest("spawner", "spawner", "^1.0"),
        &format!(
            "sleep 600 >/dev/null 2>&1 &\necho $! > '{}'\necho started",
            pid_file.display()
        ),
    );
    h.install(&plugin);
    let index = fs::read(h.index()).unwrap();
    let started = Instant::now();
    h.mycli()
        .arg("spawner")
        .assert()
        .success()
        .stdout("started\n")
        .stderr("");
    assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
    // What a plugin starts in the background on purpose is its own, as
    // under a shell (docs/protocol.md §4): the host returned without
    // waiting for it. Clean up.
    let pid = wait_for(&pid_file);
    assert!(!gone_now(&pid), "the background process should still run");
    Command::new("kill").arg(&pid).status().unwrap();
    assert_eq!(fs::read(h.index()).unwrap(), index, "the index changed");
    h.assert_greet_runs();
}

/// Whether process `pid` is gone right now, without waiting.
fn gone_now(pid: &str) -> bool {
    !Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn ctrl_c_reaches_the_plugin_and_its_children_and_the_host_exits_130() {
    let h = Home::with_greet();
    let pid_file = h.scratch("child.pid");
    let trapped = h.scratch("trapped");
    let plugin = h.script(
        "mycli-slow",
        &manifest("slow", "slow", "^1.0"),
        &format!(
            "trap 'echo interrupted > \"{}\"; exit 130' INT\nsh -c 'echo $$ > \"{}\"; exec sleep 600'\necho 'not reached'",
            trapped.display(),
            pid_file.display()
        ),
    );
    h.install(&plugin);
    let before = fs::read(h.index()).unwrap();
    // The host as a shell with job control starts it: in a process group
    // of its own, which the terminal's Ctrl-C signals as a whole.
    let mut host = Command::new(env!("CARGO_BIN_EXE_mycli"));
    host.arg("slow")
        .env("MYCLI_HOME", h.home())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    std::os::unix::process::CommandExt::process_group(&mut host, 0);
    let host = host.spawn().unwrap();
    let child = wait_for(&pid_file);
    let ctrl_c = Command::new("kill")
        .args(["-INT", "--", &format!("-{}", host.id())])
        .status()
        .unwrap();
    assert!(ctrl_c.success());
    let started = Instant::now();
    let out: Output = host.wait_with_output().unwrap();
    assert!(started.elapsed() < HANG, "{:?}", started.elapsed());
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "Ctrl-C is not the plugin's fault");
    assert_eq!(stdout(&out), "");
    assert_eq!(
        wait_for(&trapped),
        "interrupted",
        "the plugin got the signal"
    );
    assert!(gone(&child), "the plugin's child {child} outlived Ctrl-C");
    assert_eq!(fs::read(h.index()).unwrap(), before);
    h.assert_greet_runs();
}

// -------------------------------------------------------------------- index

/// Replaces the index file by `bytes`.
fn overwrite_index(h: &Home, bytes: &[u8]) {
    fs::write(h.index(), bytes).unwrap();
}

/// `text` with each `at line N column M` of a JSON parse error as
/// `at line [L] column [C]`.
fn without_position(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("at line ") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let number = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let line = number(&after["at line ".len()..]);
        let tail = &after["at line ".len() + line..];
        match tail.strip_prefix(" column ") {
            Some(column) if line > 0 && number(column) > 0 => {
                out.push_str("at line [L] column [C]");
                rest = &column[number(column)..];
            }
            _ => {
                out.push_str("at line ");
                rest = &after["at line ".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Asserts that every command that writes the index fails and that the
/// index keeps its bytes; for a snapshot, each command's exit status and
/// error line, redacted.
fn writes_refused(h: &Home) -> String {
    let before = fs::read(h.index()).unwrap();
    let stats = example("stats");
    let writes: [&[&str]; 5] = [
        &["plugins", "install", stats.to_str().unwrap(), "--yes"],
        &["plugins", "remove", "greet"],
        &["plugins", "disable", "greet"],
        &["plugins", "enable", "greet"],
        &["plugins", "upgrade", "greet", "--yes"],
    ];
    let mut lines = Vec::new();
    for args in writes {
        let out = h.mycli().args(args).output().unwrap();
        let err = stderr(&out);
        let line = err
            .lines()
            .find(|l| l.starts_with("mycli: error: "))
            .unwrap_or_else(|| panic!("{args:?}: no error line in\n{err}"));
        let status = out.status.code().unwrap_or(-1);
        lines.push(format!("{}: [exit {status}] {}", args[1], h.redact(line)));
        assert_eq!(fs::read(h.index()).unwrap(), before, "{args:?} changed it");
    }
    lines.join("\n")
}

#[test]
fn a_damaged_index_is_reported_with_its_backup_and_never_overwritten() {
    let h = Home::with_greet();
    h.install(&example("stats"));
    let good = fs::read(h.index()).unwrap();
    let mut garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    garbage[0] = 0xff;
    let cases: [(&str, &[u8]); 2] = [
        // Where the half falls in the index decides the parser's words
        // ("while parsing a string"): the stats manifest's typed `n`
        // (API 1.3) moved it.
        ("truncated", &good[..good.len() / 2]),
        ("garbage", &garbage),
    ];
    let mut lines = Vec::new();
    for (what, bytes) in cases {
        overwrite_index(&h, bytes);
        let out = h.mycli().args(["echo", "compiled-in"]).output().unwrap();
        assert_eq!(stdout(&out), "compiled-in\n", "{what}");
        one_line(&stderr(&out));
        lines.push(format!("{what}:\necho: {}", h.outcome(&out)));
        lines.push(writes_refused(&h));
        // Where the JSON parser stopped depends on the index's length.
        let last = lines.len() - 2;
        for line in &mut lines[last..] {
            *line = without_position(line);
        }
        assert_eq!(fs::read(h.index()).unwrap(), bytes, "{what}");
    }
    insta::assert_snapshot!(lines.join("\n"), @r"
    truncated:
    echo: [exit 0] mycli: warning: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a string at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    install: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a string at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    remove: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a string at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    disable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a string at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    enable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a string at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    upgrade: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a string at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    garbage:
    echo: [exit 0] mycli: warning: the plugin index [HOME]/plugins.json is damaged: expected value at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    install: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: expected value at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    remove: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: expected value at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    disable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: expected value at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    enable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: expected value at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    upgrade: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: expected value at line [L] column [C]; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    ");
    // The fix works: the backup holds the state before the last change.
    fs::copy(h.home().join("plugins.json.bak"), h.index()).unwrap();
    h.assert_greet_runs();
    h.mycli()
        .args(["plugins", "list"])
        .assert()
        .success()
        .stderr("");
}

#[test]
fn unknown_fields_in_the_index_are_accepted() {
    let h = Home::with_greet();
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(h.index()).unwrap()).unwrap();
    index["written_by"] = "a newer mycli".into();
    index["plugins"][0]["rating"] = serde_json::json!({"stars": 5});
    overwrite_index(&h, &serde_json::to_vec(&index).unwrap());
    h.mycli()
        .args(["greet"])
        .assert()
        .success()
        .stdout("hello, world\n")
        .stderr("");
    // Writes work too.
    h.install(&example("stats"));
    h.mycli()
        .args(["stats", "3"])
        .assert()
        .success()
        .stdout("sum 0..3 = 6\n");
    h.assert_greet_runs();
}

#[test]
fn an_index_of_a_newer_format_is_used_read_only_with_a_warning() {
    let h = Home::with_greet();
    let newer = INDEX_FORMAT + 1;
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(h.index()).unwrap()).unwrap();
    index["index"] = newer.into();
    index["plugins"][0]["sandbox_profile"] = "strict".into();
    overwrite_index(&h, &serde_json::to_vec(&index).unwrap());

    // Its plugins run, with one warning on every run.
    let runs: Vec<String> = (0..2)
        .map(|_| {
            let out = h.mycli().args(["greet", "--who", "x"]).output().unwrap();
            assert_eq!(stdout(&out), "hello, x\n");
            one_line(&stderr(&out));
            h.outcome(&out)
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    insta::assert_snapshot!(runs[0], @"[exit 0] mycli: warning: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version writes, so it is used read-only and cannot be changed; fix: upgrade mycli");
    h.mycli().args(["plugins", "list"]).assert().success();

    // Nothing writes it, and each refusal says why and what to do.
    insta::assert_snapshot!(writes_refused(&h), @"
    install: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version writes, so it is used read-only and cannot be changed; fix: upgrade mycli
    remove: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version writes, so it is used read-only and cannot be changed; fix: upgrade mycli
    disable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version writes, so it is used read-only and cannot be changed; fix: upgrade mycli
    enable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version writes, so it is used read-only and cannot be changed; fix: upgrade mycli
    upgrade: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version writes, so it is used read-only and cannot be changed; fix: upgrade mycli
    ");

    // One this version cannot even read: nothing runs, same fix.
    index["plugins"] = "moved to plugins.d".into();
    overwrite_index(&h, &serde_json::to_vec(&index).unwrap());
    let out = h.mycli().args(["echo", "still"]).output().unwrap();
    assert_eq!(stdout(&out), "still\n");
    one_line(&stderr(&out));
    insta::assert_snapshot!(h.outcome(&out), @"[exit 0] mycli: warning: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version reads, and it cannot be read; fix: upgrade mycli");
    insta::assert_snapshot!(writes_refused(&h), @"
    install: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version reads, and it cannot be read; fix: upgrade mycli
    remove: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version reads, and it cannot be read; fix: upgrade mycli
    disable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version reads, and it cannot be read; fix: upgrade mycli
    enable: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version reads, and it cannot be read; fix: upgrade mycli
    upgrade: [exit 1] mycli: error: the plugin index [HOME]/plugins.json has format 2, newer than format 1 that this version reads, and it cannot be read; fix: upgrade mycli
    ");
}

/// `mycli` with its home made read-only: by permissions, or, where they do
/// not bind (root), by a read-only bind mount in a private user and mount
/// namespace. `None` (the test is skipped) when neither is possible.
fn read_only_home(h: &Home) -> Option<Command> {
    use std::os::unix::fs::PermissionsExt;
    let home = h.home();
    fs::set_permissions(&home, fs::Permissions::from_mode(0o555)).unwrap();
    let probe = home.join("probe");
    if fs::write(&probe, "").is_err() {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mycli"));
        cmd.env("MYCLI_HOME", &home).env("NO_COLOR", "1");
        return Some(cmd);
    }
    fs::remove_file(&probe).unwrap();
    fs::set_permissions(&home, fs::Permissions::from_mode(0o755)).unwrap();
    // Permissions do not bind (root): a read-only mount it is.
    if !require_tool("unshare", &["-Urm", "true"], "permissions do not bind here") {
        return None;
    }
    let mut cmd = Command::new("unshare");
    cmd.args([
        "-Urm",
        "sh",
        "-c",
        r#"mount --bind "$MYCLI_HOME" "$MYCLI_HOME" && mount -o remount,bind,ro "$MYCLI_HOME" && exec "$0" "$@""#,
        env!("CARGO_BIN_EXE_mycli"),
    ])
    .env("MYCLI_HOME", &home)
    .env("NO_COLOR", "1");
    Some(cmd)
}

#[test]
fn a_read_only_home_refuses_writes_naming_the_directory() {
    let h = Home::with_greet();
    let before = fs::read(h.index()).unwrap();
    let Some(mut run) = read_only_home(&h) else {
        return;
    };
    // Running plugins needs no writing.
    let run = run.args(["greet", "--who", "ro"]).output().unwrap();
    assert_eq!(stdout(&run), "hello, ro\n", "{}", stderr(&run));
    let Some(mut write) = read_only_home(&h) else {
        return;
    };
    let out = write
        .args(["plugins", "disable", "greet"])
        .output()
        .unwrap();
    one_line(&stderr(&out));
    // Permissions (not root) or a read-only mount (root) refuse the write.
    let outcome = h
        .outcome(&out)
        .replace("Permission denied (os error 13)", "[READ-ONLY]")
        .replace("Read-only file system (os error 30)", "[READ-ONLY]");
    insta::assert_snapshot!(outcome, @"[exit 1] mycli: error: cannot open the lock file of the plugin index [HOME]/plugins.json: [READ-ONLY]; nothing was changed; fix: make [HOME] writable, or point MYCLI_HOME at a writable directory");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(h.home(), fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(fs::read(h.index()).unwrap(), before);
    h.assert_greet_runs();
    assert_eq!(h.row("greet")["enabled"], true);
}

#[test]
fn a_full_disk_fails_the_write_cleanly_and_keeps_the_old_index() {
    let h = Home::with_greet();
    h.install(&example("stats"));
    let before = fs::read(h.index()).unwrap();
    // At most one 512-byte block per file: smaller than the index, so the
    // write runs out of room half-way, as on a full disk.
    let out = Command::new("sh")
        .args([
            "-c",
            r#"ulimit -f 1 && exec "$0" "$@""#,
            env!("CARGO_BIN_EXE_mycli"),
        ])
        .args(["plugins", "remove", "stats"])
        .env("MYCLI_HOME", h.home())
        .output()
        .unwrap();
    // Failing, not killed by SIGXFSZ.
    one_line(&stderr(&out));
    // The temporary file's name is random.
    let outcome = h.outcome(&out);
    let start = outcome.find("/.plugins.json.").unwrap() + "/.plugins.json.".len();
    let end = start + outcome[start..].find('"').unwrap();
    let outcome = format!("{}[RANDOM]{}", &outcome[..start], &outcome[end..]);
    insta::assert_snapshot!(outcome, @r#"[exit 1] mycli: error: cannot back up the plugin index [HOME]/plugins.json: File too large (os error 27) at path "[HOME]/.plugins.json.[RANDOM]"; nothing was changed; fix: raise the file size limit (`ulimit -f`) and try again"#);
    assert_eq!(fs::read(h.index()).unwrap(), before, "the index changed");
    h.assert_greet_runs();
    h.mycli()
        .args(["stats", "2"])
        .assert()
        .success()
        .stdout("sum 0..2 = 3\n");
    // The next write clears what the failed one left behind.
    h.mycli()
        .args(["plugins", "remove", "stats"])
        .assert()
        .success();
    assert_eq!(temporary_files(&h), Vec::<String>::new());
}

/// Temporary files of index writes left in the home.
fn temporary_files(h: &Home) -> Vec<String> {
    fs::read_dir(h.home())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".plugins.json."))
        .collect()
}

#[test]
fn sixteen_concurrent_installs_and_removes_lose_no_update() {
    let h = Home::with_greet();
    let script = |name: &str| {
        h.script(
            &format!("mycli-{name}"),
            &manifest(name, name, "^1.0"),
            "echo ok",
        )
    };
    let olds: Vec<String> = (0..8).map(|i| format!("old{i}")).collect();
    for name in &olds {
        h.install(&script(name));
    }
    let news: Vec<String> = (0..8).map(|i| format!("new{i}")).collect();
    let mut commands: Vec<Vec<String>> = Vec::new();
    for (old, new) in olds.iter().zip(&news) {
        let path = script(new).display().to_string();
        commands.push(vec!["install".into(), path, "--yes".into()]);
        commands.push(vec!["remove".into(), old.clone()]);
    }
    let children: Vec<_> = commands
        .iter()
        .map(|args| {
            Command::new(env!("CARGO_BIN_EXE_mycli"))
                .arg("plugins")
                .args(args)
                .env("MYCLI_HOME", h.home())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (child, args) in children.into_iter().zip(&commands) {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let mut installed: Vec<String> = Index::load(&h.index())
        .unwrap()
        .plugins
        .into_iter()
        .map(|e| e.name)
        .collect();
    installed.sort();
    let mut expected = news.clone();
    expected.push("greet".into());
    expected.sort();
    assert_eq!(installed, expected);
    for name in &news {
        h.mycli().arg(name).assert().success().stdout("ok\n");
    }
    h.assert_greet_runs();
}

// ------------------------------------------------------ crash consistency

/// A small deterministic generator (SplitMix64), seeded per round so a
/// failing round can be replayed alone.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What the crash loop compares: each plugin's name and pin, in order.
fn state(h: &Home) -> Vec<(String, String)> {
    let index = Index::load(&h.index()).unwrap_or_else(|e| panic!("{e}"));
    index
        .plugins
        .into_iter()
        .map(|e| (e.name, e.sha256))
        .collect()
}

#[test]
fn index_survives_sigkill_at_any_point_of_install_remove_and_upgrade() {
    const ROUNDS: u64 = 200;
    const POOL: u64 = 4;
    let h = Home::with_greet();
    let pool: Vec<PathBuf> = (0..POOL)
        .map(|i| {
            let name = format!("c{i}");
            h.script(
                &format!("mycli-{name}"),
                &manifest(&name, &name, "^1.0"),
                "echo c",
            )
        })
        .collect();
    // Kills land anywhere from before the command starts to after it ends:
    // up to one and a half times what a whole install and remove take on
    // this machine now.
    let timed = Instant::now();
    h.install(&pool[0]);
    h.mycli()
        .args(["plugins", "remove", "c0"])
        .assert()
        .success();
    let max_delay_ms = (timed.elapsed().as_millis() as u64 * 3 / 4).max(20);
    let started = Instant::now();
    let (mut kept_old, mut reached_new) = (0, 0);
    for round in 0..ROUNDS {
        let mut rng = Rng(round);
        let at = rng.below(POOL) as usize;
        let name = format!("c{at}");
        let old = state(&h);
        let installed = old.iter().position(|(n, _)| *n == name);
        let (args, new): (Vec<String>, Vec<(String, String)>) = match installed {
            None => {
                let sha = snapin::__private::sha256_file(&pool[at]).unwrap();
                let mut new = old.clone();
                new.push((name.clone(), sha));
                let path = pool[at].display().to_string();
                (vec!["install".into(), path, "--yes".into()], new)
            }
            Some(i) if rng.below(2) == 0 => {
                let mut new = old.clone();
                new.remove(i);
                (vec!["remove".into(), name.clone()], new)
            }
            Some(i) => {
                // A new release of the file, to re-pin.
                let text = format!(
                    "{}# release {round}\n",
                    fs::read_to_string(&pool[at]).unwrap()
                );
                write_executable(&pool[at], &text);
                let mut new = old.clone();
                new[i].1 = snapin::__private::sha256_file(&pool[at]).unwrap();
                (vec!["upgrade".into(), name.clone(), "--yes".into()], new)
            }
        };
        let delay = Duration::from_millis(rng.below(max_delay_ms));
        let mut child = Command::new(env!("CARGO_BIN_EXE_mycli"))
            .arg("plugins")
            .args(&args)
            .env("MYCLI_HOME", h.home())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; it may have finished already
        child.wait().unwrap();

        let now = state(&h);
        if now == old {
            kept_old += 1;
        } else if now == new {
            reached_new += 1;
        } else {
            panic!(
                "round {round} ({args:?} killed after {delay:?}): the index holds neither state\nold: {old:?}\nnew: {new:?}\nnow: {now:?}"
            );
        }
        let backup = h.home().join("plugins.json.bak");
        if backup.exists() {
            Index::load(&backup).unwrap_or_else(|e| panic!("round {round}: backup: {e}"));
        }
        h.assert_greet_runs();
    }
    eprintln!(
        "{ROUNDS} rounds in {:?} (kills 0..{max_delay_ms} ms after the start): {kept_old} kept the old state, {reached_new} reached the new one",
        started.elapsed()
    );
    // Kills landed both before and after the change was written.
    assert!(
        kept_old > 0 && reached_new > 0,
        "{kept_old} / {reached_new}"
    );
    // Every surviving plugin runs, and the next write sweeps up temporary
    // files left by killed writers.
    for (name, _) in state(&h).into_iter().filter(|(n, _)| n != "greet") {
        let out = h.mycli().arg(&name).output().unwrap();
        // A plugin whose upgrade was killed is refused until re-pinned.
        if !out.status.success() {
            assert!(stderr(&out).contains(&format!("mycli plugins upgrade {name}")));
            h.mycli()
                .args(["plugins", "upgrade", &name, "--yes"])
                .assert()
                .success();
        }
        h.mycli().arg(&name).assert().success().stdout("c\n");
    }
    h.mycli()
        .args(["plugins", "disable", "greet"])
        .assert()
        .success();
    assert_eq!(temporary_files(&h), Vec::<String>::new());
}

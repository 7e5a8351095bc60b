//! Plugin-supplied text that would drive the terminal or the shell: what a
//! plugin writes on stderr while it describes itself, its log lines, its
//! file's name, a manifest recorded with `--force`, completion candidates,
//! and a component's describe reading stdin or flooding its output. Each
//! test checks the bytes the host prints, the index, and that a good plugin
//! installed beside the hostile one still runs.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Home, example, stderr, stdout, wasm_example, write_executable};

/// Escape sequences and line forgeries: clear the screen, write the
/// clipboard (OSC 52), set the title, CSI in one byte, a carriage return
/// and a newline that forge a line, reordering and invisible characters.
const HOSTILE: &str = "pwn\u{1b}[2J\u{1b}]52;c;aGVsbG8=\u{7}\u{1b}]0;title\u{7}\u{9b}31m\rmycli: error: forged\nmycli: ok\u{202e}txt.exe\u{200b}\u{2066}";

/// The characters none of which may reach the terminal from a plugin.
fn is_hostile(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// Asserts that `bytes` (what the host printed on one stream) hold no
/// character that drives the terminal, and that no line pretends to be
/// another line of the host's.
fn assert_inert(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !text.chars().any(is_hostile),
        "{what} holds a raw control, bidi or invisible character: {text:?}"
    );
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("mycli: error: forged") || l == "mycli: ok"),
        "{what} holds a forged line: {text}"
    );
}

fn assert_output_inert(out: &std::process::Output) {
    assert_inert("stdout", &out.stdout);
    assert_inert("stderr", &out.stderr);
}

/// The index bytes, or None when there is none.
fn index_bytes(h: &Home) -> Option<Vec<u8>> {
    fs::read(h.index()).ok()
}

/// Writes `[plugins.NAME.config]` with `pairs` into this home's
/// configuration file, each value a TOML basic string (so control
/// characters travel as `\uXXXX`).
fn configure(h: &Home, name: &str, pairs: &[(&str, &str)]) {
    let dir = h.home().join("config");
    fs::create_dir_all(&dir).expect("config dir");
    let mut text = format!("[plugins.{name}.config]\n");
    for (key, value) in pairs {
        let escaped: String = value
            .chars()
            .map(|c| match c {
                '"' => "\\\"".to_string(),
                '\\' => "\\\\".to_string(),
                c if c.is_control() => format!("\\u{:04X}", u32::from(c)),
                c => c.to_string(),
            })
            .collect();
        text.push_str(&format!("{key} = \"{escaped}\"\n"));
    }
    fs::write(dir.join("config.toml"), text).expect("write config.toml");
}

/// An executable whose file name and describe's stderr are hostile: the
/// error line and the `--debug` lines show both escaped, one line each.
#[test]
fn describe_stderr_and_file_names_reach_the_terminal_escaped() {
    let h = Home::new();
    h.install(&example("greet"));
    let before = index_bytes(&h);
    let path = h.scratch(&format!("mycli-evil{HOSTILE}").replace('\n', "_"));
    write_executable(
        &path,
        &format!(
            "#!/bin/sh\nprintf 'reading config\\n' >&2\nprintf '%s\\n' '{HOSTILE}' >&2\nexit 3\n"
        ),
    );
    let out = h.install_cmd(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_output_inert(&out);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(
        err.starts_with("mycli: error: cannot install plugin 'unnamed': it could not describe itself: `--snapin-describe` failed (exit status 3): mycli: ok\\u{202e}txt.exe\\u{200b}\\u{2066}; fix: "),
        "{err}"
    );
    // --debug shows every line it wrote, each on a line of its own.
    let out = h
        .mycli()
        .args(["--debug", "plugins", "install"])
        .arg(&path)
        .arg("--yes")
        .output()
        .unwrap();
    assert_output_inert(&out);
    let err = stderr(&out);
    assert!(
        err.contains("--snapin-describe wrote on stderr: reading config\n"),
        "{err}"
    );
    for line in [
        "wrote on stderr: pwn\\u{1b}[2J\\u{1b}]52;c;aGVsbG8=\\u{7}",
        "\\rmycli: error: forged\n",
        "wrote on stderr: mycli: ok\\u{202e}txt.exe\\u{200b}\\u{2066}\n",
        "scratch/mycli-evilpwn\\u{1b}[2J",
    ] {
        assert!(err.contains(line), "{line:?} in {err}");
    }
    // A file that is not a plugin at all: its name is escaped too.
    fs::write(&path, "not a plugin").unwrap();
    fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let out = h.install_cmd(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_output_inert(&out);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));

    assert_eq!(index_bytes(&h), before);
    h.assert_greet_runs();
}

/// A manifest that breaks the text rule everywhere, recorded with
/// `--force`: nothing of it reaches the terminal raw, in the consent
/// summary, `list`, `info`, `doctor`, `check`, `--help`, or a run.
#[test]
fn a_forced_hostile_manifest_prints_nothing_raw_anywhere() {
    let h = Home::new();
    h.install(&example("greet"));
    let json = |s: &str| serde_json::to_string(s).unwrap();
    let manifest = format!(
        r#"{{"manifest":1,"host":"mycli","name":"evil","version":{v},"api":"^1.0","description":{t},"commands":[{{"name":"evil","about":{t},"args":[{{"name":"format","long":"format","help":{t},"choices":["json$(touch pwned)",{t}]}}]}}]}}"#,
        v = json(&format!("1.0.0{HOSTILE}")),
        t = json(HOSTILE),
    );
    let path = h.script("mycli-evil", &manifest, "echo ran");
    // Refused first, with the field named and the value escaped.
    let before = index_bytes(&h);
    let out = h.install_cmd(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_output_inert(&out);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert_eq!(index_bytes(&h), before);

    let out = h.install_cmd(&path).arg("--force").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_output_inert(&out);
    for args in [
        &["--help"][..],
        &["plugins", "list"],
        &["plugins", "info", "evil"],
        &["plugins", "doctor"],
        &["plugins", "check", "evil"],
        &["evil"],
        &["-v", "greet"],
        &["--debug", "version"],
    ] {
        let out = h.mycli().args(args).output().unwrap();
        assert_output_inert(&out);
    }
    let out = h.mycli().args(["plugins", "list"]).output().unwrap();
    assert!(stdout(&out).contains("evil"), "{}", stdout(&out));
    h.assert_greet_runs();
}

/// The last question of an install restates what the yes grants, after
/// whatever the plugin's words made of the lines above it.
#[test]
fn the_final_question_restates_what_is_granted() {
    let h = Home::new();
    let shared = h.scratch("shared");
    fs::create_dir_all(&shared).unwrap();
    let wasm = wasm_example("wescape");
    let args = format!(
        "plugins install {} --grant read={} --grant env=SNAPIN_TEST_SECRET",
        wasm.display(),
        shared.display()
    );
    let Some(out) = h.on_terminal(&args, "n\n") else {
        return;
    };
    let said = stdout(&out);
    assert!(
        said.contains(&format!(
            "Install plugin 'wescape' 0.1.0 and grant read {}, env SNAPIN_TEST_SECRET? [y/N]",
            shared.display()
        )),
        "{said}"
    );
    assert!(!h.index().exists());
}

/// A component's log lines, at describe and at every run, are one escaped
/// line each; its describe gets no stdin (a pipe kept open with something
/// typed into it neither blocks the install nor is read).
#[test]
fn a_component_neither_reads_stdin_at_describe_nor_logs_raw_text() {
    let h = Home::new();
    h.install(&example("greet"));
    configure(
        &h,
        "wescape",
        &[("log", HOSTILE), ("describe", "read-stdin")],
    );
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_mycli"))
        .args(["plugins", "install"])
        .arg(wasm_example("wescape"))
        .arg("--yes")
        .env("MYCLI_HOME", h.home())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // What the user types, and the pipe held open: a describe that read
    // the host's stdin would get it, or wait for more.
    let mut typed = child.stdin.take().unwrap();
    typed.write_all(b"typed-secret\n").unwrap();
    let started = Instant::now();
    let out = loop {
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("install waited on stdin");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(typed);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_output_inert(&out);
    let err = stderr(&out);
    assert!(
        err.contains("mycli: warning: plugin 'wescape': read from stdin: \"\"\n"),
        "{err}"
    );
    assert!(!err.contains("typed-secret"), "{err}");
    assert!(
        err.contains("mycli: warning: plugin 'wescape': pwn\\u{1b}[2J\\u{1b}]52;c;aGVsbG8=\\u{7}"),
        "{err}"
    );
    // At a run, the same.
    let out = h.mycli().args(["wenv", "NOPE"]).output().unwrap();
    assert_output_inert(&out);
    assert!(
        stderr(&out).contains("plugin 'wescape': pwn\\u{1b}[2J"),
        "{}",
        stderr(&out)
    );
    h.assert_greet_runs();
}

/// A component whose describe writes 120 MiB on stdout and stderr is
/// refused in one line, within a data limit of 400 MiB for the whole host
/// (before, its output went to the terminal, and a captured copy would
/// have grown without bound).
#[test]
fn a_flooding_describe_is_bounded_and_refused_in_one_line() {
    let h = Home::new();
    h.install(&example("greet"));
    let before = index_bytes(&h);
    configure(&h, "wescape", &[("describe", "flood")]);
    let out = StdCommand::new("sh")
        .args(["-c", "ulimit -d 409600 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_mycli"))
        .args(["plugins", "install"])
        .arg(wasm_example("wescape"))
        .arg("--yes")
        .env("MYCLI_HOME", h.home())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("mycli: error: cannot install plugin 'wescape': it could not describe itself: its describe wrote more than the 1048576 byte limit on stdout"),
        "{err}"
    );
    assert_eq!(index_bytes(&h), before);

    // A describe that fails shows the last line it wrote on stderr,
    // escaped, as an executable's does.
    configure(&h, "wescape", &[("describe", "fail"), ("stderr", HOSTILE)]);
    let out = h.install_cmd(&wasm_example("wescape")).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_output_inert(&out);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("failed (exit status 1): mycli: ok\\u{202e}txt.exe"),
        "{err}"
    );
    assert_eq!(index_bytes(&h), before);
    h.assert_greet_runs();
}

/// `--debug` is the host's: a component's run shows the host's lines and
/// none of the runtime's (wasmtime's traces come at `-vvv`).
#[test]
fn debug_shows_the_hosts_lines_not_the_runtimes() {
    let h = Home::new();
    h.install(&wasm_example("wstats"));
    let out = h.mycli().args(["--debug", "wstats", "5"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("mycli: debug: running plugin 'wstats'")),
        "{err}"
    );
    for line in &lines {
        assert!(
            line.starts_with("mycli: info: plugin ")
                || line.starts_with("mycli: debug: running plugin ")
                || line.starts_with("mycli: debug: plugin 'wstats': "),
            "a line that is not the host's under --debug: {line}\n{err}"
        );
    }
    let out = h.mycli().args(["-vvv", "wstats", "5"]).output().unwrap();
    assert!(
        stderr(&out).lines().count() > lines.len(),
        "-vvv adds the runtime's lines: {}",
        stderr(&out)
    );
}

/// A choice a shell would run is refused by the contract, naming the arg
/// and the character.
#[test]
fn a_choice_that_is_shell_code_is_refused() {
    let h = Home::new();
    h.install(&example("greet"));
    let before = index_bytes(&h);
    for (choice, character) in [
        ("json$(touch pwned)", "$"),
        ("`id`", "`"),
        ("a;b", ";"),
        ("two words", " "),
        ("x|y", "|"),
    ] {
        let manifest = format!(
            r#"{{"manifest":1,"host":"mycli","name":"fmt","version":"1.0.0","api":"^1.0","commands":[{{"name":"fmt","args":[{{"name":"format","long":"format","choices":["json",{}]}}]}}]}}"#,
            serde_json::to_string(choice).unwrap()
        );
        let path = h.script("mycli-fmt", &manifest, "exit 0");
        let out = h.install_cmd(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!(
                "commands[0].args[0].choices[1] of arg 'format': {}, character {:?} is invalid",
                serde_json::to_string(choice).unwrap(),
                character
            )),
            "{err}"
        );
    }
    assert_eq!(index_bytes(&h), before);
    h.assert_greet_runs();
}

/// bash inserts what completion returns as it is: a file name that is
/// shell code (a sandboxed plugin granted a directory can make one) is
/// quoted, so that the completed line runs nothing.
#[test]
fn bash_completes_a_hostile_file_name_as_a_quoted_word() {
    let h = Home::new();
    h.install(&example("greet"));
    let dir = h.scratch("dl");
    fs::create_dir_all(&dir).unwrap();
    let name = "a$(touch PWNED);`touch PWNED2` b";
    fs::write(dir.join(name), "").unwrap();
    let script = h.scratch("mycli.bash");
    let out = h.mycli().env("MYCLI_COMPLETE", "bash").output().unwrap();
    fs::write(&script, &out.stdout).unwrap();
    // Complete `mycli plugins install a` in DIR, then run the line bash
    // would run with the candidate in place of the word.
    let program = r#"
source "$1" || exit 90
cd "$2" || exit 91
fn=$(complete -p mycli | sed -E 's/.* -F ([^ ]+) .*/\1/')
COMP_WORDS=(mycli plugins install a)
COMP_CWORD=3
COMP_LINE='mycli plugins install a'
COMP_POINT=${#COMP_LINE}
"$fn" mycli a install
[[ ${#COMPREPLY[@]} == 1 ]] || { echo "candidates: ${COMPREPLY[*]}"; exit 92; }
printf 'candidate=%s\n' "${COMPREPLY[0]}"
eval "printf 'arg=%s\n' ${COMPREPLY[0]}"
"#;
    let out = StdCommand::new("bash")
        .args(["--norc", "--noprofile", "-c", program, "bash"])
        .arg(&script)
        .arg(&dir)
        .env("MYCLI_HOME", h.home())
        .env("PATH", path_with_mycli())
        .env_remove("MYCLI_COMPLETE")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    assert!(said.contains(&format!("arg={name}\n")), "{said}");
    assert!(
        !dir.join("PWNED").exists() && !dir.join("PWNED2").exists(),
        "{said}"
    );
    h.assert_greet_runs();
}

/// PATH with the directory of the mycli binary first, so the completion
/// script's callback `mycli` is the one under test.
fn path_with_mycli() -> std::ffi::OsString {
    let bin: PathBuf = Path::new(env!("CARGO_BIN_EXE_mycli"))
        .parent()
        .expect("the binary lives in a directory")
        .into();
    let mut dirs = vec![bin];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).expect("PATH joins")
}

//! What differs between systems, asserted on each system the tests run on:
//! Linux natively, Windows under wine (`cargo xtask wine`). The program
//! name in usage lines, finding a plugin by name on PATH, exit statuses and
//! crashes, a plugin written in the system's own script language, and the
//! index under concurrent writers and readers.

use std::path::PathBuf;
use std::process::Stdio;

use crate::support::{self, Home, example, manifest, stderr, stdout};

/// A plugin in the system's own script language: POSIX sh on Unix; on
/// Windows a batch file, `FILE.cmd`, which types its manifest from
/// `FILE.json` beside it. `body` runs for any command, in that language.
fn native_script(h: &Home, file: &str, manifest: &str, body: &str) -> PathBuf {
    #[cfg(unix)]
    {
        h.script(file, manifest, body)
    }
    #[cfg(windows)]
    {
        let json = h.scratch(&format!("{file}.json"));
        std::fs::write(&json, manifest).expect("write the manifest");
        let path = h.scratch(&format!("{file}.cmd"));
        let text = format!(
            "@echo off\r\nif \"%~1\"==\"--snapin-describe\" (\r\n  type \"%~dp0{file}.json\"\r\n  exit /b 0\r\n)\r\n{body}\r\n"
        );
        std::fs::write(&path, text).expect("write the batch file");
        path
    }
}

/// Usage lines say `mycli`, the word users type, not the file name
/// (`mycli.exe` on Windows), for the host's own commands and a plugin's.
#[test]
fn usage_lines_name_the_program_as_users_type_it() {
    let h = Home::new();
    h.install(&example("stats"));
    let out = h.mycli().arg("--help").output().unwrap();
    assert!(
        stdout(&out).contains("Usage: mycli [OPTIONS] <COMMAND>"),
        "{}",
        stdout(&out)
    );
    let out = h.mycli().arg("stats").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("Usage: mycli stats"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(".exe"), "{}", stderr(&out));
}

/// `plugins install NAME` finds `mycli-NAME` on PATH, with PATH's own
/// separator; on Windows with the extensions PATHEXT lists, so the same
/// command finds `mycli-greet.exe`.
#[test]
fn install_by_name_finds_the_executable_on_path() {
    let h = Home::new();
    let mut dirs = vec![example("greet").parent().unwrap().to_path_buf()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(dirs).unwrap();
    h.mycli()
        .args(["plugins", "install", "greet", "--yes"])
        .env("PATH", &path)
        .assert()
        .success();
    assert_eq!(h.row("greet")["origin"], "PATH mycli-greet");
    h.mycli()
        .args(["greet", "--who", "path"])
        .assert()
        .success()
        .stdout("hello, path\n");
    let out = h
        .mycli()
        .args(["plugins", "install", "no-such-plugin", "--yes"])
        .env("PATH", &path)
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install 'no-such-plugin': there is no such file and no `mycli-no-such-plugin` executable on PATH; fix: give the path to the plugin executable");
}

/// On Windows only the extensions PATHEXT names are tried, in its order:
/// a batch plugin is found as `.cmd`, and an `.exe` is not when PATHEXT
/// leaves it out.
#[cfg(windows)]
#[test]
fn install_by_name_tries_the_extensions_pathext_names() {
    let h = Home::new();
    let script = native_script(
        &h,
        "mycli-batch",
        &manifest("batch", "batch", "^1.0"),
        "echo batch ran",
    );
    let mut dirs = vec![
        script.parent().unwrap().to_path_buf(),
        example("greet").parent().unwrap().to_path_buf(),
    ];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(dirs).unwrap();
    h.mycli()
        .args(["plugins", "install", "batch", "--yes"])
        .env("PATH", &path)
        .env("PATHEXT", ".COM;.CMD")
        .assert()
        .success();
    h.mycli()
        .arg("batch")
        .assert()
        .success()
        .stdout("batch ran\r\n");
    let out = h
        .mycli()
        .args(["plugins", "install", "greet", "--yes"])
        .env("PATH", &path)
        .env("PATHEXT", ".COM;.CMD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no `mycli-greet` executable on PATH"),
        "{}",
        stderr(&out)
    );
}

/// A plugin's exit status is the command's, silently: the plugin said what
/// went wrong itself. The plugin is a script in the system's own language,
/// a plugin written without the SDK.
#[test]
fn a_script_plugins_exit_status_passes_through_silently() {
    let h = Home::new();
    let body = if cfg!(windows) {
        "echo fail: nothing to do 1>&2\r\nexit /b 7"
    } else {
        "echo 'fail: nothing to do' >&2\nexit 7"
    };
    let plugin = native_script(&h, "mycli-fail", &manifest("fail", "fail", "^1.0"), body);
    h.install(&plugin);
    let out = h.mycli().arg("fail").output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(stderr(&out).trim_end(), "fail: nothing to do");
}

/// A crash on Windows is an exception, not a signal: one line names it by
/// its code and what it means, the status is the crash status, and the
/// fix, run as written, turns the plugin off.
#[cfg(windows)]
#[test]
fn a_crash_is_reported_from_its_exception_code() {
    let h = Home::new();
    h.install(&example("crashy"));
    let out = h.mycli().arg("crash").output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 134] mycli: error: plugin 'crashy' crashed with exception 0xC0000005 (access violation) while running `mycli crash`: this is a bug in the plugin; fix: report it to its author, or turn it off with `mycli plugins disable crashy`");
    h.mycli().args(["plugins", "doctor"]).assert().success();
    h.fix_command(&h.outcome(&out))
        .assert()
        .success()
        .stdout("disabled plugin 'crashy'\n");
    h.mycli().arg("crash").assert().code(2);
}

/// Writers take the index lock and replace the file whole; readers take no
/// lock. Installs and removals racing each other lose no entry, and a
/// reader running all the while never fails: on Windows the replace must
/// work while readers hold the file open.
#[test]
fn concurrent_writers_and_readers_lose_nothing() {
    let h = Home::with_greet();
    let plugins = [
        example("stats"),
        example("crashy"),
        support::wasm_example("wstats"),
    ];
    let spawn = |args: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_mycli"))
            .args(args)
            .env("MYCLI_HOME", h.home())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut reads = 0;
            // Bounded too, so that a failure of the writers below, which
            // never sets `stop`, ends the test instead of hanging it.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            while (!stop.load(std::sync::atomic::Ordering::Relaxed) || reads < 3)
                && std::time::Instant::now() < deadline
            {
                h.assert_greet_runs();
                h.mycli().args(["plugins", "list"]).assert().success();
                reads += 1;
            }
            reads
        });
        let installs: Vec<_> = plugins
            .iter()
            .map(|p| {
                spawn(&[
                    "plugins".as_ref(),
                    "install".as_ref(),
                    p.as_os_str(),
                    "--yes".as_ref(),
                ])
            })
            .collect();
        for child in installs {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
        let rows = h.list();
        for name in ["greet", "stats", "crashy", "wstats"] {
            assert!(rows.iter().any(|r| r["name"] == name), "{rows:?}");
        }
        let removes: Vec<_> = ["stats", "crashy", "wstats"]
            .iter()
            .map(|n| spawn(&["plugins".as_ref(), "remove".as_ref(), n.as_ref()]))
            .collect();
        for child in removes {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", stderr(&out));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() >= 3);
    });
    let left: Vec<_> = h
        .list()
        .into_iter()
        .filter(|r| r["kind"] != "builtin")
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["name"], "greet");
}

/// Without `MYCLI_HOME`, the index lives where the system keeps programs'
/// data: on Windows under the roaming application data folder, as
/// `%APPDATA%\mycli\data\plugins.json`.
#[cfg(windows)]
#[test]
fn without_a_home_the_index_is_in_the_application_data_folder() {
    let appdata = PathBuf::from(std::env::var_os("APPDATA").expect("APPDATA is set"));
    let index = appdata.join(r"mycli\data\plugins.json");
    let h = Home::new();
    let mycli = || {
        let mut cmd = h.mycli();
        cmd.env_remove("MYCLI_HOME");
        cmd
    };
    mycli()
        .args(["plugins", "install", "--yes"])
        .arg(example("greet"))
        .assert()
        .success();
    let text = std::fs::read_to_string(&index).expect("the index is in %APPDATA%");
    assert!(text.contains("\"name\": \"greet\""), "{text}");
    mycli()
        .args(["plugins", "remove", "greet"])
        .assert()
        .success();
    let text = std::fs::read_to_string(&index).expect("the index is in %APPDATA%");
    assert!(!text.contains("\"name\": \"greet\""), "{text}");
}

/// PowerShell's completion script registers a completer for `mycli`, the
/// word users type (not `mycli.exe`), which calls back into mycli at each
/// TAB; mycli answers from the index, one `VALUE<TAB>HELP` a line. pwsh
/// itself is not run here: Debian has no package of it.
#[test]
fn powershell_completion_asks_mycli_for_its_candidates() {
    let h = Home::with_greet();
    let out = h
        .mycli()
        .env("MYCLI_COMPLETE", "powershell")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let script = stdout(&out);
    assert!(
        script.contains("Register-ArgumentCompleter -Native -CommandName mycli -ScriptBlock"),
        "{script}"
    );
    assert!(
        script.contains(r#"$env:MYCLI_COMPLETE = "powershell";"#),
        "{script}"
    );
    let complete = |words: &[&str]| {
        let out = h
            .mycli()
            .env("MYCLI_COMPLETE", "powershell")
            .arg("--")
            .args(words)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(complete(&["mycli", "gr"]), "greet\tSay hello\n");
    assert_eq!(
        complete(&["mycli", "greet", "--w"]),
        "--who\tWho to greet\n"
    );
}

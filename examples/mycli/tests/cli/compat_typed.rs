//! The compatibility fixtures of plugin API 1.2 and 1.3 (tests/compat/),
//! POSIX sh plugins whose manifests are what the SDK prints, against this
//! mycli (API 1.3): describe, help, completion, runs and exit statuses,
//! and the typed usage error of API 1.3, which never starts the plugin.
//! A host at API 1.2 is in crates/snapin/tests/compat_typed.rs.

use std::fs;
use std::path::PathBuf;
use std::process::Output;

use crate::support::{Home, repo, stderr, stdout, write_executable};

/// Copies the fixture plugin of API `api` (`1.2`, `1.3`) into the scratch
/// directory of `h` (install checks who may change the file and the
/// directories above it), with `edit` applied to its text.
fn fixture(h: &Home, api: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let from = repo().join(format!("tests/compat/api-{api}/mycli-todo"));
    let text = fs::read_to_string(&from).expect("read the fixture");
    let dir = h.scratch(&format!("api-{api}"));
    fs::create_dir_all(&dir).expect("fixture dir");
    let to = dir.join("mycli-todo");
    write_executable(&to, &edit(text));
    to
}

/// The manifest the fixture of API `api` must describe itself with.
fn manifest_json(api: &str) -> String {
    fs::read_to_string(repo().join(format!("tests/compat/api-{api}/manifest.json")))
        .expect("read manifest.json")
}

/// A home with the fixture of API `api` installed, the file its runs
/// mark, and a working directory holding `tasks.txt` and `tdir/`.
struct Setup {
    h: Home,
    ran: PathBuf,
    cwd: PathBuf,
}

fn setup(api: &str, edit: impl Fn(String) -> String) -> Setup {
    let h = Home::new();
    let plugin = fixture(&h, api, edit);
    h.install(&plugin);
    let cwd = h.scratch("work");
    fs::create_dir_all(cwd.join("tdir")).expect("work dir");
    fs::write(cwd.join("tasks.txt"), "a\nb\n").expect("tasks");
    Setup {
        ran: h.scratch("ran"),
        h,
        cwd,
    }
}

impl Setup {
    /// `mycli ARGS` in the working directory; whether the plugin ran.
    fn run(&self, args: &[&str]) -> (Output, bool) {
        let _ = fs::remove_file(&self.ran);
        let out = self
            .h
            .mycli()
            .args(args)
            .current_dir(&self.cwd)
            .env("TODO_RAN", &self.ran)
            .output()
            .expect("mycli runs");
        (out, self.ran.exists())
    }

    /// The bash candidates for the last word of `words` (after `mycli`),
    /// as the completion script asks for them, from the working directory.
    fn complete(&self, words: &[&str]) -> Vec<String> {
        let _ = fs::remove_file(&self.ran);
        let out = self
            .h
            .mycli()
            .current_dir(&self.cwd)
            .env("MYCLI_COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", words.len().to_string())
            .env("_CLAP_IFS", "\n")
            .arg("--")
            .arg("mycli")
            .args(words)
            .env("TODO_RAN", &self.ran)
            .output()
            .expect("mycli runs");
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(!self.ran.exists(), "completing started the plugin");
        let mut words: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
        words.sort();
        words
    }
}

/// The fixture describes itself with exactly its manifest.json.
fn assert_describes_itself(api: &str) {
    let h = Home::new();
    let plugin = fixture(&h, api, |t| t);
    let out = std::process::Command::new(&plugin)
        .arg("--snapin-describe")
        .output()
        .expect("the fixture runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), manifest_json(api));
    let check = h
        .mycli()
        .args(["plugins", "check"])
        .arg(&plugin)
        .output()
        .expect("mycli runs");
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    assert!(
        !stdout(&check).contains("warn"),
        "mycli knows every field: {}",
        stdout(&check)
    );
}

fn info(s: &Setup) -> String {
    let (out, ran) = s.run(&["plugins", "info", "todo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!ran);
    stdout(&out)
}

#[test]
fn the_api_1_2_fixture_runs_unchanged_and_checks_its_own_values() {
    assert_describes_itself("1.2");
    let s = setup("1.2", |t| t);
    let info = info(&s);
    assert!(
        info.contains("api:          ^1.2 (mycli provides 1.3.0)"),
        "{info}"
    );
    let (out, ran) = s.run(&["done", "--help"]);
    assert!(out.status.success() && !ran, "{}", stderr(&out));
    assert!(stdout(&out).contains("<ID>"), "{}", stdout(&out));

    let (out, ran) = s.run(&["done", "7"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(ran);
    assert_eq!(stdout(&out), "done 7 (api=1.3.0)\n");
    // No `type`: mycli passes any value on, and the plugin refuses it.
    let (out, ran) = s.run(&["done", "abc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(ran, "an untyped value is the plugin's to check");
    assert_eq!(
        stderr(&out),
        "mycli-todo: ID must be a whole number, not 'abc'\n"
    );
    let (out, _) = s.run(&["import", "tasks.txt"]);
    assert_eq!(stdout(&out), "imported tasks.txt\n", "{}", stderr(&out));
    // An untyped arg completes nothing.
    assert_eq!(s.complete(&["import", "t"]), Vec::<String>::new());
}

#[test]
fn the_api_1_3_fixture_has_its_values_checked_before_it_starts() {
    assert_describes_itself("1.3");
    let s = setup("1.3", |t| t);
    let info = info(&s);
    assert!(
        info.contains("api:          ^1.3 (mycli provides 1.3.0)"),
        "{info}"
    );
    let (out, _) = s.run(&["done", "7"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "done 7 (api=1.3.0)\n");
    // The plugin gets the text as typed, not the number clap read.
    let (out, _) = s.run(&["done", "+7"]);
    assert_eq!(stdout(&out), "done +7 (api=1.3.0)\n", "{}", stderr(&out));

    for (args, why) in [
        (
            &["done", "abc"][..],
            "error: invalid value 'abc' for '<ID>': not a whole number",
        ),
        (
            &["done", "-1"][..],
            "error: invalid value '-1' for '<ID>': must be from 0 to 4294967295",
        ),
        (
            &["done", "4294967296"][..],
            "error: invalid value '4294967296' for '<ID>': must be from 0 to 4294967295",
        ),
    ] {
        let (out, ran) = s.run(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!ran, "{args:?}: the plugin was started");
        let err = stderr(&out);
        assert!(err.starts_with(why), "{args:?}: {err}");
    }
    let (out, ran) = s.run(&["import", ""]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!ran);
    // Whether the file exists is the plugin's business.
    let (out, ran) = s.run(&["import", "missing.txt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(ran);
    assert_eq!(stderr(&out), "mycli-todo: no file 'missing.txt'\n");
    let (out, _) = s.run(&["import", "tasks.txt"]);
    assert_eq!(stdout(&out), "imported tasks.txt\n");

    // A `file` arg completes files (and directories, to go into).
    assert_eq!(s.complete(&["import", "t"]), ["tasks.txt", "tdir/"]);
    assert_eq!(s.complete(&["import", "tdir/"]), Vec::<String>::new());
    assert_eq!(s.complete(&["done", "t"]), Vec::<String>::new());
}

/// A plugin that uses API 1.3's fields but declares `^1.0` loads here as
/// well, and its values are still checked: this host knows the fields.
#[test]
fn a_typed_plugin_that_asks_for_api_1_0_is_checked_all_the_same() {
    let s = setup("1.3", |t| t.replace(r#""api":"^1.3""#, r#""api":"^1.0""#));
    assert!(info(&s).contains("api:          ^1.0 (mycli provides 1.3.0)"));
    let (out, ran) = s.run(&["done", "abc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!ran);
}

/// A type word from a later API version is read as `string` and pointed
/// out at `-v`, as an unknown field is: the plugin loads and checks the
/// value itself.
#[test]
fn a_type_from_a_later_api_is_read_as_string_and_pointed_out() {
    let h = Home::new();
    let later = |t: String| {
        t.replace(r#""api":"^1.3""#, r#""api":"^1.0""#).replace(
            r#""type":"int","range":{"min":0,"max":4294967295}"#,
            r#""type":"task-id""#,
        )
    };
    let plugin = fixture(&h, "1.3", later);
    let out = h
        .install_cmd(&plugin)
        .arg("-v")
        .output()
        .expect("mycli runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let warned: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.contains("does not know"))
        .map(str::to_string)
        .collect();
    insta::assert_snapshot!(warned.join("\n"), @"mycli: info: todo's manifest has fields this mycli does not know, ignored: `commands[0].args[0].type` `task-id` (read as `string`)");
    let ran = h.scratch("ran");
    let out = h
        .mycli()
        .args(["done", "abc"])
        .env("TODO_RAN", &ran)
        .output()
        .expect("mycli runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        ran.exists(),
        "no host-side check for a type mycli does not know"
    );
}

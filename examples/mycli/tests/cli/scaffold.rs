//! `mycli plugins new`: the crate it writes builds, passes its own tests,
//! installs and runs, for both kinds; what it refuses; and the Python
//! example of docs/writing-plugins.md.
//!
//! The scaffolded crates are built offline with `CARGO_TARGET_DIR` set to
//! the workspace's `target/`, so the dependencies the workspace already
//! compiled (clap, serde, wit-bindgen) are reused; the crate itself, the
//! SDK and `clap`'s facade are compiled again for the new crate's own
//! dependency graph.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use predicates::str::contains;

use crate::support::{self, Home, stdout};

/// The workspace's `target/` directory.
fn target_dir() -> PathBuf {
    support::bin_dir()
        .parent()
        .expect("target/debug has a parent")
        .to_path_buf()
}

/// `cargo ARGS` in `dir`, offline, against the workspace's target dir;
/// asserts success and returns stdout and stderr together.
fn cargo(dir: &Path, args: &[&str]) -> String {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = StdCommand::new(cargo)
        .current_dir(dir)
        .args(args)
        .arg("--offline")
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("cargo runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "cargo {args:?} in {} failed:\n{text}",
        dir.display()
    );
    text
}

/// Runs `mycli plugins new ARGS` in `cwd`, asserting success; returns
/// its stdout.
fn plugins_new(h: &Home, cwd: &Path, args: &[&str]) -> String {
    let out = h
        .mycli()
        .current_dir(cwd)
        .args(["plugins", "new"])
        .args(args)
        .output()
        .expect("mycli runs");
    assert!(out.status.success(), "{}", support::stderr(&out));
    stdout(&out)
}

/// A built plugin file copied out of the shared target dir, so that
/// another build writing the same path cannot change it under its pin.
fn copy_out(h: &Home, built: &Path) -> PathBuf {
    let to = h.scratch(&built.file_name().expect("a file").to_string_lossy());
    fs::copy(built, &to).expect("copy the built plugin");
    to
}

#[test]
fn an_executable_plugin_from_plugins_new_builds_tests_installs_and_runs() {
    let h = Home::new();
    let work = h.scratch("work");
    fs::create_dir_all(&work).unwrap();
    let sdk = support::repo().join("crates/snapin-sdk");
    let said = plugins_new(&h, &work, &["hello", "--sdk-path", sdk.to_str().unwrap()]);
    assert!(!said.contains("note:"), "{said}");
    assert!(
        said.contains("created mycli-hello (exec plugin, snapin-sdk 0.1, mycli API ^1.3)"),
        "{said}"
    );
    assert!(
        said.contains("mycli plugins install target/release/mycli-hello"),
        "{said}"
    );

    let dir = work.join("mycli-hello");
    for file in ["Cargo.toml", "src/main.rs", "README.md", ".gitignore"] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"mycli-hello\""), "{manifest}");
    let canonical_sdk = fs::canonicalize(&sdk).unwrap();
    assert!(
        manifest.contains(&format!(
            "snapin-sdk = {{ version = \"0.1\", path = \"{}\" }}",
            canonical_sdk.display()
        )),
        "{manifest}"
    );
    let readme = fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(readme.contains("mycli plugins install target/release/mycli-hello"));
    // docs/writing-plugins.md shows this source: it must not drift.
    let main = fs::read_to_string(dir.join("src/main.rs")).unwrap();
    let shown = guide_block("<!-- scaffold: src/main.rs -->\n```rust\n");
    assert!(
        main.contains(&shown),
        "docs/writing-plugins.md shows a src/main.rs that `plugins new hello` does not write:\n{main}"
    );

    cargo(&dir, &["build"]);
    let tests = cargo(&dir, &["test"]);
    assert!(tests.contains("test result: ok. 2 passed"), "{tests}");

    let plugin = copy_out(&h, &target_dir().join("debug/mycli-hello"));
    h.install(&plugin);
    h.mycli()
        .args(["hello", "--who", "Rust"])
        .assert()
        .success()
        .stdout("hello, Rust, from the hello plugin of mycli\n");
    h.mycli()
        .arg("hello")
        .assert()
        .success()
        .stdout("hello, world, from the hello plugin of mycli\n");
    let row = h.row("hello");
    assert_eq!(row["status"], "ok");
    assert_eq!(row["kind"], "exec");
    assert_eq!(row["version"], "0.1.0");
    assert_eq!(row["commands"], serde_json::json!(["hello"]));
    h.mycli()
        .args(["plugins", "info", "hello"])
        .assert()
        .success()
        .stdout(contains("The hello plugin for mycli"))
        .stdout(contains("^1.3"));
}

#[test]
fn a_webassembly_plugin_from_plugins_new_builds_for_wasip2_and_runs_sandboxed() {
    let h = Home::new();
    let work = h.scratch("work");
    fs::create_dir_all(&work).unwrap();
    let guest = support::repo().join("crates/snapin-guest");
    let said = plugins_new(
        &h,
        &work,
        &[
            "wgreet",
            "--kind",
            "wasm",
            "--sdk-path",
            guest.to_str().unwrap(),
        ],
    );
    assert!(
        said.contains("created mycli-wgreet (wasm plugin, snapin-guest 0.1, mycli API ^1.3)"),
        "{said}"
    );
    let dir = work.join("mycli-wgreet");
    assert!(dir.join("src/lib.rs").is_file());

    // The unit tests run natively; the component is built for WASI.
    let tests = cargo(&dir, &["test"]);
    assert!(tests.contains("test result: ok. 2 passed"), "{tests}");
    cargo(&dir, &["build", "--release", "--target", "wasm32-wasip2"]);

    let component = target_dir().join("wasm32-wasip2/release/mycli_wgreet.wasm");
    assert!(
        said.contains("mycli plugins install target/wasm32-wasip2/release/mycli_wgreet.wasm"),
        "{said}"
    );
    h.install(&copy_out(&h, &component));
    h.mycli()
        .args(["wgreet", "--who", "Wasm"])
        .assert()
        .success()
        .stdout("hello, Wasm, from the wgreet plugin of mycli\n");
    // Its debug record reaches the host's log.
    h.mycli()
        .args(["--debug", "wgreet"])
        .assert()
        .success()
        .stderr(contains("plugin 'wgreet': greeting"));
    let row = h.row("wgreet");
    assert_eq!(row["status"], "ok");
    assert_eq!(row["kind"], "wasm");
}

#[test]
fn plugins_new_refuses_a_used_directory_and_bad_names_and_writes_nothing() {
    let h = Home::new();
    let work = h.scratch("work");
    let taken = work.join("mycli-hello");
    fs::create_dir_all(&taken).unwrap();
    fs::write(taken.join("notes.txt"), "mine").unwrap();
    let refuse = |args: &[&str]| {
        let out = h
            .mycli()
            .current_dir(&work)
            .args(["plugins", "new"])
            .args(args)
            .output()
            .unwrap();
        h.outcome(&out)
    };

    let mut lines = vec![refuse(&["hello"])];
    assert_eq!(
        fs::read_dir(&taken).unwrap().count(),
        1,
        "nothing was added to the directory"
    );
    lines.push(refuse(&["Hello_World"]));
    lines.push(refuse(&["mycli-tool"]));
    lines.push(refuse(&["plugins"]));
    let guest = support::repo().join("crates/snapin-guest");
    lines.push(refuse(&["tool", "--sdk-path", guest.to_str().unwrap()]));
    lines.push(refuse(&[
        "tool",
        "--kind",
        "wasm",
        "--sdk-path",
        "/no/such/dir",
    ]));
    insta::assert_snapshot!(lines.join("\n"), @"
    [exit 1] mycli: error: cannot create the plugin crate: mycli-hello already exists and is not an empty directory; fix: choose another NAME or --dir, or move it away
    [exit 1] mycli: error: cannot create the plugin crate: 'Hello_World' is not a valid plugin name: it must be a lowercase ASCII letter followed by up to 63 of a-z, 0-9 and '-'; fix: try `mycli plugins new hello-world`
    [exit 1] mycli: error: cannot create the plugin crate: 'mycli-tool' already starts with 'mycli-', so the crate would be mycli-mycli-tool; fix: give the plugin name alone, `mycli plugins new tool`, and the crate is called mycli-tool
    [exit 1] mycli: error: 'plugins' is a command of mycli itself, so a plugin command of that name would never load; fix: choose another name
    [exit 1] mycli: error: cannot create the plugin crate: --sdk-path [REPO]/crates/snapin-guest: it holds package snapin-guest, not snapin-sdk; fix: give the directory of the snapin-sdk crate (crates/snapin-sdk in a snapin checkout)
    [exit 1] mycli: error: cannot create the plugin crate: --sdk-path /no/such/dir: No such file or directory (os error 2); fix: give the directory of the snapin-guest crate (crates/snapin-guest in a snapin checkout)
    ");
    let mut left: Vec<String> = fs::read_dir(&work)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["mycli-hello"],
        "a refused `plugins new` wrote nothing"
    );

    // An existing empty directory is fine, named with --dir.
    let empty = work.join("empty");
    fs::create_dir(&empty).unwrap();
    let said = plugins_new(&h, &work, &["tool", "--dir", "empty"]);
    assert!(
        said.contains("note: snapin-sdk 0.1 comes from crates.io; to build against a local snapin checkout instead, create the crate with --sdk-path DIR/crates/snapin-sdk"),
        "{said}"
    );
    let manifest = fs::read_to_string(empty.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"mycli-tool\""), "{manifest}");
    assert!(manifest.contains("snapin-sdk = \"0.1\""), "{manifest}");

    // The fix for a bad name is a command that works as copied.
    h.fix_command(&lines[1])
        .current_dir(&work)
        .assert()
        .success();
    assert!(work.join("mycli-hello-world/Cargo.toml").is_file());
}

/// The Python example of docs/writing-plugins.md.
fn python_example() -> PathBuf {
    support::repo().join("examples/plugins/hello-py/mycli-hello-py")
}

#[test]
fn the_python_example_installs_and_runs_through_mycli() {
    let h = Home::new();
    h.install(&python_example());
    h.mycli()
        .args(["hello-py", "--who", "Ann"])
        .assert()
        .success()
        .stdout("hello, Ann, from Python\ngreeting number 1\n");
    // The host sends `--shout` for `-s`, and no default for `--who`.
    h.mycli()
        .args(["hello-py", "-s"])
        .assert()
        .success()
        .stdout("HELLO, WORLD, FROM PYTHON\ngreeting number 2\n");
    // The count lives in the data directory the host gave the plugin.
    let count = h.home().join("plugins/hello-py/greetings");
    assert_eq!(fs::read_to_string(&count).unwrap(), "2\n");
    // Usage errors come from the manifest, without starting Python.
    h.mycli()
        .args(["hello-py", "--loud"])
        .assert()
        .code(2)
        .stderr(contains("--loud"));
    // A broken count is the plugin's own error, with what to do.
    fs::write(&count, "many\n").unwrap();
    h.mycli()
        .arg("hello-py")
        .assert()
        .code(1)
        .stderr(contains("does not hold a count; delete it to start again"));
}

/// The code block of docs/writing-plugins.md that follows `marker`.
fn guide_block(marker: &str) -> String {
    let guide = fs::read_to_string(support::repo().join("docs/writing-plugins.md"))
        .expect("docs/writing-plugins.md is readable");
    let start = guide.find(marker).expect("the guide has the marker") + marker.len();
    let end = start + guide[start..].find("```\n").expect("the code block ends");
    guide[start..end].to_string()
}

#[test]
fn the_python_example_in_the_guide_is_the_tested_file() {
    assert_eq!(
        guide_block("<!-- file: examples/plugins/hello-py/mycli-hello-py -->\n```python\n"),
        fs::read_to_string(python_example()).unwrap(),
        "docs/writing-plugins.md and examples/plugins/hello-py/mycli-hello-py differ"
    );
}

//! Every fix a message suggests, run as a user would paste it: conflicts
//! with each kind of holder, a bad config value, files that are not
//! plugins, unknown manifest fields and config keys, and the rarer fixes
//! of install and upgrade.

use std::fs;

use crate::support::{Home, example, manifest, stderr, stdout, wasm_example};

/// Every `mycli ...` command quoted in backticks in `fix`, as argument
/// lists without the `mycli`.
fn quoted_commands(fix: &str) -> Vec<Vec<String>> {
    fix.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|q| q.strip_prefix("mycli "))
        .map(|q| q.split_whitespace().map(String::from).collect())
        .collect()
}

/// The fix of a one-line message `WHAT; fix: FIX`.
fn fix_of(message: &str) -> &str {
    message
        .trim_end()
        .rsplit_once("; fix: ")
        .map(|(_, fix)| fix)
        .unwrap_or_else(|| panic!("no fix in {message:?}"))
}

/// The fix of `plugins list --json`'s row for `name`.
fn row_fix(h: &Home, name: &str) -> String {
    h.row(name)["fix"]
        .as_str()
        .unwrap_or_else(|| panic!("no fix for {name}"))
        .to_string()
}

/// The names in `plugins list --json` whose status is `ok`.
fn ok_plugins(h: &Home) -> Vec<String> {
    h.list()
        .into_iter()
        .filter(|r| r["status"] == "ok")
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

// ------------------------------------------------------------- conflicts

/// A command named like the compiled-in `echo`: the install is told to
/// rename the command (nothing to remove: `echo` is compiled in, and the
/// new plugin is not installed); once recorded with `--force`, the fix
/// removes the newcomer, which works.
#[test]
fn a_clash_with_a_compiled_in_plugin_suggests_renaming_and_removing_only_the_newcomer() {
    let h = Home::new();
    let loud = h.script("mycli-loud", &manifest("loud", "echo", "^1.0"), "echo loud");
    let out = h.install_cmd(&loud).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install plugin 'loud': its command 'echo' is provided by plugin 'echo', compiled into mycli, which keeps it; fix: ask the author of loud to rename the command 'echo': mycli keeps its own (or `--force` to record it anyway; it will not run until it passes)");
    assert!(quoted_commands(fix_of(&stderr(&out))).is_empty());
    assert!(!h.index().exists() || h.list().is_empty());

    h.install_cmd(&loud).arg("--force").assert().success();
    let fix = row_fix(&h, "loud");
    insta::assert_snapshot!(fix, @"ask the author of loud to rename the command 'echo', or `mycli plugins remove loud`");
    let commands = quoted_commands(&fix);
    assert_eq!(commands.len(), 1, "{fix}");
    h.mycli().args(&commands[0]).assert().success();
    assert!(h.list().iter().all(|r| r["name"] != "loud"));
    h.mycli()
        .args(["echo", "still", "mine"])
        .assert()
        .success()
        .stdout("still mine\n");
}

/// A command named like the host's own `version`: the same fixes.
#[test]
fn a_clash_with_a_built_in_command_suggests_renaming_and_removing_only_the_newcomer() {
    let h = Home::new();
    let usurper = h.script(
        "mycli-usurper",
        &manifest("usurper", "version", "^1.0"),
        "echo usurper",
    );
    let out = h.install_cmd(&usurper).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install plugin 'usurper': its command 'version' is built into mycli, which keeps it; fix: ask the author of usurper to rename the command 'version': mycli keeps its own (or `--force` to record it anyway; it will not run until it passes)");
    h.install_cmd(&usurper).arg("--force").assert().success();
    let fix = row_fix(&h, "usurper");
    for command in quoted_commands(&fix) {
        h.mycli().args(&command).assert().success();
    }
    assert!(h.list().iter().all(|r| r["name"] != "usurper"));
    h.mycli().arg("version").assert().success();
}

/// A command an installed plugin holds: installing is told to remove the
/// holder first (which makes the install work) or to have the command
/// renamed; once both are recorded, each of `disable NEWCOMER` and
/// `remove HOLDER` leaves one plugin that works.
#[test]
fn a_clash_with_an_installed_plugin_suggests_fixes_that_each_work() {
    let h = Home::new();
    h.install(&example("greet"));
    let rival = h.script(
        "mycli-rival",
        &manifest("rival", "greet", "^1.0"),
        "echo rival",
    );
    let out = h.install_cmd(&rival).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot install plugin 'rival': its command 'greet' is already provided by plugin 'greet'; fix: ask the author of rival to rename the command 'greet', or `mycli plugins remove greet` first (or `--force` to record it anyway; it will not run until it passes)");
    let commands = quoted_commands(fix_of(&stderr(&out)));
    assert_eq!(commands, [["plugins", "remove", "greet"]]);
    h.mycli().args(&commands[0]).assert().success();
    h.install(&rival);
    h.mycli().arg("greet").assert().success().stdout("rival\n");

    for at in 0..2 {
        let h = Home::new();
        h.install(&example("greet"));
        h.install_cmd(&rival).arg("--force").assert().success();
        let fix = row_fix(&h, "rival");
        insta::allow_duplicates! {
            insta::assert_snapshot!(fix, @"keep one of them: `mycli plugins disable rival` or `mycli plugins remove greet`");
        }
        let command = &quoted_commands(&fix)[at];
        h.mycli().args(command).assert().success();
        let expected = if at == 0 { "hello, world\n" } else { "rival\n" };
        h.mycli().arg("greet").assert().success().stdout(expected);
        let kept = if at == 0 { "greet" } else { "rival" };
        assert_eq!(ok_plugins(&h), ["echo", kept], "after {command:?}");
    }
}

/// `plugins check` speaks to the plugin's author: rename the command in
/// the manifest, which then passes.
#[test]
fn plugins_check_tells_the_author_to_rename_the_command() {
    let h = Home::new();
    let loud = h.script("mycli-loud", &manifest("loud", "echo", "^1.0"), "exit 0");
    let out = h
        .mycli()
        .args(["plugins", "check"])
        .arg(&loud)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let at = text
        .lines()
        .position(|l| l.contains("conflicts"))
        .unwrap_or_else(|| panic!("{text}"));
    let lines: Vec<&str> = text.lines().skip(at).take(2).collect();
    insta::assert_snapshot!(lines.join("\n"), @"
    FAIL  conflicts    its command 'echo' is provided by plugin 'echo', compiled into mycli, which keeps it
                       fix: rename the command 'echo' in the manifest: mycli keeps its own
    ");
    // The fix, done: the command renamed in the manifest.
    let renamed = h.script("mycli-loud", &manifest("loud", "shout", "^1.0"), "exit 0");
    h.mycli()
        .args(["plugins", "check"])
        .arg(&renamed)
        .assert()
        .success();
}

// ---------------------------------------------------------- config.toml

/// Writes the configuration file of `h`.
fn write_config(h: &Home, text: &str) -> std::path::PathBuf {
    let dir = h.home().join("config");
    fs::create_dir_all(&dir).expect("the config directory is made");
    let path = dir.join("config.toml");
    fs::write(&path, text).expect("the config file is written");
    path
}

/// A bad value: one line with the file, the key, line and column and the
/// parser's reason, one fix (no `--force`, which would record a plugin
/// that cannot describe itself); the fix, done, makes the run work.
#[test]
fn a_bad_config_value_is_one_line_with_one_fix_that_works() {
    let h = Home::new();
    h.install(&wasm_example("wstats"));
    write_config(&h, "[plugins.wstats]\nmemory-mib = \"lots\"\n");
    let out = h.mycli().args(["wstats", "3"]).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r#"[exit 126] mycli: error: plugin 'wstats' cannot run: cannot use the configuration file [HOME]/config/config.toml: `plugins.wstats.memory-mib` at line 2, column 14: invalid type: string "lots", expected u64; fix: correct `plugins.wstats.memory-mib` in [HOME]/config/config.toml (docs/protocol.md §12, Limits, says what each key takes)"#);
    let out = h
        .mycli()
        .args(["plugins", "upgrade", "wstats", "--yes"])
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @r#"[exit 1] mycli: error: cannot use the configuration file [HOME]/config/config.toml: `plugins.wstats.memory-mib` at line 2, column 14: invalid type: string "lots", expected u64; fix: correct `plugins.wstats.memory-mib` in [HOME]/config/config.toml (docs/protocol.md §12, Limits, says what each key takes)"#);
    assert!(!stderr(&out).contains("--force"));
    // The fix: correct `plugins.wstats.memory-mib`.
    write_config(&h, "[plugins.wstats]\nmemory-mib = 64\n");
    h.mycli()
        .args(["wstats", "3"])
        .assert()
        .success()
        .stdout("sum 0..3 = 6\n");
}

/// A key this version does not know is ignored with a warning that names
/// the key it looks like.
#[test]
fn an_unknown_config_key_is_pointed_out_with_the_key_it_looks_like() {
    let h = Home::new();
    h.install(&wasm_example("wstats"));
    write_config(&h, "[plugins.wstats]\nmemory-mb = 64\n");
    let out = h.mycli().args(["wstats", "3"]).output().unwrap();
    assert_eq!(stdout(&out), "sum 0..3 = 6\n");
    insta::assert_snapshot!(h.outcome(&out), @"[exit 0] mycli: warning: [HOME]/config/config.toml has keys this version does not know, ignored: `plugins.wstats.memory-mb` (did you mean `memory-mib`?)");
}

// ---------------------------------------------------------- file kinds

/// An empty core WebAssembly module (magic, version 1).
const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";
/// A WebAssembly header of a version and layer no one uses.
const OTHER_WASM: &[u8] = b"\0asm\x0e\0\x02\0";

/// Install and `plugins check` of a core module, another WebAssembly
/// binary and a file that is not executable: each is told what it is, with
/// the fix for that kind; nothing is recorded; a good plugin beside still
/// runs. The `chmod +x` fix, run, makes the script install.
#[test]
fn each_kind_of_file_that_is_no_plugin_gets_its_own_fix() {
    let h = Home::new();
    h.install(&example("greet"));
    let before = fs::read(h.index()).unwrap();
    let core = h.scratch("core.wasm");
    fs::write(&core, CORE_MODULE).unwrap();
    let other = h.scratch("other.wasm");
    fs::write(&other, OTHER_WASM).unwrap();
    let script = h.script(
        "mycli-plain",
        &manifest("plain", "plain", "^1.0"),
        "echo plain",
    );
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let mut lines = Vec::new();
    for file in [&core, &other, &script] {
        let out = h.install_cmd(file).output().unwrap();
        lines.push(h.outcome(&out));
        let out = h
            .mycli()
            .args(["plugins", "check"])
            .arg(file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        lines.push(h.redact(&stdout(&out)).trim_end().to_string());
    }
    insta::assert_snapshot!(lines.join("\n"), @"
    [exit 1] mycli: error: [TMP]/scratch/core.wasm is not a plugin: it is a core WebAssembly module, not a component; fix: build it as a component: `cargo build --release --target wasm32-wasip2` (see docs/protocol.md §12), or wrap the module with `wasm-tools component new`
    FAIL  file  [TMP]/scratch/core.wasm is not a plugin: it is a core WebAssembly module, not a component
                fix: build it as a component: `cargo build --release --target wasm32-wasip2` (see docs/protocol.md §12), or wrap the module with `wasm-tools component new`
    [TMP]/scratch/core.wasm fails 1 of 1 checks
    [exit 1] mycli: error: [TMP]/scratch/other.wasm is not a plugin: it is a WebAssembly binary of an unknown version or layer, not a component; fix: build it as a component: `cargo build --release --target wasm32-wasip2` (see docs/protocol.md §12)
    FAIL  file  [TMP]/scratch/other.wasm is not a plugin: it is a WebAssembly binary of an unknown version or layer, not a component
                fix: build it as a component: `cargo build --release --target wasm32-wasip2` (see docs/protocol.md §12)
    [TMP]/scratch/other.wasm fails 1 of 1 checks
    [exit 1] mycli: error: [TMP]/scratch/mycli-plain is neither an executable file nor a WebAssembly component; fix: `chmod +x [TMP]/scratch/mycli-plain` if it is an executable plugin
    FAIL  file  [TMP]/scratch/mycli-plain is neither an executable file nor a WebAssembly component
                fix: `chmod +x [TMP]/scratch/mycli-plain` if it is an executable plugin
    [TMP]/scratch/mycli-plain fails 1 of 1 checks
    ");
    assert_eq!(fs::read(h.index()).unwrap(), before);
    h.mycli().arg("greet").assert().success();

    // The fix for the script, run as a user would.
    let message = &lines[4];
    let chmod = fix_of(message)
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("{message}"))
        .to_string();
    assert!(chmod.starts_with("chmod +x "), "{chmod}");
    let status = std::process::Command::new("sh")
        .args([
            "-c",
            &chmod.replace("[TMP]", &h.dir.path().display().to_string()),
        ])
        .status()
        .unwrap();
    assert!(status.success());
    h.install(&script);
    h.mycli().arg("plain").assert().success().stdout("plain\n");
}

// ---------------------------------------------------------- unknown fields

/// Unknown fields at every level are accepted: `plugins check` lists them
/// with the field each looks like, and passes; install says so at `-v`.
#[test]
fn unknown_manifest_fields_are_pointed_out_by_check_and_at_verbose_install() {
    let h = Home::new();
    let m = r#"{"manifest":1,"host":"mycli","name":"typo","version":"1.0.0","api":"^1.0","descripton":"d","commands":[{"name":"typo","abuot":"a","args":[{"name":"level","lon":"level"}],"subcommands":[{"name":"sub","hiden":true}]}],"capabilities":{"enw":[]}}"#;
    let typo = h.script("mycli-typo", m, "echo typo");
    let out = h
        .mycli()
        .args(["plugins", "check"])
        .arg(&typo)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    let line = text
        .lines()
        .find(|l| l.contains("fields"))
        .unwrap_or_else(|| panic!("{text}"));
    insta::assert_snapshot!(line, @"warn  fields       mycli does not know these fields and ignores them: `descripton` (did you mean `description`?), `commands[0].abuot` (did you mean `about`?), `commands[0].args[0].lon` (did you mean `long`?), `commands[0].subcommands[0].hiden` (did you mean `hidden`?), `capabilities.enw` (did you mean `env`?)");
    let out = h.install_cmd(&typo).arg("-v").output().unwrap();
    assert!(out.status.success());
    let warned: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap()
        .lines()
        .filter(|l| l.contains("does not know"))
        .collect();
    insta::assert_snapshot!(warned.join("\n"), @"mycli: info: typo's manifest has fields this mycli does not know, ignored: `descripton` (did you mean `description`?), `commands[0].abuot` (did you mean `about`?), `commands[0].args[0].lon` (did you mean `long`?), `commands[0].subcommands[0].hiden` (did you mean `hidden`?), `capabilities.enw` (did you mean `env`?)");
    // Without -v the install is quiet about them.
    h.mycli()
        .args(["plugins", "remove", "typo"])
        .assert()
        .success();
    let out = h.install_cmd(&typo).output().unwrap();
    assert!(!stderr(&out).contains("does not know"));
    h.mycli().arg("typo").assert().success().stdout("typo\n");
}

/// A component's manifest goes through the same decoder: the example
/// plugins' manifests have no unknown fields.
#[test]
fn a_components_manifest_is_checked_for_unknown_fields_too() {
    let h = Home::new();
    let out = h
        .mycli()
        .args(["plugins", "check"])
        .arg(wasm_example("wstats"))
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("ok") && l.contains("fields") && l.contains("every field")),
        "{text}"
    );
}

// ------------------------------------------------- rarer install fixes

/// Another mycli process installs a plugin of the same name while this one
/// is describing its file (here: the file's own describe starts it). The
/// second install is refused, the index keeps the first, and the fix,
/// `plugins info`, shows it.
#[test]
fn a_plugin_installed_meanwhile_is_shown_by_the_fix() {
    let h = Home::new();
    let first = h.script(
        "mycli-twin-first",
        &manifest("twin", "twin", "^1.0"),
        "echo first",
    );
    let marker = h.scratch("described-once");
    let body = format!(
        "if [ \"$1\" = --snapin-describe ] && [ ! -e '{marker}' ]; then\n  : > '{marker}'\n  '{mycli}' plugins install '{first}' --yes >/dev/null 2>&1\nfi",
        marker = marker.display(),
        mycli = env!("CARGO_BIN_EXE_mycli"),
        first = first.display(),
    );
    // The describe branch of `script` prints the manifest; run the nested
    // install before it.
    let second = h.scratch("mycli-twin-second");
    crate::support::write_executable(
        &second,
        &format!(
            "#!/bin/sh\n{body}\nif [ \"$1\" = --snapin-describe ]; then\ncat <<'MANIFEST'\n{}\nMANIFEST\nexit 0\nfi\necho second\n",
            manifest("twin", "twin", "^1.0")
        ),
    );
    let out = h.install_cmd(&second).output().unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"
    [exit 1] Plugin 'twin' 1.0.0 (exec)
      path:     [TMP]/scratch/mycli-twin-second
      origin:   path [TMP]/scratch/mycli-twin-second
      sha256:   [SHA256]
      api:      ^1.0 (mycli provides 1.3.0)
      commands: twin
    It runs as you, with your permissions, whenever you use one of its commands.
    mycli: error: plugin 'twin' was installed meanwhile by another mycli process; fix: see it with `mycli plugins info twin`
    ");
    let info = h.fix_command(&stderr(&out)).output().unwrap();
    assert!(info.status.success(), "{}", stderr(&info));
    assert!(
        stdout(&info).contains(&*first.display().to_string()),
        "{}",
        stdout(&info)
    );
    h.mycli().arg("twin").assert().success().stdout("first\n");
}

/// A file that now describes itself under another name cannot be
/// upgraded in place; the fix (remove, then install under the new name)
/// works.
#[test]
fn a_plugin_renamed_by_its_file_is_removed_and_installed_under_its_new_name() {
    let h = Home::new();
    let path = h.script("mycli-old", &manifest("old", "old", "^1.0"), "echo old");
    h.install(&path);
    h.script("mycli-old", &manifest("new", "new", "^1.0"), "echo new");
    let out = h
        .mycli()
        .args(["plugins", "upgrade", "old", "--yes"])
        .output()
        .unwrap();
    insta::assert_snapshot!(h.outcome(&out), @"[exit 1] mycli: error: cannot upgrade plugin 'old': the file at [TMP]/scratch/mycli-old now describes itself as 'new'; fix: `mycli plugins remove old` and install it under its new name");
    let commands = quoted_commands(fix_of(&stderr(&out)));
    assert_eq!(commands, [["plugins", "remove", "old"]]);
    h.mycli().args(&commands[0]).assert().success();
    h.install(&path);
    h.mycli().arg("new").assert().success().stdout("new\n");
}

// ------------------------------------------------ the list's fixes, run

/// Each plugin in trouble, in a home of its own: every `mycli ...` command
/// the fix of its `plugins list --json` row quotes works as pasted (an
/// upgrade answered yes), and afterwards the plugin is ok or gone, and
/// `mycli version` says nothing about it.
#[test]
fn every_fix_the_list_gives_works_when_pasted() {
    type Setup = fn(&Home) -> &'static str;
    let cases: [Setup; 5] = [
        // Built for another API version (recorded with --force).
        |h| {
            let p = h.script(
                "mycli-future",
                &manifest("future", "future", "^99"),
                "exit 0",
            );
            h.install_cmd(&p).arg("--force").assert().success();
            "future"
        },
        // Disabled by the user.
        |h| {
            h.install(&example("greet"));
            h.mycli()
                .args(["plugins", "disable", "greet"])
                .assert()
                .success();
            "greet"
        },
        // Its file changed since it was pinned.
        |h| {
            let p = h.script(
                "mycli-moved",
                &manifest("moved", "moved", "^1.0"),
                "echo one",
            );
            h.install(&p);
            h.script(
                "mycli-moved",
                &manifest("moved", "moved", "^1.0"),
                "echo two, longer",
            );
            "moved"
        },
        // Its file is gone.
        |h| {
            let p = h.script("mycli-gone", &manifest("gone", "gone", "^1.0"), "exit 0");
            h.install(&p);
            fs::remove_file(&p).expect("the plugin file is removed");
            "gone"
        },
        // Its command is built into mycli (recorded with --force).
        |h| {
            let p = h.script("mycli-vers", &manifest("vers", "version", "^1.0"), "exit 0");
            h.install_cmd(&p).arg("--force").assert().success();
            "vers"
        },
    ];
    for setup in cases {
        let h = Home::new();
        let name = setup(&h);
        let row = h.row(name);
        assert_ne!(row["status"], "ok", "{row}");
        let fix = row["fix"].as_str().unwrap_or_default().to_string();
        let commands = quoted_commands(&fix);
        assert!(!commands.is_empty(), "{name}: no command in {fix:?}");
        let command = commands.last().expect("a command");
        let mut cmd = h.mycli();
        cmd.args(command);
        if command.get(1).map(String::as_str) == Some("upgrade") {
            cmd.arg("--yes");
        }
        cmd.assert().success();
        let after = h.list().into_iter().find(|r| r["name"] == name);
        if let Some(row) = after {
            assert_eq!(row["status"], "ok", "{name} after {command:?}: {row}");
        }
        let out = h.mycli().arg("version").output().unwrap();
        assert!(!stderr(&out).contains(name), "{name}: {}", stderr(&out));
    }
}

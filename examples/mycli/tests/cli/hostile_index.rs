//! Manifests built to hurt the index and the start-up lookup: thousands of
//! names, arguments or choices, nesting past the contract or past the
//! index decoder's limit, texts and manifests of hundreds of KB, an empty
//! API requirement; a forged `.plugins.lookup`; a damaged index on a command
//! line that names a plugin command. Each is refused in one line (or run
//! as the index says), the index stays as it was, and `greet`, installed
//! beside it, still runs.

// The helpers below are test code too, so they may unwrap like the tests
// (clippy's test allowance covers only `#[test]` functions).
#![allow(clippy::unwrap_used)]

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{Home, example, one_line, stderr, stdout};

/// A manifest for plugin `name` with `commands` (JSON values).
fn manifest(name: &str, commands: Vec<Value>) -> Value {
    json!({
        "manifest": 1, "host": "mycli", "name": name, "version": "1.0.0",
        "api": "^1.0", "commands": commands
    })
}

/// A plugin script `mycli-NAME` printing `manifest` and, when run, `ran`.
fn printing(h: &Home, name: &str, manifest: &Value) -> PathBuf {
    h.script(&format!("mycli-{name}"), &manifest.to_string(), "echo ran")
}

/// Command `name` with `levels` levels of subcommands below and including it.
fn nested(name: &str, levels: usize) -> Value {
    let mut command = json!({"name": "leaf"});
    for _ in 1..levels {
        command = json!({"name": "node", "subcommands": [command]});
    }
    command["name"] = json!(name);
    command
}

/// Runs `mycli ARGS` and asserts it fails with one stderr line, leaving the
/// index as it was and `greet` running; the outcome, redacted.
fn refused(h: &Home, args: &[&str], plugin: &Path) -> String {
    let before = fs::read(h.index()).unwrap();
    let out = h.mycli().args(args).arg(plugin).output().unwrap();
    assert!(!out.status.success(), "{args:?} {}", plugin.display());
    one_line(&stderr(&out));
    assert_eq!(fs::read(h.index()).unwrap(), before, "the index changed");
    h.assert_greet_runs();
    h.outcome(&out)
}

#[test]
fn manifests_past_the_caps_are_refused_at_install_and_by_check() {
    let h = Home::with_greet();
    let help = "h".repeat(700);
    let cases: Vec<(&str, Value)> = vec![
        (
            "aliases",
            manifest(
                "aliases",
                vec![json!({
                    "name": "many",
                    "aliases": (0..5000).map(|i| format!("a{i}")).collect::<Vec<_>>()
                })],
            ),
        ),
        (
            "commands",
            manifest(
                "commands",
                (0..3000).map(|i| json!({"name": format!("c{i}")})).collect(),
            ),
        ),
        (
            "subcommands",
            manifest(
                "subcommands",
                vec![json!({
                    "name": "top",
                    "subcommands": (0..3000).map(|i| json!({"name": format!("s{i}")})).collect::<Vec<_>>()
                })],
            ),
        ),
        (
            "args",
            manifest(
                "args",
                vec![json!({
                    "name": "wide",
                    "args": (0..2000).map(|i| json!({"name": format!("a{i}"), "long": format!("a{i}")})).collect::<Vec<_>>()
                })],
            ),
        ),
        (
            "choices",
            manifest(
                "choices",
                vec![json!({
                    "name": "pick",
                    "args": [{"name": "one", "long": "one",
                        "choices": (0..5000).map(|i| format!("c{i}")).collect::<Vec<_>>()}]
                })],
            ),
        ),
        ("deep", manifest("deep", vec![nested("deep", 9)])),
        ("deeper", manifest("deeper", vec![nested("deeper", 40)])),
        (
            "text",
            manifest(
                "text",
                vec![json!({"name": "talk", "about": "t".repeat(100_000)})],
            ),
        ),
        (
            "size",
            // Every list and text within its cap, 770 KB in all.
            manifest(
                "size",
                (0..100)
                    .map(|c| {
                        json!({
                            "name": format!("c{c}"),
                            "args": (0..10).map(|a| json!({"name": format!("a{a}"), "long": format!("a{a}"), "help": help})).collect::<Vec<_>>()
                        })
                    })
                    .collect(),
            ),
        ),
    ];
    let mut lines = Vec::new();
    for (what, manifest) in &cases {
        let plugin = printing(&h, what, manifest);
        lines.push(format!(
            "{what}: {}",
            refused(&h, &["plugins", "install", "--yes"], &plugin)
        ));
        // `plugins check` applies the same contract.
        let out = h
            .mycli()
            .args(["plugins", "check"])
            .arg(&plugin)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{what}");
        let report = stdout(&out);
        let refusal = lines.last().unwrap();
        let cause = refusal
            .split("invalid manifest: ")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .unwrap();
        assert!(report.contains(cause), "{what}: {report}");
    }
    // The fix's `--force` records one, which does not run and adds no name.
    let aliases = h.scratch("mycli-aliases");
    h.install_cmd(&aliases).arg("--force").assert().success();
    assert_eq!(h.row("aliases")["status"], "error");
    h.mycli().arg("a4999").assert().code(2);
    h.assert_greet_runs();
    insta::assert_snapshot!(lines.join("\n"), @"
    aliases: [exit 1] mycli: error: cannot install plugin 'aliases': invalid manifest: commands[0].aliases: 5000 aliases, more than the limit of 16; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    commands: [exit 1] mycli: error: cannot install plugin 'commands': invalid manifest: commands: 3000 commands at all levels, more than the limit of 1000; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    subcommands: [exit 1] mycli: error: cannot install plugin 'subcommands': invalid manifest: commands: 3001 commands at all levels, more than the limit of 1000; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    args: [exit 1] mycli: error: cannot install plugin 'args': invalid manifest: commands[0].args: 2000 args, more than the limit of 256; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    choices: [exit 1] mycli: error: cannot install plugin 'choices': invalid manifest: commands[0].args[0].choices: 5000 choices, more than the limit of 256; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    deep: [exit 1] mycli: error: cannot install plugin 'deep': invalid manifest: commands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands: 9 levels of commands, more than the limit of 8; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    deeper: [exit 1] mycli: error: cannot install plugin 'deeper': invalid manifest: commands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands: 9 levels of commands, more than the limit of 8; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    text: [exit 1] mycli: error: cannot install plugin 'text': invalid manifest: commands[0].about: 100000 bytes of text, more than the limit of 1024; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    size: [exit 1] mycli: error: cannot install plugin 'size': invalid manifest: manifest: 738477 bytes of JSON, more than the limit of 524288; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)
    ");
}

/// `--force` records a manifest that breaks the contract, but never one
/// the index could not read back: nested 62 levels, it is accepted by
/// describe's decoder and, wrapped in an index entry, past the index
/// decoder's limit.
#[test]
fn a_forced_manifest_the_index_could_not_read_back_is_not_recorded() {
    let h = Home::with_greet();
    let deep = printing(&h, "abyss", &manifest("abyss", vec![nested("abyss", 62)]));
    let before = fs::read(h.index()).unwrap();
    let out = h.install_cmd(&deep).arg("--force").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read(h.index()).unwrap(), before, "the index changed");
    // What is about to be recorded is shown first (it is `--yes`), then the
    // one error line.
    let err = stderr(&out);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert_eq!(err.lines().last(), Some(errors[0]), "{err}");
    insta::assert_snapshot!(h.redact(errors[0]), @"mycli: error: cannot write the plugin index [HOME]/plugins.json: the changed index would not read back (recursion limit exceeded at line 259 column 255); nothing was changed; fix: record a release of the plugin that follows the snapin contract (docs/protocol.md §2)");
    h.mycli()
        .args(["plugins", "list"])
        .assert()
        .success()
        .stderr("");
    // The fix: a release that follows the contract is recorded.
    let fixed = printing(&h, "abyss", &manifest("abyss", vec![nested("abyss", 3)]));
    h.install(&fixed);
    h.mycli()
        .args(["abyss", "node", "leaf"])
        .assert()
        .success()
        .stdout("ran\n");
    h.assert_greet_runs();
}

#[test]
fn an_empty_api_requirement_is_refused() {
    let h = Home::with_greet();
    for api in ["", "  "] {
        let mut m = manifest("anyapi", vec![json!({"name": "anyapi"})]);
        m["api"] = json!(api);
        let plugin = printing(&h, "anyapi", &m);
        let line = refused(&h, &["plugins", "install", "--yes"], &plugin);
        assert!(line.contains("an empty requirement"), "{api:?}: {line}");
    }
    let mut m = manifest("anyapi", vec![json!({"name": "anyapi"})]);
    m["api"] = json!("");
    let plugin = printing(&h, "anyapi", &m);
    insta::assert_snapshot!(refused(&h, &["plugins", "install", "--yes"], &plugin), @r#"[exit 1] mycli: error: cannot install plugin 'anyapi': invalid manifest: api "" is invalid: an empty requirement would accept every API version; write one such as ^1.0; fix: it does not follow the snapin plugin contract (docs/protocol.md): ask its author; `mycli --debug plugins install ...` shows what it printed (or `--force` to record it anyway; it will not run until it passes)"#);

    // Recorded by an older host, which accepted it: an error, not run.
    let plugin = printing(
        &h,
        "anyapi",
        &manifest("anyapi", vec![json!({"name": "anyapi"})]),
    );
    h.install(&plugin);
    let mut index: Value = serde_json::from_slice(&fs::read(h.index()).unwrap()).unwrap();
    for entry in index["plugins"].as_array_mut().unwrap() {
        if entry["name"] == "anyapi" {
            entry["manifest"]["api"] = json!("");
        }
    }
    fs::write(h.index(), serde_json::to_vec_pretty(&index).unwrap()).unwrap();
    let row = h.row("anyapi");
    assert_eq!(row["status"], "error", "{row}");
    assert!(
        row["reason"].to_string().contains("empty requirement"),
        "{row}"
    );
    let out = h.mycli().arg("anyapi").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    h.assert_greet_runs();
}

/// The record of command `name` in the lookup bytes `lookup`: where its
/// `"span":{...}` object lies, and the span it holds.
fn record_span(lookup: &[u8], name: &str) -> (std::ops::Range<usize>, Value) {
    let text = String::from_utf8_lossy(lookup);
    let key = format!(r#"{{"name":"{name}","span":"#);
    let at = text.find(&key).unwrap() + key.len();
    let end = at + text[at..].find('}').unwrap() + 1;
    (at..end, serde_json::from_str(&text[at..end]).unwrap())
}

/// `lookup` with the span of `name`'s record replaced by `span`, padded to
/// the same length so that the slot table still holds.
fn forged(lookup: &[u8], name: &str, span: &Value) -> Vec<u8> {
    let (range, _) = record_span(lookup, name);
    let mut text = span.to_string();
    assert!(text.len() <= range.len(), "{text} does not fit");
    while text.len() < range.len() {
        text.insert(text.len() - 1, ' ');
    }
    let mut out = lookup.to_vec();
    out[range].copy_from_slice(text.as_bytes());
    out
}

/// A forged `.plugins.lookup` that points `greet` at another plugin's entry,
/// at bytes of the index that are not an entry, or past its end: `greet`
/// runs as `plugins.json` says, never the other binary, and the lookup is
/// written anew.
#[test]
fn a_forged_lookup_never_runs_another_binary() {
    let h = Home::new();
    // Installed first, so its span has no more digits than greet's.
    let decoy = h.script(
        "mycli-decoy",
        &manifest("decoy", vec![json!({"name": "decoy"})]).to_string(),
        "echo DECOY RAN \"$@\"",
    );
    h.install(&decoy);
    h.install(&example("greet"));
    h.assert_greet_runs();
    let lookup_path = h.home().join(".plugins.lookup");
    let genuine = fs::read(&lookup_path).unwrap();
    let (_, decoy_span) = record_span(&genuine, "decoy");
    let (_, greet_span) = record_span(&genuine, "greet");
    let index_len = fs::metadata(h.index()).unwrap().len();
    let forgeries = [
        decoy_span.clone(),
        json!({"offset": greet_span["offset"].as_u64().unwrap() + 1, "len": greet_span["len"]}),
        json!({"offset": 0, "len": index_len}),
        json!({"offset": index_len - 1, "len": 9}),
    ];
    let index = fs::read(h.index()).unwrap();
    for span in &forgeries {
        fs::write(&lookup_path, forged(&genuine, "greet", span)).unwrap();
        let out = h.mycli().args(["greet", "--who", "x"]).output().unwrap();
        assert_eq!(stdout(&out), "hello, x\n", "{span}");
        assert_eq!(stderr(&out), "", "{span}");
        assert!(out.status.success(), "{span}");
        assert_eq!(fs::read(h.index()).unwrap(), index);
        let rewritten = fs::read(&lookup_path).unwrap();
        assert_eq!(record_span(&rewritten, "greet").1, greet_span, "{span}");
    }
    // The decoy itself still runs under its own name.
    h.mycli()
        .arg("decoy")
        .assert()
        .success()
        .stdout("DECOY RAN decoy\n");
}

/// With the index damaged, a command line naming a plugin command reports
/// the index, as `plugins list` does, instead of clap's "unrecognized
/// subcommand"; the fix (restoring the backup) brings the command back.
#[test]
fn a_damaged_index_is_reported_when_the_command_line_names_a_plugin_command() {
    let h = Home::with_greet();
    h.install(&example("stats"));
    let damaged = "{\"index\": 1, \"plugins\": [{\"name\": ";
    fs::write(h.index(), damaged).unwrap();
    let mut lines = Vec::new();
    for args in [
        &["greet"][..],
        &["help", "greet"],
        &["--color", "never", "stats", "x"],
    ] {
        let out = h.mycli().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        lines.push(format!("{}: {}", args.join(" "), h.outcome(&out)));
        one_line(&stderr(&out));
        assert_eq!(fs::read_to_string(h.index()).unwrap(), damaged);
    }
    let list = h.mycli().args(["plugins", "list"]).output().unwrap();
    lines.push(format!("plugins list: {}", h.outcome(&list)));
    insta::assert_snapshot!(lines.join("\n"), @"
    greet: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a value at line 1 column 34; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    help greet: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a value at line 1 column 34; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    --color never stats x: [exit 1] mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a value at line 1 column 34; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    plugins list: [exit 1] mycli: warning: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a value at line 1 column 34; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    mycli: error: the plugin index [HOME]/plugins.json is damaged: EOF while parsing a value at line 1 column 34; fix: restore [HOME]/plugins.json.bak over it, or move it away to start with no plugins
    ");
    // The fix: restore the backup over it.
    fs::copy(h.home().join("plugins.json.bak"), h.index()).unwrap();
    h.assert_greet_runs();
}

/// The lookup's identity: a rewrite replaces the file (a new inode).
fn lookup_identity(h: &Home) -> (u64, i64, i64) {
    let m = fs::metadata(h.home().join(".plugins.lookup")).unwrap();
    (m.ino(), m.mtime(), m.mtime_nsec())
}

/// `mycli echo` (compiled in), a host command and words no command has use
/// the current lookup without writing it; a change of the index makes the
/// next run of any of them write it once.
#[test]
fn compiled_in_commands_and_unknown_words_do_not_rewrite_a_current_lookup() {
    let h = Home::with_greet();
    h.assert_greet_runs();
    let current = lookup_identity(&h);
    h.mycli()
        .args(["echo", "hi"])
        .assert()
        .success()
        .stdout("hi\n");
    h.mycli().arg("version").assert().success();
    let out = h.mycli().arg("gret").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unrecognized subcommand 'gret'"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("similar subcommand"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("greet"),
        "suggested from the lookup: {}",
        stderr(&out)
    );
    assert_eq!(
        lookup_identity(&h),
        current,
        "a current lookup was rewritten"
    );

    h.install(&example("stats"));
    h.mycli().args(["echo", "hi"]).assert().success();
    let rebuilt = lookup_identity(&h);
    assert_ne!(rebuilt, current, "a stale lookup was used");
    h.mycli().args(["echo", "hi"]).assert().success();
    h.mycli().arg("nosuch").assert().code(2);
    assert_eq!(lookup_identity(&h), rebuilt);
    h.assert_greet_runs();
}

/// 16 commands of 16 aliases and 50 args with long help each: the lookup
/// holds each name and where the entry is, not a copy of the manifest per
/// name.
#[test]
fn the_lookup_grows_with_names_not_with_manifest_size() {
    let h = Home::with_greet();
    let help = "h".repeat(200);
    let commands = (0..16)
        .map(|c| {
            json!({
                "name": format!("c{c}"),
                "aliases": (0..16).map(|a| format!("c{c}-a{a}")).collect::<Vec<_>>(),
                "args": (0..50).map(|a| json!({"name": format!("a{a}"), "long": format!("a{a}"), "help": help})).collect::<Vec<_>>()
            })
        })
        .collect();
    let plugin = printing(&h, "names", &manifest("names", commands));
    h.install(&plugin);
    h.mycli()
        .args(["c15-a15", "--a49", "x"])
        .assert()
        .success()
        .stdout("ran\n");
    let index = fs::metadata(h.index()).unwrap().len();
    let lookup = fs::metadata(h.home().join(".plugins.lookup"))
        .unwrap()
        .len();
    assert!(index > 150_000, "{index} bytes of index");
    // A slot, a record and a listing line per name: about 150 bytes each
    // (a copy of the manifest per name would be 272 times the index).
    assert!(lookup < 64_000, "272 names: {lookup} bytes of lookup");
}

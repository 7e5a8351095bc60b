//! Shell completions, driven through real shells: the script `mycli`
//! prints for `MYCLI_COMPLETE=SHELL` is sourced into bash (and zsh and
//! fish when they are installed), then the shell's completion entry point
//! is called for a command line, against a `MYCLI_HOME` with real plugins
//! installed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use predicates::str::contains;

use crate::support::{Home, example, require_tool, stderr, stdout};

/// Saves the completion script `mycli` prints for `shell`. Tests source
/// this one file before and after installing plugins: nothing is
/// regenerated.
pub(crate) fn script(h: &Home, shell: &str) -> PathBuf {
    let out = h
        .mycli()
        .env("MYCLI_COMPLETE", shell)
        .output()
        .expect("mycli runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    let path = h.scratch(&format!("mycli.{shell}"));
    fs::write(&path, &out.stdout).expect("save the script");
    path
}

/// Whether `shell` is installed (see [`require_tool`]: under CI a missing
/// shell fails the test, elsewhere it is skipped loudly).
pub(crate) fn have(shell: &str) -> bool {
    require_tool(shell, &["-c", "exit 0"], "the test drives it")
}

/// Runs `body` in a real bash that has sourced `script`, with this home.
/// In `body`, `comp LINE` calls the completion function bash would call
/// for LINE with the cursor at its end (found with `complete -p mycli`,
/// as bash finds it) and prints the candidates, one a line, then `==`.
/// Returns one list per `comp`. Completing must print nothing on stderr:
/// it would land in the middle of the user's command line.
fn in_bash(h: &Home, script: &Path, body: &str) -> Vec<Vec<String>> {
    let program = format!(
        r#"
source "$1" || exit 90
fn=$(complete -p mycli | sed -E 's/.* -F ([^ ]+) .*/\1/')
[[ -n $fn ]] || exit 91
comp() {{
    COMP_LINE=$1
    COMP_POINT=${{#COMP_LINE}}
    read -ra COMP_WORDS <<< "$COMP_LINE"
    if [[ $COMP_LINE == *' ' ]]; then COMP_WORDS+=(''); fi
    COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
    COMPREPLY=()
    "$fn" mycli "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
    for c in "${{COMPREPLY[@]}}"; do printf '%s\n' "$c"; done
    echo ==
}}
{body}
"#
    );
    let out = StdCommand::new("bash")
        .args(["--norc", "--noprofile", "-c", &program, "bash"])
        .arg(script)
        .env("MYCLI_HOME", h.home())
        .env("MYCLI", env!("CARGO_BIN_EXE_mycli"))
        .env("NO_COLOR", "1")
        .env_remove("MYCLI_COMPLETE")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash failed: {}\n{}",
        out.status,
        stderr(&out)
    );
    assert_eq!(stderr(&out), "", "completing wrote to stderr");
    let text = stdout(&out);
    let mut groups: Vec<Vec<String>> = text
        .split("==\n")
        .map(|g| g.lines().map(str::to_string).collect())
        .collect();
    groups.pop(); // what follows the last `==`
    groups
}

/// The candidates bash offers for `line`.
pub(crate) fn bash(h: &Home, script: &Path, line: &str) -> Vec<String> {
    let mut groups = in_bash(h, script, &format!("comp '{line}'"));
    assert_eq!(groups.len(), 1);
    groups.remove(0)
}

/// The candidates that are not options.
fn words(candidates: &[String]) -> Vec<&str> {
    candidates
        .iter()
        .map(String::as_str)
        .filter(|c| !c.starts_with('-'))
        .collect()
}

#[test]
fn bash_completes_plugin_commands_their_options_and_plugin_names() {
    let h = Home::new();
    h.install(&example("greet"));
    let script = script(&h, "bash");

    let first = bash(&h, &script, "mycli ");
    for expected in ["greet", "plugins", "echo", "version"] {
        assert!(first.iter().any(|c| c == expected), "{expected}: {first:?}");
    }
    assert!(!first.iter().any(|c| c == "stats"), "{first:?}");
    assert_eq!(bash(&h, &script, "mycli gr"), ["greet"]);
    assert_eq!(bash(&h, &script, "mycli greet --w"), ["--who"]);
    let options = bash(&h, &script, "mycli greet --");
    assert!(options.contains(&"--shout".to_string()), "{options:?}");
    // Global options are accepted after a plugin command too.
    assert!(options.contains(&"--verbose".to_string()), "{options:?}");
    assert_eq!(bash(&h, &script, "mycli -v gr"), ["greet"]);

    let group = bash(&h, &script, "mycli plugins ");
    for sub in ["install", "list", "info", "remove", "enable", "disable"] {
        assert!(group.iter().any(|c| c == sub), "{sub}: {group:?}");
    }
    assert_eq!(bash(&h, &script, "mycli plugins remove g"), ["greet"]);
    // A compiled-in plugin can be looked at but not removed.
    assert_eq!(
        words(&bash(&h, &script, "mycli plugins remove ")),
        ["greet"]
    );
    assert_eq!(
        words(&bash(&h, &script, "mycli plugins info ")),
        ["echo", "greet"]
    );
}

#[test]
fn a_plugin_installed_after_the_script_was_sourced_completes_at_once() {
    let h = Home::new();
    h.install(&example("greet"));
    let script = script(&h, "bash");
    let stats = example("stats");
    // One shell session: the script is sourced once, before the install.
    let groups = in_bash(
        &h,
        &script,
        &format!(
            r#"comp 'mycli st'
"$MYCLI" plugins install '{}' --yes >/dev/null 2>&1 || exit 92
comp 'mycli st'
comp 'mycli stats --m'
comp 'mycli plugins upgrade s'"#,
            stats.display()
        ),
    );
    assert_eq!(groups[0], Vec::<String>::new());
    assert_eq!(groups[1], ["stats"]);
    assert_eq!(groups[2], ["--mean"]);
    assert_eq!(groups[3], ["stats"]);
}

#[test]
fn enable_offers_disabled_plugins_and_disable_enabled_ones() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install(&example("stats"));
    let script = script(&h, "bash");
    h.mycli()
        .args(["plugins", "disable", "stats"])
        .assert()
        .success();
    let groups = in_bash(
        &h,
        &script,
        "comp 'mycli plugins enable '\ncomp 'mycli plugins disable '\ncomp 'mycli '",
    );
    assert_eq!(words(&groups[0]), ["stats"]);
    assert_eq!(words(&groups[1]), ["greet"]);
    // A disabled plugin's commands are not offered.
    assert!(!groups[2].iter().any(|c| c == "stats"), "{:?}", groups[2]);
}

#[test]
fn choices_and_subcommands_come_from_the_manifest_and_no_plugin_starts() {
    let h = Home::new();
    let ran = h.scratch("ran");
    let tool = h.script(
        "mycli-tool",
        r#"{"manifest":1,"host":"mycli","name":"tool","version":"1.0.0","api":"^1.0",
            "commands":[{"name":"tool","about":"A tool","args":[
              {"name":"lang","long":"lang","choices":["en","fr"],"help":"Language"}],
              "subcommands":[{"name":"sync","about":"Sync it"},{"name":"show"}]}]}"#,
        &format!("touch '{}'", ran.display()),
    );
    h.install(&tool);
    // A plugin that fails its checks warns on a run, never while completing
    // (in_bash checks that stderr stays empty).
    h.install_cmd(&example("stale"))
        .arg("--force")
        .assert()
        .success();
    let script = script(&h, "bash");
    let groups = in_bash(
        &h,
        &script,
        "comp 'mycli tool --lang '\ncomp 'mycli tool s'\ncomp 'mycli tool --lang fr s'",
    );
    assert_eq!(groups[0], ["en", "fr"]);
    assert_eq!(groups[1], ["sync", "show"]);
    assert_eq!(groups[2], ["sync", "show"]);
    assert!(!ran.exists(), "completing started the plugin");
    // The plugin does run when asked to, so the check above can fail.
    h.mycli().args(["tool", "sync"]).assert().success();
    assert!(ran.exists());
}

/// Path types complete the file system from the shell's directory: a
/// `file` arg offers files (and directories, to go into), a `dir` arg
/// directories only, an `int` arg nothing.
#[test]
fn typed_path_args_complete_files_in_the_current_directory() {
    let h = Home::new();
    let ran = h.scratch("ran");
    let tool = h.script(
        "mycli-files",
        r#"{"manifest":1,"host":"mycli","name":"files","version":"1.0.0","api":"^1.3",
            "commands":[{"name":"files","args":[
              {"name":"into","long":"into","type":"dir"},
              {"name":"count","long":"count","type":"int"},
              {"name":"input","type":"file"}]}]}"#,
        &format!("touch '{}'", ran.display()),
    );
    h.install(&tool);
    let work = h.scratch("work");
    fs::create_dir_all(work.join("tdir")).expect("work dir");
    fs::write(work.join("tasks.txt"), "").expect("a file");
    fs::write(work.join("other.txt"), "").expect("a file");
    let script = script(&h, "bash");
    let groups = in_bash(
        &h,
        &script,
        &format!(
            "cd '{}' || exit 93\ncomp 'mycli files t'\ncomp 'mycli files --into t'\ncomp 'mycli files --count t'",
            work.display()
        ),
    );
    assert_eq!(groups[0], ["tasks.txt", "tdir/"]);
    assert_eq!(groups[1], ["tdir/"]);
    assert_eq!(groups[2], Vec::<String>::new());
    assert!(!ran.exists(), "completing started the plugin");
}

#[test]
fn zsh_gets_candidates_with_their_help() {
    let h = Home::new();
    h.install(&example("greet"));
    let script = script(&h, "zsh");
    let text = fs::read_to_string(&script).expect("script");
    assert!(text.starts_with("#compdef mycli"), "{text}");
    if !have("zsh") {
        return;
    }
    // The real script in a real zsh; only the completion system's entry
    // points are stood in for (`compdef` registers, `_describe` shows the
    // `value:help` pairs it is given), since they need an interactive line
    // editor.
    let program = r#"
compdef() { : }
_describe() { print -rl -- "${(@P)${@[-1]}}" }
source "$1" || exit 90
comp() {
    words=(${(z)1}); [[ $1 == *' ' ]] && words+=('')
    CURRENT=${#words}
    _clap_dynamic_completer_mycli
    print -r -- '=='
}
comp 'mycli g'
comp 'mycli greet --w'
comp 'mycli plugins remove '
"#;
    let out = StdCommand::new("zsh")
        .args(["-f", "-c", program, "zsh"])
        .arg(&script)
        .env("MYCLI_HOME", h.home())
        .env_remove("MYCLI_COMPLETE")
        .output()
        .expect("zsh runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let groups: Vec<&str> = text.split("==\n").collect();
    assert_eq!(groups[0], "greet:Say hello\n");
    assert_eq!(groups[1], "--who:Who to greet\n");
    assert!(
        groups[2].lines().any(|l| l == "greet:Friendly greetings"),
        "{}",
        groups[2]
    );
}

#[test]
fn fish_completes_for_real() {
    let h = Home::new();
    h.install(&example("greet"));
    let script = script(&h, "fish");
    if !have("fish") {
        return;
    }
    let scratch = h.scratch("fish-home");
    fs::create_dir_all(&scratch).expect("fish home");
    // `complete -C LINE` runs fish's own completion for LINE.
    let program = r#"
source $argv[1]; or exit 90
complete -C 'mycli g'; echo ==
complete -C 'mycli greet --w'; echo ==
complete -C 'mycli plugins info '
"#;
    let out = StdCommand::new("fish")
        .args(["--no-config", "-c", program])
        .arg(&script)
        .env("MYCLI_HOME", h.home())
        .env("HOME", &scratch)
        .env("XDG_CONFIG_HOME", &scratch)
        .env("XDG_DATA_HOME", &scratch)
        .env_remove("MYCLI_COMPLETE")
        .output()
        .expect("fish runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let groups: Vec<&str> = text.split("==\n").collect();
    assert_eq!(groups[0], "greet\tSay hello\n");
    assert_eq!(groups[1], "--who\tWho to greet\n");
    let names: Vec<&str> = groups[2].lines().filter(|l| !l.starts_with('-')).collect();
    assert_eq!(
        names,
        [
            "echo\tPrint words (a plugin compiled into mycli)",
            "greet\tFriendly greetings"
        ]
    );
}

#[test]
fn an_unknown_shell_is_refused_with_the_fix() {
    let h = Home::new();
    let out = h.mycli().env("MYCLI_COMPLETE", "tcsh").output().unwrap();
    assert_eq!(stdout(&out), "");
    insta::assert_snapshot!(h.outcome(&out), @"[exit 2] mycli: error: cannot write completions for shell 'tcsh' (MYCLI_COMPLETE=tcsh): snapin knows bash, elvish, fish, powershell, zsh; fix: set MYCLI_COMPLETE to one of them, e.g. `source <(MYCLI_COMPLETE=bash mycli)`");
    // `$SHELL` names a shell by its path.
    h.mycli()
        .env("MYCLI_COMPLETE", "/usr/bin/bash")
        .assert()
        .success()
        .stdout(contains("complete -o nospace"));
    // Empty or 0 turns completions off: a normal run.
    h.mycli()
        .env("MYCLI_COMPLETE", "0")
        .arg("version")
        .assert()
        .success()
        .stdout(contains("mycli 0.1.0"));
}

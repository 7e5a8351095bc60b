//! `mycli plugins check` against the real example plugins, the `--json`
//! outputs of `plugins list`, `info`, `doctor` and `check`, the table of
//! `plugins list` and colour, and every example's manifest against
//! docs/manifest.schema.json.

use std::path::Path;

use serde_json::Value;

// Plugin scripts and the repository's sh example: Unix only.
#[cfg(unix)]
use crate::support::{self, manifest};
use crate::support::{Home, example, stdout, wasm_example};

/// `plugins check PATH --json`, parsed, with the exit code.
fn check_json(h: &Home, path: &Path) -> (Value, Option<i32>) {
    let out = h
        .mycli()
        .args(["plugins", "check", "--json"])
        .arg(path)
        .output()
        .expect("mycli runs");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check --json is not JSON ({e}): {}", stdout(&out)));
    (report, out.status.code())
}

/// The check named `name` in a `--json` report.
fn line<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks is a list")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

/// The names of the checks that failed.
fn failed(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks is a list")
        .iter()
        .filter(|c| c["passed"] == false)
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

const ALL_CHECKS: [&str; 9] = [
    "file",
    "permissions",
    "describe",
    "fields",
    "contract",
    "gate",
    "conflicts",
    "clap",
    "help",
];

#[test]
fn a_good_plugin_passes_every_check_and_nothing_is_installed() {
    let h = Home::new();
    let out = h
        .mycli()
        .args(["plugins", "check"])
        .arg(example("greet"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    for name in ALL_CHECKS {
        assert!(
            text.lines()
                .any(|l| l.starts_with("ok") && l.split_whitespace().nth(1) == Some(name)),
            "no ok line for {name}:\n{text}"
        );
    }
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.contains("--help renders for greet"), "{text}");
    assert!(
        text.lines().last().unwrap().contains("passes all 9 checks"),
        "{text}"
    );
    // Nothing recorded: greet is not a command and the index has no entry.
    assert!(!h.index().exists() || h.list().iter().all(|r| r["name"] != "greet"));
    h.mycli().arg("greet").assert().code(2);

    let (report, code) = check_json(&h, &example("greet"));
    assert_eq!(code, Some(0));
    assert_eq!(report["passed"], true);
    assert_eq!(report["plugin"], "greet");
    assert_eq!(report["kind"], "exec");
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ALL_CHECKS);
    assert_eq!(report["manifest"]["name"], "greet");
}

#[test]
fn a_plugin_that_cannot_describe_itself_fails_the_describe_line() {
    let h = Home::new();
    let out = h
        .mycli()
        .args(["plugins", "check"])
        .arg(example("broken"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let describe = text
        .lines()
        .find(|l| l.starts_with("FAIL") && l.contains("describe"))
        .unwrap_or_else(|| panic!("no failed describe line:\n{text}"));
    assert!(describe.contains("exit status 3"), "{describe}");
    assert!(
        describe.contains("configuration file /nonexistent/broken.toml is missing"),
        "{describe}"
    );
    assert!(text.contains("fix: `"), "{text}");
    let (report, code) = check_json(&h, &example("broken"));
    assert_eq!(code, Some(1));
    assert_eq!(failed(&report), ["describe"]);
    assert!(
        line(&report, "describe")["fix"]
            .as_str()
            .unwrap()
            .contains("--snapin-describe")
    );
}

#[test]
fn a_plugin_for_another_api_fails_only_the_gate() {
    let h = Home::new();
    let (report, code) = check_json(&h, &example("stale"));
    assert_eq!(code, Some(1));
    assert_eq!(report["passed"], false);
    assert_eq!(failed(&report), ["gate"]);
    let gate = line(&report, "gate");
    assert_eq!(
        gate["detail"],
        "it requires mycli API ^99, but this mycli provides API 1.3.0"
    );
    assert!(gate["fix"].as_str().unwrap().contains("mycli API 1.x"));
    // The later checks still ran, so every problem shows in one run.
    assert_eq!(line(&report, "help")["passed"], true);
}

#[cfg(unix)]
#[test]
fn a_command_named_like_a_built_in_fails_the_conflict_check() {
    let h = Home::new();
    let script = h.script("mycli-vers", &manifest("vers", "version", "^1.0"), "exit 0");
    let out = h
        .mycli()
        .args(["plugins", "check"])
        .arg(&script)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines().any(|l| l.starts_with("FAIL")
            && l.contains("conflicts")
            && l.contains("its command 'version' is built into mycli")),
        "{text}"
    );
    let (report, _) = check_json(&h, &script);
    assert_eq!(failed(&report), ["conflicts"]);
    assert!(
        line(&report, "conflicts")["fix"]
            .as_str()
            .unwrap()
            .contains("rename")
    );
}

#[cfg(unix)]
#[test]
fn a_command_taken_by_an_installed_plugin_fails_but_its_own_install_does_not() {
    let h = Home::new();
    h.install(&example("greet"));
    // greet itself, installed: checking it again is no conflict.
    let (report, code) = check_json(&h, &example("greet"));
    assert_eq!(code, Some(0), "{report}");
    let other = h.script("mycli-hi", &manifest("hi", "greet", "^1.0"), "exit 0");
    let (report, _) = check_json(&h, &other);
    assert_eq!(failed(&report), ["conflicts"]);
    assert!(
        line(&report, "conflicts")["detail"]
            .as_str()
            .unwrap()
            .contains("already provided by plugin 'greet'")
    );
}

#[cfg(unix)]
#[test]
fn an_invalid_manifest_fails_the_contract_and_a_missing_file_the_file_check() {
    let h = Home::new();
    let bad = h.script(
        "mycli-bad",
        r#"{"manifest":1,"host":"othercli","name":"bad","version":"1.0.0","api":"^1.0","commands":[{"name":"bad"}]}"#,
        "exit 0",
    );
    let (report, _) = check_json(&h, &bad);
    assert_eq!(failed(&report), ["contract"]);
    assert!(
        line(&report, "contract")["detail"]
            .as_str()
            .unwrap()
            .contains("built for host 'othercli', not 'mycli'")
    );
    let (report, code) = check_json(&h, &h.scratch("mycli-missing"));
    assert_eq!(code, Some(1));
    assert_eq!(failed(&report), ["file"]);
    assert_eq!(line(&report, "file")["fix"], "check the path");
}

#[test]
fn components_are_checked_and_one_for_another_contract_fails_describe() {
    let h = Home::new();
    let (report, code) = check_json(&h, &wasm_example("wstats"));
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["kind"], "wasm");
    assert_eq!(line(&report, "file")["detail"], "a WebAssembly component");
    let (report, code) = check_json(&h, &wasm_example("wfuture"));
    assert_eq!(code, Some(1));
    assert_eq!(failed(&report), ["describe"]);
    assert!(
        line(&report, "describe")["detail"]
            .as_str()
            .unwrap()
            .contains("snapin:plugin@2.0.0"),
        "{report}"
    );
}

// ------------------------------------------------------- other --json outputs

#[test]
fn list_info_and_doctor_json_have_the_documented_fields() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install_cmd(&example("stale"))
        .arg("--force")
        .assert()
        .success();
    let rows = h.list();
    let greet = rows.iter().find(|r| r["name"] == "greet").unwrap();
    for field in [
        "name",
        "version",
        "kind",
        "status",
        "commands",
        "origin",
        "path",
        "sha256",
        "enabled",
        "installed_at",
    ] {
        assert!(
            greet.get(field).is_some(),
            "list row has no {field}: {greet}"
        );
    }
    assert_eq!(greet["status"], "ok");
    assert_eq!(greet["commands"], serde_json::json!(["greet"]));
    let stale = rows.iter().find(|r| r["name"] == "stale").unwrap();
    assert_eq!(stale["status"], "skipped");
    assert_eq!(stale["check"], "gate");
    assert!(
        stale["fix"]
            .as_str()
            .unwrap()
            .contains("plugins remove stale")
    );

    let out = h
        .mycli()
        .args(["plugins", "info", "greet", "--json"])
        .output()
        .unwrap();
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["name"], "greet");
    assert_eq!(info["sha256"], greet["sha256"]);
    assert_eq!(info["manifest"]["commands"][0]["name"], "greet");

    let out = h
        .mycli()
        .args(["plugins", "doctor", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let problems: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0]["plugin"], "stale");
    assert!(
        problems[0]["problem"]
            .as_str()
            .unwrap()
            .starts_with("skipped: ")
    );
    assert!(problems[0]["fix"].as_str().unwrap().contains("API 1.x"));
}

// ------------------------------------------------------- table and colour

#[test]
fn list_is_an_aligned_table_without_colour_off_a_terminal() {
    let h = Home::new();
    h.install(&example("greet"));
    h.install_cmd(&example("stale"))
        .arg("--force")
        .assert()
        .success();
    // NO_COLOR is removed and --color is left at auto: stdout is a pipe.
    let out = h
        .mycli()
        .env_remove("NO_COLOR")
        .args(["plugins", "list"])
        .output()
        .unwrap();
    let table = stdout(&out);
    assert!(
        !table.contains('\x1b'),
        "escape codes in a pipe:\n{table:?}"
    );
    let lines: Vec<&str> = table.lines().collect();
    let header = lines[0];
    let columns = [
        "NAME", "VERSION", "KIND", "COMMANDS", "SHA256", "ORIGIN", "STATUS",
    ];
    let at: Vec<usize> = columns.iter().map(|c| header.find(c).unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{header}");
    // Every cell starts under its heading.
    for row in lines
        .iter()
        .skip(1)
        .filter(|l| l.starts_with("greet ") || l.starts_with("stale "))
    {
        for &col in &at[1..] {
            assert!(
                row[..col].ends_with("  ") && !row[col..].starts_with(' '),
                "cell not under its heading at {col}:\n{table}"
            );
        }
    }
    let stale = lines.iter().find(|l| l.starts_with("stale ")).unwrap();
    assert!(
        stale[at[6]..].starts_with("skipped: it requires mycli API ^99"),
        "{stale}"
    );
    // --color always colours the status word, and only that.
    let out = h
        .mycli()
        .args(["--color", "always", "plugins", "list"])
        .output()
        .unwrap();
    let coloured = stdout(&out);
    assert!(coloured.contains("\x1b[32mok"), "{coloured:?}");
    assert!(
        coloured.contains("\x1b[33mskipped\x1b[0m: it requires"),
        "{coloured:?}"
    );
    assert!(!coloured.lines().next().unwrap().contains('\x1b'));
    // check follows the same rules.
    let out = h
        .mycli()
        .env_remove("NO_COLOR")
        .args(["plugins", "check"])
        .arg(example("stale"))
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\x1b'));
    let out = h
        .mycli()
        .args(["--color", "always", "plugins", "check"])
        .arg(example("stale"))
        .output()
        .unwrap();
    assert!(stdout(&out).contains("\x1b[31mFAIL\x1b[0m"));
}

#[cfg(unix)]
#[test]
fn on_a_terminal_the_status_is_coloured_unless_no_color_is_set() {
    let h = Home::new();
    h.install(&example("greet"));
    // `on_terminal` runs with NO_COLOR=1: no colour even on a terminal.
    let Some(out) = h.on_terminal("plugins list", "") else {
        return;
    };
    let table = stdout(&out);
    assert!(table.contains("greet"), "{table}");
    assert!(
        !table.contains("\x1b["),
        "colour despite NO_COLOR:\n{table:?}"
    );
    // Without NO_COLOR, the same terminal gets a coloured status.
    let line = format!(
        "env -u NO_COLOR {} plugins list",
        env!("CARGO_BIN_EXE_mycli")
    );
    let out = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("MYCLI_HOME", h.home())
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let table = stdout(&out);
    assert!(table.contains("\x1b[32mok\x1b[0m"), "{table:?}");
}

// ------------------------------------------------------- the manifest schema

#[cfg(unix)]
#[test]
fn every_example_manifest_validates_against_the_checked_in_schema() {
    let schema_path = support::repo().join("docs/manifest.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut manifests: Vec<(String, Value)> = Vec::new();
    for name in ["greet", "stats", "stale", "crashy"] {
        let out = std::process::Command::new(example(name))
            .arg("--snapin-describe")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} --snapin-describe failed");
        manifests.push((name.into(), serde_json::from_slice(&out.stdout).unwrap()));
    }
    let hello = support::repo().join("examples/plugins/hello-sh/mycli-hello");
    let out = std::process::Command::new(&hello)
        .arg("--snapin-describe")
        .output()
        .unwrap();
    manifests.push((
        "hello-sh".into(),
        serde_json::from_slice(&out.stdout).unwrap(),
    ));
    // Components describe themselves inside the host: `check --json`
    // carries the manifest it got.
    let h = Home::new();
    for name in ["wstats", "wescape", "wbomb"] {
        let (report, _) = check_json(&h, &wasm_example(name));
        manifests.push((name.into(), report["manifest"].clone()));
    }
    for (name, m) in &manifests {
        assert!(m.is_object(), "no manifest for {name}");
        let errors: Vec<String> = validator.iter_errors(m).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{name}'s manifest breaks the schema: {errors:?}"
        );
    }
}

//! Signed catalogs of plugins against a real registry, with keys made by
//! the real `minisign` and `ssh-keygen`: a catalog built from a draft
//! (versions read from the registry), added, listed, searched with the
//! registry stopped, and installed from by name; `plugins audit` on a
//! yanked version, an unsigned plugin, a writable file, a broad grant and
//! a signer the catalog does not list; and the refusals, each one line
//! with its fix that changes nothing: a name in two catalogs, a version
//! signed by a key the catalog does not list, a catalog signed by another
//! key, an expired catalog, a rollback to an older one, and a catalog too
//! big to read.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::registry::{Auth, Registry};
use crate::support::{
    Home, native_plugin, one_line, require_tool, run_quoted_fix, stderr, stdout, wasm_example,
};

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// A maintainer's keys, made with the real tools in a scratch directory:
/// `m.key`/`m.pub` (minisign) and `s`/`s.pub` (OpenSSH ed25519).
struct Keys {
    dir: PathBuf,
}

impl Keys {
    /// `None` (the test is skipped, see [`require_tool`]) when minisign or
    /// ssh-keygen is not installed.
    fn make(h: &Home) -> Option<Keys> {
        let dir = h.scratch("keys");
        fs::create_dir_all(&dir).unwrap();
        if !require_tool("minisign", &["-v"], "it makes the maintainers' keys") {
            return None;
        }
        tool(
            &dir,
            "minisign",
            &["-G", "-W", "-p", "m.pub", "-s", "m.key"],
        );
        // Making the SSH key is the probe: ssh-keygen has no option that
        // only says it works.
        let ssh = dir.join("s");
        if !require_tool(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", ssh.to_str().unwrap()],
            "it makes a publisher's SSH key",
        ) {
            return None;
        }
        Some(Keys { dir })
    }

    /// The path of key file `file`.
    fn path(&self, file: &str) -> String {
        self.dir.join(file).to_str().unwrap().to_string()
    }

    /// The minisign public key: `RW...`.
    fn minisign_key(&self) -> String {
        let text = fs::read_to_string(self.dir.join("m.pub")).unwrap();
        text.lines().nth(1).unwrap().trim().to_string()
    }

    /// `minisign:ID`, ID being what minisign wrote in m.pub's comment.
    fn minisign_id(&self) -> String {
        let text = fs::read_to_string(self.dir.join("m.pub")).unwrap();
        let comment = text.lines().next().unwrap();
        let id = comment
            .strip_prefix("untrusted comment: minisign public key ")
            .unwrap_or_else(|| panic!("{comment}"));
        format!("minisign:{id}")
    }

    /// The fingerprint `ssh-keygen -l -f s.pub` prints: `SHA256:...`.
    fn ssh_fingerprint(&self) -> String {
        let out = tool(&self.dir, "ssh-keygen", &["-l", "-f", "s.pub"]);
        stdout(&out).split_whitespace().nth(1).unwrap().to_string()
    }

    /// What `minisign -S -s m.key -m FILE` writes for `file`.
    fn minisign_over(&self, file: &Path) -> Vec<u8> {
        tool(
            &self.dir,
            "minisign",
            &["-S", "-s", "m.key", "-m", file.to_str().unwrap()],
        );
        let mut signature = file.as_os_str().to_owned();
        signature.push(".minisig");
        fs::read(signature).unwrap()
    }
}

/// Runs `program ARGS` in `dir`, which must succeed.
fn tool(dir: &Path, program: &str, args: &[&str]) -> Output {
    let out = StdCommand::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {}: {}",
        args.join(" "),
        stderr(&out)
    );
    out
}

/// `mycli` in `h` with no registry credentials from the environment that
/// runs the tests.
fn mycli(h: &Home) -> assert_cmd::Command {
    let mut cmd = h.mycli();
    cmd.env_remove("MYCLI_REGISTRY_USERNAME")
        .env_remove("MYCLI_REGISTRY_PASSWORD")
        .env_remove("MYCLI_SIGNING_PASSWORD")
        .env("DOCKER_CONFIG", h.scratch("no-docker-config"));
    cmd
}

/// `mycli ARGS` in `h`, run to its end.
fn run(h: &Home, args: &[&str]) -> Output {
    mycli(h).args(args).output().expect("mycli runs")
}

/// `mycli ARGS` in `h`, which must succeed; its stdout.
#[track_caller]
fn ok(h: &Home, args: &[&str]) -> String {
    let out = run(h, args);
    assert!(
        out.status.success(),
        "mycli {} failed: {}",
        args.join(" "),
        stderr(&out)
    );
    stdout(&out)
}

/// Compiles plugin `name` `version` needing host API `api` and publishes
/// it to `repo`, signed with key file `sign` when given.
fn publish(
    work: &Home,
    registry: &Registry,
    repo: &str,
    name: &str,
    version: &str,
    api: &str,
    sign: Option<&str>,
) {
    let file = native_plugin(
        &work.scratch(&format!("{repo}/{name}-{version}")),
        name,
        version,
        api,
    );
    let target = registry.oci(repo);
    let mut args = vec!["plugins", "publish", &target, file.to_str().unwrap()];
    if let Some(key) = sign {
        args.extend(["--sign", key]);
    }
    ok(work, &args);
}

/// One `[[plugin]]` table of a draft, its versions left out (read from
/// the registry at build), with `extra` lines added (`yanked = [...]`).
fn plugin_table(name: &str, description: &str, source: &str, keys: &[&str], extra: &str) -> String {
    let keys: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
    format!(
        "[[plugin]]\nname = {name:?}\ndescription = {description:?}\nsource = {source:?}\nkeys = [{}]\n{extra}\n",
        keys.join(", ")
    )
}

/// Writes `draft` to a file of `work` and builds a catalog from it with
/// `mycli plugins catalog build DRAFT --sign m.key --to TO EXTRA...`; the
/// output line.
fn build(work: &Home, keys: &Keys, draft: &str, to: &str, extra: &[&str]) -> String {
    let file = work.scratch("catalog.toml");
    fs::write(&file, draft).unwrap();
    let sign = keys.path("m.key");
    let mut args = vec![
        "plugins",
        "catalog",
        "build",
        file.to_str().unwrap(),
        "--sign",
        &sign,
        "--to",
        to,
    ];
    args.extend(extra);
    ok(work, &args)
}

/// What a refusal must leave as it found it: `plugins.json`, every file
/// and directory under `installed/` and under `catalogs/`.
#[derive(Debug, PartialEq, Eq)]
struct State(BTreeMap<PathBuf, Option<Vec<u8>>>);

impl State {
    fn of(h: &Home) -> State {
        let mut found = BTreeMap::new();
        found.insert(PathBuf::from("plugins.json"), fs::read(h.index()).ok());
        let mut todo = vec![h.home().join("installed"), h.home().join("catalogs")];
        while let Some(dir) = todo.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                let relative = path.strip_prefix(h.home()).unwrap().to_path_buf();
                if path.is_dir() {
                    todo.push(path);
                    found.insert(relative, None);
                } else {
                    found.insert(relative, Some(fs::read(&path).unwrap()));
                }
            }
        }
        State(found)
    }
}

/// Asserts that `out` is a refusal a user can act on: a non-zero status
/// and one line, `mycli: error: WHAT; fix: FIX`, and that `h` is as
/// `before` recorded it. Returns the line.
#[track_caller]
fn refused(h: &Home, before: &State, out: &Output) -> String {
    refused_line(h, before, out, &stderr(out))
}

/// [`refused`] for the line `text`, what stderr holds of the refusal.
#[track_caller]
fn refused_line(h: &Home, before: &State, out: &Output, text: &str) -> String {
    assert!(
        !out.status.success(),
        "it succeeded: {}{}",
        stdout(out),
        stderr(out)
    );
    let line = one_line(text);
    assert!(line.starts_with("mycli: error: "), "{line}");
    assert!(line.contains("; fix: "), "{line}");
    assert!(State::of(h) == *before, "the home changed: {line}");
    line
}

/// The rows of `mycli plugins search TERM --json` in `h`.
fn search_json(h: &Home, term: &str) -> Vec<Value> {
    serde_json::from_str(&ok(h, &["plugins", "search", term, "--json"])).unwrap()
}

/// The cells of the line of `table` that starts with `first`, split on
/// runs of two spaces or more (cells may hold single spaces).
fn row_of(table: &str, first: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| l.split("  ").next() == Some(first))
        .unwrap_or_else(|| panic!("no row {first}:\n{table}"));
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// Asserts that plugin `name` runs as version `version`.
#[track_caller]
fn assert_runs(h: &Home, name: &str, version: &str) {
    mycli(h)
        .arg(name)
        .assert()
        .success()
        .stdout(format!("{name} {version} ran\n"));
}

/// The one file a home installed for plugin `name`.
fn installed_file(h: &Home, name: &str) -> PathBuf {
    let dir = h.home().join("installed").join(name);
    let versions: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(versions.len(), 1, "{versions:?}");
    let files: Vec<PathBuf> = fs::read_dir(&versions[0])
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

// ------------------------------------------------------------ round trip

/// Two signed plugins published, a catalog built from a draft without
/// versions (read from the registry), added and listed; search finds by
/// name and by description with the newest version this host can run,
/// also as JSON and with the registry stopped, saying how old the copy
/// is; install NAME takes that version, install NAME@REQ an older one,
/// and each is signed by the key the catalog lists.
#[test]
fn a_catalog_is_built_added_searched_offline_and_installed_from_by_name() {
    let Some(mut registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let sign = keys.path("m.key");
    publish(
        &work,
        &registry,
        "acme/hello",
        "hello",
        "0.1.0",
        "^1.0",
        Some(&sign),
    );
    publish(
        &work,
        &registry,
        "acme/hello",
        "hello",
        "0.2.0",
        "^1.0",
        Some(&sign),
    );
    // Newer, but for an API this host does not provide.
    publish(
        &work,
        &registry,
        "acme/hello",
        "hello",
        "0.3.0",
        "^9.0",
        Some(&sign),
    );
    publish(
        &work,
        &registry,
        "acme/stats",
        "stats",
        "1.4.0",
        "^1.0",
        Some(&sign),
    );
    let key = keys.minisign_key();
    let draft = [
        plugin_table(
            "hello",
            "Greets the whole world",
            &registry.oci("acme/hello"),
            &[&key],
            "",
        ),
        plugin_table(
            "stats",
            "Counts lines, words and bytes",
            &registry.oci("acme/stats"),
            &[&key],
            "",
        ),
    ]
    .concat();
    let catalog = registry.oci("acme/catalog");
    let built = build(&work, &keys, &draft, &catalog, &[]);
    let id = keys.minisign_id();
    assert!(
        built.starts_with(&format!(
            "built a catalog of 2 plugins, signed by {id}, valid until "
        )),
        "{built}"
    );
    assert!(
        built.contains(&format!("{catalog}:latest@sha256:")),
        "{built}"
    );

    let h = Home::new();
    let added = ok(
        &h,
        &[
            "plugins",
            "catalog",
            "add",
            "acme",
            &catalog,
            "--key",
            &keys.path("m.pub"),
        ],
    );
    assert!(
        added.starts_with(&format!("added catalog 'acme': 2 plugins, signed by {id}")),
        "{added}"
    );
    let list = ok(&h, &["plugins", "catalog", "list"]);
    let cells = row_of(&list, "acme");
    assert_eq!(
        cells[..4],
        ["acme", catalog.as_str(), id.as_str(), "2"],
        "{list}"
    );
    let rows: Vec<Value> =
        serde_json::from_str(&ok(&h, &["plugins", "catalog", "list", "--json"])).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["name"], "acme");
    assert_eq!(rows[0]["reference"], catalog.as_str());
    assert_eq!(rows[0]["key"], id.as_str());
    assert_eq!(rows[0]["plugins"], 2);

    // By name; by a word of the description, in any case.
    let found = ok(&h, &["plugins", "search", "hello"]);
    assert_eq!(
        row_of(&found, "hello"),
        ["hello", "0.2.0", "acme", "Greets the whole world"],
        "{found}"
    );
    assert!(!found.contains("stats"), "{found}");
    let found = ok(&h, &["plugins", "search", "WORDS"]);
    assert_eq!(row_of(&found, "stats")[..3], ["stats", "1.4.0", "acme"]);
    assert!(!found.contains("hello"), "{found}");
    assert_eq!(
        search_json(&h, "world"),
        [json!({
            "name": "hello",
            "description": "Greets the whole world",
            "version": "0.2.0",
            "source": registry.oci("acme/hello"),
            "catalog": "acme",
        })]
    );
    let names: Vec<Value> = search_json(&h, "")
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(names, ["hello", "stats"]);

    // install NAME: the newest this host can run, signed by the key the
    // catalog lists for it.
    ok(&h, &["plugins", "install", "hello", "--yes"]);
    assert_runs(&h, "hello", "0.2.0");
    let info = ok(&h, &["plugins", "info", "hello"]);
    assert!(
        info.lines()
            .any(|l| l == format!("signer:       {id} ({key})")),
        "{info}"
    );
    assert!(
        info.contains(&format!("{}:0.2.0@sha256:", registry.oci("acme/hello"))),
        "{info}"
    );
    // install NAME@REQ, in a fresh home: the newest that REQ allows.
    let older = Home::new();
    ok(
        &older,
        &["plugins", "catalog", "add", "acme", &catalog, "--key", &key],
    );
    ok(&older, &["plugins", "install", "hello@^0.1", "--yes"]);
    assert_runs(&older, "hello", "0.1.0");
    let info = ok(&older, &["plugins", "info", "hello"]);
    assert!(info.contains(&format!("signer:       {id}")), "{info}");

    // Offline: the copy is searched, and its age said.
    registry.stop();
    let out = run(&h, &["plugins", "search", "stats"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(row_of(&stdout(&out), "stats")[..2], ["stats", "1.4.0"]);
    let said = one_line(&stderr(&out));
    let age = said
        .strip_prefix("catalog 'acme' as fetched ")
        .and_then(|rest| rest.strip_suffix(" ago"))
        .unwrap_or_else(|| panic!("{said}"));
    let (n, unit) = age.split_once(' ').unwrap();
    assert!(n.parse::<u64>().is_ok(), "{said}");
    assert!(["second", "seconds"].contains(&unit), "{said}");

    // Removed, it is gone from the list and from search.
    ok(&h, &["plugins", "catalog", "remove", "acme"]);
    let rows: Vec<Value> =
        serde_json::from_str(&ok(&h, &["plugins", "catalog", "list", "--json"])).unwrap();
    assert!(rows.is_empty(), "{rows:?}");
    assert!(!h.home().join("catalogs/acme.json").exists());
    assert_runs(&h, "hello", "0.2.0");
}

// ----------------------------------------------------------------- audit

/// A version the catalog yanks after it was installed: audit exits 1 and
/// gives the reason, as text and JSON, until the fix it gives (upgrade),
/// run as written, moves past it.
#[test]
fn audit_names_a_yanked_version_and_its_reason_until_the_upgrade() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let sign = keys.path("m.key");
    publish(
        &work,
        &registry,
        "acme/hello",
        "hello",
        "0.1.0",
        "^1.0",
        Some(&sign),
    );
    publish(
        &work,
        &registry,
        "acme/hello",
        "hello",
        "0.2.0",
        "^1.0",
        Some(&sign),
    );
    let key = keys.minisign_key();
    let source = registry.oci("acme/hello");
    let catalog = registry.oci("acme/catalog");
    build(
        &work,
        &keys,
        &plugin_table("hello", "Greets", &source, &[&key], ""),
        &catalog,
        &[],
    );
    let h = Home::new();
    ok(
        &h,
        &["plugins", "catalog", "add", "acme", &catalog, "--key", &key],
    );
    ok(&h, &["plugins", "install", "hello@=0.1.0", "--yes"]);
    let out = run(&h, &["plugins", "audit"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "audited 1 plugin against 1 catalog: nothing found\n"
    );

    let reason = "it deletes the files it should only read";
    let yanked = format!("yanked = [{{ version = \"0.1.0\", reason = {reason:?} }}]");
    build(
        &work,
        &keys,
        &plugin_table("hello", "Greets", &source, &[&key], &yanked),
        &catalog,
        &[],
    );
    let updated = ok(&h, &["plugins", "catalog", "update"]);
    assert!(
        updated.starts_with("updated catalog 'acme': 1 plugin"),
        "{updated}"
    );
    let out = run(&h, &["plugins", "audit"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = one_line(&stdout(&out));
    assert_eq!(
        row_of(&line, "hello"),
        [
            "hello",
            "yanked",
            &format!(
                "version 0.1.0 is yanked in catalog acme: {reason}; fix: `mycli plugins upgrade hello`"
            ),
        ]
    );
    assert_eq!(stderr(&out), "1 finding in 1 plugin\n");
    let out = run(&h, &["plugins", "audit", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let findings: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        findings,
        json!([{
            "plugin": "hello",
            "check": "yanked",
            "what": format!("version 0.1.0 is yanked in catalog acme: {reason}"),
            "fix": "`mycli plugins upgrade hello`",
        }])
    );
    // search and install NAME leave the yanked version out.
    assert_eq!(search_json(&h, "hello")[0]["version"], "0.2.0");

    h.fix_command(&line)
        .arg("--yes")
        .env("DOCKER_CONFIG", h.scratch("no-docker-config"))
        .assert()
        .success();
    assert_runs(&h, "hello", "0.2.0");
    let out = run(&h, &["plugins", "audit", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!([])
    );
}

/// Without any catalog, audit finds a registry plugin no one signed, a
/// plugin file others can write and a component granted the whole file
/// system; the fixes it gives for the last two, run as written, clear
/// them.
#[test]
fn audit_finds_unsigned_plugins_writable_files_and_broad_grants() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    publish(
        &work,
        &registry,
        "acme/plain",
        "plain",
        "0.1.0",
        "^1.0",
        None,
    );
    publish(
        &work,
        &registry,
        "acme/hello",
        "hello",
        "0.1.0",
        "^1.0",
        Some(&keys.path("m.key")),
    );
    let h = Home::new();
    ok(
        &h,
        &["plugins", "install", &registry.oci("acme/plain"), "--yes"],
    );
    ok(
        &h,
        &["plugins", "install", &registry.oci("acme/hello"), "--yes"],
    );
    mycli(&h)
        .args(["plugins", "install"])
        .arg(wasm_example("wescape"))
        .args(["--grant", "read=/", "--yes"])
        .assert()
        .success();
    let file = installed_file(&h, "hello");
    let mode = fs::metadata(&file).unwrap().permissions().mode();
    fs::set_permissions(&file, fs::Permissions::from_mode(mode | 0o002)).unwrap();

    let out = run(&h, &["plugins", "audit"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 3, "{text}");
    let unsigned = row_of(&text, "plain");
    assert_eq!(unsigned[1], "unsigned", "{text}");
    assert!(
        unsigned[2].starts_with(&format!(
            "installed from {} unsigned: nothing shows who published it; fix: ",
            registry.oci("acme/plain")
        )),
        "{text}"
    );
    let writable = row_of(&text, "hello");
    assert_eq!(writable[1], "writable", "{text}");
    assert!(writable[2].contains(&file.display().to_string()), "{text}");
    let grant = row_of(&text, "wescape");
    assert_eq!(
        grant[1..],
        [
            "grant",
            "it may read all of /; fix: take the grant back: `mycli plugins revoke wescape read=/`"
        ]
    );
    assert_eq!(stderr(&out), "3 findings in 3 plugins\n");
    let out = run(&h, &["plugins", "audit", "--json"]);
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let checks: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["plugin"].as_str().unwrap(), f["check"].as_str().unwrap()))
        .collect();
    assert_eq!(
        checks,
        [
            ("plain", "unsigned"),
            ("hello", "writable"),
            ("wescape", "grant")
        ]
    );

    // The fixes, run as a user would paste them.
    run_quoted_fix(&writable[2]);
    h.fix_command(&grant[2]).assert().success();
    let out = run(&h, &["plugins", "audit", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["check"], "unsigned");
}

/// A plugin signed by a key its catalog does not list: install NAME is
/// refused, changing nothing; installed by reference, audit names the
/// signer and the catalog.
#[test]
fn a_signer_the_catalog_does_not_list_is_refused_by_name_and_audited() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    // Signed with the SSH key; the catalog lists only the minisign key.
    publish(
        &work,
        &registry,
        "acme/stats",
        "stats",
        "0.1.0",
        "^1.0",
        Some(&keys.path("s")),
    );
    let source = registry.oci("acme/stats");
    let catalog = registry.oci("acme/catalog");
    build(
        &work,
        &keys,
        &plugin_table("stats", "Counts", &source, &[&keys.minisign_key()], ""),
        &catalog,
        &[],
    );
    let h = Home::new();
    ok(
        &h,
        &[
            "plugins",
            "catalog",
            "add",
            "acme",
            &catalog,
            "--key",
            &keys.path("m.pub"),
        ],
    );
    let before = State::of(&h);
    let out = run(&h, &["plugins", "install", "stats", "--yes"]);
    let fingerprint = keys.ssh_fingerprint();
    let line = refused(&h, &before, &out);
    assert!(
        line.starts_with(&format!(
            "mycli: error: cannot install {source}:0.1.0: it is signed by {fingerprint}, not by a key catalog 'acme' lists for plugin 'stats'; fix: "
        )),
        "{line}"
    );

    ok(&h, &["plugins", "install", &source, "--yes"]);
    let out = run(&h, &["plugins", "audit", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["plugin"], "stats");
    assert_eq!(findings[0]["check"], "signer");
    assert_eq!(
        findings[0]["what"],
        format!("signed by {fingerprint}, which catalog acme does not list for it")
    );
}

// -------------------------------------------------------------- refusals

/// A name two catalogs list: install NAME is refused naming both, and
/// its fix, run as written, installs one of them.
#[test]
fn a_name_in_two_catalogs_is_refused_naming_both_and_the_fix_installs_one() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let sign = keys.path("m.key");
    let key = keys.minisign_key();
    let h = Home::new();
    for owner in ["acme", "other"] {
        let repo = format!("{owner}/hello");
        publish(
            &work,
            &registry,
            &repo,
            "hello",
            "0.1.0",
            "^1.0",
            Some(&sign),
        );
        let catalog = registry.oci(&format!("{owner}/catalog"));
        let table = plugin_table("hello", "Greets", &registry.oci(&repo), &[&key], "");
        build(&work, &keys, &table, &catalog, &[]);
        ok(
            &h,
            &["plugins", "catalog", "add", owner, &catalog, "--key", &key],
        );
    }
    let before = State::of(&h);
    let out = run(&h, &["plugins", "install", "hello", "--yes"]);
    let line = refused(&h, &before, &out);
    let (acme, other) = (registry.oci("acme/hello"), registry.oci("other/hello"));
    assert!(
        line.starts_with(&format!(
            "mycli: error: cannot install hello: plugin 'hello' is in more than one catalog: catalog acme ({acme}), catalog other ({other}); fix: "
        )),
        "{line}"
    );
    h.fix_command(&line)
        .arg("--yes")
        .env("DOCKER_CONFIG", h.scratch("no-docker-config"))
        .assert()
        .success();
    assert_runs(&h, "hello", "0.1.0");
    let origin = h.row("hello")["origin"].as_str().unwrap().to_string();
    assert!(
        origin.starts_with(&format!("{acme}:0.1.0@"))
            || origin.starts_with(&format!("{other}:0.1.0@")),
        "{origin}"
    );
}

/// A catalog signed by another key than the one given is not added.
#[test]
fn a_catalog_not_signed_by_the_key_given_is_not_added() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let catalog = registry.oci("acme/catalog");
    let table = plugin_table(
        "hello",
        "Greets",
        &registry.oci("acme/hello"),
        &[&keys.minisign_key()],
        "",
    );
    build(
        &work,
        &keys,
        &format!("{table}versions = [\"0.1.0\"]\n"),
        &catalog,
        &[],
    );
    let h = Home::new();
    let before = State::of(&h);
    let out = run(
        &h,
        &[
            "plugins",
            "catalog",
            "add",
            "acme",
            &catalog,
            "--key",
            &keys.path("s.pub"),
        ],
    );
    let line = refused(&h, &before, &out);
    let fingerprint = keys.ssh_fingerprint();
    assert!(
        line.starts_with(&format!(
            "mycli: error: cannot add catalog 'acme': it is not signed by the catalog's key {fingerprint}: "
        )),
        "{line}"
    );
    let rows: Vec<Value> =
        serde_json::from_str(&ok(&h, &["plugins", "catalog", "list", "--json"])).unwrap();
    assert!(rows.is_empty(), "{rows:?}");
}

/// A catalog past its expiry: not added; the copy of one added before
/// makes search warn and install NAME refuse, with the update as fix,
/// which works once the maintainers build it again.
#[test]
fn an_expired_catalog_is_not_added_and_a_stale_copy_installs_nothing() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let sign = keys.path("m.key");
    publish(
        &work,
        &registry,
        "acme/hello",
        "hello",
        "0.1.0",
        "^1.0",
        Some(&sign),
    );
    let table = plugin_table(
        "hello",
        "Greets",
        &registry.oci("acme/hello"),
        &[&keys.minisign_key()],
        "",
    );
    let catalog = registry.oci("acme/catalog");
    // Valid for 5 s (to the second): time enough to add it under load.
    build(&work, &keys, &table, &catalog, &["--expires", "5s"]);
    let built = Instant::now();
    let early = Home::new();
    ok(
        &early,
        &[
            "plugins",
            "catalog",
            "add",
            "acme",
            &catalog,
            "--key",
            &keys.path("m.pub"),
        ],
    );
    std::thread::sleep(
        (built + Duration::from_millis(5_200)).saturating_duration_since(Instant::now()),
    );

    let late = Home::new();
    let before = State::of(&late);
    let out = run(
        &late,
        &[
            "plugins",
            "catalog",
            "add",
            "acme",
            &catalog,
            "--key",
            &keys.path("m.pub"),
        ],
    );
    let line = refused(&late, &before, &out);
    assert!(
        line.starts_with("mycli: error: cannot add catalog 'acme': it expired on "),
        "{line}"
    );

    let out = run(&early, &["plugins", "search", "hello"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warning = stderr(&out);
    let warning = warning.lines().next().unwrap();
    assert!(
        warning.starts_with("mycli: warning: catalog 'acme' is stale (it expired on ")
            && warning.ends_with("): update it with `mycli plugins catalog update acme`"),
        "{warning}"
    );
    let before = State::of(&early);
    let out = run(&early, &["plugins", "install", "hello", "--yes"]);
    let line = refused(&early, &before, &out);
    assert!(
        line.starts_with(
            "mycli: error: cannot install hello: catalog 'acme' is stale: it expired on "
        ) && line.ends_with("; fix: `mycli plugins catalog update acme`"),
        "{line}"
    );

    // Built again by its maintainers, the fix as written fetches it.
    build(&work, &keys, &table, &catalog, &[]);
    early.fix_command(&line).assert().success();
    ok(&early, &["plugins", "install", "hello", "--yes"]);
    assert_runs(&early, "hello", "0.1.0");
}

/// The registry serves, under the catalog's tag, the catalog it served
/// before: update refuses the rollback and keeps the copy held.
#[test]
fn a_rollback_to_an_older_catalog_is_refused_and_the_copy_kept() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let key = keys.minisign_key();
    let source = registry.oci("acme/hello");
    let catalog = registry.oci("acme/catalog");
    let draft = |description: &str| {
        format!(
            "{}versions = [\"0.1.0\"]\n",
            plugin_table("hello", description, &source, &[&key], "")
        )
    };
    build(&work, &keys, &draft("The first description"), &catalog, &[]);
    let old = registry.manifest("acme/catalog", "latest").unwrap();
    let old_digest = format!("sha256:{:x}", Sha256::digest(&old));
    // Catalogs are dated to the second: the next one is a second newer.
    std::thread::sleep(Duration::from_millis(1_100));
    build(
        &work,
        &keys,
        &draft("The second description"),
        &catalog,
        &[],
    );
    let h = Home::new();
    ok(
        &h,
        &["plugins", "catalog", "add", "acme", &catalog, "--key", &key],
    );

    // The old catalog, by its digest, put back under the tag.
    let replayed = registry.manifest("acme/catalog", &old_digest).unwrap();
    registry.push_manifest("acme/catalog", "latest", MANIFEST_TYPE, &replayed);
    let before = State::of(&h);
    let out = run(&h, &["plugins", "catalog", "update", "acme"]);
    let line = refused(&h, &before, &out);
    assert!(
        line.starts_with("mycli: error: cannot update catalog 'acme': it was issued on ")
            && line.contains(", before the copy already held (issued on "),
        "{line}"
    );
    // Every catalog updated: the same refusal, the copy still kept.
    let out = run(&h, &["plugins", "catalog", "update"]);
    assert_eq!(refused(&h, &before, &out), line);
    assert_eq!(
        search_json(&h, "hello")[0]["description"],
        "The second description"
    );
}

/// A catalog of 100,000 plugins (9 MB), signed with minisign and pushed
/// with the registry's HTTP API: add refuses it by the size its manifest
/// states, before downloading it.
#[test]
fn a_catalog_of_100000_plugins_is_refused_by_its_size_before_it_is_downloaded() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let mut document = String::from(
        r#"{"catalog":1,"issued":"2026-01-01T00:00:00Z","expires":"2099-01-01T00:00:00Z","plugins":["#,
    );
    for i in 0..100_000 {
        if i > 0 {
            document.push(',');
        }
        document.push_str(&format!(
            r#"{{"name":"p{i}","source":"oci://r/p{i}","keys":["k"],"versions":[{{"version":"1.0.0"}}]}}"#
        ));
    }
    document.push_str("]}");
    let file = work.scratch("big.json");
    fs::write(&file, &document).unwrap();
    let signature = keys.minisign_over(&file);

    let repo = "acme/big";
    let empty = registry.push_blob(repo, b"{}");
    let document_digest = registry.push_blob(repo, document.as_bytes());
    let signature_digest = registry.push_blob(repo, &signature);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": "application/vnd.snapin.catalog.v1",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2},
        "layers": [
            {
                "mediaType": "application/vnd.snapin.catalog.v1+json",
                "digest": document_digest,
                "size": document.len(),
            },
            {
                "mediaType": "application/vnd.snapin.signature.minisign.v1",
                "digest": signature_digest,
                "size": signature.len(),
                "annotations": {"dev.snapin.signer": keys.minisign_key()},
            },
        ],
    });
    registry.push_manifest(
        repo,
        "latest",
        MANIFEST_TYPE,
        manifest.to_string().as_bytes(),
    );

    let h = Home::new();
    let before = State::of(&h);
    let out = run(
        &h,
        &[
            "plugins",
            "catalog",
            "add",
            "big",
            &registry.oci(repo),
            "--key",
            &keys.path("m.pub"),
        ],
    );
    let line = refused(&h, &before, &out);
    assert!(
        line.starts_with(&format!(
            "mycli: error: cannot add catalog 'big': it is {} bytes, more than the 4194304 bytes a catalog may be; fix: ",
            document.len()
        )),
        "{line}"
    );
    let hex = document_digest.strip_prefix("sha256:").unwrap();
    assert!(
        !h.home().join("cache/oci/blobs/sha256").join(hex).exists(),
        "the catalog was downloaded"
    );
}

// ------------------------------------------------------------ look-alike

/// A catalog listing `greet` and `gret`: installing one warns naming the
/// other, and installs it.
#[test]
fn installing_a_catalog_plugin_named_like_another_warns_naming_it() {
    let Some(registry) = Registry::start(Auth::Anonymous) else {
        return;
    };
    let work = Home::new();
    let Some(keys) = Keys::make(&work) else {
        return;
    };
    let sign = keys.path("m.key");
    let key = keys.minisign_key();
    let mut draft = String::new();
    for name in ["greet", "gret"] {
        let repo = format!("acme/{name}");
        publish(&work, &registry, &repo, name, "0.1.0", "^1.0", Some(&sign));
        draft.push_str(&plugin_table(
            name,
            "Greets",
            &registry.oci(&repo),
            &[&key],
            "",
        ));
    }
    let catalog = registry.oci("acme/catalog");
    build(&work, &keys, &draft, &catalog, &[]);
    let h = Home::new();
    ok(
        &h,
        &["plugins", "catalog", "add", "acme", &catalog, "--key", &key],
    );
    let out = run(&h, &["plugins", "install", "gret", "--yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let warning = "mycli: warning: 'gret' looks like 'greet' (catalog acme): check that 'gret' is the plugin you meant";
    assert!(
        stderr(&out).lines().any(|l| l == warning),
        "{}",
        stderr(&out)
    );
    assert_runs(&h, "gret", "0.1.0");
}

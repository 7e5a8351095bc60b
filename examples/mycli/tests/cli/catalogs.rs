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

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::publisher_keys::Keys;
use crate::registry_home::{
    assert_runs, fix_command, mycli, ok, publish, publish_for_api, refused, registry_and_keys, run,
};
use crate::support::{Home, one_line, run_quoted_fix, sha256, stderr, stdout, wasm_example};

const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

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

/// The arguments of `mycli plugins catalog add NAME REFERENCE --key KEY`.
fn catalog_add<'a>(name: &'a str, reference: &'a str, key: &'a str) -> [&'a str; 7] {
    ["plugins", "catalog", "add", name, reference, "--key", key]
}

/// The rows of `mycli plugins catalog list --json` in `h`.
fn catalog_list_json(h: &Home) -> Vec<Value> {
    serde_json::from_str(&ok(h, &["plugins", "catalog", "list", "--json"])).unwrap()
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

// ------------------------------------------------------------ round trip

/// Two signed plugins published, a catalog built from a draft without
/// versions (read from the registry), added and listed; search finds by
/// name and by description with the newest version this host can run,
/// also as JSON and with the registry stopped, saying how old the copy
/// is; install NAME takes that version, install NAME@REQ an older one,
/// and each is signed by the key the catalog lists.
#[test]
fn a_catalog_is_built_added_searched_offline_and_installed_from_by_name() {
    let work = Home::new();
    let Some((mut registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    let m = keys.path("m.key");
    // hello 0.3.0 is newer, but for an API this host does not provide.
    for (repo, name, version, api) in [
        ("acme/hello", "hello", "0.1.0", "^1.0"),
        ("acme/hello", "hello", "0.2.0", "^1.0"),
        ("acme/hello", "hello", "0.3.0", "^9.0"),
        ("acme/stats", "stats", "1.4.0", "^1.0"),
    ] {
        publish_for_api(&work, &registry, repo, name, version, api, Some(&m));
    }
    let key = keys.minisign_key("m");
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
    let id = keys.minisign_id("m");
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
    let added = ok(&h, &catalog_add("acme", &catalog, &keys.path("m.pub")));
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
    let rows = catalog_list_json(&h);
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
    ok(&older, &catalog_add("acme", &catalog, &key));
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
    let rows = catalog_list_json(&h);
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    let m = keys.path("m.key");
    for version in ["0.1.0", "0.2.0"] {
        publish(&work, &registry, "acme/hello", "hello", version, Some(&m));
    }
    let key = keys.minisign_key("m");
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
    ok(&h, &catalog_add("acme", &catalog, &key));
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

    fix_command(&h, &line).arg("--yes").assert().success();
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    publish(&work, &registry, "acme/plain", "plain", "0.1.0", None);
    let m = keys.path("m.key");
    publish(&work, &registry, "acme/hello", "hello", "0.1.0", Some(&m));
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
    let file = h.installed_file("hello");
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
    fix_command(&h, &grant[2]).assert().success();
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    // Signed with the SSH key; the catalog lists only the minisign key.
    let s = keys.path("s");
    publish(&work, &registry, "acme/stats", "stats", "0.1.0", Some(&s));
    let source = registry.oci("acme/stats");
    let catalog = registry.oci("acme/catalog");
    build(
        &work,
        &keys,
        &plugin_table("stats", "Counts", &source, &[&keys.minisign_key("m")], ""),
        &catalog,
        &[],
    );
    let h = Home::new();
    ok(&h, &catalog_add("acme", &catalog, &keys.path("m.pub")));
    let fingerprint = keys.ssh_fingerprint();
    let line = refused(&h, &["plugins", "install", "stats", "--yes"], &[]);
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    let m = keys.path("m.key");
    let key = keys.minisign_key("m");
    let h = Home::new();
    for owner in ["acme", "other"] {
        let repo = format!("{owner}/hello");
        publish(&work, &registry, &repo, "hello", "0.1.0", Some(&m));
        let catalog = registry.oci(&format!("{owner}/catalog"));
        let table = plugin_table("hello", "Greets", &registry.oci(&repo), &[&key], "");
        build(&work, &keys, &table, &catalog, &[]);
        ok(&h, &catalog_add(owner, &catalog, &key));
    }
    let line = refused(&h, &["plugins", "install", "hello", "--yes"], &[]);
    let (acme, other) = (registry.oci("acme/hello"), registry.oci("other/hello"));
    assert!(
        line.starts_with(&format!(
            "mycli: error: cannot install hello: plugin 'hello' is in more than one catalog: catalog acme ({acme}), catalog other ({other}); fix: "
        )),
        "{line}"
    );
    fix_command(&h, &line).arg("--yes").assert().success();
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    let (source, key) = (registry.oci("acme/hello"), keys.minisign_key("m"));
    let table = plugin_table("hello", "Greets", &source, &[&key], "");
    let draft = format!("{table}versions = [\"0.1.0\"]\n");
    let catalog = registry.oci("acme/catalog");
    build(&work, &keys, &draft, &catalog, &[]);
    let h = Home::new();
    let line = refused(&h, &catalog_add("acme", &catalog, &keys.path("s.pub")), &[]);
    let fingerprint = keys.ssh_fingerprint();
    assert!(
        line.starts_with(&format!(
            "mycli: error: cannot add catalog 'acme': it is not signed by the catalog's key {fingerprint}: "
        )),
        "{line}"
    );
    let rows = catalog_list_json(&h);
    assert!(rows.is_empty(), "{rows:?}");
}

/// A catalog past its expiry: not added; the copy of one added before
/// makes search warn and install NAME refuse, with the update as fix,
/// which works once the maintainers build it again.
#[test]
fn an_expired_catalog_is_not_added_and_a_stale_copy_installs_nothing() {
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    let m = keys.path("m.key");
    publish(&work, &registry, "acme/hello", "hello", "0.1.0", Some(&m));
    let (source, key) = (registry.oci("acme/hello"), keys.minisign_key("m"));
    let table = plugin_table("hello", "Greets", &source, &[&key], "");
    let catalog = registry.oci("acme/catalog");
    // Valid for 5 s (to the second): time enough to add it under load.
    build(&work, &keys, &table, &catalog, &["--expires", "5s"]);
    let built = Instant::now();
    let early = Home::new();
    ok(&early, &catalog_add("acme", &catalog, &keys.path("m.pub")));
    std::thread::sleep(
        (built + Duration::from_millis(5_200)).saturating_duration_since(Instant::now()),
    );

    let late = Home::new();
    let line = refused(
        &late,
        &catalog_add("acme", &catalog, &keys.path("m.pub")),
        &[],
    );
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
    let line = refused(&early, &["plugins", "install", "hello", "--yes"], &[]);
    assert!(
        line.starts_with(
            "mycli: error: cannot install hello: catalog 'acme' is stale: it expired on "
        ) && line.ends_with("; fix: `mycli plugins catalog update acme`"),
        "{line}"
    );

    // Built again by its maintainers, the fix as written fetches it.
    build(&work, &keys, &table, &catalog, &[]);
    fix_command(&early, &line).assert().success();
    ok(&early, &["plugins", "install", "hello", "--yes"]);
    assert_runs(&early, "hello", "0.1.0");
}

/// The registry serves, under the catalog's tag, the catalog it served
/// before: update refuses the rollback and keeps the copy held.
#[test]
fn a_rollback_to_an_older_catalog_is_refused_and_the_copy_kept() {
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    let key = keys.minisign_key("m");
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
    let old_digest = sha256(&old);
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
    ok(&h, &catalog_add("acme", &catalog, &key));

    // The old catalog, by its digest, put back under the tag.
    let replayed = registry.manifest("acme/catalog", &old_digest).unwrap();
    registry.push_manifest("acme/catalog", "latest", MANIFEST_TYPE, &replayed);
    let line = refused(&h, &["plugins", "catalog", "update", "acme"], &[]);
    assert!(
        line.starts_with("mycli: error: cannot update catalog 'acme': it was issued on ")
            && line.contains(", before the copy already held (issued on "),
        "{line}"
    );
    // Every catalog updated: the same refusal, the copy still kept.
    let line_for_all = refused(&h, &["plugins", "catalog", "update"], &[]);
    assert_eq!(line_for_all, line);
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
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
    let signature = keys.minisign_over("m", document.as_bytes());

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
                "annotations": {"dev.snapin.signer": keys.minisign_key("m")},
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
    let line = refused(
        &h,
        &catalog_add("big", &registry.oci(repo), &keys.path("m.pub")),
        &[],
    );
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
    let work = Home::new();
    let Some((registry, keys)) = registry_and_keys(&work) else {
        return;
    };
    let m = keys.path("m.key");
    let key = keys.minisign_key("m");
    let mut draft = String::new();
    for name in ["greet", "gret"] {
        let repo = format!("acme/{name}");
        publish(&work, &registry, &repo, name, "0.1.0", Some(&m));
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
    ok(&h, &catalog_add("acme", &catalog, &key));
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

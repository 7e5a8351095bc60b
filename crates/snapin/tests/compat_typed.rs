//! The plugin API 1.2 and 1.3 fixtures of tests/compat against a host
//! that provides API 1.2 (mycli itself provides 1.3; see
//! examples/mycli/tests/cli/compat_typed.rs): the version gate skips a
//! plugin that asks for `^1.3` naming both versions, and a plugin that
//! asks for less loads.
//!
//! This library knows the 1.3 fields whatever API its host declares, so
//! a real 1.2 host's ignoring of `type` and `range` cannot be shown with
//! it. What a 1.2 host does with them is what any host does with fields
//! of a later minor version, so that is shown here with a field and a type
//! word that this library does not know: the plugin loads, the fields are
//! pointed out, and the host leaves the values to the plugin.

// Unix only: the fixture plugins are POSIX shell scripts.
#![cfg(unix)]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use snapin::{App, CheckReport, Host, Version};

/// A host `mycli` at API 1.2.0 with its home under `home`, loaded for
/// the command line `args` (after `mycli`).
fn host_at_1_2<T: Into<OsString>>(home: &Path, args: impl IntoIterator<Item = T>) -> App {
    let args: Vec<OsString> = std::iter::once("mycli".into())
        .chain(args.into_iter().map(Into::into))
        .collect();
    Host::builder("mycli")
        .version("0.1.0")
        .api(Version::new(1, 2, 0))
        .home(home.join("home"))
        .build()
        .load_from(clap::Command::new("mycli"), args)
}

/// Installs `plugin` into the home under `home`, as `mycli plugins
/// install PATH --yes` does.
fn install(home: &Path, plugin: &Path) {
    let args: Vec<OsString> = vec![
        "plugins".into(),
        "install".into(),
        plugin.into(),
        "--yes".into(),
    ];
    let mut app = host_at_1_2(home, args.clone());
    let matches = app.get_matches_from(std::iter::once(OsString::from("mycli")).chain(args));
    assert_eq!(app.dispatch(&matches), Some(ExitCode::SUCCESS));
}

/// Whether the host at API 1.2 under `home` accepts `mycli ARGS`.
fn parse(home: &Path, args: &[&str]) -> Result<clap::ArgMatches, clap::Error> {
    let app = host_at_1_2(home, args.iter().copied());
    app.command()
        .clone()
        .try_get_matches_from(std::iter::once("mycli").chain(args.iter().copied()))
}

/// The fixture plugin of API `api`, copied under `dir` with `edit`
/// applied to its text.
fn fixture(dir: &Path, api: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../tests/compat/api-{api}/mycli-todo"));
    let text = std::fs::read_to_string(&from).expect("read the fixture");
    let to = dir.join(format!("api-{api}"));
    std::fs::create_dir_all(&to).expect("fixture dir");
    let to = to.join("mycli-todo");
    std::fs::write(&to, edit(text)).expect("write the fixture");
    std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    to
}

/// The line of `report` for step `name`.
fn line<'a>(report: &'a CheckReport, name: &str) -> &'a snapin::CheckLine {
    report
        .checks
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no {name} line: {report:?}"))
}

#[test]
fn a_plugin_for_api_1_3_is_skipped_by_a_1_2_host_naming_both_versions() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let app = host_at_1_2(tmp.path(), [""; 0]);
    let report = app.check(&fixture(tmp.path(), "1.3", |t| t));
    assert!(!report.passed);
    let gate = line(&report, "gate");
    assert!(!gate.passed);
    assert_eq!(
        gate.detail,
        "it requires mycli API ^1.3, but this mycli provides API 1.2.0"
    );
    // Every other step passes: only the version is in the way.
    for l in report.checks.iter().filter(|l| l.name != "gate") {
        assert!(l.passed, "{l:?}");
    }
}

#[test]
fn the_api_1_2_fixture_passes_on_a_1_2_host() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let app = host_at_1_2(tmp.path(), [""; 0]);
    let report = app.check(&fixture(tmp.path(), "1.2", |t| t));
    assert!(report.passed, "{report:?}");
}

#[test]
fn a_typed_plugin_that_asks_for_api_1_0_loads_on_a_1_2_host() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let plugin = fixture(tmp.path(), "1.3", |t| {
        t.replace(r#""api":"^1.3""#, r#""api":"^1.0""#)
    });
    let report = host_at_1_2(tmp.path(), [""; 0]).check(&plugin);
    assert!(report.passed, "{report:?}");
    install(tmp.path(), &plugin);
    assert!(parse(tmp.path(), &["done", "7"]).is_ok());
    // This library knows `type`, so even at API 1.2 it checks the value.
    let e = parse(tmp.path(), &["done", "abc"]).unwrap_err();
    assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
}

/// What an older host does with the fields of a later minor version, shown
/// with a field (`pattern`) and a type word (`task-id`) this library does
/// not know: the plugin loads, both are pointed out, and the value is left
/// for the plugin to check.
#[test]
fn fields_of_a_later_minor_version_are_pointed_out_and_left_to_the_plugin() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let plugin = fixture(tmp.path(), "1.3", |t| {
        t.replace(r#""api":"^1.3""#, r#""api":"^1.0""#).replace(
            r#""type":"int","range":{"min":0,"max":4294967295}"#,
            r#""type":"task-id","pattern":"^[0-9]+$""#,
        )
    });
    let report = host_at_1_2(tmp.path(), [""; 0]).check(&plugin);
    assert!(report.passed, "{report:?}");
    let fields = line(&report, "fields");
    assert_eq!(
        fields.detail,
        "mycli does not know these fields and ignores them: `commands[0].args[0].pattern`, \
         `commands[0].args[0].type` `task-id` (read as `string`)"
    );
    install(tmp.path(), &plugin);
    assert!(
        parse(tmp.path(), &["done", "abc"]).is_ok(),
        "the host leaves a type it does not know to the plugin"
    );
}

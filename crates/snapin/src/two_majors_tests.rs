//! A host in transition between two majors of its plugin API: it provides
//! 2.0.0 and 1.3.0, and links the WIT package's hypothetical 2.0.0 beside
//! 1.0.0 (`runtime::wasm::next_major`, tests only). Plugins of both majors
//! load side by side, and each runs under the newest version it accepts:
//! executables see it in `SNAPIN_API` and the context, components built
//! for 2.0.0 through the one import that major adds.
// Unix only: its executable plugins are POSIX shell scripts.
#![cfg(all(feature = "wasm", unix))]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use semver::Version;

use crate::app::App;
use crate::host::Host;

/// The committed components: `wstats` as built for API 1.0 (a compat
/// fixture), and `wfuture`, built for the hypothetical WIT 2.0.0.
fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests")
        .join(path)
}

/// An executable plugin in POSIX sh requiring `api`, that writes the API it
/// was told at run time, from the environment and from the context, to
/// `out`.
fn sh_plugin(dir: &Path, name: &str, api: &str, out: &Path) -> PathBuf {
    let path = dir.join(format!("mycli-{name}"));
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = --snapin-describe ]; then
  printf '%s' '{{"manifest":1,"host":"mycli","name":"{name}","version":"1.0.0","api":"{api}","commands":[{{"name":"{name}"}}]}}'
  exit 0
fi
printf '%s\n%s\n' "$SNAPIN_API" "$SNAPIN_CONTEXT" > '{out}'
"#,
        out = out.display()
    );
    std::fs::write(&path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

fn host(home: &Path) -> App {
    Host::builder("mycli")
        .version("9.0.0")
        .api(Version::new(2, 0, 0))
        .older_api(Version::new(1, 3, 0))
        .home(home)
        .build()
        .load(clap::Command::new("mycli"))
}

fn run(home: &Path, args: &[&str]) -> Option<ExitCode> {
    let mut app = host(home);
    let matches = app.get_matches_from(std::iter::once("mycli").chain(args.iter().copied()));
    app.dispatch(&matches)
}

#[test]
fn plugins_of_both_majors_load_and_each_runs_under_the_newest_it_accepts() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let (old_out, new_out) = (work.path().join("old.txt"), work.path().join("new.txt"));
    let old = sh_plugin(work.path(), "old", "^1.0", &old_out);
    let new = sh_plugin(work.path(), "new", "^2.0", &new_out);
    let too_new = sh_plugin(work.path(), "later", "^3.0", &work.path().join("x"));
    let wstats = fixture("compat/api-1.0/mycli_wstats.wasm");
    let wfuture = fixture("two-majors/mycli_wfuture.wasm");
    for plugin in [&old, &new, &wstats, &wfuture] {
        let path = plugin.to_str().unwrap();
        assert_eq!(
            run(home.path(), &["plugins", "install", path, "--yes"]),
            Some(ExitCode::SUCCESS),
            "install {path}"
        );
    }
    // A plugin for neither major is refused at install, naming both.
    let later = too_new.to_str().unwrap();
    assert_ne!(
        run(home.path(), &["plugins", "install", later, "--yes"]),
        Some(ExitCode::SUCCESS)
    );

    // Executables: told the version picked for them, in SNAPIN_API and in
    // the context.
    assert_eq!(run(home.path(), &["old"]), Some(ExitCode::SUCCESS));
    assert_eq!(run(home.path(), &["new"]), Some(ExitCode::SUCCESS));
    let told = |out: &Path| {
        let text = std::fs::read_to_string(out).unwrap();
        let (env, context) = text.split_once('\n').unwrap();
        let context: serde_json::Value = serde_json::from_str(context).unwrap();
        (
            env.to_string(),
            context["host"]["api"].as_str().unwrap().to_string(),
        )
    };
    assert_eq!(told(&old_out), ("1.3.0".into(), "1.3.0".into()));
    assert_eq!(told(&new_out), ("2.0.0".into(), "2.0.0".into()));

    // Components: the API 1.0 build runs through WIT 1.0.0, the other
    // through 2.0.0, whose new import reports the version picked for it (it
    // exits 1 when that is not the one it expects).
    assert_eq!(run(home.path(), &["wstats", "4"]), Some(ExitCode::SUCCESS));
    assert_eq!(
        run(home.path(), &["wfuture", "2.0.0"]),
        Some(ExitCode::SUCCESS)
    );
    assert_eq!(
        run(home.path(), &["wfuture", "1.3.0"]),
        Some(ExitCode::from(1))
    );
}

/// `plugins check` says which version a plugin would run under, and a host
/// that provides only 1.x refuses a plugin requiring 2.0, naming both.
#[test]
fn a_host_of_one_major_skips_a_plugin_of_the_other() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let new = sh_plugin(work.path(), "new", "^2.0", &work.path().join("out"));
    let old = sh_plugin(work.path(), "old", "^1.0", &work.path().join("out"));
    let gate = |app: &App, plugin: &Path| {
        let report = app.check(plugin);
        let line = report.checks.iter().find(|l| l.name == "gate").unwrap();
        (line.passed, line.detail.clone())
    };
    let both = host(home.path());
    assert_eq!(
        gate(&both, &old),
        (
            true,
            "it requires mycli API ^1.0; mycli provides 2.0.0 and 1.3.0, and runs it under 1.3.0"
                .to_string()
        )
    );
    let mut app = Host::builder("mycli")
        .api(Version::new(1, 3, 0))
        .home(home.path())
        .build()
        .load(clap::Command::new("mycli"));
    assert_eq!(
        gate(&app, &new),
        (
            false,
            "it requires mycli API ^2.0, but this mycli provides API 1.3.0".to_string()
        )
    );
    let matches = app.get_matches_from(["mycli", "plugins", "list"]);
    assert_eq!(app.dispatch(&matches), Some(ExitCode::SUCCESS));
}

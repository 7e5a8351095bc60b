//! `cargo xtask release VERSION`: gets the library crates ready for
//! crates.io at VERSION; publishing stays a person's job.
//!
//! The four crates share one version (a host writes `MAJOR.MINOR` of its
//! own into the plugins `plugins new` scaffolds, for both SDKs). The task
//! refuses a version that is not semver or not greater than the current
//! one, and a CHANGELOG.md without a `## [VERSION] - YYYY-MM-DD` entry
//! (keep-a-changelog); then it writes VERSION into the four crates'
//! `Cargo.toml` and the `[workspace.dependencies]` lines of the root one,
//! runs the public API check (a breaking VERSION allows removed items)
//! and records VERSION in the listings' header lines, runs
//! `cargo xtask package-check`, and prints the `cargo publish` commands
//! in dependency order.

use std::path::Path;

use semver::Version;

use crate::package::{PUBLISH_ORDER, crate_version};
use crate::public_api::{header, listing_file, recorded_version};
use crate::root;

/// `cargo xtask release VERSION`.
pub fn run(args: &[String]) -> Result<(), String> {
    let [wanted] = args else {
        return Err(
            "usage: cargo xtask release VERSION (e.g. 0.2.0: the new version of the four library crates)"
                .to_string(),
        );
    };
    let root = root();
    let current = current_version(&root)?;
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).map_err(|e| {
        format!("release: cannot read CHANGELOG.md: {e} (fix: restore it from git)")
    })?;
    let version = plan(wanted, &current, &changelog)?;
    let new = version.to_string();

    for package in PUBLISH_ORDER {
        let path = root.join("crates").join(package).join("Cargo.toml");
        edit(&path, |text| set_package_version(text, &new))?;
    }
    edit(&root.join("Cargo.toml"), |text| {
        set_workspace_dependencies(text, &new)
    })?;
    println!("release: set version {new} in the four library crates (was {current})");

    let checks = || -> Result<(), String> {
        crate::public_api::run(&["--check".to_string()])?;
        for package in PUBLISH_ORDER {
            edit(&listing_file(&root, package), |text| {
                set_listing_version(package, text, &new)
            })?;
        }
        crate::package::check(true)
    };
    checks().map_err(|e| {
        format!("{e}\nxtask: release: the files already say {new}: after the fix, run the release again from `git checkout -- .`")
    })?;

    println!(
        "release: {new} is ready; review and commit the change (git commit -am \"Release {new}\"; git tag v{new}), then publish in this order:"
    );
    for package in PUBLISH_ORDER {
        println!("  cargo publish -p {package}");
    }
    Ok(())
}

/// The version the four crates share now.
fn current_version(root: &Path) -> Result<Version, String> {
    let mut versions = Vec::new();
    for package in PUBLISH_ORDER {
        versions.push((package, crate_version(root, package)?));
    }
    let (_, first) = &versions[0];
    if let Some((other, v)) = versions.iter().find(|(_, v)| v != first) {
        return Err(format!(
            "release: crates/{other} is at {v} but crates/{} at {first}: the library crates share one version (fix: set the same version in all four Cargo.toml files)",
            PUBLISH_ORDER[0]
        ));
    }
    Version::parse(first).map_err(|e| {
        format!("release: the current version {first} is not semver ({e}) (fix: correct it in the four crates' Cargo.toml)")
    })
}

/// VERSION, once it is a semver version greater than `current` with an
/// entry in `changelog`.
fn plan(wanted: &str, current: &Version, changelog: &str) -> Result<Version, String> {
    let version = Version::parse(wanted.strip_prefix('v').unwrap_or(wanted)).map_err(|e| {
        format!(
            "release: `{wanted}` is not a version ({e}) (fix: give MAJOR.MINOR.PATCH, e.g. {})",
            next_minor(current)
        )
    })?;
    if version <= *current {
        return Err(format!(
            "release: {version} is not greater than the current version {current} (fix: give a later version, e.g. {})",
            next_minor(current)
        ));
    }
    if !has_entry(changelog, &version) {
        return Err(format!(
            "release: CHANGELOG.md has no `## [{version}] - YYYY-MM-DD` entry (fix: rename `## [Unreleased]` to `## [{version}] - ` and today's date, and start a new empty `## [Unreleased]` above it)"
        ));
    }
    Ok(version)
}

fn next_minor(v: &Version) -> Version {
    Version::new(v.major, v.minor + 1, 0)
}

/// Whether `changelog` has a `## [VERSION] - YYYY-MM-DD` heading.
fn has_entry(changelog: &str, version: &Version) -> bool {
    let heading = format!("## [{version}] - ");
    changelog
        .lines()
        .any(|line| line.trim_end().strip_prefix(&heading).is_some_and(is_date))
}

/// `YYYY-MM-DD`, with a month and a day in range.
fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return false;
    };
    let number = |p: &str, len: usize| {
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    matches!(
        (number(y, 4), number(m, 2), number(d, 2)),
        (Some(_), Some(1..=12), Some(1..=31))
    )
}

/// Rewrites `path` with `change`.
fn edit(path: &Path, change: impl FnOnce(&str) -> Result<String, String>) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "release: cannot read {}: {e} (fix: restore it from git)",
            path.display()
        )
    })?;
    let new = change(&text).map_err(|e| format!("release: {}: {e}", path.display()))?;
    std::fs::write(path, new).map_err(|e| format!("release: cannot write {}: {e} (fix: make it writable, then `git checkout -- .` and release again)", path.display()))
}

/// `manifest` with the `version` of its `[package]` table set to `new`,
/// the rest kept as written.
fn set_package_version(manifest: &str, new: &str) -> Result<String, String> {
    let mut doc = parse(manifest)?;
    match doc.get_mut("package").and_then(|p| p.get_mut("version")) {
        Some(version) if version.is_str() => *version = toml_edit::value(new),
        _ => {
            return Err(
                "no `version = \"...\"` line in [package] (fix: give the crate its own version line)"
                    .to_string(),
            );
        }
    }
    Ok(doc.to_string())
}

/// The root manifest with `version = "..."` of each library crate's line
/// in `[workspace.dependencies]` set to `new`, the rest kept as written.
fn set_workspace_dependencies(manifest: &str, new: &str) -> Result<String, String> {
    let mut doc = parse(manifest)?;
    let mut missing = Vec::new();
    // snapin-guest is no dependency of another crate of the workspace.
    for package in PUBLISH_ORDER.iter().filter(|p| **p != "snapin-guest") {
        let version = doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("dependencies"))
            .and_then(|d| d.get_mut(package))
            .filter(|d| d.get("path").is_some())
            .and_then(|d| d.get_mut("version"));
        match version {
            Some(version) => *version = toml_edit::value(new),
            None => missing.push(*package),
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "no `NAME = {{ path = \"crates/NAME\", version = \"...\" }}` line for {} in [workspace.dependencies] (fix: add it, with the crates' version)",
            missing.join(", ")
        ));
    }
    Ok(doc.to_string())
}

fn parse(manifest: &str) -> Result<toml_edit::DocumentMut, String> {
    manifest
        .parse()
        .map_err(|e| format!("not TOML ({e}) (fix: restore it with `git checkout -- .`)"))
}

/// A public API listing with `new` as the release its header records.
fn set_listing_version(package: &str, listing: &str, new: &str) -> Result<String, String> {
    if recorded_version(package, listing).is_none() {
        return Err(
            "no header line (fix: run `cargo xtask public-api` to write it, then release again)"
                .to_string(),
        );
    }
    let body = listing.split_once('\n').map_or("", |(_, b)| b);
    Ok(format!("{}\n{body}", header(package, new)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHANGELOG: &str =
        "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2027-01-15\n\n### Added\n\n- x\n";

    fn current() -> Version {
        Version::new(0, 1, 0)
    }

    #[test]
    fn a_greater_version_with_an_entry_is_accepted() {
        assert_eq!(
            plan("0.2.0", &current(), CHANGELOG),
            Ok(Version::new(0, 2, 0))
        );
        assert_eq!(
            plan("v0.2.0", &current(), CHANGELOG),
            Ok(Version::new(0, 2, 0))
        );
    }

    /// The version after "e.g. " in a refusal's fix.
    fn example(e: &str) -> &str {
        e.split("e.g. ")
            .nth(1)
            .and_then(|rest| rest.strip_suffix(')'))
            .unwrap()
    }

    #[test]
    fn a_bad_version_is_refused_with_an_example() {
        let e = plan("0.2", &current(), CHANGELOG).unwrap_err();
        assert!(e.starts_with("release: `0.2` is not a version"), "{e}");
        assert!(e.contains("fix: give MAJOR.MINOR.PATCH, e.g. 0.2.0"), "{e}");
        assert!(!e.contains('\n'), "{e}");
        // The example given is one the release takes.
        assert_eq!(
            plan(example(&e), &current(), CHANGELOG),
            Ok(Version::new(0, 2, 0))
        );
    }

    #[test]
    fn a_version_not_greater_is_refused() {
        for v in ["0.1.0", "0.0.9"] {
            let e = plan(v, &current(), CHANGELOG).unwrap_err();
            assert!(
                e.contains("is not greater than the current version 0.1.0"),
                "{e}"
            );
            assert!(plan(example(&e), &current(), CHANGELOG).is_ok(), "{e}");
        }
    }

    #[test]
    fn a_version_without_a_dated_changelog_entry_is_refused() {
        for changelog in [
            "## [Unreleased]\n",
            "## [0.2.0]\n",
            "## [0.2.0] - soon\n",
            "## [0.2.0] - 2027-13-01\n",
            "## [0.2.1] - 2027-01-15\n",
        ] {
            let e = plan("0.2.0", &current(), changelog).unwrap_err();
            assert!(
                e.starts_with("release: CHANGELOG.md has no `## [0.2.0] - YYYY-MM-DD` entry"),
                "{changelog:?}: {e}"
            );
        }
        // Doing what the fix says to a changelog with only its
        // `[Unreleased]` section makes the release go through.
        let e = plan("0.2.0", &current(), "## [Unreleased]\n\n- x\n").unwrap_err();
        assert!(
            e.contains("fix: rename `## [Unreleased]` to `## [0.2.0] - ` and today's date, and start a new empty `## [Unreleased]` above it"),
            "{e}"
        );
        let fixed = "## [Unreleased]\n\n## [0.2.0] - 2026-12-04\n\n- x\n";
        assert_eq!(plan("0.2.0", &current(), fixed), Ok(Version::new(0, 2, 0)));
    }

    #[test]
    fn the_package_version_alone_is_set() {
        let manifest = "[package]\nname = \"snapin\"\nversion = \"0.1.0\"\n\n[dependencies]\nfoo = { version = \"0.1.0\" }\n";
        assert_eq!(
            set_package_version(manifest, "0.2.0").unwrap(),
            "[package]\nname = \"snapin\"\nversion = \"0.2.0\"\n\n[dependencies]\nfoo = { version = \"0.1.0\" }\n"
        );
    }

    #[test]
    fn the_workspace_dependencies_are_set() {
        let manifest = "[workspace.dependencies]\nsnapin = { path = \"crates/snapin\", version = \"0.1.0\" }\nsnapin-protocol = { path = \"crates/snapin-protocol\", version = \"0.1.0\" }\nsnapin-sdk = { path = \"crates/snapin-sdk\", version = \"0.1.0\" }\nsemver = \"0.1.0\"\n";
        let set = set_workspace_dependencies(manifest, "0.2.0").unwrap();
        assert_eq!(set.matches("version = \"0.2.0\"").count(), 3, "{set}");
        assert!(set.contains("semver = \"0.1.0\""), "{set}");
        let e = set_workspace_dependencies("[workspace.dependencies]\n", "0.2.0").unwrap_err();
        assert!(e.contains("snapin-protocol, snapin-sdk, snapin"), "{e}");
    }

    /// On the real manifests, only the version strings change: the rest,
    /// comments and spacing included, is kept as written.
    #[test]
    fn the_real_manifests_change_only_in_their_versions() {
        let root = crate::root();
        let current = format!("\"{}\"", crate_version(&root, "snapin").unwrap());
        let same_but_version = |before: &str, after: &str, changed: usize| {
            let differing: Vec<(&str, &str)> = before
                .lines()
                .zip(after.lines())
                .filter(|(b, a)| b != a)
                .collect();
            assert_eq!(before.lines().count(), after.lines().count());
            assert_eq!(differing.len(), changed, "{differing:?}");
            for (b, a) in differing {
                assert_eq!(b.replace(&current, "\"9.9.9\""), a);
            }
        };
        let workspace = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let set = set_workspace_dependencies(&workspace, "9.9.9").unwrap();
        same_but_version(&workspace, &set, 3);
        let crate_manifest =
            std::fs::read_to_string(root.join("crates/snapin/Cargo.toml")).unwrap();
        let set = set_package_version(&crate_manifest, "9.9.9").unwrap();
        same_but_version(&crate_manifest, &set, 1);
    }

    #[test]
    fn the_listing_header_takes_the_release() {
        let listing = format!("{}\npub fn snapin::a()\n", header("snapin", "0.1.0"));
        assert_eq!(
            set_listing_version("snapin", &listing, "0.2.0").unwrap(),
            format!("{}\npub fn snapin::a()\n", header("snapin", "0.2.0"))
        );
        assert!(set_listing_version("snapin", "pub fn snapin::a()\n", "0.2.0").is_err());
    }

    #[test]
    fn dates_are_checked() {
        assert!(is_date("2027-01-15"));
        assert!(!is_date("2027-1-15"));
        assert!(!is_date("2027-00-15"));
        assert!(!is_date("15-01-2027"));
    }
}

//! `cargo xtask package-check`: the library crates as crates.io would get
//! them, and plugins scaffolded by `mycli plugins new` built against them,
//! outside the workspace.
//!
//! 1. The two copies of the WIT contract (`crates/snapin/wit` for the
//!    host, `crates/snapin-guest/wit` for the guest SDK: each crate is
//!    packaged with what it builds from) are byte-identical.
//! 2. `cargo package --no-verify` writes the four `.crate` files, which
//!    are unpacked into a temporary directory and checked there
//!    (`cargo check --all-features`) as one throw-away workspace whose
//!    `[patch.crates-io]` points each crate at the others' unpacked
//!    copies: none of them is on crates.io yet. `cargo package`'s own
//!    verification would build each crate again in a fresh workspace,
//!    without the workspace's profile settings and its compiled
//!    dependencies (wasmtime unoptimised, from scratch: minutes); this
//!    check reuses the shared target directory and the workspace's
//!    `Cargo.lock` and profiles, so it only compiles the four crates.
//! 3. The real `mycli` writes an executable and a WebAssembly plugin into
//!    a temporary directory; `[patch.crates-io]` points their SDK at the
//!    unpacked crates (what users get from crates.io, not `--sdk-path`);
//!    they are built, the executable's own tests run, and both are
//!    installed into a throw-away `MYCLI_HOME` and run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, root};

/// The library crates, in the order they are published: each after the
/// crates it depends on.
pub const PUBLISH_ORDER: &[&str] = &["snapin-protocol", "snapin-sdk", "snapin-guest", "snapin"];

/// The WIT contract, and the crate whose copy is the one edited.
const WIT_FILE: &str = "wit/snapin-plugin.wit";
const WIT_SOURCE: &str = "crates/snapin";
const WIT_COPY: &str = "crates/snapin-guest";

/// Fails unless the guest SDK's copy of the WIT contract is the host's.
pub fn wit_copies_match(root: &Path) -> Result<(), String> {
    let read = |dir: &str| {
        let path = root.join(dir).join(WIT_FILE);
        std::fs::read(&path).map_err(|e| {
            format!("cannot read {dir}/{WIT_FILE}: {e} (fix: restore it from git; each of {WIT_SOURCE} and {WIT_COPY} packages its own copy)")
        })
    };
    if read(WIT_SOURCE)? == read(WIT_COPY)? {
        Ok(())
    } else {
        Err(format!(
            "{WIT_COPY}/{WIT_FILE} differs from {WIT_SOURCE}/{WIT_FILE}: the guest SDK would build against another contract than the host runs (fix: cp {WIT_SOURCE}/{WIT_FILE} {WIT_COPY}/{WIT_FILE}, or the other way if the guest's copy has the change)"
        ))
    }
}

/// The `version` of the `[package]` table of `crates/PACKAGE/Cargo.toml`.
pub fn crate_version(root: &Path, package: &str) -> Result<String, String> {
    let path = root.join("crates").join(package).join("Cargo.toml");
    let text = std::fs::read_to_string(&path).map_err(io("read", &path))?;
    package_version(&text).ok_or_else(|| {
        format!(
            "{} has no `version = \"...\"` line in [package] (fix: give the crate its version there, not through the workspace)",
            path.display()
        )
    })
}

/// The `version = "..."` of the `[package]` table of a manifest's text.
pub fn package_version(manifest: &str) -> Option<String> {
    let doc: toml_edit::DocumentMut = manifest.parse().ok()?;
    Some(doc.get("package")?.get("version")?.as_str()?.to_string())
}

/// `cargo xtask package-check`. With `build_mycli` false, the `mycli`
/// already built is used: `cargo xtask test` built it with the whole
/// workspace, and building it alone could change its features under the
/// tests that run it next.
pub fn check(build_mycli: bool) -> Result<(), String> {
    let root = root();
    wit_copies_match(&root)?;
    let target = crate::public_api::target_dir()?;
    let work = tempfile::Builder::new()
        .prefix("snapin-package-check-")
        .tempdir()
        .map_err(|e| {
            format!("cannot create a temporary directory: {e} (fix: make TMPDIR writable)")
        })?;
    let result = check_in(&root, &target, work.path(), build_mycli);
    if result.is_err() {
        // What failed stays there to be looked at.
        let kept = work.keep();
        eprintln!(
            "xtask: package-check: its files are kept in {}",
            kept.display()
        );
    }
    result
}

fn check_in(root: &Path, target: &Path, work: &Path, build_mycli: bool) -> Result<(), String> {
    let started = Instant::now();
    let unpacked = package_and_unpack(root, target, &work.join("crates"))?;
    step("packaged and unpacked", started);

    let started = Instant::now();
    check_unpacked(root, target, &work.join("crates"), &unpacked)?;
    step("checked the unpacked crates (all features)", started);

    let started = Instant::now();
    if build_mycli {
        crate::run(cargo().args(["build", "--quiet", "-p", "mycli"]))?;
    }
    let mycli = target.join("debug/mycli");
    let home = work.join("home");
    std::fs::create_dir_all(&home).map_err(io("create", &home))?;
    let plugins = work.join("plugins");
    let patch = patch_table(&unpacked);
    for (name, kind) in [("pkgcheck", "exec"), ("wpkgcheck", "wasm")] {
        let dir = plugins.join(format!("mycli-{name}"));
        let mut new = Command::new(&mycli);
        new.args(["plugins", "new", name, "--kind", kind, "--dir"])
            .arg(&dir)
            .env("MYCLI_HOME", &home);
        quiet(&mut new)?;
        let manifest = dir.join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).map_err(io("read", &manifest))?;
        if text.contains("path =") {
            return Err(format!(
                "{} depends on a local path: the scaffold must take its SDK from crates.io (fix: see `fill` in crates/snapin/src/scaffold.rs)",
                manifest.display()
            ));
        }
        std::fs::write(&manifest, format!("{text}\n{patch}")).map_err(io("write", &manifest))?;
        copy_lock(root, &dir)?;
        let built = if kind == "exec" {
            quiet(plugin_cargo(&dir, target).args(["build"]))?;
            quiet(plugin_cargo(&dir, target).args(["test"]))?;
            target.join(format!("debug/mycli-{name}"))
        } else {
            quiet(plugin_cargo(&dir, target).args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
            ]))?;
            target.join(format!("wasm32-wasip2/release/mycli_{name}.wasm"))
        };
        // Copied out of the shared target directory, so that another build
        // cannot change the file under its pin.
        let file = work.join(built.file_name().unwrap_or_default());
        std::fs::copy(&built, &file).map_err(io("copy", &built))?;
        let mut install = Command::new(&mycli);
        install
            .args(["plugins", "install"])
            .arg(&file)
            .arg("--yes")
            .env("MYCLI_HOME", &home);
        quiet(&mut install)?;
        let out = Command::new(&mycli)
            .args([name, "--who", "crates.io"])
            .env("MYCLI_HOME", &home)
            .output()
            .map_err(|e| {
                format!(
                    "cannot run {}: {e} (fix: build it with `cargo build -p mycli`)",
                    mycli.display()
                )
            })?;
        let said = String::from_utf8_lossy(&out.stdout);
        let expected = format!("hello, crates.io, from the {name} plugin of mycli\n");
        if !out.status.success() || said != expected {
            return Err(format!(
                "`mycli {name} --who crates.io` ({kind} plugin built against the packaged crates) printed {said:?} and {:?} ({}), not {expected:?} (fix: run it by hand in {})",
                String::from_utf8_lossy(&out.stderr),
                out.status,
                dir.display()
            ));
        }
    }
    step(
        "scaffolded, built, installed and ran an exec and a wasm plugin",
        started,
    );
    Ok(())
}

/// `cargo package` of the four crates, unpacked into `into`; returns each
/// crate's directory there, by package name.
fn package_and_unpack(
    root: &Path,
    target: &Path,
    into: &Path,
) -> Result<Vec<(&'static str, PathBuf)>, String> {
    let mut package = cargo();
    // Dirty: a release bumps versions before its check; what is checked
    // is what the working tree holds.
    package.args(["package", "--no-verify", "--allow-dirty", "--offline"]);
    for p in PUBLISH_ORDER {
        package.args(["-p", p]);
    }
    quiet(&mut package)?;
    std::fs::create_dir_all(into).map_err(io("create", into))?;
    let mut unpacked = Vec::new();
    for p in PUBLISH_ORDER {
        let version = crate_version(root, p)?;
        let file = target.join("package").join(format!("{p}-{version}.crate"));
        quiet(
            Command::new("tar")
                .arg("-xzf")
                .arg(&file)
                .arg("-C")
                .arg(into),
        )?;
        unpacked.push((*p, into.join(format!("{p}-{version}"))));
    }
    Ok(unpacked)
}

/// `cargo check --all-features` of the unpacked crates, as one workspace
/// with the root's profiles and lock file.
fn check_unpacked(
    root: &Path,
    target: &Path,
    dir: &Path,
    unpacked: &[(&str, PathBuf)],
) -> Result<(), String> {
    let members: Vec<String> = unpacked
        .iter()
        .map(|(_, d)| format!("{:?}", d.file_name().unwrap_or_default().to_string_lossy()))
        .collect();
    let root_manifest = std::fs::read_to_string(root.join("Cargo.toml"))
        .map_err(io("read", &root.join("Cargo.toml")))?;
    let manifest = format!(
        "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n{}\n{}",
        members.join(", "),
        patch_table(unpacked),
        profiles(&root_manifest)
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(io("write", dir))?;
    copy_lock(root, dir)?;
    quiet(plugin_cargo(dir, target).args(["check", "--workspace", "--all-features"]))
}

/// `[patch.crates-io]` pointing each library crate at its unpacked copy.
fn patch_table(unpacked: &[(&str, PathBuf)]) -> String {
    let mut table = "[patch.crates-io]\n".to_string();
    for (name, dir) in unpacked {
        // JSON string escapes are valid TOML basic-string escapes.
        table.push_str(&format!(
            "{name} = {{ path = {} }}\n",
            serde_json::Value::from(dir.display().to_string())
        ));
    }
    table
}

/// The `[profile...]` tables of the root manifest, verbatim: with the same
/// profiles, dependencies compiled for the workspace are reused.
fn profiles(manifest: &str) -> String {
    let mut out = String::new();
    let mut in_profile = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            in_profile = line.starts_with("[profile");
        }
        if in_profile {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The workspace's lock file, so that a build outside the workspace uses
/// the dependency versions the workspace has compiled.
fn copy_lock(root: &Path, dir: &Path) -> Result<(), String> {
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
        .map(drop)
        .map_err(io("copy Cargo.lock into", dir))
}

/// Cargo in `dir`, outside the workspace, offline (every dependency was
/// fetched for the workspace), against the shared target directory.
fn plugin_cargo(dir: &Path, target: &Path) -> Command {
    let mut cmd = cargo();
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .args(["--quiet", "--offline"]);
    cmd
}

/// The message of a failed file operation: `what` on `path`.
fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> String {
    let path = path.display().to_string();
    move |e| {
        format!(
            "cannot {what} {path}: {e} (fix: check the permissions and free space there, or point TMPDIR elsewhere)"
        )
    }
}

/// Runs `cmd` with its output kept aside; fails with it if it fails.
fn quiet(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| {
        format!("cannot run {shown}: {e} (fix: install the program or put it on PATH)")
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{shown} failed ({}) (fix: see its output below, then run it again by hand)\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn step(what: &str, started: Instant) {
    println!(
        "package-check: {what} ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_version_is_read_from_its_table() {
        let manifest =
            "[package]\nname = \"x\"\nversion = \"0.3.1\"\n\n[dependencies]\nversion = \"9\"\n";
        assert_eq!(package_version(manifest).as_deref(), Some("0.3.1"));
        assert_eq!(
            package_version("[dependencies]\nversion = \"1.0.0\"\n"),
            None
        );
    }

    #[test]
    fn the_wit_copies_in_the_repository_match() {
        wit_copies_match(&root()).unwrap();
    }

    /// Two copies that differ are refused, and the `cp` the message
    /// suggests, run as written from the repository root, fixes it.
    #[test]
    fn the_fix_for_differing_copies_works_when_copied() {
        let repo = tempfile::tempdir().unwrap();
        for (dir, text) in [
            (WIT_SOURCE, "package a:b@1.1.0;\n"),
            (WIT_COPY, "package a:b@1.0.0;\n"),
        ] {
            let wit = repo.path().join(dir).join("wit");
            std::fs::create_dir_all(&wit).unwrap();
            std::fs::write(wit.join("snapin-plugin.wit"), text).unwrap();
        }
        let message = wit_copies_match(repo.path()).unwrap_err();
        let fix = message
            .split("(fix: ")
            .nth(1)
            .and_then(|rest| rest.split(", or the other way").next())
            .unwrap();
        assert!(fix.starts_with("cp "), "{message}");
        let status = Command::new("sh")
            .args(["-c", fix])
            .current_dir(repo.path())
            .status()
            .unwrap();
        assert!(status.success());
        wit_copies_match(repo.path()).unwrap();
    }

    #[test]
    fn only_profiles_are_copied() {
        let manifest = "[workspace]\nmembers = []\n\n[profile.release]\nstrip = true\n[profile.dev.package.x]\nopt-level = 2\n\n[workspace.lints.rust]\nx = 1\n";
        assert_eq!(
            profiles(manifest),
            "[profile.release]\nstrip = true\n[profile.dev.package.x]\nopt-level = 2\n\n"
        );
    }
}

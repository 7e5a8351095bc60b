//! `cargo xtask wine`: mycli, its example plugins and its tests built for
//! Windows (x86_64-pc-windows-gnu, linked by mingw-w64) and run under
//! wine: snapin's unit tests and the end-to-end areas that need no Unix
//! tool (examples/mycli/tests/cli/main.rs says which).
//!
//! The wine prefix lives in the target directory (`TARGET/wine`), made
//! once. Wine 8.0, Debian 12's, lacks `bcryptprimitives.dll`, which every
//! Rust program on Windows needs: the prefix gets one built from
//! `xtask/wine/bcryptprimitives.c`. Wine's debugger is turned off, so a
//! crashing plugin ends with its exception code, as on Windows, instead of
//! a debugger's report.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{cargo, root, run, target_dir, wasm_packages};

/// The Windows target the tests are built for.
const TARGET: &str = "x86_64-pc-windows-gnu";

/// The mingw-w64 C compiler that links for [`TARGET`].
const MINGW_GCC: &str = "x86_64-w64-mingw32-gcc";

/// What the end-to-end tests run, built for Windows.
const PACKAGES: &[&str] = &[
    "mycli",
    "mycli-greet",
    "mycli-stats",
    "mycli-broken",
    "mycli-stale",
    "mycli-crashy",
];

pub fn run_tests() -> Result<(), String> {
    let wine = find_wine()?;
    tool_works(MINGW_GCC, &["--version"], "gcc-mingw-w64-x86-64")?;
    let target_dir = private_target_dir()?;
    let prefix = prepare_prefix(&wine, &target_dir.join("wine"))?;
    let cargo = || {
        let mut cmd = cargo();
        cmd.env("CARGO_TARGET_DIR", &target_dir);
        cmd
    };

    let mut build = cargo();
    build.args(["build", "--target", TARGET]);
    for p in PACKAGES {
        build.args(["-p", p]);
    }
    run(&mut build)?;
    run(cargo()
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(wasm_packages()))?;

    let under_wine = |cmd: &mut Command| {
        cmd.env(
            format!(
                "CARGO_TARGET_{}_RUNNER",
                TARGET.to_uppercase().replace('-', "_")
            ),
            &wine,
        )
        .env("WINEPREFIX", &prefix)
        .env("WINEDEBUG", "-all")
        .env("WINEDLLOVERRIDES", "winedbg.exe=d")
        .env("SNAPIN_TEST_PREBUILT", "1");
    };
    let mut failed = Vec::new();
    let mut unit = cargo();
    unit.args([
        "test",
        "--target",
        TARGET,
        "-p",
        "snapin",
        "--features",
        "wasm",
        "--lib",
    ]);
    under_wine(&mut unit);
    failed.extend(run(&mut unit).err());
    let mut e2e = cargo();
    e2e.args(["test", "--target", TARGET, "-p", "mycli", "--test", "cli"]);
    under_wine(&mut e2e);
    failed.extend(run(&mut e2e).err());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\n"))
    }
}

/// The target directory for the Windows build: the usual one, unless a
/// directory above it lets others write (a clone under `/tmp`). Wine shows
/// such a directory to Windows programs as writable by Everyone, without
/// the sticky bit that makes `/tmp` safe, so the permission check would
/// refuse every plugin built there; then `~/.cache/snapin-wine-target`.
fn private_target_dir() -> Result<PathBuf, String> {
    let usual = target_dir();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let shared =
            |dir: &Path| std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o002 != 0);
        let absolute = std::path::absolute(&usual).unwrap_or_else(|_| usual.clone());
        if absolute.ancestors().any(shared) {
            let home = std::env::var_os("HOME").ok_or(
                "HOME is not set, and the target directory is under a directory others may write",
            )?;
            let dir = PathBuf::from(home).join(".cache/snapin-wine-target");
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            println!(
                "xtask: building for Windows in {}: {} is under a directory others may write, which wine shows as writable by Everyone",
                dir.display(),
                usual.display()
            );
            return Ok(dir);
        }
    }
    Ok(usual)
}

/// wine's 64-bit loader: Debian puts it outside PATH.
fn find_wine() -> Result<PathBuf, String> {
    let debian = PathBuf::from("/usr/lib/wine/wine64");
    if debian.is_file() {
        return Ok(debian);
    }
    for name in ["wine64", "wine"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(PathBuf::from(name));
        }
    }
    Err(
        "cannot find wine (/usr/lib/wine/wine64, wine64 or wine); fix: `apt-get install wine64`"
            .to_string(),
    )
}

/// Fails, naming the Debian package to install, unless `tool ARGS` runs.
fn tool_works(tool: &str, args: &[&str], package: &str) -> Result<(), String> {
    let works = Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if works {
        Ok(())
    } else {
        Err(format!(
            "cannot run `{tool}`, which builds for Windows; fix: `apt-get install {package}`"
        ))
    }
}

/// Makes the wine prefix at `prefix` once (about 15 s), with the
/// `bcryptprimitives.dll` wine lacks, and returns it.
fn prepare_prefix(wine: &Path, prefix: &Path) -> Result<PathBuf, String> {
    let system32 = prefix.join("drive_c/windows/system32");
    if !system32.join("kernel32.dll").is_file() {
        std::fs::create_dir_all(prefix)
            .map_err(|e| format!("cannot create {}: {e}", prefix.display()))?;
        // wineboot reports the 32-bit half it cannot start (Debian's wine64
        // alone has none); the 64-bit prefix is made all the same.
        let _ = Command::new(wine)
            .args(["wineboot", "-i"])
            .env("WINEPREFIX", prefix)
            .env("WINEDEBUG", "-all")
            .output();
        if !system32.join("kernel32.dll").is_file() {
            return Err(format!(
                "`wine wineboot -i` did not make the prefix {}",
                prefix.display()
            ));
        }
    }
    let dll = system32.join("bcryptprimitives.dll");
    let source = root().join("xtask/wine");
    run(Command::new(MINGW_GCC)
        .args(["-shared", "-O2", "-o"])
        .arg(&dll)
        .arg(source.join("bcryptprimitives.c"))
        .arg(source.join("bcryptprimitives.def"))
        .arg("-lbcrypt"))?;
    Ok(prefix.to_path_buf())
}

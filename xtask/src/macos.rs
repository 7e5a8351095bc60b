//! `cargo xtask check-macos [--target TRIPLE]...`: compiles every crate of
//! the workspace for macOS, on Apple silicon and on Intel (or the targets
//! given), from any machine, and lints it as
//! `cargo xtask test` does: tests, benches and examples included, with all
//! features, then the executable-only build (snapin and mycli without the
//! `wasm` feature). macOS is Unix but not Linux, so the code behind
//! `cfg(target_os = "linux")` and its `not(..)` twin is only compiled
//! here or on a Mac.
//!
//! Nothing is linked, so no macOS SDK is needed, except by the build
//! scripts that compile C for the target (ring, wasmtime and its fiber
//! crate, alloca): off macOS this binary stands in for the target's C
//! compiler and archiver, writing empty objects and archives. Their Rust
//! is checked as on a Mac; their C is compiled only by a Mac (the GitHub
//! workflow's macOS job).

use std::ffi::OsString;
use std::process::{Command, ExitCode};

use crate::{cargo, run};

/// The macOS targets checked.
const TARGETS: &[&str] = &["aarch64-apple-darwin", "x86_64-apple-darwin"];

/// Set for the build scripts of the checks, off macOS: this binary, run as
/// the targets' C compiler or archiver, stands in for it.
const STAND_IN: &str = "SNAPIN_XTASK_C_STAND_IN";

/// Runs the checks, with the arguments after `check-macos`.
pub fn check(args: &[String]) -> Result<(), String> {
    let chosen = parse_args(args)?;
    ensure_targets(&chosen)?;
    let targets: Vec<String> = chosen
        .iter()
        .flat_map(|t| ["--target".to_string(), t.to_string()])
        .collect();
    run(
        with_stand_in(cargo().args(["clippy", "--workspace", "--all-features", "--all-targets"]))
            .args(&targets)
            .args(["--", "-D", "warnings"]),
    )?;
    run(with_stand_in(cargo().args(crate::EXECUTABLE_ONLY_CLIPPY))
        .args(&targets)
        .args(["--", "-D", "warnings"]))?;
    println!(
        "xtask: the workspace compiles for {} without warnings (checked, not linked{})",
        chosen.join(" and "),
        if cfg!(target_os = "macos") {
            ""
        } else {
            "; the C of dependencies not compiled"
        }
    );
    Ok(())
}

/// The targets `--target` names, each one of [`TARGETS`]; all of them when
/// none is named.
fn parse_args(args: &[String]) -> Result<Vec<&'static str>, String> {
    let mut chosen = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let target = match arg.as_str() {
            "--target" => args.next().map(String::as_str).unwrap_or_default(),
            other => other.strip_prefix("--target=").unwrap_or(other),
        };
        match TARGETS.iter().find(|t| **t == target) {
            Some(t) => chosen.push(*t),
            None => {
                return Err(format!(
                    "check-macos: {target:?} is not a macOS target checked here (usage: check-macos [--target {}]...)",
                    TARGETS.join("|")
                ));
            }
        }
    }
    if chosen.is_empty() {
        chosen.extend(TARGETS);
    }
    Ok(chosen)
}

/// Adds the targets rustup lacks (when rustup manages the toolchain).
fn ensure_targets(targets: &[&str]) -> Result<(), String> {
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    else {
        // No rustup: cargo says what is missing.
        return Ok(());
    };
    let installed = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("rustup")
        .args(["target", "add"])
        .args(&missing))
}

/// `cmd` with this binary as the targets' C compiler and archiver, off
/// macOS.
fn with_stand_in(cmd: &mut Command) -> &mut Command {
    if cfg!(target_os = "macos") {
        return cmd;
    }
    let Ok(me) = std::env::current_exe() else {
        return cmd;
    };
    cmd.env(STAND_IN, "1");
    for target in TARGETS {
        let target = target.replace('-', "_");
        cmd.env(format!("CC_{target}"), &me)
            .env(format!("AR_{target}"), &me);
    }
    cmd
}

/// When this binary was run as the stand-in C compiler or archiver: does
/// its job and returns its exit status.
///
/// As a compiler (the first argument is a flag, as cc-rs passes them) it
/// says it is clang when asked with `-E` (cc-rs probes the family that
/// way; it passes GCC-style flags to clang), refuses `-?` (an MSVC
/// probe), and otherwise writes an empty file where `-o` says. As an
/// archiver (`ar cq LIB ...`, `ar s LIB`) it writes an empty archive.
pub fn stand_in() -> Option<ExitCode> {
    std::env::var_os(STAND_IN)?;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let flag = |a: &OsString| a.to_string_lossy().starts_with('-');
    let written = match args.first() {
        Some(op) if !flag(op) => match args.get(1) {
            Some(lib) => std::fs::write(lib, b"!<arch>\n"),
            None => Ok(()),
        },
        _ if args.iter().any(|a| a == "-?") => return Some(ExitCode::FAILURE),
        _ if args.iter().any(|a| a == "-E") => {
            println!("#pragma message \"clang\"");
            Ok(())
        }
        _ => match args.iter().position(|a| a == "-o") {
            Some(at) => args
                .get(at + 1)
                .map_or(Ok(()), |out| std::fs::write(out, b"")),
            None => Ok(()),
        },
    };
    Some(match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask (stand-in C compiler): {e}");
            ExitCode::FAILURE
        }
    })
}

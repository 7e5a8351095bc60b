//! `cargo xtask fuzz [--seconds N] [TARGET...]`: runs each cargo-fuzz
//! target in `fuzz/` for a bounded time, as CI does, and fails if one
//! crashes, naming the input that crashed it.
//!
//! libFuzzer reads the checked-in seeds (`fuzz/seeds/TARGET`) and writes
//! what it learns to a scratch corpus (`fuzz/corpus/TARGET`, ignored by
//! git), so runs build on each other locally without touching the seeds.
//! The targets are built without a sanitizer: snapin has no `unsafe`, and
//! an AddressSanitizer build takes twice as long for CI to make.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{root, run};

/// The fuzz targets, in the order they run.
const TARGETS: &[&str] = &[
    "manifest",
    "index",
    "lookup",
    "clap_command",
    "catalog",
    "signature",
];

/// How long each target runs when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 30;

/// Longest time one input may take before libFuzzer calls it a hang.
const INPUT_TIMEOUT_SECONDS: u64 = 10;

/// Runs the task with the arguments after `fuzz`.
pub fn run_targets(args: &[String]) -> Result<(), String> {
    let (seconds, targets) = parse_args(args)?;
    check_nightly()?;
    ensure_cargo_fuzz()?;
    let fuzz = root().join("fuzz");
    run(nightly_cargo().args(["fuzz", "build", "--sanitizer", "none"]))?;

    let mut failures = Vec::new();
    for target in &targets {
        println!("\n## cargo fuzz: {target} for {seconds} s");
        let corpus = fuzz.join("corpus").join(target);
        fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create the corpus {}: {e}", corpus.display()))?;
        let artifacts = fuzz.join("artifacts").join(target);
        let before = files_in(&artifacts);
        let output = nightly_cargo()
            .args(["fuzz", "run", "--sanitizer", "none", target])
            .arg(&corpus)
            .arg(fuzz.join("seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-timeout={INPUT_TIMEOUT_SECONDS}"))
            .arg(format!("-dict={}", fuzz.join("snapin.dict").display()))
            .output()
            .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
        // libFuzzer reports every new input on stderr: keep the log short,
        // with its summary line, and the whole tail when it failed.
        let log = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = log.lines().collect();
        let status = output.status;
        if status.success() {
            let done = lines.iter().rev().find(|l| l.starts_with("Done "));
            println!("{}", done.unwrap_or(&"done"));
            continue;
        }
        for line in &lines[lines.len().saturating_sub(40)..] {
            eprintln!("{line}");
        }
        let found: Vec<PathBuf> = files_in(&artifacts).difference(&before).cloned().collect();
        if found.is_empty() {
            failures.push(format!(
                "{target}: cargo fuzz failed ({status}) without saving an input; see its output above"
            ));
        }
        for input in found {
            let shown = input.strip_prefix(root()).unwrap_or(&input).display();
            failures.push(format!(
                "{target}: crashed on {shown}\n    reproduce: cargo +nightly fuzz run --sanitizer none {target} {shown}\n    shrink:    cargo +nightly fuzz tmin --sanitizer none {target} {shown}\n    then fix it and add the input as a named regression test"
            ));
        }
    }
    if failures.is_empty() {
        println!(
            "\nfuzzing: {} targets ran {seconds} s each without a crash",
            targets.len()
        );
        Ok(())
    } else {
        Err(format!(
            "fuzzing found {} problem(s):\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

fn parse_args(args: &[String]) -> Result<(u64, Vec<String>), String> {
    let usage = format!(
        "usage: cargo xtask fuzz [--seconds N] [TARGET...] (targets: {})",
        TARGETS.join(", ")
    );
    let mut seconds = DEFAULT_SECONDS;
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            let n = args.next().ok_or_else(|| usage.clone())?;
            seconds =
                n.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    format!("--seconds {n:?} is not a whole number above 0\n{usage}")
                })?;
        } else if TARGETS.contains(&arg.as_str()) {
            targets.push(arg.clone());
        } else {
            return Err(format!("unknown argument {arg:?}\n{usage}"));
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| t.to_string()).collect();
    }
    Ok((seconds, targets))
}

/// `cargo +nightly` through rustup, from the workspace root. The
/// variables cargo set for this task would pin the stable toolchain.
fn nightly_cargo() -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly")
        .current_dir(root())
        .env_remove("CARGO")
        .env_remove("RUSTC")
        .env_remove("RUSTUP_TOOLCHAIN");
    cmd
}

/// cargo-fuzz needs a nightly compiler (for `-Zsanitizer` and coverage
/// instrumentation): say how to get one when it is missing.
fn check_nightly() -> Result<(), String> {
    match nightly_cargo().arg("--version").output() {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "`cargo +nightly --version` failed: {}\nfuzzing needs the nightly toolchain; fix: rustup toolchain install nightly",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Err(format!(
            "cannot run `cargo +nightly` ({e}); fuzzing needs rustup and the nightly toolchain; fix: install rustup, then rustup toolchain install nightly"
        )),
    }
}

/// Installs cargo-fuzz (from crates.io, at its locked versions) when
/// `cargo fuzz` is not there yet.
fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = nightly_cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if present {
        return Ok(());
    }
    println!("cargo-fuzz is not installed: installing it");
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}

/// The files in `dir` (none when it does not exist yet).
fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect()
}

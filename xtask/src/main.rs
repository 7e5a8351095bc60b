//! Workspace helpers, so that a fresh clone needs one command for each job:
//!
//! - `cargo xtask demo`: builds mycli and the example plugins, installs them
//!   into a throw-away `MYCLI_HOME` and shows what a user sees.
//! - `cargo xtask test`: the whole test suite, exactly as CI runs it, with
//!   the executable-only build on its own, the doctests even when the
//!   tests fail, and the list of tests that skipped their work.
//! - `cargo xtask schema`: regenerates `docs/manifest.schema.json`.
//! - `cargo xtask bench [--smoke]`, `cargo xtask bench-wasm [--smoke]`: time
//!   whole processes and write the tables into BENCHMARKS.md.
//! - `cargo xtask fuzz [--seconds N]`: runs each fuzz target in `fuzz/` for
//!   a bounded time.
//! - `cargo xtask public-api [--check]`: regenerates (or checks) the
//!   listing of each library crate's public API, `crates/*/public-api.txt`.
//! - `cargo xtask package-check`: packages the library crates and builds
//!   plugins scaffolded by `mycli plugins new` against them, outside the
//!   workspace.
//! - `cargo xtask release VERSION`: sets the library crates' version after
//!   checking CHANGELOG.md, runs the checks, prints the publish commands.
//! - `cargo xtask check-macos [--target TRIPLE]...`: compiles and lints the
//!   workspace for the two macOS targets, from any machine.

mod bench;
mod bench_doc;
mod bench_registry;
mod fuzz;
mod macos;
mod package;
mod public_api;
mod release;
mod schema;
mod wine;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The example plugins built from this workspace (package names).
const PLUGIN_PACKAGES: &[&str] = &[
    "mycli-greet",
    "mycli-stats",
    "mycli-broken",
    "mycli-stale",
    "mycli-crashy",
];

fn main() -> ExitCode {
    if let Some(code) = public_api::wrap_rustdoc() {
        return code;
    }
    if let Some(code) = macos::stand_in() {
        return code;
    }
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "demo" => demo(),
        "test" => test(),
        "bench" => bench::startup(std::env::args().any(|a| a == "--smoke")),
        "bench-wasm" => bench::wasm(std::env::args().any(|a| a == "--smoke")),
        "schema" => schema::write(&root()),
        "fuzz" => fuzz::run_targets(&std::env::args().skip(2).collect::<Vec<_>>()),
        "public-api" => public_api::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        "package-check" => package::check(true),
        "release" => release::run(&std::env::args().skip(2).collect::<Vec<_>>()),
        "wine" => wine::run_tests(),
        "check-macos" => macos::check(&std::env::args().skip(2).collect::<Vec<_>>()),
        _ => Err("usage: cargo xtask <demo|test|bench|bench-wasm|schema|fuzz|public-api|package-check|release|wine|check-macos>\n  demo  build the examples and show them working in a throw-away MYCLI_HOME\n  test  run formatting, lints and the whole test suite, as CI does\n  bench [--smoke]  time start-up and dispatch against 0..10,000 installed plugins and write the tables into BENCHMARKS.md (--smoke: check it works, write nothing; criterion benches of the in-process parts: cargo bench -p snapin-bench)\n  bench-wasm [--smoke]  time install and run of the sandboxed wstats against the executable stats (release builds) and write the table into BENCHMARKS.md (--smoke: debug builds, write nothing)\n  schema  regenerate docs/manifest.schema.json from the manifest types\n  fuzz [--seconds N] [TARGET...]  run each cargo-fuzz target for N seconds (default 30; needs nightly)\n  public-api [--check]  regenerate crates/*/public-api.txt, each library crate's public API from rustdoc's JSON (--check: fail if one is out of date, or if it removes items without a breaking version)\n  package-check  package the library crates, then build, install and run plugins scaffolded by `mycli plugins new` against them, outside the workspace\n  release VERSION  set the library crates' version (CHANGELOG.md needs its entry), run the API and package checks, print the `cargo publish` commands\n  wine  build mycli, the example plugins and the tests for Windows (x86_64-pc-windows-gnu) and run snapin's unit tests and the end-to-end tests that need no Unix tool under wine\n  check-macos [--target TRIPLE]...  compile and lint the workspace (all features, tests included) for aarch64- and x86_64-apple-darwin (or the targets given), without linking".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The example plugins built as WebAssembly components.
const WASM_PACKAGES: &[&str] = &[
    "mycli-wstats",
    "mycli-wescape",
    "mycli-wbomb",
    "mycli-wfuture",
    "mycli-wnotaplugin",
];

fn wasm_packages() -> Vec<String> {
    WASM_PACKAGES
        .iter()
        .flat_map(|p| ["-p".to_string(), p.to_string()])
        .collect()
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd` with inherited output; fails if it fails.
fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed ({status})"))
    }
}

/// Adds the wasm32-wasip2 target when rustup manages the toolchain and it
/// is missing: the WebAssembly examples are built for it.
fn ensure_wasm_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains("wasm32-wasip2") => Ok(()),
        Ok(_) => run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"])),
        // No rustup: the build below says what is missing.
        Err(_) => Ok(()),
    }
}

fn test() -> Result<(), String> {
    ensure_wasm_target()?;
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    executable_only()?;
    // The committed listings of the library crates' public API.
    public_api::run(&["--check".to_string()])?;
    // The end-to-end tests drive the real binaries and components: build
    // them all first.
    //
    // mycli-registry is built on its own: cargo unifies a dependency's
    // features across the packages of one build, and built with it, mycli
    // would get the registry feature and never hand its registry commands
    // over, as the mycli users get does.
    run(cargo().args([
        "build",
        "--workspace",
        "--bins",
        "--exclude",
        "mycli-registry",
    ]))?;
    run(cargo().args(["build", "-p", "mycli-registry"]))?;
    run(cargo()
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(wasm_packages()))?;
    // The library crates as crates.io gets them, with plugins scaffolded
    // against them (after the builds above, whose dependencies and mycli
    // it reuses).
    package::check(false)?;

    // Tests that cannot do their work here say so in this file (see
    // `require_tool` and `skipped` in examples/mycli/tests/cli/support.rs).
    let skips = target_dir().join("test-skips.txt");
    match std::fs::remove_file(&skips) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot remove {}: {e}", skips.display())),
    }
    let nextest = cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    // Every suite runs, whatever the one before did; the task fails at the
    // end if any failed.
    let mut failed = Vec::new();
    if nextest {
        let mut tests = cargo();
        tests.args([
            "nextest",
            "run",
            "--workspace",
            "--exclude",
            "mycli-registry",
            "--no-fail-fast",
        ]);
        if std::env::var_os("CI").is_some() {
            // No retries (.config/nextest.toml).
            tests.args(["--profile", "ci"]);
        }
        tests
            .env("SNAPIN_TEST_PREBUILT", "1")
            .env("SNAPIN_TEST_SKIPS", &skips);
        let mut doctests = cargo();
        // Without mycli-registry, as above: with it, cargo would build
        // every library again with the registry feature just for this.
        doctests.args([
            "test",
            "--workspace",
            "--exclude",
            "mycli-registry",
            "--doc",
        ]);
        for suite in [&mut tests, &mut doctests] {
            failed.extend(run(suite).err());
        }
    } else {
        failed.extend(
            run(cargo()
                .args([
                    "test",
                    "--workspace",
                    "--exclude",
                    "mycli-registry",
                    "--no-fail-fast",
                ])
                .env("SNAPIN_TEST_PREBUILT", "1")
                .env("SNAPIN_TEST_SKIPS", &skips))
            .err(),
        );
    }
    report_skips(&skips);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("\nxtask: "))
    }
}

/// `cargo clippy` of snapin and mycli without the `wasm` feature, before
/// its `-- -D warnings`: here and in `check-macos`.
const EXECUTABLE_ONLY_CLIPPY: &[&str] = &[
    "clippy",
    "-p",
    "snapin",
    "-p",
    "mycli",
    "--no-default-features",
    "--all-targets",
];

/// The executable-only build (snapin without its default `wasm` feature)
/// checked and unit-tested on its own: in the workspace, feature
/// unification always turns `wasm` on, so nothing else compiles it. It
/// needs no wasmtime.
fn executable_only() -> Result<(), String> {
    run(cargo()
        .args(EXECUTABLE_ONLY_CLIPPY)
        .args(["--", "-D", "warnings"]))?;
    run(cargo().args(["test", "-p", "snapin", "--no-default-features", "--lib"]))
}

/// Cargo's target directory, as the tests see it.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Lists the tests that skipped their work, from the file they wrote.
fn report_skips(skips: &Path) {
    let text = std::fs::read_to_string(skips).unwrap_or_default();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines.dedup();
    if lines.is_empty() {
        println!("xtask: no test skipped its work");
    } else {
        println!("xtask: {} tests skipped their work:", lines.len());
        for line in lines {
            println!("  {line}");
        }
    }
}

fn demo() -> Result<(), String> {
    ensure_wasm_target()?;
    // Cargo's own progress stays on: the first build of a fresh clone
    // takes minutes, and silence would look like a hang.
    eprintln!("# Building mycli and the example plugins (the first build takes a few minutes)");
    let mut build = cargo();
    build.args(["build", "-p", "mycli"]);
    for p in PLUGIN_PACKAGES {
        build.args(["-p", p]);
    }
    run(&mut build)?;
    eprintln!("# Building the WebAssembly examples for wasm32-wasip2");
    run(cargo().args([
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        "-p",
        "mycli-wstats",
        "-p",
        "mycli-wescape",
    ]))?;
    // Where cargo put them: `target/`, or `CARGO_TARGET_DIR`.
    let target = public_api::target_dir()?;
    let bin = target.join("debug");
    let wasm_dir = target.join("wasm32-wasip2/release");
    let home = tempfile::Builder::new()
        .prefix("mycli-demo-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary MYCLI_HOME: {e}"))?;
    let demo = Demo {
        mycli: bin.join("mycli"),
        home: home.path().to_path_buf(),
    };
    println!("# A throw-away MYCLI_HOME: {}", home.path().display());

    section("Install plugins (explicitly: nothing is ever installed on its own)");
    for name in ["greet", "stats", "crashy"] {
        demo.mycli(&["plugins", "install", &plugin(&bin, name), "--yes"]);
    }
    demo.mycli(&[
        "plugins",
        "install",
        &root()
            .join("examples/plugins/hello-sh/mycli-hello")
            .display()
            .to_string(),
        "--yes",
    ]);
    for name in ["wstats", "wescape"] {
        let component = wasm_dir.join(format!("mycli_{name}.wasm"));
        demo.mycli(&[
            "plugins",
            "install",
            &component.display().to_string(),
            "--yes",
        ]);
    }
    section("A plugin built for a future host API is refused, and `broken` cannot describe itself");
    demo.mycli(&["plugins", "install", &plugin(&bin, "stale"), "--yes"]);
    demo.mycli(&["plugins", "install", &plugin(&bin, "broken"), "--yes"]);
    section(
        "A plugin can reach the index and fail its checks later (host upgrade, changed file): --force records them to show it",
    );
    demo.mycli(&[
        "plugins",
        "install",
        &plugin(&bin, "stale"),
        "--yes",
        "--force",
    ]);
    demo.mycli(&[
        "plugins",
        "install",
        &plugin(&bin, "broken"),
        "--yes",
        "--force",
    ]);

    section("What is installed, and what loads");
    demo.mycli(&["plugins", "list"]);
    section("Plugin commands in help, from cached manifests (no plugin is started)");
    demo.mycli(&["--quiet", "--help"]);
    section("Run plugin commands");
    demo.mycli(&["greet", "--who", "Rust"]);
    demo.mycli(&["stats", "10"]);
    demo.mycli(&["wstats", "10"]);
    demo.mycli(&["hello", "--upper", "snapin"]);
    section("A usage error comes from the host, from the manifest");
    demo.mycli(&["stats", "--nope"]);
    section("A crashing plugin costs one line; the host reports the signal");
    demo.mycli(&["-q", "crash"]);
    section("A sandboxed plugin reaches no file, variable or network it was not granted");
    demo.mycli(&["-q", "wread", "/etc/passwd"]);
    demo.mycli(&["-q", "wenv", "HOME"]);
    demo.mycli(&["-q", "wnet", "127.0.0.1:80"]);
    section("Problems, one line each, with the fix");
    demo.mycli(&["plugins", "doctor"]);
    Ok(())
}

fn plugin(bin: &Path, name: &str) -> String {
    bin.join(format!("mycli-{name}")).display().to_string()
}

fn section(title: &str) {
    println!("\n## {title}");
}

struct Demo {
    mycli: PathBuf,
    home: PathBuf,
}

impl Demo {
    /// Runs mycli, echoing the command line and its exit status.
    fn mycli(&self, args: &[&str]) {
        let shown: Vec<String> = args
            .iter()
            .map(|a| {
                let p = Path::new(a);
                if p.is_absolute() {
                    p.strip_prefix(root())
                        .map_or_else(|_| a.to_string(), |r| format!("./{}", r.display()))
                } else {
                    a.to_string()
                }
            })
            .collect();
        println!("$ mycli {}", shown.join(" "));
        let status = Command::new(&self.mycli)
            .args(args.iter().map(OsStr::new))
            .env("MYCLI_HOME", &self.home)
            .env("NO_COLOR", "1")
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => println!(
                "[exit status {}]",
                s.code().map_or("none".to_string(), |c| c.to_string())
            ),
            Err(e) => println!("[cannot run mycli: {e}]"),
        }
    }
}

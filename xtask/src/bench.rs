//! Benchmarks of whole `mycli` processes: `cargo xtask bench` (start-up and
//! dispatch against the number of installed plugins) and
//! `cargo xtask bench-wasm` (a sandboxed plugin against an executable one).
//! Timings are medians of many runs, each table with a floor measured in the
//! same run; nothing here asserts a timing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, ensure_wasm_target, root, run};

/// Median, fastest and slowest of a set of timings, in milliseconds.
struct Stats {
    runs: usize,
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(mut samples: Vec<f64>) -> Stats {
        samples.sort_by(f64::total_cmp);
        Stats {
            runs: samples.len(),
            median: samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN),
            min: samples.first().copied().unwrap_or(f64::NAN),
            max: samples.last().copied().unwrap_or(f64::NAN),
        }
    }

    fn cell(&self) -> String {
        format!("{:.2} ({:.2}–{:.2})", self.median, self.min, self.max)
    }
}

/// Runs `make()` `runs` times and times each whole process; each run must
/// exit with `code`.
fn sample(runs: usize, code: i32, mut make: impl FnMut() -> Command) -> Result<Stats, String> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let mut cmd = make();
        let start = Instant::now();
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
        samples.push(start.elapsed().as_secs_f64() * 1000.0);
        if out.status.code() != Some(code) {
            return Err(format!(
                "{cmd:?} exited with {} instead of {code}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(Stats::of(samples))
}

/// Peak resident set size of one run of `cmd`, in KiB, from GNU time;
/// `None` where it is not installed.
fn peak_rss_kib(cmd: &Command) -> Option<u64> {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M"])
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    let out = timed.output().ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    stderr.lines().last()?.trim().parse().ok()
}

/// `cargo xtask bench [--smoke]`: start-up and dispatch against N installed
/// plugins. `--smoke` (for CI) uses debug builds, N up to 100 and one run
/// each, and only checks that every case works.
pub fn startup(smoke: bool) -> Result<(), String> {
    let mut build = cargo();
    build.args(["build", "--quiet"]);
    if !smoke {
        build.arg("--release");
    }
    build.args([
        "-p",
        "mycli",
        "-p",
        "mycli-greet",
        "-p",
        "snapin-bench-floor",
    ]);
    run(&mut build)?;
    let bin = root()
        .join("target")
        .join(if smoke { "debug" } else { "release" });
    // Another build of the host can be timed against the same floor, e.g.
    // one without the `wasm` feature or linked differently.
    let mycli = std::env::var_os("SNAPIN_BENCH_MYCLI")
        .map(PathBuf::from)
        .unwrap_or_else(|| bin.join("mycli"));
    println!("host: {}", mycli.display());
    let greet = bin.join("mycli-greet");
    let floor_bin = bin.join("snapin-bench-floor");
    let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
    let synth = snapin_bench::write_plugin(scratch.path()).map_err(|e| e.to_string())?;
    let sha256 = snapin::__private::sha256_file(&synth).map_err(|e| e.to_string())?;
    let extra = scratch.path().join("extra");
    std::fs::create_dir_all(&extra).map_err(|e| e.to_string())?;
    let extra_plugin = snapin_bench::write_plugin(&extra).map_err(|e| e.to_string())?;

    let ns: &[usize] = if smoke {
        &[0, 10, 100]
    } else {
        &[0, 10, 100, 1_000, 10_000]
    };
    // Cases that do not grow with N get the same number of runs at every N;
    // the ones that list or rewrite every plugin get fewer at N=10,000.
    let runs = |n: usize| match (smoke, n) {
        (true, _) => 1,
        (false, 10_000) => 11,
        _ => 31,
    };
    let flat_runs = if smoke { 1 } else { 51 };

    let floor = sample(flat_runs, 0, || Command::new(&floor_bin))?;
    let direct = sample(flat_runs, 0, || {
        let mut c = Command::new(&greet);
        c.args(["greet", "--who", "x"]);
        c
    })?;
    println!(
        "| N | generate ms | (a) --version | (b) greet --who x | (b) − direct | (c) --help | (d) plugins list | (e) usage error | (f) install one | peak RSS (b) KiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut rows = Vec::new();
    for &n in ns {
        let home = tempfile::tempdir().map_err(|e| e.to_string())?;
        let started = Instant::now();
        snapin_bench::record(&home.path().join("plugins.json"), n, &synth, &sha256)
            .map_err(|e| e.to_string())?;
        let generated = started.elapsed().as_secs_f64() * 1000.0;
        let mycli_in = |args: &[&str]| {
            let mut c = Command::new(&mycli);
            c.args(args)
                .env("MYCLI_HOME", home.path())
                .env("NO_COLOR", "1");
            c
        };
        let installed = mycli_in(&["plugins", "install", "--yes"])
            .arg(&greet)
            .output()
            .map_err(|e| e.to_string())?;
        if !installed.status.success() {
            return Err(String::from_utf8_lossy(&installed.stderr).into_owned());
        }
        // The first run after an index change rebuilds the start-up lookup
        // (one full load): do it untimed, as any later run would find it.
        sample(1, 0, || mycli_in(&["--version"]))?;
        let a = sample(flat_runs, 0, || mycli_in(&["--version"]))?;
        let b = sample(flat_runs, 0, || mycli_in(&["greet", "--who", "x"]))?;
        let rss = peak_rss_kib(&mycli_in(&["greet", "--who", "x"]))
            .map_or("-".to_string(), |k| k.to_string());
        let c = sample(runs(n), 0, || mycli_in(&["--help"]))?;
        let d = sample(runs(n), 0, || mycli_in(&["plugins", "list"]))?;
        let e = sample(flat_runs, 2, || mycli_in(&["greet", "--bogus"]))?;
        let mut install_samples = Vec::new();
        for _ in 0..runs(n).min(11) {
            install_samples.push(
                sample(1, 0, || {
                    let mut c = mycli_in(&["plugins", "install", "--yes"]);
                    c.arg(&extra_plugin);
                    c
                })?
                .median,
            );
            let removed = mycli_in(&["plugins", "remove", "synth"])
                .output()
                .map_err(|e| e.to_string())?;
            if !removed.status.success() {
                return Err(String::from_utf8_lossy(&removed.stderr).into_owned());
            }
        }
        let f = Stats::of(install_samples);
        let row = format!(
            "| {n} | {generated:.0} | {} | {} | {:.2} | {} | {} | {} | {} | {rss} |",
            a.cell(),
            b.cell(),
            b.median - direct.median,
            c.cell(),
            d.cell(),
            e.cell(),
            f.cell(),
        );
        println!("{row}");
        rows.push(row);
    }
    let floor_after = sample(flat_runs, 0, || Command::new(&floor_bin))?;
    let footer = format!(
        "\nCells are median (min–max) ms of whole processes; runs per cell: {flat_runs} for (a), (b), (e) and the floors; {} for (c), (d) (N=10,000: {}); (f) at most 11.\nFloor, `fn main() {{}}` (same profile): {} before, {} after. Running `mycli-greet greet --who x` directly: {}.",
        runs(0),
        runs(10_000),
        floor.cell(),
        floor_after.cell(),
        direct.cell()
    );
    println!("{footer}");
    if smoke {
        // The criterion benches of the in-process parts, each run once
        // (criterion's test mode), so they keep working too.
        let mut benches = cargo();
        benches.args(["test", "--quiet", "-p", "snapin-bench", "--benches"]);
        run(&mut benches)?;
    }
    Ok(())
}

/// `cargo xtask bench-wasm`: the executable `stats` against its sandboxed
/// twin `wstats`, with `mycli version` (no plugin at all) as the floor
/// measured in the same run. Prints a Markdown table.
pub fn wasm() -> Result<(), String> {
    ensure_wasm_target()?;
    run(cargo().args([
        "build",
        "--release",
        "--quiet",
        "-p",
        "mycli",
        "-p",
        "mycli-stats",
    ]))?;
    run(cargo().args([
        "build",
        "--release",
        "--quiet",
        "--target",
        "wasm32-wasip2",
        "-p",
        "mycli-wstats",
    ]))?;
    let target = root().join("target");
    let mycli = target.join("release/mycli");
    let stats = target.join("release/mycli-stats");
    let wstats = target.join("wasm32-wasip2/release/mycli_wstats.wasm");
    let home = tempfile::Builder::new()
        .prefix("mycli-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary MYCLI_HOME: {e}"))?;
    let mycli_in = |home: &Path, args: &[&str]| {
        let mut c = Command::new(&mycli);
        c.args(args).env("MYCLI_HOME", home);
        c
    };
    // Install times: a fresh home per sample.
    let install = |plugin: &Path| -> Result<Stats, String> {
        let mut samples = Vec::new();
        for _ in 0..5 {
            let h = tempfile::tempdir().map_err(|e| e.to_string())?;
            samples.push(
                sample(1, 0, || {
                    let mut c = mycli_in(h.path(), &["plugins", "install", "--yes"]);
                    c.arg(plugin);
                    c
                })?
                .median,
            );
        }
        Ok(Stats::of(samples))
    };
    let install_exec = install(&stats)?;
    let install_wasm = install(&wstats)?;
    for plugin in [&stats, &wstats] {
        sample(1, 0, || {
            let mut c = mycli_in(home.path(), &["plugins", "install", "--yes"]);
            c.arg(plugin);
            c
        })?;
    }
    let runs = 41;
    let floor = sample(runs, 0, || mycli_in(home.path(), &["version"]))?;
    let exec = sample(runs, 0, || mycli_in(home.path(), &["stats", "10"]))?;
    let wasm = sample(runs, 0, || mycli_in(home.path(), &["wstats", "10"]))?;
    let floor2 = sample(runs, 0, || mycli_in(home.path(), &["version"]))?;
    let row = |name: &str, s: &Stats| {
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} |",
            s.runs, s.median, s.min, s.max
        );
    };
    println!("| command (whole process) | runs | median ms | min ms | max ms |");
    println!("|---|---|---|---|---|");
    row("`mycli version` (floor, before)", &floor);
    row("`mycli stats 10` (executable)", &exec);
    row("`mycli wstats 10` (wasm, compiled cache)", &wasm);
    row("`mycli version` (floor, after)", &floor2);
    row(
        "`mycli plugins install mycli-stats` (describe + pin)",
        &install_exec,
    );
    row(
        "`mycli plugins install mycli_wstats.wasm` (compile + describe + pin)",
        &install_wasm,
    );
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "\nwasm/exec median ratio: {:.2}; component {} bytes, executable {} bytes",
        wasm.median / exec.median,
        size(&wstats),
        size(&stats)
    );
    Ok(())
}

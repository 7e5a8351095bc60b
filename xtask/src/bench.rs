//! Benchmarks of whole `mycli` processes: `cargo xtask bench` (start-up and
//! dispatch against the number of installed plugins) and
//! `cargo xtask bench-wasm` (a sandboxed plugin against an executable one).
//! Timings are medians of many runs, each table with a floor measured in the
//! same run; nothing here asserts a timing. Each command writes its tables,
//! and its verdict on each target, into BENCHMARKS.md ([`bench_doc`]);
//! `--smoke` runs write nothing (unless `SNAPIN_BENCH_OUT` names a scratch
//! copy to write into).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::bench_doc::{self, verdict};
use crate::{cargo, ensure_wasm_target, run, target_dir};

/// Where a run writes its section: nowhere for a smoke run or a run of
/// another host build, unless `SNAPIN_BENCH_OUT` names the file.
fn output(smoke: bool) -> Option<PathBuf> {
    let other_host = std::env::var_os("SNAPIN_BENCH_MYCLI").is_some();
    if std::env::var_os("SNAPIN_BENCH_OUT").is_some() || !(smoke || other_host) {
        Some(bench_doc::destination())
    } else {
        None
    }
}

/// Median, fastest and slowest of a set of timings, in milliseconds.
pub struct Stats {
    runs: usize,
    pub median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    pub fn of(mut samples: Vec<f64>) -> Stats {
        samples.sort_by(f64::total_cmp);
        Stats {
            runs: samples.len(),
            median: samples.get(samples.len() / 2).copied().unwrap_or(f64::NAN),
            min: samples.first().copied().unwrap_or(f64::NAN),
            max: samples.last().copied().unwrap_or(f64::NAN),
        }
    }

    pub fn cell(&self) -> String {
        format!("{:.2} ({:.2}–{:.2})", self.median, self.min, self.max)
    }
}

/// Runs `make()` `runs` times and times each whole process; each run must
/// exit with `code`.
pub fn sample(runs: usize, code: i32, mut make: impl FnMut() -> Command) -> Result<Stats, String> {
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

/// One row of the start-up table: the cases at one N.
struct Row {
    n: usize,
    generated: f64,
    a: Stats,
    b: Stats,
    c: Stats,
    d: Stats,
    e: Stats,
    f: Stats,
    rss: Option<u64>,
}

impl Row {
    fn line(&self, direct: f64) -> String {
        format!(
            "| {} | {:.0} | {} | {} | {:.2} | {} | {} | {} | {} | {} |",
            self.n,
            self.generated,
            self.a.cell(),
            self.b.cell(),
            self.b.median - direct,
            self.c.cell(),
            self.d.cell(),
            self.e.cell(),
            self.f.cell(),
            self.rss.map_or("-".to_string(), |k| k.to_string()),
        )
    }
}

/// What one run of `cargo xtask bench` measured.
struct StartupRun {
    smoke: bool,
    provenance: String,
    rows: Vec<Row>,
    floor: Stats,
    floor_after: Stats,
    direct: Stats,
    /// Runs per cell: (a), (b), (e) and the floors; (c), (d); (c), (d) at
    /// N=10,000.
    runs: [usize; 3],
}

impl StartupRun {
    /// The section of BENCHMARKS.md: provenance, the table, the floors and
    /// the verdict on each target of the start-up work.
    fn markdown(&self) -> String {
        let mut out = format!(
            "{} {} builds{}.\n\n",
            self.provenance,
            if self.smoke { "Debug" } else { "Release" },
            if self.smoke {
                " (`--smoke`: N up to 100, one run per cell; not a measurement)"
            } else {
                ""
            }
        );
        out.push_str("| N | generate ms | (a) --version | (b) greet --who x | (b) − direct | (c) --help | (d) plugins list | (e) usage error | (f) install one | peak RSS (b) KiB |\n|---|---|---|---|---|---|---|---|---|---|\n");
        for row in &self.rows {
            out.push_str(&row.line(self.direct.median));
            out.push('\n');
        }
        let [flat, listing, listing_10k] = self.runs;
        out.push_str(&format!(
            "\nCells: median (min–max) ms of whole processes. Runs per cell: {flat} for (a), (b), (e) and the floors, {listing} for (c) and (d) ({listing_10k} at N=10,000), at most 11 for (f). Floor, `fn main() {{}}` (same profile): {} before, {} after. Running `mycli-greet greet --who x` directly: {}.\n\n",
            self.floor.cell(),
            self.floor_after.cell(),
            self.direct.cell()
        ));
        out.push_str(&self.targets());
        out
    }

    /// The targets table: each computed from this run's figures.
    fn targets(&self) -> String {
        let at = |n: usize| self.rows.iter().find(|r| r.n == n);
        let floor = (self.floor.median + self.floor_after.median) / 2.0;
        let ratio =
            |case: &str, bound: f64, top: Option<f64>, bottom: Option<f64>| match (top, bottom) {
                (Some(t), Some(b)) => format!(
                    "| {case} | ≤ {bound}× | {t:.2} / {b:.2} = {:.2}× | {} |",
                    t / b,
                    verdict(t / b <= bound)
                ),
                _ => format!("| {case} | ≤ {bound}× | not measured | - |"),
            };
        let within = |case: &str, bound_ms: f64, value: Option<f64>| match value {
            Some(v) => format!(
                "| {case} | ≤ {bound_ms} ms | {v:.2} ms | {} |",
                verdict(v <= bound_ms)
            ),
            None => format!("| {case} | ≤ {bound_ms} ms | not measured | - |"),
        };
        let a = |n| at(n).map(|r| r.a.median);
        let over_direct = |n| at(n).map(|r| r.b.median - self.direct.median);
        let dispatch_bound = 1.5 * floor;
        let dispatch = match (over_direct(0), over_direct(10_000)) {
            (Some(small), Some(large)) => format!(
                "| (b) − direct, N=0 and N=10,000 | ≤ 1.5 × {floor:.2} = {dispatch_bound:.2} ms | {small:.2} and {large:.2} ms | {} |",
                verdict(small <= dispatch_bound && large <= dispatch_bound)
            ),
            _ => format!(
                "| (b) − direct, N=0 and N=10,000 | ≤ 1.5 × {floor:.2} = {dispatch_bound:.2} ms | not measured | - |"
            ),
        };
        let lines = [
            "| case | target | measured | verdict |".to_string(),
            "|---|---|---|---|".to_string(),
            ratio("(a) at N=10,000 vs N=0", 1.3, a(10_000), a(0)),
            ratio(
                "(a) at N=0 vs the floor (mean of before and after)",
                1.5,
                a(0),
                Some(floor),
            ),
            dispatch,
            ratio(
                "(e) at N=10,000 vs (a) at N=0",
                1.3,
                at(10_000).map(|r| r.e.median),
                a(0),
            ),
            within("(c) at N=1,000", 10.0, at(1_000).map(|r| r.c.median)),
            within("(d) at N=1,000", 20.0, at(1_000).map(|r| r.d.median)),
            ratio(
                "peak RSS of (b), N=10,000 vs N=0",
                1.3,
                at(10_000).and_then(|r| r.rss).map(|k| k as f64),
                at(0).and_then(|r| r.rss).map(|k| k as f64),
            ),
        ];
        lines.join("\n")
    }
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
    // The registry helper mycli hands its registry commands to, built on
    // its own so that mycli keeps its own features (see `cargo xtask test`).
    let mut helper = cargo();
    helper.args(["build", "--quiet"]);
    if !smoke {
        helper.arg("--release");
    }
    helper.args(["-p", "mycli-registry"]);
    run(&mut helper)?;
    let bin = target_dir().join(if smoke { "debug" } else { "release" });
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
    let provenance = bench_doc::provenance();
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
        let rss = peak_rss_kib(&mycli_in(&["greet", "--who", "x"]));
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
        let row = Row {
            n,
            generated,
            a,
            b,
            c,
            d,
            e,
            f,
            rss,
        };
        println!("{}", row.line(direct.median));
        rows.push(row);
    }
    let floor_after = sample(flat_runs, 0, || Command::new(&floor_bin))?;
    let measured = StartupRun {
        smoke,
        provenance,
        rows,
        floor,
        floor_after,
        direct,
        runs: [flat_runs, runs(0), runs(10_000)],
    };
    let body = measured.markdown();
    println!("\n{body}");
    if let Some(path) = output(smoke) {
        bench_doc::write_section(&path, "startup", &body)?;
    }
    let registry = crate::bench_registry::measure(&mycli, &greet, smoke)?;
    let body = registry.markdown(&bench_doc::provenance());
    println!("\n{body}");
    if let Some(path) = output(smoke) {
        bench_doc::write_section(&path, "registry", &body)?;
    }
    if smoke {
        // The criterion benches of the in-process parts, each run once
        // (criterion's test mode), so they keep working too.
        let mut benches = cargo();
        benches.args(["test", "--quiet", "-p", "snapin-bench", "--benches"]);
        run(&mut benches)?;
    }
    Ok(())
}

/// `cargo xtask bench-wasm [--smoke]`: the executable `stats` against its
/// sandboxed twin `wstats`, with `mycli version` (no plugin at all) as the
/// floor measured in the same run. `--smoke` uses debug builds of the host
/// and `stats`, 3 runs and 1 install each, and only checks that every case
/// works.
pub fn wasm(smoke: bool) -> Result<(), String> {
    ensure_wasm_target()?;
    let mut build = cargo();
    build.args(["build", "--quiet", "-p", "mycli", "-p", "mycli-stats"]);
    if !smoke {
        build.arg("--release");
    }
    run(&mut build)?;
    run(cargo().args([
        "build",
        "--release",
        "--quiet",
        "--target",
        "wasm32-wasip2",
        "-p",
        "mycli-wstats",
    ]))?;
    let target = target_dir();
    let profile = if smoke { "debug" } else { "release" };
    let mycli = target.join(profile).join("mycli");
    let stats = target.join(profile).join("mycli-stats");
    let wstats = target.join("wasm32-wasip2/release/mycli_wstats.wasm");
    let provenance = bench_doc::provenance();
    let home = tempfile::Builder::new()
        .prefix("mycli-bench-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary MYCLI_HOME: {e}"))?;
    let mycli_in = |home: &Path, args: &[&str]| {
        let mut c = Command::new(&mycli);
        c.args(args).env("MYCLI_HOME", home);
        c
    };
    let (runs, installs) = if smoke { (3, 1) } else { (41, 5) };
    // Install times: a fresh home per sample.
    let install = |plugin: &Path| -> Result<Stats, String> {
        let mut samples = Vec::new();
        for _ in 0..installs {
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
    let floor = sample(runs, 0, || mycli_in(home.path(), &["version"]))?;
    let exec = sample(runs, 0, || mycli_in(home.path(), &["stats", "10"]))?;
    let wasm = sample(runs, 0, || mycli_in(home.path(), &["wstats", "10"]))?;
    let floor2 = sample(runs, 0, || mycli_in(home.path(), &["version"]))?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let measured = WasmRun {
        smoke,
        provenance,
        floor,
        exec,
        wasm,
        floor2,
        install_exec,
        install_wasm,
        component_bytes: size(&wstats),
        executable_bytes: size(&stats),
    };
    let body = measured.markdown();
    println!("{body}");
    if let Some(path) = output(smoke) {
        bench_doc::write_section(&path, "wasm", &body)?;
    }
    Ok(())
}

/// What one run of `cargo xtask bench-wasm` measured.
struct WasmRun {
    smoke: bool,
    provenance: String,
    floor: Stats,
    exec: Stats,
    wasm: Stats,
    floor2: Stats,
    install_exec: Stats,
    install_wasm: Stats,
    component_bytes: u64,
    executable_bytes: u64,
}

impl WasmRun {
    /// The section of BENCHMARKS.md: provenance, the table and the verdict
    /// on the target (a sandboxed run within 3× the executable's).
    fn markdown(&self) -> String {
        let mut out = format!(
            "{} {} builds of `mycli` and `mycli-stats`{}.\n\n",
            self.provenance,
            if self.smoke { "Debug" } else { "Release" },
            if self.smoke {
                " (`--smoke`: 3 runs, 1 install; not a measurement)"
            } else {
                ""
            }
        );
        out.push_str("| command (whole process) | runs | median ms | min ms | max ms |\n|---|---|---|---|---|\n");
        for (name, s) in [
            ("`mycli version` (floor, before)", &self.floor),
            ("`mycli stats 10` (executable)", &self.exec),
            ("`mycli wstats 10` (wasm, compiled cache)", &self.wasm),
            ("`mycli version` (floor, after)", &self.floor2),
            (
                "`plugins install mycli-stats` (describe + pin)",
                &self.install_exec,
            ),
            (
                "`plugins install mycli_wstats.wasm` (validate + compile + describe + pin)",
                &self.install_wasm,
            ),
        ] {
            out.push_str(&format!(
                "| {name} | {} | {:.2} | {:.2} | {:.2} |\n",
                s.runs, s.median, s.min, s.max
            ));
        }
        let ratio = self.wasm.median / self.exec.median;
        out.push_str(&format!(
            "\nThe component is {} bytes, the executable {}.\n\n| case | target | measured | verdict |\n|---|---|---|---|\n| `mycli wstats 10` vs `mycli stats 10` | ≤ 3× | {:.2} / {:.2} = {ratio:.2}× | {} |",
            self.component_bytes,
            self.executable_bytes,
            self.wasm.median,
            self.exec.median,
            verdict(ratio <= 3.0)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(median: f64) -> Stats {
        Stats::of(vec![median])
    }

    fn row(n: usize, a: f64, b: f64, c: f64, d: f64, e: f64, rss: u64) -> Row {
        Row {
            n,
            generated: 0.0,
            a: ms(a),
            b: ms(b),
            c: ms(c),
            d: ms(d),
            e: ms(e),
            f: ms(1.0),
            rss: Some(rss),
        }
    }

    #[test]
    fn each_verdict_is_computed_from_the_run() {
        let run = StartupRun {
            smoke: false,
            provenance: "Date: today.".to_string(),
            rows: vec![
                row(0, 1.6, 3.0, 1.7, 1.8, 1.7, 6000),
                row(1_000, 1.6, 3.0, 9.0, 26.7, 1.7, 6000),
                row(10_000, 1.7, 2.9, 50.0, 180.0, 1.8, 9000),
            ],
            floor: ms(0.8),
            floor_after: ms(1.0),
            direct: ms(1.0),
            runs: [51, 31, 11],
        };
        let targets = run.targets();
        let verdicts: Vec<&str> = targets
            .lines()
            .skip(2)
            .map(|l| l.rsplit(" | ").next().unwrap().trim_end_matches(" |"))
            .collect();
        // (a) 1.7/1.6; (a)/floor 1.6/0.9; (b) − direct 2.0 and 1.9 > 1.35;
        // (e) 1.8/1.6; (c) 9 ms; (d) 26.7 ms; RSS 9000/6000.
        assert_eq!(
            verdicts,
            [
                "met", "not met", "not met", "met", "met", "not met", "not met"
            ],
            "{targets}"
        );
        assert!(targets.contains("| (d) at N=1,000 | ≤ 20 ms | 26.70 ms | not met |"));
        let text = run.markdown();
        assert!(text.starts_with("Date: today. Release builds.\n"), "{text}");
        assert!(text.contains("| 1000 | 0 | 1.60 (1.60–1.60) |"), "{text}");
    }

    #[test]
    fn a_smoke_run_leaves_the_large_targets_unmeasured() {
        let run = StartupRun {
            smoke: true,
            provenance: String::new(),
            rows: vec![row(0, 1.6, 3.0, 1.7, 1.8, 1.7, 6000)],
            floor: ms(0.8),
            floor_after: ms(1.0),
            direct: ms(1.0),
            runs: [1, 1, 1],
        };
        let targets = run.targets();
        assert!(targets.contains("| (c) at N=1,000 | ≤ 10 ms | not measured | - |"));
        assert!(run.markdown().contains("not a measurement"));
    }
}

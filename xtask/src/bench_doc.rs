//! Where the benchmarks write their figures: the sections of BENCHMARKS.md
//! between `<!-- bench:NAME:begin -->` and `<!-- bench:NAME:end -->`, each
//! replaced whole by the run that measured it, with the date and the
//! machine, so that no figure is copied by hand. The prose around the
//! markers is left as it is.
//!
//! `SNAPIN_BENCH_OUT=PATH` writes into another copy of the file instead
//! (to try the writing without touching the committed one).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::root;

/// The file the sections are written into.
pub fn destination() -> PathBuf {
    std::env::var_os("SNAPIN_BENCH_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("BENCHMARKS.md"))
}

/// Replaces section `name` of the file at `path` by `body`.
pub fn write_section(path: &Path, name: &str, body: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let new = replace_section(&text, name, body).map_err(|e| format!("{}: {e}", path.display()))?;
    // Written beside it and renamed over it: a failed write leaves the old
    // file whole.
    let tmp = path.with_extension("md.tmp");
    std::fs::write(&tmp, new).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
    println!("wrote the {name} section of {}", path.display());
    Ok(())
}

/// `text` with what lies between the markers of section `name` replaced by
/// `body`; an error when the markers are missing, repeated or out of order.
pub fn replace_section(text: &str, name: &str, body: &str) -> Result<String, String> {
    let begin = format!("<!-- bench:{name}:begin -->");
    let end = format!("<!-- bench:{name}:end -->");
    let (Some(start), Some(stop)) = (text.find(&begin), text.find(&end)) else {
        return Err(format!("the markers {begin} and {end} are not both there"));
    };
    if text.matches(&begin).count() != 1 || text.matches(&end).count() != 1 || stop < start {
        return Err(format!(
            "{begin} and {end} must each appear once, in that order"
        ));
    }
    let inner = start + begin.len();
    Ok(format!(
        "{}\n\n{}\n\n{}",
        &text[..inner],
        body.trim(),
        &text[stop..]
    ))
}

/// The date and the machine, for the line above each table: the date (UTC),
/// cores, processor, memory, kernel, Rust version, and the load average
/// when the run began (other work on the machine makes timings noisy).
pub fn provenance() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map_or("unknown processor", |(_, v)| v.trim())
        .to_string();
    let memory = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or("unknown memory".to_string(), |kib| {
            format!("{:.0} GiB", kib / 1024.0 / 1024.0)
        });
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_string();
    let load = read("/proc/loadavg")
        .split_whitespace()
        .next()
        .unwrap_or("unknown")
        .to_string();
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "rustc (version unknown)".to_string());
    format!(
        "Date: {}. Machine: {cores} cores ({cpu}), {memory}, Linux {kernel}; {rustc}. Load average at the start: {load}.",
        date(SystemTime::now())
    )
}

/// `time` as a UTC calendar date, YYYY-MM-DD.
fn date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    // Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's
    // `civil_from_days`).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

/// `met` or `not met`, for a verdict column.
pub fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "not met" }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_section_is_replaced_and_the_prose_around_it_kept() {
        let text = "# T\n\nProse before.\n\n<!-- bench:x:begin -->\nold\ntable\n<!-- bench:x:end -->\n\nProse after.\n<!-- bench:y:begin -->\nkept\n<!-- bench:y:end -->\n";
        let new = replace_section(text, "x", "| new |\n").unwrap();
        assert_eq!(
            new,
            "# T\n\nProse before.\n\n<!-- bench:x:begin -->\n\n| new |\n\n<!-- bench:x:end -->\n\nProse after.\n<!-- bench:y:begin -->\nkept\n<!-- bench:y:end -->\n"
        );
        // Writing again gives the same file.
        assert_eq!(replace_section(&new, "x", "| new |").unwrap(), new);
    }

    #[test]
    fn missing_repeated_or_reversed_markers_are_refused() {
        let b = "<!-- bench:x:begin -->";
        let e = "<!-- bench:x:end -->";
        for text in [
            String::new(),
            b.to_string(),
            format!("{e}\n{b}"),
            format!("{b}\n{e}\n{b}\n{e}"),
        ] {
            assert!(replace_section(&text, "x", "t").is_err(), "{text:?}");
        }
    }

    #[test]
    fn benchmarks_md_has_each_section_once() {
        let text = std::fs::read_to_string(root().join("BENCHMARKS.md")).unwrap();
        for name in ["startup", "wasm"] {
            let new = replace_section(&text, name, "written").unwrap();
            assert!(new.contains("written"), "{name}");
        }
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        let at = |secs: u64| date(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01");
        assert_eq!(at(951_782_400), "2000-02-29");
        assert_eq!(at(1_798_243_200 + 86_399), "2026-12-26");
        assert_eq!(at(4_107_456_000), "2100-02-28");
    }
}

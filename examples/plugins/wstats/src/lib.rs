//! `mycli wstats`: the `stats` example as a sandboxed WebAssembly plugin.
//!
//! `mycli wstats N` prints the sum of `0..=N` (with `--mean`, also the mean),
//! with checked arithmetic: a sum too large for a `u64` is a clear error
//! (exit status 1), never a wrong number. It also shows the two host calls a
//! component has: it logs a debug record, and prints the configuration value
//! `greeting` first when the user set one (for `mycli`, in
//! `[plugins.wstats.config]`).
//!
//! Build with `cargo build --target wasm32-wasip2 -p mycli-wstats`; the
//! component is `target/wasm32-wasip2/debug/mycli_wstats.wasm`.

use clap::{Args, Subcommand};
use snapin_guest::{Context, Error, Level};

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Sum the integers from 0 to N
    Wstats(StatsArgs),
}

/// Arguments of `mycli wstats`.
#[derive(Args)]
struct StatsArgs {
    /// Upper bound, inclusive
    n: u64,
    /// Also print the mean
    #[arg(long)]
    mean: bool,
}

/// The largest `n` whose sum `0..=n` fits in a `u64`.
const MAX_N: u64 = 6_074_000_999;

/// `0 + 1 + ... + n`, or `None` when it does not fit in a `u64`.
fn sum_to(n: u64) -> Option<u64> {
    // n(n+1)/2, halving the even factor first so no intermediate overflows
    // before the result does.
    let next = n.checked_add(1)?;
    if n.is_multiple_of(2) {
        (n / 2).checked_mul(next)
    } else {
        n.checked_mul(next / 2)
    }
}

/// The mean of `0..=n`, which is `n / 2`, written exactly.
fn mean_to(n: u64) -> String {
    if n.is_multiple_of(2) {
        format!("{}", n / 2)
    } else {
        format!("{}.5", n / 2)
    }
}

/// The lines `mycli wstats` prints, after the optional greeting.
fn stats(args: &StatsArgs) -> Result<Vec<String>, Error> {
    let n = args.n;
    let sum = sum_to(n).ok_or_else(|| {
        Error::new(format!(
            "sum 0..{n} does not fit in 64 bits; N can be at most {MAX_N}"
        ))
    })?;
    let mut lines = vec![format!("sum 0..{n} = {sum}")];
    if args.mean {
        lines.push(format!("mean = {}", mean_to(n)));
    }
    Ok(lines)
}

fn run(cmd: Commands, ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Wstats(args) => {
            let host = &ctx.host.name;
            snapin_guest::log(
                Level::Debug,
                &format!("wstats: summing 0..{} for {host}", args.n),
            );
            if let Some(greeting) = snapin_guest::config("greeting") {
                println!("{greeting}");
            }
            for line in stats(&args)? {
                println!("{line}");
            }
        }
    }
    Ok(())
}

snapin_guest::export_plugin!(Commands, run, host = "mycli", api = "^1.0");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums() {
        assert_eq!(sum_to(0), Some(0));
        assert_eq!(sum_to(10), Some(55));
        assert_eq!(sum_to(11), Some(66));
        assert_eq!(sum_to(MAX_N), Some(18_446_744_070_963_499_500));
        assert_eq!(sum_to(MAX_N + 1), None);
        assert_eq!(sum_to(u64::MAX), None);
    }

    #[test]
    fn means() {
        assert_eq!(mean_to(10), "5");
        assert_eq!(mean_to(5), "2.5");
    }

    #[test]
    fn output_lines() {
        let lines = stats(&StatsArgs { n: 10, mean: true }).unwrap();
        assert_eq!(lines, ["sum 0..10 = 55", "mean = 5"]);
        let err = stats(&StatsArgs {
            n: MAX_N + 1,
            mean: false,
        })
        .unwrap_err();
        assert!(err.message().contains("at most 6074000999"), "{err}");
    }
}

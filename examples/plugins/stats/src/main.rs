//! `mycli stats`: a plugin whose command can fail, written with the SDK.
//!
//! `mycli stats N` prints the sum of `0..=N`, with checked arithmetic: a sum
//! too large for a `u64` is a clear error (exit status 1), never a wrong
//! number.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use snapin_sdk::{Context, Error};

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Sum the integers from 0 to N
    Stats(StatsArgs),
}

/// Arguments of `mycli stats`.
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

fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Stats(args) => {
            let n = args.n;
            let sum = sum_to(n).ok_or_else(|| {
                Error::new(format!(
                    "sum 0..{n} does not fit in 64 bits; N can be at most {MAX_N}"
                ))
            })?;
            println!("sum 0..{n} = {sum}");
            if args.mean {
                println!("mean = {}", mean_to(n));
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    snapin_sdk::plugin!("mycli", "^1.0").run(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums() {
        assert_eq!(sum_to(0), Some(0));
        assert_eq!(sum_to(1), Some(1));
        assert_eq!(sum_to(10), Some(55));
        assert_eq!(sum_to(11), Some(66));
        // The largest n whose sum fits: n(n+1)/2 <= 2^64 - 1.
        assert_eq!(sum_to(MAX_N), Some(18_446_744_070_963_499_500));
        assert_eq!(sum_to(MAX_N + 1), None);
        assert_eq!(sum_to(u64::MAX), None);
    }

    #[test]
    fn means() {
        assert_eq!(mean_to(10), "5");
        assert_eq!(mean_to(5), "2.5");
        assert_eq!(mean_to(0), "0");
    }
}

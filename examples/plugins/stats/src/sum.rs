//! The arithmetic and output of `stats`, shared as source with its
//! sandboxed twin `wstats` (`#[path]` in examples/plugins/wstats), so the
//! two plugins print the same thing by construction. The crate that
//! includes it provides `Error` at its root (`snapin_sdk::Error` or its
//! re-export `snapin_guest::Error`).

use clap::Args;

use crate::Error;

/// Arguments of `mycli stats` (and `mycli wstats`).
#[derive(Args)]
pub struct StatsArgs {
    /// Upper bound, inclusive
    pub n: u64,
    /// Also print the mean
    #[arg(long)]
    pub mean: bool,
}

/// The largest `n` whose sum `0..=n` fits in a `u64`.
pub const MAX_N: u64 = 6_074_000_999;

/// `0 + 1 + ... + n`, or `None` when it does not fit in a `u64`.
pub fn sum_to(n: u64) -> Option<u64> {
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
pub fn mean_to(n: u64) -> String {
    if n.is_multiple_of(2) {
        format!("{}", n / 2)
    } else {
        format!("{}.5", n / 2)
    }
}

/// The lines the command prints.
pub fn lines(args: &StatsArgs) -> Result<Vec<String>, Error> {
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

    #[test]
    fn output_lines() {
        let out = lines(&StatsArgs { n: 10, mean: true }).unwrap();
        assert_eq!(out, ["sum 0..10 = 55", "mean = 5"]);
        let err = lines(&StatsArgs {
            n: MAX_N + 1,
            mean: false,
        })
        .unwrap_err();
        assert!(err.message().contains("at most 6074000999"), "{err}");
    }
}

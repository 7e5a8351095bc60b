//! Typed argument values (the `type` and `range` fields of an arg, added
//! in API 1.3): whether a value fits, and the clap parser that checks it.
//!
//! One function, [`check`], decides whether a text fits an arg's type and
//! range, so that the manifest rules (a `default` or a choice must fit)
//! and the host's check of what the user typed never disagree. The host
//! only checks: the plugin still gets the exact text the user typed
//! (`docs/protocol.md` §4), whatever the type.

use clap::builder::{PathBufValueParser, ValueParser};
use clap::{Arg, ValueHint};
use snapin_protocol::{Bound, ValueRange, ValueType};

/// Why `value` does not fit type `ty` and `range`, in words that follow
/// clap's "invalid value 'X' for 'ARG': ": `not a whole number ...`,
/// `must be at least 1`. A type this version does not know takes anything.
pub(crate) fn check(ty: &ValueType, range: Option<&ValueRange>, value: &str) -> Result<(), String> {
    match ty {
        ValueType::Int => {
            // Wider than any plugin's integer type, so that a u64 or i64
            // argument is never refused here for its size: its range, or
            // the plugin, bounds it.
            let n: i128 = value.parse().map_err(|e: std::num::ParseIntError| {
                match e.kind() {
                    std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                        "a whole number too large for any integer type (at most 39 digits)"
                    }
                    _ => "not a whole number (such as 42)",
                }
                .to_string()
            })?;
            in_range(range, |b| match b {
                Bound::Int(b) => n.cmp(&i128::from(b)),
                Bound::Float(b) => (n as f64).total_cmp(&b),
            })
        }
        ValueType::Number => {
            let x: f64 = value
                .parse()
                .map_err(|_| "not a number (such as 1.5, -2 or 1e3)".to_string())?;
            if !x.is_finite() {
                return Err("not a finite number (such as 1.5, -2 or 1e3)".to_string());
            }
            in_range(range, |b| x.total_cmp(&b.as_f64()))
        }
        ValueType::Path | ValueType::File | ValueType::Dir if value.is_empty() => {
            Err("a path is not empty".to_string())
        }
        ValueType::Url if !is_absolute_url(value) => Err(
            "not an absolute URL (a scheme, ':' and the rest, such as https://example.com/x)"
                .to_string(),
        ),
        _ => Ok(()),
    }
}

/// Whether the value `cmp` compares with each bound lies within `range`.
fn in_range(
    range: Option<&ValueRange>,
    cmp: impl Fn(Bound) -> std::cmp::Ordering,
) -> Result<(), String> {
    let Some(range) = range else {
        return Ok(());
    };
    let below = range.min.is_some_and(|min| cmp(min).is_lt());
    let above = range.max.is_some_and(|max| cmp(max).is_gt());
    if !below && !above {
        return Ok(());
    }
    Err(match (range.min, range.max) {
        (Some(min), Some(max)) => format!("must be from {min} to {max}"),
        (Some(min), None) => format!("must be at least {min}"),
        (None, Some(max)) => format!("must be at most {max}"),
        (None, None) => unreachable!("a value outside a range has a bound"),
    })
}

/// `SCHEME:REST`: a scheme of a letter then letters, digits, `+`, `-` and
/// `.` (RFC 3986), then something, and no white space or control
/// character anywhere.
fn is_absolute_url(value: &str) -> bool {
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `arg` with the value parser and completion hint of type `ty`: a typed
/// value that does not fit is clap's usage error (`invalid value '0' for
/// '--count <COUNT>': must be at least 1`, exit status 2), and the path
/// types complete file-system paths. A string, or a type this version
/// does not know, is left as it was.
pub(crate) fn typed(arg: Arg, ty: &ValueType, range: Option<ValueRange>) -> Arg {
    let hint = match ty {
        ValueType::Path => Some(ValueHint::AnyPath),
        ValueType::File => Some(ValueHint::FilePath),
        ValueType::Dir => Some(ValueHint::DirPath),
        ValueType::Url => Some(ValueHint::Url),
        _ => None,
    };
    let arg = match hint {
        Some(hint) => arg.value_hint(hint),
        None => arg,
    };
    match ty {
        // Non-UTF-8 paths are paths too; clap refuses an empty one.
        ValueType::Path | ValueType::File | ValueType::Dir => {
            arg.value_parser(PathBufValueParser::new())
        }
        ValueType::Int | ValueType::Number | ValueType::Url => {
            let numeric = ty.is_numeric();
            let ty = ty.clone();
            let parser = ValueParser::new(move |value: &str| {
                check(&ty, range.as_ref(), value).map(|()| value.to_string())
            });
            arg.value_parser(parser).allow_negative_numbers(numeric)
        }
        _ => arg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(min: Option<Bound>, max: Option<Bound>) -> ValueRange {
        ValueRange::new(min, max)
    }

    #[test]
    fn an_int_is_a_whole_number_within_its_range() {
        let r = range(Some(Bound::Int(1)), Some(Bound::Int(10)));
        for fine in ["1", "10", "+5", "007"] {
            assert_eq!(check(&ValueType::Int, Some(&r), fine), Ok(()), "{fine}");
        }
        assert_eq!(
            check(&ValueType::Int, Some(&r), "0").unwrap_err(),
            "must be from 1 to 10"
        );
        assert_eq!(
            check(&ValueType::Int, Some(&r), "11").unwrap_err(),
            "must be from 1 to 10"
        );
        let at_least = range(Some(Bound::Int(1)), None);
        assert_eq!(
            check(&ValueType::Int, Some(&at_least), "-3").unwrap_err(),
            "must be at least 1"
        );
        let at_most = range(None, Some(Bound::Int(-1)));
        assert_eq!(
            check(&ValueType::Int, Some(&at_most), "0").unwrap_err(),
            "must be at most -1"
        );
        for bad in ["", "x", "1.5", "1e3", "0x10", " 1"] {
            let e = check(&ValueType::Int, None, bad).unwrap_err();
            assert!(e.starts_with("not a whole number"), "{bad}: {e}");
        }
        // Every i64 and u64 is a whole number the host lets through.
        for fine in ["-9223372036854775808", "18446744073709551615"] {
            assert_eq!(check(&ValueType::Int, None, fine), Ok(()), "{fine}");
        }
        let huge = "1".repeat(40);
        assert_eq!(
            check(&ValueType::Int, None, &huge).unwrap_err(),
            "a whole number too large for any integer type (at most 39 digits)"
        );
    }

    #[test]
    fn a_number_is_finite_and_within_its_range() {
        let r = range(Some(Bound::Float(0.5)), Some(Bound::Int(2)));
        for fine in ["0.5", "1", "2", "2.0", "1e0", ".75"] {
            assert_eq!(check(&ValueType::Number, Some(&r), fine), Ok(()), "{fine}");
        }
        assert_eq!(
            check(&ValueType::Number, Some(&r), "0.4").unwrap_err(),
            "must be from 0.5 to 2"
        );
        for bad in ["", "one", "1,5", "NaN", "inf", "-infinity", "1e999"] {
            let e = check(&ValueType::Number, None, bad).unwrap_err();
            assert!(e.starts_with("not a "), "{bad}: {e}");
        }
    }

    #[test]
    fn paths_are_not_empty_and_urls_are_absolute() {
        for ty in [ValueType::Path, ValueType::File, ValueType::Dir] {
            assert_eq!(check(&ty, None, "a b/c.txt"), Ok(()));
            assert!(check(&ty, None, "").is_err());
        }
        for fine in [
            "https://example.com/x?y=1",
            "file:///tmp/a",
            "mailto:a@b.c",
            "git+ssh://h/r",
        ] {
            assert_eq!(check(&ValueType::Url, None, fine), Ok(()), "{fine}");
        }
        for bad in [
            "example.com",
            "/tmp/a",
            "1http://x",
            "https:",
            "a b:c",
            ":x",
            "h://a b",
        ] {
            assert!(check(&ValueType::Url, None, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_and_unknown_types_take_anything() {
        for ty in [ValueType::String, ValueType::from_word("uuid")] {
            assert_eq!(check(&ty, None, ""), Ok(()));
            assert_eq!(check(&ty, None, "x y"), Ok(()));
        }
    }
}

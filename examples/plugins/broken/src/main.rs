//! `mycli-broken`: a plugin whose describe step fails, to show that the host
//! reports one broken plugin clearly and keeps working.
//!
//! It uses no SDK, only the standard library: on `--snapin-describe` it
//! complains on stderr, prints nothing on stdout and exits with status 3.
//! Any other invocation prints `broken ran`.

use std::process::ExitCode;

/// The argument a host passes to ask for the manifest (see the snapin
/// protocol).
const DESCRIBE_FLAG: &str = "--snapin-describe";

fn main() -> ExitCode {
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == DESCRIBE_FLAG)
    {
        eprintln!(
            "broken: cannot describe itself: configuration file /nonexistent/broken.toml is missing"
        );
        return ExitCode::from(3);
    }
    println!("broken ran");
    ExitCode::SUCCESS
}

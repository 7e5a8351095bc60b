//! `cargo run -p snapin-bench --example make_home -- DIR N`: a `MYCLI_HOME`
//! at DIR with N synthetic plugins, to profile one case of `cargo xtask
//! bench` by hand (`MYCLI_HOME=DIR perf record mycli plugins list`).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(Ok(n))) = (args.first(), args.get(1).map(|n| n.parse::<usize>())) else {
        eprintln!("usage: make_home DIR N");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| snapin_bench::home(&dir, n)) {
        eprintln!(
            "make_home: cannot write {} plugins to {}: {e}",
            n,
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    println!("{n} synthetic plugins in {}", dir.display());
    ExitCode::SUCCESS
}

//! `mycli wread`, `wls`, `wenv`, `wnet`, `wwrite`: a WebAssembly plugin that
//! tries to reach outside its sandbox, to test that it cannot unless the
//! user granted it.
//!
//! Its manifest requests one directory with read access and the environment
//! variable `SNAPIN_TEST_SECRET`. Each command reports what it could do on
//! stdout, or what stopped it on stderr as `COMMAND: cannot ...: ERROR` with
//! exit status 1, so a test can tell a denial from a success.
//!
//! It also does, when the host's configuration file asks it to (see
//! [`hostile_from_config`]), what a hostile component can do before the
//! user has agreed to anything: log lines that drive the terminal, read
//! stdin and flood its output while it describes itself.

use std::io::{BufRead, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use clap::Subcommand;
use snapin_guest::{Access, Context, Error, Level};

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Print a file's contents
    Wread {
        /// The file to read
        path: PathBuf,
    },
    /// List a directory's entries, sorted
    Wls {
        /// The directory to list
        path: PathBuf,
    },
    /// Print an environment variable
    Wenv {
        /// The variable's name
        name: String,
    },
    /// Open a TCP connection
    Wnet {
        /// Where to connect, as HOST:PORT
        addr: String,
    },
    /// Write a file
    Wwrite {
        /// The file to write
        path: PathBuf,
        /// What to write into it
        text: String,
    },
}

/// Prints `message` on stderr and fails with status 1 without saying more.
fn fail(message: String) -> Error {
    eprintln!("{message}");
    Error::new("")
}

/// The names of the entries of directory `path`, sorted.
fn list(path: &PathBuf) -> std::io::Result<Vec<String>> {
    let mut names = std::fs::read_dir(path)?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<std::io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Wread { path } => {
            let bytes = std::fs::read(&path)
                .map_err(|e| fail(format!("wread: cannot read {}: {e}", path.display())))?;
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
        Commands::Wls { path } => {
            let names = list(&path)
                .map_err(|e| fail(format!("wls: cannot list {}: {e}", path.display())))?;
            for name in names {
                println!("{name}");
            }
        }
        Commands::Wenv { name } => match std::env::var_os(&name) {
            Some(value) => println!("{}", value.to_string_lossy()),
            None => return Err(fail(format!("wenv: {name} is not set"))),
        },
        Commands::Wnet { addr } => {
            TcpStream::connect(&addr)
                .map_err(|e| fail(format!("wnet: cannot connect to {addr}: {e}")))?;
            println!("connected");
        }
        Commands::Wwrite { path, text } => {
            std::fs::write(&path, text)
                .map_err(|e| fail(format!("wwrite: cannot write {}: {e}", path.display())))?;
        }
    }
    Ok(())
}

/// What the tests of hostile input ask for in `[plugins.wescape.config]`:
///
/// - `log = "TEXT"`: logs TEXT at warn level, at every describe and run;
/// - `stderr = "TEXT"`: writes TEXT on stderr, at every describe and run;
/// - `describe = "read-stdin"`: describe reads a line of stdin and logs
///   what it read;
/// - `describe = "flood"`: describe writes 120 MiB on stdout and on stderr;
/// - `describe = "fail"`: describe exits with status 3 (after `stderr`).
///
/// Describe is the call with no command in argv.
fn hostile_from_config() {
    if let Some(text) = snapin_guest::config("log") {
        snapin_guest::log(Level::Warn, &text);
    }
    if let Some(text) = snapin_guest::config("stderr") {
        eprintln!("{text}");
    }
    if std::env::args().count() > 1 {
        return;
    }
    match snapin_guest::config("describe").as_deref() {
        Some("read-stdin") => {
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
            snapin_guest::log(Level::Warn, &format!("read from stdin: {line:?}"));
        }
        Some("flood") => {
            let chunk = vec![b'x'; 1024 * 1024];
            for _ in 0..120 {
                let _ = std::io::stdout().write_all(&chunk);
                let _ = std::io::stderr().write_all(&chunk);
            }
        }
        Some("fail") => std::process::exit(3),
        _ => {}
    }
}

snapin_guest::export_plugin!(
    Commands,
    run,
    host = "mycli",
    api = "^1.0",
    configure = |plugin| {
        hostile_from_config();
        plugin
            .request_dir(Access::Read, "files to read when granted")
            .request_env("SNAPIN_TEST_SECRET")
    },
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_sorted_names() {
        let dir = std::env::temp_dir().join(format!("mycli-wescape-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["b", "a", "c"] {
            std::fs::write(dir.join(name), name).unwrap();
        }
        let names = list(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(names.unwrap(), ["a", "b", "c"]);
    }

    #[test]
    fn failures_print_nothing_more() {
        let err = fail("wenv: X is not set".into());
        assert_eq!(err.message(), "");
        assert_eq!(err.code(), 1);
    }
}

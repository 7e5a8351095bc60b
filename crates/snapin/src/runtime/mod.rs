//! Runtimes: the ways a plugin's code can run behind the one contract.
//!
//! Every kind of plugin — an executable, a plugin compiled into the host, and
//! later others — implements [`Plugin`]: describe yourself, run a command.
//! The loader and the `plugins` commands only ever talk to this trait, so a
//! new runtime is a new implementation, not a new code path.

pub mod exec;
#[cfg(feature = "wasm")]
pub mod wasm;
#[cfg(windows)]
mod win32;

use std::ffi::OsString;
use std::path::PathBuf;

use snapin_protocol::{Context, Manifest};

use crate::unknown::{self, Unknowns};

/// The plugin contract, whatever runs the plugin.
///
/// Implement it to compile a plugin into a host
/// (`HostBuilder::plugin`); such plugins go
/// through the same loader loop as installed ones.
pub trait Plugin: Send + Sync {
    /// Returns the plugin's manifest.
    fn describe(&self) -> Result<Manifest, PluginError>;

    /// Returns the manifest as the plugin wrote it, undecoded (JSON), so
    /// that the host can point out fields it does not know. Runtimes that
    /// read JSON from the plugin return it as read; the default encodes
    /// what [`Plugin::describe`] returns.
    fn describe_json(&self) -> Result<Vec<u8>, PluginError> {
        serde_json::to_vec(&self.describe()?)
            .map_err(|e| PluginError::Other(format!("cannot encode the manifest: {e}")))
    }

    /// Runs one of the plugin's commands to completion.
    fn run(&self, invocation: &Invocation<'_>) -> Result<Exit, PluginError>;
}

/// One run of a plugin command.
#[derive(Debug)]
pub struct Invocation<'a> {
    /// What the plugin is told about the run (also in `SNAPIN_CONTEXT`).
    pub context: &'a Context,
    /// The arguments for the plugin: the command path, then the arguments
    /// the user gave it (`["greet", "--who", "Rust"]`).
    pub argv: &'a [OsString],
}

/// How a plugin run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Exit {
    /// It exited with this status (0 is success).
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
    /// It ended with this Windows exception code (an NTSTATUS of error
    /// severity, such as `0xC0000005`, an access violation): Windows' way
    /// of saying a process crashed, where Unix has signals.
    Exception(u32),
}

impl std::fmt::Display for Exit {
    /// "exit status 3", "killed by SIGSEGV (signal 11)", "crashed with
    /// exception 0xC0000005 (access violation)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Exit::Code(code) => write!(f, "exit status {code}"),
            Exit::Signal(signal) => {
                write!(f, "killed by {} (signal {signal})", signal_name(signal))
            }
            Exit::Exception(code) => write!(
                f,
                "crashed with exception 0x{code:08X} ({})",
                exception_name(code)
            ),
        }
    }
}

/// Why a plugin could not describe itself or run. The message reads after
/// "plugin 'NAME'"; [`PluginError::fix`] says what to do where the runtime
/// knows better than the host.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginError {
    /// The plugin file is gone.
    #[error("its file {path} is missing")]
    Missing {
        /// Where it was installed from.
        path: PathBuf,
    },
    /// The plugin process could not be started.
    #[error("cannot start {path}: {source}")]
    Spawn {
        /// The plugin file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Describing took longer than allowed.
    #[error("it did not describe itself within {seconds} s (it was killed)")]
    Timeout {
        /// The limit.
        seconds: u64,
    },
    /// Describing exited, but a process it started outside its process
    /// group (with `setsid`) still holds its output open.
    #[error(
        "it exited but left a process running that holds its output (a process it started in a session of its own)"
    )]
    LeftRunning,
    /// Describing printed more than allowed.
    #[error("its description is larger than the {limit} byte limit")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Describing exited with a failure.
    #[error("`--snapin-describe` failed ({status}){}", stderr_line(.stderr))]
    DescribeFailed {
        /// How it ended.
        status: String,
        /// What it printed on stderr (bounded).
        stderr: String,
    },
    /// Describing printed something that is not a manifest.
    #[error("its description is not a valid manifest: {reason}")]
    BadManifest {
        /// The parser's complaint.
        reason: String,
    },
    /// A plugin compiled into the host panicked.
    #[error("it panicked: {message}")]
    Panicked {
        /// The panic message.
        message: String,
    },
    /// A sandboxed plugin crashed (a WebAssembly trap, e.g. a panic).
    #[error("crashed (WebAssembly trap: {message})")]
    Trap {
        /// What the trap was.
        message: String,
    },
    /// A sandboxed plugin ran past its time limit and was stopped.
    #[error("ran longer than its limit of {seconds} s and was stopped")]
    TimeLimit {
        /// The limit.
        seconds: f64,
    },
    /// A sandboxed plugin tried to use more memory than allowed.
    #[error("tried to use more than its memory limit of {mib} MiB and was stopped")]
    MemoryLimit {
        /// The limit.
        mib: usize,
    },
    /// The plugin, or what it needs, cannot be used as it is, and the
    /// runtime knows the fix (a core module instead of a component, a
    /// configuration file that does not parse).
    #[error("{reason}")]
    Unusable {
        /// What is wrong.
        reason: String,
        /// What to do about it.
        fix: String,
    },
    /// Any other failure a runtime reports.
    #[error("{0}")]
    Other(String),
}

/// The last line the plugin wrote on stderr, for a one-line error: made
/// safe to print, and cut to a line's length.
fn stderr_line(stderr: &str) -> String {
    const KEEP: usize = 200;
    match stderr.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(line) => {
            let line = crate::text::one_line(line.trim());
            match line.char_indices().nth(KEEP) {
                Some((cut, _)) => format!(": {}...", &line[..cut]),
                None => format!(": {line}"),
            }
        }
        None => String::new(),
    }
}

impl PluginError {
    /// What to do about it, when the runtime knows.
    pub fn fix(&self) -> Option<&str> {
        match self {
            PluginError::Unusable { fix, .. } => Some(fix),
            _ => None,
        }
    }

    /// The plugin's stderr output, when there is some worth showing with
    /// `--debug`.
    pub fn stderr(&self) -> Option<&str> {
        match self {
            PluginError::DescribeFailed { stderr, .. } if !stderr.trim().is_empty() => Some(stderr),
            _ => None,
        }
    }
}

/// The message of a caught panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_string()
    }
}

/// Calls `f`, turning a panic into [`PluginError::Panicked`], for plugins
/// that run inside the host process.
/// The default panic hook is silenced meanwhile, so the panic costs the user
/// one reported line rather than a backtrace banner.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> Result<T, PluginError>) -> Result<T, PluginError> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    match result {
        Ok(result) => result,
        Err(payload) => Err(PluginError::Panicked {
            message: panic_message(payload.as_ref()),
        }),
    }
}

/// What a plugin file is, by its first 8 bytes: the one place install,
/// `plugins check` and the WebAssembly runtime tell files apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A WebAssembly component (version 0x0d, layer 1): a sandboxed plugin.
    Component,
    /// A core WebAssembly module (version 1): not a component.
    CoreModule,
    /// A WebAssembly binary of another version or layer.
    OtherWasm,
    /// Not WebAssembly: an executable plugin, if it is executable.
    NotWasm,
}

impl FileKind {
    /// The kind of the file that starts with `head` (its first 8 bytes or
    /// fewer).
    pub fn of(head: &[u8]) -> FileKind {
        if !head.starts_with(b"\0asm") {
            return FileKind::NotWasm;
        }
        match head.get(4..8) {
            Some([1, 0, 0, 0]) => FileKind::CoreModule,
            Some([_, _, 1, 0]) => FileKind::Component,
            _ => FileKind::OtherWasm,
        }
    }

    /// Why a WebAssembly file of this kind cannot be a plugin, and the
    /// fix; `None` for a component and for a file that is not WebAssembly.
    pub fn unusable(self) -> Option<(&'static str, &'static str)> {
        match self {
            FileKind::CoreModule => Some((
                "it is a core WebAssembly module, not a component",
                "build it as a component: `cargo build --release --target wasm32-wasip2` (see docs/protocol.md §12), or wrap the module with `wasm-tools component new`",
            )),
            FileKind::OtherWasm => Some((
                "it is a WebAssembly binary of an unknown version or layer, not a component",
                "build it as a component: `cargo build --release --target wasm32-wasip2` (see docs/protocol.md §12)",
            )),
            FileKind::Component | FileKind::NotWasm => None,
        }
    }
}

/// A manifest decoded from what a plugin wrote, with the fields this
/// version does not know (accepted: a later minor version may add fields).
#[derive(Debug)]
pub struct Decoded {
    /// The manifest.
    pub manifest: Manifest,
    /// The fields it has that this version does not know.
    pub unknown: Unknowns,
}

/// Decodes the manifest JSON a plugin wrote (an executable on stdout, a
/// component from `describe`), telling apart the ways it can be wrong.
pub fn decode_manifest(bytes: &[u8]) -> Result<Decoded, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("it printed nothing on stdout".to_string());
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            e.valid_up_to()
        ));
    }
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("it is not valid JSON: {e}"))?;
    if !json.is_object() {
        return Err(format!(
            "it is JSON but not an object ({} instead of {{\"manifest\": 1, ...}})",
            json_type(&json)
        ));
    }
    let unknown = unknown::in_manifest(&json);
    let manifest =
        serde_json::from_value(json).map_err(|e| format!("it is JSON but not a manifest: {e}"))?;
    Ok(Decoded { manifest, unknown })
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// What Windows exception `code` is, for one-line error messages:
/// `0xC0000005` → "access violation".
pub fn exception_name(code: u32) -> &'static str {
    match code {
        0xC000_0005 => "access violation",
        0xC000_001D => "illegal instruction",
        0xC000_0094 => "integer division by zero",
        0xC000_0095 => "integer overflow",
        0xC000_00FD => "stack overflow",
        0xC000_0135 => "a DLL it needs was not found",
        0xC000_0142 => "a DLL failed to initialise",
        0xC000_013A => "Ctrl-C",
        0xC000_0374 => "heap corruption",
        0xC000_0409 => "fail-fast abort",
        0xC000_0017 | 0xC000_009A => "out of memory",
        _ => "an exception",
    }
}

/// Whether a Windows exit code is an exception, not a status the program
/// chose: an NTSTATUS of error severity defined by Windows (the top two
/// bits set, the customer bit clear). `exit(-1)`, 0xFFFFFFFF, is not one.
pub fn is_exception(code: u32) -> bool {
    code & 0xE000_0000 == 0xC000_0000
}

/// The conventional name of a signal, for one-line error messages.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => "a signal",
    }
}

//! Executable plugins: any program that follows the protocol in
//! `docs/protocol.md`.
//!
//! Describing runs `PLUGIN --snapin-describe` with stdin closed, bounded in
//! time and output size, because at install time the plugin is not trusted
//! yet. Running hands the plugin the terminal and waits for it.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use snapin_protocol::{DESCRIBE_FLAG, ENV_API, ENV_CONTEXT, ENV_HOST, Manifest};
use wait_timeout::ChildExt;

use super::{Exit, Invocation, Plugin, PluginError};

/// Bounds on a describe call.
#[derive(Debug, Clone, Copy)]
pub struct DescribeLimits {
    /// How long the plugin may take.
    pub timeout: Duration,
    /// How many bytes of stdout it may print.
    pub max_output: usize,
    /// How many bytes of stderr are kept for diagnostics.
    pub max_stderr: usize,
}

impl Default for DescribeLimits {
    fn default() -> Self {
        DescribeLimits {
            timeout: Duration::from_secs(10),
            max_output: 1024 * 1024,
            max_stderr: 16 * 1024,
        }
    }
}

/// A plugin that is an executable file.
#[derive(Debug, Clone)]
pub struct ExecPlugin {
    path: PathBuf,
    host: String,
    api: String,
    limits: DescribeLimits,
}

impl ExecPlugin {
    /// The executable at `path`, for host `host` providing API `api`.
    pub fn new(path: impl Into<PathBuf>, host: &str, api: &str, limits: DescribeLimits) -> Self {
        ExecPlugin {
            path: path.into(),
            host: host.to_string(),
            api: api.to_string(),
            limits,
        }
    }

    /// The plugin file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn command(&self) -> Result<Command, PluginError> {
        if !self.path.exists() {
            return Err(PluginError::Missing {
                path: self.path.clone(),
            });
        }
        let mut cmd = Command::new(&self.path);
        cmd.env(ENV_HOST, &self.host).env(ENV_API, &self.api);
        Ok(cmd)
    }

    fn spawn_error(&self, source: std::io::Error) -> PluginError {
        PluginError::Spawn {
            path: self.path.clone(),
            source,
        }
    }
}

impl Plugin for ExecPlugin {
    fn describe(&self) -> Result<Manifest, PluginError> {
        let limits = self.limits;
        let mut child = self
            .command()?
            .arg(DESCRIBE_FLAG)
            .env_remove(ENV_CONTEXT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.spawn_error(e))?;
        let started = Instant::now();

        // Readers run on threads so a plugin that fills one pipe while we
        // wait on the other cannot deadlock us. Each keeps at most its limit
        // (+1 byte to tell "too large"), then drops the pipe so a plugin
        // that keeps writing gets EPIPE instead of blocking us.
        let (out_tx, out_rx) = mpsc::channel();
        let (err_tx, err_rx) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            read_bounded(stdout, limits.max_output + 1, out_tx);
        }
        if let Some(stderr) = child.stderr.take() {
            read_bounded(stderr, limits.max_stderr, err_tx);
        }

        let status = match child.wait_timeout(limits.timeout) {
            Ok(Some(status)) => status,
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(PluginError::Timeout {
                    seconds: limits.timeout.as_secs(),
                });
            }
            Err(e) => return Err(self.spawn_error(e)),
        };
        // The pipes may outlive the plugin (a grandchild holding them), so
        // wait for the readers only as long as the time budget allows.
        let remaining = || {
            limits
                .timeout
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(100))
        };
        let stdout: Vec<u8> = out_rx.recv_timeout(remaining()).unwrap_or_default();
        let stderr: Vec<u8> = err_rx.recv_timeout(remaining()).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&stderr).into_owned();

        if stdout.len() > limits.max_output {
            return Err(PluginError::TooLarge {
                limit: limits.max_output,
            });
        }
        if !status.success() {
            return Err(PluginError::DescribeFailed {
                status: describe_status(status),
                stderr,
            });
        }
        serde_json::from_slice(&stdout).map_err(|e| PluginError::BadManifest {
            reason: if stdout.iter().all(u8::is_ascii_whitespace) {
                "it printed nothing on stdout".to_string()
            } else {
                e.to_string()
            },
        })
    }

    fn run(&self, invocation: &Invocation<'_>) -> Result<Exit, PluginError> {
        let context = serde_json::to_string(invocation.context)
            .map_err(|e| PluginError::Other(format!("cannot encode the context: {e}")))?;
        // Like a shell, leave Ctrl-C and Ctrl-\ to the plugin (it gets them
        // from the terminal too) and wait for it to finish, so its exit
        // status is not lost.
        keep_running_on_terminal_signals();
        let status = self
            .command()?
            .args(invocation.argv)
            .env(ENV_CONTEXT, context)
            .status()
            .map_err(|e| self.spawn_error(e))?;
        Ok(exit_of(status))
    }
}

fn keep_running_on_terminal_signals() {
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGQUIT] {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Err(e) = signal_hook::flag::register(signal, flag) {
            tracing::debug!("cannot defer signal {signal} to the plugin: {e}");
        }
    }
}

fn read_bounded(mut pipe: impl Read + Send + 'static, limit: usize, done: mpsc::Sender<Vec<u8>>) {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.by_ref().take(limit as u64).read_to_end(&mut buf);
        drop(pipe);
        let _ = done.send(buf);
    });
}

/// How a process ended, in the terms of [`Exit`].
pub fn exit_of(status: std::process::ExitStatus) -> Exit {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return Exit::Signal(signal);
        }
    }
    Exit::Code(status.code().unwrap_or(1))
}

fn describe_status(status: std::process::ExitStatus) -> String {
    match exit_of(status) {
        Exit::Code(code) => format!("exit status {code}"),
        Exit::Signal(sig) => format!("killed by {} ({sig})", super::signal_name(sig)),
    }
}

/// Whether `path` is a file the current user may execute.
pub fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// The arguments as the plugin will see them, for messages.
pub fn display_argv(argv: &[OsString]) -> String {
    argv.iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

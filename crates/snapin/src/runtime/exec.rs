//! Executable plugins: any program that follows the protocol in
//! `docs/protocol.md`.
//!
//! Describing runs `PLUGIN --snapin-describe` with stdin closed, bounded in
//! time and output size, because at install time the plugin is not trusted
//! yet. It runs in a process group of its own, which is killed when the call
//! ends, so nothing it started can outlive it or hold its pipes open; a
//! process it started in a session of its own (`setsid`) escapes the group:
//! once the plugin has exited, its output is waited for only a moment, and
//! describe fails naming that cause. On Windows a job object takes the
//! place of the process group.
//! Running hands the plugin the terminal and waits for it: the plugin stays
//! in the host's process group, in the terminal's foreground, so it can read
//! the terminal and Ctrl-C reaches it and everything it started. On
//! Windows Ctrl-C reaches every process of the console, and the host leaves
//! it to the plugin in the same way.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use snapin_protocol::{DESCRIBE_FLAG, ENV_API, ENV_CONTEXT, ENV_HOST, Manifest};
use wait_timeout::ChildExt;

use super::{Exit, Invocation, Plugin, PluginError};

/// Bounds on a describe call: start from `DescribeLimits::default()` and
/// change the fields you need.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
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

/// How long describe's output may take to end once the plugin has exited
/// and its process group is killed: the pipes end at once unless a process
/// that escaped the group still holds them.
const PIPE_GRACE: Duration = Duration::from_secs(1);

/// A plugin that is an executable file.
#[derive(Debug, Clone)]
pub struct ExecPlugin {
    path: PathBuf,
    host: String,
    api: String,
    limits: DescribeLimits,
}

impl ExecPlugin {
    /// The executable at `path`, for host `host` providing API `api` (the
    /// newest it serves: what the plugin is told while it describes
    /// itself; a run tells it the version from its context).
    pub fn new(path: impl Into<PathBuf>, host: &str, api: &str, limits: DescribeLimits) -> Self {
        ExecPlugin {
            path: path.into(),
            host: host.to_string(),
            api: api.to_string(),
            limits,
        }
    }

    /// The plugin's command, told the host and the API version `api`.
    fn command(&self, api: &str) -> Result<Command, PluginError> {
        if !self.path.exists() {
            return Err(PluginError::Missing {
                path: self.path.clone(),
            });
        }
        let mut cmd = Command::new(&self.path);
        cmd.env(ENV_HOST, &self.host).env(ENV_API, api);
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
        parse_manifest(&self.describe_json()?).map_err(|reason| PluginError::BadManifest { reason })
    }

    /// What `--snapin-describe` printed on stdout, once it exited 0 within
    /// the bounds.
    fn describe_json(&self) -> Result<Vec<u8>, PluginError> {
        let limits = self.limits;
        let mut cmd = self.command(&self.api)?;
        cmd.arg(DESCRIBE_FLAG)
            .env_remove(ENV_CONTEXT)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd.spawn().map_err(|e| self.spawn_error(e))?;
        #[cfg(windows)]
        let job = super::win32::Job::holding(&child);
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

        let waited = child.wait_timeout(limits.timeout);
        // Whatever happened, end every process the plugin started: one left
        // behind would hold the pipes open (and the host waiting on them).
        #[cfg(unix)]
        kill_group(&child);
        #[cfg(windows)]
        if let Some(job) = &job {
            job.terminate();
        }
        let status = match waited {
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
        // The plugin has exited and the rest of its group is gone, so the
        // pipes reach their end at once, unless a process that left the
        // group (`setsid`; on Windows, one started before the plugin was
        // put in its job) still holds them: give
        // the readers a moment, within the time budget, then stop waiting
        // for them and say so.
        let grace = PIPE_GRACE.min(
            limits
                .timeout
                .saturating_sub(started.elapsed())
                .max(Duration::from_millis(100)),
        );
        let deadline = Instant::now() + grace;
        let (Ok(stdout), Ok(stderr)) = (
            out_rx.recv_timeout(grace),
            err_rx.recv_timeout(deadline.saturating_duration_since(Instant::now())),
        ) else {
            return Err(PluginError::LeftRunning);
        };
        let stderr = String::from_utf8_lossy(&stderr).into_owned();

        if stdout.len() > limits.max_output {
            return Err(PluginError::TooLarge {
                limit: limits.max_output,
            });
        }
        if !status.success() {
            return Err(PluginError::DescribeFailed {
                status: exit_of(status).to_string(),
                stderr,
            });
        }
        Ok(stdout)
    }

    fn run(&self, invocation: &Invocation<'_>) -> Result<Exit, PluginError> {
        let context = serde_json::to_string(invocation.context)
            .map_err(|e| PluginError::Other(format!("cannot encode the context: {e}")))?;
        // Like a shell, leave Ctrl-C and Ctrl-\ to the plugin (it gets them
        // from the terminal too) and wait for it to finish, so its exit
        // status is not lost.
        keep_running_on_terminal_signals();
        // The API this plugin runs under, which during a transition
        // between two majors may be older than the one it described itself
        // under.
        let status = self
            .command(&invocation.context.host.api)?
            .args(invocation.argv)
            .env(ENV_CONTEXT, context)
            .status()
            .map_err(|e| self.spawn_error(e))?;
        Ok(exit_of(status))
    }
}

/// Decodes what `--snapin-describe` printed, telling apart the ways it can
/// be wrong: nothing, not UTF-8, not JSON, JSON that is not a manifest.
fn parse_manifest(stdout: &[u8]) -> Result<Manifest, String> {
    super::decode_manifest(stdout).map(|d| d.manifest)
}

/// Kills the process group `child` leads (see [`ExecPlugin::describe`]).
/// While any process of the group lives, the group's id is not reused for
/// another process, so this reaches only what the plugin started.
#[cfg(unix)]
fn kill_group(child: &std::process::Child) {
    let Some(pgid) = i32::try_from(child.id())
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    // ESRCH (nothing left) is the common case, not an error.
    let _ = rustix::process::kill_process_group(pgid, rustix::process::Signal::KILL);
}

fn keep_running_on_terminal_signals() {
    #[cfg(unix)]
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGQUIT] {
        let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Err(e) = signal_hook::flag::register(signal, flag) {
            tracing::debug!("cannot defer signal {signal} to the plugin: {e}");
        }
    }
    #[cfg(windows)]
    super::win32::leave_console_interrupts_to_the_plugin();
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
    match status.code() {
        // Windows exit codes are 32 bits; a crash is an exception code.
        #[allow(clippy::cast_sign_loss)]
        Some(code) if cfg!(windows) && super::is_exception(code as u32) => {
            Exit::Exception(code as u32)
        }
        Some(code) => Exit::Code(code),
        None => Exit::Code(1),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_output_is_told_apart_by_what_is_wrong_with_it() {
        let reason = |bytes: &[u8]| parse_manifest(bytes).unwrap_err();
        assert_eq!(reason(b" \n"), "it printed nothing on stdout");
        assert_eq!(
            reason(b"{\"name\": \"caf\xe9\"}"),
            "it is not UTF-8 text (invalid byte at offset 13)"
        );
        assert!(reason(b"{oops").starts_with("it is not valid JSON: "));
        assert!(reason(b"{} extra").starts_with("it is not valid JSON: trailing"));
        assert!(reason(b"[1, 2]").contains("not an object (an array instead of"));
        assert!(reason(b"{}").starts_with("it is JSON but not a manifest: missing field"));
        let m = br#"{"manifest":1,"host":"mycli","name":"a","version":"1.0.0","api":"^1.0","commands":[{"name":"a"}]}"#;
        assert_eq!(parse_manifest(m).map(|m| m.name), Ok("a".to_string()));
    }
}

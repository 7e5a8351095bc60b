//! The run's [`Context`], read from the environment.
//!
//! A host passes the context as JSON in [`ENV_CONTEXT`]. When that variable is
//! absent the plugin was started by hand (by its author, or by its own tests),
//! and a *standalone* context stands in for it, so that a plugin can be run and
//! tested without any host installed. When the variable is present but not a
//! valid context, something is wrong between host and plugin, and that is an
//! error rather than something to paper over.

use std::env::{self, VarError};
use std::fmt;

use snapin_protocol::{Context, ENV_CONTEXT, HostInfo, PluginDirs};

/// Building a [`Context`] from the environment, for [`snapin_protocol::Context`].
///
/// [`Plugin::run`](crate::Plugin::run) does this for you; call it yourself
/// only when you parse arguments on your own.
///
/// ```
/// use snapin_sdk::{Context, ContextExt};
///
/// let ctx = Context::standalone("mycli", "greet", vec!["greet".into()]);
/// assert_eq!(ctx.host.name, "mycli");
/// assert!(ctx.dirs.config.ends_with("mycli-greet/config"));
/// ```
pub trait ContextExt: Sized {
    /// The context of this run: parsed from [`ENV_CONTEXT`] when it is set,
    /// otherwise [standalone](ContextExt::standalone) for `host`, `plugin`
    /// and `command`.
    ///
    /// # Errors
    ///
    /// [`ContextError`] when the variable is set but not valid UTF-8 or not a
    /// valid context.
    fn from_env(host: &str, plugin: &str, command: Vec<String>) -> Result<Self, ContextError>;

    /// Parses a context from its JSON form (the value of [`ENV_CONTEXT`]).
    ///
    /// # Errors
    ///
    /// [`ContextError`] when `json` is not a valid context.
    fn from_json(json: &str) -> Result<Self, ContextError>;

    /// The context for a plugin started without a host: host `host` with
    /// empty version and API, verbosity 0, colour `auto`, and directories
    /// under `{temp}/{host}-{plugin}/{config,data,cache}`.
    fn standalone(host: &str, plugin: &str, command: Vec<String>) -> Self;
}

impl ContextExt for Context {
    fn from_env(host: &str, plugin: &str, command: Vec<String>) -> Result<Self, ContextError> {
        resolve(env::var(ENV_CONTEXT), host, plugin, command)
    }

    fn from_json(json: &str) -> Result<Self, ContextError> {
        serde_json::from_str(json).map_err(|e| ContextError {
            problem: format!("is not a valid context: {e}"),
        })
    }

    fn standalone(host: &str, plugin: &str, command: Vec<String>) -> Self {
        let base = temp_dir().join(format!("{host}-{plugin}"));
        Context::new(
            HostInfo::new(host, "", ""),
            plugin,
            command,
            PluginDirs::new(base.join("config"), base.join("data"), base.join("cache")),
        )
    }
}

/// The system's temporary directory. WASI has none to ask for (the standard
/// library panics there), so a sandboxed plugin run standalone gets `/tmp`,
/// which is only a name: it has no files unless a host grants some.
fn temp_dir() -> std::path::PathBuf {
    if cfg!(target_os = "wasi") {
        std::path::PathBuf::from("/tmp")
    } else {
        env::temp_dir()
    }
}

/// [`ContextExt::from_env`] given the variable's value, so it can be tested
/// without touching the process environment.
fn resolve(
    var: Result<String, VarError>,
    host: &str,
    plugin: &str,
    command: Vec<String>,
) -> Result<Context, ContextError> {
    match var {
        Ok(json) => Context::from_json(&json),
        Err(VarError::NotPresent) => Ok(Context::standalone(host, plugin, command)),
        Err(VarError::NotUnicode(_)) => Err(ContextError {
            problem: "is not valid UTF-8".to_owned(),
        }),
    }
}

/// [`ENV_CONTEXT`] is set but unusable. Its message names the variable and
/// what is wrong with it, on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextError {
    problem: String,
}

impl fmt::Display for ContextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ENV_CONTEXT} {}", self.problem)
    }
}

impl std::error::Error for ContextError {}

#[cfg(test)]
mod tests {
    use snapin_protocol::ColorChoice;

    use super::*;

    const VALID: &str = r#"{
        "host": {"name": "mycli", "version": "1.4.0", "api": "1.2.0"},
        "plugin": "greet", "command": ["greet"], "verbosity": -1,
        "color": "never", "later": "ignored",
        "dirs": {"config": "/c", "data": "/d", "cache": "/k"}
    }"#;

    #[test]
    fn valid_json_is_parsed() {
        let ctx = resolve(Ok(VALID.to_owned()), "other", "x", vec![]).unwrap();
        assert_eq!(ctx.host.name, "mycli");
        assert_eq!(ctx.host.api, "1.2.0");
        assert_eq!(ctx.command, ["greet"]);
        assert_eq!(ctx.verbosity, -1);
        assert_eq!(ctx.color, ColorChoice::Never);
        assert_eq!(ctx.dirs.cache, std::path::Path::new("/k"));
    }

    #[test]
    fn invalid_json_names_the_variable_and_the_problem() {
        let err = resolve(Ok(r#"{"host": 3}"#.to_owned()), "mycli", "greet", vec![]).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("SNAPIN_CONTEXT is not a valid context: "),
            "{msg}"
        );
        assert!(msg.contains("expected struct HostInfo"), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");

        let err = resolve(Ok(String::new()), "mycli", "greet", vec![]).unwrap_err();
        assert!(err.to_string().starts_with("SNAPIN_CONTEXT "));
    }

    #[test]
    fn missing_fields_are_errors() {
        let err = Context::from_json(r#"{"plugin": "greet"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field"), "{err}");
    }

    #[test]
    fn absent_variable_gives_a_standalone_context() {
        let ctx = resolve(
            Err(VarError::NotPresent),
            "mycli",
            "greet",
            vec!["greet".into()],
        )
        .unwrap();
        assert_eq!(
            ctx,
            Context::standalone("mycli", "greet", vec!["greet".into()])
        );
        assert_eq!(ctx.host.name, "mycli");
        assert_eq!(ctx.host.version, "");
        assert_eq!(ctx.plugin, "greet");
        assert_eq!(ctx.verbosity, 0);
        assert_eq!(ctx.color, ColorChoice::Auto);
        let base = env::temp_dir().join("mycli-greet");
        assert_eq!(ctx.dirs.config, base.join("config"));
        assert_eq!(ctx.dirs.data, base.join("data"));
        assert_eq!(ctx.dirs.cache, base.join("cache"));
    }
}

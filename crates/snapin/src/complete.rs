//! Shell completions for the host's own commands, plugin commands and the
//! `plugins` group: bash, zsh, fish, elvish and PowerShell.
//!
//! The script a shell sources is a few lines that call back into the host
//! at each TAB (`MYCLI_COMPLETE=bash mycli -- WORDS...`), the convention of
//! clap_complete's dynamic completions. The host answers from the same
//! cached manifests as `--help`: the first word from the start-up lookup's
//! listing of every plugin command, later words from the manifest of the
//! one plugin that provides the command being completed. So a plugin
//! installed after the script was sourced completes at once, and no plugin
//! is started to complete its arguments.
//!
//! What a user adds to their shell's start-up file (for `mycli`):
//!
//! ```text
//! bash: source <(MYCLI_COMPLETE=bash mycli)       # in ~/.bashrc
//! zsh:  source <(MYCLI_COMPLETE=zsh mycli)        # in ~/.zshrc, after compinit
//! fish: MYCLI_COMPLETE=fish mycli | source        # in ~/.config/fish/completions/mycli.fish
//! ```
//!
//! A candidate reaches the user's command line as a word they could have
//! typed. The manifest contract holds choices to characters no shell reads
//! as code, but a candidate can also be a file name (a sandboxed plugin
//! granted a directory can name a file `a$(reboot)`): zsh, fish and elvish
//! quote what they insert, bash and PowerShell insert it as it is, so for
//! those two the host quotes every candidate that is not a plain word
//! ([`SAFE_BASH`], [`SAFE_POWERSHELL`]).
//!
//! The variable is the host's own (`<NS>_COMPLETE`), not
//! clap's `COMPLETE`, so a plugin written with clap that offers its own
//! completions never answers for the host, and no command name is taken
//! from plugins.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

use std::borrow::Cow;

use clap::Command;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Shells, Zsh};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::paths;
use crate::text::is_shell_word_char;
use crate::ui::{self, Options};

/// The environment variable that asks host `ns` for completions:
/// `mycli` → `MYCLI_COMPLETE`. Its value names the shell.
fn env_var(ns: &str) -> String {
    paths::env_var(ns, "COMPLETE")
}

/// The variable through which the bash and zsh scripts say which word the
/// cursor is on (fish and PowerShell pass the words up to the cursor).
const CURSOR_VAR: &str = "_CLAP_COMPLETE_INDEX";

/// A shell's request for completions, read from the environment and the
/// command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    /// The value of `<NS>_COMPLETE`: a shell name, or a path to one (so
    /// `$SHELL` works).
    shell: OsString,
    /// The program as it was started: the script calls back the same one.
    program: OsString,
    /// The words the shell passed after `--`, program name first; none
    /// means "print the script to source".
    words: Vec<OsString>,
    /// The index in `words` of the word being completed.
    cursor: usize,
}

impl Request {
    /// The request in the environment of host `ns` started with `args`
    /// (program name first), if `<NS>_COMPLETE` is set (and not empty or
    /// `0`).
    pub(crate) fn from_env(ns: &str, args: &[OsString]) -> Option<Request> {
        let shell = std::env::var_os(env_var(ns)).filter(|s| !s.is_empty() && s != "0")?;
        let cursor = std::env::var(CURSOR_VAR)
            .ok()
            .and_then(|i| i.parse::<usize>().ok());
        Some(Request::new(shell, args, cursor))
    }

    fn new(shell: OsString, args: &[OsString], cursor: Option<usize>) -> Request {
        let program = args.first().cloned().unwrap_or_default();
        let words: Vec<OsString> = args
            .iter()
            .skip(1)
            .skip_while(|a| *a != "--")
            .skip(1)
            .cloned()
            .collect();
        let last = words.len().saturating_sub(1);
        Request {
            shell,
            program,
            cursor: cursor.unwrap_or(last).min(words.len()),
            words,
        }
    }

    /// The words before the one being completed, program name first: what
    /// decides which plugins must be loaded to answer.
    pub(crate) fn words_before_cursor(&self) -> &[OsString] {
        &self.words[..self.cursor]
    }
}

/// Answers `request` with `command` (the host's, with the plugins loaded
/// for the words before the cursor) on stdout and returns the exit status:
/// the script to source, or the candidates for the word under the cursor.
/// A failure to complete a word exits non-zero without a message, which
/// the scripts read as "no candidates": text on stderr would land in the
/// middle of the user's command line.
pub(crate) fn answer(engine: &Engine, command: &Command, request: Request) -> i32 {
    let ns = engine.ns();
    let var = env_var(ns);
    let options = Options::default();
    let shell_name = Path::new(&request.shell)
        .file_stem()
        .unwrap_or(&request.shell)
        .to_string_lossy()
        .into_owned();
    let shells = Shells(&[&SAFE_BASH, &Elvish, &Fish, &SAFE_POWERSHELL, &Zsh]);
    let Some(shell) = shells.completer(&shell_name) else {
        let known: Vec<&str> = shells.names().collect();
        let unknown = Diagnostic::new(format!(
            "cannot write completions for shell '{shell_name}' ({var}={}): snapin knows {}",
            request.shell.to_string_lossy(),
            known.join(", ")
        ))
        .with_fix(format!(
            "set {var} to one of them, e.g. `source <({var}=bash {ns})`"
        ))
        .with_exit(2);
        ui::error(ns, &unknown, &options);
        return unknown.exit().into();
    };
    let current_dir = std::env::current_dir().ok();
    let mut out = Vec::new();
    if request.words.is_empty() {
        let name = command.get_name();
        let bin = command.get_bin_name().unwrap_or(name);
        let program = callback_path(&request.program, current_dir.as_deref());
        if let Err(e) = shell.write_registration(&var, name, bin, &program, &mut out) {
            let failed = Diagnostic::new(format!(
                "cannot write the {shell_name} completion script: {e}"
            ));
            ui::error(ns, &failed, &options);
            return failed.exit().into();
        }
    } else {
        let mut command = command.clone();
        if shell
            .write_complete(
                &mut command,
                request.words,
                current_dir.as_deref(),
                &mut out,
            )
            .is_err()
        {
            return 1;
        }
    }
    match std::io::stdout().write_all(&out) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// Writes the completions of the words `args` for a shell.
type WriteCandidates =
    fn(&mut Command, Vec<OsString>, Option<&Path>, &mut dyn Write) -> std::io::Result<()>;

/// One of clap_complete's shells whose candidates are written by `write`
/// instead, quoted for that shell: bash and PowerShell put what the
/// completion returns on the command line as it is, where `$(...)`,
/// backquotes, `;` and the rest would run when the user presses Enter.
struct Quoting<S> {
    shell: S,
    write: WriteCandidates,
}

/// bash: clap_complete's registration, [`bash_candidates`].
const SAFE_BASH: Quoting<Bash> = Quoting {
    shell: Bash,
    write: bash_candidates,
};

/// PowerShell: clap_complete's registration, [`powershell_candidates`].
const SAFE_POWERSHELL: Quoting<Powershell> = Quoting {
    shell: Powershell,
    write: powershell_candidates,
};

impl<S: EnvCompleter> EnvCompleter for Quoting<S> {
    fn name(&self) -> &'static str {
        self.shell.name()
    }

    fn is(&self, name: &str) -> bool {
        self.shell.is(name)
    }

    fn write_registration(
        &self,
        var: &str,
        name: &str,
        bin: &str,
        completer: &str,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        self.shell
            .write_registration(var, name, bin, completer, buf)
    }

    fn write_complete(
        &self,
        cmd: &mut Command,
        args: Vec<OsString>,
        current_dir: Option<&Path>,
        buf: &mut dyn Write,
    ) -> std::io::Result<()> {
        (self.write)(cmd, args, current_dir, buf)
    }
}

/// As clap_complete's bash completion: the word at `_CLAP_COMPLETE_INDEX`,
/// candidates separated by `_CLAP_IFS`; each quoted with [`bash_quoted`].
fn bash_candidates(
    cmd: &mut Command,
    args: Vec<OsString>,
    current_dir: Option<&Path>,
    buf: &mut dyn Write,
) -> std::io::Result<()> {
    let index: usize = std::env::var(CURSOR_VAR)
        .ok()
        .and_then(|i| i.parse().ok())
        .unwrap_or_default();
    let ifs = std::env::var("_CLAP_IFS").unwrap_or_else(|_| "\n".to_string());
    let candidates = clap_complete::engine::complete(cmd, args, index, current_dir)?;
    let words: Vec<String> = candidates
        .iter()
        .map(|c| bash_quoted(&c.get_value().to_string_lossy()).into_owned())
        .collect();
    write!(buf, "{}", words.join(&ifs))
}

/// As clap_complete's PowerShell completion: the last word, one
/// `VALUE<TAB>HELP` a line; each value quoted with [`powershell_quoted`].
fn powershell_candidates(
    cmd: &mut Command,
    args: Vec<OsString>,
    current_dir: Option<&Path>,
    buf: &mut dyn Write,
) -> std::io::Result<()> {
    let index = args.len().saturating_sub(1);
    for candidate in clap_complete::engine::complete(cmd, args, index, current_dir)? {
        let value = candidate.get_value().to_string_lossy();
        write!(buf, "{}", powershell_quoted(&value))?;
        if let Some(help) = candidate.get_help() {
            let help = help.to_string();
            write!(buf, "\t{}", help.lines().next().unwrap_or_default())?;
        }
        writeln!(buf)?;
    }
    Ok(())
}

/// `word` as bash reads it back: as it is when it is a plain word (see
/// [`is_shell_word_char`]), else in single quotes (a `'` inside written
/// `'\''`). A directory's trailing `/` stays outside the quotes, so that
/// completing carries on inside it.
fn bash_quoted(word: &str) -> Cow<'_, str> {
    if word.chars().all(is_shell_word_char) {
        return Cow::Borrowed(word);
    }
    let (stem, slash) = match word.strip_suffix('/') {
        Some(stem) if !stem.is_empty() => (stem, "/"),
        _ => (word, ""),
    };
    Cow::Owned(format!("'{}'{slash}", stem.replace('\'', "'\\''")))
}

/// `word` as PowerShell reads it back: as it is when it is a plain word,
/// else in single quotes, with each of PowerShell's single-quote
/// characters inside doubled.
fn powershell_quoted(word: &str) -> Cow<'_, str> {
    if word.chars().all(is_shell_word_char) {
        return Cow::Borrowed(word);
    }
    let mut quoted = String::from("'");
    for c in word.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            quoted.push(c);
        }
        quoted.push(c);
    }
    quoted.push('\'');
    Cow::Owned(quoted)
}

/// The program the script calls back: as typed when it was found on
/// `PATH` (so an upgraded host answers), made absolute when it was a
/// relative path.
fn callback_path(program: &OsStr, current_dir: Option<&Path>) -> String {
    let path = PathBuf::from(program);
    let path = match current_dir {
        Some(dir) if path.is_relative() && path.components().count() > 1 => dir.join(path),
        _ => path,
    };
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    #[test]
    fn no_words_after_the_separator_asks_for_the_script() {
        let r = Request::new("bash".into(), &os(&["./mycli"]), None);
        assert!(r.words.is_empty());
        assert_eq!(r.words_before_cursor(), &[] as &[OsString]);
        let r = Request::new("bash".into(), &os(&["mycli", "greet"]), None);
        assert!(r.words.is_empty(), "words count only after `--`");
    }

    #[test]
    fn the_cursor_splits_the_words() {
        let args = os(&["/bin/mycli", "--", "mycli", "greet", "--w"]);
        // fish: the last word is the one being completed.
        let r = Request::new("fish".into(), &args, None);
        assert_eq!(r.words, os(&["mycli", "greet", "--w"]));
        assert_eq!(r.words_before_cursor(), os(&["mycli", "greet"]));
        // bash: the script says where the cursor is.
        let r = Request::new("bash".into(), &args, Some(1));
        assert_eq!(r.words_before_cursor(), os(&["mycli"]));
        // An index past the end is clamped, not a panic.
        let r = Request::new("zsh".into(), &args, Some(9));
        assert_eq!(r.words_before_cursor().len(), 3);
    }

    #[test]
    fn candidates_that_are_not_plain_words_are_quoted_for_bash_and_powershell() {
        assert_eq!(bash_quoted("json"), "json");
        assert_eq!(
            bash_quoted("a/b-c_d.e:f=g+h,i@j%k"),
            "a/b-c_d.e:f=g+h,i@j%k"
        );
        assert_eq!(bash_quoted("json$(touch x)"), "'json$(touch x)'");
        assert_eq!(bash_quoted("it's"), "'it'\\''s'");
        assert_eq!(bash_quoted("my dir/"), "'my dir'/");
        assert_eq!(powershell_quoted("json"), "json");
        assert_eq!(powershell_quoted("json$(calc)"), "'json$(calc)'");
        assert_eq!(powershell_quoted("it's"), "'it''s'");
        assert_eq!(powershell_quoted("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
    }

    #[test]
    #[cfg(windows)]
    fn the_callback_is_absolute_unless_found_on_path() {
        let cwd = Path::new(r"C:\work");
        assert_eq!(callback_path(OsStr::new("mycli"), Some(cwd)), "mycli");
        assert_eq!(
            callback_path(OsStr::new(r".\bin\mycli.exe"), Some(cwd)),
            r"C:\work\.\bin\mycli.exe"
        );
        assert_eq!(
            callback_path(OsStr::new(r"D:\bin\mycli.exe"), Some(cwd)),
            r"D:\bin\mycli.exe"
        );
    }

    #[test]
    #[cfg(unix)]
    fn the_callback_is_absolute_unless_found_on_path() {
        let cwd = Path::new("/work");
        assert_eq!(callback_path(OsStr::new("mycli"), Some(cwd)), "mycli");
        assert_eq!(
            callback_path(OsStr::new("./bin/mycli"), Some(cwd)),
            "/work/./bin/mycli"
        );
        assert_eq!(
            callback_path(OsStr::new("/usr/bin/mycli"), Some(cwd)),
            "/usr/bin/mycli"
        );
    }
}

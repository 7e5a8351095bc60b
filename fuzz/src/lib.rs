//! What the fuzz targets and the property tests check, stated once.
//!
//! A manifest that `snapin::__private::validate` accepts is one the host
//! will turn into clap commands, so it must build, pass clap's own checks
//! and render help; and whatever command line clap accepts for it must
//! survive the host's re-emission (`snapin::__private::plugin_argv`, the canonical
//! form of `docs/protocol.md`): the plugin, parsing with the same manifest,
//! sees the values the user typed. The fuzz targets in `fuzz_targets/` and
//! `crates/snapin/tests/properties.rs` (which includes this file as a
//! module) both call these functions.

use std::collections::HashSet;
use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use snapin::__private::Reserved;
use snapin_protocol::{ArgSpec, CommandSpec};

/// The host namespace the checks run as.
pub const HOST: &str = "mycli";

/// The global options a snapin host adds to its command (`-v`, `-q`,
/// `--debug`, `--color`; see `Host::load`), which every plugin command
/// inherits. `properties.rs` checks that these match a real host's.
pub fn host_globals() -> Vec<Arg> {
    let globals = vec![
        Arg::new("verbose")
            .short('v')
            .long("verbose")
            .action(ArgAction::Count)
            .global(true),
        Arg::new("quiet")
            .short('q')
            .long("quiet")
            .action(ArgAction::Count)
            .global(true),
        Arg::new("debug")
            .long("debug")
            .action(ArgAction::SetTrue)
            .global(true),
        Arg::new("color")
            .long("color")
            .value_parser(["auto", "always", "never"])
            .default_value("auto")
            .global(true),
    ];
    // Under their own heading, as the host shows them: in one section with
    // a plugin's options, clap's help would drop one of two options that
    // sort alike (`--v0` beside `-v`).
    globals
        .into_iter()
        .map(|a| a.help_heading(GLOBAL_HEADING))
        .collect()
}

/// The help heading of the host's global options.
pub const GLOBAL_HEADING: &str = "Global options";

/// The names plugins may not use in this host, derived from
/// [`host_globals`] the way `Host::load` derives them for the loader.
pub fn host_reserved() -> Reserved {
    let mut reserved = Reserved::clap_defaults();
    for arg in host_globals() {
        reserved.longs.extend(arg.get_long().map(str::to_string));
        reserved.shorts.extend(arg.get_short());
        reserved.names.insert(arg.get_id().to_string());
    }
    reserved
}

/// The host's command line with `commands` as its plugin commands, built
/// by `snapin::__private::command_from_spec` as the host builds them.
pub fn host_command(commands: &[CommandSpec]) -> Command {
    Command::new(HOST)
        .version("1.0.0")
        .args(host_globals())
        .subcommands(commands.iter().map(snapin::__private::command_from_spec))
}

/// Checks that the host's command for `commands` passes clap's own
/// assertions (which panic on a command clap cannot parse with) and that
/// `--help` renders for every command and subcommand, naming each of its
/// long options.
pub fn check_builds(commands: &[CommandSpec]) -> Result<(), String> {
    host_command(commands).debug_assert();
    for spec in commands {
        check_help(commands, &mut vec![spec.name.clone()], spec)?;
    }
    Ok(())
}

fn check_help(
    commands: &[CommandSpec],
    path: &mut Vec<String>,
    spec: &CommandSpec,
) -> Result<(), String> {
    let argv = std::iter::once(HOST.to_string())
        .chain(path.iter().cloned())
        .chain(["--help".to_string()]);
    let help = match host_command(commands).try_get_matches_from(argv) {
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => e.render().to_string(),
        Err(e) => return Err(format!("`{HOST} {} --help` failed: {e}", path.join(" "))),
        Ok(_) => return Err(format!("`{HOST} {} --help` showed no help", path.join(" "))),
    };
    for long in spec.args.iter().filter_map(|a| a.long.as_deref()) {
        if !help.contains(&format!("--{long}")) {
            return Err(format!(
                "help for `{}` does not show --{long}:\n{help}",
                path.join(" ")
            ));
        }
    }
    for sub in &spec.subcommands {
        path.push(sub.name.clone());
        check_help(commands, path, sub)?;
        path.pop();
    }
    Ok(())
}

/// What the user gave one arg on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Given {
    /// Not typed (a default may apply, which is the plugin's business).
    Absent,
    /// A flag, typed this many times.
    Flag(u8),
    /// The values typed, in order.
    Values(Vec<OsString>),
}

/// Everything the user typed for one command, by manifest arg, then the
/// subcommand they named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Typed {
    /// The command's canonical name.
    pub command: String,
    /// Per arg, in manifest order.
    pub args: Vec<(String, Given)>,
    /// The subcommand, if one was named.
    pub sub: Option<Box<Typed>>,
}

/// Reads what the user typed for `spec` out of clap's `matches`.
pub fn typed(spec: &CommandSpec, matches: &ArgMatches) -> Typed {
    let args = spec
        .args
        .iter()
        .map(|arg| (arg.name.clone(), given(arg, matches)))
        .collect();
    let sub = matches.subcommand().and_then(|(name, sub_matches)| {
        let sub_spec = spec.subcommands.iter().find(|s| s.name == name)?;
        Some(Box::new(typed(sub_spec, sub_matches)))
    });
    Typed {
        command: spec.name.clone(),
        args,
        sub,
    }
}

fn given(arg: &ArgSpec, matches: &ArgMatches) -> Given {
    if matches.value_source(&arg.name) != Some(ValueSource::CommandLine) {
        return Given::Absent;
    }
    match (arg.flag, arg.multiple) {
        (true, true) => Given::Flag(matches.get_count(&arg.name)),
        (true, false) => Given::Flag(1),
        (false, _) => Given::Values(
            matches
                .get_raw(&arg.name)
                .into_iter()
                .flatten()
                .map(|v| v.to_os_string())
                .collect(),
        ),
    }
}

/// The re-emission contract for one command line: if the host accepts
/// `args` (the words after the program name), the argv it hands the plugin
/// parses again with the same manifest, to the same typed values, and
/// re-emits to itself. `Ok(false)` when the host rejects `args` (nothing
/// to check), `Ok(true)` when the contract held.
pub fn check_reemission(commands: &[CommandSpec], args: &[OsString]) -> Result<bool, String> {
    let host = host_command(commands);
    let argv = std::iter::once(OsString::from(HOST)).chain(args.iter().cloned());
    let Ok(matches) = host.clone().try_get_matches_from(argv) else {
        return Ok(false);
    };
    let Some((name, sub)) = matches.subcommand() else {
        return Ok(false);
    };
    let Some(spec) = commands.iter().find(|c| c.name == name) else {
        return Err(format!(
            "clap matched `{name}`, which no manifest command is"
        ));
    };
    let before = typed(spec, sub);
    let emitted = snapin::__private::plugin_argv(spec, sub);
    let argv = std::iter::once(OsString::from(HOST)).chain(emitted.iter().cloned());
    let again = host.try_get_matches_from(argv).map_err(|e| {
        format!("the re-emitted {emitted:?} (from the typed {args:?}) does not parse: {e}")
    })?;
    let Some((_, sub_again)) = again.subcommand() else {
        return Err(format!("the re-emitted {emitted:?} names no command"));
    };
    let after = typed(spec, sub_again);
    if after != before {
        return Err(format!(
            "the re-emitted {emitted:?} (from the typed {args:?}) parses to\n{after:?}\ninstead of\n{before:?}"
        ));
    }
    let emitted_again = snapin::__private::plugin_argv(spec, sub_again);
    if emitted_again != emitted {
        return Err(format!(
            "re-emission is not stable: {emitted:?} re-emits as {emitted_again:?}"
        ));
    }
    Ok(true)
}

/// The command names and aliases of `commands`, which a value at their
/// level may collide with.
pub fn names_at(commands: &[CommandSpec]) -> HashSet<&str> {
    commands
        .iter()
        .flat_map(|c| std::iter::once(&c.name).chain(&c.aliases))
        .map(String::as_str)
        .collect()
}

//! Property tests of the manifest contract, over generated manifests that
//! use every kind of arg the protocol has (flags, counted flags, options
//! with values, repeated options, choices, defaults, required and optional
//! positionals, a trailing multi-value positional), aliases, hidden and
//! nested subcommands:
//!
//! - every generated manifest passes `validate` (the generator and the
//!   check agree on the contract);
//! - JSON round-trips it unchanged;
//! - the host builds clap commands from it that pass clap's assertions and
//!   render `--help`;
//! - a command line the host accepts reaches the plugin (re-emitted by
//!   `plugin_argv`) in a form that parses to the same values.
//!
//! The checks themselves are shared with the fuzz targets in `fuzz/`.

#[path = "../../../fuzz/src/lib.rs"]
mod contract;

use std::collections::HashSet;
use std::ffi::OsString;

use proptest::collection::{btree_set, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::Index;
use snapin::__private::validate;
use snapin_protocol::{Access, ArgSpec, Capabilities, CommandSpec, DirRequest, Manifest};

/// A plugin or command name, `^[a-z][a-z0-9-]{0,63}$`, other than `help`.
fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9-]{0,11}".prop_filter("`help` is clap's", |n| n != "help")
}

/// An arg id: letters, digits, '-' and '_'.
fn arg_id() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,10}"
}

fn long() -> impl Strategy<Value = String> {
    "[a-z0-9][a-zA-Z0-9-]{1,10}"
}

/// Help and about lines: any printable text.
fn text() -> impl Strategy<Value = String> {
    "\\PC{0,24}"
}

/// A value on the command line, including the awkward ones.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9]{1,6}",
        2 => "-[a-z0-9-]{0,4}",
        2 => "\\PC{0,6}",
        1 => Just(String::new()),
        1 => Just("--".to_string()),
        1 => "=[a-z]{0,2}",
    ]
}

/// `choices` and `default` for an arg that takes a value. The default is
/// one of the choices when there are choices. A choice is a word of any
/// script that no shell reads as code (the contract's rule); a default
/// without choices is any value.
fn choices_and_default() -> impl Strategy<Value = (Vec<String>, Option<String>)> {
    (
        btree_set(
            "[a-z0-9][a-z0-9-]{0,5}|-[a-z]{1,3}|[\\p{L}\\p{N}._:/=+,@%-]{1,4}",
            0..4,
        ),
        option::of(any::<Index>()),
        option::of(value()),
    )
        .prop_map(|(choices, pick, free)| {
            let choices: Vec<String> = choices.into_iter().collect();
            let default = if choices.is_empty() {
                free
            } else {
                pick.map(|i| choices[i.index(choices.len())].clone())
            };
            (choices, default)
        })
}

/// An option or a flag; `short: Some('?')` asks for a short letter, which
/// `unique_args` assigns.
fn option_arg() -> impl Strategy<Value = ArgSpec> {
    (
        arg_id(),
        option::of(text()),
        prop_oneof![Just((true, false)), Just((false, true)), Just((true, true))],
        long(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        choices_and_default(),
        option::of("[A-Z][A-Z_]{0,7}|\\PC{1,6}"),
    )
        .prop_map(
            |(
                name,
                help,
                (has_long, has_short),
                long,
                flag,
                multiple,
                required,
                (choices, default),
                value_name,
            )| {
                let mut arg = ArgSpec::new(name);
                arg.help = help;
                arg.long = has_long.then_some(long);
                arg.short = has_short.then_some('?');
                arg.multiple = multiple;
                arg.flag = flag;
                if !flag {
                    arg.required = required;
                    arg.choices = choices;
                    arg.default = default;
                    arg.value_name = value_name;
                }
                arg
            },
        )
}

fn positional(required: bool) -> impl Strategy<Value = ArgSpec> {
    (
        arg_id(),
        option::of(text()),
        choices_and_default(),
        option::of("[A-Z][A-Z_]{0,7}"),
    )
        .prop_map(move |(name, help, (choices, default), value_name)| {
            let mut arg = ArgSpec::positional(name);
            arg.help = help;
            arg.required = required;
            arg.choices = choices;
            arg.default = default;
            arg.value_name = value_name;
            arg
        })
}

/// A command's args: options and flags, then required positionals, then
/// optional ones, the last of them maybe taking several values (or the
/// positionals first: manifest order only decides the order of re-emission).
fn args() -> impl Strategy<Value = Vec<ArgSpec>> {
    (
        vec(option_arg(), 0..5),
        vec(positional(true), 0..3),
        vec(positional(false), 0..3),
        any::<bool>(),
        any::<bool>(),
        Just(short_pool()).prop_shuffle(),
    )
        .prop_map(
            |(options, required, optional, last_multiple, positionals_first, shorts)| {
                let mut positionals: Vec<ArgSpec> = required.into_iter().chain(optional).collect();
                if let Some(last) = positionals.last_mut() {
                    last.multiple = last_multiple;
                }
                let args = if positionals_first {
                    positionals.into_iter().chain(options).collect()
                } else {
                    options.into_iter().chain(positionals).collect()
                };
                unique_args(args, shorts)
            },
        )
}

/// Letters and digits a plugin may use as short options in this host.
fn short_pool() -> Vec<char> {
    let reserved = contract::host_reserved();
    ('a'..='z')
        .chain('A'..='Z')
        .chain('0'..='9')
        .filter(|c| !reserved.shorts.contains(c))
        .collect()
}

/// Makes ids and long names unique within the command and clear of the
/// host's, and hands out short letters from `shorts`.
fn unique_args(mut args: Vec<ArgSpec>, shorts: Vec<char>) -> Vec<ArgSpec> {
    let reserved = contract::host_reserved();
    let mut ids = reserved.names.clone();
    let mut longs = reserved.longs.clone();
    let mut shorts = shorts.into_iter();
    for arg in &mut args {
        arg.name = fresh(&arg.name, &mut ids);
        if let Some(long) = &arg.long {
            arg.long = Some(fresh(long, &mut longs));
        }
        if arg.short.is_some() {
            arg.short = shorts.next();
        }
    }
    args
}

/// `base`, or `base` with a number after it, whichever is not taken yet.
fn fresh(base: &str, taken: &mut HashSet<String>) -> String {
    let name = (1..)
        .map(|n| match n {
            1 => base.to_string(),
            n => format!("{base}{n}"),
        })
        .find(|n| !taken.contains(n))
        .unwrap_or_default();
    taken.insert(name.clone());
    name
}

/// One command, with subcommands down to `depth` more levels. Its name
/// and aliases are given by `commands`, which keeps them unique.
fn command(depth: u32) -> BoxedStrategy<CommandSpec> {
    let subcommands = if depth == 0 {
        Just(Vec::new()).boxed()
    } else {
        commands(depth - 1, 0..3)
    };
    (option::of(text()), any::<bool>(), args(), subcommands)
        .prop_map(|(about, hidden, args, subcommands)| {
            let mut command = CommandSpec::new(String::new()).hidden(hidden);
            command.about = about;
            command.args = args;
            command.subcommands = subcommands;
            command
        })
        .boxed()
}

/// Sibling commands, with distinct names and aliases.
fn commands(depth: u32, count: std::ops::Range<usize>) -> BoxedStrategy<Vec<CommandSpec>> {
    vec(command(depth), count)
        .prop_flat_map(|commands| {
            let n = commands.len();
            (
                Just(commands),
                btree_set(name(), n..=n + 3),
                vec(any::<Index>(), 3),
            )
        })
        .prop_map(|(mut commands, names, owners)| {
            let mut names = names.into_iter();
            for (command, name) in commands.iter_mut().zip(&mut names) {
                command.name = name;
            }
            for (alias, owner) in names.zip(owners) {
                if !commands.is_empty() {
                    let i = owner.index(commands.len());
                    commands[i].aliases.push(alias);
                }
            }
            commands
        })
        .boxed()
}

fn capabilities() -> impl Strategy<Value = Capabilities> {
    (
        vec(
            (any::<bool>(), option::of(text())).prop_map(|(write, why)| {
                let mut dir = DirRequest::new(if write { Access::Write } else { Access::Read });
                dir.why = why;
                dir
            }),
            0..2,
        ),
        vec("[A-Z_]{1,8}", 0..2),
    )
        .prop_map(|(dirs, env)| {
            let mut capabilities = Capabilities::default();
            capabilities.dirs = dirs;
            capabilities.env = env;
            capabilities
        })
}

/// A manifest the contract accepts, for host `mycli`.
fn manifest() -> impl Strategy<Value = Manifest> {
    (
        name(),
        (0..20u64, 0..20u64, 0..20u64, option::of("[a-z]{1,5}")),
        prop_oneof![
            Just("^1.0".to_string()),
            Just("*".to_string()),
            Just(">=1, <3".to_string()),
            (0..5u64, 0..5u64).prop_map(|(a, b)| format!("~{a}.{b}")),
        ],
        option::of(text()),
        commands(2, 1..4),
        capabilities(),
    )
        .prop_map(
            |(name, (major, minor, patch, pre), api, description, commands, capabilities)| {
                let pre = pre.map(|p| format!("-{p}")).unwrap_or_default();
                let mut manifest = Manifest::new(
                    contract::HOST,
                    name,
                    format!("{major}.{minor}.{patch}{pre}"),
                    api,
                )
                .with_commands(commands)
                .with_capabilities(capabilities);
                manifest.description = description;
                manifest
            },
        )
}

/// Random choices for building a command line; all zeros once used up,
/// so that shrinking leads to the shortest command line.
struct Tape<'a> {
    numbers: std::slice::Iter<'a, u32>,
    values: &'a [String],
}

impl Tape<'_> {
    /// A number below `n` (which must not be 0).
    fn below(&mut self, n: usize) -> usize {
        self.numbers.next().map_or(0, |&x| x as usize % n)
    }

    fn value(&mut self) -> String {
        let i = self.below(self.values.len().max(1));
        self.values.get(i).cloned().unwrap_or_default()
    }
}

/// A command line (after `mycli`) meant to be valid for one of `commands`:
/// names or aliases, options in any order and in every spelling clap
/// accepts (`--long V`, `--long=V`, `-s V`, `-sV`, repeated flags),
/// positionals behind `--` when they need it, subcommands, and the host's
/// own global options in between.
fn command_line(commands: &[CommandSpec], tape: &mut Tape<'_>) -> Vec<String> {
    let mut argv = Vec::new();
    if tape.below(4) == 0 {
        argv.push("-v".to_string());
    }
    let mut spec = &commands[tape.below(commands.len())];
    loop {
        let names: Vec<&String> = std::iter::once(&spec.name).chain(&spec.aliases).collect();
        argv.push(names[tape.below(names.len())].clone());
        let next = command_level(spec, tape, &mut argv);
        match next {
            Some(sub) => spec = sub,
            None => return argv,
        }
    }
}

/// Adds what the user types for `spec` itself; returns the subcommand to
/// name next, if any.
fn command_level<'a>(
    spec: &'a CommandSpec,
    tape: &mut Tape<'_>,
    argv: &mut Vec<String>,
) -> Option<&'a CommandSpec> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    for arg in spec.args.iter().filter(|a| !a.is_positional()) {
        let most = if arg.multiple { 4 } else { 2 };
        let times = tape.below(most).max(usize::from(arg.required));
        for _ in 0..times {
            groups.push(option_words(arg, tape));
        }
    }
    if tape.below(4) == 0 {
        groups.push(vec!["-q".to_string()]);
    }
    // Options in any order: rotate by a random amount.
    if !groups.is_empty() {
        let by = tape.below(groups.len());
        groups.rotate_left(by);
    }
    argv.extend(groups.into_iter().flatten());

    let mut values = Vec::new();
    let mut open_ended = false;
    for arg in spec.args.iter().filter(|a| a.is_positional()) {
        if !arg.required && tape.below(2) == 0 {
            // Later positionals cannot be given without this one.
            break;
        }
        // A multi-value positional takes every word after it, subcommand
        // names too.
        open_ended |= arg.multiple;
        let count = if arg.multiple { 1 + tape.below(3) } else { 1 };
        for _ in 0..count {
            values.push(positional_value(arg, spec, tape));
        }
    }
    let sub_names = contract::names_at(&spec.subcommands);
    let needs_separator = |v: &String| {
        v.starts_with('-')
            || (!spec.subcommands.is_empty() && (sub_names.contains(v.as_str()) || v == "help"))
    };
    // A value that reads as an option or a command name goes behind `--`,
    // after which no subcommand can follow.
    let separate = values.iter().any(needs_separator);
    let sub = (!separate && !open_ended && !spec.subcommands.is_empty() && tape.below(3) != 0)
        .then(|| &spec.subcommands[tape.below(spec.subcommands.len())]);
    if separate || (sub.is_none() && !values.is_empty() && tape.below(4) == 0) {
        argv.push("--".to_string());
    }
    argv.extend(values);
    sub
}

/// One use of an option or flag, in one of the spellings clap accepts.
fn option_words(arg: &ArgSpec, tape: &mut Tape<'_>) -> Vec<String> {
    let mut spellings = Vec::new();
    if let Some(long) = &arg.long {
        spellings.push(format!("--{long}"));
    }
    if let Some(short) = arg.short {
        spellings.push(format!("-{short}"));
    }
    let name = spellings[tape.below(spellings.len())].clone();
    if arg.flag {
        return vec![name];
    }
    let value = arg_value(arg, tape);
    let separate = !value.starts_with('-');
    let joined = if name.starts_with("--") {
        format!("{name}={value}")
    } else if !value.is_empty() && !value.starts_with('=') {
        format!("{name}{value}")
    } else {
        String::new()
    };
    match (separate, joined.is_empty()) {
        (true, false) if tape.below(2) == 0 => vec![joined],
        (true, _) => vec![name, value],
        (false, _) => vec![joined],
    }
}

/// A positional's value; sometimes a word that is also the name of a
/// subcommand (or `help`), which only `--` keeps a value.
fn positional_value(arg: &ArgSpec, spec: &CommandSpec, tape: &mut Tape<'_>) -> String {
    if arg.choices.is_empty() && !spec.subcommands.is_empty() && tape.below(4) == 0 {
        let mut names: Vec<&str> = contract::names_at(&spec.subcommands).into_iter().collect();
        names.sort_unstable();
        names.push("help");
        return names[tape.below(names.len())].to_string();
    }
    arg_value(arg, tape)
}

fn arg_value(arg: &ArgSpec, tape: &mut Tape<'_>) -> String {
    if arg.choices.is_empty() {
        tape.value()
    } else {
        arg.choices[tape.below(arg.choices.len())].clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        // A failure becomes a named test here, not a file beside this one.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_manifests_pass_the_contract_check(m in manifest()) {
        let checked = validate(&m, contract::HOST, &contract::host_reserved());
        prop_assert!(checked.is_ok(), "{:?}\n{}", checked, serde_json::to_string(&m).unwrap());
    }

    #[test]
    fn manifests_round_trip_through_json(m in manifest()) {
        let json = serde_json::to_string(&m).unwrap();
        let back: snapin_protocol::Manifest = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back, m);
    }

    #[test]
    fn valid_manifests_build_clap_commands_with_help(m in manifest()) {
        let built = contract::check_builds(&m.commands);
        prop_assert!(built.is_ok(), "{}\n{}", built.unwrap_err(), serde_json::to_string(&m).unwrap());
    }

    #[test]
    fn accepted_command_lines_reach_the_plugin_unchanged(
        m in manifest(),
        numbers in vec(any::<u32>(), 0..80),
        values in vec(value(), 1..12),
    ) {
        let mut tape = Tape { numbers: numbers.iter(), values: &values };
        let line = command_line(&m.commands, &mut tape);
        let args: Vec<OsString> = line.iter().map(OsString::from).collect();
        let json = serde_json::to_string(&m).unwrap();
        let parsed = contract::host_command(&m.commands)
            .try_get_matches_from(std::iter::once(contract::HOST).chain(line.iter().map(String::as_str)));
        prop_assert!(parsed.is_ok(), "the host refused {:?}: {}\n{}", line, parsed.unwrap_err(), json);
        let checked = contract::check_reemission(&m.commands, &args);
        prop_assert_eq!(checked, Ok(true), "{}", json);
    }
}

/// The global options the shared checks give the host are those a real
/// host adds, so the checks cover what users run.
#[test]
fn the_checks_use_a_real_hosts_global_options() {
    let home = tempfile::tempdir().unwrap();
    let app = snapin::Host::builder(contract::HOST)
        .home(home.path())
        .build()
        .load(clap::Command::new(contract::HOST));
    let globals = |cmd: &clap::Command| {
        let mut found: Vec<_> = cmd
            .get_arguments()
            .filter(|a| a.is_global_set())
            .map(|a| {
                (
                    a.get_id().to_string(),
                    a.get_long().map(str::to_string),
                    a.get_short(),
                    a.get_help_heading().map(str::to_string),
                )
            })
            .collect();
        found.sort();
        found
    };
    let real = globals(app.command());
    assert!(!real.is_empty());
    assert_eq!(globals(&contract::host_command(&[])), real);
}

/// A plugin command built into a real host from a manifest.
struct Described(Manifest);

impl snapin::Plugin for Described {
    fn describe(&self) -> Result<Manifest, snapin::PluginError> {
        Ok(self.0.clone())
    }
    fn run(&self, _: &snapin::Invocation<'_>) -> Result<snapin::Exit, snapin::PluginError> {
        Ok(snapin::Exit::Code(0))
    }
}

/// Regression (found by `valid_manifests_build_clap_commands_with_help`):
/// clap's help sorts `-v` as "v0", like a long-only `--v0`, and of two
/// options in one section that sort alike at the same position it shows
/// one. The host keeps its global options in their own section, so a
/// plugin's first option `--v0` stays in `--help`.
#[test]
fn a_plugin_option_that_sorts_like_a_global_short_is_in_help() {
    let manifest: Manifest = serde_json::from_str(
        r#"{"manifest":1,"host":"mycli","name":"zero","version":"1.0.0","api":"^1.0",
            "commands":[{"name":"zero","args":[
              {"name":"first","long":"v0","flag":true,"help":"The first option"},
              {"name":"second","long":"q0","flag":true,"help":"The second option"}]}]}"#,
    )
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let app = snapin::Host::builder(contract::HOST)
        .home(home.path())
        .plugin(Described(manifest))
        .build()
        .load(clap::Command::new(contract::HOST));
    let help = app
        .command()
        .clone()
        .try_get_matches_from([contract::HOST, "zero", "--help"])
        .unwrap_err()
        .render()
        .to_string();
    for shown in ["--v0", "The first option", "--q0", "--verbose", "--quiet"] {
        assert!(help.contains(shown), "{shown} is missing from:\n{help}");
    }
}

//! Clap glue: plugin commands built from cached manifests, and the
//! arguments handed back to the plugin after clap has checked them.
//!
//! Because the clap tree comes from the manifest, `--help`, usage errors and
//! completions for a plugin command work without starting the plugin. After
//! parsing, the host re-emits what the user typed in one canonical form (see
//! `docs/protocol.md`), so a plugin in any language parses one shape.

use std::ffi::OsString;

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use snapin_protocol::{ArgSpec, CommandSpec};

/// Builds the clap command for a manifest command (and its subcommands).
pub fn command_from_spec(spec: &CommandSpec) -> Command {
    let mut cmd = Command::new(spec.name.clone())
        .aliases(spec.aliases.clone())
        .hide(spec.hidden)
        .args(spec.args.iter().map(arg_from_spec))
        .subcommands(spec.subcommands.iter().map(command_from_spec));
    if let Some(about) = &spec.about {
        cmd = cmd.about(about.clone());
    }
    cmd
}

fn arg_from_spec(spec: &ArgSpec) -> Arg {
    let mut arg = Arg::new(spec.name.clone()).required(spec.required);
    if let Some(long) = &spec.long {
        arg = arg.long(long.clone());
    }
    if let Some(short) = spec.short {
        arg = arg.short(short);
    }
    if let Some(help) = &spec.help {
        arg = arg.help(help.clone());
    }
    if spec.flag {
        return arg.action(if spec.multiple {
            ArgAction::Count
        } else {
            ArgAction::SetTrue
        });
    }
    arg = arg.value_name(
        spec.value_name
            .clone()
            .unwrap_or_else(|| spec.name.to_uppercase()),
    );
    if spec.is_positional() {
        if spec.multiple {
            arg = arg.num_args(1..).action(ArgAction::Append);
        }
    } else {
        arg = arg.action(if spec.multiple {
            ArgAction::Append
        } else {
            ArgAction::Set
        });
    }
    if let Some(default) = &spec.default {
        arg = arg.default_value(default.clone());
    }
    // Choices, when given, fit the type (a manifest rule) and already say
    // which values are accepted; the type still gives completion its hint.
    arg = crate::values::typed(arg, &spec.value_type, spec.range);
    if !spec.choices.is_empty() {
        arg = arg.value_parser(clap::builder::PossibleValuesParser::new(
            spec.choices
                .iter()
                .map(|c| clap::builder::PossibleValue::new(c.clone())),
        ));
    }
    arg
}

/// Re-emits the arguments the user gave a plugin command, after clap
/// checked them: the command path, then at each level its options (in
/// manifest order, `--long VALUE` or `-s VALUE`, a flag once per use),
/// then its positionals, preceded by `--` when one starts with `-` or is
/// the name of a subcommand.
/// Defaults the user did not type are not sent: the plugin applies them.
pub fn plugin_argv(spec: &CommandSpec, matches: &ArgMatches) -> Vec<OsString> {
    let mut argv = Vec::new();
    emit(spec, matches, &mut argv);
    argv
}

fn emit(spec: &CommandSpec, matches: &ArgMatches, argv: &mut Vec<OsString>) {
    argv.push(spec.name.clone().into());
    let typed = |a: &ArgSpec| matches.value_source(&a.name) == Some(ValueSource::CommandLine);
    for arg in spec.args.iter().filter(|a| !a.is_positional() && typed(a)) {
        let name: OsString = match (&arg.long, arg.short) {
            (Some(long), _) => format!("--{long}").into(),
            (None, Some(short)) => format!("-{short}").into(),
            (None, None) => continue,
        };
        if arg.flag {
            let times = if arg.multiple {
                matches.get_count(&arg.name) as usize
            } else {
                1
            };
            argv.extend(std::iter::repeat_n(name, times));
            continue;
        }
        for value in matches.get_raw(&arg.name).into_iter().flatten() {
            if value.to_string_lossy().starts_with('-') {
                // `--long -x` would read as two options; `--long=-x` and
                // `-s-x` cannot.
                let mut joined = name.clone();
                if arg.long.is_some() {
                    joined.push("=");
                }
                joined.push(value);
                argv.push(joined);
            } else {
                argv.push(name.clone());
                argv.push(value.to_os_string());
            }
        }
    }
    let positionals: Vec<OsString> = spec
        .args
        .iter()
        .filter(|a| a.is_positional() && typed(a))
        .flat_map(|a| matches.get_raw(&a.name).into_iter().flatten())
        .map(|v| v.to_os_string())
        .collect();
    let sub = matches
        .subcommand()
        .and_then(|(name, m)| Some((spec.subcommands.iter().find(|s| s.name == name)?, m)));
    // Only after `--` is a word that looks like an option, or names a
    // subcommand (clap adds `help` to commands that have any), a value.
    let names_a_subcommand = |v: &OsString| {
        !spec.subcommands.is_empty()
            && (v == "help"
                || spec.subcommands.iter().any(|s| {
                    std::iter::once(&s.name)
                        .chain(&s.aliases)
                        .any(|n| v == n.as_str())
                }))
    };
    if sub.is_none()
        && positionals
            .iter()
            .any(|v| v.to_string_lossy().starts_with('-') || names_a_subcommand(v))
    {
        argv.push("--".into());
    }
    argv.extend(positionals);
    if let Some((sub_spec, sub_matches)) = sub {
        emit(sub_spec, sub_matches, argv);
    }
}

/// The command path the user ran: `["tool", "sub"]`.
pub fn command_path(spec: &CommandSpec, matches: &ArgMatches) -> Vec<String> {
    let mut path = vec![spec.name.clone()];
    let (mut spec, mut matches) = (spec, matches);
    while let Some((name, sub_matches)) = matches.subcommand() {
        let Some(sub_spec) = spec.subcommands.iter().find(|s| s.name == name) else {
            break;
        };
        path.push(sub_spec.name.clone());
        (spec, matches) = (sub_spec, sub_matches);
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CommandSpec {
        serde_json::from_str(
            r#"{"name":"tool","aliases":["t"],"args":[
                {"name":"who","long":"who","short":"w","default":"world"},
                {"name":"loud","long":"loud","flag":true},
                {"name":"level","short":"l","flag":true,"multiple":true},
                {"name":"tag","long":"tag","multiple":true},
                {"name":"mode","long":"mode","choices":["a","b"]},
                {"name":"files","multiple":true}
              ],
              "subcommands":[{"name":"sub","args":[{"name":"n","required":true}]}]}"#,
        )
        .unwrap()
    }

    fn argv_for(args: &[&str]) -> Result<Vec<String>, clap::Error> {
        let spec = spec();
        let root = Command::new("mycli").subcommand(command_from_spec(&spec));
        let m = root.try_get_matches_from(std::iter::once("mycli").chain(args.iter().copied()))?;
        let (_, sub) = m.subcommand().unwrap();
        Ok(plugin_argv(&spec, sub)
            .into_iter()
            .map(|a| a.into_string().unwrap())
            .collect())
    }

    #[test]
    fn defaults_are_not_sent_and_aliases_become_the_name() {
        assert_eq!(argv_for(&["t"]).unwrap(), ["tool"]);
    }

    #[test]
    fn options_then_positionals_in_canonical_form() {
        assert_eq!(
            argv_for(&[
                "tool", "f1", "-w", "Rust", "--tag=x", "-ll", "--loud", "--tag", "y", "f2"
            ])
            .unwrap(),
            [
                "tool", "--who", "Rust", "--loud", "-l", "-l", "--tag", "x", "--tag", "y", "f1",
                "f2"
            ]
        );
    }

    #[test]
    fn hyphen_values_stay_unambiguous() {
        assert_eq!(
            argv_for(&["tool", "--who=-x", "--", "-f"]).unwrap(),
            ["tool", "--who=-x", "--", "-f"]
        );
    }

    /// Regression (found by the property tests): `tool -- sub` gives the
    /// positional the value "sub"; re-emitted without `--`, the plugin
    /// would run the subcommand instead.
    #[test]
    fn a_value_that_names_a_subcommand_stays_behind_the_separator() {
        for word in ["sub", "help"] {
            assert_eq!(
                argv_for(&["tool", "--", word]).unwrap(),
                ["tool", "--", word]
            );
        }
        assert_eq!(argv_for(&["tool", "subway"]).unwrap(), ["tool", "subway"]);
    }

    #[test]
    fn subcommands_nest() {
        assert_eq!(
            argv_for(&["tool", "--loud", "sub", "7"]).unwrap(),
            ["tool", "--loud", "sub", "7"]
        );
    }

    /// A typed value that does not fit is clap's usage error naming the
    /// arg, the value and why; one that fits reaches the plugin as typed.
    #[test]
    fn typed_values_are_checked_and_sent_as_typed() {
        let spec: CommandSpec = serde_json::from_str(
            r#"{"name":"t","args":[
                {"name":"count","long":"count","type":"int","range":{"min":-5,"max":10}},
                {"name":"ratio","long":"ratio","type":"number"},
                {"name":"site","long":"site","type":"url"},
                {"name":"mode","long":"mode","type":"int","choices":["1","2"]},
                {"name":"input","type":"file"}]}"#,
        )
        .unwrap();
        let root = Command::new("mycli").subcommand(command_from_spec(&spec));
        let parse = |args: &[&str]| {
            let m = root
                .clone()
                .try_get_matches_from(std::iter::once("mycli").chain(args.iter().copied()))?;
            let argv: Vec<String> = plugin_argv(&spec, m.subcommand().unwrap().1)
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect();
            Ok::<_, clap::Error>(argv)
        };
        assert_eq!(
            parse(&[
                "t",
                "--count",
                "-3",
                "--ratio",
                "1e3",
                "--site",
                "https://x",
                "+1"
            ])
            .unwrap(),
            [
                "t",
                "--count=-3",
                "--ratio",
                "1e3",
                "--site",
                "https://x",
                "+1"
            ]
        );
        assert_eq!(
            parse(&["t", "--count", "+07"]).unwrap(),
            ["t", "--count", "+07"]
        );
        for (args, why) in [
            (
                &["t", "--count", "x"][..],
                "invalid value 'x' for '--count <COUNT>': not a whole number",
            ),
            (
                &["t", "--count", "11"][..],
                "invalid value '11' for '--count <COUNT>': must be from -5 to 10",
            ),
            (
                &["t", "--ratio", "NaN"][..],
                "invalid value 'NaN' for '--ratio <RATIO>': not a finite number",
            ),
            (
                &["t", "--site", "x.org"][..],
                "invalid value 'x.org' for '--site <SITE>': not an absolute URL",
            ),
            (
                &["t", "--mode", "3"][..],
                "invalid value '3' for '--mode <MODE>'",
            ),
        ] {
            let e = parse(args).unwrap_err();
            assert!(
                matches!(
                    e.kind(),
                    clap::error::ErrorKind::ValueValidation | clap::error::ErrorKind::InvalidValue
                ),
                "{args:?}: {:?}",
                e.kind()
            );
            assert_eq!(e.exit_code(), 2);
            let shown = e.to_string();
            assert!(
                shown.starts_with(&format!("error: {why}")),
                "{args:?}: {shown}"
            );
        }
        assert!(parse(&["t", ""]).is_err(), "an empty path");
    }

    #[test]
    fn usage_errors_come_from_the_manifest() {
        let err = argv_for(&["tool", "--mode", "c"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
        let err = argv_for(&["tool", "sub"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let err = argv_for(&["tool", "--nope"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}

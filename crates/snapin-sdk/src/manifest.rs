//! From clap definitions to a [`Manifest`].
//!
//! The host never starts a plugin to show help or report a usage error: it
//! builds its own clap commands from the manifest. So the manifest has to say
//! what the plugin's clap definitions say, and the simplest way to keep the
//! two in step is to derive one from the other. This module walks an unbuilt
//! [`clap::Command`] (no `.build()`, so clap's automatic `--help`/`--version`
//! are absent) and maps each command and argument to the contract types.
//!
//! An argument's value type comes from its value parser: `PathBuf` is
//! `path` (`file` or `dir` with clap's `value_hint = FilePath` or
//! `DirPath`), the integer types are `int`, `f32` and `f64` are `number`.
//! A range set with `value_parser!(i64).range(1..)` cannot be read back
//! from clap, so the manifest carries only the bounds of the integer type
//! itself (`u8` is `0..=255`), which the plugin's own parser narrows.
//!
//! Anything the contract cannot express (argument groups, conflicts,
//! custom parsers, ...) is left out; the plugin still enforces it when it
//! parses its own arguments at run time.

use std::any::TypeId;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command, ValueHint};
use snapin_protocol::{ArgSpec, Bound, CommandSpec, ValueRange, ValueType};

/// Argument ids that clap adds by itself; they are never part of a manifest.
const AUTO_ARGS: [&str; 2] = ["help", "version"];

/// The manifest entry for `cmd`, including its subcommands.
///
/// `inherited` are global arguments (`#[arg(global = true)]`) of the
/// enclosing commands; clap would propagate them when building, so they are
/// added here too, so that the host accepts them at every level.
pub(crate) fn command_spec(cmd: &Command, inherited: &[ArgSpec]) -> CommandSpec {
    let mut args: Vec<ArgSpec> = cmd.get_arguments().filter_map(arg_spec).collect();
    let mut globals: Vec<ArgSpec> = inherited.to_vec();
    for arg in cmd.get_arguments().filter(|a| a.is_global_set()) {
        if let Some(spec) = arg_spec(arg) {
            globals.retain(|g| g.name != spec.name);
            globals.push(spec);
        }
    }
    for global in inherited {
        if !args.iter().any(|a| a.name == global.name) {
            args.push(global.clone());
        }
    }
    let mut spec = CommandSpec::new(cmd.get_name());
    spec.about = cmd
        .get_about()
        .or(cmd.get_long_about())
        .and_then(|s| first_line(&s.to_string()));
    spec.aliases = cmd.get_all_aliases().map(str::to_owned).collect();
    spec.hidden = cmd.is_hide_set();
    spec.args = args;
    spec.subcommands = cmd
        .get_subcommands()
        .map(|sub| command_spec(sub, &globals))
        .collect();
    spec
}

/// The manifest entry for one argument, or `None` for clap's own
/// `--help`/`--version`.
pub(crate) fn arg_spec(arg: &Arg) -> Option<ArgSpec> {
    let name = arg.get_id().as_str();
    if AUTO_ARGS.contains(&name) {
        return None;
    }
    let action = arg.get_action();
    let flag = !action.takes_values();
    let many_values = arg.get_num_args().is_some_and(|r| r.max_values() > 1);
    let mut spec = ArgSpec::new(name);
    spec.help = arg
        .get_help()
        .or(arg.get_long_help())
        .and_then(|s| first_line(&s.to_string()));
    spec.long = arg.get_long().map(str::to_owned);
    spec.short = arg.get_short();
    spec.required = arg.is_required_set();
    // A switch's implicit default ("false", "0") is not worth showing.
    spec.default = if flag {
        None
    } else {
        arg.get_default_values()
            .first()
            .map(|v| v.to_string_lossy().into_owned())
    };
    spec.multiple = matches!(action, ArgAction::Append | ArgAction::Count) || many_values;
    // Before `build()`, clap reports a switch's bool parser ("true",
    // "false") as possible values; those are not choices for the user.
    spec.choices = if flag {
        Vec::new()
    } else {
        arg.get_possible_values()
            .iter()
            .filter(|pv| !pv.is_hide_set())
            .map(|pv| pv.get_name().to_owned())
            .collect()
    };
    spec.value_name = if flag {
        None
    } else {
        arg.get_value_names()
            .and_then(|names| names.first())
            .map(|n| n.as_str().to_owned())
    };
    spec.flag = flag;
    if !flag && spec.choices.is_empty() {
        (spec.value_type, spec.range) = value_type(arg);
    }
    Some(spec)
}

/// The manifest's `type` and `range` for what `arg`'s value parser makes.
fn value_type(arg: &Arg) -> (ValueType, Option<ValueRange>) {
    let made = arg.get_value_parser().type_id();
    if made == TypeId::of::<PathBuf>() {
        let ty = match arg.get_value_hint() {
            ValueHint::FilePath => ValueType::File,
            ValueHint::DirPath => ValueType::Dir,
            _ => ValueType::Path,
        };
        return (ty, None);
    }
    if made == TypeId::of::<f64>() || made == TypeId::of::<f32>() {
        return (ValueType::Number, None);
    }
    // Each integer type, with the bounds a manifest's 64-bit signed bound
    // can hold: u64 and usize get only their minimum, and their own parser
    // refuses what is past their maximum.
    let ints: [(TypeId, Option<i64>, Option<i64>); 10] = [
        (TypeId::of::<i64>(), None, None),
        (TypeId::of::<isize>(), None, None),
        (
            TypeId::of::<i32>(),
            Some(i32::MIN.into()),
            Some(i32::MAX.into()),
        ),
        (
            TypeId::of::<i16>(),
            Some(i16::MIN.into()),
            Some(i16::MAX.into()),
        ),
        (
            TypeId::of::<i8>(),
            Some(i8::MIN.into()),
            Some(i8::MAX.into()),
        ),
        (TypeId::of::<u64>(), Some(0), None),
        (TypeId::of::<usize>(), Some(0), None),
        (TypeId::of::<u32>(), Some(0), Some(u32::MAX.into())),
        (TypeId::of::<u16>(), Some(0), Some(u16::MAX.into())),
        (TypeId::of::<u8>(), Some(0), Some(u8::MAX.into())),
    ];
    match ints.iter().find(|(id, _, _)| made == *id) {
        Some((_, min, max)) => {
            let range = (min.is_some() || max.is_some())
                .then(|| ValueRange::new(min.map(Bound::Int), max.map(Bound::Int)));
            (ValueType::Int, range)
        }
        None => (ValueType::String, None),
    }
}

/// The first non-empty line of a help text, trimmed.
fn first_line(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use clap::{Args, Subcommand, ValueEnum};
    use snapin_protocol::{ArgSpec, CommandSpec, Manifest, ValueRange};

    use crate::Plugin;

    #[derive(Subcommand)]
    #[allow(dead_code)]
    enum Commands {
        /// Copy files somewhere.
        ///
        /// Longer text that is not part of the manifest.
        #[command(alias = "cp", visible_alias = "dup")]
        Copy(CopyArgs),
        /// Manage remotes
        #[command(subcommand)]
        Remote(RemoteCommands),
        /// Internal
        #[command(hide = true)]
        Debug,
    }

    #[derive(Args)]
    #[allow(dead_code)]
    struct CopyArgs {
        /// Where to copy to
        #[arg(short, long, value_name = "DIR")]
        to: Option<String>,
        /// Say more
        #[arg(short, long, action = clap::ArgAction::Count, global = true)]
        verbose: u8,
        /// Overwrite existing files
        #[arg(long)]
        force: bool,
        /// How to copy
        #[arg(long, value_enum, default_value_t = Mode::Fast)]
        mode: Mode,
        /// Tags to add
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Files to copy
        #[arg(required = true)]
        files: Vec<String>,
    }

    #[derive(Clone, ValueEnum)]
    enum Mode {
        Fast,
        Safe,
        #[value(hide = true)]
        Secret,
    }

    #[derive(Subcommand)]
    #[allow(dead_code)]
    enum RemoteCommands {
        /// Add a remote
        Add {
            /// Remote name
            name: String,
            #[arg(long, hide = true)]
            token: Option<String>,
        },
    }

    #[test]
    fn manifest_mirrors_the_clap_definitions() {
        let plugin = Plugin::new("mycli", "^1.0", "files", "0.3.0").description("File tools");
        let expected = Manifest::new("mycli", "files", "0.3.0", "^1.0")
            .with_description("File tools")
            .with_command(
                CommandSpec::new("copy")
                    .with_about("Copy files somewhere")
                    .with_alias("cp")
                    .with_alias("dup")
                    .with_arg(
                        ArgSpec::new("to")
                            .help("Where to copy to")
                            .long("to")
                            .short('t')
                            .value_name("DIR"),
                    )
                    .with_arg(
                        ArgSpec::new("verbose")
                            .help("Say more")
                            .long("verbose")
                            .short('v')
                            .multiple()
                            .flag(),
                    )
                    .with_arg(
                        ArgSpec::new("force")
                            .help("Overwrite existing files")
                            .long("force")
                            .flag(),
                    )
                    .with_arg(
                        ArgSpec::new("mode")
                            .help("How to copy")
                            .long("mode")
                            .default_value("fast")
                            .choices(["fast", "safe"])
                            .value_name("MODE"),
                    )
                    .with_arg(
                        ArgSpec::new("tags")
                            .help("Tags to add")
                            .long("tag")
                            .multiple()
                            .value_name("TAGS"),
                    )
                    .with_arg(
                        ArgSpec::positional("files")
                            .help("Files to copy")
                            .required()
                            .multiple()
                            .value_name("FILES"),
                    ),
            )
            .with_command(
                CommandSpec::new("remote")
                    .with_about("Manage remotes")
                    .with_subcommand(
                        CommandSpec::new("add")
                            .with_about("Add a remote")
                            .with_arg(
                                ArgSpec::positional("name")
                                    .help("Remote name")
                                    .required()
                                    .value_name("NAME"),
                            )
                            .with_arg(ArgSpec::new("token").long("token").value_name("TOKEN")),
                    ),
            )
            .with_command(
                CommandSpec::new("debug")
                    .with_about("Internal")
                    .hidden(true),
            );
        assert_eq!(plugin.manifest::<Commands>(), expected);
    }

    #[derive(Subcommand)]
    #[allow(dead_code)]
    enum Nested {
        /// Tool with a global switch
        Tool {
            /// Be quiet
            #[arg(long, global = true)]
            quiet: bool,
            #[command(subcommand)]
            sub: Sub,
        },
    }

    #[derive(Subcommand)]
    enum Sub {
        /// Run it
        Run,
    }

    #[test]
    fn global_args_reach_nested_commands() {
        let m = Plugin::new("mycli", "^1.0", "tool", "1.0.0").manifest::<Nested>();
        let tool = &m.commands[0];
        assert_eq!(tool.args.len(), 1);
        assert_eq!(tool.subcommands[0].name, "run");
        assert_eq!(tool.subcommands[0].args, tool.args);
        assert!(tool.subcommands[0].args[0].flag);
    }

    #[test]
    fn value_types_come_from_the_value_parsers() {
        #[derive(Subcommand)]
        #[allow(dead_code)]
        enum Typed {
            /// Typed args
            Typed {
                #[arg(long)]
                input: std::path::PathBuf,
                #[arg(long, value_hint = clap::ValueHint::FilePath)]
                file: Option<std::path::PathBuf>,
                #[arg(long, value_hint = clap::ValueHint::DirPath)]
                dir: Option<std::path::PathBuf>,
                #[arg(long)]
                id: i64,
                #[arg(long, value_parser = clap::value_parser!(u8).range(1..))]
                level: Option<u8>,
                #[arg(long)]
                count: Option<usize>,
                #[arg(long)]
                ratio: Option<f64>,
                #[arg(long)]
                name: Option<String>,
            },
        }
        let m = Plugin::new("mycli", "^1.3", "typed", "1.0.0").manifest::<Typed>();
        let got: Vec<(&str, &str, Option<ValueRange>)> = m.commands[0]
            .args
            .iter()
            .map(|a| (a.name.as_str(), a.value_type.as_str(), a.range))
            .collect();
        let r = |min: i64, max: Option<i64>| {
            let range = ValueRange::default().with_min(min);
            Some(match max {
                Some(max) => range.with_max(max),
                None => range,
            })
        };
        assert_eq!(
            got,
            [
                ("input", "path", None),
                ("file", "file", None),
                ("dir", "dir", None),
                ("id", "int", None),
                // The type's bounds: `.range(1..)` is the plugin's to check.
                ("level", "int", r(0, Some(255))),
                ("count", "int", r(0, None)),
                ("ratio", "number", None),
                ("name", "string", None),
            ]
        );
        let json = serde_json::to_value(&m.commands[0].args[4]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"name": "level", "long": "level", "value_name": "LEVEL",
                               "type": "int", "range": {"min": 0, "max": 255}})
        );
    }

    /// The plugin of the compatibility fixtures (tests/compat/api-1.2 and
    /// api-1.3), whose `manifest.json` is what this SDK prints for it.
    #[derive(Subcommand)]
    #[allow(dead_code)]
    enum Todo {
        /// Mark a task done
        Done {
            /// Number of the task
            id: u32,
        },
        /// Import tasks from a file
        Import {
            /// File to read the tasks from
            #[arg(value_hint = clap::ValueHint::FilePath)]
            file: std::path::PathBuf,
        },
    }

    fn fixture(api: &str) -> String {
        let path = format!(
            "{}/../../tests/compat/api-{api}/manifest.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_compatibility_fixtures_are_what_the_sdk_prints() {
        let todo = |api: &str, version: &str| {
            Plugin::new("mycli", api, "todo", version)
                .description("Tasks (a compatibility fixture)")
        };
        let printed = todo("^1.3", "0.3.0").manifest_json::<Todo>();
        assert_eq!(fixture("1.3"), printed + "\n");
        // API 1.2 had no typed values: the same plugin then printed the
        // same manifest without `type` and `range`.
        let mut m = todo("^1.2", "0.2.0").manifest::<Todo>();
        for arg in m.commands.iter_mut().flat_map(|c| c.args.iter_mut()) {
            (arg.value_type, arg.range) = (Default::default(), None);
        }
        assert_eq!(fixture("1.2"), serde_json::to_string(&m).unwrap() + "\n");
    }

    #[test]
    fn manifest_serializes_to_the_documented_shape() {
        #[derive(Subcommand)]
        #[allow(dead_code)]
        enum Greet {
            /// Say hello
            Greet {
                /// Who to greet
                #[arg(long, default_value = "world")]
                who: String,
            },
        }
        let m = Plugin::new("mycli", "^1.0", "greet", "0.2.0").manifest::<Greet>();
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "manifest": 1, "host": "mycli", "name": "greet", "version": "0.2.0",
                "api": "^1.0",
                "commands": [{ "name": "greet", "about": "Say hello", "args": [{
                    "name": "who", "long": "who", "default": "world",
                    "help": "Who to greet", "value_name": "WHO"
                }]}]
            })
        );
    }
}

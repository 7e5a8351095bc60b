//! `plugins new NAME`: writes a plugin crate for this host (see
//! [`crate::scaffold`]) and says how to build, install and run it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgMatches, Command};

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::scaffold::{Scaffold, Template};

use super::common::{Result, string};

/// The clap definition of `plugins new`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("new")
        .about(format!("Create a plugin crate for {ns} that builds and installs as is"))
        .arg(
            Arg::new("name")
                .required(true)
                .value_name("NAME")
                .help(format!("Plugin name; the crate is {ns}-NAME")),
        )
        .arg(
            Arg::new("kind")
                .long("kind")
                .value_name("KIND")
                .value_parser(["exec", "wasm"])
                .default_value("exec")
                .help("An executable (snapin-sdk) or a sandboxed WebAssembly component (snapin-guest)"),
        )
        .arg(
            Arg::new("dir")
                .long("dir")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .value_hint(clap::ValueHint::DirPath)
                .help(format!("Where to create the crate [default: ./{ns}-NAME]")),
        )
        .arg(
            Arg::new("sdk-path")
                .long("sdk-path")
                .value_name("PATH")
                .value_parser(clap::value_parser!(PathBuf))
                .value_hint(clap::ValueHint::DirPath)
                .help("Depend on a local checkout of the SDK crate (crates/snapin-sdk, or crates/snapin-guest with --kind wasm)"),
        )
}

/// The arguments of `plugins new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NewArgs {
    pub(super) name: String,
    pub(super) kind: Template,
    pub(super) dir: Option<PathBuf>,
    pub(super) sdk_path: Option<PathBuf>,
}

impl From<&ArgMatches> for NewArgs {
    fn from(m: &ArgMatches) -> NewArgs {
        NewArgs {
            name: string(m, "name"),
            kind: match m.get_one::<String>("kind").map(String::as_str) {
                Some("wasm") => Template::Wasm,
                _ => Template::Exec,
            },
            dir: m.get_one::<PathBuf>("dir").cloned(),
            sdk_path: m.get_one::<PathBuf>("sdk-path").cloned(),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &NewArgs) -> Result {
    let ns = engine.ns();
    let scaffold = Scaffold {
        ns: ns.to_string(),
        api: engine.host.apis.newest().clone(),
        name: args.name.clone(),
        kind: args.kind,
        dir: args
            .dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("{ns}-{}", args.name))),
        sdk_path: args.sdk_path.clone(),
    };
    if engine.host_commands.contains(&scaffold.name) {
        return Err(Diagnostic::new(format!(
            "'{}' is a command of {ns} itself, so a plugin command of that name would never load",
            scaffold.name
        ))
        .with_fix("choose another name")
        .into());
    }
    let created = scaffold.create().map_err(|e| {
        Diagnostic::new(format!("cannot create the plugin crate: {e}")).with_fix_opt(e.fix(ns))
    })?;
    println!(
        "created {} ({} plugin, {} {}, {ns} API {}) in {}",
        created.package,
        scaffold.kind.as_str(),
        scaffold.kind.sdk(),
        created.sdk_requirement,
        created.api_requirement,
        created.dir.display()
    );
    println!("next:\n  cd {}", created.dir.display());
    for step in &created.steps {
        println!("  {step}");
    }
    if let Some(note) = &created.note {
        println!("note: {note}");
    }
    Ok(ExitCode::SUCCESS)
}

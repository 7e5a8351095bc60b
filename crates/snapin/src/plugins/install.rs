//! `plugins install SOURCE`: find the file (or fetch it, for an
//! `oci://` or `oci-layout://` source: see artifact.rs), check who can
//! change it, describe it, run the loader's checks, ask, then record it.

use std::process::ExitCode;

use clap::{Arg, ArgAction, ArgMatches, Command};

use crate::engine::Engine;
use crate::ui::Options;

use super::common::{
    Result, force_arg, require_signatures_arg, source_arg, string, trust_owner_arg, yes_arg,
};
use super::inspect::resolve_source;
use super::record::{Choices, install_file};

/// The clap definition of `plugins install`.
pub(super) fn command(ns: &str) -> Command {
    Command::new("install")
        .about("Describe, check, pin and record a plugin")
        .arg(source_arg(format!(
            "Path to a plugin file, NAME of a `{ns}-NAME` executable on PATH, oci://HOST/REPO[:TAG|@DIGEST] or oci-layout://DIR[:REF]"
        )))
        .arg(
            Arg::new("prefer")
                .long("prefer")
                .value_name("BUILD")
                .value_parser(["native", "wasm"])
                .default_value("native")
                .help("From a registry: take this machine's executable or the WebAssembly component when both exist"),
        )
        .arg(
            Arg::new("grant")
                .long("grant")
                .value_name("WHAT=TARGET")
                .action(ArgAction::Append)
                .help("Let a sandboxed plugin reach read=DIR, write=DIR or env=NAME (repeatable)"),
        )
        .arg(yes_arg())
        .arg(force_arg())
        .arg(trust_owner_arg())
        .arg(require_signatures_arg())
}

/// The arguments of `plugins install`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct InstallArgs {
    pub(super) source: String,
    pub(super) grants: Vec<String>,
    pub(super) yes: bool,
    pub(super) force: bool,
    pub(super) trust_owner: bool,
    /// `--prefer wasm`.
    pub(super) prefer_wasm: bool,
    pub(super) require_signatures: bool,
}

impl InstallArgs {
    /// The choices that apply to recording the plugin.
    pub(super) fn choices(&self) -> Choices {
        Choices {
            grants: self.grants.clone(),
            yes: self.yes,
            force: self.force,
            trust_owner: self.trust_owner,
            require_signatures: self.require_signatures,
        }
    }
}

impl From<&ArgMatches> for InstallArgs {
    fn from(m: &ArgMatches) -> InstallArgs {
        InstallArgs {
            source: string(m, "source"),
            grants: m
                .get_many::<String>("grant")
                .map(|g| g.cloned().collect())
                .unwrap_or_default(),
            yes: m.get_flag("yes"),
            force: m.get_flag("force"),
            trust_owner: m.get_flag("trust-owner"),
            prefer_wasm: m.get_one::<String>("prefer").is_some_and(|p| p == "wasm"),
            require_signatures: m.get_flag("require-signatures"),
        }
    }
}

pub(super) fn run(engine: &Engine, args: &InstallArgs, options: &Options) -> Result {
    if super::registry_commands::is_artifact(&args.source) {
        #[cfg(feature = "registry")]
        return super::artifact::install(
            engine,
            &args.source,
            args.prefer_wasm,
            &args.choices(),
            &super::verify::Expected::default(),
            options,
        );
        #[cfg(not(feature = "registry"))]
        return super::registry_commands::hand_over(engine, &format!("install {}", args.source));
    }
    // A plugin name: through the catalogs, when one lists it; otherwise
    // the `NS-NAME` executable on PATH.
    #[cfg(feature = "registry")]
    if super::registry_commands::is_plugin_name(&args.source)
        && let Some(hit) = super::catalogs::find(engine, &args.source, options)?
    {
        let reference = hit.reference();
        return super::artifact::install(
            engine,
            &reference,
            args.prefer_wasm,
            &args.choices(),
            &super::verify::Expected {
                catalog: Some((&hit.catalog, &hit.entry.keys)),
                ..Default::default()
            },
            options,
        );
    }
    #[cfg(not(feature = "registry"))]
    if super::registry_commands::names_a_catalog_plugin(engine, &args.source) {
        return super::registry_commands::hand_over(engine, &format!("install {}", args.source));
    }
    let (path, origin) = resolve_source(engine.ns(), &args.source)?;
    install_file(
        engine,
        &path,
        origin,
        &args.source,
        &args.choices(),
        options,
        None,
    )
    .map(|_| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arguments_are_parsed_once_into_a_struct() {
        let m = command("mycli").get_matches_from([
            "install",
            "./mycli-greet",
            "--grant",
            "env=HOME",
            "--grant",
            "read=/tmp",
            "-y",
            "--trust-owner",
        ]);
        assert_eq!(
            InstallArgs::from(&m),
            InstallArgs {
                source: "./mycli-greet".to_string(),
                grants: vec!["env=HOME".to_string(), "read=/tmp".to_string()],
                yes: true,
                force: false,
                trust_owner: true,
                prefer_wasm: false,
                require_signatures: false,
            }
        );
    }
}

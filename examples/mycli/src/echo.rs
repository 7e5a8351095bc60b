//! A plugin compiled into mycli: it implements the same [`snapin::Plugin`]
//! contract as installed plugins and goes through the same loader loop.

use snapin::protocol::{ArgSpec, CommandSpec, MANIFEST_FORMAT, Manifest};
use snapin::{Exit, Invocation, Plugin, PluginError};

/// `mycli echo WORDS...`: prints its arguments.
pub struct Echo;

impl Plugin for Echo {
    fn describe(&self) -> Result<Manifest, PluginError> {
        Ok(Manifest {
            manifest: MANIFEST_FORMAT,
            host: "mycli".into(),
            name: "echo".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            api: "^1.0".into(),
            description: Some("Print words (a plugin compiled into mycli)".into()),
            commands: vec![CommandSpec {
                name: "echo".into(),
                about: Some("Print the words given".into()),
                args: vec![ArgSpec {
                    name: "words".into(),
                    help: Some("Words to print".into()),
                    multiple: true,
                    ..ArgSpec::default()
                }],
                ..CommandSpec::default()
            }],
            capabilities: Default::default(),
        })
    }

    fn run(&self, invocation: &Invocation<'_>) -> Result<Exit, PluginError> {
        // argv is ["echo", ("--",) words...]: see docs/protocol.md.
        let words: Vec<String> = invocation
            .argv
            .iter()
            .skip(1)
            .skip_while(|a| *a == "--")
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        println!("{}", words.join(" "));
        Ok(Exit::Code(0))
    }
}

//! A plugin compiled into mycli: it implements the same [`snapin::Plugin`]
//! contract as installed plugins and goes through the same loader loop.

use snapin::protocol::{ArgSpec, CommandSpec, Manifest};
use snapin::{Exit, Invocation, Plugin, PluginError};

/// `mycli echo WORDS...`: prints its arguments.
pub struct Echo;

impl Plugin for Echo {
    fn describe(&self) -> Result<Manifest, PluginError> {
        let words = ArgSpec::positional("words")
            .help("Words to print")
            .multiple();
        let echo = CommandSpec::new("echo")
            .with_about("Print the words given")
            .with_arg(words);
        Ok(
            Manifest::new("mycli", "echo", env!("CARGO_PKG_VERSION"), "^1.0")
                .with_description("Print words (a plugin compiled into mycli)")
                .with_command(echo),
        )
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

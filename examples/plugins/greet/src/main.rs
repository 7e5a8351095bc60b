//! `mycli greet`: the smallest useful snapin plugin, written with the SDK.
//!
//! Package `mycli-greet` is plugin `greet`; its only command is `greet`.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use snapin_sdk::{Context, Error};

/// The commands this plugin adds to `mycli`.
#[derive(Subcommand)]
enum Commands {
    /// Say hello
    Greet(GreetArgs),
}

/// Arguments of `mycli greet`.
#[derive(Args)]
struct GreetArgs {
    /// Who to greet
    #[arg(long, default_value = "world")]
    who: String,
    /// Greet loudly
    #[arg(long)]
    shout: bool,
}

fn greet(args: &GreetArgs) -> String {
    let line = format!("hello, {}", args.who);
    if args.shout {
        line.to_uppercase()
    } else {
        line
    }
}

fn run(cmd: Commands, _ctx: &Context) -> Result<(), Error> {
    match cmd {
        Commands::Greet(args) => println!("{}", greet(&args)),
    }
    Ok(())
}

fn main() -> ExitCode {
    snapin_sdk::plugin!("mycli", "^1.0").run(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_and_shouts() {
        let mut args = GreetArgs {
            who: "Rust".into(),
            shout: false,
        };
        assert_eq!(greet(&args), "hello, Rust");
        args.shout = true;
        assert_eq!(greet(&args), "HELLO, RUST");
    }

    #[test]
    fn manifest_is_plugin_greet() {
        let m = snapin_sdk::plugin!("mycli", "^1.0").manifest::<Commands>();
        assert_eq!(m.name, "greet");
        assert_eq!(m.version, "0.2.0");
        assert_eq!(m.description.as_deref(), Some("Friendly greetings"));
        assert_eq!(m.commands[0].name, "greet");
        assert_eq!(m.commands[0].about.as_deref(), Some("Say hello"));
    }
}

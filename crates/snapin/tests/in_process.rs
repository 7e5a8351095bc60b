//! Plugins compiled into a host go through the same loader loop as
//! installed ones: a panic while they register is one failed outcome.

use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use snapin::Status;
use snapin::protocol::{CommandSpec, Manifest};
use snapin::{Exit, Host, Invocation, Plugin, PluginError};

fn manifest(name: &str, api: &str) -> Manifest {
    Manifest::new("host", name, "1.0.0", api).with_command(CommandSpec::new(name))
}

struct Panics;
impl Plugin for Panics {
    fn describe(&self) -> Result<Manifest, PluginError> {
        panic!("registration exploded")
    }
    fn run(&self, _: &Invocation<'_>) -> Result<Exit, PluginError> {
        unreachable!("never registered")
    }
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

struct Works;
impl Plugin for Works {
    fn describe(&self) -> Result<Manifest, PluginError> {
        Ok(manifest("works", "^2.1"))
    }
    fn run(&self, invocation: &Invocation<'_>) -> Result<Exit, PluginError> {
        RUNS.fetch_add(1, Ordering::SeqCst);
        assert_eq!(invocation.context.plugin, "works");
        Ok(Exit::Code(3))
    }
}

struct PanicsWhenRun;
impl Plugin for PanicsWhenRun {
    fn describe(&self) -> Result<Manifest, PluginError> {
        Ok(manifest("boom", "^2"))
    }
    fn run(&self, _: &Invocation<'_>) -> Result<Exit, PluginError> {
        panic!("run exploded")
    }
}

struct TooNew;
impl Plugin for TooNew {
    fn describe(&self) -> Result<Manifest, PluginError> {
        Ok(manifest("toonew", "^3"))
    }
    fn run(&self, _: &Invocation<'_>) -> Result<Exit, PluginError> {
        unreachable!("never registered")
    }
}

#[test]
fn compiled_in_plugins_share_the_loader_loop() {
    let home = tempfile::tempdir().unwrap();
    let mut app = Host::builder("host")
        .version("2.1.0")
        .api(snapin::Version::new(2, 1, 0))
        .home(home.path())
        .plugin(Panics)
        .plugin(Works)
        .plugin(PanicsWhenRun)
        .plugin(TooNew)
        .build()
        .load(clap::Command::new("host"));

    let outcomes = app.outcomes().to_vec();
    assert_eq!(outcomes.len(), 4);
    assert_eq!(outcomes[0].status, Status::Error);
    assert!(
        outcomes[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("panicked: registration exploded"),
        "{:?}",
        outcomes[0]
    );
    assert_eq!(outcomes[1].status, Status::Ok);
    assert_eq!(outcomes[2].status, Status::Ok);
    assert_eq!(outcomes[3].status, Status::Skipped);
    assert!(
        app.command()
            .get_subcommands()
            .any(|c| c.get_name() == "works")
    );
    assert!(
        !app.command()
            .get_subcommands()
            .any(|c| c.get_name() == "toonew")
    );

    let matches = app.get_matches_from(["host", "works"]);
    assert_eq!(app.dispatch(&matches), Some(ExitCode::from(3)));
    assert_eq!(RUNS.load(Ordering::SeqCst), 1);

    let matches = app.get_matches_from(["host", "boom"]);
    assert_eq!(app.dispatch(&matches), Some(ExitCode::from(101)));

    let matches = app.get_matches_from(["host", "plugins", "list"]);
    assert_eq!(app.dispatch(&matches), Some(ExitCode::SUCCESS));
}

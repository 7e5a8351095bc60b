//! Synthetic installed plugins for the start-up benchmarks: `cargo xtask
//! bench` times whole `mycli` processes against them, and the criterion
//! benches in `benches/` time the in-process parts of start-up.
//!
//! An index of N plugins is written in one update, with the entries
//! `plugins install` would record (manifest, pin and file stamp), so every
//! run sees the same state as after N installs without describing N
//! processes.

use std::io;
use std::path::{Path, PathBuf};

use snapin::__private::{Entry, Index, IndexError, Origin};
use snapin::Kind;
use snapin_protocol::{ArgSpec, CommandSpec, Manifest};

/// The name of synthetic plugin number `i`.
pub fn plugin_name(i: usize) -> String {
    format!("p{i:05}")
}

/// A command that synthetic plugin number `i` provides.
pub fn command_name(i: usize) -> String {
    format!("{}-list", plugin_name(i))
}

/// A manifest for synthetic plugin number `i`, for host `mycli`: two
/// commands with three args each (an option with a default, a flag and a
/// positional).
pub fn manifest(i: usize) -> Manifest {
    let name = plugin_name(i);
    let args = || {
        vec![
            ArgSpec::new("level")
                .long("level")
                .help("How much")
                .default_value("1"),
            ArgSpec::new("dry-run").long("dry-run").flag(),
            ArgSpec::positional("item").help("What to work on"),
        ]
    };
    let command = |verb: &str| {
        let mut command = CommandSpec::new(format!("{name}-{verb}"))
            .with_about(format!("The {verb} command of synthetic plugin {name}"));
        command.args = args();
        command
    };
    Manifest::new("mycli", name.clone(), "1.0.0", "^1.0")
        .with_description(format!("Synthetic plugin {name}"))
        .with_commands([command("list"), command("show")])
}

/// Records `n` synthetic plugins, all run by the executable at `plugin`
/// (whose sha256 is `sha256`), in the index at `index` in one write.
pub fn record(index: &Path, n: usize, plugin: &Path, sha256: &str) -> Result<(), IndexError> {
    // As `plugins install` records it, so runs need not hash the file again.
    // A file changed in the clock step its pin is taken in gets no stamp
    // (file times tick in steps of a few milliseconds): let the freshly
    // written plugin age past it, as any installed file has.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let file = snapin::__private::pin_file(plugin)
        .ok()
        .and_then(|pin| pin.stamp);
    let installed_at = snapin::__private::now_rfc3339();
    let entries = (0..n).map(|i| Entry {
        name: plugin_name(i),
        kind: Kind::Exec,
        path: plugin.to_path_buf(),
        origin: Origin::Path {
            given: plugin.display().to_string(),
        },
        sha256: sha256.to_string(),
        enabled: true,
        installed_at: installed_at.clone(),
        manifest: Some(manifest(i)),
        describe_error: None,
        grants: Default::default(),
        compiled_sha256: None,
        file: file.clone(),
        trusted_owners: Vec::new(),
    });
    Index::update(index, |index| {
        index.plugins.extend(entries);
        Ok::<_, IndexError>(())
    })
}

/// Writes `mycli-synth` into `dir`: a POSIX sh plugin that describes itself
/// as `synth` and answers any command by echoing it.
pub fn write_plugin(dir: &Path) -> io::Result<PathBuf> {
    let path = dir.join("mycli-synth");
    std::fs::write(
        &path,
        "#!/bin/sh\n[ \"$1\" = --snapin-describe ] && { echo '{\"manifest\":1,\"host\":\"mycli\",\"name\":\"synth\",\"version\":\"1.0.0\",\"api\":\"^1.0\",\"commands\":[{\"name\":\"synth\"}]}'; exit 0; }\necho \"synthetic $*\"\n",
    )?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(path)
}

/// A home of `n` synthetic plugins for in-process benches: the index
/// lives at `ROOT/plugins.json`, as `mycli` keeps it under `MYCLI_HOME`.
pub fn home(root: &Path, n: usize) -> io::Result<()> {
    let plugin = write_plugin(root)?;
    let sha256 = snapin::__private::sha256_file(&plugin)?;
    record(&root.join("plugins.json"), n, &plugin, &sha256).map_err(io::Error::other)
}

/// The host that `mycli` builds, with its home at `root`.
pub fn host(root: &Path) -> snapin::Host {
    snapin::Host::builder("mycli")
        .version("0.1.0")
        .api(snapin::Version::new(1, 2, 0))
        .home(root)
        .build()
}

/// `mycli`'s own command line before plugins are added.
pub fn cli() -> clap::Command {
    clap::Command::new("mycli")
        .version("0.1.0")
        .subcommand(clap::Command::new("version").about("Print mycli's version"))
}

//! The registry cases of `cargo xtask bench`: (g) installing a plugin from
//! a registry on this machine, beside installing the same file by its
//! path, and (h) `plugins outdated` for 100 registry plugins, beside
//! `plugins list` of the same home, and (i) installing a signed plugin,
//! beside the unsigned install of (g). The registry is Debian's
//! docker-registry (distribution), started on 127.0.0.1 with a free port
//! and a temporary storage directory; without it the cases are reported
//! as not measured.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::bench::{Stats, sample};

/// A registry started for the run, stopped on drop.
struct Registry {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry() -> Result<Option<Registry>, String> {
    if Command::new("docker-registry")
        .arg("--version")
        .output()
        .is_err()
    {
        return Ok(None);
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let addr = format!("127.0.0.1:{port}");
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n  secret: bench\n",
            dir.path().join("data").display()
        ),
    )
    .map_err(|e| e.to_string())?;
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start docker-registry: {e}"))?;
    let registry = Registry {
        child,
        addr,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if answers(&registry.addr) {
            return Ok(Some(registry));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "docker-registry did not answer on {}",
        registry.addr
    ))
}

fn answers(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let request = format!("GET /v2/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut reply = String::new();
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.starts_with("HTTP/1.1 200")
}

/// What the cases measured.
pub struct RegistryRun {
    pub g: Option<(Stats, Stats)>,
    pub h: Option<(Stats, Stats)>,
    /// (i), signed, beside (g) from the registry, unsigned.
    pub i: Option<(Stats, Stats)>,
    pub plugins: usize,
}

impl RegistryRun {
    /// The section of BENCHMARKS.md.
    pub fn markdown(&self, provenance: &str) -> String {
        let cell = |s: &Option<(Stats, Stats)>, which: usize| match s {
            Some(pair) => {
                if which == 0 {
                    pair.0.cell()
                } else {
                    pair.1.cell()
                }
            }
            None => "not measured (docker-registry is not installed)".to_string(),
        };
        format!(
            "{provenance}\n\n| case | measured | floor in the same run |\n|---|---|---|\n| (g) `plugins install oci://127.0.0.1:PORT/bench/greet --yes`, fresh home | {} | `plugins install PATH --yes` of the same file: {} |\n| (h) `plugins outdated`, {} registry plugins | {} | `plugins list` of the same home: {} |\n| (i) the same install as (g), of a version signed with an SSH key (verified, signer pinned) | {} | (g) unsigned, alternating with it: {} |\n\nCells: median (min–max) ms of whole processes.",
            cell(&self.g, 0),
            cell(&self.g, 1),
            self.plugins,
            cell(&self.h, 0),
            cell(&self.h, 1),
            cell(&self.i, 0),
            cell(&self.i, 1),
        )
    }
}

/// Runs (g) and (h) with `mycli`, publishing `greet`.
pub fn measure(mycli: &Path, greet: &Path, smoke: bool) -> Result<RegistryRun, String> {
    let plugins = if smoke { 5 } else { 100 };
    let Some(registry) = start_registry()? else {
        println!("(g), (h): not measured: docker-registry is not installed");
        return Ok(RegistryRun {
            g: None,
            h: None,
            i: None,
            plugins,
        });
    };
    let runs = if smoke { 1 } else { 21 };
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mycli_in = |home: &Path, args: &[&str]| {
        let mut c = Command::new(mycli);
        c.args(args).env("MYCLI_HOME", home).env("NO_COLOR", "1");
        c
    };
    let publish_home = work.path().join("publisher");
    let repo = |i: usize| format!("oci://{}/bench/p{i:03}", registry.addr);
    for i in 0..plugins {
        sample(1, 0, || {
            let mut c = mycli_in(&publish_home, &["plugins", "publish", &repo(i)]);
            c.arg(greet);
            c
        })?;
    }
    // (i) signs a copy with an SSH key made for the run.
    let key = work.path().join("signing-key");
    let made = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .map_err(|e| format!("cannot run ssh-keygen: {e}"))?;
    if !made.success() {
        return Err("ssh-keygen could not make a key".to_string());
    }
    let signed_repo = format!("oci://{}/bench/signed", registry.addr);
    sample(1, 0, || {
        let mut c = mycli_in(&publish_home, &["plugins", "publish", &signed_repo]);
        c.arg(greet).arg("--sign").arg(&key);
        c
    })?;
    // (g) and (i): each run in a fresh home, alternating with the path
    // install.
    let mut from_registry = Vec::new();
    let mut from_path = Vec::new();
    let mut signed = Vec::new();
    for i in 0..runs {
        let home = work.path().join(format!("s{i}"));
        signed.push(
            sample(1, 0, || {
                mycli_in(&home, &["plugins", "install", &signed_repo, "--yes"])
            })?
            .median,
        );
        let home = work.path().join(format!("g{i}"));
        from_registry.push(
            sample(1, 0, || {
                mycli_in(&home, &["plugins", "install", &repo(0), "--yes"])
            })?
            .median,
        );
        let home = work.path().join(format!("p{i}"));
        from_path.push(
            sample(1, 0, || {
                let mut c = mycli_in(&home, &["plugins", "install", "--yes"]);
                c.arg(greet);
                c
            })?
            .median,
        );
    }
    let i = (Stats::of(signed), Stats::of(from_registry.clone()));
    let g = (Stats::of(from_registry), Stats::of(from_path));
    // (h): one home with `plugins` registry plugins: one installed for
    // real, the rest recorded as copies of its entry pointing at the other
    // repositories.
    let home = work.path().join("h");
    sample(1, 0, || {
        mycli_in(&home, &["plugins", "install", &repo(0), "--yes"])
    })?;
    let index_path = home.join("plugins.json");
    let text = std::fs::read_to_string(&index_path).map_err(|e| e.to_string())?;
    let mut index: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let first = index["plugins"][0].clone();
    let mut entries = Vec::new();
    for i in 0..plugins {
        let mut entry = first.clone();
        entry["name"] = format!("p{i:03}").into();
        entry["origin"]["source"] = repo(i).into();
        entry["origin"]["repository"] = format!("bench/p{i:03}").into();
        entries.push(entry);
    }
    index["plugins"] = entries.into();
    std::fs::write(&index_path, index.to_string()).map_err(|e| e.to_string())?;
    sample(1, 0, || mycli_in(&home, &["plugins", "outdated"]))?;
    let outdated = sample(runs, 0, || mycli_in(&home, &["plugins", "outdated"]))?;
    let list = sample(runs, 0, || mycli_in(&home, &["plugins", "list"]))?;
    println!(
        "(g) install from the registry {} ms, by path {} ms",
        g.0.cell(),
        g.1.cell()
    );
    println!(
        "(h) outdated, {plugins} plugins {} ms, list {} ms",
        outdated.cell(),
        list.cell()
    );
    println!(
        "(i) install of a signed version {} ms, unsigned {} ms",
        i.0.cell(),
        i.1.cell()
    );
    Ok(RegistryRun {
        g: Some(g),
        h: Some((outdated, list)),
        i: Some(i),
        plugins,
    })
}

//! The integration tests of `mycli`: one test binary, one module per area,
//! so the binaries and plugins they drive are linked and built once.
//!
//! Run one area with a filter: `cargo nextest run -p mycli -E 'test(/^faults::/)'`
//! or `cargo test -p mycli --test cli faults::`.
//!
//! On Windows (`cargo xtask wine` runs them under wine) the areas marked
//! `#[cfg(unix)]` are left out: they drive POSIX sh plugins, Unix shells,
//! file modes, a pseudo-terminal or a Linux registry server. The README's
//! support table says what is tested where.

/// A reverse proxy in front of a test registry that injects faults: error
/// statuses, short or damaged bodies, delays, a redirect to another host.
#[cfg(unix)]
mod fault_proxy;
/// A publisher's keys, made with the real `minisign` and `ssh-keygen`, and
/// the signatures those tools make with them.
#[cfg(unix)]
mod publisher_keys;
/// A real OCI registry (distribution's `docker-registry`), anonymous or
/// behind Basic or token authentication, with an in-process token server.
#[cfg(unix)]
mod registry;
/// A home that installs from a registry: `mycli` with no registry
/// credentials, plugins published, what the home holds, and refusals.
#[cfg(unix)]
mod registry_home;
/// Helpers: a throw-away `MYCLI_HOME`, the built binaries and example
/// plugins, plugin scripts written on the fly, and the redaction of what
/// varies between runs in snapshots.
mod support;

/// Signed catalogs: build, add, list, search offline, install by name,
/// audit, and the refusals (two catalogs, an unlisted signer, another key,
/// expiry, rollback, size).
#[cfg(unix)]
mod catalogs;
/// `plugins check` on the example plugins, the `--json` outputs and their
/// schemas, the `plugins list` table and colour.
mod check;
/// Plugins built for API 1.0, kept forever in tests/compat, run on this
/// mycli; a later minor's manifest fields are ignored and reported at -v.
#[cfg(unix)]
mod compat;
/// The plugin API 1.2 and 1.3 fixtures of tests/compat: typed values
/// checked before the plugin starts, path completion, and a type word
/// from a later API read as `string`.
#[cfg(unix)]
mod compat_typed;
/// Shell completions, driven through real bash, zsh and fish.
#[cfg(unix)]
mod complete;
/// Plugins shipped through a real OCI registry and read back by skopeo.
#[cfg(unix)]
mod distribution;
/// End to end: install, run, list, upgrade and remove real plugins.
mod e2e;
/// The fault matrix: plugins that hang, flood, lie or crash, and an index
/// that is damaged, newer, read-only, on a full disk or written by racing
/// and killed writers.
#[cfg(unix)]
mod faults;
/// Hostile plugin files: edits that keep size and times, tmpfs, shared
/// groups and ACLs.
#[cfg(unix)]
mod hostile_files;
/// Grants and the compiled-code cache under attack; `plugins grant` and
/// `plugins revoke`.
#[cfg(unix)]
mod hostile_grants;
/// Manifests built to hurt the index and the start-up lookup, a forged
/// lookup, and a damaged index on a plugin command's command line.
#[cfg(unix)]
mod hostile_index;
/// Plugin-supplied text that would drive the terminal or the shell, and a
/// component's describe that reads stdin or floods its output.
#[cfg(unix)]
mod hostile_text;
/// The fixes messages suggest, each run; doc-level promises about messages.
#[cfg(unix)]
mod messages;
/// What differs between systems, asserted on each: the program name in
/// usage lines, PATH and PATHEXT, exit statuses and crashes, and the index
/// under concurrent writers and readers.
mod platform;
/// Promises a weaker test could pass without keeping: network denial
/// against a live listener, built-ins against `--force`, every directory
/// above a plugin, the default sandbox limits.
#[cfg(unix)]
mod promises;
/// `plugins install oci://...` against a failing registry: statuses, damaged bodies, auth, races.
#[cfg(unix)]
mod registry_faults;
/// The OCI registry harness proven with skopeo: pushes and pulls in each
/// authentication mode, the fault proxy, stopping and restarting.
#[cfg(unix)]
mod registry_harness;
/// `plugins new`: the scaffolded crates build, test, install and run.
#[cfg(unix)]
mod scaffold;
/// Security checks: writable or foreign plugin files, look-alike names,
/// provenance.
#[cfg(unix)]
mod security;
/// Signatures of registry plugins: signing, the pinned signer, key
/// rotation, trusted keys, require-signatures, lock and sync, and forged or
/// damaged signatures.
#[cfg(unix)]
mod signatures;
/// Sandboxed WebAssembly plugins built for wasm32-wasip2.
mod wasm;

use std::fs;
use std::path::Path;

/// Every `.rs` file in this directory is declared as a module above: a file
/// that is not would never be compiled, and its tests never run.
#[test]
fn no_forgotten_test_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let main = fs::read_to_string(dir.join("main.rs")).expect("read main.rs");
    let mut forgotten = Vec::new();
    for entry in fs::read_dir(&dir).expect("read tests/cli") {
        let path = entry.expect("directory entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_none_or(|e| e != "rs") || stem == "main" {
            continue;
        }
        if !main.lines().any(|l| l == format!("mod {stem};")) {
            forgotten.push(path.display().to_string());
        }
    }
    assert!(
        forgotten.is_empty(),
        "add `mod NAME;` to tests/cli/main.rs for: {forgotten:?}"
    );
}

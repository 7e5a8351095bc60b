//! A manifest and a command line: the manifest's JSON, a NUL byte, then the
//! words the user typed after `mycli`, separated by NUL bytes. A manifest
//! the contract check accepts must become clap commands that pass clap's
//! assertions and render help, and any command line clap accepts must
//! survive re-emission to the plugin (`snapin_fuzz::check_reemission`).

#![no_main]

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use libfuzzer_sys::fuzz_target;
use snapin_protocol::Manifest;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let json = parts.next().unwrap_or_default();
    let Ok(manifest) = serde_json::from_slice::<Manifest>(json) else {
        return;
    };
    let reserved = snapin_fuzz::host_reserved();
    if snapin::__private::validate(&manifest, snapin_fuzz::HOST, &reserved).is_err() {
        return;
    }
    if let Err(e) = snapin_fuzz::check_builds(&manifest.commands) {
        panic!("{e}");
    }
    let args: Vec<OsString> = parts.map(|a| OsStr::from_bytes(a).to_os_string()).collect();
    if let Err(e) = snapin_fuzz::check_reemission(&manifest.commands, &args) {
        panic!("{e}");
    }
});

//! Bytes as a plugin's `--snapin-describe` output: decoded as a manifest,
//! then checked against the contract with the host's reserved names, as
//! install and the loader do. A decoded manifest must also survive the
//! trip through the index (encode, decode) unchanged, with the same verdict.

#![no_main]

use libfuzzer_sys::fuzz_target;
use snapin::__private::validate;
use snapin_protocol::Manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(manifest) = serde_json::from_slice::<Manifest>(data) else {
        return;
    };
    let reserved = snapin_fuzz::host_reserved();
    let verdict = validate(&manifest, snapin_fuzz::HOST, &reserved);
    if let Err(e) = &verdict {
        assert!(!e.to_string().is_empty());
    }
    let json = serde_json::to_vec(&manifest).expect("a decoded manifest encodes");
    let back: Manifest = serde_json::from_slice(&json).expect("an encoded manifest decodes");
    assert_eq!(back, manifest);
    assert_eq!(validate(&back, snapin_fuzz::HOST, &reserved), verdict);
});

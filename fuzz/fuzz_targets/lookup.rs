//! Bytes as the start-up lookup (`.plugins.lookup`), which every run that
//! names a command reads: whatever the file holds, opening it and looking
//! commands up must not panic or allocate what the file does not have. The
//! stamp is taken from the file's own header (layout in
//! `crates/snapin/src/lookup.rs`), so mutated files get past the staleness
//! check and reach the slots and records.

#![no_main]

use libfuzzer_sys::fuzz_target;
use snapin::__private::{Found, Lookup, Stamp};

/// The stamp recorded in a lookup file's header, if it has one.
fn stamp_in(data: &[u8]) -> Option<Stamp> {
    let len = u64::from_le_bytes(data.get(8..16)?.try_into().ok()?);
    let end = 16usize.checked_add(usize::try_from(len).ok()?)?;
    let header: serde_json::Value = serde_json::from_slice(data.get(16..end)?).ok()?;
    serde_json::from_value(header.get("stamp")?.clone()).ok()
}

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("snapin-fuzz-{}.lookup", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let stamp = stamp_in(data).unwrap_or(Stamp {
        len: 0,
        mtime_ns: 0,
        ino: 0,
        host: String::new(),
    });
    if let Some(lookup) = Lookup::open(&path, &stamp) {
        let listed = lookup.listing().unwrap_or_default();
        let _ = lookup.problems().len();
        for name in listed
            .iter()
            .map(|l| l.name.as_str())
            .chain(["greet", "p00000-list", ""])
        {
            if let Found::Record(record) = lookup.find(name) {
                assert_eq!(
                    record.name, name,
                    "a lookup answers only for the name asked"
                );
            }
        }
    }
});

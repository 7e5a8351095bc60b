//! Bytes as a catalog document, through the reader `plugins search`,
//! `install` and `audit` use once the signature is checked
//! (`Catalog::parse`). A catalog it accepts must be written back (as
//! `catalog build` writes it) and read again unchanged, and searching it
//! must not panic; a catalog it refuses gets a reason.

#![no_main]

use libfuzzer_sys::fuzz_target;
use snapin::__private::Catalog;

/// snapin's `CATALOG_CAP`: pretty printing can grow a compact catalog
/// near the cap past it, and then it is refused for its size.
const CATALOG_CAP: usize = 4 << 20;

fuzz_target!(|data: &[u8]| {
    match Catalog::parse(data) {
        Ok(catalog) => {
            let bytes = catalog.to_bytes();
            if bytes.len() <= CATALOG_CAP {
                let back = Catalog::parse(&bytes).expect("a written catalog reads back");
                assert_eq!(back, catalog);
            }
            for term in ["", "greet", "GREET", "é", "-", "ß"] {
                let _ = catalog.search(term);
            }
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
});

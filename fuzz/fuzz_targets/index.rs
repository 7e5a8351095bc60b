//! Bytes as the installed-plugins index file, through the decoder start-up
//! uses (`Index::from_slice_with_spans`, which is `Index::from_slice` plus
//! where each entry lies). A file it accepts must be written back (as
//! `Index::update` writes it) and read again unchanged, and each entry must
//! decode alone from its span, as a run reads it through the start-up
//! lookup; a file it refuses gets an error that names the file.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use snapin::__private::{Entry, Index};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/home/user/.mycli/plugins.json");
    match Index::from_slice_with_spans(data, path) {
        Ok((index, spans)) => {
            for (entry, span) in index.plugins.iter().zip(&spans) {
                let at = usize::try_from(span.offset).expect("a span fits in memory");
                let len = usize::try_from(span.len).expect("a span fits in memory");
                let alone: Entry =
                    serde_json::from_slice(&data[at..at + len]).expect("an entry decodes alone");
                assert_eq!(&alone, entry);
            }
            let json = serde_json::to_vec_pretty(&index).expect("a decoded index encodes");
            let back = Index::from_slice(&json, path).expect("an encoded index decodes");
            assert_eq!(back, index);
            // The loader checks each cached manifest again.
            let reserved = snapin_fuzz::host_reserved();
            for manifest in index.plugins.iter().filter_map(|e| e.manifest.as_ref()) {
                let _ = snapin::__private::validate(manifest, snapin_fuzz::HOST, &reserved);
            }
        }
        Err(e) => {
            let message = e.to_string();
            assert!(message.contains("plugins.json"), "{message}");
        }
    }
});

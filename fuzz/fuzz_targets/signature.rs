//! Bytes as a signature file (`Signature::parse`, which tells a .minisig
//! from an armored SSH signature by its content) and, read as text, as a
//! publisher's key (`PublicKey::parse`). Neither may panic. A signature it
//! accepts reads back unchanged from its bytes and checks against fixed
//! keys and a payload without panicking (the seeds verify; mutations of
//! them fail, short of a forgery); a key it accepts reads back unchanged
//! from its canonical line, and a signature checks against it without
//! panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use snapin::__private::{PublicKey, Signature};

/// The keys that made the seed signatures (`fuzz/seeds/signature`), so
/// that mutations of a seed reach the checks past the key id.
const KEYS: [&str; 2] = [
    "RWSyvBk2yp/I7HSYATr3gKDNBJ5I/udIaOzwuqUx9wdBc1inF57Wb0Vy",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIM8roeOVyv+BI1WARHzcIw9KFEaiJwKG5LFmpsfQtoFT",
];

/// What the seed signatures cover.
const PAYLOAD: &[u8] = b"snapin-plugin-signature v1\nname greet\nversion 1.2.0\nindex sha256:6ae8a75555209fd6c44157c0aed8016e763ff435a19cf186f76863140143ff72\n";

fuzz_target!(|data: &[u8]| {
    let keys: Vec<PublicKey> = KEYS
        .iter()
        .map(|k| PublicKey::parse(k).expect("a fixed key reads"))
        .collect();
    let signature = match Signature::parse(data) {
        Ok(signature) => {
            let back = Signature::parse(signature.to_bytes()).expect("a signature reads back");
            assert_eq!(back, signature);
            for key in &keys {
                if let Err(reason) = signature.verify(key, PAYLOAD) {
                    assert!(!reason.is_empty());
                }
            }
            Some(signature)
        }
        Err(reason) => {
            assert!(!reason.is_empty());
            None
        }
    };
    match PublicKey::parse(&String::from_utf8_lossy(data)) {
        Ok(key) => {
            let text = key.to_text();
            let back = PublicKey::parse(&text).expect("a key's canonical line reads back");
            assert_eq!(back, key);
            assert!(!key.id().is_empty());
            if let Some(signature) = &signature {
                let _ = signature.verify(&key, PAYLOAD);
            }
        }
        Err(reason) => assert!(!reason.is_empty()),
    }
});

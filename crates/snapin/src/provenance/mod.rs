//! Who published a plugin: publishers' keys, the signatures that bind a
//! plugin's name, version and digest to one of them, and the signed
//! catalogs that list plugins with their publishers' keys.
//!
//! | file | what it owns |
//! |---|---|
//! | key.rs | publishers' public keys: minisign and SSH |
//! | secret_key.rs | publishers' secret keys, to sign with |
//! | signature.rs | what a signature binds, and checking one |
//! | catalog.rs | the catalog document: plugins, keys, versions, yanks, expiry |
//! | keyring.rs | the keys the user trusts, each for a registry prefix |

pub(crate) mod catalog;
pub(crate) mod key;
pub(crate) mod keyring;
pub(crate) mod secret_key;
pub(crate) mod signature;

//! Keyring (stub).

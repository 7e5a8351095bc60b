//! Signatures (stub).
pub struct Signature;

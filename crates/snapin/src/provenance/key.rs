//! Publishers keys (stub).
pub struct PublicKey;

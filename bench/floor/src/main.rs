//! Does nothing: `cargo xtask bench` times it as the cost of starting any
//! Rust process on the machine, the floor every host measurement is
//! compared with.

fn main() {}

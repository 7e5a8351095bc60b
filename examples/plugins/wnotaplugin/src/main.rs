//! A plain program with no snapin exports. Built for `wasm32-wasip2` it is a
//! WASI command component (world `wasi:cli/command`), which a host must
//! refuse to install as a plugin because it is not of world
//! `snapin:plugin/plugin`.

fn main() {
    println!("hello");
}

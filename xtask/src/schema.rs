//! `cargo xtask schema`: writes `docs/manifest.schema.json` from the
//! manifest types in `snapin-protocol`, so the schema plugin authors
//! validate against never drifts from what hosts read.
//! `crates/snapin-protocol/tests/schema.rs` fails when the file is stale.

use std::path::Path;

/// Where the schema is checked in, relative to the workspace root.
pub const PATH: &str = "docs/manifest.schema.json";

/// Regenerates the checked-in schema under `root`.
pub fn write(root: &Path) -> Result<(), String> {
    let text = snapin_protocol::manifest_schema()
        .map_err(|e| format!("cannot encode the manifest schema: {e}"))?;
    let path = root.join(PATH);
    let unchanged = std::fs::read_to_string(&path).is_ok_and(|old| old == text);
    std::fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    println!(
        "{PATH}: {}",
        if unchanged { "up to date" } else { "written" }
    );
    Ok(())
}

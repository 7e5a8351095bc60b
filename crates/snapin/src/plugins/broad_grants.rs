//! Grants of the user's whole home directory: `--grant read=/`, the home
//! directory itself, or any directory above it gets a warning line and a
//! second question, as a look-alike name does.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::index::{DirGrant, Entry, Grants};
use crate::ui::{self, Options};

use super::consent::confirm;

/// Warns, one line each, about granted directories that hold the user's
/// whole home directory (`/`, the home directory itself, a directory above
/// it), and then asks again (`--yes` answers; without a terminal, only
/// `--yes` goes on). Grants in `before` were already consented to.
pub(super) fn confirm_broad_grants(
    engine: &Engine,
    entry: &Entry,
    before: &Grants,
    yes: bool,
    options: &Options,
) -> Result<(), Diagnostic> {
    let Some(home) = home_dir() else {
        return Ok(());
    };
    let broad: Vec<&DirGrant> = entry
        .grants
        .dirs
        .iter()
        .filter(|g| home.starts_with(&g.path) && !before.dirs.contains(g))
        .collect();
    for grant in &broad {
        let (verb, what) = if grant.write {
            ("change or delete", "write")
        } else {
            ("read", "read")
        };
        ui::warning(
            engine.ns(),
            &format!(
                "--grant {what}={} lets plugin '{}' {verb} every file in your home directory {}, keys and passwords included: grant only the directory it needs",
                grant.path.display(),
                entry.name,
                home.display()
            ),
            options,
        );
    }
    match broad.first() {
        Some(grant) => confirm(
            engine.ns(),
            &format!(
                "Really let '{}' {} everything under {}?",
                entry.name,
                if grant.write { "change" } else { "read" },
                grant.path.display()
            ),
            yes,
        ),
        None => Ok(()),
    }
}

/// The user's home directory, resolved through symbolic links.
fn home_dir() -> Option<PathBuf> {
    let base = directories::BaseDirs::new()?;
    dunce::canonicalize(base.home_dir()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_directory_and_what_is_above_it_are_broad() {
        let Some(home) = home_dir() else { return };
        let broad = |dir: &std::path::Path| home.starts_with(dir);
        let root = home.ancestors().last().unwrap();
        assert!(broad(root), "{}", root.display());
        assert!(broad(&home));
        assert!(!broad(&home.join("notes")));
    }
}

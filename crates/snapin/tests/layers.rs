//! The crate's files depend on each other in one direction: each file uses
//! only files of its own layer or below (the table in the crate
//! documentation, `src/lib.rs`, read from there), and
//! no two files use each other, directly or through others. Only `ui.rs`
//! writes to stderr.
//!
//! Read from the source, comments and doc links included: `crate::NAME`
//! paths (in `use` lines, inline and in intra-doc links; an item
//! re-exported at the root is a dependency on `lib.rs`), and inside a
//! module directory, `super::NAME` and `NAME::` paths to sibling files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules by layer, lowest first, read from the table in the
/// crate documentation (`//! | N | `a`, `b` | ... |`), so that the map a
/// reader sees is the one enforced.
fn layers() -> Vec<Vec<String>> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs can be read");
    let mut layers = Vec::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! | ") else {
            continue;
        };
        let mut cells = row.split(" | ");
        let (Some(number), Some(files)) = (cells.next(), cells.next()) else {
            continue;
        };
        if number.trim().parse::<usize>() != Ok(layers.len()) {
            continue;
        }
        let names: Vec<String> = files
            .split('`')
            .skip(1)
            .step_by(2)
            .map(|name| name.trim_end_matches("/*").to_string())
            .collect();
        layers.push(names);
    }
    // The crate root sits above everything it declares.
    layers.push(vec!["lib".to_string()]);
    layers
}

fn layer_of(module: &str) -> Option<usize> {
    layers()
        .iter()
        .position(|layer| layer.iter().any(|name| name == module))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src`, as a node name: `app`, `runtime/exec`,
/// `plugins` (for plugins/mod.rs).
fn files() -> BTreeMap<String, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/ can be read").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut paths = Vec::new();
    walk(&src(), &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(src())
                .expect("under src/")
                .with_extension("");
            let mut name = relative.to_string_lossy().replace('\\', "/");
            if let Some(parent) = name.strip_suffix("/mod") {
                name = parent.to_string();
            }
            let code: String = std::fs::read_to_string(&path)
                .expect("a source file can be read")
                .lines()
                .map(|l| format!("{l}\n"))
                .collect();
            (name, code)
        })
        .collect()
}

/// The identifiers that follow `prefix` in `code`, including each name in
/// a `prefix{a, b::c}` list.
fn names_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let mut depth = 0;
            let end = list
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => return true,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    false
                })
                .map_or(list.len(), |(i, _)| i);
            // Only the first name of each top-level item of the list.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in list[..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && (c.is_ascii_alphanumeric() || c == '_') => {
                        names.insert(ident(&list[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                names.insert(name);
            }
        }
    }
    names
}

/// The files each file uses.
fn graph(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (name, code) in files {
        let mut uses = BTreeSet::new();
        // Doc links count: `[`App`](crate::App)` in a lower layer is as much
        // a dependency upward as a `use`. A path to an item re-exported at
        // the root (`crate::App`) depends on the root, which declares every
        // module.
        for module in names_after(code, "crate::") {
            if files.contains_key(&module) {
                uses.insert(module);
            } else {
                uses.insert("lib".to_string());
            }
        }
        // A file in a module directory, or the directory's mod.rs: sibling
        // files by `super::NAME` or a bare `NAME::` path.
        let dir = match name.rsplit_once('/') {
            Some((dir, _)) => Some(dir.to_string()),
            None if files.keys().any(|k| k.starts_with(&format!("{name}/"))) => Some(name.clone()),
            None => None,
        };
        if let Some(dir) = dir {
            let mut siblings = names_after(code, "super::");
            for word in code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')) {
                if let Some((first, _)) = word.split_once("::") {
                    siblings.insert(first.to_string());
                }
            }
            for sibling in siblings {
                let file = format!("{dir}/{sibling}");
                if files.contains_key(&file) && file != *name {
                    uses.insert(file);
                }
            }
            if name.contains('/')
                && names_after(code, "super::")
                    .iter()
                    .any(|n| !files.contains_key(&format!("{dir}/{n}")))
            {
                uses.insert(dir);
            }
        }
        uses.remove(name);
        graph.insert(name.clone(), uses);
    }
    graph
}

fn top(name: &str) -> &str {
    name.split('/').next().unwrap_or(name)
}

#[test]
fn every_file_has_a_layer() {
    for name in files().keys() {
        assert!(
            layer_of(top(name)).is_some(),
            "src/{name}.rs is in no layer: add it to the table in the crate documentation (src/lib.rs)"
        );
    }
}

#[test]
fn no_file_uses_a_layer_above_it() {
    let files = files();
    let mut wrong = Vec::new();
    for (name, uses) in graph(&files) {
        let own = layer_of(top(&name)).unwrap_or(usize::MAX);
        for used in uses {
            let theirs = layer_of(top(&used)).unwrap_or(usize::MAX);
            if theirs > own {
                wrong.push(format!("{name} (layer {own}) uses {used} (layer {theirs})"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "dependencies that point up:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_use_each_other() {
    let graph = graph(&files());
    // Depth-first search; a node met again on the current path closes a
    // cycle.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
            panic!("an import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn only_the_printer_writes_to_stderr() {
    for (name, text) in files() {
        if name == "ui" {
            continue;
        }
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        for needle in ["io::stderr()", "eprint!", "eprintln!"] {
            assert!(
                !code.contains(needle),
                "src/{name}.rs writes to stderr ({needle}): go through crate::ui"
            );
        }
    }
}

#[test]
fn the_reader_of_the_source_sees_every_kind_of_path() {
    let code = "use crate::{a, b::{c, d}, e};\nuse crate::f::g;\nlet x = crate::h(1);";
    let names: Vec<String> = names_after(code, "crate::").into_iter().collect();
    assert_eq!(names, ["a", "b", "e", "f", "h"]);
}

#[test]
fn the_layer_table_is_read_from_the_crate_documentation() {
    let layers = layers();
    assert_eq!(layers.len(), 11, "{layers:?}");
    assert_eq!(layer_of("diagnostic"), Some(0));
    assert_eq!(layer_of("runtime"), Some(3));
    assert_eq!(layer_of("plugins"), Some(8));
    assert_eq!(layer_of("app"), Some(9));
}

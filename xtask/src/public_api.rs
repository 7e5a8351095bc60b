//! `cargo xtask public-api [--check]`: the public API of each library
//! crate, one line per item, in `crates/CRATE/public-api.txt`.
//!
//! The listing comes from rustdoc's JSON output, read with the
//! `rustdoc-types` crate whose `FORMAT_VERSION` matches what the pinned
//! toolchain emits (57 for rustdoc 1.95). The JSON output is unstable:
//! `RUSTC_BOOTSTRAP=1`, given to rustdoc alone, lets the stable toolchain
//! produce it, and a toolchain emitting another format version fails with
//! a message naming the fix (the `rustdoc-types` version that matches it).
//!
//! Walking from the crate root, following public modules and `pub use`
//! re-exports and skipping `#[doc(hidden)]` items and what they contain,
//! each reachable item gives a line: its kind, its public path and, for
//! functions, fields, constants and type aliases, its signature. Trait
//! impls are listed (`impl core::fmt::Debug for snapin::Host`: adding or
//! removing a derive is an API change) but not the auto-trait and blanket
//! impls the compiler derives (`Send`, `From<T> for T`, `Any`, ...), so
//! the listing does not change with the compiler version. An item
//! reachable by several paths is listed under each; its members (fields,
//! variants, methods, impls) only under the shortest.
//!
//! `--check` regenerates into memory and fails, with a short diff, for
//! each crate whose committed listing differs: `cargo xtask test` runs it
//! after clippy, so an API change cannot land without its listing.
//!
//! **Semver.** The first line of each listing records the version it was
//! released with (`# snapin 0.1.0 public API (cargo xtask public-api)`):
//! `cargo xtask release` sets it, regenerating keeps it. Until 0.1.0 is on
//! crates.io there is no baseline for `cargo semver-checks`, so this is
//! the check:
//!
//! - An added item only needs the listing regenerated and committed.
//! - A removed or changed item (a line of the committed listing that the
//!   crate no longer produces) also needs a breaking version in the
//!   crate's `Cargo.toml` relative to the recorded one: the next minor for
//!   0.x (0.1.0 → 0.2.0), the next major from 1.0 on (1.4.2 → 2.0.0).
//!   Bump it with `cargo xtask release VERSION` when releasing, or by hand
//!   in the four crates (they share one version) before.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rustdoc_types::{
    Attribute, Crate, GenericArg, GenericArgs, GenericBound, GenericParamDef, GenericParamDefKind,
    Generics, Id, Item, ItemEnum, Path as TypePath, PreciseCapturingArg, StructKind, Term,
    TraitBoundModifier, Type, VariantKind, Visibility, WherePredicate,
};

use crate::{cargo, root};

/// The library crates whose public API is listed (package names).
pub const CRATES: &[&str] = &["snapin-protocol", "snapin", "snapin-sdk", "snapin-guest"];

/// `cargo xtask public-api [--check]`.
pub fn run(args: &[String]) -> Result<(), String> {
    let check = match args {
        [] => false,
        [flag] if flag == "--check" => true,
        _ => return Err("usage: cargo xtask public-api [--check]".to_string()),
    };
    let root = root();
    let doc_dir = target_dir()?.join("doc");
    let mut stale = Vec::new();
    for package in CRATES {
        let krate = rustdoc_json(package, &doc_dir)?;
        let body = render(&krate);
        let file = listing_file(&root, package);
        let shown = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .display()
            .to_string();
        let version = crate::package::crate_version(&root, package)?;
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        let recorded = match recorded_version(package, &committed) {
            Some(v) => v,
            None if committed.is_empty() => version.clone(),
            None => {
                return Err(format!(
                    "{shown} has no header line `{}`: it cannot say which release its API is from (fix: run `cargo xtask public-api` to add it with this version, or write the version of the last release)",
                    header(package, &version)
                ));
            }
        };
        let listing = format!("{}\n{body}", header(package, &recorded));
        let removed = removed_items(&committed, &listing);
        let refusal = (!removed.is_empty())
            .then(|| semver_refusal(package, &shown, &recorded, &version, &removed))
            .flatten();
        if check {
            if let Some(refusal) = refusal {
                stale.push(refusal);
            } else if committed != listing {
                stale.push(format!(
                    "{shown} does not match {package}'s public API (fix: run `cargo xtask public-api`, review the change and commit the listing)\n{}",
                    diff(&committed, &listing)
                ));
            }
        } else {
            std::fs::write(&file, &listing)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            println!("wrote {shown} ({} items)", body.lines().count());
            if let Some(refusal) = refusal {
                println!("note: {refusal}");
            }
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(stale.join("\n"))
    }
}

/// `crates/PACKAGE/public-api.txt`.
pub(crate) fn listing_file(root: &Path, package: &str) -> PathBuf {
    root.join("crates").join(package).join("public-api.txt")
}

/// The first line of a listing: the crate and the release it describes.
pub(crate) fn header(package: &str, version: &str) -> String {
    format!("# {package} {version} public API (cargo xtask public-api)")
}

/// The version recorded in the header line of `listing`, if it has one.
pub(crate) fn recorded_version(package: &str, listing: &str) -> Option<String> {
    let rest = listing
        .lines()
        .next()?
        .strip_prefix("# ")?
        .strip_prefix(package)?
        .strip_prefix(' ')?;
    rest.split_whitespace().next().map(str::to_string)
}

/// The item lines of `committed` that `current` no longer has (the
/// header line, `# ...`, is not an item; `#[non_exhaustive] ...` is).
fn removed_items<'a>(committed: &'a str, current: &str) -> Vec<&'a str> {
    let current: BTreeSet<&str> = current.lines().collect();
    committed
        .lines()
        .filter(|l| !l.starts_with("# ") && !current.contains(l))
        .collect()
}

/// Whether going from `from` to `to` is a breaking release: the next minor
/// or more for 0.x, the next major or more from 1.0 on.
pub(crate) fn is_breaking(from: &semver::Version, to: &semver::Version) -> bool {
    if from.major == 0 {
        to.major > 0 || to.minor > from.minor
    } else {
        to.major > from.major
    }
}

/// The next breaking version after `from` (0.1.3 → 0.2.0, 1.4.2 → 2.0.0).
fn next_breaking(from: &semver::Version) -> semver::Version {
    if from.major == 0 {
        semver::Version::new(0, from.minor + 1, 0)
    } else {
        semver::Version::new(from.major + 1, 0, 0)
    }
}

/// The refusal of removed or changed items, when `version` is not a
/// breaking release after `recorded`; `None` when it is.
fn semver_refusal(
    package: &str,
    shown: &str,
    recorded: &str,
    version: &str,
    removed: &[&str],
) -> Option<String> {
    let parse = |v: &str| semver::Version::parse(v).ok();
    let (Some(from), Some(to)) = (parse(recorded), parse(version)) else {
        return Some(format!(
            "{shown}: cannot compare versions `{recorded}` (the listing's) and `{version}` ({package}'s Cargo.toml): one is not semver (fix: write MAJOR.MINOR.PATCH in both)"
        ));
    };
    if is_breaking(&from, &to) {
        return None;
    }
    let mut lines: Vec<String> = removed
        .iter()
        .take(20)
        .map(|l| format!("  - {l}"))
        .collect();
    if removed.len() > 20 {
        lines.push(format!("  - ... and {} more", removed.len() - 20));
    }
    Some(format!(
        "{package} {version} removes or changes {} public items of its {recorded} API, which only a breaking release may do (fix: keep them, or set version = \"{}\" in crates/{package}/Cargo.toml and the other library crates, then run `cargo xtask public-api`)\n{}",
        removed.len(),
        next_breaking(&from),
        lines.join("\n")
    ))
}

/// The target directory cargo uses here (`CARGO_TARGET_DIR`, config files).
pub(crate) fn target_dir() -> Result<PathBuf, String> {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cannot read cargo metadata's output: {e}"))?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata gave no target_directory".to_string())
}

/// Runs rustdoc with JSON output on `package` (all features, so that
/// feature-gated API is listed) and reads what it wrote.
fn rustdoc_json(package: &str, doc_dir: &Path) -> Result<Crate, String> {
    let xtask =
        std::env::current_exe().map_err(|e| format!("cannot find the xtask executable: {e}"))?;
    let rustdoc = std::env::var_os("RUSTDOC").unwrap_or_else(|| "rustdoc".into());
    crate::run(
        cargo()
            .args([
                "rustdoc",
                "--quiet",
                "-p",
                package,
                "--lib",
                "--all-features",
            ])
            .args(["--", "-Z", "unstable-options", "--output-format", "json"])
            // Cargo runs this executable as rustdoc; it runs the real one
            // with RUSTC_BOOTSTRAP (see `wrap_rustdoc`).
            .env("RUSTDOC", xtask)
            .env(WRAPPED_RUSTDOC, rustdoc),
    )?;
    let file = doc_dir.join(format!("{}.json", package.replace('-', "_")));
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", file.display()))?;
    let version = value["format_version"].as_u64().unwrap_or(0);
    if version != u64::from(rustdoc_types::FORMAT_VERSION) {
        return Err(format!(
            "{} has rustdoc JSON format version {version}, this xtask reads version {} (fix: set xtask's rustdoc-types dependency to the version whose FORMAT_VERSION is {version}, or use the toolchain of rust-version)",
            file.display(),
            rustdoc_types::FORMAT_VERSION
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("cannot read {}: {e}", file.display()))
}

/// The variable that tells xtask to act as rustdoc: the rustdoc to run.
const WRAPPED_RUSTDOC: &str = "SNAPIN_XTASK_RUSTDOC";

/// When xtask was started by cargo as rustdoc (by [`rustdoc_json`]), runs
/// the real rustdoc with `RUSTC_BOOTSTRAP=1`, which lets the stable
/// toolchain emit its unstable JSON output, and returns its exit code.
///
/// Setting `RUSTC_BOOTSTRAP` for the whole cargo command instead would
/// reach the build scripts too: those that watch it (proc-macro2,
/// thiserror, ...) would rerun, and everything above them would be
/// recompiled by the next build without it, then again by this one.
pub fn wrap_rustdoc() -> Option<std::process::ExitCode> {
    let rustdoc = std::env::var_os(WRAPPED_RUSTDOC)?;
    let status = std::process::Command::new(&rustdoc)
        .args(std::env::args_os().skip(1))
        .env_remove(WRAPPED_RUSTDOC)
        .env("RUSTC_BOOTSTRAP", "1")
        .status();
    Some(match status {
        Ok(s) => std::process::ExitCode::from(s.code().map_or(1, |c| c.clamp(0, 255) as u8)),
        Err(e) => {
            eprintln!("xtask: cannot run {}: {e}", Path::new(&rustdoc).display());
            std::process::ExitCode::FAILURE
        }
    })
}

/// `+`/`-` lines between the committed listing and the current one, at
/// most 20 of each.
fn diff(old: &str, new: &str) -> String {
    let old: BTreeSet<&str> = old.lines().collect();
    let new: BTreeSet<&str> = new.lines().collect();
    let mut out = Vec::new();
    for (sign, lines) in [("-", old.difference(&new)), ("+", new.difference(&old))] {
        let lines: Vec<&&str> = lines.collect();
        for line in lines.iter().take(20) {
            out.push(format!("  {sign} {line}"));
        }
        if lines.len() > 20 {
            out.push(format!("  {sign} ... and {} more", lines.len() - 20));
        }
    }
    out.join("\n")
}

/// The listing of `krate`: sorted lines, each ending with a newline.
pub fn render(krate: &Crate) -> String {
    let mut walk = Walk {
        krate,
        found: Vec::new(),
        unresolved: Vec::new(),
        unresolved_ids: Vec::new(),
        on_stack: Vec::new(),
    };
    let root_name = krate.index.get(&krate.root).and_then(|i| i.name.clone());
    walk.module(&krate.root, root_name.as_deref().unwrap_or("crate"));
    // The shortest path of each item, then the first in sort order.
    let mut canonical: HashMap<Id, String> = HashMap::new();
    for (id, path) in walk.found.iter().chain(&walk.unresolved_ids) {
        let better = canonical.get(id).is_none_or(|old| {
            (path.matches("::").count(), path) < (old.matches("::").count(), old)
        });
        if better {
            canonical.insert(*id, path.clone());
        }
    }
    let render = Render {
        krate,
        paths: &canonical,
    };
    let mut lines = Lines::default();
    for (id, path) in &walk.found {
        let Some(item) = krate.index.get(id) else {
            continue;
        };
        render.item(item, path, None, &mut lines);
        if canonical.get(id) == Some(path) {
            render.members(item, path, &mut lines);
        }
    }
    for (path, source) in &walk.unresolved {
        lines.item(path, format!("pub use {path} = {source}"));
    }
    lines.0.into_iter().map(|(.., l)| l + "\n").collect()
}

/// The lines of a listing, in order: each item, then its members
/// (fields, variants, methods) by path, then its trait impls.
#[derive(Default)]
struct Lines(BTreeSet<(String, u8, String, String)>);

impl Lines {
    fn item(&mut self, path: &str, line: String) {
        self.0.insert((path.to_string(), 0, String::new(), line));
    }

    fn member(&mut self, owner: &str, path: &str, line: String) {
        self.0
            .insert((owner.to_string(), 1, path.to_string(), line));
    }

    fn implementation(&mut self, owner: &str, line: String) {
        self.0.insert((owner.to_string(), 2, String::new(), line));
    }
}

/// Collects the items reachable from the crate root, with the public path
/// of each.
struct Walk<'a> {
    krate: &'a Crate,
    /// Each reachable item with a public path to it.
    found: Vec<(Id, String)>,
    /// Re-exports whose target rustdoc did not document (items of other
    /// crates, of hidden modules): their public path and the path they
    /// re-export.
    unresolved: Vec<(String, String)>,
    /// The public path of each such target, to name it in signatures.
    unresolved_ids: Vec<(Id, String)>,
    /// The modules being walked, against `pub use` cycles.
    on_stack: Vec<Id>,
}

impl Walk<'_> {
    fn module(&mut self, id: &Id, path: &str) {
        if self.on_stack.contains(id) {
            return;
        }
        let Some(ItemEnum::Module(module)) = self.krate.index.get(id).map(|i| &i.inner) else {
            return;
        };
        self.on_stack.push(*id);
        for child in &module.items {
            self.child(child, path, None);
        }
        self.on_stack.pop();
    }

    /// An item of a module at `parent`, under `name` if it is re-exported
    /// under another name.
    fn child(&mut self, id: &Id, parent: &str, name: Option<&str>) {
        let Some(item) = self.krate.index.get(id) else {
            return;
        };
        if !is_public(item) || is_hidden(item) {
            return;
        }
        if let ItemEnum::Use(import) = &item.inner {
            let target = import.id.as_ref().and_then(|t| self.krate.index.get(t));
            match target {
                Some(target) if import.is_glob => match &target.inner {
                    ItemEnum::Module(module) => {
                        if self.on_stack.contains(&target.id) {
                            return;
                        }
                        self.on_stack.push(target.id);
                        for grandchild in &module.items {
                            self.child(grandchild, parent, None);
                        }
                        self.on_stack.pop();
                    }
                    ItemEnum::Enum(e) => {
                        for variant in &e.variants {
                            self.child(variant, parent, None);
                        }
                    }
                    _ => {}
                },
                Some(target) if !is_hidden(target) => {
                    self.child(&target.id, parent, Some(&import.name));
                }
                Some(_) => {}
                None if import.is_glob => self
                    .unresolved
                    .push((format!("{parent}::*"), format!("{}::*", import.source))),
                None => {
                    let path = format!("{parent}::{}", import.name);
                    if let Some(target) = import.id {
                        self.unresolved_ids.push((target, path.clone()));
                    }
                    self.unresolved.push((path, import.source.clone()));
                }
            }
            return;
        }
        let Some(own) = name.or(item.name.as_deref()) else {
            return;
        };
        let path = format!("{parent}::{own}");
        self.found.push((*id, path.clone()));
        if let ItemEnum::Module(_) = item.inner {
            self.module(id, &path);
        }
    }
}

fn is_public(item: &Item) -> bool {
    matches!(item.visibility, Visibility::Public | Visibility::Default)
}

fn is_hidden(item: &Item) -> bool {
    item.attrs.iter().any(|a| match a {
        Attribute::Other(text) => {
            let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            text.contains("doc(hidden)")
        }
        _ => false,
    })
}

/// Renders items and types, naming local items by their public path.
struct Render<'a> {
    krate: &'a Crate,
    paths: &'a HashMap<Id, String>,
}

impl Render<'_> {
    /// The line of `item` itself, at `path`; `owner` is the path of the
    /// type or trait it belongs to, if any.
    fn item(&self, item: &Item, path: &str, owner: Option<&str>, lines: &mut Lines) {
        let attrs = attributes(item);
        let line = match &item.inner {
            ItemEnum::Module(_) => format!("pub mod {path}"),
            ItemEnum::ExternCrate { name, .. } => format!("pub extern crate {path} = {name}"),
            ItemEnum::Struct(s) => {
                let tuple = match &s.kind {
                    StructKind::Tuple(fields) => {
                        let fields: Vec<String> = fields
                            .iter()
                            .map(|f| match f.as_ref().and_then(|f| self.krate.index.get(f)) {
                                Some(Item {
                                    inner: ItemEnum::StructField(ty),
                                    ..
                                }) => format!("pub {}", self.ty(ty)),
                                _ => "_".to_string(),
                            })
                            .collect();
                        format!("({})", fields.join(", "))
                    }
                    _ => String::new(),
                };
                format!(
                    "pub struct {path}{}{tuple}{}",
                    self.params(&s.generics),
                    self.where_clause(&s.generics)
                )
            }
            ItemEnum::Union(u) => format!(
                "pub union {path}{}{}",
                self.params(&u.generics),
                self.where_clause(&u.generics)
            ),
            ItemEnum::Enum(e) => format!(
                "pub enum {path}{}{}",
                self.params(&e.generics),
                self.where_clause(&e.generics)
            ),
            ItemEnum::Variant(_) | ItemEnum::StructField(_) => return,
            ItemEnum::Function(f) => self.function(path, f),
            ItemEnum::Trait(t) => {
                let bounds = if t.bounds.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.bounds(&t.bounds))
                };
                format!(
                    "pub {}{}trait {path}{}{bounds}{}",
                    if t.is_unsafe { "unsafe " } else { "" },
                    if t.is_auto { "auto " } else { "" },
                    self.params(&t.generics),
                    self.where_clause(&t.generics)
                )
            }
            ItemEnum::TraitAlias(t) => format!(
                "pub trait {path}{} = {}{}",
                self.params(&t.generics),
                self.bounds(&t.params),
                self.where_clause(&t.generics)
            ),
            ItemEnum::TypeAlias(t) => format!(
                "pub type {path}{} = {}{}",
                self.params(&t.generics),
                self.ty(&t.type_),
                self.where_clause(&t.generics)
            ),
            ItemEnum::Constant { type_, const_ } => {
                format!("pub const {path}: {} = {}", self.ty(type_), const_.expr)
            }
            ItemEnum::Static(s) => format!(
                "pub {}static {}{path}: {}",
                if s.is_unsafe { "unsafe " } else { "" },
                if s.is_mutable { "mut " } else { "" },
                self.ty(&s.type_)
            ),
            ItemEnum::ExternType => format!("pub type {path}"),
            ItemEnum::Macro(_) => format!("pub macro {path}!"),
            ItemEnum::ProcMacro(m) => format!("pub proc macro {path} ({:?})", m.kind),
            ItemEnum::Primitive(_) => format!("pub primitive {path}"),
            ItemEnum::AssocConst { type_, value } => format!(
                "pub const {path}: {}{}",
                self.ty(type_),
                value.as_ref().map_or(String::new(), |v| format!(" = {v}"))
            ),
            ItemEnum::AssocType {
                generics,
                bounds,
                type_,
            } => format!(
                "pub type {path}{}{}{}{}",
                self.params(generics),
                if bounds.is_empty() {
                    String::new()
                } else {
                    format!(": {}", self.bounds(bounds))
                },
                type_
                    .as_ref()
                    .map_or(String::new(), |t| format!(" = {}", self.ty(t))),
                self.where_clause(generics)
            ),
            ItemEnum::Use(_) | ItemEnum::Impl(_) => return,
        };
        let line = format!("{attrs}{line}");
        match owner {
            Some(owner) => lines.member(owner, path, line),
            None => lines.item(path, line),
        }
    }

    /// The lines of what `item` holds: fields, variants, trait items, the
    /// items of its inherent impls and its trait impls.
    fn members(&self, item: &Item, path: &str, lines: &mut Lines) {
        let impls: &[Id] = match &item.inner {
            ItemEnum::Struct(s) => {
                if let StructKind::Plain { fields, .. } = &s.kind {
                    self.fields(fields, path, path, lines);
                }
                &s.impls
            }
            ItemEnum::Union(u) => {
                self.fields(&u.fields, path, path, lines);
                &u.impls
            }
            ItemEnum::Enum(e) => {
                for variant in e.variants.iter().filter_map(|v| self.krate.index.get(v)) {
                    self.variant(variant, path, lines);
                }
                &e.impls
            }
            ItemEnum::Trait(t) => {
                for member in t.items.iter().filter_map(|i| self.krate.index.get(i)) {
                    if let Some(name) = &member.name
                        && !is_hidden(member)
                    {
                        self.item(member, &format!("{path}::{name}"), Some(path), lines);
                    }
                }
                &t.implementations
            }
            _ => return,
        };
        for imp in impls.iter().filter_map(|i| self.krate.index.get(i)) {
            // A trait's impl for a type listed here is listed with the type.
            let listed_type = matches!(&imp.inner, ItemEnum::Impl(i)
                if matches!(&i.for_, Type::ResolvedPath(p) if self.paths.contains_key(&p.id)));
            if matches!(item.inner, ItemEnum::Trait(_)) && listed_type {
                continue;
            }
            self.implementation(imp, path, lines);
        }
    }

    /// The public fields of the struct, union or variant at `path`,
    /// members of `owner`.
    fn fields(&self, fields: &[Id], owner: &str, path: &str, lines: &mut Lines) {
        for field in fields.iter().filter_map(|f| self.krate.index.get(f)) {
            if let (ItemEnum::StructField(ty), Some(name)) = (&field.inner, &field.name)
                && is_public(field)
                && !is_hidden(field)
            {
                lines.member(
                    owner,
                    &format!("{path}::{name}"),
                    format!("{}pub {path}::{name}: {}", attributes(field), self.ty(ty)),
                );
            }
        }
    }

    fn variant(&self, variant: &Item, owner: &str, lines: &mut Lines) {
        let (ItemEnum::Variant(v), Some(name)) = (&variant.inner, &variant.name) else {
            return;
        };
        if is_hidden(variant) {
            return;
        }
        let path = format!("{owner}::{name}");
        let shape = match &v.kind {
            VariantKind::Plain => String::new(),
            VariantKind::Tuple(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|f| match f.as_ref().and_then(|f| self.krate.index.get(f)) {
                        Some(Item {
                            inner: ItemEnum::StructField(ty),
                            ..
                        }) => self.ty(ty),
                        _ => "_".to_string(),
                    })
                    .collect();
                format!("({})", fields.join(", "))
            }
            VariantKind::Struct { fields, .. } => {
                self.fields(fields, owner, &path, lines);
                " { .. }".to_string()
            }
        };
        let discriminant = v
            .discriminant
            .as_ref()
            .map_or(String::new(), |d| format!(" = {}", d.expr));
        lines.member(
            owner,
            &path,
            format!(
                "{}pub enum variant {path}{shape}{discriminant}",
                attributes(variant)
            ),
        );
    }

    /// An impl block of the item at `path`: its items when inherent, one
    /// `impl Trait for Type` line for a trait.
    fn implementation(&self, imp: &Item, path: &str, lines: &mut Lines) {
        let ItemEnum::Impl(i) = &imp.inner else {
            return;
        };
        // Auto traits, blanket impls and the marker `derive(PartialEq)`
        // adds: the compiler's, not this crate's.
        let marker = i.trait_.as_ref().is_some_and(|t| {
            self.krate
                .paths
                .get(&t.id)
                .is_some_and(|s| s.path.last().is_some_and(|n| n == "StructuralPartialEq"))
        });
        if i.is_synthetic || i.blanket_impl.is_some() || marker || is_hidden(imp) {
            return;
        }
        let items = i.items.iter().filter_map(|m| self.krate.index.get(m));
        let Some(trait_) = &i.trait_ else {
            for member in items {
                if let Some(name) = &member.name
                    && is_public(member)
                    && !is_hidden(member)
                {
                    self.item(member, &format!("{path}::{name}"), Some(path), lines);
                }
            }
            return;
        };
        // Associated types are part of a trait impl's contract
        // (`FromStr::Err`, `Iterator::Item`).
        let assoc: Vec<String> = items
            .filter_map(|m| match (&m.inner, &m.name) {
                (
                    ItemEnum::AssocType {
                        type_: Some(ty), ..
                    },
                    Some(name),
                ) => Some(format!("type {name} = {}", self.ty(ty))),
                _ => None,
            })
            .collect();
        let body = if assoc.is_empty() {
            String::new()
        } else {
            format!(" {{ {} }}", assoc.join("; "))
        };
        lines.implementation(
            path,
            format!(
                "{}impl{} {}{} for {}{}{body}",
                if i.is_unsafe { "unsafe " } else { "" },
                self.params(&i.generics),
                if i.is_negative { "!" } else { "" },
                self.path(trait_),
                self.ty(&i.for_),
                self.where_clause(&i.generics)
            ),
        );
    }

    fn function(&self, path: &str, f: &rustdoc_types::Function) -> String {
        let h = &f.header;
        let abi = match &h.abi {
            rustdoc_types::Abi::Rust => String::new(),
            rustdoc_types::Abi::C { .. } => "extern \"C\" ".to_string(),
            rustdoc_types::Abi::System { .. } => "extern \"system\" ".to_string(),
            other => format!("extern \"{other:?}\" "),
        };
        let inputs: Vec<String> = f
            .sig
            .inputs
            .iter()
            .map(|(name, ty)| self.argument(name, ty))
            .collect();
        let variadic = if f.sig.is_c_variadic { ", ..." } else { "" };
        let output = f
            .sig
            .output
            .as_ref()
            .map_or(String::new(), |t| format!(" -> {}", self.ty(t)));
        format!(
            "pub {}{}{}{abi}fn {path}{}({}{variadic}){output}{}",
            if h.is_const { "const " } else { "" },
            if h.is_async { "async " } else { "" },
            if h.is_unsafe { "unsafe " } else { "" },
            self.params(&f.generics),
            inputs.join(", "),
            self.where_clause(&f.generics)
        )
    }

    fn argument(&self, name: &str, ty: &Type) -> String {
        if name == "self" {
            match ty {
                Type::Generic(g) if g == "Self" => return "self".to_string(),
                Type::BorrowedRef {
                    lifetime,
                    is_mutable,
                    type_,
                } if matches!(type_.as_ref(), Type::Generic(g) if g == "Self") => {
                    return format!(
                        "&{}{}self",
                        lifetime.as_ref().map_or(String::new(), |l| format!("{l} ")),
                        if *is_mutable { "mut " } else { "" }
                    );
                }
                _ => {}
            }
        }
        format!("{name}: {}", self.ty(ty))
    }

    /// `<'a, T: Bound>`, leaving out the parameters of `impl Trait`
    /// arguments.
    fn params(&self, generics: &Generics) -> String {
        let params: Vec<String> = generics
            .params
            .iter()
            .filter(|p| {
                !matches!(
                    p.kind,
                    GenericParamDefKind::Type {
                        is_synthetic: true,
                        ..
                    }
                )
            })
            .map(|p| self.param(p))
            .collect();
        if params.is_empty() {
            String::new()
        } else {
            format!("<{}>", params.join(", "))
        }
    }

    fn param(&self, p: &GenericParamDef) -> String {
        match &p.kind {
            GenericParamDefKind::Lifetime { outlives } if outlives.is_empty() => p.name.clone(),
            GenericParamDefKind::Lifetime { outlives } => {
                format!("{}: {}", p.name, outlives.join(" + "))
            }
            GenericParamDefKind::Type {
                bounds, default, ..
            } => {
                let mut s = p.name.clone();
                if !bounds.is_empty() {
                    s += &format!(": {}", self.bounds(bounds));
                }
                if let Some(d) = default {
                    s += &format!(" = {}", self.ty(d));
                }
                s
            }
            GenericParamDefKind::Const { type_, default } => format!(
                "const {}: {}{}",
                p.name,
                self.ty(type_),
                default
                    .as_ref()
                    .map_or(String::new(), |d| format!(" = {d}"))
            ),
        }
    }

    fn where_clause(&self, generics: &Generics) -> String {
        let predicates: Vec<String> = generics
            .where_predicates
            .iter()
            .map(|w| match w {
                WherePredicate::BoundPredicate {
                    type_,
                    bounds,
                    generic_params,
                } => format!(
                    "{}{}: {}",
                    self.higher_ranked(generic_params),
                    self.ty(type_),
                    self.bounds(bounds)
                ),
                WherePredicate::LifetimePredicate { lifetime, outlives } => {
                    format!("{lifetime}: {}", outlives.join(" + "))
                }
                WherePredicate::EqPredicate { lhs, rhs } => {
                    format!("{} = {}", self.ty(lhs), self.term(rhs))
                }
            })
            .collect();
        if predicates.is_empty() {
            String::new()
        } else {
            format!(" where {}", predicates.join(", "))
        }
    }

    fn higher_ranked(&self, params: &[GenericParamDef]) -> String {
        if params.is_empty() {
            String::new()
        } else {
            let params: Vec<String> = params.iter().map(|p| self.param(p)).collect();
            format!("for<{}> ", params.join(", "))
        }
    }

    fn bounds(&self, bounds: &[GenericBound]) -> String {
        let bounds: Vec<String> = bounds
            .iter()
            .map(|b| match b {
                GenericBound::TraitBound {
                    trait_,
                    generic_params,
                    modifier,
                } => format!(
                    "{}{}{}",
                    self.higher_ranked(generic_params),
                    match modifier {
                        TraitBoundModifier::None => "",
                        TraitBoundModifier::Maybe => "?",
                        TraitBoundModifier::MaybeConst => "[const] ",
                    },
                    self.path(trait_)
                ),
                GenericBound::Outlives(lifetime) => lifetime.clone(),
                GenericBound::Use(args) => {
                    let args: Vec<&str> =
                        args.iter()
                            .map(|a| match a {
                                PreciseCapturingArg::Lifetime(s)
                                | PreciseCapturingArg::Param(s) => s.as_str(),
                            })
                            .collect();
                    format!("use<{}>", args.join(", "))
                }
            })
            .collect();
        bounds.join(" + ")
    }

    fn term(&self, term: &Term) -> String {
        match term {
            Term::Type(t) => self.ty(t),
            Term::Constant(c) => c.expr.clone(),
        }
    }

    /// A path to a type or trait: the public path of a local item, the
    /// defining path of another crate's, with its generic arguments.
    fn path(&self, p: &TypePath) -> String {
        let name = self
            .paths
            .get(&p.id)
            .cloned()
            .or_else(|| self.krate.paths.get(&p.id).map(|s| s.path.join("::")))
            .unwrap_or_else(|| p.path.clone());
        format!(
            "{name}{}",
            p.args.as_deref().map_or(String::new(), |a| self.args(a))
        )
    }

    fn args(&self, args: &GenericArgs) -> String {
        match args {
            GenericArgs::AngleBracketed { args, constraints } => {
                let mut all: Vec<String> = args
                    .iter()
                    .map(|a| match a {
                        GenericArg::Lifetime(l) => l.clone(),
                        GenericArg::Type(t) => self.ty(t),
                        GenericArg::Const(c) => c.expr.clone(),
                        GenericArg::Infer => "_".to_string(),
                    })
                    .collect();
                for c in constraints {
                    let args = c.args.as_deref().map_or(String::new(), |a| self.args(a));
                    all.push(match &c.binding {
                        rustdoc_types::AssocItemConstraintKind::Equality(t) => {
                            format!("{}{args} = {}", c.name, self.term(t))
                        }
                        rustdoc_types::AssocItemConstraintKind::Constraint(b) => {
                            format!("{}{args}: {}", c.name, self.bounds(b))
                        }
                    });
                }
                if all.is_empty() {
                    String::new()
                } else {
                    format!("<{}>", all.join(", "))
                }
            }
            GenericArgs::Parenthesized { inputs, output } => {
                let inputs: Vec<String> = inputs.iter().map(|t| self.ty(t)).collect();
                format!(
                    "({}){}",
                    inputs.join(", "),
                    output
                        .as_ref()
                        .map_or(String::new(), |t| format!(" -> {}", self.ty(t)))
                )
            }
            GenericArgs::ReturnTypeNotation => "(..)".to_string(),
        }
    }

    fn ty(&self, ty: &Type) -> String {
        match ty {
            Type::ResolvedPath(p) => self.path(p),
            Type::DynTrait(d) => {
                let mut parts: Vec<String> = d
                    .traits
                    .iter()
                    .map(|t| {
                        format!(
                            "{}{}",
                            self.higher_ranked(&t.generic_params),
                            self.path(&t.trait_)
                        )
                    })
                    .collect();
                parts.extend(d.lifetime.clone());
                format!("dyn {}", parts.join(" + "))
            }
            Type::Generic(s) | Type::Primitive(s) => s.clone(),
            Type::FunctionPointer(f) => {
                let inputs: Vec<String> = f.sig.inputs.iter().map(|(_, t)| self.ty(t)).collect();
                format!(
                    "{}{}fn({}){}",
                    self.higher_ranked(&f.generic_params),
                    if f.header.is_unsafe { "unsafe " } else { "" },
                    inputs.join(", "),
                    f.sig
                        .output
                        .as_ref()
                        .map_or(String::new(), |t| format!(" -> {}", self.ty(t)))
                )
            }
            Type::Tuple(types) if types.len() == 1 => format!("({},)", self.ty(&types[0])),
            Type::Tuple(types) => {
                let types: Vec<String> = types.iter().map(|t| self.ty(t)).collect();
                format!("({})", types.join(", "))
            }
            Type::Slice(t) => format!("[{}]", self.ty(t)),
            Type::Array { type_, len } => format!("[{}; {len}]", self.ty(type_)),
            Type::Pat { type_, .. } => self.ty(type_),
            Type::ImplTrait(bounds) => format!("impl {}", self.bounds(bounds)),
            Type::Infer => "_".to_string(),
            Type::RawPointer { is_mutable, type_ } => format!(
                "*{} {}",
                if *is_mutable { "mut" } else { "const" },
                self.ty(type_)
            ),
            Type::BorrowedRef {
                lifetime,
                is_mutable,
                type_,
            } => format!(
                "&{}{}{}",
                lifetime.as_ref().map_or(String::new(), |l| format!("{l} ")),
                if *is_mutable { "mut " } else { "" },
                self.ty(type_)
            ),
            Type::QualifiedPath {
                name,
                args,
                self_type,
                trait_,
            } => {
                let args = args.as_deref().map_or(String::new(), |a| self.args(a));
                match (self_type.as_ref(), trait_) {
                    (Type::Generic(s), _) if s == "Self" => format!("Self::{name}{args}"),
                    (t, Some(tr)) => format!("<{} as {}>::{name}{args}", self.ty(t), self.path(tr)),
                    (t, None) => format!("{}::{name}{args}", self.ty(t)),
                }
            }
        }
    }
}

/// The attributes that are part of an item's API, as a line prefix.
fn attributes(item: &Item) -> String {
    let mut out = String::new();
    for attr in &item.attrs {
        match attr {
            Attribute::NonExhaustive => out += "#[non_exhaustive] ",
            Attribute::Repr(r) => {
                let mut parts = Vec::new();
                match r.kind {
                    rustdoc_types::ReprKind::Rust => {}
                    rustdoc_types::ReprKind::C => parts.push("C".to_string()),
                    rustdoc_types::ReprKind::Transparent => parts.push("transparent".to_string()),
                    rustdoc_types::ReprKind::Simd => parts.push("simd".to_string()),
                }
                parts.extend(r.int.clone());
                parts.extend(r.align.map(|a| format!("align({a})")));
                parts.extend(r.packed.map(|p| format!("packed({p})")));
                if !parts.is_empty() {
                    out += &format!("#[repr({})] ", parts.join(", "));
                }
            }
            _ => {}
        }
    }
    if item.deprecation.is_some() {
        out += "#[deprecated] ";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustdoc_types::{
        Function, FunctionHeader, FunctionSignature, Impl, ItemKind, ItemSummary, Module, Struct,
        Target, Use, Variant,
    };

    fn item(id: u32, name: Option<&str>, attrs: Vec<Attribute>, inner: ItemEnum) -> Item {
        Item {
            id: Id(id),
            crate_id: 0,
            name: name.map(str::to_string),
            span: None,
            visibility: Visibility::Public,
            docs: None,
            links: HashMap::new(),
            attrs,
            deprecation: None,
            inner,
        }
    }

    fn module(items: &[u32]) -> ItemEnum {
        ItemEnum::Module(Module {
            is_crate: false,
            items: items.iter().map(|i| Id(*i)).collect(),
            is_stripped: false,
        })
    }

    fn resolved(path: &str, id: u32) -> Type {
        Type::ResolvedPath(TypePath {
            path: path.to_string(),
            id: Id(id),
            args: None,
        })
    }

    fn function(inputs: Vec<(&str, Type)>, output: Option<Type>, generics: Generics) -> ItemEnum {
        ItemEnum::Function(Function {
            sig: FunctionSignature {
                inputs: inputs
                    .into_iter()
                    .map(|(n, t)| (n.to_string(), t))
                    .collect(),
                output,
                is_c_variadic: false,
            },
            generics,
            header: FunctionHeader {
                is_const: false,
                is_unsafe: false,
                is_async: false,
                abi: rustdoc_types::Abi::Rust,
            },
            has_body: true,
        })
    }

    fn impl_block(trait_: Option<(&str, u32)>, items: &[u32], synthetic: bool) -> ItemEnum {
        ItemEnum::Impl(Impl {
            is_unsafe: false,
            generics: Generics {
                params: vec![],
                where_predicates: vec![],
            },
            provided_trait_methods: vec![],
            trait_: trait_.map(|(path, id)| TypePath {
                path: path.to_string(),
                id: Id(id),
                args: None,
            }),
            for_: resolved("Widget", 3),
            items: items.iter().map(|i| Id(*i)).collect(),
            is_negative: false,
            is_synthetic: synthetic,
            blanket_impl: None,
        })
    }

    /// `demo`: `pub use inner::Widget;` of `#[non_exhaustive] pub struct
    /// Widget { pub size: u32 }` with `pub fn new(name: impl Into<String>)
    /// -> Widget`, `Clone` and the compiler's `Send`; `pub enum Mode { Fast
    /// }`; a `#[doc(hidden)] pub mod __private`.
    fn demo() -> Crate {
        let no_generics = || Generics {
            params: vec![],
            where_predicates: vec![],
        };
        let into_string = Type::ImplTrait(vec![GenericBound::TraitBound {
            trait_: TypePath {
                path: "Into".to_string(),
                id: Id(101),
                args: Some(Box::new(GenericArgs::AngleBracketed {
                    args: vec![GenericArg::Type(resolved("String", 102))],
                    constraints: vec![],
                })),
            },
            generic_params: vec![],
            modifier: TraitBoundModifier::None,
        }]);
        let items = vec![
            item(0, Some("demo"), vec![], module(&[1, 10, 20])),
            item(
                1,
                None,
                vec![],
                ItemEnum::Use(Use {
                    source: "inner::Widget".to_string(),
                    name: "Widget".to_string(),
                    id: Some(Id(3)),
                    is_glob: false,
                }),
            ),
            item(
                3,
                Some("Widget"),
                vec![Attribute::NonExhaustive],
                ItemEnum::Struct(Struct {
                    kind: StructKind::Plain {
                        fields: vec![Id(4)],
                        has_stripped_fields: true,
                    },
                    generics: no_generics(),
                    impls: vec![Id(5), Id(7), Id(8)],
                }),
            ),
            item(
                4,
                Some("size"),
                vec![],
                ItemEnum::StructField(Type::Primitive("u32".to_string())),
            ),
            item(5, None, vec![], impl_block(None, &[6], false)),
            item(
                6,
                Some("new"),
                vec![],
                function(
                    vec![("name", into_string)],
                    Some(resolved("Widget", 3)),
                    Generics {
                        params: vec![GenericParamDef {
                            name: "impl Into<String>".to_string(),
                            kind: GenericParamDefKind::Type {
                                bounds: vec![],
                                default: None,
                                is_synthetic: true,
                            },
                        }],
                        where_predicates: vec![],
                    },
                ),
            ),
            item(
                7,
                None,
                vec![],
                impl_block(Some(("Clone", 103)), &[], false),
            ),
            item(8, None, vec![], impl_block(Some(("Send", 104)), &[], true)),
            item(
                10,
                Some("Mode"),
                vec![],
                ItemEnum::Enum(rustdoc_types::Enum {
                    generics: no_generics(),
                    has_stripped_variants: false,
                    variants: vec![Id(11)],
                    impls: vec![],
                }),
            ),
            item(
                11,
                Some("Fast"),
                vec![],
                ItemEnum::Variant(Variant {
                    kind: VariantKind::Plain,
                    discriminant: None,
                }),
            ),
            item(
                20,
                Some("__private"),
                vec![Attribute::Other("#[doc(hidden)]".to_string())],
                module(&[21]),
            ),
            item(
                21,
                Some("secret"),
                vec![],
                function(vec![], None, no_generics()),
            ),
        ];
        let external = |crate_id, path: &[&str], kind| ItemSummary {
            crate_id,
            path: path.iter().map(|s| s.to_string()).collect(),
            kind,
        };
        Crate {
            root: Id(0),
            crate_version: None,
            includes_private: false,
            index: items.into_iter().map(|i| (i.id, i)).collect(),
            paths: [
                (
                    Id(3),
                    external(0, &["demo", "inner", "Widget"], ItemKind::Struct),
                ),
                (
                    Id(101),
                    external(1, &["core", "convert", "Into"], ItemKind::Trait),
                ),
                (
                    Id(102),
                    external(2, &["alloc", "string", "String"], ItemKind::Struct),
                ),
                (
                    Id(103),
                    external(1, &["core", "clone", "Clone"], ItemKind::Trait),
                ),
                (
                    Id(104),
                    external(1, &["core", "marker", "Send"], ItemKind::Trait),
                ),
            ]
            .into_iter()
            .collect(),
            external_crates: HashMap::new(),
            target: Target {
                triple: String::new(),
                target_features: vec![],
            },
            format_version: rustdoc_types::FORMAT_VERSION,
        }
    }

    #[test]
    fn lists_items_by_public_path_with_signatures_grouped_and_sorted() {
        assert_eq!(
            render(&demo()),
            "\
pub enum demo::Mode
pub enum variant demo::Mode::Fast
#[non_exhaustive] pub struct demo::Widget
pub fn demo::Widget::new(name: impl core::convert::Into<alloc::string::String>) -> demo::Widget
pub demo::Widget::size: u32
impl core::clone::Clone for demo::Widget
"
        );
    }

    #[test]
    fn an_argument_type_change_shows() {
        let mut krate = demo();
        if let Some(Item {
            inner: ItemEnum::Function(f),
            ..
        }) = krate.index.get_mut(&Id(6))
        {
            f.sig.inputs[0].1 = Type::BorrowedRef {
                lifetime: None,
                is_mutable: false,
                type_: Box::new(Type::Primitive("str".to_string())),
            };
        }
        assert!(render(&krate).contains("pub fn demo::Widget::new(name: &str) -> demo::Widget\n"));
    }

    #[test]
    fn self_arguments_read_as_written() {
        let render = Render {
            krate: &demo(),
            paths: &HashMap::new(),
        };
        let self_ty = || Box::new(Type::Generic("Self".to_string()));
        let by_ref = Type::BorrowedRef {
            lifetime: None,
            is_mutable: true,
            type_: self_ty(),
        };
        assert_eq!(render.argument("self", &by_ref), "&mut self");
        assert_eq!(render.argument("self", &self_ty()), "self");
    }

    #[test]
    fn the_header_records_the_release() {
        let listing = format!("{}\npub fn snapin::a()\n", header("snapin", "0.3.1"));
        assert_eq!(
            recorded_version("snapin", &listing).as_deref(),
            Some("0.3.1")
        );
        assert_eq!(recorded_version("snapin-sdk", &listing), None);
        assert_eq!(recorded_version("snapin", "pub fn snapin::a()\n"), None);
    }

    #[test]
    fn removing_an_item_needs_a_breaking_version() {
        let v = |s: &str| semver::Version::parse(s).unwrap();
        assert!(!is_breaking(&v("0.1.0"), &v("0.1.5")));
        assert!(is_breaking(&v("0.1.0"), &v("0.2.0")));
        assert!(is_breaking(&v("0.9.0"), &v("1.0.0")));
        assert!(!is_breaking(&v("1.2.0"), &v("1.9.0")));
        assert!(is_breaking(&v("1.2.0"), &v("2.0.0")));

        let committed = format!("{}\npub fn s::a()\npub fn s::b()\n", header("s", "0.1.0"));
        let current = format!("{}\npub fn s::b()\npub fn s::c()\n", header("s", "0.1.0"));
        let removed = removed_items(&committed, &current);
        assert_eq!(removed, ["pub fn s::a()"]);
        let refusal =
            semver_refusal("s", "crates/s/public-api.txt", "0.1.0", "0.1.1", &removed).unwrap();
        assert!(refusal.contains("set version = \"0.2.0\""), "{refusal}");
        assert!(refusal.ends_with("\n  - pub fn s::a()"), "{refusal}");
        assert_eq!(
            semver_refusal("s", "crates/s/public-api.txt", "0.1.0", "0.2.0", &removed),
            None
        );
        // Added items alone need no new version.
        assert!(removed_items(&committed, &format!("{committed}pub fn s::d()\n")).is_empty());
    }

    #[test]
    fn diff_shows_removed_then_added_lines() {
        assert_eq!(
            diff("pub fn a()\npub fn b()\n", "pub fn b()\npub fn c()\n"),
            "  - pub fn a()\n  + pub fn c()"
        );
    }
}

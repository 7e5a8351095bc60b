//! The catalog document: a JSON list of plugins that a maintainer vouches
//! for, each with where it is published, the keys its releases are signed
//! with, its versions and the versions withdrawn (yanked). A catalog is
//! signed over its exact bytes and pushed as an OCI artifact; this module
//! owns the bytes only. The caller checks the signature before
//! `Catalog::parse`, then `Catalog::check_fresh` and
//! `Catalog::check_not_older` before it trusts what the catalog says.
//!
//! Format 1, as `catalog build` writes it:
//!
//! ```json
//! {
//!   "catalog": 1,
//!   "issued": "2026-12-03T10:00:00Z",
//!   "expires": "2027-01-02T10:00:00Z",
//!   "plugins": [
//!     {
//!       "name": "greet",
//!       "description": "Greets people",
//!       "source": "oci://ghcr.io/acme/mycli-greet",
//!       "keys": ["RWQ...", "ssh-ed25519 AAAA..."],
//!       "versions": [{"version": "0.2.0", "api": "^1.0"}, {"version": "0.1.0", "api": "^1.0"}],
//!       "yanked": [{"version": "0.1.0", "reason": "writes to the wrong directory"}]
//!     }
//!   ]
//! }
//! ```
//!
//! `issued` lets a client refuse a catalog older than the one it holds (a
//! rollback); `expires` lets it refuse a stale one replayed (a freeze).
//!
//! Reading is bounded for hostile input, in this order: the size in bytes
//! before parsing, the number of plugins while parsing (the list stops at
//! one past the cap instead of being built whole), then each entry's keys,
//! versions, yanks and texts before anything else about it is checked.
//!
//! Fields this version does not know are accepted and ignored, so that a
//! later revision of format 1 can add optional ones; a change that readers
//! of format 1 would misread takes a new format number.

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use semver::{Version, VersionReq};
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::manifest::is_valid_name;

/// The largest catalog read, in bytes.
pub(crate) const CATALOG_CAP: u64 = 4 << 20;
/// The most plugins a catalog lists.
pub(crate) const ENTRIES_CAP: usize = 10_000;
/// The catalog format this version reads and writes.
pub(crate) const FORMAT: u32 = 1;

/// The most keys one plugin lists.
const KEYS_CAP: usize = 16;
/// The most versions one plugin lists, and the most yanks.
const VERSIONS_CAP: usize = 1_000;
/// The longest description or yank reason, in characters.
const TEXT_CAP: usize = 1_000;
/// How far ahead of this clock a catalog's `issued` may be.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// The longest piece of a bad value quoted back in a reason, in characters.
const QUOTE_CAP: usize = 64;

/// A catalog document (format 1): the plugins a maintainer vouches for,
/// and when the list was issued and stops being valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// The format number: `FORMAT`.
    pub(crate) catalog: u32,
    /// When it was made (RFC 3339, UTC).
    pub(crate) issued: String,
    /// When it stops being valid (RFC 3339, UTC).
    pub(crate) expires: String,
    /// The plugins, in the order the maintainer listed them.
    #[serde(deserialize_with = "capped_plugins")]
    pub(crate) plugins: Vec<CatalogEntry>,
}

/// One plugin in a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// Its name, as a plugin name.
    pub(crate) name: String,
    /// One line saying what it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) description: Option<String>,
    /// Where it is published: `oci://REGISTRY/REPOSITORY` or
    /// `oci-layout://PATH`.
    pub(crate) source: String,
    /// The public keys its releases are signed with, as text (minisign or
    /// SSH); the caller parses them.
    pub(crate) keys: Vec<String>,
    /// The versions the catalog vouches for.
    pub(crate) versions: Vec<CatalogVersion>,
    /// The versions withdrawn, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) yanked: Vec<Yanked>,
}

/// One version of a plugin in a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CatalogVersion {
    /// The version, as semver.
    pub(crate) version: String,
    /// The host API it needs, as a semver requirement such as `^1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) api: Option<String>,
}

/// A version withdrawn from a catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Yanked {
    /// The version, as semver.
    pub(crate) version: String,
    /// Why, for a person.
    pub(crate) reason: String,
}

impl Catalog {
    /// Reads and validates catalog bytes, bounded as the module says. Does
    /// not check expiry (see `check_fresh`), so that a cached stale catalog
    /// can still be read to say that it is stale.
    pub fn parse(bytes: &[u8]) -> Result<Catalog, String> {
        if bytes.len() as u64 > CATALOG_CAP {
            return Err(format!(
                "it is {} bytes, larger than the {CATALOG_CAP}-byte limit",
                bytes.len()
            ));
        }
        let catalog: Catalog = serde_json::from_slice(bytes).map_err(|e| {
            /// Just the format number, to tell "newer" from "damaged".
            #[derive(Deserialize)]
            struct Format {
                catalog: u64,
            }
            match serde_json::from_slice::<Format>(bytes) {
                Ok(Format { catalog }) if catalog != u64::from(FORMAT) => other_format(catalog),
                _ if e.to_string().starts_with(TOO_MANY) => TOO_MANY.to_string(),
                _ => format!("it is not catalog JSON: {e}"),
            }
        })?;
        if catalog.catalog != FORMAT {
            return Err(other_format(catalog.catalog.into()));
        }
        catalog.validate()?;
        Ok(catalog)
    }

    /// The bytes to sign and push: pretty JSON and a newline.
    /// `parse(&c.to_bytes())` gives `c` back for a catalog that
    /// `from_draft` made, and for one that `parse` made unless indenting
    /// grows a compact catalog past the size limit.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Err(reason) if it has expired at `now`, or if it was issued more
    /// than 5 minutes (of clock skew) after `now`.
    pub(crate) fn check_fresh(&self, now: SystemTime) -> Result<(), String> {
        let (issued, expires) = self.times()?;
        if now >= expires {
            return Err(format!("it expired on {}", self.expires));
        }
        if now
            .checked_add(CLOCK_SKEW)
            .is_some_and(|limit| issued > limit)
        {
            return Err(format!(
                "it was issued on {}, which is still in the future: check this computer's clock",
                self.issued
            ));
        }
        Ok(())
    }

    /// Err(reason) if it was issued before `older` was: a rollback to an
    /// older copy.
    pub(crate) fn check_not_older(&self, older: &Catalog) -> Result<(), String> {
        let (issued, _) = self.times()?;
        let (before, _) = older.times()?;
        if issued < before {
            return Err(format!(
                "it was issued on {}, before the copy already held (issued on {}): an older catalog may be being replayed",
                self.issued, older.issued
            ));
        }
        Ok(())
    }

    /// The plugin named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.plugins.iter().find(|e| e.name == name)
    }

    /// The plugins whose name or description contains `term`, ignoring
    /// case (all of them for an empty term): the one named `term` first,
    /// then the rest by name.
    pub fn search(&self, term: &str) -> Vec<&CatalogEntry> {
        let term = term.to_lowercase();
        let mut found: Vec<(bool, &CatalogEntry)> = self
            .plugins
            .iter()
            .filter_map(|e| {
                let name = e.name.to_lowercase();
                let hit = name.contains(&term)
                    || e.description
                        .as_deref()
                        .is_some_and(|d| d.to_lowercase().contains(&term));
                hit.then_some((name != term, e))
            })
            .collect();
        found.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
        found.into_iter().map(|(_, e)| e).collect()
    }

    /// A catalog for `catalog build`, from a draft the maintainer writes by
    /// hand, issued at `now` and valid for `valid_for`. The draft is TOML:
    /// one `[[plugin]]` table per plugin, with `name`, `description`
    /// (optional), `source`, `keys`, `versions` (optional, each a version
    /// string or a `{ version, api }` table; left out, the list is empty
    /// and `catalog build` fills it from the registry) and `yanked`
    /// (optional, `{ version, reason }` tables). Keys it does not know are refused, to catch
    /// typing mistakes. The result is validated as `parse` validates it,
    /// so that what is built can be read.
    pub(crate) fn from_draft(
        text: &str,
        now: SystemTime,
        valid_for: Duration,
    ) -> Result<Catalog, String> {
        let draft: Draft = toml::from_str(text).map_err(|e| {
            let reason = e.message().lines().next().unwrap_or("").trim().to_string();
            match e.span() {
                Some(span) => {
                    let line = text
                        .get(..span.start)
                        .map_or(0, |before| before.matches('\n').count())
                        + 1;
                    format!("line {line}: {reason}")
                }
                None => reason,
            }
        })?;
        let expires = now
            .checked_add(valid_for)
            .ok_or_else(|| "it would expire too far in the future".to_string())?;
        let catalog = Catalog {
            catalog: FORMAT,
            issued: timestamp(now)?,
            expires: timestamp(expires)?,
            plugins: draft
                .plugin
                .into_iter()
                .map(DraftPlugin::into_entry)
                .collect(),
        };
        if catalog.plugins.len() > ENTRIES_CAP {
            return Err(TOO_MANY.to_string());
        }
        Catalog::parse(&catalog.to_bytes())
    }

    /// Checks everything but the size in bytes and the format number.
    fn validate(&self) -> Result<(), String> {
        if self.plugins.len() > ENTRIES_CAP {
            return Err(TOO_MANY.to_string());
        }
        let issued = rfc3339("issued", &self.issued)?;
        let expires = rfc3339("expires", &self.expires)?;
        if expires <= issued {
            return Err(format!(
                "it expires ({}) no later than it was issued ({})",
                self.expires, self.issued
            ));
        }
        let mut names: HashMap<&str, usize> = HashMap::with_capacity(self.plugins.len());
        for (i, entry) in self.plugins.iter().enumerate() {
            entry.validate(i)?;
            if let Some(first) = names.insert(&entry.name, i) {
                return Err(format!(
                    "its entries {} and {} are both named {}",
                    first + 1,
                    i + 1,
                    entry.name
                ));
            }
        }
        Ok(())
    }

    /// `issued` and `expires` as times.
    fn times(&self) -> Result<(SystemTime, SystemTime), String> {
        Ok((
            rfc3339("issued", &self.issued)?,
            rfc3339("expires", &self.expires)?,
        ))
    }
}

impl CatalogEntry {
    /// The newest version that is not yanked and for which `fits` is true,
    /// given the version's `api` requirement (None when it has none): the
    /// caller passes the host's API gate. A release is preferred to a
    /// pre-release; a pre-release is picked only when no release fits.
    pub(crate) fn newest(&self, fits: impl Fn(Option<&str>) -> bool) -> Option<&CatalogVersion> {
        self.pick(|_| true, fits)
    }

    /// The newest version matching `req` (a semver requirement such as
    /// `^0.2` or `=0.1.0`) that is not yanked and fits, as for `newest`;
    /// Err(reason) when `req` does not parse.
    pub(crate) fn newest_matching(
        &self,
        req: &str,
        fits: impl Fn(Option<&str>) -> bool,
    ) -> Result<Option<&CatalogVersion>, String> {
        let req = VersionReq::parse(req).map_err(|e| {
            format!(
                "the version requirement '{}' does not parse: {e}",
                quoted(req)
            )
        })?;
        Ok(self.pick(|v| req.matches(v), fits))
    }

    /// Why `version` was yanked, if it was.
    pub(crate) fn yanked(&self, version: &str) -> Option<&str> {
        let wanted = Version::parse(version).ok();
        self.yanked
            .iter()
            .find(|y| match &wanted {
                Some(wanted) => Version::parse(&y.version).is_ok_and(|v| v == *wanted),
                None => y.version == version,
            })
            .map(|y| y.reason.as_str())
    }

    /// The newest version that `wanted` accepts, not yanked, that fits.
    fn pick(
        &self,
        wanted: impl Fn(&Version) -> bool,
        fits: impl Fn(Option<&str>) -> bool,
    ) -> Option<&CatalogVersion> {
        let yanked: HashSet<Version> = self
            .yanked
            .iter()
            .filter_map(|y| Version::parse(&y.version).ok())
            .collect();
        self.versions
            .iter()
            .filter_map(|v| Version::parse(&v.version).ok().map(|parsed| (parsed, v)))
            .filter(|(parsed, v)| {
                wanted(parsed) && !yanked.contains(parsed) && fits(v.api.as_deref())
            })
            .max_by(|(a, _), (b, _)| (a.pre.is_empty(), a).cmp(&(b.pre.is_empty(), b)))
            .map(|(_, v)| v)
    }

    /// Checks the entry at index `i`: its bounds first, then its contents.
    fn validate(&self, i: usize) -> Result<(), String> {
        let at = if is_valid_name(&self.name) {
            format!("its entry {} ({})", i + 1, self.name)
        } else {
            format!("its entry {}", i + 1)
        };
        if self.keys.len() > KEYS_CAP {
            return Err(format!("{at} lists more than {KEYS_CAP} keys"));
        }
        if self.versions.len() > VERSIONS_CAP {
            return Err(format!("{at} lists more than {VERSIONS_CAP} versions"));
        }
        if self.yanked.len() > VERSIONS_CAP {
            return Err(format!("{at} yanks more than {VERSIONS_CAP} versions"));
        }
        if let Some(description) = &self.description
            && description.chars().count() > TEXT_CAP
        {
            return Err(format!(
                "{at} has a description longer than {TEXT_CAP} characters"
            ));
        }
        if let Some(y) = self
            .yanked
            .iter()
            .find(|y| y.reason.chars().count() > TEXT_CAP)
        {
            return Err(format!(
                "{at} gives a reason longer than {TEXT_CAP} characters for yanking '{}'",
                quoted(&y.version)
            ));
        }
        self.check_controls(&at)?;

        if !is_valid_name(&self.name) {
            return Err(format!(
                "{at} is named '{}', which is not a plugin name (a lowercase letter then up to 63 of a-z, 0-9 and '-')",
                quoted(&self.name)
            ));
        }
        let place = ["oci://", "oci-layout://"]
            .iter()
            .find_map(|scheme| self.source.strip_prefix(scheme));
        if place.is_none_or(str::is_empty) {
            return Err(format!(
                "{at} has the source '{}', which is not oci://REGISTRY/REPOSITORY or oci-layout://PATH",
                quoted(&self.source)
            ));
        }
        if self.keys.is_empty() {
            return Err(format!("{at} lists no keys"));
        }
        if let Some(k) = self.keys.iter().position(|k| k.trim().is_empty()) {
            return Err(format!("{at} has an empty key (key {})", k + 1));
        }
        let mut seen = HashSet::with_capacity(self.versions.len());
        for v in &self.versions {
            let version = Version::parse(&v.version).map_err(|e| {
                format!(
                    "{at} lists '{}', which is not a semantic version: {e}",
                    quoted(&v.version)
                )
            })?;
            if let Some(api) = &v.api {
                VersionReq::parse(api).map_err(|e| {
                    format!(
                        "{at} gives version {} the API requirement '{}', which does not parse: {e}",
                        v.version,
                        quoted(api)
                    )
                })?;
            }
            if !seen.insert(version) {
                return Err(format!("{at} lists version {} twice", v.version));
            }
        }
        let mut seen = HashSet::with_capacity(self.yanked.len());
        for y in &self.yanked {
            let version = Version::parse(&y.version).map_err(|e| {
                format!(
                    "{at} yanks '{}', which is not a semantic version: {e}",
                    quoted(&y.version)
                )
            })?;
            if y.reason.trim().is_empty() {
                return Err(format!("{at} yanks {} without a reason", y.version));
            }
            if !seen.insert(version) {
                return Err(format!("{at} yanks version {} twice", y.version));
            }
        }
        Ok(())
    }

    /// Err(reason) if a text of the entry has a control character.
    fn check_controls(&self, at: &str) -> Result<(), String> {
        let has = |s: &str| s.chars().any(char::is_control);
        let field = if has(&self.name) {
            Some("its name".to_string())
        } else if self.description.as_deref().is_some_and(has) {
            Some("its description".to_string())
        } else if has(&self.source) {
            Some("its source".to_string())
        } else if let Some(k) = self.keys.iter().position(|k| has(k)) {
            Some(format!("key {}", k + 1))
        } else if let Some(v) = self
            .versions
            .iter()
            .position(|v| has(&v.version) || v.api.as_deref().is_some_and(has))
        {
            Some(format!("version {}", v + 1))
        } else {
            self.yanked
                .iter()
                .position(|y| has(&y.version) || has(&y.reason))
                .map(|y| format!("yank {}", y + 1))
        };
        match field {
            Some(field) => Err(format!("{at} has a control character in {field}")),
            None => Ok(()),
        }
    }
}

/// The reason for a catalog with too many plugins. Also the message of the
/// parse error that stops the list, told apart by it.
const TOO_MANY: &str = "it lists more than 10000 plugins";

/// Reads the plugin list, stopping with an error at one past
/// `ENTRIES_CAP` instead of reading the rest.
fn capped_plugins<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<CatalogEntry>, D::Error> {
    struct Capped;
    impl<'de> Visitor<'de> for Capped {
        type Value = Vec<CatalogEntry>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of plugins")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut plugins = Vec::new();
            while plugins.len() < ENTRIES_CAP {
                match seq.next_element()? {
                    Some(entry) => plugins.push(entry),
                    None => return Ok(plugins),
                }
            }
            match seq.next_element::<IgnoredAny>()? {
                Some(_) => Err(de::Error::custom(TOO_MANY)),
                None => Ok(plugins),
            }
        }
    }
    d.deserialize_seq(Capped)
}

/// The reason for a catalog of a format other than `FORMAT`.
fn other_format(found: u64) -> String {
    if found > u64::from(FORMAT) {
        format!(
            "it is in catalog format {found}, newer than format {FORMAT} that this version reads: upgrade to read it"
        )
    } else {
        format!(
            "it is in catalog format {found}, which this version does not read (it reads format {FORMAT})"
        )
    }
}

/// `text`, the time in the field `field`, as a time.
fn rfc3339(field: &str, text: &str) -> Result<SystemTime, String> {
    humantime::parse_rfc3339(text).map_err(|e| {
        format!(
            "its {field} time '{}' is not an RFC 3339 UTC time such as 2026-12-03T10:00:00Z: {e}",
            quoted(text)
        )
    })
}

/// `t` as RFC 3339 UTC, to the second; Err(reason) outside years 1970 to
/// 9999.
fn timestamp(t: SystemTime) -> Result<String, String> {
    let outside = || "its times would fall outside the years 1970 to 9999".to_string();
    t.duration_since(UNIX_EPOCH).map_err(|_| outside())?;
    let mut text = String::new();
    write!(text, "{}", humantime::format_rfc3339_seconds(t)).map_err(|_| outside())?;
    Ok(text)
}

/// At most `QUOTE_CAP` characters of `text`, control characters escaped,
/// to quote a bad value back.
fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let mut head = String::new();
    for c in chars.by_ref().take(QUOTE_CAP) {
        if c.is_control() {
            head.extend(c.escape_default());
        } else {
            head.push(c);
        }
    }
    if chars.next().is_some() {
        head.push('…');
    }
    head
}

/// A catalog draft, as the maintainer writes it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Draft {
    #[serde(default)]
    plugin: Vec<DraftPlugin>,
}

/// One `[[plugin]]` table of a draft.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftPlugin {
    name: String,
    #[serde(default)]
    description: Option<String>,
    source: String,
    keys: Vec<String>,
    /// Left out, `catalog build` reads them from the plugin's registry.
    #[serde(default)]
    versions: Vec<DraftVersion>,
    #[serde(default)]
    yanked: Vec<DraftYanked>,
}

/// A version in a draft: a version string, or a table with its API
/// requirement.
enum DraftVersion {
    Plain(String),
    Table(DraftVersionTable),
}

/// A version in a draft, written as a table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftVersionTable {
    version: String,
    #[serde(default)]
    api: Option<String>,
}

/// A yank in a draft.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DraftYanked {
    version: String,
    reason: String,
}

impl DraftPlugin {
    fn into_entry(self) -> CatalogEntry {
        CatalogEntry {
            name: self.name,
            description: self.description,
            source: self.source,
            keys: self.keys,
            versions: self
                .versions
                .into_iter()
                .map(|v| match v {
                    DraftVersion::Plain(version) => CatalogVersion { version, api: None },
                    DraftVersion::Table(t) => CatalogVersion {
                        version: t.version,
                        api: t.api,
                    },
                })
                .collect(),
            yanked: self
                .yanked
                .into_iter()
                .map(|y| Yanked {
                    version: y.version,
                    reason: y.reason,
                })
                .collect(),
        }
    }
}

impl<'de> Deserialize<'de> for DraftVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = DraftVersion;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a version string or a { version, api } table")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<DraftVersion, E> {
                Ok(DraftVersion::Plain(v.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DraftVersion, A::Error> {
                DraftVersionTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(DraftVersion::Table)
            }
        }
        d.deserialize_any(Either)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time `text` names.
    fn at(text: &str) -> SystemTime {
        humantime::parse_rfc3339(text).unwrap()
    }

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "catalog": 1,
            "issued": "2026-12-03T10:00:00Z",
            "expires": "2027-01-02T10:00:00Z",
            "plugins": [
                {
                    "name": "greet",
                    "description": "Greets people",
                    "source": "oci://ghcr.io/acme/mycli-greet",
                    "keys": ["RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"],
                    "versions": [
                        {"version": "0.2.0", "api": "^1.0"},
                        {"version": "0.1.0", "api": "^1.0"}
                    ],
                    "yanked": [{"version": "0.1.0", "reason": "writes to the wrong directory"}]
                },
                {
                    "name": "stats",
                    "source": "oci-layout:///srv/plugins/stats",
                    "keys": ["RWQkey"],
                    "versions": [{"version": "1.0.0"}]
                }
            ]
        })
    }

    fn parse_value(v: &serde_json::Value) -> Result<Catalog, String> {
        Catalog::parse(&serde_json::to_vec(v).unwrap())
    }

    fn entry(versions: &[(&str, Option<&str>)], yanked: &[&str]) -> CatalogEntry {
        CatalogEntry {
            name: "greet".into(),
            description: None,
            source: "oci://r/greet".into(),
            keys: vec!["k".into()],
            versions: versions
                .iter()
                .map(|(v, api)| CatalogVersion {
                    version: v.to_string(),
                    api: api.map(str::to_string),
                })
                .collect(),
            yanked: yanked
                .iter()
                .map(|v| Yanked {
                    version: v.to_string(),
                    reason: "broken".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn reads_the_format_and_writes_it_back_the_same() {
        let catalog = parse_value(&sample()).unwrap();
        assert_eq!(catalog.plugins.len(), 2);
        let greet = catalog.get("greet").unwrap();
        assert_eq!(greet.description.as_deref(), Some("Greets people"));
        assert_eq!(greet.versions[0].api.as_deref(), Some("^1.0"));
        assert!(catalog.get("stats").unwrap().yanked.is_empty());
        assert!(catalog.get("nope").is_none());

        let bytes = catalog.to_bytes();
        assert!(bytes.ends_with(b"}\n"));
        assert_eq!(Catalog::parse(&bytes).unwrap(), catalog);
        // Absent optional fields stay absent.
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.matches("\"description\"").count(), 1);
        assert_eq!(text.matches("\"yanked\"").count(), 1);
        assert_eq!(text.matches("\"api\"").count(), 2);
    }

    #[test]
    fn fields_it_does_not_know_are_ignored() {
        let mut v = sample();
        v["mirror"] = serde_json::json!("https://example.com");
        v["plugins"][0]["homepage"] = serde_json::json!("https://example.com");
        v["plugins"][0]["versions"][0]["digest"] = serde_json::json!("sha256:00");
        assert_eq!(parse_value(&v).unwrap(), parse_value(&sample()).unwrap());
    }

    #[test]
    fn each_invalid_catalog_gets_its_own_reason() {
        type Edit = fn(&mut serde_json::Value);
        let cases: &[(Edit, &str)] = &[
            (
                |v| v["catalog"] = 2.into(),
                "it is in catalog format 2, newer than format 1 that this version reads: upgrade to read it",
            ),
            (
                |v| v["catalog"] = 0.into(),
                "it is in catalog format 0, which this version does not read (it reads format 1)",
            ),
            (
                |v| v["issued"] = "yesterday".into(),
                "its issued time 'yesterday' is not an RFC 3339 UTC time",
            ),
            (
                |v| v["expires"] = "2027-01-02 10:00".into(),
                "its expires time '2027-01-02 10:00' is not an RFC 3339",
            ),
            (
                |v| v["expires"] = "2026-12-03T10:00:00Z".into(),
                "it expires (2026-12-03T10:00:00Z) no later than it was issued (2026-12-03T10:00:00Z)",
            ),
            (
                |v| v["plugins"][1]["name"] = "Stats".into(),
                "its entry 2 is named 'Stats', which is not a plugin name",
            ),
            (
                |v| v["plugins"][1]["name"] = "greet".into(),
                "its entries 1 and 2 are both named greet",
            ),
            (
                |v| v["plugins"][1]["source"] = "https://example.com/stats".into(),
                "its entry 2 (stats) has the source 'https://example.com/stats', which is not oci://",
            ),
            (
                |v| v["plugins"][1]["source"] = "oci://".into(),
                "its entry 2 (stats) has the source 'oci://'",
            ),
            (
                |v| v["plugins"][1]["keys"] = serde_json::json!([]),
                "its entry 2 (stats) lists no keys",
            ),
            (
                |v| v["plugins"][1]["keys"] = serde_json::json!(["k", " "]),
                "its entry 2 (stats) has an empty key (key 2)",
            ),
            (
                |v| v["plugins"][1]["keys"] = serde_json::json!(vec!["k"; 17]),
                "its entry 2 (stats) lists more than 16 keys",
            ),
            (
                |v| {
                    v["plugins"][1]["versions"] =
                        serde_json::json!(vec![serde_json::json!({"version": "1.0.0"}); 1001])
                },
                "its entry 2 (stats) lists more than 1000 versions",
            ),
            (
                |v| {
                    v["plugins"][1]["yanked"] = serde_json::json!(vec![
                        serde_json::json!({"version": "1.0.0", "reason": "x"});
                        1001
                    ])
                },
                "its entry 2 (stats) yanks more than 1000 versions",
            ),
            (
                |v| v["plugins"][1]["description"] = "x".repeat(1001).into(),
                "its entry 2 (stats) has a description longer than 1000 characters",
            ),
            (
                |v| {
                    v["plugins"][1]["yanked"] =
                        serde_json::json!([{"version": "1.0.0", "reason": "x".repeat(1001)}])
                },
                "its entry 2 (stats) gives a reason longer than 1000 characters for yanking '1.0.0'",
            ),
            (
                |v| v["plugins"][1]["description"] = "two\nlines".into(),
                "its entry 2 (stats) has a control character in its description",
            ),
            (
                |v| v["plugins"][1]["name"] = "st\u{1b}[2Jats".into(),
                "its entry 2 has a control character in its name",
            ),
            (
                |v| v["plugins"][1]["keys"] = serde_json::json!(["k", "k\r"]),
                "its entry 2 (stats) has a control character in key 2",
            ),
            (
                |v| {
                    v["plugins"][1]["versions"] =
                        serde_json::json!([{"version": "1.0.0", "api": "^1\t"}])
                },
                "its entry 2 (stats) has a control character in version 1",
            ),
            (
                |v| {
                    v["plugins"][1]["yanked"] =
                        serde_json::json!([{"version": "1.0.0", "reason": "a\u{7f}"}])
                },
                "its entry 2 (stats) has a control character in yank 1",
            ),
            (
                |v| v["plugins"][1]["versions"] = serde_json::json!([{"version": "1.0"}]),
                "its entry 2 (stats) lists '1.0', which is not a semantic version",
            ),
            (
                |v| {
                    v["plugins"][1]["versions"] =
                        serde_json::json!([{"version": "1.0.0"}, {"version": "1.0.0"}])
                },
                "its entry 2 (stats) lists version 1.0.0 twice",
            ),
            (
                |v| {
                    v["plugins"][1]["versions"] =
                        serde_json::json!([{"version": "1.0.0", "api": "^^1"}])
                },
                "its entry 2 (stats) gives version 1.0.0 the API requirement '^^1', which does not parse",
            ),
            (
                |v| {
                    v["plugins"][1]["yanked"] =
                        serde_json::json!([{"version": "one", "reason": "x"}])
                },
                "its entry 2 (stats) yanks 'one', which is not a semantic version",
            ),
            (
                |v| {
                    v["plugins"][1]["yanked"] =
                        serde_json::json!([{"version": "1.0.0", "reason": " "}])
                },
                "its entry 2 (stats) yanks 1.0.0 without a reason",
            ),
            (
                |v| v["plugins"][1]["yanked"] = serde_json::json!([{"version": "1.0.0", "reason": "a"}, {"version": "1.0.0", "reason": "b"}]),
                "its entry 2 (stats) yanks version 1.0.0 twice",
            ),
            (
                |v| {
                    v["plugins"][1].as_object_mut().unwrap().remove("source");
                },
                "it is not catalog JSON: missing field `source`",
            ),
            (
                |v| v["plugins"] = serde_json::json!({}),
                "it is not catalog JSON: invalid type: map, expected a list of plugins",
            ),
        ];
        let mut reasons = HashSet::new();
        for (edit, expected) in cases {
            let mut v = sample();
            edit(&mut v);
            let reason = parse_value(&v).unwrap_err();
            assert!(
                reason.starts_with(expected),
                "{reason:?} is not {expected:?}"
            );
            assert!(reasons.insert(reason.clone()), "{reason:?} twice");
        }
        assert!(
            Catalog::parse(b"<html>502</html>")
                .unwrap_err()
                .starts_with("it is not catalog JSON: expected value at line 1 column 1")
        );
    }

    #[test]
    fn a_long_bad_value_is_quoted_short() {
        let mut v = sample();
        v["plugins"][0]["name"] = "X".repeat(5000).into();
        let reason = parse_value(&v).unwrap_err();
        assert!(reason.len() < 300, "{reason}");
        assert!(
            reason.contains(&format!("'{}…'", "X".repeat(64))),
            "{reason}"
        );
        let mut v = sample();
        v["issued"] = "\u{1b}[2J2026-12-03T10:00:00Z".into();
        assert!(
            parse_value(&v)
                .unwrap_err()
                .starts_with("its issued time '\\u{1b}[2J2026-12-03T10:00:00Z' is not")
        );
    }

    #[test]
    fn a_newer_format_is_named_even_when_it_reads_as_damaged() {
        let v = serde_json::json!({"catalog": 2, "plugins": {"greet": {}}});
        assert!(
            parse_value(&v)
                .unwrap_err()
                .starts_with("it is in catalog format 2")
        );
    }

    /// A catalog of `n` valid plugins, compact.
    fn many(n: usize) -> Vec<u8> {
        let mut text = String::from(
            r#"{"catalog":1,"issued":"2026-12-03T10:00:00Z","expires":"2027-01-02T10:00:00Z","plugins":["#,
        );
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            write!(
                text,
                r#"{{"name":"p{i}","source":"oci://r/p{i}","keys":["k"],"versions":[{{"version":"1.0.0"}}]}}"#
            )
            .unwrap();
        }
        text.push_str("]}");
        text.into_bytes()
    }

    #[test]
    fn a_catalog_at_the_plugin_cap_is_read() {
        let catalog = Catalog::parse(&many(ENTRIES_CAP)).unwrap();
        assert_eq!(catalog.plugins.len(), ENTRIES_CAP);
        assert_eq!(
            TOO_MANY,
            format!("it lists more than {ENTRIES_CAP} plugins")
        );
    }

    #[test]
    fn a_huge_catalog_is_refused_by_its_size_before_parsing() {
        let bytes = many(100_000);
        assert!(bytes.len() as u64 > CATALOG_CAP);
        let reason = Catalog::parse(&bytes).unwrap_err();
        assert_eq!(
            reason,
            format!(
                "it is {} bytes, larger than the 4194304-byte limit",
                bytes.len()
            )
        );
    }

    #[test]
    fn a_catalog_of_many_tiny_plugins_is_refused_by_the_plugin_cap() {
        let tiny = r#"{"name":"a","source":"","keys":[],"versions":[]}"#;
        let head = r#"{"catalog":1,"issued":"2026-12-03T10:00:00Z","expires":"2027-01-02T10:00:00Z","plugins":["#;
        let n = (39 << 20) / 10 / (tiny.len() + 1);
        let text = format!("{head}{}]}}", vec![tiny; n].join(","));
        assert!(text.len() as u64 <= CATALOG_CAP);
        assert_eq!(Catalog::parse(text.as_bytes()).unwrap_err(), TOO_MANY);
    }

    #[test]
    fn expiry_and_clock_skew() {
        let catalog = parse_value(&sample()).unwrap();
        assert_eq!(catalog.check_fresh(at("2026-12-20T00:00:00Z")), Ok(()));
        assert_eq!(
            catalog.check_fresh(at("2027-01-02T10:00:00Z")).unwrap_err(),
            "it expired on 2027-01-02T10:00:00Z"
        );
        assert!(catalog.check_fresh(at("2030-01-01T00:00:00Z")).is_err());
        // Issued up to 5 minutes ahead of this clock is skew; more is not.
        assert_eq!(catalog.check_fresh(at("2026-12-03T09:55:00Z")), Ok(()));
        assert_eq!(
            catalog.check_fresh(at("2026-12-03T09:54:59Z")).unwrap_err(),
            "it was issued on 2026-12-03T10:00:00Z, which is still in the future: check this computer's clock"
        );
    }

    #[test]
    fn an_older_catalog_is_a_rollback() {
        let held = parse_value(&sample()).unwrap();
        let mut v = sample();
        v["issued"] = "2026-11-03T10:00:00Z".into();
        let older = parse_value(&v).unwrap();
        v["issued"] = "2026-12-04T10:00:00Z".into();
        let newer = parse_value(&v).unwrap();
        assert_eq!(held.check_not_older(&held), Ok(()));
        assert_eq!(newer.check_not_older(&held), Ok(()));
        assert_eq!(
            older.check_not_older(&held).unwrap_err(),
            "it was issued on 2026-11-03T10:00:00Z, before the copy already held (issued on 2026-12-03T10:00:00Z): an older catalog may be being replayed"
        );
    }

    #[test]
    fn search_puts_the_exact_name_first_then_sorts_by_name() {
        let mut v = sample();
        let plugins = v["plugins"].as_array_mut().unwrap();
        for (name, description) in [
            ("zz-greet", "Another"),
            ("hello", "Greets the world"),
            ("greeter", "x"),
            ("other", "Nothing here"),
        ] {
            plugins.push(serde_json::json!({
                "name": name, "description": description,
                "source": "oci://r/x", "keys": ["k"], "versions": []
            }));
        }
        let catalog = parse_value(&v).unwrap();
        let names = |term: &str| -> Vec<&str> {
            catalog
                .search(term)
                .iter()
                .map(|e| e.name.as_str())
                .collect()
        };
        assert_eq!(names("GREET"), ["greet", "greeter", "hello", "zz-greet"]);
        assert_eq!(names("greeter"), ["greeter"]);
        assert_eq!(names("the WORLD"), ["hello"]);
        assert_eq!(
            names(""),
            ["greet", "greeter", "hello", "other", "stats", "zz-greet"]
        );
        assert!(names("nothing at all").is_empty());
    }

    #[test]
    fn newest_skips_yanked_and_what_does_not_fit() {
        let e = entry(
            &[
                ("0.1.0", Some("^1.0")),
                ("0.3.0", Some("^2.0")),
                ("0.2.0", None),
                ("0.2.1", Some("^1.0")),
                ("0.4.0-rc.1", Some("^1.0")),
            ],
            &["0.2.1"],
        );
        let any = |_: Option<&str>| true;
        let api_1 = |api: Option<&str>| api.is_none_or(|a| a == "^1.0");
        assert_eq!(e.newest(any).unwrap().version, "0.3.0");
        assert_eq!(e.newest(api_1).unwrap().version, "0.2.0");
        // Only when it has no api requirement: None is given.
        assert_eq!(e.newest(|api| api.is_some()).unwrap().version, "0.3.0");
        // A release is preferred to a newer pre-release, which is picked
        // only when no release fits.
        assert_eq!(
            e.newest(|api| api == Some("^1.0")).unwrap().version,
            "0.1.0"
        );
        let rc = entry(&[("0.4.0-rc.1", None), ("0.4.0-rc.2", None)], &[]);
        assert_eq!(rc.newest(any).unwrap().version, "0.4.0-rc.2");
        assert!(e.newest(|_| false).is_none());

        assert_eq!(
            e.newest_matching("^0.2", any).unwrap().unwrap().version,
            "0.2.0"
        );
        assert_eq!(
            e.newest_matching("=0.1.0", api_1).unwrap().unwrap().version,
            "0.1.0"
        );
        assert_eq!(e.newest_matching("=0.2.1", any).unwrap(), None);
        assert_eq!(e.newest_matching("^0.3", api_1).unwrap(), None);
        assert_eq!(
            e.newest_matching(">=0.4.0-rc.1", any)
                .unwrap()
                .unwrap()
                .version,
            "0.4.0-rc.1"
        );
        assert!(
            e.newest_matching("latest", any)
                .unwrap_err()
                .starts_with("the version requirement 'latest' does not parse: ")
        );

        assert_eq!(e.yanked("0.2.1"), Some("broken"));
        assert_eq!(e.yanked("0.2.0"), None);
        assert_eq!(e.yanked("not a version"), None);
    }

    #[test]
    fn a_draft_becomes_a_catalog() {
        let draft = r#"
[[plugin]]
name = "greet"
description = "Greets people"
source = "oci://ghcr.io/acme/mycli-greet"
keys = ["RWQkey", "ssh-ed25519 AAAA"]
versions = ["0.2.0", { version = "0.1.0", api = "^1.0" }]
yanked = [{ version = "0.1.0", reason = "writes to the wrong directory" }]

[[plugin]]
name = "stats"
source = "oci-layout:///srv/stats"
keys = ["RWQother"]

[[plugin.versions]]
version = "1.0.0"
api = "^1"
"#;
        let now = at("2026-12-03T10:00:00.750Z");
        let day = Duration::from_secs(24 * 60 * 60);
        let catalog = Catalog::from_draft(draft, now, 30 * day).unwrap();
        assert_eq!(catalog.catalog, FORMAT);
        assert_eq!(catalog.issued, "2026-12-03T10:00:00Z");
        assert_eq!(catalog.expires, "2027-01-02T10:00:00Z");
        let greet = catalog.get("greet").unwrap();
        assert_eq!(
            greet.versions,
            [
                CatalogVersion {
                    version: "0.2.0".into(),
                    api: None
                },
                CatalogVersion {
                    version: "0.1.0".into(),
                    api: Some("^1.0".into())
                },
            ]
        );
        assert_eq!(greet.yanked("0.1.0"), Some("writes to the wrong directory"));
        assert_eq!(
            catalog.get("stats").unwrap().versions[0].api.as_deref(),
            Some("^1")
        );
        assert_eq!(Catalog::parse(&catalog.to_bytes()).unwrap(), catalog);
        assert_eq!(catalog.check_fresh(now), Ok(()));
    }

    #[test]
    fn a_bad_draft_is_refused_with_where_and_why() {
        let now = at("2026-12-03T10:00:00Z");
        let day = Duration::from_secs(24 * 60 * 60);
        let typo = "[[plugin]]\nname = \"greet\"\ndescripton = \"x\"\nsource = \"oci://r/g\"\nkeys = [\"k\"]\nversions = []\n";
        let reason = Catalog::from_draft(typo, now, day).unwrap_err();
        assert!(
            reason.starts_with("line 3: unknown field `descripton`"),
            "{reason}"
        );
        let bad = "[[plugin]]\nname = \"greet\"\nsource = \"oci://r/g\"\nkeys = [\"k\"]\nversions = [1]\n";
        let reason = Catalog::from_draft(bad, now, day).unwrap_err();
        assert!(
            reason.contains("a version string or a { version, api } table"),
            "{reason}"
        );
        let invalid = "[[plugin]]\nname = \"greet\"\nsource = \"https://r/g\"\nkeys = [\"k\"]\nversions = []\n";
        assert!(
            Catalog::from_draft(invalid, now, day)
                .unwrap_err()
                .starts_with("its entry 1 (greet) has the source 'https://r/g'")
        );
        assert!(
            Catalog::from_draft("", now, Duration::ZERO)
                .unwrap_err()
                .starts_with("it expires (2026-12-03T10:00:00Z) no later than")
        );
        assert_eq!(
            Catalog::from_draft("", now, 10_000 * 365 * day).unwrap_err(),
            "its times would fall outside the years 1970 to 9999"
        );
        assert_eq!(Catalog::from_draft("", now, day).unwrap().plugins, []);
    }

    #[test]
    fn a_draft_may_leave_the_versions_out() {
        let now = at("2026-12-03T10:00:00Z");
        let day = Duration::from_secs(24 * 60 * 60);
        let draft = "[[plugin]]\nname = \"greet\"\nsource = \"oci://r/g\"\nkeys = [\"k\"]\n";
        let catalog = Catalog::from_draft(draft, now, day).unwrap();
        assert_eq!(catalog.get("greet").unwrap().versions, []);
    }
}

//! Who published a version: its signatures, checked before any code is
//! downloaded, against the key pinned for the plugin, the keys a catalog
//! lists for it, and the keys the user trusts; and the signer to pin.
//!
//! - A plugin that arrived signed keeps its signer: a version signed by
//!   another key, or unsigned, is refused, unless a rotation statement
//!   signed by the pinned key names the new one.
//! - Installed through a catalog, the signer must be a key the catalog
//!   lists for the plugin.
//! - Otherwise a key the user trusts for the source vouches for it; any
//!   other key is pinned on first use, with a warning, and refused under
//!   `require-signatures`. An unsigned version installs with a warning,
//!   and is refused under `require-signatures`.
//!
//! A signature that does not verify, or one listed for this version whose
//! subject is another, is refused whatever the policy: it means the
//! registry serves something other than what was signed.

use crate::diagnostic::Diagnostic;
use crate::engine::Engine;
use crate::provenance::key::PublicKey;
use crate::provenance::keyring::Keyring;
use crate::provenance::signature::{self, Signature};
use crate::registry::layout::Layout;
use crate::registry::oci::{self, Descriptor};
use crate::registry::store::Store;
use crate::ui::{self, Options};

use super::common::Result;

/// The most signatures (or rotation statements) read for one version.
const MOST_SIGNATURES: usize = 16;

/// What the user asked of signatures, and the keys they trust.
pub(super) struct Policy {
    /// Refuse what no key signed, and keys nothing vouches for.
    pub(super) require: bool,
    pub(super) keyring: Keyring,
}

impl Policy {
    /// The user's trusted keys; signatures are required when `require`
    /// (the config file's `require-signatures`, or the command line's).
    pub(super) fn load(engine: &Engine, require: bool) -> Result<Policy> {
        let path = engine.host.paths.trusted_keys_file();
        let keyring = Keyring::load(&path).map_err(|why| {
            Diagnostic::new(format!(
                "cannot read the trusted keys file {}: {why}",
                path.display()
            ))
            .with_fix(format!(
                "fix or remove the file; `{} plugins trust add KEY` writes it again",
                engine.ns()
            ))
        })?;
        Ok(Policy { require, keyring })
    }
}

/// The version whose signatures are checked.
pub(super) struct Signed<'a> {
    /// The plugin's name and version, as its config states them.
    pub(super) name: &'a str,
    pub(super) version: &'a str,
    /// The image index's digest.
    pub(super) digest: &'a str,
    /// The source, `oci://HOST/REPO`, which trusted keys are scoped to.
    pub(super) source: &'a str,
}

/// What the caller already knows of who signs the plugin.
#[derive(Default)]
pub(super) struct Expected<'a> {
    /// The key pinned when the plugin first arrived signed.
    pub(super) pinned: Option<&'a str>,
    /// The keys a catalog lists for it, with the catalog's name.
    pub(super) catalog: Option<(&'a str, &'a [String])>,
    /// A signature known by digest (from the lock), read even where the
    /// store lists no referrers (the download cache).
    pub(super) signature: Option<&'a str>,
    /// The pin comes from a lock file, not from the installed plugin.
    pub(super) from_lock: bool,
}

/// Who signed a version, once checked.
#[derive(Debug, Clone, Default)]
pub(super) struct Verdict {
    /// The key, none when unsigned.
    pub(super) signer: Option<PublicKey>,
    /// The signature's manifest digest.
    pub(super) signature: Option<String>,
    /// What is allowed but weak (unsigned, a key pinned on first use, a
    /// rotation), for the caller to say once the plugin is recorded.
    pub(super) warning: Option<String>,
}

impl Verdict {
    /// Says the warning, if any.
    pub(super) fn warn(&self, ns: &str, options: &Options) {
        if let Some(warning) = &self.warning {
            ui::warning(ns, warning, options);
        }
    }
}

/// A signature read from the store: the key it claims and what it holds.
struct Candidate {
    digest: String,
    key: Option<PublicKey>,
    signature: Signature,
}

/// Checks the signatures of `signed` as `expected` and `policy` say; what
/// is allowed but weak comes back as the verdict's warning. `what` is the
/// command's phrase: "install oci://...".
#[allow(clippy::too_many_arguments)]
pub(super) async fn check(
    engine: &Engine,
    store: &Store,
    cache: &Layout,
    signed: &Signed<'_>,
    expected: &Expected<'_>,
    policy: &Policy,
    what: &str,
) -> Result<Verdict> {
    let ns = engine.ns();
    let name = signed.name;
    let payload = signature::plugin_payload(name, signed.version, signed.digest);
    let mut digests: Vec<String> = store
        .referrers(signed.digest, oci::SIGNATURE_ARTIFACT_TYPE)
        .await?
        .into_iter()
        .map(|d| d.digest)
        .collect();
    // The one the lock names comes first, so that the cap never drops it.
    if let Some(known) = expected.signature {
        digests.retain(|d| d != known);
        digests.insert(0, known.to_string());
    }
    digests.truncate(MOST_SIGNATURES);
    let mut candidates = Vec::new();
    for digest in &digests {
        candidates.push(read_signed(store, cache, signed.digest, digest, what).await?);
    }
    // Every signature listed must verify with the key it names.
    let mut good: Vec<(PublicKey, String)> = Vec::new();
    for c in &candidates {
        let Some(key) = &c.key else {
            return Err(Diagnostic::new(format!(
                "cannot {what}: its signature {} does not say which key made it",
                oci::short(&c.digest)
            ))
            .with_fix("ask its publisher to sign it again with `plugins sign`")
            .into());
        };
        c.signature.verify(key, &payload).map_err(|why| {
            Diagnostic::new(format!(
                "cannot {what}: its signature by {} is not valid for '{name}' {} ({}): {why}",
                key.id(),
                signed.version,
                oci::short(signed.digest)
            ))
            .with_fix(
                "do not use this version; tell its publisher, as the registry serves something other than what was signed",
            )
        })?;
        good.push((key.clone(), c.digest.clone()));
    }
    let found = |key: &PublicKey| good.iter().find(|(k, _)| k == key).cloned();
    let verdict = |(key, digest): (PublicKey, String)| Verdict {
        signer: Some(key),
        signature: Some(digest),
        warning: None,
    };
    if let Some(pinned) = expected.pinned {
        let pinned = parse_pinned(ns, name, pinned)?;
        if let Some(hit) = found(&pinned) {
            return Ok(verdict(hit));
        }
        let mut refused_statement = false;
        for (key, digest) in &good {
            let rotation = rotated(store, cache, signed, &pinned, key, what).await?;
            refused_statement |= rotation == Some(false);
            if rotation == Some(true) {
                let mut rotated = verdict((key.clone(), digest.clone()));
                rotated.warning = Some(format!(
                    "plugin '{name}' is now signed by {}: {} rotated to it in a signed statement",
                    key.id(),
                    pinned.id()
                ));
                return Ok(rotated);
            }
        }
        let (was, anyway) = if expected.from_lock {
            (
                format!(
                    "the lock file says plugin '{name}' is signed by {}",
                    pinned.id()
                ),
                format!(
                    "if the lock is out of date, write it again with `{ns} plugins lock` where the plugin is installed"
                ),
            )
        } else {
            (
                format!(
                    "plugin '{name}' was signed by {} when it was installed",
                    pinned.id()
                ),
                format!("to trust it anyway, `{ns} plugins remove {name}` and install it again"),
            )
        };
        if good.is_empty() {
            return Err(Diagnostic::new(format!(
                "cannot {what}: it is not signed, but {was}"
            ))
            .with_fix(format!(
                "ask its publisher to sign it with {} (`{ns} plugins sign REF --key KEY`); {anyway}",
                pinned.id()
            ))
            .into());
        }
        let statement = if refused_statement {
            format!(
                " (its key rotation statement is not signed by {})",
                pinned.id()
            )
        } else {
            String::new()
        };
        return Err(Diagnostic::new(format!(
            "cannot {what}: it is signed by {}, but {was}{statement}",
            ids(&good),
        ))
        .with_fix(format!(
            "ask its publisher whether they changed keys (they attach a rotation statement with `{ns} plugins sign REF --key NEW --rotate-from OLD`); {anyway}"
        ))
        .into());
    }
    if let Some((catalog, keys)) = expected.catalog {
        let listed: Vec<PublicKey> = keys
            .iter()
            .filter_map(|k| PublicKey::parse(k).ok())
            .collect();
        if let Some(hit) = listed.iter().find_map(&found) {
            return Ok(verdict(hit));
        }
        let now = match good.first() {
            Some((key, _)) => format!("it is signed by {}", key.id()),
            None => "it is not signed".to_string(),
        };
        return Err(Diagnostic::new(format!(
            "cannot {what}: {now}, not by a key catalog '{catalog}' lists for plugin '{name}'"
        ))
        .with_fix(format!(
            "do not use this version; tell the catalog's maintainers, or refresh the catalog with `{ns} plugins catalog update`"
        ))
        .into());
    }
    if let Some(hit) = good
        .iter()
        .find(|(k, _)| policy.keyring.vouches(k, signed.source))
    {
        return Ok(verdict(hit.clone()));
    }
    match good.first().cloned() {
        Some((key, digest)) if !policy.require => {
            let mut pinned = verdict((key.clone(), digest));
            pinned.warning = Some(format!(
                "plugin '{name}' is signed by {}, a key you have not trusted: it is pinned now, and later versions must be signed by it",
                key.id()
            ));
            Ok(pinned)
        }
        Some((first, _)) => {
            // A key the user trusts for other sources is the likelier one
            // to trust here too: name where it is trusted, and suggest it.
            let elsewhere = good.iter().find_map(|(key, _)| {
                let scopes: Vec<&str> = policy
                    .keyring
                    .keys
                    .iter()
                    .filter(|t| PublicKey::parse(&t.key).is_ok_and(|k| k == *key))
                    .filter_map(|t| t.scope.as_deref())
                    .collect();
                (!scopes.is_empty()).then(|| (key.clone(), scopes.join(", ")))
            });
            let (suggested, note) = match &elsewhere {
                Some((key, scopes)) => (
                    key.clone(),
                    format!(" ({} is trusted only for {scopes})", key.id()),
                ),
                None => (first, String::new()),
            };
            let keys = if good.len() == 1 {
                "a key you have not trusted"
            } else {
                "keys you have not trusted"
            };
            Err(Diagnostic::new(format!(
                "cannot {what}: it is signed by {}, {keys} for {}{note}, and signatures are required",
                ids(&good),
                signed.source
            ))
            .with_fix(format!(
                "if you trust its publisher: `{ns} plugins trust add '{}' --for {}`",
                suggested.to_text(),
                signed.source
            ))
            .into())
        }
        None if !policy.require => {
            Ok(Verdict {
                warning: Some(format!(
                    "plugin '{name}' {} is not signed: nothing shows who published it",
                    signed.version
                )),
                ..Verdict::default()
            })
        }
        None => Err(Diagnostic::new(format!(
            "cannot {what}: it is not signed, and signatures are required"
        ))
        .with_fix(format!(
            "ask its publisher to sign it (`{ns} plugins sign REF --key KEY`); to allow unsigned plugins, leave out --require-signatures and set require-signatures = false under [registry] in {}",
            engine.host.paths.config_file().display()
        ))
        .into()),
    }
}

/// The ids of the keys that signed, for a message: "A", "A and B".
fn ids(good: &[(PublicKey, String)]) -> String {
    let mut ids: Vec<String> = Vec::new();
    for (key, _) in good {
        if !ids.contains(&key.id()) {
            ids.push(key.id());
        }
    }
    match ids.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => ids.join(""),
    }
}

/// The pinned key recorded in the index or the lock.
fn parse_pinned(ns: &str, name: &str, text: &str) -> Result<PublicKey> {
    PublicKey::parse(text).map_err(|why| {
        Diagnostic::new(format!(
            "cannot check who signed plugin '{name}': the key pinned for it is unreadable: {why}"
        ))
        .with_fix(format!("`{ns} plugins remove {name}` and install it again"))
        .into()
    })
}

/// Reads the signature artifact at `digest`, which must refer to
/// `subject`.
async fn read_signed(
    store: &Store,
    cache: &Layout,
    subject: &str,
    digest: &str,
    what: &str,
) -> Result<Candidate> {
    let read = store.document(cache, digest).await?;
    let damaged = |why: String| -> super::common::Failure {
        Diagnostic::new(format!(
            "cannot {what}: its signature {} {why}",
            oci::short(digest)
        ))
        .with_fix(
            "do not use this version; tell its publisher, or sign it again with `plugins sign`",
        )
        .into()
    };
    let points_to = read.document.subject.as_ref().map(|s| s.digest.as_str());
    if points_to != Some(subject) {
        return Err(damaged(format!(
            "is listed for {} but signs {}",
            oci::short(subject),
            points_to.map_or_else(|| "nothing".to_string(), oci::short)
        )));
    }
    let layer: Option<&Descriptor> = read.document.layers.as_ref().and_then(|l| l.first());
    let Some(layer) = layer else {
        return Err(damaged("has no layer".to_string()));
    };
    if signature::Format::from_media_type(&layer.media_type).is_none() {
        return Err(damaged(format!(
            "is of type {}, which this host does not read",
            layer.media_type
        )));
    }
    let path = store
        .blob(cache, layer, signature::SIGNATURE_CAP, "signature")
        .await?;
    let bytes = std::fs::read(&path).map_err(|e| damaged(format!("cannot be read: {e}")))?;
    let parsed =
        Signature::parse(&bytes).map_err(|why| damaged(format!("is unreadable: {why}")))?;
    let key = match layer.annotations.get(oci::SIGNER) {
        Some(text) => Some(
            PublicKey::parse(text)
                .map_err(|why| damaged(format!("names an unreadable key: {why}")))?,
        ),
        None => parsed.embedded_key(),
    };
    Ok(Candidate {
        digest: digest.to_string(),
        key,
        signature: parsed,
    })
}

/// Whether a rotation statement attached to the version, signed by
/// `pinned`, names `new` for this plugin: none when there is no
/// statement, false when none verifies with `pinned` (a stranger's
/// statement rotates nothing).
async fn rotated(
    store: &Store,
    cache: &Layout,
    signed: &Signed<'_>,
    pinned: &PublicKey,
    new: &PublicKey,
    what: &str,
) -> Result<Option<bool>> {
    let payload = signature::rotation_payload(signed.name, pinned, new);
    let mut statements = store
        .referrers(signed.digest, oci::ROTATION_ARTIFACT_TYPE)
        .await?;
    statements.truncate(MOST_SIGNATURES);
    if statements.is_empty() {
        return Ok(None);
    }
    for statement in statements {
        let candidate = read_signed(store, cache, signed.digest, &statement.digest, what).await?;
        if candidate.signature.verify(pinned, &payload).is_ok() {
            return Ok(Some(true));
        }
    }
    Ok(Some(false))
}

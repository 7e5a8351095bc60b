//! Where a plugin artifact lives, as a user types it:
//! `oci://HOST[:PORT]/REPO[:TAG|@sha256:DIGEST]` for a registry and
//! `oci-layout://DIR[:REF|@sha256:DIGEST]` for an OCI image layout on disk.

use std::fmt;
use std::path::PathBuf;

/// The scheme of a registry reference.
pub(crate) const OCI_SCHEME: &str = "oci://";
/// The scheme of an image layout reference.
pub(crate) const LAYOUT_SCHEME: &str = "oci-layout://";

/// A place that holds plugin artifacts, without a tag or digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Repository {
    /// A repository in a registry.
    Registry {
        /// `HOST[:PORT]`.
        registry: String,
        /// The repository path, e.g. `acme/greet`.
        repository: String,
    },
    /// An OCI image layout directory.
    Layout {
        /// The directory.
        dir: PathBuf,
    },
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Repository::Registry {
                registry,
                repository,
            } => write!(f, "{OCI_SCHEME}{registry}/{repository}"),
            Repository::Layout { dir } => write!(f, "{LAYOUT_SCHEME}{}", dir.display()),
        }
    }
}

/// Which version in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pick {
    /// The newest this host can run.
    Newest,
    /// A tag (in a layout: a reference name).
    Tag(String),
    /// A content digest, `sha256:HEX`.
    Digest(String),
}

/// A repository and which version in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub(crate) repository: Repository,
    pub(crate) pick: Pick,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.repository)?;
        match &self.pick {
            Pick::Newest => Ok(()),
            Pick::Tag(tag) => write!(f, ":{tag}"),
            Pick::Digest(digest) => write!(f, "@{digest}"),
        }
    }
}

impl Reference {
    /// Reads `oci://...` or `oci-layout://...`; the error says what is
    /// wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Reference, String> {
        if let Some(rest) = text.strip_prefix(OCI_SCHEME) {
            return parse_registry(rest);
        }
        if let Some(rest) = text.strip_prefix(LAYOUT_SCHEME) {
            return parse_layout(rest);
        }
        Err(format!(
            "it does not start with {OCI_SCHEME} or {LAYOUT_SCHEME}"
        ))
    }

    /// The same repository at `pick`.
    pub(crate) fn at(&self, pick: Pick) -> Reference {
        Reference {
            repository: self.repository.clone(),
            pick,
        }
    }
}

fn parse_registry(rest: &str) -> Result<Reference, String> {
    let (registry, path) = rest
        .split_once('/')
        .ok_or("it names no repository: write oci://HOST[:PORT]/REPO")?;
    if registry.is_empty() || !registry.chars().all(is_host_char) {
        return Err(format!("{registry:?} is not a registry host[:port]"));
    }
    let (path, pick) = split_pick(path)?;
    if !is_repository_path(path) {
        return Err(format!(
            "{path:?} is not a repository name: lowercase letters, digits and . _ - separators, parts joined by /"
        ));
    }
    Ok(Reference {
        repository: Repository::Registry {
            registry: registry.to_string(),
            repository: path.to_string(),
        },
        pick,
    })
}

fn parse_layout(rest: &str) -> Result<Reference, String> {
    if rest.is_empty() {
        return Err("it names no directory: write oci-layout://DIR".to_string());
    }
    // The reference follows the first `:` or `@` after the last `/`, so a
    // reference name may hold `:` itself (`greet:0.2.0`).
    let last_part = rest.rfind('/').map_or(0, |i| i + 1);
    let (dir, pick) = match rest[last_part..].find(['@', ':']) {
        Some(i) => {
            let at = last_part + i;
            let pick = if rest[at..].starts_with('@') {
                Pick::Digest(digest(&rest[at + 1..])?)
            } else {
                let name = &rest[at + 1..];
                if name.is_empty() {
                    return Err("the reference name after `:` is empty".to_string());
                }
                Pick::Tag(name.to_string())
            };
            (&rest[..at], pick)
        }
        None => (rest, Pick::Newest),
    };
    if dir.is_empty() {
        return Err("it names no directory: write oci-layout://DIR".to_string());
    }
    Ok(Reference {
        repository: Repository::Layout {
            dir: PathBuf::from(dir),
        },
        pick,
    })
}

fn split_pick(path: &str) -> Result<(&str, Pick), String> {
    if let Some((path, d)) = path.split_once('@') {
        return Ok((path, Pick::Digest(digest(d)?)));
    }
    match path.rsplit_once(':') {
        Some((path, tag)) => {
            if !is_tag(tag) {
                return Err(format!(
                    "{tag:?} is not a tag: letters, digits, _ . -, at most 128, not starting with . or -"
                ));
            }
            Ok((path, Pick::Tag(tag.to_string())))
        }
        None => Ok((path, Pick::Newest)),
    }
}

/// Checks a `sha256:HEX` digest.
pub(crate) fn digest(text: &str) -> Result<String, String> {
    match text.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
        {
            Ok(text.to_string())
        }
        _ => Err(format!(
            "{text:?} is not a digest: write sha256: and 64 lowercase hex digits"
        )),
    }
}

fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
}

/// The distribution grammar: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` parts
/// joined by `/`.
fn is_repository_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 255
        && path.split('/').all(|part| {
            let b = part.as_bytes();
            !b.is_empty()
                && b.first().is_some_and(u8::is_ascii_alphanumeric)
                && b.last().is_some_and(u8::is_ascii_alphanumeric)
                && part
                    .bytes()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase() || b"._-".contains(&c))
                && !part.contains("..")
        })
}

/// `[\w][\w.-]{0,127}`.
pub(crate) fn is_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn registry_references_read_host_repository_and_pick() {
        let r = Reference::parse("oci://127.0.0.1:5000/acme/greet:0.2.0").unwrap();
        assert_eq!(
            r.repository,
            Repository::Registry {
                registry: "127.0.0.1:5000".into(),
                repository: "acme/greet".into()
            }
        );
        assert_eq!(r.pick, Pick::Tag("0.2.0".into()));
        assert_eq!(r.to_string(), "oci://127.0.0.1:5000/acme/greet:0.2.0");
        let r = Reference::parse(&format!("oci://ghcr.io/acme/greet@{D}")).unwrap();
        assert_eq!(r.pick, Pick::Digest(D.into()));
        let r = Reference::parse("oci://ghcr.io/acme/greet").unwrap();
        assert_eq!(r.pick, Pick::Newest);
    }

    #[test]
    fn bad_registry_references_say_what_is_wrong() {
        for bad in [
            "oci://ghcr.io",
            "oci://ghcr.io/Acme/greet",
            "oci://ghcr.io/acme/greet:",
            "oci://ghcr.io/acme/greet@sha256:12",
            "oci:///greet",
            "https://ghcr.io/acme/greet",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn layout_references_keep_colons_in_the_reference_name() {
        let r = Reference::parse("oci-layout:///tmp/x.y/out:greet:0.2.0").unwrap();
        assert_eq!(
            r.repository,
            Repository::Layout {
                dir: "/tmp/x.y/out".into()
            }
        );
        assert_eq!(r.pick, Pick::Tag("greet:0.2.0".into()));
        let r = Reference::parse("oci-layout://out").unwrap();
        assert_eq!(r.pick, Pick::Newest);
        let r = Reference::parse(&format!("oci-layout://out@{D}")).unwrap();
        assert_eq!(r.pick, Pick::Digest(D.into()));
        assert!(Reference::parse("oci-layout://").is_err());
    }
}

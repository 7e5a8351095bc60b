//! Where artifacts are read from and written to: a registry repository or
//! an image layout, behind one interface. Everything read goes through the
//! download cache (itself a layout), so that what was read once by digest
//! is read from disk the next time and by `sync --frozen`.

use std::path::PathBuf;

use crate::diagnostic::Diagnostic;

use super::layout::Layout;
use super::oci::{self, Descriptor, Document, digest_of};
use super::reference::Repository;
use super::remote::{Connection, Remote};

/// A registry repository or a layout.
pub(crate) enum Store {
    Remote(Remote),
    Layout(Layout),
}

/// A manifest or index read, with its bytes and digest.
pub(crate) struct Read {
    pub(crate) document: Document,
    pub(crate) digest: String,
    /// Its size in bytes, as read.
    pub(crate) size: u64,
}

impl Read {
    /// A descriptor of what was read, with its media type.
    pub(crate) fn descriptor(&self) -> Descriptor {
        Descriptor {
            media_type: self.document.media_type().to_string(),
            digest: self.digest.clone(),
            size: self.size,
            platform: None,
            artifact_type: None,
            annotations: Default::default(),
        }
    }
}

impl Store {
    /// The store `repository` names; a registry's through `connect`, which
    /// gives the connection to a registry.
    pub(crate) fn open(
        ns: &str,
        repository: &Repository,
        connect: impl FnOnce(&str) -> Result<Connection, Diagnostic>,
    ) -> Result<Store, Diagnostic> {
        match repository {
            Repository::Registry {
                registry,
                repository,
            } => Ok(Store::Remote(Remote::new(
                ns,
                &connect(registry)?,
                registry,
                repository,
            ))),
            Repository::Layout { dir } => Layout::open(dir).map(Store::Layout).map_err(|e| {
                Diagnostic::new(format!("cannot read {repository}: {e}")).with_fix(format!(
                    "name a directory written by `{ns} plugins export --layout DIR`"
                ))
            }),
        }
    }

    /// The tags (in a layout, the reference names).
    pub(crate) async fn tags(&self) -> Result<Vec<String>, Diagnostic> {
        match self {
            Store::Remote(r) => r.tags().await,
            Store::Layout(l) => Ok(l
                .refs()
                .map_err(|e| layout_error(l, &e))?
                .into_iter()
                .map(|(name, _)| name)
                .collect()),
        }
    }

    /// The manifest or index at a tag or digest, kept in `cache`.
    pub(crate) async fn document(
        &self,
        cache: &Layout,
        tag_or_digest: &str,
    ) -> Result<Read, Diagnostic> {
        let by_digest = tag_or_digest.starts_with("sha256:");
        let (bytes, digest) = if by_digest && cache.has(tag_or_digest) {
            (
                cache
                    .read(tag_or_digest, oci::MANIFEST_CAP)
                    .map_err(|e| cache_error(cache, &e))?,
                tag_or_digest.to_string(),
            )
        } else {
            match self {
                Store::Remote(r) => r.manifest(tag_or_digest).await?,
                Store::Layout(l) => {
                    let digest = if by_digest {
                        tag_or_digest.to_string()
                    } else {
                        l.refs()
                            .map_err(|e| layout_error(l, &e))?
                            .into_iter()
                            .find(|(name, _)| name == tag_or_digest)
                            .map(|(_, d)| d.digest)
                            .ok_or_else(|| {
                                Diagnostic::new(format!(
                                    "cannot read oci-layout://{}:{tag_or_digest}: no such reference name",
                                    l.dir().display()
                                ))
                                .with_fix("check the name; `cat DIR/index.json` lists them")
                            })?
                    };
                    let bytes = l
                        .read(&digest, oci::MANIFEST_CAP)
                        .map_err(|e| layout_error(l, &e))?;
                    (bytes, digest)
                }
            }
        };
        if digest_of(&bytes) != digest {
            return Err(Diagnostic::new(format!(
                "cannot read {tag_or_digest}: its content does not match digest {digest}"
            ))
            .with_fix("try again; if it persists, the registry serves damaged content"));
        }
        let document = Document::parse(&bytes).map_err(|reason| {
            Diagnostic::new(format!("cannot read {}: {reason}", self.at(tag_or_digest))).with_fix(
                "check that the reference names a plugin published with `plugins publish`",
            )
        })?;
        if !cache.has(&digest) {
            cache.put(&bytes).map_err(|e| cache_error(cache, &e))?;
        }
        Ok(Read {
            document,
            digest,
            size: bytes.len() as u64,
        })
    }

    /// Blob `descriptor` (at most `cap` bytes), in `cache`: its path there.
    pub(crate) async fn blob(
        &self,
        cache: &Layout,
        descriptor: &Descriptor,
        cap: u64,
        label: &str,
    ) -> Result<PathBuf, Diagnostic> {
        let path = cache.blob_path(&descriptor.digest);
        if cache.has(&descriptor.digest) {
            return Ok(path);
        }
        match self {
            Store::Remote(r) => r.blob_into(descriptor, cache, cap, label).await?,
            Store::Layout(l) => {
                if descriptor.size > cap {
                    return Err(Diagnostic::new(format!(
                        "cannot read {} from {}: it is {} bytes, more than the {cap} this host reads",
                        descriptor.digest,
                        l.dir().display(),
                        descriptor.size
                    ))
                    .with_fix("check that the layout holds plugins"));
                }
                let bytes = l
                    .read(&descriptor.digest, cap)
                    .map_err(|e| layout_error(l, &e))?;
                cache.put(&bytes).map_err(|e| cache_error(cache, &e))?;
            }
        }
        Ok(path)
    }

    /// Writes a blob unless it is there.
    pub(crate) async fn push_blob(&self, bytes: &[u8]) -> Result<(), Diagnostic> {
        match self {
            Store::Remote(r) => r.push_blob(bytes, &digest_of(bytes)).await,
            Store::Layout(l) => l.put(bytes).map(|_| ()).map_err(|e| layout_error(l, &e)),
        }
    }

    /// Writes a manifest or index, under `tag` when given.
    pub(crate) async fn push_document(
        &self,
        document: &Document,
        tag: Option<&str>,
    ) -> Result<Descriptor, Diagnostic> {
        let bytes = document.to_bytes();
        let descriptor = Descriptor::of(document.media_type(), &bytes);
        match self {
            Store::Remote(r) => {
                r.push_manifest(
                    &bytes,
                    document.media_type(),
                    tag.unwrap_or(&descriptor.digest),
                )
                .await?
            }
            Store::Layout(l) => {
                l.put(&bytes).map_err(|e| layout_error(l, &e))?;
                if let Some(tag) = tag {
                    l.set_ref(tag, &descriptor)
                        .map_err(|e| layout_error(l, &e))?;
                }
            }
        }
        Ok(descriptor)
    }

    /// The referrers of `digest` whose artifact type is `artifact_type`.
    /// Not cached: a signature may be added after the version.
    pub(crate) async fn referrers(
        &self,
        digest: &str,
        artifact_type: &str,
    ) -> Result<Vec<Descriptor>, Diagnostic> {
        let all = match self {
            Store::Remote(r) => r.referrers(digest).await?,
            Store::Layout(l) => layout_referrers(l, digest)?,
        };
        Ok(all
            .into_iter()
            .filter(|d| d.artifact_type.as_deref() == Some(artifact_type))
            .collect())
    }

    /// Writes `document`, which names its subject, and lists it among the
    /// subject's referrers: a registry with the referrers API lists it by
    /// itself; elsewhere the index under the tag `sha256-HEX` gains it.
    /// Its blobs must be written first.
    pub(crate) async fn attach(&self, document: &Document) -> Result<Descriptor, Diagnostic> {
        let Some(subject) = &document.subject else {
            return Err(Diagnostic::new(
                "cannot attach an artifact that names no subject",
            ));
        };
        let written = self.push_document(document, None).await?;
        let listed = match self {
            Store::Remote(r) => r.referrers(&subject.digest).await?,
            Store::Layout(l) => layout_referrers(l, &subject.digest)?,
        };
        if listed.iter().any(|d| d.digest == written.digest) {
            return Ok(written);
        }
        let mut entries = listed;
        entries.push(document.referrer_entry());
        let index = Document::index(entries, Default::default());
        self.push_document(&index, Some(&referrers_tag(&subject.digest)))
            .await?;
        Ok(written)
    }

    /// Keeps what was written to a layout.
    pub(crate) fn commit(&mut self) {
        if let Store::Layout(l) = self {
            l.commit();
        }
    }

    fn at(&self, tag_or_digest: &str) -> String {
        let sep = if tag_or_digest.starts_with("sha256:") {
            "@"
        } else {
            ":"
        };
        match self {
            Store::Remote(r) => format!("{}{sep}{tag_or_digest}", r.url()),
            Store::Layout(l) => format!("oci-layout://{}{sep}{tag_or_digest}", l.dir().display()),
        }
    }
}

/// The tag of the referrers of `digest` where there is no referrers API:
/// `sha256-HEX`.
pub(crate) fn referrers_tag(digest: &str) -> String {
    digest.replace(':', "-")
}

/// The referrers of `digest` in a layout: the index under its referrers
/// tag, if any.
fn layout_referrers(layout: &Layout, digest: &str) -> Result<Vec<Descriptor>, Diagnostic> {
    let tag = referrers_tag(digest);
    let found = layout
        .refs()
        .map_err(|e| layout_error(layout, &e))?
        .into_iter()
        .find(|(name, _)| *name == tag);
    let Some((_, descriptor)) = found else {
        return Ok(Vec::new());
    };
    let bytes = layout
        .read(&descriptor.digest, oci::MANIFEST_CAP)
        .map_err(|e| layout_error(layout, &e))?;
    let index = Document::parse(&bytes).map_err(|why| {
        Diagnostic::new(format!(
            "cannot read the referrers of {digest} in {}: {why}",
            layout.dir().display()
        ))
        .with_fix("write the layout again with `plugins export --layout DIR`")
    })?;
    Ok(index.manifests.unwrap_or_default())
}

fn layout_error(layout: &Layout, e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(format!(
        "cannot use the OCI image layout {}: {e}",
        layout.dir().display()
    ))
    .with_fix("write the layout again with `plugins export --layout DIR`")
}

fn cache_error(cache: &Layout, e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(format!(
        "cannot use the download cache {}: {e}",
        cache.dir().display()
    ))
    .with_fix(format!(
        "free some disk space, or remove the cache (`rm -r {}`) and try again",
        crate::trust::quoted(cache.dir())
    ))
}

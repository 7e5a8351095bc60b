//! The OCI documents a plugin is shipped in: an image index per version,
//! an image manifest per platform, and the words (media types and
//! annotations) they use. Read the same from a registry and a layout.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::platform::Platform;

/// An OCI image index.
pub(crate) const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";
/// An OCI image manifest.
pub(crate) const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker's manifest list, read as an index.
pub(crate) const DOCKER_LIST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker's image manifest, read as an OCI one.
pub(crate) const DOCKER_MANIFEST_MEDIA_TYPE: &str =
    "application/vnd.docker.distribution.manifest.v2+json";
/// Every manifest type a pull accepts.
pub(crate) const ACCEPTED: &[&str] = &[
    INDEX_MEDIA_TYPE,
    MANIFEST_MEDIA_TYPE,
    DOCKER_LIST_MEDIA_TYPE,
    DOCKER_MANIFEST_MEDIA_TYPE,
];
/// The config blob of a plugin: its manifest, as `--snapin-describe`
/// prints it.
pub(crate) const CONFIG_MEDIA_TYPE: &str = "application/vnd.snapin.plugin.config.v1+json";
/// The layer of an executable plugin: the file itself, not a tar.
pub(crate) const EXECUTABLE_MEDIA_TYPE: &str = "application/vnd.snapin.plugin.executable.v1";
/// The layer of a component, in the CNCF wasm OCI layout.
pub(crate) const WASM_MEDIA_TYPE: &str = "application/wasm";
/// The config of a component pushed by other tools in the CNCF layout.
pub(crate) const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";

/// A signature of a plugin version: a referrer of its image index.
pub(crate) const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.snapin.plugin.signature.v1";
/// A key rotation statement: a referrer of the image index of the first
/// version signed by the new key, signed by the old one.
pub(crate) const ROTATION_ARTIFACT_TYPE: &str = "application/vnd.snapin.key.rotation.v1";
/// A catalog: its document and its signature, as two layers.
pub(crate) const CATALOG_ARTIFACT_TYPE: &str = "application/vnd.snapin.catalog.v1";
/// The catalog document's layer.
pub(crate) const CATALOG_MEDIA_TYPE: &str = "application/vnd.snapin.catalog.v1+json";
/// The empty config of an artifact that has no config of its own.
pub(crate) const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The bytes of the empty config.
pub(crate) const EMPTY: &[u8] = b"{}";
/// The public key that made a signature, on its layer, in the form
/// `plugins trust add` takes.
pub(crate) const SIGNER: &str = "dev.snapin.signer";

/// The standard annotation keys.
pub(crate) const VERSION: &str = "org.opencontainers.image.version";
pub(crate) const TITLE: &str = "org.opencontainers.image.title";
pub(crate) const DESCRIPTION: &str = "org.opencontainers.image.description";
pub(crate) const SOURCE: &str = "org.opencontainers.image.source";
pub(crate) const CREATED: &str = "org.opencontainers.image.created";
/// The reference name of a manifest in a layout's `index.json`.
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The largest manifest or index read.
pub(crate) const MANIFEST_CAP: u64 = 4 << 20;
/// The largest config blob read (a plugin manifest is capped at 512 KiB).
pub(crate) const CONFIG_CAP: u64 = 1 << 20;
/// The largest plugin file downloaded.
pub(crate) const FILE_CAP: u64 = 512 << 20;

/// A pointer to content: its type, digest and size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<Platform>,
    /// What kind of artifact it points to, in a list of referrers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: BTreeMap<String, String>,
}

impl Descriptor {
    /// The descriptor of `bytes` as `media_type`.
    pub(crate) fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_string(),
            digest: digest_of(bytes),
            size: bytes.len() as u64,
            platform: None,
            artifact_type: None,
            annotations: BTreeMap::new(),
        }
    }
}

/// An image manifest or an image index: which one is told by the media
/// type, or by which list it holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Document {
    pub(crate) schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) config: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) layers: Option<Vec<Descriptor>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) manifests: Option<Vec<Descriptor>>,
    /// The manifest or index this one refers to (a signature's version).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: BTreeMap<String, String>,
}

impl Document {
    /// Reads a manifest or an index, or says why it is neither.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Document, String> {
        let doc: Document = serde_json::from_slice(bytes).map_err(|e| {
            if bytes.trim_ascii_start().starts_with(b"<") {
                "it is HTML, not an OCI manifest".to_string()
            } else {
                format!("it is not an OCI manifest: {e}")
            }
        })?;
        if doc.schema_version != 2 {
            return Err(format!(
                "its schemaVersion is {}, not 2",
                doc.schema_version
            ));
        }
        let descriptors = doc
            .config
            .iter()
            .chain(doc.layers.iter().flatten())
            .chain(doc.manifests.iter().flatten())
            .chain(doc.subject.iter());
        for d in descriptors {
            super::reference::digest(&d.digest)
                .map_err(|why| format!("one of its descriptors is wrong: {why}"))?;
        }
        match (&doc.manifests, &doc.config) {
            (Some(_), None) | (None, Some(_)) => Ok(doc),
            _ => Err("it is neither an image index nor an image manifest".to_string()),
        }
    }

    /// An image index of `manifests`.
    pub(crate) fn index(
        manifests: Vec<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Document {
        Document {
            schema_version: 2,
            media_type: Some(INDEX_MEDIA_TYPE.to_string()),
            artifact_type: None,
            config: None,
            layers: None,
            manifests: Some(manifests),
            subject: None,
            annotations,
        }
    }

    /// An image manifest of one config and one layer.
    pub(crate) fn manifest(
        config: Descriptor,
        layer: Descriptor,
        annotations: BTreeMap<String, String>,
    ) -> Document {
        Document {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_string()),
            artifact_type: None,
            config: Some(config),
            layers: Some(vec![layer]),
            manifests: None,
            subject: None,
            annotations,
        }
    }

    /// An artifact of `artifact_type` with the empty config: `layers`,
    /// referring to `subject` when given.
    pub(crate) fn artifact(
        artifact_type: &str,
        layers: Vec<Descriptor>,
        subject: Option<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Document {
        Document {
            schema_version: 2,
            media_type: Some(MANIFEST_MEDIA_TYPE.to_string()),
            artifact_type: Some(artifact_type.to_string()),
            config: Some(Descriptor::of(EMPTY_MEDIA_TYPE, EMPTY)),
            layers: Some(layers),
            manifests: None,
            subject,
            annotations,
        }
    }

    /// Its entry in a list of referrers: its descriptor with its artifact
    /// type and annotations.
    pub(crate) fn referrer_entry(&self) -> Descriptor {
        let mut entry = Descriptor::of(self.media_type(), &self.to_bytes());
        entry.artifact_type = self.artifact_type.clone();
        entry.annotations = self.annotations.clone();
        entry
    }

    /// The media type to send it with.
    pub(crate) fn media_type(&self) -> &str {
        match (&self.media_type, &self.manifests) {
            (Some(t), _) => t,
            (None, Some(_)) => INDEX_MEDIA_TYPE,
            (None, None) => MANIFEST_MEDIA_TYPE,
        }
    }

    /// The bytes it is pushed as.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// `sha256:HEX` of `bytes`.
pub(crate) fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The first 12 hex digits of a digest, as `list` shows it.
pub(crate) fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_told_apart_and_garbage_is_named() {
        let layer = Descriptor::of(EXECUTABLE_MEDIA_TYPE, b"x");
        let config = Descriptor::of(CONFIG_MEDIA_TYPE, b"{}");
        let m = Document::manifest(config, layer, BTreeMap::new());
        let parsed = Document::parse(&m.to_bytes()).unwrap();
        assert!(parsed.config.is_some());
        assert_eq!(parsed.media_type(), MANIFEST_MEDIA_TYPE);
        let i = Document::index(
            vec![Descriptor::of(MANIFEST_MEDIA_TYPE, b"m")],
            BTreeMap::new(),
        );
        assert!(Document::parse(&i.to_bytes()).unwrap().manifests.is_some());
        assert_eq!(
            Document::parse(b"<html>502</html>").unwrap_err(),
            "it is HTML, not an OCI manifest"
        );
        assert!(Document::parse(b"{\"schemaVersion\":1}").is_err());
        assert_eq!(
            digest_of(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}

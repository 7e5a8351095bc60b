//! A plugin as an OCI artifact: which version of a repository a host can
//! run, and which platform's build, decided from the index and the config
//! blobs before any code is downloaded; and the documents `publish` writes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use semver::Version;
use snapin_protocol::Manifest;

use crate::diagnostic::Diagnostic;
use crate::gate;

use super::layout::Layout;
use super::oci::{self, Descriptor, Document};
use super::platform::Platform;
use super::store::Store;

/// Which build to take when a version has both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Prefer {
    /// This machine's executable, else the component.
    #[default]
    Native,
    /// The component, else this machine's executable.
    Wasm,
}

impl Prefer {
    /// The build a plugin installed for `platform` (`OS/ARCH`) keeps
    /// taking: the component for a component, else the native one.
    pub(crate) fn as_installed(platform: &str) -> Prefer {
        if Platform::parse(platform).is_some_and(|p| p.is_component()) {
            Prefer::Wasm
        } else {
            Prefer::Native
        }
    }
}

/// One version of a plugin, with the build this host would install.
#[derive(Debug, Clone)]
pub(crate) struct PluginVersion {
    /// The tag it was found under, when found by tag.
    pub(crate) tag: Option<String>,
    /// The digest of what the tag points to (the image index, or a lone
    /// manifest).
    pub(crate) digest: String,
    /// The platform chosen.
    pub(crate) platform: Platform,
    /// The chosen platform's image manifest and its digest.
    pub(crate) manifest: Document,
    pub(crate) manifest_digest: String,
    /// The plugin's manifest from the config blob; none for a component
    /// pushed by other tools, which only describing can tell.
    pub(crate) plugin: Option<Manifest>,
}

/// What a version could not give this host.
pub(crate) enum Unusable {
    /// No build for this machine; the platforms there are.
    NoPlatform(Vec<String>),
}

impl PluginVersion {
    /// The layer: the plugin file.
    pub(crate) fn layer(&self) -> Option<&Descriptor> {
        self.manifest.layers.as_ref()?.first()
    }

    /// The file name to install it as.
    pub(crate) fn file_name(&self, ns: &str) -> String {
        let fallback = || {
            let name = self.plugin.as_ref().map_or("plugin", |m| m.name.as_str());
            if self.platform.is_component() {
                format!("{ns}-{name}.wasm")
            } else {
                format!("{ns}-{name}")
            }
        };
        self.layer()
            .and_then(|l| l.annotations.get(oci::TITLE))
            .filter(|t| is_plain_file_name(t))
            .cloned()
            .unwrap_or_else(fallback)
    }
}

/// Whether a layer's title can be a file name as it is: no directory, no
/// hidden file, nothing unprintable.
fn is_plain_file_name(title: &str) -> bool {
    !title.is_empty()
        && title.len() <= 128
        && !title.starts_with('.')
        && title
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+".contains(c))
}

/// Reads the version at `tag_or_digest`: its index (or lone manifest), the
/// chosen platform's manifest and config. Downloads no code.
pub(crate) async fn open(
    store: &Store,
    cache: &Layout,
    tag_or_digest: &str,
    prefer: Prefer,
) -> Result<Result<PluginVersion, Unusable>, Diagnostic> {
    let top = store.document(cache, tag_or_digest).await?;
    let tag = (!tag_or_digest.starts_with("sha256:")).then(|| tag_or_digest.to_string());
    let (chosen, manifest, manifest_digest) = match &top.document.manifests {
        Some(entries) => {
            let platforms: BTreeMap<String, String> = entries
                .iter()
                .filter_map(|d| Some((d.platform.as_ref()?.to_string(), d.digest.clone())))
                .collect();
            let Some(platform) = choose(platforms.keys(), prefer) else {
                return Ok(Err(Unusable::NoPlatform(platforms.into_keys().collect())));
            };
            let digest = platforms[&platform.to_string()].clone();
            let read = store.document(cache, &digest).await?;
            if read.document.config.is_none() {
                return Err(Diagnostic::new(format!(
                    "cannot read {tag_or_digest}: its {platform} entry is not an image manifest"
                ))
                .with_fix("publish the plugin again with `plugins publish`"));
            }
            (platform, read.document, read.digest)
        }
        None => {
            // A lone manifest, such as a component pushed by other tools.
            let is_component = top
                .document
                .layers
                .as_ref()
                .and_then(|l| l.first())
                .is_some_and(|l| l.media_type == oci::WASM_MEDIA_TYPE);
            if !is_component {
                return Err(Diagnostic::new(format!(
                    "cannot read {tag_or_digest}: it is a single image manifest whose platform is not given"
                ))
                .with_fix("publish the plugin with `plugins publish`, which writes an image index"));
            }
            (
                Platform::component(),
                top.document.clone(),
                top.digest.clone(),
            )
        }
    };
    let Some(config) = manifest.config.clone() else {
        return Err(
            Diagnostic::new(format!("cannot read {tag_or_digest}: it has no config"))
                .with_fix("publish the plugin again with `plugins publish`"),
        );
    };
    if manifest.layers.as_ref().is_none_or(|l| l.len() != 1) {
        return Err(Diagnostic::new(format!(
            "cannot read {tag_or_digest}: its {chosen} manifest has not exactly one layer"
        ))
        .with_fix("publish the plugin again with `plugins publish`"));
    }
    let plugin = match config.media_type.as_str() {
        oci::CONFIG_MEDIA_TYPE => {
            let path = store
                .blob(cache, &config, oci::CONFIG_CAP, "config")
                .await?;
            let bytes = std::fs::read(&path).map_err(|e| {
                Diagnostic::new(format!("cannot read {}: {e}", path.display()))
                    .with_fix("try again")
            })?;
            let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
                Diagnostic::new(format!(
                    "cannot read {tag_or_digest}: its config is not a plugin manifest: {e}"
                ))
                .with_fix("publish the plugin again with `plugins publish`")
            })?;
            Some(manifest)
        }
        oci::WASM_CONFIG_MEDIA_TYPE => None,
        other => {
            return Err(Diagnostic::new(format!(
                "cannot read {tag_or_digest}: its config is {other}, not a plugin's"
            ))
            .with_fix("check that the reference names a plugin"));
        }
    };
    Ok(Ok(PluginVersion {
        tag,
        digest: top.digest,
        platform: chosen,
        manifest,
        manifest_digest,
        plugin,
    }))
}

/// The platform to install from `available`.
fn choose<'a>(available: impl Iterator<Item = &'a String>, prefer: Prefer) -> Option<Platform> {
    let available: Vec<Platform> = available.filter_map(|p| Platform::parse(p)).collect();
    let native = available.iter().find(|p| **p == Platform::current());
    let component = available.iter().find(|p| p.is_component());
    match prefer {
        Prefer::Native => native.or(component),
        Prefer::Wasm => component.or(native),
    }
    .cloned()
}

/// The tags of a repository that are versions, newest first. In a layout,
/// `NAME:VERSION` reference names count, for plugin `name` when given.
pub(crate) fn versions(tags: &[String], name: Option<&str>) -> Vec<(Version, String)> {
    let mut versions: Vec<(Version, String)> = tags
        .iter()
        .filter_map(|tag| {
            let version = match (tag.rsplit_once(':'), name) {
                (Some((n, v)), Some(want)) if n == want => v,
                (Some((_, v)), None) => v,
                (Some(_), Some(_)) => return None,
                (None, _) => tag.as_str(),
            };
            let version = version.strip_prefix('v').unwrap_or(version);
            Some((Version::parse(version).ok()?, tag.clone()))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions
}

/// What a repository offers this host: the newest version, and the newest
/// it can run.
pub(crate) struct Survey {
    pub(crate) latest: Option<(Version, String)>,
    pub(crate) compatible: Option<PluginVersion>,
    /// The newest version's API requirement, when this host cannot run it.
    pub(crate) latest_needs: Option<String>,
    /// Why the newest could not be used, when it has no build here.
    pub(crate) latest_platforms: Option<Vec<String>>,
}

/// Walks the version tags newest first until one this host (`ns`, API
/// `api`) can run, reading only indexes and config blobs.
pub(crate) async fn survey(
    store: &Store,
    cache: &Layout,
    ns: &str,
    api: &crate::gate::Apis,
    prefer: Prefer,
    name: Option<&str>,
) -> Result<Survey, Diagnostic> {
    let tags = store.tags().await?;
    let versions = versions(&tags, name);
    let mut survey = Survey {
        latest: versions.first().cloned(),
        compatible: None,
        latest_needs: None,
        latest_platforms: None,
    };
    for (i, (_, tag)) in versions.iter().enumerate() {
        match open(store, cache, tag, prefer).await? {
            Ok(version) => {
                let fits = version
                    .plugin
                    .as_ref()
                    .is_none_or(|m| gate::check(&m.api, ns, api).is_ok());
                if fits {
                    survey.compatible = Some(version);
                    break;
                }
                if i == 0 {
                    survey.latest_needs = version.plugin.as_ref().map(|m| m.api.clone());
                }
            }
            Err(Unusable::NoPlatform(platforms)) => {
                if i == 0 {
                    survey.latest_platforms = Some(platforms);
                }
            }
        }
    }
    Ok(survey)
}

/// One file to publish: its plugin manifest, the platforms it runs on, and
/// its bytes.
pub(crate) struct Build {
    pub(crate) path: PathBuf,
    pub(crate) plugin: Manifest,
    pub(crate) platforms: Vec<Platform>,
    pub(crate) bytes: Vec<u8>,
}

/// The documents and blobs of one version: every blob, every platform
/// manifest, and the index that lists them.
pub(crate) struct Publication {
    pub(crate) blobs: Vec<Vec<u8>>,
    pub(crate) manifests: Vec<Document>,
    pub(crate) index: Document,
}

/// Lays out `builds` (one plugin, one version) as an image index.
pub(crate) fn publication(
    builds: &[Build],
    extra: &BTreeMap<String, String>,
    created: String,
) -> Publication {
    let plugin = &builds[0].plugin;
    let mut annotations = BTreeMap::from([
        (oci::VERSION.to_string(), plugin.version.clone()),
        (oci::TITLE.to_string(), plugin.name.clone()),
        (oci::CREATED.to_string(), created),
    ]);
    if let Some(description) = &plugin.description {
        annotations.insert(oci::DESCRIPTION.to_string(), description.clone());
    }
    annotations.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut blobs = Vec::new();
    let mut manifests = Vec::new();
    let mut entries = Vec::new();
    for build in builds {
        let config_bytes = serde_json::to_vec(&build.plugin).unwrap_or_default();
        let config = Descriptor::of(oci::CONFIG_MEDIA_TYPE, &config_bytes);
        let is_component = build.platforms.iter().any(Platform::is_component);
        let mut layer = Descriptor::of(
            if is_component {
                oci::WASM_MEDIA_TYPE
            } else {
                oci::EXECUTABLE_MEDIA_TYPE
            },
            &build.bytes,
        );
        let title = build
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        layer.annotations.insert(oci::TITLE.to_string(), title);
        let manifest_annotations = BTreeMap::from([
            (oci::VERSION.to_string(), plugin.version.clone()),
            (oci::TITLE.to_string(), plugin.name.clone()),
        ]);
        let manifest = Document::manifest(config, layer, manifest_annotations);
        let bytes = manifest.to_bytes();
        for platform in &build.platforms {
            let mut entry = Descriptor::of(oci::MANIFEST_MEDIA_TYPE, &bytes);
            entry.platform = Some(platform.clone());
            entries.push(entry);
        }
        blobs.push(config_bytes);
        blobs.push(build.bytes.clone());
        manifests.push(manifest);
    }
    Publication {
        blobs,
        manifests,
        index: Document::index(entries, annotations),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_semver_tags_newest_first() {
        let tags: Vec<String> = ["latest", "0.2.0", "0.10.0", "v1.0.0-rc.1", "0.9"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let got: Vec<String> = versions(&tags, None).into_iter().map(|(_, t)| t).collect();
        assert_eq!(got, ["v1.0.0-rc.1", "0.10.0", "0.2.0"]);
        let refs: Vec<String> = ["greet:0.1.0", "greet:0.2.0", "stats:1.0.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let got: Vec<String> = versions(&refs, Some("greet"))
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        assert_eq!(got, ["greet:0.2.0", "greet:0.1.0"]);
    }

    #[test]
    fn the_native_build_is_chosen_unless_the_component_is_preferred() {
        let here = Platform::current().to_string();
        let both = [
            here.clone(),
            "wasip2/wasm".to_string(),
            "plan9/mips".to_string(),
        ];
        assert_eq!(
            choose(both.iter(), Prefer::Native).unwrap().to_string(),
            here
        );
        assert_eq!(
            choose(both.iter(), Prefer::Wasm).unwrap().to_string(),
            "wasip2/wasm"
        );
        let other = ["plan9/mips".to_string()];
        assert!(choose(other.iter(), Prefer::Native).is_none());
    }
}

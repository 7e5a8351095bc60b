//! An OCI image layout on disk (`oci-layout`, `index.json`,
//! `blobs/sha256/HEX`): what `plugins export` writes, what
//! `oci-layout://DIR` reads, and the form of the download cache, so that
//! `sync --frozen` reads the cache as it reads any layout.
//!
//! Blobs are written through a temporary file and renamed, and checked
//! against their digest when read. Blobs a command added are removed
//! again unless it [`Layout::commit`]s them (each commit keeps what came before it), so a failed command leaves the
//! layout as it was.

use std::cell::RefCell;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::oci::{Descriptor, Document, REF_NAME, digest_of};

const LAYOUT_FILE: &str = "oci-layout";
const INDEX_FILE: &str = "index.json";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutFile {
    image_layout_version: String,
}

/// An image layout directory.
#[derive(Debug)]
pub(crate) struct Layout {
    dir: PathBuf,
    added: RefCell<Vec<PathBuf>>,
}

impl Layout {
    /// The layout at `dir`, which must exist.
    pub(crate) fn open(dir: &Path) -> io::Result<Layout> {
        let text = fs::read(dir.join(LAYOUT_FILE)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{} is not an OCI image layout (no {LAYOUT_FILE} file: {e})",
                    dir.display()
                ),
            )
        })?;
        let file: LayoutFile = serde_json::from_slice(&text).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is damaged: {e}", dir.join(LAYOUT_FILE).display()),
            )
        })?;
        if !file.image_layout_version.starts_with("1.") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is an OCI image layout version {}, not 1.x",
                    dir.display(),
                    file.image_layout_version
                ),
            ));
        }
        Ok(Layout::at(dir))
    }

    /// The layout at `dir`, created when missing.
    pub(crate) fn create(dir: &Path) -> io::Result<Layout> {
        fs::create_dir_all(dir.join("blobs").join("sha256"))?;
        let layout = Layout::at(dir);
        if !dir.join(LAYOUT_FILE).exists() {
            let file = LayoutFile {
                image_layout_version: "1.0.0".to_string(),
            };
            layout.write_file(LAYOUT_FILE, &serde_json::to_vec(&file).unwrap_or_default())?;
        }
        if !dir.join(INDEX_FILE).exists() {
            let index = Document::index(Vec::new(), Default::default());
            layout.write_file(INDEX_FILE, &index.to_bytes())?;
        }
        Ok(layout)
    }

    fn at(dir: &Path) -> Layout {
        Layout {
            dir: dir.to_path_buf(),
            added: RefCell::new(Vec::new()),
        }
    }

    /// The directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where blob `digest` lives (it may not exist).
    pub(crate) fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir.join("blobs").join("sha256").join(hex)
    }

    /// Whether blob `digest` is here.
    pub(crate) fn has(&self, digest: &str) -> bool {
        self.blob_path(digest).is_file()
    }

    /// Blob `digest`, at most `cap` bytes, checked against its digest.
    pub(crate) fn read(&self, digest: &str, cap: u64) -> io::Result<Vec<u8>> {
        let path = self.blob_path(digest);
        let mut bytes = Vec::new();
        fs::File::open(&path)?
            .take(cap + 1)
            .read_to_end(&mut bytes)?;
        if bytes.len() as u64 > cap {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is larger than {cap} bytes", path.display()),
            ));
        }
        let actual = digest_of(&bytes);
        if actual != digest {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} holds {actual}, not {digest}", path.display()),
            ));
        }
        Ok(bytes)
    }

    /// Stores `bytes` as a blob; returns its digest.
    pub(crate) fn put(&self, bytes: &[u8]) -> io::Result<String> {
        let digest = digest_of(bytes);
        if !self.has(&digest) {
            let path = self.blob_path(&digest);
            let mut tmp = self.temporary()?;
            tmp.write_all(bytes)?;
            self.keep(tmp, &path)?;
        }
        Ok(digest)
    }

    /// A temporary file beside the blobs, for a blob being written.
    pub(crate) fn temporary(&self) -> io::Result<tempfile::NamedTempFile> {
        let blobs = self.dir.join("blobs").join("sha256");
        fs::create_dir_all(&blobs)?;
        tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(blobs)
    }

    /// Moves a fully written and checked temporary file to `path`, a blob
    /// path of this layout.
    pub(crate) fn keep(&self, tmp: tempfile::NamedTempFile, path: &Path) -> io::Result<()> {
        tmp.as_file().sync_all()?;
        match tmp.persist_noclobber(path) {
            Ok(_) => {
                self.added.borrow_mut().push(path.to_path_buf());
                Ok(())
            }
            // Another process stored the same content meanwhile: it is
            // theirs to keep, not ours to take back.
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e.error),
        }
    }

    /// Copies blob `digest` from `other` unless it is here already.
    pub(crate) fn copy_from(&self, other: &Layout, digest: &str) -> io::Result<()> {
        if self.has(digest) {
            return Ok(());
        }
        let mut tmp = self.temporary()?;
        io::copy(&mut fs::File::open(other.blob_path(digest))?, &mut tmp)?;
        self.keep(tmp, &self.blob_path(digest))
    }

    /// The reference names in `index.json` and what they point to.
    pub(crate) fn refs(&self) -> io::Result<Vec<(String, Descriptor)>> {
        let bytes = fs::read(self.dir.join(INDEX_FILE))?;
        let index = Document::parse(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", self.dir.join(INDEX_FILE).display()),
            )
        })?;
        Ok(index
            .manifests
            .unwrap_or_default()
            .into_iter()
            .filter_map(|d| Some((d.annotations.get(REF_NAME)?.clone(), d)))
            .collect())
    }

    /// Points reference name `name` at `descriptor` in `index.json`,
    /// replacing what it pointed to.
    pub(crate) fn set_ref(&self, name: &str, descriptor: &Descriptor) -> io::Result<()> {
        let bytes = fs::read(self.dir.join(INDEX_FILE))?;
        let mut index =
            Document::parse(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let manifests = index.manifests.get_or_insert_with(Vec::new);
        manifests.retain(|d| d.annotations.get(REF_NAME).map(String::as_str) != Some(name));
        let mut descriptor = descriptor.clone();
        descriptor
            .annotations
            .insert(REF_NAME.to_string(), name.to_string());
        manifests.push(descriptor);
        self.write_file(INDEX_FILE, &index.to_bytes())
    }

    fn write_file(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&self.dir)?;
        tmp.write_all(bytes)?;
        tmp.persist(self.dir.join(name)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Keeps the blobs added so far.
    pub(crate) fn commit(&mut self) {
        self.added.borrow_mut().clear();
    }
}

impl Drop for Layout {
    fn drop(&mut self) {
        for path in self.added.borrow().iter() {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_checked_and_removed_unless_committed() {
        let dir = tempfile::tempdir().unwrap();
        let digest = {
            let layout = Layout::create(dir.path()).unwrap();
            let digest = layout.put(b"hello").unwrap();
            assert_eq!(layout.read(&digest, 5).unwrap(), b"hello");
            assert!(layout.read(&digest, 4).is_err());
            digest
        };
        let mut layout = Layout::open(dir.path()).unwrap();
        assert!(!layout.has(&digest), "an uncommitted blob is removed");
        let digest = layout.put(b"hello").unwrap();
        layout.commit();
        drop(layout);
        let layout = Layout::open(dir.path()).unwrap();
        fs::write(layout.blob_path(&digest), b"jello").unwrap();
        assert!(
            layout.read(&digest, 100).is_err(),
            "a changed blob is refused"
        );
    }

    #[test]
    fn reference_names_replace_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::create(dir.path()).unwrap();
        let a = Descriptor::of("x", b"a");
        let b = Descriptor::of("x", b"b");
        layout.set_ref("greet:0.1.0", &a).unwrap();
        layout.set_ref("greet:0.1.0", &b).unwrap();
        let refs = layout.refs().unwrap();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].1.digest, b.digest);
        assert!(Layout::open(&dir.path().join("nope")).is_err());
    }
}

//! The start-up lookup: which installed plugin provides command X, read
//! without parsing the whole index.
//!
//! `plugins.json` is the source of truth, written by the `plugins` commands.
//! From it, and from the host's identity (API version, built-in commands,
//! reserved options), a full loader run derives this file: an on-disk hash
//! table from every registered command name and alias to the index entry
//! that provides it, plus the outcomes of the plugins that failed to load
//! (so start-up can still warn about them). A run that names a plugin
//! command reads the header and a few slots with positioned reads, so its
//! cost does not depend on how many plugins are installed. The file records
//! the index file's size, modification time and inode it was built from;
//! when they or the host's identity differ, the next run rebuilds it.
//!
//! Layout: `SNAPLKP1`, the header's length (u64 LE), the header (JSON:
//! stamp, problems, slot count), then `slots` slots of 24 bytes (hash,
//! record offset, record length; u64 LE each, offset 0 = empty), then the
//! records (JSON).

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::index::Entry;
use crate::loader::{Loaded, Outcome, Source};
use crate::paths;

const MAGIC: &[u8; 8] = b"SNAPLKP1";
const SLOT: u64 = 24;

/// What a lookup file was built from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Size of the index file.
    pub len: u64,
    /// Its modification time, in nanoseconds since the epoch.
    pub mtime_ns: u128,
    /// Its inode (the index is replaced by rename, so each write has a new
    /// one).
    pub ino: u64,
    /// The host's identity: anything that changes loader outcomes.
    pub host: String,
}

impl Stamp {
    /// The stamp of the index at `index` for a host whose identity is
    /// `host`; `None` when there is no index file.
    pub fn of(index: &Path, host: &str) -> Option<Stamp> {
        let meta = std::fs::metadata(index).ok()?;
        let mtime_ns = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_nanos();
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let ino = 0;
        Some(Stamp {
            len: meta.len(),
            mtime_ns,
            ino,
            host: host.to_string(),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    stamp: Stamp,
    problems: Vec<Outcome>,
    slots: u64,
    /// Where the listing is (offset, length), read only for help.
    listing: (u64, u64),
}

/// What help shows of one plugin command: enough to list it, not to parse
/// its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listed {
    /// The command name.
    pub name: String,
    /// Its one line of help.
    pub about: Option<String>,
    /// Its aliases.
    pub aliases: Vec<String>,
    /// Whether help leaves it out.
    pub hidden: bool,
}

/// One command's record.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    /// The command name or alias this record is for.
    pub name: String,
    /// The index entry of the plugin that provides it.
    pub entry: Entry,
}

/// An open lookup file that matches the current index.
pub struct Lookup {
    file: File,
    /// The file's length: no read may go past it, whatever a damaged file
    /// claims.
    len: u64,
    slots: u64,
    slots_at: u64,
    listing: (u64, u64),
    problems: Vec<Outcome>,
}

fn hash(name: &str) -> u64 {
    // FNV-1a: stable across builds and platforms, and enough for names.
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Lookup {
    /// Opens the lookup at `path` if it was built from exactly `stamp`.
    pub fn open(path: &Path, stamp: &Stamp) -> Option<Lookup> {
        let file = File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        let head = read_span(&file, len, 0, 16)?;
        if &head[..8] != MAGIC {
            return None;
        }
        let header_len = u64::from_le_bytes(head[8..16].try_into().ok()?);
        let header = read_span(&file, len, 16, header_len)?;
        let header: Header = serde_json::from_slice(&header).ok()?;
        let slots_end = header
            .slots
            .checked_mul(SLOT)
            .and_then(|size| size.checked_add(16 + header_len));
        if header.stamp != *stamp
            || !header.slots.is_power_of_two()
            || slots_end.is_none_or(|end| end > len)
        {
            return None;
        }
        Some(Lookup {
            file,
            len,
            slots: header.slots,
            slots_at: 16 + header_len,
            listing: header.listing,
            problems: header.problems,
        })
    }

    /// Every top-level command of the installed plugins that loaded, for
    /// help: one read, without parsing the index.
    pub fn listing(&self) -> Option<Vec<Listed>> {
        let (offset, len) = self.listing;
        let bytes = read_span(&self.file, self.len, offset, len)?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The outcomes of installed plugins that did not load.
    pub fn problems(&self) -> &[Outcome] {
        &self.problems
    }

    /// The record for command (or alias) `name`, if an installed plugin
    /// provides it.
    pub fn find(&self, name: &str) -> Option<Record> {
        let h = hash(name);
        let mask = self.slots - 1;
        let mut i = h & mask;
        for _ in 0..self.slots {
            let slot = read_span(&self.file, self.len, self.slots_at + i * SLOT, SLOT)?;
            let word = |k: usize| {
                u64::from_le_bytes(slot[k * 8..k * 8 + 8].try_into().unwrap_or_default())
            };
            let (slot_hash, offset, len) = (word(0), word(1), word(2));
            if offset == 0 {
                return None;
            }
            if slot_hash == h {
                let bytes = read_span(&self.file, self.len, offset, len)?;
                let record: Record = serde_json::from_slice(&bytes).ok()?;
                if record.name == name {
                    return Some(record);
                }
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// Writes the lookup for `loaded` (a full loader run over the index
    /// stamped `stamp`) to `path`, atomically.
    pub fn write(path: &Path, stamp: &Stamp, loaded: &Loaded) -> io::Result<()> {
        let mut records: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut listing = Vec::new();
        for active in &loaded.active {
            let Source::Installed(entry) = &active.candidate.source else {
                continue;
            };
            for command in &active.manifest.commands {
                listing.push(Listed {
                    name: command.name.clone(),
                    about: command.about.clone(),
                    aliases: command.aliases.clone(),
                    hidden: command.hidden,
                });
                for name in std::iter::once(&command.name).chain(&command.aliases) {
                    // The loader moved the manifest out of the entry.
                    let mut entry = entry.clone();
                    entry.manifest = Some(active.manifest.clone());
                    let record = Record {
                        name: name.clone(),
                        entry,
                    };
                    records.push((hash(name), serde_json::to_vec(&record)?));
                }
            }
        }
        let problems: Vec<Outcome> = loaded
            .outcomes
            .iter()
            .filter(|o| o.kind != crate::index::Kind::CompiledIn)
            .filter(|o| {
                matches!(
                    o.status,
                    crate::loader::Status::Skipped | crate::loader::Status::Error
                )
            })
            .cloned()
            .collect();
        let slots = (records.len() as u64 * 2).next_power_of_two().max(8);
        let listing = serde_json::to_vec(&listing)?;
        // The header's length depends on the listing's offset, which depends
        // on the header's length: write the offset at a fixed width.
        let records_len: u64 = records.iter().map(|(_, r)| r.len() as u64).sum();
        let header_for = |listing_at: u64| {
            serde_json::to_vec(&Header {
                stamp: stamp.clone(),
                problems: problems.clone(),
                slots,
                listing: (listing_at, listing.len() as u64),
            })
        };
        let provisional = header_for(u64::MAX)?.len() as u64;
        let listing_at = 16 + provisional + slots * SLOT + records_len;
        let mut header = header_for(listing_at)?;
        // Pad with spaces (valid JSON whitespace) to the provisional width.
        header.resize(
            usize::try_from(provisional).map_err(io::Error::other)?,
            b' ',
        );
        let slots_at = 16 + header.len() as u64;
        let mut table = vec![0u8; usize::try_from(slots * SLOT).map_err(io::Error::other)?];
        let mut body = Vec::new();
        let mut offset = slots_at + slots * SLOT;
        for (h, bytes) in &records {
            let mut i = h & (slots - 1);
            loop {
                let at = usize::try_from(i * SLOT).map_err(io::Error::other)?;
                if table[at + 8..at + 16] == [0; 8] {
                    table[at..at + 8].copy_from_slice(&h.to_le_bytes());
                    table[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
                    table[at + 16..at + 24].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
                    break;
                }
                i = (i + 1) & (slots - 1);
            }
            offset += bytes.len() as u64;
            body.extend_from_slice(bytes);
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(paths::LOOKUP_TEMPORARY_PREFIX)
            .tempfile_in(dir)?;
        tmp.write_all(MAGIC)?;
        tmp.write_all(&(header.len() as u64).to_le_bytes())?;
        tmp.write_all(&header)?;
        tmp.write_all(&table)?;
        tmp.write_all(&body)?;
        tmp.write_all(&listing)?;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// The `len` bytes at `offset` of `file` (`file_len` long), or `None` when
/// they are not all there: lengths come from the file, which may be damaged,
/// so nothing is allocated for bytes the file does not have.
fn read_span(file: &File, file_len: u64, offset: u64, len: u64) -> Option<Vec<u8>> {
    if offset.checked_add(len)? > file_len {
        return None;
    }
    let mut bytes = vec![0u8; usize::try_from(len).ok()?];
    read_at(file, &mut bytes, offset).ok()?;
    Some(bytes)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(not(unix))]
fn read_at(_file: &File, _buf: &mut [u8], _offset: u64) -> io::Result<()> {
    Err(io::Error::other(
        "positioned reads are only implemented on Unix",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loader::Candidate;
    use crate::loader::Status;
    use crate::loader::tests::{load_in_mycli, plugin};

    /// Plugin `name` needing API `api`, with commands `NAME-a` (alias
    /// `NAME-x`) and `NAME-b`.
    fn candidate(name: &str, api: &str) -> Candidate {
        plugin(
            name,
            &format!(
                r#""api":"{api}","commands":[{{"name":"{name}-a","aliases":["{name}-x"]}},{{"name":"{name}-b"}}]"#
            ),
        )
    }

    fn stamp() -> Stamp {
        Stamp {
            len: 1,
            mtime_ns: 2,
            ino: 3,
            host: "h".into(),
        }
    }

    #[test]
    fn every_command_and_alias_is_found_and_problems_are_kept() {
        let mut candidates: Vec<Candidate> = (0..300)
            .map(|i| candidate(&format!("p{i}"), "^1.0"))
            .collect();
        candidates.push(candidate("stale", "^99"));
        let loaded = load_in_mycli(candidates, false);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".plugins.lookup");
        let stamp = stamp();
        Lookup::write(&path, &stamp, &loaded).unwrap();
        let lookup = Lookup::open(&path, &stamp).unwrap();
        for i in 0..300 {
            for command in ["a", "x", "b"] {
                let name = format!("p{i}-{command}");
                let record = lookup.find(&name).unwrap();
                assert_eq!(record.name, name);
                assert_eq!(record.entry.name, format!("p{i}"));
            }
        }
        assert!(lookup.find("stale-a").is_none());
        assert!(lookup.find("nothing").is_none());
        assert_eq!(lookup.problems().len(), 1);
        let listing = lookup.listing().unwrap();
        assert_eq!(listing.len(), 600);
        assert_eq!(listing[0].name, "p0-a");
        assert_eq!(listing[0].aliases, ["p0-x"]);
        assert_eq!(lookup.problems()[0].status, Status::Skipped);

        let other = Stamp {
            ino: 4,
            ..stamp.clone()
        };
        assert!(
            Lookup::open(&path, &other).is_none(),
            "a stale lookup is not used"
        );
        std::fs::write(&path, b"garbage").unwrap();
        assert!(
            Lookup::open(&path, &stamp).is_none(),
            "a damaged lookup is not used"
        );
    }

    #[test]
    fn lengths_a_damaged_lookup_claims_are_not_believed() {
        let loaded = load_in_mycli(vec![candidate("p", "^1.0")], false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".plugins.lookup");
        let stamp = stamp();
        Lookup::write(&path, &stamp, &loaded).unwrap();
        let good = std::fs::read(&path).unwrap();

        // A header longer than the file: not allocated, not used.
        let mut huge_header = MAGIC.to_vec();
        huge_header.extend(u64::MAX.to_le_bytes());
        std::fs::write(&path, &huge_header).unwrap();
        assert!(Lookup::open(&path, &stamp).is_none());

        // Cut short inside the slots or the records.
        let header_len = u64::from_le_bytes(good[8..16].try_into().unwrap());
        let slots_at = usize::try_from(16 + header_len).unwrap();
        std::fs::write(&path, &good[..slots_at + 10]).unwrap();
        assert!(Lookup::open(&path, &stamp).is_none());
        // Every used slot claims a record of u64::MAX bytes.
        let header: Header = serde_json::from_slice(&good[16..slots_at]).unwrap();
        let mut lying = good.clone();
        for k in 0..usize::try_from(header.slots).unwrap() {
            let at = slots_at + k * SLOT as usize;
            if lying[at + 8..at + 16] != [0; 8] {
                lying[at + 16..at + 24].copy_from_slice(&u64::MAX.to_le_bytes());
            }
        }
        std::fs::write(&path, &lying).unwrap();
        let lookup = Lookup::open(&path, &stamp).expect("the header is intact");
        assert!(lookup.find("p-a").is_none());
        assert_eq!(lookup.listing().unwrap().len(), 2, "the listing is intact");
    }
}

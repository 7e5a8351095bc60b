//! The start-up lookup: which installed plugin provides command X, read
//! without parsing the whole index.
//!
//! `plugins.json` is the source of truth, written by the `plugins` commands.
//! From it, and from the host's identity (API version, built-in commands,
//! reserved options), a full loader run derives this file: an on-disk hash
//! table from every registered command name and alias to where, in
//! `plugins.json`, the entry of the plugin that provides it lies (its
//! [`Span`]), plus the outcomes of the plugins that failed to load (so
//! start-up can still warn about them) and the names and abouts help lists.
//! Each plugin's data is stored once, in the index: the lookup grows with
//! the number of names, not with names times manifest size.
//!
//! A run that names a plugin command reads the header and a few slots with
//! positioned reads, then that one entry from `plugins.json`, so its cost
//! does not depend on how many plugins are installed. The file records the
//! index file's size, modification time and inode it was built from; when
//! they or the host's identity differ, the next run rebuilds it. The entry
//! is read from the same open index file the stamp was taken of, and used
//! only if it decodes and its manifest provides the command: a damaged or
//! forged lookup can at most point a command at an entry of the index that
//! declares it, never at a file the index does not name for it.
//!
//! Layout: `SNAPLKP1`, the header's length (u64 LE), the header (JSON:
//! stamp, problems, slot count), then `slots` slots of 24 bytes (hash,
//! record offset, record length; u64 LE each, offset 0 = empty), then the
//! records (JSON: the name and the span of its entry), then the listing.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::index::{Entry, Span};
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
    /// The stamp of the open index file `index` for a host whose identity
    /// is `host`: taken of the open file, so that what is read from it
    /// afterwards is what the stamp describes.
    pub fn of(index: &File, host: &str) -> Option<Stamp> {
        let meta = index.metadata().ok()?;
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The command name or alias this record is for.
    pub name: String,
    /// Where the index entry of the plugin that provides it lies in the
    /// index file.
    pub span: Span,
}

impl Record {
    /// The entry this record points at, read from `index` (the open index
    /// file the lookup's stamp was taken of, `index_len` bytes long): only
    /// if it decodes and its manifest does provide this command or alias.
    pub fn entry(&self, index: &File, index_len: u64) -> Option<Entry> {
        let bytes = read_span(index, index_len, self.span.offset, self.span.len)?;
        let entry: Entry = serde_json::from_slice(&bytes).ok()?;
        let provides = entry.manifest.as_ref().is_some_and(|m| {
            m.commands
                .iter()
                .any(|c| c.name == self.name || c.aliases.contains(&self.name))
        });
        provides.then_some(entry)
    }
}

/// What a lookup says of a command name.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// The record of the installed plugin that provides it.
    Record(Record),
    /// No installed plugin that loads provides it.
    Nothing,
    /// The lookup cannot say: a slot or record is damaged.
    Damaged,
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

    /// The record for command (or alias) `name`.
    pub fn find(&self, name: &str) -> Found {
        let h = hash(name);
        let mask = self.slots - 1;
        let mut i = h & mask;
        for _ in 0..self.slots {
            let Some(slot) = read_span(&self.file, self.len, self.slots_at + i * SLOT, SLOT) else {
                return Found::Damaged;
            };
            let word = |k: usize| {
                u64::from_le_bytes(slot[k * 8..k * 8 + 8].try_into().unwrap_or_default())
            };
            let (slot_hash, offset, len) = (word(0), word(1), word(2));
            if offset == 0 {
                return Found::Nothing;
            }
            if slot_hash == h {
                let record = read_span(&self.file, self.len, offset, len)
                    .and_then(|bytes| serde_json::from_slice::<Record>(&bytes).ok());
                match record {
                    Some(record) if record.name == name => return Found::Record(record),
                    Some(_) => {}
                    None => return Found::Damaged,
                }
            }
            i = (i + 1) & mask;
        }
        Found::Nothing
    }

    /// Writes the lookup for `loaded` (a full loader run over the index
    /// stamped `stamp`, its installed candidates made with their spans) to
    /// `path`, atomically.
    pub fn write(path: &Path, stamp: &Stamp, loaded: &Loaded) -> io::Result<()> {
        let mut records: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut listing = Vec::new();
        for active in &loaded.active {
            let Source::Installed(entry) = &active.candidate.source else {
                continue;
            };
            let Some(span) = active.candidate.span else {
                return Err(io::Error::other(format!(
                    "plugin '{}' was not read from the index file",
                    entry.name
                )));
            };
            for command in &active.manifest.commands {
                listing.push(Listed {
                    name: command.name.clone(),
                    about: command.about.clone(),
                    aliases: command.aliases.clone(),
                    hidden: command.hidden,
                });
                for name in std::iter::once(&command.name).chain(&command.aliases) {
                    let record = Record {
                        name: name.clone(),
                        span,
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
    #[cfg(unix)]
    use std::path::PathBuf;

    use super::*;
    #[cfg(unix)]
    use crate::index::{Index, IndexError};
    use crate::loader::Candidate;
    #[cfg(unix)]
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

    /// Records the entries of `candidates` as the index file in `dir`, and
    /// reads them back with their spans, as start-up does.
    #[cfg(unix)]
    fn indexed(dir: &Path, candidates: Vec<Candidate>) -> (PathBuf, Vec<Candidate>) {
        let path = dir.join("plugins.json");
        let entries: Vec<Entry> = candidates
            .into_iter()
            .filter_map(|c| match c.source {
                Source::Installed(entry) => Some(entry),
                Source::CompiledIn { .. } => None,
            })
            .collect();
        Index::update(&path, |index| {
            index.plugins = entries;
            Ok::<_, IndexError>(())
        })
        .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let (index, spans) = Index::from_slice_with_spans(&bytes, &path).unwrap();
        let candidates = index
            .plugins
            .into_iter()
            .zip(spans)
            .map(|(entry, span)| Candidate::installed_at(entry, span))
            .collect();
        (path, candidates)
    }

    fn stamp() -> Stamp {
        Stamp {
            len: 1,
            mtime_ns: 2,
            ino: 3,
            host: "h".into(),
        }
    }

    /// The entry `name` leads to in the lookup at `path`, read from the
    /// index at `index`.
    #[cfg(unix)]
    fn entry_for(lookup: &Lookup, index: &Path, name: &str) -> Option<Entry> {
        let file = File::open(index).unwrap();
        let len = file.metadata().unwrap().len();
        match lookup.find(name) {
            Found::Record(record) => {
                assert_eq!(record.name, name);
                record.entry(&file, len)
            }
            Found::Nothing | Found::Damaged => None,
        }
    }

    // TODO(windows): `Lookup::open` reads with `read_at`, which is only
    // implemented on Unix, so no lookup opens on Windows yet.
    #[cfg(unix)]
    #[test]
    fn every_command_and_alias_is_found_and_problems_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut candidates: Vec<Candidate> = (0..300)
            .map(|i| candidate(&format!("p{i}"), "^1.0"))
            .collect();
        candidates.push(candidate("stale", "^99"));
        let (index, candidates) = indexed(dir.path(), candidates);
        let loaded = load_in_mycli(candidates, false);

        let path = dir.path().join(".plugins.lookup");
        let stamp = stamp();
        Lookup::write(&path, &stamp, &loaded).unwrap();
        let lookup = Lookup::open(&path, &stamp).unwrap();
        for i in 0..300 {
            for command in ["a", "x", "b"] {
                let name = format!("p{i}-{command}");
                let entry = entry_for(&lookup, &index, &name).unwrap();
                assert_eq!(entry.name, format!("p{i}"));
            }
        }
        assert_eq!(lookup.find("stale-a"), Found::Nothing);
        assert_eq!(lookup.find("nothing"), Found::Nothing);
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

    /// The lookup holds names and spans, never a copy of a manifest: a
    /// plugin whose manifest is a hundred times larger makes a lookup of
    /// the same size.
    // TODO(windows): `Lookup::open` reads with `read_at`, which is only
    // implemented on Unix, so no lookup opens on Windows yet.
    #[cfg(unix)]
    #[test]
    fn the_lookup_grows_with_names_not_with_names_times_manifest_size() {
        let lookup_size = |help: &str| {
            let dir = tempfile::tempdir().unwrap();
            let commands: Vec<String> = (0..16)
                .map(|c| {
                    let aliases: Vec<String> =
                        (0..15).map(|a| format!(r#""c{c}-alias{a}""#)).collect();
                    let args: Vec<String> = (0..20)
                        .map(|a| format!(r#"{{"name":"a{a}","long":"a{a}","help":"{help}"}}"#))
                        .collect();
                    format!(
                        r#"{{"name":"c{c}","aliases":[{}],"args":[{}]}}"#,
                        aliases.join(","),
                        args.join(",")
                    )
                })
                .collect();
            let many = plugin(
                "many",
                &format!(r#""api":"^1.0","commands":[{}]"#, commands.join(",")),
            );
            let (index, candidates) = indexed(dir.path(), vec![many]);
            let loaded = load_in_mycli(candidates, false);
            assert_eq!(loaded.outcomes[0].status, Status::Ok);
            let path = dir.path().join(".plugins.lookup");
            Lookup::write(&path, &stamp(), &loaded).unwrap();
            let lookup = Lookup::open(&path, &stamp()).unwrap();
            assert_eq!(
                entry_for(&lookup, &index, "c15-alias14").unwrap().name,
                "many"
            );
            let index_size = std::fs::metadata(&index).unwrap().len();
            (std::fs::metadata(&path).unwrap().len(), index_size)
        };
        let (small, small_index) = lookup_size("h");
        let (large, large_index) = lookup_size(&"h".repeat(1000));
        assert!(
            large_index > 50 * small_index / 10,
            "{small_index} {large_index}"
        );
        // 256 names: a few dozen bytes of slot and record each.
        assert!(small < 256 * 150, "{small}");
        assert!(large.abs_diff(small) < 256 * 4, "{small} {large}");
    }

    /// A lookup written by hand, or for another index, may point a name at
    /// any bytes of the index: only an entry whose manifest provides the
    /// name is ever used.
    // TODO(windows): `Lookup::open` reads with `read_at`, which is only
    // implemented on Unix, so no lookup opens on Windows yet.
    #[cfg(unix)]
    #[test]
    fn a_record_is_used_only_if_its_entry_provides_the_name() {
        let dir = tempfile::tempdir().unwrap();
        let (index, candidates) = indexed(
            dir.path(),
            vec![candidate("genuine", "^1.0"), candidate("other", "^1.0")],
        );
        let spans: Vec<Span> = candidates.iter().filter_map(|c| c.span).collect();
        let index_len = std::fs::metadata(&index).unwrap().len();
        let forgeries = [
            // The other plugin's entry, which does not declare the name.
            spans[1],
            // Shifted by a byte, cut short, past the end of the file.
            Span {
                offset: spans[0].offset + 1,
                ..spans[0]
            },
            Span {
                len: spans[0].len - 1,
                ..spans[0]
            },
            Span {
                offset: index_len - 2,
                ..spans[0]
            },
            // The whole index file.
            Span {
                offset: 0,
                len: index_len,
            },
        ];
        let file = File::open(&index).unwrap();
        for span in forgeries {
            let record = Record {
                name: "genuine-a".into(),
                span,
            };
            assert!(record.entry(&file, index_len).is_none(), "{span:?}");
        }
        let genuine = Record {
            name: "genuine-x".into(),
            span: spans[0],
        };
        assert_eq!(genuine.entry(&file, index_len).unwrap().name, "genuine");
    }

    // TODO(windows): `Lookup::open` reads with `read_at`, which is only
    // implemented on Unix, so no lookup opens on Windows yet.
    #[cfg(unix)]
    #[test]
    fn lengths_a_damaged_lookup_claims_are_not_believed() {
        let dir = tempfile::tempdir().unwrap();
        let (_, candidates) = indexed(dir.path(), vec![candidate("p", "^1.0")]);
        let loaded = load_in_mycli(candidates, false);
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
        assert_eq!(
            lookup.find("p-a"),
            Found::Damaged,
            "a damaged record is not taken for a name no plugin provides"
        );
        assert_eq!(lookup.listing().unwrap().len(), 2, "the listing is intact");
    }

    #[test]
    fn an_installed_plugin_without_its_span_is_not_written() {
        let loaded = load_in_mycli(vec![candidate("p", "^1.0")], false);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".plugins.lookup");
        assert!(Lookup::write(&path, &stamp(), &loaded).is_err());
        assert!(!path.exists());
    }
}

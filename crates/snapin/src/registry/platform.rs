//! Which machine a plugin file runs on, read from its header (ELF, Mach-O,
//! PE, a WebAssembly component), in the OCI platform words (`linux/amd64`,
//! `darwin/arm64`, `wasip2/wasm`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An OCI platform: an operating system and an architecture.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct Platform {
    pub(crate) os: String,
    pub(crate) architecture: String,
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)
    }
}

impl Platform {
    fn new(os: &str, architecture: &str) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
        }
    }

    /// The platform of WebAssembly components, as the CNCF wasm OCI
    /// layout writes it.
    pub(crate) fn component() -> Platform {
        Platform::new("wasip2", "wasm")
    }

    /// Whether this is the component platform.
    pub(crate) fn is_component(&self) -> bool {
        self.architecture == "wasm"
    }

    /// The machine this host runs on.
    pub(crate) fn current() -> Platform {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform::new(os, architecture)
    }

    /// Reads `text` as `OS/ARCH`.
    pub(crate) fn parse(text: &str) -> Option<Platform> {
        let (os, architecture) = text.split_once('/')?;
        (!os.is_empty() && !architecture.is_empty()).then(|| Platform::new(os, architecture))
    }
}

/// The platforms a file runs on, from its first bytes (a macOS universal
/// binary runs on several), or why it names none.
pub(crate) fn platforms_of(head: &[u8]) -> Result<Vec<Platform>, &'static str> {
    if let Some(version) = head.strip_prefix(b"\0asm") {
        return match version.get(..4) {
            Some([0x0d, 0x00, 0x01, 0x00]) => Ok(vec![Platform::component()]),
            _ => Err("it is a WebAssembly core module, not a component"),
        };
    }
    if head.starts_with(b"\x7fELF") {
        return elf(head).map(|p| vec![p]);
    }
    if head.starts_with(b"MZ") {
        return pe(head).map(|p| vec![p]);
    }
    macho(head)
}

fn u16_at(b: &[u8], at: usize, little: bool) -> Option<u16> {
    let bytes: [u8; 2] = b.get(at..at + 2)?.try_into().ok()?;
    Some(if little {
        u16::from_le_bytes(bytes)
    } else {
        u16::from_be_bytes(bytes)
    })
}

fn u32_at(b: &[u8], at: usize, little: bool) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if little {
        u32::from_le_bytes(bytes)
    } else {
        u32::from_be_bytes(bytes)
    })
}

fn elf(head: &[u8]) -> Result<Platform, &'static str> {
    let little = head.get(5) == Some(&1);
    let os = match head.get(7) {
        Some(0 | 3) => "linux",
        Some(9) => "freebsd",
        Some(12) => "openbsd",
        _ => return Err("its ELF header names an operating system this host does not know"),
    };
    let arch = match u16_at(head, 18, little) {
        Some(0x3e) => "amd64",
        Some(0xb7) => "arm64",
        Some(0x03) => "386",
        Some(0x28) => "arm",
        Some(0xf3) => "riscv64",
        Some(0x15) if little => "ppc64le",
        Some(0x16) => "s390x",
        _ => return Err("its ELF header names a machine this host does not know"),
    };
    Ok(Platform::new(os, arch))
}

fn pe(head: &[u8]) -> Result<Platform, &'static str> {
    let at = u32_at(head, 0x3c, true).ok_or("its PE header is cut short")? as usize;
    if head.get(at..at + 4) != Some(b"PE\0\0") {
        return Err("it starts like a Windows executable but has no PE header");
    }
    let arch = match u16_at(head, at + 4, true) {
        Some(0x8664) => "amd64",
        Some(0xaa64) => "arm64",
        Some(0x014c) => "386",
        _ => return Err("its PE header names a machine this host does not know"),
    };
    Ok(Platform::new("windows", arch))
}

fn macho_arch(cputype: u32) -> Result<&'static str, &'static str> {
    match cputype {
        0x0100_0007 => Ok("amd64"),
        0x0100_000c => Ok("arm64"),
        _ => Err("its Mach-O header names a machine this host does not know"),
    }
}

fn macho(head: &[u8]) -> Result<Vec<Platform>, &'static str> {
    const NOT_EXECUTABLE: &str =
        "it is not an executable (ELF, Mach-O or PE) or a WebAssembly component";
    match u32_at(head, 0, true) {
        Some(0xfeed_facf) => {
            let cpu = u32_at(head, 4, true).ok_or(NOT_EXECUTABLE)?;
            Ok(vec![Platform::new("darwin", macho_arch(cpu)?)])
        }
        // A universal binary: big-endian `fat_header`, then one `fat_arch`
        // of 20 bytes per architecture.
        Some(0xbeba_feca) => {
            let count = u32_at(head, 4, false).ok_or(NOT_EXECUTABLE)?;
            if count == 0 || count > 8 {
                return Err("its universal Mach-O header is not one this host reads");
            }
            (0..count as usize)
                .map(|i| {
                    let cpu = u32_at(head, 8 + i * 20, false).ok_or(NOT_EXECUTABLE)?;
                    Ok(Platform::new("darwin", macho_arch(cpu)?))
                })
                .collect()
        }
        _ => Err(NOT_EXECUTABLE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf_head(osabi: u8, machine: u16) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[7] = osabi;
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b
    }

    #[test]
    fn headers_name_their_platforms() {
        let p = |h: &[u8]| {
            platforms_of(h)
                .unwrap()
                .iter()
                .map(Platform::to_string)
                .collect::<Vec<_>>()
                .join(",")
        };
        assert_eq!(p(&elf_head(0, 0x3e)), "linux/amd64");
        assert_eq!(p(&elf_head(3, 0xb7)), "linux/arm64");
        let mut pe = vec![0u8; 0x90];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        assert_eq!(p(&pe), "windows/amd64");
        let mut macho = vec![0u8; 32];
        macho[..4].copy_from_slice(&0xfeed_facfu32.to_le_bytes());
        macho[4..8].copy_from_slice(&0x0100_000cu32.to_le_bytes());
        assert_eq!(p(&macho), "darwin/arm64");
        let mut fat = vec![0u8; 48];
        fat[..4].copy_from_slice(&0xcafe_babeu32.to_be_bytes());
        fat[4..8].copy_from_slice(&2u32.to_be_bytes());
        fat[8..12].copy_from_slice(&0x0100_0007u32.to_be_bytes());
        fat[28..32].copy_from_slice(&0x0100_000cu32.to_be_bytes());
        assert_eq!(p(&fat), "darwin/amd64,darwin/arm64");
        assert_eq!(p(b"\0asm\x0d\x00\x01\x00"), "wasip2/wasm");
        assert!(platforms_of(b"\0asm\x01\x00\x00\x00").is_err());
        assert!(platforms_of(b"#!/bin/sh\n").is_err());
    }

    /// Real executables linked for macOS (tests/macho/README.md says how),
    /// as `plugins publish` reads them: their first 4096 bytes.
    #[test]
    fn real_mach_o_executables_name_their_platforms() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/macho");
        for (file, expected) in [
            ("tiny-arm64", "darwin/arm64"),
            ("tiny-x86_64", "darwin/amd64"),
            ("tiny-universal", "darwin/amd64,darwin/arm64"),
        ] {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let found = platforms_of(&bytes[..bytes.len().min(4096)]).unwrap();
            let found: Vec<String> = found.iter().map(Platform::to_string).collect();
            assert_eq!(found.join(","), expected, "{file}");
        }
    }

    #[test]
    fn this_machine_reads_as_its_own_executables_do() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(
            platforms_of(&exe[..4096]).unwrap(),
            vec![Platform::current()]
        );
    }
}

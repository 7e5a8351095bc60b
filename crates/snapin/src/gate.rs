//! The version gate: does a plugin's `api` requirement accept one of this
//! host's API versions, and which one does it run under?
//!
//! Semver rules: a minor release of the host API only adds, so `^1.0`
//! accepts `1.2.0`; a major release may break, so `^1.0` refuses `2.0.0`.
//! During a transition a host provides two majors at once (`2.0.0` and
//! `1.3.0`): each plugin runs under the newest one its requirement accepts.

use std::fmt;

use semver::{Version, VersionReq};

/// The API versions a host provides, newest first; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apis(Vec<Version>);

impl Apis {
    /// A host that provides only `api`.
    pub fn new(api: Version) -> Apis {
        Apis(vec![api])
    }

    /// Also provides `api`; one version per major, the newest given wins.
    pub fn add(&mut self, api: Version) {
        match self.0.iter_mut().find(|v| v.major == api.major) {
            Some(same_major) => *same_major = api.max(same_major.clone()),
            None => self.0.push(api),
        }
        self.0.sort_by(|a, b| b.cmp(a));
    }

    /// The newest version: what a new plugin is written for, and what a
    /// plugin is told while it describes itself.
    pub fn newest(&self) -> &Version {
        // Never empty: `new` puts one in and nothing removes it.
        &self.0[0]
    }

    /// What host `ns` provides a plugin requiring `requirement`: `mycli
    /// provides 1.3.0`, and with two majors `mycli provides 2.0.0 and
    /// 1.3.0, and runs it under 1.3.0`.
    pub fn provides(&self, ns: &str, requirement: &str) -> String {
        match check(requirement, ns, self) {
            Ok(picked) if self.0.len() > 1 => {
                format!("{ns} provides {self}, and runs it under {picked}")
            }
            _ => format!("{ns} provides {self}"),
        }
    }

    /// The majors, newest first, as `2.x or 1.x`: what a fix asks for.
    pub fn majors(&self) -> String {
        let majors: Vec<String> = self.0.iter().map(|v| format!("{}.x", v.major)).collect();
        majors.join(" or ")
    }
}

impl fmt::Display for Apis {
    /// `1.3.0`, or `2.0.0 and 1.3.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all: Vec<String> = self.0.iter().map(Version::to_string).collect();
        f.write_str(&all.join(" and "))
    }
}

/// Why a plugin's API requirement shuts it out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// The requirement is not semver.
    #[error("its API requirement {requirement:?} is not a semver requirement such as ^1.0")]
    BadRequirement {
        /// The manifest's `api` field.
        requirement: String,
    },
    /// The requirement is empty, which semver reads as `*`: refused, so
    /// that a plugin accepts every API only by saying `*`.
    #[error("its API requirement is empty; it must be one such as ^1.0")]
    EmptyRequirement,
    /// The requirement does not match.
    #[error("it requires {host} API {requirement}, but this {host} provides API {provided}")]
    Incompatible {
        /// The host's namespace.
        host: String,
        /// The manifest's `api` field.
        requirement: String,
        /// The host's API versions.
        provided: Apis,
    },
}

/// Checks `requirement` (a manifest's `api`) against the APIs `provided` by
/// host `ns`, and returns the newest one it accepts: the version the plugin
/// runs under.
pub fn check(requirement: &str, ns: &str, provided: &Apis) -> Result<Version, GateError> {
    if requirement.trim().is_empty() {
        return Err(GateError::EmptyRequirement);
    }
    let req = VersionReq::parse(requirement).map_err(|_| GateError::BadRequirement {
        requirement: requirement.to_string(),
    })?;
    match provided.0.iter().find(|v| req.matches(v)) {
        Some(v) => Ok(v.clone()),
        None => Err(GateError::Incompatible {
            host: ns.to_string(),
            requirement: requirement.to_string(),
            provided: provided.clone(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Apis {
        Apis::new(Version::parse(s).unwrap())
    }

    fn ok(s: &str) -> Result<Version, GateError> {
        Ok(Version::parse(s).unwrap())
    }

    #[test]
    fn minor_versions_are_compatible() {
        assert_eq!(check("^1.0", "mycli", &v("1.2.0")), ok("1.2.0"));
        assert_eq!(check("1.2", "mycli", &v("1.2.7")), ok("1.2.7"));
        assert_eq!(check(">=1.1, <3", "mycli", &v("2.0.0")), ok("2.0.0"));
    }

    #[test]
    fn newer_minor_requirement_is_refused() {
        assert!(check("^1.3", "mycli", &v("1.2.0")).is_err());
    }

    #[test]
    fn major_mismatch_names_both_versions() {
        let err = check("^99", "mycli", &v("1.2.0")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it requires mycli API ^99, but this mycli provides API 1.2.0"
        );
        assert!(check("^1.0", "mycli", &v("2.0.0")).is_err());
    }

    #[test]
    fn an_empty_requirement_is_refused_not_read_as_any() {
        for empty in ["", " "] {
            assert_eq!(
                check(empty, "mycli", &v("1.2.0")),
                Err(GateError::EmptyRequirement)
            );
        }
        assert_eq!(check("*", "mycli", &v("1.2.0")), ok("1.2.0"));
    }

    /// A host in transition provides 2.0.0 and 1.3.0: each plugin gets the
    /// newest its requirement accepts, and a refusal names both.
    #[test]
    fn two_majors_each_plugin_gets_the_newest_it_accepts() {
        let mut both = v("1.3.0");
        both.add(Version::new(2, 0, 0));
        both.add(Version::new(1, 1, 0));
        assert_eq!(both.to_string(), "2.0.0 and 1.3.0");
        assert_eq!(both.majors(), "2.x or 1.x");
        assert_eq!(both.newest(), &Version::new(2, 0, 0));
        assert_eq!(
            both.provides("mycli", "^1.0"),
            "mycli provides 2.0.0 and 1.3.0, and runs it under 1.3.0"
        );
        assert_eq!(v("1.3.0").provides("mycli", "^1.0"), "mycli provides 1.3.0");
        assert_eq!(check("^1.0", "mycli", &both), ok("1.3.0"));
        assert_eq!(check("^2.0", "mycli", &both), ok("2.0.0"));
        assert_eq!(check(">=1.2, <3", "mycli", &both), ok("2.0.0"));
        assert_eq!(
            check("^1.4", "mycli", &both).map_err(|e| e.to_string()),
            Err(
                "it requires mycli API ^1.4, but this mycli provides API 2.0.0 and 1.3.0"
                    .to_string()
            )
        );
    }

    #[test]
    fn garbage_requirement_is_its_own_error() {
        assert!(matches!(
            check("one point oh", "mycli", &v("1.0.0")),
            Err(GateError::BadRequirement { .. })
        ));
    }
}

//! The version gate: does a plugin's `api` requirement accept this host's
//! API version?
//!
//! Semver rules: a minor release of the host API only adds, so `^1.0`
//! accepts `1.2.0`; a major release may break, so `^1.0` refuses `2.0.0`.

use semver::{Version, VersionReq};

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
        /// The host's API version.
        provided: Version,
    },
}

/// Checks `requirement` (a manifest's `api`) against the API `provided` by
/// host `ns`.
pub fn check(requirement: &str, ns: &str, provided: &Version) -> Result<(), GateError> {
    if requirement.trim().is_empty() {
        return Err(GateError::EmptyRequirement);
    }
    let req = VersionReq::parse(requirement).map_err(|_| GateError::BadRequirement {
        requirement: requirement.to_string(),
    })?;
    if req.matches(provided) {
        Ok(())
    } else {
        Err(GateError::Incompatible {
            host: ns.to_string(),
            requirement: requirement.to_string(),
            provided: provided.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn minor_versions_are_compatible() {
        assert_eq!(check("^1.0", "mycli", &v("1.2.0")), Ok(()));
        assert_eq!(check("1.2", "mycli", &v("1.2.7")), Ok(()));
        assert_eq!(check(">=1.1, <3", "mycli", &v("2.0.0")), Ok(()));
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
        assert_eq!(check("*", "mycli", &v("1.2.0")), Ok(()));
    }

    #[test]
    fn garbage_requirement_is_its_own_error() {
        assert!(matches!(
            check("one point oh", "mycli", &v("1.0.0")),
            Err(GateError::BadRequirement { .. })
        ));
    }
}

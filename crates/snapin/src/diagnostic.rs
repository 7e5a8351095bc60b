//! What a user reads when a command fails: what happened, the fix, and the
//! exit status it ends with.
//!
//! Every failure the host reports in one line is a [`Diagnostic`], and only
//! `ui.rs` prints them, as `NS: error: WHAT; fix: FIX`. Error types
//! keep the fix apart from their message (their `Display` is the WHAT) and
//! offer it through a `fix` method, so the same error reads right in a
//! one-line error, a `plugins check` line and a `doctor` row.

use std::fmt;

/// A failure as the user reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    what: String,
    fix: Option<String>,
    exit: u8,
}

impl Diagnostic {
    /// A failure that exits with status 1 and has no fix yet.
    pub(crate) fn new(what: impl Into<String>) -> Diagnostic {
        Diagnostic {
            what: what.into(),
            fix: None,
            exit: 1,
        }
    }

    /// The same, with `fix`: what the user can do about it.
    pub(crate) fn with_fix(mut self, fix: impl Into<String>) -> Diagnostic {
        self.fix = Some(fix.into());
        self
    }

    /// The same, with a fix when there is one.
    pub(crate) fn with_fix_opt(mut self, fix: Option<String>) -> Diagnostic {
        self.fix = fix;
        self
    }

    /// The same, exiting with `exit`.
    pub(crate) fn with_exit(mut self, exit: u8) -> Diagnostic {
        self.exit = exit;
        self
    }

    /// What happened.
    pub(crate) fn what(&self) -> &str {
        &self.what
    }

    /// What to do about it.
    pub(crate) fn fix(&self) -> Option<&str> {
        self.fix.as_deref()
    }

    /// The exit status.
    pub(crate) fn exit(&self) -> u8 {
        self.exit
    }
}

/// `WHAT; fix: FIX`, the one-line form.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.fix {
            Some(fix) => write!(f, "{}; fix: {fix}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_line_form_puts_the_fix_last() {
        let d = Diagnostic::new("it broke").with_fix("mend it");
        assert_eq!(d.to_string(), "it broke; fix: mend it");
        assert_eq!(d.exit(), 1);
        let d = Diagnostic::new("it broke").with_exit(126);
        assert_eq!(d.to_string(), "it broke");
        assert_eq!(d.exit(), 126);
    }
}

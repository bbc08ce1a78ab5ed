//! One line of a preflight: passed, passed with something to read, or
//! failed (then nothing is started).

pub struct Check {
    pub ok: bool,
    /// Passes, but the user should read it.
    pub warn: bool,
    pub line: String,
}

pub fn check(ok: bool, good: impl Into<String>, bad: impl Into<String>) -> Check {
    Check { ok, warn: false, line: if ok { good.into() } else { bad.into() } }
}

/// A line that passes and that the user should read.
pub fn warn(line: impl Into<String>) -> Check {
    Check { ok: true, warn: true, line: line.into() }
}

/// A line that fails.
pub fn fail(line: impl Into<String>) -> Check {
    Check { ok: false, warn: false, line: line.into() }
}

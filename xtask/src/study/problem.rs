//! A problem found in the data: what check, how bad, and where to look.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Failure,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    pub check: &'static str,
    pub severity: Severity,
    pub run: Option<String>,
    pub pair: Option<String>,
    /// Relative to the CooperBench checkout, so reports read the same anywhere.
    pub path: Option<String>,
    pub detail: String,
}

impl Problem {
    pub fn failure(check: &'static str, detail: impl Into<String>) -> Problem {
        Problem { check, severity: Severity::Failure, run: None, pair: None, path: None, detail: detail.into() }
    }

    pub fn warning(check: &'static str, detail: impl Into<String>) -> Problem {
        Problem { severity: Severity::Warning, ..Problem::failure(check, detail) }
    }

    pub fn run(mut self, run: &str) -> Problem {
        self.run = Some(run.to_string());
        self
    }

    pub fn pair(mut self, pair: impl ToString) -> Problem {
        self.pair = Some(pair.to_string());
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Problem {
        self.path = Some(path.into());
        self
    }

    /// One line: `failure missing_eval   logs/x/...: no eval.json`.
    pub fn line(&self) -> String {
        let sev = match self.severity {
            Severity::Failure => "FAIL",
            Severity::Warning => "warn",
        };
        let place = self.path.clone().or_else(|| self.run.clone()).unwrap_or_default();
        if place.is_empty() {
            format!("{sev} {:<22} {}", self.check, self.detail)
        } else {
            format!("{sev} {:<22} {place}: {}", self.check, self.detail)
        }
    }
}

//! API keys: found in the environment or the checkout's `.env`, handed to the
//! child through its environment only, and scrubbed from everything printed.

use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Name to value, for the variables the experiment names.
    values: BTreeMap<String, String>,
    /// Every secret-looking value seen, to scrub from output.
    scrub: Vec<String>,
}

/// Names whose values must never be shown, whatever the experiment says.
fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["KEY", "TOKEN", "SECRET", "PASSWORD"].iter().any(|w| n.contains(w))
}

/// Parses `.env` lines `NAME=value` (optionally `export`, quotes, comments).
pub fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (k, v) = line.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

impl Secrets {
    /// The environment wins over `.env`, as python-dotenv does by default.
    pub fn load(cooperbench_dir: &Path, names: &[String]) -> Secrets {
        let dotenv =
            std::fs::read_to_string(cooperbench_dir.join(".env")).map(|t| parse_dotenv(&t)).unwrap_or_default();
        let mut s = Secrets::default();
        for (k, v) in &dotenv {
            if looks_secret(k) && v.len() >= 4 {
                s.scrub.push(v.clone());
            }
        }
        for (k, v) in std::env::vars() {
            if looks_secret(&k) && v.len() >= 4 {
                s.scrub.push(v);
            }
        }
        for name in names {
            let value = std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .or_else(|| dotenv.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()));
            if let Some(v) = value {
                if v.len() >= 4 {
                    s.scrub.push(v.clone());
                }
                s.values.insert(name.clone(), v);
            }
        }
        // Longest first, so that a key containing another is scrubbed whole.
        s.scrub.sort_by_key(|v| std::cmp::Reverse(v.len()));
        s.scrub.dedup();
        s
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    /// Variables to add to the child's environment (from `.env`).
    pub fn env(&self) -> impl Iterator<Item = (&String, &String)> {
        self.values.iter()
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.scrub {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "[redacted]");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_lines() {
        let got = parse_dotenv("# c\nexport A_KEY=\"abc def\"\nB='x'\n\nC = 3\nnot a line\n");
        assert_eq!(
            got,
            [("A_KEY".to_string(), "abc def".to_string()), ("B".into(), "x".into()), ("C".into(), "3".into())]
        );
    }

    #[test]
    fn redacts_known_values() {
        let s = Secrets { values: BTreeMap::new(), scrub: vec!["sk-secret-123".into()] };
        assert_eq!(s.redact("auth failed for sk-secret-123!"), "auth failed for [redacted]!");
    }
}

//! API keys: found in the environment or the checkout's `.env`, handed to the
//! child through its environment only, and scrubbed from everything printed.
//! A key is never printed, not even in part: a key pasted with a trailing
//! newline is trimmed, and every line of a key holding a line break is
//! scrubbed on its own.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// Name to value, for the variables the experiment names.
    values: BTreeMap<String, String>,
    /// Named variables that are set but are not UTF-8: the child inherits
    /// them as they are.
    opaque: Vec<String>,
    /// Every secret-looking value seen, to scrub from output.
    scrub: Vec<String>,
    /// What the user should know (never a value).
    pub warnings: Vec<String>,
}

/// Words that mark a name as holding a secret, whatever the experiment says.
const SECRET_WORDS: [&str; 7] = ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "AUTHORIZATION", "CREDENTIAL"];

pub fn looks_secret(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|w| n.contains(w))
}

/// Dotted paths of secret-looking keys anywhere in a TOML table (an
/// `X-Api-Secret` header nested in `extra_headers` is found too).
pub fn secret_looking_keys(table: &toml::Table) -> Vec<String> {
    fn walk(v: &toml::Value, path: String, out: &mut Vec<String>) {
        match v {
            toml::Value::Table(t) => {
                for (k, v) in t {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    if looks_secret(k) {
                        out.push(p.clone());
                    }
                    walk(v, p, out);
                }
            }
            toml::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&toml::Value::Table(table.clone()), String::new(), &mut out);
    out
}

/// Variables that silently reroute the CLI's model calls (see the
/// CONTRACT): set, they send every litellm call elsewhere whatever `-m` says.
pub const REROUTING: [&str; 3] = ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_API_BASE"];

/// `.env` as python-dotenv reads it (quotes, `export`, inline `# comments`),
/// by dotenvy; a line it cannot read is a warning naming the line.
pub fn parse_dotenv(text: &str) -> (Vec<(String, String)>, Vec<String>) {
    let (mut vars, mut warnings) = (Vec::new(), Vec::new());
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        match item {
            Ok(kv) => vars.push(kv),
            Err(dotenvy::Error::LineParse(_, at)) => {
                // The line's text may hold a key: name its place only.
                warnings.push(format!(".env: a line cannot be read (at character {at}) and is skipped"));
            }
            Err(e) => warnings.push(format!(".env: {}", kind_only(&e))),
        }
    }
    (vars, warnings)
}

fn kind_only(e: &dotenvy::Error) -> &'static str {
    match e {
        dotenvy::Error::Io(_) => "cannot be read",
        dotenvy::Error::EnvVar(_) => "a variable is not valid",
        _ => "a line cannot be read",
    }
}

impl Secrets {
    /// The environment wins over `.env`, as python-dotenv does by default.
    pub fn load(cooperbench_dir: &Path, names: &[String]) -> Secrets {
        let path = cooperbench_dir.join(".env");
        // Never an open that blocks: a named pipe as .env is refused.
        let (text, unread) = match crate::edges::read::text_or_empty(&path, crate::edges::read::SMALL) {
            Ok(t) => (t, None),
            Err(e) => (String::new(), Some(format!("{}: {e}; its keys are not used", path.display()))),
        };
        let (dotenv, mut warnings) = parse_dotenv(&text);
        warnings.extend(unread);
        let env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        Secrets::from_sources(&env, &dotenv, warnings, names)
    }

    /// [`Secrets::load`] on given sources, for tests.
    pub fn from_sources(
        env: &[(OsString, OsString)],
        dotenv: &[(String, String)],
        mut warnings: Vec<String>,
        names: &[String],
    ) -> Secrets {
        let mut s = Secrets::default();
        // Non-UTF-8 names or values are skipped here (never a panic); the
        // child still inherits them.
        let utf8_env: Vec<(&str, &str)> = env.iter().filter_map(|(k, v)| Some((k.to_str()?, v.to_str()?))).collect();
        for (k, v) in dotenv.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(utf8_env.iter().copied()) {
            if looks_secret(k) {
                s.add_scrub(v);
            }
        }
        for name in names {
            let from_env = env.iter().find(|(k, _)| k.to_str() == Some(name)).map(|(_, v)| v);
            let raw = match from_env.filter(|v| !v.is_empty()) {
                Some(v) => match v.to_str() {
                    Some(v) => Some(v.to_string()),
                    None => {
                        warnings.push(format!(
                            "{name} is not valid UTF-8: passed on as it is, and cannot be scrubbed from output"
                        ));
                        s.opaque.push(name.clone());
                        None
                    }
                },
                None => dotenv.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            };
            let Some(raw) = raw else { continue };
            s.add_scrub(&raw);
            let value = raw.trim_end_matches(['\n', '\r']).to_string();
            if value.len() != raw.len() {
                warnings.push(format!("{name} ended with a line break (as `$(cat keyfile)` leaves it): trimmed"));
            }
            if value.contains(['\n', '\r']) {
                warnings.push(format!("{name} holds a line break: passed on as it is; check it"));
            }
            s.add_scrub(&value);
            s.values.insert(name.clone(), value);
        }
        for name in REROUTING {
            if env.iter().any(|(k, v)| k.to_str() == Some(name) && !v.is_empty()) {
                warnings.push(format!(
                    "{name} is set: litellm then sends every model call through Azure, whatever the model says"
                ));
            }
        }
        // Longest first, so that a key containing another is scrubbed whole.
        s.scrub.sort_by_key(|v| std::cmp::Reverse(v.len()));
        s.scrub.dedup();
        s.warnings = warnings;
        s
    }

    /// A value and each of its lines (a key split by a line break would be
    /// printed in halves otherwise); short fragments would scrub ordinary words.
    fn add_scrub(&mut self, v: &str) {
        for part in std::iter::once(v).chain(v.split(['\n', '\r'])) {
            let part = part.trim();
            if part.len() >= 4 {
                self.scrub.push(part.to_string());
            }
        }
    }

    pub fn is_set(&self, name: &str) -> bool {
        self.values.contains_key(name) || self.opaque.iter().any(|n| n == name)
    }

    /// Variables to add to the child's environment (from `.env`, or trimmed).
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

    fn names() -> Vec<String> {
        vec!["COHERE_API_KEY".into()]
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (OsString::from(k), OsString::from(v))).collect()
    }

    #[test]
    fn dotenv_as_python_reads_it() {
        let (got, warnings) = parse_dotenv("# c\nexport A_KEY=\"abc def\"\nB='x'\n\nC=3 # the answer\n");
        assert_eq!(
            got,
            [("A_KEY".to_string(), "abc def".to_string()), ("B".into(), "x".into()), ("C".into(), "3".into())]
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let (_, warnings) = parse_dotenv("GOOD=1\nsk-abcdefgh not a line\n");
        assert_eq!(warnings.len(), 1);
        assert!(!warnings[0].contains("sk-abcdefgh"), "{warnings:?}");
    }

    #[test]
    fn a_trailing_newline_is_trimmed_and_never_shown() {
        let s = Secrets::from_sources(&env(&[("COHERE_API_KEY", "sk-secret-123\n")]), &[], vec![], &names());
        assert_eq!(s.env().next().unwrap().1, "sk-secret-123");
        assert_eq!(s.redact("key sk-secret-123\n was refused"), "key [redacted]\n was refused");
        assert!(s.warnings[0].contains("ended with a line break"), "{:?}", s.warnings);
        assert!(s.warnings.iter().all(|w| !w.contains("sk-secret")));
    }

    #[test]
    fn no_fragment_of_a_multi_line_key_is_printed() {
        let s = Secrets::from_sources(&env(&[("COHERE_API_KEY", "first-half\nsecond-half")]), &[], vec![], &names());
        assert_eq!(s.redact("got first-half, then second-half"), "got [redacted], then [redacted]");
        assert!(s.warnings.iter().any(|w| w.contains("holds a line break")));
    }

    #[test]
    fn non_utf8_environment_does_not_panic() {
        use std::os::unix::ffi::OsStringExt;
        let bad = OsString::from_vec(vec![0x66, 0xff, 0x6f]);
        let e = vec![(OsString::from("COHERE_API_KEY"), bad.clone()), (bad.clone(), bad)];
        let s = Secrets::from_sources(&e, &[], vec![], &names());
        assert!(s.is_set("COHERE_API_KEY"));
        assert_eq!(s.env().count(), 0, "the child inherits it unchanged");
        assert!(s.warnings.iter().any(|w| w.contains("not valid UTF-8")));
    }

    #[test]
    fn rerouting_variables_are_warned_about() {
        let s = Secrets::from_sources(&env(&[("AZURE_OPENAI_ENDPOINT", "http://x")]), &[], vec![], &names());
        assert!(s.warnings.iter().any(|w| w.starts_with("AZURE_OPENAI_ENDPOINT is set")));
    }

    #[test]
    fn secret_looking_keys_at_any_depth() {
        let t: toml::Table = toml::from_str(
            "api_base = 'x'\napi_token = 't'\nauthorization = 'a'\npassword = 'p'\n[extra_headers]\nX-Api-Secret = 's'\nAccept = 'j'",
        )
        .unwrap();
        assert_eq!(secret_looking_keys(&t), ["api_token", "authorization", "extra_headers.X-Api-Secret", "password"]);
    }

    #[test]
    fn redacts_known_values() {
        let s = Secrets::from_sources(&[], &[("OTHER_TOKEN".into(), "sk-secret-123".into())], vec![], &[]);
        assert_eq!(s.redact("auth failed for sk-secret-123!"), "auth failed for [redacted]!");
    }
}

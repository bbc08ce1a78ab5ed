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
    /// Named variables set nowhere here: their values cannot be scrubbed,
    /// so key-shaped text is, by [`KEY_PATTERNS`].
    missing: Vec<String>,
    /// What the user should know (never a value).
    pub warnings: Vec<String>,
}

/// Keys of known formats, for when a study's key is not set where its
/// files are written: OpenAI (`sk-`, `sk-proj-`), Anthropic (`sk-ant-`),
/// OpenRouter, Google (`AIza`), Hugging Face (`hf_`), GitHub (`ghp_`),
/// Modal (`ak-`, `as-`), and Cohere's 40 letters and digits (both cases and
/// a digit: a git hash, lower-case hex, is not one).
const KEY_PATTERNS: [&str; 6] = [
    r"\bsk-[A-Za-z0-9_\-]{20,}",
    r"\bAIza[0-9A-Za-z_\-]{35}",
    r"\bhf_[A-Za-z0-9]{30,}",
    r"\bghp_[A-Za-z0-9]{36}",
    r"\b(?:ak|as)-[A-Za-z0-9]{20,}\b",
    r"\b[A-Za-z0-9]{40}\b",
];
const KEY_PATTERN_NAMES: [&str; 6] =
    ["sk-...", "AIza...", "hf_...", "ghp_...", "Modal ak-/as-...", "Cohere's 40 mixed-case letters and digits"];

fn key_patterns() -> &'static [regex::Regex] {
    static RES: std::sync::OnceLock<Vec<regex::Regex>> = std::sync::OnceLock::new();
    RES.get_or_init(|| KEY_PATTERNS.iter().filter_map(|p| regex::Regex::new(p).ok()).collect())
}

/// A match of a key pattern that is a key: 40 plain characters only with
/// both cases and a digit (a git hash or a word run is not a Cohere key).
fn key_shaped(m: &str) -> bool {
    if m.len() != 40 || !m.chars().all(|c| c.is_ascii_alphanumeric()) {
        return true;
    }
    m.chars().any(|c| c.is_ascii_uppercase())
        && m.chars().any(|c| c.is_ascii_lowercase())
        && m.chars().any(|c| c.is_ascii_digit())
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

/// Dotted paths of the string values in a TOML table that hold a secret's
/// value (found by [`Secrets::found_in`]), whatever their keys.
pub fn values_holding(table: &toml::Table, secrets: &Secrets) -> Vec<String> {
    fn walk(v: &toml::Value, path: String, s: &Secrets, out: &mut Vec<String>) {
        match v {
            toml::Value::String(text) if s.found_in(text) => out.push(path),
            toml::Value::Table(t) => {
                for (k, v) in t {
                    walk(v, if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, s, out);
                }
            }
            toml::Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    walk(v, format!("{path}[{i}]"), s, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&toml::Value::Table(table.clone()), String::new(), secrets, &mut out);
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
                        // Output is read as UTF-8 with replacement characters,
                        // so the key shows in that form; and each readable
                        // run of it, should it be printed another way.
                        use std::os::unix::ffi::OsStrExt;
                        let lossy = String::from_utf8_lossy(v.as_bytes()).into_owned();
                        s.add_scrub(&lossy);
                        for run in lossy.split('\u{fffd}').filter(|r| r.len() >= 8) {
                            s.add_scrub(run);
                        }
                        warnings.push(format!(
                            "{name} is not valid UTF-8: passed on as it is, and scrubbed from output as it prints"
                        ));
                        s.opaque.push(name.clone());
                        None
                    }
                },
                None => dotenv.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            };
            let Some(raw) = raw else {
                if !s.opaque.contains(name) {
                    s.missing.push(name.clone());
                }
                continue;
            };
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

    /// Every secret in `text` replaced by `[redacted]`, also one split by a
    /// line break (a terminal or rich wrapping a long line) or by an ANSI
    /// escape sequence (a colour change): the text is searched with those
    /// left out, and each match's whole span in the original goes (its line
    /// breaks kept, so the lines stay lines).
    pub fn redact(&self, text: &str) -> String {
        let text = &self.redact_values(text);
        if self.missing.is_empty() {
            return text.to_string();
        }
        // A key the study names but that is set nowhere here (a report
        // made later, on another machine) may still be echoed in the logs:
        // what looks like a key of a known format goes too.
        let mut out = text.to_string();
        for re in key_patterns() {
            out = re
                .replace_all(
                    &out,
                    |c: &regex::Captures| {
                        if key_shaped(&c[0]) {
                            "[redacted]".to_string()
                        } else {
                            c[0].to_string()
                        }
                    },
                )
                .into_owned();
        }
        out
    }

    /// The study's named secrets set nowhere here (their values unknown:
    /// output is scrubbed by [`KEY_PATTERNS`] instead).
    pub fn missing(&self) -> &[String] {
        &self.missing
    }

    /// What to tell a user whose files were scrubbed by pattern, once.
    pub fn pattern_note(&self) -> Option<String> {
        (!self.missing.is_empty()).then(|| {
            format!(
                "{} not set here: what is written is scrubbed of key-shaped text by pattern ({}) instead of by its value; set it (or its line in .env) to scrub it exactly",
                self.missing.join(", "),
                KEY_PATTERN_NAMES.join(", ")
            )
        })
    }

    fn redact_values(&self, text: &str) -> String {
        if self.scrub.is_empty() {
            return text.to_string();
        }
        // The text without line breaks and escapes, each char with the
        // byte offset it came from in `text`.
        let plain: Vec<(char, usize)> = visible(text).into_iter().filter(|(c, _)| *c != '\n' && *c != '\r').collect();
        let chars: Vec<char> = plain.iter().map(|(c, _)| *c).collect();
        // Spans (start, end) in `text` to replace, longest secrets first.
        let mut spans: Vec<(usize, usize)> = Vec::new();
        for v in &self.scrub {
            let needle: Vec<char> = v.chars().collect();
            let mut k = 0;
            while k + needle.len() <= chars.len() {
                if chars[k..k + needle.len()] == needle[..] {
                    let (last, at) = plain[k + needle.len() - 1];
                    let span = (plain[k].1, at + last.len_utf8());
                    if !spans.iter().any(|s| s.0 < span.1 && span.0 < s.1) {
                        spans.push(span);
                    }
                    k += needle.len();
                } else {
                    k += 1;
                }
            }
        }
        spans.sort();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            out.push_str(&text[at..start]);
            out.push_str("[redacted]");
            out.extend(text[start..end].chars().filter(|c| *c == '\n'));
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// Whether `text` holds a secret's value (a settings value must not).
    pub fn found_in(&self, text: &str) -> bool {
        self.redact(text) != text
    }
}

/// The characters of `text` outside ANSI escape sequences, each with its
/// byte offset in `text`.
fn visible(text: &str) -> Vec<(char, usize)> {
    let mut out = Vec::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < text.len() {
        if let Some(n) = escape_len(&bytes[i..]) {
            i += n;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push((c, i));
        i += c.len_utf8();
    }
    out
}

/// The length of the ANSI escape sequence starting `b`, if one does: CSI
/// (`ESC [ ... final`), OSC (`ESC ] ... BEL` or `ESC \\`), or a two-byte escape.
fn escape_len(b: &[u8]) -> Option<usize> {
    if b.first() != Some(&0x1b) {
        return None;
    }
    match b.get(1)? {
        b'[' => b[2..].iter().position(|c| (0x40..=0x7e).contains(c)).map(|p| p + 3),
        b']' => {
            let end = b[2..].iter().position(|c| *c == 0x07 || *c == 0x1b)?;
            Some(end + 3 + usize::from(b[2 + end] == 0x1b))
        }
        _ => Some(2),
    }
}

/// The CLI's output, line by line, scrubbed across lines: a line whose end
/// could begin a secret is held until the next one shows whether it does
/// (a wrapped key arrives in pieces), and released at the latest when the
/// stream ends or pauses.
pub struct Stream<'a> {
    secrets: &'a Secrets,
    held: Vec<String>,
}

impl<'a> Stream<'a> {
    pub fn new(secrets: &'a Secrets) -> Stream<'a> {
        Stream { secrets, held: Vec::new() }
    }

    /// The lines that can be shown now, scrubbed. What is held is judged
    /// as one text, its line breaks left out: a key wrapped over any number
    /// of lines, or printed a few characters a line (N9, N10), is held while
    /// the held text's end could still begin one; the caller flushes after
    /// a second's pause, so holding is bounded in time, and in lines by
    /// twice the longest key (one character a line, with breaks between).
    pub fn push(&mut self, line: &str) -> Vec<String> {
        self.held.push(line.to_string());
        let joined = self.secrets.redact(&self.held.join("\n"));
        let lines: Vec<String> = joined.split('\n').map(String::from).collect();
        let cap = 16.max(2 * self.secrets.scrub.iter().map(|v| v.chars().count()).max().unwrap_or(0));
        if self.held.len() < cap && self.secrets.might_continue(&joined.replace(['\n', '\r'], "")) {
            // Kept whole (its lines, redacted or not) to be joined again.
            return Vec::new();
        }
        self.held.clear();
        lines
    }

    /// Whatever is held, scrubbed (the stream ended or paused).
    pub fn flush(&mut self) -> Vec<String> {
        if self.held.is_empty() {
            return Vec::new();
        }
        let joined = self.secrets.redact(&self.held.join("\n"));
        self.held.clear();
        joined.split('\n').map(String::from).collect()
    }
}

impl Secrets {
    /// Whether the end of `line` (escapes aside) is the start of a secret.
    fn might_continue(&self, line: &str) -> bool {
        let plain: String = visible(line).into_iter().map(|(c, _)| c).collect();
        self.scrub.iter().any(|v| v.char_indices().skip(1).any(|(at, _)| plain.ends_with(&v[..at])))
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

    const KEY: &str = "sk-planted-secret-4d1b9e7a20";

    fn with_key() -> Secrets {
        Secrets::from_sources(&env(&[("COHERE_API_KEY", KEY)]), &[], vec![], &names())
    }

    #[test]
    fn a_key_split_by_a_line_break_or_a_colour_code_is_scrubbed() {
        let s = with_key();
        // Wrapped at a column, as rich wraps on a pipe.
        assert_eq!(s.redact("auth failed: sk-planted-se\ncret-4d1b9e7a20 (401)"), "auth failed: [redacted]\n (401)");
        // A colour change inside it.
        assert_eq!(s.redact("key \x1b[1msk-planted\x1b[0m-secret-4d1b9e7a20."), "key \x1b[1m[redacted].");
        // Both, and twice.
        let t = format!("{KEY} and sk-planted-\r\n\x1b]8;;x\x07secret-4d1b9e7a20");
        assert_eq!(s.redact(&t), "[redacted] and [redacted]\n");
        assert_eq!(s.redact("nothing here\n"), "nothing here\n");
    }

    #[test]
    fn a_stream_holds_a_line_that_may_begin_a_key() {
        let s = with_key();
        let mut st = Stream::new(&s);
        assert_eq!(st.push("plain line"), ["plain line"]);
        // The end of this line could begin the key: held.
        assert!(st.push("Error: key sk-planted-se").is_empty());
        assert_eq!(st.push("cret-4d1b9e7a20 rejected"), ["Error: key [redacted]", " rejected"]);
        // Held, then the stream ends: shown as it is (it was no key).
        assert!(st.push("ends with sk-").is_empty());
        assert_eq!(st.flush(), ["ends with sk-"]);
        assert!(st.flush().is_empty());
    }

    /// N10: a 164-character key wrapped at 80 columns; N9: a key printed
    /// two characters a line. Neither prints any piece of it.
    #[test]
    fn a_key_over_any_number_of_lines_prints_no_piece() {
        let key: String = (0..164).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
        let key = format!("sk-proj-{key}");
        let s = Secrets::from_sources(&env(&[("OPENAI_API_KEY", &key)]), &[], Vec::new(), &["OPENAI_API_KEY".into()]);
        let shown = |lines: Vec<&str>| {
            let mut st = Stream::new(&s);
            let mut out: Vec<String> = lines.iter().flat_map(|l| st.push(l)).collect();
            out.extend(st.flush());
            out.join("\n")
        };
        let text = format!("Error: invalid key {key} (check it)");
        let wrapped: Vec<&str> = text.as_bytes().chunks(80).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let out = shown(wrapped);
        let two: Vec<&str> = key.as_bytes().chunks(2).map(|c| std::str::from_utf8(c).unwrap()).collect();
        let out2 = shown(two);
        for out in [out, out2] {
            assert!(out.contains("[redacted]"), "{out}");
            for piece in key.as_bytes().chunks(16).map(|c| std::str::from_utf8(c).unwrap()) {
                assert!(!out.replace('\n', "").contains(piece), "piece {piece} shown: {out}");
            }
        }
    }

    #[test]
    fn a_non_utf8_key_is_scrubbed_in_the_form_output_shows_it() {
        use std::os::unix::ffi::OsStringExt;
        let raw = b"sk-abcdefgh\xffijklmnop".to_vec();
        let e = vec![(OsString::from("COHERE_API_KEY"), OsString::from_vec(raw.clone()))];
        let s = Secrets::from_sources(&e, &[], vec![], &names());
        let printed = format!("error: {}", String::from_utf8_lossy(&raw));
        assert_eq!(s.redact(&printed), "error: [redacted]");
        assert_eq!(s.redact("partial sk-abcdefgh"), "partial [redacted]");
    }

    #[test]
    fn redacts_known_values() {
        let s = Secrets::from_sources(&[], &[("OTHER_TOKEN".into(), "sk-secret-123".into())], vec![], &[]);
        assert_eq!(s.redact("auth failed for sk-secret-123!"), "auth failed for [redacted]!");
    }

    /// N18: the study's key is set nowhere here (a report made later): a
    /// key echoed in the logs is still scrubbed, by its format, and the
    /// note says so; a git hash and ordinary text are left alone.
    #[test]
    fn a_key_not_set_here_is_scrubbed_by_its_format() {
        let names = vec!["COHERE_API_KEY".to_string()];
        let s = Secrets::from_sources(&[], &[], Vec::new(), &names);
        assert_eq!(s.missing(), ["COHERE_API_KEY"]);
        let cohere = "Zq3kT8mW1pX9vB2nR7cY4hL6dF0sG5aJ8eK3uQ1o";
        let openai = "sk-proj-abcDEF123456ghiJKL789012mnoPQR345678";
        let sha = "3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a";
        let text = format!("auth failed for {cohere}; retry with {openai}; commit {sha}; see README");
        let out = s.redact(&text);
        assert!(!out.contains(cohere) && !out.contains(openai), "{out}");
        assert!(out.contains(sha) && out.contains("see README"), "{out}");
        assert!(s.pattern_note().unwrap().starts_with("COHERE_API_KEY not set here"));
        // Set, it is scrubbed by value and nothing else is touched.
        let env = [(OsString::from("COHERE_API_KEY"), OsString::from(cohere))];
        let s = Secrets::from_sources(&env, &[], Vec::new(), &names);
        assert!(s.missing().is_empty() && s.pattern_note().is_none());
        assert_eq!(s.redact(&format!("{cohere} {openai}")), format!("[redacted] {openai}"));
    }
}

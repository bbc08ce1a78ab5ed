//! Reading the CLI's JSON files into typed models, with errors that name
//! the field path (`agent.status`, `features[0]`); and the rounding of
//! numbers the harness writes.

use serde_json::Value;

/// Parses text, turning serde's message into one that says truncation plainly.
pub fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| syntax(&e))
}

/// Six decimals and no `-0`, so that written numbers diff only when they change.
pub fn round6(x: f64) -> f64 {
    let r = (x * 1e6).round() / 1e6;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Deserialises `T` from a JSON object (every file the CLI writes is one),
/// naming the field at fault by its path (`agent.status`, `features[0]`).
/// Bare `NaN`, `Infinity` and `-Infinity`, which Python writes and reads
/// back, are read where the model asks for a [`Number`], and are a wrong
/// type anywhere else.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    // serde would take `[...]` for a struct too; the CLI never writes one.
    let found = match text.trim_start().bytes().next() {
        None | Some(b'{') => None,
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b't' | b'f') => Some("a boolean"),
        Some(b'n') => Some("null"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        Some(_) => None,
    };
    if let Some(found) = found {
        return Err(format!("expected a JSON object, found {found}"));
    }
    // The syntax first (serde_json's own categories tell a cut-off file from
    // a malformed one), with the non-finite tokens marked so that it parses.
    let marked;
    let text = if NONFINITE.iter().any(|t| text.contains(t)) {
        marked = mark_nonfinite(text).0;
        marked.as_str()
    } else {
        text
    };
    // The common case in one pass, straight into the model (verify reads
    // thousands of files: a `Value` first would allocate every string
    // twice). Anything it refuses (a syntax error, a field, a duplicate key
    // that Python would take the last of) is read again the careful way
    // below, whose answer, and whose words, are the rule.
    let mut de = serde_json::Deserializer::from_str(text);
    if let Ok(v) = T::deserialize(&mut de) {
        if de.end().is_ok() {
            return Ok(v);
        }
    }
    let value: Value = serde_json::from_str(text).map_err(|e| syntax(&e))?;
    // Then the model, whose errors carry the field's path.
    serde_path_to_error::deserialize(value).map_err(|e| {
        let root = e.path().iter().next().is_none();
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        if root {
            msg
        } else {
            format!("field `{path}`: {msg}")
        }
    })
}

fn syntax(e: &serde_json::Error) -> String {
    if e.is_eof() {
        format!("truncated JSON (ends at line {}, column {})", e.line(), e.column())
    } else {
        format!("invalid JSON: {e}")
    }
}

/// A number as Python's `json` reads one: a JSON number, or one of the bare
/// tokens `NaN`, `Infinity`, `-Infinity` (marked by [`from_str`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number(pub f64);

impl<'de> serde::Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Number, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                match v.strip_prefix('\u{0}') {
                    Some("NaN") => Ok(Number(f64::NAN)),
                    Some("Infinity") => Ok(Number(f64::INFINITY)),
                    Some("-Infinity") => Ok(Number(f64::NEG_INFINITY)),
                    _ => Err(E::invalid_type(serde::de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A feature number: what the CLI names `f<N>`; anything past `u32` is an
/// error, never a truncation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature(pub u32);

impl<'de> serde::Deserialize<'de> for Feature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Feature, D::Error> {
        unsigned(d, "a feature number (0 to 4294967295)", u32::MAX as u64).map(|v| Feature(v as u32))
    }
}

/// A task id: a non-negative integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskId(pub u64);

impl<'de> serde::Deserialize<'de> for TaskId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<TaskId, D::Error> {
        unsigned(d, "a non-negative integer", u64::MAX).map(TaskId)
    }
}

/// An integer from 0 to `max`, `what` in the message when it is not one.
fn unsigned<'de, D: serde::Deserializer<'de>>(d: D, what: &'static str, max: u64) -> Result<u64, D::Error> {
    struct V(&'static str, u64);
    impl serde::de::Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(self.0)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            if v <= self.1 {
                Ok(v)
            } else {
                Err(E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self)),
            }
        }
    }
    d.deserialize_any(V(what, max))
}

/// The three tokens Python's `json` reads as numbers and JSON has not.
const NONFINITE: [&str; 3] = ["-Infinity", "Infinity", "NaN"];

/// Marks each bare `NaN`/`Infinity`/`-Infinity` (outside strings) as a string
/// `"\u0000<token>"`, so that a strict parser can read the rest and say
/// where they were. Not a parser: it only tells strings from the rest.
fn mark_nonfinite(text: &str) -> (String, usize) {
    let (mut out, mut n) = (String::with_capacity(text.len() + 16), 0);
    let (mut in_string, mut escaped) = (false, false);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if let Some(t) = NONFINITE.iter().find(|t| rest.starts_with(**t)) {
            out.push_str(&format!("\"\\u0000{t}\""));
            rest = &rest[t.len()..];
            n += 1;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    (out, n)
}

/// Where the file holds `NaN`, `Infinity` or `-Infinity`, as (field path,
/// token): Python reads them, so the CLI does, and verify names them.
pub fn nonfinite_numbers(text: &str) -> Vec<(String, String)> {
    if !NONFINITE.iter().any(|t| text.contains(t)) {
        return Vec::new();
    }
    let (marked, n) = mark_nonfinite(text);
    let Some(value) = serde_json::from_str::<Value>(&marked).ok().filter(|_| n > 0) else { return Vec::new() };
    let mut found = Vec::new();
    walk(&value, &mut String::new(), &mut found);
    found
}

fn walk(v: &Value, path: &mut String, found: &mut Vec<(String, String)>) {
    let len = path.len();
    match v {
        Value::String(s) => {
            if let Some(t) = s.strip_prefix('\u{0}').filter(|t| NONFINITE.contains(t)) {
                found.push((if path.is_empty() { ".".into() } else { path.clone() }, t.to_string()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push_str(&format!("[{i}]"));
                walk(item, path, found);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                walk(item, path, found);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Whether Python's `json.load` (the CLI's reader) parses these bytes: UTF-8
/// JSON, plus the bare tokens `NaN`, `Infinity` and `-Infinity`, and numbers
/// too large for a float (Python reads them as infinity). Only a file this
/// says no to may be moved aside: anything else the CLI reads and trusts.
pub fn python_reads(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else { return false };
    let (marked, _) = mark_nonfinite(text);
    match serde_json::from_str::<serde::de::IgnoredAny>(&marked) {
        Ok(_) => true,
        Err(e) => e.to_string().starts_with("number out of range"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Timed {
        task_id: TaskId,
        duration_seconds: Number,
        features: (Feature, Feature),
    }

    #[test]
    fn nan_and_infinity_are_read_as_python_reads_them_and_named() {
        let text = r#"{"task_id": 7, "duration_seconds": NaN, "features": [1, 2], "note": "NaN here is text",
                       "agent": {"cost": -Infinity}, "steps": [1, Infinity]}"#;
        let t: Timed = from_str(text).unwrap();
        assert!(t.duration_seconds.0.is_nan());
        assert_eq!((t.task_id.0, t.features.0 .0, t.features.1 .0), (7, 1, 2));
        assert_eq!(
            nonfinite_numbers(text),
            [
                ("agent.cost".to_string(), "-Infinity".to_string()),
                ("duration_seconds".to_string(), "NaN".to_string()),
                ("steps[1]".to_string(), "Infinity".to_string())
            ]
        );
        assert!(python_reads(text.as_bytes()));
        assert!(nonfinite_numbers(r#"{"a": "NaN", "b": "x\"NaN"}"#).is_empty());
    }

    #[test]
    fn what_python_cannot_read() {
        for bad in [&b"{\"a\": 1"[..], b"{\"a\": nan}", b"{'a': 1}", b"{\"a\": 1,}", b"\xff{}", b"", b"\xef\xbb\xbf{}"]
        {
            assert!(!python_reads(bad), "{:?}", String::from_utf8_lossy(bad));
        }
        for good in [&b"{}"[..], b"[1, 2]", b"null", b" {\"a\": 1e999} ", b"{\"a\": NaN}", b"{\"a\": \"\\\"NaN\"}"] {
            assert!(python_reads(good), "{:?}", String::from_utf8_lossy(good));
        }
    }

    #[test]
    fn a_bad_field_beside_nan_is_still_named() {
        let e = from_str::<Timed>(r#"{"task_id": "seven", "duration_seconds": NaN, "features": [1, 2]}"#).unwrap_err();
        assert!(e.contains("task_id"), "{e}");
    }
}

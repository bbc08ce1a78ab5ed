//! Reading the CLI's JSON files into typed models, with errors that name
//! the field path (`agent.status`, `features[0]`); and the rounding of
//! numbers the harness writes.

use serde_json::Value;

/// Parses text, turning serde's message into one that says truncation plainly.
pub fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| {
        if e.is_eof() {
            format!("truncated JSON (ends at line {}, column {})", e.line(), e.column())
        } else {
            format!("invalid JSON: {e}")
        }
    })
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
/// naming the field at fault: `missing field `agent.status``, `field
/// `features[0]`: invalid value: ...`.
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
    let mut de = serde_json::Deserializer::from_str(text);
    let strict = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| {
            let path = e.path().to_string();
            describe(&path, e.into_inner())
        })
        .and_then(|v| de.end().map(|()| v).map_err(|e| describe(".", e)));
    match strict {
        Ok(v) => Ok(v),
        // The CLI writes `float('nan')` as a bare `NaN`, which Python reads
        // back and serde_json does not. Such a file is read by JSON5 (which
        // has those tokens), but only once it is known to be JSON otherwise.
        Err(_) if !nonfinite_numbers(text).is_empty() && python_reads(text.as_bytes()) => {
            let mut de = json5::Deserializer::from_str(text).map_err(|x| format!("invalid JSON: {x}"))?;
            serde_path_to_error::deserialize(&mut de).map_err(|x| {
                let path = x.path().to_string();
                let msg = x.into_inner().to_string();
                if path == "." || path.is_empty() {
                    msg
                } else {
                    format!("field `{path}`: {msg}")
                }
            })
        }
        Err(e) => Err(e),
    }
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

fn describe(path: &str, e: serde_json::Error) -> String {
    if e.is_eof() {
        return format!("truncated JSON (ends at line {}, column {})", e.line(), e.column());
    }
    if e.is_syntax() {
        return format!("invalid JSON: {e}");
    }
    let full = e.to_string();
    let msg = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => &full,
    };
    let msg = msg
        .replace("expected f64", "expected a number")
        .replace("expected u64", "expected a non-negative integer")
        .replace("expected u32", "expected a feature number (0 to 4294967295)");
    let root = path == "." || path.is_empty();
    if let Some(name) = msg.strip_prefix("missing field `").and_then(|m| m.strip_suffix('`')) {
        return if root { format!("missing field `{name}`") } else { format!("missing field `{path}.{name}`") };
    }
    if root {
        return msg;
    }
    format!("field `{path}`: {msg}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct Timed {
        task_id: u64,
        duration_seconds: f64,
        features: (u32, u32),
    }

    #[test]
    fn nan_and_infinity_are_read_as_python_reads_them_and_named() {
        let text = r#"{"task_id": 7, "duration_seconds": NaN, "features": [1, 2], "note": "NaN here is text",
                       "agent": {"cost": -Infinity}, "steps": [1, Infinity]}"#;
        let t: Timed = from_str(text).unwrap();
        assert!(t.duration_seconds.is_nan());
        assert_eq!((t.task_id, t.features), (7, (1, 2)));
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

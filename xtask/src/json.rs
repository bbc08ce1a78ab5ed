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
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        describe(&path, e.into_inner())
    })?;
    de.end().map_err(|e| describe(".", e))?;
    Ok(value)
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

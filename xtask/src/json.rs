//! Field-by-field reading of the CLI's JSON files, so that every error names
//! the field (`agent.status`) and reading goes on past it; and the rounding
//! of numbers the harness writes.

use serde_json::Value;

pub struct Fields<'a> {
    root: &'a Value,
    pub errors: Vec<String>,
}

impl<'a> Fields<'a> {
    pub fn new(root: &'a Value) -> Fields<'a> {
        let mut errors = Vec::new();
        if !root.is_object() {
            errors.push(format!("expected a JSON object, found {}", kind(root)));
        }
        Fields { root, errors }
    }

    /// The value at a dotted path, `None` when absent (not an error yet).
    pub fn get(&self, path: &str) -> Option<&'a Value> {
        path.split('.').try_fold(self.root, |v, key| v.get(key))
    }

    fn need(&mut self, path: &str) -> Option<&'a Value> {
        let v = self.get(path);
        if v.is_none() && self.root.is_object() {
            self.errors.push(format!("missing field `{path}`"));
        }
        v
    }

    fn wrong(&mut self, path: &str, want: &str, v: &Value) {
        self.errors.push(format!("field `{path}`: expected {want}, found {}", kind(v)));
    }

    pub fn str(&mut self, path: &str) -> Option<String> {
        let v = self.need(path)?;
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.wrong(path, "a string", v);
                None
            }
        }
    }

    /// A string or null; absent counts as null.
    pub fn opt_str(&mut self, path: &str) -> Option<String> {
        match self.get(path) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            // The CLI stores `str(e)`; anything else is still worth showing.
            Some(v) => Some(v.to_string()),
        }
    }

    pub fn f64(&mut self, path: &str) -> Option<f64> {
        let v = self.need(path)?;
        match v {
            Value::Number(n) => n.as_f64(),
            // Python writes None for a cost it could not track.
            Value::Null => Some(0.0),
            _ => {
                self.wrong(path, "a number", v);
                None
            }
        }
    }

    pub fn opt_f64(&mut self, path: &str) -> Option<f64> {
        match self.get(path) {
            Some(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    pub fn u64(&mut self, path: &str) -> Option<u64> {
        let v = self.need(path)?;
        match v.as_u64() {
            Some(n) => Some(n),
            None => {
                self.wrong(path, "a non-negative integer", v);
                None
            }
        }
    }

    pub fn bool(&mut self, path: &str) -> Option<bool> {
        let v = self.need(path)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong(path, "true or false", v);
                None
            }
        }
    }

    pub fn features(&mut self, path: &str) -> Option<(u32, u32)> {
        let v = self.need(path)?;
        let pair = v.as_array().and_then(|a| match a.as_slice() {
            [x, y] => Some((x.as_u64()? as u32, y.as_u64()? as u32)),
            _ => None,
        });
        if pair.is_none() {
            self.wrong(path, "two feature numbers", v);
        }
        pair
    }

    pub fn finish<T>(self, value: Option<T>) -> Result<T, String> {
        match (self.errors.is_empty(), value) {
            (true, Some(v)) => Ok(v),
            _ => Err(if self.errors.is_empty() { "unreadable".to_string() } else { self.errors.join("; ") }),
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

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

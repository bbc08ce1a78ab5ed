//! The `--agent-config` YAML that carries `[model_kwargs]` to the CLI: it
//! cannot take an API base or sampling settings as flags, and ignores
//! `MSWEA_MODEL_API_BASE` (CONTRACT.md). Pure text; `seeds` writes it.
//! Secrets never go in it: preflight refuses secret-looking keys.

/// The YAML for these settings; `None` when there are none (no file, no flag).
pub fn text(model_kwargs: &toml::Table) -> anyhow::Result<Option<String>> {
    if model_kwargs.is_empty() {
        return Ok(None);
    }
    let mut yaml = String::from(
        "# Written by `cargo xtask seeds` from experiment.toml [model_kwargs].\nmodel:\n  model_kwargs:\n",
    );
    for (k, v) in model_kwargs {
        let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            k.clone()
        } else {
            serde_json::to_string(k)?
        };
        yaml.push_str(&format!("    {key}: {}\n", value(v)?));
    }
    Ok(Some(yaml))
}

fn value(v: &toml::Value) -> anyhow::Result<String> {
    Ok(match v {
        toml::Value::String(s) => serde_json::to_string(s)?,
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => format!("{f:?}"),
        toml::Value::Boolean(b) => b.to_string(),
        // JSON is YAML: nested tables and arrays go in flow style.
        other => serde_json::to_string(&serde_json::to_value(other)?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_flow_yaml_and_none_means_no_file() {
        assert_eq!(text(&toml::Table::new()).unwrap(), None);
        let kw: toml::Table = toml::from_str(
            "api_base = \"http://127.0.0.1:8000/v1\"\ntemperature = 0.0\nmax_tokens = 512\n\"odd-key\" = true\nstop = [\"a\", \"b\"]\n",
        )
        .unwrap();
        let y = text(&kw).unwrap().unwrap();
        // The whole file, keys sorted (toml::Table is ordered): every value
        // written as YAML flow, a key that is not a plain word quoted.
        assert_eq!(
            y,
            "# Written by `cargo xtask seeds` from experiment.toml [model_kwargs].\nmodel:\n  model_kwargs:\n    \
             api_base: \"http://127.0.0.1:8000/v1\"\n    max_tokens: 512\n    \"odd-key\": true\n    \
             stop: [\"a\",\"b\"]\n    temperature: 0.0\n"
        );
    }
}

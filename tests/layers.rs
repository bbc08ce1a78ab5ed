//! The layers of `xtask/src/` (see its lib.rs): imports run downwards only.
//! `study/` is pure and imports nothing of the harness but itself; `edges/`
//! and `support/` never import `commands/`. A change that breaks this fails
//! here with the file and line, so the folders keep showing the design.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every line of the layer's files that holds one of `forbidden`, as
/// `file:line: text`.
fn offending(layer: &str, forbidden: &[&str]) -> Vec<String> {
    offending_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(layer), forbidden)
}

fn offending_in(root: &Path, forbidden: &[&str]) -> Vec<String> {
    let files = rust_files(root);
    assert!(!files.is_empty(), "no Rust files under {}", root.display());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if let Some(f) = forbidden.iter().find(|f| line.contains(**f)) {
                found.push(format!("{}:{}: `{f}` in: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn study_imports_nothing_of_the_harness_but_itself_and_touches_nothing() {
    let found = offending(
        "study",
        &[
            "crate::edges",
            "crate::commands",
            "crate::support",
            // The effects `edges/` is for.
            "std::fs",
            "std::process",
            "std::net",
            "duct::",
            "xshell::",
            "Local::now",
            "SystemTime::now",
            "Instant::now",
        ],
    );
    assert!(found.is_empty(), "study/ must stay pure (move the effect to edges/):\n{}", found.join("\n"));
}

#[test]
fn edges_and_support_never_import_commands() {
    let mut found = offending("edges", &["crate::commands"]);
    found.extend(offending("support", &["crate::commands"]));
    assert!(found.is_empty(), "edges/ and support/ must not import commands/:\n{}", found.join("\n"));
}

/// The check itself finds what it is looking for, and skips comments.
#[test]
fn the_check_names_an_import_where_there_is_one() {
    let dir = std::env::temp_dir().join(format!("xtask-layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("inner")).unwrap();
    std::fs::write(dir.join("inner/a.rs"), "// crate::edges in a comment\nuse crate::edges::logs;\n").unwrap();
    std::fs::write(dir.join("b.rs"), "fn pure() {}\n").unwrap();
    let found = offending_in(&dir, &["crate::edges"]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("inner/a.rs:2: `crate::edges` in: use crate::edges::logs;"), "{}", found[0]);
}

//! The docs stay true: every `cargo xtask ...` command that README.md,
//! docs/, CONTRIBUTING.md, ARCHITECTURE.md and CHANGELOG.md show parses
//! with the very flag parser `main` uses (the subcommand and every flag
//! exist), and every file they link to exists. Rename a flag and forget a
//! page, and this fails naming the page and the line.

use std::path::{Path, PathBuf};

use clap::Parser;
use xtask::commands::Cli;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The pages users read.
fn pages() -> Vec<PathBuf> {
    let root = root();
    let mut out: Vec<PathBuf> =
        ["README.md", "CONTRIBUTING.md", "ARCHITECTURE.md", "CHANGELOG.md"].iter().map(|p| root.join(p)).collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is there")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

/// Every `cargo xtask` command of a page, with its line: the lines of code
/// blocks that start with it, and inline code spans that hold it (a span may
/// break across lines). Comments after `#` are dropped.
fn commands(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            let l = line.trim_start().trim_start_matches("$ ");
            if l.starts_with("cargo xtask") {
                out.push((n + 1, l.split("  #").next().unwrap_or(l).trim().to_string()));
            }
        }
    }
    // Inline spans, outside code blocks.
    let mut prose = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            prose.push('\n');
            continue;
        }
        prose.push_str(if in_block { "" } else { line });
        prose.push('\n');
    }
    let mut rest = prose.as_str();
    let mut offset = 0;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else { break };
        let span = &after[..end];
        let words: Vec<&str> = span.split_whitespace().collect();
        if words.len() >= 2 && words[0] == "cargo" && words[1] == "xtask" {
            let line = prose[..offset + start].matches('\n').count() + 1;
            out.push((line, words.join(" ")));
        }
        offset += start + 1 + end + 1;
        rest = &after[end + 1..];
    }
    out
}

/// Whether a documented command is a template rather than one to run:
/// `cargo xtask <command> --help`, `cargo xtask ...`, bare `cargo xtask`.
fn is_template(cmd: &str) -> bool {
    cmd.contains('<') || cmd.contains("...") || cmd.split_whitespace().count() < 3
}

/// The words a shell would pass, `cargo xtask` standing for the program.
fn argv(cmd: &str) -> Vec<String> {
    let mut words = vec!["cargo xtask".to_string()];
    let rest = cmd.strip_prefix("cargo xtask").unwrap_or(cmd);
    let (mut word, mut quote) = (String::new(), None);
    for c in rest.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (None, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Why a documented command does not parse, if it does not.
fn refusal(cmd: &str) -> Option<String> {
    match Cli::try_parse_from(argv(cmd)) {
        Ok(_) => None,
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            None
        }
        Err(e) => Some(e.to_string().lines().next().unwrap_or_default().to_string()),
    }
}

#[test]
fn every_documented_command_parses() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (line, cmd) in commands(&text) {
            if is_template(&cmd) {
                continue;
            }
            checked += 1;
            if let Some(why) = refusal(&cmd) {
                wrong.push(format!("{}:{line}: `{cmd}`: {why}", page.display()));
            }
        }
    }
    assert!(checked > 20, "only {checked} commands found in the docs: is the extraction broken?");
    assert!(wrong.is_empty(), "documented commands the parser refuses:\n{}", wrong.join("\n"));
}

#[test]
fn every_linked_file_exists() {
    let link = regex::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut missing = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for (n, line) in text.lines().enumerate() {
            for c in link.captures_iter(line) {
                let target = &c[1];
                if target.starts_with("http://") || target.starts_with("https://") || target.starts_with('#') {
                    continue;
                }
                let path = target.split('#').next().unwrap_or(target);
                if !page.parent().unwrap().join(path).exists() {
                    missing.push(format!("{}:{}: {target}", page.display(), n + 1));
                }
            }
        }
    }
    assert!(missing.is_empty(), "links to files that are not there:\n{}", missing.join("\n"));
}

/// The checks find what they look for: a renamed flag, an unknown command,
/// a span broken across lines, and a template, each as they should be.
#[test]
fn the_checks_catch_a_renamed_flag() {
    assert_eq!(refusal("cargo xtask seeds --dry-run --yes"), None);
    assert_eq!(refusal("cargo xtask triage RUN PAIR"), None);
    assert_eq!(refusal("cargo xtask --help"), None);
    assert!(refusal("cargo xtask seeds --dryrun").is_some_and(|w| w.contains("--dryrun")));
    assert!(refusal("cargo xtask sedes").is_some());
    let found =
        commands("Run `cargo\n   xtask seeds --yes` again.\n```sh\ncargo xtask verify --json  # machines\n```\n");
    assert_eq!(found, [(4, "cargo xtask verify --json".to_string()), (1, "cargo xtask seeds --yes".to_string())]);
    assert!(is_template("cargo xtask <command> --help") && is_template("cargo xtask"));
}

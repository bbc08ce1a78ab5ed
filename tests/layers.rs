//! The layers of `xtask/src/` (ARCHITECTURE.md): imports run downwards only.
//!
//! - `study/` is pure: it imports nothing of the harness but itself, and no
//!   effect (file, process, clock);
//! - `edges/` and `support/` never import `engine/` or `commands/`;
//! - `engine/` never imports `commands/`;
//! - a command never imports another command (`demo`, `bench` and `e2e`
//!   orchestrate others, and may);
//! - no module is in a circle of imports.
//!
//! Every `crate::`, `super::` and `self::` path is read, in `use` lines
//! (braces expanded: `use crate::{edges::logs, study::pair}`) and in code,
//! and resolved to the file that defines it. A change that breaks a rule
//! fails here with the file and line, so the folders keep showing the design.

use std::collections::{BTreeMap, BTreeSet};
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

/// One module of the crate: its path (`study::fig4::trials`) and its file.
#[derive(Debug, Clone)]
struct Module {
    path: Vec<String>,
    file: PathBuf,
    text: String,
}

/// Every module of the tree under `src` (a library crate's `src/`), the
/// crate root (`lib.rs`) and binaries (`main.rs`, `bin/`) left out: they
/// are not layers.
fn modules(src: &Path) -> Vec<Module> {
    let files = rust_files(src);
    assert!(!files.is_empty(), "no Rust files under {}", src.display());
    let mut out = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap();
        let mut path: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if path.first().is_some_and(|p| p == "bin") || rel == Path::new("lib.rs") || rel == Path::new("main.rs") {
            continue;
        }
        let last = path.pop().unwrap();
        if last != "mod.rs" {
            path.push(last.trim_end_matches(".rs").to_string());
        }
        let text = std::fs::read_to_string(&file).unwrap();
        out.push(Module { path, file, text });
    }
    out
}

/// The code of a file that is not a comment, a string's line, or a
/// `#[cfg(test)]` module: unit tests may reach anywhere.
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_tests = false;
    let mut depth = 0i32;
    let mut test_depth = 0i32;
    let mut pending_cfg_test = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        if t.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
            continue;
        }
        if pending_cfg_test && t.starts_with("mod ") {
            in_tests = true;
            test_depth = depth;
        }
        pending_cfg_test = false;
        depth += line.matches('{').count() as i32 - line.matches('}').count() as i32;
        if in_tests {
            if depth <= test_depth {
                in_tests = false;
            }
            continue;
        }
        out.push((n + 1, line.to_string()));
    }
    out
}

/// `a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`.
fn expand(path: &str) -> Vec<String> {
    let path: String = path.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = path.find('{') else { return vec![path] };
    let close = path.rfind('}').unwrap_or(path.len());
    let (head, inner) = (&path[..open], &path[open + 1..close]);
    let mut parts = Vec::new();
    let (mut level, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => level += 1,
            '}' => level -= 1,
            ',' if level == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().filter(|p| !p.is_empty()).flat_map(|p| expand(&format!("{head}{p}"))).collect()
}

/// Every path a module names, with its line: from `use` statements (which
/// may span lines) and from `crate::`/`super::` paths in code.
fn paths(m: &Module) -> Vec<(usize, String)> {
    let lines = code_lines(&m.text);
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (n, line) = &lines[i];
        let t = line.trim_start();
        let t = t.strip_prefix("pub ").or_else(|| t.strip_prefix("pub(crate) ")).unwrap_or(t);
        let t = t.strip_prefix("pub(super) ").unwrap_or(t);
        if let Some(rest) = t.strip_prefix("use ") {
            let mut stmt = rest.to_string();
            while !stmt.contains(';') && i + 1 < lines.len() {
                i += 1;
                stmt.push_str(&lines[i].1);
            }
            let stmt = stmt.split(';').next().unwrap_or_default();
            for p in expand(stmt) {
                out.push((*n, p.split(" as ").next().unwrap_or_default().to_string()));
            }
        } else {
            for start in ["crate::", "super::", "self::"] {
                let mut from = 0;
                while let Some(k) = line[from..].find(start) {
                    let at = from + k;
                    let before = line[..at].chars().last();
                    from = at + start.len();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                        continue;
                    }
                    let p: String =
                        line[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
                    out.push((*n, p.trim_end_matches(':').to_string()));
                }
            }
        }
        i += 1;
    }
    out
}

/// The module a path names, from `m`: the longest prefix that is a module.
fn resolve(m: &Module, path: &str, known: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<String> = match segs.first()? {
        &"crate" => {
            segs.remove(0);
            Vec::new()
        }
        &"self" => {
            segs.remove(0);
            m.path.clone()
        }
        &"super" => {
            let mut b = m.path.clone();
            while segs.first() == Some(&"super") {
                segs.remove(0);
                b.pop();
            }
            b
        }
        // `use trials::Design` in a module that declares `mod trials`.
        first if known.contains(&[m.path.clone(), vec![first.to_string()]].concat()) => m.path.clone(),
        _ => return None,
    };
    // `super::*` names the parent itself.
    let mut found = known.contains(&base).then(|| base.clone());
    for s in segs {
        base.push(s.to_string());
        if known.contains(&base) {
            found = Some(base.clone());
        } else {
            break;
        }
    }
    found
}

/// One import: from a module to a module, where.
#[derive(Debug, Clone)]
struct Edge {
    from: Vec<String>,
    to: Vec<String>,
    file: PathBuf,
    line: usize,
    text: String,
}

fn edges(mods: &[Module]) -> Vec<Edge> {
    let known: BTreeSet<Vec<String>> = mods.iter().map(|m| m.path.clone()).collect();
    let mut out = Vec::new();
    for m in mods {
        for (line, p) in paths(m) {
            let Some(to) = resolve(m, &p, &known) else { continue };
            if to != m.path {
                out.push(Edge { from: m.path.clone(), to, file: m.file.clone(), line, text: p });
            }
        }
    }
    out
}

fn layer(path: &[String]) -> &str {
    path.first().map(String::as_str).unwrap_or("")
}

/// The commands that run other commands through their public `run`.
const ORCHESTRATORS: [&str; 3] = ["demo", "bench", "e2e"];

/// Every import that runs the wrong way, as `file:line: why`.
fn wrong_way(edges: &[Edge]) -> Vec<String> {
    let mut found = Vec::new();
    for e in edges {
        let (from, to) = (layer(&e.from), layer(&e.to));
        let why = match (from, to) {
            ("study", "edges" | "engine" | "commands" | "support") => Some("study/ is pure: it imports only itself"),
            ("edges" | "support", "engine" | "commands") => Some("edges/ and support/ are below engine/ and commands/"),
            ("engine", "commands") => Some("engine/ never imports commands/"),
            ("commands", "commands")
                if e.from.get(1) != e.to.get(1) && !ORCHESTRATORS.contains(&e.from[1].as_str()) =>
            {
                Some("a command never imports another command")
            }
            _ => None,
        };
        if let Some(why) = why {
            found.push(format!("{}:{}: `{}` ({why})", e.file.display(), e.line, e.text));
        }
    }
    found
}

/// Every circle of imports between modules, each as its edges.
fn circles(edges: &[Edge]) -> Vec<Vec<Edge>> {
    let mut graph: BTreeMap<&Vec<String>, Vec<&Edge>> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.from).or_default().push(e);
    }
    let mut out: Vec<Vec<Edge>> = Vec::new();
    let mut seen_sets: BTreeSet<BTreeSet<Vec<String>>> = BTreeSet::new();
    // A depth-first walk from each module; a path back to a module on the
    // stack is a circle (each reported once, by its set of modules).
    fn walk<'a>(
        at: &'a Vec<String>,
        graph: &BTreeMap<&'a Vec<String>, Vec<&'a Edge>>,
        stack: &mut Vec<&'a Edge>,
        on_stack: &mut Vec<&'a Vec<String>>,
        done: &mut BTreeSet<&'a Vec<String>>,
        found: &mut Vec<Vec<&'a Edge>>,
    ) {
        on_stack.push(at);
        for e in graph.get(at).into_iter().flatten() {
            if let Some(k) = on_stack.iter().position(|m| *m == &e.to) {
                let mut c: Vec<&Edge> = stack[k..].to_vec();
                c.push(e);
                found.push(c);
            } else if !done.contains(&e.to) {
                stack.push(e);
                walk(&e.to, graph, stack, on_stack, done, found);
                stack.pop();
            }
        }
        on_stack.pop();
        done.insert(at);
    }
    let mut done = BTreeSet::new();
    let mut found = Vec::new();
    for m in graph.keys() {
        if !done.contains(*m) {
            walk(m, &graph, &mut Vec::new(), &mut Vec::new(), &mut done, &mut found);
        }
    }
    for c in found {
        let set: BTreeSet<Vec<String>> = c.iter().map(|e| e.from.clone()).collect();
        if seen_sets.insert(set) {
            out.push(c.into_iter().cloned().collect());
        }
    }
    out
}

fn describe(c: &[Edge]) -> String {
    c.iter()
        .map(|e| {
            format!("  {} -> {} ({}:{}: `{}`)", e.from.join("::"), e.to.join("::"), e.file.display(), e.line, e.text)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Lines of a layer's code that name an effect `study/` must not have.
fn effects_in(mods: &[Module], layer_name: &str, forbidden: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for m in mods.iter().filter(|m| layer(&m.path) == layer_name) {
        for (n, line) in code_lines(&m.text) {
            if let Some(f) = forbidden.iter().find(|f| line.contains(**f)) {
                found.push(format!("{}:{n}: `{f}` in: {}", m.file.display(), line.trim()));
            }
        }
    }
    found
}

#[test]
fn imports_run_downwards_only() {
    let found = wrong_way(&edges(&modules(&src())));
    assert!(found.is_empty(), "imports that run the wrong way (ARCHITECTURE.md):\n{}", found.join("\n"));
}

#[test]
fn no_module_is_in_a_circle() {
    let c = circles(&edges(&modules(&src())));
    let text: Vec<String> = c.iter().map(|c| describe(c)).collect();
    assert!(c.is_empty(), "{} circle(s) of imports:\n{}", c.len(), text.join("\n\n"));
}

#[test]
fn study_touches_nothing() {
    let found = effects_in(
        &modules(&src()),
        "study",
        &["std::fs", "std::process", "std::net", "duct::", "xshell::", "Local::now", "SystemTime::now", "Instant::now"],
    );
    assert!(found.is_empty(), "study/ must stay pure (move the effect to edges/):\n{}", found.join("\n"));
}

/// A tree of planted modules, each file's text given.
fn planted(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<Module>) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mods = modules(dir.path());
    (dir, mods)
}

/// The checks find what they are looking for: each planted wrong import,
/// in every form, and a planted circle; comments and unit tests are skipped.
#[test]
fn the_checks_find_each_planted_fault() {
    let (_d, mods) = planted(&[
        ("study/pure.rs", "// crate::engine in a comment\nuse crate::engine::job::Job;\n"),
        ("study/mod.rs", "pub mod pair;\npub mod pure;\n#[cfg(test)]\nmod tests {\n    use crate::edges::x;\n}\n"),
        ("engine/job.rs", "use crate::{study::pair, commands::seeds::SeedsFlags};\n"),
        ("study/pair.rs", "pub struct PairId;\n"),
        ("engine/mod.rs", "pub mod job;\n"),
        ("edges/x.rs", "fn f() { crate::engine::job::go() }\n"),
        ("edges/mod.rs", "pub mod x;\n"),
        ("commands/seeds.rs", "use crate::commands::study::run;\n"),
        ("commands/study.rs", "use super::seeds;\n"),
        ("commands/demo.rs", "use crate::commands::seeds;\n"),
        ("commands/mod.rs", "pub mod demo;\npub mod seeds;\npub mod study;\n"),
    ]);
    let found = wrong_way(&edges(&mods));
    let want = [
        ("study/pure.rs:2:", "crate::engine::job::Job"),
        ("engine/job.rs:1:", "crate::commands::seeds::SeedsFlags"),
        ("edges/x.rs:1:", "crate::engine::job::go"),
        ("commands/seeds.rs:1:", "crate::commands::study::run"),
        ("commands/study.rs:1:", "super::seeds"),
    ];
    for (place, path) in want {
        assert!(
            found.iter().any(|f| f.contains(place) && f.contains(path)),
            "{place} `{path}` not found in:\n{found:#?}"
        );
    }
    assert_eq!(found.len(), want.len(), "only the planted faults (the demo may orchestrate): {found:#?}");
    let c = circles(&edges(&mods));
    assert_eq!(c.len(), 1, "{c:#?}");
    let names: BTreeSet<String> = c[0].iter().map(|e| e.from.join("::")).collect();
    assert_eq!(names, ["commands::seeds", "commands::study"].map(String::from).into());
}

#[test]
fn a_circle_between_a_parent_and_its_child_is_a_circle() {
    let (_d, mods) = planted(&[
        ("study/fig4/mod.rs", "mod trials;\npub use trials::Design;\npub struct Curves;\n"),
        ("study/fig4/trials.rs", "use crate::study::fig4::Curves;\npub struct Design;\n"),
        ("study/mod.rs", "pub mod fig4;\n"),
    ]);
    let c = circles(&edges(&mods));
    assert_eq!(c.len(), 1, "{c:#?}");
    assert!(describe(&c[0]).contains("study/fig4/trials.rs:1"), "{}", describe(&c[0]));
}

#[test]
fn braces_expand_to_every_path() {
    assert_eq!(
        expand("crate::{edges::{logs, read}, study::pair::PairId}"),
        ["crate::edges::logs", "crate::edges::read", "crate::study::pair::PairId"]
    );
}

//! The readable form of a verify [`Report`]: a table of runs, classes,
//! provenance, overlap, the difficulty distribution, then the problems a
//! few per check (`--json` has every one).

use std::fmt::Write as _;

use crate::study::outcome::EvalErrors;
use crate::study::problem::Severity;
use crate::study::verify::Report;

/// How many lines of one check the readable report shows; `--json` has all.
const LINES_PER_CHECK: usize = 5;

pub fn render_text(r: &Report) -> String {
    let mut o = String::new();
    // What was left out comes first: every number below is over the rest.
    if let Some(note) = &r.pairs_note {
        let _ = writeln!(o, "pairs: {note}");
    }
    let _ = writeln!(o, "subset {}: {} tasks, {} pairs", r.subset.name, r.subset.tasks, r.subset.pair_count);
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<28} {:<7} {:>9} {:>5} {:>5} {:>5} {:>5} {:>9} {:>6} {:>5} {:>9}",
        "run", "setting", "results", "evals", "pass", "fail", "e.err", "Submitted", "Limits", "Error", "cost"
    );
    for s in &r.runs {
        let st = |k: &str| s.counts.agent_status.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "{:<28} {:<7} {:>9} {:>5} {:>5} {:>5} {:>5} {:>9} {:>6} {:>5} {:>9}",
            s.name,
            s.setting,
            format!("{}/{}", s.counts.results, s.expected),
            s.counts.evals,
            s.counts.passed,
            s.counts.failed,
            s.counts.eval_errors,
            st("Submitted"),
            st("LimitsExceeded"),
            st("Error"),
            format!("${:.2}", s.counts.cost_usd)
        );
    }
    let _ = writeln!(o);
    // Whose each outcome is: the model's (a trial) or the machine's.
    for s in &r.runs {
        let classes: Vec<String> =
            s.class_pairs.iter().map(|(c, pairs)| format!("{} {}", c.name(), pairs.len())).collect();
        if !classes.is_empty() {
            let _ = writeln!(o, "{:<28} {}", s.name, classes.join(", "));
        }
    }
    for s in r.runs.iter().filter(|s| !s.retried.is_empty()) {
        let pairs: Vec<String> = s.retried.iter().map(|(p, n)| format!("{p} ({n})")).collect();
        let _ = writeln!(o, "{:<28} paid more than once: {}", s.name, pairs.join(", "));
    }
    if r.runs.iter().any(|s| !s.class_pairs.is_empty()) {
        let _ = writeln!(o);
    }
    // What made each run (and whence each value: manifest, config.json,
    // results, or unknown).
    for p in &r.provenance {
        let _ = writeln!(
            o,
            "{:<28} model {}, agent {}, cli {}, backend {}, agent config {}, dataset {}, images {}",
            p.run,
            p.model.shown(),
            p.agent.shown(),
            p.cli_version.shown(),
            p.backend.shown(),
            p.agent_config.shown(),
            p.dataset.shown(),
            p.images.shown()
        );
    }
    if !r.provenance.is_empty() {
        let _ = writeln!(o);
    }
    if r.overlap.identical {
        let _ = writeln!(o, "overlap: all {} runs hold the same pairs", r.runs.len());
    } else {
        let _ = writeln!(o, "overlap: pair sets differ from {}", r.overlap.reference.as_deref().unwrap_or("-"));
        for d in &r.overlap.differences {
            let _ = writeln!(o, "  {}: {} missing, {} extra", d.run, d.missing.len(), d.extra.len());
            for p in d.missing.iter().take(LINES_PER_CHECK) {
                let _ = writeln!(o, "    - {p}");
            }
            for p in d.extra.iter().take(LINES_PER_CHECK) {
                let _ = writeln!(o, "    + {p}");
            }
        }
    }
    let _ = writeln!(o);
    let d = &r.difficulty;
    let policy = match d.policy.eval_errors {
        EvalErrors::Exclude => "eval errors left out",
        EvalErrors::Fail => "eval errors count as failures",
    };
    if d.models.is_empty() {
        let _ = writeln!(
            o,
            "difficulty over {} solo seed(s) ({policy}; LimitsExceeded is a failure): {}",
            d.seeds.len(),
            d.seeds.join(", ")
        );
    } else {
        let _ = writeln!(
            o,
            "difficulty over {} models: the mean of each model's failure rate over its own solo seeds ({policy}; LimitsExceeded is a failure)",
            d.models.len()
        );
        for m in &d.models {
            let _ = writeln!(o, "  {}: {} seed(s): {}", m.model, m.runs.len(), m.runs.join(", "));
        }
    }
    let others: Vec<&str> = r.runs.iter().filter(|s| s.setting != "solo").map(|s| s.name.as_str()).collect();
    if !others.is_empty() {
        let _ = writeln!(o, "  not in difficulty (their setting is not solo): {}", others.join(", "));
    }
    for e in &d.distribution {
        let _ = writeln!(o, "  {:>6}: {} pair{}", e.difficulty, e.pairs, if e.pairs == 1 { "" } else { "s" });
    }
    let _ = writeln!(o, "  undefined: {} pair{}", d.undefined_pairs, if d.undefined_pairs == 1 { "" } else { "s" });
    let buckets: Vec<String> = d.buckets.iter().enumerate().map(|(i, n)| format!("{i}:{n}")).collect();
    let _ = writeln!(o, "  buckets: {}", buckets.join(" "));
    let _ = writeln!(o);
    if r.problems.is_empty() {
        let _ = writeln!(o, "problems: none");
    } else {
        let _ = writeln!(o, "problems: {} failure(s), {} warning(s)", r.failures(), r.warnings());
        // One heading per class and run with its count, then a few
        // instances; `--json` has every one.
        // Problems are sorted by severity, run and check, so each class of
        // a run is one contiguous group.
        for items in r.problems.chunk_by(|a, b| (a.severity, &a.run, a.check) == (b.severity, &b.run, b.check)) {
            let (sev, check, run) = (items[0].severity, items[0].check, items[0].run.as_deref().unwrap_or("-"));
            let sev = if sev == Severity::Failure { "FAIL" } else { "warn" };
            let _ = writeln!(o, "  {sev} {check} in {run}: {}", items.len());
            for p in items.iter().take(LINES_PER_CHECK) {
                let place = p.path.clone().unwrap_or_default();
                let _ = writeln!(
                    o,
                    "    {}{}",
                    if place.is_empty() { String::new() } else { format!("{place}: ") },
                    p.detail
                );
            }
            if items.len() > LINES_PER_CHECK {
                let _ = writeln!(o, "    ... {} more (see --json)", items.len() - LINES_PER_CHECK);
            }
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "{}", if r.ok { "verify: OK" } else { "verify: FAILED" });
    o
}

//! The study's own numbers under review: every committed
//! `results/*/outcomes.csv` is read back, and `verify`'s counts, the pair
//! overlap, the difficulty distribution and Figure 4's numbers are
//! recomputed from it (with the code `verify` and `report` use) and
//! snapshotted. A pull request that adds or changes a seed's outcomes shows
//! the effect as a diff of `tests/snapshots/outcomes__*.snap`; under
//! `CI=true` an unreviewed change fails.

mod common;

use xtask::study::analysis::{summary::summarise, Options};
use xtask::study::table::Table;

#[test]
fn committed_outcomes_recompute_to_their_snapshots() {
    let mut seen = 0;
    insta::glob!("../results", "*/outcomes.csv", |path| {
        seen += 1;
        let name = path.parent().and_then(|p| p.file_name()).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let table = Table::from_csv(&text, &format!("results/{name}/outcomes.csv")).unwrap();
        let summary = summarise(&name, "from outcomes.csv", &table, &Options::default());
        insta::assert_snapshot!(format!("study_{name}"), common::review(&serde_json::to_value(&summary).unwrap()));
    });
    assert!(seen > 0, "no results/*/outcomes.csv found");
}

/// The report's own `outcomes.csv` is the table it computed from: reading
/// it back gives the same Figure 4, so the snapshot above pins what
/// `report` published.
#[test]
fn outcomes_csv_reproduces_the_committed_figure() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/demo");
    let table = Table::from_csv(&std::fs::read_to_string(dir.join("outcomes.csv")).unwrap(), "outcomes.csv").unwrap();
    let fig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("fig4.json")).unwrap()).unwrap();
    let again = summarise("demo", "lite", &table, &Options::default());
    for key in ["buckets", "auc", "auc_ci", "retention", "retention_ci", "paired_difference", "noise", "pass_at_k"] {
        assert_eq!(again.figure4[key], fig[key], "results/demo/fig4.json `{key}` differs from its outcomes.csv");
    }
}

/// One outcome changed in `outcomes.csv` moves the counts and the figure,
/// so the snapshot above cannot stay green when the data changes.
#[test]
fn one_changed_outcome_changes_the_summary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/demo");
    let text = std::fs::read_to_string(dir.join("outcomes.csv")).unwrap();
    let line = text.lines().find(|l| l.contains(",Submitted,fail,") && l.ends_with(",fail")).unwrap();
    let passed = line.replace(",Submitted,fail,", ",Submitted,pass,");
    let changed = text.replacen(line, &format!("{}pass", passed.strip_suffix("fail").unwrap()), 1);
    // A class that the row's own columns contradict is refused, by column.
    let contradicted = text.replacen(line, &format!("{}pass", line.strip_suffix("fail").unwrap()), 1);
    let e = Table::from_csv(&contradicted, "outcomes.csv").unwrap_err();
    assert!(e.contains("column `class`: pass, but the eval says fail"), "{e}");
    let opts = Options {
        bootstrap: xtask::study::fig4::Bootstrap { replicates: 50, ..Options::default().bootstrap },
        ..Options::default()
    };
    let a = summarise("demo", "lite", &Table::from_csv(&text, "a").unwrap(), &opts);
    let b = summarise("demo", "lite", &Table::from_csv(&changed, "b").unwrap(), &opts);
    assert_eq!(b.runs[0].counts.passed, a.runs[0].counts.passed + 1);
    assert_ne!(a.figure4["auc"], b.figure4["auc"]);
}

//! The study's own numbers under review: every committed
//! `results/*/outcomes.csv` is read back, and `verify`'s counts, the pair
//! overlap and the difficulty distribution are recomputed from it (with the
//! code `verify` and `report` use) and snapshotted; Figure 4's numbers
//! recomputed from it must equal the committed `fig4.json`'s, every one. A pull request that adds or changes a seed's outcomes shows
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
        // Counts, overlap and the difficulty distribution under review;
        // Figure 4's numbers are the committed fig4.json's (checked below).
        let mut v = serde_json::to_value(&summary).unwrap();
        let figure = v.as_object_mut().unwrap().remove("figure4").unwrap();
        insta::assert_snapshot!(format!("study_{name}"), common::review(&v));
        let committed = path.with_file_name("fig4.json");
        if committed.exists() {
            let fig: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&committed).unwrap()).unwrap();
            // Every number is the table's; `subset` is named by its caller
            // and `warnings` add verify's findings, which a table has not.
            let differ: Vec<&String> = figure
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| !["subset", "warnings"].contains(&k.as_str()) && fig.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .collect();
            assert!(differ.is_empty(), "{}: {differ:?} differ from its outcomes.csv", committed.display());
        }
    });
    assert!(seen > 0, "no results/*/outcomes.csv found");
}

/// One outcome changed in `outcomes.csv` moves the counts and the figure,
/// so the snapshot above cannot stay green when the data changes.
#[test]
fn one_changed_outcome_changes_the_summary() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/demo");
    let text = std::fs::read_to_string(dir.join("outcomes.csv")).unwrap();
    // A solo row (no merge): its class is the last column but one.
    let line = text.lines().find(|l| l.contains(",Submitted,fail,") && l.ends_with(",fail,")).unwrap();
    let passed = line.replace(",Submitted,fail,", ",Submitted,pass,");
    let changed = text.replacen(line, &format!("{}pass,", passed.strip_suffix("fail,").unwrap()), 1);
    // A class that the row's own columns contradict is refused, by column.
    let contradicted = text.replacen(line, &format!("{}pass,", line.strip_suffix("fail,").unwrap()), 1);
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

//! The study in numbers from an outcome table alone, for the snapshot
//! tests and `outcomes.csv` readers: counts, overlap and the difficulty
//! distribution with `verify`'s own functions, and Figure 4's numbers.

use serde::Serialize;

use crate::study::analysis::{analyse, Options, Roles};
use crate::study::class::Class;
use crate::study::models::Models;
use crate::study::table::{RunOutcomes, Table};
use crate::study::verify;

/// The study in numbers from an outcome table alone (a committed
/// `outcomes.csv`): `verify`'s counts, the pair overlap and the difficulty
/// distribution, with the same functions `verify` uses, and Figure 4's
/// numbers from [`analyse`]. Solo and coop runs come from the table's
/// `setting` column; every solo run defines difficulty and draws the curve.
#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    pub pairs: usize,
    pub runs: Vec<RunCounts>,
    pub overlap: verify::Overlap,
    pub difficulty: crate::study::difficulty::Distribution,
    /// `fig4.json` without its policy texts.
    pub figure4: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunCounts {
    pub run: String,
    pub setting: String,
    #[serde(flatten)]
    pub counts: crate::study::table::Counts,
}

pub fn summarise(name: &str, subset: &str, table: &Table, opts: &Options) -> TableSummary {
    let runs = table
        .runs
        .iter()
        .map(|r| RunCounts {
            run: r.name.clone(),
            setting: r.setting.clone(),
            counts: crate::study::table::Counts::of(r.rows.values()),
        })
        .collect();
    let sets: Vec<(&str, std::collections::BTreeSet<&crate::study::pair::PairId>)> =
        table.runs.iter().map(|r| (r.name.as_str(), r.present())).collect();
    let overlap = verify::overlap(&sets, &mut Vec::new());
    let of = |setting: &str| -> Vec<String> {
        table.runs.iter().filter(|r| r.setting == setting).map(|r| r.name.clone()).collect()
    };
    // outcomes.csv names no model: its runs are read as one model's.
    let roles = Roles { solo: of("solo"), solo_curve: of("solo"), coop: of("coop"), models: Models::default() };
    let solo: Vec<&RunOutcomes> = roles.solo.iter().filter_map(|r| table.run(r)).collect();
    let values: Vec<crate::study::difficulty::Difficulty> = table
        .pairs
        .iter()
        .map(|p| {
            let classes: Vec<Class> = solo.iter().map(|r| r.row(p).class).collect();
            crate::study::difficulty::Difficulty::from_classes(&classes, opts.eval_errors)
        })
        .collect();
    let mut figure4 = serde_json::to_value(analyse(name, subset, table, &roles, opts)).expect("Fig4 is JSON");
    if let Some(m) = figure4.as_object_mut() {
        m.remove("policy");
    }
    TableSummary {
        pairs: table.pairs.len(),
        runs,
        overlap,
        difficulty: crate::study::difficulty::distribution(&values),
        figure4,
    }
}

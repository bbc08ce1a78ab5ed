//! `outcomes.csv`: one row per run and subset pair (what the agent did, what
//! the eval said, the cost), small enough to commit. It is the whole study
//! without its logs: `verify`'s counts, the pair overlap, the difficulty
//! distribution and Figure 4 can all be recomputed from it, so a pull request
//! that adds a seed shows its effect as a snapshot diff (tests/outcomes.rs).
//!
//! A [`Table`] is made from the logs (`report`) or read back from the CSV
//! (the snapshot test); both feed the same counting and figure code.

use std::collections::{BTreeMap, BTreeSet};

use crate::study::class::Class;
use crate::study::outcome::{EvalVerdict, Outcome, Row, RowStatus};
use crate::study::pair::PairId;
use crate::study::result::AgentStatus;
use crate::study::run::RunLogs;
use crate::study::subset::Subset;

#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcomes {
    pub name: String,
    pub setting: String,
    /// Every subset pair, [`Row::missing`] where the run has none.
    pub rows: BTreeMap<PairId, Row>,
}

impl RunOutcomes {
    pub fn row(&self, pair: &PairId) -> Row {
        self.rows.get(pair).cloned().unwrap_or_else(Row::missing)
    }

    pub fn outcome(&self, pair: &PairId) -> Outcome {
        self.rows.get(pair).map(Row::outcome).unwrap_or(Outcome::Missing)
    }

    /// Pairs with a `result.json`, readable or not: what overlap compares.
    pub fn present(&self) -> BTreeSet<&PairId> {
        self.rows.iter().filter(|(_, r)| r.status != RowStatus::Missing).map(|(p, _)| p).collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The subset's pairs, in the subset's order.
    pub pairs: Vec<PairId>,
    pub runs: Vec<RunOutcomes>,
}

pub const CSV_HEADER: [&str; 10] =
    ["run", "setting", "pair", "agent_status", "eval", "stale", "cost", "cooperbench_version", "class", "merge"];

/// The header before merge statuses: such a table still reads, with none.
const CSV_HEADER_BEFORE_MERGE: [&str; 9] =
    ["run", "setting", "pair", "agent_status", "eval", "stale", "cost", "cooperbench_version", "class"];

/// The header before classes; such a table still reads, each row's class
/// the nearest its outcome can say ([`Outcome::nearest_class`]).
const CSV_HEADER_BEFORE_CLASSES: [&str; 8] =
    ["run", "setting", "pair", "agent_status", "eval", "stale", "cost", "cooperbench_version"];

impl Table {
    /// The subset's pairs in every run; pairs outside the subset are
    /// `verify`'s business and are not part of the study.
    pub fn from_logs(subset: &Subset, runs: &[RunLogs]) -> Table {
        let runs = runs
            .iter()
            .map(|r| {
                let version = r.manifest.as_ref().and_then(|m| m.as_ref().ok()?.cooperbench_version.clone());
                let row = |p: &PairId| {
                    let mut row = r.pairs.get(p).map(Row::of).unwrap_or_else(Row::missing);
                    if row.status != RowStatus::Missing {
                        row.cooperbench_version = version.clone();
                    }
                    row
                };
                RunOutcomes {
                    name: r.name.clone(),
                    setting: r.setting.clone(),
                    rows: subset.pairs.iter().map(|p| (p.clone(), row(p))).collect(),
                }
            })
            .collect();
        Table { pairs: subset.pairs.clone(), runs }
    }

    pub fn run(&self, name: &str) -> Option<&RunOutcomes> {
        self.runs.iter().find(|r| r.name == name)
    }

    /// Runs in order, pairs in the subset's order: the same table, the same bytes.
    pub fn to_csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(CSV_HEADER).expect("writing to memory");
        for run in &self.runs {
            for pair in &self.pairs {
                let row = run.row(pair);
                let status = match &row.status {
                    RowStatus::Missing => "missing".to_string(),
                    RowStatus::Unreadable => "unreadable".to_string(),
                    RowStatus::Agent(s) => s.name().to_string(),
                };
                let cost = row.cost.map(|c| format!("{}", crate::study::json::round6(c))).unwrap_or_default();
                w.write_record([
                    run.name.as_str(),
                    run.setting.as_str(),
                    &pair.to_string(),
                    &status,
                    row.eval.label(),
                    if row.stale { "true" } else { "false" },
                    &cost,
                    row.cooperbench_version.as_deref().unwrap_or(""),
                    row.class.name(),
                    row.merge.as_deref().unwrap_or(""),
                ])
                .expect("writing to memory");
            }
        }
        String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 fields")
    }

    /// Reads `outcomes.csv` back; `file` names it in errors, which also give
    /// the line and the column.
    pub fn from_csv(text: &str, file: &str) -> Result<Table, String> {
        let mut r = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
        let header = r.headers().map_err(|e| format!("{file}: {e}"))?.clone();
        let columns: Vec<&str> = header.iter().collect();
        let with_merge = columns == CSV_HEADER;
        let with_class = with_merge || columns == CSV_HEADER_BEFORE_MERGE;
        if !with_class && columns != CSV_HEADER_BEFORE_CLASSES {
            return Err(format!("{file}: line 1: header should be {}", CSV_HEADER.join(",")));
        }
        let mut pairs: Vec<PairId> = Vec::new();
        let mut seen_pairs = BTreeSet::new();
        let mut runs: Vec<RunOutcomes> = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| format!("{file}: {e}"))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let field = |i: usize| rec.get(i).unwrap_or("");
            let bad = |col: &str, why: String| format!("{file}: line {line}: column `{col}`: {why}");
            let pair =
                PairId::parse(field(2)).ok_or_else(|| bad("pair", format!("{:?} is not repo/task/fA_fB", field(2))))?;
            let status = match field(3) {
                "missing" => RowStatus::Missing,
                "unreadable" => RowStatus::Unreadable,
                "" => return Err(bad("agent_status", "empty".into())),
                s => RowStatus::Agent(AgentStatus::parse(s)),
            };
            let eval = EvalVerdict::parse(field(4)).ok_or_else(|| {
                bad("eval", format!("{:?} is not missing, unreadable, pass, fail or error", field(4)))
            })?;
            let stale = match field(5) {
                "true" => true,
                "false" => false,
                s => return Err(bad("stale", format!("{s:?} is not true or false"))),
            };
            let cost = match field(6) {
                "" => None,
                s => match crate::study::result::valid_cost(s.parse::<f64>().ok()) {
                    Some(c) => Some(c),
                    None => return Err(bad("cost", format!("{s:?} is not a finite, non-negative number"))),
                },
            };
            let version = Some(field(7).to_string()).filter(|v| !v.is_empty());
            let (name, setting) = (field(0), field(1));
            if name.is_empty() {
                return Err(bad("run", "empty".into()));
            }
            let idx = match runs.iter().position(|r| r.name == name) {
                Some(i) => i,
                None => {
                    runs.push(RunOutcomes { name: name.into(), setting: setting.into(), rows: BTreeMap::new() });
                    runs.len() - 1
                }
            };
            let run = &mut runs[idx];
            if run.setting != setting {
                return Err(bad("setting", format!("run `{name}` was `{}` on an earlier line", run.setting)));
            }
            let merge = Some(field(9).to_string()).filter(|m| with_merge && !m.is_empty());
            let mut row = Row { status, eval, stale, cost, cooperbench_version: version, class: Class::Missing, merge };
            row.class = if with_class {
                Class::parse(field(8)).ok_or_else(|| bad("class", format!("{:?} is not a class", field(8))))?
            } else {
                row.outcome().nearest_class()
            };
            // The class decides the trial; a pass the row's eval does not
            // say would count a success no file shows.
            if row.class == Class::Pass && row.outcome() != Outcome::Pass {
                return Err(bad("class", format!("pass, but the eval says {}", row.eval.label())));
            }
            if run.rows.insert(pair.clone(), row).is_some() {
                return Err(bad("pair", format!("{pair} appears twice for run `{name}`")));
            }
            if seen_pairs.insert(pair.clone()) {
                pairs.push(pair);
            }
        }
        for run in &runs {
            if run.rows.len() != pairs.len() {
                return Err(format!(
                    "{file}: run `{}` has {} of the table's {} pairs: every run lists every pair",
                    run.name,
                    run.rows.len(),
                    pairs.len()
                ));
            }
        }
        Ok(Table { pairs, runs })
    }
}

/// `verify`'s per-run counts, from rows alone.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Counts {
    pub results: usize,
    pub evals: usize,
    pub passed: usize,
    pub failed: usize,
    pub eval_errors: usize,
    pub agent_status: BTreeMap<String, usize>,
    pub cost_usd: f64,
    /// Per class (`study::class`), the pairs in it; classes with none are left out.
    pub classes: BTreeMap<Class, usize>,
}

impl Counts {
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Counts {
        let mut c = Counts::default();
        for row in rows {
            if row.status != RowStatus::Missing {
                c.results += 1;
            }
            if let RowStatus::Agent(s) = &row.status {
                *c.agent_status.entry(s.name().to_string()).or_default() += 1;
            }
            if row.eval != EvalVerdict::Missing {
                c.evals += 1;
            }
            match row.eval {
                EvalVerdict::Pass => c.passed += 1,
                EvalVerdict::Fail => c.failed += 1,
                EvalVerdict::Error => c.eval_errors += 1,
                EvalVerdict::Missing | EvalVerdict::Unreadable => {}
            }
            c.cost_usd += row.cost.unwrap_or(0.0);
            if row.status != RowStatus::Missing {
                *c.classes.entry(row.class).or_default() += 1;
            }
        }
        c.cost_usd = crate::study::json::round6(c.cost_usd);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str, eval: EvalVerdict, stale: bool) -> Row {
        Row {
            status: RowStatus::Agent(AgentStatus::parse(status)),
            eval,
            stale,
            cost: Some(0.5),
            cooperbench_version: None,
            class: Class::Fail,
            merge: None,
        }
    }

    fn table() -> Table {
        let pairs = vec![PairId::new("a_task", 1, 1, 2), PairId::new("a_task", 1, 1, 3)];
        let mut rows = BTreeMap::new();
        rows.insert(pairs[0].clone(), row("Submitted", EvalVerdict::Pass, false));
        rows.insert(pairs[1].clone(), Row::missing());
        let solo = RunOutcomes { name: "s".into(), setting: "solo".into(), rows };
        let mut rows = BTreeMap::new();
        rows.insert(pairs[0].clone(), row("LimitsExceeded", EvalVerdict::Pass, false));
        let mut r = row("Submitted", EvalVerdict::Error, true);
        r.cooperbench_version = Some("0.0.29".into());
        rows.insert(pairs[1].clone(), r);
        let coop = RunOutcomes { name: "c".into(), setting: "coop".into(), rows };
        Table { pairs, runs: vec![solo, coop] }
    }

    #[test]
    fn csv_round_trips() {
        let t = table();
        let text = t.to_csv();
        assert!(
            text.starts_with("run,setting,pair,agent_status,eval,stale,cost,cooperbench_version,class,merge\n"),
            "{text}"
        );
        assert!(text.contains("c,coop,a_task/1/f1_f3,Submitted,error,true,0.5,0.0.29,fail,\n"), "{text}");
        assert!(text.contains("s,solo,a_task/1/f1_f3,missing,missing,false,,,missing,\n"), "{text}");
        assert_eq!(Table::from_csv(&text, "outcomes.csv").unwrap(), t);
        // A table written before merge statuses still reads, with none; one
        // written before classes too, each class the nearest its outcome
        // says.
        let cut =
            |text: &str| -> String { text.lines().map(|l| format!("{}\n", &l[..l.rfind(',').unwrap()])).collect() };
        let before_merge = cut(&text);
        assert_eq!(Table::from_csv(&before_merge, "outcomes.csv").unwrap(), t);
        let old = cut(&before_merge);
        let back = Table::from_csv(&old, "outcomes.csv").unwrap();
        assert_eq!(back.runs[1].rows[&t.pairs[1]].class, Class::NotEvaluated, "stale");
        assert_eq!(back.runs[1].rows[&t.pairs[0]].class, Class::Limits);
        let bad = text.replace(",fail,\n", ",flop,\n");
        assert!(Table::from_csv(&bad, "o.csv").unwrap_err().contains("column `class`: \"flop\" is not a class"));
    }

    #[test]
    fn bad_csv_names_the_file_line_and_column() {
        let text = table().to_csv().replace("Submitted,pass", "Submitted,passed");
        let e = Table::from_csv(&text, "results/x/outcomes.csv").unwrap_err();
        assert!(e.starts_with("results/x/outcomes.csv: line 2: column `eval`"), "{e}");
        let text = table().to_csv().replace(",0.5,", ",-1,");
        let e = Table::from_csv(&text, "o.csv").unwrap_err();
        assert!(e.contains("column `cost`"), "{e}");
        let short: String = table().to_csv().lines().take(4).map(|l| format!("{l}\n")).collect();
        let e = Table::from_csv(&short, "o.csv").unwrap_err();
        assert!(e.contains("run `c` has 1 of the table's 2 pairs"), "{e}");
    }

    #[test]
    fn outcomes_follow_the_one_classification() {
        let t = table();
        let (solo, coop) = (&t.runs[0], &t.runs[1]);
        assert_eq!(solo.outcome(&t.pairs[0]), Outcome::Pass);
        assert_eq!(solo.outcome(&t.pairs[1]), Outcome::Missing);
        assert_eq!(coop.outcome(&t.pairs[0]), Outcome::Limits);
        assert_eq!(coop.outcome(&t.pairs[1]), Outcome::Stale);
        let c = Counts::of(coop.rows.values());
        assert_eq!((c.results, c.evals, c.passed, c.eval_errors, c.cost_usd), (2, 2, 1, 1, 1.0));
        assert_eq!(Counts::of(solo.rows.values()).results, 1);
    }
}

//! The latest oracle run of a subset (`cargo xtask oracle`), read and
//! judged: `seeds`' preflight gate asks it, and `verify`/`report
//! --exclude-oracle-failures` leave out the pairs it names.

use std::path::Path;

use crate::edges::layout;
use crate::study::oracle;
use crate::study::pair::PairId;
use crate::study::run::RunLogs;
use crate::study::subset::Subset;

/// The pairs of `subset` whose gold patch does not pass in the oracle of
/// `baseline` (`--exclude-oracle-failures` of verify and report); an error
/// when there is no oracle to ask.
pub fn failures(cb: &Path, baseline: &str, subset: &Subset) -> anyhow::Result<Vec<(PairId, String)>> {
    let Some((_, j)) = latest(cb, baseline, subset) else {
        return Err(crate::usage(anyhow::anyhow!(
            "--exclude-oracle-failures: there is no oracle ({}): run `cargo xtask oracle` first",
            layout::run_rel(&oracle::run_name(baseline))
        )));
    };
    Ok(j.failing)
}

/// The oracle run of `baseline` and what it says of `subset`; `None` when
/// no oracle was made.
pub fn latest(cb: &Path, baseline: &str, subset: &Subset) -> Option<(RunLogs, oracle::Judgement)> {
    let run = oracle::run_name(baseline);
    let logs = RunLogs::load(cb, &run);
    if !logs.exists {
        return None;
    }
    let rows = oracle::rows(subset, &logs, &crate::edges::eval_times::read(cb, &run));
    Some((logs, oracle::judge(&rows)))
}

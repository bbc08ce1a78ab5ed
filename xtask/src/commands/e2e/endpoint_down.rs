//! The model endpoint down: the canary stops, having spent one pair.

use std::path::Path;
use std::time::Instant;

use super::scenario::*;

/// The model endpoint down: the canary stops, having spent one pair.
pub(super) fn endpoint_down(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let sc = Scenario::new(root, "endpoint-down", cli, None)?;
    let t = Instant::now();
    // One attempt instead of the agent's ten with back-off (CONTRACT.md).
    let out = sc.seeds(cli, &["--seeds", "1"], &[("MSWEA_MODEL_RETRY_STOP_AFTER_ATTEMPT", "1")]).run()?;
    let o = text(&out);
    echo("seeds (endpoint down)", &o);
    let failures = canary_stopped(&out, &sc, "e2ecalc_task/1/f1_f2");
    Ok(sc.outcome(failures, "the canary stopped after one pair", t, 0.0, keep))
}

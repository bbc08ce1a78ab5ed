//! A task image missing: the canary stops the seed after one pair, with
//! the CLI's own error, and the model is never asked.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use serde_json::json;

use super::scenario::*;
use crate::edges::events::Event;
use crate::support::world;

/// A task whose image does not exist: the canary stops after one pair and
/// shows the CLI's own error.
pub(super) fn image_missing(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let all_solve = BTreeMap::new();
    let sc = Scenario::new(root, "image-missing", cli, Some(&all_solve))?;
    // A fourth task, `e2eabsent_task`, with features but no image, in a
    // subset of its own; it sorts first, so its pair is the canary.
    let ghost = sc.cb.join("dataset/e2eabsent_task/task9");
    for f in [1, 2] {
        let d = ghost.join(format!("feature{f}"));
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("feature.md"), format!("[[task e2eabsent_task/9/f{f}]]\n\nNothing.\n"))?;
        std::fs::write(d.join("feature.patch"), "")?;
        std::fs::write(d.join("tests.patch"), "")?;
    }
    let doc = json!({"name": "ghost", "tasks": [{"repo": "e2eabsent_task", "task_id": 9, "pairs": [[1, 2]]},
        {"repo": "e2ecalc_task", "task_id": 1, "pairs": [[1, 2]]}]});
    std::fs::write(sc.cb.join("dataset/subsets/ghost.json"), serde_json::to_string_pretty(&doc)?)?;
    let exp = std::fs::read_to_string(&sc.experiment)?;
    let exp = exp.replace(&format!("expected_pairs = {}", world::pairs().len()), "expected_pairs = 2");
    std::fs::write(&sc.experiment, exp.replace(&format!("subset = \"{}\"", world::SUBSET), "subset = \"ghost\""))?;
    let t = Instant::now();
    let out = sc.seeds(cli, &["--seeds", "1"], &[]).run()?;
    let o = text(&out);
    echo("seeds (image missing)", &o);
    let mut failures = canary_stopped(&out, &sc, "e2eabsent_task/9/f1_f2");
    let image = crate::edges::docker::task_image("e2eabsent_task", 9);
    // The agent's own words: "Command '['docker', 'run', ..., 'akhatua/cooperbench-e2eabsent:task9', ...]'
    // returned non-zero exit status 125."
    let named = image.split(':').next().unwrap_or(&image).trim_start_matches("akhatua/").to_string();
    let said =
        sc.events().into_iter().any(|l| matches!(&l.event, Event::Canary { error: Some(e), .. } if e.contains(&named)));
    if !said {
        failures.push(format!("the canary's error does not carry the CLI's words about {image}"));
    }
    let spent = sc.stand_in.as_ref().map(|s| s.requests().len()).unwrap_or(0);
    if spent != 0 {
        failures.push(format!("the stand-in was asked {spent} times for a pair with no image"));
    }
    Ok(sc.outcome(failures, "the canary stopped after one pair, with the CLI's error", t, 0.0, keep))
}

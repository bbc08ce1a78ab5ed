//! A task image re-made with other content under its tag, as the dataset's
//! fix re-made images and pushed them under the same tags: between two
//! seeds (verify names the image change, pair by pair) and while a seed
//! runs (that seed fails, and verify names the run). On the real CLI.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use super::scenario::*;
use crate::support::world;

pub(super) fn image_remade(root: &Path, cli: &Cli, keep: bool) -> anyhow::Result<Outcome> {
    let all_solve = BTreeMap::new();
    let sc = Scenario::new(root, "image-remade", cli, Some(&all_solve))?;
    let t = Instant::now();
    let task = &world::TASKS[0];
    let image = crate::edges::docker::task_image(task.repo, task.id);
    let work = root.join("world");
    let mut failures = Vec::new();
    let mut old_ids = Vec::new();

    let first = sc.seeds(cli, &["--seeds", "1"], &[]).run()?;
    echo("seeds 1", &text(&first));
    if first.status.code() != Some(0) {
        failures.push(format!("seed 1 exited {:?}, expected 0", first.status.code()));
    }

    // Between the seeds: other content under the same tag.
    let (was, now) = world::remake_image(&sc.docker, &work, task, "between-seeds")?;
    println!("re-made {image}: {} -> {now}", was.as_deref().unwrap_or("none"));
    old_ids.extend(was);

    // While seed 2 runs: once its canary has a result, the image is made
    // again; the rest of its pairs run and are graded in the new one.
    let handle = sc.seeds(cli, &["--seeds", "2"], &[]).start()?;
    let deadline = Instant::now() + Duration::from_secs(300);
    while results_in(&sc.cb, RUNS[2]) < 1 {
        if handle.try_wait()?.is_some() || Instant::now() > deadline {
            anyhow::bail!("seed 2 ended (or hung) before its first pair was done");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (was, _) = world::remake_image(&sc.docker, &work, task, "during-seed-2")?;
    old_ids.extend(was);
    let second = handle.wait()?;
    let said = text(second);
    echo("seeds 2 (image re-made during it)", &said);
    if second.status.code() != Some(1)
        || !said.contains(&format!("FAILED: task image {image} changed during {}", RUNS[2]))
    {
        failures
            .push(format!("seed 2 did not fail naming {image} as changed during it (exit {:?})", second.status.code()));
    }

    // Seed against seed, as a careful user reads them: nothing pooled.
    let exp = std::fs::read_to_string(&sc.experiment)?;
    std::fs::write(&sc.experiment, exp.replace(", \"images\"]", "]"))?;
    let runs = format!("{},{}", RUNS[1], RUNS[2]);
    let v = sc.xtask(&["verify", "--json", "--runs", &runs], &[]).run()?;
    let report: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap_or_default();
    let named = |check: &str| -> Vec<(Option<String>, Option<String>, String)> {
        report["problems"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|p| p["check"] == check)
            .map(|p| {
                (
                    p["run"].as_str().map(String::from),
                    p["pair"].as_str().map(String::from),
                    p["detail"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let expected: Vec<String> =
        task.pairs.iter().map(|(a, b)| format!("{}/{}/f{a}_f{b}", task.repo, task.id)).collect();
    let changed: Vec<String> = named("images_changed").into_iter().filter_map(|(_, p, _)| p).collect();
    if v.status.code() != Some(1) || changed != expected {
        failures.push(format!(
            "verify of the two seeds named {changed:?} as images_changed (exit {:?}), expected {expected:?}",
            v.status.code()
        ));
    }
    let during = named("image_changed_during_run");
    if !during.iter().any(|(run, _, d)| run.as_deref() == Some(RUNS[2]) && d.contains(&image)) || during.len() != 1 {
        failures.push(format!("verify did not name {} alone as graded in two images: {during:?}", RUNS[2]));
    }
    let manifest = std::fs::read_to_string(sc.cb.join("logs").join(RUNS[1]).join(crate::edges::layout::MANIFEST))?;
    if !manifest.contains("\"verified\": true") || !manifest.contains(&format!("\"{image}\"")) {
        failures.push(format!("seed 1's manifest does not record {image}'s id as read"));
    }

    // The world's own image back; the re-made ones of ours removed.
    world::build_images(&sc.docker, &work)?;
    let after = world::build_images(&sc.docker, &work)?;
    if after.iter().any(|(_, how)| *how != "reused") {
        failures.push("the world's images were not restored".into());
    }
    for id in world::remove_image_ids(&sc.docker, &old_ids) {
        failures.push(format!("a re-made image of ours could not be removed: {id}"));
    }
    Ok(sc.outcome(
        failures,
        "an image re-made between seeds named pair by pair; one re-made during a seed failed it",
        t,
        0.0,
        keep,
    ))
}

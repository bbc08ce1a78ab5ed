//! What a run is graded on, recorded as it runs: the task images read
//! before a run's first invocation and after its last, into its manifest
//! (`study::images` says what a change means). The dataset's fingerprints
//! are taken once, by preflight, into the manifest it makes; the checks
//! here say before any spend what changed since the baseline, a resumed
//! run or the oracle.

use crate::edges::manifest::Manifest;
use crate::engine::check::{check, fail as failed, warn, Check};
use crate::engine::job::{fail, Job, Stop};
use crate::study::arms::Arm;
use crate::study::dataset::{changed_since, list, DatasetRecord};
use crate::study::run::RunLogs;
use crate::study::subset::Subset;

impl Job {
    /// The subset's task images, each once, as the CLI names them.
    pub(crate) fn task_images(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<String> =
            self.subset.pairs.iter().map(|p| crate::edges::docker::task_image(&p.repo, p.task_id)).collect();
        set.into_iter().collect()
    }

    /// The pairs of the subset graded in `image`.
    pub(crate) fn pairs_of_image(&self, image: &str) -> Vec<String> {
        self.subset
            .pairs
            .iter()
            .filter(|p| crate::edges::docker::task_image(&p.repo, p.task_id) == image)
            .map(|p| p.to_string())
            .collect()
    }

    /// The run's manifest, written once before the CLI first touches the
    /// run: what made it, the dataset as preflight hashed it, the images now.
    pub(crate) fn write_manifest(&self, run: &str) -> Result<(), Stop> {
        if Manifest::load(&self.cb, run).is_some() {
            return Ok(());
        }
        let mut manifest = self.manifest.clone();
        manifest.modal_environment = self.sandboxes.environment(run);
        manifest.images = Some(self.sandboxes.images(&self.task_images()));
        manifest.write(&self.cb, run).map_err(fail)
    }

    /// After a run's last invocation: its images read again into its
    /// manifest. Returns a line per image that changed during the run.
    pub(crate) fn images_after(&self, run: &str) -> Result<Vec<String>, Stop> {
        let Some(Ok(mut manifest)) = Manifest::load(&self.cb, run) else { return Ok(Vec::new()) };
        let Some(mut images) = manifest.images.take() else { return Ok(Vec::new()) };
        let names: Vec<String> = images.before.keys().cloned().collect();
        images.after = Some(self.sandboxes.images(&names).before);
        let changed: Vec<String> = images
            .changed_during()
            .into_iter()
            .map(|(image, was, now)| {
                format!(
                    "task image {image} changed during {run} (was {was}, now {now}): pairs {}",
                    self.pairs_of_image(&image).join(", ")
                )
            })
            .collect();
        // Unverified images stay unverified: nothing was read, nothing changed.
        if !images.verified {
            images.after = None;
        }
        manifest.images = Some(images);
        manifest.write(&self.cb, run).map_err(fail)?;
        Ok(changed)
    }
}

/// The baseline's dataset (recorded, else inferred from git history)
/// against today's, before any spend: how many pairs changed since it was
/// made, and what each choice costs.
pub fn baseline_dataset(
    cb: &std::path::Path,
    exp: &Arm,
    subset: &Subset,
    baseline: &RunLogs,
    now: &DatasetRecord,
    estimate: Option<&crate::study::plan::Estimate>,
) -> Vec<Check> {
    let mut out = Vec::new();
    if now.dirty == Some(true) {
        out.push(warn(
            "dataset/ has changes not committed (git status): each file's hash is recorded, since the commit alone would not say what the seeds saw",
        ));
    }
    let name = exp.baseline_run.clone().unwrap_or_default();
    if !baseline.exists || exp.seeds.is_empty() || exp.setting != crate::study::setting::Setting::Solo {
        return out;
    }
    let mut baseline = baseline.clone();
    if !matches!(&baseline.manifest, Some(Ok(m)) if m.dataset.is_some()) {
        baseline.inferred_dataset = Some(crate::edges::dataset::infer(cb, &baseline, &subset.pairs));
    }
    let allowed = exp.study.allow_mixed.iter().any(|f| f == crate::study::changed::DATASET);
    match baseline.dataset() {
        Err(why) => out.push(warn(format!(
            "baseline `{name}`: the dataset it was graded on is unknown ({why}): verify and report will count all {} pairs as changed {}",
            subset.pairs.len(),
            if allowed { "and pool them, as allow_mixed says" } else { "unless allow_mixed lists \"dataset\"" }
        ))),
        Ok(then) => {
            let changed = changed_in(subset, then, now);
            if changed.is_empty() {
                out.push(check(
                    true,
                    format!("dataset: the {} pairs are as baseline `{name}` saw them ({})", subset.pairs.len(), then.shown()),
                    "",
                ));
            } else {
                out.push(warn(format!(
                    "dataset: {} of {} pairs changed since baseline `{name}` was made ({}): {}. {}",
                    changed.len(),
                    subset.pairs.len(),
                    then.shown(),
                    list(&changed, 10),
                    crate::study::changed::choices(changed.len(), subset.pairs.len(), exp.seeds.len(), estimate, allowed)
                )));
            }
        }
    }
    out
}

/// A seed run begun before, to be resumed: a task image re-made under its
/// tag since it began means its pairs so far were graded in another image.
pub fn images_since_begun(sandboxes: &crate::engine::sandboxes::Sandboxes, run: &str, was: &Manifest) -> Option<Check> {
    let images = was.images.as_ref().filter(|i| i.verified && i.after.is_none())?;
    let names: Vec<String> = images.before.keys().cloned().collect();
    let now = sandboxes.images(&names);
    if !now.verified {
        return None;
    }
    let changed: Vec<String> = images
        .before
        .iter()
        .filter_map(|(image, s)| {
            let n = now.before.get(image)?;
            (n.id != s.id).then(|| format!("{image} (was {}, now {})", s.short(), n.short()))
        })
        .collect();
    (!changed.is_empty()).then(|| {
        failed(format!(
            "seed run `{run}`: task image(s) re-made since it began: {}: resumed, its pairs would be graded in two images; move logs/{run} aside, or choose other --seeds",
            changed.join(", ")
        ))
    })
}

/// The oracle against today's dataset, pair by pair: a pair whose files
/// changed since the oracle graded it must be graded again.
pub fn oracle_changed(oracle: Option<&Manifest>, now: &DatasetRecord, subset: &Subset) -> Option<String> {
    let then = match oracle.and_then(|m| m.dataset.as_ref()) {
        Some(d) => d,
        None => return Some("it recorded no fingerprints (an older harness made it)".into()),
    };
    let changed = changed_in(subset, then, now);
    (!changed.is_empty())
        .then(|| format!("{} pair(s) changed since it graded them: {}", changed.len(), list(&changed, 10)))
}

/// The pairs of `subset` whose files differ between `then` and `now`.
fn changed_in(subset: &Subset, then: &DatasetRecord, now: &DatasetRecord) -> Vec<(String, Vec<String>)> {
    let names: std::collections::BTreeSet<String> = subset.pairs.iter().map(|p| p.to_string()).collect();
    changed_since(then, now).into_iter().filter(|(p, _)| names.contains(p)).collect()
}

//! The task images a run was graded in, as data: per image (the CLI's tag),
//! the engine's image id and repo digests, read before the run's first
//! invocation and again after its last. A tag says nothing: the dataset's
//! fix rebuilt images and pushed them under the same tags. Pure: what
//! changed during a run, and which pairs saw other images than another run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::study::pair::PairId;

/// The prefix of every CooperBench task image.
pub const IMAGE_PREFIX: &str = "akhatua/cooperbench-";

/// A task's image, as the CLI's `get_image_name` names it: every `_task`
/// removed (not only a suffix), `_` as `-`, the task as the tag.
pub fn task_image(repo: &str, task_id: u64) -> String {
    let name = repo.replace("_task", "").replace('_', "-");
    format!("{IMAGE_PREFIX}{name}:task{task_id}")
}

/// One image as the engine has it: its id, `None` when it is not there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageState {
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub digests: Vec<String>,
}

impl ImageState {
    pub fn short(&self) -> String {
        match &self.id {
            Some(id) => {
                let hex = id.strip_prefix("sha256:").unwrap_or(id);
                hex[..hex.len().min(12)].to_string()
            }
            None => "absent".into(),
        }
    }
}

/// What a run's images were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagesRecord {
    /// false where the images cannot be read here (Modal resolves the tags
    /// in its own cloud): the references are recorded, unverified.
    pub verified: bool,
    /// In words: how the ids were read, or why they could not be.
    pub source: String,
    pub before: BTreeMap<String, ImageState>,
    /// Read after the run's last invocation; `None` until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<BTreeMap<String, ImageState>>,
}

impl ImagesRecord {
    /// The images whose id differs after the run from before it: the run's
    /// pairs of each were graded on two images.
    pub fn changed_during(&self) -> Vec<(String, String, String)> {
        let Some(after) = &self.after else { return Vec::new() };
        self.before
            .iter()
            .filter_map(|(image, was)| {
                let now = after.get(image)?;
                (now.id != was.id).then(|| (image.clone(), was.short(), now.short()))
            })
            .collect()
    }

    /// The id a pair's image had for this run (before; verified only).
    fn id_of(&self, image: &str) -> Option<&String> {
        self.verified.then(|| self.before.get(image)?.id.as_ref()).flatten()
    }
}

/// One run's images, as the pooling rule sees them.
pub struct RunImages<'a> {
    pub run: &'a str,
    pub record: Option<&'a ImagesRecord>,
}

/// Per pair, whether its task image was the same image in every run that
/// knows it; known in one run and unknown (or unverified) in another is
/// changed too. `image_of` gives a pair's image name (the CLI's naming).
pub fn changed_pairs(
    pairs: &[PairId],
    runs: &[RunImages],
    image_of: impl Fn(&PairId) -> String,
) -> Vec<crate::study::dataset::ChangedPair> {
    let mut out = Vec::new();
    for pair in pairs {
        let image = image_of(pair);
        let seen: Vec<(&str, Option<&String>)> =
            runs.iter().map(|r| (r.run, r.record.and_then(|i| i.id_of(&image)))).collect();
        let Some((first_run, first)) = seen.iter().find_map(|(r, id)| id.map(|id| (*r, id))) else { continue };
        let short = |id: &String| ImageState { id: Some(id.clone()), digests: vec![] }.short();
        let mut why = Vec::new();
        for (run, id) in &seen {
            match id {
                None => why.push(format!("{image} unknown in `{run}`")),
                Some(id) if *id != first => {
                    why.push(format!("{image} was {} in `{first_run}`, {} in `{run}`", short(first), short(id)))
                }
                Some(_) => {}
            }
        }
        if !why.is_empty() {
            out.push(crate::study::dataset::ChangedPair { pair: pair.clone(), why });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(id: &str) -> ImageState {
        ImageState { id: Some(format!("sha256:{id}")), digests: vec![] }
    }

    fn record(before: &[(&str, &str)], after: Option<&[(&str, &str)]>) -> ImagesRecord {
        let map = |v: &[(&str, &str)]| v.iter().map(|(i, id)| (i.to_string(), state(id))).collect();
        ImagesRecord { verified: true, source: "t".into(), before: map(before), after: after.map(map) }
    }

    #[test]
    fn an_image_changed_during_a_run_is_named_with_both_ids() {
        let r = record(
            &[("img:task1", "aaaa"), ("img:task2", "bbbb")],
            Some(&[("img:task1", "aaaa"), ("img:task2", "cccc")]),
        );
        assert_eq!(r.changed_during(), [("img:task2".to_string(), "bbbb".to_string(), "cccc".to_string())]);
        assert!(record(&[("img:task1", "aaaa")], None).changed_during().is_empty());
    }

    #[test]
    fn pairs_whose_image_differs_between_runs_are_changed_and_unverified_is_unknown() {
        let (p, q) = (PairId::new("a_task", 1, 1, 2), PairId::new("b_task", 2, 1, 2));
        let image_of = |p: &PairId| format!("img:task{}", p.task_id);
        let one = record(&[("img:task1", "aaaa"), ("img:task2", "bbbb")], None);
        let two = record(&[("img:task1", "aaaa"), ("img:task2", "dddd")], None);
        let runs = [RunImages { run: "s1", record: Some(&one) }, RunImages { run: "s2", record: Some(&two) }];
        let c = changed_pairs(&[p.clone(), q.clone()], &runs, image_of);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].pair, q);
        assert_eq!(c[0].why, ["img:task2 was bbbb in `s1`, dddd in `s2`"]);
        let mut modal = one.clone();
        modal.verified = false;
        let runs = [RunImages { run: "s1", record: Some(&one) }, RunImages { run: "m", record: Some(&modal) }];
        assert_eq!(changed_pairs(std::slice::from_ref(&p), &runs, image_of)[0].why, ["img:task1 unknown in `m`"]);
        let runs = [RunImages { run: "b", record: None }, RunImages { run: "m", record: Some(&modal) }];
        assert!(changed_pairs(&[p], &runs, image_of).is_empty());
    }
}

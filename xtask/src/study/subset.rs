//! `dataset/subsets/<name>.json`: the pairs a run is expected to hold.

use serde::Serialize;

use crate::study::json::{self, Feature, TaskId};
use crate::study::pair::PairId;

#[derive(Debug, Clone, Serialize)]
pub struct Subset {
    pub name: String,
    pub tasks: usize,
    #[serde(skip)]
    pub repos: usize,
    #[serde(skip)]
    pub pairs: Vec<PairId>,
    #[serde(rename = "pairs")]
    pub pair_count: usize,
}

#[derive(serde::Deserialize)]
struct RawSubset {
    tasks: Vec<RawTask>,
}

#[derive(serde::Deserialize)]
struct RawTask {
    repo: String,
    task_id: TaskId,
    pairs: Vec<(Feature, Feature)>,
}

impl Subset {
    pub fn parse(name: &str, text: &str) -> Result<Subset, String> {
        let raw: RawSubset = json::from_str(text)?;
        let mut pairs: Vec<PairId> = Vec::new();
        let mut first_seen: std::collections::BTreeMap<PairId, String> = std::collections::BTreeMap::new();
        let mut repos = std::collections::BTreeSet::new();
        for (i, task) in raw.tasks.iter().enumerate() {
            repos.insert(task.repo.clone());
            for (j, &(Feature(a), Feature(b))) in task.pairs.iter().enumerate() {
                let here = format!("tasks[{i}].pairs[{j}]");
                if a == b {
                    return Err(format!("field `{here}`: [{a}, {b}] pairs feature {a} with itself"));
                }
                let pair = PairId::new(&task.repo, task.task_id.0, a, b);
                if let Some(first) = first_seen.get(&pair) {
                    return Err(format!("field `{here}`: pair {pair} is listed twice (first at `{first}`)"));
                }
                first_seen.insert(pair.clone(), here);
                pairs.push(pair);
            }
        }
        pairs.sort();
        Ok(Subset {
            name: name.to_string(),
            tasks: raw.tasks.len(),
            repos: repos.len(),
            pair_count: pairs.len(),
            pairs,
        })
    }

    /// The subset's pair list for one task, in the order the file gives them
    /// (the CLI keeps that order in `result.json`'s `features`).
    pub fn contains(&self, pair: &PairId) -> bool {
        self.pairs.binary_search(pair).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subset(pairs: &str) -> Result<Subset, String> {
        Subset::parse("t", &format!(r#"{{"tasks": [{{"repo": "a_task", "task_id": 1, "pairs": {pairs}}}]}}"#))
    }

    #[test]
    fn pairs_are_checked_and_named() {
        assert_eq!(subset("[[1, 2], [2, 3]]").unwrap().pairs.len(), 2);
        assert_eq!(subset("[[3, 3]]").unwrap_err(), "field `tasks[0].pairs[0]`: [3, 3] pairs feature 3 with itself");
        assert_eq!(
            subset("[[1, 2], [2, 1]]").unwrap_err(),
            "field `tasks[0].pairs[1]`: pair a_task/1/f1_f2 is listed twice (first at `tasks[0].pairs[0]`)"
        );
        assert_eq!(
            subset("[[4294967297, 2]]").unwrap_err(),
            "field `tasks[0].pairs[0][0]`: invalid value: integer `4294967297`, expected a feature number (0 to 4294967295)"
        );
        assert_eq!(Subset::parse("t", "{}").unwrap_err(), "missing field `tasks`");
    }
}

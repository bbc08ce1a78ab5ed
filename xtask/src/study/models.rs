//! Which model each run belongs to, as the study file's arms declare it.
//! A difficulty over several models is the paper's (CooperBench, section
//! 4.2): each model's runs are pooled only with themselves, then the models'
//! failure rates are averaged (`Difficulty::over_models`). A study of one
//! model (today's experiment file) is one group, exactly as before.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Models {
    /// Run name to model name; a run not named here is in the first group.
    pub by_run: BTreeMap<String, String>,
}

impl Models {
    pub fn of(pairs: impl IntoIterator<Item = (String, String)>) -> Models {
        Models { by_run: pairs.into_iter().collect() }
    }

    /// The models of `runs`, in order of first appearance; runs no arm
    /// names share the first group (one group when none is named).
    pub fn names(&self, runs: &[String]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for r in runs {
            let m = self.by_run.get(r).cloned().unwrap_or_default();
            if !names.contains(&m) {
                names.push(m);
            }
        }
        // An unnamed run joins the first named model rather than making a
        // group of its own: `--runs` lists without arms are one model.
        if names.len() > 1 {
            names.retain(|m| !m.is_empty());
        }
        names
    }

    /// Each run's group: its index in [`Models::names`].
    pub fn groups(&self, runs: &[String]) -> Vec<usize> {
        let names = self.names(runs);
        runs.iter()
            .map(|r| {
                let m = self.by_run.get(r).cloned().unwrap_or_default();
                names.iter().position(|n| *n == m).unwrap_or(0)
            })
            .collect()
    }

    pub fn count(&self, runs: &[String]) -> usize {
        self.names(runs).len()
    }

    /// The runs of `model` among `runs`, in order.
    pub fn runs_of(&self, model: &str, runs: &[String]) -> Vec<String> {
        let names = self.names(runs);
        let groups = self.groups(runs);
        runs.iter().zip(groups).filter(|(_, g)| names[*g] == model).map(|(r, _)| r.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn groups_follow_the_arms_and_default_to_one() {
        let runs = s(&["a1", "b1", "a2", "b2"]);
        assert_eq!(Models::default().groups(&runs), [0, 0, 0, 0]);
        assert_eq!(Models::default().count(&runs), 1);
        let m = Models::of([("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")].map(|(r, m)| (r.into(), m.into())));
        assert_eq!(m.groups(&runs), [0, 1, 0, 1]);
        assert_eq!(m.names(&runs), ["A", "B"]);
        assert_eq!(m.runs_of("B", &runs), ["b1", "b2"]);
        // A run no arm names joins the first model.
        let m = Models::of([("b1".to_string(), "B".to_string())]);
        assert_eq!(m.groups(&s(&["x", "b1"])), [0, 0]);
    }
}

//! The order of a study's invocations on one host, pure: seed k's evals run
//! while seed k+1's agents run, so that the model is not idle while the
//! grader works, within one budget of containers.
//!
//! The budget is the larger of the two `-c` values the user set
//! (`run_concurrency` agents, `eval_concurrency` graders): never more
//! containers at once than either setting alone allowed. While seed k+1's
//! agents run at `run_concurrency`, seed k's evals take what is left
//! (`budget - run_concurrency`); alone, at the end, the last seed's evals
//! take `eval_concurrency`. When nothing is left (`run_concurrency` at or
//! above `eval_concurrency`), nothing overlaps: every run, then every eval.

/// One stage: what runs at once. The executor starts a stage only when the
/// one before has ended, and cleans up between stages (nothing of ours runs
/// then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// The seed whose agents run, at `run_concurrency`.
    pub run: Option<u32>,
    /// The seeds whose evals run, one after another, each at `eval_concurrency`.
    pub evals: Vec<u32>,
    pub run_concurrency: u32,
    pub eval_concurrency: u32,
}

impl Stage {
    /// "seed2's run and seed1's evals", for the output.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(s) = self.run {
            parts.push(format!("seed{s}'s run"));
        }
        if !self.evals.is_empty() {
            let names: Vec<String> = self.evals.iter().map(|s| format!("seed{s}")).collect();
            parts.push(format!("{}'s evals", names.join(", ")));
        }
        parts.join(" and ")
    }

    /// Containers at once, at most.
    pub fn containers(&self) -> u32 {
        self.run.map_or(0, |_| self.run_concurrency) + if self.evals.is_empty() { 0 } else { self.eval_concurrency }
    }
}

/// The stages for `seeds` in their order. Every seed's run comes before its
/// evals; a seed whose run is complete passes through its stage at once.
pub fn pipeline(seeds: &[u32], run_concurrency: u32, eval_concurrency: u32) -> Vec<Stage> {
    let run_c = run_concurrency.max(1);
    let eval_c = eval_concurrency.max(1);
    let budget = run_c.max(eval_c);
    let room = budget - run_c;
    let stage = |run: Option<u32>, evals: Vec<u32>, eval_concurrency: u32| Stage {
        run,
        evals,
        run_concurrency: run_c,
        eval_concurrency,
    };
    let mut out = Vec::new();
    if seeds.is_empty() {
        return out;
    }
    if room == 0 {
        out.extend(seeds.iter().map(|s| stage(Some(*s), Vec::new(), eval_c)));
        out.push(stage(None, seeds.to_vec(), eval_c));
        return out;
    }
    out.push(stage(Some(seeds[0]), Vec::new(), eval_c));
    for w in seeds.windows(2) {
        out.push(stage(Some(w[1]), vec![w[0]], room));
    }
    out.push(stage(None, vec![seeds[seeds.len() - 1]], eval_c));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seeds_evals_run_beside_the_next_seeds_agents_within_the_budget() {
        let p = pipeline(&[1, 2, 3], 4, 10);
        let shape: Vec<(Option<u32>, Vec<u32>, u32)> =
            p.iter().map(|s| (s.run, s.evals.clone(), s.containers())).collect();
        assert_eq!(shape, [(Some(1), vec![], 4), (Some(2), vec![1], 10), (Some(3), vec![2], 10), (None, vec![3], 10)]);
        assert_eq!(p[1].eval_concurrency, 6);
        assert_eq!(p[1].label(), "seed2's run and seed1's evals");
        // Never more containers at once than the larger setting.
        for (r, e) in [(1, 1), (2, 4), (4, 10), (10, 4), (3, 3), (7, 8)] {
            for s in pipeline(&[1, 2, 3, 4], r, e) {
                assert!(s.containers() <= r.max(e), "{r}/{e}: {s:?}");
                if let Some(run) = s.run {
                    assert!(!s.evals.contains(&run), "a seed's evals beside its own run: {s:?}");
                }
            }
        }
    }

    #[test]
    fn no_room_left_means_no_overlap_and_every_seed_is_evaluated_once_after_its_run() {
        let p = pipeline(&[1, 2], 4, 4);
        assert_eq!(
            p.iter().map(|s| (s.run, s.evals.clone())).collect::<Vec<_>>(),
            [(Some(1), vec![]), (Some(2), vec![]), (None, vec![1, 2])]
        );
        assert!(pipeline(&[], 4, 10).is_empty());
        for (r, e) in [(2, 4), (4, 4), (4, 10)] {
            let p = pipeline(&[5, 6, 7], r, e);
            for seed in [5, 6, 7] {
                let ran = p.iter().position(|s| s.run == Some(seed)).unwrap();
                let evaluated: Vec<usize> = (0..p.len()).filter(|i| p[*i].evals.contains(&seed)).collect();
                assert_eq!(evaluated.len(), 1);
                assert!(evaluated[0] > ran, "seed {seed} evaluated before its run ended");
            }
        }
    }
}

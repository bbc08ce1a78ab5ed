//! A pair's trials and where they sit: the seeds' and coop runs' outcomes
//! of one pair, the design (held-out or in-sample difficulty, which seeds
//! draw the solo curve), each pair's contribution to the figure's cells and
//! to the paired comparison, and the clusters the bootstrap resamples.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::study::difficulty::Difficulty;
use crate::study::pair::PairId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum DifficultyMode {
    #[default]
    HeldOut,
    InSample,
}

/// What the bootstrap resamples: pairs (with all their seeds), or tasks
/// (with all their pairs), since pairs of one task share a repository state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Cluster {
    #[default]
    Pair,
    Task,
}

impl Cluster {
    /// The name fig4.json and REPORT.md use (as serde writes it).
    pub fn name(self) -> &'static str {
        match self {
            Cluster::Pair => "pair",
            Cluster::Task => "task",
        }
    }
}

/// One pair's trials: one entry per solo run (in order) and per coop run;
/// `None` is no trial (agent error, missing, eval error left out).
#[derive(Debug, Clone, PartialEq)]
pub struct PairTrials {
    pub pair: PairId,
    pub solo: Vec<Option<bool>>,
    pub coop: Vec<Option<bool>>,
}

impl PairTrials {
    /// The trials of the solo runs that draw the solo curve.
    pub fn solo_curve_trials<'a>(&'a self, design: &'a Design) -> impl Iterator<Item = bool> + 'a {
        self.solo.iter().zip(&design.solo_curve).filter(|(_, on)| **on).filter_map(|(t, _)| *t)
    }
}

/// How trials become the figure.
#[derive(Debug, Clone)]
pub struct Design {
    pub mode: DifficultyMode,
    /// Per solo run: do its trials draw the solo curve?
    pub solo_curve: Vec<bool>,
    pub coop_runs: usize,
    /// Per solo run: its model's group (`study::models`); empty is one
    /// model. Over several, a pair's difficulty is the mean over models of
    /// each model's failure rate (`Difficulty::over_models`), held-out
    /// leaving the one trial out of its own model's rate.
    pub models: Vec<usize>,
}

impl Design {
    /// The difficulty of a pair's solo trials, one left out or none.
    pub fn difficulty(&self, solo: &[Option<bool>], left_out: Option<usize>) -> Difficulty {
        Difficulty::over_models(solo, &self.models, left_out)
    }

    pub(super) fn settings(&self) -> usize {
        1 + self.coop_runs
    }
}

/// One pair's share of the figure. Difficulty depends on the pair's own seeds
/// only, so a bootstrap replicate is a sum of its pairs' contributions.
#[derive(Debug, Clone, Default)]
pub struct Contribution {
    /// `(bucket, setting, weighted successes, weight)`, one entry per trial
    /// and cell (setting 0 is solo): a coop trial placed twice in one bucket
    /// is one entry of the summed weight, so that Kish's n counts trials.
    pub(super) cells: Vec<(usize, usize, f64, f64)>,
    pub(super) placed: [bool; 10],
    /// Per coop run, when both settings have trials.
    pub(super) paired: Vec<Option<PairedTrial>>,
}

/// One pair's paired comparison for one coop run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct PairedTrial {
    /// The pair's solo success rate over the solo-curve seeds.
    pub(super) solo_rate: f64,
    pub(super) coop: bool,
}

impl PairedTrial {
    /// Coop success minus the pair's solo success rate.
    pub(super) fn difference(self) -> f64 {
        f64::from(u8::from(self.coop)) - self.solo_rate
    }

    /// Seed-averaged discordance: the share of the pair's solo seeds that
    /// passed where coop failed, and that failed where coop passed (one
    /// seed against the one coop trial, so K seeds are not K chances).
    pub(super) fn discordance(self) -> (f64, f64) {
        if self.coop {
            (0.0, 1.0 - self.solo_rate)
        } else {
            (self.solo_rate, 0.0)
        }
    }
}

impl Contribution {
    pub fn is_placed(&self) -> bool {
        self.placed.iter().any(|p| *p)
    }

    fn add(&mut self, bucket: usize, setting: usize, success: bool, weight: f64) {
        let k = weight * f64::from(u8::from(success));
        match self.cells.iter_mut().find(|e| setting > 0 && e.0 == bucket && e.1 == setting) {
            Some(e) => {
                e.2 += k;
                e.3 += weight;
            }
            None => self.cells.push((bucket, setting, k, weight)),
        }
    }
}

pub fn contribution(p: &PairTrials, design: &Design) -> Contribution {
    let mut c = Contribution::default();
    let k = p.solo.len();
    let on_curve = |i: usize| design.solo_curve.get(i).copied().unwrap_or(false);
    let place = |c: &mut Contribution, d: Difficulty, weight: f64, only: Option<usize>| {
        let Some(b) = d.bucket() else { return };
        let mut added = false;
        for (i, ok) in p.solo.iter().enumerate() {
            if only.is_some_and(|o| o != i) || !on_curve(i) {
                continue;
            }
            if let Some(ok) = ok {
                c.add(b, 0, *ok, 1.0);
                added = true;
            }
        }
        for (i, ok) in p.coop.iter().enumerate() {
            if let Some(ok) = ok {
                c.add(b, i + 1, *ok, weight);
                added = true;
            }
        }
        if design.mode == DifficultyMode::InSample || added {
            c.placed[b] = true;
        }
    };
    match design.mode {
        DifficultyMode::InSample => place(&mut c, design.difficulty(&p.solo, None), 1.0, None),
        DifficultyMode::HeldOut => {
            // Coop sits where the solo curve's trials sit: at the held-out
            // difficulty of each solo-curve seed S, weight 1/|S| each, so
            // that the two curves weigh their pairs alike.
            let curve: Vec<usize> = (0..k).filter(|i| on_curve(*i)).collect();
            for &left_out in &curve {
                place(&mut c, design.difficulty(&p.solo, Some(left_out)), 1.0 / curve.len() as f64, Some(left_out));
            }
        }
    }
    let solo: Vec<bool> = p.solo_curve_trials(design).collect();
    c.paired = p
        .coop
        .iter()
        .map(|coop| {
            let coop = (*coop)?;
            if solo.is_empty() {
                return None;
            }
            let solo_rate = solo.iter().filter(|ok| **ok).count() as f64 / solo.len() as f64;
            Some(PairedTrial { solo_rate, coop })
        })
        .collect();
    c
}

/// How the intervals were made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    pub replicates: usize,
    pub seed: u64,
    pub cluster: Cluster,
}

/// Clusters for the bootstrap: one per pair, or one per task.
pub fn clusters(pairs: &[PairTrials], by: Cluster) -> Vec<Vec<usize>> {
    match by {
        Cluster::Pair => (0..pairs.len()).map(|i| vec![i]).collect(),
        Cluster::Task => {
            let mut tasks: BTreeMap<(&str, u64), Vec<usize>> = BTreeMap::new();
            for (i, p) in pairs.iter().enumerate() {
                tasks.entry((p.pair.repo.as_str(), p.pair.task_id)).or_default().push(i);
            }
            tasks.into_values().collect()
        }
    }
}

//! Who may start what, on one host, pure: the rules by which a study's
//! seeds share the machine so that nothing waits that the work does not
//! need. Each seed goes its own way (its run, its retries and their waits,
//! then its evals); two lanes are shared:
//!
//! - **agents**: one seed's agents at a time, at `run_concurrency`, held
//!   from a seed's first run step to its next wait or its end; when it
//!   frees, the lowest seed that wants it takes it (seeds keep their order,
//!   and a seed waiting out a rate limit lets the next seed's agents work);
//! - **evals**: one seed's evals at a time. The budget of containers is the
//!   larger of the two `-c` values the user set: never more at once than
//!   either setting alone allowed. While any seed still has agents to run,
//!   evals take what the agents leave (`budget - run_concurrency`); once no
//!   agent will run again, `eval_concurrency`. When the agents leave
//!   nothing (`run_concurrency` at or above `eval_concurrency`), evals wait
//!   for every run to end: nothing overlaps.
//!
//! `engine::lanes` holds the lanes; these functions decide.

use std::collections::BTreeSet;

/// The seed that takes the free agents lane: the lowest that wants it.
pub fn agents_next(wanting: &BTreeSet<u32>) -> Option<u32> {
    wanting.iter().next().copied()
}

/// The concurrency an eval may start at now, or `None`: it must wait.
/// `agents_pending`: some seed's run is not over (it may start agents).
pub fn eval_concurrency(run_concurrency: u32, eval_concurrency: u32, agents_pending: bool) -> Option<u32> {
    let (run_c, eval_c) = (run_concurrency.max(1), eval_concurrency.max(1));
    if !agents_pending {
        return Some(eval_c);
    }
    let room = run_c.max(eval_c) - run_c;
    (room > 0).then_some(room)
}

/// The most containers at once under these rules.
pub fn budget(run_concurrency: u32, eval_concurrency: u32) -> u32 {
    run_concurrency.max(1).max(eval_concurrency.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One seed's work, in seconds: its agents' spans with the waits
    /// between them, then its evals (at full eval concurrency).
    struct Work {
        runs: Vec<f64>,
        waits: Vec<f64>,
        evals: f64,
    }

    /// (seed, what, start, end) of one span of work.
    type Span = (u32, &'static str, f64, f64);

    /// The rules above played out in time, as the executor would: returns
    /// the end of all work, the most containers ever at once, the spans.
    fn simulate(seeds: &[Work], run_c: u32, eval_c: u32) -> (f64, u32, Vec<Span>) {
        #[derive(Clone, Copy, PartialEq)]
        enum At {
            Run(usize),
            Wait(usize),
            Eval,
            Done,
        }
        let mut at: Vec<At> = seeds.iter().map(|_| At::Run(0)).collect();
        let mut busy_until = vec![0.0f64; seeds.len()];
        let (mut agents, mut evals): (Option<usize>, Option<(usize, u32)>) = (None, None);
        let mut spans = Vec::new();
        let (mut now, mut peak) = (0.0f64, 0);
        loop {
            // Start what may start now.
            // A seed whose agents still run has its run pending too.
            let pending = at.iter().any(|a| matches!(a, At::Run(_) | At::Wait(_)))
                || (0..seeds.len()).any(|i| agents == Some(i) && busy_until[i] > now);
            let wanting: BTreeSet<u32> = (0..seeds.len())
                .filter(|&i| busy_until[i] <= now && matches!(at[i], At::Run(_)) && agents.is_none_or(|h| h == i))
                .map(|i| i as u32)
                .collect();
            if let Some(i) = agents_next(&wanting).map(|i| i as usize) {
                if let At::Run(k) = at[i] {
                    agents = Some(i);
                    busy_until[i] = now + seeds[i].runs[k];
                    spans.push((i as u32, "run", now, busy_until[i]));
                    at[i] = if k < seeds[i].waits.len() { At::Wait(k) } else { At::Eval };
                }
            }
            for i in 0..seeds.len() {
                if at[i] == At::Eval && busy_until[i] <= now && evals.is_none() && agents != Some(i) {
                    if let Some(c) = eval_concurrency(run_c, eval_c, pending) {
                        evals = Some((i, c));
                        // Fewer graders take longer, in proportion.
                        busy_until[i] = now + seeds[i].evals * f64::from(eval_c) / f64::from(c);
                        spans.push((i as u32, "eval", now, busy_until[i]));
                        at[i] = At::Done;
                    }
                }
            }
            let containers = agents.map_or(0, |_| run_c) + evals.map_or(0, |(_, c)| c);
            peak = peak.max(containers);
            // Advance to the next end.
            let next = busy_until.iter().copied().filter(|t| *t > now).fold(f64::MAX, f64::min);
            if next == f64::MAX {
                break;
            }
            now = next;
            for i in 0..seeds.len() {
                if busy_until[i] <= now {
                    if agents == Some(i) && !matches!(at[i], At::Run(_)) {
                        agents = None;
                        if let At::Wait(k) = at[i] {
                            busy_until[i] = now + seeds[i].waits[k];
                            spans.push((i as u32, "wait", now, busy_until[i]));
                            at[i] = At::Run(k + 1);
                        }
                    }
                    if evals.is_some_and(|(e, _)| e == i) {
                        evals = None;
                    }
                }
            }
        }
        (now, peak, spans)
    }

    #[test]
    fn the_next_seeds_agents_work_through_a_rate_limit_wait_and_beside_the_evals() {
        // The e2e's two seeds: 20 s of agents, seed 1 then waits 60 s and
        // retries 7 s; evals 37 s and 22 s at -c 4; agents -c 2.
        let seeds = [
            Work { runs: vec![20.0, 7.0], waits: vec![60.0], evals: 37.0 },
            Work { runs: vec![20.0], waits: vec![], evals: 22.0 },
        ];
        let (end, peak, spans) = simulate(&seeds, 2, 4);
        let serial = 20.0 + 60.0 + 7.0 + 37.0 + 20.0 + 22.0;
        assert!(peak <= budget(2, 4), "{peak} containers at once");
        // Seed 2's agents ran during seed 1's wait, its evals beside it.
        let s2_run = spans.iter().find(|s| s.0 == 1 && s.1 == "run").unwrap();
        assert_eq!((s2_run.2, s2_run.3), (20.0, 40.0), "{spans:?}");
        assert!(
            1.0 - end / serial >= 0.2,
            "saved only {:.0}% ({end} s against {serial} s): {spans:?}",
            100.0 * (1.0 - end / serial)
        );
    }

    #[test]
    fn never_more_containers_than_the_larger_setting_and_no_overlap_without_room() {
        let seeds: Vec<Work> =
            (0..4).map(|i| Work { runs: vec![10.0 + i as f64], waits: vec![], evals: 8.0 }).collect();
        for (r, e) in [(1, 1), (2, 4), (4, 10), (10, 4), (3, 3), (7, 8)] {
            let (_, peak, spans) = simulate(&seeds, r, e);
            assert!(peak <= budget(r, e), "{r}/{e}: {peak}");
            // A seed's evals only after its agents.
            for (seed, what, start, _) in &spans {
                if *what == "eval" {
                    let ran = spans.iter().filter(|s| s.0 == *seed && s.1 == "run").map(|s| s.3).fold(0.0, f64::max);
                    assert!(*start >= ran, "{r}/{e}: seed {seed}'s evals began before its agents ended");
                }
            }
        }
        // Agents at 4, evals at 4: nothing left beside the agents, so every
        // eval waits for the last run.
        assert_eq!(eval_concurrency(4, 4, true), None);
        assert_eq!(eval_concurrency(4, 4, false), Some(4));
        assert_eq!(eval_concurrency(4, 10, true), Some(6));
        let (_, _, spans) = simulate(&seeds, 4, 4);
        let last_run = spans.iter().filter(|s| s.1 == "run").map(|s| s.3).fold(0.0, f64::max);
        assert!(spans.iter().filter(|s| s.1 == "eval").all(|s| s.2 >= last_run), "{spans:?}");
        assert_eq!(agents_next(&[3, 1, 2].into()), Some(1));
        assert_eq!(agents_next(&BTreeSet::new()), None);
    }
}

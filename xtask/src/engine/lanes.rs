//! The two lanes a study's seeds share on one host (agents, evals), held
//! by the seeds' threads as `study::plan`'s lane rules decide. A wait for
//! a lane wakes on Ctrl-C.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::edges::cli;
use crate::study::plan;

/// Why a wait for a lane ended without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// Ctrl-C (or SIGTERM, SIGHUP).
    Interrupted,
    /// Another seed failed: nothing more is started.
    Stopped,
}

#[derive(Default)]
struct State {
    /// The seed whose agents run (or may: it holds the lane between steps).
    agents: Option<u32>,
    wanting: BTreeSet<u32>,
    /// The seed whose evals run.
    evals: Option<u32>,
    /// Seeds whose run is not over: they may still start agents.
    runs_pending: BTreeSet<u32>,
    /// A seed failed: the others start nothing more.
    stopped: bool,
}

pub struct Lanes {
    run_concurrency: u32,
    eval_concurrency: u32,
    state: Mutex<State>,
    changed: Condvar,
}

impl Lanes {
    pub fn new(seeds: &[u32], run_concurrency: u32, eval_concurrency: u32) -> Lanes {
        // Every seed wants the agents first: so the first seed takes them
        // first, whichever thread gets here first.
        let all: BTreeSet<u32> = seeds.iter().copied().collect();
        let state = State { runs_pending: all.clone(), wanting: all, ..State::default() };
        Lanes { run_concurrency, eval_concurrency, state: Mutex::new(state), changed: Condvar::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until `ready` says yes (under the lock), then `take`s.
    fn wait_for<T>(&self, mut ready: impl FnMut(&mut State) -> Option<T>) -> Result<T, Halt> {
        let mut st = self.lock();
        loop {
            if st.stopped {
                return Err(Halt::Stopped);
            }
            if let Some(t) = ready(&mut st) {
                self.changed.notify_all();
                return Ok(t);
            }
            if cli::interrupted().load(std::sync::atomic::Ordering::SeqCst) {
                return Err(Halt::Interrupted);
            }
            st = self
                .changed
                .wait_timeout(st, Duration::from_millis(200))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// The agents lane for `seed` (kept if it holds it already).
    pub fn agents(&self, seed: u32) -> Result<(), Halt> {
        self.wait_for(|st| {
            if st.agents == Some(seed) {
                return Some(());
            }
            st.wanting.insert(seed);
            if st.agents.is_none() && plan::agents_next(&st.wanting) == Some(seed) {
                st.wanting.remove(&seed);
                st.agents = Some(seed);
                return Some(());
            }
            None
        })
    }

    /// `seed` lets the agents lane go (a wait, or its run is over).
    pub fn release_agents(&self, seed: u32) {
        let mut st = self.lock();
        if st.agents == Some(seed) {
            st.agents = None;
        }
        self.changed.notify_all();
    }

    /// `seed`'s run is over: it will start no agents again.
    pub fn run_over(&self, seed: u32) {
        let mut st = self.lock();
        st.runs_pending.remove(&seed);
        st.wanting.remove(&seed);
        if st.agents == Some(seed) {
            st.agents = None;
        }
        self.changed.notify_all();
    }

    /// The evals lane for `seed`; the concurrency its evals may run at.
    pub fn evals(&self, seed: u32) -> Result<u32, Halt> {
        let (run_c, eval_c) = (self.run_concurrency, self.eval_concurrency);
        self.wait_for(|st| {
            if st.evals.is_some_and(|s| s != seed) {
                return None;
            }
            let c = plan::eval_concurrency(run_c, eval_c, !st.runs_pending.is_empty())?;
            st.evals = Some(seed);
            Some(c)
        })
    }

    /// A seed failed: every other seed's next wait for a lane ends in a
    /// stop (what already runs is let finish).
    pub fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }

    pub fn release_evals(&self, seed: u32) {
        let mut st = self.lock();
        if st.evals == Some(seed) {
            st.evals = None;
        }
        self.changed.notify_all();
    }
}

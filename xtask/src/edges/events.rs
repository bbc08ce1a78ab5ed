//! `<checkout>/.harness/events.jsonl`: what `seeds` did, as data, one JSON
//! object a line (`at`, `event`, and the event's fields). The printed output
//! is for people and may change its words; `cargo xtask e2e` and anyone
//! auditing a run read this instead. Messages in it are scrubbed of secrets
//! before they are written, as the printed ones are.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A `seeds` began (its process id): a file holds every invocation's lines.
    Start {
        pid: u32,
    },
    /// Files moved aside before a run or eval redoes their pairs.
    Quarantine {
        run: String,
        paths: Vec<String>,
    },
    /// The canary's pair and what its result says (`None`: no readable result).
    Canary {
        run: String,
        pair: String,
        status: Option<String>,
        error: Option<String>,
        cost: Option<f64>,
    },
    /// A plain `run` of the seed (attempt 1, then the retries).
    Run {
        run: String,
        attempt: u32,
        pairs: usize,
    },
    Eval {
        run: String,
    },
    /// The one retry for pairs the first eval left without an eval.json.
    EvalRetry {
        run: String,
        missing: usize,
    },
    ForceEval {
        run: String,
        pair: String,
    },
    /// `eval_summary.json` rewritten from every eval.json.
    SummaryRewritten {
        run: String,
    },
    /// One CLI invocation's span, in seconds since the Unix epoch.
    Invocation {
        run: String,
        what: String,
        started: f64,
        ended: f64,
    },
    /// A deliberate wait (before retrying rate-limited pairs), its span in
    /// seconds since the Unix epoch: time the harness chose to spend.
    Wait {
        run: String,
        why: String,
        started: f64,
        ended: f64,
    },
    /// A phase of a seed ended; the pairs still without a good result.
    Done {
        run: String,
        phase: String,
        failing: Vec<String>,
    },
    /// A seed stopped, and why.
    Stop {
        run: String,
        reason: String,
    },
    Interrupted,
    /// Modal sandboxes the harness terminated in a seed run's environment
    /// (the ledger of what it ended, as for Docker containers).
    ModalTerminated {
        run: String,
        environment: String,
        when: String,
        sandboxes: Vec<String>,
    },
    /// On Modal: the agent sandbox time one invocation's results record
    /// (each episode's duration, times the agents of a pair).
    SandboxTime {
        run: String,
        what: String,
        agent_seconds: f64,
    },
    /// The final verify.
    Verify {
        ok: bool,
        failures: usize,
        warnings: usize,
    },
}

/// One line of the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub at: String,
    #[serde(flatten)]
    pub event: Event,
}

/// The file, appended to from every seed's thread.
pub struct Events {
    path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl Events {
    pub fn open(cooperbench_dir: &Path) -> Events {
        let path = crate::edges::layout::events(cooperbench_dir);
        let file =
            path.parent().and_then(|d| std::fs::create_dir_all(d).ok()).and_then(
                |_| match crate::edges::write::append(&path) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        eprintln!("{e}; the run goes on without it");
                        None
                    }
                },
            );
        Events { path, file: Mutex::new(file) }
    }

    /// Appends one line. The record is a help, not the work: a failed write
    /// is said once on stderr and the run goes on.
    pub fn record(&self, event: Event) {
        let line = Line { at: crate::edges::clock::now().to_iso(), event };
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let Some(f) = file.as_mut() else { return };
        let text = serde_json::to_string(&line).unwrap_or_default();
        if writeln!(f, "{text}").and_then(|_| f.flush()).is_err() {
            eprintln!("cannot write {}; the run goes on without it", self.path.display());
            *file = None;
        }
    }
}

/// Every line of a file, in order; a line that is not an event is skipped.
pub fn read(path: &Path) -> Vec<Line> {
    crate::edges::read::text_or_empty(path, 256 << 20)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Where a command's wall time went, from its events: time inside the CLI
/// (the union of its invocations, plus `outside`: the CLI run directly,
/// before), deliberate waits (beyond the CLI), the rest the harness's own;
/// and what running every invocation and wait one after another would have
/// taken instead (`serial`: the wall plus whatever overlapped).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Times {
    pub wall: f64,
    pub cli: f64,
    pub waits: f64,
    pub harness: f64,
    pub serial: f64,
}

impl Times {
    pub fn of(lines: &[Line], wall: f64, outside: f64) -> Times {
        let spans = |wait: bool| -> Vec<(f64, f64)> {
            lines
                .iter()
                .filter_map(|l| match (&l.event, wait) {
                    (Event::Invocation { started, ended, .. }, false) | (Event::Wait { started, ended, .. }, true) => {
                        Some((*started, *ended))
                    }
                    _ => None,
                })
                .collect()
        };
        let (invocations, waits) = (spans(false), spans(true));
        let all: Vec<(f64, f64)> = invocations.iter().chain(&waits).copied().collect();
        let cli = union(&invocations);
        let busy = union(&all);
        let sum: f64 = all.iter().map(|(a, b)| (b - a).max(0.0)).sum();
        Times {
            wall,
            cli: cli + outside,
            waits: busy - cli,
            harness: (wall - busy - outside).max(0.0),
            serial: wall + (sum - busy),
        }
    }

    /// The harness's own share of the wall time.
    pub fn harness_share(&self) -> f64 {
        if self.wall > 0.0 {
            self.harness / self.wall
        } else {
            0.0
        }
    }

    /// The share of the one-after-another time that overlap saved.
    pub fn saved_share(&self) -> f64 {
        if self.serial > 0.0 {
            1.0 - self.wall / self.serial
        } else {
            0.0
        }
    }
}

/// The length of the union of spans.
fn union(spans: &[(f64, f64)]) -> f64 {
    let mut spans = spans.to_vec();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut total, mut reach) = (0.0, f64::MIN);
    for (start, end) in spans {
        let from = start.max(reach);
        if end > from {
            total += end - from;
        }
        reach = reach.max(end);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wall_splits_into_cli_waits_and_the_harness_and_overlap_is_what_serial_would_add() {
        let wait = |started: f64, ended: f64| Line {
            at: "2026-12-04T10:00:00".into(),
            event: Event::Wait { run: "s".into(), why: "429".into(), started, ended },
        };
        // A run 0-60, beside it an eval 40-70; a wait 70-80 alone; 100 s wall
        // of which 5 s were the CLI run directly before.
        let lines = [span(0.0, 60.0), span(40.0, 70.0), wait(70.0, 80.0)];
        let t = Times::of(&lines, 100.0, 5.0);
        assert_eq!((t.cli, t.waits, t.harness), (75.0, 10.0, 15.0));
        // One after another: 60 + 30 + 10 = 100 s busy instead of 80.
        assert_eq!(t.serial, 120.0);
        assert!((t.saved_share() - 1.0 / 6.0).abs() < 1e-12);
        assert!((t.harness_share() - 0.15).abs() < 1e-12);
    }

    fn span(started: f64, ended: f64) -> Line {
        Line {
            at: "2026-12-04T10:00:00".into(),
            event: Event::Invocation { run: "s".into(), what: "eval".into(), started, ended },
        }
    }

    #[test]
    fn cli_time_is_the_union_of_the_invocations() {
        // Two evals at once (100-130 and 110-140) count once: 40 s; a canary 10 s.
        let lines = [span(50.0, 60.0), span(100.0, 130.0), span(110.0, 140.0)];
        assert_eq!(Times::of(&lines, 100.0, 0.0).cli, 50.0);
    }

    #[test]
    fn lines_are_flat_json_and_read_back() {
        let dir = std::env::temp_dir().join(format!("xtask-events-{}", std::process::id()));
        let events = Events::open(&dir);
        events.record(Event::Run { run: "seed1".into(), attempt: 2, pairs: 3 });
        events.record(Event::Interrupted);
        let path = crate::edges::layout::events(&dir);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.lines().next().unwrap().contains(r#""event":"run","run":"seed1","attempt":2,"pairs":3"#),
            "{text}"
        );
        let back = read(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].event, Event::Run { run: "seed1".into(), attempt: 2, pairs: 3 });
        assert_eq!(back[1].event, Event::Interrupted);
    }
}

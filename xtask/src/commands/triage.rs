//! `cargo xtask triage RUN [PAIR]`: what a researcher opens first when a
//! number looks wrong. For one run: how many pairs fall in each class
//! (`study::class`), whether each class is a trial and what `seeds` does
//! about it, and one line per pair that did not pass: its class and the
//! evidence. With a pair: that pair's story, from its files.
//! Reads only; starts nothing and spends nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::edges::experiment::CommonFlags;
use crate::edges::layout;
use crate::study::class::{self, Class, Trial};
use crate::study::pair::PairId;
use crate::study::run::RunLogs;

#[derive(Debug, Clone, clap::Args)]
pub struct TriageFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// The run to look into (a folder under logs/)
    pub run: String,
    /// One pair, `repo/task/fA_fB`, for its story
    pub pair: Option<String>,
}

pub fn run(flags: TriageFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load(&ctx.root)?;
    let cb = &exp.cooperbench_dir;
    layout::require_checkout(cb).map_err(crate::usage)?;
    let subset = layout::load_subset(cb, &exp.subset).map_err(crate::usage)?;
    let logs = RunLogs::load(cb, &flags.run);
    if !logs.exists {
        return Err(crate::usage(anyhow::anyhow!(
            "run `{}`: no folder {}",
            flags.run,
            layout::run_dir(cb, &flags.run).display()
        )));
    }
    let text = match &flags.pair {
        None => render_run(&logs, &subset.pairs),
        Some(p) => {
            let pair = PairId::parse(p)
                .ok_or_else(|| crate::usage(anyhow::anyhow!("`{p}` is not a pair: write repo/task/fA_fB")))?;
            let dir = cb.join(layout::pair_rel(&flags.run, &logs.setting, &pair));
            render_pair(&logs, &pair, &story(&dir, &logs, &pair))
        }
    };
    // Errors and trajectories can echo a key (a provider's auth error
    // does): what is printed is scrubbed of every secret the study uses.
    let secrets = crate::edges::secrets::Secrets::load(cb, &exp.secret_names());
    print!("{}", secrets.redact(&text));
    Ok(0)
}

/// The run's classes, then one line per pair that did not pass.
pub fn render_run(logs: &RunLogs, pairs: &[PairId]) -> String {
    let classified: Vec<(&PairId, Class, Option<class::Evidence>)> = pairs
        .iter()
        .map(|p| {
            let (c, e) = crate::study::classify::of(logs.pairs.get(p));
            (p, c, e)
        })
        .collect();
    let mut counts: BTreeMap<Class, usize> = BTreeMap::new();
    for (_, c, _) in &classified {
        *counts.entry(*c).or_default() += 1;
    }
    let trials = |t: Trial| classified.iter().filter(|(_, c, _)| c.policy().trial == t).count();
    let judged = trials(Trial::Success) + trials(Trial::Failure);
    let mut o = format!(
        "run {}: {} pairs; {} judged (the model's: {} passed), {} not (the machine's, or not yet)\n\n",
        logs.name,
        pairs.len(),
        judged,
        trials(Trial::Success),
        pairs.len() - judged
    );
    let _ = writeln!(o, "{:<20} {:>6}  {:<10} what seeds does", "class", "pairs", "a trial?");
    for (c, n) in &counts {
        let p = c.policy();
        let trial = match p.trial {
            Trial::Success => "success",
            Trial::Failure => "failure",
            Trial::None => "no",
        };
        let _ = writeln!(o, "{:<20} {:>6}  {:<10} {}", c.name(), n, trial, p.action.describe());
    }
    let rest: Vec<&(&PairId, Class, Option<class::Evidence>)> =
        classified.iter().filter(|(_, c, _)| *c != Class::Pass).collect();
    if !rest.is_empty() {
        let _ = writeln!(o, "\n{:<36} {:<20} evidence", "pair", "class");
        for (p, c, e) in rest {
            let why = e.as_ref().map(|e| e.line()).unwrap_or_default();
            let _ = writeln!(o, "{:<36} {:<20} {why}", p.to_string(), c.name());
        }
    }
    o
}

/// What one pair's files say beyond its class: per agent, the last
/// messages of its trajectory; the eval's test outputs.
#[derive(Debug, Clone, Default)]
pub struct Story {
    /// Per agent: its last messages, `(role, text)`, or why there are none.
    pub messages: BTreeMap<String, Result<Vec<(String, String)>, String>>,
    /// Per feature: the end of its test output.
    pub tests: Vec<String>,
}

/// How many of an agent's last messages the story shows.
const LAST_MESSAGES: usize = 4;
/// A trajectory is read whole for one pair's story, up to this size.
const MAX_TRAJECTORY_BYTES: u64 = 256 << 20;

fn story(dir: &std::path::Path, logs: &RunLogs, pair: &PairId) -> Story {
    let mut s = Story::default();
    let agents: Vec<String> = logs
        .pairs
        .get(pair)
        .and_then(|p| p.result.as_ref())
        .map(|r| r.agents.iter().map(|a| a.id.clone()).collect())
        .unwrap_or_default();
    for a in agents {
        let path = dir.join(layout::trajectory_file(&a));
        let last = crate::edges::logs::trajectory_messages(&path, MAX_TRAJECTORY_BYTES).map(|m| {
            let skip = m.len().saturating_sub(LAST_MESSAGES);
            m.into_iter().skip(skip).collect()
        });
        s.messages.insert(a, last);
    }
    s.tests =
        crate::edges::logs::test_outputs(&dir.join(layout::EVAL)).into_iter().map(|out| output_end(&out, 6)).collect();
    s
}

/// The last `n` non-empty lines of an output: where the test runner's
/// summary is.
pub fn output_end(output: &str, n: usize) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    let skip = lines.len().saturating_sub(n);
    lines[skip..].iter().map(|l| class::cut(l, 160)).collect::<Vec<_>>().join("\n")
}

pub fn render_pair(logs: &RunLogs, pair: &PairId, story: &Story) -> String {
    let p = logs.pairs.get(pair);
    let (c, e) = crate::study::classify::of(p);
    let mut o = format!("{} {} ({})\n", logs.name, pair, logs.setting);
    let _ = writeln!(o, "class: {}{}", c.name(), e.map(|e| format!(" ({})", e.line())).unwrap_or_default());
    let policy = c.policy();
    let _ = writeln!(
        o,
        "a trial: {}; seeds: {}",
        match policy.trial {
            Trial::Success => "yes, a success",
            Trial::Failure => "yes, a failure",
            Trial::None => "no",
        },
        policy.action.describe()
    );
    let Some(p) = p else {
        let _ = writeln!(o, "no folder for this pair in this run");
        return o;
    };
    match &p.result {
        Some(r) => {
            let _ = writeln!(o, "cost ${:.2}, {:.0} s", r.cost(), r.duration_seconds);
            for a in &r.agents {
                let patch = p.patch_bytes.get(&a.id).map(|b| format!("{b} bytes")).unwrap_or_else(|| "none".into());
                let _ = writeln!(
                    o,
                    "{}: {}, {} steps, patch {patch}{}",
                    a.id,
                    a.status.name(),
                    a.steps.map(|s| s.to_string()).unwrap_or_else(|| "?".into()),
                    a.error.as_ref().map(|e| format!(", error: {}", class::cut(e, 200))).unwrap_or_default()
                );
            }
        }
        None => {
            let why = p.result_trouble.as_ref().map(|t| t.message().to_string()).unwrap_or("absent".into());
            let _ = writeln!(o, "result.json: {why}");
        }
    }
    for (agent, messages) in &story.messages {
        let _ = writeln!(o, "\n{agent}: last messages");
        match messages {
            Ok(m) if m.is_empty() => {
                let _ = writeln!(o, "  (none)");
            }
            Ok(m) => {
                for (role, text) in m {
                    let _ = writeln!(o, "  [{role}] {}", class::cut(text, 300));
                }
            }
            Err(why) => {
                let _ = writeln!(o, "  ({why})");
            }
        }
    }
    match &p.eval {
        Some(e) => {
            let _ = writeln!(
                o,
                "\neval: {}{}",
                if e.both_passed { "both passed" } else { "not both passed" },
                e.error.as_ref().map(|x| format!(", error: {}", class::cut(x, 200))).unwrap_or_default()
            );
            for (i, t) in story.tests.iter().enumerate() {
                let _ = writeln!(o, "feature{} test output, its end:", i + 1);
                for l in t.lines() {
                    let _ = writeln!(o, "  {l}");
                }
            }
        }
        None => {
            let _ = writeln!(o, "\neval: none");
        }
    }
    o
}

//! One (run, pair)'s story in words: its class and the evidence, what
//! `seeds` does about it, cost and steps, each agent's patch (size and
//! first lines) and last messages, a coop pair's conversation, the eval and
//! the end of its test outputs. `cargo xtask triage RUN PAIR` prints it and
//! the report's page shows it under each pair: one text, made here, so the
//! two never say different things. Pure: the files are read by
//! `edges::story`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::study::class::{self, Class, Evidence, Trial};
use crate::study::pair::PairId;
use crate::study::run::RunLogs;

/// What one pair's files say beyond its class, each part bounded (a story
/// is shown 500 times on a study's page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Story {
    /// Per agent: its last messages, `(role, text)`, or why there are none.
    pub messages: BTreeMap<String, Result<Vec<(String, String)>, String>>,
    /// Per agent: the first lines of its patch (empty for an empty patch),
    /// or why there are none.
    pub patches: BTreeMap<String, Result<Vec<String>, String>>,
    /// A coop pair's `conversation.json`, or why it cannot be read; `None`
    /// for solo.
    pub conversation: Option<Result<Conversation, String>>,
    /// Per feature: the end of its test output.
    pub tests: Vec<String>,
}

/// What a coop pair's agents said to each other.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conversation {
    /// How many messages were sent.
    pub sent: usize,
    /// The last [`LAST_CONVERSATION`] of them, `(from, to, text)`.
    pub last: Vec<(String, String, String)>,
}

/// Every story of a report, by run name and pair.
pub type Stories = BTreeMap<(String, PairId), Story>;

/// How many of an agent's last messages a story shows.
pub const LAST_MESSAGES: usize = 4;
/// How many of a conversation's last messages a story shows.
pub const LAST_CONVERSATION: usize = 6;
/// How many of a patch's first lines a story shows.
pub const PATCH_LINES: usize = 12;
/// How many of a test output's last non-empty lines a story shows.
pub const TEST_LINES: usize = 6;
/// The longest a shown line (of a patch, a test output) may be.
pub const LINE_CHARS: usize = 160;
/// The longest a shown message may be.
pub const MESSAGE_CHARS: usize = 300;

/// The last `n` non-empty lines of an output: where the test runner's
/// summary is.
pub fn output_end(output: &str, n: usize) -> String {
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    let skip = lines.len().saturating_sub(n);
    lines[skip..].iter().map(|l| class::cut(l, LINE_CHARS)).collect::<Vec<_>>().join("\n")
}

/// The first [`PATCH_LINES`] lines of a patch, each cut to [`LINE_CHARS`].
pub fn patch_head(patch: &str) -> Vec<String> {
    patch.lines().take(PATCH_LINES).map(|l| class::cut_line(l, LINE_CHARS)).collect()
}

fn trial_words(t: Trial) -> &'static str {
    match t {
        Trial::Success => "success",
        Trial::Failure => "failure",
        Trial::None => "no",
    }
}

/// The run's classes, then one line per pair that did not pass.
pub fn render_run(logs: &RunLogs, pairs: &[PairId]) -> String {
    let classified: Vec<(&PairId, Class, Option<Evidence>)> = pairs
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
        let _ = writeln!(o, "{:<20} {:>6}  {:<10} {}", c.name(), n, trial_words(p.trial), p.action.describe());
    }
    let rest: Vec<&(&PairId, Class, Option<Evidence>)> =
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

/// One pair of one run, told from its files.
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
                let patch = p.patch_bytes.get(&a.id).map(|b| format!("{b} bytes")).unwrap_or_else(|| {
                    a.patch_lines.map(|n| format!("{n} lines")).unwrap_or_else(|| "not recorded".into())
                });
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
    for (agent, lines) in &story.patches {
        match lines {
            Ok(l) if l.is_empty() => {
                let _ = writeln!(o, "\n{agent}: patch empty");
            }
            Ok(l) => {
                let _ = writeln!(o, "\n{agent}: patch, its first lines");
                for line in l {
                    let _ = writeln!(o, "  {line}");
                }
            }
            Err(why) => {
                let _ = writeln!(o, "\n{agent}: patch ({why})");
            }
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
                    let _ = writeln!(o, "  [{role}] {}", class::cut(text, MESSAGE_CHARS));
                }
            }
            Err(why) => {
                let _ = writeln!(o, "  ({why})");
            }
        }
    }
    match &story.conversation {
        None => {}
        Some(Ok(c)) if c.sent == 0 => {
            let _ = writeln!(o, "\nconversation: no message sent");
        }
        Some(Ok(c)) => {
            let _ = writeln!(o, "\nconversation: {} message(s) sent; the last {}", c.sent, c.last.len());
            for (from, to, text) in &c.last {
                let _ = writeln!(o, "  [{from} -> {to}] {}", class::cut(text, MESSAGE_CHARS));
            }
        }
        Some(Err(why)) => {
            let _ = writeln!(o, "\nconversation: {why}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_patch_head_is_bounded_in_lines_and_width() {
        let patch: String = (0..40).map(|i| format!("+{}\n", "x".repeat(i * 10))).collect();
        let head = patch_head(&patch);
        assert_eq!(head.len(), PATCH_LINES);
        assert!(head.iter().all(|l| l.chars().count() <= LINE_CHARS + 3), "{head:?}");
        // Indentation is what a diff is read by: kept.
        assert_eq!(patch_head("+    x = 1\n")[0], "+    x = 1");
    }

    #[test]
    fn an_output_end_keeps_the_last_non_empty_lines() {
        assert_eq!(output_end("a\n\nb\nc\n\n", 2), "b\nc");
    }
}

//! The rules that put each (run, pair) in its [`Class`], first match wins,
//! over the facts its files give (`PairFacts`): the vocabulary (classes,
//! the cited strings, the policy) is `class.rs`, which imports no other
//! rule, so that results, runs and outcomes can name a class without a
//! circle.

use crate::study::class::*;
use crate::study::outcome::is_stale;
use crate::study::result::AgentStatus;
use crate::study::run::PairLogs;

/// One agent of a pair, as its files say (solo has one, coop two).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentFacts {
    /// `solo`, `agent1`, ...: what names its patch and trajectory.
    pub id: String,
    pub status: Option<AgentStatus>,
    pub error: Option<String>,
    pub steps: Option<u64>,
    /// Lines of its patch, as result.json says.
    pub patch_lines: Option<u64>,
    /// The size of its patch file, where it was looked at; `None` else.
    pub patch_bytes: Option<u64>,
    /// The patch's text when it is small ([`SMALL_PATCH_BYTES`]).
    pub patch_text: Option<String>,
    /// What the end of its trajectory says; `None` when there is none.
    pub trajectory: Option<TrajectoryTail>,
}

/// What one (run, pair) says, as far as the classification needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PairFacts {
    /// `false`: no result.json, or one nobody can read.
    pub result: bool,
    pub agents: Vec<AgentFacts>,
    pub eval: Option<EvalFacts>,
    /// The eval is older than the result it should judge.
    pub stale: bool,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct EvalFacts {
    pub error: Option<String>,
    pub both_passed: bool,
    pub tests: Vec<FeatureTests>,
    /// Coop: `merge.status` (clean, conflicts, ...); `None` for solo.
    pub merge: Option<String>,
}

impl PairFacts {
    /// What a pair folder read by `edges::logs` says.
    pub fn of(p: &PairLogs) -> PairFacts {
        let Some(r) = &p.result else { return PairFacts::default() };
        PairFacts {
            result: true,
            agents: r
                .agents
                .iter()
                .map(|a| AgentFacts {
                    id: a.id.clone(),
                    status: Some(a.status.clone()),
                    error: a.error.clone(),
                    steps: a.steps,
                    patch_lines: a.patch_lines,
                    patch_bytes: p.patch_bytes.get(&a.id).copied(),
                    patch_text: p.patch_texts.get(&a.id).cloned(),
                    trajectory: p.trajectories.get(&a.id).cloned(),
                })
                .collect(),
            eval: p.eval.as_ref().map(|e| EvalFacts {
                error: e.error.clone(),
                both_passed: e.both_passed,
                tests: e.tests.clone(),
                merge: e.merge.clone(),
            }),
            stale: p.eval.as_ref().is_some_and(|e| is_stale(r, e)),
        }
    }
}

/// The class of a pair folder, and why.
pub fn of(p: Option<&PairLogs>) -> (Class, Option<Evidence>) {
    match p {
        Some(p) => classify(&PairFacts::of(p)),
        None => (Class::Missing, None),
    }
}

/// The class of one (run, pair) and why; the rules in this order, the
/// first that matches wins.
pub fn classify(f: &PairFacts) -> (Class, Option<Evidence>) {
    if !f.result {
        return (Class::Missing, None);
    }
    let status = |a: &AgentFacts| a.status.clone();
    // 0. An eval that graded the pair as passing, current and without an
    //    error of its own, is a pass, whatever else its files say: no rule
    //    may move a model's success aside (and pay for it again) or out of
    //    the numbers.
    if f.eval.as_ref().is_some_and(|e| e.both_passed && e.error.is_none()) && !f.stale {
        return (Class::Pass, None);
    }
    // 1. Errors, by what they are. The exit status (the exception's class)
    //    is the surest; the error text (`str(e)`) is read where it is missing.
    if let Some(a) = f.agents.iter().find(|a| status(a) == Some(AgentStatus::Error)) {
        let said = a.trajectory.as_ref().and_then(|t| t.exit_status.clone());
        let text = a.error.clone().unwrap_or_default();
        // litellm's text reads `litellm.<Name>: <Name>: ...`: the name and
        // a colon, so that `Timeout` is not `TimeoutExpired`.
        let names = |c: &Cited| {
            let n = cited_name(c);
            said.as_deref() == Some(n) || text.contains(&format!("{n}:"))
        };
        let traj = format!("{}_traj.json", a.id);
        let evidence = |n: &str| match &said {
            Some(s) if s == n => Evidence::new(traj.clone(), "exit_status", s),
            _ => Evidence::new("result.json", format!("{} error", a.id), &text),
        };
        // Before the model's errors: Modal's own `NotFoundError` of a lost
        // sandbox is no model name litellm could not find.
        if MODAL_REFUSALS.iter().any(|c| text.contains(c.text.trim_matches('"'))) {
            return (Class::InfraSandbox, Some(Evidence::new("result.json", format!("{} error", a.id), &text)));
        }
        if let Some(c) = ABORTING.iter().find(|c| names(c)) {
            return (Class::AgentConfigError, Some(evidence(cited_name(c))));
        }
        if text.contains(UNKNOWN_AGENT.text) {
            return (Class::AgentConfigError, Some(Evidence::new("result.json", format!("{} error", a.id), &text)));
        }
        if names(&CONTEXT_WINDOW) {
            return (Class::ModelContext, Some(evidence(cited_name(&CONTEXT_WINDOW))));
        }
        if let Some(c) = PROVIDER.iter().find(|c| names(c)) {
            return (Class::InfraProvider, Some(evidence(cited_name(c))));
        }
        if text.contains(DOCKER_RUN_QUOTED) {
            return (Class::InfraSandbox, Some(Evidence::new("result.json", format!("{} error", a.id), &text)));
        }
        if a.steps == Some(0) && !a.trajectory.as_ref().is_some_and(|t| t.has_exit) {
            return (
                Class::InfraSandbox,
                Some(Evidence::new(
                    "result.json",
                    format!("{} steps", a.id),
                    format!("0 steps, no exit message: {text}"),
                )),
            );
        }
        return (Class::AgentError, Some(Evidence::new("result.json", format!("{} error", a.id), &text)));
    }
    // 2. Ended normally, but on a container that was gone: Docker's words
    //    in the patch the CLI took from it, or at the trajectory's end.
    for a in &f.agents {
        if let Some(i) = a.patch_text.as_deref().and_then(daemon_gone_at) {
            let text = a.patch_text.as_deref().unwrap_or_default();
            return (Class::InfraContainer, Some(Evidence::new(format!("{}.patch", a.id), "text", &text[i..])));
        }
        if let Some(gone) = a.trajectory.as_ref().and_then(|t| t.daemon_gone.clone()) {
            return (Class::InfraContainer, Some(Evidence::new(format!("{}_traj.json", a.id), "observation", gone)));
        }
    }
    // 3. The model's own ends.
    if f.agents.iter().any(|a| status(a) == Some(AgentStatus::LimitsExceeded)) {
        return (Class::Limits, None);
    }
    let patches: Vec<u64> = f.agents.iter().filter_map(|a| a.patch_bytes).collect();
    let empty = |a: &AgentFacts| a.patch_bytes == Some(0) || (a.patch_bytes.is_none() && a.patch_lines == Some(0));
    if !f.agents.is_empty() && f.agents.iter().all(empty) {
        let names: Vec<String> = f.agents.iter().map(|a| format!("{}.patch", a.id)).collect();
        return (Class::EmptyPatch, Some(Evidence::new(names.join(", "), "size", "empty")));
    }
    // 4. The evaluation.
    let Some(e) = &f.eval else { return (Class::NotEvaluated, None) };
    if f.stale {
        return (Class::NotEvaluated, Some(Evidence::new("eval.json", "evaluated_at", "older than the result")));
    }
    if let Some(err) = &e.error {
        let total: u64 = patches.iter().sum();
        if err.starts_with(FAILED_TO_WRITE.text) && total >= GRADER_PATCH_LIMIT {
            return (
                Class::EvalGraderLimit,
                Some(Evidence::new("eval.json", "error", format!("{err:?} with patches of {total} bytes"))),
            );
        }
        return (Class::EvalInfra, Some(Evidence::new("eval.json", "error", err)));
    }
    for (i, t) in e.tests.iter().enumerate() {
        if let Some(text) = &t.timed_out {
            return (
                Class::EvalTimeout,
                Some(Evidence::new("eval.json", format!("feature{} test_output", i + 1), text)),
            );
        }
    }
    if e.both_passed {
        return (Class::Pass, None);
    }
    // Two coop patches that do not merge: 0.0.29 grades the lead's patch
    // alone (eval/sandbox.py, `merge_status = "conflicts"`). The model's
    // outcome, a fail like any other: the evidence says why.
    if e.merge.as_deref() == Some("conflicts") {
        return (Class::Fail, Some(Evidence::new("eval.json", "merge.status", "conflicts")));
    }
    if !e.tests.is_empty() && e.tests.iter().all(|t| !t.summary) {
        return (
            Class::FailNoTests,
            Some(Evidence::new("eval.json", "test_output", "no test-runner summary in either feature's output")),
        );
    }
    (Class::Fail, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn solo(status: AgentStatus) -> AgentFacts {
        AgentFacts {
            id: "solo".into(),
            status: Some(status),
            steps: Some(12),
            patch_bytes: Some(1200),
            ..AgentFacts::default()
        }
    }

    fn facts(agent: AgentFacts, eval: Option<EvalFacts>) -> PairFacts {
        PairFacts { result: true, agents: vec![agent], eval, stale: false }
    }

    fn evaluated(both_passed: bool, outputs: [&str; 2]) -> Option<EvalFacts> {
        Some(EvalFacts {
            error: None,
            both_passed,
            tests: outputs.iter().map(|o| FeatureTests::of(o)).collect(),
            merge: None,
        })
    }

    const PYTEST_FAIL: &str = "===== 1 failed, 3 passed in 0.52s =====";

    #[test]
    fn errors_by_what_they_are() {
        // litellm's AuthenticationError as the adapter stores str(e), and
        // the trajectory's exit message naming the class.
        let mut a = solo(AgentStatus::Error);
        a.error = Some("litellm.AuthenticationError: AuthenticationError: OpenAIException - bad key".into());
        assert_eq!(classify(&facts(a.clone(), None)).0, Class::AgentConfigError);
        a.error = Some("something the adapter said".into());
        a.trajectory = Some(TrajectoryTail::of(
            br#"{"role": "exit", "content": "x", "extra": {"exit_status": "ContextWindowExceededError", "submission": ""}}"#,
        ));
        let (c, e) = classify(&facts(a.clone(), None));
        assert_eq!(c, Class::ModelContext);
        assert_eq!(e.unwrap().line(), "solo_traj.json exit_status: ContextWindowExceededError");
        a.trajectory = Some(TrajectoryTail::of(br#""extra": {"exit_status": "RateLimitError", "submission": ""}"#));
        assert_eq!(classify(&facts(a.clone(), None)).0, Class::InfraProvider);
        // The container never started: Python's text of the failed command.
        let mut b = solo(AgentStatus::Error);
        b.steps = Some(0);
        b.error = Some(
            "Command '['docker', 'run', '-d', '--name', 'minisweagent-1a2b3c4d']' returned non-zero exit status 125."
                .into(),
        );
        assert_eq!(classify(&facts(b.clone(), None)).0, Class::InfraSandbox);
        // No step and no exit message, whatever the text.
        b.error = Some("boom".into());
        assert_eq!(classify(&facts(b.clone(), None)).0, Class::InfraSandbox);
        b.steps = Some(3);
        assert_eq!(classify(&facts(b.clone(), None)).0, Class::AgentError);
        // Modal's refusal or a lost sandbox, after the environment's retries.
        b.error = Some("grpclib.exceptions.GRPCError: (<Status.UNAVAILABLE: 14>, 'try again')".into());
        assert_eq!(classify(&facts(b.clone(), None)).0, Class::InfraSandbox);
        b.error = Some("NotFoundError: Sandbox not found: sb-123".into());
        assert_eq!(classify(&facts(b.clone(), None)).0, Class::InfraSandbox);
        b.error = Some("Unknown agent: 'mini_swe_agent'. Available: ['mini_swe_agent_v2']".into());
        assert_eq!(classify(&facts(b, None)).0, Class::AgentConfigError);
    }

    #[test]
    fn a_gone_container_is_the_machines_not_the_models() {
        // 0.0.29's observation template, inside the message's JSON string:
        // the command's whole output is Docker's error.
        let mut a = solo(AgentStatus::LimitsExceeded);
        a.trajectory = Some(TrajectoryTail::of(
            br##"{"role": "tool", "content": "{\n  \"returncode\": 1,\n  \"output\": \"Error response from daemon: container 4f2a is not running\\n\"\n}"}, {"role": "exit""##,
        ));
        let (c, e) = classify(&facts(a.clone(), evaluated(false, [PYTEST_FAIL, PYTEST_FAIL])));
        assert_eq!(c, Class::InfraContainer);
        assert!(e.unwrap().text.starts_with("Error response from daemon: container 4f2a"));
        a.trajectory = None;
        assert_eq!(classify(&facts(a, None)).0, Class::Limits);
    }

    /// The second review's tries (N29, N30, N31): the words are matched
    /// only where the CLI writes them, and never over a pass.
    #[test]
    fn dockers_and_the_graders_words_count_only_where_the_cli_writes_them() {
        // N29: a passing 103-byte diff that contains "No such container".
        let mut a = solo(AgentStatus::Submitted);
        let diff = "diff --git a/e.py b/e.py\n--- a/e.py\n+++ b/e.py\n@@ -1 +1 @@\n+MSG = \"No such container\"\n";
        a.patch_bytes = Some(diff.len() as u64);
        a.patch_text = Some(diff.into());
        assert_eq!(classify(&facts(a.clone(), evaluated(true, ["3 passed", "3 passed"]))).0, Class::Pass);
        // ... and failing, it is the model's failure, not the machine's.
        assert_eq!(classify(&facts(a, evaluated(false, [PYTEST_FAIL, PYTEST_FAIL]))).0, Class::Fail);
        // N30: an empty patch; the model had read a file quoting Docker.
        let mut a = solo(AgentStatus::Submitted);
        a.patch_bytes = Some(0);
        a.trajectory = Some(TrajectoryTail::of(
            br##"{"role": "tool", "content": "{\n  \"returncode\": 0,\n  \"output\": \"# Troubleshooting\\nError response from daemon: container x is not running\\n\"\n}"}, {"role": "exit""##,
        ));
        assert_eq!(classify(&facts(a, evaluated(false, [PYTEST_FAIL, PYTEST_FAIL]))).0, Class::EmptyPatch);
        // N31: a test's own output holds the words: a pass stays a pass,
        // and a fail is a plain fail.
        let own = "test_timeout ... Command timed out after 5 seconds (expected)\n===== 4 passed in 0.1s =====";
        let a = solo(AgentStatus::Submitted);
        assert_eq!(classify(&facts(a.clone(), evaluated(true, [own, "3 passed"]))).0, Class::Pass);
        assert_eq!(classify(&facts(a.clone(), evaluated(false, [own, PYTEST_FAIL]))).0, Class::Fail);
        // The grader's own timeout is the whole output.
        let (c, _) = classify(&facts(a, evaluated(false, ["Command timed out after 600 seconds", "3 passed"])));
        assert_eq!(c, Class::EvalTimeout);
        assert!(!grader_timed_out("Command timed out after 600 seconds, then retried"));
        // A patch that is Docker's error (after the docker CLI's `Error: `).
        assert_eq!(daemon_gone_at("Error: No such container: 4f2a\n"), Some(7));
        assert_eq!(daemon_gone_at("  Error response from daemon: gone"), Some(2));
    }

    #[test]
    fn a_patch_that_is_dockers_error_is_a_gone_container() {
        // What `submitted_patch` returns when every `docker exec` answers
        // Docker's error: that text, graded as the patch.
        let mut a = solo(AgentStatus::Submitted);
        let said = "Error response from daemon: container 4f2ae1c0 is not running\n";
        a.patch_bytes = Some(said.len() as u64);
        a.patch_text = Some(said.into());
        let (c, e) = classify(&facts(a.clone(), evaluated(false, [PYTEST_FAIL, PYTEST_FAIL])));
        assert_eq!(c, Class::InfraContainer);
        assert_eq!(e.unwrap().line(), "solo.patch text: Error response from daemon: container 4f2ae1c0 is not running");
        // A small real diff is just a diff.
        a.patch_text = Some("diff --git a/x b/x\n+fixed\n".into());
        assert_eq!(classify(&facts(a, evaluated(false, [PYTEST_FAIL, PYTEST_FAIL]))).0, Class::Fail);
    }

    #[test]
    fn empty_patches_and_the_grader_limit() {
        let mut a = solo(AgentStatus::Submitted);
        a.patch_bytes = Some(0);
        assert_eq!(classify(&facts(a.clone(), evaluated(false, [PYTEST_FAIL, PYTEST_FAIL]))).0, Class::EmptyPatch);
        // 123,519 bytes, the real CLI's error with nothing after the colon.
        a.patch_bytes = Some(123_519);
        let e = EvalFacts {
            error: Some("Failed to write solo.patch: ".into()),
            both_passed: false,
            tests: vec![],
            merge: None,
        };
        let (c, ev) = classify(&facts(a.clone(), Some(e.clone())));
        assert_eq!(c, Class::EvalGraderLimit);
        assert_eq!(ev.unwrap().text, "\"Failed to write solo.patch: \" with patches of 123519 bytes");
        // The same error on a small patch is some other trouble.
        a.patch_bytes = Some(97_999);
        assert_eq!(classify(&facts(a, Some(e))).0, Class::EvalInfra);
    }

    #[test]
    fn the_evaluation_by_its_outputs() {
        let a = solo(AgentStatus::Submitted);
        assert_eq!(classify(&facts(a.clone(), None)).0, Class::NotEvaluated);
        let timed = evaluated(false, [PYTEST_FAIL, "Command timed out after 600 seconds"]);
        let (c, e) = classify(&facts(a.clone(), timed));
        assert_eq!(c, Class::EvalTimeout);
        assert_eq!(e.unwrap().line(), "eval.json feature2 test_output: Command timed out after 600 seconds");
        assert_eq!(classify(&facts(a.clone(), evaluated(true, ["5 passed", "2 passed"]))).0, Class::Pass);
        assert_eq!(classify(&facts(a.clone(), evaluated(false, [PYTEST_FAIL, "3 passed"]))).0, Class::Fail);
        // A compile error before any test ran: nothing the parser reads.
        let no_tests = evaluated(false, ["error[E0425]: cannot find value `x`", "ImportError: no module"]);
        assert_eq!(classify(&facts(a.clone(), no_tests)).0, Class::FailNoTests);
        let mut stale = facts(a, evaluated(true, ["1 passed", "1 passed"]));
        stale.stale = true;
        assert_eq!(classify(&stale).0, Class::NotEvaluated);
        assert_eq!(classify(&PairFacts::default()).0, Class::Missing);
    }

    #[test]
    fn first_match_wins() {
        // An Error whose trajectory also shows a gone container is an Error
        // of its kind; LimitsExceeded with an empty patch is limits.
        let mut a = solo(AgentStatus::Error);
        a.error = Some("litellm.RateLimitError: 429".into());
        a.trajectory = Some(TrajectoryTail::of(b"No such container: 4f2a"));
        assert_eq!(classify(&facts(a, None)).0, Class::InfraProvider);
        let mut b = solo(AgentStatus::LimitsExceeded);
        b.patch_bytes = Some(0);
        assert_eq!(classify(&facts(b, None)).0, Class::Limits);
        // Coop: one agent's Error decides, and a pair is empty only when
        // every agent's patch is.
        let mut one = solo(AgentStatus::Submitted);
        one.id = "agent1".into();
        one.patch_bytes = Some(0);
        let mut two = one.clone();
        two.id = "agent2".into();
        two.patch_bytes = Some(10);
        let coop = PairFacts {
            result: true,
            agents: vec![one, two],
            eval: evaluated(true, ["1 passed", "1 passed"]),
            stale: false,
        };
        assert_eq!(classify(&coop).0, Class::Pass);
    }

    #[test]
    fn a_coop_merge_conflict_is_the_models_fail_and_one_agents_error_names_that_agent() {
        let agent = |id: &str, status: AgentStatus| AgentFacts {
            id: id.into(),
            status: Some(status),
            steps: Some(5),
            patch_bytes: Some(300),
            ..AgentFacts::default()
        };
        let mut eval = evaluated(false, ["1 passed", "1 failed"]);
        if let Some(e) = eval.as_mut() {
            e.merge = Some("conflicts".into());
        }
        let conflict = PairFacts {
            result: true,
            agents: vec![agent("agent1", AgentStatus::Submitted), agent("agent2", AgentStatus::Submitted)],
            eval,
            stale: false,
        };
        let (class, evidence) = classify(&conflict);
        assert_eq!(class, Class::Fail);
        let evidence = evidence.expect("the merge is the evidence");
        assert_eq!(
            (evidence.file.as_str(), evidence.field.as_str(), evidence.text.as_str()),
            ("eval.json", "merge.status", "conflicts")
        );
        // One agent's error is the pair's, and says which agent.
        let mut broke = agent("agent2", AgentStatus::Error);
        broke.error = Some("RuntimeError: boom".into());
        let one_error = PairFacts { agents: vec![agent("agent1", AgentStatus::Submitted), broke], ..conflict };
        let (class, evidence) = classify(&one_error);
        assert_eq!(class, Class::AgentError);
        assert_eq!(evidence.map(|e| e.field), Some("agent2 error".to_string()));
    }

    #[test]
    fn the_policy_table_covers_every_class_once_in_rule_order() {
        let order: Vec<Class> = POLICY.iter().map(|p| p.class).collect();
        assert_eq!(order, Class::ALL);
        let trials: Vec<&str> =
            Class::ALL.iter().filter(|c| c.policy().trial != Trial::None).map(|c| c.name()).collect();
        assert_eq!(trials, ["model_context", "limits", "empty_patch", "fail_no_tests", "pass", "fail"]);
        assert_eq!(Class::EvalGraderLimit.policy().action, Action::Keep);
        assert_eq!(Class::AgentConfigError.policy().action, Action::StopSeed);
        assert!(matches!(Class::InfraProvider.policy().action, Action::Retry { wait_seconds, .. } if wait_seconds > 0));
    }

    #[test]
    fn the_one_rule_of_a_trial() {
        assert_eq!(Class::Pass.trial(EvalErrors::Exclude), Some(true));
        assert_eq!(Class::ModelContext.trial(EvalErrors::Exclude), Some(false));
        assert_eq!(Class::InfraContainer.trial(EvalErrors::Fail), None);
        assert_eq!(Class::EvalTimeout.trial(EvalErrors::Exclude), None);
        assert_eq!(Class::EvalTimeout.trial(EvalErrors::Fail), Some(false));
        assert_eq!(Class::NotEvaluated.trial(EvalErrors::Fail), None);
    }

    #[test]
    fn the_clis_own_parser_decides_what_a_summary_is() {
        assert!(runner_summary("Tests:       2 failed, 15 passed, 17 total"));
        assert!(runner_summary("==== 3 passed in 0.1s ===="));
        assert!(runner_summary("--- FAIL: TestThing (0.00s)"));
        assert!(runner_summary("ok  \tgithub.com/x/y\t0.1s"));
        assert!(runner_summary("test result: FAILED. 1 passed; 2 failed; 0 ignored"));
        assert!(!runner_summary("0 passed"));
        // Python's first match: "0 passed" first, then "2 passed" unseen.
        assert_eq!(parse_results("0 passed\n2 passed"), (0, 0));
        assert_eq!(parse_results("1 failed, 2 passed, 1 error"), (2, 2));
        // Each count is the first match's number, whatever follows it.
        assert_eq!(parse_results("== 12 passed, 3 failed, 10 errors in 2s ==\n7 passed"), (12, 13));
        assert_eq!(parse_results("Tests:       15 passed, 15 total"), (15, 0));
        assert_eq!(parse_results("test result: ok. 4 passed; 0 failed; 0 ignored"), (4, 0));
        // A failing go package zeroes the passes.
        assert_eq!(parse_results("ok  a/b 0.1s\nFAIL a/c 0.2s"), (0, 1));
        assert!(!runner_summary("Traceback (most recent call last):\n  ImportError"));
        assert!(!runner_summary(""));
    }
}

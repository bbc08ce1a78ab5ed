//! Every (run, pair) told apart as the model's outcome or the
//! infrastructure's: exactly one [`Class`], first match wins, with the
//! evidence (file, field, the matched text cut short). Pure: the facts come
//! from `edges::logs`, which reads result.json and eval.json and, only where
//! a rule needs them, an agent's small patch, a patch's size, and the end
//! of a trajectory.
//!
//! Every string matched here is the CLI's (cooperbench 0.0.29) or what its
//! code passes through, cited at its constant;
//! `tests/contract.rs` checks each citation against the installed source.

use serde::Serialize;

use crate::study::outcome::{is_stale, EvalErrors};
use crate::study::result::AgentStatus;
use crate::study::run::PairLogs;

/// Where a matched string comes from in the installed 0.0.29 tree
/// (`site-packages/<file>`), for the contract test to check.
pub struct Cited {
    pub text: &'static str,
    pub file: &'static str,
}

/// `RuntimeError(f"Failed to write {filename}: {result.stderr_read()}")`:
/// the Docker grader writes a patch as one `bash -c` argument; Linux caps
/// one argument at 131,072 bytes (`_write_patch`).
pub const FAILED_TO_WRITE: Cited = Cited { text: "Failed to write ", file: "cooperbench/eval/sandbox.py" };
/// The Docker eval backend's timeout: exit -1 and this output; the feature
/// is then graded a plain failure with `error: null`.
pub const TIMED_OUT: Cited = Cited { text: "Command timed out after ", file: "cooperbench/eval/backends/docker.py" };
/// `get_runner` of an agent the CLI does not have.
pub const UNKNOWN_AGENT: Cited = Cited { text: "Unknown agent: '", file: "cooperbench/agents/registry.py" };
/// The agent's container is started as `[executable, "run", "-d",
/// "--name", f"minisweagent-{...}", ...]`; a failed start (exit 125) or a
/// pull past `pull_timeout` (120 s) raises `CalledProcessError` or
/// `TimeoutExpired`, whose text quotes the command.
pub const DOCKER_RUN: Cited = Cited {
    text: "container_name = f\"minisweagent-",
    file: "cooperbench/agents/mini_swe_agent_v2/environments/docker.py",
};
/// How that command reads in the exception's text (Python's repr of the
/// list), whatever the executable (`MSWEA_DOCKER_EXECUTABLE`).
const DOCKER_RUN_QUOTED: &str = "', 'run', '-d', '--name', 'minisweagent-";
/// The exit message of an uncaught exception: `"exit_status":
/// type(e).__name__` (`handle_uncaught_exception`), then the adapter marks
/// the agent `Error` with `str(e)`.
pub const EXIT_STATUS: Cited =
    Cited { text: "\"exit_status\": type(e).__name__", file: "cooperbench/agents/mini_swe_agent_v2/agents/default.py" };
/// The model's errors that litellm does not retry (`abort_exceptions`):
/// the same call fails the same way again.
pub const ABORTING: [Cited; 4] = [
    Cited { text: "AuthenticationError", file: "cooperbench/agents/mini_swe_agent_v2/models/litellm_model.py" },
    Cited { text: "NotFoundError", file: "cooperbench/agents/mini_swe_agent_v2/models/litellm_model.py" },
    Cited { text: "PermissionDeniedError", file: "cooperbench/agents/mini_swe_agent_v2/models/litellm_model.py" },
    Cited { text: "UnsupportedParamsError", file: "cooperbench/agents/mini_swe_agent_v2/models/litellm_model.py" },
];
/// Also in `abort_exceptions`, but the model's own limit: a trial.
pub const CONTEXT_WINDOW: Cited =
    Cited { text: "ContextWindowExceededError", file: "cooperbench/agents/mini_swe_agent_v2/models/litellm_model.py" };
/// litellm's provider errors, raised after its own retries (the class
/// names `exit_status` records).
pub const PROVIDER: [Cited; 5] = [
    Cited { text: "class RateLimitError", file: "litellm/exceptions.py" },
    Cited { text: "class APIConnectionError", file: "litellm/exceptions.py" },
    Cited { text: "class InternalServerError", file: "litellm/exceptions.py" },
    Cited { text: "class ServiceUnavailableError", file: "litellm/exceptions.py" },
    Cited { text: "class Timeout", file: "litellm/exceptions.py" },
];
/// The agent's Docker environment returns `docker exec`'s own output, stderr
/// merged (`stderr=subprocess.STDOUT`), as the observation: a container gone
/// mid-episode shows Docker's words, not an exception.
pub const DAEMON_PASSED_THROUGH: Cited =
    Cited { text: "stderr=subprocess.STDOUT", file: "cooperbench/agents/mini_swe_agent_v2/environments/docker.py" };
/// Modal's refusals and lost sandboxes, as cooperbench's Modal environment
/// names them among the errors it retries (`_RETRYABLE_PATTERNS`): an agent
/// Error that still says one after those retries is the sandbox backend's.
pub const MODAL_REFUSALS: [Cited; 2] = [
    Cited { text: "\"UNAVAILABLE\"", file: "cooperbench/agents/mini_swe_agent_v2/environments/modal.py" },
    Cited { text: "\"Sandbox not found\"", file: "cooperbench/agents/mini_swe_agent_v2/environments/modal.py" },
];

/// Every citation above, for the contract test.
pub fn citations() -> Vec<&'static Cited> {
    let mut all = vec![&FAILED_TO_WRITE, &TIMED_OUT, &UNKNOWN_AGENT, &DOCKER_RUN, &EXIT_STATUS, &CONTEXT_WINDOW];
    all.extend(ABORTING.iter());
    all.extend(PROVIDER.iter());
    all.push(&DAEMON_PASSED_THROUGH);
    all.push(&PATCH_FROM_THE_CONTAINER);
    all.extend(MODAL_REFUSALS.iter());
    all
}

/// The graded patch is what `git diff` answers inside the agent's
/// container (`submitted_patch`, through the environment's `execute`): with
/// the container gone, the answer is Docker's error, and that text becomes
/// the patch.
pub const PATCH_FROM_THE_CONTAINER: Cited = Cited {
    text: "return result.get(\"output\", \"\") or \"\"",
    file: "cooperbench/agents/mini_swe_agent_v2/connectors/git.py",
};
/// Patches up to this size are read whole: Docker's one-line error (with a
/// 64-digit container id, about 120 bytes) fits, and a real diff is rarely
/// this small (its headers alone take half of it).
pub const SMALL_PATCH_BYTES: u64 = 200;

/// Docker's words for a container that is gone (not the CLI's: Docker's).
const DAEMON_GONE: [&str; 2] = ["Error response from daemon", "No such container"];
/// The grader's argument cap, measured with the 0.0.29 code: 98,000 bytes
/// were written, 99,000 gave `Failed to write solo.patch: `.
pub const GRADER_PATCH_LIMIT: u64 = 98_000;

/// The class name in a provider error: `exit_status` is the bare name,
/// `str(e)` starts `litellm.<Name>:`.
fn cited_name(c: &Cited) -> &'static str {
    c.text.trim_start_matches("class ")
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// No result.json (or one nobody can read).
    #[default]
    Missing,
    /// An Error the same call would give again: the key, the model name,
    /// a parameter, the agent.
    AgentConfigError,
    /// The agent's container did not start, or the agent never took a step.
    InfraSandbox,
    /// The provider failed after litellm's retries (rate limit, connection, 5xx).
    InfraProvider,
    /// An agent Error of no known kind.
    AgentError,
    /// The agent ended normally, but its container was gone by then.
    InfraContainer,
    /// The model ran past its context window: the model's failure.
    ModelContext,
    /// LimitsExceeded: the model's failure.
    Limits,
    /// Submitted, nothing in the patch: a failure, reported apart.
    EmptyPatch,
    /// No eval.json yet, or one older than the result it should judge.
    NotEvaluated,
    /// The grader cannot take a patch this large: no eval can succeed.
    EvalGraderLimit,
    /// A test command ran past the eval's timeout (graded as a plain fail).
    EvalTimeout,
    /// Any other error of the evaluation itself.
    EvalInfra,
    /// A fail whose test outputs hold no summary the CLI's own parser
    /// reads: the tests may never have run.
    FailNoTests,
    Pass,
    Fail,
}

impl Class {
    pub const ALL: [Class; 16] = [
        Class::Missing,
        Class::AgentConfigError,
        Class::InfraSandbox,
        Class::InfraProvider,
        Class::AgentError,
        Class::InfraContainer,
        Class::ModelContext,
        Class::Limits,
        Class::EmptyPatch,
        Class::NotEvaluated,
        Class::EvalGraderLimit,
        Class::EvalTimeout,
        Class::EvalInfra,
        Class::FailNoTests,
        Class::Pass,
        Class::Fail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Class::Missing => "missing",
            Class::AgentConfigError => "agent_config_error",
            Class::InfraSandbox => "infra_sandbox",
            Class::InfraProvider => "infra_provider",
            Class::AgentError => "agent_error",
            Class::InfraContainer => "infra_container",
            Class::ModelContext => "model_context",
            Class::Limits => "limits",
            Class::EmptyPatch => "empty_patch",
            Class::NotEvaluated => "not_evaluated",
            Class::EvalGraderLimit => "eval_grader_limit",
            Class::EvalTimeout => "eval_timeout",
            Class::EvalInfra => "eval_infra",
            Class::FailNoTests => "fail_no_tests",
            Class::Pass => "pass",
            Class::Fail => "fail",
        }
    }

    pub fn parse(name: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The evaluation itself failed: left out, or a failure under
    /// `--eval-errors fail`.
    pub fn is_eval_error(self) -> bool {
        matches!(self, Class::EvalGraderLimit | Class::EvalTimeout | Class::EvalInfra)
    }

    /// The study's one rule of a trial: `Some(true)` a success,
    /// `Some(false)` a failure, `None` no trial (the machine's, or not yet).
    /// Eval errors are failures only when the policy says so.
    pub fn trial(self, eval_errors: EvalErrors) -> Option<bool> {
        match self.policy().trial {
            Trial::Success => Some(true),
            Trial::Failure => Some(false),
            Trial::None if self.is_eval_error() && eval_errors == EvalErrors::Fail => Some(false),
            Trial::None => None,
        }
    }

    /// Whose it is: the model's (a trial), or the machine's (no trial).
    pub fn policy(self) -> ClassPolicy {
        POLICY.iter().find(|p| p.class == self).copied().expect("every class has a policy")
    }
}

/// What a class counts as, and what `seeds` does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClassPolicy {
    pub class: Class,
    pub trial: Trial,
    pub action: Action,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trial {
    Success,
    Failure,
    /// Not a trial: the model was not judged.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Run the pair.
    Run,
    /// Stop the seed: every pair would fail the same way, at a cost.
    StopSeed,
    /// Run the pair again, up to `attempts` times, waiting between them.
    Retry { attempts: u32, wait_seconds: u32 },
    /// Evaluate the pair.
    Evaluate,
    /// Evaluate again, once.
    ReEvaluate,
    /// Evaluate again, once, alone (concurrency 1), after everything else.
    ReEvaluateAloneAtEnd,
    /// Never paid for twice: the outcome stands.
    Keep,
}

/// The study's policy table, first row to last in the order of
/// [`classify`]'s rules.
pub const POLICY: [ClassPolicy; 16] = [
    ClassPolicy { class: Class::Missing, trial: Trial::None, action: Action::Run },
    ClassPolicy { class: Class::AgentConfigError, trial: Trial::None, action: Action::StopSeed },
    ClassPolicy {
        class: Class::InfraSandbox,
        trial: Trial::None,
        action: Action::Retry { attempts: 2, wait_seconds: 0 },
    },
    ClassPolicy {
        class: Class::InfraProvider,
        trial: Trial::None,
        action: Action::Retry { attempts: 2, wait_seconds: 60 },
    },
    ClassPolicy {
        class: Class::AgentError,
        trial: Trial::None,
        action: Action::Retry { attempts: 1, wait_seconds: 0 },
    },
    ClassPolicy {
        class: Class::InfraContainer,
        trial: Trial::None,
        action: Action::Retry { attempts: 1, wait_seconds: 0 },
    },
    ClassPolicy { class: Class::ModelContext, trial: Trial::Failure, action: Action::Keep },
    ClassPolicy { class: Class::Limits, trial: Trial::Failure, action: Action::Keep },
    ClassPolicy { class: Class::EmptyPatch, trial: Trial::Failure, action: Action::Keep },
    ClassPolicy { class: Class::NotEvaluated, trial: Trial::None, action: Action::Evaluate },
    ClassPolicy { class: Class::EvalGraderLimit, trial: Trial::None, action: Action::Keep },
    ClassPolicy { class: Class::EvalTimeout, trial: Trial::None, action: Action::ReEvaluateAloneAtEnd },
    ClassPolicy { class: Class::EvalInfra, trial: Trial::None, action: Action::ReEvaluate },
    ClassPolicy { class: Class::FailNoTests, trial: Trial::Failure, action: Action::Keep },
    ClassPolicy { class: Class::Pass, trial: Trial::Success, action: Action::Keep },
    ClassPolicy { class: Class::Fail, trial: Trial::Failure, action: Action::Keep },
];

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

/// The last few KiB of a trajectory (the whole file is large): its exit
/// status, and Docker's words for a gone container if the last observations
/// show them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrajectoryTail {
    pub exit_status: Option<String>,
    pub daemon_gone: Option<String>,
    /// Whether the tail holds an exit message at all.
    pub has_exit: bool,
}

impl TrajectoryTail {
    /// From the raw bytes of a trajectory's end (verify reads thousands:
    /// each needle is found with memchr's SIMD search, from the end).
    pub fn of(tail: &[u8]) -> TrajectoryTail {
        use memchr::memmem::rfind;
        const EXIT: &[u8] = b"\"exit_status\": \"";
        let exit_status = rfind(tail, EXIT).map(|i| {
            let rest = &tail[i + EXIT.len()..];
            let end = memchr::memchr(b'"', rest).unwrap_or(rest.len());
            String::from_utf8_lossy(&rest[..end]).into_owned()
        });
        let daemon_gone = DAEMON_GONE.iter().find_map(|needle| {
            let i = rfind(tail, needle.as_bytes())?;
            let end = (i + 240).min(tail.len());
            Some(cut(&String::from_utf8_lossy(&tail[i..end]), 120))
        });
        let has_exit = exit_status.is_some() || rfind(tail, b"\"role\": \"exit\"").is_some();
        TrajectoryTail { exit_status, daemon_gone, has_exit }
    }
}

/// One feature's test output, reduced to what classifies it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeatureTests {
    /// The output says the test command timed out (the matched text).
    pub timed_out: Option<String>,
    /// The CLI's own parser finds a pass or fail count in it.
    pub summary: bool,
    /// That parser's `(passed, failed)`.
    pub counts: (u64, u64),
    /// The feature's `passed`, as the CLI graded it (absent in old files).
    pub passed: Option<bool>,
}

impl FeatureTests {
    pub fn of(output: &str) -> FeatureTests {
        let counts = parse_results(output);
        FeatureTests {
            timed_out: output.find(TIMED_OUT.text).map(|i| cut(&output[i..], 80)),
            summary: counts.0 + counts.1 > 0,
            counts,
            passed: None,
        }
    }
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

/// Why a pair is in its class: the file, the field, and what it said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub file: String,
    pub field: String,
    pub text: String,
}

impl Evidence {
    fn new(file: impl Into<String>, field: impl Into<String>, text: impl AsRef<str>) -> Evidence {
        Evidence { file: file.into(), field: field.into(), text: cut(text.as_ref(), 160) }
    }

    pub fn line(&self) -> String {
        format!("{} {}: {}", self.file, self.field, self.text)
    }
}

/// Where Docker's words for a gone container start in a text.
fn daemon_gone_at(text: &str) -> Option<usize> {
    DAEMON_GONE.iter().filter_map(|n| text.find(n)).min()
}

/// The first `n` characters of a text on one line, `...` when cut.
pub fn cut(text: &str, n: usize) -> String {
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.trim();
    if flat.chars().count() <= n {
        flat.to_string()
    } else {
        format!("{}...", flat.chars().take(n).collect::<String>())
    }
}

/// The class of one (run, pair) and why; the rules in this order, the
/// first that matches wins.
pub fn classify(f: &PairFacts) -> (Class, Option<Evidence>) {
    if !f.result {
        return (Class::Missing, None);
    }
    let status = |a: &AgentFacts| a.status.clone();
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
    if !e.tests.is_empty() && e.tests.iter().all(|t| !t.summary) {
        return (
            Class::FailNoTests,
            Some(Evidence::new("eval.json", "test_output", "no test-runner summary in either feature's output")),
        );
    }
    (Class::Fail, None)
}

/// Whether the CLI's own parser finds a pass or fail count in a test
/// output: a feature passes only with a count of passes above 0, so an
/// output it cannot read is graded a fail whatever the tests did.
pub fn runner_summary(output: &str) -> bool {
    let (passed, failed) = parse_results(output);
    passed + failed > 0
}

/// `_parse_results` of eval/sandbox.py (0.0.29), rule for rule: jest or
/// vitest, pytest, go test verbose and plain, cargo test; `(passed, failed)`.
pub fn parse_results(output: &str) -> (u64, u64) {
    use regex::Regex;
    use std::sync::OnceLock;
    static RE: OnceLock<[Regex; 8]> = OnceLock::new();
    let re = RE.get_or_init(|| {
        [
            r"Tests:\s*(?:(\d+)\s*failed,\s*)?(\d+)\s*passed",
            r"(\d+) passed",
            r"(\d+) failed",
            r"(\d+) error",
            r"--- PASS:",
            r"--- FAIL:",
            r"(?m)^ok\s+\S+",
            r"(?m)^FAIL\s+\S+",
        ]
        .map(|r| Regex::new(r).expect("the CLI's patterns compile"))
    });
    let number = |m: Option<regex::Match>| m.and_then(|m| m.as_str().parse::<u64>().ok()).unwrap_or(0);
    if let Some(c) = re[0].captures(output) {
        return (number(c.get(2)), number(c.get(1)));
    }
    // Python's re.search: the first match of each.
    let first = |r: &Regex| number(r.captures(output).and_then(|c| c.get(1)));
    let (passed, failed) = (first(&re[1]), first(&re[2]) + first(&re[3]));
    if passed > 0 || failed > 0 {
        return (passed, failed);
    }
    let (go_pass, go_fail) = (re[4].find_iter(output).count() as u64, re[5].find_iter(output).count() as u64);
    if go_pass > 0 || go_fail > 0 {
        return (go_pass, go_fail);
    }
    let (ok, fail) = (re[6].find_iter(output).count() as u64, re[7].find_iter(output).count() as u64);
    if ok > 0 || fail > 0 {
        return (if fail == 0 { ok } else { 0 }, fail);
    }
    static CARGO: OnceLock<Regex> = OnceLock::new();
    let cargo = CARGO.get_or_init(|| Regex::new(r"test result:.*?(\d+) passed.*?(\d+) failed").expect("compiles"));
    if let Some(c) = cargo.captures(output) {
        return (number(c.get(1)), number(c.get(2)));
    }
    (passed, failed)
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
        Some(EvalFacts { error: None, both_passed, tests: outputs.iter().map(|o| FeatureTests::of(o)).collect() })
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
        let mut a = solo(AgentStatus::LimitsExceeded);
        a.trajectory = Some(TrajectoryTail::of(
            b"\"content\": \"Error response from daemon: container 4f2a is not running\"}, {\"role\": \"exit\"",
        ));
        let (c, e) = classify(&facts(a.clone(), evaluated(false, [PYTEST_FAIL, PYTEST_FAIL])));
        assert_eq!(c, Class::InfraContainer);
        assert!(e.unwrap().text.starts_with("Error response from daemon: container 4f2a"));
        a.trajectory = None;
        assert_eq!(classify(&facts(a, None)).0, Class::Limits);
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
        let e = EvalFacts { error: Some("Failed to write solo.patch: ".into()), both_passed: false, tests: vec![] };
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
        // A failing go package zeroes the passes.
        assert_eq!(parse_results("ok  a/b 0.1s\nFAIL a/c 0.2s"), (0, 1));
        assert!(!runner_summary("Traceback (most recent call last):\n  ImportError"));
        assert!(!runner_summary(""));
    }
}

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

/// How eval errors count: left out of the denominator, or as failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EvalErrors {
    #[default]
    Exclude,
    Fail,
}

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
pub(crate) const DOCKER_RUN_QUOTED: &str = "', 'run', '-d', '--name', 'minisweagent-";
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

/// A coop eval whose two patches do not merge: 0.0.29 tries the naive merge
/// only (no union fallback) and records `merge.status = "conflicts"`; the
/// merged-tree tests are skipped and the lead's patch alone is graded. A
/// conflict graded as a fail is the model's outcome (a trial), counted by
/// `study::analysis::coop::merge_rates`.
pub const MERGE_CONFLICTS: Cited = Cited { text: "merge_status = \"conflicts\"", file: "cooperbench/eval/sandbox.py" };

/// Every citation above, for the contract test.
pub fn citations() -> Vec<&'static Cited> {
    let mut all = vec![&FAILED_TO_WRITE, &TIMED_OUT, &UNKNOWN_AGENT, &DOCKER_RUN, &EXIT_STATUS, &CONTEXT_WINDOW];
    all.extend(ABORTING.iter());
    all.extend(PROVIDER.iter());
    all.push(&DAEMON_PASSED_THROUGH);
    all.push(&PATCH_FROM_THE_CONTAINER);
    all.extend(MODAL_REFUSALS.iter());
    all.push(&MERGE_CONFLICTS);
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
pub(crate) const DAEMON_GONE: [&str; 2] = ["Error response from daemon", "No such container"];
/// The grader's argument cap, measured with the 0.0.29 code: 98,000 bytes
/// were written, 99,000 gave `Failed to write solo.patch: `.
pub const GRADER_PATCH_LIMIT: u64 = 98_000;

/// The class name in a provider error: `exit_status` is the bare name,
/// `str(e)` starts `litellm.<Name>:`.
pub(crate) fn cited_name(c: &Cited) -> &'static str {
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

impl Action {
    /// What `seeds` does with a pair of this class, in words.
    pub fn describe(self) -> String {
        match self {
            Action::Run => "runs it".into(),
            Action::StopSeed => "stops the seed (every pair would fail the same way)".into(),
            Action::Retry { attempts, wait_seconds: 0 } => format!("runs it again, up to {attempts} time(s)"),
            Action::Retry { attempts, wait_seconds } => {
                format!("runs it again, up to {attempts} time(s), {wait_seconds} s apart")
            }
            Action::Evaluate => "evaluates it".into(),
            Action::ReEvaluate => "evaluates it again, once".into(),
            Action::ReEvaluateAloneAtEnd => "evaluates it again, once, alone, after the rest".into(),
            Action::Keep => "nothing: the outcome stands".into(),
        }
    }
}

/// The study's policy table, first row to last in the order of
/// `classify::classify`'s rules.
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
        // Docker's words count only where an observation's output *begins*
        // with them (the command itself answered Docker's error: the
        // container was gone), never where a file the model read, or its
        // own message, quotes them.
        let daemon_gone = DAEMON_GONE.iter().find_map(|needle| {
            OUTPUT_STARTS.iter().find_map(|start| {
                let mut with = start.to_vec();
                with.extend_from_slice(needle.as_bytes());
                let i = rfind(tail, &with)? + start.len();
                let end = (i + 240).min(tail.len());
                Some(cut(&String::from_utf8_lossy(&tail[i..end]), 120))
            })
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
            timed_out: grader_timed_out(output).then(|| cut(output.trim(), 80)),
            summary: counts.0 + counts.1 > 0,
            counts,
            passed: None,
        }
    }
}

/// The grader's own timeout: the Docker backend returns exactly `Command
/// timed out after N seconds` as the command's whole output (stderr is
/// never read there), so the output *is* that line. A test whose own
/// output contains the words (a test of a timeout) is not it.
pub fn grader_timed_out(output: &str) -> bool {
    let Some(rest) = output.trim().strip_prefix(TIMED_OUT.text) else { return false };
    rest.strip_suffix(" seconds").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

/// Why a pair is in its class: the file, the field, and what it said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub file: String,
    pub field: String,
    pub text: String,
}

impl Evidence {
    pub(crate) fn new(file: impl Into<String>, field: impl Into<String>, text: impl AsRef<str>) -> Evidence {
        Evidence { file: file.into(), field: field.into(), text: cut(text.as_ref(), 160) }
    }

    pub fn line(&self) -> String {
        format!("{} {}: {}", self.file, self.field, self.text)
    }
}

/// Where Docker's words for a gone container start in a text.
/// Where Docker's words begin a patch that is Docker's error *instead of*
/// a diff: the patch starts with them (after `Error: `, as the docker CLI
/// prints "Error: No such container"), and holds no diff. A diff that
/// merely contains the words (a patch to a Docker client, a test string)
/// is the model's work, never the machine's.
pub(crate) fn daemon_gone_at(text: &str) -> Option<usize> {
    let start = text.len() - text.trim_start().len();
    let head = &text[start..];
    let body = head.strip_prefix("Error: ").unwrap_or(head);
    let at = start + (head.len() - body.len());
    let is_diff = text.contains("diff --git") || text.lines().any(|l| l.starts_with("+++ ") || l.starts_with("@@ "));
    (!is_diff && DAEMON_GONE.iter().any(|n| body.starts_with(n))).then_some(at)
}

/// Where an observation's output begins, as the environment writes it into
/// the trajectory: 0.0.29's JSON template (`"output": "`, escaped once more
/// inside the message's JSON string) or the older `<output>` tags.
const OUTPUT_STARTS: [&[u8]; 4] = [b"\\\"output\\\": \\\"", b"\"output\": \"", b"<output>\\n", b"<output>"];

/// One line of a patch or an output, at most `n` characters: as [`cut`],
/// but its indentation kept (a diff is read by it); a tab is four spaces.
pub fn cut_line(line: &str, n: usize) -> String {
    let flat: String = line.replace('\t', "    ").chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.trim_end();
    if flat.chars().count() <= n {
        flat.to_string()
    } else {
        format!("{}...", flat.chars().take(n).collect::<String>())
    }
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
    // `captures` allocates on every call, match or not (verify parses
    // thousands of outputs): a cheaper search decides first.
    let captures = |r: &Regex| r.is_match(output).then(|| r.captures(output)).flatten();
    if let Some(c) = captures(&re[0]) {
        return (number(c.get(2)), number(c.get(1)));
    }
    // Python's re.search: the first match of each. The number is the match
    // without its fixed ending, which is all that group 1 holds.
    let first = |r: &Regex, ending: &str| {
        r.find(output).and_then(|m| m.as_str().strip_suffix(ending)).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0)
    };
    let (passed, failed) = (first(&re[1], " passed"), first(&re[2], " failed") + first(&re[3], " error"));
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
    if let Some(c) = captures(cargo) {
        return (number(c.get(1)), number(c.get(2)));
    }
    (passed, failed)
}

//! What the CLI shares between every coop run on a host, and when it may
//! go. cooperbench 0.0.29 keeps one git daemon for every `--git` run
//! (`agents/mini_swe_agent_v2/connectors/git_servers/docker.py`: container
//! `cooperbench-git`, network `cooperbench`, volume `cooperbench-git-data`,
//! "auto-created on first use and reused thereafter", image
//! `cooperbench-git-server:local`) and, when nothing answers its `--redis`
//! URL, starts one Redis for every messaging run (`infra/redis.py`:
//! `docker run -d --name cooperbench-redis -p 6379:6379 redis:alpine`),
//! each run keeping its keys under `#run:<run_id>`.
//!
//! Whoever's proxy the first coop invocation went through, its labels are
//! on these containers: carrying our labels does not make them ours to
//! remove. The rule, in one place: clean-up never removes them;
//! `clean-docker --shared NAME` does, when asked by name and nothing that
//! could use them is live ([`blockers`]).

/// The shared container names (`docker ps` prints names without `/`).
pub const REDIS_CONTAINER: &str = "cooperbench-redis";
pub const GIT_CONTAINER: &str = "cooperbench-git";
pub const GIT_NETWORK: &str = "cooperbench";
pub const GIT_VOLUME: &str = "cooperbench-git-data";
pub const GIT_IMAGE: &str = "cooperbench-git-server:local";
/// The image the CLI starts its Redis from, and the harness its own.
pub const REDIS_IMAGE: &str = "redis:alpine";

/// What a shared thing is, for `clean-docker --shared`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Network,
    Volume,
}

/// Every shared thing by name, with its kind and what it serves.
pub const SHARED: [(&str, Kind, &str); 4] = [
    (REDIS_CONTAINER, Kind::Container, "the Redis every messaging coop run on this host uses (infra/redis.py)"),
    (GIT_CONTAINER, Kind::Container, "the git daemon every `--git` coop run on this host uses"),
    (GIT_NETWORK, Kind::Network, "the network the git daemon and every `--git` agent container join"),
    (GIT_VOLUME, Kind::Volume, "the git daemon's repositories (/git/<run_id>), kept across restarts"),
];

/// Whether a container of this name is shared infrastructure (never
/// removed by a clean-up, whoever's labels it carries).
pub fn is_shared_container(name: &str) -> bool {
    let name = name.trim_start_matches('/');
    SHARED.iter().any(|(n, k, _)| *k == Kind::Container && *n == name)
}

/// The shared thing of this name, if it is one.
pub fn named(name: &str) -> Option<(&'static str, Kind, &'static str)> {
    SHARED.iter().copied().find(|(n, _, _)| *n == name)
}

/// What the host shows that could be using the shared infrastructure.
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    /// Running containers as `(name, image)`.
    pub running: Vec<(String, String)>,
    /// Names of the containers attached to the `cooperbench` network.
    pub on_network: Vec<String>,
    /// Processes on this host running cooperbench, as `pid: command line`.
    pub processes: Vec<String>,
    /// Checkouts whose lock a live harness holds (their folders).
    pub held: Vec<String>,
}

/// Why a shared thing may not be removed now: everything that could be
/// using it, named; empty when nothing could. A cooperbench agent or eval
/// container anywhere on the engine (any run may be a `--git` or
/// messaging one, and both are told apart by nothing on the container), a
/// container other than the daemon on its network, a cooperbench process
/// on this host, or a harness holding a checkout.
pub fn blockers(live: &Liveness, prefix_image: &str, prefix_name: &str) -> Vec<String> {
    let mut why = Vec::new();
    for (name, image) in &live.running {
        let name = name.trim_start_matches('/');
        if name.starts_with(prefix_name) || image.starts_with(prefix_image) {
            why.push(format!("container {name} ({image}) is running: a cooperbench agent or eval"));
        }
    }
    for name in &live.on_network {
        let name = name.trim_start_matches('/');
        if name != GIT_CONTAINER {
            why.push(format!("container {name} is on the `{GIT_NETWORK}` network"));
        }
    }
    for p in &live.processes {
        why.push(format!("process {p}"));
    }
    for h in &live.held {
        why.push(format!("a harness holds the checkout {h}"));
    }
    why
}

/// Whether a process's command line (NUL-separated words, as
/// `/proc/<pid>/cmdline` holds it) is the cooperbench CLI at work: its
/// program or script is `cooperbench` or `coop`, and a subcommand follows.
pub fn is_cooperbench_process(cmdline: &[u8]) -> bool {
    let words: Vec<String> =
        cmdline.split(|b| *b == 0).filter(|w| !w.is_empty()).map(|w| String::from_utf8_lossy(w).into_owned()).collect();
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    words.iter().take(2).any(|w| matches!(base(w).as_str(), "cooperbench" | "coop"))
        && words.iter().any(|w| matches!(w.as_str(), "run" | "eval"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_containers_are_known_by_name_only() {
        assert!(is_shared_container("cooperbench-git"));
        assert!(is_shared_container("/cooperbench-redis"));
        assert!(!is_shared_container("cooperbench-git-2"));
        assert!(!is_shared_container("minisweagent-1234abcd"));
        // The network and volume are shared, but no container is named so.
        assert!(!is_shared_container("cooperbench"));
        assert_eq!(named("cooperbench-git-data").map(|s| s.1), Some(Kind::Volume));
        assert_eq!(named("cooperbench").map(|s| s.1), Some(Kind::Network));
        assert!(named("redis").is_none());
    }

    #[test]
    fn anything_that_could_use_the_shared_infrastructure_blocks_its_removal() {
        let none = Liveness::default();
        assert!(blockers(&none, "akhatua/cooperbench-", "minisweagent-").is_empty());
        let live = Liveness {
            running: vec![
                ("minisweagent-0a1b2c3d".into(), "akhatua/cooperbench-x:task1".into()),
                ("elegant_euler".into(), "akhatua/cooperbench-y:task2".into()),
                ("cooperbench-git".into(), "cooperbench-git-server:local".into()),
                ("postgres".into(), "postgres:16".into()),
            ],
            on_network: vec!["/cooperbench-git".into(), "/someones-client".into()],
            processes: vec!["4242: cooperbench run -n x".into()],
            held: vec!["/work/CooperBench".into()],
        };
        let why = blockers(&live, "akhatua/cooperbench-", "minisweagent-");
        assert_eq!(why.len(), 5, "{why:#?}");
        assert!(why[0].contains("minisweagent-0a1b2c3d"));
        assert!(why[1].contains("elegant_euler"));
        assert!(why[2].contains("someones-client") && why[2].contains("`cooperbench` network"));
        assert!(why[3].contains("4242"));
        assert!(why[4].contains("/work/CooperBench"));
    }

    #[test]
    fn a_cooperbench_process_is_told_by_its_program_and_subcommand() {
        assert!(is_cooperbench_process(b"/venv/bin/python3\0/venv/bin/cooperbench\0run\0-n\0x\0"));
        assert!(is_cooperbench_process(b"/usr/local/bin/coop\0eval\0-n\0x\0"));
        assert!(!is_cooperbench_process(b"/venv/bin/cooperbench\0--help\0"));
        assert!(!is_cooperbench_process(b"vim\0cooperbench/run.py\0"));
        assert!(!is_cooperbench_process(b"bash\0-c\0echo cooperbench run\0"));
        assert!(!is_cooperbench_process(b""));
    }
}

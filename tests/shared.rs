//! The CLI's shared coop infrastructure (`cooperbench-git`, its network and
//! volume, `cooperbench-redis`; `study::shared`) is nobody's to remove: a
//! coop arm's clean-up leaves it running whoever's labels it carries, a
//! messaging arm gets a Redis of its own (so the CLI never starts or
//! shares `cooperbench-redis`), and `clean-docker` lists it apart and
//! removes a piece only when asked by name and nothing that could use it
//! is live. On the fake docker (`fixtures/fake-docker`), with the
//! simulator bringing the infrastructure up as 0.0.29 does.

mod common;

use common::*;
use xtask::support::fixture::{self, Shape};

const SHAPE: Shape = Shape { repos: 2, tasks: 3, pairs: 6 };

const STUDY: &str = r#"name = "shared"
cooperbench_dir = "CooperBench"
subset = "lite"

[[arm]]
name = "a-solo"
model = "command-a-03-2025"
agent = "mini_swe_agent_v2"
seeds = [1]
run_name = "a-s{seed}"

[[arm]]
name = "a-coop"
setting = "coop"
model = "command-a-03-2025"
agent = "mini_swe_agent_v2"
git = true
seeds = [1]
run_name = "a-coop-s{seed}"
"#;

fn state(c: &Checkout) -> String {
    std::fs::read_to_string(c.tmp.path().join("docker.state")).unwrap_or_default()
}

fn names(c: &Checkout) -> Vec<String> {
    state(c).lines().filter_map(|l| l.split('\t').nth(1)).map(String::from).collect()
}

#[test]
fn a_coop_arm_leaves_the_shared_git_daemon_and_redis_running_and_brings_a_redis_of_its_own() {
    let c = from_template("shared-empty", |dir| {
        fixture::write_dataset(&dir.join("CooperBench"), "lite", SHAPE).unwrap();
    });
    std::fs::write(c.experiment(), STUDY).unwrap();
    // The host's shared Redis, made earlier through this very checkout's
    // proxy (so it carries our labels): another checkout's coop run may be
    // using it now.
    let ours = xtask::edges::docker::checkout_label(&c.cb());
    std::fs::write(
        c.tmp.path().join("docker.state"),
        format!("redis0\tcooperbench-redis\tredis:alpine\trunning\txtask.checkout={ours},xtask.run=old\n"),
    )
    .unwrap();
    let out = c
        .xtask(&["study", "--cooperbench-bin", SIM, "--yes"])
        .env("COHERE_API_KEY", KEY)
        .env("COOPERBENCH_SIM_SHARED", fake_docker())
        .stdin_null()
        .ran();
    let t = text(&out);
    out.expect_code(0);
    // The git daemon the coop run brought up through our proxy carries our
    // labels, and is still there after every clean-up of the study.
    let made = state(&c);
    let git = made.lines().find(|l| l.split('\t').nth(1) == Some("cooperbench-git"));
    assert!(git.is_some_and(|l| l.contains(&format!("xtask.checkout={ours}"))), "{made}\n{t}");
    assert!(names(&c).contains(&"cooperbench-redis".to_string()), "the shared Redis was removed: {made}\n{t}");
    assert!(t.contains("docker clean-up after the seeds"), "{t}");
    // The CLI was given a Redis of ours that answered, and so never
    // started `cooperbench-redis`; ours is gone once the invocation ended.
    let redis = c.sim_work("redis", "a-coop-s1");
    assert!(
        !redis.is_empty() && redis.iter().all(|r| r.starts_with("redis://127.0.0.1:") && r.ends_with(" answered")),
        "{redis:?}\n{t}"
    );
    assert!(t.contains("a Redis of our own for the agents' messages, redis://127.0.0.1:"), "{t}");
    assert!(t.contains("ok   redis image redis:alpine is here"), "{t}");
    assert!(!names(&c).iter().any(|n| n.starts_with("redis-fake")), "our Redis outlived its invocation: {}", state(&c));
    assert_eq!(c.sim_work("git", "a-coop-s1").first().map(String::as_str), Some("created"), "{t}");
    // A solo arm gets no Redis.
    assert!(c.sim_work("redis", "a-s1").is_empty());
}

#[test]
fn a_redis_of_our_own_that_does_not_answer_stops_the_seed_before_the_cli_starts() {
    let c = from_template("shared-empty", |dir| {
        fixture::write_dataset(&dir.join("CooperBench"), "lite", SHAPE).unwrap();
    });
    std::fs::write(c.experiment(), STUDY).unwrap();
    let out = c
        .xtask(&["study", "--cooperbench-bin", SIM, "--yes", "--arm", "a-coop"])
        .env("COHERE_API_KEY", KEY)
        .env("COOPERBENCH_SIM_SHARED", fake_docker())
        .env("FAKE_DOCKER_REDIS_MUTE", "1")
        .stdin_null()
        .ran();
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("did not answer PING"), "{t}");
    // The CLI never ran, so it never started the host's shared Redis.
    assert!(c.sim_work("run", "a-coop-s1").is_empty() && c.sim_work("redis", "a-coop-s1").is_empty(), "{t}");
    assert!(!names(&c).iter().any(|n| n.starts_with("redis-fake")), "{}", state(&c));
    // The coop arm's run, with nothing in it yet, is still read as coop
    // (its manifest says so): no solo seed of the difficulty.
    assert!(
        !t.contains("difficulty over 1 solo seed(s) (eval errors left out; LimitsExceeded is a failure): a-coop-s1"),
        "{t}"
    );
}

#[test]
fn clean_docker_lists_the_shared_infrastructure_apart_and_removes_it_only_by_name_when_nothing_is_live() {
    let c = Checkout::new();
    std::fs::create_dir_all(c.cb().join("dataset")).unwrap();
    let ours = xtask::edges::docker::checkout_label(&c.cb());
    let write_state = |extra: &str| {
        std::fs::write(
            c.tmp.path().join("docker.state"),
            format!(
                "git0\tcooperbench-git\tcooperbench-git-server:local\trunning\txtask.checkout={ours},network=cooperbench\n\
                 mine1\tminisweagent-0000aaaa\takhatua/cooperbench-x:task1\texited\txtask.checkout={ours}\n{extra}"
            ),
        )
        .unwrap()
    };
    write_state(
        "theirs1\tminisweagent-1111bbbb\takhatua/cooperbench-y:task2\trunning\t\n\
         client1\tsomeones-client\tbusybox\trunning\tnetwork=cooperbench\n",
    );
    let shared = c.tmp.path().join("shared");
    std::fs::write(&shared, "network\tcooperbench\nvolume\tcooperbench-git-data\n").unwrap();
    let proc = c.tmp.path().join("proc");
    std::fs::create_dir_all(&proc).unwrap();
    let cb = c.cb().display().to_string();
    let clean = |more: &[&str]| {
        let mut args = vec!["clean-docker", "--cooperbench-dir", cb.as_str()];
        args.extend_from_slice(more);
        duct::cmd(XTASK, args)
            .dir(c.tmp.path())
            .env("XTASK_DOCKER", fake_docker())
            .env("FAKE_DOCKER_STATE", c.tmp.path().join("docker.state"))
            .env("FAKE_DOCKER_SHARED", &shared)
            .env("XTASK_PROC", &proc)
            .stdout_capture()
            .stderr_capture()
            .unchecked()
            .ran()
    };

    // A plain clean-up removes our exited agent, lists the shared pieces
    // apart, and leaves the daemon that carries our label.
    let out = clean(&[]);
    let t = text(&out);
    out.expect_code(0);
    assert!(t.contains("shared with every coop run on this host, never removed by a clean-up"), "{t}");
    for piece in ["cooperbench-git (Container, running)", "cooperbench (Network", "cooperbench-git-data (Volume"] {
        assert!(t.contains(piece), "{piece}: {t}");
    }
    let now = names(&c);
    assert!(now.contains(&"cooperbench-git".to_string()), "{t}");
    assert!(!now.contains(&"minisweagent-0000aaaa".to_string()), "{t}");

    // Asked by name while another job's agent runs and a client is on the
    // network: refused, each named.
    let out = clean(&["--shared", "cooperbench-git"]);
    let t = text(&out);
    out.expect_code(1);
    assert!(t.contains("not removed: cooperbench-git"), "{t}");
    assert!(t.contains("minisweagent-1111bbbb") && t.contains("someones-client"), "{t}");
    assert!(names(&c).contains(&"cooperbench-git".to_string()));

    // A cooperbench process on the host is enough.
    write_state("");
    std::fs::create_dir_all(proc.join("4242")).unwrap();
    std::fs::write(proc.join("4242/cmdline"), b"/venv/bin/python3\0/venv/bin/cooperbench\0run\0-n\0x\0").unwrap();
    let out = clean(&["--shared", "cooperbench-git"]);
    let t = text(&out);
    out.expect_code(1);
    assert!(t.contains("process 4242: /venv/bin/python3 /venv/bin/cooperbench run -n x"), "{t}");

    // Nothing live: the daemon and the network go, the volume stays (not asked).
    std::fs::remove_dir_all(proc.join("4242")).unwrap();
    let out = clean(&["--shared", "cooperbench-git", "--shared", "cooperbench"]);
    let t = text(&out);
    out.expect_code(0);
    assert!(t.contains("removed cooperbench-git (Container)") && t.contains("removed cooperbench (Network)"), "{t}");
    assert!(!names(&c).contains(&"cooperbench-git".to_string()), "{}", state(&c));
    assert_eq!(std::fs::read_to_string(&shared).unwrap(), "volume\tcooperbench-git-data\n");

    // Only the shared pieces have names here.
    let out = clean(&["--shared", "postgres"]);
    out.expect_code(2);
    assert!(text(&out).contains("--shared postgres: not a piece of the CLI's shared coop infrastructure"));
}

/// A Redis of ours outlives a `kill -9` of the harness as a container that
/// carries our labels: the next run's clean-up removes it before it starts.
#[test]
fn a_redis_left_by_a_killed_harness_is_removed_by_the_next_run() {
    let c = from_template("shared-empty", |dir| {
        fixture::write_dataset(&dir.join("CooperBench"), "lite", SHAPE).unwrap();
    });
    std::fs::write(c.experiment(), STUDY).unwrap();
    let study = || {
        c.xtask(&["study", "--cooperbench-bin", SIM, "--yes", "--arm", "a-coop"])
            .env("COHERE_API_KEY", KEY)
            .env("COOPERBENCH_SIM_SHARED", fake_docker())
            .env("COOPERBENCH_SIM_SLOW_MS", "400")
            .stdin_null()
    };
    let handle = study().start().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !names(&c).iter().any(|n| n.starts_with("redis-fake")) {
        assert!(std::time::Instant::now() < deadline, "no Redis of ours appeared: {}", state(&c));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    handle.kill().unwrap();
    // The CLI dies with the harness (its parent-death signal), a moment
    // later, and the docker call under way ends and lets go of the lock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while sims_in(c.tmp.path()) || holders_of(&c.cb()) {
        assert!(std::time::Instant::now() < deadline, "the CLI outlived the harness");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let left: Vec<String> = names(&c).into_iter().filter(|n| n.starts_with("redis-fake")).collect();
    assert_eq!(left.len(), 1, "{}", state(&c));
    let out = study().env_remove("COOPERBENCH_SIM_SLOW_MS").ran();
    let t = text(&out);
    // (verify at the end fails: the solo arm has no runs; not this test's.)
    assert_eq!(c.sim_work("run", "a-coop-s1").len(), 6, "{t}");
    assert!(t.contains("docker clean-up left by an earlier seeds: removed 1 container(s) of ours"), "{t}");
    assert!(!names(&c).contains(&left[0]), "{}\n{t}", state(&c));
}

/// Whether a simulated CLI works in `dir` (it runs in the checkout).
fn sims_in(dir: &std::path::Path) -> bool {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|e| {
        e.file_name().to_str().is_some_and(|p| p.parse::<u32>().is_ok())
            && std::fs::read_link(e.path().join("cwd")).is_ok_and(|c| c.starts_with(&dir))
            && std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("cooperbench-sim"))
    })
}

/// Whether a process holds a descriptor of something in `dir` (the lock).
fn holders_of(dir: &std::path::Path) -> bool {
    std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|e| {
        std::fs::read_dir(e.path().join("fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t.starts_with(dir)))
    })
}

/// Preflight refuses a messaging coop arm whose Redis image is not here,
/// before any spend, and says what to do.
#[test]
fn a_missing_redis_image_is_refused_before_the_spend() {
    let c = from_template("shared-empty", |dir| {
        fixture::write_dataset(&dir.join("CooperBench"), "lite", SHAPE).unwrap();
    });
    std::fs::write(
        c.experiment(),
        STUDY.replace("name = \"shared\"", "name = \"shared\"\nredis_image = \"redis:7-ours\""),
    )
    .unwrap();
    let subset = xtask::edges::layout::load_subset(&c.cb(), "lite").unwrap();
    let images: String = subset
        .pairs
        .iter()
        .map(|p| format!("{}\t1000\n", xtask::edges::docker::task_image(&p.repo, p.task_id)))
        .collect();
    let here = c.tmp.path().join("images");
    std::fs::write(&here, images).unwrap();
    let out = c
        .xtask(&["study", "--cooperbench-bin", SIM, "--yes", "--arm", "a-coop"])
        .env("COHERE_API_KEY", KEY)
        .env("FAKE_DOCKER_IMAGES", &here)
        .stdin_null()
        .ran();
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("redis image redis:7-ours is not on this host: `docker pull redis:7-ours`"), "{t}");
    assert!(c.sim_record().is_empty(), "something ran: {t}");
}

//! `cargo xtask clean-docker` against the real Docker Engine: containers
//! named and tagged like cooperbench's go, an unrelated one stays. Images
//! are made here with `docker import` (there is no registry to pull from)
//! and removed at the end. `#[ignore]`d so that a plain `cargo test` says
//! "ignored" rather than pass without Docker; `--include-ignored` (as in
//! `.ci/run`) runs it, and then a missing Docker is a failure.

mod common;

use common::*;

fn docker(args: &[&str]) -> std::process::Output {
    duct::cmd("docker", args).stdout_capture().stderr_capture().unchecked().run().expect("docker")
}

fn exists(name: &str) -> bool {
    docker(&["container", "inspect", name]).status.success()
}

/// Removes what the test made, whatever happened.
struct Cleanup {
    containers: Vec<String>,
    images: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            docker(&["rm", "-f", c]);
        }
        for i in &self.images {
            docker(&["rmi", "-f", i]);
        }
    }
}

#[test]
#[ignore = "needs a Docker engine: run with --include-ignored, as .ci/run does"]
fn clean_docker_removes_only_cooperbench_containers() {
    assert!(
        duct::cmd!("docker", "info").stdout_null().stderr_null().unchecked().run().is_ok_and(|o| o.status.success()),
        "Docker is not reachable here"
    );
    let tag = format!("{:08x}", std::process::id());
    let eval_image = format!("akhatua/cooperbench-xtasktest-{tag}:task1");
    let other_image = format!("xtask-test/unrelated-{tag}:1");
    let agent = format!("minisweagent-{tag}");
    let eval = format!("xtask-eval-{tag}");
    let unrelated = format!("xtask-unrelated-{tag}");
    let _cleanup = Cleanup {
        containers: vec![agent.clone(), eval.clone(), unrelated.clone()],
        images: vec![eval_image.clone(), other_image.clone()],
    };
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("hello"), "a tiny image\n").unwrap();
    let tar = tmp.path().join("image.tar");
    let made = duct::cmd!("tar", "-C", tmp.path(), "-cf", &tar, "hello").run().unwrap();
    assert!(made.status.success());
    for image in [&eval_image, &other_image] {
        let o = docker(&["import", tar.to_str().unwrap(), image]);
        assert!(o.status.success(), "{}", text(&o));
    }
    for (name, image) in [(&eval, &eval_image), (&agent, &other_image), (&unrelated, &other_image)] {
        let o = docker(&["create", "--name", name, image, "/hello"]);
        assert!(o.status.success(), "{}", text(&o));
    }

    let run = |args: &[&str]| {
        duct::cmd(XTASK, args).env_remove("XTASK_DOCKER").stdout_capture().stderr_capture().unchecked().run().unwrap()
    };
    let out = run(&["clean-docker", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("would remove"), "{}", text(&out));
    assert!(text(&out).contains(&agent) && text(&out).contains(&eval), "{}", text(&out));
    assert!(!text(&out).contains(&unrelated));
    assert!(exists(&agent) && exists(&eval) && exists(&unrelated), "--dry-run removed something");

    let out = run(&["clean-docker"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("removed"), "{}", text(&out));
    assert!(!exists(&agent), "the minisweagent- container survived");
    assert!(!exists(&eval), "the akhatua/cooperbench- container survived");
    assert!(exists(&unrelated), "an unrelated container was removed");
}

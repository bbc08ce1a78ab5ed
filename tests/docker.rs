//! Docker ownership against the real Docker Engine: `seeds` removes the
//! containers that appeared during its own invocations, and a look-alike
//! (same name prefix, same task image) made before it stays; `clean-docker`
//! leaves it alone too. The image is made here with `docker import` (there
//! is no registry to pull from), labelled, and removed at the end, as is
//! every container the test made; nothing else is touched. `#[ignore]`d so that a plain `cargo test` says
//! "ignored" rather than pass without Docker; `--include-ignored` (as in
//! `.ci/run`) runs it, and then a missing Docker is a failure.

mod common;

use common::*;

fn docker(args: &[&str]) -> common::Ran {
    duct::cmd("docker", args).stdout_capture().stderr_capture().unchecked().ran()
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
fn seeds_removes_only_the_containers_it_saw_appear() {
    assert!(
        duct::cmd!("docker", "info").stdout_null().stderr_null().unchecked().run().is_ok_and(|o| o.status.success()),
        "Docker is not reachable here"
    );
    let c = Checkout::with_baseline("");
    let tag = format!("{:08x}", std::process::id());
    // The canary and the first pair of the run are both amber_task/1000: the
    // simulator leaves an agent container on that task's image each time.
    let image = xtask::edges::docker::task_image("amber_task", 1000);
    let label = format!("xtask-test={tag}");
    let image_was_there = docker(&["image", "inspect", &image]).status.success();
    let foreign = format!("minisweagent-{tag}");
    let mut cleanup = Cleanup {
        containers: vec![foreign.clone()],
        images: if image_was_there { vec![] } else { vec![image.clone()] },
    };
    if !image_was_there {
        let tar = c.tmp.path().join("image.tar");
        std::fs::write(c.tmp.path().join("hello"), "a tiny image\n").unwrap();
        let made = duct::cmd!("tar", "-C", c.tmp.path(), "-cf", &tar, "hello").ran();
        assert!(made.status.success());
        let o = docker(&["import", "--change", &format!("LABEL {label}"), tar.to_str().unwrap(), &image]);
        assert!(o.status.success(), "{}", text(&o));
    }
    // Another job's container, exactly like ours (name prefix and image),
    // there before seeds started: it must survive.
    let o = docker(&["create", "--name", &foreign, &image, "/hello"]);
    assert!(o.status.success(), "{}", text(&o));

    let exp = c.experiment();
    let out = duct::cmd(
        XTASK,
        ["seeds", "--experiment", exp.to_str().unwrap(), "--cooperbench-bin", SIM, "--yes", "--seeds", "1"],
    )
    .dir(c.tmp.path())
    .env_remove("XTASK_DOCKER")
    .env("COHERE_API_KEY", KEY)
    .env("COOPERBENCH_SIM_LEAVE_CONTAINER", "1")
    .env("COOPERBENCH_SIM_DOCKER", "docker")
    .stdin_null()
    .stdout_capture()
    .stderr_capture()
    .unchecked()
    .ran();
    let made = c.sim_work("container", SEED1);
    cleanup.containers.extend(made.iter().cloned());
    let o = text(&out);
    out.expect_code(0);
    assert_eq!(made.len(), 2, "{made:?}\n{o}");
    assert!(o.contains("docker clean-up after the runs: removed 2 container(s) of ours"), "{o}");
    for name in &made {
        assert!(!exists(name), "{name}, made during our run, survived");
    }
    assert!(exists(&foreign), "a container that was not ours was removed");

    // clean-docker names the look-alike and leaves it alone.
    let cb = c.cb();
    let out = duct::cmd(XTASK, ["clean-docker", "--cooperbench-dir", cb.to_str().unwrap()])
        .env_remove("XTASK_DOCKER")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .ran();
    let o = text(&out);
    out.expect_code(0);
    assert!(o.contains("no containers of ours"), "{o}");
    assert!(o.contains("left alone:") && o.contains(&foreign), "{o}");
    assert!(exists(&foreign), "clean-docker removed a container that was not ours");
}

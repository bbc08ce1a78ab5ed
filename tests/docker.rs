//! Docker ownership against the real Docker Engine: the CLI's containers
//! are made through the harness's proxy and carry its labels; `seeds`
//! removes those, and look-alikes (same name prefix, same task image), one
//! made before it and one made while it ran, stay; `clean-docker` leaves
//! them alone too. The image is made here with `docker import` (there
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
fn seeds_removes_only_the_containers_that_carry_its_labels() {
    let info = duct::cmd!("docker", "info").stdout_null().stderr_capture().unchecked().run();
    assert!(
        info.as_ref().is_ok_and(|o| o.status.success()),
        "this test needs a Docker engine, and `docker info` failed ({}): start Docker, or run without --include-ignored",
        info.map(|o| String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or_default().to_string())
            .unwrap_or_else(|e| e.to_string())
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
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let during = format!("minisweagent-{tag}-during");
    cleanup.containers.push(during.clone());
    let handle = duct::cmd(
        XTASK,
        ["seeds", "--experiment", exp.to_str().unwrap(), "--cooperbench-bin", SIM, "--yes", "--seeds", "1"],
    )
    .dir(c.tmp.path())
    .env_remove("XTASK_DOCKER")
    .env("COHERE_API_KEY", KEY)
    .env("COOPERBENCH_SIM_LEAVE_CONTAINER", "1")
    .env("COOPERBENCH_SIM_DOCKER", "docker")
    .env("COOPERBENCH_SIM_SLOW_MS", "20")
    .stdin_null()
    .stdout_capture()
    .stderr_capture()
    .unchecked()
    .start()
    .unwrap();
    // Another job's container, started on the same image while ours runs.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while c.sim_work("run", SEED1).len() < 5 {
        assert!(std::time::Instant::now() < deadline, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = docker(&["create", "--name", &during, &image, "/hello"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = common::finished(&handle);
    let made = c.sim_work("container", SEED1);
    cleanup.containers.extend(made.iter().cloned());
    let o = text(&out);
    out.expect_code(0);
    assert_eq!(made.len(), 2, "{made:?}\n{o}");
    assert!(o.contains("docker clean-up after seed1's run: removed 2 container(s) of ours"), "{o}");
    for name in &made {
        assert!(!exists(name), "{name}, made during our run, survived");
    }
    assert!(exists(&foreign), "a container that was not ours was removed");
    assert!(exists(&during), "a container another job started during our run was removed");
    // Every container the CLI made carried our labels, set by the proxy.
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1;
    let events = docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &until.to_string(),
        "--filter",
        "event=create",
        "--format",
        "{{json .Actor.Attributes}}",
    ]);
    let lines = String::from_utf8_lossy(&events.stdout).into_owned();
    for name in &made {
        let line = lines.lines().find(|l| l.contains(&format!("\"name\":\"{name}\""))).unwrap_or_default();
        assert!(
            line.contains("\"xtask.checkout\"") && line.contains("\"xtask.run\":\"command-a-solo-seed1\""),
            "{name}: {line}"
        );
    }
    let theirs = lines.lines().find(|l| l.contains(&format!("\"name\":\"{during}\""))).unwrap_or_default();
    assert!(!theirs.is_empty() && !theirs.contains("xtask.checkout"), "{theirs}");

    // clean-docker names the look-alikes and leaves them alone.
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
    assert!(o.contains("left alone:") && o.contains(&foreign) && o.contains(&during), "{o}");
    assert!(exists(&foreign) && exists(&during), "clean-docker removed a container that was not ours");
}

/// The image ids the manifests record are the engine's own: read through
/// the harness's reader, an image re-made under its tag has another id, and
/// an absent one is absent (not an error). The real engine's template has
/// its own types (`join` fails on RepoDigests): this is where that shows.
#[test]
#[ignore = "needs a Docker engine: run with --include-ignored, as .ci/run does"]
fn the_recorded_image_ids_are_the_engines_and_a_remade_tag_has_another() {
    let info = duct::cmd!("docker", "info").stdout_null().stderr_null().unchecked().run();
    assert!(info.is_ok_and(|o| o.status.success()), "this test needs a Docker engine (`docker info` failed)");
    let dir = tempfile::Builder::new().prefix("images-").tempdir_in(scratch()).unwrap();
    let tag = format!("xtask-test-images-{:08x}:v1", std::process::id());
    let absent = format!("xtask-test-images-{:08x}:absent", std::process::id());
    let mut cleanup = Cleanup { containers: vec![], images: vec![] };
    let mut import = |content: &str| -> String {
        std::fs::write(dir.path().join("hello"), content).unwrap();
        let tar = dir.path().join("image.tar");
        assert!(duct::cmd!("tar", "-C", dir.path(), "-cf", &tar, "hello").ran().status.success());
        let o = docker(&["import", "--change", "LABEL xtask-test=images", tar.to_str().unwrap(), &tag]);
        assert!(o.status.success(), "{}", text(&o));
        let id = String::from_utf8_lossy(&docker(&["image", "inspect", "--format", "{{.Id}}", &tag]).stdout)
            .trim()
            .to_string();
        cleanup.images.push(id.clone());
        id
    };
    let first = import("one\n");
    let engine = xtask::edges::docker::Docker::new("docker");
    let read = engine.image_states(&[tag.clone(), absent.clone()]).unwrap();
    assert_eq!(read[&tag].id.as_deref(), Some(first.as_str()));
    assert_eq!(read[&absent].id, None);
    let second = import("two\n");
    assert_ne!(first, second);
    let read = engine.image_states(std::slice::from_ref(&tag)).unwrap();
    assert_eq!(read[&tag].id.as_deref(), Some(second.as_str()));
}

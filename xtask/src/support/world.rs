//! The offline world the real cooperbench CLI runs in for `cargo xtask e2e`
//! and `demo --real-cli`: a small dataset (3 tasks, 8 features, 6 pairs),
//! made with git; a task image per task, a root filesystem of this machine's
//! own programs and their shared libraries with the task's repository at
//! `/workspace/repo` and `fixtures/world/runner.sh`, imported with `docker
//! import` under the name the CLI derives; and the model stand-in
//! (`fixtures/world/stand_in.py`). No pull, no network.
//!
//! Images carry the label `xtask-e2e=1` and the digest of their inputs; they
//! are rebuilt only when that digest changes, and an image of the same name
//! without our label is never replaced: it is not ours.

use crate::edges::docker::Docker;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::Digest;

use crate::study::pair::PairId;

/// The subset the world's dataset defines.
pub const SUBSET: &str = "e2e";
/// Marks every image the world makes.
pub const LABEL: &str = "xtask-e2e";

/// One feature: a shell function `f<n>` in `feature<n>.sh`, and a test
/// that `f<n> <input>` prints `<output>`.
pub struct Feature {
    pub n: u32,
    pub what: &'static str,
    pub body: &'static str,
    pub input: &'static str,
    pub output: &'static str,
}

pub struct Task {
    pub repo: &'static str,
    pub id: u64,
    pub features: &'static [Feature],
    /// Pairs of the subset, as feature numbers.
    pub pairs: &'static [(u32, u32)],
}

pub const TASKS: [Task; 3] = [
    Task {
        repo: "e2ecalc_task",
        id: 1,
        features: &[
            Feature { n: 1, what: "doubles a number", body: "echo $(( $1 * 2 ))", input: "21", output: "42" },
            Feature { n: 2, what: "squares a number", body: "echo $(( $1 * $1 ))", input: "7", output: "49" },
            Feature { n: 3, what: "negates a number", body: "echo $(( 0 - $1 ))", input: "5", output: "-5" },
        ],
        pairs: &[(1, 2), (1, 3), (2, 3)],
    },
    Task {
        repo: "e2etext_task",
        id: 2,
        features: &[
            Feature { n: 1, what: "upper-cases a word", body: "echo \"$1\" | tr a-z A-Z", input: "abc", output: "ABC" },
            Feature { n: 2, what: "reverses a word", body: "echo \"$1\" | rev", input: "abc", output: "cba" },
        ],
        pairs: &[(1, 2)],
    },
    Task {
        repo: "e2elist_task",
        id: 3,
        features: &[
            Feature { n: 1, what: "counts its arguments", body: "echo $#", input: "a b c", output: "3" },
            Feature { n: 2, what: "prints its first argument", body: "echo \"$1\"", input: "x y", output: "x" },
            Feature { n: 3, what: "prints its last argument", body: "echo \"${@: -1}\"", input: "x y", output: "y" },
        ],
        pairs: &[(1, 2), (1, 3)],
    },
];

/// A task whose second test is broken on purpose: it expects `f2 1` to
/// print 4, and the gold patch prints 3. Not in the `e2e` subset; the
/// `e2e-oracle` subset adds its pair, for the oracle to name.
pub const BROKEN: Task = Task {
    repo: "e2ebroken_task",
    id: 4,
    features: &[
        Feature { n: 1, what: "adds one", body: "echo $(( $1 + 1 ))", input: "1", output: "2" },
        Feature { n: 2, what: "adds two", body: "echo $(( $1 + 2 ))", input: "1", output: "4" },
    ],
    pairs: &[(1, 2)],
};
/// The `e2e` pairs and the broken task's pair.
pub const ORACLE_SUBSET: &str = "e2e-oracle";

/// Every task the world's dataset and images hold.
pub fn all_tasks() -> impl Iterator<Item = &'static Task> {
    TASKS.iter().chain(std::iter::once(&BROKEN))
}

/// Every pair of the world's subset.
pub fn pairs() -> Vec<PairId> {
    TASKS.iter().flat_map(|t| t.pairs.iter().map(|(a, b)| PairId::new(t.repo, t.id, *a, *b))).collect()
}

/// The programs the image holds (CONTRACT.md: what the agent and eval need;
/// `timeout`: cooperbench's Modal environment runs every agent command
/// under it, as the real task images, Debian's coreutils, allow).
pub(crate) const PROGRAMS: [&str; 35] = [
    "bash", "sh", "git", "sed", "grep", "xargs", "base64", "find", "diff", "sleep", "cat", "ls", "cp", "mv", "rm",
    "mkdir", "chmod", "echo", "printf", "head", "tail", "tr", "wc", "cut", "sort", "env", "dirname", "basename",
    "mktemp", "touch", "rev", "true", "false", "test", "timeout",
];

fn world_file(name: &str) -> PathBuf {
    crate::edges::layout::project_root().join("fixtures/world").join(name)
}

/// The stand-in's program.
pub fn stand_in_script() -> PathBuf {
    world_file("stand_in.py")
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<String> {
    // Fixed names and dates: the same inputs make the same commits.
    let out = duct::cmd("git", args)
        .dir(dir)
        .env("GIT_AUTHOR_NAME", "e2e")
        .env("GIT_AUTHOR_EMAIL", "e2e@example.invalid")
        .env("GIT_COMMITTER_NAME", "e2e")
        .env("GIT_COMMITTER_EMAIL", "e2e@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()?;
    if !out.status.success() {
        bail!("git {} in {}: {}", args.join(" "), dir.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The task's repository at its base commit, in `dir` (made afresh).
fn base_repo(task: &Task, dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    git(dir, &["init", "-q", "-b", "main"])?;
    std::fs::write(
        dir.join("README.md"),
        format!("# {}\n\nShell functions, one file per feature; tests in tests/.\n", task.repo),
    )?;
    git(dir, &["add", "-A"])?;
    git(dir, &["commit", "-q", "-m", "base"])?;
    Ok(())
}

/// The patch that adds `files` to the base repository, made by git.
fn patch(repo: &Path, files: &[(String, String)]) -> anyhow::Result<String> {
    for (name, text) in files {
        let path = repo.join(name);
        std::fs::create_dir_all(path.parent().unwrap_or(repo))?;
        std::fs::write(path, text)?;
    }
    git(repo, &["add", "-A"])?;
    let diff = git(repo, &["diff", "--cached"])?;
    git(repo, &["reset", "-q", "--hard", "HEAD"])?;
    Ok(diff)
}

/// Writes the dataset (`dataset/<repo>/task<id>/feature<n>/`, the subset)
/// into the checkout `cb`, and the base repositories under `work/repos`.
pub fn write_dataset(cb: &Path, work: &Path) -> anyhow::Result<()> {
    let mut subset_tasks = Vec::new();
    for task in all_tasks() {
        let repo = work.join("repos").join(task.repo);
        base_repo(task, &repo)?;
        let task_dir = cb.join("dataset").join(task.repo).join(format!("task{}", task.id));
        for f in task.features {
            let dir = task_dir.join(format!("feature{}", f.n));
            std::fs::create_dir_all(&dir)?;
            std::fs::write(
                dir.join("feature.md"),
                format!(
                    "[[task {}/{}/f{}]]\n\nAdd `feature{}.sh` defining a shell function `f{}` that {}: `f{} {}` prints `{}`.\n",
                    task.repo, task.id, f.n, f.n, f.n, f.what, f.n, f.input, f.output
                ),
            )?;
            let code = format!("f{}() {{\n    {}\n}}\n", f.n, f.body);
            std::fs::write(dir.join("feature.patch"), patch(&repo, &[(format!("feature{}.sh", f.n), code)])?)?;
            let test = format!(
                "#!/bin/bash\nsource ./feature{n}.sh || exit 1\n[ \"$(f{n} {input})\" = \"{output}\" ]\n",
                n = f.n,
                input = f.input,
                output = f.output
            );
            std::fs::write(dir.join("tests.patch"), patch(&repo, &[(format!("tests/test_f{}.sh", f.n), test)])?)?;
        }
        // The first task has the dataset's whole-PR gold, as real tasks do;
        // the others leave the oracle to join their features' patches.
        if task.repo == TASKS[0].repo {
            let files: Vec<(String, String)> = task
                .features
                .iter()
                .map(|f| (format!("feature{}.sh", f.n), format!("f{}() {{\n    {}\n}}\n", f.n, f.body)))
                .collect();
            std::fs::write(task_dir.join("combined.patch"), patch(&repo, &files)?)?;
        }
        let pairs: Vec<[u32; 2]> = task.pairs.iter().map(|(a, b)| [*a, *b]).collect();
        subset_tasks.push(serde_json::json!({"repo": task.repo, "task_id": task.id, "pairs": pairs}));
    }
    let subsets = cb.join("dataset/subsets");
    std::fs::create_dir_all(&subsets)?;
    let broken = subset_tasks.pop().expect("the broken task");
    let doc = serde_json::json!({"name": SUBSET, "description": "the offline world of cargo xtask e2e",
        "stats": {"tasks": TASKS.len(), "pairs": pairs().len(), "repos": TASKS.len()}, "tasks": subset_tasks});
    std::fs::write(subsets.join(format!("{SUBSET}.json")), serde_json::to_string_pretty(&doc)?)?;
    subset_tasks.push(broken);
    let doc = serde_json::json!({"name": ORACLE_SUBSET, "description": "the e2e pairs and one whose test is broken",
        "stats": {"tasks": TASKS.len() + 1, "pairs": pairs().len() + 1, "repos": TASKS.len() + 1}, "tasks": subset_tasks});
    std::fs::write(subsets.join(format!("{ORACLE_SUBSET}.json")), serde_json::to_string_pretty(&doc)?)?;
    // A git clone, as a real checkout is: a run the CLI made directly has
    // its dataset revision inferred from this history.
    crate::support::fixture::commit_dataset(cb, "the e2e world's dataset", Some("2026-01-01T00:00:00Z"))?;
    Ok(())
}

/// The shared libraries `ldd` names for a program (the loader included).
fn libraries(program: &Path) -> Vec<PathBuf> {
    libraries_with(program, None)
}

/// [`libraries`], looking in `extra` first (libraries unpacked from a
/// package, not installed on this machine).
pub(crate) fn libraries_with(program: &Path, extra: Option<&Path>) -> Vec<PathBuf> {
    let mut ldd = duct::cmd!("ldd", program);
    if let Some(dir) = extra {
        ldd = ldd.env("LD_LIBRARY_PATH", dir);
    }
    let Ok(out) = ldd.stdout_capture().stderr_null().unchecked().run() else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let path = match l.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// Copies `from` (following links) to the same path under `root`.
pub(crate) fn copy_in(root: &Path, from: &Path) -> anyhow::Result<()> {
    let to = root.join(from.strip_prefix("/").unwrap_or(from));
    if to.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(to.parent().unwrap_or(root))?;
    std::fs::copy(from, &to).with_context(|| format!("cannot copy {} into the image", from.display()))?;
    Ok(())
}

pub(crate) fn which(program: &str) -> anyhow::Result<PathBuf> {
    for dir in ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(program);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!("`{program}` is not on this machine; the task image needs it")
}

/// What an image is made of, as a digest: the programs (path, size, mtime),
/// runner.sh, and the task's definition. Same digest, same image.
fn inputs_digest(task: &Task, programs: &[PathBuf]) -> anyhow::Result<String> {
    let mut h = sha2::Sha256::new();
    for p in programs {
        let m = std::fs::metadata(p)?;
        let mtime = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        h.update(format!("{}:{}:{:?}\n", p.display(), m.len(), mtime));
    }
    h.update(std::fs::read(world_file("runner.sh"))?);
    h.update(format!("{}:{}\n", task.repo, task.id));
    for f in task.features {
        h.update(format!("{}|{}|{}|{}\n", f.n, f.body, f.input, f.output));
    }
    h.update("layout 3");
    Ok(format!("{:x}", h.finalize())[..16].to_string())
}

/// The root filesystem every task image shares, in `root` (made afresh).
pub(crate) fn base_rootfs(root: &Path, programs: &[PathBuf]) -> anyhow::Result<()> {
    if root.exists() {
        std::fs::remove_dir_all(root)?;
    }
    for d in ["usr/bin", "usr/local/bin", "tmp", "patches", "root", "etc"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root.join("tmp"), std::fs::Permissions::from_mode(0o1777))?;
    std::os::unix::fs::symlink("usr/bin", root.join("bin"))?;
    for p in programs {
        let to = root.join("usr/bin").join(p.file_name().unwrap_or_default());
        if !to.exists() {
            std::fs::copy(p, &to).with_context(|| format!("cannot copy {}", p.display()))?;
        }
        for lib in libraries(p) {
            copy_in(root, &lib)?;
        }
    }
    // git's helpers (push to a local bare repository runs git-receive-pack)
    // and its templates.
    let core = Path::new("/usr/lib/git-core");
    for (from, into) in [(core, "usr/lib"), (Path::new("/usr/share/git-core"), "usr/share")] {
        if !from.exists() {
            continue;
        }
        std::fs::create_dir_all(root.join(into))?;
        let out = duct::cmd!("cp", "-a", from, root.join(into)).stderr_capture().unchecked().run()?;
        if !out.status.success() {
            bail!("cannot copy {}: {}", from.display(), String::from_utf8_lossy(&out.stderr).trim());
        }
    }
    for entry in std::fs::read_dir(core)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().is_ok_and(|t| t.is_file()) && !name.starts_with("git-remote-http") {
            for lib in libraries(&entry.path()) {
                copy_in(root, &lib)?;
            }
        }
    }
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/bash\n")?;
    std::fs::write(root.join("etc/group"), "root:x:0:\n")?;
    std::fs::write(
        root.join("etc/gitconfig"),
        "[user]\n\tname = agent\n\temail = agent@example.invalid\n[safe]\n\tdirectory = *\n[init]\n\tdefaultBranch = main\n",
    )?;
    let runner = root.join("usr/local/bin/runner.sh");
    std::fs::copy(world_file("runner.sh"), &runner)?;
    std::fs::set_permissions(&runner, std::fs::Permissions::from_mode(0o755))?;
    Ok(())
}

/// An image of ours, or nothing in the way: `Some(digest)` for an image of
/// ours, `None` when there is no such image. Someone else's is an error.
pub(crate) fn our_image(docker: &Docker, image: &str) -> anyhow::Result<Option<String>> {
    let format = format!("{{{{index .Config.Labels \"{LABEL}\"}}}} {{{{index .Config.Labels \"{LABEL}-inputs\"}}}}");
    let out = duct::cmd!(docker.program(), "image", "inspect", "--format", format, image)
        .stdout_capture()
        .stderr_capture()
        .unchecked()
        .run()?;
    if !out.status.success() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut f = text.split_whitespace();
    match (f.next(), f.next()) {
        (Some("1"), Some(d)) => Ok(Some(d.to_string())),
        _ => bail!("image {image} exists and is not ours (no {LABEL} label): refusing to replace it"),
    }
}

fn image_id(docker: &Docker, image: &str) -> Option<String> {
    let out = duct::cmd!(docker.program(), "image", "inspect", "--format", "{{.Id}}", image)
        .stdout_capture()
        .stderr_null()
        .unchecked()
        .run()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Every task image, built or reused; returns (image, "built" | "reused").
pub fn build_images(docker: &Docker, work: &Path) -> anyhow::Result<Vec<(String, &'static str)>> {
    let programs: Vec<PathBuf> = PROGRAMS.iter().map(|p| which(p)).collect::<anyhow::Result<_>>()?;
    let mut done = Vec::new();
    let mut base_made = false;
    for task in all_tasks() {
        let image = crate::edges::docker::task_image(task.repo, task.id);
        let digest = inputs_digest(task, &programs)?;
        let old = our_image(docker, &image)?;
        if old.as_deref() == Some(digest.as_str()) {
            done.push((image, "reused"));
            continue;
        }
        // Ours, from other inputs: removed once the new one has its name.
        let replaced = match old {
            Some(_) => image_id(docker, &image),
            None => None,
        };
        if !base_made {
            base_rootfs(&work.join("rootfs"), &programs)?;
            base_made = true;
        }
        import(docker, work, task, &digest, None)?;
        if let Some(id) = replaced {
            let _ = duct::cmd!(docker.program(), "rmi", id).stdout_null().stderr_null().unchecked().run();
        }
        done.push((image, "built"));
    }
    Ok(done)
}

/// The task's image re-made under its tag with other content (a file
/// `/workspace/REMADE` holding `marker`), as the dataset's fix re-made
/// images under the same tags. Ours by label, with inputs no build has,
/// so that the next [`build_images`] makes the world's own again. Returns
/// the id the tag had before (left for the caller to remove once no
/// container uses it) and the new one.
pub fn remake_image(
    docker: &Docker,
    work: &Path,
    task: &Task,
    marker: &str,
) -> anyhow::Result<(Option<String>, String)> {
    let image = crate::edges::docker::task_image(task.repo, task.id);
    if marker.is_empty() || !marker.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        bail!("a marker is letters, digits and `-` (it becomes a label value): {marker:?}");
    }
    if our_image(docker, &image)?.is_none() {
        bail!("{image} is not an image of the world's: nothing to re-make");
    }
    let before = image_id(docker, &image);
    let programs: Vec<PathBuf> = PROGRAMS.iter().map(|p| which(p)).collect::<anyhow::Result<_>>()?;
    base_rootfs(&work.join("rootfs"), &programs)?;
    import(docker, work, task, &format!("remade-{marker}"), Some(marker))?;
    let after = image_id(docker, &image).ok_or_else(|| anyhow::anyhow!("{image} is gone after its import"))?;
    Ok((before, after))
}

/// Removes images of ours by id (the world's label checked first); one a
/// container still uses stays, and is said.
pub fn remove_image_ids(docker: &Docker, ids: &[String]) -> Vec<String> {
    let mut left = Vec::new();
    for id in ids {
        let label = format!("{{{{index .Config.Labels \"{LABEL}\"}}}}");
        let ours = duct::cmd!(docker.program(), "image", "inspect", "--format", label, id)
            .stdout_capture()
            .stderr_null()
            .unchecked()
            .run()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "1");
        if !ours {
            continue;
        }
        let gone = duct::cmd!(docker.program(), "rmi", id).stdout_null().stderr_null().unchecked().run();
        if !gone.is_ok_and(|o| o.status.success()) {
            left.push(id.clone());
        }
    }
    left
}

/// One task's image imported from the shared root filesystem (made by
/// `base_rootfs` in `work/rootfs`) and its repository; `marker` adds a
/// file that makes the content other.
fn import(docker: &Docker, work: &Path, task: &Task, digest: &str, marker: Option<&str>) -> anyhow::Result<()> {
    let image = crate::edges::docker::task_image(task.repo, task.id);
    let base = work.join("rootfs");
    // The task's repository at /workspace/repo, history and all.
    let repo = work.join("repos").join(task.repo);
    base_repo(task, &repo)?;
    let staged = work.join("staged").join(task.repo);
    if staged.exists() {
        std::fs::remove_dir_all(&staged)?;
    }
    std::fs::create_dir_all(staged.join("workspace"))?;
    let out = duct::cmd!("cp", "-a", &repo, staged.join("workspace/repo")).stderr_capture().unchecked().run()?;
    if !out.status.success() {
        bail!("cannot stage {}: {}", repo.display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    if let Some(m) = marker {
        std::fs::write(staged.join("workspace/REMADE"), format!("{m}\n"))?;
    }
    let tar = work.join(format!("{}.tar", task.repo));
    let out = duct::cmd!(
        "tar",
        "--sort=name",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "-C",
        &base,
        "-cf",
        &tar,
        ".",
        "-C",
        &staged,
        "workspace"
    )
    .stderr_capture()
    .unchecked()
    .run()?;
    if !out.status.success() {
        bail!("tar failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let out = duct::cmd!(
        docker.program(),
        "import",
        "--change",
        format!("LABEL {LABEL}=1"),
        "--change",
        format!("LABEL {LABEL}-inputs={digest}"),
        "--change",
        "WORKDIR /workspace/repo",
        "--change",
        "ENV HOME=/root PATH=/usr/local/bin:/usr/bin:/bin",
        &tar,
        &image
    )
    .stdout_null()
    .stderr_capture()
    .unchecked()
    .run()?;
    if !out.status.success() {
        bail!("docker import of {image} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    std::fs::remove_file(&tar).ok();
    Ok(())
}

/// Removes the world's images (ours by label only).
pub fn remove_images(docker: &Docker) -> anyhow::Result<Vec<String>> {
    let mut gone = Vec::new();
    for task in all_tasks() {
        let image = crate::edges::docker::task_image(task.repo, task.id);
        if our_image(docker, &image)?.is_some() {
            duct::cmd!(docker.program(), "rmi", "-f", &image).stdout_null().stderr_null().run()?;
            gone.push(image);
        }
    }
    Ok(gone)
}

/// The model stand-in, running: its port and request log. Stopped (and
/// waited for) when dropped.
pub struct StandIn {
    child: duct::Handle,
    pub port: u16,
    pub log: PathBuf,
}

impl StandIn {
    /// Starts it with this script (JSON text) in `dir`.
    pub fn start(python: &Path, dir: &Path, script: &serde_json::Value) -> anyhow::Result<StandIn> {
        std::fs::create_dir_all(dir)?;
        let (script_path, log, port_file) = (dir.join("script.json"), dir.join("requests.jsonl"), dir.join("port"));
        std::fs::write(&script_path, serde_json::to_string_pretty(script)?)?;
        std::fs::remove_file(&port_file).ok();
        let child =
            duct::cmd!(python, stand_in_script(), "--script", &script_path, "--log", &log, "--port-file", &port_file)
                .before_spawn(|cmd| {
                    use std::os::unix::process::CommandExt;
                    // SAFETY: prctl is async-signal-safe; it runs in the child before exec.
                    unsafe {
                        // It dies with us, however we die.
                        cmd.pre_exec(|| {
                            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                            Ok(())
                        });
                    }
                    Ok(())
                })
                .stdout_null()
                .stderr_path(dir.join("stand-in.stderr"))
                .start()?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(port) = std::fs::read_to_string(&port_file).ok().and_then(|t| t.trim().parse().ok()) {
                return Ok(StandIn { child, port, log });
            }
            if child.try_wait()?.is_some() || std::time::Instant::now() > deadline {
                let err = std::fs::read_to_string(dir.join("stand-in.stderr")).unwrap_or_default();
                bail!("the model stand-in did not start: {}", err.trim());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Every request it logged, in order.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        read_requests(&self.log)
    }
}

pub fn read_requests(log: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(log).unwrap_or_default().lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Conversations the stand-in had per pair (`repo/task/fA_fB`).
pub fn conversations(requests: &[serde_json::Value]) -> BTreeMap<String, u64> {
    let mut n = BTreeMap::new();
    for r in requests {
        if let (Some(pair), Some(c)) = (r["pair"].as_str(), r["conversation"].as_u64()) {
            let e = n.entry(pair.to_string()).or_insert(0);
            *e = (*e).max(c);
        }
    }
    n
}

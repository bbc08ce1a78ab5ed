//! Docker, for what cooperbench leaves behind: eval containers (image
//! `akhatua/cooperbench-*`) and agent containers (name `minisweagent-*`),
//! both on the task's image. The harness removes only the containers it saw
//! appear during its own CLI invocations ([`Ownership`], recorded in
//! `layout::LEDGER_REL`); the name pattern only describes what `clean-docker
//! --all-cooperbench` may reach when asked to. `--filter
//! ancestor=akhatua/cooperbench` matches nothing, so containers are listed
//! whole and filtered here.

use anyhow::Context;

pub const IMAGE_PREFIX: &str = "akhatua/cooperbench-";
pub const NAME_PREFIX: &str = "minisweagent-";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub image: String,
    pub state: String,
}

impl Container {
    pub fn is_cooperbench(&self) -> bool {
        self.image.starts_with(IMAGE_PREFIX) || self.name.starts_with(NAME_PREFIX)
    }
}

/// Parses `docker ps -a --format '{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}'`.
pub fn parse_ps(text: &str) -> Vec<Container> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some(Container {
                id: f.next()?.to_string(),
                name: f.next()?.to_string(),
                image: f.next()?.to_string(),
                state: f.next().unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// The docker program the harness calls: `docker`, or a stand-in that the
/// tests and the demo choose (`XTASK_DOCKER`, read once in `main`, so that
/// running them never touches a real run's containers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Docker {
    program: String,
}

impl Docker {
    pub fn new(program: impl Into<String>) -> Docker {
        Docker { program: program.into() }
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    /// The engine's version, or why it does not answer.
    pub fn available(&self) -> anyhow::Result<String> {
        let sh = xshell::Shell::new()?;
        let docker = &self.program;
        let format = "{{.ServerVersion}}";
        let out = xshell::cmd!(sh, "{docker} info --format {format}").quiet().ignore_status().output()?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            anyhow::bail!("{}", err.lines().find(|l| !l.trim().is_empty()).unwrap_or("docker info failed").trim());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Every container on the host (`docker ps -a`), whoever made it.
    pub fn containers(&self) -> anyhow::Result<Vec<Container>> {
        let sh = xshell::Shell::new()?;
        let docker = &self.program;
        let format = "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}";
        let text = xshell::cmd!(sh, "{docker} ps -a --no-trunc --format {format}")
            .quiet()
            .read()
            .context("docker ps failed")?;
        Ok(parse_ps(&text))
    }

    /// The image's size in bytes when it is on this host, `None` when not
    /// (`docker image inspect` fails for an absent image).
    pub fn image_size(&self, image: &str) -> anyhow::Result<Option<u64>> {
        let sh = xshell::Shell::new()?;
        let docker = &self.program;
        let format = "{{.Size}}";
        let out =
            xshell::cmd!(sh, "{docker} image inspect --format {format} {image}").quiet().ignore_status().output()?;
        if !out.status.success() {
            return Ok(None);
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().parse().ok())
    }

    /// `docker pull`, its output passed through (a pull takes minutes).
    pub fn pull(&self, image: &str) -> anyhow::Result<()> {
        let sh = xshell::Shell::new()?;
        let docker = &self.program;
        xshell::cmd!(sh, "{docker} pull {image}")
            .quiet()
            .run()
            .with_context(|| format!("docker pull {image} failed"))?;
        Ok(())
    }

    /// Removes (force) exactly these containers.
    pub fn remove(&self, ids: &[&str]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let sh = xshell::Shell::new()?;
        let docker = &self.program;
        xshell::cmd!(sh, "{docker} rm -f {ids...}").quiet().ignore_stdout().run().context("docker rm failed")?;
        Ok(())
    }
}

/// The image the CLI runs a task in, agent and eval alike (CONTRACT.md):
/// `akhatua/cooperbench-<repo without _task, _ as ->:task<id>`.
pub fn task_image(repo: &str, task_id: u64) -> String {
    // As the CLI's get_image_name: every `_task`, not only a suffix.
    let name = repo.replace("_task", "").replace('_', "-");
    format!("{IMAGE_PREFIX}{name}:task{task_id}")
}

/// One container the harness saw appear during one of its invocations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    pub id: String,
    pub name: String,
    pub image: String,
    /// The seed run and the invocation, e.g. `command-a-solo-seed1` `eval`.
    pub run: String,
    pub during: String,
    pub seen_at: String,
}

impl Seen {
    pub fn why(&self) -> String {
        format!("seen appearing during `{}` of {} at {}", self.during, self.run, self.seen_at)
    }
}

/// Which containers are ours. A container is ours when it appeared while one
/// of our CLI invocations ran (it was not there when the invocation began)
/// and runs one of the task images that invocation can use. Nothing is
/// ever chosen by a name pattern: another job's cooperbench container on
/// this host is never ours, unless it started on the same task image while
/// ours ran (a limit written in the README).
pub struct Ownership {
    docker: Docker,
    ledger: std::path::PathBuf,
    images: std::collections::BTreeSet<String>,
    seen: std::sync::Mutex<std::collections::BTreeMap<String, Seen>>,
}

/// The containers present when an invocation began.
pub struct Before(std::collections::BTreeSet<String>);

impl Ownership {
    pub fn new(
        docker: &Docker,
        cooperbench_dir: &std::path::Path,
        images: std::collections::BTreeSet<String>,
    ) -> Ownership {
        Ownership {
            docker: docker.clone(),
            ledger: crate::edges::layout::ledger(cooperbench_dir),
            images,
            seen: Default::default(),
        }
    }

    pub fn before(&self) -> anyhow::Result<Before> {
        Ok(Before(self.docker.containers()?.into_iter().map(|c| c.id).collect()))
    }

    /// Records (in memory and in the ledger) the containers that are new
    /// since `before` and run one of our images.
    pub fn watch(&self, before: &Before, run: &str, during: &str) -> anyhow::Result<()> {
        let now = self.docker.containers()?;
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let mut fresh = Vec::new();
        for c in now {
            if before.0.contains(&c.id) || seen.contains_key(&c.id) || !self.images.contains(&c.image) {
                continue;
            }
            let s = Seen {
                id: c.id.clone(),
                name: c.name,
                image: c.image,
                run: run.to_string(),
                during: during.to_string(),
                seen_at: crate::edges::clock::now().to_iso(),
            };
            seen.insert(c.id, s.clone());
            fresh.push(s);
        }
        drop(seen);
        if !fresh.is_empty() {
            use std::io::Write;
            std::fs::create_dir_all(self.ledger.parent().unwrap_or(std::path::Path::new(".")))?;
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.ledger)?;
            for s in fresh {
                writeln!(f, "{}", serde_json::to_string(&s)?)?;
            }
        }
        Ok(())
    }

    /// Removes what this harness saw appear (in this invocation of `seeds`
    /// or, from the ledger, an earlier one) and is still there. Only called
    /// when none of our invocations runs: a container of a live one is not
    /// left over.
    pub fn clean(&self) -> anyhow::Result<Vec<(Container, Seen)>> {
        let mut known = read_ledger(&self.ledger).0;
        known.extend(self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone());
        let gone = leftovers(&self.docker.containers()?, &known, None);
        self.docker.remove(&gone.iter().map(|(c, _)| c.id.as_str()).collect::<Vec<_>>())?;
        Ok(gone)
    }
}

/// The ledger's entries by id, and the lines that could not be read.
pub fn read_ledger(path: &std::path::Path) -> (std::collections::BTreeMap<String, Seen>, Vec<String>) {
    let mut known = std::collections::BTreeMap::new();
    let mut bad = Vec::new();
    let text = match crate::edges::read::text_or_empty(path, crate::edges::read::SMALL) {
        Ok(t) => t,
        Err(e) => {
            bad.push(format!("{}: {e}", path.display()));
            String::new()
        }
    };
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match crate::study::json::from_str::<Seen>(line) {
            Ok(s) => {
                known.insert(s.id.clone(), s);
            }
            Err(e) => bad.push(format!("{}, line {}: {e}", path.display(), i + 1)),
        }
    }
    (known, bad)
}

/// Pure: which of the present containers the ledger says are ours
/// (optionally of one run only), each with the entry that says why.
pub fn leftovers(
    present: &[Container],
    known: &std::collections::BTreeMap<String, Seen>,
    run: Option<&str>,
) -> Vec<(Container, Seen)> {
    present
        .iter()
        .filter_map(|c| known.get(&c.id).map(|s| (c.clone(), s.clone())))
        .filter(|(_, s)| run.is_none_or(|r| s.run == r))
        .collect()
}

pub fn describe(c: &Container) -> String {
    // By characters, never by byte index: an id is whatever the docker
    // program printed, and a non-ASCII one must not panic.
    let short: String = c.id.chars().take(12).collect();
    format!("{short} {} ({}, {})", c.name, c.image, c.state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_id_is_cut_by_characters_never_by_bytes() {
        let c = |id: &str| Container { id: id.into(), name: "n".into(), image: "i".into(), state: "running".into() };
        // Twelve characters of a non-ASCII id: byte 12 falls inside one.
        assert_eq!(describe(&c("ééééééééééééé")), "éééééééééééé n (i, running)");
        assert_eq!(describe(&c("abc")), "abc n (i, running)");
    }

    fn seen(id: &str, run: &str) -> Seen {
        Seen {
            id: id.into(),
            name: format!("minisweagent-{id}"),
            image: task_image("dspy_task", 1),
            run: run.into(),
            during: "run".into(),
            seen_at: "2026-12-01T10:00:00".into(),
        }
    }

    #[test]
    fn only_what_the_ledger_names_is_a_leftover() {
        let present = parse_ps(
            "a1\tminisweagent-a1\takhatua/cooperbench-dspy:task1\trunning\n\
             b2\tminisweagent-b2\takhatua/cooperbench-dspy:task1\trunning\n\
             c3\tnifty\takhatua/cooperbench-dspy:task1\texited\n",
        );
        let known: std::collections::BTreeMap<String, Seen> =
            [seen("a1", "seed1"), seen("c3", "seed2"), seen("gone", "seed1")]
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect();
        let ids = |v: Vec<(Container, Seen)>| v.into_iter().map(|(c, _)| c.id).collect::<Vec<_>>();
        // b2 looks exactly like ours, but nobody saw it appear: it stays.
        assert_eq!(ids(leftovers(&present, &known, None)), ["a1", "c3"]);
        assert_eq!(ids(leftovers(&present, &known, Some("seed2"))), ["c3"]);
    }

    #[test]
    fn task_images_are_named_as_the_cli_names_them() {
        assert_eq!(task_image("dspy_task", 8394), "akhatua/cooperbench-dspy:task8394");
        assert_eq!(task_image("llama_index_task", 17), "akhatua/cooperbench-llama-index:task17");
    }

    #[test]
    fn only_cooperbench_containers_match() {
        let ps = "a1\tminisweagent-1a2b3c4d\tpython:3.11\trunning\n\
                  b2\tnifty_euler\takhatua/cooperbench-dspy:task8394\texited\n\
                  c3\tmy-db\tpostgres:16\trunning\n\
                  d4\tcooperbench-redis\tredis:7\trunning\n";
        let names: Vec<String> = parse_ps(ps).into_iter().filter(Container::is_cooperbench).map(|c| c.name).collect();
        assert_eq!(names, ["minisweagent-1a2b3c4d", "nifty_euler"]);
    }
}

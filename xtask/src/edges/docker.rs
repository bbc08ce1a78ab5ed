//! Docker, for what cooperbench leaves behind: eval containers (image
//! `akhatua/cooperbench-*`) and agent containers (name `minisweagent-*`),
//! both on the task's image. The harness removes only the containers that
//! carry its labels ([`Ownership`]): the CLI makes every container through
//! our proxy (`edges::docker_proxy`), which labels it with this checkout,
//! the run and the invocation. The name pattern only describes what
//! `clean-docker --all-cooperbench` may reach when asked to.

use crate::edges::short::Short;

pub use crate::study::images::{task_image, IMAGE_PREFIX};
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
#[derive(Debug, Clone)]
pub struct Docker {
    program: String,
    sh: Short,
}

/// What to do when the engine does not answer.
const ENGINE_FIX: &str = "is the Docker engine running? (`docker info` tells; start it, or choose another --backend)";

impl Docker {
    /// With a runner of its own (tests, a second program).
    pub fn new(program: impl Into<String>) -> Docker {
        Docker::with(program, Short::new())
    }

    /// With the context's runner.
    pub fn with(program: impl Into<String>, sh: Short) -> Docker {
        Docker { program: program.into(), sh }
    }

    /// The runner its commands go through (the context's, from `main`).
    pub fn sh(&self) -> &Short {
        &self.sh
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    /// The current context's endpoint (`unix:///...`, `ssh://...`), or
    /// `None` when the program cannot say (an old docker, a stand-in): then
    /// the default socket is the engine.
    pub fn context_host(&self) -> Option<String> {
        self.sh.read(&self.program, &["context", "inspect", "--format", "{{.Endpoints.docker.Host}}"], "").ok()
    }

    /// The engine's Unix socket as this program reaches it, for the proxy
    /// (`docker_proxy::upstream_from`): `DOCKER_HOST`, else the context.
    pub fn upstream(&self) -> Option<std::path::PathBuf> {
        let host = std::env::var("DOCKER_HOST").ok();
        // Only without DOCKER_HOST does the docker program follow a context.
        let context = host.as_deref().is_none_or(str::is_empty).then(|| self.context_host()).flatten();
        crate::edges::docker_proxy::upstream_from(host.as_deref(), context.as_deref())
    }

    /// Of these containers, those whose *image* carries `key=value`: a
    /// container run from an image `docker commit`ted from one of ours
    /// inherits our labels without being ours (N23). Empty when the engine
    /// cannot say (then nothing is told apart).
    pub fn with_image_label(&self, ids: &[String], key: &str, value: &str) -> Vec<String> {
        if ids.is_empty() {
            return Vec::new();
        }
        let mut args = vec!["inspect".to_string(), "--format".into(), "{{.Id}}\t{{.Image}}".into()];
        args.extend(ids.iter().cloned());
        let Ok(pairs) = self.sh.read(&self.program, &args, "") else { return Vec::new() };
        let pairs: Vec<(String, String)> =
            pairs.lines().filter_map(|l| l.split_once('\t')).map(|(c, i)| (c.to_string(), i.to_string())).collect();
        let mut images: Vec<String> = pairs.iter().map(|(_, i)| i.clone()).collect();
        images.sort();
        images.dedup();
        let mut args = vec!["image".to_string(), "inspect".into(), "--format".into()];
        args.push(format!("{{{{.Id}}}}\t{{{{index .Config.Labels {key:?}}}}}"));
        args.extend(images);
        let Ok(labels) = self.sh.read(&self.program, &args, "") else { return Vec::new() };
        let carrying: Vec<&str> =
            labels.lines().filter_map(|l| l.split_once('\t')).filter(|(_, v)| *v == value).map(|(i, _)| i).collect();
        pairs.into_iter().filter(|(_, i)| carrying.contains(&i.as_str())).map(|(c, _)| c).collect()
    }

    /// The engine's version, or why it does not answer.
    pub fn available(&self) -> anyhow::Result<String> {
        self.sh.read(&self.program, &["info", "--format", "{{.ServerVersion}}"], ENGINE_FIX)
    }

    /// Every container on the host (`docker ps -a`), whoever made it.
    pub fn containers(&self) -> anyhow::Result<Vec<Container>> {
        self.ps(&[])
    }

    /// The containers (any state) carrying this label (`key=value`).
    pub fn labelled(&self, label: &str) -> anyhow::Result<Vec<Container>> {
        self.ps(&["--filter".to_string(), format!("label={label}")])
    }

    fn ps(&self, filter: &[String]) -> anyhow::Result<Vec<Container>> {
        let mut args: Vec<String> = vec!["ps".into(), "-a".into(), "--no-trunc".into()];
        args.extend_from_slice(filter);
        args.extend(["--format".into(), "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}".into()]);
        Ok(parse_ps(&self.sh.read(&self.program, &args, ENGINE_FIX)?))
    }

    /// The image's size in bytes when it is on this host, `None` when not
    /// (`docker image inspect` fails for an absent image).
    pub fn image_size(&self, image: &str) -> anyhow::Result<Option<u64>> {
        let out =
            self.sh.output(&self.program, &["image", "inspect", "--format", "{{.Size}}", image], &[], ENGINE_FIX)?;
        if !out.success() {
            return Ok(None);
        }
        Ok(out.stdout.trim().parse().ok())
    }

    /// Each image's id and repo digests as the engine has it now (`id:
    /// None` when absent); one `image inspect` each, at once. The tag is
    /// not the image: the dataset's fix re-made images under the same tags.
    pub fn image_states(
        &self,
        images: &[String],
    ) -> anyhow::Result<std::collections::BTreeMap<String, crate::study::images::ImageState>> {
        use crate::study::images::ImageState;
        let one = |image: &String| -> anyhow::Result<ImageState> {
            // `json`, not `join`: the engine's RepoDigests is no []string to
            // its template (`join` fails: "wrong type for value").
            let args = ["image", "inspect", "--format", "{{.Id}}|{{json .RepoDigests}}", image.as_str()];
            let out = self.sh.output(&self.program, &args, &[], ENGINE_FIX)?;
            if !out.success() {
                // Absent is a state; any other failure is no answer.
                if out.stderr.contains("No such image") {
                    return Ok(ImageState { id: None, digests: Vec::new() });
                }
                anyhow::bail!("docker image inspect {image} failed: {}", out.stderr.trim());
            }
            let text = out.stdout.trim().to_string();
            let (id, digests) = text.split_once('|').unwrap_or((text.as_str(), ""));
            Ok(ImageState {
                id: Some(id.to_string()).filter(|s| !s.is_empty()),
                digests: serde_json::from_str::<Option<Vec<String>>>(digests).ok().flatten().unwrap_or_default(),
            })
        };
        let states: Vec<anyhow::Result<ImageState>> = std::thread::scope(|s| {
            let handles: Vec<_> = images.iter().map(|i| s.spawn(move || one(i))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a reader panicked"))))
                .collect()
        });
        images.iter().cloned().zip(states).map(|(i, s)| Ok((i, s?))).collect()
    }

    /// `docker pull`, its output passed through (a pull takes minutes).
    pub fn pull(&self, image: &str) -> anyhow::Result<()> {
        self.sh.run_shown(
            &self.program,
            &["pull", image],
            "can this host reach the registry, and is the name right? (the engine's words are above)",
        )
    }

    /// Removes (force) exactly these containers.
    pub fn remove(&self, ids: &[&str]) -> anyhow::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut args = vec!["rm", "-f"];
        args.extend_from_slice(ids);
        self.sh.read(&self.program, &args, ENGINE_FIX)?;
        Ok(())
    }
}

/// Which containers are ours: those carrying this checkout's label, which
/// our proxy puts on every container the CLI creates (`docker_proxy`).
/// Nothing is chosen by a name, an image or a time: another job's
/// container, on the same task image and started while ours ran, is not ours.
pub struct Ownership {
    docker: Docker,
    /// The label value naming this checkout (its identity).
    pub checkout: String,
    /// The checkout's folder, for display only (never to decide).
    pub path: String,
    /// The engine's socket the proxy forwards to: the one the harness's
    /// own `docker` calls reach ([`Docker::upstream`]).
    pub upstream: Option<std::path::PathBuf>,
}

impl Ownership {
    pub fn new(docker: &Docker, cooperbench_dir: &std::path::Path) -> Ownership {
        let path = cooperbench_dir.canonicalize().unwrap_or_else(|_| cooperbench_dir.to_path_buf());
        Ownership {
            docker: docker.clone(),
            checkout: checkout_label(cooperbench_dir),
            path: path.display().to_string(),
            upstream: docker.upstream(),
        }
    }

    /// The engine the containers run in (its images are read there).
    pub fn engine(&self) -> &Docker {
        &self.docker
    }

    /// The labels for one invocation's containers.
    pub fn labels(&self, run: &str, invocation: &str) -> std::collections::BTreeMap<String, String> {
        use crate::edges::docker_proxy::{CHECKOUT, CHECKOUT_PATH, INVOCATION, RUN};
        [(CHECKOUT, self.checkout.as_str()), (CHECKOUT_PATH, self.path.as_str()), (RUN, run), (INVOCATION, invocation)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Ours, still there (of one run only, if given).
    pub fn ours(&self, run: Option<&str>) -> anyhow::Result<Vec<Container>> {
        let mut mine = self.docker.labelled(&format!("{}={}", crate::edges::docker_proxy::CHECKOUT, self.checkout))?;
        // Labels on the image, not put there by our proxy: someone else's
        // container made from a commit of one of ours. Named, never removed.
        let ids: Vec<String> = mine.iter().map(|c| c.id.clone()).collect();
        let inherited = self.docker.with_image_label(&ids, crate::edges::docker_proxy::CHECKOUT, &self.checkout);
        if !inherited.is_empty() {
            let named: Vec<String> = mine.iter().filter(|c| inherited.contains(&c.id)).map(describe).collect();
            crate::say!(
                "not ours, though labelled: {} container(s) whose image carries our label (a `docker commit` of one of ours): {}",
                named.len(),
                named.join("; ")
            );
            mine.retain(|c| !inherited.contains(&c.id));
        }
        // The CLI's shared git daemon and Redis carry the labels of whichever
        // proxy the first coop invocation went through: still every coop
        // run's on this host (`study::shared`), never ours to remove.
        mine.retain(|c| !crate::study::shared::is_shared_container(&c.name));
        let Some(run) = run else { return Ok(mine) };
        let of_run = self.docker.labelled(&format!("{}={run}", crate::edges::docker_proxy::RUN))?;
        Ok(mine.into_iter().filter(|c| of_run.iter().any(|o| o.id == c.id)).collect())
    }

    /// Removes ours that are still there (of one run only, if given).
    /// Only called when none of our invocations runs (of that run): a
    /// container of a live one is not left over.
    pub fn clean(&self, run: Option<&str>) -> anyhow::Result<Vec<Container>> {
        let gone = self.ours(run)?;
        self.docker.remove(&gone.iter().map(|c| c.id.as_str()).collect::<Vec<_>>())?;
        Ok(gone)
    }
}

/// The label value that names a checkout: its identity
/// (`edges::identity`), which two checkouts at one path do not share.
pub fn checkout_label(cooperbench_dir: &std::path::Path) -> String {
    crate::edges::identity::checkout_id(cooperbench_dir)
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
}

//! Where the CLI's agents and graders run, as one value: Docker on this host
//! (every container the CLI makes goes through our labelling proxy, and
//! clean-up removes what carries our labels only), Modal (each seed run's
//! sandboxes in an environment of its own, terminated there only), or a
//! backend the harness cannot see into. The executor asks it three things:
//! `prepare` before an invocation, `clean_run` after one, `clean` at a stop.
//! A new backend is one more variant here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Mutex;

use crate::edges::docker::{self, Docker};
use crate::edges::docker_proxy::{self, Proxy};
use crate::edges::events::Event;
use crate::edges::modal::{self, Modal};
use crate::study::setting::Backend;

pub enum Sandboxes {
    /// Containers on this host, owned by the labels our proxy puts on them.
    Docker(docker::Ownership),
    /// Sandboxes on Modal, through the CLI's own Python and modal client.
    Modal {
        client: Modal,
        /// The study's name: a seed run's environment is
        /// `<study>-<run>-<checkout>` (`edges::modal::environment`).
        study: String,
        /// This checkout's identity (`edges::identity`).
        checkout: String,
        /// The environments made (or found) so far, each asked once.
        ready: Mutex<BTreeSet<String>>,
    },
    /// GCP, or Modal through a CLI that is no Python console script: the
    /// harness sees no sandbox, so it makes and cleans none.
    Unseen,
}

/// What an invocation needs while it runs: its environment, and the proxy
/// that must live as long as the CLI does.
pub struct Prepared {
    pub env: Vec<(String, String)>,
    pub proxy: Option<Proxy>,
}

impl Sandboxes {
    pub fn of(backend: Backend, engine: &Docker, cb: &Path, program: &Path, study: &str) -> Sandboxes {
        match backend {
            Backend::Docker => Sandboxes::Docker(docker::Ownership::new(engine, cb)),
            Backend::Modal => match Modal::of_program(program) {
                Some(client) => Sandboxes::Modal {
                    client,
                    study: study.to_string(),
                    checkout: crate::edges::identity::checkout_id(cb),
                    ready: Default::default(),
                },
                None => Sandboxes::Unseen,
            },
            Backend::Gcp => Sandboxes::Unseen,
        }
    }

    pub fn is_modal(&self) -> bool {
        matches!(self, Sandboxes::Modal { .. })
    }

    /// The Modal environment of a seed run (`None` off Modal).
    pub fn environment(&self, run: &str) -> Option<String> {
        match self {
            Sandboxes::Modal { study, checkout, .. } => Some(modal::environment(study, run, checkout)),
            _ => None,
        }
    }

    /// Before an invocation of `run` (`what` labels its containers): on
    /// Docker a proxy of its own that labels what the CLI creates; on Modal
    /// the run's environment, made when missing before the CLI first runs
    /// there.
    pub fn prepare(&self, run: &str, what: &str, label: &str) -> Result<Prepared, String> {
        match self {
            Sandboxes::Docker(d) => {
                let labels = d.labels(run, what);
                let proxy = start_proxy(&labels, d.upstream.as_deref()).map_err(|e| format!("{e:#}"))?;
                let json = serde_json::to_string(&labels).unwrap_or_default();
                let env = vec![("DOCKER_HOST".into(), proxy.docker_host()), ("XTASK_PROXY_LABELS".into(), json)];
                Ok(Prepared { env, proxy: Some(proxy) })
            }
            Sandboxes::Modal { client, study, checkout, ready } => {
                let env = modal::environment(study, run, checkout);
                let mut ready = ready.lock().unwrap_or_else(|p| p.into_inner());
                let mut vars = vec![("MODAL_ENVIRONMENT".to_string(), env.clone())];
                if !ready.contains(&env) {
                    match client.ensure(&env) {
                        Ok(created) => {
                            if created {
                                crate::say!("[{label}] modal environment {env}: created; this invocation resolves the task images afresh (MODAL_FORCE_BUILD=1)");
                                // Modal caches `Image.from_registry(tag)` once
                                // resolved, and the dataset's fix re-made images
                                // under the same tags: the client's
                                // `MODAL_FORCE_BUILD` (modal/config.py) sends
                                // `force_build` with the image request
                                // (modal/_image.py), skipping that cache.
                                vars.push(("MODAL_FORCE_BUILD".into(), "1".into()));
                            }
                            ready.insert(env.clone());
                        }
                        Err(e) => return Err(format!("modal environment {env}: {e:#}")),
                    }
                }
                Ok(Prepared { env: vars, proxy: None })
            }
            Sandboxes::Unseen => Ok(Prepared { env: Vec::new(), proxy: None }),
        }
    }

    /// A Redis of our own for one invocation of a messaging coop arm
    /// (`edges::redis`): on Docker, started from `image` with the
    /// invocation's labels; elsewhere none (the CLI's default applies).
    pub fn redis(&self, run: &str, what: &str, image: &str) -> Result<Option<crate::edges::redis::Redis>, String> {
        let Sandboxes::Docker(d) = self else { return Ok(None) };
        crate::edges::redis::Redis::start(d.engine(), image, &d.labels(run, what))
            .map(Some)
            .map_err(|e| format!("{e:#}"))
    }

    /// The task images as this backend has them now: on Docker each
    /// image's id and digests; elsewhere the references only, unverified
    /// (Modal resolves the tags in its own cloud).
    pub fn images(&self, images: &[String]) -> crate::study::images::ImagesRecord {
        use crate::study::images::{ImageState, ImagesRecord};
        let unverified = |source: &str| ImagesRecord {
            verified: false,
            source: source.to_string(),
            before: images.iter().map(|i| (i.clone(), ImageState { id: None, digests: Vec::new() })).collect(),
            after: None,
        };
        match self {
            Sandboxes::Docker(d) => match d.engine().image_states(images) {
                Ok(before) => ImagesRecord {
                    verified: true,
                    source: "the engine's image ids (docker image inspect), before the first invocation and after the last".into(),
                    before,
                    after: None,
                },
                Err(e) => unverified(&format!("the engine could not be asked: {e:#}")),
            },
            Sandboxes::Modal { .. } => unverified(
                "on Modal the tags are resolved in Modal's cloud, where no image id can be read from here; MODAL_FORCE_BUILD=1 is set on the first invocation in an environment the harness creates, so that Modal resolves them afresh (said in the output); unverified either way",
            ),
            Sandboxes::Unseen => unverified("this backend's images cannot be seen from here"),
        }
    }

    /// After an invocation of `run`: on Modal, the sandboxes the CLI left
    /// in the run's own environment (a killed child, an exception) are
    /// terminated, each named and recorded. Nothing elsewhere: Docker's
    /// clean-up waits for `clean`, when none of ours runs.
    pub fn clean_run(&self, run: &str, when: &str, label: &str, record: &dyn Fn(Event)) {
        let Sandboxes::Modal { client, study, checkout, .. } = self else { return };
        let env = modal::environment(study, run, checkout);
        match client.terminate(&env) {
            Ok(gone) if gone.is_empty() => {}
            Ok(gone) => {
                crate::say!(
                    "[{label}] modal clean-up {when}: terminated {} sandbox(es) in environment {env}",
                    gone.len()
                );
                for sb in &gone {
                    crate::say!("[{label}]   {} (app {})", sb.id, sb.app);
                }
                record(Event::ModalTerminated {
                    run: run.to_string(),
                    environment: env,
                    when: when.to_string(),
                    sandboxes: gone.into_iter().map(|s| s.id).collect(),
                });
            }
            Err(e) => {
                crate::say!("[{label}] modal clean-up {when} failed: {e:#}; see `cargo xtask clean-docker --modal`")
            }
        }
    }

    /// Everything of ours, called only when none of ours runs: on Modal
    /// every seed run's environment, each on its own; on Docker the
    /// containers that carry this checkout's label, never others.
    pub fn clean(&self, runs: &[(String, String)], when: &str, record: &dyn Fn(Event)) {
        match self {
            Sandboxes::Modal { .. } => {
                for (run, label) in runs {
                    self.clean_run(run, when, label, record);
                }
            }
            Sandboxes::Docker(_) => self.clean_docker(None, when),
            Sandboxes::Unseen => {}
        }
    }

    /// One seed run's containers left over, once none of its invocations
    /// runs (other seeds' may: theirs carry another run label). On Modal
    /// `clean_run` did it after each invocation already.
    pub fn clean_finished(&self, run: &str, when: &str) {
        self.clean_docker(Some(run), when);
    }

    fn clean_docker(&self, run: Option<&str>, when: &str) {
        let Sandboxes::Docker(d) = self else { return };
        match d.clean(run) {
            Ok(gone) if gone.is_empty() => crate::say!("docker clean-up {when}: no containers of ours"),
            Ok(gone) => {
                crate::say!("docker clean-up {when}: removed {} container(s) of ours", gone.len());
                for c in gone {
                    crate::say!("  {} (labelled {}={})", docker::describe(&c), docker_proxy::CHECKOUT, d.checkout);
                }
            }
            Err(e) => crate::say!("docker clean-up {when} failed: {e:#}; run `cargo xtask clean-docker`"),
        }
    }
}

/// A proxy for one invocation, on a socket of its own (a short path: a
/// Unix socket's is limited to 107 bytes).
fn start_proxy(labels: &BTreeMap<String, String>, upstream: Option<&Path>) -> anyhow::Result<Proxy> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if n == 0 {
        sweep_proxy_sockets();
    }
    let socket = std::env::temp_dir().join(format!("xtask-docker-{}-{n}.sock", std::process::id()));
    let upstream = upstream.ok_or_else(|| {
        anyhow::anyhow!(
            "the engine (DOCKER_HOST, or the docker context) is not a Unix socket: the CLI's containers could not be labelled"
        )
    })?;
    Proxy::start(&socket, upstream, labels.clone())
}

/// Removes the proxy sockets of harnesses that are gone (killed: no Drop
/// ran). Only names of our own making, `xtask-docker-<pid>-<n>.sock`.
fn sweep_proxy_sockets() {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("xtask-docker-").and_then(|r| r.split('-').next()) else { continue };
        let ours = name.ends_with(".sock") && pid.parse::<u32>().is_ok();
        if ours && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

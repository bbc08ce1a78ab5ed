//! The CLI's shared coop infrastructure on this host, as the engine and
//! `/proc` show it (`study::shared` decides what may go): which of it is
//! there, what could be using it, and its removal when asked by name.

use std::path::Path;

use crate::edges::docker::{Container, Docker};
use crate::study::shared::{self, Kind, Liveness};

/// Each shared thing that is there now: `(name, kind, how it is)`;
/// `containers`: the engine's, as just listed.
pub fn present(docker: &Docker, containers: &[Container]) -> Vec<(String, Kind, String)> {
    let mut found = Vec::new();
    for (name, kind, _) in shared::SHARED {
        let how = match kind {
            Kind::Container => {
                containers.iter().find(|c| c.name.trim_start_matches('/') == name).map(|c| c.state.clone())
            }
            Kind::Network => inspect(docker, "network", name),
            Kind::Volume => inspect(docker, "volume", name),
        };
        if let Some(how) = how {
            found.push((name.to_string(), kind, how));
        }
    }
    found
}

fn inspect(docker: &Docker, what: &str, name: &str) -> Option<String> {
    let out = docker.sh().output(docker.program(), &[what, "inspect", "--format", "{{.Name}}", name], &[], "").ok()?;
    out.success().then(|| "present".to_string())
}

/// What could be using the shared infrastructure now. `proc` is the
/// process table to read (`/proc`; a test gives a folder of its own).
/// `held`: checkouts a live harness holds, as the caller knows them.
pub fn liveness(docker: &Docker, proc: &Path, held: Vec<String>) -> anyhow::Result<Liveness> {
    let running =
        docker.containers()?.into_iter().filter(|c| c.state == "running").map(|c| (c.name, c.image)).collect();
    let on_network = docker
        .sh()
        .output(
            docker.program(),
            &["network", "inspect", "--format", "{{range .Containers}}{{.Name}}\n{{end}}", shared::GIT_NETWORK],
            &[],
            "",
        )
        .ok()
        .filter(|o| o.success())
        .map(|o| o.stdout.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
        .unwrap_or_default();
    Ok(Liveness { running, on_network, processes: processes(proc), held })
}

/// Processes of this host (this PID namespace) running the cooperbench CLI.
fn processes(proc: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(proc) else { return Vec::new() };
    let mut found = Vec::new();
    for e in rd.flatten() {
        let pid = e.file_name().to_string_lossy().into_owned();
        if pid.parse::<u32>().is_err() {
            continue;
        }
        let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) else { continue };
        if shared::is_cooperbench_process(&cmdline) {
            found.push(format!("{pid}: {}", String::from_utf8_lossy(&cmdline).replace('\0', " ").trim()));
        }
    }
    found.sort();
    found
}

/// Removes one shared thing by name (its kind says how).
pub fn remove(docker: &Docker, name: &str, kind: Kind) -> anyhow::Result<()> {
    let args: Vec<&str> = match kind {
        Kind::Container => vec!["rm", "-f", name],
        Kind::Network => vec!["network", "rm", name],
        Kind::Volume => vec!["volume", "rm", name],
    };
    docker.sh().read(docker.program(), &args, "is it still in use? (the engine's words say)")?;
    Ok(())
}

//! The Docker resources cooperbench leaves behind, and nothing else: eval
//! containers (image `akhatua/cooperbench-*`) and agent containers (name
//! `minisweagent-*`). `--filter ancestor=akhatua/cooperbench` matches
//! nothing, so containers are listed whole and filtered here.

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

/// The docker program; `XTASK_DOCKER` replaces it (the tests use a stub, so
/// that running them never touches a real run's containers).
pub fn program() -> String {
    std::env::var("XTASK_DOCKER").unwrap_or_else(|_| "docker".into())
}

pub fn available() -> anyhow::Result<String> {
    let sh = xshell::Shell::new()?;
    let docker = program();
    let format = "{{.ServerVersion}}";
    let out = xshell::cmd!(sh, "{docker} info --format {format}").quiet().ignore_status().output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        anyhow::bail!("{}", err.lines().find(|l| !l.trim().is_empty()).unwrap_or("docker info failed").trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

pub fn cooperbench_containers() -> anyhow::Result<Vec<Container>> {
    let sh = xshell::Shell::new()?;
    let docker = program();
    let format = "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}";
    let text =
        xshell::cmd!(sh, "{docker} ps -a --no-trunc --format {format}").quiet().read().context("docker ps failed")?;
    Ok(parse_ps(&text).into_iter().filter(Container::is_cooperbench).collect())
}

/// Removes (force) every cooperbench container; returns what went.
pub fn clean(dry_run: bool) -> anyhow::Result<Vec<Container>> {
    let found = cooperbench_containers()?;
    if !dry_run && !found.is_empty() {
        let sh = xshell::Shell::new()?;
        let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
        let docker = program();
        xshell::cmd!(sh, "{docker} rm -f {ids...}").quiet().ignore_stdout().run().context("docker rm failed")?;
    }
    Ok(found)
}

pub fn describe(c: &Container) -> String {
    format!("{} {} ({}, {})", &c.id[..c.id.len().min(12)], c.name, c.image, c.state)
}

#[cfg(test)]
mod tests {
    use super::*;

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

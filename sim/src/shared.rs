//! Containers the simulated CLI makes: an agent's left behind, and the
//! shared coop infrastructure as 0.0.29 brings it up.

use std::io::Write;

use crate::clock::Timestamp;
use crate::{hash, image_of, record, Args, Job, Knobs};

/// What 0.0.29 brings up for a coop run on Docker (`infra/redis.py`,
/// `git_servers/docker.py`): the Redis it is told of, or `cooperbench-redis`
/// when that does not answer; the one git daemon, made on first use.
pub(crate) fn shared_infrastructure(a: &Args, k: &Knobs, docker: &str) {
    let quiet = |args: &[&str]| {
        std::process::Command::new(docker)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    if a.messaging {
        if pings(&a.redis) {
            record(a, k, "redis", &format!("{} answered", a.redis));
        } else {
            quiet(&["create", "--name", "cooperbench-redis", "redis:alpine"]);
            record(a, k, "redis", &format!("{} created", a.redis));
        }
    }
    if a.git {
        let listed = quiet(&["ps", "-a", "--format", "{{.ID}}\t{{.Names}}"]).unwrap_or_default();
        if listed.lines().any(|l| l.split('\t').nth(1) == Some("cooperbench-git")) {
            record(a, k, "git", "reused");
        } else {
            quiet(&["create", "--name", "cooperbench-git", "cooperbench-git-server:local"]);
            record(a, k, "git", "created");
        }
    }
}

/// Whether a `redis://host:port` answers PING.
fn pings(url: &str) -> bool {
    use std::io::Read;
    let Some(addr) = url.strip_prefix("redis://").map(|r| r.split(['/', '#']).next().unwrap_or(r)) else {
        return false;
    };
    let addr = addr.replace("localhost", "127.0.0.1");
    let Ok(addr) = addr.parse::<std::net::SocketAddr>() else { return false };
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(1)));
    let mut buf = [0u8; 16];
    s.write_all(b"PING\r\n").is_ok() && s.read(&mut buf).is_ok_and(|n| buf[..n].starts_with(b"+PONG"))
}

/// An agent container as mini-swe-agent starts one (CONTRACT.md), left
/// behind; named in the record as `container <run> <name>`.
pub(crate) fn leave_container(a: &Args, k: &Knobs, docker: &str, j: &Job) {
    let name = format!("minisweagent-{:08x}", hash(&format!("{}:{}:{:?}", a.name, j.key(), Timestamp::now())) as u32);
    let image = image_of(j);
    let made = std::process::Command::new(docker)
        .args(["create", "--name", &name, &image, "sleep", "7200"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if made {
        record(a, k, "container", &name);
    }
}

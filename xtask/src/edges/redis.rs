//! A Redis of our own for one invocation of a messaging coop arm on Docker.
//!
//! Why ours and not the CLI's: 0.0.29 pings its `--redis` URL (default
//! `redis://localhost:6379`) and, when nothing answers, starts
//! `cooperbench-redis` for every coop run on the host (`infra/redis.py`).
//! Made through our proxy it would carry our labels, and whether to remove
//! it would depend on who else is using it. Instead each invocation gets a
//! Redis started here from the study's `redis_image`, published on a free
//! port of 127.0.0.1 only, passed as `--redis`, answering before the CLI
//! starts (so the CLI never starts its own), and removed when the
//! invocation ends; it carries the invocation's labels, so a killed
//! harness's is removed by the next clean-up like any container of ours.
//! The shared `cooperbench-redis`, if any, is never touched.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::edges::docker::Docker;

pub struct Redis {
    docker: Docker,
    pub id: String,
    /// `redis://127.0.0.1:<port>`, for `--redis`.
    pub url: String,
}

/// How long a fresh Redis may take to answer: it starts in milliseconds
/// (an image pulled on first use is here before `docker run` returns); the
/// CLI itself gives the Redis it starts five seconds.
const READY_WITHIN: Duration = Duration::from_secs(10);

impl Redis {
    /// Starts one from `image`, labelled `labels`, and waits for its PONG.
    pub fn start(docker: &Docker, image: &str, labels: &BTreeMap<String, String>) -> anyhow::Result<Redis> {
        let mut args: Vec<String> = vec!["run".into(), "-d".into()];
        for (k, v) in labels {
            args.extend(["--label".into(), format!("{k}={v}")]);
        }
        args.extend(["-p".into(), "127.0.0.1::6379".into(), image.into()]);
        let id = docker
            .sh()
            .read(docker.program(), &args, "is the image here, or can it be pulled? (the engine's words are above)")
            .with_context(|| format!("starting a Redis of our own from {image}"))?
            .trim()
            .to_string();
        let mut redis = Redis { docker: docker.clone(), id, url: String::new() };
        let port = docker.sh().read(docker.program(), &["port", &redis.id, "6379/tcp"], "")?;
        let addr = port
            .lines()
            .filter_map(|l| l.trim().parse::<SocketAddr>().ok())
            .find(|a| a.ip().is_loopback())
            .with_context(|| format!("docker port {} 6379/tcp said {port:?}: no 127.0.0.1 port", redis.id))?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            match ping(addr) {
                Ok(()) => break,
                Err(e) if Instant::now() >= deadline => {
                    bail!("the Redis of our own ({image}, {addr}) did not answer PING within {READY_WITHIN:?}: {e:#}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
        redis.url = format!("redis://{addr}");
        Ok(redis)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.docker.remove(&[self.id.as_str()]);
    }
}

/// One `PING`, answered `+PONG`.
fn ping(addr: SocketAddr) -> anyhow::Result<()> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1))?;
    s.set_read_timeout(Some(Duration::from_secs(1)))?;
    s.write_all(b"PING\r\n")?;
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf)?;
    if buf[..n].starts_with(b"+PONG") {
        Ok(())
    } else {
        bail!("answered {:?}", String::from_utf8_lossy(&buf[..n]))
    }
}

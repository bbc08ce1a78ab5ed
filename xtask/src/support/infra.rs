//! The world's stand-ins for the infrastructure a coop run uses, made
//! offline as the task images are (`world`): the CLI's git-server image
//! `cooperbench-git-server:local` (0.0.29 builds it from
//! `debian:bookworm-slim`, which no registry here can give: this machine's
//! git, bash and their libraries, with the same entry point), and a Redis
//! image from Debian's `redis-server` package and its libraries (fetched
//! with `apt-get download`, unpacked with `dpkg-deb -x`). Both carry the
//! world's label; an image of either name that is not ours is used as it
//! is, never replaced.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::Digest;

use crate::edges::docker::Docker;
use crate::support::world::{self, LABEL};

/// Our Redis image (the harness's `redis_image` in the e2e's experiment).
pub const REDIS_IMAGE: &str = "xtask-e2e/redis:local";
/// The Debian packages Redis is made of.
const REDIS_PACKAGES: [&str; 4] = ["redis-server", "redis-tools", "liblzf1", "libjemalloc2"];

/// Both images, made or reused: `(image, how)`.
pub fn build(docker: &Docker, work: &Path) -> anyhow::Result<Vec<(String, String)>> {
    Ok(vec![
        (crate::study::shared::GIT_IMAGE.to_string(), git_server(docker, &work.join("git-server"))?),
        (REDIS_IMAGE.to_string(), redis(docker, &work.join("redis"))?),
    ])
}

fn git_server(docker: &Docker, work: &Path) -> anyhow::Result<String> {
    let image = crate::study::shared::GIT_IMAGE;
    let programs: Vec<PathBuf> = world::PROGRAMS.iter().map(|p| world::which(p)).collect::<anyhow::Result<_>>()?;
    let digest = digest(&programs, "git-server 1")?;
    match world::our_image(docker, image) {
        Ok(Some(d)) if d == digest => return Ok("reused".into()),
        Ok(_) => {}
        // Someone else's: theirs to keep, and the CLI uses it as it is.
        Err(_) => return Ok("there already, not ours: used as it is".into()),
    }
    let root = work.join("rootfs");
    world::base_rootfs(&root, &programs)?;
    std::fs::create_dir_all(root.join("git"))?;
    import(
        docker,
        &root,
        image,
        &digest,
        &[
            r#"ENTRYPOINT ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack", "--base-path=/git", "--listen=0.0.0.0", "/git"]"#,
        ],
    )?;
    Ok("built".into())
}

fn redis(docker: &Docker, work: &Path) -> anyhow::Result<String> {
    let debs = work.join("debs");
    fetch_packages(&debs)?;
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&debs)?.flatten().map(|e| e.path()).collect();
    inputs.sort();
    let digest = digest(&inputs, "redis 1")?;
    match world::our_image(docker, REDIS_IMAGE) {
        Ok(Some(d)) if d == digest => return Ok("reused".into()),
        Ok(_) => {}
        Err(e) => return Err(e),
    }
    let unpacked = work.join("unpacked");
    if unpacked.exists() {
        std::fs::remove_dir_all(&unpacked)?;
    }
    for deb in &inputs {
        run(duct::cmd!("dpkg-deb", "-x", deb, &unpacked), "dpkg-deb -x")?;
    }
    let root = work.join("rootfs");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    for d in ["usr/bin", "tmp", "data", "etc"] {
        std::fs::create_dir_all(root.join(d))?;
    }
    std::os::unix::fs::symlink("usr/bin", root.join("bin"))?;
    let libs = unpacked.join("usr/lib/x86_64-linux-gnu");
    for program in ["redis-check-rdb", "redis-cli"] {
        let from = unpacked.join("usr/bin").join(program);
        std::fs::copy(&from, root.join("usr/bin").join(program)).with_context(|| format!("{}", from.display()))?;
        // Its libraries: the packages' own first, then this machine's.
        for path in world::libraries_with(&from, Some(&libs)) {
            match path.strip_prefix(&unpacked) {
                Ok(rel) => {
                    let to = root.join(rel);
                    std::fs::create_dir_all(to.parent().unwrap_or(&root))?;
                    std::fs::copy(&path, to)?;
                }
                Err(_) => world::copy_in(&root, &path)?,
            }
        }
    }
    // Debian's redis-server is a link to redis-check-rdb (one binary).
    std::os::unix::fs::symlink("redis-check-rdb", root.join("usr/bin/redis-server"))?;
    let ld = "LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu";
    import(
        docker,
        &root,
        REDIS_IMAGE,
        &digest,
        &[
            &format!("ENV {ld}"),
            r#"ENTRYPOINT ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0", "--save", "", "--appendonly", "no", "--dir", "/data"]"#,
        ],
    )?;
    Ok("built".into())
}

/// The packages' `.deb` files in `debs`, downloaded once (an `apt-get
/// update` first when the index does not know them yet).
fn fetch_packages(debs: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(debs)?;
    let have = |p: &str| {
        std::fs::read_dir(debs)
            .is_ok_and(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with(&format!("{p}_"))))
    };
    let missing: Vec<&str> = REDIS_PACKAGES.iter().copied().filter(|p| !have(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let download = || {
        duct::cmd("apt-get", ["download"].iter().chain(&missing))
            .dir(debs)
            .stdout_null()
            .stderr_capture()
            .unchecked()
            .run()
    };
    if download()?.status.success() {
        return Ok(());
    }
    let sudo: &[&str] = if unsafe { libc::geteuid() } == 0 { &[] } else { &["sudo"] };
    let update: Vec<&str> = sudo.iter().copied().chain(["apt-get", "update", "-q"]).collect();
    run(duct::cmd(update[0], &update[1..]).stdout_null(), "apt-get update")?;
    let out = download()?;
    if !out.status.success() {
        bail!(
            "apt-get download {} failed: {} (the e2e's Redis is made from Debian's packages)",
            missing.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

fn digest(inputs: &[PathBuf], what: &str) -> anyhow::Result<String> {
    let mut h = sha2::Sha256::new();
    for p in inputs {
        let m = std::fs::metadata(p)?;
        h.update(format!("{}:{}\n", p.display(), m.len()));
    }
    h.update(what);
    Ok(format!("{:x}", h.finalize())[..16].to_string())
}

fn import(docker: &Docker, root: &Path, image: &str, digest: &str, changes: &[&str]) -> anyhow::Result<()> {
    let tar = root.with_extension("tar");
    run(
        duct::cmd!("tar", "--sort=name", "--owner=0", "--group=0", "--numeric-owner", "-C", root, "-cf", &tar, "."),
        "tar",
    )?;
    let mut args: Vec<String> = vec!["import".into()];
    for c in [format!("LABEL {LABEL}=1"), format!("LABEL {LABEL}-inputs={digest}")]
        .iter()
        .map(String::as_str)
        .chain(changes.iter().copied())
    {
        args.extend(["--change".into(), c.to_string()]);
    }
    args.extend([tar.display().to_string(), image.to_string()]);
    run(duct::cmd(docker.program(), &args).stdout_null(), &format!("docker import of {image}"))?;
    std::fs::remove_file(&tar).ok();
    Ok(())
}

fn run(cmd: duct::Expression, what: &str) -> anyhow::Result<()> {
    let out = cmd.stderr_capture().unchecked().run()?;
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Removes both images when ours (by label).
pub fn remove(docker: &Docker) -> Vec<String> {
    let mut gone = Vec::new();
    for image in [crate::study::shared::GIT_IMAGE, REDIS_IMAGE] {
        if matches!(world::our_image(docker, image), Ok(Some(_)))
            && duct::cmd!(docker.program(), "rmi", image)
                .stdout_null()
                .stderr_null()
                .unchecked()
                .run()
                .is_ok_and(|o| o.status.success())
        {
            gone.push(image.to_string());
        }
    }
    gone
}

//! Exact Docker ownership: the CLI talks to the engine through this proxy
//! (its `DOCKER_HOST` is the proxy's Unix socket), which adds our labels to
//! every `POST /containers/create` and passes everything else through,
//! byte for byte, upgraded and hijacked connections (exec, attach) too.
//! Both the agent's `docker run` (the docker program) and the eval's
//! docker-py honour `DOCKER_HOST`, so every container the CLI makes carries
//! the run, the invocation and this checkout: ownership is a fact read
//! back with `docker ps --filter label=...`, not a guess from timing.
//!
//! A connection is a loop of HTTP/1.1 requests: the head is read and, for a
//! container create, the JSON body is rewritten; the response is copied as
//! its framing says (length, chunks, or to the end); a `101` switches the
//! connection to a raw copy both ways until both sides close.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The label keys the proxy sets (and clean-up filters on).
pub const CHECKOUT: &str = "xtask.checkout";
/// The checkout's folder, for a person reading `docker inspect` (ownership
/// is decided by [`CHECKOUT`], the checkout's identity, alone).
pub const CHECKOUT_PATH: &str = "xtask.checkout-path";
pub const RUN: &str = "xtask.run";
pub const INVOCATION: &str = "xtask.invocation";

/// The engine's Unix socket, as the harness's own `docker` calls reach it:
/// `DOCKER_HOST` when set, else the current context's endpoint (N27: a
/// context on another engine must not leave the proxy talking to this
/// one's default socket), else the default socket. `None`: not a Unix
/// socket (TCP, SSH), which the proxy cannot reach.
pub fn upstream_from(docker_host: Option<&str>, context_host: Option<&str>) -> Option<PathBuf> {
    match (docker_host.filter(|h| !h.is_empty()), context_host.filter(|h| !h.is_empty())) {
        (Some(h), _) | (None, Some(h)) => h.strip_prefix("unix://").map(PathBuf::from),
        (None, None) => Some(PathBuf::from("/var/run/docker.sock")),
    }
}

/// A running proxy; stopped (and its socket removed: we made it) on drop.
pub struct Proxy {
    pub socket: PathBuf,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on `socket` (made fresh) and forwards to `upstream`, adding
    /// `labels` to each container created through it.
    pub fn start(socket: &Path, upstream: &Path, labels: BTreeMap<String, String>) -> anyhow::Result<Proxy> {
        let _ = std::fs::remove_file(socket);
        let listener =
            UnixListener::bind(socket).map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", socket.display()))?;
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let (up, st) = (upstream.to_path_buf(), Arc::clone(&stop));
        let labels = Arc::new(labels);
        let accept = std::thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (up, labels) = (up.clone(), Arc::clone(&labels));
                        std::thread::spawn(move || {
                            let _ = client.set_nonblocking(false);
                            let _ = serve(client, &up, &labels);
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(20));
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            }
        });
        Ok(Proxy { socket: socket.to_path_buf(), stop, accept: Some(accept) })
    }

    /// `DOCKER_HOST` for a child that should go through the proxy.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(a) = self.accept.take() {
            let _ = a.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// A request or response head: the first line and the headers, as read.
struct Head {
    line: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn get(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
    }

    fn chunked(&self) -> bool {
        self.get("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    fn length(&self) -> Option<u64> {
        self.get("content-length").and_then(|v| v.parse().ok())
    }

    fn write(&self, w: &mut impl Write) -> std::io::Result<()> {
        let mut text = format!("{}\r\n", self.line);
        for (k, v) in &self.headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str("\r\n");
        w.write_all(text.as_bytes())
    }
}

/// `None` at a clean end of the stream (the peer closed between messages).
fn read_head(r: &mut impl BufRead) -> std::io::Result<Option<Head>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "a head cut short"));
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.to_string(), v.trim_start().to_string()));
        }
    }
    Ok(Some(Head { line: line.trim_end_matches(['\r', '\n']).to_string(), headers }))
}

/// Copies a body framed as `head` says; `to_end` when it has no framing.
fn copy_body(head: &Head, r: &mut impl BufRead, w: &mut impl Write, to_end: bool) -> std::io::Result<()> {
    if head.chunked() {
        loop {
            let mut size_line = String::new();
            r.read_line(&mut size_line)?;
            w.write_all(size_line.as_bytes())?;
            let size = u64::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    let mut t = String::new();
                    if r.read_line(&mut t)? == 0 {
                        return Ok(());
                    }
                    w.write_all(t.as_bytes())?;
                    if t.trim().is_empty() {
                        w.flush()?;
                        return Ok(());
                    }
                }
            }
            std::io::copy(&mut r.by_ref().take(size + 2), w)?;
            w.flush()?;
        }
    } else if let Some(n) = head.length() {
        std::io::copy(&mut r.by_ref().take(n), w)?;
        w.flush()
    } else if to_end {
        std::io::copy(r, w)?;
        w.flush()
    } else {
        Ok(())
    }
}

/// A whole body, decoded (for the one request the proxy rewrites).
fn read_body(head: &Head, r: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut raw = Vec::new();
    copy_body(head, r, &mut raw, false)?;
    if !head.chunked() {
        return Ok(raw);
    }
    let mut out = Vec::new();
    let mut rest = &raw[..];
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..eol])
            .ok()
            .and_then(|s| u64::from_str_radix(s.trim().split(';').next()?, 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else { break };
        let start = eol + 2;
        let end = (start + size as usize).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = &rest[(end + 2).min(rest.len())..];
    }
    Ok(out)
}

/// The create body with our labels merged into its `Labels`. The engine
/// (Go's JSON) matches field names case-insensitively, so every key that is
/// `labels` in any case is folded into one `Labels`, ours put last (they
/// win over a body's own of the same name): a body cannot keep ours off.
pub fn with_labels(body: &[u8], labels: &BTreeMap<String, String>) -> Vec<u8> {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(body) else { return body.to_vec() };
    let Some(obj) = v.as_object_mut() else { return body.to_vec() };
    let keys: Vec<String> = obj.keys().filter(|k| k.eq_ignore_ascii_case("labels")).cloned().collect();
    let mut map = serde_json::Map::new();
    for k in keys {
        if let Some(serde_json::Value::Object(theirs)) = obj.remove(&k) {
            map.extend(theirs);
        }
    }
    for (k, val) in labels {
        map.insert(k.clone(), serde_json::Value::String(val.clone()));
    }
    obj.insert("Labels".into(), serde_json::Value::Object(map));
    serde_json::to_vec(&v).unwrap_or_else(|_| body.to_vec())
}

fn is_create(line: &str) -> bool {
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    method == "POST"
        && (path == "/containers/create" || (path.ends_with("/containers/create") && path.starts_with("/v")))
}

fn serve(client: UnixStream, upstream: &Path, labels: &BTreeMap<String, String>) -> std::io::Result<()> {
    let server = UnixStream::connect(upstream)?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let mut from_server = BufReader::new(server.try_clone()?);
    let mut to_server = server;
    loop {
        let Some(mut req) = read_head(&mut from_client)? else { return Ok(()) };
        if is_create(&req.line) {
            let body = with_labels(&read_body(&req, &mut from_client)?, labels);
            req.headers.retain(|(k, _)| {
                !k.eq_ignore_ascii_case("content-length") && !k.eq_ignore_ascii_case("transfer-encoding")
            });
            req.headers.push(("Content-Length".into(), body.len().to_string()));
            req.write(&mut to_server)?;
            to_server.write_all(&body)?;
        } else {
            req.write(&mut to_server)?;
            copy_body(&req, &mut from_client, &mut to_server, false)?;
        }
        to_server.flush()?;
        let Some(resp) = read_head(&mut from_server)? else { return Ok(()) };
        resp.write(&mut to_client)?;
        let status: u16 = resp.line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let hijacked = status == 101
            || resp.get("content-type").is_some_and(|t| {
                t.starts_with("application/vnd.docker.raw-stream")
                    || t.starts_with("application/vnd.docker.multiplexed-stream")
            });
        if hijacked {
            to_client.flush()?;
            return pipe_both(from_client, to_client, from_server, to_server);
        }
        let no_body = req.line.starts_with("HEAD ") || status == 204 || status == 304 || (100..200).contains(&status);
        if !no_body {
            let framed = resp.chunked() || resp.length().is_some();
            copy_body(&resp, &mut from_server, &mut to_client, true)?;
            if !framed {
                return Ok(());
            }
        }
        to_client.flush()?;
    }
}

/// Both directions, raw, until each side has closed its half.
fn pipe_both(
    mut from_client: BufReader<UnixStream>,
    mut to_client: UnixStream,
    mut from_server: BufReader<UnixStream>,
    mut to_server: UnixStream,
) -> std::io::Result<()> {
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut from_server, &mut to_client);
    let _ = to_client.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_merged_into_a_create_body_and_nothing_else_changes() {
        let labels: BTreeMap<String, String> = [(RUN.to_string(), "s1".to_string())].into();
        let body = br#"{"Image":"x","Labels":{"keep":"me"},"Cmd":["sleep","1"]}"#;
        let v: serde_json::Value = serde_json::from_slice(&with_labels(body, &labels)).unwrap();
        assert_eq!(v["Labels"], serde_json::json!({"keep": "me", "xtask.run": "s1"}));
        assert_eq!(v["Cmd"], serde_json::json!(["sleep", "1"]));
        let v: serde_json::Value =
            serde_json::from_slice(&with_labels(br#"{"Image":"x","Labels":null}"#, &labels)).unwrap();
        assert_eq!(v["Labels"]["xtask.run"], "s1");
        assert_eq!(with_labels(b"not json", &labels), b"not json");
        // N26: a lower-case `labels` (the engine reads it as `Labels`) that
        // names our key cannot override or hide ours.
        let body = br#"{"Image":"x","labels":{"xtask.run":"theirs","keep":"me"}}"#;
        let v: serde_json::Value = serde_json::from_slice(&with_labels(body, &labels)).unwrap();
        assert_eq!(v["Labels"], serde_json::json!({"keep": "me", "xtask.run": "s1"}));
        assert!(v.get("labels").is_none(), "{v}");
        assert!(is_create("POST /v1.41/containers/create?name=minisweagent-1 HTTP/1.1"));
        assert!(is_create("POST /containers/create HTTP/1.1"));
        assert!(!is_create("POST /v1.41/containers/abc/start HTTP/1.1"));
        assert!(!is_create("GET /v1.41/containers/create HTTP/1.1"));
    }

    #[test]
    fn a_chunked_body_is_decoded() {
        let head = Head {
            line: "POST /containers/create HTTP/1.1".into(),
            headers: vec![("Transfer-Encoding".into(), "chunked".into())],
        };
        let mut r = BufReader::new(&b"5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n"[..]);
        assert_eq!(read_body(&head, &mut r).unwrap(), b"{\"a\": 1}");
    }

    #[test]
    fn the_proxy_follows_docker_host_then_the_context() {
        let sock = |p: &str| Some(PathBuf::from(p));
        assert_eq!(upstream_from(None, None), sock("/var/run/docker.sock"));
        assert_eq!(upstream_from(Some("unix:///run/a.sock"), Some("unix:///run/b.sock")), sock("/run/a.sock"));
        assert_eq!(upstream_from(None, Some("unix:///run/user/1000/docker.sock")), sock("/run/user/1000/docker.sock"));
        assert_eq!(upstream_from(None, Some("ssh://me@host")), None);
        assert_eq!(upstream_from(Some("tcp://1.2.3.4:2375"), None), None);
        assert_eq!(upstream_from(Some(""), None), sock("/var/run/docker.sock"));
    }
}

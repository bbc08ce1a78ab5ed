//! The CLI's process groups, on disk: `.harness/groups/<pgid>.json` is
//! written when an invocation starts (its group, the leader's start time,
//! the run and the command) and removed once the group is dead. A file left
//! behind means a harness died without its clean-up (kill -9): any process
//! still in that group is the CLI's work, still running and maybe paying
//! (a launcher's worker outlives the parent-death signal, which reaches
//! only the direct child). `seeds` refuses to start beside one, `status`
//! shows them, `seeds --stop-orphans` ends them.
//!
//! A process is a member when its group is the recorded one and it started
//! no earlier than the leader did (a later process reusing the number would
//! have started after the record, but then the leader's own start time no
//! longer matches and the record is stale).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::edges::layout;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub pgid: i32,
    /// The leader's start time, in clock ticks since boot (/proc stat field 22).
    pub start_ticks: u64,
    pub run: String,
    pub command: String,
    /// The harness that started it, and its start time.
    pub harness_pid: u32,
    pub harness_start_ticks: u64,
    /// Not a group read from disk but processes found by their mark
    /// ([`MARK`]) that left their group (`setsid`, `start_new_session`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub marked: bool,
}

/// The variable every CLI invocation (and so every descendant that keeps
/// its environment, whatever it does with groups and sessions) carries:
/// `<checkout id>/<harness pid>/<harness start ticks>/<run>`.
pub const MARK: &str = "XTASK_MARK";

/// The mark of an invocation by this harness.
pub fn mark(checkout: &str, run: &str) -> String {
    let me = std::process::id();
    format!("{checkout}/{me}/{}/{run}", start_ticks(me as i32).unwrap_or(0))
}

/// A mark read back: (checkout, harness pid, harness start ticks, run).
pub fn parse_mark(m: &str) -> Option<(String, u32, u64, String)> {
    let mut f = m.splitn(4, '/');
    Some((f.next()?.to_string(), f.next()?.parse().ok()?, f.next()?.parse().ok()?, f.next()?.to_string()))
}

/// A process's mark, from its environment (`None`: none, or not readable).
fn mark_of(pid: i32) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    env.split(|b| *b == 0).find_map(|kv| {
        let kv = std::str::from_utf8(kv).ok()?;
        kv.strip_prefix(MARK)?.strip_prefix('=').map(String::from)
    })
}

/// Whether a process carries this checkout's mark.
fn carries(pid: i32, checkout: &str) -> bool {
    mark_of(pid).and_then(|m| parse_mark(&m)).is_some_and(|(c, ..)| c == checkout)
}

/// A process whose environment can be read and holds no mark of ours: not
/// ours. (One that cannot be read, as while it exits, is unknown.)
fn foreign(pid: i32, checkout: &str) -> bool {
    match std::fs::read(format!("/proc/{pid}/environ")) {
        Ok(env) if !env.is_empty() => !carries(pid, checkout),
        _ => false,
    }
}

/// The processes carrying this checkout's mark whose harness is gone, by
/// (harness, run) (pure: from processes and their marks). `known` are the
/// pids already found in a recorded group.
pub fn marked_orphans(checkout: &str, procs: &[(Proc, Option<String>)], known: &[i32]) -> Vec<(Record, Vec<Proc>)> {
    let alive = |pid: u32, ticks: u64| procs.iter().any(|(p, _)| p.pid == pid as i32 && p.start_ticks == ticks);
    let mut by: std::collections::BTreeMap<(u32, u64, String), Vec<Proc>> = Default::default();
    for (p, m) in procs {
        let Some((c, hpid, hticks, run)) = m.as_deref().and_then(parse_mark) else { continue };
        if c != checkout || matches!(p.state, 'Z' | 'X') || known.contains(&p.pid) || alive(hpid, hticks) {
            continue;
        }
        by.entry((hpid, hticks, run)).or_default().push(p.clone());
    }
    by.into_iter()
        .map(|((harness_pid, harness_start_ticks, run), ps)| {
            let command = "left its process group".to_string();
            (Record { pgid: 0, start_ticks: 0, run, command, harness_pid, harness_start_ticks, marked: true }, ps)
        })
        .collect()
}

fn dir(cooperbench_dir: &Path) -> PathBuf {
    layout::harness_dir(cooperbench_dir).join("groups")
}

fn path(cooperbench_dir: &Path, pgid: i32) -> PathBuf {
    dir(cooperbench_dir).join(format!("{pgid}.json"))
}

/// Writes the record of a group just started.
pub fn record(cooperbench_dir: &Path, r: &Record) -> std::io::Result<()> {
    std::fs::create_dir_all(dir(cooperbench_dir))?;
    crate::edges::write::replace(
        &path(cooperbench_dir, r.pgid),
        serde_json::to_string(r).map_err(std::io::Error::other)?.as_bytes(),
    )
}

/// The group is dead: its record goes (it is ours: we wrote it).
pub fn forget(cooperbench_dir: &Path, pgid: i32) {
    let _ = std::fs::remove_file(path(cooperbench_dir, pgid));
}

/// One process as /proc says: its group, parent and start time.
#[derive(Debug, Clone, PartialEq)]
pub struct Proc {
    pub pid: i32,
    /// `R`, `S`, `T` (stopped), `Z` (a zombie: dead, not yet reaped) ...
    pub state: char,
    pub ppid: i32,
    pub pgid: i32,
    pub start_ticks: u64,
    pub command: String,
}

/// Fields of /proc/<pid>/stat after the command name (which may hold
/// spaces and parentheses: the last `)` ends it).
pub fn parse_stat(pid: i32, stat: &str, command: String) -> Option<Proc> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // rest starts at field 3 (state): ppid is field 4, pgrp 5, starttime 22.
    Some(Proc {
        pid,
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        pgid: f.get(2)?.parse().ok()?,
        start_ticks: f.get(19)?.parse().ok()?,
        command,
    })
}

pub fn processes() -> Vec<Proc> {
    let Ok(rd) = std::fs::read_dir("/proc") else { return Vec::new() };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ").trim().to_string();
            parse_stat(pid, &stat, cmd)
        })
        .collect()
}

/// The start time of one process, for its record.
pub fn start_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &stat, String::new()).map(|p| p.start_ticks)
}

/// Whether a record can name a group of ours at all: a process group id
/// above 1 (0 and 1 are the kernel's and init's; a negative number would
/// make `kill(-pgid)` signal the single process `pgid`).
pub fn plausible(r: &Record) -> bool {
    r.pgid > 1
}

/// The live members of a recorded group (pure: from a list of processes).
pub fn members<'a>(r: &Record, procs: &'a [Proc]) -> Vec<&'a Proc> {
    if !plausible(r) {
        return Vec::new();
    }
    // A live process with the leader's number but another start time is
    // someone else's: the record is stale, and nothing in it is ours.
    if procs.iter().any(|p| p.pid == r.pgid && p.start_ticks != r.start_ticks) {
        return Vec::new();
    }
    // A zombie runs nothing and pays nothing (its reaper may be slow: in a
    // container, pid 1 often reaps nothing).
    procs
        .iter()
        .filter(|p| p.pgid == r.pgid && p.start_ticks >= r.start_ticks && !matches!(p.state, 'Z' | 'X'))
        .collect()
}

/// Every recorded group with live members whose harness is gone; records
/// whose groups are all gone are removed.
pub fn orphans(cooperbench_dir: &Path) -> Vec<(Record, Vec<Proc>)> {
    let procs = processes();
    let mut out = Vec::new();
    let ours = crate::edges::identity::checkout_id(cooperbench_dir);
    let records = std::fs::read_dir(dir(cooperbench_dir)).into_iter().flatten().flatten();
    for e in records {
        let Ok(Some(bytes)) = crate::edges::read::bytes(&e.path(), crate::edges::read::SMALL) else { continue };
        let Ok(r) = serde_json::from_slice::<Record>(&bytes) else { continue };
        // A record no harness could have written (pgid 0, 1 or negative) is
        // reported and ignored, never signalled; it is not ours to remove.
        if !plausible(&r) {
            crate::say!("ignored {}: pgid {} names no group of ours", e.path().display(), r.pgid);
            continue;
        }
        // A live harness's groups are its own (status shows them as it runs).
        let harness = r.harness_pid as i32;
        if procs.iter().any(|p| p.pid == harness && p.start_ticks == r.harness_start_ticks) {
            continue;
        }
        // A member is trusted only when it carries this checkout's mark:
        // whatever else is in the group now is reported and ignored.
        let (others, live): (Vec<Proc>, Vec<Proc>) =
            members(&r, &procs).into_iter().cloned().partition(|p| foreign(p.pid, &ours));
        if !others.is_empty() {
            let pids: Vec<String> = others.iter().map(|p| p.pid.to_string()).collect();
            crate::say!("ignored in group {}: pid(s) {} without this checkout's mark", r.pgid, pids.join(", "));
        }
        if live.is_empty() {
            forget(cooperbench_dir, r.pgid);
        } else {
            out.push((r, live));
        }
    }
    out.sort_by_key(|(r, _)| r.pgid);
    // Then what left its group: found by the mark it inherited.
    let known: Vec<i32> = out.iter().flat_map(|(_, ps)| ps.iter().map(|p| p.pid)).collect();
    let me = std::process::id() as i32;
    let marked: Vec<(Proc, Option<String>)> =
        procs.into_iter().filter(|p| p.pid != me).map(|p| (p.clone(), mark_of(p.pid))).collect();
    out.extend(marked_orphans(&ours, &marked, &known));
    out
}

/// One line per orphan group, with its processes.
pub fn describe(orphans: &[(Record, Vec<Proc>)]) -> Vec<String> {
    orphans
        .iter()
        .map(|(r, ps)| {
            let who: Vec<String> = ps.iter().map(|p| format!("pid {} `{}`", p.pid, cut(&p.command, 100))).collect();
            if r.marked {
                return format!(
                    "process(es) of run {} that left their group, carrying this checkout's mark (started by harness pid {}, gone): {}",
                    r.run,
                    r.harness_pid,
                    who.join(", ")
                );
            }
            format!("group {} of run {} (started by harness pid {}): {}", r.pgid, r.run, r.harness_pid, who.join(", "))
        })
        .collect()
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).collect::<String>() + "…"
    }
}

/// Before taking the lock (an orphan may hold it: a launcher that keeps
/// descriptors passes it on): with `stop`, shows and ends the orphans;
/// without, returns what to add to a refusal.
pub fn before_lock(cooperbench_dir: &Path, stop_them: bool) -> Option<String> {
    let found = orphans(cooperbench_dir);
    if found.is_empty() {
        return None;
    }
    let lines = describe(&found);
    if stop_them {
        for l in &lines {
            crate::say!("stopping, left running by a killed harness: {l}");
        }
        stop(cooperbench_dir, &found);
        return None;
    }
    Some(format!("left running by a killed harness: {}; `--stop-orphans` ends it", lines.join("; ")))
}

/// SIGTERM to each group (continued first, were it stopped), then SIGKILL
/// to what is left after 5 s; the records go.
pub fn stop(cooperbench_dir: &Path, orphans: &[(Record, Vec<Proc>)]) {
    // One by one, never by group: each process still the one found (same
    // pid and start time) and still carrying this checkout's mark when
    // signalled; a group's members listed afresh for each signal (one may
    // have started since), each checked the same way.
    let ours = crate::edges::identity::checkout_id(cooperbench_dir);
    let targets = || -> Vec<Proc> {
        let procs = processes();
        let mut out: Vec<Proc> = Vec::new();
        for (r, listed) in orphans {
            let now: Vec<Proc> = if r.marked {
                listed
                    .iter()
                    .filter(|p| procs.iter().any(|q| q.pid == p.pid && q.start_ticks == p.start_ticks))
                    .cloned()
                    .collect()
            } else {
                members(r, &procs).into_iter().cloned().collect()
            };
            // Ours by its mark, or the recorded leader itself (pid and
            // start time as recorded) while its environment cannot be read.
            let leader = |p: &Proc| !r.marked && p.pid == r.pgid && p.start_ticks == r.start_ticks;
            out.extend(
                now.into_iter()
                    .filter(|p| carries(p.pid, &ours) || (leader(p) && !foreign(p.pid, &ours)))
                    .filter(|p| !matches!(p.state, 'Z' | 'X')),
            );
        }
        out
    };
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        for p in targets() {
            // SAFETY: kill(2) on a process checked just now: ours by its
            // pid, start time and mark.
            unsafe {
                libc::kill(p.pid, libc::SIGCONT);
                libc::kill(p.pid, sig);
            }
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !targets().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    for (r, _) in orphans.iter().filter(|(r, _)| !r.marked && plausible(r)) {
        forget(cooperbench_dir, r.pgid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_are_read_past_a_command_with_spaces() {
        let stat = "4242 (python3 (x) y) S 4000 4100 4100 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 0 0";
        let p = parse_stat(4242, stat, "python3".into()).unwrap();
        assert_eq!((p.state, p.ppid, p.pgid, p.start_ticks), ('S', 4000, 4100, 987654));
        let me = start_ticks(std::process::id() as i32).unwrap();
        assert!(me > 0);
    }

    #[test]
    fn members_are_the_groups_processes_and_a_reused_leader_number_is_not_ours() {
        let r = Record {
            pgid: 100,
            start_ticks: 500,
            run: "s1".into(),
            command: "cooperbench run".into(),
            harness_pid: 1,
            harness_start_ticks: 1,
            marked: false,
        };
        let p = |pid, pgid, start| Proc { pid, state: 'S', ppid: 1, pgid, start_ticks: start, command: String::new() };
        // The leader died; its worker lives on in the group; a zombie is no one.
        let zombie = Proc { state: 'Z', ..p(102, 100, 520) };
        let procs = [p(101, 100, 510), p(200, 200, 10), zombie];
        assert_eq!(members(&r, &procs).iter().map(|p| p.pid).collect::<Vec<_>>(), [101]);
        // Pid 100 now belongs to a process started later: a stale record.
        let procs = [p(100, 100, 9000), p(101, 100, 9001)];
        assert!(members(&r, &procs).is_empty());
        // The leader itself, still alive.
        assert_eq!(members(&r, &[p(100, 100, 500)]).len(), 1);
        // N36: pgid 0 would be PID 1 and kernel threads, -5 the single
        // process 5: never a group of ours, whatever /proc says.
        for bad in [0, 1, -5] {
            let r = Record { pgid: bad, ..r.clone() };
            assert!(!plausible(&r));
            assert!(members(&r, &[p(1, 0, 600), p(5, bad, 700), p(2, 0, 600)]).is_empty(), "pgid {bad}");
        }
    }

    /// N5, N6: a worker that left the CLI's group (`start_new_session`)
    /// is found by the mark it inherited, once its harness is gone; a live
    /// harness's, another checkout's, a zombie and a process already found
    /// in a recorded group are not.
    #[test]
    fn processes_that_left_their_group_are_found_by_their_mark() {
        let p = |pid, pgid, start| Proc { pid, state: 'S', ppid: 1, pgid, start_ticks: start, command: "w".into() };
        let ours = "c0ffee";
        let procs = vec![
            (p(10, 10, 100), None),                                  // the live harness
            (p(20, 20, 300), Some("c0ffee/9/50/seed1".to_string())), // harness 9 is gone
            (p(21, 21, 301), Some("c0ffee/9/50/seed1".to_string())),
            (p(22, 22, 302), Some("c0ffee/10/100/seed2".to_string())), // its harness lives
            (p(23, 23, 303), Some("beef/9/50/seed1".to_string())),     // another checkout's
            (Proc { state: 'Z', ..p(24, 24, 304) }, Some("c0ffee/9/50/seed1".to_string())),
            (p(25, 25, 305), Some("c0ffee/9/50/seed1".to_string())), // in a recorded group
        ];
        let found = marked_orphans(ours, &procs, &[25]);
        assert_eq!(found.len(), 1);
        let (r, ps) = &found[0];
        assert!(r.marked && !plausible(r) && r.run == "seed1" && r.harness_pid == 9);
        assert_eq!(ps.iter().map(|p| p.pid).collect::<Vec<_>>(), [20, 21]);
        assert_eq!(parse_mark("a/1/2/run/with/slash"), Some(("a".into(), 1, 2, "run/with/slash".into())));
        assert!(describe(&found)[0].contains("left their group"));
    }
}

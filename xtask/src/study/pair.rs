//! A feature pair, the unit of the benchmark: `repo/task_id/fA_fB`.

use std::fmt;

/// Features are kept sorted (`a < b`), as the CLI names its folders.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PairId {
    pub repo: String,
    pub task_id: u64,
    pub a: u32,
    pub b: u32,
}

impl PairId {
    pub fn new(repo: &str, task_id: u64, f1: u32, f2: u32) -> PairId {
        let (a, b) = if f1 <= f2 { (f1, f2) } else { (f2, f1) };
        PairId { repo: repo.to_string(), task_id, a, b }
    }

    /// The folder name the CLI writes: `f3_f4`.
    pub fn folder(&self) -> String {
        format!("f{}_f{}", self.a, self.b)
    }

    /// Path of the pair's folder under `logs/<run>/<setting>/`.
    pub fn rel_dir(&self) -> String {
        format!("{}/{}/{}", self.repo, self.task_id, self.folder())
    }

    /// Parses a folder name such as `f3_f4` (in either order) into features.
    pub fn parse_folder(name: &str) -> Option<(u32, u32)> {
        let (x, y) = name.split_once('_')?;
        let x = x.strip_prefix('f')?.parse().ok()?;
        let y = y.strip_prefix('f')?.parse().ok()?;
        Some((x, y))
    }

    /// Parses `repo/task_id/fA_fB`.
    pub fn parse(s: &str) -> Option<PairId> {
        let mut parts = s.split('/');
        let repo = parts.next()?;
        let task_id = parts.next()?.parse().ok()?;
        let (a, b) = PairId::parse_folder(parts.next()?)?;
        if parts.next().is_some() || repo.is_empty() {
            return None;
        }
        Some(PairId::new(repo, task_id, a, b))
    }
}

impl fmt::Display for PairId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.repo, self.task_id, self.folder())
    }
}

impl serde::Serialize for PairId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_sorted_and_round_trip() {
        let p = PairId::new("dspy_task", 8394, 4, 3);
        assert_eq!(p.to_string(), "dspy_task/8394/f3_f4");
        assert_eq!(PairId::parse("dspy_task/8394/f4_f3"), Some(p));
        assert_eq!(PairId::parse("dspy_task/x/f3_f4"), None);
        assert_eq!(PairId::parse_folder("f10_f2"), Some((10, 2)));
        assert_eq!(PairId::parse_folder("task3"), None);
    }
}

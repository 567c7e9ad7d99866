//! Saved bisect progress (one JSON file per repo/good/bad/rules, rewritten atomically after
//! every step) and the JSON-lines step log.

use super::search::Mark;
use crate::error::Error;
pub use crate::model::bisect::StepRecord;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Bumped when the file layout changes; older files are ignored (the bisect starts over).
pub const STATE_VERSION: u32 = 1;

/// Everything needed to resume a bisect without redoing finished steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BisectState {
    pub version: u32,
    pub key: String,
    pub repo: PathBuf,
    pub good: String,
    pub bad: String,
    pub first_parent: bool,
    pub candidates: Vec<String>,
    pub steps: Vec<StepRecord>,
    /// Building and running the good end.
    #[serde(default)]
    pub good_cost: super::real::GoodCost,
    /// Seconds spent in earlier sessions (so the report covers the whole bisect).
    #[serde(default)]
    pub elapsed_seconds: f64,
}

impl BisectState {
    pub fn new(key: String, repo: PathBuf, good: String, bad: String, first_parent: bool) -> Self {
        BisectState {
            version: STATE_VERSION,
            key,
            repo,
            good,
            bad,
            first_parent,
            candidates: Vec::new(),
            steps: Vec::new(),
            good_cost: Default::default(),
            elapsed_seconds: 0.0,
        }
    }

    /// Known mark per candidate, in candidate order.
    pub fn marks(&self) -> Vec<Option<Mark>> {
        let mut marks = vec![None; self.candidates.len()];
        for step in &self.steps {
            if let Some(m) = marks.get_mut(step.index) {
                *m = Some(step.mark);
            }
        }
        marks
    }

    pub fn step_for(&self, index: usize) -> Option<&StepRecord> {
        self.steps.iter().rev().find(|s| s.index == index)
    }
}

/// The state key: a hash over everything that changes what a step's verdict means.
pub fn state_key(parts: &[String]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(&h.finalize()[..12])
}

/// `<cache>/bisect/<key>.json`.
pub fn state_path(cache: &Path, key: &str) -> PathBuf {
    cache.join("bisect").join(format!("{key}.json"))
}

/// Held while a bisect runs: a second identical bisect would overwrite the same state.
pub fn lock_exclusive(state_path: &Path) -> anyhow::Result<std::fs::File> {
    let lock_path = state_path.with_extension("lock");
    if let Some(dir) = lock_path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = crate::output::open_lock(&lock_path)
        .with_context(|| format!("creating {}", lock_path.display()))?;
    file.try_lock().map_err(|_| {
        Error::input(format!(
            "another bisect with the same arguments is running (lock: {})",
            lock_path.display()
        ))
    })?;
    Ok(file)
}

/// Loads saved state if it exists and matches `key`; a mismatched or older file is ignored.
pub fn load(path: &Path, key: &str) -> anyhow::Result<Option<BisectState>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::input(format!("reading {}: {e}", path.display())).into()),
    };
    let state: BisectState = match serde_json::from_str(&text) {
        Ok(s) => s,
        Err(e) => {
            return Err(Error::at_line(
                path,
                e.line(),
                format!("corrupt bisect state ({e}); delete it or rerun with --fresh"),
            )
            .into())
        }
    };
    Ok((state.version == STATE_VERSION && state.key == key).then_some(state))
}

/// Writes the state with a rename, so an interrupted write leaves the previous state.
pub fn save(path: &Path, state: &BisectState) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    serde_json::to_writer_pretty(&mut tmp, state)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// One line of the `--log` file.
#[derive(Debug, Serialize)]
pub struct LogLine<'a> {
    pub time: String,
    #[serde(flatten)]
    pub step: &'a StepRecord,
    pub subject: &'a str,
}

/// Appends one JSON line per step to the `--log` file.
pub struct StepLog {
    file: Option<(std::fs::File, std::path::PathBuf)>,
}

impl StepLog {
    /// Opens the log for appending; it must not be one of `inputs`.
    pub fn open(path: Option<&Path>, inputs: &[&Path]) -> anyhow::Result<Self> {
        let file = match path {
            None => None,
            Some(p) => Some((crate::output::open_append(p, inputs)?, p.to_path_buf())),
        };
        Ok(StepLog { file })
    }

    pub fn record(&mut self, step: &StepRecord, subject: &str) -> anyhow::Result<()> {
        let Some((file, path)) = self.file.as_ref() else {
            return Ok(());
        };
        let line = LogLine {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            step,
            subject,
        };
        let mut text = serde_json::to_string(&line)?;
        text.push('\n');
        crate::output::append_whole(file, text.as_bytes(), path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn step(index: usize, mark: Mark) -> StepRecord {
        StepRecord {
            commit: format!("c{index}"),
            index,
            mark,
            repeats: 3,
            builds: 1,
            build_seconds: 1.5,
            run_seconds: 2.0,
            reason: None,
            violations: vec![],
            metrics: IndexMap::new(),
        }
    }

    #[test]
    fn save_then_load_round_trips_and_checks_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = state_path(dir.path(), "k1");
        let mut s = BisectState::new("k1".into(), "/r".into(), "g".into(), "b".into(), false);
        s.candidates = vec!["c0".into(), "c1".into(), "c2".into()];
        s.steps.push(step(1, Mark::Skip));
        save(&path, &s).unwrap();
        assert_eq!(load(&path, "k1").unwrap(), Some(s.clone()));
        assert_eq!(load(&path, "other").unwrap(), None);
        assert_eq!(s.marks(), vec![None, Some(Mark::Skip), None]);
    }

    #[test]
    fn second_lock_on_the_same_state_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = state_path(dir.path(), "k");
        let held = lock_exclusive(&path).unwrap();
        let err = lock_exclusive(&path).unwrap_err();
        assert!(err.to_string().contains("another bisect"), "{err}");
        drop(held);
        lock_exclusive(&path).unwrap();
    }

    #[test]
    fn corrupt_state_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        std::fs::write(&path, "{\n not json").unwrap();
        let err = load(&path, "k").unwrap_err();
        assert!(err.to_string().contains("x.json:2"), "{err}");
    }

    #[test]
    fn log_appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.jsonl");
        let mut log = StepLog::open(Some(&path), &[]).unwrap();
        log.record(&step(0, Mark::Good), "first").unwrap();
        log.record(&step(1, Mark::Bad), "second").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["mark"], "bad");
        assert_eq!(lines[1]["subject"], "second");
        assert_eq!(lines[0]["build_seconds"], 1.5);
    }

    #[test]
    fn key_depends_on_every_part() {
        let a = state_key(&["x".into(), "yz".into()]);
        let b = state_key(&["xy".into(), "z".into()]);
        assert_ne!(a, b);
    }
}

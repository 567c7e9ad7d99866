//! A test evaluator that builds nothing: each commit carries its verdict in a file, so the
//! whole bisect command (state, resume, log, report, exit codes) can be tested in seconds.

use super::{Evaluation, StepEvaluator, StepOutcome, Violation};
use crate::error::Error;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Reads `<commit>:<file>`; its first word decides: `good`, `bad`, `skip`, `inconclusive`,
/// `flaky` (inconclusive below 6 repeats, then bad) or `abort-once` (fails the first time,
/// like an interrupted run, then good). Every call is appended to
/// `<cache>/bisect/scripted-calls.log` so tests can count evaluations.
pub struct ScriptedEvaluator {
    repo: PathBuf,
    file: String,
    calls_log: PathBuf,
    marker_dir: PathBuf,
    seen: HashSet<String>,
}

impl ScriptedEvaluator {
    pub fn new(repo: &Path, file: &str, cache: &Path) -> Self {
        ScriptedEvaluator {
            repo: repo.to_path_buf(),
            file: file.to_string(),
            calls_log: cache.join("bisect").join("scripted-calls.log"),
            marker_dir: cache.join("bisect"),
            seen: HashSet::new(),
        }
    }
}

impl StepEvaluator for ScriptedEvaluator {
    fn evaluate(&mut self, commit: &str, repeats: u32) -> anyhow::Result<Evaluation> {
        std::fs::create_dir_all(&self.marker_dir)?;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.calls_log)?;
        writeln!(log, "{commit} {repeats}")?;
        let out = Command::new("git")
            .arg("-C")
            .arg(&self.repo)
            .arg("show")
            .arg(format!("{commit}:{}", self.file))
            .output()?;
        if !out.status.success() {
            return Err(Error::input(format!("{commit} has no {}", self.file)).into());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let word = text.split_whitespace().next().unwrap_or("");
        let bad = || StepOutcome::Bad {
            violations: vec![Violation {
                rule: "scripted".into(),
                metric: "scripted.verdict".into(),
                good: 0.0,
                bad: 1.0,
                interval: Some([0.5, 1.5]),
                message: String::new(),
            }],
        };
        let outcome = match word {
            "good" => StepOutcome::Good,
            "bad" => bad(),
            "skip" => StepOutcome::Skip {
                reason: "build failed (scripted)".into(),
            },
            "inconclusive" => StepOutcome::Inconclusive {
                reason: "scripted".into(),
            },
            "flaky" if repeats < 6 => StepOutcome::Inconclusive {
                reason: "scripted".into(),
            },
            "flaky" => bad(),
            "abort-once" => {
                let marker = self.marker_dir.join(format!("scripted-aborted-{commit}"));
                if !marker.exists() {
                    std::fs::write(&marker, "")?;
                    anyhow::bail!("scripted interruption at {commit}");
                }
                StepOutcome::Good
            }
            other => {
                return Err(Error::input(format!(
                    "{commit}:{}: unknown verdict `{other}`",
                    self.file
                ))
                .into())
            }
        };
        let builds = u32::from(self.seen.insert(commit.to_string()));
        Ok(Evaluation {
            builds,
            build_seconds: 0.0,
            run_seconds: 0.0,
            ..Evaluation::of(outcome)
        })
    }
}

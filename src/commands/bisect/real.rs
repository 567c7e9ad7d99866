//! The real evaluator: build each commit incrementally, run the corpus, gate against the
//! good end's stats, which are built and run once and reused by every step.
//!
//! The caching and failure-to-skip logic lives in [`CachingEvaluator`], generic over a
//! [`Toolchain`] (build, run, judge), so it is tested without compiling CPython.

use super::{Evaluation, MetricValue, StepEvaluator, StepOutcome};
use crate::cli::{BisectArgs, BisectStepArgs, GateOpts};
use crate::error::{exit_code_for, EXIT_BUILD_OR_RUN};
use crate::exec::builder::BuildConfig;
use crate::exec::runner::RunConfig;
use anyhow::Context;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What the real evaluator needs from the command line.
#[derive(Debug, Clone)]
pub struct EvaluatorOptions {
    pub rules_only: Vec<String>,
    pub gate: GateOpts,
    pub run: RunConfig,
    pub build: BuildConfig,
}

impl EvaluatorOptions {
    pub fn from_bisect(a: &BisectArgs) -> Self {
        EvaluatorOptions {
            rules_only: a.rules_only.clone(),
            gate: a.gate.clone(),
            run: (&a.run).into(),
            build: (&a.build).into(),
        }
    }
    pub fn from_step(a: &BisectStepArgs) -> Self {
        EvaluatorOptions {
            rules_only: a.rules_only.clone(),
            gate: a.gate.clone(),
            run: (&a.run).into(),
            build: (&a.build).into(),
        }
    }
}

/// A built interpreter as the evaluator sees it.
#[derive(Debug, Clone)]
pub struct Built {
    pub python: PathBuf,
    pub build_seconds: f64,
    pub cached: bool,
}

/// The gate's answer for one pair of stats sets.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// `Good`, `Bad` or `Inconclusive`.
    pub outcome: StepOutcome,
    pub metrics: IndexMap<String, MetricValue>,
}

/// Build, run and judge. `Err` carrying `Error::Build`/`Error::Run` means the commit could
/// not be built or run; any other error is a setup problem.
pub trait Toolchain {
    fn build(&mut self, commit: &str) -> anyhow::Result<Built>;
    fn run(&mut self, python: &Path, repeats: u32, out: &Path) -> anyhow::Result<()>;
    fn judge(&mut self, good_set: &Path, head_set: &Path) -> anyhow::Result<Judgement>;
}

/// Cost of preparing the good end (belongs to no step).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GoodCost {
    pub builds: u32,
    pub build_seconds: f64,
    pub run_seconds: f64,
}

impl GoodCost {
    pub fn add(&mut self, other: GoodCost) {
        self.builds += other.builds;
        self.build_seconds += other.build_seconds;
        self.run_seconds += other.run_seconds;
    }
}

/// Evaluates commits against the good end, caching the good build, and every stats set
/// under `work` (`good/r<N>`, `steps/<commit>/r<N>`), so resumed bisects rerun nothing.
pub struct CachingEvaluator<T: Toolchain> {
    toolchain: T,
    good: String,
    work: PathBuf,
    good_python: Option<PathBuf>,
    pending_good_cost: GoodCost,
}

impl<T: Toolchain> CachingEvaluator<T> {
    pub fn new(toolchain: T, good: &str, work: &Path) -> Self {
        CachingEvaluator {
            toolchain,
            good: good.to_string(),
            work: work.to_path_buf(),
            good_python: None,
            pending_good_cost: GoodCost::default(),
        }
    }

    fn good_python(&mut self) -> anyhow::Result<PathBuf> {
        if let Some(p) = &self.good_python {
            return Ok(p.clone());
        }
        let built = self
            .toolchain
            .build(&self.good)
            .with_context(|| format!("building the good end {}", short(&self.good)))?;
        if !built.cached {
            self.pending_good_cost.builds += 1;
        }
        self.pending_good_cost.build_seconds += built.build_seconds;
        self.good_python = Some(built.python.clone());
        Ok(built.python)
    }

    /// Runs into `dir` unless a finished set is already there; returns seconds spent.
    fn run_cached(&mut self, python: &Path, repeats: u32, dir: &Path) -> anyhow::Result<f64> {
        if dir.is_dir() {
            return Ok(0.0);
        }
        let tmp = dir.with_extension("partial");
        let _ = std::fs::remove_dir_all(&tmp);
        if let Some(parent) = tmp.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let started = Instant::now();
        self.toolchain.run(python, repeats, &tmp)?;
        crate::output::publish_dir(&tmp, dir)
            .with_context(|| format!("publishing {}", dir.display()))?;
        Ok(started.elapsed().as_secs_f64())
    }
}

/// A one-line reason for a skip: the error's first line, the first compiler-style `error:`
/// line of a quoted log, and where the full log is.
fn reason_of(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let mut lines = text.lines().map(str::trim);
    let mut out = clip(lines.next().unwrap_or(""), 200);
    if let Some(e) = text
        .lines()
        .skip(1)
        .map(str::trim)
        .find(|l| l.contains("error:"))
    {
        out.push_str(": ");
        out.push_str(&clip(e, 200));
    }
    if let Some(log) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("--- full log: "))
        .map(|l| l.trim_end_matches(" ---"))
    {
        out.push_str(&format!(" (log: {log})"));
    }
    out
}

fn clip(line: &str, max: usize) -> String {
    let mut out: String = line.chars().take(max).collect();
    if out.len() < line.len() {
        out.push_str("...");
    }
    out
}

fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

/// True for errors that mean "this commit cannot be built or run".
fn is_build_or_run(err: &anyhow::Error) -> bool {
    exit_code_for(err) == EXIT_BUILD_OR_RUN
}

impl<T: Toolchain> StepEvaluator for CachingEvaluator<T> {
    fn evaluate(&mut self, commit: &str, repeats: u32) -> anyhow::Result<Evaluation> {
        let good_python = self.good_python()?;
        let good_set = self.work.join("good").join(format!("r{repeats}"));
        let good_run_seconds = self
            .run_cached(&good_python, repeats, &good_set)
            .with_context(|| format!("running the corpus on the good end {}", short(&self.good)))?;
        self.pending_good_cost.run_seconds += good_run_seconds;

        let mut ev = Evaluation::of(StepOutcome::Good);
        let build_started = Instant::now();
        let built = match self.toolchain.build(commit) {
            Ok(b) => b,
            Err(e) if is_build_or_run(&e) => {
                // A failed build still ran make: it counts and its time is spent.
                ev.builds = 1;
                ev.build_seconds = build_started.elapsed().as_secs_f64();
                ev.outcome = StepOutcome::Skip {
                    reason: format!("build failed: {}", reason_of(&e)),
                };
                return Ok(ev);
            }
            Err(e) => return Err(e),
        };
        ev.builds = u32::from(!built.cached);
        ev.build_seconds = built.build_seconds;
        let head_set = self
            .work
            .join("steps")
            .join(commit)
            .join(format!("r{repeats}"));
        match self.run_cached(&built.python, repeats, &head_set) {
            Ok(s) => ev.run_seconds = s,
            Err(e) if is_build_or_run(&e) => {
                ev.outcome = StepOutcome::Skip {
                    reason: format!("corpus failed: {}", reason_of(&e)),
                };
                return Ok(ev);
            }
            Err(e) => return Err(e),
        }
        let judgement = self.toolchain.judge(&good_set, &head_set)?;
        ev.outcome = judgement.outcome;
        ev.metrics = judgement.metrics;
        Ok(ev)
    }

    fn take_good_cost(&mut self) -> GoodCost {
        std::mem::take(&mut self.pending_good_cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// Pretends to build and run; the "regression" is any commit named in `bad`.
    #[derive(Default)]
    struct FakeToolchain {
        broken: Vec<String>,
        crashing: Vec<String>,
        bad: Vec<String>,
        builds: Vec<String>,
        runs: Vec<PathBuf>,
        built_before: Vec<String>,
    }

    impl Toolchain for FakeToolchain {
        fn build(&mut self, commit: &str) -> anyhow::Result<Built> {
            self.builds.push(commit.to_string());
            if self.broken.iter().any(|b| b == commit) {
                return Err(Error::Build(format!(
                    "make failed for {commit}\n--- last lines ---\nx.c:1:1: error: bad\n--- full log: /l/{commit}.log ---"
                ))
                .into());
            }
            let cached = self.built_before.contains(&commit.to_string());
            self.built_before.push(commit.to_string());
            Ok(Built {
                python: PathBuf::from(format!("/py/{commit}")),
                build_seconds: if cached { 0.0 } else { 10.0 },
                cached,
            })
        }
        fn run(&mut self, python: &Path, _repeats: u32, out: &Path) -> anyhow::Result<()> {
            self.runs.push(out.to_path_buf());
            let commit = python.file_name().unwrap().to_string_lossy().to_string();
            if self.crashing.contains(&commit) {
                return Err(Error::Run(format!("{commit}: benchmark crashed")).into());
            }
            std::fs::create_dir_all(out)?;
            std::fs::write(out.join("commit"), commit)?;
            Ok(())
        }
        fn judge(&mut self, _good: &Path, head: &Path) -> anyhow::Result<Judgement> {
            let commit = std::fs::read_to_string(head.join("commit"))?;
            let outcome = if self.bad.contains(&commit) {
                StepOutcome::Bad { violations: vec![] }
            } else {
                StepOutcome::Good
            };
            Ok(Judgement {
                outcome,
                metrics: IndexMap::new(),
            })
        }
    }

    #[test]
    fn good_end_is_built_and_run_once_and_failures_skip() {
        let work = tempfile::tempdir().unwrap();
        let tc = FakeToolchain {
            broken: vec!["b1".into()],
            crashing: vec!["c1".into()],
            bad: vec!["x".into()],
            ..Default::default()
        };
        let mut ev = CachingEvaluator::new(tc, "g", work.path());
        let a = ev.evaluate("a", 3).unwrap();
        assert_eq!(a.outcome, StepOutcome::Good);
        assert_eq!((a.builds, a.build_seconds), (1, 10.0));
        assert_eq!(ev.take_good_cost().builds, 1);
        let x = ev.evaluate("x", 3).unwrap();
        assert!(matches!(x.outcome, StepOutcome::Bad { .. }));
        match ev.evaluate("b1", 3).unwrap().outcome {
            StepOutcome::Skip { reason } => {
                assert_eq!(
                    reason,
                    "build failed: make failed for b1: x.c:1:1: error: bad (log: /l/b1.log)"
                )
            }
            other => panic!("{other:?}"),
        }
        match ev.evaluate("c1", 3).unwrap().outcome {
            StepOutcome::Skip { reason } => assert!(reason.starts_with("corpus failed: c1")),
            other => panic!("{other:?}"),
        }
        // More repeats: the good end runs again (new set), but is not rebuilt.
        ev.evaluate("a", 6).unwrap();
        assert_eq!(ev.take_good_cost().builds, 0);
        let tc = &ev.toolchain;
        assert_eq!(tc.builds.iter().filter(|b| *b == "g").count(), 1);
        let good_runs = tc
            .runs
            .iter()
            .filter(|r| r.to_string_lossy().contains("/good/"))
            .count();
        assert_eq!(good_runs, 2, "{:?}", tc.runs);
    }

    #[test]
    fn finished_sets_are_reused_by_a_new_evaluator() {
        let work = tempfile::tempdir().unwrap();
        let mut ev = CachingEvaluator::new(FakeToolchain::default(), "g", work.path());
        ev.evaluate("a", 3).unwrap();
        let mut again = CachingEvaluator::new(FakeToolchain::default(), "g", work.path());
        again.evaluate("a", 3).unwrap();
        assert!(
            again.toolchain.runs.is_empty(),
            "{:?}",
            again.toolchain.runs
        );
    }

    #[test]
    fn good_end_failing_aborts() {
        let work = tempfile::tempdir().unwrap();
        let tc = FakeToolchain {
            broken: vec!["g".into()],
            ..Default::default()
        };
        let mut ev = CachingEvaluator::new(tc, "g", work.path());
        let err = ev.evaluate("a", 3).unwrap_err();
        assert_eq!(exit_code_for(&err), EXIT_BUILD_OR_RUN);
        assert!(format!("{err:#}").contains("building the good end g"));
    }
}

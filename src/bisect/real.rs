//! The real evaluator: build each commit incrementally, run the corpus, gate against the
//! good end's stats (built and run once, reused by every step).

use super::{Evaluation, StepEvaluator};
use crate::cli::{BisectArgs, BisectStepArgs, BuildOpts, GateOpts, RunOpts};
use std::path::{Path, PathBuf};

/// What the real evaluator needs from the command line.
#[derive(Debug, Clone)]
pub struct EvaluatorOptions {
    pub rules_only: Vec<String>,
    pub gate: GateOpts,
    pub run: RunOpts,
    pub build: BuildOpts,
}

impl EvaluatorOptions {
    pub fn from_bisect(a: &BisectArgs) -> Self {
        EvaluatorOptions {
            rules_only: a.rules_only.clone(),
            gate: a.gate.clone(),
            run: a.run.clone(),
            build: a.build.clone(),
        }
    }
    pub fn from_step(a: &BisectStepArgs) -> Self {
        EvaluatorOptions {
            rules_only: a.rules_only.clone(),
            gate: a.gate.clone(),
            run: a.run.clone(),
            build: a.build.clone(),
        }
    }
}

pub struct RealEvaluator {
    #[allow(dead_code)]
    work: PathBuf,
}

impl RealEvaluator {
    pub fn new(
        _repo: &Path,
        _good: &str,
        work: &Path,
        _opts: EvaluatorOptions,
    ) -> anyhow::Result<Self> {
        crate::not_yet("bisect with real builds (needs builder/runner/verdict)")?;
        Ok(RealEvaluator {
            work: work.to_path_buf(),
        })
    }
}

impl StepEvaluator for RealEvaluator {
    fn evaluate(&mut self, _commit: &str, _repeats: u32) -> anyhow::Result<Evaluation> {
        unreachable!()
    }
}

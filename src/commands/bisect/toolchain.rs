//! The real [`Toolchain`]: the builder's cached incremental builds, the corpus runner and the
//! gate's verdict.

use super::real::{Built, EvaluatorOptions, Judgement, Toolchain};
use super::{MetricValue, StepOutcome, Violation};
use crate::cli::InputOpts;
use crate::error::Error;
use crate::gate::evaluate;
use crate::gate::report_model::{EvalOptions, Verdict};
use crate::stats::raw::ParseOptions;
use crate::stats::set::StatsSet;
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

pub struct RealToolchain {
    repo: PathBuf,
    opts: EvaluatorOptions,
}

impl RealToolchain {
    pub fn new(repo: &Path, opts: EvaluatorOptions) -> anyhow::Result<Self> {
        // Fail on a bad rules file or an unknown --rule before anything is built.
        let meta = crate::stats::metadata::Metadata::embedded("3.13").map_err(Error::input)?;
        let eval = crate::commands::eval_options(&opts.gate, meta.clone(), meta)?;
        select_rules(eval, &opts.rules_only)?;
        Ok(RealToolchain {
            repo: repo.to_path_buf(),
            opts,
        })
    }
}

/// Keeps only the rules named by `--rule` (all when none is named).
fn select_rules(mut eval: EvalOptions, names: &[String]) -> anyhow::Result<EvalOptions> {
    if names.is_empty() {
        return Ok(eval);
    }
    let known: Vec<String> = eval.rules.rules.iter().map(|r| r.name.clone()).collect();
    for n in names {
        if !known.contains(n) {
            return Err(Error::input(format!(
                "--rule {n}: no such rule (known: {})",
                known.join(", ")
            ))
            .into());
        }
    }
    eval.rules.rules.retain(|r| names.contains(&r.name));
    Ok(eval)
}

impl Toolchain for RealToolchain {
    fn build(&mut self, commit: &str) -> anyhow::Result<Built> {
        let b = crate::exec::builder::build_revision(&self.repo, commit, &self.opts.build)?;
        Ok(Built {
            python: b.python,
            // A cached result carries the time of the build that made it: none spent now.
            build_seconds: if b.cached { 0.0 } else { b.build_seconds },
            cached: b.cached,
        })
    }

    fn run(&mut self, python: &Path, repeats: u32, out: &Path) -> anyhow::Result<()> {
        let mut run = self.opts.run.clone();
        run.repeats = repeats;
        crate::exec::runner::run_corpus(python, &run, out, self.opts.build.quiet)?;
        Ok(())
    }

    fn judge(&mut self, good_set: &Path, head_set: &Path) -> anyhow::Result<Judgement> {
        let base = StatsSet::load(good_set, ParseOptions::default())?;
        let head = StatsSet::load(head_set, ParseOptions::default())?;
        let input = InputOpts::default();
        let meta_base = crate::commands::metadata_for(&base, &input)?;
        let meta_head = crate::commands::metadata_for(&head, &input)?;
        let eval = select_rules(
            crate::commands::eval_options(&self.opts.gate, meta_base, meta_head)?,
            &self.opts.rules_only,
        )?;
        let report = evaluate::evaluate(&base, &head, &eval)?;
        let mut metrics = IndexMap::new();
        for o in report.failing().chain(report.inconclusive()) {
            metrics.insert(
                o.metric.clone(),
                MetricValue {
                    good: o.base,
                    head: o.head,
                },
            );
        }
        let outcome = match report.verdict {
            Verdict::Pass => StepOutcome::Good,
            Verdict::Regression => StepOutcome::Bad {
                violations: report
                    .failing()
                    .map(|o| Violation {
                        rule: o.rule.clone(),
                        metric: o.metric.clone(),
                        good: o.base,
                        bad: o.head,
                        interval: Some([o.ci_low, o.ci_high]),
                        message: o.reason.to_string(),
                    })
                    .collect(),
            },
            Verdict::Inconclusive => StepOutcome::Inconclusive {
                reason: report
                    .inconclusive()
                    .map(|o| format!("{} on {}", o.rule, o.metric))
                    .collect::<Vec<_>>()
                    .join(", "),
            },
            Verdict::Error => StepOutcome::Skip {
                reason: format!(
                    "untrustworthy stats: {}",
                    report
                        .notes
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            },
        };
        Ok(Judgement { outcome, metrics })
    }
}

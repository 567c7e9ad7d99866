//! `bisect` and `bisect-step`: find the first commit at which the gate, comparing against the
//! good commit's stats, fails.
//!
//! The pieces: [`search`] (pure choice of the next commit), [`state`] (resumable progress and
//! the step log), [`StepEvaluator`] (how one commit is judged: the real one builds and runs,
//! [`scripted`] reads a verdict file from the commit for fast tests), and the report (its
//! model in [`crate::model::bisect`], rendered by [`crate::report::bisect`]).

pub mod git;
pub mod real;
pub mod scripted;
pub mod search;
pub mod state;
pub mod toolchain;

use crate::cli::{BisectArgs, BisectFormat, BisectStepArgs, RunOpts};
use crate::error::{Error, EXIT_BUILD_OR_RUN, EXIT_INPUT, EXIT_PASS};
pub use crate::model::bisect::{
    BisectReport, BisectStatus, MetricValue, SkippedCommit, StepSummary, Violation,
};
use crate::report::bisect::{render_json, render_text, step_line, violation_line};
use indexmap::IndexMap;
use search::{Conclusion, Mark, Next};
use state::{BisectState, StepLog, StepRecord};
use std::path::Path;
use std::time::Instant;

/// `git bisect run` exit codes.
pub const STEP_GOOD: i32 = 0;
pub const STEP_BAD: i32 = 1;
pub const STEP_SKIP: i32 = 125;
/// Makes `git bisect run` stop: used for problems that are not the tested commit's fault
/// (bad options, the good commit failing), which must never be taken for "bad".
pub const STEP_ABORT: i32 = 128;

/// The gate's three-state verdict for one commit, plus "could not be judged".
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    Good,
    Bad { violations: Vec<Violation> },
    Inconclusive { reason: String },
    Skip { reason: String },
}

/// What one evaluation of a commit produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub outcome: StepOutcome,
    /// Builds that actually ran (0 when cached), including the good end's on first use.
    pub builds: u32,
    pub build_seconds: f64,
    pub run_seconds: f64,
    pub metrics: IndexMap<String, MetricValue>,
}

impl Evaluation {
    pub fn of(outcome: StepOutcome) -> Self {
        Evaluation {
            outcome,
            builds: 0,
            build_seconds: 0.0,
            run_seconds: 0.0,
            metrics: IndexMap::new(),
        }
    }
}

/// Judges one commit against the good end. `Err` aborts the bisect (bad options, the good
/// end failing); a commit that fails to build or run is `Skip`, not an error.
pub trait StepEvaluator {
    fn evaluate(&mut self, commit: &str, repeats: u32) -> anyhow::Result<Evaluation>;

    /// Cost of preparing the good end since the last call (it belongs to no step).
    fn take_good_cost(&mut self) -> real::GoodCost {
        real::GoodCost::default()
    }
}

/// How many repeats a step starts with and how far inconclusive steps may grow.
#[derive(Debug, Clone, Copy)]
pub struct RepeatPolicy {
    pub initial: u32,
    pub max: u32,
}

impl RepeatPolicy {
    /// Repeat counts tried in turn: initial, 2*initial, ... capped at max.
    pub fn schedule(&self) -> Vec<u32> {
        let initial = self.initial.max(1);
        let max = self.max.max(initial);
        let mut out = vec![initial];
        while *out.last().unwrap() < max {
            out.push((out.last().unwrap() + initial).min(max));
        }
        out
    }
}

/// Evaluates one commit to a mark, adding repeats while the gate is inconclusive.
pub fn decide_step(
    eval: &mut dyn StepEvaluator,
    commit: &str,
    index: usize,
    policy: RepeatPolicy,
) -> anyhow::Result<StepRecord> {
    let mut record = StepRecord {
        commit: commit.to_string(),
        index,
        mark: Mark::Skip,
        repeats: 0,
        builds: 0,
        build_seconds: 0.0,
        run_seconds: 0.0,
        reason: None,
        violations: Vec::new(),
        metrics: IndexMap::new(),
    };
    for repeats in policy.schedule() {
        let ev = eval.evaluate(commit, repeats)?;
        record.repeats = repeats;
        record.builds += ev.builds;
        record.build_seconds += ev.build_seconds;
        record.run_seconds += ev.run_seconds;
        record.metrics = ev.metrics;
        match ev.outcome {
            StepOutcome::Good => {
                record.mark = Mark::Good;
                return Ok(record);
            }
            StepOutcome::Bad { violations } => {
                record.mark = Mark::Bad;
                record.violations = violations;
                return Ok(record);
            }
            StepOutcome::Skip { reason } => {
                record.reason = Some(reason);
                return Ok(record);
            }
            StepOutcome::Inconclusive { reason } => {
                record.reason = Some(format!("inconclusive after {repeats} repeats: {reason}"));
            }
        }
    }
    Ok(record)
}

/// Runs the search to its end from whatever `state` already knows; `after_step` runs after
/// every new step (persist the state, write the log, show progress).
pub fn drive(
    state: &mut BisectState,
    eval: &mut dyn StepEvaluator,
    policy: RepeatPolicy,
    after_step: &mut dyn FnMut(&BisectState, &StepRecord) -> anyhow::Result<()>,
) -> anyhow::Result<Conclusion> {
    loop {
        match search::next_step(&state.marks()) {
            Next::Done(c) => return Ok(c),
            Next::Test(i) => {
                let commit = state.candidates[i].clone();
                let record = decide_step(eval, &commit, i, policy)?;
                state.good_cost.add(eval.take_good_cost());
                state.steps.push(record.clone());
                after_step(state, &record)?;
            }
        }
    }
}

/// Assembles the report from the final state (describing commits with git).
pub fn build_report(
    repo: &Path,
    state: &BisectState,
    conclusion: &Conclusion,
) -> anyhow::Result<BisectReport> {
    let info = |c: &str| git::describe(repo, c);
    let at = |i: usize| info(&state.candidates[i]);
    let marks = state.marks();
    let (status, exit_code) = match conclusion {
        Conclusion::FirstBad(_) => (BisectStatus::Found, EXIT_PASS),
        Conclusion::Ambiguous(_) => (BisectStatus::Ambiguous, EXIT_BUILD_OR_RUN),
        Conclusion::BadEndIsGood => (BisectStatus::NoRegression, EXIT_INPUT),
    };
    let (first_bad, first_bad_step) = match conclusion {
        Conclusion::FirstBad(i) => (Some(at(*i)?), state.step_for(*i)),
        _ => (None, None),
    };
    let possible_first_bad = match conclusion {
        Conclusion::Ambiguous(set) => set.iter().map(|&i| at(i)).collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let mut skipped = Vec::new();
    for (i, m) in marks.iter().enumerate() {
        if *m == Some(Mark::Skip) {
            let reason = state
                .step_for(i)
                .and_then(|s| s.reason.clone())
                .unwrap_or_default();
            skipped.push(SkippedCommit {
                commit: at(i)?,
                reason,
            });
        }
    }
    let good_after_bad = search::anomalies(&marks)
        .good_after_bad
        .into_iter()
        .map(at)
        .collect::<Result<_, _>>()?;
    let mut steps = Vec::new();
    for s in &state.steps {
        steps.push(StepSummary {
            commit: info(&s.commit)?,
            mark: s.mark,
            repeats: s.repeats,
            builds: s.builds,
            build_seconds: s.build_seconds,
            run_seconds: s.run_seconds,
        });
    }
    let sum = |f: fn(&StepRecord) -> f64| state.steps.iter().map(f).sum::<f64>();
    Ok(BisectReport {
        status,
        good: info(&state.good)?,
        bad: info(&state.bad)?,
        first_bad_unverified: first_bad_step.map_or(first_bad.is_some(), |s| s.mark != Mark::Bad),
        first_bad,
        violations: first_bad_step
            .map(|s| s.violations.clone())
            .unwrap_or_default(),
        metrics: first_bad_step
            .map(|s| s.metrics.clone())
            .unwrap_or_default(),
        possible_first_bad,
        skipped,
        good_after_bad,
        candidates: state.candidates.len(),
        evaluations: state.steps.len(),
        builds: state.good_cost.builds + state.steps.iter().map(|s| s.builds).sum::<u32>(),
        build_budget: search::ceil_log2(state.candidates.len()) + 2,
        build_seconds: state.good_cost.build_seconds + sum(|s| s.build_seconds),
        run_seconds: state.good_cost.run_seconds + sum(|s| s.run_seconds),
        elapsed_seconds: state.elapsed_seconds,
        steps,
        exit_code,
    })
}

/// A step needs the whole selected corpus: a shard would judge part of it.
fn reject_shard(run: &RunOpts) -> anyhow::Result<()> {
    match &run.shard {
        Some(s) => Err(Error::input(format!(
            "--shard {s}: bisect judges every commit on the whole selected corpus; use --bench to select benchmarks"
        ))
        .into()),
        None => Ok(()),
    }
}

/// `--accept` makes no sense per step: an acceptance matching nothing is an error, and a
/// good commit matches nothing by definition.
fn reject_accept(gate: &crate::cli::GateOpts) -> anyhow::Result<()> {
    match gate.accept.first() {
        Some(a) => Err(Error::input(format!(
            "--accept {a:?}: bisect looks for the commit that breaks a rule; choose the rules with --rule instead"
        ))
        .into()),
        None => Ok(()),
    }
}

/// Resolves `rev`, mapping failure to bad input.
fn resolve_or_input(repo: &Path, rev: &str, what: &str) -> anyhow::Result<String> {
    git::resolve(repo, rev).map_err(|e| Error::input(format!("--{what}: {e}")).into())
}

/// Everything identifying a bisect's state file besides the commits.
fn key_parts(args: &BisectArgs, repo: &Path, good: &str, bad: &str) -> anyhow::Result<Vec<String>> {
    let rules_text = match &args.gate.rules {
        Some(p) => crate::text::read_input(p)
            .map_err(|e| Error::input(format!("cannot read rules file {}: {e}", p.display())))?,
        None => String::new(),
    };
    Ok(vec![
        repo.display().to_string(),
        good.to_string(),
        bad.to_string(),
        args.first_parent.to_string(),
        args.rules_only.join("\n"),
        rules_text,
        format!(
            "{}|{}|{}|{}",
            args.gate.alpha, args.gate.fail_on_warn, args.gate.strict, args.max_repeats
        ),
        format!(
            "{}|{}|{:?}",
            args.run.repeats, args.run.corpus, args.run.benches
        ),
        args.build.configure_flags.join("\n"),
        args.test_verdict_file.clone().unwrap_or_default(),
        corpus_key(&args.run, args.test_verdict_file.is_none())?,
    ])
}

/// The corpus's content hash for a cache key (for `real` evaluations): a corpus edited
/// between sessions must not reuse stats sets the old corpus produced.
fn corpus_key(run: &RunOpts, real: bool) -> anyhow::Result<String> {
    if !real {
        return Ok(String::new());
    }
    Ok(crate::exec::corpus::Corpus::load(&run.corpus, None)?.hash)
}

/// The options bisect refuses (`--shard`, `--accept`), then `--repo` made absolute.
fn checked_repo(
    repo: &Path,
    run: &RunOpts,
    gate: &crate::cli::GateOpts,
) -> anyhow::Result<std::path::PathBuf> {
    reject_shard(run)?;
    reject_accept(gate)?;
    std::fs::canonicalize(repo)
        .map_err(|e| Error::input(format!("--repo {}: {e}", repo.display())).into())
}

/// The repository and the good and bad ends, resolved and checked: two different commits,
/// good an ancestor of bad.
fn resolve_range(args: &BisectArgs) -> anyhow::Result<(std::path::PathBuf, String, String)> {
    let repo = checked_repo(&args.repo, &args.run, &args.gate)?;
    let good = resolve_or_input(&repo, &args.good, "good")?;
    let bad = resolve_or_input(&repo, &args.bad, "bad")?;
    if good == bad {
        return Err(Error::input(format!(
            "--good {} and --bad {} are the same commit: nothing to bisect",
            args.good, args.bad
        ))
        .into());
    }
    if !git::is_ancestor(&repo, &good, &bad)? {
        return Err(Error::input(format!(
            "--good {} is not an ancestor of --bad {}",
            args.good, args.bad
        ))
        .into());
    }
    Ok((repo, good, bad))
}

/// The saved state when it is for these candidates (and not `--fresh`), else a new one.
fn open_state(
    args: &BisectArgs,
    state_path: &Path,
    key: &str,
    (repo, good, bad): (&Path, &str, &str),
    candidates: Vec<String>,
) -> anyhow::Result<BisectState> {
    match (args.fresh, state::load(state_path, key)?) {
        (false, Some(s)) if s.candidates == candidates => {
            eprintln!(
                "bisect: resuming from {} ({} step(s) done)",
                state_path.display(),
                s.steps.len()
            );
            Ok(s)
        }
        _ => {
            let mut s = BisectState::new(
                key.to_string(),
                repo.to_path_buf(),
                good.to_string(),
                bad.to_string(),
                args.first_parent,
            );
            s.candidates = candidates;
            Ok(s)
        }
    }
}

/// The scripted evaluator under `--test-verdict-file`, else real builds cached under the
/// bisect's own work directory (emptied by `--fresh`).
fn bisect_evaluator(
    args: &BisectArgs,
    repo: &Path,
    good: &str,
    cache: &Path,
    key: &str,
) -> anyhow::Result<Box<dyn StepEvaluator>> {
    match &args.test_verdict_file {
        Some(file) => Ok(Box::new(scripted::ScriptedEvaluator::new(
            repo, file, cache,
        ))),
        None => {
            let work = cache.join("bisect").join(key);
            if args.fresh {
                let _ = std::fs::remove_dir_all(&work);
            }
            real_evaluator(repo, good, &work, real::EvaluatorOptions::from_bisect(args))
        }
    }
}

/// Renders the report in `--format` to `--output` or stdout.
fn write_report(args: &BisectArgs, report: &BisectReport) -> anyhow::Result<()> {
    let text = match args.format {
        BisectFormat::Json => render_json(report)?,
        BisectFormat::Text => render_text(report),
    };
    match &args.output {
        Some(p) => {
            let mut read = args.gate.input_files();
            read.extend(args.log.as_deref());
            crate::output::write_file(p, text.as_bytes(), &read, args.force)
        }
        None => crate::output::print(&text),
    }
}

pub fn cmd_bisect(args: &BisectArgs) -> anyhow::Result<i32> {
    let started = Instant::now();
    let (repo, good, bad) = resolve_range(args)?;
    let candidates = git::candidates(&repo, &good, &bad, args.first_parent)?;
    let cache = crate::exec::cache::cache_root(args.build.cache_dir.as_deref());
    let key = state::state_key(&key_parts(args, &repo, &good, &bad)?);
    let state_path = state::state_path(&cache, &key);
    let _running = state::lock_exclusive(&state_path)?;
    let ends = (repo.as_path(), good.as_str(), bad.as_str());
    let mut st = open_state(args, &state_path, &key, ends, candidates)?;
    state::save(&state_path, &st)?;
    eprintln!(
        "bisect: {} candidate(s) after {}, state in {}",
        st.candidates.len(),
        &good[..12],
        state_path.display()
    );
    let policy = RepeatPolicy {
        initial: args.run.repeats,
        max: args.max_repeats,
    };
    let mut evaluator = bisect_evaluator(args, &repo, &good, &cache, &key)?;
    let mut log = StepLog::open(args.log.as_deref(), &args.gate.input_files())?;
    let session_start = st.elapsed_seconds;
    let mut after_step = |s: &BisectState, rec: &StepRecord| -> anyhow::Result<()> {
        let mut s = s.clone();
        s.elapsed_seconds = session_start + started.elapsed().as_secs_f64();
        state::save(&state_path, &s)?;
        let subject = git::describe(&repo, &rec.commit)?.subject;
        log.record(rec, &subject)?;
        eprintln!("{}", step_line(s.steps.len(), rec, &subject));
        Ok(())
    };
    let conclusion = drive(&mut st, evaluator.as_mut(), policy, &mut after_step)?;
    st.elapsed_seconds = session_start + started.elapsed().as_secs_f64();
    state::save(&state_path, &st)?;
    let report = build_report(&repo, &st, &conclusion)?;
    write_report(args, &report)?;
    Ok(report.exit_code)
}

/// Maps one commit's mark to `git bisect run`'s exit codes.
pub fn step_exit_code(mark: Mark) -> i32 {
    match mark {
        Mark::Good => STEP_GOOD,
        Mark::Bad => STEP_BAD,
        Mark::Skip => STEP_SKIP,
    }
}

pub fn cmd_bisect_step(args: &BisectStepArgs) -> anyhow::Result<i32> {
    match bisect_step(args) {
        Ok(code) => Ok(code),
        Err(err) => {
            // Any exit code 1..=127 would mark the commit bad: a broken setup must stop the
            // bisect instead.
            eprintln!("error: {err:#}");
            eprintln!("bisect-step: aborting `git bisect run` (exit {STEP_ABORT})");
            Ok(STEP_ABORT)
        }
    }
}

fn bisect_step(args: &BisectStepArgs) -> anyhow::Result<i32> {
    let repo = checked_repo(&args.repo, &args.run, &args.gate)?;
    let good = resolve_or_input(&repo, &args.good, "good")?;
    let rev = resolve_or_input(&repo, &args.rev, "rev")?;
    if rev == good {
        return Ok(STEP_GOOD);
    }
    let cache = crate::exec::cache::cache_root(args.build.cache_dir.as_deref());
    let policy = RepeatPolicy {
        initial: args.run.repeats,
        max: args.max_repeats,
    };
    let mut evaluator: Box<dyn StepEvaluator> = match &args.test_verdict_file {
        Some(file) => Box::new(scripted::ScriptedEvaluator::new(&repo, file, &cache)),
        None => {
            let key = state::state_key(&[
                repo.display().to_string(),
                good.clone(),
                format!(
                    "{}|{}|{:?}",
                    args.run.repeats, args.run.corpus, args.run.benches
                ),
                args.build.configure_flags.join("\n"),
                corpus_key(&args.run, true)?,
            ]);
            real_evaluator(
                &repo,
                &good,
                &cache.join("bisect").join(format!("step-{key}")),
                real::EvaluatorOptions::from_step(args),
            )?
        }
    };
    let record = decide_step(evaluator.as_mut(), &rev, 0, policy)?;
    let subject = git::describe(&repo, &rev)?.subject;
    eprintln!("{}", step_line(1, &record, &subject));
    for v in &record.violations {
        eprintln!("{}", violation_line(v));
    }
    Ok(step_exit_code(record.mark))
}

/// The evaluator for real builds of `repo`, caching stats sets under `work`.
pub fn real_evaluator(
    repo: &Path,
    good: &str,
    work: &Path,
    opts: real::EvaluatorOptions,
) -> anyhow::Result<Box<dyn StepEvaluator>> {
    let toolchain = toolchain::RealToolchain::new(repo, opts)?;
    Ok(Box::new(real::CachingEvaluator::new(toolchain, good, work)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An evaluator with a fixed answer per commit; counts calls.
    struct Table {
        answers: IndexMap<String, Vec<StepOutcome>>,
        calls: Vec<(String, u32)>,
    }

    impl StepEvaluator for Table {
        fn evaluate(&mut self, commit: &str, repeats: u32) -> anyhow::Result<Evaluation> {
            self.calls.push((commit.to_string(), repeats));
            let list = self.answers.get_mut(commit).expect("unexpected commit");
            let outcome = if list.len() > 1 {
                list.remove(0)
            } else {
                list[0].clone()
            };
            Ok(Evaluation {
                builds: 1,
                ..Evaluation::of(outcome)
            })
        }
    }

    /// Truth-table evaluator for property tests: bad from `first_bad` on, `skips` skipped.
    struct Truth {
        first_bad: usize,
        skips: Vec<bool>,
        evaluated: usize,
    }

    impl StepEvaluator for Truth {
        fn evaluate(&mut self, commit: &str, _repeats: u32) -> anyhow::Result<Evaluation> {
            self.evaluated += 1;
            let i: usize = commit[1..].parse().unwrap();
            Ok(Evaluation::of(if self.skips[i] {
                StepOutcome::Skip {
                    reason: "broken".into(),
                }
            } else if i >= self.first_bad {
                StepOutcome::Bad { violations: vec![] }
            } else {
                StepOutcome::Good
            }))
        }
    }

    proptest::proptest! {
        #[test]
        fn interrupting_anywhere_and_resuming_changes_nothing(
            n in 1usize..48,
            f_frac in 0.0f64..1.0,
            skips in proptest::collection::vec(proptest::bool::weighted(0.2), 48),
            stop_after in 0usize..8,
        ) {
            let first_bad = ((n as f64 * f_frac) as usize).min(n - 1);
            let p = RepeatPolicy { initial: 2, max: 2 };
            let fresh_state = || {
                let mut st = BisectState::new("k".into(), "/r".into(), "g".into(), "b".into(), false);
                st.candidates = (0..n).map(|i| format!("c{i}")).collect();
                st
            };
            let truth = || Truth { first_bad, skips: skips.clone(), evaluated: 0 };
            let mut whole = fresh_state();
            let mut t = truth();
            let expected = drive(&mut whole, &mut t, p, &mut |_, _| Ok(())).unwrap();

            let mut st = fresh_state();
            let mut t1 = truth();
            let mut done = 0;
            let first = drive(&mut st, &mut t1, p, &mut |_, _| {
                done += 1;
                if done > stop_after { anyhow::bail!("interrupted") }
                Ok(())
            });
            // The saved state is what a new process would read back.
            let mut st: BisectState = serde_json::from_str(&serde_json::to_string(&st).unwrap()).unwrap();
            let mut t2 = truth();
            let resumed = match first {
                Ok(c) => c,
                Err(_) => drive(&mut st, &mut t2, p, &mut |_, _| Ok(())).unwrap(),
            };
            proptest::prop_assert_eq!(resumed, expected);
            proptest::prop_assert_eq!(st.steps.len(), whole.steps.len());
            proptest::prop_assert_eq!(t1.evaluated + t2.evaluated, t.evaluated);
        }
    }

    #[test]
    fn repeat_schedule_grows_to_max() {
        let p = RepeatPolicy { initial: 3, max: 9 };
        assert_eq!(p.schedule(), vec![3, 6, 9]);
        let p = RepeatPolicy { initial: 2, max: 5 };
        assert_eq!(p.schedule(), vec![2, 4, 5]);
        let p = RepeatPolicy { initial: 3, max: 1 };
        assert_eq!(p.schedule(), vec![3]);
    }

    #[test]
    fn inconclusive_adds_repeats_then_decides_or_skips() {
        let inc = || StepOutcome::Inconclusive {
            reason: "wide interval".into(),
        };
        let mut t = Table {
            answers: [
                (
                    "a".to_string(),
                    vec![inc(), StepOutcome::Bad { violations: vec![] }],
                ),
                ("b".to_string(), vec![inc()]),
            ]
            .into_iter()
            .collect(),
            calls: vec![],
        };
        let p = RepeatPolicy { initial: 3, max: 9 };
        let a = decide_step(&mut t, "a", 0, p).unwrap();
        assert_eq!((a.mark, a.repeats, a.builds), (Mark::Bad, 6, 2));
        let b = decide_step(&mut t, "b", 1, p).unwrap();
        assert_eq!(b.mark, Mark::Skip);
        assert!(b.reason.unwrap().contains("inconclusive after 9 repeats"));
        assert_eq!(
            t.calls.iter().map(|c| c.1).collect::<Vec<_>>(),
            vec![3, 6, 3, 6, 9]
        );
    }

    #[test]
    fn drive_resumes_without_repeating_steps() {
        let candidates: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        let answer = |i: usize| match i {
            4 => StepOutcome::Skip {
                reason: "build failed".into(),
            },
            i if i >= 6 => StepOutcome::Bad { violations: vec![] },
            _ => StepOutcome::Good,
        };
        let table = || Table {
            answers: (0..10)
                .map(|i| (format!("c{i}"), vec![answer(i)]))
                .collect(),
            calls: vec![],
        };
        let p = RepeatPolicy { initial: 3, max: 3 };
        let mut st = BisectState::new("k".into(), "/r".into(), "g".into(), "c9".into(), false);
        st.candidates = candidates;
        // Interrupt after two steps.
        let mut t = table();
        let mut n = 0;
        let err = drive(&mut st, &mut t, p, &mut |_, _| {
            n += 1;
            if n == 2 {
                anyhow::bail!("interrupted")
            }
            Ok(())
        });
        assert!(err.is_err());
        assert_eq!(st.steps.len(), 2);
        let mut t2 = table();
        let c = drive(&mut st, &mut t2, p, &mut |_, _| Ok(())).unwrap();
        assert_eq!(c, Conclusion::FirstBad(6));
        let first_two: Vec<_> = t.calls.iter().map(|c| c.0.clone()).collect();
        assert!(t2.calls.iter().all(|c| !first_two.contains(&c.0)));
        assert!(st.steps.len() as u32 <= search::ceil_log2(10) + 1);
    }
}

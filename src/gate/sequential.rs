//! `--repeats auto`'s decisions over data: the look schedule, outcomes frozen across looks, when to stop, what to rerun.
//!
//! Error control: Bonferroni over looks. With K planned looks (3 paired repeats, then 2 more
//! per look up to `--max-repeats`), every look is evaluated at alpha / K, so P(any false
//! failure at any look) <= K x alpha / K = alpha whatever the dependence between looks (a
//! Pocock or O'Brien-Fleming bound would spend less but assumes normal increments, which
//! seed-multimodal counters are not). An outcome decided at a look (pass or regression)
//! stays decided: later looks only settle the ones still inconclusive, and the gate stops
//! at the first look whose verdict is not INCONCLUSIVE. Nothing here runs anything:
//! `commands::adaptive` runs the repeats and asks this module what to do next. The rule
//! itself ([`freeze_outcomes`], [`stop_reason`], [`next_repeats`]) works on outcomes alone,
//! so the simulator (examples/gate_sim.rs) looks exactly as the gate does.

use crate::gate::accept::Acceptance;
use crate::gate::evaluate;
use crate::gate::metrics::{self, MetricTable};
use crate::gate::notes::{Note, StopReason};
use crate::gate::reach::Reach;
use crate::gate::report_model::{EvalOptions, GateReport, OutcomeStatus, RuleOutcome, Verdict};
use crate::gate::rules::Severity;
use crate::stats::set::StatsSet;
use std::collections::BTreeSet;

/// Paired repeats of the first look.
pub const START: u32 = 3;
/// Paired repeats added per look.
pub const STEP: u32 = 2;

/// Planned looks for `max_repeats` (first look at min(START, max)).
pub fn planned_looks(max_repeats: u32) -> u32 {
    let start = START.min(max_repeats);
    1 + (max_repeats - start).div_ceil(STEP)
}

/// The state carried from look to look: the limits, the outcomes decided so far, the
/// first look's acceptances and the cost of the last added step.
#[derive(Debug, Clone)]
pub struct Sequential {
    pub max_repeats: u32,
    pub time_budget: Option<f64>,
    /// Every look is tested at this level (alpha / planned looks).
    pub look_alpha: f64,
    decided: Vec<RuleOutcome>,
    accepted: Option<Vec<Acceptance>>,
    /// (seconds, runs) of the last added step: estimates the next one.
    last_step: Option<(f64, usize)>,
}

/// What to do after a look.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Stop, and why.
    Stop(StopReason),
    /// Run `count` more paired repeats of these benchmarks.
    Rerun { count: u32, benches: Vec<String> },
}

impl Sequential {
    pub fn new(alpha: f64, max_repeats: u32, time_budget: Option<f64>) -> Self {
        Sequential {
            max_repeats,
            time_budget,
            look_alpha: alpha / planned_looks(max_repeats) as f64,
            decided: vec![],
            accepted: None,
            last_step: None,
        }
    }

    /// Settles one look's report: acceptances are decided at the first look (frozen with
    /// their outcomes: later looks evaluate without them, as they could match nothing
    /// there, so `opts.accept` is cleared after it), decided outcomes stay decided.
    pub fn settle(&mut self, rep: &mut GateReport, opts: &mut EvalOptions) {
        match &self.accepted {
            None => {
                self.accepted = Some(rep.acceptances.clone());
                opts.accept.clear();
            }
            Some(a) => rep.acceptances = a.clone(),
        }
        freeze(rep, &self.decided, opts);
        self.decided.extend(decided_of(&rep.outcomes));
    }

    /// After a settled look with `n` paired repeats: stop (why), or which benchmarks to
    /// rerun; `feeding` gives the benchmarks feeding the open outcomes (asked only when
    /// a rerun is possible), `elapsed` the seconds spent so far.
    pub fn next(
        &self,
        rep: &GateReport,
        n: u32,
        fail_on_warn: bool,
        elapsed: f64,
        feeding: impl FnOnce(&[&RuleOutcome]) -> anyhow::Result<Vec<String>>,
    ) -> anyhow::Result<Next> {
        let open = open_outcomes(rep, fail_on_warn);
        if let Some(why) = stop_reason(rep.verdict, open.len(), rep.blind(), n, self.max_repeats) {
            return Ok(Next::Stop(why));
        }
        let count = next_repeats(n, self.max_repeats) - n;
        let benches = feeding(&open)?;
        let estimate = self.estimate(benches.len() * count as usize);
        match self.time_budget {
            _ if benches.is_empty() => Ok(Next::Stop(StopReason::NothingFeeds)),
            Some(budget) if elapsed + estimate > budget => {
                Ok(Next::Stop(StopReason::TimeBudget { budget, estimate }))
            }
            _ => Ok(Next::Rerun { count, benches }),
        }
    }

    /// Seconds `runs` runs take at the last step's pace (0 before any step).
    fn estimate(&self, runs: usize) -> f64 {
        self.last_step
            .map(|(secs, last)| secs * runs as f64 / last.max(1) as f64)
            .unwrap_or(0.0)
    }

    /// Records what the last added step cost (its pace estimates the next one).
    pub fn step_done(&mut self, seconds: f64, runs: usize) {
        self.last_step = Some((seconds, runs));
    }
}

/// Why to stop a look regardless of cost (None: go on if repeats can be afforded): nothing
/// left to settle (`open` outcomes could still fail the gate), or no repeats left. Pure, on
/// a look's facts alone: the gate ([`Sequential::next`]) and the simulator
/// (examples/gate_sim.rs) both stop by it.
pub fn stop_reason(
    verdict: Verdict,
    open: usize,
    blind: bool,
    n: u32,
    max_repeats: u32,
) -> Option<StopReason> {
    if verdict == Verdict::Inconclusive && open == 0 && blind {
        Some(StopReason::Blind)
    } else if verdict != Verdict::Inconclusive || open == 0 {
        Some(StopReason::Decided)
    } else if n >= max_repeats {
        Some(StopReason::MaxRepeats(max_repeats))
    } else {
        None
    }
}

/// Paired repeats of the look after one with `n` (at most `max_repeats`).
pub fn next_repeats(n: u32, max_repeats: u32) -> u32 {
    n + STEP.min(max_repeats.saturating_sub(n))
}

/// The outcomes more repeats could still settle: inconclusive and able to fail the gate.
pub fn open_outcomes(rep: &GateReport, fail_on_warn: bool) -> Vec<&RuleOutcome> {
    open_of(&rep.outcomes, fail_on_warn)
}

/// [`open_outcomes`] of a look's outcomes alone.
pub fn open_of(outcomes: &[RuleOutcome], fail_on_warn: bool) -> Vec<&RuleOutcome> {
    outcomes
        .iter()
        .filter(|o| o.open_inconclusive() && (o.severity == Severity::Fail || fail_on_warn))
        .collect()
}

fn is_decided(o: &RuleOutcome) -> bool {
    matches!(o.status, OutcomeStatus::Pass | OutcomeStatus::Regression) || o.accepted.is_some()
}

/// The outcomes `rep` decided (frozen for later looks).
pub fn decided_in(rep: &GateReport) -> impl Iterator<Item = RuleOutcome> + '_ {
    decided_of(&rep.outcomes)
}

/// The decided outcomes of a look (passed, violated or accepted): frozen for later looks.
pub fn decided_of(outcomes: &[RuleOutcome]) -> impl Iterator<Item = RuleOutcome> + '_ {
    outcomes.iter().filter(|o| is_decided(o)).cloned()
}

fn same_check(a: &RuleOutcome, b: &RuleOutcome) -> bool {
    a.rule == b.rule && a.metric == b.metric && a.benchmark == b.benchmark
}

/// What a look's verdict depends on besides its rule outcomes (`evaluate::decide`'s inputs).
#[derive(Clone, Copy, Debug)]
pub struct Standing<'a> {
    pub checks_ok: bool,
    /// Head's corpus computed something base did not.
    pub results_differ: bool,
    pub strict: bool,
    pub fail_on_warn: bool,
    pub reach: Option<&'a Reach>,
    /// A rule that could fail the gate checked nothing, or base and head are the same files.
    pub blind: bool,
}

/// The sequential rule on one look's outcomes alone: puts back the outcomes decided at
/// earlier looks (a decided outcome stays decided), sorts worst first and returns the
/// verdict the gate's rule gives them. Pure: the gate's looks ([`freeze`]) and the
/// simulator (examples/gate_sim.rs) both go through it.
pub fn freeze_outcomes(
    outcomes: &mut [RuleOutcome],
    decided: &[RuleOutcome],
    standing: Standing<'_>,
) -> Verdict {
    for o in outcomes.iter_mut() {
        if let Some(d) = decided.iter().find(|d| same_check(d, o)) {
            *o = d.clone();
        }
    }
    evaluate::sort_worst_first(outcomes);
    evaluate::decide(
        outcomes,
        standing.checks_ok,
        standing.results_differ,
        standing.strict,
        standing.fail_on_warn,
        standing.reach,
        standing.blind,
    )
}

/// [`freeze_outcomes`] on a look's report: its outcomes and verdict, and the INCONCLUSIVE
/// note dropped when the look is decided.
pub fn freeze(rep: &mut GateReport, decided: &[RuleOutcome], opts: &EvalOptions) {
    let standing = Standing {
        checks_ok: rep.checks_ok(),
        results_differ: rep.results.failed(),
        strict: opts.strict,
        fail_on_warn: opts.fail_on_warn,
        reach: rep.reach.as_ref(),
        blind: rep.blind(),
    };
    rep.verdict = freeze_outcomes(&mut rep.outcomes, decided, standing);
    if rep.verdict != Verdict::Inconclusive {
        rep.notes.retain(|n| !matches!(n, Note::Inconclusive(_)));
    }
}

/// The benchmarks whose runs feed the open outcomes: a per-benchmark outcome's benchmark, and
/// for an aggregate metric every benchmark with a share of it (a non-zero numerator or
/// denominator within the benchmark in some repeat). All of them are rerun, also those that
/// were constant over the seeds so far: copying their first repeat into the new seeds would
/// add repeats that never vary and understate the variance. Benchmarks feeding none of the
/// open outcomes reuse their first repeat's dumps (decided outcomes are frozen, so nothing
/// reads them).
pub fn benchmarks_to_rerun(
    open: &[&RuleOutcome],
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
) -> anyhow::Result<Vec<String>> {
    let sides: [Vec<MetricTable>; 2] = [
        metrics::set_metrics(base, &opts.meta_base, true)?,
        metrics::set_metrics(head, &opts.meta_head, true)?,
    ];
    let feeds = |key: &str| {
        sides.iter().flatten().any(|t| {
            t.get(key)
                .is_some_and(|v| v.num != 0.0 || v.den.is_some_and(|d| d != 0.0))
        })
    };
    let mut out = BTreeSet::new();
    for o in open {
        match &o.benchmark {
            Some(b) => {
                out.insert(b.clone());
            }
            None => {
                for b in base.benchmark_names() {
                    if feeds(&format!("{}{b}.{}", metrics::BENCH_PREFIX, o.metric)) {
                        out.insert(b);
                    }
                }
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// Appends `extra`'s repeats to `set`; a benchmark `extra` did not run takes its dump from
/// `set`'s first repeat (it feeds no open outcome: see [`benchmarks_to_rerun`]).
pub fn extend(set: &mut StatsSet, extra: &StatsSet) {
    let Some(first) = set.repeats.first().cloned() else {
        set.repeats.extend(extra.repeats.iter().cloned());
        return;
    };
    for r in &extra.repeats {
        let mut merged = r.clone();
        merged.benchmarks = first
            .benchmarks
            .iter()
            .map(|(name, dump)| (name.clone(), r.benchmarks.get(name).unwrap_or(dump).clone()))
            .collect();
        set.repeats.push(merged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::evaluate::evaluate;

    /// Blind before decided before the maximum; an open look below the maximum goes on.
    #[test]
    fn stop_reasons_in_their_order() {
        use Verdict::{Inconclusive, Pass, Regression};
        assert_eq!(
            stop_reason(Inconclusive, 0, true, 3, 9),
            Some(StopReason::Blind)
        );
        assert_eq!(
            stop_reason(Inconclusive, 0, false, 3, 9),
            Some(StopReason::Decided)
        );
        assert_eq!(
            stop_reason(Regression, 2, false, 3, 9),
            Some(StopReason::Decided)
        );
        assert_eq!(stop_reason(Pass, 0, true, 9, 9), Some(StopReason::Decided));
        assert_eq!(
            stop_reason(Inconclusive, 1, true, 9, 9),
            Some(StopReason::MaxRepeats(9))
        );
        assert_eq!(stop_reason(Inconclusive, 1, false, 7, 9), None);
        assert_eq!(
            (next_repeats(3, 9), next_repeats(7, 8), next_repeats(9, 9)),
            (5, 8, 9)
        );
    }

    #[test]
    fn looks_split_alpha() {
        assert_eq!(planned_looks(3), 1);
        assert_eq!(planned_looks(5), 2);
        assert_eq!(planned_looks(9), 4);
        assert_eq!(planned_looks(10), 5);
        assert_eq!(planned_looks(2), 1);
    }

    /// A later look never changes what an earlier look decided: a regression stays a
    /// regression, and an acceptance stays applied to the outcome it matched.
    #[test]
    fn outcomes_decided_at_a_look_stay_decided_with_their_acceptance() {
        use crate::gate::accept::Acceptance;
        use crate::gate::evaluate::tests::{opts, plant_binary_op_misses};
        let base = crate::stats::set::real_fixture("aa-base");
        let clean = crate::stats::set::real_fixture("aa-head");
        let mut planted = clean.clone();
        plant_binary_op_misses(&mut planted, 2000);
        let metric = "family.BINARY_OP.miss_ratio";
        let find = |rep: &GateReport| {
            rep.outcomes
                .iter()
                .find(|o| o.metric == metric && o.benchmark.is_none())
                .cloned()
                .unwrap()
        };
        // Regression at the first look; the second look's data alone would pass it.
        let first = evaluate(&base, &planted, &opts()).unwrap();
        let decided: Vec<RuleOutcome> = decided_in(&first).collect();
        let mut later = evaluate(&base, &clean, &opts()).unwrap();
        assert_eq!(find(&later).status, OutcomeStatus::Pass);
        assert_eq!(later.verdict, Verdict::Pass);
        freeze(&mut later, &decided, &opts());
        assert_eq!(find(&later).status, OutcomeStatus::Regression);
        assert_eq!(later.verdict, Verdict::Regression);
        // Accepted at the first look; later looks evaluate without acceptances.
        // Every violation the plant causes is accepted (several rules see it).
        let mut accepting = opts();
        let violations = evaluate(&base, &planted, &opts()).unwrap();
        accepting.accept = violations
            .failing()
            .map(|o| {
                let spec = format!("{}:{} because planted in this test", o.rule, o.metric);
                Acceptance::parse(&spec, "--accept").unwrap()
            })
            .collect();
        let first = evaluate(&base, &planted, &accepting).unwrap();
        assert!(find(&first).accepted.is_some(), "{:#?}", find(&first));
        assert_eq!(first.verdict, Verdict::Pass);
        let decided: Vec<RuleOutcome> = decided_in(&first).collect();
        let mut later = evaluate(&base, &planted, &opts()).unwrap();
        assert_eq!(later.verdict, Verdict::Regression);
        freeze(&mut later, &decided, &opts());
        assert!(find(&later).accepted.is_some());
        assert_eq!(later.verdict, Verdict::Pass);
    }

    /// A benchmark that fed an open outcome but did not vary over the first seeds is rerun
    /// under the new seeds: a copy of its first repeat would be a repeat that cannot vary.
    #[test]
    fn benchmarks_constant_over_the_first_seeds_are_rerun_not_copied() {
        use crate::gate::evaluate::tests::{noisy, opts};
        let base = crate::stats::set::real_fixture("aa-base");
        let head = noisy(crate::stats::set::real_fixture("aa-head"), &[0, 600, 30]);
        let o = opts();
        let rep = evaluate(&base, &head, &o).unwrap();
        let open: Vec<&RuleOutcome> = rep.inconclusive().collect();
        assert!(open
            .iter()
            .any(|x| x.metric == "family.BINARY_OP.miss_ratio" && x.benchmark.is_none()));
        let key = "bench.attrs.family.BINARY_OP.miss_ratio";
        let tables = metrics::set_metrics(&head, &o.meta_head, true).unwrap();
        let values: Vec<f64> = tables.iter().map(|t| t[key].value()).collect();
        assert!(values.windows(2).all(|w| w[0] == w[1]), "{values:?}");
        let rerun = benchmarks_to_rerun(&open, &base, &head, &o).unwrap();
        assert_eq!(rerun, vec!["arith".to_string(), "attrs".to_string()]);
    }

    #[test]
    fn extend_fills_benchmarks_not_rerun_from_the_first_repeat() {
        let mut set = crate::stats::set::real_fixture("aa-base");
        let mut extra = set.clone();
        extra.repeats.truncate(1);
        let first_bench = set.repeats[0].benchmarks.keys().next().unwrap().clone();
        extra.repeats[0].benchmarks.retain(|k, _| *k == first_bench);
        extra.repeats[0].seed = Some(99);
        let n = set.repeats.len();
        extend(&mut set, &extra);
        assert_eq!(set.repeats.len(), n + 1);
        let last = set.repeats.last().unwrap();
        assert_eq!(last.seed, Some(99));
        assert_eq!(
            last.benchmarks.keys().collect::<Vec<_>>(),
            set.repeats[0].benchmarks.keys().collect::<Vec<_>>()
        );
    }

    /// The stop rules in their order: decided, blind, the maximum, nothing feeding, the
    /// budget (estimated from the last step's pace); else the next step's repeats.
    #[test]
    fn next_stops_or_reruns_from_the_data_alone() {
        use crate::gate::evaluate::tests::{noisy, opts};
        let base = crate::stats::set::real_fixture("aa-base");
        let head = noisy(crate::stats::set::real_fixture("aa-head"), &[0, 600, 30]);
        let mut o = opts();
        let mut seq = Sequential::new(o.alpha, 6, Some(100.0));
        assert!((seq.look_alpha - 0.05 / 3.0).abs() < 1e-12);
        let mut rep = evaluate(&base, &head, &o).unwrap();
        seq.settle(&mut rep, &mut o);
        assert_eq!(rep.verdict, Verdict::Inconclusive);
        let two = |_: &[&RuleOutcome]| Ok(vec!["arith".to_string(), "attrs".to_string()]);
        let rerun = Next::Rerun {
            count: 2,
            benches: vec!["arith".to_string(), "attrs".to_string()],
        };
        assert_eq!(seq.next(&rep, 3, false, 0.0, two).unwrap(), rerun);
        // One step left before the maximum: only 1 repeat.
        match seq.next(&rep, 5, false, 0.0, two).unwrap() {
            Next::Rerun { count, .. } => assert_eq!(count, 1),
            other => panic!("{other:?}"),
        }
        let at_max = seq.next(&rep, 6, false, 0.0, two).unwrap();
        assert_eq!(at_max, Next::Stop(StopReason::MaxRepeats(6)));
        let none = seq.next(&rep, 3, false, 0.0, |_| Ok(vec![])).unwrap();
        assert_eq!(none, Next::Stop(StopReason::NothingFeeds));
        // 4 runs took 40s: 4 more would end at 70 + 40 > 100.
        seq.step_done(40.0, 4);
        let over = Next::Stop(StopReason::TimeBudget {
            budget: 100.0,
            estimate: 40.0,
        });
        assert_eq!(seq.next(&rep, 3, false, 70.0, two).unwrap(), over);
        assert_eq!(seq.next(&rep, 3, false, 50.0, two).unwrap(), rerun);
        // A decided look stops whatever the budget.
        let mut planted = crate::stats::set::real_fixture("aa-head");
        crate::gate::evaluate::tests::plant_binary_op_misses(&mut planted, 2000);
        let failed = evaluate(&base, &planted, &opts()).unwrap();
        assert_eq!(failed.verdict, Verdict::Regression);
        let stop = seq.next(&failed, 3, false, 0.0, two).unwrap();
        assert_eq!(stop, Next::Stop(StopReason::Decided));
    }
}

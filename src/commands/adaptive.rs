//! `gate --repeats auto`: adaptive paired repeats, rerunning only what feeds inconclusive rules, with alpha split over the planned looks.
//!
//! Error control: Bonferroni over looks. With K planned looks (3 paired repeats, then 2 more
//! per look up to `--max-repeats`), every look is evaluated at alpha / K, so P(any false
//! failure at any look) <= K x alpha / K = alpha whatever the dependence between looks (a
//! Pocock or O'Brien-Fleming bound would spend less but assumes normal increments, which
//! seed-multimodal counters are not). An outcome decided at a look (pass or regression)
//! stays decided: later looks only settle the ones still inconclusive, and the gate stops
//! at the first look whose verdict is not INCONCLUSIVE.

use crate::gate::evaluate::{self, evaluate};
use crate::gate::metrics::{self, MetricTable};
use crate::gate::notes::Note;
use crate::gate::report_model::{EvalOptions, GateReport, OutcomeStatus, RuleOutcome, Verdict};
use crate::gate::rules::Severity;
use crate::stats::set::StatsSet;
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::Instant;

/// Paired repeats of the first look.
pub const START: u32 = 3;
/// Paired repeats added per look.
pub const STEP: u32 = 2;

/// One look: how many paired repeats it had and what was rerun to get them.
#[derive(Clone, Debug, Serialize)]
pub struct Look {
    pub repeats: u32,
    /// Benchmarks run for this look's new repeats (empty for the first look: all ran).
    pub rerun: Vec<String>,
    /// Seeds of this look's new repeats.
    pub seeds: Vec<u32>,
    pub verdict: Verdict,
}

/// What `--repeats auto` spent (in gate.json and, as a note, in every report).
#[derive(Clone, Debug, Serialize)]
pub struct AutoRecord {
    pub looks_planned: u32,
    pub max_repeats: u32,
    /// alpha / looks_planned: the level of every look.
    pub look_alpha: f64,
    pub looks: Vec<Look>,
    /// Why it stopped.
    pub stopped: String,
}

/// Planned looks for `max_repeats` (first look at min(START, max)).
pub fn planned_looks(max_repeats: u32) -> u32 {
    let start = START.min(max_repeats);
    1 + (max_repeats - start).div_ceil(STEP)
}

/// Runs new repeats: (seed offset, how many, benchmarks) -> (base, head) sets of them.
pub type MoreRepeats<'a> =
    dyn FnMut(u32, u32, &[String]) -> anyhow::Result<(StatsSet, StatsSet)> + 'a;

/// Looks at `base`/`head` (the first look's sets, `min(START, max)` paired repeats each),
/// adding repeats through `more` while fail-level rules are inconclusive, up to
/// `max_repeats` and within `time_budget` seconds of `started`.
pub fn run(
    mut base: StatsSet,
    mut head: StatsSet,
    eval: &EvalOptions,
    max_repeats: u32,
    time_budget: Option<f64>,
    started: Instant,
    more: &mut MoreRepeats<'_>,
) -> anyhow::Result<(GateReport, AutoRecord)> {
    let looks_planned = planned_looks(max_repeats);
    let mut opts = eval.clone();
    opts.alpha = eval.alpha / looks_planned as f64;
    let mut record = AutoRecord {
        looks_planned,
        max_repeats,
        look_alpha: opts.alpha,
        looks: vec![],
        stopped: String::new(),
    };
    let mut decided: Vec<RuleOutcome> = vec![];
    let mut accepted = None;
    let (mut rerun, mut seeds) = (vec![], vec![]);
    let mut last_step: Option<(f64, usize)> = None;
    loop {
        let n = base.repeats.len() as u32;
        let mut rep = evaluate(&base, &head, &opts)?;
        // Accepted outcomes are decided at the first look (frozen with their acceptance):
        // later looks evaluate without acceptances, which could match nothing there.
        match &accepted {
            None => {
                accepted = Some(rep.acceptances.clone());
                opts.accept.clear();
            }
            Some(a) => rep.acceptances = a.clone(),
        }
        freeze(&mut rep, &decided, &opts);
        decided.extend(decided_in(&rep));
        record.looks.push(Look {
            repeats: n,
            rerun: std::mem::take(&mut rerun),
            seeds: std::mem::take(&mut seeds),
            verdict: rep.verdict,
        });
        let open: Vec<&RuleOutcome> = rep
            .outcomes
            .iter()
            .filter(|o| {
                o.open_inconclusive() && (o.severity == Severity::Fail || opts.fail_on_warn)
            })
            .collect();
        let stop = if rep.verdict == Verdict::Inconclusive && open.is_empty() && rep.blind() {
            Some(
                "a rule checked nothing on this data (more repeats cannot change that)".to_string(),
            )
        } else if rep.verdict != Verdict::Inconclusive || open.is_empty() {
            Some("every fail-level rule decided".to_string())
        } else if n >= max_repeats {
            Some(format!("--max-repeats {max_repeats} reached"))
        } else {
            None
        };
        let step = STEP.min(max_repeats.saturating_sub(n));
        let next = match stop {
            Some(s) => Err(s),
            None => {
                let feeding = benchmarks_to_rerun(&open, &base, &head, &opts)?;
                let estimate = last_step
                    .map(|(secs, runs)| {
                        secs * (feeding.len() * step as usize) as f64 / runs.max(1) as f64
                    })
                    .unwrap_or(0.0);
                if feeding.is_empty() {
                    Err("no benchmark feeds the inconclusive rules".into())
                } else if time_budget
                    .is_some_and(|b| started.elapsed().as_secs_f64() + estimate > b)
                {
                    Err(format!(
                        "--time-budget {}s would be exceeded (next look estimated at {estimate:.0}s)",
                        time_budget.unwrap_or(0.0)
                    ))
                } else {
                    Ok(feeding)
                }
            }
        };
        match next {
            Err(why) => {
                record.stopped = why;
                rep.notes.push(Note::Rendered(note(&record)));
                return Ok((rep, record));
            }
            Ok(feeding) => {
                let t0 = Instant::now();
                let (b, h) = more(n, step, &feeding)?;
                last_step = Some((t0.elapsed().as_secs_f64(), feeding.len() * step as usize));
                extend(&mut base, &b);
                extend(&mut head, &h);
                seeds = (n + 1..=n + step).collect();
                rerun = feeding;
            }
        }
    }
}

fn is_decided(o: &RuleOutcome) -> bool {
    matches!(o.status, OutcomeStatus::Pass | OutcomeStatus::Regression) || o.accepted.is_some()
}

/// The outcomes `rep` decided (frozen for later looks).
fn decided_in(rep: &GateReport) -> impl Iterator<Item = RuleOutcome> + '_ {
    rep.outcomes.iter().filter(|o| is_decided(o)).cloned()
}

fn same_check(a: &RuleOutcome, b: &RuleOutcome) -> bool {
    a.rule == b.rule && a.metric == b.metric && a.benchmark == b.benchmark
}

/// Puts back the outcomes decided at earlier looks (a decided outcome stays decided) and
/// re-derives the verdict.
fn freeze(rep: &mut GateReport, decided: &[RuleOutcome], opts: &EvalOptions) {
    for o in &mut rep.outcomes {
        if let Some(d) = decided.iter().find(|d| same_check(d, o)) {
            *o = d.clone();
        }
    }
    evaluate::sort_worst_first(&mut rep.outcomes);
    rep.verdict = evaluate::decide(
        &rep.outcomes,
        rep.checks_ok(),
        opts.strict,
        opts.fail_on_warn,
        rep.reach.as_ref(),
        rep.blind(),
    );
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

/// The report note: repeats spent, what was rerun, why it stopped.
fn note(r: &AutoRecord) -> String {
    let reruns: Vec<String> = r
        .looks
        .iter()
        .skip(1)
        .map(|l| {
            format!(
                "seeds {}-{}: {}",
                l.seeds.first().unwrap_or(&0),
                l.seeds.last().unwrap_or(&0),
                l.rerun.join(", ")
            )
        })
        .collect();
    format!(
        "--repeats auto: {} paired repeat(s) spent in {} look(s) of {} planned (up to {}); each look tested at alpha / {} = {:.4} (Bonferroni over looks); {}; stopped: {}",
        r.looks.last().map(|l| l.repeats).unwrap_or(0),
        r.looks.len(),
        r.looks_planned,
        r.max_repeats,
        r.looks_planned,
        r.look_alpha,
        if reruns.is_empty() {
            "nothing rerun".to_string()
        } else {
            format!("reran {}", reruns.join("; "))
        },
        r.stopped
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_split_alpha() {
        assert_eq!(planned_looks(3), 1);
        assert_eq!(planned_looks(5), 2);
        assert_eq!(planned_looks(9), 4);
        assert_eq!(planned_looks(10), 5);
        assert_eq!(planned_looks(2), 1);
    }

    /// `count` repeats of `set` renamed to new seeds after `offset`, only `benches`.
    fn again(set: &StatsSet, offset: u32, count: u32, benches: &[String]) -> StatsSet {
        let mut x = set.clone();
        x.repeats.truncate(count as usize);
        for (k, r) in x.repeats.iter_mut().enumerate() {
            let seed = offset + k as u32 + 1;
            r.seed = Some(seed as u64);
            r.name = crate::stats::set::repeat_dir_name(seed);
            r.benchmarks.retain(|n, _| benches.contains(n));
        }
        x
    }

    #[test]
    fn stops_at_the_budget_or_the_maximum_and_never_passes_what_stays_open() {
        use crate::gate::evaluate::tests::{noisy, opts};
        let base = crate::stats::set::real_fixture("aa-base");
        // BINARY_OP misses planted unevenly per seed: the paired change straddles 1 pp.
        let head = noisy(crate::stats::set::real_fixture("aa-head"), &[0, 600, 30]);
        let opts = opts();
        let mut calls: Vec<(u32, u32, Vec<String>)> = vec![];
        let mut more = |offset: u32, count: u32, benches: &[String]| {
            calls.push((offset, count, benches.to_vec()));
            Ok((
                again(&base, offset, count, benches),
                again(&head, offset, count, benches),
            ))
        };
        // A spent budget: one look, nothing run, still INCONCLUSIVE.
        let (rep, rec) = run(
            base.clone(),
            head.clone(),
            &opts,
            7,
            Some(0.0),
            Instant::now(),
            &mut more,
        )
        .unwrap();
        assert_eq!(rep.verdict, Verdict::Inconclusive, "{:#?}", rep.notes);
        assert_eq!(rec.looks.len(), 1);
        assert!(rec.stopped.contains("--time-budget"), "{}", rec.stopped);
        assert!(rep.notes.iter().any(|n| n
            .to_string()
            .contains("3 paired repeat(s) spent in 1 look(s) of 3 planned")));
        // No budget: looks at 3, 5, 7 repeats rerunning the benchmarks that feed BINARY_OP's
        // miss ratio (arith varies, attrs does not but is rerun too), each at alpha / 3;
        // still open at the maximum: never a pass.
        let (rep, rec) = run(
            base.clone(),
            head.clone(),
            &opts,
            7,
            None,
            Instant::now(),
            &mut more,
        )
        .unwrap();
        assert_eq!(
            calls,
            vec![
                (3, 2, vec!["arith".to_string(), "attrs".to_string()]),
                (5, 2, vec!["arith".to_string(), "attrs".to_string()])
            ]
        );
        assert_eq!(
            rec.looks.iter().map(|l| l.repeats).collect::<Vec<_>>(),
            vec![3, 5, 7]
        );
        assert_eq!(rec.looks[2].seeds, vec![6, 7]);
        assert!((rep.alpha - 0.05 / 3.0).abs() < 1e-12);
        assert_eq!(rep.verdict, Verdict::Inconclusive, "{:#?}", rep.notes);
        assert!(rec.stopped.contains("--max-repeats 7"), "{}", rec.stopped);
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
}

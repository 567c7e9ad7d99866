//! `gate --repeats auto`: runs the repeats [`crate::gate::sequential`] asks for, look after look, and records what they cost.

use crate::gate::evaluate::evaluate;
use crate::gate::notes::{Note, RepeatsAuto, Rerun, StopReason};
use crate::gate::report_model::{EvalOptions, GateReport, Verdict};
use crate::gate::sequential::{benchmarks_to_rerun, extend, planned_looks, Next, Sequential};
use crate::stats::set::StatsSet;
use serde::Serialize;
use std::time::Instant;

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
    /// Why it stopped (the sentence in gate.json).
    pub stopped: StopReason,
}

/// Runs new repeats: (seed offset, how many, benchmarks) -> (base, head) sets of them.
pub type MoreRepeats<'a> =
    dyn FnMut(u32, u32, &[String]) -> anyhow::Result<(StatsSet, StatsSet)> + 'a;

/// Looks at `base`/`head` (the first look's sets, `min(START, max)` paired repeats each),
/// adding repeats through `more` while fail-level rules are inconclusive, up to
/// `max_repeats` and within `time_budget` seconds of `started`; the sets end as the last
/// look saw them.
pub fn run(
    base: &mut StatsSet,
    head: &mut StatsSet,
    eval: &EvalOptions,
    max_repeats: u32,
    time_budget: Option<f64>,
    started: Instant,
    more: &mut MoreRepeats<'_>,
) -> anyhow::Result<(GateReport, AutoRecord)> {
    let mut seq = Sequential::new(eval.alpha, max_repeats, time_budget);
    let mut opts = eval.clone();
    opts.alpha = seq.look_alpha;
    let mut looks = vec![];
    let (mut rerun, mut seeds) = (vec![], vec![]);
    loop {
        let n = base.repeats.len() as u32;
        let mut rep = evaluate(base, head, &opts)?;
        seq.settle(&mut rep, &mut opts);
        looks.push(Look {
            repeats: n,
            rerun: std::mem::take(&mut rerun),
            seeds: std::mem::take(&mut seeds),
            verdict: rep.verdict,
        });
        let elapsed = started.elapsed().as_secs_f64();
        let feeding = |open: &[&_]| benchmarks_to_rerun(open, base, head, &opts);
        match seq.next(&rep, n, opts.fail_on_warn, elapsed, feeding)? {
            Next::Stop(stopped) => {
                let record = AutoRecord {
                    looks_planned: planned_looks(max_repeats),
                    max_repeats,
                    look_alpha: opts.alpha,
                    looks,
                    stopped,
                };
                rep.notes.push(Note::RepeatsAuto(Box::new(note(&record))));
                return Ok((rep, record));
            }
            Next::Rerun { count, benches } => {
                let t0 = Instant::now();
                let (b, h) = more(n, count, &benches)?;
                seq.step_done(t0.elapsed().as_secs_f64(), benches.len() * count as usize);
                extend(base, &b);
                extend(head, &h);
                seeds = (n + 1..=n + count).collect();
                rerun = benches;
            }
        }
    }
}

/// The report note's data: repeats spent, what was rerun, why it stopped.
fn note(r: &AutoRecord) -> RepeatsAuto {
    RepeatsAuto {
        repeats: r.looks.last().map(|l| l.repeats).unwrap_or(0),
        looks: r.looks.len(),
        looks_planned: r.looks_planned,
        max_repeats: r.max_repeats,
        look_alpha: r.look_alpha,
        reruns: r
            .looks
            .iter()
            .skip(1)
            .map(|l| Rerun {
                first_seed: l.seeds.first().copied().unwrap_or(0),
                last_seed: l.seeds.last().copied().unwrap_or(0),
                benchmarks: l.rerun.clone(),
            })
            .collect(),
        stopped: r.stopped.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            &mut base.clone(),
            &mut head.clone(),
            &opts,
            7,
            Some(0.0),
            Instant::now(),
            &mut more,
        )
        .unwrap();
        assert_eq!(rep.verdict, Verdict::Inconclusive, "{:#?}", rep.notes);
        assert_eq!(rec.looks.len(), 1);
        assert!(
            matches!(rec.stopped, StopReason::TimeBudget { .. }),
            "{:?}",
            rec.stopped
        );
        assert!(rep.notes.iter().any(|n| n
            .to_string()
            .contains("3 paired repeat(s) spent in 1 look(s) of 3 planned")));
        // No budget: looks at 3, 5, 7 repeats rerunning the benchmarks that feed BINARY_OP's
        // miss ratio (arith varies, attrs does not but is rerun too), each at alpha / 3;
        // still open at the maximum: never a pass.
        let (rep, rec) = run(
            &mut base.clone(),
            &mut head.clone(),
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
        assert_eq!(rec.stopped, StopReason::MaxRepeats(7));
        // The note says the spend from the record's numbers.
        let said = rep
            .notes
            .last()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert_eq!(
            said,
            "--repeats auto: 7 paired repeat(s) spent in 3 look(s) of 3 planned (up to 7); each look tested at alpha / 3 = 0.0167 (Bonferroni over looks); reran seeds 4-5: arith, attrs; seeds 6-7: arith, attrs; stopped: --max-repeats 7 reached"
        );
    }
}

//! Steps 5 and 7: each (rule, metric)'s outcome from its limit tests, its reason, and the verdict.

use super::attribution::attribution;
use super::correction::{counts_as_fail, Corrected};
use super::limits::{Candidate, LimitTest};
use super::pairing::{ExactBasis, Sides};
use crate::gate::notes::{InconclusiveNote, LearnedNoise, LimitReason, Note, Reason, ReasonCase};
use crate::gate::reach::Reach;
use crate::gate::report_model::{EvalOptions, OutcomeStatus, RuleOutcome, Verdict};
use crate::gate::rules::Rule;
use crate::gate::rules::Severity;
use crate::gate::statistics::ErrorControl;
use crate::stats::set::StatsSet;

/// Step 5: each candidate's outcome from its worst limit test, worst outcomes first;
/// regressions of aggregate metrics attributed to benchmarks.
pub(super) fn rule_outcomes(
    candidates: Vec<Candidate>,
    corrected: &Corrected,
    sides: &Sides,
    opts: &EvalOptions,
) -> Vec<RuleOutcome> {
    // Consumed: each candidate is freed as its outcome is made (at 5,000 benchmarks there
    // are ~470,000 of each, and both at once were the comparison's peak memory).
    let mut outcomes: Vec<RuleOutcome> = candidates
        .into_iter()
        .enumerate()
        .map(|(ci, c)| {
            let mut o = outcome_for(ci, &c, &corrected.adjusted, opts);
            if o.status == OutcomeStatus::Regression && c.benchmark.is_none() {
                o.attribution = attribution(
                    &c.metric,
                    &sides.benches,
                    &sides.base_tables,
                    &sides.head_tables,
                    opts.attribution,
                );
            }
            o
        })
        .collect();
    sort_worst_first(&mut outcomes);
    outcomes
}

/// Worst status first, fail-level before warn-level within a status.
pub(crate) fn sort_worst_first(outcomes: &mut [RuleOutcome]) {
    outcomes.sort_by_key(|o| std::cmp::Reverse((o.status, o.severity == Severity::Fail)));
}

/// One candidate's outcome: the worst of its limit tests decides.
pub(super) fn outcome_for(
    ci: usize,
    c: &Candidate,
    adjusted: &std::collections::HashMap<(usize, usize), f64>,
    opts: &EvalOptions,
) -> RuleOutcome {
    let rule = &opts.rules.rules[c.rule_idx];
    if let Some(why) = &c.skipped {
        return untested_outcome(
            c,
            rule,
            OutcomeStatus::Skipped,
            Reason::Skipped(why.clone()),
        );
    }
    if let Some((base, head)) = c.too_few {
        // Never decided on one sample: neither exact nor a pass.
        let mut o = untested_outcome(
            c,
            rule,
            OutcomeStatus::Inconclusive,
            Reason::TooFewSamples { base, head },
        );
        o.limit = rule.limits.first().copied();
        return o;
    }
    let (status, ti) = worst_test(ci, c, adjusted, opts.alpha);
    let t = &c.tests[ti];
    let p_adjusted = adjusted.get(&(ci, ti)).copied();
    let error_control = if c.unverified {
        ErrorControl::Unverified
    } else if t.deterministic && t.p.is_none() {
        ErrorControl::Exact
    } else if counts_as_fail(c, opts) {
        ErrorControl::Holm
    } else {
        ErrorControl::Bh
    };
    let certified = t.deterministic && t.p.is_none() && t.exact == ExactBasis::Certified;
    let noise_prior = (!t.deterministic).then_some(c.prior).flatten();
    let d = &c.stats;
    let reason = LimitReason {
        case: reason_case(
            status,
            c.unverified,
            certified,
            t,
            p_adjusted,
            (d.diff, opts.alpha),
        ),
        kind: c.kind,
        change: d.diff,
        limit: t.limit,
        alpha: opts.alpha,
        bh: error_control == ErrorControl::Bh,
        n_base: d.n_base,
        n_head: d.n_head,
        paired: d.paired,
        p_adjusted,
        min_p: t.min_p,
        noise_prior,
    };
    let mut o = untested_outcome(c, rule, status, Reason::Limit(Box::new(reason)));
    o.limit = Some(t.limit);
    o.ci_low = t.ci.0;
    o.ci_high = t.ci.1;
    o.p_value = t.p;
    o.p_adjusted = p_adjusted;
    o.deterministic = t.deterministic;
    o.certified = certified;
    o.noise_prior = noise_prior;
    o.error_control = error_control;
    if status == OutcomeStatus::Inconclusive {
        o.repeats_needed = t.repeats_needed;
    }
    o
}

/// An outcome from the candidate's statistics alone (no limit test applied yet).
fn untested_outcome(
    c: &Candidate,
    rule: &Rule,
    status: OutcomeStatus,
    reason: Reason,
) -> RuleOutcome {
    let d = &c.stats;
    RuleOutcome {
        rule: rule.name.clone(),
        severity: rule.severity,
        description: rule.description.clone(),
        metric: c.metric.clone(),
        benchmark: c.benchmark.clone(),
        kind: c.kind,
        status,
        limit: None,
        base: d.base_mean,
        head: d.head_mean,
        change: d.diff,
        relative_change: (d.base_mean != 0.0).then(|| d.diff / d.base_mean.abs()),
        ci_low: d.ci_low,
        ci_high: d.ci_high,
        p_value: None,
        p_adjusted: None,
        deterministic: d.deterministic,
        unverified: c.unverified,
        error_control: ErrorControl::None,
        noise_prior: None,
        certified: false,
        repeats_needed: None,
        attribution: vec![],
        reason,
        accepted: None,
    }
}

/// The worst of a candidate's limit tests: its status and index (ties: the larger excess).
fn worst_test(
    ci: usize,
    c: &Candidate,
    adjusted: &std::collections::HashMap<(usize, usize), f64>,
    alpha: f64,
) -> (OutcomeStatus, usize) {
    let mut best: Option<(OutcomeStatus, usize)> = None;
    for (ti, t) in c.tests.iter().enumerate() {
        let p_adj = adjusted.get(&(ci, ti)).copied();
        let status = if c.unverified || (t.deterministic && t.p.is_none()) {
            if t.excess > 0.0 {
                OutcomeStatus::Regression
            } else {
                OutcomeStatus::Pass
            }
        } else if t.low > 0.0 && p_adj.is_some_and(|p| p < alpha) {
            OutcomeStatus::Regression
        } else if t.high <= 0.0 {
            OutcomeStatus::Pass
        } else {
            OutcomeStatus::Inconclusive
        };
        let better = match best {
            None => true,
            Some((s, bi)) => status > s || (status == s && t.excess > c.tests[bi].excess),
        };
        if better {
            best = Some((status, ti));
        }
    }
    best.expect("a rule has at least one limit")
}

/// Step 7: the verdict from the outcomes, checks and corpus results. An open inconclusive
/// fail-level outcome is never a pass; a corpus result head computed differently fails.
pub(crate) fn decide(
    outcomes: &[RuleOutcome],
    checks_ok: bool,
    results_differ: bool,
    strict: bool,
    fail_on_warn: bool,
    reach: Option<&Reach>,
    blind: bool,
) -> Verdict {
    let fails = outcomes.iter().any(|o| o.fails(fail_on_warn));
    let inconclusive = outcomes
        .iter()
        .any(|o| o.open_inconclusive() && (o.severity == Severity::Fail || fail_on_warn));
    if strict && !checks_ok {
        Verdict::Error
    } else if fails || results_differ {
        Verdict::Regression
    } else if inconclusive
        || !checks_ok
        || blind
        || reach.is_some_and(|r| r.unreached().next().is_some())
    {
        // Totals that do not add up, a rule or a change the gate did not see, or data
        // compared with itself: never a pass.
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    }
}

/// The note naming the noise file, what it may inform, and how often it did.
pub(super) fn noise_note(
    noise: &crate::gate::noise::NoiseFile,
    outcomes: &[RuleOutcome],
    paired: bool,
) -> Note {
    Note::LearnedNoise(Box::new(LearnedNoise {
        file: noise.clone(),
        paired,
        pooled: outcomes.iter().filter(|o| o.noise_prior.is_some()).count(),
        certified: outcomes.iter().filter(|o| o.certified).count(),
    }))
}

/// The INCONCLUSIVE note: the actual causes (unpaired repeats, too few repeats, changes on
/// the limit) with what settles each.
pub(super) fn inconclusive_note(
    outcomes: &[RuleOutcome],
    paired: bool,
    base: &StatsSet,
    head: &StatsSet,
    repeats: usize,
) -> Note {
    let open: Vec<&RuleOutcome> = outcomes.iter().filter(|o| o.open_inconclusive()).collect();
    let unpaired = (!paired).then(|| super::pairing::unpaired_cause(base, head));
    // Repeats that would decide, when a finite number would.
    const FEW_ENOUGH: usize = 50;
    let repeats_needed = open
        .iter()
        .filter_map(|o| o.repeats_needed)
        .filter(|n| *n <= FEW_ENOUGH)
        .max();
    let borderline = open
        .iter()
        .filter(|o| o.repeats_needed.is_none_or(|n| n > FEW_ENOUGH))
        .map(|o| (o.metric.clone(), o.rule.clone()))
        .collect();
    Note::Inconclusive(InconclusiveNote {
        open: open.len(),
        repeats,
        unpaired,
        repeats_needed,
        borderline,
    })
}

/// Which sentence says why a tested outcome has its status.
fn reason_case(
    status: OutcomeStatus,
    unverified: bool,
    certified: bool,
    t: &LimitTest,
    p_adjusted: Option<f64>,
    (change, alpha): (f64, f64),
) -> ReasonCase {
    match status {
        OutcomeStatus::Regression if unverified => ReasonCase::UnverifiedBeyond,
        OutcomeStatus::Regression if t.p.is_none() && certified => ReasonCase::CertifiedBeyond,
        OutcomeStatus::Regression if t.p.is_none() => ReasonCase::AssumedExactBeyond,
        OutcomeStatus::Regression if t.sign_test => ReasonCase::SignTestBeyond,
        OutcomeStatus::Regression => ReasonCase::IntervalBeyond,
        OutcomeStatus::Inconclusive if t.sign_test => match p_adjusted {
            None => ReasonCase::SignTestOutOfReach,
            Some(_) => ReasonCase::SignTestNotSignificant,
        },
        OutcomeStatus::Inconclusive if t.low > 0.0 => ReasonCase::CorrectionFailed {
            significant_alone: t.p.is_some_and(|p| p < alpha),
        },
        OutcomeStatus::Inconclusive => ReasonCase::Straddles {
            repeats_needed: t.repeats_needed,
        },
        OutcomeStatus::Pass if change == 0.0 => ReasonCase::Unchanged,
        OutcomeStatus::Pass if t.deterministic => ReasonCase::Within,
        OutcomeStatus::Pass => ReasonCase::WithinOneSided,
        OutcomeStatus::Skipped => ReasonCase::None,
    }
}

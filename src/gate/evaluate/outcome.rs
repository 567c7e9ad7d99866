//! Steps 5 and 7: each (rule, metric)'s outcome from its limit tests, its reason, and the verdict.

use super::attribution::attribution;
use super::correction::{counts_as_fail, Corrected};
use super::limits::{Candidate, LimitTest};
use super::pairing::{ExactBasis, Sides};
use crate::gate::metrics;
use crate::gate::reach::Reach;
use crate::gate::report_model::{EvalOptions, OutcomeStatus, RuleOutcome, Verdict};
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
    let d = &c.stats;
    let mut o = RuleOutcome {
        rule: rule.name.clone(),
        severity: rule.severity,
        description: rule.description.clone(),
        metric: c.metric.clone(),
        benchmark: c.benchmark.clone(),
        kind: c.kind,
        status: OutcomeStatus::Pass,
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
        reason: String::new(),
        accepted: None,
    };
    if let Some(why) = &c.skipped {
        o.status = OutcomeStatus::Skipped;
        o.reason = why.clone();
        return o;
    }
    if let Some(why) = &c.too_few {
        // Never decided on one sample: neither exact nor a pass.
        o.status = OutcomeStatus::Inconclusive;
        o.limit = rule.limits.first().copied();
        o.reason = why.clone();
        return o;
    }
    let mut best: Option<(OutcomeStatus, usize)> = None;
    for (ti, t) in c.tests.iter().enumerate() {
        let p_adj = adjusted.get(&(ci, ti)).copied();
        let status = if c.unverified || (t.deterministic && t.p.is_none()) {
            if t.excess > 0.0 {
                OutcomeStatus::Regression
            } else {
                OutcomeStatus::Pass
            }
        } else if t.low > 0.0 && p_adj.is_some_and(|p| p < opts.alpha) {
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
    let (status, ti) = best.expect("a rule has at least one limit");
    let t = &c.tests[ti];
    o.status = status;
    o.limit = Some(t.limit);
    o.ci_low = t.ci.0;
    o.ci_high = t.ci.1;
    o.p_value = t.p;
    o.p_adjusted = adjusted.get(&(ci, ti)).copied();
    o.deterministic = t.deterministic;
    o.certified = t.deterministic && t.p.is_none() && t.exact == ExactBasis::Certified;
    o.noise_prior = (!t.deterministic).then_some(c.prior).flatten();
    o.error_control = if c.unverified {
        ErrorControl::Unverified
    } else if t.deterministic && t.p.is_none() {
        ErrorControl::Exact
    } else if counts_as_fail(c, opts) {
        ErrorControl::Holm
    } else {
        ErrorControl::Bh
    };
    if status == OutcomeStatus::Inconclusive {
        o.repeats_needed = t.repeats_needed;
    }
    o.reason = reason_for(&o, t, opts.alpha, (d.n_base, d.n_head, d.paired));
    if let Some(p) = o.noise_prior {
        o.reason.push_str(&format!(
            " [learned noise pooled: sd {} on {:.0} df]",
            metrics::format_delta(o.kind, p.sd).trim_start_matches('+'),
            p.df
        ));
    }
    o
}

/// Step 7: the verdict from the outcomes and checks. An open inconclusive fail-level
/// outcome is never a pass.
pub(crate) fn decide(
    outcomes: &[RuleOutcome],
    checks_ok: bool,
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
    } else if fails {
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
) -> String {
    let pooled = outcomes.iter().filter(|o| o.noise_prior.is_some()).count();
    let certified = outcomes.iter().filter(|o| o.certified).count();
    format!(
        "{}; pooled into {pooled} rule check(s), {certified} decided exactly as certified",
        noise.note(paired)
    )
}

/// The INCONCLUSIVE note: the actual cause and the command that settles it.
pub(super) fn inconclusive_note(
    outcomes: &[RuleOutcome],
    paired: bool,
    base: &StatsSet,
    head: &StatsSet,
    repeats: usize,
) -> String {
    let open: Vec<&RuleOutcome> = outcomes.iter().filter(|o| o.open_inconclusive()).collect();
    let mut causes = vec![];
    if !paired {
        let missing: Vec<&str> = [("base", base), ("head", head)]
            .iter()
            .filter(|(_, s)| !s.has_seeds())
            .map(|(l, _)| *l)
            .collect();
        causes.push(if missing.is_empty() {
            "the repeats are unpaired because base and head ran with different PYTHONHASHSEEDs, so seed-to-seed noise widens every interval: run both sides with the same --repeats (repeat k uses seed k)".to_string()
        } else {
            format!(
                "the repeats are unpaired because {} carries no seeds (no manifest.json), so seed-to-seed noise widens every interval: produce both sets with `pystats-gate run --repeats N` (or `gate`), or add a manifest.json with the seeds (docs/manifest.md)",
                missing.join(" and ")
            )
        });
    }
    // Repeats that would decide, when a finite number would.
    const FEW_ENOUGH: usize = 50;
    let needed = open
        .iter()
        .filter_map(|o| o.repeats_needed)
        .filter(|n| *n <= FEW_ENOUGH)
        .max();
    if let Some(n) = needed {
        causes.push(format!(
            "too few repeats for the noise seen: about {n} repeats per side would decide; settle it with `pystats-gate gate ... --repeats auto` (it adds paired repeats and spends alpha over its planned looks); rerunning at a fixed `--repeats {n}` and judging again at full alpha would be a second look at the same question, which raises the false-failure rate"
        ));
    }
    let borderline: Vec<String> = open
        .iter()
        .filter(|o| o.repeats_needed.is_none_or(|n| n > FEW_ENOUGH))
        .map(|o| format!("`{}` ({})", o.metric, o.rule))
        .collect();
    if !borderline.is_empty() {
        causes.push(format!(
            "the change sits on the limit for {}: more repeats barely help; if the change is intended accept it (`--accept 'RULE:METRIC because REASON'` or a `Pystats-Accept:` trailer), otherwise fix it or adjust the rule (docs/rules.md)",
            borderline.join(", ")
        ));
    }
    format!(
        "INCONCLUSIVE: {} rule check(s) could not be decided with {repeats} repeat(s): {}. `--strict` fails the gate on this",
        open.len(),
        causes.join("; ")
    )
}

pub(super) fn reason_for(
    o: &RuleOutcome,
    t: &LimitTest,
    alpha: f64,
    (nb, nh, paired): (usize, usize, bool),
) -> String {
    let limit = t.limit;
    let lim = crate::gate::rules::fmt_limit(o.kind, &Some(limit));
    let change = metrics::format_delta(o.kind, o.change);
    let correction = if o.error_control == ErrorControl::Bh {
        "Benjamini-Hochberg-adjusted"
    } else {
        "Holm-adjusted"
    };
    let exact_test = if paired {
        format!("the exact sign-flip test at the limit over {nb} pair(s)")
    } else {
        format!("the exact two-sample permutation test at the limit ({nb} + {nh} repeats)")
    };
    match o.status {
        OutcomeStatus::Regression if o.unverified => format!("changed {change}, beyond {lim} (UNVERIFIED: fewer than 2 repeats)"),
        OutcomeStatus::Regression if t.p.is_none() && o.certified => format!("changed {change} in every repeat, beyond {lim} (exact: zero variance, certified deterministic by the noise file)"),
        OutcomeStatus::Regression if t.p.is_none() => format!("changed {change} in every repeat, beyond {lim} (exact: zero paired variance; assumes the counters are fixed by build, corpus and seed)"),
        OutcomeStatus::Regression if t.sign_test => format!(
            "changed {change} in every repeat, beyond {lim}; not certified deterministic, so {exact_test} decides: {correction} p = {:.3} < {alpha}",
            o.p_adjusted.unwrap_or(0.0)
        ),
        OutcomeStatus::Regression => format!(
            "changed {change}; the whole {:.0}% interval is beyond {lim}, {correction} p = {:.3} < {alpha}",
            (1.0 - alpha) * 100.0,
            o.p_adjusted.unwrap_or(0.0)
        ),
        OutcomeStatus::Inconclusive if t.sign_test => match o.p_adjusted {
            None => format!(
                "changed {change} in every repeat, beyond {lim}, but not certified deterministic (`calibrate`: constant over >= 10 seeds): {exact_test} cannot reach its family's level (smallest p {:.4}); certify it or add repeats (`--repeats auto`)",
                t.min_p
            ),
            Some(p) => format!(
                "changed {change} in every repeat, beyond {lim}, but not certified deterministic: {exact_test} gives {correction} p = {p:.3}, not below {alpha}"
            ),
        },
        OutcomeStatus::Inconclusive if t.low > 0.0 => format!(
            "changed {change}; the whole {:.0}% interval is beyond {lim}, but the {correction} p = {:.3} is not below {alpha}{}",
            (1.0 - alpha) * 100.0,
            o.p_adjusted.unwrap_or(1.0),
            if o.p_value.is_some_and(|p| p < alpha) {
                " (significant alone: the multiple-testing correction over the family is what failed)"
            } else {
                ""
            }
        ),
        OutcomeStatus::Inconclusive => format!(
            "changed {change}; the {:.0}% interval straddles {lim}{}",
            (1.0 - alpha) * 100.0,
            match t.repeats_needed {
                Some(n) => format!("; about {n} repeats per side would decide"),
                None => "; more repeats are needed".to_string(),
            }
        ),
        OutcomeStatus::Pass if o.change == 0.0 => format!("unchanged, within {lim}"),
        OutcomeStatus::Pass => format!("changed {change}, within {lim}"),
        OutcomeStatus::Skipped => String::new(),
    }
}

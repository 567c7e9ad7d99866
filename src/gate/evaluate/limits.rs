//! Step 3: every (rule, metric) the rules apply to, with its limit tests before multiple-testing correction.

use super::pairing::{ExactBasis, MetricSamples, Sides};
use crate::gate::metrics::{self, split_bench, MetricKind, MetricValue};
use crate::gate::notes::SkipReason;
use crate::gate::report_model::EvalOptions;
use crate::gate::rules::{Limit, LimitKind, Rule};
use crate::gate::statistics::{
    mean, min_attainable_p, p_above, p_below, permutation_p_at_limit, permutation_p_beyond,
    repeats_needed, t_sf, DiffStats, NoisePrior,
};

/// A limit test before multiple-testing correction.
pub(super) struct LimitTest {
    pub(super) limit: Limit,
    /// Tested statistic's point estimate and interval, in "bigger is worse" orientation.
    pub(super) excess: f64,
    pub(super) low: f64,
    pub(super) high: f64,
    pub(super) p: Option<f64>,
    /// The t test's p alone: what decides where the exact permutation test cannot reach
    /// its family's level (see [`correct`]).
    pub(super) t_p: Option<f64>,
    pub(super) deterministic: bool,
    pub(super) repeats_needed: Option<usize>,
    /// Shown interval (natural orientation).
    pub(super) ci: (f64, f64),
    /// Why a zero-variance test was decided exactly (when `deterministic` and `p` is None).
    pub(super) exact: ExactBasis,
    /// Zero variance without an exact basis: `p` is the exact permutation test's.
    pub(super) sign_test: bool,
    /// Smallest p the test can give (0 for the t test).
    pub(super) min_p: f64,
}

pub(super) struct Candidate {
    pub(super) rule_idx: usize,
    pub(super) metric: String,
    pub(super) benchmark: Option<String>,
    pub(super) kind: MetricKind,
    pub(super) stats: DiffStats,
    /// Learned variance pooled into `stats`.
    pub(super) prior: Option<NoisePrior>,
    pub(super) tests: Vec<LimitTest>,
    pub(super) skipped: Option<SkipReason>,
    /// Fewer than 2 samples on a side after zero denominators: not decidable.
    pub(super) too_few: Option<(usize, usize)>,
    pub(super) unverified: bool,
    /// The samples and supports, hashed: an aggregate candidate with the same fingerprint
    /// as a benchmark's is that benchmark's metric (see `correction::group_keys`). None
    /// without support.
    pub(super) fingerprint: Option<u64>,
}

/// A hash of both sides' samples and supports (None when a side has no support).
fn fingerprint(m: &MetricSamples) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    if m.base_support <= 0.0 || m.head_support <= 0.0 {
        return None;
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for side in [&m.base, &m.head] {
        side.len().hash(&mut h);
        side.iter().for_each(|v| v.to_bits().hash(&mut h));
    }
    m.base_support.to_bits().hash(&mut h);
    m.head_support.to_bits().hash(&mut h);
    Some(h.finish())
}

/// (mean, se, df, half-width, deterministic) of one side's values, for `max`/`min` limits.
pub(super) fn one_sample(values: &[f64], confidence: f64) -> (f64, f64, f64, f64, bool) {
    let m = mean(values);
    if values.len() < 2 || crate::gate::statistics::all_equal(values) {
        return (m, 0.0, 0.0, 0.0, true);
    }
    let n = values.len() as f64;
    let se = crate::gate::statistics::sd(values) / n.sqrt();
    let q = crate::gate::statistics::t_quantile(confidence, n - 1.0);
    (m, se, n - 1.0, q * se, false)
}

pub(super) fn limit_test(limit: Limit, m: &MetricSamples, confidence: f64) -> LimitTest {
    let (d, base, head, floor) = (&m.stats, &m.base[..], &m.head[..], m.floor);
    if let Some(t) = relative_limit_test(limit, m, confidence) {
        return t;
    }
    let base_mag = d.base_mean.abs();
    // Turn every limit into "excess over an allowed change", bigger is worse.
    let (allowed, sign) = match limit.kind {
        LimitKind::MaxIncrease => (limit.value, 1.0),
        LimitKind::MaxDecrease => (limit.value, -1.0),
        LimitKind::MaxRelativeIncrease => (limit.value * base_mag, 1.0),
        LimitKind::MaxRelativeDecrease => (limit.value * base_mag, -1.0),
        LimitKind::ForbidAppearing => (0.0, 1.0),
        LimitKind::Max | LimitKind::Min => {
            let (m, se, df, half, det) = one_sample(head, confidence);
            // PASS on the one-sided (1 - alpha) bound, as in `oriented_test`.
            let pass_half = one_sample(head, 2.0 * confidence - 1.0).3;
            let (excess, low, high) = if limit.kind == LimitKind::Max {
                (
                    m - limit.value,
                    m - half - limit.value,
                    m + pass_half - limit.value,
                )
            } else {
                (
                    limit.value - m,
                    limit.value - m - half,
                    limit.value - m + pass_half,
                )
            };
            let p = if det {
                None
            } else {
                Some(t_sf(excess / se, df))
            };
            return LimitTest {
                limit,
                excess,
                low,
                high,
                p,
                t_p: p,
                deterministic: det,
                repeats_needed: None,
                ci: (m - half, m + half),
                exact: ExactBasis::PairedAssumed,
                sign_test: false,
                min_p: 0.0,
            };
        }
    };
    oriented_test(
        limit,
        d,
        (base, head),
        allowed.max(floor),
        sign > 0.0,
        (d.ci_low, d.ci_high),
        m.exact,
    )
}

/// "Change beyond `allowed`" in the bigger-is-worse orientation, from a difference's stats
/// (absolute, or log-ratio for relative limits) and the samples they came from (same
/// scale); `ci` is the interval shown. The p is the t test's, or the larger of it and the
/// exact one-sided permutation p once the permutation test can reach alpha (both must
/// reject: the t test's level is only approximate on small, seed-multimodal samples). Zero
/// variance is decided without a test only on an exact basis; otherwise the exact
/// permutation test at the limit alone gives p (its smallest value may not reach alpha).
pub(super) fn oriented_test(
    limit: Limit,
    d: &DiffStats,
    (base, head): (&[f64], &[f64]),
    allowed: f64,
    increase: bool,
    ci: (f64, f64),
    exact: ExactBasis,
) -> LimitTest {
    let (est, low) = if increase {
        (d.diff, d.ci_low)
    } else {
        (-d.diff, -d.ci_high)
    };
    let sign_test = d.deterministic && exact == ExactBasis::None;
    let (p, t_p) = if d.deterministic && !sign_test {
        (None, None)
    } else if sign_test {
        let p = permutation_p_at_limit(base, head, d.paired, allowed, increase);
        (Some(p), Some(p))
    } else {
        let t = if increase {
            p_above(d, allowed)
        } else {
            p_below(d, -allowed)
        };
        let alpha = 1.0 - d.confidence;
        let exact = permutation_p_beyond(base, head, d.paired, allowed, increase, alpha);
        (Some(exact.map_or(t, |e| t.max(e))), Some(t))
    };
    let sign = if increase { 1.0 } else { -1.0 };
    // A PASS needs only the one-sided (1 - alpha) upper bound within the limit (false PASS
    // at the limit <= alpha); a REGRESSION keeps the two-sided interval's lower end.
    let high = crate::gate::statistics::one_sided_upper(d, increase);
    LimitTest {
        limit,
        excess: est - allowed,
        low: low - allowed,
        high: high - allowed,
        p,
        t_p,
        deterministic: d.deterministic,
        repeats_needed: if d.deterministic || !allowed.is_finite() {
            None
        } else {
            repeats_needed(d, sign * allowed)
        },
        ci,
        exact,
        sign_test,
        min_p: if sign_test {
            min_attainable_p(d.paired, d.n_base, d.n_head)
        } else {
            0.0
        },
    }
}

/// A relative limit tested on ln(head / base) ([`crate::gate::statistics::compare_log_ratio`]), so
/// the base's noise widens the interval too; None for other limits or non-positive values.
pub(super) fn relative_limit_test(
    limit: Limit,
    m: &MetricSamples,
    confidence: f64,
) -> Option<LimitTest> {
    let increase = match limit.kind {
        LimitKind::MaxRelativeIncrease => true,
        LimitKind::MaxRelativeDecrease => false,
        _ => return None,
    };
    let (d, base, head) = (&m.stats, &m.base[..], &m.head[..]);
    let lr = crate::gate::statistics::compare_log_ratio(base, head, d.paired, confidence, m.prior)?;
    let bm = d.base_mean;
    // Allowed log-ratio, bigger-is-worse orientation; the count floor applies relatively.
    let rel = limit.value.max(m.floor / bm);
    let allowed = if increase {
        rel.ln_1p()
    } else if rel < 1.0 {
        -(-rel).ln_1p()
    } else {
        f64::INFINITY
    };
    // Shown in the metric's units: the log interval mapped back onto the base mean.
    let ci = (bm * lr.ci_low.exp_m1(), bm * lr.ci_high.exp_m1());
    let ln = |v: &[f64]| v.iter().map(|x| x.ln()).collect::<Vec<_>>();
    let (lb, lh) = (ln(base), ln(head));
    Some(oriented_test(
        limit,
        &lr,
        (&lb, &lh),
        allowed,
        increase,
        ci,
        m.exact,
    ))
}

/// Step 3: every (rule, metric) the rules apply to, with its limit tests (uncorrected p).
pub(super) fn test_rules(sides: &Sides, opts: &EvalOptions) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = vec![];
    let compare_metric = |n: &str, l: &MetricValue| sides.metric(n, l, opts);
    for (ri, rule) in opts.rules.rules.iter().enumerate() {
        // Each metric and benchmark name is matched against the rule's globs once.
        let mut metric_match = metrics::Memo::default();
        let mut bench_match = metrics::Memo::default();
        for entry in sides.all.iter() {
            let (bench, metric) = entry.split();
            let applies = if rule.metric.starts_with(metrics::BENCH_PREFIX) {
                rule.matches_metric(&entry.name())
            } else {
                match (bench, rule.per_benchmark()) {
                    (None, false) => metric_match.get(&metric, |m| rule.matches_metric(m)),
                    (Some(b), true) => {
                        bench_match.get(&b, |b| rule.matches_benchmark(b))
                            && metric_match.get(&metric, |m| rule.matches_metric(m))
                    }
                    _ => false,
                }
            };
            if applies {
                candidates.push(evaluate_candidate(
                    ri,
                    rule,
                    &entry.name(),
                    &entry.like,
                    &compare_metric,
                    sides.unverified,
                    1.0 - opts.alpha,
                ));
            }
        }
    }
    candidates
}

pub(super) fn evaluate_candidate(
    rule_idx: usize,
    rule: &Rule,
    name: &str,
    like: &MetricValue,
    compare_metric: &dyn Fn(&str, &MetricValue) -> MetricSamples,
    unverified: bool,
    confidence: f64,
) -> Candidate {
    let (bench, metric) = split_bench(name);
    let m = compare_metric(name, like);
    let (bv, hv, stats, sb, sh) = (&m.base, &m.head, &m.stats, m.base_support, m.head_support);
    let mut skipped = None;
    let mut too_few = None;
    if bv.is_empty() || hv.is_empty() {
        skipped = Some(SkipReason::NoComparableSample);
    } else if let Some(min) = rule.min_count {
        let forbid_only = rule
            .limits
            .iter()
            .all(|l| l.kind == LimitKind::ForbidAppearing);
        let support = if forbid_only { sh } else { sb.max(sh) };
        if support < min {
            skipped = Some(SkipReason::BelowMinCount {
                ratio: like.kind == MetricKind::Ratio,
                support,
                min_count: min,
            });
        }
    }
    if skipped.is_none() && !unverified && bv.len().min(hv.len()) < 2 {
        too_few = Some((bv.len(), hv.len()));
    }
    let mut tests = vec![];
    for limit in &rule.limits {
        if limit.kind == LimitKind::ForbidAppearing && bv.iter().any(|v| *v != 0.0) {
            // Present in base: it did not appear.
            tests.push(LimitTest {
                limit: *limit,
                excess: f64::NEG_INFINITY,
                low: f64::NEG_INFINITY,
                high: f64::NEG_INFINITY,
                p: None,
                t_p: None,
                deterministic: true,
                repeats_needed: None,
                ci: (stats.ci_low, stats.ci_high),
                exact: ExactBasis::PairedAssumed,
                sign_test: false,
                min_p: 0.0,
            });
            continue;
        }
        tests.push(limit_test(*limit, &m, confidence));
    }
    Candidate {
        rule_idx,
        metric: metric.to_string(),
        benchmark: bench.map(str::to_string),
        kind: like.kind,
        stats: m.stats.clone(),
        prior: m.prior,
        tests,
        skipped,
        too_few,
        unverified,
        fingerprint: fingerprint(&m),
    }
}

//! The changed metrics for reports: one top mover per distinct fact.

use super::attribution::attribution;
use crate::gate::metrics::{MetricKind, RepeatMetrics, PER_MILLION_SUFFIX};
use crate::gate::report_model::{EvalOptions, MetricComparison, Mover, OutcomeStatus, RuleOutcome};
use indexmap::IndexMap;

/// The changed metrics for reports: one [`Mover`] per distinct fact (metrics with identical
/// values in every repeat are folded into one, `.per_minstr` rescalings left out), biggest
/// first, the first `opts.top_movers` of those not already a violated, accepted or
/// inconclusive rule outcome; how many distinct facts changed; how many of them are in rules.
///
/// Order: changes a reader can act on first (support of at least 10 and at least 0.1%
/// relative, or 0.01 pp for ratios), each group by size (pp for ratios, relative for the rest).
pub(super) fn movers(
    comparisons: &[MetricComparison],
    outcomes: &[RuleOutcome],
    opts: &EvalOptions,
    benches: &[String],
    base_tables: &[RepeatMetrics],
    head_tables: &[RepeatMetrics],
) -> (Vec<Mover>, usize, usize) {
    let in_rules: std::collections::HashSet<&str> = outcomes
        .iter()
        .filter(|o| {
            o.benchmark.is_none()
                && matches!(
                    o.status,
                    OutcomeStatus::Regression | OutcomeStatus::Inconclusive
                )
        })
        .map(|o| o.metric.as_str())
        .collect();
    let mut ranked = ranked_facts(comparisons);
    let total = ranked.len();
    ranked.retain(|group| !group.iter().any(|c| in_rules.contains(c.name.as_str())));
    let shown = ranked
        .iter()
        .take(opts.top_movers)
        .map(|group| {
            let c = group[0];
            Mover {
                metric: c.name.clone(),
                kind: c.kind,
                base: c.stats.base_mean,
                head: c.stats.head_mean,
                change: c.stats.diff,
                relative_change: c.relative_change,
                ci_low: c.stats.ci_low,
                ci_high: c.stats.ci_high,
                deterministic: c.stats.deterministic,
                q_value: c.q_value,
                attribution: attribution(
                    &c.name,
                    benches,
                    base_tables,
                    head_tables,
                    opts.attribution,
                ),
                same_as: group[1..].iter().map(|x| x.name.clone()).collect(),
            }
        })
        .collect();
    (shown, total, total - ranked.len())
}

/// The changed metrics grouped by fact (identical values in every repeat; `.per_minstr`
/// rescalings left out), ranked as [`movers`] orders them.
fn ranked_facts(comparisons: &[MetricComparison]) -> Vec<Vec<&MetricComparison>> {
    // (kind, base bits, head bits) -> the metrics with exactly those values.
    type Fact = (String, Vec<u64>, Vec<u64>);
    let mut facts: IndexMap<Fact, Vec<&MetricComparison>> = IndexMap::new();
    for c in comparisons
        .iter()
        .filter(|c| c.changed && !c.name.ends_with(PER_MILLION_SUFFIX))
    {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        facts
            .entry((
                format!("{:?}", c.kind),
                bits(&c.base_values),
                bits(&c.head_values),
            ))
            .or_default()
            .push(c);
    }
    let mut ranked: Vec<(bool, f64, Vec<&MetricComparison>)> = facts
        .into_values()
        .map(|group| {
            let c = group[0];
            let s = &c.stats;
            let major = c.base_support.max(c.head_support) >= 10.0
                && match c.kind {
                    MetricKind::Ratio => s.diff.abs() >= 1e-4,
                    _ => c.relative_change.is_none_or(|r| r.abs() >= 1e-3),
                };
            let score = match c.kind {
                MetricKind::Ratio => s.diff.abs(),
                _ => s.diff.abs() / s.base_mean.abs().max(s.head_mean.abs()).max(1.0),
            };
            (major, score, group)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal))
            .then_with(|| a.2[0].name.cmp(&b.2[0].name))
    });
    ranked.into_iter().map(|(_, _, group)| group).collect()
}

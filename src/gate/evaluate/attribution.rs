//! Per-benchmark shares of an aggregate metric's change.

use super::pairing::column;
use crate::gate::metrics::{self, MetricKind, MetricValue, RepeatMetrics};
use crate::gate::report_model::Attribution;
use crate::gate::statistics::mean;

/// Per-benchmark shares of an aggregate metric's change (exact decomposition: for ratios each
/// benchmark contributes num_b / den_total on each side).
pub(super) fn attribution(
    name: &str,
    benches: &[String],
    base: &[RepeatMetrics],
    head: &[RepeatMetrics],
    top: usize,
) -> Vec<Attribution> {
    let Some(like) = base.iter().chain(head).find_map(|t| t.get(name)) else {
        return vec![];
    };
    let agg_b = column(base, name, &like);
    let agg_h = column(head, name, &like);
    let share = |tables: &[RepeatMetrics], agg: &[MetricValue], bench: &str| -> f64 {
        let key = format!("{}{bench}.{name}", metrics::BENCH_PREFIX);
        let vals: Vec<f64> = tables
            .iter()
            .zip(agg)
            .map(|(t, a)| {
                let v = t.get(&key).unwrap_or_else(|| like.zero_like());
                match (like.kind, a.den) {
                    (MetricKind::Count, _) => v.num,
                    (_, Some(d)) if d > 0.0 => v.num / d,
                    _ => 0.0,
                }
            })
            .collect();
        mean(&vals)
    };
    let mut out: Vec<Attribution> = benches
        .iter()
        .map(|b| {
            let (sb, sh) = (share(base, &agg_b, b), share(head, &agg_h, b));
            Attribution {
                benchmark: b.clone(),
                contribution: sh - sb,
                base: sb,
                head: sh,
            }
        })
        .filter(|a| a.contribution != 0.0)
        .collect();
    out.sort_by(|a, b| {
        b.contribution
            .abs()
            .partial_cmp(&a.contribution.abs())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // Benchmarks that moved the metric by under 1% of the biggest mover only dilute the
    // answer to "which benchmark did this" (a share shifts a hair when the total moves).
    let biggest = out.first().map(|a| a.contribution.abs()).unwrap_or(0.0);
    out.retain(|a| a.contribution.abs() >= biggest * 0.01);
    out.truncate(top);
    out
}

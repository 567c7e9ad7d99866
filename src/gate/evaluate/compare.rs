//! Step 2: every aggregate metric compared, with Benjamini-Hochberg q values and which changed.

use super::pairing::Sides;
use crate::gate::metrics::PER_MILLION_SUFFIX;
use crate::gate::report_model::{EvalOptions, MetricComparison};
use crate::gate::statistics::{benjamini_hochberg, hypothesis_key};

/// Step 2: every aggregate metric compared, Benjamini-Hochberg q values over those that
/// vary, and which changed. Returns the comparisons and how many were tested.
pub(super) fn compare_metrics(sides: &Sides, opts: &EvalOptions) -> (Vec<MetricComparison>, usize) {
    let mut comparisons: Vec<MetricComparison> = vec![];
    for entry in sides.all.iter().filter(|e| !e.is_benchmark()) {
        let (name, like) = (entry.name(), &entry.like);
        let m = sides.metric(&name, like, opts);
        // All zero, or a ratio with no sample on one side: nothing to compare.
        if m.base.iter().chain(&m.head).all(|v| *v == 0.0) || m.base.is_empty() || m.head.is_empty()
        {
            continue;
        }
        let relative_change =
            (m.stats.base_mean != 0.0).then(|| m.stats.diff / m.stats.base_mean.abs());
        comparisons.push(MetricComparison {
            name: name.into_owned(),
            kind: like.kind,
            base_values: m.base,
            head_values: m.head,
            stats: m.stats,
            relative_change,
            q_value: None,
            base_support: m.base_support,
            head_support: m.head_support,
            noise_floor: m.floor,
            changed: false,
        });
    }
    // A `.per_minstr` variant is its count rescaled: it inherits the count's q value
    // instead of entering the BH family a second time.
    let tested: Vec<usize> = (0..comparisons.len())
        .filter(|i| !comparisons[*i].stats.deterministic)
        .filter(|i| !comparisons[*i].name.ends_with(PER_MILLION_SUFFIX))
        .collect();
    let q = benjamini_hochberg(
        &tested
            .iter()
            .map(|i| comparisons[*i].stats.p_value)
            .collect::<Vec<_>>(),
    );
    for (k, i) in tested.iter().enumerate() {
        comparisons[*i].q_value = Some(q[k]);
    }
    let count_q: std::collections::HashMap<String, f64> = comparisons
        .iter()
        .filter_map(|c| Some((c.name.clone(), c.q_value?)))
        .collect();
    for c in &mut comparisons {
        if c.name.ends_with(PER_MILLION_SUFFIX) && !c.stats.deterministic {
            c.q_value = count_q.get(hypothesis_key(&c.name)).copied();
        }
        let beyond_floor = c.stats.diff.abs() > c.noise_floor;
        // With fewer than 2 repeats nothing can be tested: every move counts (unverified).
        let significant =
            c.stats.deterministic || sides.unverified || c.q_value.is_some_and(|q| q < opts.alpha);
        c.changed = c.stats.diff != 0.0 && beyond_floor && significant;
    }
    (comparisons, tested.len())
}

//! Step 1: both sides' metric tables, head paired with base by seed, and one metric's samples on both sides.

use crate::gate::check::CheckReport;
use crate::gate::metrics::{self, MetricKind, MetricValue, RepeatMetrics};
use crate::gate::notes::{Note, UnpairedCause};
use crate::gate::report_model::EvalOptions;
use crate::gate::statistics::{compare_with_prior, mean, DiffStats, NoisePrior};
use crate::stats::set::StatsSet;

/// Orders head's repeats to pair with base's by seed; None when the sets cannot be paired.
pub(super) fn pairing(base: &StatsSet, head: &StatsSet) -> Option<Vec<usize>> {
    if !base.has_seeds() || !head.has_seeds() || base.repeats.len() != head.repeats.len() {
        return None;
    }
    let mut order = vec![];
    for b in &base.repeats {
        let i = head.repeats.iter().position(|h| h.seed == b.seed)?;
        if order.contains(&i) {
            return None;
        }
        order.push(i);
    }
    Some(order)
}

/// The samples of one metric on both sides. A count a repeat lacks is 0; a ratio (or
/// per-million value) it lacks had a zero denominator and is no sample: it is dropped, with
/// its partner when the repeats are paired.
pub(super) fn samples(
    base: &[RepeatMetrics],
    head: &[RepeatMetrics],
    name: &str,
    like: &MetricValue,
    paired: bool,
) -> (Vec<MetricValue>, Vec<MetricValue>) {
    if like.kind == MetricKind::Count {
        return (column(base, name, like), column(head, name, like));
    }
    let get = |t: &RepeatMetrics| t.get(name);
    if paired && base.len() == head.len() {
        base.iter()
            .zip(head)
            .filter_map(|(b, h)| Some((get(b)?, get(h)?)))
            .unzip()
    } else {
        (
            base.iter().filter_map(get).collect(),
            head.iter().filter_map(get).collect(),
        )
    }
}

/// Values of one metric over repeats, filling a missing metric with a zero of its kind.
pub(super) fn column(tables: &[RepeatMetrics], name: &str, like: &MetricValue) -> Vec<MetricValue> {
    tables
        .iter()
        .map(|t| t.get(name).unwrap_or_else(|| like.zero_like()))
        .collect()
}

/// One count in a metric's units.
pub(super) fn noise_floor(kind: MetricKind, base: &[MetricValue], head: &[MetricValue]) -> f64 {
    let den = base
        .iter()
        .chain(head)
        .filter_map(|v| v.den)
        .fold(0.0, f64::max);
    match kind {
        MetricKind::Count => 1.0,
        MetricKind::Ratio | MetricKind::PerMillion => {
            if den > 0.0 {
                1.0 / den
            } else {
                0.0
            }
        }
    }
}

/// One metric's samples on both sides with their comparison.
pub(super) struct MetricSamples {
    pub(super) base: Vec<f64>,
    pub(super) head: Vec<f64>,
    pub(super) stats: DiffStats,
    /// One count in the metric's units.
    pub(super) floor: f64,
    /// Learned variance pooled into `stats` (`--noise`).
    pub(super) prior: Option<NoisePrior>,
    /// Why zero variance may be decided without a test.
    pub(super) exact: ExactBasis,
    pub(super) base_support: f64,
    pub(super) head_support: f64,
}

/// Why a zero-variance metric may be decided without a test (the exact path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ExactBasis {
    /// Calibration saw it constant over >= 10 seeds (`--noise`).
    Certified,
    /// Paired repeats and no calibration saying it varies: assumed fixed by build, corpus
    /// and seed (a same-build A/A pair cannot differ).
    PairedAssumed,
    /// Neither: zero variance is tested by the exact sign-flip or permutation test.
    None,
}

/// Both sides' metric tables, paired by seed when they can be: step 1 of [`evaluate_complete`].
pub(super) struct Sides {
    pub(super) base_tables: Vec<RepeatMetrics>,
    pub(super) head_tables: Vec<RepeatMetrics>,
    pub(super) paired: bool,
    /// Fewer than 2 repeats on a side: thresholds only.
    pub(super) unverified: bool,
    /// Every metric name (base order, then head-only) with a value of its kind.
    pub(super) all: metrics::MetricUnion,
    /// Benchmarks of both sides, base order then head-only.
    pub(super) benches: Vec<String>,
    /// The consistency checks of base and head, made from the same models as the metrics.
    pub(super) checks: Vec<CheckReport>,
}

/// Step 1: metric tables of both sides, head reordered to pair base by seed; rule
/// benchmark names checked against the sets. Notes say what is unpaired or unverified.
/// Why [`pairing`] found no one-to-one pairing by seed.
pub(super) fn unpaired_cause(base: &StatsSet, head: &StatsSet) -> UnpairedCause {
    let sides = [("base", base), ("head", head)];
    let unseeded: Vec<String> = sides
        .iter()
        .filter(|(_, s)| !s.has_seeds())
        .map(|(l, _)| l.to_string())
        .collect();
    if !unseeded.is_empty() {
        return UnpairedCause::NoSeeds(unseeded);
    }
    for (label, set) in sides {
        let mut seen = std::collections::HashSet::new();
        if let Some(seed) = set
            .repeats
            .iter()
            .filter_map(|r| r.seed)
            .find(|s| !seen.insert(*s))
        {
            return UnpairedCause::RepeatedSeed {
                side: label.to_string(),
                seed,
            };
        }
    }
    UnpairedCause::DifferentSeeds
}

pub(super) fn pair_repeats(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
    notes: &mut Vec<Note>,
) -> anyhow::Result<Sides> {
    let order = pairing(base, head);
    let paired = order.is_some();
    if !paired {
        notes.push(Note::Unpaired(unpaired_cause(base, head)));
    }
    // One model per dump feeds the metrics, the consistency checks and the renames note.
    let (b, h) = rayon::join(
        || metrics::set_metrics_and_checks(base, &opts.meta_base, &opts.exceptions, "base"),
        || metrics::set_metrics_and_checks(head, &opts.meta_head, &opts.exceptions, "head"),
    );
    let (b, h) = (b?, h?);
    let base_tables = b.tables;
    let mut head_tables = h.tables;
    for (side, renames) in [("base", b.renames), ("head", h.renames)] {
        if !renames.is_empty() {
            notes.push(Note::Renamed {
                side: side.to_string(),
                renames,
            });
        }
    }
    if let Some(order) = &order {
        let mut unordered = std::mem::take(&mut head_tables);
        head_tables = order
            .iter()
            .map(|i| std::mem::take(&mut unordered[*i]))
            .collect();
    }
    let unverified = base_tables.len() < 2 || head_tables.len() < 2;
    if unverified {
        notes.push(Note::Unverified {
            base: base_tables.len(),
            head: head_tables.len(),
        });
    }
    // Rule patterns are checked against the metrics the rules find in this data
    // ([`crate::gate::coverage::unchecked_rules`]), not against what could exist.
    let benches = union_in_order(
        base.benchmark_names()
            .into_iter()
            .chain(head.benchmark_names()),
    );
    opts.rules.check_benchmarks(&benches)?;
    let all = metrics::union_of(base_tables.iter().chain(&head_tables));
    Ok(Sides {
        base_tables,
        head_tables,
        paired,
        unverified,
        all,
        benches,
        checks: vec![b.checks, h.checks],
    })
}

/// `names` each once, in first-seen order (base's benchmarks, then head-only ones).
pub(super) fn union_in_order<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut seen = indexmap::IndexSet::new();
    for n in names {
        if !seen.contains(n.as_ref()) {
            seen.insert(n.as_ref().to_string());
        }
    }
    seen.into_iter().collect()
}

impl Sides {
    /// One metric's samples on both sides with their comparison.
    pub(super) fn metric(
        &self,
        name: &str,
        like: &MetricValue,
        opts: &EvalOptions,
    ) -> MetricSamples {
        let (b, h) = samples(
            &self.base_tables,
            &self.head_tables,
            name,
            like,
            self.paired,
        );
        let bv: Vec<f64> = b.iter().map(|v| v.value()).collect();
        let hv: Vec<f64> = h.iter().map(|v| v.value()).collect();
        let noise = opts.noise.as_ref();
        // Certified deterministic: no prior, the exact path. A metric calibration saw vary
        // is never exempt from testing; neither is zero variance between different seeds.
        let exact = if noise.is_some_and(|n| n.certifies(name)) {
            ExactBasis::Certified
        } else if self.paired && !noise.is_some_and(|n| n.varies_paired(name)) {
            ExactBasis::PairedAssumed
        } else {
            ExactBasis::None
        };
        let prior = noise
            .filter(|_| exact != ExactBasis::Certified)
            .and_then(|n| n.prior(name, self.paired));
        let stats = compare_with_prior(&bv, &hv, self.paired, 1.0 - opts.alpha, prior);
        let support = |v: &[MetricValue]| mean(&v.iter().map(|v| v.support()).collect::<Vec<_>>());
        MetricSamples {
            floor: noise_floor(like.kind, &b, &h),
            prior,
            exact,
            base_support: support(&b),
            head_support: support(&h),
            base: bv,
            head: hv,
            stats,
        }
    }
}

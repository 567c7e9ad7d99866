//! Step 4: multiple-testing correction: Holm over fail-level tests, Benjamini-Hochberg over warn-level ones, Tarone's rule.

use super::limits::Candidate;
use super::pairing::Sides;
use crate::gate::report_model::{EvalOptions, FalsePositives, MetricComparison, RuleOutcome};
use crate::gate::rules::LimitKind;
use crate::gate::rules::Severity;
use crate::gate::statistics::{
    adjust_grouped, benjamini_hochberg, exact_test_from, holm_nested, hypothesis_key, ErrorControl,
};
use indexmap::IndexMap;

/// Step 4's result: corrected p per (candidate, limit test), and the Holm family's size.
pub(super) struct Corrected {
    pub(super) adjusted: std::collections::HashMap<(usize, usize), f64>,
    pub(super) holm_family: usize,
    /// Fail-level exact permutation tests of zero-variance outcomes left out of the Holm
    /// family because their smallest p cannot reach its level (hypothesis groups).
    pub(super) out_of_reach: usize,
}

/// Tarone's rule: the smallest k >= 1 such that at most k hypotheses can reach p <= alpha / k
/// (`min_p`: each one's smallest attainable p; 0 for continuous tests); returns which are
/// kept. The others can never be rejected at the family's level, so leaving them out keeps
/// the family-wise bound and stops them diluting the tests that can reject.
pub(super) fn tarone(min_p: &[f64], alpha: f64) -> Vec<bool> {
    let reach = |k: usize| min_p.iter().filter(|p| **p <= alpha / k as f64).count();
    let k = (1..=min_p.len().max(1))
        .find(|k| reach(*k) <= *k)
        .unwrap_or(min_p.len().max(1));
    min_p.iter().map(|p| *p <= alpha / k as f64).collect()
}

/// Whether a candidate's rule can fail the gate (fail-level, or warn under --fail-on-warn).
pub(super) fn counts_as_fail(c: &Candidate, opts: &EvalOptions) -> bool {
    opts.rules.rules[c.rule_idx].severity == Severity::Fail || opts.fail_on_warn
}

/// Step 4: Holm over fail-level tests, BH over warn-level ones (deterministic and
/// unverified tests skip both). One hypothesis group per (benchmark, metric up to
/// `.per_minstr`): a rescaled variant does not inflate the families, nor does an aggregate
/// metric that is one benchmark's. Within a group, tests of one statistic in one direction
/// at nested limits count once (see [`holm_nested`]).
pub(super) fn correct(candidates: &[Candidate], opts: &EvalOptions) -> Corrected {
    let slots = Slots::of(candidates);
    let (mut holm_idx, mut bh_idx) = families(candidates, opts);
    let out_of_reach = keep_reachable(candidates, &slots, &mut holm_idx, opts.alpha);
    keep_reachable(candidates, &slots, &mut bh_idx, opts.alpha);
    let mut adjusted = std::collections::HashMap::new();
    let holm_family = slots.groups_in(&holm_idx);
    let p = family_p(candidates, &holm_idx, holm_family, opts.alpha);
    let (group, chain) = slots.of_tests(&holm_idx);
    adjusted.extend(
        holm_idx
            .iter()
            .copied()
            .zip(holm_nested(&p, &group, &chain)),
    );
    let p = family_p(candidates, &bh_idx, slots.groups_in(&bh_idx), opts.alpha);
    let bp = adjust_grouped(&p, &slots.of_tests(&bh_idx).0, benjamini_hochberg);
    adjusted.extend(bh_idx.iter().copied().zip(bp));
    Corrected {
        adjusted,
        holm_family,
        out_of_reach,
    }
}

/// A limit test: (candidate index, test index).
type TestIdx = (usize, usize);

/// The tests with a p value, split into the Holm family (rules that can fail the gate) and
/// the BH family (the others); skipped and unverified candidates join neither.
fn families(candidates: &[Candidate], opts: &EvalOptions) -> (Vec<TestIdx>, Vec<TestIdx>) {
    let mut holm_idx = vec![];
    let mut bh_idx = vec![];
    for (ci, c) in candidates.iter().enumerate() {
        if c.skipped.is_some() || c.unverified {
            continue;
        }
        for (ti, t) in c.tests.iter().enumerate() {
            if t.p.is_some() {
                if counts_as_fail(c, opts) {
                    holm_idx.push((ci, ti));
                } else {
                    bh_idx.push((ci, ti));
                }
            }
        }
    }
    (holm_idx, bh_idx)
}

/// Each candidate's hypothesis group and each test's chain, as small integers.
struct Slots {
    /// Per candidate: its group.
    group: Vec<usize>,
    /// Per candidate, per test: its chain.
    chain: Vec<Vec<usize>>,
}

impl Slots {
    fn of(candidates: &[Candidate]) -> Slots {
        let mut groups: IndexMap<(&str, &str), ()> = IndexMap::new();
        let group: Vec<usize> = group_keys(candidates)
            .into_iter()
            .map(|k| groups.insert_full(k, ()).0)
            .collect();
        let mut chains: IndexMap<ChainKey, ()> = IndexMap::new();
        let chain = candidates
            .iter()
            .zip(&group)
            .map(|(c, g)| {
                c.tests
                    .iter()
                    .map(|t| chains.insert_full(chain_key(*g, c, t.limit.kind), ()).0)
                    .collect()
            })
            .collect();
        Slots { group, chain }
    }

    /// The groups and chains of `idx`'s tests, in order.
    fn of_tests(&self, idx: &[TestIdx]) -> (Vec<usize>, Vec<usize>) {
        idx.iter()
            .map(|&(c, t)| (self.group[c], self.chain[c][t]))
            .unzip()
    }

    /// How many hypothesis groups `idx`'s tests fall in.
    fn groups_in(&self, idx: &[TestIdx]) -> usize {
        let groups: std::collections::HashSet<usize> =
            idx.iter().map(|i| self.group[i.0]).collect();
        groups.len()
    }
}

/// Each candidate's hypothesis group: its benchmark and its metric up to `.per_minstr`. An
/// aggregate metric whose samples and supports on both sides are one benchmark's (no other
/// benchmark contributes: a one-benchmark set, or a family only one benchmark executes) is
/// that benchmark's hypothesis, not a second one.
fn group_keys(candidates: &[Candidate]) -> Vec<(&str, &str)> {
    let mut bench_of: std::collections::HashMap<(&str, u64), Option<&str>> =
        std::collections::HashMap::new();
    for c in candidates {
        if let (Some(b), Some(f)) = (c.benchmark.as_deref(), c.fingerprint) {
            let e = bench_of.entry((c.metric.as_str(), f)).or_insert(Some(b));
            if *e != Some(b) {
                *e = None; // two benchmarks alike: neither is the aggregate alone
            }
        }
    }
    candidates
        .iter()
        .map(|c| {
            let alone = match (&c.benchmark, c.fingerprint) {
                (None, Some(f)) => bench_of.get(&(c.metric.as_str(), f)).copied().flatten(),
                _ => None,
            };
            (
                alone.or(c.benchmark.as_deref()).unwrap_or(""),
                hypothesis_key(&c.metric),
            )
        })
        .collect()
}

/// A test's chain: its group, metric, learned prior and the statistic and direction its
/// limit kind tests. Tests of one chain differ only in their limit, so their nulls nest.
fn chain_key(group: usize, c: &Candidate, kind: LimitKind) -> ChainKey<'_> {
    let statistic = match kind {
        LimitKind::MaxIncrease | LimitKind::ForbidAppearing => "change+",
        LimitKind::MaxDecrease => "change-",
        LimitKind::MaxRelativeIncrease => "ratio+",
        LimitKind::MaxRelativeDecrease => "ratio-",
        LimitKind::Max => "level+",
        LimitKind::Min => "level-",
    };
    let prior = c.prior.map(|p| (p.sd.to_bits(), p.df.to_bits()));
    (group, &c.metric, statistic, prior)
}

/// (group, metric, statistic and direction, learned prior's bits).
type ChainKey<'a> = (usize, &'a str, &'static str, Option<(u64, u64)>);

/// Tarone's rule over a family's hypothesis groups: drops the tests of groups that can never
/// reach the family's level; returns how many groups left.
fn keep_reachable(
    candidates: &[Candidate],
    slots: &Slots,
    idx: &mut Vec<TestIdx>,
    alpha: f64,
) -> usize {
    // A group's smallest attainable p: Bonferroni over its chains, 0 if any is continuous.
    let mut min_p: IndexMap<usize, (f64, std::collections::HashSet<usize>)> = IndexMap::new();
    for i in idx.iter() {
        let e = min_p
            .entry(slots.group[i.0])
            .or_insert_with(|| (1.0, Default::default()));
        e.0 = e.0.min(candidates[i.0].tests[i.1].min_p);
        e.1.insert(slots.chain[i.0][i.1]);
    }
    let p: Vec<f64> = min_p.values().map(|(p, k)| p * k.len() as f64).collect();
    let keep = tarone(&p, alpha);
    let kept: std::collections::HashSet<usize> = min_p
        .keys()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(g, _)| *g)
        .collect();
    let before = min_p.len();
    idx.retain(|i| kept.contains(&slots.group[i.0]));
    before - kept.len()
}

/// The p value each test of a family of `family` hypotheses enters the correction with.
fn family_p(candidates: &[Candidate], idx: &[TestIdx], family: usize, alpha: f64) -> Vec<f64> {
    // The exact permutation test joins the t test only where its smallest attainable p
    // reaches the family's strictest level (alpha / family size): below that, requiring
    // both would leave a test that can never reject, so the t test decides alone.
    let level = alpha / family.max(1) as f64;
    idx.iter()
        .map(|(c, t)| {
            let (cand, test) = (&candidates[*c], &candidates[*c].tests[*t]);
            let n = cand.stats.n_base.min(cand.stats.n_head);
            let joins = n >= exact_test_from(cand.stats.paired, level);
            if joins { test.p } else { test.t_p }.unwrap_or(1.0)
        })
        .collect()
}

impl FalsePositives {
    /// The counts known once the tests are corrected, before the candidates become outcomes:
    /// the Holm family, the fail-level tests decided by the exact permutation test, and where
    /// that test joins. The movers' counts are added by [`FalsePositives::count_movers`], the
    /// outcome counts by [`FalsePositives::count_outcomes`].
    pub(super) fn from_tests(
        candidates: &[Candidate],
        corrected: &Corrected,
        sides: &Sides,
        opts: &EvalOptions,
    ) -> FalsePositives {
        // Said in the statistics footnote, not as a loud note: the t test still decides. The
        // exact test's reach is judged at the Holm family's strictest level, as in `correct`.
        let family_level = opts.alpha / corrected.holm_family.max(1) as f64;
        let cross_check = crate::gate::statistics::power_note(
            sides.paired,
            sides.base_tables.len(),
            sides.head_tables.len(),
            family_level,
        );
        let sign_tested_fail_level = candidates
            .iter()
            .filter(|c| c.skipped.is_none() && !c.unverified && counts_as_fail(c, opts))
            .filter(|c| c.tests.iter().any(|t| t.sign_test))
            .count();
        FalsePositives {
            tested: 0,
            expected_uncorrected: 0.0,
            discoveries: 0,
            expected_false_discoveries: 0.0,
            holm_family: corrected.holm_family,
            exact_fail_level: 0,
            certified_fail_level: 0,
            sign_tested_fail_level,
            sign_tested_out_of_reach: corrected.out_of_reach,
            unverified_fail_level: 0,
            cross_check,
            exact_from: exact_test_from(sides.paired, family_level),
        }
    }

    /// The movers' counts: `tested` metrics that varied and were tested, and the changed
    /// ones among `comparisons` (discoveries), with what alpha expects of each.
    pub(super) fn count_movers(
        &mut self,
        comparisons: &[MetricComparison],
        tested: usize,
        alpha: f64,
    ) {
        self.discoveries = comparisons
            .iter()
            .filter(|c| !c.stats.deterministic && c.changed)
            .count();
        self.tested = tested;
        self.expected_uncorrected = tested as f64 * alpha;
        self.expected_false_discoveries = self.discoveries as f64 * alpha;
    }

    /// Counts the outcomes that can fail the gate by the path that decided them (exact,
    /// certified, unverified).
    pub(super) fn count_outcomes(&mut self, outcomes: &[RuleOutcome], fail_on_warn: bool) {
        let gating = || {
            outcomes
                .iter()
                .filter(move |o| o.severity == Severity::Fail || fail_on_warn)
        };
        let path_count = |path: ErrorControl| gating().filter(|o| o.error_control == path).count();
        self.exact_fail_level = path_count(ErrorControl::Exact);
        self.certified_fail_level = gating().filter(|o| o.certified).count();
        self.unverified_fail_level = path_count(ErrorControl::Unverified);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On a one-benchmark set the aggregate metric is that benchmark's: the aggregate rule
    /// and the per-benchmark rule test one hypothesis, and their limits (1 and 2 pp) nest
    /// into one chain, so the Holm family does not count it twice.
    #[test]
    fn an_aggregate_that_is_one_benchmark_is_its_hypothesis() {
        let only_arith = |mut s: crate::stats::set::StatsSet| {
            for r in &mut s.repeats {
                r.benchmarks.retain(|b, _| b == "arith");
            }
            s
        };
        let (group, chain) = aggregate_and_arith(only_arith);
        assert_eq!(group.0, group.1);
        assert_eq!(chain.0, chain.1);
        // With a second benchmark executing BINARY_OP the aggregate is its own hypothesis.
        let (group, _) = aggregate_and_arith(|s| s);
        assert_ne!(group.0, group.1);
    }

    /// The groups and first tests' chains of the aggregate and `arith` BINARY_OP miss ratio
    /// candidates, on the real A/A fixtures (head with more misses) cut down by `cut`.
    fn aggregate_and_arith(
        cut: impl Fn(crate::stats::set::StatsSet) -> crate::stats::set::StatsSet,
    ) -> ((usize, usize), (usize, usize)) {
        use super::super::tests::{noisy, opts};
        use crate::stats::set::real_fixture;
        let base = cut(real_fixture("aa-base"));
        let head = cut(noisy(real_fixture("aa-head"), &[900, 1300, 700]));
        let o = opts();
        let sides = super::super::pairing::pair_repeats(&base, &head, &o, &mut vec![]).unwrap();
        let candidates = super::super::limits::test_rules(&sides, &o);
        let slots = Slots::of(&candidates);
        let find = |bench: Option<&str>| {
            candidates
                .iter()
                .position(|c| {
                    c.metric == "family.BINARY_OP.miss_ratio" && c.benchmark.as_deref() == bench
                })
                .unwrap()
        };
        let (agg, arith) = (find(None), find(Some("arith")));
        (
            (slots.group[agg], slots.group[arith]),
            (slots.chain[agg][0], slots.chain[arith][0]),
        )
    }

    /// Tarone's rule: tests whose smallest p cannot reach alpha / k leave the family.
    #[test]
    fn tarone_keeps_only_tests_that_can_reach_the_family_level() {
        // One t test (0) and 30 exact tests whose smallest p is 1/32: k = 2 keeps the t test.
        let mut p = vec![0.0];
        p.extend(std::iter::repeat_n(1.0 / 32.0, 30));
        let keep = tarone(&p, 0.05);
        assert!(keep[0] && keep[1..].iter().all(|k| !k));
        // Two exact tests at 1/64 and a t test: k = 3 keeps all (1/64 <= 0.05/3).
        assert_eq!(tarone(&[0.0, 1.0 / 64.0, 1.0 / 64.0], 0.05), vec![true; 3]);
        assert_eq!(tarone(&[], 0.05), Vec::<bool>::new());
    }
}

//! Step 4: multiple-testing correction: Holm over fail-level tests, Benjamini-Hochberg over warn-level ones, Tarone's rule.

use super::limits::Candidate;
use super::pairing::Sides;
use crate::gate::report_model::{EvalOptions, FalsePositives, MetricComparison, RuleOutcome};
use crate::gate::rules::Severity;
use crate::gate::statistics::{
    adjust_grouped, benjamini_hochberg, exact_test_from, holm, hypothesis_key, ErrorControl,
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
/// unverified tests skip both). One hypothesis per (benchmark, metric up to `.per_minstr`):
/// a rescaled variant does not inflate the families.
pub(super) fn correct(candidates: &[Candidate], opts: &EvalOptions) -> Corrected {
    let (mut holm_idx, mut bh_idx) = families(candidates, opts);
    let out_of_reach = keep_reachable(candidates, &mut holm_idx, opts.alpha);
    keep_reachable(candidates, &mut bh_idx, opts.alpha);
    let mut adjusted = std::collections::HashMap::new();
    let (holm_family, hp) = adjust_family(candidates, &holm_idx, opts.alpha, holm);
    adjusted.extend(holm_idx.iter().copied().zip(hp));
    let (_, bp) = adjust_family(candidates, &bh_idx, opts.alpha, benjamini_hochberg);
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

/// The hypothesis a test belongs to: its benchmark and its metric up to `.per_minstr`.
fn hypothesis_group(candidates: &[Candidate], (c, _): &TestIdx) -> String {
    let c = &candidates[*c];
    format!(
        "{}|{}",
        c.benchmark.as_deref().unwrap_or(""),
        hypothesis_key(&c.metric)
    )
}

/// Tarone's rule over a family's hypothesis groups: drops the tests of groups that can never
/// reach the family's level; returns how many groups left.
fn keep_reachable(candidates: &[Candidate], idx: &mut Vec<TestIdx>, alpha: f64) -> usize {
    // A group's smallest attainable p: Bonferroni over its members, 0 if any is continuous.
    let mut min_p: IndexMap<String, (f64, usize)> = IndexMap::new();
    for i in idx.iter() {
        let e = min_p
            .entry(hypothesis_group(candidates, i))
            .or_insert((f64::INFINITY, 0));
        e.0 = e.0.min(candidates[i.0].tests[i.1].min_p);
        e.1 += 1;
    }
    let p: Vec<f64> = min_p.values().map(|(p, k)| p * *k as f64).collect();
    let keep = tarone(&p, alpha);
    let kept: std::collections::HashSet<&String> = min_p
        .keys()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(g, _)| g)
        .collect();
    let before = min_p.len();
    idx.retain(|i| kept.contains(&hypothesis_group(candidates, i)));
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

/// One family's corrected p values (in `idx` order, one hypothesis per group) and its size
/// in hypotheses.
fn adjust_family(
    candidates: &[Candidate],
    idx: &[TestIdx],
    alpha: f64,
    adjust: fn(&[f64]) -> Vec<f64>,
) -> (usize, Vec<f64>) {
    let groups: Vec<String> = idx
        .iter()
        .map(|i| hypothesis_group(candidates, i))
        .collect();
    let mut distinct = groups.clone();
    distinct.sort();
    distinct.dedup();
    let family = distinct.len();
    let p = adjust_grouped(&family_p(candidates, idx, family, alpha), &groups, adjust);
    (family, p)
}

impl FalsePositives {
    /// The counts known once the tests are corrected, before the candidates become outcomes:
    /// tested metrics and discoveries, the Holm family, the fail-level tests decided by the
    /// exact permutation test, and where that test joins. The outcome counts are added by
    /// [`FalsePositives::count_outcomes`].
    pub(super) fn from_tests(
        candidates: &[Candidate],
        corrected: &Corrected,
        comparisons: &[MetricComparison],
        tested: usize,
        sides: &Sides,
        opts: &EvalOptions,
    ) -> FalsePositives {
        let discoveries = comparisons
            .iter()
            .filter(|c| !c.stats.deterministic && c.changed)
            .count();
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
            tested,
            expected_uncorrected: tested as f64 * opts.alpha,
            discoveries,
            expected_false_discoveries: discoveries as f64 * opts.alpha,
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

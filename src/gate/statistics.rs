//! Statistics for comparing repeats: paired/Welch t intervals, exact permutation tests, Holm and BH corrections.
//!
//! Pystats counters are near-deterministic: zero variance is the common case and is handled
//! exactly (no test, the interval is the point). Otherwise a paired t interval is used when
//! repeats are paired by PYTHONHASHSEED, Welch's otherwise.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The difference head - base of one metric, with its uncertainty.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiffStats {
    pub n_base: usize,
    pub n_head: usize,
    pub paired: bool,
    pub base_mean: f64,
    pub head_mean: f64,
    pub base_sd: f64,
    pub head_sd: f64,
    /// head_mean - base_mean.
    pub diff: f64,
    /// Standard error of `diff` (0 when deterministic).
    pub se: f64,
    /// Degrees of freedom of the t distribution behind `se`.
    pub df: f64,
    /// Confidence interval of `diff` at `confidence`.
    pub ci_low: f64,
    pub ci_high: f64,
    pub confidence: f64,
    /// Two-sided p of the t test (paired or Welch) that diff = 0.
    pub p_value: f64,
    /// Two-sided exact permutation p, a distribution-free cross-check of `p_value`: sign
    /// flips of the seed-paired differences (paired), else a two-sample permutation test.
    /// None when deterministic or a side has fewer than 2 values.
    #[serde(default)]
    pub permutation_p: Option<f64>,
    /// Every sample identical on each side (or every paired difference identical) and no
    /// learned noise to pool: no spread to test.
    pub deterministic: bool,
    /// Degrees of freedom the learned noise (`--noise`) added to `df` (0: none pooled).
    #[serde(default)]
    pub prior_df: f64,
}

/// A variance learned by calibration (`--noise`): one repeat's standard deviation (unpaired)
/// or one seed-paired difference's (paired), with its degrees of freedom. Pooled with the
/// observed variance inside the t test, it informs the test; it never moves a rule's limit.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoisePrior {
    pub sd: f64,
    pub df: f64,
}

/// Pools a sample variance `s2` of `n` values with `prior`: (df0 s0^2 + (n-1) s^2) /
/// (df0 + n - 1) on df0 + n - 1 degrees of freedom (the observed values alone without one).
pub fn pooled_variance(s2: f64, n: usize, prior: Option<NoisePrior>) -> (f64, f64) {
    let own = n.saturating_sub(1) as f64;
    match prior {
        Some(p) if p.df > 0.0 => ((p.df * p.sd.powi(2) + own * s2) / (p.df + own), p.df + own),
        _ => (s2, own),
    }
}

/// Arithmetic mean (0 for no values): the one mean of the crate's statistics.
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Sample standard deviation (n - 1; 0 below 2 values).
pub fn sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// All values equal up to floating-point rounding (sums of the same counts in another order
/// differ in the last bits; those are no spread to test).
pub fn all_equal(v: &[f64]) -> bool {
    v.windows(2)
        .all(|w| (w[0] - w[1]).abs() <= 1e-12 * w[0].abs().max(w[1].abs()))
}

/// Degrees of freedom beyond which Student's t is taken at this value: statrs' inverse
/// t cdf searches for minutes at 1e9 (a noise file's `df` can say anything), and t at
/// 1e5 df is the normal to 5 digits. Fewer degrees of freedom only widen an interval, so
/// the cap never narrows one.
const MAX_DF: f64 = 1e5;

/// Two-sided t quantile for `confidence` with `df` degrees of freedom.
pub fn t_quantile(confidence: f64, df: f64) -> f64 {
    let df = df.max(1.0).min(MAX_DF);
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(0.5 + confidence / 2.0))
        .unwrap_or(f64::INFINITY)
}

/// Survival function P(T > x) of Student's t with `df` degrees of freedom (statrs).
pub fn t_sf(x: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1.0).min(MAX_DF))
        .map(|t| 1.0 - t.cdf(x))
        .unwrap_or(0.5)
}

/// Welch's standard error and Welch-Satterthwaite degrees of freedom from the two sides'
/// variances of the mean (`vb`, `vh`) and the degrees of freedom behind each.
fn welch(vb: f64, vh: f64, dfb: f64, dfh: f64) -> (f64, f64) {
    let df = (vb + vh).powi(2) / (vb.powi(2) / dfb + vh.powi(2) / dfh).max(f64::MIN_POSITIVE);
    ((vb + vh).sqrt(), df)
}

/// The most degrees of freedom two unpaired sides pooled with one learned variance can
/// carry: the prior's once plus each side's own. Welch-Satterthwaite would count the
/// prior on both sides as if learned twice, narrowing the interval.
fn shared_prior_df(prior: NoisePrior, n_base: usize, n_head: usize) -> f64 {
    prior.df + n_base.saturating_sub(1) as f64 + n_head.saturating_sub(1) as f64
}

/// Compares two sample vectors. `paired` means base[i] and head[i] share a seed.
pub fn compare_samples(base: &[f64], head: &[f64], paired: bool, confidence: f64) -> DiffStats {
    compare_with_prior(base, head, paired, confidence, None)
}

/// [`compare_samples`] with a learned variance pooled into the t test: per side (Welch-
/// Satterthwaite over the two pooled sides) when unpaired, into the paired differences'
/// variance when paired. The caller passes a paired prior only when it was learned paired.
/// With a prior, zero observed spread is no longer exact: the learned spread is tested.
pub fn compare_with_prior(
    base: &[f64],
    head: &[f64],
    paired: bool,
    confidence: f64,
    prior: Option<NoisePrior>,
) -> DiffStats {
    let prior = prior.filter(|p| p.df > 0.0 && p.sd > 0.0 && p.sd.is_finite());
    let paired = paired && base.len() == head.len() && base.len() >= 2;
    let (bm, hm) = (mean(base), mean(head));
    let diff = hm - bm;
    let mut out = DiffStats {
        n_base: base.len(),
        n_head: head.len(),
        paired,
        base_mean: bm,
        head_mean: hm,
        base_sd: sd(base),
        head_sd: sd(head),
        diff,
        se: 0.0,
        df: 0.0,
        ci_low: diff,
        ci_high: diff,
        confidence,
        p_value: if diff == 0.0 { 1.0 } else { 0.0 },
        permutation_p: None,
        deterministic: true,
        prior_df: 0.0,
    };
    let (se, df) = if paired {
        let d: Vec<f64> = head.iter().zip(base).map(|(h, b)| h - b).collect();
        let constant = all_equal(&d);
        if constant && prior.is_none() {
            return out;
        }
        if !constant {
            out.permutation_p = Some(sign_flip_p(&d));
        }
        let s2 = if constant { 0.0 } else { sd(&d).powi(2) };
        let (v, df) = pooled_variance(s2, d.len(), prior);
        ((v / d.len() as f64).sqrt(), df)
    } else if let Some(p) = prior.filter(|_| !base.is_empty() && !head.is_empty()) {
        let side = |v: &[f64], s: f64| {
            let s2 = if all_equal(v) { 0.0 } else { s.powi(2) };
            pooled_variance(s2, v.len(), Some(p))
        };
        let (vb, dfb) = side(base, out.base_sd);
        let (vh, dfh) = side(head, out.head_sd);
        if base.len() >= 2 && head.len() >= 2 && !(all_equal(base) && all_equal(head)) {
            out.permutation_p = Some(two_sample_permutation_p(base, head));
        }
        let (se, df) = welch(vb / base.len() as f64, vh / head.len() as f64, dfb, dfh);
        (se, df.min(shared_prior_df(p, base.len(), head.len())))
    } else {
        if all_equal(base) && all_equal(head) {
            return out;
        }
        unpaired_spread(base, head, &mut out)
    };
    out.prior_df = prior.map_or(0.0, |p| p.df);
    out.deterministic = false;
    out.se = se;
    out.df = df;
    let q = t_quantile(confidence, df);
    out.ci_low = diff - q * se;
    out.ci_high = diff + q * se;
    out.p_value = (2.0 * t_sf((diff / se).abs(), df)).min(1.0);
    out
}

/// Standard error and degrees of freedom of an unpaired difference without a prior (some
/// value varies); sets the two-sided permutation p when both sides have 2+ values.
fn unpaired_spread(base: &[f64], head: &[f64], out: &mut DiffStats) -> (f64, f64) {
    if base.len() < 2 || head.len() < 2 {
        // One side has a single value but the other varies: the single value's spread is
        // unknown, so borrow the other side's (a pooled guess, flagged by n < 2 upstream).
        let s = if base.len() >= 2 {
            out.base_sd
        } else {
            out.head_sd
        };
        let n = base.len().max(head.len());
        return (s * (1.0 + 1.0 / n as f64).sqrt(), (n - 1) as f64);
    }
    out.permutation_p = Some(two_sample_permutation_p(base, head));
    welch(
        out.base_sd.powi(2) / base.len() as f64,
        out.head_sd.powi(2) / head.len() as f64,
        (base.len() - 1) as f64,
        (head.len() - 1) as f64,
    )
}

/// ln(head / base) with its uncertainty, for relative limits: the base's own noise counts
/// too. Paired: a paired t on the per-seed log-ratios ln(h_i / b_i) (the seed's effect
/// cancels within a pair). Unpaired: the delta method, Var ln(mean) ~ sd^2 / (n mean^2) per
/// side, with Welch-Satterthwaite degrees of freedom. None when a value is not positive
/// (no logarithm) or a side has no value; the caller then falls back to the absolute change.
/// A learned `prior` (metric units) enters as sd / mean in log units.
pub fn compare_log_ratio(
    base: &[f64],
    head: &[f64],
    paired: bool,
    confidence: f64,
    prior: Option<NoisePrior>,
) -> Option<DiffStats> {
    if base.is_empty() || head.is_empty() || base.iter().chain(head).any(|v| *v <= 0.0) {
        return None;
    }
    let ln = |v: &[f64]| v.iter().map(|x| x.ln()).collect::<Vec<_>>();
    let (bm, hm) = (mean(base), mean(head));
    let in_logs = |m: f64| {
        prior.map(|p| NoisePrior {
            sd: p.sd / m,
            df: p.df,
        })
    };
    if paired && base.len() == head.len() && base.len() >= 2 {
        return Some(compare_with_prior(
            &ln(base),
            &ln(head),
            true,
            confidence,
            in_logs(bm),
        ));
    }
    let diff = (hm / bm).ln();
    let mut out = compare_samples(&[bm.ln()], &[hm.ln()], false, confidence);
    out.n_base = base.len();
    out.n_head = head.len();
    out.diff = diff;
    out.ci_low = diff;
    out.ci_high = diff;
    let constant = all_equal(base) && all_equal(head);
    if (constant && prior.is_none()) || base.len() < 2 || head.len() < 2 {
        // Constant sides (exact) or a single repeat (unverified: thresholds only).
        out.p_value = if diff == 0.0 { 1.0 } else { 0.0 };
        return Some(out);
    }
    let side = |v: &[f64], m: f64| {
        let s2 = if all_equal(v) {
            0.0
        } else {
            (sd(v) / m).powi(2)
        };
        let (var, df) = pooled_variance(s2, v.len(), in_logs(m));
        (var / v.len() as f64, df)
    };
    let ((vb, dfb), (vh, dfh)) = (side(base, bm), side(head, hm));
    let (se, mut df) = welch(vb, vh, dfb, dfh);
    if let Some(p) = prior {
        df = df.min(shared_prior_df(p, base.len(), head.len()));
    }
    out.prior_df = prior.map_or(0.0, |p| p.df);
    let q = t_quantile(confidence, df);
    out.deterministic = false;
    out.se = se;
    out.df = df;
    out.ci_low = diff - q * se;
    out.ci_high = diff + q * se;
    out.p_value = (2.0 * t_sf((diff / se).abs(), df)).min(1.0);
    Some(out)
}

/// The one-sided upper confidence bound (level `d.confidence`) of the change, head - base
/// (`increase`) or base - head: what a PASS needs within the limit. One-sided, so a change
/// exactly on the limit passes with probability <= 1 - confidence, not half of it (the
/// two-sided interval's upper end was a needlessly strict PASS criterion: at 3 pairs on 2 df
/// its t quantile is 4.30 against 2.92). The point itself when there is no spread.
pub fn one_sided_upper(d: &DiffStats, increase: bool) -> f64 {
    let est = if increase { d.diff } else { -d.diff };
    if d.deterministic || d.se == 0.0 {
        return est;
    }
    est + t_quantile(2.0 * d.confidence - 1.0, d.df) * d.se
}

/// One-sided p that the true difference exceeds `limit` (H0: diff <= limit).
pub fn p_above(d: &DiffStats, limit: f64) -> f64 {
    if d.deterministic || d.se == 0.0 {
        return if d.diff > limit { 0.0 } else { 1.0 };
    }
    t_sf((d.diff - limit) / d.se, d.df)
}

/// One-sided p that the true difference is below `limit` (H0: diff >= limit).
pub fn p_below(d: &DiffStats, limit: f64) -> f64 {
    if d.deterministic || d.se == 0.0 {
        return if d.diff < limit { 0.0 } else { 1.0 };
    }
    t_sf((limit - d.diff) / d.se, d.df)
}

/// Repeats per side needed for the interval to clear `limit` on one side, assuming the
/// observed spread; None when the estimate sits on the limit or the spread is unknown.
pub fn repeats_needed(d: &DiffStats, limit: f64) -> Option<usize> {
    let gap = (d.diff - limit).abs();
    if gap == 0.0 || d.se == 0.0 || !d.se.is_finite() {
        return None;
    }
    let n_now = d.n_base.min(d.n_head).max(2) as f64;
    let spread = d.se * n_now.sqrt();
    for n in (n_now as usize + 1)..=1000 {
        let half = t_quantile(d.confidence, (n - 1) as f64) * spread / (n as f64).sqrt();
        if half < gap {
            return Some(n);
        }
    }
    None
}

/// Above this many sign patterns (2^n) or splits (C(n1+n2, n1)) permutation tests sample
/// instead of enumerating: exact for every repeat count people run (up to 12 pairs, 6+6).
const EXACT_LIMIT: u64 = 4096;
/// Random permutations drawn beyond [`EXACT_LIMIT`] (fixed seed: reports are reproducible).
const MONTE_CARLO_DRAWS: u64 = 20_000;

/// Statistics within this relative tolerance of the observed one count as "as extreme"
/// (sums of the same values in another order differ in the last bits).
fn at_least(x: f64, observed: f64) -> bool {
    x >= observed - 1e-9 * observed.abs().max(f64::MIN_POSITIVE)
}

/// SplitMix64: a tiny deterministic generator for the sampled permutation tests.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Two-sided exact sign-flip permutation p of seed-paired differences `d` (H0: each
/// difference is symmetric about 0). Statistic |sum d|; all 2^n sign patterns are
/// enumerated up to [`EXACT_LIMIT`], sampled beyond (p = (1 + hits) / (1 + draws)).
pub fn sign_flip_p(d: &[f64]) -> f64 {
    sign_flip(d, true)
}

/// Sign-flip p, two-sided (|sum d|) or one-sided (H1: the differences lean positive).
fn sign_flip(d: &[f64], two_sided: bool) -> f64 {
    let n = d.len();
    if n == 0 {
        return 1.0;
    }
    let fold = |s: f64| if two_sided { s.abs() } else { s };
    let observed = fold(d.iter().sum::<f64>());
    let total = 1u64.checked_shl(n as u32).unwrap_or(u64::MAX);
    let stat = |mask: u64| -> f64 {
        fold(
            d.iter()
                .enumerate()
                .map(|(i, x)| if mask >> i & 1 == 1 { -x } else { *x })
                .sum::<f64>(),
        )
    };
    if n < 63 && total <= EXACT_LIMIT {
        let hits = (0..total).filter(|m| at_least(stat(*m), observed)).count();
        return hits as f64 / total as f64;
    }
    let mut rng = SplitMix(0x5EED);
    let hits = (0..MONTE_CARLO_DRAWS)
        .filter(|_| {
            let s: f64 = d
                .iter()
                .map(|x| if rng.next() & 1 == 1 { -x } else { *x })
                .sum();
            at_least(fold(s), observed)
        })
        .count();
    (1 + hits) as f64 / (1 + MONTE_CARLO_DRAWS) as f64
}

/// C(n, k) saturating at u64::MAX.
fn binomial(n: u64, k: u64) -> u64 {
    let k = k.min(n - k);
    let mut c: u128 = 1;
    for i in 0..k {
        c = c * (n - i) as u128 / (i + 1) as u128;
        if c > u64::MAX as u128 {
            return u64::MAX;
        }
    }
    c as u64
}

/// Two-sided exact two-sample permutation p (H0: base and head exchangeable). Statistic
/// |mean(head) - mean(base)|; all C(n1+n2, n1) splits are enumerated up to
/// [`EXACT_LIMIT`], sampled beyond.
pub fn two_sample_permutation_p(base: &[f64], head: &[f64]) -> f64 {
    two_sample_permutation(base, head, true)
}

/// Two-sample permutation p, two-sided or one-sided (H1: head's mean is the larger).
fn two_sample_permutation(base: &[f64], head: &[f64], two_sided: bool) -> f64 {
    let (n1, n2) = (base.len(), head.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let pooled: Vec<f64> = base.iter().chain(head).copied().collect();
    let sum_all: f64 = pooled.iter().sum();
    let stat = |sum_base: f64| {
        let d = (sum_all - sum_base) / n2 as f64 - sum_base / n1 as f64;
        if two_sided {
            d.abs()
        } else {
            d
        }
    };
    let observed = stat(base.iter().sum());
    let total = binomial((n1 + n2) as u64, n1 as u64);
    if total <= EXACT_LIMIT {
        // Enumerate n1-subsets of the pooled indices in lexicographic order.
        let n = n1 + n2;
        let mut idx: Vec<usize> = (0..n1).collect();
        let mut hits = 0u64;
        loop {
            let s: f64 = idx.iter().map(|i| pooled[*i]).sum();
            if at_least(stat(s), observed) {
                hits += 1;
            }
            let Some(k) = (0..n1).rev().find(|k| idx[*k] < n - n1 + *k) else {
                break;
            };
            idx[k] += 1;
            for j in k + 1..n1 {
                idx[j] = idx[j - 1] + 1;
            }
        }
        return hits as f64 / total as f64;
    }
    let mut rng = SplitMix(0x5EED);
    let mut perm = pooled.clone();
    let hits = (0..MONTE_CARLO_DRAWS)
        .filter(|_| {
            // Partial Fisher-Yates: the first n1 slots are a uniform n1-subset.
            for i in 0..n1 {
                let j = i + (rng.next() % (perm.len() - i) as u64) as usize;
                perm.swap(i, j);
            }
            at_least(stat(perm[..n1].iter().sum()), observed)
        })
        .count();
    (1 + hits) as f64 / (1 + MONTE_CARLO_DRAWS) as f64
}

/// One-sided exact permutation p of "the change exceeds `allowed`" (H0: head = base +
/// allowed, a location shift; `increase` false tests a change below -allowed): sign flips
/// of the paired differences minus the allowed change, or a two-sample permutation of head
/// minus it against base. Exact at the limit whatever the noise's shape (bimodal seed noise
/// included). None below [`exact_test_from`] repeats (where it cannot reach p < `alpha`):
/// the t test then decides alone.
pub fn permutation_p_beyond(
    base: &[f64],
    head: &[f64],
    paired: bool,
    allowed: f64,
    increase: bool,
    alpha: f64,
) -> Option<f64> {
    let pairs = paired && base.len() == head.len();
    let n = if pairs {
        base.len()
    } else {
        base.len().min(head.len())
    };
    (n >= exact_test_from(pairs, alpha))
        .then(|| permutation_p_at_limit(base, head, paired, allowed, increase))
}

/// The one-sided exact permutation p of [`permutation_p_beyond`] at any repeat count: what
/// decides a zero-variance outcome that calibration did not certify deterministic (its
/// smallest value, [`min_attainable_p`], may be above every level: then it cannot fail).
pub fn permutation_p_at_limit(
    base: &[f64],
    head: &[f64],
    paired: bool,
    allowed: f64,
    increase: bool,
) -> f64 {
    let sign = if increase { 1.0 } else { -1.0 };
    if paired && base.len() == head.len() {
        let d: Vec<f64> = head
            .iter()
            .zip(base)
            .map(|(h, b)| sign * (h - b) - allowed)
            .collect();
        return sign_flip(&d, false);
    }
    let b: Vec<f64> = base.iter().map(|x| sign * x).collect();
    let h: Vec<f64> = head.iter().map(|x| sign * x - allowed).collect();
    two_sample_permutation(&b, &h, false)
}

/// Smallest p the one-sided exact permutation test can give: 1/2^n sign patterns (paired),
/// 1/C(nb + nh, nb) splits (unpaired). It depends on the repeat counts only, so leaving
/// tests that cannot reach a level out of a Holm family (Tarone's rule) keeps its bound.
pub fn min_attainable_p(paired: bool, n_base: usize, n_head: usize) -> f64 {
    if paired {
        0.5f64.powi(n_base.min(63) as i32)
    } else {
        1.0 / binomial((n_base + n_head) as u64, n_base as u64) as f64
    }
}

/// The tests the gate computes, for [`min_repeats`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestKind {
    PairedT,
    WelchT,
    SignFlip,
    TwoSamplePermutation,
}

impl TestKind {
    pub fn name(self) -> &'static str {
        match self {
            TestKind::PairedT => "paired t",
            TestKind::WelchT => "Welch t",
            TestKind::SignFlip => "sign-flip permutation",
            TestKind::TwoSamplePermutation => "two-sample permutation",
        }
    }
}

/// Smallest repeats (pairs, or repeats per side) at which `kind` can reach p <= `alpha`.
/// The t tests can with 2 (one degree of freedom, given spread); the exact permutation
/// tests' smallest p is sides/2^n (sign flip) and sides/C(2n, n) (two samples).
pub fn min_repeats(kind: TestKind, alpha: f64, two_sided: bool) -> usize {
    let sides = if two_sided { 2.0 } else { 1.0 };
    match kind {
        TestKind::PairedT | TestKind::WelchT => 2,
        TestKind::SignFlip => (1..64)
            .find(|n| sides / 2f64.powi(*n as i32) <= alpha)
            .unwrap_or(64),
        TestKind::TwoSamplePermutation => (1..64)
            .find(|n| sides / binomial(2 * *n as u64, *n as u64) as f64 <= alpha)
            .unwrap_or(64),
    }
}

/// Repeats (pairs, or per side) from which the exact one-sided permutation test can reach
/// p < `alpha` (1/2^n, or 1/C(2n, n)) and so joins the t test in deciding a limit.
pub fn exact_test_from(paired: bool, alpha: f64) -> usize {
    // alpha often arrives as 1 - confidence: 0.05 comes back as 0.05000000000000004.
    let alpha = alpha - 1e-12;
    (2..64)
        .find(|n| {
            let patterns = if paired {
                2f64.powi(*n as i32)
            } else {
                binomial(2 * *n as u64, *n as u64) as f64
            };
            1.0 / patterns < alpha
        })
        .unwrap_or(64)
}

/// A terse note when the exact permutation test cannot signal at these repeats: the t test
/// decides alone (its level is approximate on few seed-multimodal repeats).
pub fn power_note(paired: bool, n_base: usize, n_head: usize, alpha: f64) -> Option<String> {
    let kind = if paired {
        TestKind::SignFlip
    } else {
        TestKind::TwoSamplePermutation
    };
    let need = exact_test_from(paired, alpha);
    let have = n_base.min(n_head);
    (have >= 2 && have < need).then(|| {
        format!(
            "{have} repeat(s): the {} decides alone; the exact {} test joins it from {need} (docs/gate.md)",
            if paired { "paired t" } else { "Welch t" },
            kind.name()
        )
    })
}

/// How an outcome's error is controlled: the path that can make it fail the gate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorControl {
    /// Tested, Holm-corrected with the other fail-level tests (family-wise error <= alpha).
    Holm,
    /// Tested, Benjamini-Hochberg-corrected with the other warn-level tests (FDR <= alpha).
    Bh,
    /// Zero variance: decided by the rule limit alone, assuming the counters are a
    /// deterministic function of (build, corpus, seeds) so unseen seeds would agree.
    Exact,
    /// Fewer than 2 repeats on a side: thresholds only, no error control.
    Unverified,
    /// Not evaluated (skipped).
    #[default]
    None,
}

/// The hypothesis a metric tests: a `.per_minstr` variant is its count rescaled, so both
/// share one key and enter a multiple-testing family once.
pub fn hypothesis_key(metric: &str) -> &str {
    metric
        .strip_suffix(crate::gate::metrics::PER_MILLION_SUFFIX)
        .unwrap_or(metric)
}

/// `adjust` (BH) over groups of p values that test one hypothesis: a group enters the
/// family once with its Bonferroni p (min(1, k x smallest p)), and each member gets the
/// larger of the group's adjusted p and its own Bonferroni p. With singleton groups this is
/// `adjust` itself.
pub fn adjust_grouped(p: &[f64], groups: &[usize], adjust: fn(&[f64]) -> Vec<f64>) -> Vec<f64> {
    // Group ids in first-seen order, each with its smallest p and its size.
    let mut slot: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    let mut group_p: Vec<f64> = vec![];
    let mut sizes: Vec<usize> = vec![];
    let member_group: Vec<usize> = p
        .iter()
        .zip(groups)
        .map(|(pi, g)| {
            let k = *slot.entry(*g).or_insert_with(|| {
                group_p.push(1.0);
                sizes.push(0);
                group_p.len() - 1
            });
            group_p[k] = group_p[k].min(*pi);
            sizes[k] += 1;
            k
        })
        .collect();
    let bonferroni: Vec<f64> = group_p
        .iter()
        .zip(&sizes)
        .map(|(p, k)| (p * *k as f64).min(1.0))
        .collect();
    let adj = adjust(&bonferroni);
    p.iter()
        .zip(&member_group)
        .map(|(pi, k)| adj[*k].max((pi * sizes[*k] as f64).min(1.0)))
        .collect()
}

/// Holm's step-down over hypothesis groups whose tests form nested chains (family-wise
/// error <= alpha under any dependence). A chain is a set of one-sided tests of one
/// statistic in one direction at different limits: their nulls are nested (a change within
/// the tight limit is within the loose one) and their p values grow with the limit, so a
/// chain counts once. A group's chains (e.g. a count and its `.per_minstr` rescaling, or
/// opposite directions) are Bonferroni-combined: each test enters with k x p, k the group's
/// chain count. The step-down then counts the groups that still have an unrejected test:
/// at the first false rejection every group holding a true null is still counted, which
/// is Holm's argument. Singleton groups and chains give [`holm`] itself.
pub fn holm_nested(p: &[f64], group: &[usize], chain: &[usize]) -> Vec<f64> {
    let mut chains_of: std::collections::HashMap<usize, std::collections::HashSet<usize>> =
        std::collections::HashMap::new();
    for (g, c) in group.iter().zip(chain) {
        chains_of.entry(*g).or_default().insert(*c);
    }
    let q: Vec<f64> = p
        .iter()
        .zip(group)
        .map(|(p, g)| (p * chains_of[g].len() as f64).min(1.0))
        .collect();
    let idx = ascending_order(&q);
    // remaining[j]: the groups with a test at rank j or later (not yet rejected there).
    let mut remaining = vec![0usize; idx.len()];
    let mut seen = std::collections::HashSet::new();
    for (rank, &i) in idx.iter().enumerate().rev() {
        seen.insert(group[i]);
        remaining[rank] = seen.len();
    }
    let mut out = vec![0.0; p.len()];
    let mut running: f64 = 0.0;
    for (rank, &i) in idx.iter().enumerate() {
        running = running.max((remaining[rank] as f64 * q[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Indices of `p` from the smallest p value up (stable; NaN compares equal).
fn ascending_order(p: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..p.len()).collect();
    idx.sort_by(|a, b| {
        p[*a]
            .partial_cmp(&p[*b])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    idx
}

/// Holm step-down adjusted p values (family-wise error control).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let idx = ascending_order(p);
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in idx.iter().enumerate() {
        let adj = ((m - rank) as f64 * p[i]).min(1.0);
        running = running.max(adj);
        out[i] = running;
    }
    out
}

/// Benjamini-Hochberg adjusted p values (q values; false discovery rate control).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let idx = ascending_order(p);
    let mut out = vec![0.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in idx.iter().enumerate().rev() {
        let adj = (p[i] * m as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(adj);
        out[i] = running;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_variance_is_exact() {
        let d = compare_samples(&[5.0, 5.0, 5.0], &[5.0, 5.0, 5.0], true, 0.95);
        assert!(d.deterministic);
        assert_eq!(
            (d.diff, d.p_value, d.ci_low, d.ci_high),
            (0.0, 1.0, 0.0, 0.0)
        );
        let d = compare_samples(&[5.0, 5.0], &[7.0, 7.0], false, 0.95);
        assert!(d.deterministic);
        assert_eq!((d.diff, d.ci_low), (2.0, 2.0));
        assert_eq!(p_above(&d, 1.0), 0.0);
        assert_eq!(p_above(&d, 3.0), 1.0);
    }

    /// A huge `df` (a noise file's) is the normal's quantile at once, not a minutes-long
    /// search; a missing one (NaN) is read as 1, as before the cap.
    #[test]
    fn huge_degrees_of_freedom_are_quick_and_normal() {
        let start = std::time::Instant::now();
        for df in [1e9, 1e300, f64::INFINITY] {
            let q = t_quantile(0.95, df);
            assert!((q - 1.96).abs() < 1e-3, "{df}: {q}");
            assert!((t_sf(1.96, df) - 0.025).abs() < 1e-3, "{df}");
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(t_quantile(0.95, f64::NAN), t_quantile(0.95, 1.0));
    }

    #[test]
    fn differences_equal_up_to_rounding_are_exact() {
        // One count over the same denominator in every pair, computed from different sums:
        // the differences agree to ~1e-17, which is no spread to test.
        let (den, base) = (25_342.0, [1006.0, 1021.0, 1003.0]);
        let b: Vec<f64> = base.iter().map(|x| x / den).collect();
        let h: Vec<f64> = base.iter().map(|x| (x + 254.0) / den).collect();
        let d = compare_samples(&b, &h, true, 0.95);
        assert!(d.deterministic, "{d:?}");
        assert!((d.diff - 254.0 / den).abs() < 1e-15);
    }

    #[test]
    fn paired_constant_shift_is_exact() {
        let d = compare_samples(&[1.0, 5.0, 9.0], &[2.0, 6.0, 10.0], true, 0.95);
        assert!(d.deterministic);
        assert_eq!(d.diff, 1.0);
        let u = compare_samples(&[1.0, 5.0, 9.0], &[2.0, 6.0, 10.0], false, 0.95);
        assert!(!u.deterministic);
        assert!(u.ci_low < 0.0 && u.ci_high > 2.0);
    }

    #[test]
    fn welch_matches_reference() {
        // Hand-computed Welch: t = 1.7127, df = 4.237 -> two-sided p = 0.1579.
        let d = compare_samples(&[1.0, 2.0, 3.0, 4.0], &[2.0, 4.0, 6.0, 8.5], false, 0.95);
        assert!((d.p_value - 0.1579).abs() < 2e-3, "{}", d.p_value);
    }

    #[test]
    fn sign_flip_exact_small_cases() {
        // All 3 differences positive: only the all-plus and all-minus patterns reach |sum| = 6.
        assert_eq!(sign_flip_p(&[1.0, 2.0, 3.0]), 2.0 / 8.0);
        // 6 positive pairs: 2/64, the first n that can reject at 0.05 two-sided.
        assert_eq!(sign_flip_p(&[1.0; 6]), 2.0 / 64.0);
        assert_eq!(sign_flip_p(&[1.0; 5]), 2.0 / 32.0);
        // {1, -1, 2}: |sum| = 2; patterns with |sum| >= 2: 6 of 8.
        assert_eq!(sign_flip_p(&[1.0, -1.0, 2.0]), 6.0 / 8.0);
        // Sampled beyond the exact limit: still near 2/2^13, never 0.
        let p = sign_flip_p(&[1.0; 13]);
        assert!(p > 0.0 && p < 0.002, "{p}");
    }

    #[test]
    fn two_sample_permutation_exact_small_cases() {
        // Complete separation of 3 vs 3: 2 of C(6,3) = 20 splits are as extreme.
        assert_eq!(
            two_sample_permutation_p(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]),
            0.1
        );
        // 4 vs 4 separated: 2/70, below 0.05.
        assert_eq!(
            two_sample_permutation_p(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0]),
            2.0 / 70.0
        );
        // Identical samples: every split is as extreme.
        assert_eq!(two_sample_permutation_p(&[1.0, 1.0], &[1.0, 1.0]), 1.0);
        let p = two_sample_permutation_p(&[1.0; 10], &[2.0; 10]);
        assert!(p < 0.001, "{p}");
    }

    #[test]
    fn minimum_repeats_to_reject() {
        assert_eq!(min_repeats(TestKind::SignFlip, 0.05, true), 6);
        assert_eq!(min_repeats(TestKind::SignFlip, 0.05, false), 5);
        assert_eq!(min_repeats(TestKind::TwoSamplePermutation, 0.05, true), 4);
        assert_eq!(min_repeats(TestKind::TwoSamplePermutation, 0.05, false), 3);
        assert_eq!(min_repeats(TestKind::PairedT, 0.05, true), 2);
        assert_eq!(min_repeats(TestKind::WelchT, 0.05, true), 2);
        // The exact test joins the decision (one-sided, at the limit) from 5 pairs / 4 per side.
        assert!(power_note(true, 3, 3, 0.05).unwrap().contains("from 5"));
        assert_eq!(power_note(true, 5, 5, 0.05), None);
        assert!(power_note(false, 3, 3, 0.05).unwrap().contains("from 4"));
        // A single repeat is the UNVERIFIED note's business.
        assert_eq!(power_note(true, 1, 1, 0.05), None);
        let d = compare_samples(&[1.0, 2.0, 3.0], &[2.0, 4.0, 7.0], true, 0.95);
        assert_eq!(d.permutation_p, Some(0.25));
    }

    #[test]
    fn exact_permutation_test_joins_from_its_minimum_and_tests_the_limit() {
        assert_eq!(exact_test_from(true, 0.05), 5); // 1/32 < 0.05 <= 1/16
        assert_eq!(exact_test_from(false, 0.05), 4); // 1/70 < 0.05 <= 1/20
        assert_eq!(exact_test_from(true, 0.95f64.mul_add(-1.0, 1.0)), 5);
        assert_eq!(exact_test_from(true, 0.05 / 4.0), 7);
        let base = [10.0, 10.0, 10.0, 10.0, 10.0];
        let head = [11.1, 11.2, 11.3, 11.4, 11.5];
        // Every paired difference beyond the allowed 1.0: only the all-positive pattern.
        let p = permutation_p_beyond(&base, &head, true, 1.0, true, 0.05).unwrap();
        assert!((p - 1.0 / 32.0).abs() < 1e-12, "{p}");
        // Beyond an allowed 1.3 only partly: not significant.
        assert!(permutation_p_beyond(&base, &head, true, 1.3, true, 0.05).unwrap() > 0.2);
        // A decrease limit mirrors it.
        let p = permutation_p_beyond(&head, &base, true, 1.0, false, 0.05).unwrap();
        assert!((p - 1.0 / 32.0).abs() < 1e-12, "{p}");
        // Too few pairs to reach alpha: the t test decides alone.
        assert_eq!(
            permutation_p_beyond(&base[..4], &head[..4], true, 1.0, true, 0.05),
            None
        );
    }

    #[test]
    fn corrections() {
        let p = [0.01, 0.04, 0.03, 0.5];
        let h = holm(&p);
        assert_eq!(h, vec![0.04, 0.09, 0.09, 0.5]);
        let q = benjamini_hochberg(&p);
        assert!(
            (q[0] - 0.04).abs() < 1e-12 && (q[1] - 0.0533333).abs() < 1e-6 && q[3] == 0.5,
            "{q:?}"
        );
    }

    #[test]
    fn per_minstr_variants_do_not_inflate_the_family() {
        let p = [0.01, 0.01, 0.04];
        // Two groups: {a: 2 x 0.01 = 0.02}, {b: 0.04}; BH: 0.04, 0.04.
        assert_eq!(
            adjust_grouped(&p, &[0, 0, 1], benjamini_hochberg),
            vec![0.04, 0.04, 0.04]
        );
        // Holm over the same groups, a's two tests in two chains: 0.04 each.
        assert_eq!(
            holm_nested(&p, &[0, 0, 1], &[0, 1, 2]),
            vec![0.04, 0.04, 0.04]
        );
        // Ungrouped Holm would count three tests: 0.03, 0.03, 0.04.
        assert_eq!(holm(&p), vec![0.03, 0.03, 0.04]);
        assert_eq!(
            adjust_grouped(&p, &[0, 1, 2], benjamini_hochberg),
            benjamini_hochberg(&p)
        );
        assert_eq!(holm_nested(&p, &[0, 1, 2], &[0, 1, 2]), holm(&p));
        assert_eq!(
            hypothesis_key("objects.allocations.per_minstr"),
            "objects.allocations"
        );
    }

    /// A group's looser member is not rejected on the strength of its tight sibling: it
    /// still faces the groups left (what the closed test of the nested family gives).
    #[test]
    fn nested_limits_count_once_but_each_test_faces_the_groups_left() {
        // Group 0: one chain, tight 0.01 and loose 0.04; group 1: 0.5.
        let adj = holm_nested(&[0.01, 0.04, 0.5], &[0, 0, 1], &[0, 0, 1]);
        assert_eq!(adj, vec![0.02, 0.08, 0.5]);
        // The same tests as two chains of one group pay Bonferroni inside the group.
        let adj = holm_nested(&[0.01, 0.04, 0.5], &[0, 0, 1], &[0, 1, 2]);
        assert_eq!(adj, vec![0.04, 0.16, 0.5]);
        // One chain alone: no multiplicity at all.
        assert_eq!(
            holm_nested(&[0.03, 0.045], &[0, 0], &[0, 0]),
            vec![0.03, 0.045]
        );
    }

    #[test]
    fn log_ratio_counts_base_noise() {
        // Paired: ratio 1.1 in every pair -> ln 1.1 with an interval of rounding width.
        let d =
            compare_log_ratio(&[10.0, 20.0, 40.0], &[11.0, 22.0, 44.0], true, 0.95, None).unwrap();
        assert!((d.diff - 1.1f64.ln()).abs() < 1e-12 && d.ci_high - d.ci_low < 1e-9);
        // The same counts per seed on both sides: exact zero.
        let d = compare_log_ratio(&[10.0, 20.0], &[10.0, 20.0], true, 0.95, None).unwrap();
        assert!(d.deterministic && d.diff == 0.0);
        // Unpaired delta method: head constant, base noisy -> the interval is not a point.
        let d = compare_log_ratio(
            &[90.0, 100.0, 110.0],
            &[110.0, 110.0, 110.0],
            false,
            0.95,
            None,
        )
        .unwrap();
        assert!(!d.deterministic);
        // se^2 = (10/100)^2 / 3 (base only): se = 0.057735.
        assert!((d.se - 0.057735).abs() < 1e-5, "{}", d.se);
        assert!((d.df - 2.0).abs() < 1e-9);
        assert!(d.ci_low < 0.0 && d.ci_high > 1.1f64.ln() * 1.5);
        assert!(compare_log_ratio(&[0.0, 1.0], &[1.0, 1.0], false, 0.95, None).is_none());
    }

    /// Issue 20, 1: a learned variance is pooled into the t test with its degrees of freedom
    /// (per side, then Welch-Satterthwaite); zero observed spread is then tested, not exact.
    #[test]
    fn a_learned_variance_is_pooled_with_its_degrees_of_freedom() {
        let prior = Some(NoisePrior { sd: 2.0, df: 10.0 });
        let d = compare_with_prior(&[1.0; 3], &[1.0; 3], false, 0.95, prior);
        assert!(!d.deterministic);
        // Each side: (10 x 4 + 2 x 0) / 12 = 10/3 on 12 df; se^2 = 2 x 10/9; the prior's
        // 10 df count once: 10 + 2 + 2 = 14 (Welch alone would say 24).
        assert!((d.se - (20.0f64 / 9.0).sqrt()).abs() < 1e-12, "{}", d.se);
        assert!((d.df - 14.0).abs() < 1e-9, "{}", d.df);
        assert_eq!(d.prior_df, 10.0);
        // Paired: the differences' variance, (10 x 4 + 2 x 1) / 12 on 12 df.
        let d = compare_with_prior(&[0.0, 0.0, 0.0], &[1.0, 2.0, 3.0], true, 0.95, prior);
        assert!((d.se - (3.5f64 / 3.0).sqrt()).abs() < 1e-12, "{}", d.se);
        assert_eq!(d.df, 12.0);
        // No prior: the observed values alone, as before.
        assert_eq!(
            compare_with_prior(&[1.0, 2.0, 4.0], &[2.0, 3.0, 7.0], false, 0.95, None),
            compare_samples(&[1.0, 2.0, 4.0], &[2.0, 3.0, 7.0], false, 0.95)
        );
        assert_eq!(pooled_variance(3.0, 4, None), (3.0, 3.0));
    }

    /// Issue 20, 2: the exact permutation test at the limit decides zero-variance outcomes at
    /// any repeat count, and its smallest attainable p says whether it can.
    #[test]
    fn the_exact_test_at_the_limit_on_constant_samples() {
        assert_eq!(min_attainable_p(true, 3, 3), 0.125);
        assert_eq!(min_attainable_p(false, 3, 3), 0.05);
        assert_eq!(min_attainable_p(false, 4, 4), 1.0 / 70.0);
        // Constant paired differences of 2 against an allowed 1: only the all-plus pattern.
        let p = permutation_p_at_limit(&[0.0; 3], &[2.0; 3], true, 1.0, true);
        assert_eq!(p, 0.125);
        // Within the limit: p = 1.
        assert_eq!(
            permutation_p_at_limit(&[0.0; 3], &[0.5; 3], true, 1.0, true),
            1.0
        );
        assert_eq!(
            permutation_p_at_limit(&[0.0; 3], &[2.0; 3], false, 1.0, true),
            0.05
        );
    }

    /// Issue 20 follow-up: a PASS needs the one-sided (1 - alpha) upper bound within the
    /// limit, not the two-sided interval's upper end.
    #[test]
    fn the_pass_bound_is_one_sided() {
        // Paired differences 0.1, 0.3, 0.5: mean 0.3, sd 0.2, se 0.11547 on 2 df.
        let d = compare_samples(&[0.0; 3], &[0.1, 0.3, 0.5], true, 0.95);
        let se = 0.2 / 3f64.sqrt();
        assert!(
            (d.ci_high - (0.3 + 4.302653 * se)).abs() < 1e-5,
            "{}",
            d.ci_high
        );
        let up = one_sided_upper(&d, true);
        assert!((up - (0.3 + 2.919986 * se)).abs() < 1e-5, "{up}");
        // A limit of 0.7: the two-sided end (0.797) straddles it, the one-sided bound (0.637)
        // is within it.
        assert!(d.ci_high > 0.7 && up < 0.7);
        // A decrease mirrors it; no spread gives the point.
        assert!((one_sided_upper(&d, false) - (-0.3 + 2.919986 * se)).abs() < 1e-5);
        let e = compare_samples(&[1.0; 3], &[2.0; 3], true, 0.95);
        assert_eq!(one_sided_upper(&e, true), 1.0);
    }

    #[test]
    fn repeats_needed_grows_with_noise() {
        let d = compare_samples(&[10.0, 12.0, 11.0], &[13.0, 15.0, 12.0], false, 0.95);
        let n = repeats_needed(&d, 0.0).unwrap();
        assert!(n > 3, "{n}");
    }
}

//! Statistics for comparing repeats: paired/Welch t intervals, Mann-Whitney U, Holm and BH corrections.
//!
//! Pystats counters are near-deterministic: zero variance is the common case and is handled
//! exactly (no test, the interval is the point). Otherwise a paired t interval is used when
//! repeats are paired by PYTHONHASHSEED, Welch's otherwise.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

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
    /// Two-sided Mann-Whitney U p (unpaired cross-check), when both sides have 2+ values.
    pub mann_whitney_p: Option<f64>,
    /// Every sample identical on each side (or every paired difference identical): exact.
    pub deterministic: bool,
}

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

fn sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

fn all_equal(v: &[f64]) -> bool {
    v.windows(2).all(|w| w[0] == w[1])
}

/// Two-sided t quantile for `confidence` with `df` degrees of freedom.
pub fn t_quantile(confidence: f64, df: f64) -> f64 {
    let df = df.max(1.0);
    StudentsT::new(0.0, 1.0, df)
        .map(|t| t.inverse_cdf(0.5 + confidence / 2.0))
        .unwrap_or(f64::INFINITY)
}

fn t_sf(x: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df.max(1.0))
        .map(|t| 1.0 - t.cdf(x))
        .unwrap_or(0.5)
}

/// Compares two sample vectors. `paired` means base[i] and head[i] share a seed.
pub fn compare_samples(base: &[f64], head: &[f64], paired: bool, confidence: f64) -> DiffStats {
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
        mann_whitney_p: None,
        deterministic: true,
    };
    if base.len() >= 2 && head.len() >= 2 {
        out.mann_whitney_p = Some(mann_whitney_u(base, head));
    }
    let (se, df) = if paired {
        let d: Vec<f64> = head.iter().zip(base).map(|(h, b)| h - b).collect();
        if all_equal(&d) {
            return out;
        }
        (sd(&d) / (d.len() as f64).sqrt(), (d.len() - 1) as f64)
    } else {
        if all_equal(base) && all_equal(head) {
            return out;
        }
        if base.len() < 2 || head.len() < 2 {
            // One side has a single value but the other varies: the single value's spread is
            // unknown, so borrow the other side's (a pooled guess, flagged by n < 2 upstream).
            let s = if base.len() >= 2 {
                out.base_sd
            } else {
                out.head_sd
            };
            let n = base.len().max(head.len());
            (s * (1.0 + 1.0 / n as f64).sqrt(), (n - 1) as f64)
        } else {
            let vb = out.base_sd.powi(2) / base.len() as f64;
            let vh = out.head_sd.powi(2) / head.len() as f64;
            let se = (vb + vh).sqrt();
            let df = (vb + vh).powi(2)
                / (vb.powi(2) / (base.len() - 1) as f64 + vh.powi(2) / (head.len() - 1) as f64)
                    .max(f64::MIN_POSITIVE);
            (se, df)
        }
    };
    out.deterministic = false;
    out.se = se;
    out.df = df;
    let q = t_quantile(confidence, df);
    out.ci_low = diff - q * se;
    out.ci_high = diff + q * se;
    out.p_value = (2.0 * t_sf((diff / se).abs(), df)).min(1.0);
    out
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

/// Two-sided Mann-Whitney U test: exact distribution for small samples without ties,
/// normal approximation with tie and continuity correction otherwise.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let mut all: Vec<(f64, usize)> = a
        .iter()
        .map(|x| (*x, 0))
        .chain(b.iter().map(|x| (*x, 1)))
        .collect();
    all.sort_by(|x, y| x.0.partial_cmp(&y.0).unwrap_or(std::cmp::Ordering::Equal));
    let n = all.len();
    let mut ranks = vec![0.0; n];
    let mut tie_term = 0.0;
    let mut has_ties = false;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let r = (i + j) as f64 / 2.0 + 1.0;
        for slot in ranks.iter_mut().take(j + 1).skip(i) {
            *slot = r;
        }
        let t = (j - i + 1) as f64;
        if t > 1.0 {
            has_ties = true;
            tie_term += t * t * t - t;
        }
        i = j + 1;
    }
    let r1: f64 = all
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| x.1 == 0)
        .map(|(_, r)| r)
        .sum();
    let u1 = r1 - (n1 * (n1 + 1)) as f64 / 2.0;
    let mu = (n1 * n2) as f64 / 2.0;
    if !has_ties && n1 <= 20 && n2 <= 20 {
        // Exact: count rank-sum arrangements with DP over (items, chosen, U).
        let max_u = n1 * n2;
        let dist = exact_u_distribution(n1, n2);
        let total: f64 = dist.iter().sum();
        let u = u1.round() as usize;
        let lo = u.min(max_u - u);
        let tail: f64 = dist[..=lo].iter().sum::<f64>() / total;
        return (2.0 * tail).min(1.0);
    }
    let nf = n as f64;
    let var = (n1 * n2) as f64 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if var <= 0.0 {
        return 1.0;
    }
    let z = ((u1 - mu).abs() - 0.5).max(0.0) / var.sqrt();
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    (2.0 * (1.0 - normal.cdf(z))).min(1.0)
}

/// Frequencies of U = 0..=n1*n2 under H0 (no ties).
fn exact_u_distribution(n1: usize, n2: usize) -> Vec<f64> {
    // f[i][j][u]: arrangements of i from A and j from B with statistic u.
    let max_u = n1 * n2;
    let mut prev: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; n2 + 1];
    for row in prev.iter_mut() {
        row[0] = 1.0;
    }
    for _ in 1..=n1 {
        let mut cur: Vec<Vec<f64>> = vec![vec![0.0; max_u + 1]; n2 + 1];
        cur[0][0] = 1.0;
        for j in 1..=n2 {
            for u in 0..=max_u {
                // Last element from A: it beats all j B-elements.
                let from_a = if u >= j { prev[j][u - j] } else { 0.0 };
                let from_b = cur[j - 1][u];
                cur[j][u] = from_a + from_b;
            }
        }
        prev = cur;
    }
    prev[n2].clone()
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
    fn mann_whitney_exact_and_approx() {
        // Complete separation of 3 vs 3: two-sided exact p = 2/20.
        assert!((mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]) - 0.1).abs() < 1e-12);
        assert_eq!(mann_whitney_u(&[1.0, 1.0], &[1.0, 1.0]), 1.0);
        let p = mann_whitney_u(&[1.0, 1.0, 2.0, 2.0, 3.0], &[3.0, 4.0, 4.0, 5.0, 5.0]);
        assert!(p > 0.0 && p < 0.05, "{p}");
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
    fn repeats_needed_grows_with_noise() {
        let d = compare_samples(&[10.0, 12.0, 11.0], &[13.0, 15.0, 12.0], false, 0.95);
        let n = repeats_needed(&d, 0.0).unwrap();
        assert!(n > 3, "{n}");
    }
}

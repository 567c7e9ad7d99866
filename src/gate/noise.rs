//! Learned noise: per-metric variances measured on A/A data (`calibrate`), pooled into the gate's t tests (`--noise`).
//!
//! A metric's learned standard deviation (with its degrees of freedom) is pooled with the
//! observed spread inside the t test: more degrees of freedom, a tighter interval at few
//! repeats, and never a moved limit. The upper IQR fence (Q3 + 1.5 x IQR) of the pairwise
//! differences is kept for reading. Metrics that never varied over >= [`CERTIFY_SEEDS`]
//! distinct seeds are certified deterministic: only they are decided without a test.

use crate::error::Error;
use crate::gate::metrics::{self, MetricTable};
use crate::gate::statistics::{sd, NoisePrior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the noise file layout.
pub const NOISE_SCHEMA_VERSION: u32 = 1;

/// Distinct seeds a calibration must have seen a metric constant over to certify it
/// deterministic (the exact path).
pub const CERTIFY_SEEDS: usize = 10;

/// Q3 + 1.5 IQR of |x_i - x_j| for normal noise, in standard deviations: sqrt(2) x (z(7/8) +
/// 1.5 (z(7/8) - z(5/8))) = 3.391. Old noise files (no `sd`) get sd = threshold / this.
const FENCE_IN_SD: f64 = 3.391;

/// One metric's learned noise, in the metric's units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricNoise {
    /// Q3 + 1.5 x IQR of |x_i - x_j| over pairs of repeats.
    pub threshold: f64,
    /// Largest difference seen.
    pub max: f64,
    /// Repeat pairs behind the fence.
    pub pairs: usize,
    /// Standard deviation of one repeat (absent in files written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sd: Option<f64>,
    /// Degrees of freedom of `sd` (repeats - 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub df: Option<f64>,
    /// Standard deviation of a seed-paired difference (same seed, two runs of the build),
    /// when the file was learned paired; 0 when a seed's runs never differed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired_sd: Option<f64>,
    /// Degrees of freedom of `paired_sd`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired_df: Option<f64>,
}

/// A noise file: what `calibrate` writes and `--noise` reads (TOML, or JSON by extension).
/// Unknown keys are errors: a misspelt `[metric."X"]` table would drop its floor silently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseFile {
    pub schema_version: u32,
    pub tool_version: String,
    pub method: String,
    /// The stats sets measured.
    pub sources: Vec<String>,
    /// Repeats pooled from them.
    pub repeats: usize,
    /// Metrics that varied.
    #[serde(deserialize_with = "crate::text::unique_keys")]
    pub metrics: BTreeMap<String, MetricNoise>,
    /// Distinct PYTHONHASHSEEDs behind the file (0: unknown, e.g. learned from a history).
    #[serde(default)]
    pub seeds: usize,
    /// Learned on seed-paired runs (a seed run twice): only then may it inform a paired
    /// comparison. Absent in older files: read as unpaired (and said so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired: Option<bool>,
    /// Metrics constant over every pooled repeat: certified deterministic when `seeds` >=
    /// [`CERTIFY_SEEDS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constant: Vec<String>,
}

impl NoiseFile {
    /// The learned threshold of a metric (full name, `bench.<b>.` prefix included).
    pub fn threshold(&self, metric: &str) -> Option<f64> {
        self.metrics
            .get(metric)
            .map(|m| m.threshold)
            .filter(|t| *t > 0.0)
    }

    /// The learned variance to pool into a comparison's t test: one repeat's (unpaired), or
    /// one paired difference's (`paired`), which only a file learned paired has. Files
    /// without `sd` give threshold / 3.391 (the fence of normal noise) on repeats - 1 df.
    pub fn prior(&self, metric: &str, paired: bool) -> Option<NoisePrior> {
        let m = self.metrics.get(metric)?;
        let p = if paired {
            if self.paired != Some(true) {
                return None;
            }
            NoisePrior {
                sd: m.paired_sd?,
                df: m.paired_df?,
            }
        } else {
            NoisePrior {
                sd: m.sd.unwrap_or(m.threshold / FENCE_IN_SD),
                df: m.df.unwrap_or(self.repeats.saturating_sub(1) as f64),
            }
        };
        (p.sd > 0.0 && p.df > 0.0).then_some(p)
    }

    /// Whether the file says `metric`'s seed-paired difference varies: learned paired, a
    /// non-zero `paired_sd` (or none known); learned unpaired (or older), any variation at
    /// all. A metric that varied only between seeds (the same value whenever a seed ran
    /// again) is not known to vary paired: seed noise cancels within a pair.
    pub fn varies_paired(&self, metric: &str) -> bool {
        match self.metrics.get(metric) {
            None => false,
            Some(m) if self.paired == Some(true) => m.paired_sd.is_none_or(|s| s > 0.0),
            Some(_) => true,
        }
    }

    /// Calibration saw `metric` constant over >= [`CERTIFY_SEEDS`] distinct seeds: the one
    /// case the gate decides without a test.
    pub fn certifies(&self, metric: &str) -> bool {
        self.seeds >= CERTIFY_SEEDS
            && self
                .constant
                .binary_search_by(|m| m.as_str().cmp(metric))
                .is_ok()
    }

    /// What the report says about the file: how it informs the tests, and what an older file
    /// lacks.
    pub fn note(&self, paired_run: bool) -> String {
        let mut s = format!(
            "learned noise ({} varying metric(s), {} repeat(s) over {} seed(s) of {}): pooled as a prior variance with its degrees of freedom into the t tests (it never moves a limit); {} metric(s) certified deterministic (constant over >= {CERTIFY_SEEDS} seeds)",
            self.metrics.len(),
            self.repeats,
            self.seeds,
            self.sources.join(", "),
            if self.seeds >= CERTIFY_SEEDS { self.constant.len() } else { 0 },
        );
        match (self.paired, paired_run) {
            (None, true) => s.push_str("; the file does not say whether it was learned paired (written by an older pystats-gate): read as unpaired, so it does not inform these paired repeats"),
            (None, false) => s.push_str("; the file does not say whether it was learned paired (older pystats-gate): read as unpaired"),
            (Some(false), true) => s.push_str("; learned unpaired, so it does not inform these paired repeats (seed noise cancels within a pair)"),
            _ => {}
        }
        if self.metrics.values().any(|m| m.sd.is_none()) {
            s.push_str("; no `sd` recorded (older file): each variance is derived from its fence as threshold / 3.391 (normal noise)");
        }
        s
    }

    /// Reads a noise file; errors name the file (and line, for TOML).
    pub fn load(path: &Path) -> anyhow::Result<NoiseFile> {
        let text = crate::text::read_input(path)
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", path.display())))?;
        let file: NoiseFile = if is_json(path) {
            serde_json::from_str(&text).map_err(|e| {
                let msg = crate::text::cap(&e.to_string());
                Error::at_line(path, e.line(), format!("not a noise file: {msg}"))
            })?
        } else {
            toml::from_str(&text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start].lines().count().max(1))
                    .unwrap_or(1);
                Error::at_line(
                    path,
                    line,
                    format!("not a noise file: {}", crate::text::cap(e.message())),
                )
            })?
        };
        if file.schema_version != NOISE_SCHEMA_VERSION {
            return Err(Error::input(format!(
                "{}: schema_version {} (this pystats-gate reads {NOISE_SCHEMA_VERSION})",
                path.display(),
                file.schema_version
            ))
            .into());
        }
        file.check_finite(path)?;
        Ok(file)
    }

    /// Every number of a metric (threshold, max, the spreads and their degrees of freedom)
    /// must be finite and >= 0: what `load` accepts is what `to_bytes` may write (a `nan`
    /// written would be a noise file `--noise` rejects), and a `nan`, negative or infinite
    /// `sd` or `df` read would be dropped without a word, or widen every interval it enters.
    fn check_finite(&self, path: &Path) -> Result<(), Error> {
        for (name, m) in &self.metrics {
            let optional = [
                ("sd", m.sd),
                ("df", m.df),
                ("paired_sd", m.paired_sd),
                ("paired_df", m.paired_df),
            ];
            let present = optional
                .into_iter()
                .filter_map(|(key, v)| v.map(|v| (key, v)));
            for (key, v) in [("threshold", m.threshold), ("max", m.max)]
                .into_iter()
                .chain(present)
            {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(Error::input(format!(
                        "{}: metrics.{}.{key}: expected a finite number >= 0, found {v}",
                        path.display(),
                        crate::output::quote(name.as_bytes())
                    )));
                }
            }
        }
        Ok(())
    }

    /// Serializes as JSON or TOML, by the target's extension. A non-finite threshold (values
    /// too far apart to subtract) is an error naming the metric, never written.
    pub fn to_bytes(&self, path: &Path) -> anyhow::Result<Vec<u8>> {
        self.check_finite(path).map_err(|e| {
            Error::input(format!(
                "{e}; nothing written (the values are too far apart to measure their noise)"
            ))
        })?;
        Ok(if is_json(path) {
            let mut s = serde_json::to_string_pretty(self)?;
            s.push('\n');
            s.into_bytes()
        } else {
            toml::to_string(self)?.into_bytes()
        })
    }
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Linear-interpolated quantile of sorted values (type 7, as numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Upper IQR fence (Q3 + 1.5 x IQR) of `values`, with the maximum; None when empty.
pub fn iqr_fence(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let (q1, q3) = (quantile(&v, 0.25), quantile(&v, 0.75));
    Some((q3 + 1.5 * (q3 - q1), *v.last().unwrap()))
}

/// One metric's noise from its values: the upper IQR fence of |x_i - x_j| over all pairs
/// and the standard deviation (n - 1 df), times `scale` (1 for single repeats); None when
/// nothing varied.
pub fn metric_noise(values: &[f64], scale: f64) -> Option<MetricNoise> {
    let diffs: Vec<f64> = (0..values.len())
        .flat_map(|i| (i + 1..values.len()).map(move |j| (i, j)))
        .map(|(i, j)| (values[i] - values[j]).abs())
        .collect();
    let (threshold, max) = iqr_fence(&diffs)?;
    (max > 0.0).then_some(MetricNoise {
        threshold: threshold * scale,
        max: max * scale,
        pairs: diffs.len(),
        sd: Some(sd(values) * scale),
        df: Some(values.len().saturating_sub(1) as f64),
        paired_sd: None,
        paired_df: None,
    })
}

/// The spread of a seed-paired difference from repeats grouped by seed (a seed run more than
/// once): sqrt(2 x pooled within-seed variance) and its degrees of freedom; None without a
/// seed run twice. A spread of 0 records that no seed's runs ever differed.
fn paired_noise(values: &[f64], seeds: &[Option<u64>]) -> Option<(f64, f64)> {
    let mut groups: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for (v, s) in values.iter().zip(seeds) {
        if let Some(s) = s {
            groups.entry(*s).or_default().push(*v);
        }
    }
    let (mut ss, mut df) = (0.0, 0usize);
    for g in groups.values().filter(|g| g.len() >= 2) {
        ss += sd(g).powi(2) * (g.len() - 1) as f64;
        df += g.len() - 1;
    }
    (df > 0).then(|| ((2.0 * ss / df as f64).sqrt(), df as f64))
}

/// Learns every metric's noise from repeats of one build (metric tables, one per repeat,
/// with the seed each ran under).
pub fn learn(tables: &[MetricTable], seeds: &[Option<u64>], sources: Vec<String>) -> NoiseFile {
    let mut names: Vec<&String> = vec![];
    let mut seen = std::collections::HashSet::new();
    for t in tables {
        for n in t.keys() {
            if seen.insert(n) {
                names.push(n);
            }
        }
    }
    let mut out = BTreeMap::new();
    let mut constant = vec![];
    for name in names {
        // A count a repeat lacks is 0; a ratio it lacks had no sample.
        let values: Vec<f64> = tables
            .iter()
            .filter_map(|t| match t.get(name) {
                Some(v) => Some(v.value()),
                None => tables
                    .iter()
                    .find_map(|x| x.get(name))
                    .filter(|v| v.kind == metrics::MetricKind::Count)
                    .map(|_| 0.0),
            })
            .collect();
        let seen_everywhere = values.len() == tables.len();
        match metric_noise(&values, 1.0) {
            Some(mut m) => {
                if seen_everywhere {
                    if let Some((s, df)) = paired_noise(&values, seeds) {
                        m.paired_sd = Some(s);
                        m.paired_df = Some(df);
                    }
                }
                out.insert(name.clone(), m);
            }
            None if seen_everywhere => constant.push(name.clone()),
            None => {}
        }
    }
    constant.sort();
    let distinct: std::collections::BTreeSet<u64> = seeds.iter().flatten().copied().collect();
    let paired = distinct.len() < seeds.iter().flatten().count();
    NoiseFile {
        schema_version: NOISE_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        method: "per metric: standard deviation of single repeats (pooled into the gate's t tests) and the upper IQR fence (Q3 + 1.5 IQR) of |x_i - x_j| over all pairs of pooled repeats of one build; paired_sd from repeats sharing a seed".into(),
        sources,
        repeats: tables.len(),
        metrics: out,
        seeds: distinct.len(),
        paired: Some(paired),
        constant,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(v: f64) -> metrics::MetricValue {
        metrics::MetricValue {
            kind: metrics::MetricKind::Count,
            num: v,
            den: None,
        }
    }

    /// A file learned paired records a metric that varied only between seeds (each seed's
    /// runs equal) with paired_sd 0: not known to vary paired, so paired repeats may take
    /// the exact path on it; one whose runs of a seed differed is known to vary.
    #[test]
    fn learned_paired_tells_seed_noise_from_run_noise() {
        let rows = [
            (1, 10.0, 1.0),
            (1, 10.0, 2.0),
            (2, 14.0, 3.0),
            (2, 14.0, 5.0),
        ];
        let tables: Vec<MetricTable> = rows
            .iter()
            .map(|(_, seed_only, run)| {
                let mut t = MetricTable::new();
                t.insert("seed_only".into(), count(*seed_only));
                t.insert("run".into(), count(*run));
                t
            })
            .collect();
        let seeds: Vec<Option<u64>> = rows.iter().map(|r| Some(r.0)).collect();
        let n = learn(&tables, &seeds, vec!["s".into()]);
        assert_eq!(n.paired, Some(true));
        let m = &n.metrics["seed_only"];
        assert_eq!((m.paired_sd, m.paired_df), (Some(0.0), Some(2.0)));
        assert!(!n.varies_paired("seed_only") && n.prior("seed_only", true).is_none());
        // Within-seed variances 0.5 and 2: pooled 1.25 on 2 df, a paired difference's 2.5.
        let p = n.prior("run", true).unwrap();
        assert!((p.sd - 2.5f64.sqrt()).abs() < 1e-12 && p.df == 2.0, "{p:?}");
        assert!(n.varies_paired("run"));
        // An unpaired comparison still sees both vary.
        assert!(n.prior("seed_only", false).is_some());
    }

    #[test]
    fn fence_matches_hand_computation() {
        // Sorted 1..=8: Q1 = 2.75, Q3 = 6.25, fence = 6.25 + 1.5 x 3.5 = 11.5.
        let v: Vec<f64> = (1..=8).map(f64::from).collect();
        assert_eq!(iqr_fence(&v), Some((11.5, 8.0)));
        assert_eq!(iqr_fence(&[]), None);
    }

    #[test]
    fn learns_only_varying_metrics_and_round_trips() {
        let mk = |a: f64, b: f64| -> MetricTable {
            let mut t = MetricTable::new();
            let count = |v: f64| metrics::MetricValue {
                kind: metrics::MetricKind::Count,
                num: v,
                den: None,
            };
            t.insert("x".into(), count(a));
            t.insert("y".into(), count(b));
            t
        };
        let tables = vec![mk(10.0, 5.0), mk(12.0, 5.0), mk(11.0, 5.0)];
        let n = learn(&tables, &[Some(1), Some(2), Some(3)], vec!["s".into()]);
        assert_eq!(n.repeats, 3);
        assert!(n.threshold("y").is_none());
        // |diffs| = 2, 1, 1 -> sorted 1, 1, 2: Q1 = 1, Q3 = 1.5, fence = 2.25.
        assert_eq!(n.threshold("x"), Some(2.25));
        let dir = tempfile::tempdir().unwrap();
        for f in ["n.toml", "n.json"] {
            let p = dir.path().join(f);
            std::fs::write(&p, n.to_bytes(&p).unwrap()).unwrap();
            assert_eq!(NoiseFile::load(&p).unwrap(), n);
        }
        // Not learned paired: any variation counts as varying paired too.
        assert!(n.varies_paired("x") && !n.varies_paired("y"));
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "schema_version = 1\n").unwrap();
        let e = format!("{:#}", NoiseFile::load(&bad).unwrap_err());
        assert!(e.contains("bad.toml"), "{e}");
    }
}

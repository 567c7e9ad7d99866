//! Learned noise: per-metric thresholds measured on A/A data (`calibrate`), used as rule-limit floors (`--noise`).
//!
//! In the spirit of rustc-perf's significance fences: a metric's threshold is the upper IQR
//! fence (Q3 + 1.5 x IQR) of the absolute differences between repeats of one build.
//! Single-repeat differences are wider than differences of n-repeat means, so the floor is
//! conservative (it errs towards calling a change noise, never towards a false failure).

use crate::error::Error;
use crate::gate::metrics::{self, MetricTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the noise file layout.
pub const NOISE_SCHEMA_VERSION: u32 = 1;

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
    /// Metrics that varied (a metric absent here showed no noise: no floor).
    pub metrics: BTreeMap<String, MetricNoise>,
}

impl NoiseFile {
    /// The learned threshold of a metric (full name, `bench.<b>.` prefix included).
    pub fn threshold(&self, metric: &str) -> Option<f64> {
        self.metrics
            .get(metric)
            .map(|m| m.threshold)
            .filter(|t| *t > 0.0)
    }

    /// The floor under a rule's limit for a comparison of `repeats`-repeat means: the
    /// per-repeat fence / sqrt(repeats). The fence is over differences of single repeats,
    /// |x_i - x_j|, whose spread is sqrt(2) sigma; a difference of two n-repeat means has
    /// sqrt(2 / n) sigma, so the same fence in standard deviations is threshold / sqrt(n).
    pub fn floor_for(&self, metric: &str, repeats: usize) -> Option<f64> {
        self.threshold(metric)
            .map(|t| t / (repeats.max(1) as f64).sqrt())
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

    /// Every threshold and max must be a finite number >= 0: what `load` accepts is what
    /// `to_bytes` may write (a `nan` written would be a noise file `--noise` rejects).
    fn check_finite(&self, path: &Path) -> Result<(), Error> {
        for (name, m) in &self.metrics {
            for (key, v) in [("threshold", m.threshold), ("max", m.max)] {
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

/// One metric's noise from its values: the upper IQR fence of |x_i - x_j| over all pairs,
/// times `scale` (1 for single repeats); None when nothing varied.
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
    })
}

/// Learns every metric's noise from repeats of one build (metric tables, one per repeat).
pub fn learn(tables: &[MetricTable], sources: Vec<String>) -> NoiseFile {
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
        if let Some(m) = metric_noise(&values, 1.0) {
            out.insert(name.clone(), m);
        }
    }
    NoiseFile {
        schema_version: NOISE_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        method: "upper IQR fence (Q3 + 1.5 IQR) of |x_i - x_j| over all pairs of pooled repeats of one build".into(),
        sources,
        repeats: tables.len(),
        metrics: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let n = learn(&tables, vec!["s".into()]);
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
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "schema_version = 1\n").unwrap();
        let e = format!("{:#}", NoiseFile::load(&bad).unwrap_err());
        assert!(e.contains("bad.toml"), "{e}");
    }
}

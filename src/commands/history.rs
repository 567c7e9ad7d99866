//! `history`: append compare/gate results to a JSON-lines file and show metric trends over commits.

use crate::cli::{HistoryAction, HistoryArgs, HistoryFormat as Format};
use crate::error::{Error, EXIT_PASS};
pub use crate::model::history::{HistoryEntry, HistoryTrends, MetricTrend, HISTORY_SCHEMA_VERSION};
use crate::report::history::{render_html, render_json, render_text};
use globset::GlobSetBuilder;
use indexmap::IndexMap;
use std::path::Path;

/// Builds an entry from a `compare --format json` / gate `report.json` document.
pub fn entry_from_report(report: &serde_json::Value, source: &Path) -> Result<HistoryEntry, Error> {
    let field = |key: &str| {
        report.get(key).ok_or_else(|| {
            Error::input(format!(
                "{}: key `{key}` missing: not a pystats-gate result JSON (compare --format json)",
                source.display()
            ))
        })
    };
    let label_of = |side: &serde_json::Value| {
        side.get("revision")
            .and_then(|v| v.as_str())
            .or_else(|| side.get("path").and_then(|v| v.as_str()))
            .map(str::to_string)
    };
    let verdict = field("verdict")?
        .as_str()
        .ok_or_else(|| {
            Error::input(format!(
                "{}: `verdict`: expected a string",
                source.display()
            ))
        })?
        .to_string();
    let head = field("head")?;
    let label = label_of(head).ok_or_else(|| {
        Error::input(format!(
            "{}: `head.path`: expected a string",
            source.display()
        ))
    })?;
    let comparisons = field("comparisons")?.as_array().ok_or_else(|| {
        Error::input(format!(
            "{}: `comparisons`: expected an array",
            source.display()
        ))
    })?;
    let mut metrics = IndexMap::new();
    for (i, c) in comparisons.iter().enumerate() {
        let name = c.get("name").and_then(|v| v.as_str());
        let mean = c.pointer("/stats/head_mean").and_then(|v| v.as_f64());
        match (name, mean) {
            (Some(n), Some(m)) => {
                metrics.insert(n.to_string(), m);
            }
            _ => {
                return Err(Error::input(format!(
                    "{}: `comparisons[{i}]`: expected `name` and `stats.head_mean`",
                    source.display()
                )))
            }
        }
    }
    Ok(HistoryEntry {
        schema_version: HISTORY_SCHEMA_VERSION,
        recorded_at: chrono::Utc::now().to_rfc3339(),
        label,
        base_label: report.get("base").and_then(label_of),
        verdict,
        metrics,
        repeats: head
            .get("repeats")
            .and_then(|r| r.as_array())
            .map(|r| r.len()),
    })
}

/// Reads a history file; every line must be an entry (errors name the line).
pub fn read_history(path: &Path) -> Result<Vec<HistoryEntry>, Error> {
    let text = crate::text::read_input(path)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let e: HistoryEntry = serde_json::from_str(l)
                .map_err(|e| {
                    let e = crate::text::cap(&e.to_string());
                    Error::at_line(path, i + 1, format!("not a history entry: {e}"))
                })?;
            if e.schema_version != HISTORY_SCHEMA_VERSION {
                return Err(Error::at_line(
                    path,
                    i + 1,
                    format!(
                        "schema_version {} is not supported (this pystats-gate reads version {HISTORY_SCHEMA_VERSION})",
                        e.schema_version
                    ),
                ));
            }
            Ok(e)
        })
        .collect()
}

/// Trends of the metrics matching `globs` (all metrics when empty), in first-seen order.
pub fn trends(entries: &[HistoryEntry], globs: &[String]) -> Result<Vec<MetricTrend>, Error> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(crate::text::glob(g).map_err(|e| {
            Error::input(format!(
                "--metric {}: {e}",
                crate::text::quote(g.as_bytes())
            ))
        })?);
    }
    let set = b.build().map_err(|e| Error::input(e.to_string()))?;
    let mut out: IndexMap<String, Vec<(String, f64)>> = IndexMap::new();
    for e in entries {
        for (name, v) in &e.metrics {
            if globs.is_empty() || set.is_match(name) {
                out.entry(name.clone())
                    .or_default()
                    .push((e.label.clone(), *v));
            }
        }
    }
    if !globs.is_empty() && out.is_empty() {
        return Err(Error::input(format!(
            "--metric {}: matches no recorded metric",
            globs.join(", ")
        )));
    }
    Ok(out
        .into_iter()
        .map(|(metric, points)| MetricTrend { metric, points })
        .collect())
}

/// A noise file from the last `last` entries: every metric's fence over the pairwise
/// differences of the recorded means (different commits: the IQR fence keeps a few real
/// changes from widening it), scaled by sqrt(repeats) to the per-repeat fence a noise file
/// holds (a difference of n-repeat means has 1/sqrt(n) of a single repeats' spread;
/// repeats is the fewest any entry recorded, 1 for entries without it).
pub fn noise_from_history(
    entries: &[HistoryEntry],
    last: usize,
    source: &str,
) -> crate::gate::noise::NoiseFile {
    let used = &entries[entries.len().saturating_sub(last)..];
    let repeats = used
        .iter()
        .map(|e| e.repeats.unwrap_or(1))
        .min()
        .unwrap_or(1)
        .max(1);
    let mut names: Vec<&String> = vec![];
    for e in used {
        for n in e.metrics.keys() {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    let metrics = names
        .into_iter()
        .filter_map(|n| {
            let values: Vec<f64> = used
                .iter()
                .filter_map(|e| e.metrics.get(n).copied())
                .collect();
            crate::gate::noise::metric_noise(&values, (repeats as f64).sqrt())
                .map(|m| (n.clone(), m))
        })
        .collect();
    crate::gate::noise::NoiseFile {
        schema_version: crate::gate::noise::NOISE_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        method: format!(
            "history: upper IQR fence (Q3 + 1.5 IQR) of |m_i - m_j| over pairs of the last {} recorded head means ({repeats} repeat(s) each), x sqrt({repeats})",
            used.len()
        ),
        sources: used.iter().map(|e| format!("{source}:{}", e.label)).collect(),
        repeats: used.len() * repeats,
        metrics,
        // Means of different commits: no seed is known, nothing is certified, never paired.
        seeds: 0,
        paired: Some(false),
        constant: vec![],
    }
}

pub fn cmd_history(args: &HistoryArgs) -> anyhow::Result<i32> {
    match &args.action {
        HistoryAction::Noise {
            file,
            output,
            last,
            force,
        } => {
            let entries = read_history(file)?;
            if entries.len().min(*last) < 3 {
                return Err(Error::input(format!(
                    "{}: {} entr(ies) (--last {last}): a noise file needs at least 3",
                    file.display(),
                    entries.len()
                ))
                .into());
            }
            let noise = noise_from_history(&entries, *last, &file.display().to_string());
            crate::output::write_file(output, &noise.to_bytes(output)?, &[file], *force)?;
            eprintln!(
                "history noise: {} entr(ies), {} metric(s) with noise -> {}",
                entries.len().min(*last),
                noise.metrics.len(),
                output.display()
            );
            Ok(EXIT_PASS)
        }
        HistoryAction::Append { result, file } => {
            // The history is read before it is appended to: refuse an input first.
            crate::output::refuse_input(file, &[result])?;
            let text = crate::text::read_input(result)
                .map_err(|e| Error::input(format!("{}: {e}", result.display())))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| Error::at_line(result, e.line(), e.to_string()))?;
            let entry = entry_from_report(&value, result)?;
            let mut line = serde_json::to_string(&entry)? + "\n";
            if file.exists() {
                // Refuse to append to a file we could not read back.
                read_history(file)?;
                // A last line without its newline (written by hand) must not swallow ours.
                if !crate::text::read_input(file).is_ok_and(|t| t.is_empty() || t.ends_with('\n')) {
                    line.insert(0, '\n');
                }
            }
            // One write of the whole line: concurrent appenders (O_APPEND) never interleave.
            crate::output::append_file(file, line.as_bytes(), &[result])?;
            eprintln!(
                "appended {} ({} metrics) to {}",
                entry.label,
                entry.metrics.len(),
                file.display()
            );
            Ok(EXIT_PASS)
        }
        HistoryAction::Show {
            file,
            metric,
            format,
            output,
            force,
        } => {
            let entries = read_history(file)?;
            let shown = HistoryTrends {
                recorded: entries.len(),
                trends: trends(&entries, metric)?,
            };
            let body = match format {
                Format::Html => render_html(&shown),
                Format::Json => render_json(&shown)?,
                Format::Text => render_text(&shown),
            };
            match output {
                Some(p) => crate::output::write_file(p, body.as_bytes(), &[file], *force)?,
                None => crate::output::print(&body)?,
            }
            Ok(EXIT_PASS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_from_history_scales_the_fence_of_means_to_one_repeat() {
        let entry = |label: &str, x: f64, repeats: Option<usize>| HistoryEntry {
            schema_version: HISTORY_SCHEMA_VERSION,
            recorded_at: String::new(),
            label: label.into(),
            base_label: None,
            verdict: "pass".into(),
            metrics: [("x".to_string(), x), ("still".to_string(), 7.0)]
                .into_iter()
                .collect(),
            repeats,
        };
        let entries = vec![
            entry("old", 100.0, None),
            entry("a", 1.0, Some(4)),
            entry("b", 2.0, Some(4)),
            entry("c", 3.0, Some(9)),
        ];
        let n = noise_from_history(&entries, 3, "h.jsonl");
        // |diffs| 1, 2, 1 -> Q1 1, Q3 1.5, fence 2.25; x sqrt(4) (fewest repeats).
        assert_eq!(n.threshold("x"), Some(4.5));
        assert!(n.threshold("still").is_none());
        assert_eq!(n.sources, vec!["h.jsonl:a", "h.jsonl:b", "h.jsonl:c"]);
    }
}

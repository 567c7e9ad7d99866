//! `pystats-gate metrics SET`: the gate's metric table of one set.

use crate::cli::MetricsArgs;
use crate::gate::metrics::*;
use crate::stats::set::StatsSet;
use indexmap::IndexMap;

/// `pystats-gate metrics SET`.
pub fn cmd_metrics(args: &MetricsArgs) -> anyhow::Result<i32> {
    use crate::cli::TableFormat as Format;
    let set = StatsSet::load(
        &args.set,
        crate::stats::raw::ParseOptions {
            allow_malformed: args.input.allow_malformed,
        },
    )?;
    if let Some(w) = set
        .manifest
        .as_ref()
        .and_then(|m| m.failure_warning(&set.path))
    {
        eprintln!("{w}");
    }
    let meta = super::metadata_for(&set, &args.input)?;
    let filter = match &args.filter {
        Some(g) => Some(
            crate::text::glob(g)
                .map_err(|e| {
                    crate::error::Error::input(format!(
                        "--filter {}: {e}",
                        crate::text::quote(g.as_bytes())
                    ))
                })?
                .compile_matcher(),
        ),
        None => None,
    };
    let tables = set_metrics(&set, &meta, args.per_benchmark)?;
    let mut names: IndexMap<String, MetricKind> = IndexMap::new();
    for t in &tables {
        for (n, v) in t {
            if filter.as_ref().is_none_or(|f| f.is_match(n)) {
                names.entry(n.clone()).or_insert(v.kind);
            }
        }
    }
    if let (Some(g), true) = (&args.filter, names.is_empty()) {
        return Err(crate::error::Error::input(format!(
            "--filter {} matches no metric",
            crate::text::quote(g.as_bytes())
        ))
        .into());
    }
    let repeat_names: Vec<&str> = set.repeats.iter().map(|r| r.name.as_str()).collect();
    let out = match args.format {
        Format::Json => {
            let mut obj = serde_json::Map::new();
            for (n, kind) in &names {
                // A count a repeat lacks is 0; a ratio it lacks has no value (null).
                let vals: Vec<Option<f64>> = tables
                    .iter()
                    .map(|t| match t.get(n) {
                        Some(v) => Some(v.value()),
                        None if *kind == MetricKind::Count => Some(0.0),
                        None => None,
                    })
                    .collect();
                obj.insert(n.clone(), serde_json::json!({"kind": kind, "values": vals}));
            }
            let doc = serde_json::json!({"repeats": repeat_names, "metrics": obj});
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Text => {
            let rows: Vec<(&String, Vec<String>)> = names
                .iter()
                .map(|(n, kind)| {
                    let vals = tables
                        .iter()
                        .map(|t| match t.get(n) {
                            Some(v) => format_value(*kind, v.value()),
                            None if *kind == MetricKind::Count => format_value(*kind, 0.0),
                            None => "-".to_string(),
                        })
                        .collect();
                    (n, vals)
                })
                .collect();
            let width = names.keys().map(|n| n.len()).max().unwrap_or(0).max(6);
            let col_width: Vec<usize> = repeat_names
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    rows.iter()
                        .map(|(_, v)| v[i].len())
                        .fold(r.len(), usize::max)
                })
                .collect();
            let line = |first: &str, cells: &[String]| {
                let cells: Vec<String> = cells
                    .iter()
                    .zip(&col_width)
                    .map(|(c, w)| format!("{c:>w$}"))
                    .collect();
                format!("{first:<width$}  {}\n", cells.join("  "))
            };
            let header: Vec<String> = repeat_names.iter().map(|r| r.to_string()).collect();
            let mut s = line("metric", &header);
            for (n, vals) in &rows {
                s.push_str(&line(n, vals));
            }
            s
        }
    };
    crate::output::print(&out)?;
    Ok(crate::error::EXIT_PASS)
}

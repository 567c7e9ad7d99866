//! `pystats-gate metrics SET`: the gate's metric table of one set.

use crate::cli::MetricsArgs;
use crate::gate::metrics::*;
use crate::stats::set::StatsSet;

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
    let tables = set_repeat_metrics(&set, &meta, args.per_benchmark)?;
    // Every name once, first-seen order, with the kind first seen; at 5,000 benchmarks
    // there are millions, so names are spelled out only when matched and written.
    let union = union_of(&tables);
    let names: Vec<&UnionEntry> = union
        .iter()
        .filter(|e| {
            filter
                .as_ref()
                .is_none_or(|f| f.is_match(e.name().as_ref()))
        })
        .collect();
    if let (Some(g), true) = (&args.filter, names.is_empty()) {
        return Err(crate::error::Error::input(format!(
            "--filter {} matches no metric",
            crate::text::quote(g.as_bytes())
        ))
        .into());
    }
    let repeat_names: Vec<&str> = set.repeats.iter().map(|r| r.name.as_str()).collect();
    let out = match args.format {
        Format::Json => render_json(&names, &tables, &repeat_names)?,
        Format::Text => render_text(&names, &tables, &repeat_names),
    };
    crate::output::print(&out)?;
    Ok(crate::error::EXIT_PASS)
}

/// A metric's value in one repeat: a count the repeat lacks is 0; a ratio it lacks has none.
fn value(t: &RepeatMetrics, n: &str, kind: MetricKind) -> Option<f64> {
    match t.get(n) {
        Some(v) => Some(v.value()),
        None if kind == MetricKind::Count => Some(0.0),
        None => None,
    }
}

/// `--format json`: each metric's kind and per-repeat values.
fn render_json(
    names: &[&UnionEntry],
    tables: &[RepeatMetrics],
    repeat_names: &[&str],
) -> anyhow::Result<String> {
    let mut obj = serde_json::Map::new();
    for e in names {
        let (n, kind) = (e.name(), e.like.kind);
        let vals: Vec<Option<f64>> = tables.iter().map(|t| value(t, &n, kind)).collect();
        obj.insert(
            n.into_owned(),
            serde_json::json!({"kind": kind, "values": vals}),
        );
    }
    let doc = serde_json::json!({"repeats": repeat_names, "metrics": obj});
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

/// The text table: a metric per line, a column per repeat.
fn render_text(names: &[&UnionEntry], tables: &[RepeatMetrics], repeat_names: &[&str]) -> String {
    let cell = |t: &RepeatMetrics, n: &str, kind: MetricKind| match value(t, n, kind) {
        Some(v) => format_value(kind, v),
        None => "-".to_string(),
    };
    // Two passes (widths, then lines) instead of holding every cell.
    let mut width = 6;
    let mut col_width: Vec<usize> = repeat_names.iter().map(|r| r.len()).collect();
    for e in names {
        let n = e.name();
        width = width.max(n.len());
        for (w, t) in col_width.iter_mut().zip(tables) {
            *w = (*w).max(cell(t, &n, e.like.kind).len());
        }
    }
    let line = |s: &mut String, first: &str, cells: &mut dyn Iterator<Item = String>| {
        let cells: Vec<String> = cells
            .zip(&col_width)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        s.push_str(&format!("{first:<width$}  {}\n", cells.join("  ")));
    };
    let mut s = String::new();
    line(
        &mut s,
        "metric",
        &mut repeat_names.iter().map(|r| r.to_string()),
    );
    for e in names {
        let n = e.name();
        line(
            &mut s,
            &n,
            &mut tables.iter().map(|t| cell(t, &n, e.like.kind)),
        );
    }
    s
}

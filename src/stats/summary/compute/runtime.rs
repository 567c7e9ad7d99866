//! Call, object and GC statistics.

use super::*;

/// The call table's labels (`get_call_stats`): the model's rows, `Calls via X[i]` labelled
/// with its EVAL_CALL define; coinciding labels collapse, the last one winning.
pub(super) fn call_stats(side: &Side) -> IndexMap<String, u64> {
    let mut result = IndexMap::new();
    for c in &side.model.calls {
        let label = match (&c.define, c.key.split_once('[')) {
            (Some(d), Some((name, _))) if !c.key.contains("Calls to") => {
                format!("{name} ({})", pretty(d))
            }
            _ => c.key.clone(),
        };
        result.insert(label, c.value);
    }
    result
}

pub(super) fn call_stats_section(base: &Side, head: Option<&Side>) -> Section {
    let def = TableDef::new(&["", "Count:", "Ratio:"], JoinMode::Change, |s: &Side| {
        let stats = call_stats(s);
        let total = s.model.calls_to_total as i128;
        stats
            .into_iter()
            .map(|(k, v)| vec![Cell::text(k), Cell::count(v), Cell::ratio(v, total)])
            .collect()
    });
    section(
        "Call stats",
        "Inlined calls and frame stats",
        "
        This shows what fraction of calls to Python functions are inlined (i.e.
        not having a call at the C level) and for those that are not, where the
        call comes from.  The various categories overlap.

        Also includes the count of frame objects created.
        ",
        vec![table(def, base, head)],
    )
}

pub(super) fn object_stats_section(base: &Side, head: Option<&Side>) -> Section {
    let def = TableDef::new(&["", "Count:", "Ratio:"], JoinMode::Change, |s: &Side| {
        let mut result: IndexMap<String, (u64, Option<i128>)> = IndexMap::new();
        for o in &s.model.objects {
            let label = skip_chars(&o.key, 6).trim();
            let mut chars = label.chars();
            let label = match chars.next() {
                Some(c) => c.to_uppercase().collect::<String>() + chars.as_str(),
                None => String::new(),
            };
            result.insert(label, (o.value, o.den.map(|d| d as i128)));
        }
        result
            .into_iter()
            .map(|(label, (v, den))| {
                vec![
                    Cell::text(label),
                    Cell::count(v),
                    Cell::Ratio {
                        num: v as i128,
                        den,
                        percentage: true,
                    },
                ]
            })
            .collect()
    });
    section(
        "Object stats",
        "Allocations, frees and dict materializatons",
        "
        Below, \"allocations\" means \"allocations that are not from a freelist\".
        Total allocations = \"Allocations from freelist\" + \"Allocations\".

        \"Inline values\" is the number of values arrays inlined into objects.

        The cache hit/miss numbers are for the MRO cache, split into dunder and
        other names.
        ",
        vec![table(def, base, head)],
    )
}

pub(super) const GC_COLUMNS: [&str; 3] = ["collections", "objects collected", "object visits"];
/// Reachability counters newer CPythons print per generation; shown as extra columns
/// only when a dump has them, so 3.13 tables stay identical to summarize_stats.py's.
pub(super) const GC_REACHABILITY: [&str; 2] = [
    "objects reachable from roots",
    "objects not reachable from roots",
];

pub(super) fn has_gc_reachability(side: &Side) -> bool {
    side.model
        .gc
        .iter()
        .any(|g| GC_REACHABILITY.iter().any(|k| g.contains_key(*k)))
}

pub(super) fn gc_stats_section(base: &Side, head: Option<&Side>) -> Section {
    let wide = has_gc_reachability(base) || head.is_some_and(has_gc_reachability);
    let columns: &'static [&'static str] = if wide {
        &[
            "Generation:",
            "Collections:",
            "Objects collected:",
            "Object visits:",
            "Reachable from roots:",
            "Not reachable from roots:",
        ]
    } else {
        &[
            "Generation:",
            "Collections:",
            "Objects collected:",
            "Object visits:",
        ]
    };
    let def = TableDef::new(columns, JoinMode::Simple, move |s: &Side| {
        let extra: &[&str] = if wide { &GC_REACHABILITY } else { &[] };
        s.model
            .gc
            .iter()
            .enumerate()
            .map(|(i, gen)| {
                let mut row = vec![Cell::count(i as i128)];
                row.extend(
                    GC_COLUMNS
                        .iter()
                        .chain(extra)
                        .map(|c| Cell::count(gen.get(*c).copied().unwrap_or(0))),
                );
                row
            })
            .collect()
    });
    section(
        "GC stats",
        "GC collections and effectiveness",
        "
        Collected/visits gives some measure of efficiency.
        ",
        vec![table(def, base, head)],
    )
}

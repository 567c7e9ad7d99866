//! Tier 2 optimization: the optimizer, uops and their histograms.

use super::*;

/// (label, doc, value key, denominator key or None, percentage)
pub(super) type OptRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

pub(super) const OPTIMIZATION_ROWS: &[OptRow] = &[
    ("Optimization attempts", "The number of times a potential trace is identified.  Specifically, this occurs in the JUMP BACKWARD instruction when the counter reaches a threshold.", "Optimization attempts", None),
    ("Traces created", "The number of traces that were successfully created.", "Optimization traces created", Some("Optimization attempts")),
    ("Trace stack overflow", "A trace is truncated because it would require more than 5 stack frames.", "Optimization trace stack overflow", Some("Optimization attempts")),
    ("Trace stack underflow", "A potential trace is abandoned because it pops more frames than it pushes.", "Optimization trace stack underflow", Some("Optimization attempts")),
    ("Trace too long", "A trace is truncated because it is longer than the instruction buffer.", "Optimization trace too long", Some("Optimization attempts")),
    ("Trace too short", "A potential trace is abandoned because it it too short.", "Optimization trace too short", Some("Optimization attempts")),
    ("Inner loop found", "A trace is truncated because it has an inner loop", "Optimization inner loop", Some("Optimization attempts")),
    ("Recursive call", "A trace is truncated because it has a recursive call.", "Optimization recursive call", Some("Optimization attempts")),
    ("Low confidence", "A trace is abandoned because the likelihood of the jump to top being taken is too low.", "Optimization low confidence", Some("Optimization attempts")),
    ("Executors invalidated", "The number of executors that were invalidated due to watched dictionary changes.", "Executors invalidated", Some("Optimization traces created")),
    ("Traces executed", "The number of traces that were executed", "Optimization traces executed", None),
    ("Uops executed", "The total number of uops (micro-operations) that were executed", "Optimization uops executed", Some("Optimization traces executed")),
];

pub(super) const OPTIMIZER_ROWS: &[OptRow] = &[
    (
        "Optimizer attempts",
        "The number of times the trace optimizer (_Py_uop_analyze_and_optimize) was run.",
        "Optimization optimizer attempts",
        None,
    ),
    (
        "Optimizer successes",
        "The number of traces that were successfully optimized.",
        "Optimization optimizer successes",
        Some("Optimization optimizer attempts"),
    ),
    (
        "Optimizer no memory",
        "The number of optimizations that failed due to no memory.",
        "Optimization optimizer failure no memory",
        Some("Optimization optimizer attempts"),
    ),
    (
        "Remove globals builtins changed",
        "The builtins changed during optimization",
        "Optimizer remove globals builtins changed",
        Some("Optimization optimizer attempts"),
    ),
    (
        "Remove globals incorrect keys",
        "The keys in the globals dictionary aren't what was expected",
        "Optimizer remove globals incorrect keys",
        Some("Optimization optimizer attempts"),
    ),
];

pub(super) const HISTOGRAMS: [(&str, &str); 3] = [
    ("Trace length", "Optimization traces created"),
    ("Optimized trace length", "Optimization traces created"),
    ("Trace run length", "Optimization traces executed"),
];

pub(super) fn has_optimization(side: &Side) -> bool {
    side.model.optimizer.is_some()
}

pub(super) fn opt_rows(rows: &'static [OptRow]) -> impl Fn(&Side) -> Vec<Row> {
    move |s: &Side| {
        rows.iter()
            .map(|(label, doc, key, den)| {
                let v = s.get(key);
                vec![
                    Cell::doc(*label, *doc),
                    Cell::count(v),
                    Cell::Ratio {
                        num: v as i128,
                        den: den.map(|d| s.get(d) as i128),
                        // The script means "not for Uops executed", but compares a Doc with
                        // a str, so every row is a percentage: reproduce that.
                        percentage: true,
                    },
                ]
            })
            .collect()
    }
}

/// The model's `name[N]` histogram, sorted by N (Python's `re.match(f"{prefix}\[([0-9]+)\]")`).
pub(super) fn histogram<'s>(side: &'s Side, name: &str) -> &'s [(u128, u64)] {
    side.model
        .optimizer
        .iter()
        .flat_map(|o| &o.histograms)
        .find(|h| h.name == name)
        .map(|h| h.buckets.as_slice())
        .unwrap_or(&[])
}

pub(super) fn count_table_rows(stats: &OpcodeStats) -> Vec<Row> {
    let mut rows: Vec<(&str, u64)> = stats
        .names
        .iter()
        .filter_map(|(n, e)| e.get("count").copied().filter(|c| *c != 0).map(|c| (*n, c)))
        .collect();
    sort_desc(&mut rows, |(_, c)| *c);
    rows.into_iter()
        .map(|(n, c)| vec![Cell::text(n), Cell::count(c)])
        .collect()
}

/// A Tier 2 histogram's buckets up to the last non-empty one, as shares of `den`.
fn histogram_table(name: &'static str, den: &'static str) -> TableDef<'static> {
    TableDef::new(
        &["Range", "Count:", "Ratio:"],
        JoinMode::ChangeNoSort,
        move |s: &Side| {
            let denominator = s.get(den);
            let mut rows: Vec<Row> = vec![];
            let mut last_non_zero = 0;
            for &(k, v) in histogram(s, name) {
                if v != 0 {
                    last_non_zero = rows.len();
                }
                rows.push(vec![
                    Cell::text(format!("<= {}", crate::text::group_digits(&k.to_string()))),
                    Cell::count(v),
                    Cell::ratio(v, denominator),
                ]);
            }
            rows.truncate(last_non_zero + 1);
            rows
        },
    )
}

/// The unsupported-opcode and optimizer-error sections.
fn opcode_count_sections(base: &Side, head: Option<&Side>) -> Vec<Part> {
    let mut parts = vec![];
    for (title, summary, prefix) in [
        ("Unsupported opcodes", "", "unsupported_opcode"),
        (
            "Optimizer errored out with opcode",
            "Optimization stopped after encountering this opcode",
            "error_in_opcode",
        ),
    ] {
        parts.push(Part::Section(section(
            title,
            summary,
            "",
            vec![table(
                TableDef::new(&["Opcode", "Count:"], JoinMode::Change, move |s: &Side| {
                    count_table_rows(&s.opcode_stats(prefix))
                }),
                base,
                head,
            )],
        )));
    }
    parts
}

pub(super) fn optimization_section(base: &Side, head: Option<&Side>) -> Section {
    let mut parts = vec![];
    if has_optimization(base) && head.is_none_or(has_optimization) {
        parts.push(table(
            TableDef::new(
                &["", "Count:", "Ratio:"],
                JoinMode::Change,
                opt_rows(OPTIMIZATION_ROWS),
            ),
            base,
            head,
        ));
        parts.push(table(
            TableDef::new(
                &["", "Count:", "Ratio:"],
                JoinMode::Change,
                opt_rows(OPTIMIZER_ROWS),
            ),
            base,
            head,
        ));
        for (name, den) in HISTOGRAMS {
            let def = histogram_table(name, den);
            parts.push(Part::Section(section(
                &format!("{name} histogram"),
                "",
                "",
                vec![table(def, base, head)],
            )));
        }
        parts.push(Part::Section(section(
            "Uop execution stats",
            "",
            "",
            vec![table(
                TableDef::new(
                    &["Name", "Count:", "Self:", "Cumulative:", "Miss ratio:"],
                    JoinMode::ChangeOneColumn,
                    |s: &Side| execution_count_rows(s, "uops"),
                ),
                base,
                head,
            )],
        )));
        parts.push(Part::Section(pair_count_section(
            "uop",
            Some("Non-JIT uop"),
            base,
            head,
        )));
        parts.extend(opcode_count_sections(base, head));
    }
    section(
        "Optimization (Tier 2) stats",
        "statistics about the Tier 2 optimizer",
        "",
        parts,
    )
}

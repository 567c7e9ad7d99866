//! Specialization attempts, failure kinds and effectiveness, per family.

use super::*;

pub(super) fn specialization_doc(label: &str) -> Option<&'static str> {
    Some(match label {
        "deferred" => {
            "Lists the number of \"deferred\" (i.e. not specialized) instructions executed."
        }
        "hit" => "Specialized instructions that complete.",
        "miss" | "deopt" => "Specialized instructions that deopt.",
        _ => return None,
    })
}

pub(super) fn specialization_section(base: &Side, head: Option<&Side>) -> Section {
    let mut names: Vec<&&str> = match head {
        None => base.opcode.names.keys().collect(),
        Some(h) => base
            .opcode
            .names
            .keys()
            .filter(|k| h.opcode.names.contains_key(*k))
            .collect(),
    };
    names.sort();
    let mut parts = vec![];
    for opcode in names {
        if !base.opcode.is_specializable(opcode) {
            continue;
        }
        if specialization_total(base, opcode) == 0
            && head.is_none_or(|h| specialization_total(h, opcode) == 0)
        {
            continue;
        }
        let op: &str = opcode;
        let (kinds, success, failures) = (kinds_table(op), success_table(op), failures_table(op));
        parts.push(Part::Section(section(
            op,
            &format!("specialization stats for {op} family"),
            "",
            vec![
                table(kinds, base, head),
                table(success, base, head),
                table(failures, base, head),
            ],
        )));
    }
    section(
        "Specialization stats",
        "Specialization stats by family",
        "",
        parts,
    )
}

/// One family's specialization kinds (`specialization.*` counts but success and failure).
fn kinds_table(op: &str) -> TableDef<'_> {
    TableDef::new(
        &["Kind", "Count:", "Ratio:"],
        JoinMode::Change,
        move |s: &Side| {
            let total = specialization_total(s, op) as i128;
            s.opcode
                .specialization_counts(op)
                .into_iter()
                .map(|(label, count)| {
                    let first = match specialization_doc(&label) {
                        Some(d) => Cell::doc(label, d),
                        None => Cell::text(label),
                    };
                    vec![first, Cell::count(count), Cell::ratio(count, total)]
                })
                .collect()
        },
    )
}

/// One family's specialization successes and failures.
fn success_table(op: &str) -> TableDef<'_> {
    TableDef::new(
        &["Success", "Count:", "Ratio:"],
        JoinMode::Change,
        move |s: &Side| {
            let (ok, fail) = s
                .family(op)
                .map(|f| (f.success, f.failure))
                .unwrap_or((0, 0));
            let total = ok as i128 + fail as i128;
            if total == 0 {
                return vec![];
            }
            vec![
                vec![
                    Cell::text("Success"),
                    Cell::count(ok),
                    Cell::ratio(ok, total),
                ],
                vec![
                    Cell::text("Failure"),
                    Cell::count(fail),
                    Cell::ratio(fail, total),
                ],
            ]
        },
    )
}

/// One family's failure kinds, most frequent first.
fn failures_table(op: &str) -> TableDef<'_> {
    TableDef::new(
        &["Failure kind", "Count:", "Ratio:"],
        JoinMode::Change,
        move |s: &Side| {
            let Some(fam) = s.family(op) else {
                return vec![];
            };
            // Kinds whose texts coincide collapse, the last index winning (a Python dict).
            let mut kinds: IndexMap<String, u64> = IndexMap::new();
            for k in &fam.failure_kinds {
                kinds.insert(kind_to_text(k.index, k.define.as_deref()), k.count);
            }
            let total = fam.failure;
            let mut rows: Vec<(String, u64)> = kinds.into_iter().collect();
            sort_desc(&mut rows, |(_, v)| *v);
            rows.into_iter()
                .map(|(label, v)| vec![Cell::text(label), Cell::count(v), Cell::ratio(v, total)])
                .collect()
        },
    )
}

pub(super) fn specialization_effectiveness_section(base: &Side, head: Option<&Side>) -> Section {
    let (effectiveness, deferred, misses) =
        (effectiveness_table(), deferred_table(), misses_table());
    section(
        "Specialization effectiveness",
        "",
        "
        All entries are execution counts. Should add up to the total number of
        Tier 1 instructions executed.
        ",
        vec![
            table(effectiveness, base, head),
            Part::Section(section(
                "Deferred by instruction",
                "Breakdown of deferred (not specialized) instruction counts by family",
                "",
                vec![table(deferred, base, head)],
            )),
            Part::Section(section(
                "Misses by instruction",
                "Breakdown of misses (specialized deopts) instruction counts by family",
                "",
                vec![table(misses, base, head)],
            )),
        ],
    )
}

/// Tier 1 instructions by how they ran (summarize_stats.py's effectiveness table).
fn effectiveness_table() -> TableDef<'static> {
    TableDef::new(
        &["Instructions", "Count:", "Ratio:"],
        JoinMode::Change,
        |s: &Side| {
            let e = &s.model.effectiveness;
            let total = e.total as i128;
            let (basic, not_specialized, hits, misses) = (
                e.basic as i128,
                e.not_specialized as i128,
                e.specialized_hits,
                e.specialized_misses as i128,
            );
            let row = |text: &str, doc: &str, v: i128| {
                vec![Cell::doc(text, doc), Cell::count(v), Cell::ratio(v, total)]
            };
            vec![
        row("Basic", "Instructions that are not and cannot be specialized, e.g. `LOAD_FAST`.", basic),
        row(
            "Not specialized",
            "Instructions that could be specialized but aren't, e.g. `LOAD_ATTR`, `BINARY_SLICE`.",
            not_specialized,
        ),
        row("Specialized hits", "Specialized instructions, e.g. `LOAD_ATTR_MODULE` that complete.", hits),
        row("Specialized misses", "Specialized instructions, e.g. `LOAD_ATTR_MODULE` that deopt.", misses),
    ]
        },
    )
}

/// The ten largest `counts` with their share of the total (none when the total is zero).
fn top10(counts: Vec<(&str, u64)>) -> Vec<Row> {
    let total: i128 = counts.iter().map(|(_, v)| *v as i128).sum();
    if total == 0 {
        return vec![];
    }
    let mut counts = counts;
    sort_desc(&mut counts, |(_, v)| *v);
    counts
        .into_iter()
        .take(10)
        .map(|(name, v)| vec![Cell::text(name), Cell::count(v), Cell::ratio(v, total)])
        .collect()
}

/// The instructions deferred most (RESUME left out, as the script does).
fn deferred_table() -> TableDef<'static> {
    TableDef::new(
        &["Name", "Count:", "Ratio:"],
        JoinMode::Change,
        |s: &Side| {
            top10(
                s.opcode
                    .names
                    .iter()
                    .filter(|(n, _)| **n != "RESUME")
                    .map(|(n, st)| (*n, st.get("specialization.deferred").copied().unwrap_or(0)))
                    .collect(),
            )
        },
    )
}

/// The non-adaptive instructions that miss most.
fn misses_table() -> TableDef<'static> {
    TableDef::new(
        &["Name", "Count:", "Ratio:"],
        JoinMode::Change,
        |s: &Side| {
            top10(
                s.opcode
                    .names
                    .iter()
                    .filter(|(_, st)| !st.contains_key("specializable"))
                    .map(|(n, st)| (*n, st.get("specialization.miss").copied().unwrap_or(0)))
                    .collect(),
            )
        },
    )
}

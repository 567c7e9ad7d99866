//! Rare events, counters no section shows, and the report's own sections: input quality, versions, renames, meta.

use super::*;

pub(super) fn rare_event_doc(event: &str) -> Option<&'static str> {
    Some(match event {
        "set class" => "Setting an object's class, `obj.__class__ = ...`",
        "set bases" => "Setting the bases of a class, `cls.__bases__ = ...`",
        "set eval frame func" => {
            "Setting the PEP 523 frame eval function `_PyInterpreterState_SetFrameEvalFunc()`"
        }
        "builtin dict" => "Modifying the builtins, `__builtins__.__dict__[var] = ...`",
        "func modification" => "Modifying a function, e.g. `func.__defaults__ = ...`, etc.",
        "watched dict modification" => "A watched dict has been modified",
        "watched globals modification" => "A watched `globals()` dict has been modified",
        _ => return None,
    })
}

pub(super) const RARE_PREFIX: &str = "Rare event ";

pub(super) fn rare_event_section(base: &Side, head: Option<&Side>) -> Section {
    let def = TableDef::new(&["Event", "Count:"], JoinMode::Change, |s: &Side| {
        s.data()
            .iter()
            .filter(|(k, _)| k.starts_with(RARE_PREFIX))
            .map(|(k, v)| {
                let inner = skip_chars(k, RARE_PREFIX.len() + 1);
                let mut inner_chars = inner.chars();
                inner_chars.next_back();
                let name = inner_chars.as_str().replace('_', " ");
                let first = match rare_event_doc(&name) {
                    Some(doc) => Cell::doc(name, doc),
                    None => Cell::text(name),
                };
                vec![first, Cell::count(v)]
            })
            .collect()
    });
    section(
        "Rare events",
        "Counts of rare/unlikely events",
        "",
        vec![table(def, base, head)],
    )
}

/// Whether summarize_stats.py shows `key` somewhere (everything else lands in "Other counters").
pub(super) fn is_shown(side: &Side, key: &str) -> bool {
    if key.starts_with("opcode")
        || key.contains("Calls to")
        || key.starts_with("Calls ")
        || key.starts_with("Frame")
        || key.starts_with("Object")
        || key.starts_with(RARE_PREFIX)
    {
        return true;
    }
    if let Some(after) = key.strip_prefix("GC[") {
        if let Some((n, rest)) = after.split_once(']') {
            return n.trim().parse::<usize>().is_ok_and(|n| n <= 64)
                && (GC_COLUMNS.contains(&rest.trim()) || GC_REACHABILITY.contains(&rest.trim()));
        }
        return false;
    }
    if has_optimization(side) {
        if OPTIMIZATION_ROWS
            .iter()
            .chain(OPTIMIZER_ROWS)
            .any(|r| r.2 == key)
            || key.starts_with("uop")
            || key.starts_with("unsupported_opcode")
            || key.starts_with("error_in_opcode")
        {
            return true;
        }
        if HISTOGRAMS
            .iter()
            .any(|(h, _)| key.starts_with(h) && !histogram_key_rest(key, h))
        {
            return true;
        }
    }
    false
}

/// True when `key` is `prefix[...]` but not a parsable histogram bucket.
pub(super) fn histogram_key_rest(key: &str, prefix: &str) -> bool {
    let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')) else {
        return true;
    };
    let n = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
    n == 0 || !rest[n..].starts_with(']')
}

pub(super) fn other_counters_section(base: &Side, head: Option<&Side>) -> Option<Section> {
    let unknown = |s: &Side| -> Vec<(String, u64)> {
        s.data()
            .iter()
            .filter(|(k, _)| !is_shown(s, k))
            .map(|(k, v)| (k.to_string(), v))
            .collect()
    };
    if unknown(base).is_empty() && head.is_none_or(|h| unknown(h).is_empty()) {
        return None;
    }
    let def = TableDef::new(&["Counter", "Count:"], JoinMode::Change, move |s: &Side| {
        unknown(s)
            .into_iter()
            .map(|(k, v)| vec![Cell::text(k), Cell::count(v)])
            .collect()
    });
    Some(section(
        "Other counters",
        "Counters this report has no table for",
        "
        Counters found in the dumps that summarize_stats.py does not show (for example
        from a newer CPython). They are kept, summed and listed here, never dropped.
        ",
        vec![table(def, base, head)],
    ))
}

pub(super) fn input_quality_section(base: &Side, head: Option<&Side>) -> Option<Section> {
    if base.malformed.is_empty() && head.is_none_or(|h| h.malformed.is_empty()) {
        return None;
    }
    let mut parts = vec![];
    let mut rows = vec![vec![
        Cell::text("Skipped malformed lines (base)"),
        Cell::count(base.malformed.len() as i128),
    ]];
    if let Some(h) = head {
        rows.push(vec![
            Cell::text("Skipped malformed lines (head)"),
            Cell::count(h.malformed.len() as i128),
        ]);
    }
    parts.push(Part::Table(Table {
        columns: vec![
            Column {
                name: "".into(),
                align: Align::Left,
            },
            Column {
                name: "Count".into(),
                align: Align::Right,
            },
        ],
        rows,
    }));
    let sample: Vec<Row> = base
        .malformed
        .iter()
        .chain(head.map(|h| h.malformed.as_slice()).unwrap_or(&[]))
        .take(20)
        .map(|m| {
            vec![
                Cell::text(format!("{}:{}", m.path, m.line)),
                Cell::text(m.reason.clone()),
            ]
        })
        .collect();
    parts.push(Part::Table(Table {
        columns: vec![
            Column {
                name: "Line".into(),
                align: Align::Left,
            },
            Column {
                name: "Problem".into(),
                align: Align::Left,
            },
        ],
        rows: sample,
    }));
    Some(section(
        "Malformed input",
        "Lines skipped under --allow-malformed",
        "",
        parts,
    ))
}

pub(super) fn version_section(base: &Side, head: Option<&Side>) -> Option<Section> {
    let head = head?;
    let specialized = |s: &Side| {
        s.meta
            .specialized_instructions
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    };
    if specialized(base) == specialized(head) {
        return None;
    }
    let a: IndexSet<&&str> = base.opcode.names.keys().collect();
    let b: IndexSet<&&str> = head.opcode.names.keys().collect();
    let mut rows: Vec<Row> = vec![];
    for n in a.difference(&b) {
        rows.push(vec![Cell::text(**n), Cell::text("base only")]);
    }
    for n in b.difference(&a) {
        rows.push(vec![Cell::text(**n), Cell::text("head only")]);
    }
    Some(section(
        "Version differences",
        &format!(
            "Base metadata {} vs head metadata {}",
            base.meta.version, head.meta.version
        ),
        "
        Base and head come from different CPython versions. Instructions present on
        one side only are listed here; specialization families are only compared
        where both sides have them.
        ",
        vec![Part::Table(Table {
            columns: vec![
                Column {
                    name: "Instruction".into(),
                    align: Align::Left,
                },
                Column {
                    name: "Present".into(),
                    align: Align::Left,
                },
            ],
            rows,
        })],
    ))
}

/// The renames [`crate::stats::model::normalize`] applied, when it applied any: the report shows
/// 3.13 names for every version, and says so.
pub(super) fn normalization_section(base: &Side, head: Option<&Side>) -> Option<Section> {
    let mut rows: Vec<Row> = vec![];
    for (label, side) in [("base", Some(base)), ("head", head)] {
        let Some(side) = side else { continue };
        for r in &side.model.renames {
            rows.push(vec![
                Cell::text(r.from.as_str()),
                Cell::text(r.to.as_str()),
                Cell::text(r.why.as_str()),
                Cell::text(if head.is_some() { label } else { "" }),
            ]);
        }
    }
    if rows.is_empty() {
        return None;
    }
    let col = |name: &str| Column {
        name: name.into(),
        align: Align::Left,
    };
    Some(section(
        "Version normalization",
        "Names read in another CPython version's format",
        "
        Counters and instructions are shown under their CPython 3.13 names; these were
        renamed from the version the dumps came from.
        ",
        vec![Part::Table(Table {
            columns: vec![col("From"), col("To"), col("Why"), col("Side")],
            rows,
        })],
    ))
}

pub(super) fn meta_stats_section(base: &Side, head: Option<&Side>) -> Section {
    let def = TableDef::new(&["", "Count:"], JoinMode::Change, |s: &Side| {
        vec![vec![
            Cell::text("Number of data files"),
            Cell::count(s.nfiles),
        ]]
    });
    section(
        "Meta stats",
        "Meta statistics",
        "",
        vec![table(def, base, head)],
    )
}

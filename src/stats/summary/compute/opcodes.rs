//! Execution counts and instruction pairs.

use super::*;

pub(super) fn execution_count_rows(side: &Side, prefix: &str) -> Vec<Row> {
    let stats = side.opcode_stats(prefix);
    let mut counts = stats.execution_counts();
    let total = stats.total_execution_count();
    sort_desc(&mut counts, |(_, c)| *c);
    let mut cumulative: i128 = 0;
    counts
        .into_iter()
        .map(|(name, (count, miss))| {
            cumulative += count as i128;
            let miss_val = if miss != 0 {
                Cell::ratio(miss, count)
            } else {
                Cell::Empty
            };
            vec![
                Cell::text(name),
                Cell::count(count),
                Cell::ratio(count, total),
                Cell::ratio(cumulative, total),
                miss_val,
            ]
        })
        .collect()
}

pub(super) fn pair_count_section(
    prefix: &'static str,
    title: Option<&str>,
    base: &Side,
    head: Option<&Side>,
) -> Section {
    let calc = move |side: &Side| -> Vec<Row> {
        let stats = side.opcode_stats(prefix);
        let mut pairs: Vec<((String, String), u64)> = stats.pair_counts().into_iter().collect();
        let total = stats.total_execution_count();
        sort_desc(&mut pairs, |(_, c)| *c);
        let mut cumulative: i128 = 0;
        pairs
            .into_iter()
            .take(100)
            .map(|((i, j), count)| {
                cumulative += count as i128;
                vec![
                    Cell::text(format!("{i} {j}")),
                    Cell::count(count),
                    Cell::ratio(count, total),
                    Cell::ratio(cumulative, total),
                ]
            })
            .collect()
    };
    let s = section(
        "Pair counts",
        &format!("Pair counts for top 100 {} pairs", title.unwrap_or(prefix)),
        "
        Pairs of specialized operations that deoptimize and are then followed by
        the corresponding unspecialized instruction are not counted as pairs.
        ",
        match head {
            Some(_) => vec![],
            None => vec![table(
                TableDef::new(
                    &["Pair", "Count:", "Self:", "Cumulative:"],
                    JoinMode::Simple,
                    calc,
                ),
                base,
                None,
            )],
        },
    );
    not_comparative(s, head.is_some())
}

/// `Counter.most_common(5)`: stable by count descending.
pub(super) fn most_common(counter: &IndexMap<String, u64>, n: usize) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = counter.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    sort_desc(&mut v, |(_, c)| *c);
    v.truncate(n);
    v
}

pub(super) fn pre_succ_pairs_section(base: &Side, head: Option<&Side>) -> Section {
    let mut parts = vec![];
    if head.is_none() {
        let stats = &base.opcode;
        let mut predecessors: IndexMap<String, IndexMap<String, u64>> = IndexMap::new();
        let mut successors: IndexMap<String, IndexMap<String, u64>> = IndexMap::new();
        for ((first, second), count) in stats.pair_counts() {
            if count != 0 {
                predecessors
                    .entry(second.clone())
                    .or_default()
                    .insert(first.clone(), count);
                successors.entry(first).or_default().insert(second, count);
            }
        }
        let empty = IndexMap::new();
        for opcode in stats.names.keys() {
            let pred = predecessors.get(*opcode).unwrap_or(&empty);
            let succ = successors.get(*opcode).unwrap_or(&empty);
            let pred_total: i128 = pred.values().map(|v| *v as i128).sum();
            let succ_total: i128 = succ.values().map(|v| *v as i128).sum();
            if pred_total == 0 && succ_total == 0 {
                continue;
            }
            let rows = |c: &IndexMap<String, u64>, total: i128| -> Vec<Row> {
                most_common(c, 5)
                    .into_iter()
                    .map(|(name, count)| {
                        vec![
                            Cell::text(name),
                            Cell::count(count),
                            Cell::ratio(count, total),
                        ]
                    })
                    .collect()
            };
            let mk = |first: &str, rows: Vec<Row>| {
                Part::Table(Table {
                    columns: vec![
                        Column {
                            name: first.into(),
                            align: Align::Left,
                        },
                        Column {
                            name: "Count".into(),
                            align: Align::Right,
                        },
                        Column {
                            name: "Percentage".into(),
                            align: Align::Right,
                        },
                    ],
                    rows,
                })
            };
            parts.push(Part::Section(section(
                opcode,
                &format!("Successors and predecessors for {opcode}"),
                "",
                vec![
                    mk("Predecessors", rows(pred, pred_total)),
                    mk("Successors", rows(succ, succ_total)),
                ],
            )));
        }
    }
    let s = section(
        "Predecessor/Successor Pairs",
        "Top 5 predecessors and successors of each Tier 1 opcode.",
        "
        This does not include the unspecialized instructions that occur after a
        specialized instruction deoptimizes.
        ",
        parts,
    );
    not_comparative(s, head.is_some())
}

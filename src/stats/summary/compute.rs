//! Row calculators: a faithful port of summarize_stats.py's `Stats`, `OpcodeStats`, tables and layout.

use super::{Align, Cell, Column, Part, Section, Table};
use crate::stats::metadata::Metadata;
use crate::stats::model::{Family, Groups, Model};
use crate::stats::raw::Counters;
use crate::stats::set::SetTotals;
use indexmap::{IndexMap, IndexSet};

type Row = Vec<Cell>;

/// Counters of one name (`opcode[NAME].rest`), keyed by `rest`, in first-seen order.
type NameStats = crate::stats::model::Fields;

/// One side of the report: the model of a set's totals plus the metadata it was read with.
pub(crate) struct Side<'a> {
    /// The model; its opcode groups moved into `opcode` (the tables read them there).
    model: Model,
    nfiles: u64,
    meta: &'a Metadata,
    malformed: Vec<crate::stats::raw::MalformedLine>,
    opcode: OpcodeStats,
}

impl<'a> Side<'a> {
    /// Builds the side's model (version names normalized, see [`crate::stats::model`]).
    pub(crate) fn new(set: &SetTotals, meta: &'a Metadata) -> anyhow::Result<Side<'a>> {
        let mut model = Model::build(&set.totals, meta)
            .map_err(|e| crate::stats::model::input_error(e, &set.path, "set totals"))?;
        let opcode = OpcodeStats {
            names: std::mem::take(&mut model.opcodes),
        };
        Ok(Side {
            model,
            nfiles: set.files,
            meta,
            malformed: super::malformed_of(set).to_vec(),
            opcode,
        })
    }

    fn get(&self, key: &str) -> u64 {
        self.model.get(key)
    }

    fn opcode_stats(&self, prefix: &str) -> OpcodeStats {
        let names = match (&self.model.optimizer, prefix) {
            (Some(o), "uops") => o.uops.clone(),
            (Some(o), "uop") => o.uop_pairs.clone(),
            (Some(o), "unsupported_opcode") => o.unsupported.clone(),
            (Some(o), "error_in_opcode") => o.errors.clone(),
            _ => crate::stats::model::group(self.data(), prefix),
        };
        OpcodeStats { names }
    }

    fn data(&self) -> &Counters {
        &self.model.counters
    }

    fn family(&self, name: &str) -> Option<&Family> {
        self.model.family(name)
    }
}

use crate::stats::model::skip_chars;

fn pretty(name: &str) -> String {
    name.replace('_', " ").to_lowercase()
}

/// Stable sort by a u64 key, descending (Python's `sorted(..., reverse=True)` keeps ties in order).
fn sort_desc<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    v.sort_by_key(|x| std::cmp::Reverse(key(x)));
}

/// summarize_stats.py's `OpcodeStats` for one key prefix (the model's groups).
#[derive(Default)]
struct OpcodeStats {
    names: Groups,
}

impl OpcodeStats {
    fn stats(&self, name: &str) -> Option<&NameStats> {
        self.names.get(name)
    }

    fn pair_counts(&self) -> IndexMap<(String, String), u64> {
        let mut out = IndexMap::new();
        for (name_i, st) in &self.names {
            for (key, &value) in st {
                if value != 0 && key.starts_with("pair_count") {
                    let rest = skip_chars(key, "pair_count".len() + 1);
                    let name_j = rest.split_once(']').map(|x| x.0).unwrap_or(rest);
                    out.insert((name_i.clone(), name_j.to_string()), value);
                }
            }
        }
        out
    }

    fn total_execution_count(&self) -> i128 {
        self.names
            .values()
            .map(|s| s.get("execution_count").copied().unwrap_or(0) as i128)
            .sum()
    }

    fn execution_counts(&self) -> Vec<(&str, (u64, u64))> {
        crate::stats::model::execution_counts(&self.names)
            .into_iter()
            .map(|e| (e.name, (e.count, e.miss.unwrap_or(0))))
            .collect()
    }

    fn is_specializable(&self, name: &str) -> bool {
        self.stats(name)
            .is_some_and(|s| s.contains_key("specializable"))
    }

    fn specialization_counts(&self, name: &str) -> Vec<(String, u64)> {
        let Some(st) = self.stats(name) else {
            return vec![];
        };
        let mut items: Vec<(&String, &u64)> = st.iter().collect();
        items.sort();
        let mut out: IndexMap<String, u64> = IndexMap::new();
        for (key, &value) in items {
            let label = if let Some(label) = key.strip_prefix("specialization.") {
                if label == "success" || label == "failure" || label.starts_with("failure_kinds") {
                    continue;
                }
                label
            } else if key == "execution_count" || key == "specializable" || key.starts_with("pair")
            {
                continue;
            } else {
                key.as_str()
            };
            out.insert(label.to_string(), value);
        }
        out.into_iter().collect()
    }
}

/// summarize_stats.py's `kind_to_text`, from the define the model resolved.
fn kind_to_text(kind: u64, define: Option<&str>) -> String {
    match define {
        Some(name) => pretty(name),
        None => format!("kind {kind}"),
    }
}

/// `get_specialization_total` of `op` on one side (also for a name that is no family there,
/// as the script computes it for any name both sides have).
fn specialization_total(s: &Side, op: &str) -> u128 {
    match s.family(op) {
        Some(f) => f.total,
        None => s
            .opcode
            .stats(op)
            .map(crate::stats::model::specialization_total)
            .unwrap_or(0),
    }
}

/// How a table joins BASE and HEAD rows (summarize_stats.py's `JoinMode`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum JoinMode {
    Simple,
    Change,
    ChangeOneColumn,
    ChangeNoSort,
}

/// Computes a table's rows from one side.
type RowCalculator<'f> = Box<dyn Fn(&Side) -> Vec<Row> + 'f>;

/// A table definition: columns (a trailing `:` means right-aligned) and a row calculator.
struct TableDef<'f> {
    columns: &'static [&'static str],
    calc: RowCalculator<'f>,
    join: JoinMode,
}

impl<'f> TableDef<'f> {
    fn new(
        columns: &'static [&'static str],
        join: JoinMode,
        calc: impl Fn(&Side) -> Vec<Row> + 'f,
    ) -> Self {
        TableDef {
            columns,
            calc: Box::new(calc),
            join,
        }
    }

    fn build(&self, base: &Side, head: Option<&Side>) -> Table {
        let (names, rows): (Vec<String>, Vec<Row>) = match head {
            None => (
                self.columns.iter().map(|s| s.to_string()).collect(),
                (self.calc)(base),
            ),
            Some(head) => self.join_tables((self.calc)(base), (self.calc)(head)),
        };
        let columns = names
            .into_iter()
            .map(|n| match n.strip_suffix(':') {
                Some(stripped) => Column {
                    name: stripped.to_string(),
                    align: Align::Right,
                },
                None => Column {
                    name: n,
                    align: Align::Left,
                },
            })
            .collect();
        Table { columns, rows }
    }

    fn join_tables(&self, rows_a: Vec<Row>, rows_b: Vec<Row>) -> (Vec<String>, Vec<Row>) {
        let ncols = self.columns.len();
        let to_map = |rows: Vec<Row>| -> IndexMap<Cell, Vec<Cell>> {
            let mut m = IndexMap::new();
            for mut r in rows {
                if r.is_empty() {
                    continue;
                }
                let rest = r.split_off(1);
                let key = r.pop().unwrap_or(Cell::Empty);
                m.insert(key, rest);
            }
            m
        };
        let data_a = to_map(rows_a);
        let mut data_b = to_map(rows_b);
        let default: Vec<Cell> = vec![Cell::Empty; ncols.saturating_sub(1)];
        let mut keyed: Vec<(Cell, Vec<Cell>, Vec<Cell>)> = vec![];
        for (k, a) in data_a {
            let b = data_b.shift_remove(&k).unwrap_or_else(|| default.clone());
            keyed.push((k, a, b));
        }
        for (k, b) in data_b {
            keyed.push((k, default.clone(), b));
        }
        let mut rows: Vec<Row> = keyed
            .into_iter()
            .map(|(k, a, b)| {
                let change = diff_ratio(a.first(), b.first());
                let mut row = vec![k];
                match self.join {
                    JoinMode::Simple => {
                        row.extend(a);
                        row.extend(b);
                    }
                    JoinMode::Change | JoinMode::ChangeNoSort => {
                        row.extend(a);
                        row.extend(b);
                        row.push(change);
                    }
                    JoinMode::ChangeOneColumn => {
                        row.push(a.into_iter().next().unwrap_or(Cell::Empty));
                        row.push(b.into_iter().next().unwrap_or(Cell::Empty));
                        row.push(change);
                    }
                }
                row
            })
            .collect();
        if matches!(self.join, JoinMode::Change | JoinMode::ChangeOneColumn) {
            // Stable, descending by |change| like `rows.sort(key=abs(float(row[-1])), reverse=True)`.
            rows.sort_by(|x, y| {
                let fx = x.last().map(|c| c.as_f64().abs()).unwrap_or(0.0);
                let fy = y.last().map(|c| c.as_f64().abs()).unwrap_or(0.0);
                fy.partial_cmp(&fx).unwrap_or(std::cmp::Ordering::Equal)
            });
        }
        let c = self.columns;
        let rest = &c[1.min(c.len())..];
        let mut names = vec![c.first().copied().unwrap_or("").to_string()];
        match self.join {
            JoinMode::Simple => {
                names.extend(rest.iter().map(|x| format!("Base {x}")));
                names.extend(rest.iter().map(|x| format!("Head {x}")));
            }
            JoinMode::Change | JoinMode::ChangeNoSort => {
                names.extend(rest.iter().map(|x| format!("Base {x}")));
                names.extend(rest.iter().map(|x| format!("Head {x}")));
                names.push("Change:".into());
            }
            JoinMode::ChangeOneColumn => {
                let first = rest.first().copied().unwrap_or("");
                names.push(format!("Base {first}"));
                names.push(format!("Head {first}"));
                names.push("Change:".into());
            }
        }
        (names, rows)
    }
}

/// summarize_stats.py's `DiffRatio(base, head)`: a missing side gives an empty change.
fn diff_ratio(a: Option<&Cell>, b: Option<&Cell>) -> Cell {
    fn num(c: Option<&Cell>) -> Option<i128> {
        match c? {
            Cell::Count { value } => Some(*value),
            Cell::Ratio { num, .. } => Some(*num),
            Cell::Change { num, .. } => Some(*num),
            _ => None,
        }
    }
    match (num(a), num(b)) {
        (Some(base), Some(head)) => Cell::Change {
            num: head - base,
            den: base,
        },
        _ => Cell::Change { num: 0, den: 0 },
    }
}

fn section(title: &str, summary: &str, doc: &str, parts: Vec<Part>) -> Section {
    Section {
        title: title.to_string(),
        summary: if summary.is_empty() {
            title.to_lowercase()
        } else {
            summary.to_string()
        },
        doc: dedent(doc),
        omitted_in_comparative: false,
        parts,
    }
}

/// `textwrap.dedent` for the docstrings below (uniform indentation, whitespace-only lines emptied).
fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                &l[indent..]
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Section whose parts summarize_stats.py skips in comparative output.
fn not_comparative(mut s: Section, head: bool) -> Section {
    if head {
        s.omitted_in_comparative = true;
        s.parts.clear();
    }
    s
}

fn table(def: TableDef, base: &Side, head: Option<&Side>) -> Part {
    Part::Table(def.build(base, head))
}

fn execution_count_rows(side: &Side, prefix: &str) -> Vec<Row> {
    let owned;
    let stats = if prefix == "opcode" {
        &side.opcode
    } else {
        owned = side.opcode_stats(prefix);
        &owned
    };
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

fn pair_count_section(
    prefix: &'static str,
    title: Option<&str>,
    base: &Side,
    head: Option<&Side>,
) -> Section {
    let calc = move |side: &Side| -> Vec<Row> {
        let owned;
        let stats = if prefix == "opcode" {
            &side.opcode
        } else {
            owned = side.opcode_stats(prefix);
            &owned
        };
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
fn most_common(counter: &IndexMap<String, u64>, n: usize) -> Vec<(&str, u64)> {
    let mut v: Vec<(&str, u64)> = counter.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    sort_desc(&mut v, |(_, c)| *c);
    v.truncate(n);
    v
}

fn pre_succ_pairs_section(base: &Side, head: Option<&Side>) -> Section {
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
            let pred = predecessors.get(opcode).unwrap_or(&empty);
            let succ = successors.get(opcode).unwrap_or(&empty);
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

fn specialization_doc(label: &str) -> Option<&'static str> {
    Some(match label {
        "deferred" => {
            "Lists the number of \"deferred\" (i.e. not specialized) instructions executed."
        }
        "hit" => "Specialized instructions that complete.",
        "miss" | "deopt" => "Specialized instructions that deopt.",
        _ => return None,
    })
}

fn specialization_section(base: &Side, head: Option<&Side>) -> Section {
    let mut names: Vec<&String> = match head {
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
        let op = opcode.as_str();
        let kinds = TableDef::new(
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
        );
        let success = TableDef::new(
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
        );
        let failures = TableDef::new(
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
                    .map(|(label, v)| {
                        vec![Cell::text(label), Cell::count(v), Cell::ratio(v, total)]
                    })
                    .collect()
            },
        );
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

fn specialization_effectiveness_section(base: &Side, head: Option<&Side>) -> Section {
    let effectiveness = TableDef::new(
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
    );
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
    let deferred = TableDef::new(
        &["Name", "Count:", "Ratio:"],
        JoinMode::Change,
        |s: &Side| {
            top10(
                s.opcode
                    .names
                    .iter()
                    .filter(|(n, _)| n.as_str() != "RESUME")
                    .map(|(n, st)| {
                        (
                            n.as_str(),
                            st.get("specialization.deferred").copied().unwrap_or(0),
                        )
                    })
                    .collect(),
            )
        },
    );
    let misses = TableDef::new(
        &["Name", "Count:", "Ratio:"],
        JoinMode::Change,
        |s: &Side| {
            top10(
                s.opcode
                    .names
                    .iter()
                    .filter(|(_, st)| !st.contains_key("specializable"))
                    .map(|(n, st)| {
                        (
                            n.as_str(),
                            st.get("specialization.miss").copied().unwrap_or(0),
                        )
                    })
                    .collect(),
            )
        },
    );
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

/// The call table's labels (`get_call_stats`): the model's rows, `Calls via X[i]` labelled
/// with its EVAL_CALL define; coinciding labels collapse, the last one winning.
fn call_stats(side: &Side) -> IndexMap<String, u64> {
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

fn call_stats_section(base: &Side, head: Option<&Side>) -> Section {
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

fn object_stats_section(base: &Side, head: Option<&Side>) -> Section {
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

const GC_COLUMNS: [&str; 3] = ["collections", "objects collected", "object visits"];
/// Reachability counters newer CPythons print per generation; shown as extra columns
/// only when a dump has them, so 3.13 tables stay identical to summarize_stats.py's.
const GC_REACHABILITY: [&str; 2] = [
    "objects reachable from roots",
    "objects not reachable from roots",
];

fn has_gc_reachability(side: &Side) -> bool {
    side.model
        .gc
        .iter()
        .any(|g| GC_REACHABILITY.iter().any(|k| g.contains_key(*k)))
}

fn gc_stats_section(base: &Side, head: Option<&Side>) -> Section {
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

/// (label, doc, value key, denominator key or None, percentage)
type OptRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

const OPTIMIZATION_ROWS: &[OptRow] = &[
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

const OPTIMIZER_ROWS: &[OptRow] = &[
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

const HISTOGRAMS: [(&str, &str); 3] = [
    ("Trace length", "Optimization traces created"),
    ("Optimized trace length", "Optimization traces created"),
    ("Trace run length", "Optimization traces executed"),
];

fn has_optimization(side: &Side) -> bool {
    side.model.optimizer.is_some()
}

fn opt_rows(rows: &'static [OptRow]) -> impl Fn(&Side) -> Vec<Row> {
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
fn histogram<'s>(side: &'s Side, name: &str) -> &'s [(u128, u64)] {
    side.model
        .optimizer
        .iter()
        .flat_map(|o| &o.histograms)
        .find(|h| h.name == name)
        .map(|h| h.buckets.as_slice())
        .unwrap_or(&[])
}

fn count_table_rows(stats: &OpcodeStats) -> Vec<Row> {
    let mut rows: Vec<(&str, u64)> = stats
        .names
        .iter()
        .filter_map(|(n, e)| {
            e.get("count")
                .copied()
                .filter(|c| *c != 0)
                .map(|c| (n.as_str(), c))
        })
        .collect();
    sort_desc(&mut rows, |(_, c)| *c);
    rows.into_iter()
        .map(|(n, c)| vec![Cell::text(n), Cell::count(c)])
        .collect()
}

fn optimization_section(base: &Side, head: Option<&Side>) -> Section {
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
            let def = TableDef::new(
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
            );
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
    }
    section(
        "Optimization (Tier 2) stats",
        "statistics about the Tier 2 optimizer",
        "",
        parts,
    )
}

fn rare_event_doc(event: &str) -> Option<&'static str> {
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

const RARE_PREFIX: &str = "Rare event ";

fn rare_event_section(base: &Side, head: Option<&Side>) -> Section {
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
fn is_shown(side: &Side, key: &str) -> bool {
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
fn histogram_key_rest(key: &str, prefix: &str) -> bool {
    let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')) else {
        return true;
    };
    let n = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
    n == 0 || !rest[n..].starts_with(']')
}

fn other_counters_section(base: &Side, head: Option<&Side>) -> Option<Section> {
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

fn input_quality_section(base: &Side, head: Option<&Side>) -> Option<Section> {
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

fn version_section(base: &Side, head: Option<&Side>) -> Option<Section> {
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
    let a: IndexSet<&String> = base.opcode.names.keys().collect();
    let b: IndexSet<&String> = head.opcode.names.keys().collect();
    let mut rows: Vec<Row> = vec![];
    for n in a.difference(&b) {
        rows.push(vec![Cell::text(n.as_str()), Cell::text("base only")]);
    }
    for n in b.difference(&a) {
        rows.push(vec![Cell::text(n.as_str()), Cell::text("head only")]);
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
fn normalization_section(base: &Side, head: Option<&Side>) -> Option<Section> {
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

fn meta_stats_section(base: &Side, head: Option<&Side>) -> Section {
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

/// summarize_stats.py's LAYOUT, plus the extra sections that only appear when needed.
pub(crate) fn layout(base: &Side, head: Option<&Side>) -> Vec<Section> {
    let exec = TableDef::new(
        &["Name", "Count:", "Self:", "Cumulative:", "Miss ratio:"],
        JoinMode::ChangeOneColumn,
        |s: &Side| execution_count_rows(s, "opcode"),
    );
    let mut out = vec![
        section(
            "Execution counts",
            "Execution counts for Tier 1 instructions.",
            "
            The \"miss ratio\" column shows the percentage of times the instruction
            executed that it deoptimized. When this happens, the base unspecialized
            instruction is not counted.
            ",
            vec![table(exec, base, head)],
        ),
        pair_count_section("opcode", None, base, head),
        pre_succ_pairs_section(base, head),
        specialization_section(base, head),
        specialization_effectiveness_section(base, head),
        call_stats_section(base, head),
        object_stats_section(base, head),
        gc_stats_section(base, head),
        optimization_section(base, head),
        rare_event_section(base, head),
    ];
    out.extend(other_counters_section(base, head));
    out.extend(version_section(base, head));
    out.extend(normalization_section(base, head));
    out.extend(input_quality_section(base, head));
    out.push(meta_stats_section(base, head));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedent_matches_textwrap() {
        assert_eq!(dedent("\n    a\n      b\n    "), "\na\n  b\n");
    }

    #[test]
    fn failure_kind_names() {
        let mut d = std::collections::BTreeMap::new();
        d.insert(
            21u32,
            vec!["BINARY_OP_REMAINDER".to_string(), "ATTR_X".to_string()],
        );
        d.insert(1u32, vec!["OTHER".to_string()]);
        let text = |kind: u64, family: &str| {
            kind_to_text(
                kind,
                crate::stats::metadata::failure_kind_define(&d, kind, family),
            )
        };
        assert_eq!(text(21, "BINARY_OP"), "remainder");
        assert_eq!(text(21, "LOAD_ATTR"), "x");
        assert_eq!(text(1, "LOAD_ATTR"), "other");
        assert_eq!(text(33, "LOAD_ATTR"), "kind 33");
    }
}

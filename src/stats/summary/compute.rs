//! Row calculators: a faithful port of summarize_stats.py's `Stats`, `OpcodeStats`, tables and layout.

use super::{Align, Cell, Column, Part, Section, Table};
use crate::stats::metadata::Metadata;
use crate::stats::model::{Family, Groups, Model};
use crate::stats::raw::Counters;
use crate::stats::set::SetTotals;
use indexmap::{IndexMap, IndexSet};

mod opcodes;
mod optimizer;
mod other;
mod runtime;
mod specialization;
use opcodes::*;
use optimizer::*;
use other::*;
use runtime::*;
use specialization::*;

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

    /// The stats of one key prefix; `opcode` is the side's own (parsed once).
    fn opcode_stats(&self, prefix: &str) -> std::borrow::Cow<'_, OpcodeStats> {
        let names = match (&self.model.optimizer, prefix) {
            (_, "opcode") => return std::borrow::Cow::Borrowed(&self.opcode),
            (Some(o), "uops") => o.uops.clone(),
            (Some(o), "uop") => o.uop_pairs.clone(),
            (Some(o), "unsupported_opcode") => o.unsupported.clone(),
            (Some(o), "error_in_opcode") => o.errors.clone(),
            _ => crate::stats::model::group(self.data(), prefix),
        };
        std::borrow::Cow::Owned(OpcodeStats { names })
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
#[derive(Clone, Default)]
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
                    out.insert((name_i.to_string(), name_j.to_string()), value);
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
        let mut items: Vec<(&&str, &u64)> = st.iter().collect();
        items.sort();
        let mut out: IndexMap<String, u64> = IndexMap::new();
        for (key, &value) in items {
            let key: &str = key;
            let label = if let Some(label) = key.strip_prefix("specialization.") {
                if label == "success" || label == "failure" || label.starts_with("failure_kinds") {
                    continue;
                }
                label
            } else if key == "execution_count" || key == "specializable" || key.starts_with("pair")
            {
                continue;
            } else {
                key
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

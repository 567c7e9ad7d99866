//! The summarize_stats.py report as a typed document: compute it once, render it as markdown, JSON or text.
//!
//! [`summarize`] reproduces the sections, rows, ordering and numbers of CPython's
//! `Tools/scripts/summarize_stats.py` (3.13 layout) for one stats set or a BASE/HEAD pair.
//! It never raises where the script would (unknown keys, mixed versions, missing
//! metadata): unknown counters are shown in an extra "Other counters" section, which is
//! only emitted when such counters exist, so same-version output stays byte-compatible.
//! The numbers come from [`crate::stats::model`] (the ones `metrics` and `check` read), so dumps of
//! other versions show 3.13 names, with a "Version normalization" section listing the renames.

mod compute;
mod render;

use crate::stats::metadata::Metadata;
use crate::stats::raw::MalformedLine;
use crate::stats::set::{SetTotals, StatsSet};
use serde::Serialize;

pub use render::{render_json, render_markdown, render_text};

/// Version of the JSON document written by `summarize --format json`.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SummaryDoc {
    pub schema_version: u32,
    /// True for a BASE/HEAD report.
    pub comparative: bool,
    pub base: SideInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<SideInfo>,
    /// Top-level sections in report order.
    pub sections: Vec<Section>,
}

/// What one side of the report was computed from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideInfo {
    pub path: String,
    /// Version of the metadata used ("3.13", "json", "source", ...).
    pub metadata_version: String,
    pub repeats: usize,
    pub files: u64,
    /// Lines skipped under `--allow-malformed`.
    pub malformed_lines: usize,
}

/// A titled part of the report (a `## title` block with a `<details>` body in markdown).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Section {
    pub title: String,
    pub summary: String,
    /// Already dedented, as summarize_stats.py prints it (may start and end with a newline).
    pub doc: String,
    /// The section exists but summarize_stats.py leaves it out of comparative reports.
    pub omitted_in_comparative: bool,
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Part {
    Section(Section),
    Table(Table),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    Left,
    Right,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    pub align: Align,
}

/// A table; renderers skip tables without rows, like summarize_stats.py.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// One typed table cell. Numbers are kept exact; renderers format them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Cell {
    /// Nothing to show (a missing side in a joined table, or no miss ratio).
    Empty,
    Text {
        text: String,
    },
    /// A label with an explanation (markdown: a `<details>` block).
    Doc {
        text: String,
        doc: String,
    },
    Count {
        value: i128,
    },
    /// `num / den`; `den: None` renders empty, `den: 0` renders `N / 0 !!` unless `num` is 0.
    Ratio {
        num: i128,
        den: Option<i128>,
        percentage: bool,
    },
    /// Relative change `(head - base) / base` of a joined row.
    Change {
        num: i128,
        den: i128,
    },
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text { text: s.into() }
    }
    pub fn doc(text: impl Into<String>, doc: impl Into<String>) -> Cell {
        Cell::Doc {
            text: text.into(),
            doc: doc.into(),
        }
    }
    pub fn count(v: impl Into<i128>) -> Cell {
        Cell::Count { value: v.into() }
    }
    pub fn ratio(num: impl Into<i128>, den: impl Into<i128>) -> Cell {
        Cell::Ratio {
            num: num.into(),
            den: Some(den.into()),
            percentage: true,
        }
    }
    /// The value summarize_stats.py's `float()` gives this cell (sort key of joined tables).
    pub fn as_f64(&self) -> f64 {
        match self {
            Cell::Count { value } => *value as f64,
            Cell::Ratio { num, den, .. } => match den {
                None => *num as f64,
                Some(0) => 0.0,
                Some(d) => *num as f64 / *d as f64,
            },
            Cell::Change { num, den } => {
                if *den == 0 {
                    0.0
                } else {
                    *num as f64 / *den as f64
                }
            }
            _ => 0.0,
        }
    }
}

/// Computes the report for one set, or for BASE vs HEAD.
pub fn summarize(
    base: &StatsSet,
    head: Option<&StatsSet>,
    meta_base: &Metadata,
    meta_head: Option<&Metadata>,
) -> anyhow::Result<SummaryDoc> {
    let base = SetTotals::from_set(base)?;
    let head = head.map(SetTotals::from_set).transpose()?;
    summarize_totals(&base, head.as_ref(), meta_base, meta_head)
}

/// [`summarize`] on totals-only sets (what `summarize` loads: less memory, same report).
pub fn summarize_totals(
    base: &SetTotals,
    head: Option<&SetTotals>,
    meta_base: &Metadata,
    meta_head: Option<&Metadata>,
) -> anyhow::Result<SummaryDoc> {
    let meta_head = meta_head.unwrap_or(meta_base);
    let base_side = compute::Side::new(base, meta_base)?;
    let head_side = head.map(|h| compute::Side::new(h, meta_head)).transpose()?;
    let sections = compute::layout(&base_side, head_side.as_ref());
    let info = |set: &SetTotals, meta: &Metadata| SideInfo {
        path: set.path.display().to_string(),
        metadata_version: meta.version.clone(),
        repeats: set.repeats,
        files: set.files,
        malformed_lines: set.malformed.len(),
    };
    Ok(SummaryDoc {
        schema_version: SUMMARY_SCHEMA_VERSION,
        comparative: head.is_some(),
        base: info(base, meta_base),
        head: head.map(|h| info(h, meta_head)),
        sections,
    })
}

/// Malformed lines of a set, for the report's input-quality section.
pub(crate) fn malformed_of(set: &SetTotals) -> &[MalformedLine] {
    &set.malformed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::raw::Counters;
    use crate::stats::set::{BenchmarkDump, Repeat, SetSource};
    use indexmap::IndexMap;
    use proptest::prelude::*;

    fn set_of(c: Counters) -> StatsSet {
        let mut benchmarks = IndexMap::new();
        benchmarks.insert(
            "b".to_string(),
            BenchmarkDump {
                counters: c,
                files: 1,
            },
        );
        StatsSet {
            path: "mem".into(),
            source: SetSource::RawDir,
            repeats: vec![Repeat {
                name: ".".into(),
                seed: None,
                benchmarks,
                results: Default::default(),
            }],
            manifest: None,
            embedded_metadata: None,
            malformed: vec![],
        }
    }

    /// Key shapes from every pystats version, with hostile names and indexes.
    fn key() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("LOAD_ATTR".to_string()),
            Just("BINARY_OP".to_string()),
            Just("LOAD_ATTR_MODULE".to_string()),
            Just("RESUME".to_string()),
            Just("".to_string()),
            "[A-Z_0-9\\]\\[.]{0,12}",
        ];
        let idx = prop_oneof![0u64..50, any::<u64>()].prop_map(|i| i.to_string());
        (name.clone(), name, idx, 0usize..18).prop_map(|(a, b, i, shape)| match shape {
            0 => format!("opcode[{a}].specializable"),
            1 => format!("opcode[{a}].execution_count"),
            2 => format!("opcode[{a}].specialization.miss"),
            3 => format!("opcode[{a}].specialization.failure_kinds[{i}]"),
            4 => format!("opcode[{a}].pair_count[{b}]"),
            5 => format!("Calls via PyEval_EvalFrame[{i}]"),
            6 => format!("GC[{i}] collections"),
            7 => format!("Rare event ({a})"),
            8 => format!("Object {a}"),
            9 => "Optimization attempts".to_string(),
            10 => format!("Trace length[{i}]"),
            11 => format!("uops[{a}].execution_count"),
            12 => format!("uop[{a}].pair_count[{b}]"),
            13 => format!("unsupported_opcode[{a}].count"),
            14 => format!("error_in_opcode[{a}].count"),
            15 => format!("opcode[{i}].specialization.hit"),
            16 => format!("opcode[{a}].specialization.{b}"),
            _ => a,
        })
    }

    fn counters() -> impl Strategy<Value = Counters> {
        proptest::collection::vec((key(), any::<u64>()), 0..60).prop_map(|kv| {
            let mut c = Counters::new();
            for (k, v) in kv {
                c.set(&k, v);
            }
            c
        })
    }

    proptest! {
        #[test]
        fn summarize_never_panics(a in counters(), b in counters(), v312: bool) {
            let m13 = Metadata::embedded("3.13").unwrap();
            let mut other = m13.clone();
            if v312 {
                other.opnames = vec!["CACHE".into(), "POP_TOP".into()];
                other.specialized_instructions.truncate(3);
            }
            let (sa, sb) = (set_of(a), set_of(b));
            // Input errors (mixed key styles, renamed keys overflowing) are fine; panics are not.
            let input_error = |e: anyhow::Error| {
                let m = e.to_string();
                assert!(m.contains("mixes numeric") || m.contains("overflows"), "{m}");
            };
            match summarize(&sa, None, &m13, None) {
                Ok(single) => {
                    let _ = (render_markdown(&single), render_json(&single), render_text(&single));
                }
                Err(e) => input_error(e),
            }
            match summarize(&sa, Some(&sb), &m13, Some(&other)) {
                Ok(pair) => {
                    let _ = (render_markdown(&pair), render_json(&pair), render_text(&pair));
                }
                Err(e) => input_error(e),
            }
        }
    }
}

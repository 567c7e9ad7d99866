//! Metric catalogue: stable dotted names computed from one dump's counters, per repeat and per benchmark.
//!
//! Definitions follow `Tools/scripts/summarize_stats.py` exactly: a family's ratios use
//! `get_specialization_total` (hit + miss + execution_count of the family's base opcode),
//! success ratio uses success + failure, effectiveness uses `get_specialized_total_counts`.

use crate::cli::MetricsArgs;
use crate::metadata::Metadata;
use crate::raw::Counters;
use crate::stats_set::{Repeat, StatsSet};
use anyhow::Context;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a metric's value is, which decides its noise floor and how changes are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// A raw event count; noise floor one count.
    Count,
    /// `num / den` in [0, 1] (shown as a percentage); noise floor one count of `num`.
    Ratio,
    /// A count per million executed Tier 1 instructions.
    PerMillion,
}

/// One metric value with the counts it came from (kept for attribution and `min_count`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub kind: MetricKind,
    /// The numerator count (the value itself for counts).
    pub num: f64,
    /// The denominator: a ratio's total, or instructions / 1e6 for per-million metrics.
    pub den: Option<f64>,
}

impl MetricValue {
    pub fn count(n: u64) -> Self {
        MetricValue {
            kind: MetricKind::Count,
            num: n as f64,
            den: None,
        }
    }
    pub fn ratio(num: u64, den: u64) -> Self {
        MetricValue {
            kind: MetricKind::Ratio,
            num: num as f64,
            den: Some(den as f64),
        }
    }
    /// The value; a ratio with a zero denominator is 0 (like summarize_stats.py's `float(Ratio)`).
    pub fn value(&self) -> f64 {
        match self.den {
            None => self.num,
            Some(0.0) => 0.0,
            Some(d) => self.num / d,
        }
    }
    /// A zero value of the same kind (for a metric one side does not have).
    pub fn zero_like(&self) -> Self {
        MetricValue {
            kind: self.kind,
            num: 0.0,
            den: self.den.map(|_| 0.0),
        }
    }
    /// The size of the sample the value rests on: the denominator for ratios, the count otherwise.
    pub fn support(&self) -> f64 {
        match self.kind {
            MetricKind::Ratio => self.den.unwrap_or(0.0),
            _ => self.num,
        }
    }
}

/// Metric name -> value, in catalogue order.
pub type MetricTable = IndexMap<String, MetricValue>;

/// Prefix of per-benchmark metric names.
pub const BENCH_PREFIX: &str = "bench.";
/// Suffix of the per-million-instructions companion of a count metric.
pub const PER_MILLION_SUFFIX: &str = ".per_minstr";

/// Counters of one `PREFIX[NAME].rest` group (summarize_stats.py's `get_opcode_stats`).
#[derive(Default, Debug, Clone)]
pub struct OpcodeGroup {
    pub fields: IndexMap<String, u64>,
}

impl OpcodeGroup {
    pub fn get(&self, field: &str) -> u64 {
        self.fields.get(field).copied().unwrap_or(0)
    }
    pub fn has(&self, field: &str) -> bool {
        self.fields.contains_key(field)
    }
    /// `specialization.failure_kinds[N]` values by N.
    pub fn failure_kinds(&self) -> BTreeMap<u32, u64> {
        let mut out = BTreeMap::new();
        for (k, v) in &self.fields {
            if let Some(rest) = k.strip_prefix("specialization.failure_kinds[") {
                if let Some(n) = rest.strip_suffix(']').and_then(|n| n.parse::<u32>().ok()) {
                    *out.entry(n).or_insert(0) += *v;
                }
            }
        }
        out
    }
}

/// Groups `PREFIX[NAME].field` counters by NAME, in first-seen order.
pub fn opcode_groups(counters: &Counters, prefix: &str) -> IndexMap<String, OpcodeGroup> {
    let mut out: IndexMap<String, OpcodeGroup> = IndexMap::new();
    for (key, value) in counters.iter() {
        let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')) else {
            continue;
        };
        let (name, field) = rest.split_once(']').unwrap_or((rest, ""));
        let field = field.trim_matches('.').to_string();
        *out.entry(name.to_string())
            .or_default()
            .fields
            .entry(field)
            .or_insert(0) += value;
    }
    out
}

/// A specialization family: the adaptive base opcode and its specialized members.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: String,
    pub members: Vec<String>,
}

/// Families present in the data: every opcode marked `specializable`, with the specialized
/// instructions whose longest specializable prefix it is (`CALL_KW_*` belongs to `CALL_KW`).
pub fn families(groups: &IndexMap<String, OpcodeGroup>, meta: &Metadata) -> Vec<Family> {
    let mut bases: Vec<&str> = groups
        .iter()
        .filter(|(_, g)| g.has("specializable"))
        .map(|(n, _)| n.as_str())
        .collect();
    bases.sort();
    bases
        .iter()
        .map(|base| {
            let members = meta
                .specialized_instructions
                .iter()
                .filter(|inst| family_of(inst, &bases) == Some(*base))
                .cloned()
                .collect();
            Family {
                name: base.to_string(),
                members,
            }
        })
        .collect()
}

fn family_of<'a>(inst: &str, bases: &[&'a str]) -> Option<&'a str> {
    bases
        .iter()
        .filter(|b| {
            inst.len() > b.len() && inst.starts_with(*b) && inst.as_bytes()[b.len()] == b'_'
        })
        .max_by_key(|b| b.len())
        .copied()
}

/// Lower-case `[a-z0-9_]` form of a free-text counter name.
pub fn slug(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    s.trim_matches('_').to_string()
}

/// Name of SPEC_FAIL kind `kind` for `family`, like summarize_stats.py's `kind_to_text`
/// but in metric-name form (`range`, `not_managed_dict`, `kind_27`).
pub fn failure_kind_name(kind: u32, family: &str, meta: &Metadata) -> String {
    match crate::metadata::failure_kind_define(&meta.defines, kind.into(), family) {
        Some(name) if !name.is_empty() => name.to_ascii_lowercase(),
        _ => format!("kind_{kind}"),
    }
}

/// Tier 1 effectiveness split (summarize_stats.py's `get_specialized_total_counts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effectiveness {
    pub basic: u64,
    pub not_specialized: u64,
    pub specialized_hits: i128,
    pub specialized_misses: u64,
    pub total: u64,
}

pub fn effectiveness(groups: &IndexMap<String, OpcodeGroup>, meta: &Metadata) -> Effectiveness {
    let mut e = Effectiveness::default();
    for (name, g) in groups {
        if !g.has("execution_count") {
            continue;
        }
        let count = g.get("execution_count");
        e.total += count;
        if g.has("specializable") {
            e.not_specialized += count;
        } else if meta.specialized_instructions.iter().any(|s| s == name) {
            let miss = g.get("specialization.miss");
            e.specialized_hits += count as i128 - miss as i128;
            e.specialized_misses += miss;
        } else {
            e.basic += count;
        }
    }
    e
}

/// Computes the whole catalogue for one dump (or a sum of dumps).
pub fn compute(counters: &Counters, meta: &Metadata) -> MetricTable {
    let mut m = MetricTable::new();
    let groups = opcode_groups(counters, "opcode");
    let eff = effectiveness(&groups, meta);

    m.insert("total.instructions".into(), MetricValue::count(eff.total));

    // Opcode execution counts and miss ratios (execution count table).
    for (name, g) in &groups {
        if !g.has("execution_count") {
            continue;
        }
        let count = g.get("execution_count");
        m.insert(
            format!("opcode.{name}.execution_count"),
            MetricValue::count(count),
        );
        if !g.has("specializable") && g.has("specialization.miss") {
            m.insert(
                format!("opcode.{name}.miss_ratio"),
                MetricValue::ratio(g.get("specialization.miss"), count),
            );
        }
    }

    // Families.
    for fam in families(&groups, meta) {
        let g = &groups[&fam.name];
        let hit = g.get("specialization.hit");
        let miss = g.get("specialization.miss");
        let total = hit + miss + g.get("execution_count");
        let f = &fam.name;
        let has_any = total > 0 || g.fields.keys().any(|k| k.starts_with("specialization."));
        if !has_any {
            continue;
        }
        for field in ["hit", "miss", "deferred", "deopt", "success", "failure"] {
            m.insert(
                format!("family.{f}.{field}"),
                MetricValue::count(g.get(&format!("specialization.{field}"))),
            );
        }
        m.insert(
            format!("family.{f}.execution_count"),
            MetricValue::count(g.get("execution_count")),
        );
        for field in ["hit", "miss", "deferred", "deopt"] {
            m.insert(
                format!("family.{f}.{field}_ratio"),
                MetricValue::ratio(g.get(&format!("specialization.{field}")), total),
            );
        }
        // Each form's share of the family: a change that installs a slower sibling (or
        // nothing) moves these even when the family's hit ratio does not.
        for member in &fam.members {
            let count = groups.get(member).map_or(0, |mg| mg.get("execution_count"));
            m.insert(
                format!("family.{f}.form_share.{member}"),
                MetricValue::ratio(count, total),
            );
        }
        let success = g.get("specialization.success");
        let failure = g.get("specialization.failure");
        m.insert(
            format!("family.{f}.success_ratio"),
            MetricValue::ratio(success, success + failure),
        );
        for (kind, value) in g.failure_kinds() {
            if value == 0 {
                continue;
            }
            let kname = failure_kind_name(kind, f, meta);
            m.insert(
                format!("family.{f}.failure_kind.{kname}"),
                MetricValue::count(value),
            );
            m.insert(
                format!("family.{f}.failure_share.{kname}"),
                MetricValue::ratio(value, failure),
            );
        }
    }

    // Effectiveness.
    let hits = eff.specialized_hits.max(0) as u64;
    for (name, v) in [
        ("basic", eff.basic),
        ("not_specialized", eff.not_specialized),
        ("specialized_hits", hits),
        ("specialized_misses", eff.specialized_misses),
    ] {
        m.insert(format!("effectiveness.{name}"), MetricValue::count(v));
    }
    for (name, v) in [
        ("basic", eff.basic),
        ("not_specialized", eff.not_specialized),
        ("specialized_hits", hits),
        ("specialized_misses", eff.specialized_misses),
    ] {
        m.insert(
            format!("effectiveness.{name}_share"),
            MetricValue::ratio(v, eff.total),
        );
    }
    m.insert(
        "effectiveness.specialized_share".into(),
        MetricValue::ratio(hits + eff.specialized_misses, eff.total),
    );

    // Calls (get_call_stats).
    let mut calls_to_total = 0;
    for (key, value) in counters.iter() {
        if key.contains("Calls to") {
            calls_to_total += value;
        }
    }
    for (key, value) in counters.iter() {
        if let Some(rest) = key.strip_prefix("Calls to ") {
            m.insert(
                format!("calls.to_{}", slug(rest)),
                MetricValue::count(value),
            );
        } else if let Some(rest) = key.strip_prefix("Calls via ") {
            let (name, index) = rest.split_once('[').unwrap_or((rest, ""));
            let label = index
                .trim_end_matches(']')
                .parse::<u32>()
                .ok()
                .and_then(|i| meta.stats_defines.get(&i).and_then(|n| n.first()).cloned())
                .unwrap_or_else(|| index.trim_end_matches(']').to_string());
            m.insert(
                format!("calls.via_{}.{}", slug(name), slug(&label)),
                MetricValue::count(value),
            );
        } else if key.starts_with("Frame") {
            m.insert(format!("calls.{}", slug(key)), MetricValue::count(value));
        }
    }
    if counters.contains("Calls to Python functions inlined") {
        m.insert(
            "calls.inlined_ratio".into(),
            MetricValue::ratio(
                counters.get("Calls to Python functions inlined"),
                calls_to_total,
            ),
        );
    }

    // Objects (get_object_stats), with its denominators.
    let denominators = crate::summary::ObjectDenominators::of(counters);
    for (key, value) in counters.iter() {
        let Some(rest) = key.strip_prefix("Object") else {
            continue;
        };
        let name = slug(rest);
        m.insert(format!("objects.{name}"), MetricValue::count(value));
        if let Some(den) = denominators.for_key(key) {
            m.insert(
                format!("objects.{name}_ratio"),
                MetricValue {
                    kind: MetricKind::Ratio,
                    num: value as f64,
                    den: Some(den as f64),
                },
            );
        }
    }

    if counters.contains("Object method cache hits") {
        let (h, mi) = (
            counters.get("Object method cache hits"),
            counters.get("Object method cache misses"),
        );
        m.insert(
            "objects.method_cache_miss_ratio".into(),
            MetricValue::ratio(mi, h + mi),
        );
    }

    // GC, optimizer, JIT, rare events, everything else.
    for (key, value) in counters.iter() {
        if key.starts_with("opcode[")
            || key.starts_with("Calls ")
            || key.starts_with("Frame")
            || key.starts_with("Object")
            || key.starts_with("uop[")
        {
            continue;
        }
        if let Some(rest) = key.strip_prefix("GC[") {
            let (n, name) = rest.split_once(']').unwrap_or((rest, ""));
            m.insert(
                format!("gc.gen{n}.{}", slug(name)),
                MetricValue::count(value),
            );
        } else if let Some(rest) = key.strip_prefix("Rare event ") {
            m.insert(format!("rare.{}", slug(rest)), MetricValue::count(value));
        } else if let Some(rest) = key.strip_prefix("JIT ") {
            m.insert(format!("jit.{}", slug(rest)), MetricValue::count(value));
        } else if let Some(rest) = key.strip_prefix("uops[") {
            let (name, field) = rest.split_once(']').unwrap_or((rest, ""));
            m.insert(
                format!("uop.{name}.{}", slug(field)),
                MetricValue::count(value),
            );
        } else if let Some((hist, bucket)) = histogram_key(key) {
            m.insert(
                format!("optimizer.{}.le_{bucket}", slug(hist)),
                MetricValue::count(value),
            );
        } else if let Some(rest) = key
            .strip_prefix("unsupported_opcode[")
            .or_else(|| key.strip_prefix("error_in_opcode["))
        {
            let which = if key.starts_with("unsupported") {
                "unsupported_opcode"
            } else {
                "error_in_opcode"
            };
            let name = rest.split_once(']').map(|(n, _)| n).unwrap_or(rest);
            m.insert(
                format!("optimizer.{which}.{name}"),
                MetricValue::count(value),
            );
        } else if key.starts_with("Optimiz") || key.starts_with("Executors") {
            let name = key.strip_prefix("Optimization ").unwrap_or(key);
            m.insert(
                format!("optimizer.{}", slug(name)),
                MetricValue::count(value),
            );
        } else {
            m.insert(format!("other.{}", slug(key)), MetricValue::count(value));
        }
    }
    if counters.contains("Optimization attempts") {
        m.insert(
            "optimizer.traces_created_ratio".into(),
            MetricValue::ratio(
                counters.get("Optimization traces created"),
                counters.get("Optimization attempts"),
            ),
        );
    }

    // Per-million-instruction companions of every count, so workload size does not matter.
    let per = eff.total as f64 / 1e6;
    let counts: Vec<(String, f64)> = m
        .iter()
        .filter(|(n, v)| v.kind == MetricKind::Count && n.as_str() != "total.instructions")
        .map(|(n, v)| (n.clone(), v.num))
        .collect();
    for (name, num) in counts {
        m.insert(
            format!("{name}{PER_MILLION_SUFFIX}"),
            MetricValue {
                kind: MetricKind::PerMillion,
                num,
                den: Some(per),
            },
        );
    }
    m
}

/// `Trace length[16]` -> ("Trace length", 16).
fn histogram_key(key: &str) -> Option<(&str, u64)> {
    let (name, rest) = key.split_once('[')?;
    let n = rest.strip_suffix(']')?.parse::<u64>().ok()?;
    if name.ends_with("length") {
        Some((name, n))
    } else {
        None
    }
}

/// Metrics of one repeat: the aggregate over its benchmarks, plus `bench.<name>.` metrics.
pub fn repeat_metrics(
    repeat: &Repeat,
    meta: &Metadata,
    per_benchmark: bool,
) -> anyhow::Result<MetricTable> {
    let totals = repeat.totals()?;
    let mut m = compute(&totals, meta);
    if per_benchmark {
        for (bench, dump) in &repeat.benchmarks {
            for (name, v) in compute(&dump.counters, meta) {
                m.insert(format!("{BENCH_PREFIX}{bench}.{name}"), v);
            }
        }
    }
    Ok(m)
}

/// Metrics of every repeat of a set.
pub fn set_metrics(
    set: &StatsSet,
    meta: &Metadata,
    per_benchmark: bool,
) -> anyhow::Result<Vec<MetricTable>> {
    set.repeats
        .iter()
        .map(|r| {
            repeat_metrics(r, meta, per_benchmark).with_context(|| format!("repeat {}", r.name))
        })
        .collect()
}

/// Splits `bench.<name>.<metric>` into (Some(name), metric); benchmark names hold no dots.
pub fn split_bench(name: &str) -> (Option<&str>, &str) {
    if let Some(rest) = name.strip_prefix(BENCH_PREFIX) {
        if let Some((b, m)) = rest.split_once('.') {
            return (Some(b), m);
        }
    }
    (None, name)
}

/// Formats a metric value for people: percentages for ratios, grouped integers for counts.
pub fn format_value(kind: MetricKind, v: f64) -> String {
    match kind {
        MetricKind::Ratio => format!("{:.2}%", v * 100.0),
        MetricKind::PerMillion => format!("{v:.1}"),
        MetricKind::Count => {
            if v.fract() == 0.0 && v.abs() < 1e15 {
                group_digits(v as i64)
            } else {
                format!("{v:.1}")
            }
        }
    }
}

/// Formats a difference: percentage points for ratios.
pub fn format_delta(kind: MetricKind, d: f64) -> String {
    let sign = if d > 0.0 { "+" } else { "" };
    match kind {
        MetricKind::Ratio => format!("{sign}{:.2} pp", d * 100.0),
        MetricKind::PerMillion => format!("{sign}{d:.1}"),
        MetricKind::Count => {
            if d.fract() == 0.0 && d.abs() < 1e15 {
                format!("{sign}{}", group_digits(d as i64))
            } else {
                format!("{sign}{d:.1}")
            }
        }
    }
}

pub fn group_digits(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// `pystats-gate metrics SET`.
pub fn cmd_metrics(args: &MetricsArgs) -> anyhow::Result<i32> {
    use crate::cli::Format;
    let set = StatsSet::load(
        &args.set,
        crate::raw::ParseOptions {
            allow_malformed: args.input.allow_malformed,
        },
    )?;
    let meta = crate::verdict::metadata_for(&set, &args.input)?;
    let filter = match &args.filter {
        Some(g) => Some(
            globset::Glob::new(g)
                .map_err(|e| crate::error::Error::input(format!("--filter {g:?}: {e}")))?
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
        return Err(crate::error::Error::input(format!("--filter {g:?} matches no metric")).into());
    }
    let repeat_names: Vec<&str> = set.repeats.iter().map(|r| r.name.as_str()).collect();
    let out = match args.format {
        Format::Json => {
            let mut obj = serde_json::Map::new();
            for (n, kind) in &names {
                let vals: Vec<f64> = tables
                    .iter()
                    .map(|t| t.get(n).map(|v| v.value()).unwrap_or(0.0))
                    .collect();
                obj.insert(n.clone(), serde_json::json!({"kind": kind, "values": vals}));
            }
            let doc = serde_json::json!({"repeats": repeat_names, "metrics": obj});
            serde_json::to_string_pretty(&doc)? + "\n"
        }
        Format::Text | Format::Markdown => {
            let rows: Vec<(&String, Vec<String>)> = names
                .iter()
                .map(|(n, kind)| {
                    let vals = tables
                        .iter()
                        .map(|t| format_value(*kind, t.get(n).map(|v| v.value()).unwrap_or(0.0)))
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
        other => {
            return Err(crate::error::Error::input(format!(
                "metrics: --format {other:?} is not supported (text, json)"
            ))
            .into())
        }
    };
    print!("{out}");
    Ok(crate::error::EXIT_PASS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::{parse_dump, ParseOptions};
    use std::path::Path;

    fn counters(text: &str) -> Counters {
        parse_dump(text.as_bytes(), Path::new("t"), ParseOptions::default())
            .unwrap()
            .counters
    }

    #[test]
    fn family_ratios_use_summarize_denominators() {
        let c = counters(
            "opcode[LOAD_ATTR].specializable : 1\nopcode[LOAD_ATTR].specialization.hit : 80\n\
             opcode[LOAD_ATTR].specialization.miss : 10\nopcode[LOAD_ATTR].specialization.deferred : 5\n\
             opcode[LOAD_ATTR].execution_count : 10\nopcode[LOAD_ATTR].specialization.success : 3\n\
             opcode[LOAD_ATTR].specialization.failure : 1\nopcode[LOAD_ATTR].specialization.failure_kinds[24] : 1\n\
             opcode[LOAD_ATTR_SLOT].execution_count : 90\nopcode[LOAD_ATTR_SLOT].specialization.miss : 10\n\
             opcode[LOAD_FAST].execution_count : 100\n",
        );
        let meta = Metadata::embedded("3.13").unwrap();
        let m = compute(&c, &meta);
        assert_eq!(m["family.LOAD_ATTR.miss_ratio"].value(), 0.1);
        assert_eq!(m["family.LOAD_ATTR.hit_ratio"].value(), 0.8);
        assert_eq!(m["family.LOAD_ATTR.deferred_ratio"].value(), 0.05);
        assert_eq!(m["family.LOAD_ATTR.success_ratio"].value(), 0.75);
        assert_eq!(m["total.instructions"].num, 200.0);
        assert_eq!(m["effectiveness.basic"].num, 100.0);
        assert_eq!(m["effectiveness.not_specialized"].num, 10.0);
        assert_eq!(m["effectiveness.specialized_hits"].num, 80.0);
        assert_eq!(m["effectiveness.specialized_misses"].num, 10.0);
        assert_eq!(m["opcode.LOAD_ATTR_SLOT.miss_ratio"].value(), 10.0 / 90.0);
        assert!(
            m.keys()
                .any(|k| k.starts_with("family.LOAD_ATTR.failure_kind.")),
            "{:?}",
            m.keys()
        );
        assert_eq!(
            m["family.LOAD_ATTR.hit.per_minstr"].value(),
            80.0 / 200.0 * 1e6
        );
    }

    #[test]
    fn longest_prefix_family() {
        let bases = ["CALL", "CALL_KW"];
        assert_eq!(family_of("CALL_KW_PY", &bases), Some("CALL_KW"));
        assert_eq!(family_of("CALL_PY_EXACT_ARGS", &bases), Some("CALL"));
        assert_eq!(family_of("CALL", &bases), None);
    }

    #[test]
    fn real_fixture_catalogue() {
        let set = crate::stats_set::real_fixture("aa-base");
        let meta = Metadata::embedded("3.13").unwrap();
        let t = set_metrics(&set, &meta, true).unwrap();
        assert_eq!(t.len(), 3);
        let m = &t[0];
        for name in [
            "family.BINARY_OP.miss_ratio",
            "family.FOR_ITER.failure_kind.dict_keys",
            "calls.to_python_functions_inlined",
            "calls.via_pyeval_evalframe.total",
            "objects.allocations",
            "gc.gen0.collections",
            "rare.set_class",
            "bench.attrs.family.LOAD_ATTR.hit",
        ] {
            assert!(
                m.contains_key(name),
                "{name} missing; have {:?}",
                m.keys()
                    .filter(|k| k.contains("FOR_ITER"))
                    .collect::<Vec<_>>()
            );
        }
    }
}

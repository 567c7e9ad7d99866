//! Metric catalogue: stable dotted names computed from one dump's counters, per repeat and per benchmark.
//!
//! Definitions follow `Tools/scripts/summarize_stats.py` exactly: a family's ratios use
//! `get_specialization_total` (hit + miss + execution_count of the family's base opcode),
//! success ratio uses success + failure, effectiveness uses `get_specialized_total_counts`.

use crate::error::Error;
use crate::gate::check::{CheckExceptions, CheckReport, DumpChecks};
use crate::stats::metadata::Metadata;
use crate::stats::model::{
    CallStat, Effectiveness, FailureKind, Family, Model, ModelError, Optimizer, Rename,
};
use crate::stats::raw::Counters;
use crate::stats::set::{Repeat, StatsSet};
use anyhow::Context;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// What a metric's value is, which decides its noise floor and how changes are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    /// The value. The catalogue never holds a ratio with a zero denominator (such a ratio is
    /// absent); one built elsewhere reads as 0, like summarize_stats.py's `float(Ratio)`.
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

/// Name of a failure kind in metric-name form (`range`, `not_managed_dict`, `kind_27`).
pub fn failure_kind_name(kind: &FailureKind) -> String {
    match kind.define.as_deref() {
        Some(name) if !name.is_empty() => name.to_ascii_lowercase(),
        _ => format!("kind_{}", kind.index),
    }
}

/// The metric naming one row of the call stats table.
pub fn call_metric_name(c: &CallStat) -> String {
    if let Some(rest) = c.key.strip_prefix("Calls to ") {
        format!("calls.to_{}", slug(rest))
    } else if let Some(rest) = c.key.strip_prefix("Calls via ") {
        let (name, index) = rest.split_once('[').unwrap_or((rest, ""));
        let label = match &c.define {
            Some(d) => d.clone(),
            None => index.trim_end_matches(']').to_string(),
        };
        format!("calls.via_{}.{}", slug(name), slug(&label))
    } else {
        format!("calls.{}", slug(&c.key))
    }
}

/// The metric naming object counter `key`.
pub fn object_metric_name(key: &str) -> String {
    format!(
        "objects.{}",
        slug(key.strip_prefix("Object").unwrap_or(key))
    )
}

/// A metric table being filled from one model. Counters with free-text names become
/// metrics through [`slug`], so two different counters can map to one name; the table keeps
/// the first value and remembers the name, and [`from_model`] refuses the dump (dropping
/// one silently would compare the wrong number).
struct Catalogue {
    table: MetricTable,
    clash: Option<String>,
}

impl Catalogue {
    fn put(&mut self, name: String, v: MetricValue) {
        match self.table.entry(name) {
            indexmap::map::Entry::Occupied(e) => {
                self.clash.get_or_insert_with(|| e.key().clone());
            }
            indexmap::map::Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }

    /// Adds a ratio metric when its denominator is nonzero (a zero denominator means no sample).
    fn ratio(&mut self, name: String, num: impl Into<i128>, den: impl Into<i128>) {
        let (num, den) = (num.into(), den.into());
        if den != 0 {
            self.put(
                name,
                MetricValue {
                    kind: MetricKind::Ratio,
                    num: num as f64,
                    den: Some(den as f64),
                },
            );
        }
    }

    fn count(&mut self, name: String, n: impl Into<i128>) {
        self.put(
            name,
            MetricValue {
                kind: MetricKind::Count,
                num: n.into() as f64,
                den: None,
            },
        );
    }
}

/// Computes the whole catalogue for one dump (or a sum of dumps).
pub fn compute(counters: &Counters, meta: &Metadata) -> Result<MetricTable, ModelError> {
    from_model(&Model::build(counters, meta)?)
}

/// The catalogue of a built model: every metric names one of its fields. An error when two
/// different counters become one metric name.
pub fn from_model(model: &Model) -> Result<MetricTable, ModelError> {
    let mut m = Catalogue {
        table: MetricTable::new(),
        clash: None,
    };
    let eff = &model.effectiveness;
    m.count("total.instructions".into(), eff.total as i128);
    opcode_metrics(&mut m, model);
    for f in &model.families {
        family_metrics(&mut m, f);
        form_share_metrics(&mut m, model, f);
    }
    effectiveness_metrics(&mut m, eff);
    for c in &model.calls {
        m.count(call_metric_name(c), c.value);
    }
    if model.counters.contains("Calls to Python functions inlined") {
        m.ratio(
            "calls.inlined_ratio".into(),
            model.get("Calls to Python functions inlined"),
            model.calls_to_total as i128,
        );
    }
    for o in &model.objects {
        let name = object_metric_name(&o.key);
        m.count(name.clone(), o.value);
        if let Some(den) = o.den {
            m.ratio(format!("{name}_ratio"), o.value, den as i128);
        }
    }
    if model.counters.contains("Object method cache hits") {
        let (h, mi) = (
            model.get("Object method cache hits"),
            model.get("Object method cache misses"),
        );
        m.ratio(
            "objects.method_cache_miss_ratio".into(),
            mi,
            i128::from(h) + i128::from(mi),
        );
    }
    for (n, gen) in model.gc.iter().enumerate() {
        for (name, v) in gen {
            m.count(format!("gc.gen{n}.{}", slug(name)), *v);
        }
    }
    if let Some(o) = &model.optimizer {
        optimizer_metrics(&mut m, o);
    }
    for (prefix, list) in [
        ("jit", &model.jit),
        ("rare", &model.rare_events),
        ("ft", &model.free_threading),
        ("other", &model.unknown),
    ] {
        for (key, v) in list {
            let rest = match prefix {
                "jit" => key.strip_prefix("JIT ").unwrap_or(key),
                "rare" => key.strip_prefix("Rare event ").unwrap_or(key),
                // `Mutex sleeps (mutex_sleeps)` -> `ft.mutex_sleeps`.
                "ft" => key.split(" (").next().unwrap_or(key),
                _ => key,
            };
            m.count(format!("{prefix}.{}", slug(rest)), *v);
        }
    }
    per_million_companions(&mut m.table, eff.total);
    match m.clash {
        Some(name) => Err(ModelError::NameClash(name)),
        None => Ok(m.table),
    }
}

/// Opcode execution counts and miss ratios (the execution count table).
fn opcode_metrics(m: &mut Catalogue, model: &Model) {
    for e in crate::stats::model::execution_counts(&model.opcodes) {
        m.count(format!("opcode.{}.execution_count", e.name), e.count);
        if let Some(miss) = e.miss {
            m.ratio(format!("opcode.{}.miss_ratio", e.name), miss, e.count);
        }
    }
}

fn family_metrics(m: &mut Catalogue, fam: &Family) {
    if fam.total == 0 && !fam.has_specialization_fields {
        return;
    }
    let f = &fam.name;
    for (field, v) in [
        ("hit", fam.hit),
        ("miss", fam.miss),
        ("deferred", fam.deferred),
        ("deopt", fam.deopt),
        ("success", fam.success),
        ("failure", fam.failure),
        ("execution_count", fam.execution_count),
    ] {
        m.count(format!("family.{f}.{field}"), v);
    }
    // Specialization attempts: a site that respecializes too soon after a miss, or retries a
    // failure too often, makes more of them without changing any ratio much.
    m.count(
        format!("family.{f}.attempts"),
        i128::from(fam.success) + i128::from(fam.failure),
    );
    let total = fam.total as i128;
    for (field, v) in [
        ("hit", fam.hit),
        ("miss", fam.miss),
        ("deferred", fam.deferred),
        ("deopt", fam.deopt),
    ] {
        m.ratio(format!("family.{f}.{field}_ratio"), v, total);
    }
    m.ratio(
        format!("family.{f}.success_ratio"),
        fam.success,
        i128::from(fam.success) + i128::from(fam.failure),
    );
    for kind in &fam.failure_kinds {
        let kname = failure_kind_name(kind);
        m.count(format!("family.{f}.failure_kind.{kname}"), kind.count);
        m.ratio(
            format!("family.{f}.failure_share.{kname}"),
            kind.count,
            fam.failure,
        );
    }
}

/// Each specialized form's share of its family's executions: a change that installs a
/// slower sibling (or nothing) moves these even when the family's hit ratio does not.
fn form_share_metrics(m: &mut Catalogue, model: &Model, fam: &Family) {
    for member in &fam.members {
        let count = model
            .opcodes
            .get(member.as_str())
            .and_then(|g| g.get("execution_count"))
            .copied()
            .unwrap_or(0);
        m.ratio(
            format!("family.{}.form_share.{member}", fam.name),
            count,
            fam.total as i128,
        );
    }
}

/// The effectiveness rows; `specialized_hits` can be negative (misses above executions), as
/// in summarize_stats.py.
pub const EFFECTIVENESS_ROWS: [&str; 4] = [
    "basic",
    "not_specialized",
    "specialized_hits",
    "specialized_misses",
];

fn effectiveness_values(eff: &Effectiveness) -> [i128; 4] {
    [
        eff.basic as i128,
        eff.not_specialized as i128,
        eff.specialized_hits,
        eff.specialized_misses as i128,
    ]
}

fn effectiveness_metrics(m: &mut Catalogue, eff: &Effectiveness) {
    let values = effectiveness_values(eff);
    for (name, v) in EFFECTIVENESS_ROWS.iter().zip(values) {
        m.count(format!("effectiveness.{name}"), v);
    }
    for (name, v) in EFFECTIVENESS_ROWS.iter().zip(values) {
        m.ratio(format!("effectiveness.{name}_share"), v, eff.total as i128);
    }
    m.ratio(
        "effectiveness.specialized_share".into(),
        values[2] + values[3],
        eff.total as i128,
    );
}

/// Tier 2: the optimizer's counters, histograms (buckets and percentiles), uops, unsupported
/// and errored opcodes, and the ratios summarize_stats.py shows.
fn optimizer_metrics(m: &mut Catalogue, o: &Optimizer) {
    for (key, v) in &o.counters {
        let name = key.strip_prefix("Optimization ").unwrap_or(key);
        m.count(format!("optimizer.{}", slug(name)), *v);
    }
    for h in &o.histograms {
        let hname = slug(h.name);
        for (bucket, v) in &h.buckets {
            m.count(format!("optimizer.{hname}.le_{bucket}"), *v);
        }
        for (p, label) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
            if let Some(b) = h.percentile(p) {
                m.count(format!("optimizer.{hname}.{label}"), b as i128);
            }
        }
    }
    for (name, g) in &o.uops {
        for (field, v) in g {
            m.count(format!("uop.{name}.{}", slug(field)), *v);
        }
    }
    for e in crate::stats::model::execution_counts(&o.uops) {
        if let Some(miss) = e.miss {
            m.ratio(format!("uop.{}.miss_ratio", e.name), miss, e.count);
        }
    }
    for (which, groups) in [
        ("unsupported_opcode", &o.unsupported),
        ("error_in_opcode", &o.errors),
    ] {
        for (name, g) in groups {
            for (field, v) in g {
                let suffix = if *field == "count" || field.is_empty() {
                    String::new()
                } else {
                    format!(".{}", slug(field))
                };
                m.count(format!("optimizer.{which}.{name}{suffix}"), *v);
            }
        }
    }
    let created = o.get("Optimization traces created");
    for (name, num, den) in [
        (
            "optimizer.traces_created_ratio",
            created,
            o.get("Optimization attempts"),
        ),
        (
            "optimizer.success_ratio",
            o.get("Optimization optimizer successes"),
            o.get("Optimization optimizer attempts"),
        ),
        (
            "optimizer.executors_invalidated_ratio",
            o.get("Executors invalidated"),
            created,
        ),
    ] {
        m.ratio(name.into(), num, den);
    }
}

/// Per-million-instruction companions of every count, so workload size does not matter
/// (none when no instruction ran: a zero denominator is no sample).
fn per_million_companions(m: &mut MetricTable, total: u128) {
    if total == 0 {
        return;
    }
    let per = total as f64 / 1e6;
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
}

/// The metric names (and kinds) of one benchmark's table in catalogue order, shared by
/// every benchmark and repeat whose table has exactly these names: stored once, not per dump.
#[derive(Debug, PartialEq)]
struct Shape {
    /// Name, kind, and whether the value has a denominator.
    names: Box<[ShapeName]>,
    index: crate::intern::NameIndex,
    /// Where each name's denominator sits in a row's values (`u32::MAX`: none).
    den_at: Box<[u32]>,
}

type ShapeName = (&'static str, MetricKind, bool);

/// One benchmark's metrics in one repeat: its [`Shape`] and the values in the shape's order.
#[derive(Clone, Debug, PartialEq)]
struct BenchRow {
    shape: std::sync::Arc<Shape>,
    /// The numerators in the shape's order, then the denominators of the names that have
    /// one (counts have none: 8 bytes for them, 16 for ratios).
    values: Box<[f64]>,
}

impl BenchRow {
    fn value(&self, i: usize) -> MetricValue {
        let den = self.shape.den_at[i];
        MetricValue {
            kind: self.shape.names[i].1,
            num: self.values[i],
            den: (den != u32::MAX).then(|| self.values[den as usize]),
        }
    }
    fn get(&self, metric: &str) -> Option<MetricValue> {
        self.shape
            .index
            .get(metric)
            .map(|&i| self.value(i as usize))
    }
}

/// Metrics of one repeat: the aggregate table, plus each benchmark's metrics (the
/// `bench.<name>.<metric>` entries) kept compact: names interned once in shared shapes and
/// 16 bytes per value, instead of a string key per benchmark x metric x repeat.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RepeatMetrics {
    pub aggregate: MetricTable,
    benches: IndexMap<&'static str, BenchRow, foldhash::fast::RandomState>,
}

impl RepeatMetrics {
    /// The value of a metric by its full name (`bench.<name>.<metric>` for a benchmark's).
    pub fn get(&self, name: &str) -> Option<MetricValue> {
        if let Some(rest) = name.strip_prefix(BENCH_PREFIX) {
            // Benchmark names may hold dots: try every split, shortest name first.
            for (i, _) in rest.match_indices('.') {
                if let Some(v) = self
                    .benches
                    .get(&rest[..i])
                    .and_then(|row| row.get(&rest[i + 1..]))
                {
                    return Some(v);
                }
            }
        }
        self.aggregate.get(name).copied()
    }
    /// Replaces the value of an existing metric (full name); false when there is none. For
    /// callers that derive tables from computed ones (the simulator, ci/gate-sim.sh).
    pub fn set(&mut self, name: &str, v: MetricValue) -> bool {
        if let Some(rest) = name.strip_prefix(BENCH_PREFIX) {
            for (i, _) in rest.match_indices('.') {
                let Some(row) = self.benches.get_mut(&rest[..i]) else {
                    continue;
                };
                let Some(&k) = row.shape.index.get(&rest[i + 1..]) else {
                    continue;
                };
                let (k, den) = (k as usize, row.shape.den_at[k as usize]);
                row.values[k] = v.num;
                if let (Some(d), true) = (v.den, den != u32::MAX) {
                    row.values[den as usize] = d;
                }
                return true;
            }
        }
        match self.aggregate.get_mut(name) {
            Some(slot) => {
                *slot = v;
                true
            }
            None => false,
        }
    }
    /// True when [`RepeatMetrics::get`] finds `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Every metric in catalogue order: the aggregate's, then each benchmark's (full names).
    pub fn iter(&self) -> impl Iterator<Item = (std::borrow::Cow<'_, str>, MetricValue)> + '_ {
        let aggregate = self
            .aggregate
            .iter()
            .map(|(n, v)| (std::borrow::Cow::Borrowed(n.as_str()), *v));
        let benches = self.benches.iter().flat_map(|(bench, row)| {
            row.shape
                .names
                .iter()
                .enumerate()
                .map(move |(i, (m, _, _))| {
                    (
                        std::borrow::Cow::Owned(format!("{BENCH_PREFIX}{bench}.{m}")),
                        row.value(i),
                    )
                })
        });
        aggregate.chain(benches)
    }
    /// Benchmarks with metrics in this repeat, in the repeat's order.
    pub fn benchmarks(&self) -> impl Iterator<Item = &str> + '_ {
        self.benches.keys().copied()
    }
    /// One benchmark's metrics (names without the `bench.<name>.` prefix), in catalogue order.
    pub fn bench_iter<'a>(
        &'a self,
        bench: &str,
    ) -> impl Iterator<Item = (&'static str, MetricValue)> + 'a {
        let row = self.benches.get(bench);
        row.into_iter().flat_map(|row| {
            row.shape
                .names
                .iter()
                .enumerate()
                .map(move |(i, (m, _, _))| (*m, row.value(i)))
        })
    }
    /// The metric part of every name ([`split_bench`]'s second half), in catalogue order,
    /// without spelling out each benchmark's full names.
    pub fn metric_names(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> + '_ {
        let aggregate = self
            .aggregate
            .keys()
            .map(|n| std::borrow::Cow::Borrowed(split_bench(n).1));
        let benches = self.benches.iter().flat_map(|(bench, row)| {
            row.shape.names.iter().map(move |(m, _, _)| {
                if bench.contains('.') {
                    // A dotted benchmark name splits at its first dot, as `split_bench` does.
                    let full = format!("{BENCH_PREFIX}{bench}.{m}");
                    std::borrow::Cow::Owned(split_bench(&full).1.to_string())
                } else {
                    std::borrow::Cow::Borrowed(*m)
                }
            })
        });
        aggregate.chain(benches)
    }
    /// The whole table keyed by full names (what `metrics`, `calibrate` and tests read).
    pub fn to_table(&self) -> MetricTable {
        let mut t = MetricTable::with_capacity(self.aggregate.len());
        for (n, v) in self.iter() {
            t.insert(n.into_owned(), v);
        }
        t
    }
}

/// Answers of a predicate on names, each name asked once.
#[derive(Default)]
pub struct Memo(std::collections::HashMap<String, bool, foldhash::fast::RandomState>);

impl Memo {
    pub fn get(&mut self, name: &str, f: impl FnOnce(&str) -> bool) -> bool {
        if let Some(v) = self.0.get(name) {
            return *v;
        }
        let v = f(name);
        self.0.insert(name.to_string(), v);
        v
    }
}

/// One metric of a [`MetricUnion`]: an aggregate metric, or a benchmark's.
#[derive(Clone, Copy, Debug)]
pub struct UnionEntry {
    bench: Option<&'static str>,
    metric: &'static str,
    /// The first value seen (what callers need is its kind and whether it has a denominator).
    pub like: MetricValue,
}

impl UnionEntry {
    /// The full name (`bench.<name>.<metric>` for a benchmark's metric).
    pub fn name(&self) -> std::borrow::Cow<'static, str> {
        match self.bench {
            None => std::borrow::Cow::Borrowed(self.metric),
            Some(b) => std::borrow::Cow::Owned(format!("{BENCH_PREFIX}{b}.{}", self.metric)),
        }
    }
    /// [`split_bench`] of the full name, without spelling it out when the benchmark's name
    /// holds no dot.
    pub fn split(
        &self,
    ) -> (
        Option<std::borrow::Cow<'static, str>>,
        std::borrow::Cow<'static, str>,
    ) {
        use std::borrow::Cow;
        match self.bench {
            None => {
                let (b, m) = split_bench(self.metric);
                (b.map(Cow::Borrowed), Cow::Borrowed(m))
            }
            Some(b) if !b.contains('.') => (Some(Cow::Borrowed(b)), Cow::Borrowed(self.metric)),
            Some(_) => {
                let full = self.name();
                let (b, m) = split_bench(&full);
                (
                    b.map(|b| Cow::Owned(b.to_string())),
                    Cow::Owned(m.to_string()),
                )
            }
        }
    }
    pub fn is_benchmark(&self) -> bool {
        self.bench.is_some()
    }
}

/// Every metric of a comparison's tables once, in first-seen order (48 bytes a metric,
/// names interned, instead of one string per benchmark x metric).
#[derive(Clone, Debug, Default)]
pub struct MetricUnion {
    entries: Vec<UnionEntry>,
}

impl MetricUnion {
    pub fn iter(&self) -> impl Iterator<Item = &UnionEntry> + '_ {
        self.entries.iter()
    }
}

/// Every metric of `tables` once, in first-seen order, with the first value seen. Names are
/// compared as interned pointers; when a benchmark's name holds a dot, two benchmarks'
/// full names may coincide, so full names are compared instead.
pub fn union_of<'a>(tables: impl IntoIterator<Item = &'a RepeatMetrics> + Clone) -> MetricUnion {
    let dotted = tables
        .clone()
        .into_iter()
        .any(|t| t.benches.keys().any(|b| b.contains('.')));
    if dotted {
        return union_by_full_name(tables);
    }
    let mut entries = vec![];
    let mut aggregate_seen: std::collections::HashSet<&str, foldhash::fast::RandomState> =
        Default::default();
    // Per benchmark: the shapes already taken in (a row of one of them adds nothing new,
    // which is every row but the first when all repeats name the same metrics), and the
    // metrics seen, made only when a benchmark has rows of two shapes.
    let mut bench_seen: std::collections::HashMap<usize, SeenShapes, foldhash::fast::RandomState> =
        Default::default();
    for t in tables {
        for (n, v) in &t.aggregate {
            if aggregate_seen.insert(n.as_str()) {
                entries.push(UnionEntry {
                    bench: None,
                    metric: crate::stats::raw::intern(n),
                    like: *v,
                });
            }
        }
        for (bench, row) in &t.benches {
            let seen = bench_seen.entry(bench.as_ptr() as usize).or_default();
            if seen
                .shapes
                .iter()
                .any(|s| std::sync::Arc::ptr_eq(s, &row.shape))
            {
                continue;
            }
            if !seen.shapes.is_empty() && seen.metrics.is_none() {
                let names = seen.shapes.iter().flat_map(|s| s.names.iter());
                seen.metrics = Some(names.map(|(m, _, _)| m.as_ptr() as usize).collect());
            }
            seen.shapes.push(row.shape.clone());
            for (i, (m, _, _)) in row.shape.names.iter().enumerate() {
                if seen
                    .metrics
                    .as_mut()
                    .is_none_or(|s| s.insert(m.as_ptr() as usize))
                {
                    entries.push(UnionEntry {
                        bench: Some(bench),
                        metric: m,
                        like: row.value(i),
                    });
                }
            }
        }
    }
    MetricUnion { entries }
}

/// [`union_of`]'s record of one benchmark: the shapes of its rows taken in, and (once it
/// has two) the metrics they name (interned pointers).
#[derive(Default)]
struct SeenShapes {
    shapes: Vec<std::sync::Arc<Shape>>,
    metrics: Option<std::collections::HashSet<usize, foldhash::fast::RandomState>>,
}

/// [`union_of`] comparing full names (some benchmark name holds a dot).
fn union_by_full_name<'a>(tables: impl IntoIterator<Item = &'a RepeatMetrics>) -> MetricUnion {
    let mut entries = vec![];
    let mut seen_full: std::collections::HashSet<String, foldhash::fast::RandomState> =
        Default::default();
    let mut first = |e: UnionEntry| {
        if seen_full.insert(e.name().into_owned()) {
            entries.push(e);
        }
    };
    for t in tables {
        for (n, v) in &t.aggregate {
            first(UnionEntry {
                bench: None,
                metric: crate::stats::raw::intern(n),
                like: *v,
            });
        }
        for (bench, row) in &t.benches {
            for (i, (m, _, _)) in row.shape.names.iter().enumerate() {
                first(UnionEntry {
                    bench: Some(bench),
                    metric: m,
                    like: row.value(i),
                });
            }
        }
    }
    MetricUnion { entries }
}

/// Interns benchmark tables' name lists so equal ones share one [`Shape`].
#[derive(Default)]
struct Shapes(crate::intern::Interner<ShapeName, Shape>);

impl Shapes {
    fn row(shapes: &std::sync::Mutex<Shapes>, table: MetricTable) -> BenchRow {
        let names: Box<[ShapeName]> = table
            .iter()
            .map(|(n, v)| (crate::stats::raw::intern(n), v.kind, v.den.is_some()))
            .collect();
        let values = table
            .values()
            .map(|v| v.num)
            .chain(table.values().filter_map(|v| v.den))
            .collect();
        let mut shapes = shapes.lock().unwrap_or_else(|p| p.into_inner());
        let shape = shapes.0.get_or_make(names, |names| {
            let mut next = names.len() as u32;
            let den_at = names
                .iter()
                .map(|(_, _, has_den)| {
                    if *has_den {
                        next += 1;
                        next - 1
                    } else {
                        u32::MAX
                    }
                })
                .collect();
            Shape {
                names: names.into(),
                index: crate::intern::name_index(names.iter().map(|(n, _, _)| *n)),
                den_at,
            }
        });
        BenchRow { shape, values }
    }
}

/// What one benchmark's dump gives when its model is built: its metrics row, and its
/// consistency checks and renames when asked for (one model per dump feeds all three).
struct BenchOutput {
    row: BenchRow,
    checks: Option<DumpChecks>,
    renames: Vec<Rename>,
}

/// A benchmark's checks and renames (see [`BenchOutput`]).
type DumpExtras = (Option<DumpChecks>, Vec<Rename>);

/// Metrics of one repeat: the aggregate over its benchmarks, plus `bench.<name>.` metrics.
/// `set_dir` locates input errors (a set mixing key styles) by file and line. Benchmarks'
/// models are built in parallel; the first failing benchmark (in order) is the error.
/// With `checks`, each benchmark's model is also checked (its [`DumpChecks`] in order).
fn repeat_metrics_with(
    repeat: &Repeat,
    meta: &Metadata,
    per_benchmark: bool,
    set_dir: &Path,
    shapes: &mut Shapes,
    checks: Option<&CheckExceptions>,
) -> anyhow::Result<(RepeatMetrics, Vec<DumpExtras>)> {
    let totals = repeat.totals()?;
    let model = Model::build(&totals, meta)
        .map_err(|e| crate::stats::model::input_error(e, set_dir, &repeat.name))?;
    let mut out = RepeatMetrics {
        aggregate: from_model(&model).map_err(|e| clash_scope(e, repeat, meta, set_dir))?,
        benches: Default::default(),
    };
    drop(model);
    if !per_benchmark {
        return Ok((out, vec![]));
    }
    let benches = bench_outputs(repeat, meta, set_dir, shapes, checks)?;
    let mut extras = Vec::with_capacity(benches.len());
    for (bench, b) in repeat.benchmarks.keys().zip(benches) {
        out.benches.insert(crate::stats::raw::intern(bench), b.row);
        extras.push((b.checks, b.renames));
    }
    Ok((out, extras))
}

/// A repeat's [`from_model`] error located in the first benchmark whose own dump shows it
/// (the repeat when only the sum does: the two counters are in different dumps).
fn clash_scope(e: ModelError, repeat: &Repeat, meta: &Metadata, set_dir: &Path) -> Error {
    let in_bench = repeat.benchmarks.iter().find_map(|(bench, dump)| {
        let err = Model::build(&dump.counters, meta)
            .and_then(|m| from_model(&m))
            .err()?;
        Some(crate::stats::model::input_error(
            err,
            set_dir,
            &format!("{}/{bench}", repeat.name),
        ))
    });
    in_bench.unwrap_or_else(|| crate::stats::model::input_error(e, set_dir, &repeat.name))
}

/// Each benchmark's [`BenchOutput`], models built in parallel. Each table becomes its
/// compact row at once: a repeat's full tables held together would take more memory than
/// the whole comparison.
fn bench_outputs(
    repeat: &Repeat,
    meta: &Metadata,
    set_dir: &Path,
    shapes: &mut Shapes,
    checks: Option<&CheckExceptions>,
) -> anyhow::Result<Vec<BenchOutput>> {
    use rayon::prelude::*;
    let benches: Vec<(&String, &crate::stats::set::BenchmarkDump)> =
        repeat.benchmarks.iter().collect();
    let shared = std::sync::Mutex::new(std::mem::take(shapes));
    let outputs: Vec<Result<BenchOutput, Error>> = benches
        .par_iter()
        .map(|(bench, dump)| {
            let model = Model::build(&dump.counters, meta).map_err(|e| {
                let scope = format!("{}/{bench}", repeat.name);
                crate::stats::model::input_error(e, set_dir, &scope)
            })?;
            let checks = checks.map(|ex| {
                crate::gate::check::check_dump(
                    ex,
                    &crate::gate::check::dump_scope(&repeat.name, bench),
                    &model,
                )
            });
            let renames = model.renames.clone();
            let table = from_model(&model).map_err(|e| {
                let scope = format!("{}/{bench}", repeat.name);
                crate::stats::model::input_error(e, set_dir, &scope)
            })?;
            drop(model);
            Ok(BenchOutput {
                row: Shapes::row(&shared, table),
                checks,
                renames,
            })
        })
        .collect();
    *shapes = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(outputs.into_iter().collect::<Result<Vec<_>, Error>>()?)
}

/// Metrics of one repeat, as a table keyed by full names.
pub fn repeat_metrics(
    repeat: &Repeat,
    meta: &Metadata,
    per_benchmark: bool,
    set_dir: &Path,
) -> anyhow::Result<MetricTable> {
    repeat_metrics_with(
        repeat,
        meta,
        per_benchmark,
        set_dir,
        &mut Shapes::default(),
        None,
    )
    .map(|(m, _)| m.to_table())
}

/// Metrics of every repeat of a set, compact (see [`RepeatMetrics`]).
pub fn set_repeat_metrics(
    set: &StatsSet,
    meta: &Metadata,
    per_benchmark: bool,
) -> anyhow::Result<Vec<RepeatMetrics>> {
    let mut shapes = Shapes::default();
    set.repeats
        .iter()
        .map(|r| {
            repeat_metrics_with(r, meta, per_benchmark, &set.path, &mut shapes, None)
                .map(|(m, _)| m)
                .with_context(|| format!("repeat {}", r.name))
        })
        .collect()
}

/// A set's per-benchmark metrics, consistency checks and renames from one model per dump.
pub struct SetMetrics {
    pub tables: Vec<RepeatMetrics>,
    /// [`crate::gate::check::check_set`]'s report.
    pub checks: CheckReport,
    /// [`crate::stats::model::set_renames`].
    pub renames: Vec<Rename>,
}

/// [`set_repeat_metrics`] (per benchmark), [`crate::gate::check::check_set`] and
/// [`crate::stats::model::set_renames`] of `set` in one pass: each dump's model is built
/// once and feeds all three (the same results and first error as the three passes).
pub fn set_metrics_and_checks(
    set: &StatsSet,
    meta: &Metadata,
    exceptions: &CheckExceptions,
    label: &str,
) -> anyhow::Result<SetMetrics> {
    let mut shapes = Shapes::default();
    let mut tables = Vec::with_capacity(set.repeats.len());
    let mut dump_checks = vec![];
    let mut renames: std::collections::BTreeMap<String, Rename> = Default::default();
    for r in &set.repeats {
        let (table, benches) =
            repeat_metrics_with(r, meta, true, &set.path, &mut shapes, Some(exceptions))
                .with_context(|| format!("repeat {}", r.name))?;
        tables.push(table);
        for (checks, dump_renames) in benches {
            dump_checks.extend(checks);
            for rename in dump_renames {
                renames.entry(rename.from.clone()).or_insert(rename);
            }
        }
    }
    Ok(SetMetrics {
        tables,
        checks: crate::gate::check::set_report(set, exceptions, label, dump_checks),
        renames: renames.into_values().collect(),
    })
}

/// Metrics of every repeat of a set, as tables keyed by full names.
pub fn set_metrics(
    set: &StatsSet,
    meta: &Metadata,
    per_benchmark: bool,
) -> anyhow::Result<Vec<MetricTable>> {
    Ok(set_repeat_metrics(set, meta, per_benchmark)?
        .iter()
        .map(RepeatMetrics::to_table)
        .collect())
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
        MetricKind::PerMillion => crate::text::group_fixed(v, 1),
        MetricKind::Count => {
            if v.fract() == 0.0 {
                crate::text::group_fixed(v, 0)
            } else {
                crate::text::group_fixed(v, 1)
            }
        }
    }
}

/// Formats a difference: percentage points for ratios.
pub fn format_delta(kind: MetricKind, d: f64) -> String {
    let sign = if d > 0.0 { "+" } else { "" };
    match kind {
        MetricKind::Ratio => format!("{sign}{:.2} pp", d * 100.0),
        _ => format!("{sign}{}", format_value(kind, d)),
    }
}

/// Metric name with its benchmark, when per-benchmark.
pub fn metric_label(metric: &str, bench: &Option<String>) -> String {
    match bench {
        Some(b) => format!("{metric} [{b}]"),
        None => metric.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::raw::counters_of as counters;

    #[test]
    fn one_number_format_with_separators_and_fixed_decimals() {
        assert_eq!(format_value(MetricKind::Count, 1310759.3), "1,310,759.3");
        assert_eq!(format_delta(MetricKind::Count, 713204.0), "+713,204");
        assert_eq!(format_delta(MetricKind::PerMillion, -12345.67), "-12,345.7");
        assert_eq!(format_delta(MetricKind::Ratio, 0.0123), "+1.23 pp");
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
        let m = compute(&c, &meta).unwrap();
        assert_eq!(m["family.LOAD_ATTR.miss_ratio"].value(), 0.1);
        assert_eq!(m["family.LOAD_ATTR.hit_ratio"].value(), 0.8);
        assert_eq!(m["family.LOAD_ATTR.deferred_ratio"].value(), 0.05);
        assert_eq!(m["family.LOAD_ATTR.success_ratio"].value(), 0.75);
        assert_eq!(m["family.LOAD_ATTR.attempts"].num, 4.0);
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
        use crate::stats::model::family_of;
        let bases = ["CALL", "CALL_KW"];
        assert_eq!(family_of("CALL_KW_PY", &bases), Some("CALL_KW"));
        assert_eq!(family_of("CALL_PY_EXACT_ARGS", &bases), Some("CALL"));
        assert_eq!(family_of("CALL", &bases), None);
    }

    /// The example: a saturated hit counter plus a miss neither wraps nor makes a
    /// ratio above 100%, and a ratio with nothing to divide by is absent.
    #[test]
    fn huge_counters_and_zero_denominators() {
        let c = counters(&format!(
            "opcode[LOAD_ATTR].specializable : 1\nopcode[LOAD_ATTR].specialization.hit : {}\n\
             opcode[LOAD_ATTR].specialization.miss : 5\n",
            u64::MAX
        ));
        let m = compute(&c, &Metadata::embedded("3.13").unwrap()).unwrap();
        let r = m["family.LOAD_ATTR.hit_ratio"].value();
        assert!(r > 0.99 && r <= 1.0, "{r}");
        assert!(!m.contains_key("family.LOAD_ATTR.success_ratio"));
        assert!(!m.contains_key("effectiveness.basic_share"));
        assert!(!m.keys().any(|k| k.ends_with(PER_MILLION_SUFFIX)));
    }

    /// Free-threading counters as 3.14 prints them (`print_ft_stats`).
    #[test]
    fn free_threading_counters() {
        let c = counters(
            "Mutex sleeps (mutex_sleeps): 3\nQSBR polls (qsbr_polls): 4\nWorld stops (world_stops): 5\n",
        );
        let m = compute(&c, &Metadata::embedded("3.14").unwrap()).unwrap();
        assert_eq!(m["ft.mutex_sleeps"].num, 3.0);
        assert_eq!(m["ft.qsbr_polls"].num, 4.0);
        assert_eq!(m["ft.world_stops"].num, 5.0);
    }

    /// The compact tables hold exactly what one string-keyed table per repeat held: the
    /// aggregate, then `bench.<name>.<metric>` per benchmark in order (later entries with the
    /// same full name replacing earlier ones), and the union lists every name once in
    /// first-seen order. Dotted benchmark names (`a` and `a.b`) take the careful path.
    #[test]
    fn compact_tables_match_string_keyed_tables() {
        let meta = Metadata::embedded("3.13").unwrap();
        for dotted in [false, true] {
            let mut set = crate::stats::set::real_fixture("aa-base");
            if dotted {
                for r in &mut set.repeats {
                    let dumps: Vec<_> = r.benchmarks.values().cloned().collect();
                    r.benchmarks = ["a", "a.b"]
                        .iter()
                        .map(|n| n.to_string())
                        .zip(dumps)
                        .collect();
                }
            }
            let compact = set_repeat_metrics(&set, &meta, true).unwrap();
            for (r, t) in set.repeats.iter().zip(&compact) {
                let mut naive =
                    from_model(&Model::build(&r.totals().unwrap(), &meta).unwrap()).unwrap();
                for (bench, dump) in &r.benchmarks {
                    for (name, v) in compute(&dump.counters, &meta).unwrap() {
                        naive.insert(format!("{BENCH_PREFIX}{bench}.{name}"), v);
                    }
                }
                let table = t.to_table();
                assert_eq!(
                    table.iter().collect::<Vec<_>>(),
                    naive.iter().collect::<Vec<_>>()
                );
                for (name, v) in &naive {
                    assert_eq!(t.get(name), Some(*v), "{name}");
                }
                assert_eq!(t.get("bench.nosuch.total.instructions"), None);
            }
            let mut naive_union: IndexMap<String, MetricKind> = IndexMap::new();
            for t in &compact {
                for (n, v) in t.to_table() {
                    naive_union.entry(n).or_insert(v.kind);
                }
            }
            let union: Vec<(String, MetricKind)> = union_of(&compact)
                .iter()
                .map(|e| (e.name().into_owned(), e.like.kind))
                .collect();
            assert_eq!(union, naive_union.into_iter().collect::<Vec<_>>());
            for e in union_of(&compact).iter() {
                let name = e.name();
                let (b, m) = e.split();
                assert_eq!((b.as_deref(), m.as_ref()), split_bench(&name));
            }
        }
    }

    #[test]
    fn real_fixture_catalogue() {
        let set = crate::stats::set::real_fixture("aa-base");
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

//! The stats model: one typed reading of a dump's counters, after version normalization, shared by summary, metrics and check.
//!
//! Built once per benchmark dump, per repeat, or per set total, from raw [`Counters`]:
//!
//! 1. **Normalization** to the 3.13 naming (the reference version: the real data, the real
//!    script and the shipped rules use it): 3.12's numeric opcode ids become names; 3.14+
//!    instruction renames (`BINARY_OP_SUBSCR_*` -> `BINARY_SUBSCR_*`) and counter renames
//!    (`Object mortal increfs` -> `Object increfs`, 3.12's `Object new values` -> `Object
//!    inline values`, ...) are undone. Every rename applied is recorded in [`Model::renames`].
//!    A dump mixing numeric and named opcode ids is an input error ([`ModelError`]).
//! 2. **Grouping** exactly like summarize_stats.py's `get_opcode_stats`: `PREFIX[NAME].field`
//!    by NAME. Two distinct keys naming the same field (`opcode[X].execution_count` and
//!    `opcode[X]..execution_count`) do not add: the last one in key order wins, as the
//!    script's `opcode_stats[name][rest.strip(".")] = value` does. Identical keys (after
//!    trimming) add up at parse time, as the script's `stats[key.strip()] += int(value)`.
//! 3. **Typed numbers**: families, effectiveness, calls, objects, GC, the Tier 2 optimizer,
//!    JIT, rare events, free-threading counters and unknown keys. Sums are u128/i128, never
//!    wrapping; ratios with a zero denominator are `None`.

use crate::stats::metadata::Metadata;
use crate::stats::raw::Counters;
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Fields of one `PREFIX[NAME].field` group, in first-seen order.
/// Names are slices of the counters' interned keys: no allocation per field.
pub type Fields = IndexMap<&'static str, u64>;
/// Groups by NAME, in first-seen order.
pub type Groups = IndexMap<&'static str, Fields>;

/// Instructions renamed between versions: (name in the dump, 3.13 name, version of the dump's name).
/// 3.14 folded BINARY_SUBSCR into BINARY_OP; its specializations kept their suffixes.
pub const INSTRUCTION_RENAMES: &[(&str, &str, &str)] = &[
    ("BINARY_OP_SUBSCR_DICT", "BINARY_SUBSCR_DICT", "3.14"),
    ("BINARY_OP_SUBSCR_GETITEM", "BINARY_SUBSCR_GETITEM", "3.14"),
    (
        "BINARY_OP_SUBSCR_LIST_INT",
        "BINARY_SUBSCR_LIST_INT",
        "3.14",
    ),
    ("BINARY_OP_SUBSCR_STR_INT", "BINARY_SUBSCR_STR_INT", "3.14"),
    (
        "BINARY_OP_SUBSCR_TUPLE_INT",
        "BINARY_SUBSCR_TUPLE_INT",
        "3.14",
    ),
];

/// Counters renamed between versions: (name in the dump, 3.13 name, version of the dump's name).
/// 3.14 counts immortal increfs apart (new `... immortal ...` keys, kept as they are); its
/// `mortal` counters are what 3.13 counted (3.13 returns before counting immortal objects).
pub const COUNTER_RENAMES: &[(&str, &str, &str)] = &[
    ("Object mortal increfs", "Object increfs", "3.14"),
    ("Object mortal decrefs", "Object decrefs", "3.14"),
    (
        "Object interpreter mortal increfs",
        "Object interpreter increfs",
        "3.14",
    ),
    (
        "Object interpreter mortal decrefs",
        "Object interpreter decrefs",
        "3.14",
    ),
    ("Object new values", "Object inline values", "3.12"),
];

/// One rename applied while normalizing.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Rename {
    pub from: String,
    pub to: String,
    /// Why: `3.12 opcode numbering`, `3.14 name`, ...
    pub why: String,
}

/// Why a model could not be built: bad input, to be reported with its file and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// Numeric (3.12) and named (3.13+) opcode ids in one dump or set.
    MixedKeyStyles { numeric: String, named: String },
    /// Two keys renamed onto one overflowed when added.
    Overflow(String),
    /// Two different counters become this one metric name (their names differ only in
    /// case, spaces or punctuation).
    NameClash(String),
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelError::MixedKeyStyles { numeric, named } => write!(
                f,
                "mixes numeric (3.12) and named (3.13+) opcode ids: `{numeric}` and `{named}`"
            ),
            ModelError::Overflow(m) => f.write_str(m),
            ModelError::NameClash(name) => write!(
                f,
                "two different counters both become metric `{name}` (their names differ only in case, spaces or punctuation), so one value would be lost"
            ),
        }
    }
}

/// Counters renamed to the 3.13 naming, with the renames applied.
#[derive(Clone, Debug, Default)]
pub struct Normalized {
    pub counters: Counters,
    pub renames: Vec<Rename>,
}

fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// The opcode id of an `opcode[ID]...` key.
fn opcode_id(key: &str) -> Option<&str> {
    key.strip_prefix("opcode[")?.split(']').next()
}

/// The longest prefix shared by every [`INSTRUCTION_RENAMES`] source name: a key without it
/// contains none of them, so one search per key replaces one per rename (a model is built
/// per dump, ~250 keys each, tens of thousands of dumps).
fn rename_prefix() -> &'static memchr::memmem::Finder<'static> {
    static PREFIX: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
        std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let mut prefix: &'static str = INSTRUCTION_RENAMES.first().map_or("", |r| r.0);
        for (from, _, _) in INSTRUCTION_RENAMES {
            let common = prefix
                .bytes()
                .zip(from.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            prefix = &prefix[..common];
        }
        memchr::memmem::Finder::new(prefix)
    })
}

/// Renames `counters` to the 3.13 naming. `meta` gives 3.12's numbering (the embedded 3.12
/// table when `meta` has none).
pub fn normalize(counters: &Counters, meta: &Metadata) -> Result<Normalized, ModelError> {
    let (numeric, renamed_any) = key_styles(counters)?;
    if !numeric && !renamed_any {
        return Ok(Normalized {
            counters: counters.clone(),
            renames: vec![],
        });
    }
    let fallback;
    let opnames: &[String] = if numeric && meta.opnames.is_empty() {
        fallback = Metadata::embedded("3.12")
            .map(|m| m.opnames)
            .unwrap_or_default();
        &fallback
    } else {
        &meta.opnames
    };
    let mut renamer = Renamer {
        opnames,
        renames: BTreeMap::new(),
    };
    let mut out = Counters::new();
    let mut counter_renames: Vec<Rename> = vec![];
    for (key, value) in counters.iter() {
        let new_key = renamer.key(key, &mut counter_renames);
        out.add(&new_key, value).map_err(|o| {
            ModelError::Overflow(format!(
                "counter {} overflows 64 bits when renamed keys are added ({} + {})",
                o.key, o.current, o.added
            ))
        })?;
    }
    let mut renames = renamer.renames;
    for r in counter_renames {
        renames.insert(r.from.clone(), r);
    }
    Ok(Normalized {
        counters: out,
        renames: renames.into_values().collect(),
    })
}

/// Whether `counters` uses numeric (3.12) opcode ids, and whether any key has an old name;
/// numeric and named ids together are an error.
fn key_styles(counters: &Counters) -> Result<(bool, bool), ModelError> {
    let (mut numeric, mut named) = (None, None);
    let mut renamed_any = false;
    for key in counters.keys() {
        if let Some(id) = opcode_id(key) {
            let slot = if is_numeric_id(id) {
                &mut numeric
            } else {
                &mut named
            };
            slot.get_or_insert_with(|| key.to_string());
        }
        if !renamed_any {
            renamed_any = COUNTER_RENAMES.iter().any(|(f, _, _)| *f == key)
                || (rename_prefix().find(key.as_bytes()).is_some()
                    && INSTRUCTION_RENAMES.iter().any(|(f, _, _)| key.contains(f)));
        }
    }
    if let (Some(numeric), Some(named)) = (&numeric, &named) {
        return Err(ModelError::MixedKeyStyles {
            numeric: numeric.clone(),
            named: named.clone(),
        });
    }
    Ok((numeric.is_some(), renamed_any))
}

/// [`normalize`]'s renaming of instruction names and ids, recording each rename once.
struct Renamer<'a> {
    opnames: &'a [String],
    renames: BTreeMap<String, Rename>,
}

impl Renamer<'_> {
    /// The 3.13 name of an instruction name or 3.12 numeric id.
    fn name(&mut self, name: &str) -> String {
        if is_numeric_id(name) {
            let found = name
                .parse::<usize>()
                .ok()
                .and_then(|n| self.opnames.get(n))
                .filter(|s| !s.is_empty());
            if let Some(to) = found {
                // One entry for all ids: the table is 3.12's numbering, not a list of names.
                self.renames
                    .entry("opcode[<id>]".into())
                    .or_insert_with(|| Rename {
                        from: "opcode[<id>]".into(),
                        to: "opcode[<name>]".into(),
                        why: "3.12 opcode numbering".into(),
                    });
                return to.clone();
            }
        } else if let Some((from, to, since)) = instruction_rename(name) {
            self.renames
                .entry(from.to_string())
                .or_insert_with(|| Rename {
                    from: from.to_string(),
                    to: to.to_string(),
                    why: format!("{since} instruction name"),
                });
            return to.to_string();
        }
        name.to_string()
    }

    /// The 3.13 form of counter `key`; counter renames are pushed to `counter_renames`.
    fn key(&mut self, key: &str, counter_renames: &mut Vec<Rename>) -> String {
        if let Some(rest) = key.strip_prefix("opcode[") {
            match rest.split_once(']') {
                Some((id, tail)) => {
                    let tail = match tail
                        .split_once("pair_count[")
                        .and_then(|(pre, t)| Some((pre, t.split_once(']')?)))
                    {
                        Some((pre, (j, post))) => {
                            format!("{pre}pair_count[{}]{post}", self.name(j))
                        }
                        None => tail.to_string(),
                    };
                    format!("opcode[{}]{tail}", self.name(id))
                }
                None => key.to_string(),
            }
        } else if let Some((from, to, since)) = COUNTER_RENAMES.iter().find(|(f, _, _)| *f == key) {
            counter_renames.push(Rename {
                from: from.to_string(),
                to: to.to_string(),
                why: format!("{since} counter name"),
            });
            to.to_string()
        } else {
            key.to_string()
        }
    }
}

fn instruction_rename(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    INSTRUCTION_RENAMES
        .iter()
        .find(|(from, _, _)| *from == name)
        .copied()
}

/// The 3.13 name of instruction `name` (identity for names that were never renamed).
pub fn canonical_instruction(name: &str) -> &str {
    instruction_rename(name)
        .map(|(_, to, _)| to)
        .unwrap_or(name)
}

/// Python's `s[n:]` for a prefix length `n` counted in code points (never panics).
pub(crate) fn skip_chars(s: &str, n: usize) -> &str {
    let mut it = s.chars();
    for _ in 0..n {
        if it.next().is_none() {
            return "";
        }
    }
    it.as_str()
}

/// summarize_stats.py's `get_opcode_stats(prefix)`: keys starting with `prefix`, grouped by
/// the text between the character after it and the first `]`; the last key wins per field.
pub fn group(counters: &Counters, prefix: &str) -> Groups {
    let mut names = Groups::new();
    for (key, value) in counters.iter() {
        if !key.starts_with(prefix) {
            continue;
        }
        let after = skip_chars(key, prefix.len() + 1);
        let (name, rest) = after.split_once(']').unwrap_or((after, ""));
        let rest = rest.trim_matches('.');
        names.entry(name).or_default().insert(rest, value);
    }
    names
}

/// One row of an execution count table (`get_execution_counts`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExecutionCount<'a> {
    pub name: &'a str,
    pub count: u64,
    /// `specialization.miss` of a non-adaptive instruction, when it has one.
    pub miss: Option<u64>,
}

/// The names of `groups` with an `execution_count`, in order, with their misses (adaptive
/// `specializable` instructions have none: their misses belong to the family).
pub fn execution_counts(groups: &Groups) -> Vec<ExecutionCount<'_>> {
    groups
        .iter()
        .filter_map(|(name, g)| {
            let count = *g.get("execution_count")?;
            let miss = if g.contains_key("specializable") {
                None
            } else {
                g.get("specialization.miss").copied()
            };
            Some(ExecutionCount { name, count, miss })
        })
        .collect()
}

fn field(f: &Fields, key: &str) -> u64 {
    f.get(key).copied().unwrap_or(0)
}

/// A ratio; `None` when the denominator is zero.
pub fn ratio(num: impl Into<i128>, den: impl Into<i128>) -> Option<f64> {
    let (num, den) = (num.into(), den.into());
    (den != 0).then(|| num as f64 / den as f64)
}

/// One `specialization.failure_kinds[N]` counter of a family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailureKind {
    pub index: u64,
    /// The SPEC_FAIL define's name as summarize_stats.py's `kind_to_text` picks it.
    pub define: Option<String>,
    pub count: u64,
}

/// A specialization family: the adaptive base instruction's counters and its members'.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Family {
    pub name: String,
    /// Specialized instructions of the family (3.13 names).
    pub members: Vec<String>,
    pub hit: u64,
    pub miss: u64,
    pub deferred: u64,
    pub deopt: u64,
    pub success: u64,
    pub failure: u64,
    pub execution_count: u64,
    /// hit + miss + execution_count (summarize_stats.py's `get_specialization_total`).
    pub total: u128,
    /// Nonzero failure kinds, by index (summarize_stats.py drops zero kinds).
    pub failure_kinds: Vec<FailureKind>,
    /// Sum of the members' execution counts and misses.
    pub member_executions: u128,
    pub member_misses: u128,
    /// The family has any `specialization.*` field.
    pub has_specialization_fields: bool,
}

impl Family {
    pub fn failure_kind_sum(&self) -> u128 {
        self.failure_kinds.iter().map(|k| u128::from(k.count)).sum()
    }
    /// success / (success + failure).
    pub fn success_ratio(&self) -> Option<f64> {
        ratio(
            self.success,
            i128::from(self.success) + i128::from(self.failure),
        )
    }
}

/// Tier 1 effectiveness split (summarize_stats.py's `get_specialized_total_counts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effectiveness {
    pub basic: u128,
    pub not_specialized: u128,
    /// Executions minus misses of specialized instructions (negative when misses exceed them).
    pub specialized_hits: i128,
    pub specialized_misses: u128,
    /// Every Tier 1 instruction executed (`get_total_execution_count`).
    pub total: u128,
}

/// One row of summarize_stats.py's call stats table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallStat {
    /// The counter key.
    pub key: String,
    /// `Calls via PyEval_EvalFrame[3]`: the EVAL_CALL define of the index (`3`), if known.
    pub define: Option<String>,
    pub value: u64,
}

/// One `Object ...` counter with its ratio's denominator (`get_object_stats`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectStat {
    pub key: String,
    pub value: u64,
    pub den: Option<u128>,
}

/// One `NAME[N]` histogram (trace lengths), buckets sorted by upper bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    pub name: &'static str,
    /// The counter whose value the buckets are shares of.
    pub den_key: &'static str,
    pub buckets: Vec<(u128, u64)>,
}

impl Histogram {
    pub fn total(&self) -> u128 {
        self.buckets.iter().map(|(_, v)| u128::from(*v)).sum()
    }
    /// The smallest bucket bound below which at least `p` (0..=1) of the entries lie.
    pub fn percentile(&self, p: f64) -> Option<u128> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let want = (p * total as f64).ceil().max(1.0);
        let mut seen: u128 = 0;
        for (bound, v) in &self.buckets {
            seen += u128::from(*v);
            if seen as f64 >= want {
                return Some(*bound);
            }
        }
        self.buckets.last().map(|(b, _)| *b)
    }
}

/// The histograms summarize_stats.py shows, with their denominators.
pub const HISTOGRAMS: [(&str, &str); 3] = [
    ("Trace length", "Optimization traces created"),
    ("Optimized trace length", "Optimization traces created"),
    ("Trace run length", "Optimization traces executed"),
];

/// Tier 2 optimizer counters (present when the dump has `Optimization attempts`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Optimizer {
    /// `Optimization *`, `Optimizer *` and `Executors *` counters, in key order.
    pub counters: Fields,
    pub histograms: Vec<Histogram>,
    /// `uops[NAME].field`.
    pub uops: Groups,
    /// `uop[A].pair_count[B]` (grouped like the script: by the prefix `uop`).
    pub uop_pairs: Groups,
    /// `unsupported_opcode[X].count` and `error_in_opcode[X].count`.
    pub unsupported: Groups,
    pub errors: Groups,
}

impl Optimizer {
    pub fn get(&self, key: &str) -> u64 {
        field(&self.counters, key)
    }
}

/// Where a counter belongs, by its key (one classification for every reader).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Opcode,
    Call,
    Frame,
    Object,
    Gc,
    Optimizer,
    Uop,
    Histogram,
    Jit,
    Rare,
    FreeThreading,
    Unknown,
}

/// Free-threading counters (`--disable-gil` builds): `Mutex sleeps (mutex_sleeps)`, ...
const FREE_THREADING_PREFIXES: [&str; 3] = ["Mutex ", "QSBR ", "World stops"];

/// Classifies a (normalized) counter key.
pub fn kind_of(key: &str) -> Kind {
    if key.starts_with("opcode[") {
        Kind::Opcode
    } else if key.contains("Calls to") || key.starts_with("Calls ") {
        Kind::Call
    } else if key.starts_with("Frame") {
        Kind::Frame
    } else if key.starts_with("Object") {
        Kind::Object
    } else if key.starts_with("GC[") {
        Kind::Gc
    } else if key.starts_with("Rare event ") {
        Kind::Rare
    } else if key.starts_with("JIT ") {
        Kind::Jit
    } else if key.starts_with("uops[")
        || key.starts_with("uop[")
        || key.starts_with("unsupported_opcode[")
        || key.starts_with("error_in_opcode[")
    {
        Kind::Uop
    } else if histogram_key(key).is_some() {
        Kind::Histogram
    } else if key.starts_with("Optimiz") || key.starts_with("Executors") {
        Kind::Optimizer
    } else if FREE_THREADING_PREFIXES.iter().any(|p| key.starts_with(p)) {
        Kind::FreeThreading
    } else {
        Kind::Unknown
    }
}

/// `Trace length[16]` -> ("Trace length", 16), for the known histograms.
pub fn histogram_key(key: &str) -> Option<(&'static str, u128)> {
    let (name, _) = HISTOGRAMS
        .iter()
        .find(|(h, _)| key.strip_prefix(h).is_some_and(|r| r.starts_with('[')))?;
    let rest = &key[name.len() + 1..];
    let n = rest.bytes().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || !rest[n..].starts_with(']') {
        return None;
    }
    Some((name, rest[..n].parse().ok()?))
}

/// Everything one dump (or a sum of dumps) says, normalized and typed.
#[derive(Clone, Debug)]
pub struct Model {
    /// Normalized counters, every key kept.
    pub counters: Counters,
    pub renames: Vec<Rename>,
    /// `opcode[NAME].field` groups.
    pub opcodes: Groups,
    /// Specialized instruction names (3.13 names) of the metadata used.
    pub specialized: std::sync::Arc<std::collections::HashSet<String>>,
    pub families: Vec<Family>,
    pub effectiveness: Effectiveness,
    /// Call stats in summarize_stats.py's order (`Calls*` sorted, then `Frame*` sorted).
    pub calls: Vec<CallStat>,
    /// Sum of the `Calls to` counters (the call table's denominator).
    pub calls_to_total: u128,
    pub objects: Vec<ObjectStat>,
    /// `GC[n] name` by generation (generations 0..=64).
    pub gc: Vec<Fields>,
    pub optimizer: Option<Optimizer>,
    pub jit: Vec<(String, u64)>,
    pub rare_events: Vec<(String, u64)>,
    pub free_threading: Vec<(String, u64)>,
    /// Counters no table knows: kept, never dropped.
    pub unknown: Vec<(String, u64)>,
}

/// The 3.13 names of `meta`'s specialized instructions. A set's dumps all use one
/// metadata: each thread keeps the last set made (a model is built per dump).
fn specialized_set(meta: &Metadata) -> std::sync::Arc<std::collections::HashSet<String>> {
    type Cached = (
        Vec<String>,
        std::sync::Arc<std::collections::HashSet<String>>,
    );
    thread_local! {
        static LAST: std::cell::RefCell<Option<Cached>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if let Some((names, set)) = last.as_ref() {
            if *names == meta.specialized_instructions {
                return set.clone();
            }
        }
        let set: std::sync::Arc<std::collections::HashSet<String>> = std::sync::Arc::new(
            meta.specialized_instructions
                .iter()
                .map(|s| canonical_instruction(s).to_string())
                .collect(),
        );
        *last = Some((meta.specialized_instructions.clone(), set.clone()));
        set
    })
}

impl Model {
    /// Normalizes and reads `counters` with `meta`.
    pub fn build(counters: &Counters, meta: &Metadata) -> Result<Model, ModelError> {
        let Normalized { counters, renames } = normalize(counters, meta)?;
        let opcodes = group(&counters, "opcode");
        let specialized = specialized_set(meta);
        let families = families(&opcodes, meta);
        let effectiveness = effectiveness(&opcodes, &specialized);
        let (calls, calls_to_total) = calls(&counters, meta);
        let objects = objects(&counters);
        let gc = gc(&counters);
        let optimizer = counters
            .contains("Optimization attempts")
            .then(|| optimizer(&counters));
        let mut m = Model {
            renames,
            opcodes,
            specialized,
            families,
            effectiveness,
            calls,
            calls_to_total,
            objects,
            gc,
            optimizer,
            jit: vec![],
            rare_events: vec![],
            free_threading: vec![],
            unknown: vec![],
            counters: Counters::new(),
        };
        for (key, value) in counters.iter() {
            let slot = match kind_of(key) {
                Kind::Jit => &mut m.jit,
                Kind::Rare => &mut m.rare_events,
                Kind::FreeThreading => &mut m.free_threading,
                Kind::Unknown => &mut m.unknown,
                Kind::Optimizer | Kind::Histogram | Kind::Uop if m.optimizer.is_none() => {
                    &mut m.unknown
                }
                _ => continue,
            };
            slot.push((key.to_string(), value));
        }
        m.counters = counters;
        Ok(m)
    }

    pub fn get(&self, key: &str) -> u64 {
        self.counters.get(key)
    }

    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    pub fn is_specialized(&self, name: &str) -> bool {
        self.specialized.contains(name)
    }
}

/// The family `inst` belongs to: the longest specializable base that prefixes it.
pub fn family_of<'a>(inst: &str, bases: &[&'a str]) -> Option<&'a str> {
    bases
        .iter()
        .filter(|b| {
            inst.len() > b.len() && inst.starts_with(*b) && inst.as_bytes()[b.len()] == b'_'
        })
        .max_by_key(|b| b.len())
        .copied()
}

/// Every opcode marked `specializable`, sorted, with its members. A renamed member whose
/// 3.13 family is absent (3.14's `BINARY_OP_SUBSCR_*` without BINARY_SUBSCR) stays in the
/// family of its own version's name.
fn families(opcodes: &Groups, meta: &Metadata) -> Vec<Family> {
    let mut bases: Vec<&str> = opcodes
        .iter()
        .filter(|(_, g)| g.contains_key("specializable"))
        .map(|(n, _)| *n)
        .collect();
    bases.sort();
    let mut members: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for inst in &meta.specialized_instructions {
        let canonical = canonical_instruction(inst);
        if let Some(base) = family_of(canonical, &bases).or_else(|| family_of(inst, &bases)) {
            members.entry(base).or_default().push(canonical.to_string());
        }
    }
    bases
        .iter()
        .map(|&base| {
            let g = &opcodes[base];
            let members = members.remove(base).unwrap_or_default();
            let (mut member_executions, mut member_misses) = (0u128, 0u128);
            for m in &members {
                if let Some(mg) = opcodes.get(m.as_str()) {
                    member_executions += u128::from(field(mg, "execution_count"));
                    member_misses += u128::from(field(mg, "specialization.miss"));
                }
            }
            let (hit, miss, exec) = (
                field(g, "specialization.hit"),
                field(g, "specialization.miss"),
                field(g, "execution_count"),
            );
            let total = specialization_total(g);
            Family {
                name: base.to_string(),
                hit,
                miss,
                deferred: field(g, "specialization.deferred"),
                deopt: field(g, "specialization.deopt"),
                success: field(g, "specialization.success"),
                failure: field(g, "specialization.failure"),
                execution_count: exec,
                total,
                failure_kinds: failure_kinds(g, base, meta),
                member_executions,
                member_misses,
                has_specialization_fields: g.keys().any(|k| k.starts_with("specialization.")),
                members,
            }
        })
        .collect()
}

/// summarize_stats.py's `get_specialization_total`: hit + miss + execution_count of a name.
pub fn specialization_total(g: &Fields) -> u128 {
    [
        "specialization.hit",
        "specialization.miss",
        "execution_count",
    ]
    .iter()
    .map(|k| u128::from(field(g, k)))
    .sum()
}

/// summarize_stats.py's `get_specialization_failure_kinds`: the index between `[` and the
/// last character, zero kinds dropped, sorted by index.
fn failure_kinds(g: &Fields, family: &str, meta: &Metadata) -> Vec<FailureKind> {
    let mut kinds: BTreeMap<u64, u64> = BTreeMap::new();
    for (key, &value) in g {
        if !key.starts_with("specialization.failure_kind") {
            continue;
        }
        let inner = key.strip_suffix(']').unwrap_or(key);
        if let Some(index) = inner
            .split('[')
            .nth(1)
            .and_then(|i| i.trim().parse::<u64>().ok())
        {
            kinds.insert(index, value);
        }
    }
    kinds
        .into_iter()
        .filter(|(_, v)| *v != 0)
        .map(|(index, count)| FailureKind {
            index,
            define: crate::stats::metadata::failure_kind_define(&meta.defines, index, family)
                .map(str::to_string),
            count,
        })
        .collect()
}

fn effectiveness(
    opcodes: &Groups,
    specialized: &std::collections::HashSet<String>,
) -> Effectiveness {
    let mut e = Effectiveness::default();
    for (name, g) in opcodes {
        let Some(&count) = g.get("execution_count") else {
            continue;
        };
        let count = u128::from(count);
        e.total += count;
        if g.contains_key("specializable") {
            e.not_specialized += count;
        } else if specialized.contains(*name) {
            let miss = field(g, "specialization.miss");
            e.specialized_hits += count as i128 - i128::from(miss);
            e.specialized_misses += u128::from(miss);
        } else {
            e.basic += count;
        }
    }
    e
}

fn calls(counters: &Counters, meta: &Metadata) -> (Vec<CallStat>, u128) {
    // Only the keys the tables read, sorted (a dump's keys are distinct, so the order is
    // that of sorting them all).
    let mut sorted: Vec<(&str, u64)> = counters
        .iter()
        .filter(|(k, _)| {
            k.contains("Calls to") || k.starts_with("Calls ") || k.starts_with("Frame")
        })
        .collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = vec![];
    let mut total = 0u128;
    for &(key, value) in &sorted {
        if key.contains("Calls to") {
            total += u128::from(value);
            out.push(CallStat {
                key: key.to_string(),
                define: None,
                value,
            });
        } else if key.starts_with("Calls ") {
            let define = key
                .strip_suffix(']')
                .and_then(|k| k.split_once('['))
                .filter(|(_, idx)| !idx.contains('['))
                .and_then(|(_, idx)| {
                    meta.stats_defines
                        .get(&idx.trim().parse::<u32>().ok()?)?
                        .first()
                        .cloned()
                });
            out.push(CallStat {
                key: key.to_string(),
                define,
                value,
            });
        }
    }
    for &(key, value) in &sorted {
        if key.starts_with("Frame") {
            out.push(CallStat {
                key: key.to_string(),
                define: None,
                value,
            });
        }
    }
    (out, total)
}

/// `get_object_stats`: every `Object*` counter with its denominator. 3.14's immortal
/// increfs/decrefs join the denominators as its script does.
fn objects(d: &Counters) -> Vec<ObjectStat> {
    let sum = |keys: &[&str]| keys.iter().map(|k| u128::from(d.get(k))).sum::<u128>();
    let materializations = sum(&["Object inline values"]);
    let allocations = sum(&["Object allocations", "Object allocations from freelist"]);
    let increfs = sum(&[
        "Object interpreter increfs",
        "Object increfs",
        "Object interpreter immortal increfs",
        "Object immortal increfs",
    ]);
    let decrefs = sum(&[
        "Object interpreter decrefs",
        "Object decrefs",
        "Object interpreter immortal decrefs",
        "Object immortal decrefs",
    ]);
    d.iter()
        .filter(|(k, _)| k.starts_with("Object"))
        .map(|(key, value)| {
            let den = if key.contains("materialize") {
                Some(materializations)
            } else if key.contains("allocations") {
                Some(allocations)
            } else if key.contains("increfs") {
                Some(increfs)
            } else if key.contains("decrefs") {
                Some(decrefs)
            } else {
                None
            };
            ObjectStat {
                key: key.to_string(),
                value,
                den,
            }
        })
        .collect()
}

/// `get_gc_stats`: `GC[n] name` by generation, first-seen name order, last key wins.
fn gc(data: &Counters) -> Vec<Fields> {
    let mut gens: Vec<Fields> = vec![];
    for (key, value) in data.iter() {
        if !key.starts_with("GC") {
            continue;
        }
        let after = skip_chars(key, 3);
        let (n, rest) = after.split_once(']').unwrap_or((after, ""));
        let Ok(n) = n.trim().parse::<usize>() else {
            continue;
        };
        if n > 64 {
            continue;
        }
        while gens.len() <= n {
            gens.push(Fields::new());
        }
        gens[n].insert(rest.trim(), value);
    }
    gens
}

fn optimizer(d: &Counters) -> Optimizer {
    let mut o = Optimizer {
        uops: group(d, "uops"),
        uop_pairs: group(d, "uop"),
        unsupported: group(d, "unsupported_opcode"),
        errors: group(d, "error_in_opcode"),
        ..Optimizer::default()
    };
    for (key, value) in d.iter() {
        if kind_of(key) == Kind::Optimizer {
            o.counters.insert(key, value);
        }
    }
    for (name, den_key) in HISTOGRAMS {
        let mut buckets: Vec<(u128, u64)> = d
            .iter()
            .filter_map(|(k, v)| match histogram_key(k) {
                Some((h, n)) if h == name => Some((n, v)),
                _ => None,
            })
            .collect();
        buckets.sort();
        o.histograms.push(Histogram {
            name,
            den_key,
            buckets,
        });
    }
    o
}

/// The renames normalizing `set` applies (over all its repeats), for reports.
pub fn set_renames(set: &crate::stats::set::StatsSet, meta: &Metadata) -> Vec<Rename> {
    let mut all: BTreeMap<String, Rename> = BTreeMap::new();
    for r in &set.repeats {
        for dump in r.benchmarks.values() {
            if let Ok(n) = normalize(&dump.counters, meta) {
                for rename in n.renames {
                    all.entry(rename.from.clone()).or_insert(rename);
                }
            }
        }
    }
    all.into_values().collect()
}

/// One line saying which renames a side was read with (empty when none).
pub fn renames_note(side: &str, renames: &[Rename]) -> Option<String> {
    if renames.is_empty() {
        return None;
    }
    let shown: Vec<String> = renames
        .iter()
        .take(12)
        .map(|r| format!("{} -> {}", r.from, r.to))
        .collect();
    let more = renames.len().saturating_sub(shown.len());
    Some(format!(
        "{side} read in CPython 3.13 names ({} rename(s): {}{}); metrics compare on normalized names",
        renames.len(),
        shown.join(", "),
        if more > 0 { format!(", and {more} more") } else { String::new() }
    ))
}

/// Where in the files of a set the opcode key style first changes: the first line whose
/// `opcode[ID]` style differs from the first one seen (files in sorted order).
pub fn locate_style_change(set_dir: &Path) -> Option<(PathBuf, usize, String)> {
    let mut files = vec![];
    let mut dirs = vec![set_dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "txt") {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut first: Option<bool> = None;
    for f in files {
        let Ok(text) = std::fs::read(&f) else {
            continue;
        };
        for (i, line) in text.split(|b| *b == b'\n').enumerate() {
            let line = String::from_utf8_lossy(line);
            let Some(id) = opcode_id(line.trim_start()) else {
                continue;
            };
            let numeric = is_numeric_id(id);
            match first {
                None => first = Some(numeric),
                Some(n) if n != numeric => return Some((f, i + 1, line.trim().to_string())),
                _ => {}
            }
        }
    }
    None
}

/// A [`ModelError`] as an input error naming, when it can, the file and line in `set_dir`.
pub fn input_error(e: ModelError, set_dir: &Path, scope: &str) -> crate::error::Error {
    use crate::error::Error;
    match &e {
        ModelError::MixedKeyStyles { .. } => match locate_style_change(set_dir) {
            Some((file, line, text)) => Error::at_line(
                &file,
                line,
                format!("`{text}`: {e} in one stats set; re-run with one CPython version"),
            ),
            None => Error::input(format!("{} ({scope}): {e}", set_dir.display())),
        },
        ModelError::Overflow(_) | ModelError::NameClash(_) => {
            Error::input(format!("{} ({scope}): {e}", set_dir.display()))
        }
    }
}

/// Rewrites 3.13-named counters in another version's dump format (the inverse of
/// [`normalize`]), renumbering failure kinds by their SPEC_FAIL name. For the proofs that
/// every format reads the same; kinds without a same-named define in `to` keep their index.
/// Returns the rewrite and the keys `to` cannot express (3.13 instructions 3.12 has no
/// number for), which are left out.
pub fn rewrite_as(counters: &Counters, from: &Metadata, to: &Metadata) -> (Counters, Vec<String>) {
    let v = to.version.as_str();
    let numeric = !to.opnames.is_empty();
    let inexpressible = |name: &str| numeric && !to.opnames.iter().any(|n| n == name);
    let name_of = |name: &str| -> String {
        if numeric {
            if let Some(i) = to.opnames.iter().position(|n| n == name) {
                return i.to_string();
            }
        }
        INSTRUCTION_RENAMES
            .iter()
            .find(|(_, c, since)| *c == name && v >= *since)
            .map(|(f, _, _)| f.to_string())
            .unwrap_or_else(|| name.to_string())
    };
    let mut out = Counters::new();
    let mut dropped = vec![];
    for (key, value) in counters.iter() {
        if let Some(rest) = key.strip_prefix("opcode[") {
            let (id, tail) = rest.split_once(']').unwrap_or((rest, ""));
            let pair = tail
                .split_once("pair_count[")
                .map(|(_, t)| t.split(']').next().unwrap_or(t));
            if inexpressible(id) || pair.is_some_and(inexpressible) {
                dropped.push(key.to_string());
                continue;
            }
        }
        let new_key = if let Some(rest) = key.strip_prefix("opcode[") {
            let (id, tail) = rest.split_once(']').unwrap_or((rest, ""));
            let tail = if let Some((pre, t)) = tail.split_once("pair_count[") {
                let (j, post) = t.split_once(']').unwrap_or((t, ""));
                format!("{pre}pair_count[{}]{post}", name_of(j))
            } else if let Some(k) = tail
                .strip_prefix(".specialization.failure_kinds[")
                .and_then(|k| k.strip_suffix(']'))
                .and_then(|k| k.parse::<u64>().ok())
            {
                let wanted = crate::stats::metadata::failure_kind_define(&from.defines, k, id);
                let mapped = wanted.and_then(|w| {
                    (0..64u64).find(|&n| {
                        crate::stats::metadata::failure_kind_define(&to.defines, n, id) == Some(w)
                    })
                });
                format!(".specialization.failure_kinds[{}]", mapped.unwrap_or(k))
            } else {
                tail.to_string()
            };
            format!("opcode[{}]{tail}", name_of(id))
        } else {
            COUNTER_RENAMES
                .iter()
                .find(|(_, c, since)| *c == key && v == *since)
                .map(|(f, _, _)| f.to_string())
                .unwrap_or_else(|| key.to_string())
        };
        let _ = out.add(&new_key, value);
    }
    (out, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::raw::counters_of as counters;

    #[test]
    fn mixed_key_styles_are_an_error() {
        let meta = Metadata::embedded("3.13").unwrap();
        let c = counters("opcode[LOAD_FAST].execution_count : 3\nopcode[83].execution_count : 1\n");
        let e = Model::build(&c, &meta).unwrap_err();
        assert!(matches!(e, ModelError::MixedKeyStyles { .. }), "{e}");
    }

    #[test]
    fn last_duplicate_field_wins_like_the_script() {
        let meta = Metadata::embedded("3.13").unwrap();
        let c = counters(
            "opcode[LOAD_FAST].execution_count : 3\nopcode[LOAD_FAST]..execution_count : 7\n",
        );
        let m = Model::build(&c, &meta).unwrap();
        assert_eq!(m.effectiveness.total, 7);
        assert_eq!(m.effectiveness.basic, 7);
    }

    #[test]
    fn renames_are_undone_and_listed() {
        let meta = Metadata::embedded("3.14").unwrap();
        let c = counters(
            "opcode[BINARY_OP_SUBSCR_DICT].execution_count : 3\nObject mortal increfs : 4\nObject immortal increfs : 1\n",
        );
        let m = Model::build(&c, &meta).unwrap();
        assert_eq!(m.get("opcode[BINARY_SUBSCR_DICT].execution_count"), 3);
        assert_eq!(m.get("Object increfs"), 4);
        assert_eq!(m.get("Object immortal increfs"), 1);
        assert_eq!(m.renames.len(), 2, "{:?}", m.renames);
        assert!(m.is_specialized("BINARY_SUBSCR_DICT"));
        let inc = m
            .objects
            .iter()
            .find(|o| o.key == "Object increfs")
            .unwrap();
        assert_eq!(inc.den, Some(5));
    }

    #[test]
    fn huge_counters_do_not_wrap() {
        let meta = Metadata::embedded("3.13").unwrap();
        let c = counters(&format!(
            "opcode[LOAD_ATTR].specializable : 1\nopcode[LOAD_ATTR].specialization.hit : {}\nopcode[LOAD_ATTR].specialization.miss : 5\nopcode[LOAD_ATTR].execution_count : {}\n",
            u64::MAX,
            u64::MAX
        ));
        let m = Model::build(&c, &meta).unwrap();
        let f = m.family("LOAD_ATTR").unwrap();
        assert_eq!(f.total, 2 * u128::from(u64::MAX) + 5);
        assert_eq!(f.success_ratio(), None);
    }

    #[test]
    fn histogram_percentiles() {
        let h = Histogram {
            name: "Trace length",
            den_key: "",
            buckets: vec![(4, 1), (8, 2), (16, 1)],
        };
        assert_eq!(h.percentile(0.5), Some(8));
        assert_eq!(h.percentile(0.9), Some(16));
        assert_eq!(h.percentile(0.0), Some(4));
    }
}

//! Consistency checks: invariants real pystats data satisfies, with declared known exceptions.

use crate::error::Error;
use crate::stats::metadata::Metadata;
use crate::stats::model::{Family, Model, Optimizer};
use crate::stats::set::StatsSet;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The shipped known exceptions.
pub const DEFAULT_EXCEPTIONS: &str = include_str!("../../rules/check-exceptions.toml");

/// Every invariant, with what it states.
pub const INVARIANTS: &[(&str, &str)] = &[
    ("effectiveness-sum", "basic + not specialized + specialized hits + specialized misses = total Tier 1 instructions, and no specialized instruction misses more often than it executes"),
    ("family-executions", "per family, the members' execution counts = family hit + miss"),
    ("family-misses", "per family, family miss = sum of the members' misses"),
    ("failure-kinds", "per family, specialization.failure >= sum of failure kinds"),
    ("shares-within-100", "deferred <= hit + miss + execution_count, and every failure kind <= specialization.failure"),
    ("counter-wrap", "no counter is near 2^64 (at or above 2^63): a wrapped or corrupt counter"),
    ("file-counts", "every repeat holds the same benchmarks, and both sides hold the same number of files per repeat"),
    ("traces-created", "tier 2: traces created <= optimization attempts"),
    ("trace-length-histogram", "tier 2: the trace length histogram sums to traces created; the optimized trace length histogram to optimizer successes (to traces created when the optimizer did not run)"),
    ("jit-sizes", "JIT: total memory size = code + trampoline + data + padding sizes"),
];

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckException {
    pub invariant: String,
    #[serde(default)]
    pub family: Option<String>,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckExceptions {
    #[serde(default, rename = "exception")]
    pub exceptions: Vec<CheckException>,
}

impl CheckExceptions {
    pub fn parse(text: &str, file: &str) -> anyhow::Result<CheckExceptions> {
        let ex: CheckExceptions = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1
            });
            match line {
                Some(l) => Error::at_line(file, l, crate::text::cap(e.message())),
                None => Error::input(format!("{file}: {}", crate::text::cap(e.message()))),
            }
        })?;
        for (i, x) in ex.exceptions.iter().enumerate() {
            if !INVARIANTS.iter().any(|(id, _)| *id == x.invariant) {
                return Err(Error::input(format!(
                    "{file}: exception[{i}].invariant: unknown invariant {:?} (known: {})",
                    x.invariant,
                    INVARIANTS
                        .iter()
                        .map(|(id, _)| *id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .into());
            }
            // An exception excuses a violation: like an acceptance, it must say why.
            if x.reason.trim().is_empty() {
                return Err(Error::input(format!(
                    "{file}: exception[{i}].reason: empty; say why real data breaks {:?}",
                    x.invariant
                ))
                .into());
            }
        }
        Ok(ex)
    }
    pub fn load_or_default(path: Option<&Path>) -> anyhow::Result<CheckExceptions> {
        match path {
            None => CheckExceptions::parse(DEFAULT_EXCEPTIONS, "rules/check-exceptions.toml"),
            Some(p) => {
                let text = crate::text::read_input(p)
                    .map_err(|e| Error::input(format!("{}: {e}", p.display())))?;
                CheckExceptions::parse(&text, &p.display().to_string())
            }
        }
    }
    fn find(&self, invariant: &str, family: Option<&str>) -> Option<&CheckException> {
        self.exceptions.iter().find(|x| {
            x.invariant == invariant && (x.family.is_none() || x.family.as_deref() == family)
        })
    }
}

/// One place an invariant does not hold.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// Where: `run-1/attrs`, or `run-1` for repeat-level checks.
    pub scope: String,
    /// The family or counter concerned.
    pub subject: Option<String>,
    /// The offending numbers.
    pub detail: String,
    /// Why this is expected, when a declared exception covers it.
    pub excepted: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Ok,
    /// Violated only where declared exceptions cover it.
    Excepted,
    Violated,
    /// Nothing to check (e.g. no tier-2 counters).
    NotApplicable,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InvariantResult {
    pub id: String,
    pub statement: String,
    pub status: CheckStatus,
    /// How many places were checked.
    pub checked: usize,
    pub violations: Vec<Violation>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckReport {
    /// `base`, `head`, or the set path.
    pub label: String,
    pub set: String,
    pub results: Vec<InvariantResult>,
}

impl CheckReport {
    /// The invariants that ended with `status`.
    pub fn with_status(&self, status: CheckStatus) -> Vec<&InvariantResult> {
        self.results.iter().filter(|r| r.status == status).collect()
    }
    pub fn ok(&self) -> bool {
        self.results
            .iter()
            .all(|r| r.status != CheckStatus::Violated)
    }
    pub fn violated(&self) -> impl Iterator<Item = &InvariantResult> {
        self.results
            .iter()
            .filter(|r| r.status == CheckStatus::Violated)
    }
}

/// What the checks found: counts and violations per invariant ([`INVARIANTS`] order), the
/// violations in the order they were met. One per dump when models are built in parallel
/// ([`DumpChecks`]), added in order so the report is a sequential pass's.
struct Collector<'a> {
    checked: Vec<usize>,
    violations: Vec<(usize, Violation)>,
    exceptions: &'a CheckExceptions,
}

fn invariant_index(id: &str) -> usize {
    INVARIANTS
        .iter()
        .position(|(i, _)| *i == id)
        .expect("known invariant")
}

impl<'a> Collector<'a> {
    fn new(exceptions: &'a CheckExceptions) -> Self {
        Collector {
            checked: vec![0; INVARIANTS.len()],
            violations: vec![],
            exceptions,
        }
    }
    fn checked(&mut self, id: &str) {
        self.checked[invariant_index(id)] += 1;
    }
    fn violation(&mut self, id: &str, scope: &str, subject: Option<&str>, detail: String) {
        let excepted = self.exceptions.find(id, subject).map(|x| x.reason.clone());
        self.violations.push((
            invariant_index(id),
            Violation {
                scope: scope.to_string(),
                subject: subject.map(str::to_string),
                detail,
                excepted,
            },
        ));
    }
    /// Adds one dump's findings after those already collected.
    fn absorb(&mut self, dump: DumpChecks) {
        for (total, n) in self.checked.iter_mut().zip(dump.checked) {
            *total += n;
        }
        self.violations.extend(dump.violations);
    }
    fn finish(self) -> Vec<InvariantResult> {
        let mut results: Vec<InvariantResult> = INVARIANTS
            .iter()
            .zip(self.checked)
            .map(|((id, s), checked)| InvariantResult {
                id: id.to_string(),
                statement: s.to_string(),
                status: CheckStatus::NotApplicable,
                checked,
                violations: vec![],
            })
            .collect();
        for (i, v) in self.violations {
            results[i].violations.push(v);
        }
        for r in &mut results {
            r.status = if r.checked == 0 {
                CheckStatus::NotApplicable
            } else if r.violations.iter().any(|v| v.excepted.is_none()) {
                CheckStatus::Violated
            } else if !r.violations.is_empty() {
                CheckStatus::Excepted
            } else {
                CheckStatus::Ok
            };
        }
        results
    }
}

/// The checks of one dump's model, made where the model is built (see
/// [`crate::gate::metrics::set_metrics_and_checks`]) and added to its set's report in order.
pub struct DumpChecks {
    checked: Vec<usize>,
    violations: Vec<(usize, Violation)>,
}

/// Checks one dump's model; `scope` as [`dump_scope`] names it.
pub fn check_dump(exceptions: &CheckExceptions, scope: &str, model: &Model) -> DumpChecks {
    let mut c = Collector::new(exceptions);
    check_model(&mut c, scope, model);
    DumpChecks {
        checked: c.checked,
        violations: c.violations,
    }
}

/// How check reports name a dump: `run-1/attrs`, or `attrs` in a set without repeats.
pub fn dump_scope(repeat: &str, bench: &str) -> String {
    if repeat == "." {
        bench.to_string()
    } else {
        format!("{repeat}/{bench}")
    }
}

/// Checks one dump's model (one process or one benchmark file). Sums are u128, so a
/// saturated counter is reported, never wrapped into agreement.
fn check_model(c: &mut Collector, scope: &str, model: &Model) {
    if !model.opcodes.is_empty() {
        let eff = &model.effectiveness;
        c.checked("effectiveness-sum");
        let sum = eff.basic as i128
            + eff.not_specialized as i128
            + eff.specialized_hits
            + eff.specialized_misses as i128;
        if sum != eff.total as i128 {
            c.violation(
                "effectiveness-sum",
                scope,
                None,
                format!(
                    "basic {} + not specialized {} + hits {} + misses {} = {sum} != total {}",
                    eff.basic,
                    eff.not_specialized,
                    eff.specialized_hits,
                    eff.specialized_misses,
                    eff.total
                ),
            );
        }
        for e in crate::stats::model::execution_counts(&model.opcodes) {
            let miss = e.miss.unwrap_or(0);
            if model.is_specialized(e.name) && miss > e.count {
                c.violation(
                    "effectiveness-sum",
                    scope,
                    Some(e.name),
                    format!(
                        "{}: misses {miss} > executions {} (negative specialized hits)",
                        e.name, e.count
                    ),
                );
            }
        }
    }
    for fam in &model.families {
        check_family(c, scope, fam);
    }
    c.checked("counter-wrap");
    for (k, v) in model.counters.iter() {
        if v >= 1u64 << 63 {
            c.violation(
                "counter-wrap",
                scope,
                Some(k),
                format!("{k} = {v} (>= 2^63): wrapped or corrupt"),
            );
        }
    }
    if let Some(o) = &model.optimizer {
        check_optimizer(c, scope, o);
    }
    if model.counters.contains("JIT total memory size") {
        c.checked("jit-sizes");
        let total = u128::from(model.get("JIT total memory size"));
        let parts: u128 = [
            "JIT code size",
            "JIT trampoline size",
            "JIT data size",
            "JIT padding size",
        ]
        .iter()
        .map(|k| u128::from(model.get(k)))
        .sum();
        if parts != total {
            c.violation(
                "jit-sizes",
                scope,
                None,
                format!(
                    "JIT total memory size {total} != code + trampoline + data + padding = {parts}"
                ),
            );
        }
    }
}

fn check_family(c: &mut Collector, scope: &str, fam: &Family) {
    let f = fam.name.as_str();
    let (hit, miss) = (fam.hit, fam.miss);
    let hit_miss = u128::from(hit) + u128::from(miss);
    c.checked("family-executions");
    if fam.member_executions != hit_miss {
        c.violation(
            "family-executions",
            scope,
            Some(f),
            format!(
                "{f}: members executed {} times, hit {hit} + miss {miss} = {hit_miss}",
                fam.member_executions
            ),
        );
    }
    c.checked("family-misses");
    if fam.member_misses != u128::from(miss) {
        c.violation(
            "family-misses",
            scope,
            Some(f),
            format!(
                "{f}: family miss {miss} != members' misses {}",
                fam.member_misses
            ),
        );
    }
    let failure = fam.failure;
    let kind_sum = fam.failure_kind_sum();
    c.checked("failure-kinds");
    if kind_sum > u128::from(failure) {
        c.violation(
            "failure-kinds",
            scope,
            Some(f),
            format!("{f}: failure kinds sum to {kind_sum} > failure {failure}"),
        );
    }
    c.checked("shares-within-100");
    if u128::from(fam.deferred) > fam.total && f != "RESUME" {
        c.violation(
            "shares-within-100",
            scope,
            Some(f),
            format!(
                "{f}: deferred {} > hit + miss + execution_count = {}",
                fam.deferred, fam.total
            ),
        );
    }
    for k in &fam.failure_kinds {
        if k.count > failure {
            c.violation(
                "shares-within-100",
                scope,
                Some(f),
                format!(
                    "{f}: failure kind {} = {} > failure {failure}",
                    k.index, k.count
                ),
            );
        }
    }
}

fn check_optimizer(c: &mut Collector, scope: &str, o: &Optimizer) {
    c.checked("traces-created");
    let (created, attempts) = (
        o.get("Optimization traces created"),
        o.get("Optimization attempts"),
    );
    if created > attempts {
        c.violation(
            "traces-created",
            scope,
            None,
            format!("traces created {created} > attempts {attempts}"),
        );
    }
    // CPython 3.13's uop_optimize records the optimized length only after
    // _Py_uop_analyze_and_optimize succeeds (or when PYTHON_UOPS_OPTIMIZE=0 skips it).
    let optimized = if o.counters.contains_key("Optimization optimizer attempts")
        && o.get("Optimization optimizer attempts") > 0
    {
        (
            "optimizer successes",
            o.get("Optimization optimizer successes"),
        )
    } else {
        ("traces created", created)
    };
    for h in &o.histograms {
        let (what, want) = match h.name {
            "Trace length" => ("traces created", created),
            "Optimized trace length" => optimized,
            _ => continue,
        };
        if h.buckets.is_empty() {
            continue;
        }
        c.checked("trace-length-histogram");
        let sum = h.total();
        if sum != u128::from(want) {
            c.violation(
                "trace-length-histogram",
                scope,
                Some(h.name),
                format!("{} histogram sums to {sum} != {what} {want}", h.name),
            );
        }
    }
}

/// Checks every dump of a set. `label` names the side (`base`, `head`) in reports.
pub fn check_set(
    set: &StatsSet,
    meta: &Metadata,
    exceptions: &CheckExceptions,
    label: &str,
) -> Result<CheckReport, Error> {
    use rayon::prelude::*;
    let dumps: Vec<(String, &crate::stats::raw::Counters)> = set
        .repeats
        .iter()
        .flat_map(|r| {
            r.benchmarks
                .iter()
                .map(move |(bench, dump)| (dump_scope(&r.name, bench), &dump.counters))
        })
        .collect();
    // Models are built in parallel a chunk at a time (a few hold little memory) and checked
    // in order, so the report and the first error are those of a sequential pass.
    let mut found = vec![];
    for chunk in dumps.chunks(64) {
        let checks: Vec<Result<DumpChecks, Error>> = chunk
            .par_iter()
            .map(|(scope, counters)| {
                Model::build(counters, meta)
                    .map(|m| check_dump(exceptions, scope, &m))
                    .map_err(|e| crate::stats::model::input_error(e, &set.path, scope))
            })
            .collect();
        for c in checks {
            found.push(c?);
        }
    }
    Ok(set_report(set, exceptions, label, found))
}

/// The report of a set from its dumps' checks (in the set's order) plus the repeat-level
/// file-count checks.
pub fn set_report(
    set: &StatsSet,
    exceptions: &CheckExceptions,
    label: &str,
    dumps: impl IntoIterator<Item = DumpChecks>,
) -> CheckReport {
    let mut c = Collector::new(exceptions);
    for d in dumps {
        c.absorb(d);
    }
    if set.repeats.len() > 1 {
        let first: Vec<&String> = set.repeats[0].benchmarks.keys().collect();
        for r in &set.repeats[1..] {
            c.checked("file-counts");
            let these: Vec<&String> = r.benchmarks.keys().collect();
            if these != first {
                c.violation(
                    "file-counts",
                    &r.name,
                    None,
                    format!(
                        "holds benchmarks [{}] but {} holds [{}]",
                        join(&these),
                        set.repeats[0].name,
                        join(&first)
                    ),
                );
            }
        }
    }
    CheckReport {
        label: label.to_string(),
        set: set.path.display().to_string(),
        results: c.finish(),
    }
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// Checks that both sides hold the same file counts per repeat.
pub fn check_pair(base: &StatsSet, head: &StatsSet, exceptions: &CheckExceptions) -> CheckReport {
    let mut c = Collector::new(exceptions);
    c.checked("file-counts");
    if base.repeats.len() != head.repeats.len() {
        c.violation(
            "file-counts",
            "sets",
            None,
            format!(
                "base has {} repeats, head has {}",
                base.repeats.len(),
                head.repeats.len()
            ),
        );
    }
    for (b, h) in base.repeats.iter().zip(&head.repeats) {
        c.checked("file-counts");
        if b.files() != h.files() {
            c.violation(
                "file-counts",
                &b.name,
                None,
                format!(
                    "base {} holds {} files, head {} holds {}",
                    b.name,
                    b.files(),
                    h.name,
                    h.files()
                ),
            );
        }
    }
    let mut results = c.finish();
    results.retain(|r| r.id == "file-counts");
    CheckReport {
        label: "base vs head".into(),
        set: format!("{} vs {}", base.path.display(), head.path.display()),
        results,
    }
}

/// Plain-text rendering of check reports (the `check` command and the compare text report).
pub fn render_text(reports: &[CheckReport], verbose: bool) -> String {
    let mut s = String::new();
    for rep in reports {
        let bad = rep.violated().count();
        s.push_str(&format!(
            "checks on {} ({}): {}\n",
            rep.label,
            rep.set,
            if bad == 0 {
                "ok".to_string()
            } else {
                format!("{bad} invariant(s) violated")
            }
        ));
        for r in &rep.results {
            let tag = match r.status {
                CheckStatus::Ok => "ok",
                CheckStatus::Excepted => "excepted",
                CheckStatus::Violated => "VIOLATED",
                CheckStatus::NotApplicable => "n/a",
            };
            if !verbose && matches!(r.status, CheckStatus::Ok | CheckStatus::NotApplicable) {
                continue;
            }
            if !verbose && r.status == CheckStatus::Excepted {
                // Each subject once, in first-seen order (a family breaks several places).
                let subjects: indexmap::IndexSet<&str> = r
                    .violations
                    .iter()
                    .filter_map(|v| v.subject.as_deref())
                    .collect();
                let subjects: Vec<&str> = subjects.into_iter().collect();
                s.push_str(&format!(
                    "  [excepted] {} ({}; {} place(s), known CPython behaviour)\n",
                    r.id,
                    subjects.join(", "),
                    r.violations.len()
                ));
                continue;
            }
            s.push_str(&format!("  [{tag}] {}: {}\n", r.id, r.statement));
            for v in r.violations.iter().take(20) {
                match &v.excepted {
                    None => s.push_str(&format!("      {}: {}\n", v.scope, v.detail)),
                    Some(reason) => s.push_str(&format!(
                        "      {}: {} (known: {reason})\n",
                        v.scope, v.detail
                    )),
                }
            }
            if r.violations.len() > 20 {
                s.push_str(&format!("      ... and {} more\n", r.violations.len() - 20));
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stats::set::real_fixture as real;

    #[test]
    fn real_fixture_passes() {
        let meta = Metadata::embedded("3.13").unwrap();
        let ex = CheckExceptions::load_or_default(None).unwrap();
        let rep = check_set(&real("aa-base"), &meta, &ex, "base").unwrap();
        assert!(
            rep.ok(),
            "{}",
            render_text(std::slice::from_ref(&rep), true)
        );
        assert!(check_pair(&real("aa-base"), &real("aa-head"), &ex).ok());
    }

    #[test]
    fn corrupted_miss_counter_is_named() {
        let meta = Metadata::embedded("3.13").unwrap();
        let ex = CheckExceptions::load_or_default(None).unwrap();
        let mut set = real("aa-base");
        let dump = set.repeats[0].benchmarks.get_mut("attrs").unwrap();
        dump.counters
            .set("opcode[LOAD_ATTR].specialization.miss", 7);
        let rep = check_set(&set, &meta, &ex, "base").unwrap();
        let bad: Vec<&str> = rep.violated().map(|r| r.id.as_str()).collect();
        assert!(bad.contains(&"family-misses"), "{bad:?}");
        assert!(bad.contains(&"family-executions"), "{bad:?}");
    }

    #[test]
    fn call_family_exception_applies() {
        let meta = Metadata::embedded("3.13").unwrap();
        let ex = CheckExceptions::load_or_default(None).unwrap();
        let mut set = real("aa-base");
        let dump = set.repeats[0].benchmarks.get_mut("attrs").unwrap();
        dump.counters
            .set("opcode[CALL_PY_GENERAL].execution_count", 5);
        let rep = check_set(&set, &meta, &ex, "base").unwrap();
        assert!(rep.ok());
        let r = rep
            .results
            .iter()
            .find(|r| r.id == "family-executions")
            .unwrap();
        assert_eq!(r.status, CheckStatus::Excepted);
    }
}

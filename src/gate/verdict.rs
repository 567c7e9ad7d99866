//! The comparison model and verdict: metrics x repeats -> statistics -> rule outcomes -> [`GateReport`].
//!
//! [`evaluate`] computes everything; renderers in [`crate::report`] only format it.

use crate::error::{Error, EXIT_GATE_FAILED, EXIT_INPUT, EXIT_PASS};
use crate::gate::accept::Acceptance;
use crate::gate::check::{check_pair, check_set, CheckExceptions, CheckReport};
use crate::gate::coverage::UncheckedRule;
use crate::gate::metrics::{
    self, split_bench, MetricKind, MetricValue, RepeatMetrics, PER_MILLION_SUFFIX,
};
use crate::gate::reach::Reach;
use crate::gate::rules::{Limit, LimitKind, Rule, RuleSet, Severity};
use crate::gate::statistics::{
    adjust_grouped, benjamini_hochberg, compare_with_prior, exact_test_from, holm, hypothesis_key,
    mean, min_attainable_p, p_above, p_below, permutation_p_at_limit, permutation_p_beyond,
    repeats_needed, t_sf, DiffStats, ErrorControl, NoisePrior,
};
use crate::stats::metadata::Metadata;
use crate::stats::set::StatsSet;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Version of the JSON report layout; bumped on incompatible changes.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// Everything `evaluate` needs besides the two sets.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// Family-wise significance level (Holm) and FDR level (BH); intervals are at 1 - alpha.
    pub alpha: f64,
    pub fail_on_warn: bool,
    pub strict: bool,
    pub rules: RuleSet,
    pub meta_base: Metadata,
    pub meta_head: Metadata,
    pub exceptions: CheckExceptions,
    /// How many top movers to keep.
    pub top_movers: usize,
    /// Benchmarks shown per violation in the attribution.
    pub attribution: usize,
    /// Intended changes (`--accept`, commit trailers).
    pub accept: Vec<Acceptance>,
    /// How reports show the result (not part of any number).
    pub display: Display,
    /// Notes from the caller, shown first (e.g. the `--head-dir` snapshot).
    pub notes: Vec<String>,
    /// Compare the intersection when one side lacks benchmarks or repeats.
    pub allow_missing_benchmarks: bool,
    /// Learned per-metric noise (`--noise`): variances pooled into the t tests, and the
    /// metrics certified deterministic.
    pub noise: Option<crate::gate::noise::NoiseFile>,
    /// The changed specializer code (`gate` from git): its counters decide whether the
    /// corpus saw the change at all.
    pub reach: Option<Reach>,
}

/// Display settings carried to the renderers (they never change a number or the verdict).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Display {
    /// Size limit of the markdown report in bytes (`--comment-bytes`).
    pub comment_bytes: usize,
    /// Link to the full reports (`--details-url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
}

impl Default for Display {
    fn default() -> Self {
        Display {
            comment_bytes: 10_000,
            details_url: None,
        }
    }
}

impl EvalOptions {
    /// The defaults of the command line (alpha 0.05, the shipped rules and check exceptions,
    /// 10 movers, 3 attributed benchmarks, a 10,000-byte comment), for the two metadata.
    pub fn with_defaults(meta_base: Metadata, meta_head: Metadata) -> anyhow::Result<EvalOptions> {
        Ok(EvalOptions {
            alpha: 0.05,
            fail_on_warn: false,
            strict: false,
            rules: RuleSet::load_or_default(None)?,
            meta_base,
            meta_head,
            exceptions: CheckExceptions::load_or_default(None)?,
            top_movers: 10,
            attribution: 3,
            accept: vec![],
            display: Display::default(),
            notes: vec![],
            allow_missing_benchmarks: false,
            noise: None,
            reach: None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Regression,
    Inconclusive,
    /// The data is not trustworthy (consistency checks failed under `--strict`).
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Below `min_count`: not evaluated.
    Skipped,
    Pass,
    Inconclusive,
    Regression,
}

/// A benchmark's share of a metric's change (the shares add up to the change).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    pub benchmark: String,
    pub contribution: f64,
    pub base: f64,
    pub head: f64,
}

/// One rule applied to one metric.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RuleOutcome {
    pub rule: String,
    pub severity: Severity,
    pub description: String,
    pub metric: String,
    pub benchmark: Option<String>,
    pub kind: MetricKind,
    pub status: OutcomeStatus,
    /// The limit that decided the status (the violated one, else the closest).
    pub limit: Option<Limit>,
    pub base: f64,
    pub head: f64,
    pub change: f64,
    pub relative_change: Option<f64>,
    /// Interval of the tested quantity (the change, or head's value for `max`/`min`).
    pub ci_low: f64,
    pub ci_high: f64,
    /// One-sided p that the limit is exceeded (None when deterministic).
    pub p_value: Option<f64>,
    /// After Holm (fail-level) or BH (warn-level) correction.
    pub p_adjusted: Option<f64>,
    pub deterministic: bool,
    /// Fewer than 2 repeats on a side: decided on thresholds only.
    pub unverified: bool,
    /// The path that decided the outcome and how its error is controlled.
    #[serde(default)]
    pub error_control: ErrorControl,
    /// The learned variance (`--noise`) pooled into this outcome's t test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_prior: Option<NoisePrior>,
    /// Decided exactly because calibration certified the metric deterministic.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub certified: bool,
    /// For inconclusive outcomes: repeats per side that would likely decide.
    pub repeats_needed: Option<usize>,
    pub attribution: Vec<Attribution>,
    /// One sentence saying why.
    pub reason: String,
    /// The reason of the acceptance (`--accept`, commit trailer) that covers this violated or
    /// inconclusive outcome: it no longer fails the gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted: Option<String>,
}

impl RuleOutcome {
    /// True when this outcome makes the gate fail under `opts`.
    pub fn fails(&self, fail_on_warn: bool) -> bool {
        self.status == OutcomeStatus::Regression
            && self.accepted.is_none()
            && (self.severity == Severity::Fail || fail_on_warn)
    }
    /// Inconclusive and not accepted.
    pub fn open_inconclusive(&self) -> bool {
        self.status == OutcomeStatus::Inconclusive && self.accepted.is_none()
    }
}

/// Base vs head of one aggregate metric.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetricComparison {
    pub name: String,
    pub kind: MetricKind,
    pub base_values: Vec<f64>,
    pub head_values: Vec<f64>,
    pub stats: DiffStats,
    pub relative_change: Option<f64>,
    /// Benjamini-Hochberg q value over every tested (non-deterministic) metric.
    pub q_value: Option<f64>,
    /// Mean denominator (ratios) or count behind the value on each side.
    pub base_support: f64,
    pub head_support: f64,
    /// One count in the metric's units: changes smaller than this are noise.
    pub noise_floor: f64,
    /// A real change: beyond the noise floor and exact or significant after BH.
    pub changed: bool,
}

/// A metric that moved, for the "top movers" table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Mover {
    pub metric: String,
    pub kind: MetricKind,
    pub base: f64,
    pub head: f64,
    pub change: f64,
    pub relative_change: Option<f64>,
    pub ci_low: f64,
    pub ci_high: f64,
    pub deterministic: bool,
    pub q_value: Option<f64>,
    pub attribution: Vec<Attribution>,
    /// Other changed metrics with exactly the same values in every repeat (the same fact
    /// under another name, e.g. `opcode.X.execution_count` for `family.X.execution_count`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub same_as: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SetInfo {
    pub path: String,
    pub repeats: Vec<String>,
    pub seeds: Vec<Option<u64>>,
    pub files: u64,
    pub benchmarks: Vec<String>,
    pub metadata_version: String,
    /// The interpreter's git commit, from the set's manifest (sets made by `run`/`gate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

/// How many false positives to expect from testing many metrics at once.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FalsePositives {
    /// Metrics with variance, tested for any change.
    pub tested: usize,
    /// alpha x tested: false alarms expected with no correction at all.
    pub expected_uncorrected: f64,
    /// Changes significant after Benjamini-Hochberg.
    pub discoveries: usize,
    /// alpha x discoveries: bound on false discoveries among them (BH).
    pub expected_false_discoveries: f64,
    /// Fail-level (rule, metric) hypotheses in the Holm family (a count and its
    /// `.per_minstr` variant are one); P(any false fail among them) <= alpha.
    pub holm_family: usize,
    /// Fail-level outcomes decided exactly (zero variance, no test).
    #[serde(default)]
    pub exact_fail_level: usize,
    /// Of `exact_fail_level`, those certified deterministic by the noise file (the rest are
    /// paired and assume the counters are fixed by build, corpus and seed).
    #[serde(default)]
    pub certified_fail_level: usize,
    /// Fail-level zero-variance outcomes not exempt from testing: decided by the exact
    /// sign-flip or two-sample permutation test at the limit, inside the Holm family.
    #[serde(default)]
    pub sign_tested_fail_level: usize,
    /// Of those, the ones whose smallest attainable p cannot reach the family's level and so
    /// stay out of it (Tarone's rule): they cannot fail the gate.
    #[serde(default)]
    pub sign_tested_out_of_reach: usize,
    /// Fail-level outcomes decided on thresholds only (fewer than 2 repeats per side).
    #[serde(default)]
    pub unverified_fail_level: usize,
    /// Set when the permutation cross-check cannot reach alpha at these repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_check: Option<String>,
    /// Repeats (pairs, or per side) from which the exact permutation test joins the t test
    /// for this Holm family (its smallest p reaches alpha / family size).
    #[serde(default)]
    pub exact_from: usize,
}

/// The whole comparison: serializable, stable, renderer input.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GateReport {
    pub schema_version: u32,
    pub tool_version: String,
    pub verdict: Verdict,
    pub alpha: f64,
    pub confidence: f64,
    /// Repeats paired by PYTHONHASHSEED.
    pub paired: bool,
    pub fail_on_warn: bool,
    pub strict: bool,
    pub base: SetInfo,
    pub head: SetInfo,
    pub rules_files: Vec<String>,
    /// Every (rule, metric) outcome, worst first.
    pub outcomes: Vec<RuleOutcome>,
    /// The first `--movers` of the changed metrics, one per distinct fact, biggest first.
    pub top_movers: Vec<Mover>,
    /// Distinct changed facts (aggregate metrics with `changed`, identical ones counted once,
    /// `.per_minstr` rescalings not counted); `top_movers` shows the first of them.
    #[serde(default)]
    pub changed_facts: usize,
    /// Of `changed_facts`, those already shown as a violated, accepted or inconclusive rule
    /// outcome: `top_movers` leaves them out (one row per fact).
    #[serde(default)]
    pub changed_in_rules: usize,
    /// Intended changes given to the gate, with how many outcomes each accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acceptances: Vec<Acceptance>,
    /// How reports show the result.
    #[serde(default)]
    pub display: Display,
    /// Aggregate metrics with a non-zero value on either side.
    pub comparisons: Vec<MetricComparison>,
    pub checks: Vec<CheckReport>,
    pub false_positives: FalsePositives,
    /// Loud notes: unverified results, unpaired repeats, failed checks, ...
    pub notes: Vec<String>,
    /// What one side lacked that the other had, when `--allow-missing-benchmarks` let the
    /// comparison go on over the intersection (empty otherwise: missing data is an error).
    #[serde(default)]
    pub missing_data: Vec<String>,
    /// The full comparative report (markdown), folded into the PR comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_report_markdown: Option<String>,
    /// Unified diff of the two single-set reports (`--diff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_diff: Option<String>,
    /// What the change touches and whether the corpus reaches it (`gate` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<Reach>,
    /// Rules with no decided check on this data (every format lists them).
    #[serde(default)]
    pub unchecked_rules: Vec<UncheckedRule>,
    /// Files base and head share (`--allow-same-input`): never a PASS, said in every format.
    #[serde(default)]
    pub same_input: Vec<String>,
}

impl GateReport {
    pub fn failing(&self) -> impl Iterator<Item = &RuleOutcome> {
        let fow = self.fail_on_warn;
        self.outcomes.iter().filter(move |o| o.fails(fow))
    }
    /// Warn-level violations that do not fail the gate (accepted ones excluded).
    pub fn warnings(&self) -> impl Iterator<Item = &RuleOutcome> {
        let fow = self.fail_on_warn;
        self.outcomes.iter().filter(move |o| {
            o.status == OutcomeStatus::Regression && o.accepted.is_none() && !o.fails(fow)
        })
    }
    /// Inconclusive outcomes not covered by an acceptance.
    pub fn inconclusive(&self) -> impl Iterator<Item = &RuleOutcome> {
        self.outcomes.iter().filter(|o| o.open_inconclusive())
    }
    /// Violated or inconclusive outcomes covered by an acceptance.
    pub fn accepted(&self) -> impl Iterator<Item = &RuleOutcome> {
        self.outcomes.iter().filter(|o| o.accepted.is_some())
    }
    /// Something a PASS needs that the gate could not look at: a rule that could fail the
    /// gate left unchecked, or base and head being the same files.
    pub fn blind(&self) -> bool {
        !self.same_input.is_empty()
            || self
                .unchecked_rules
                .iter()
                .any(|u| u.blocks_pass(self.fail_on_warn))
    }
    pub fn checks_ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok())
    }
    /// Specialization families named by failing rules (`family.<F>.*` metrics), first-seen order.
    pub fn failing_families(&self) -> Vec<&str> {
        let mut families: Vec<&str> = vec![];
        for o in self.failing() {
            let family = o
                .metric
                .strip_prefix("family.")
                .and_then(|rest| rest.split('.').next());
            if let Some(f) = family {
                if !families.contains(&f) {
                    families.push(f);
                }
            }
        }
        families
    }
}

/// Process exit code for a report: 0 pass, 1 regression (or inconclusive under --strict),
/// 2 error (untrustworthy data).
pub fn exit_code(report: &GateReport, strict: bool) -> i32 {
    match report.verdict {
        Verdict::Pass => EXIT_PASS,
        Verdict::Regression => EXIT_GATE_FAILED,
        Verdict::Inconclusive => {
            if strict {
                EXIT_GATE_FAILED
            } else {
                EXIT_PASS
            }
        }
        Verdict::Error => EXIT_INPUT,
    }
}

/// The full comparative report (summarize_stats.py's tables) folded into the markdown comment.
pub fn full_comparative_report(
    base: &StatsSet,
    head: &StatsSet,
    mb: &Metadata,
    mh: &Metadata,
) -> anyhow::Result<String> {
    let doc = crate::stats::summary::summarize(base, Some(head), mb, Some(mh))?;
    Ok(crate::stats::summary::render_markdown(&doc))
}

/// One set's single-set report (summarize_stats.py's tables as text), used by `--diff`.
pub fn single_set_report(set: &StatsSet, meta: &Metadata) -> anyhow::Result<String> {
    let doc = crate::stats::summary::summarize(set, None, meta, None)?;
    Ok(crate::stats::summary::render_text(&doc))
}

/// Unified diff of the base and head single-set reports.
pub fn summary_diff(
    base: &StatsSet,
    head: &StatsSet,
    mb: &Metadata,
    mh: &Metadata,
) -> anyhow::Result<String> {
    let a = single_set_report(base, mb)?;
    let b = single_set_report(head, mh)?;
    Ok(similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(2)
        .header(
            &base.path.display().to_string(),
            &head.path.display().to_string(),
        )
        .to_string())
}

fn set_info(set: &StatsSet, meta: &Metadata) -> SetInfo {
    SetInfo {
        path: set.path.display().to_string(),
        repeats: set.repeats.iter().map(|r| r.name.clone()).collect(),
        seeds: set.repeats.iter().map(|r| r.seed).collect(),
        files: set.files(),
        benchmarks: set.benchmark_names(),
        metadata_version: meta.version.clone(),
        revision: set.manifest.as_ref().and_then(|m| m.revision.clone()),
    }
}

/// Orders head's repeats to pair with base's by seed; None when the sets cannot be paired.
fn pairing(base: &StatsSet, head: &StatsSet) -> Option<Vec<usize>> {
    if !base.has_seeds() || !head.has_seeds() || base.repeats.len() != head.repeats.len() {
        return None;
    }
    let mut order = vec![];
    for b in &base.repeats {
        let i = head.repeats.iter().position(|h| h.seed == b.seed)?;
        if order.contains(&i) {
            return None;
        }
        order.push(i);
    }
    Some(order)
}

/// The samples of one metric on both sides. A count a repeat lacks is 0; a ratio (or
/// per-million value) it lacks had a zero denominator and is no sample: it is dropped, with
/// its partner when the repeats are paired.
fn samples(
    base: &[RepeatMetrics],
    head: &[RepeatMetrics],
    name: &str,
    like: &MetricValue,
    paired: bool,
) -> (Vec<MetricValue>, Vec<MetricValue>) {
    if like.kind == MetricKind::Count {
        return (column(base, name, like), column(head, name, like));
    }
    let get = |t: &RepeatMetrics| t.get(name);
    if paired && base.len() == head.len() {
        base.iter()
            .zip(head)
            .filter_map(|(b, h)| Some((get(b)?, get(h)?)))
            .unzip()
    } else {
        (
            base.iter().filter_map(get).collect(),
            head.iter().filter_map(get).collect(),
        )
    }
}

/// Values of one metric over repeats, filling a missing metric with a zero of its kind.
fn column(tables: &[RepeatMetrics], name: &str, like: &MetricValue) -> Vec<MetricValue> {
    tables
        .iter()
        .map(|t| t.get(name).unwrap_or_else(|| like.zero_like()))
        .collect()
}

/// One count in a metric's units.
fn noise_floor(kind: MetricKind, base: &[MetricValue], head: &[MetricValue]) -> f64 {
    let den = base
        .iter()
        .chain(head)
        .filter_map(|v| v.den)
        .fold(0.0, f64::max);
    match kind {
        MetricKind::Count => 1.0,
        MetricKind::Ratio | MetricKind::PerMillion => {
            if den > 0.0 {
                1.0 / den
            } else {
                0.0
            }
        }
    }
}

/// One metric's samples on both sides with their comparison.
struct MetricSamples {
    base: Vec<f64>,
    head: Vec<f64>,
    stats: DiffStats,
    /// One count in the metric's units.
    floor: f64,
    /// Learned variance pooled into `stats` (`--noise`).
    prior: Option<NoisePrior>,
    /// Why zero variance may be decided without a test.
    exact: ExactBasis,
    base_support: f64,
    head_support: f64,
}

/// Why a zero-variance metric may be decided without a test (the exact path).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExactBasis {
    /// Calibration saw it constant over >= 10 seeds (`--noise`).
    Certified,
    /// Paired repeats and no calibration saying it varies: assumed fixed by build, corpus
    /// and seed (a same-build A/A pair cannot differ).
    PairedAssumed,
    /// Neither: zero variance is tested by the exact sign-flip or permutation test.
    None,
}

/// A limit test before multiple-testing correction.
struct LimitTest {
    limit: Limit,
    /// Tested statistic's point estimate and interval, in "bigger is worse" orientation.
    excess: f64,
    low: f64,
    high: f64,
    p: Option<f64>,
    /// The t test's p alone: what decides where the exact permutation test cannot reach
    /// its family's level (see [`correct`]).
    t_p: Option<f64>,
    deterministic: bool,
    repeats_needed: Option<usize>,
    /// Shown interval (natural orientation).
    ci: (f64, f64),
    /// Why a zero-variance test was decided exactly (when `deterministic` and `p` is None).
    exact: ExactBasis,
    /// Zero variance without an exact basis: `p` is the exact permutation test's.
    sign_test: bool,
    /// Smallest p the test can give (0 for the t test).
    min_p: f64,
}

struct Candidate {
    rule_idx: usize,
    metric: String,
    benchmark: Option<String>,
    kind: MetricKind,
    stats: DiffStats,
    /// Learned variance pooled into `stats`.
    prior: Option<NoisePrior>,
    tests: Vec<LimitTest>,
    skipped: Option<String>,
    /// Fewer than 2 samples on a side after zero denominators: not decidable.
    too_few: Option<String>,
    unverified: bool,
}

/// (mean, se, df, half-width, deterministic) of one side's values, for `max`/`min` limits.
fn one_sample(values: &[f64], confidence: f64) -> (f64, f64, f64, f64, bool) {
    let m = mean(values);
    if values.len() < 2 || crate::gate::statistics::all_equal(values) {
        return (m, 0.0, 0.0, 0.0, true);
    }
    let n = values.len() as f64;
    let se = crate::gate::statistics::sd(values) / n.sqrt();
    let q = crate::gate::statistics::t_quantile(confidence, n - 1.0);
    (m, se, n - 1.0, q * se, false)
}

fn limit_test(limit: Limit, m: &MetricSamples, confidence: f64) -> LimitTest {
    let (d, base, head, floor) = (&m.stats, &m.base[..], &m.head[..], m.floor);
    if let Some(t) = relative_limit_test(limit, m, confidence) {
        return t;
    }
    let base_mag = d.base_mean.abs();
    // Turn every limit into "excess over an allowed change", bigger is worse.
    let (allowed, sign) = match limit.kind {
        LimitKind::MaxIncrease => (limit.value, 1.0),
        LimitKind::MaxDecrease => (limit.value, -1.0),
        LimitKind::MaxRelativeIncrease => (limit.value * base_mag, 1.0),
        LimitKind::MaxRelativeDecrease => (limit.value * base_mag, -1.0),
        LimitKind::ForbidAppearing => (0.0, 1.0),
        LimitKind::Max | LimitKind::Min => {
            let (m, se, df, half, det) = one_sample(head, confidence);
            // PASS on the one-sided (1 - alpha) bound, as in `oriented_test`.
            let pass_half = one_sample(head, 2.0 * confidence - 1.0).3;
            let (excess, low, high) = if limit.kind == LimitKind::Max {
                (
                    m - limit.value,
                    m - half - limit.value,
                    m + pass_half - limit.value,
                )
            } else {
                (
                    limit.value - m,
                    limit.value - m - half,
                    limit.value - m + pass_half,
                )
            };
            let p = if det {
                None
            } else {
                Some(t_sf(excess / se, df))
            };
            return LimitTest {
                limit,
                excess,
                low,
                high,
                p,
                t_p: p,
                deterministic: det,
                repeats_needed: None,
                ci: (m - half, m + half),
                exact: ExactBasis::PairedAssumed,
                sign_test: false,
                min_p: 0.0,
            };
        }
    };
    oriented_test(
        limit,
        d,
        (base, head),
        allowed.max(floor),
        sign > 0.0,
        (d.ci_low, d.ci_high),
        m.exact,
    )
}

/// "Change beyond `allowed`" in the bigger-is-worse orientation, from a difference's stats
/// (absolute, or log-ratio for relative limits) and the samples they came from (same
/// scale); `ci` is the interval shown. The p is the t test's, or the larger of it and the
/// exact one-sided permutation p once the permutation test can reach alpha (both must
/// reject: the t test's level is only approximate on small, seed-multimodal samples). Zero
/// variance is decided without a test only on an exact basis; otherwise the exact
/// permutation test at the limit alone gives p (its smallest value may not reach alpha).
fn oriented_test(
    limit: Limit,
    d: &DiffStats,
    (base, head): (&[f64], &[f64]),
    allowed: f64,
    increase: bool,
    ci: (f64, f64),
    exact: ExactBasis,
) -> LimitTest {
    let (est, low) = if increase {
        (d.diff, d.ci_low)
    } else {
        (-d.diff, -d.ci_high)
    };
    let sign_test = d.deterministic && exact == ExactBasis::None;
    let (p, t_p) = if d.deterministic && !sign_test {
        (None, None)
    } else if sign_test {
        let p = permutation_p_at_limit(base, head, d.paired, allowed, increase);
        (Some(p), Some(p))
    } else {
        let t = if increase {
            p_above(d, allowed)
        } else {
            p_below(d, -allowed)
        };
        let alpha = 1.0 - d.confidence;
        let exact = permutation_p_beyond(base, head, d.paired, allowed, increase, alpha);
        (Some(exact.map_or(t, |e| t.max(e))), Some(t))
    };
    let sign = if increase { 1.0 } else { -1.0 };
    // A PASS needs only the one-sided (1 - alpha) upper bound within the limit (false PASS
    // at the limit <= alpha); a REGRESSION keeps the two-sided interval's lower end.
    let high = crate::gate::statistics::one_sided_upper(d, increase);
    LimitTest {
        limit,
        excess: est - allowed,
        low: low - allowed,
        high: high - allowed,
        p,
        t_p,
        deterministic: d.deterministic,
        repeats_needed: if d.deterministic || !allowed.is_finite() {
            None
        } else {
            repeats_needed(d, sign * allowed)
        },
        ci,
        exact,
        sign_test,
        min_p: if sign_test {
            min_attainable_p(d.paired, d.n_base, d.n_head)
        } else {
            0.0
        },
    }
}

/// A relative limit tested on ln(head / base) ([`crate::gate::statistics::compare_log_ratio`]), so
/// the base's noise widens the interval too; None for other limits or non-positive values.
fn relative_limit_test(limit: Limit, m: &MetricSamples, confidence: f64) -> Option<LimitTest> {
    let increase = match limit.kind {
        LimitKind::MaxRelativeIncrease => true,
        LimitKind::MaxRelativeDecrease => false,
        _ => return None,
    };
    let (d, base, head) = (&m.stats, &m.base[..], &m.head[..]);
    let lr = crate::gate::statistics::compare_log_ratio(base, head, d.paired, confidence, m.prior)?;
    let bm = d.base_mean;
    // Allowed log-ratio, bigger-is-worse orientation; the count floor applies relatively.
    let rel = limit.value.max(m.floor / bm);
    let allowed = if increase {
        rel.ln_1p()
    } else if rel < 1.0 {
        -(-rel).ln_1p()
    } else {
        f64::INFINITY
    };
    // Shown in the metric's units: the log interval mapped back onto the base mean.
    let ci = (bm * lr.ci_low.exp_m1(), bm * lr.ci_high.exp_m1());
    let ln = |v: &[f64]| v.iter().map(|x| x.ln()).collect::<Vec<_>>();
    let (lb, lh) = (ln(base), ln(head));
    Some(oriented_test(
        limit,
        &lr,
        (&lb, &lh),
        allowed,
        increase,
        ci,
        m.exact,
    ))
}

/// Per-benchmark shares of an aggregate metric's change (exact decomposition: for ratios each
/// benchmark contributes num_b / den_total on each side).
fn attribution(
    name: &str,
    benches: &[String],
    base: &[RepeatMetrics],
    head: &[RepeatMetrics],
    top: usize,
) -> Vec<Attribution> {
    let Some(like) = base.iter().chain(head).find_map(|t| t.get(name)) else {
        return vec![];
    };
    let agg_b = column(base, name, &like);
    let agg_h = column(head, name, &like);
    let share = |tables: &[RepeatMetrics], agg: &[MetricValue], bench: &str| -> f64 {
        let key = format!("{}{bench}.{name}", metrics::BENCH_PREFIX);
        let vals: Vec<f64> = tables
            .iter()
            .zip(agg)
            .map(|(t, a)| {
                let v = t.get(&key).unwrap_or_else(|| like.zero_like());
                match (like.kind, a.den) {
                    (MetricKind::Count, _) => v.num,
                    (_, Some(d)) if d > 0.0 => v.num / d,
                    _ => 0.0,
                }
            })
            .collect();
        mean(&vals)
    };
    let mut out: Vec<Attribution> = benches
        .iter()
        .map(|b| {
            let (sb, sh) = (share(base, &agg_b, b), share(head, &agg_h, b));
            Attribution {
                benchmark: b.clone(),
                contribution: sh - sb,
                base: sb,
                head: sh,
            }
        })
        .filter(|a| a.contribution != 0.0)
        .collect();
    out.sort_by(|a, b| {
        b.contribution
            .abs()
            .partial_cmp(&a.contribution.abs())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    // Benchmarks that moved the metric by under 1% of the biggest mover only dilute the
    // answer to "which benchmark did this" (a share shifts a hair when the total moves).
    let biggest = out.first().map(|a| a.contribution.abs()).unwrap_or(0.0);
    out.retain(|a| a.contribution.abs() >= biggest * 0.01);
    out.truncate(top);
    out
}

/// How the note about unpaired repeats ends (the INCONCLUSIVE note replaces it).
const UNPAIRED_SUFFIX: &str = "compared unpaired (wider intervals)";

/// Computes the whole comparison. Errors only on bad input (e.g. a rule pattern matching no metric).
pub fn evaluate(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
) -> anyhow::Result<GateReport> {
    base.ensure_no_recorded_failures()?;
    head.ensure_no_recorded_failures()?;
    let gaps = crate::stats::set::coverage_gaps(&[("base", base), ("head", head)]);
    if gaps.is_empty() {
        return evaluate_complete(base, head, opts);
    }
    let aggregate_only = [base, head]
        .iter()
        .any(|s| s.source == crate::stats::set::SetSource::SummarizeJson);
    if aggregate_only && base.source != head.source {
        return Err(Error::input(format!(
            "{} and {}: a summarize_stats JSON holds one aggregate without benchmarks or repeats, so it can only be compared with another such JSON",
            base.path.display(),
            head.path.display()
        ))
        .into());
    }
    if !opts.allow_missing_benchmarks {
        return Err(Error::input(format!(
            "base and head do not cover the same benchmarks and repeats:\n  {}\n(compare only what both have with --allow-missing-benchmarks)",
            gaps.iter().take(20).cloned().collect::<Vec<_>>().join("\n  ")
        ))
        .into());
    }
    let (b, h) = crate::stats::set::restrict_to_common(base, head)?;
    let mut rep = evaluate_complete(&b, &h, opts)?;
    rep.notes.insert(
        0,
        format!(
            "INCOMPLETE DATA: compared only the benchmarks and repeats both sides have (--allow-missing-benchmarks); missing: {}",
            gaps.join("; ")
        ),
    );
    rep.missing_data = gaps;
    Ok(rep)
}

/// The rule decision alone on metric tables already computed (one per repeat, head in its
/// pairing order): the same rule tests, corrections and outcomes as [`evaluate`], without
/// checks, movers, reach or reports. The simulator's entry (ci/gate-sim.sh).
pub fn decide_tables(
    base_tables: Vec<RepeatMetrics>,
    head_tables: Vec<RepeatMetrics>,
    paired: bool,
    opts: &EvalOptions,
) -> anyhow::Result<(Verdict, Vec<RuleOutcome>)> {
    let unverified = base_tables.len() < 2 || head_tables.len() < 2;
    let all = metrics::union_of(base_tables.iter().chain(&head_tables));
    let mut benches: Vec<String> = vec![];
    for b in base_tables
        .iter()
        .chain(&head_tables)
        .flat_map(|t| t.benchmarks())
    {
        if !benches.iter().any(|x| x == b) {
            benches.push(b.to_string());
        }
    }
    let sides = Sides {
        base_tables,
        head_tables,
        paired,
        unverified,
        all,
        benches,
    };
    let candidates = test_rules(&sides, opts);
    let found: Vec<(usize, Option<&str>)> = candidates
        .iter()
        .map(|c| (c.rule_idx, c.skipped.as_deref()))
        .collect();
    let unchecked = crate::gate::coverage::unchecked_rules(&opts.rules, &found)?;
    let blind = unchecked.iter().any(|u| u.blocks_pass(opts.fail_on_warn));
    let corrected = correct(&candidates, opts);
    let outcomes = rule_outcomes(candidates, &corrected, &sides, opts);
    let verdict = decide(&outcomes, true, opts.strict, opts.fail_on_warn, None, blind);
    Ok((verdict, outcomes))
}

/// Both sides' metric tables, paired by seed when they can be: step 1 of [`evaluate_complete`].
struct Sides {
    base_tables: Vec<RepeatMetrics>,
    head_tables: Vec<RepeatMetrics>,
    paired: bool,
    /// Fewer than 2 repeats on a side: thresholds only.
    unverified: bool,
    /// Every metric name (base order, then head-only) with a value of its kind.
    all: metrics::MetricUnion,
    /// Benchmarks of both sides, base order then head-only.
    benches: Vec<String>,
}

/// Step 1: metric tables of both sides, head reordered to pair base by seed; rule
/// benchmark names checked against the sets. Notes say what is unpaired or unverified.
fn pair_repeats(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
    notes: &mut Vec<String>,
) -> anyhow::Result<Sides> {
    let order = pairing(base, head);
    let paired = order.is_some();
    if !paired {
        notes.push(if base.has_seeds() && head.has_seeds() {
            format!(
                "base and head repeats carry different PYTHONHASHSEED values: {UNPAIRED_SUFFIX}"
            )
        } else {
            format!("repeats carry no PYTHONHASHSEED (no manifest.json): {UNPAIRED_SUFFIX}")
        });
    }
    let base_tables = metrics::set_repeat_metrics(base, &opts.meta_base, true)?;
    let mut head_tables = metrics::set_repeat_metrics(head, &opts.meta_head, true)?;
    for (side, set, meta) in [
        ("base", base, &opts.meta_base),
        ("head", head, &opts.meta_head),
    ] {
        notes.extend(crate::stats::model::renames_note(
            side,
            &crate::stats::model::set_renames(set, meta),
        ));
    }
    if let Some(order) = &order {
        let mut unordered = std::mem::take(&mut head_tables);
        head_tables = order
            .iter()
            .map(|i| std::mem::take(&mut unordered[*i]))
            .collect();
    }
    let unverified = base_tables.len() < 2 || head_tables.len() < 2;
    if unverified {
        notes.push(format!(
            "UNVERIFIED: base has {} repeat(s), head has {}; with fewer than 2 repeats per side only thresholds are applied (no statistics)",
            base_tables.len(),
            head_tables.len()
        ));
    }
    // Rule patterns are checked against the metrics the rules find in this data
    // ([`crate::gate::coverage::unchecked_rules`]), not against what could exist.
    let mut benches = base.benchmark_names();
    for h in head.benchmark_names() {
        if !benches.contains(&h) {
            benches.push(h);
        }
    }
    opts.rules.check_benchmarks(&benches)?;
    let all = metrics::union_of(base_tables.iter().chain(&head_tables));
    Ok(Sides {
        base_tables,
        head_tables,
        paired,
        unverified,
        all,
        benches,
    })
}

impl Sides {
    /// One metric's samples on both sides with their comparison.
    fn metric(&self, name: &str, like: &MetricValue, opts: &EvalOptions) -> MetricSamples {
        let (b, h) = samples(
            &self.base_tables,
            &self.head_tables,
            name,
            like,
            self.paired,
        );
        let bv: Vec<f64> = b.iter().map(|v| v.value()).collect();
        let hv: Vec<f64> = h.iter().map(|v| v.value()).collect();
        let noise = opts.noise.as_ref();
        // Certified deterministic: no prior, the exact path. A metric calibration saw vary
        // is never exempt from testing; neither is zero variance between different seeds.
        let exact = if noise.is_some_and(|n| n.certifies(name)) {
            ExactBasis::Certified
        } else if self.paired && !noise.is_some_and(|n| n.varies_paired(name)) {
            ExactBasis::PairedAssumed
        } else {
            ExactBasis::None
        };
        let prior = noise
            .filter(|_| exact != ExactBasis::Certified)
            .and_then(|n| n.prior(name, self.paired));
        let stats = compare_with_prior(&bv, &hv, self.paired, 1.0 - opts.alpha, prior);
        let support = |v: &[MetricValue]| mean(&v.iter().map(|v| v.support()).collect::<Vec<_>>());
        MetricSamples {
            floor: noise_floor(like.kind, &b, &h),
            prior,
            exact,
            base_support: support(&b),
            head_support: support(&h),
            base: bv,
            head: hv,
            stats,
        }
    }
}

/// Step 2: every aggregate metric compared, Benjamini-Hochberg q values over those that
/// vary, and which changed. Returns the comparisons and how many were tested.
fn compare_metrics(sides: &Sides, opts: &EvalOptions) -> (Vec<MetricComparison>, usize) {
    let mut comparisons: Vec<MetricComparison> = vec![];
    for entry in sides.all.iter().filter(|e| !e.is_benchmark()) {
        let (name, like) = (entry.name(), &entry.like);
        let m = sides.metric(&name, like, opts);
        // All zero, or a ratio with no sample on one side: nothing to compare.
        if m.base.iter().chain(&m.head).all(|v| *v == 0.0) || m.base.is_empty() || m.head.is_empty()
        {
            continue;
        }
        let relative_change =
            (m.stats.base_mean != 0.0).then(|| m.stats.diff / m.stats.base_mean.abs());
        comparisons.push(MetricComparison {
            name: name.into_owned(),
            kind: like.kind,
            base_values: m.base,
            head_values: m.head,
            stats: m.stats,
            relative_change,
            q_value: None,
            base_support: m.base_support,
            head_support: m.head_support,
            noise_floor: m.floor,
            changed: false,
        });
    }
    // A `.per_minstr` variant is its count rescaled: it inherits the count's q value
    // instead of entering the BH family a second time.
    let tested: Vec<usize> = (0..comparisons.len())
        .filter(|i| !comparisons[*i].stats.deterministic)
        .filter(|i| !comparisons[*i].name.ends_with(PER_MILLION_SUFFIX))
        .collect();
    let q = benjamini_hochberg(
        &tested
            .iter()
            .map(|i| comparisons[*i].stats.p_value)
            .collect::<Vec<_>>(),
    );
    for (k, i) in tested.iter().enumerate() {
        comparisons[*i].q_value = Some(q[k]);
    }
    let count_q: std::collections::HashMap<String, f64> = comparisons
        .iter()
        .filter_map(|c| Some((c.name.clone(), c.q_value?)))
        .collect();
    for c in &mut comparisons {
        if c.name.ends_with(PER_MILLION_SUFFIX) && !c.stats.deterministic {
            c.q_value = count_q.get(hypothesis_key(&c.name)).copied();
        }
        let beyond_floor = c.stats.diff.abs() > c.noise_floor;
        // With fewer than 2 repeats nothing can be tested: every move counts (unverified).
        let significant =
            c.stats.deterministic || sides.unverified || c.q_value.is_some_and(|q| q < opts.alpha);
        c.changed = c.stats.diff != 0.0 && beyond_floor && significant;
    }
    (comparisons, tested.len())
}

/// Step 3: every (rule, metric) the rules apply to, with its limit tests (uncorrected p).
fn test_rules(sides: &Sides, opts: &EvalOptions) -> Vec<Candidate> {
    let mut candidates: Vec<Candidate> = vec![];
    let compare_metric = |n: &str, l: &MetricValue| sides.metric(n, l, opts);
    for (ri, rule) in opts.rules.rules.iter().enumerate() {
        // Each metric and benchmark name is matched against the rule's globs once.
        let mut metric_match = metrics::Memo::default();
        let mut bench_match = metrics::Memo::default();
        for entry in sides.all.iter() {
            let (bench, metric) = entry.split();
            let applies = if rule.metric.starts_with(metrics::BENCH_PREFIX) {
                rule.matches_metric(&entry.name())
            } else {
                match (bench, rule.per_benchmark()) {
                    (None, false) => metric_match.get(&metric, |m| rule.matches_metric(m)),
                    (Some(b), true) => {
                        bench_match.get(&b, |b| rule.matches_benchmark(b))
                            && metric_match.get(&metric, |m| rule.matches_metric(m))
                    }
                    _ => false,
                }
            };
            if applies {
                candidates.push(evaluate_candidate(
                    ri,
                    rule,
                    &entry.name(),
                    &entry.like,
                    &compare_metric,
                    sides.unverified,
                    1.0 - opts.alpha,
                ));
            }
        }
    }
    candidates
}

/// Step 4's result: corrected p per (candidate, limit test), and the Holm family's size.
struct Corrected {
    adjusted: std::collections::HashMap<(usize, usize), f64>,
    holm_family: usize,
    /// Fail-level exact permutation tests of zero-variance outcomes left out of the Holm
    /// family because their smallest p cannot reach its level (hypothesis groups).
    out_of_reach: usize,
}

/// Tarone's rule: the smallest k >= 1 such that at most k hypotheses can reach p <= alpha / k
/// (`min_p`: each one's smallest attainable p; 0 for continuous tests); returns which are
/// kept. The others can never be rejected at the family's level, so leaving them out keeps
/// the family-wise bound and stops them diluting the tests that can reject.
fn tarone(min_p: &[f64], alpha: f64) -> Vec<bool> {
    let reach = |k: usize| min_p.iter().filter(|p| **p <= alpha / k as f64).count();
    let k = (1..=min_p.len().max(1))
        .find(|k| reach(*k) <= *k)
        .unwrap_or(min_p.len().max(1));
    min_p.iter().map(|p| *p <= alpha / k as f64).collect()
}

/// Whether a candidate's rule can fail the gate (fail-level, or warn under --fail-on-warn).
fn counts_as_fail(c: &Candidate, opts: &EvalOptions) -> bool {
    opts.rules.rules[c.rule_idx].severity == Severity::Fail || opts.fail_on_warn
}

/// Step 4: Holm over fail-level tests, BH over warn-level ones (deterministic and
/// unverified tests skip both). One hypothesis per (benchmark, metric up to `.per_minstr`):
/// a rescaled variant does not inflate the families.
fn correct(candidates: &[Candidate], opts: &EvalOptions) -> Corrected {
    let mut holm_idx = vec![];
    let mut bh_idx = vec![];
    for (ci, c) in candidates.iter().enumerate() {
        if c.skipped.is_some() || c.unverified {
            continue;
        }
        for (ti, t) in c.tests.iter().enumerate() {
            if t.p.is_some() {
                if counts_as_fail(c, opts) {
                    holm_idx.push((ci, ti));
                } else {
                    bh_idx.push((ci, ti));
                }
            }
        }
    }
    let group = |(c, _): &(usize, usize)| {
        let c = &candidates[*c];
        format!(
            "{}|{}",
            c.benchmark.as_deref().unwrap_or(""),
            hypothesis_key(&c.metric)
        )
    };
    // A group's smallest attainable p: Bonferroni over its members, 0 if any is continuous.
    let keep_reachable = |idx: &mut Vec<(usize, usize)>| -> usize {
        let mut min_p: IndexMap<String, (f64, usize)> = IndexMap::new();
        for i in idx.iter() {
            let e = min_p.entry(group(i)).or_insert((f64::INFINITY, 0));
            e.0 = e.0.min(candidates[i.0].tests[i.1].min_p);
            e.1 += 1;
        }
        let p: Vec<f64> = min_p.values().map(|(p, k)| p * *k as f64).collect();
        let keep = tarone(&p, opts.alpha);
        let kept: std::collections::HashSet<&String> = min_p
            .keys()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(g, _)| g)
            .collect();
        let before = min_p.len();
        idx.retain(|i| kept.contains(&group(i)));
        before - kept.len()
    };
    let out_of_reach = keep_reachable(&mut holm_idx);
    keep_reachable(&mut bh_idx);
    // The exact permutation test joins the t test only where its smallest attainable p
    // reaches the family's strictest level (alpha / family size): below that, requiring
    // both would leave a test that can never reject, so the t test decides alone.
    let p_of = |idx: &[(usize, usize)], family: usize| -> Vec<f64> {
        let level = opts.alpha / family.max(1) as f64;
        idx.iter()
            .map(|(c, t)| {
                let (cand, test) = (&candidates[*c], &candidates[*c].tests[*t]);
                let n = cand.stats.n_base.min(cand.stats.n_head);
                let joins = n >= exact_test_from(cand.stats.paired, level);
                if joins { test.p } else { test.t_p }.unwrap_or(1.0)
            })
            .collect()
    };
    let family_size = |groups: &[String]| {
        let mut g = groups.to_vec();
        g.sort();
        g.dedup();
        g.len()
    };
    let holm_groups: Vec<String> = holm_idx.iter().map(group).collect();
    let holm_family = family_size(&holm_groups);
    let mut adjusted = std::collections::HashMap::new();
    let hp = adjust_grouped(&p_of(&holm_idx, holm_family), &holm_groups, holm);
    adjusted.extend(holm_idx.iter().copied().zip(hp));
    let bh_groups: Vec<String> = bh_idx.iter().map(group).collect();
    let bh_family = family_size(&bh_groups);
    let bp = adjust_grouped(&p_of(&bh_idx, bh_family), &bh_groups, benjamini_hochberg);
    adjusted.extend(bh_idx.iter().copied().zip(bp));
    Corrected {
        adjusted,
        holm_family,
        out_of_reach,
    }
}

/// Step 5: each candidate's outcome from its worst limit test, worst outcomes first;
/// regressions of aggregate metrics attributed to benchmarks.
fn rule_outcomes(
    candidates: Vec<Candidate>,
    corrected: &Corrected,
    sides: &Sides,
    opts: &EvalOptions,
) -> Vec<RuleOutcome> {
    // Consumed: each candidate is freed as its outcome is made (at 5,000 benchmarks there
    // are ~470,000 of each, and both at once were the comparison's peak memory).
    let mut outcomes: Vec<RuleOutcome> = candidates
        .into_iter()
        .enumerate()
        .map(|(ci, c)| {
            let mut o = outcome_for(ci, &c, &corrected.adjusted, opts);
            if o.status == OutcomeStatus::Regression && c.benchmark.is_none() {
                o.attribution = attribution(
                    &c.metric,
                    &sides.benches,
                    &sides.base_tables,
                    &sides.head_tables,
                    opts.attribution,
                );
            }
            o
        })
        .collect();
    sort_worst_first(&mut outcomes);
    outcomes
}

/// Worst status first, fail-level before warn-level within a status.
pub(crate) fn sort_worst_first(outcomes: &mut [RuleOutcome]) {
    outcomes.sort_by_key(|o| std::cmp::Reverse((o.status, o.severity == Severity::Fail)));
}

/// One candidate's outcome: the worst of its limit tests decides.
fn outcome_for(
    ci: usize,
    c: &Candidate,
    adjusted: &std::collections::HashMap<(usize, usize), f64>,
    opts: &EvalOptions,
) -> RuleOutcome {
    let rule = &opts.rules.rules[c.rule_idx];
    let d = &c.stats;
    let mut o = RuleOutcome {
        rule: rule.name.clone(),
        severity: rule.severity,
        description: rule.description.clone(),
        metric: c.metric.clone(),
        benchmark: c.benchmark.clone(),
        kind: c.kind,
        status: OutcomeStatus::Pass,
        limit: None,
        base: d.base_mean,
        head: d.head_mean,
        change: d.diff,
        relative_change: (d.base_mean != 0.0).then(|| d.diff / d.base_mean.abs()),
        ci_low: d.ci_low,
        ci_high: d.ci_high,
        p_value: None,
        p_adjusted: None,
        deterministic: d.deterministic,
        unverified: c.unverified,
        error_control: ErrorControl::None,
        noise_prior: None,
        certified: false,
        repeats_needed: None,
        attribution: vec![],
        reason: String::new(),
        accepted: None,
    };
    if let Some(why) = &c.skipped {
        o.status = OutcomeStatus::Skipped;
        o.reason = why.clone();
        return o;
    }
    if let Some(why) = &c.too_few {
        // Never decided on one sample: neither exact nor a pass.
        o.status = OutcomeStatus::Inconclusive;
        o.limit = rule.limits.first().copied();
        o.reason = why.clone();
        return o;
    }
    let mut best: Option<(OutcomeStatus, usize)> = None;
    for (ti, t) in c.tests.iter().enumerate() {
        let p_adj = adjusted.get(&(ci, ti)).copied();
        let status = if c.unverified || (t.deterministic && t.p.is_none()) {
            if t.excess > 0.0 {
                OutcomeStatus::Regression
            } else {
                OutcomeStatus::Pass
            }
        } else if t.low > 0.0 && p_adj.is_some_and(|p| p < opts.alpha) {
            OutcomeStatus::Regression
        } else if t.high <= 0.0 {
            OutcomeStatus::Pass
        } else {
            OutcomeStatus::Inconclusive
        };
        let better = match best {
            None => true,
            Some((s, bi)) => status > s || (status == s && t.excess > c.tests[bi].excess),
        };
        if better {
            best = Some((status, ti));
        }
    }
    let (status, ti) = best.expect("a rule has at least one limit");
    let t = &c.tests[ti];
    o.status = status;
    o.limit = Some(t.limit);
    o.ci_low = t.ci.0;
    o.ci_high = t.ci.1;
    o.p_value = t.p;
    o.p_adjusted = adjusted.get(&(ci, ti)).copied();
    o.deterministic = t.deterministic;
    o.certified = t.deterministic && t.p.is_none() && t.exact == ExactBasis::Certified;
    o.noise_prior = (!t.deterministic).then_some(c.prior).flatten();
    o.error_control = if c.unverified {
        ErrorControl::Unverified
    } else if t.deterministic && t.p.is_none() {
        ErrorControl::Exact
    } else if counts_as_fail(c, opts) {
        ErrorControl::Holm
    } else {
        ErrorControl::Bh
    };
    if status == OutcomeStatus::Inconclusive {
        o.repeats_needed = t.repeats_needed;
    }
    o.reason = reason_for(&o, t, opts.alpha, (d.n_base, d.n_head, d.paired));
    if let Some(p) = o.noise_prior {
        o.reason.push_str(&format!(
            " [learned noise pooled: sd {} on {:.0} df]",
            metrics::format_delta(o.kind, p.sd).trim_start_matches('+'),
            p.df
        ));
    }
    o
}

/// Step 6: the consistency checks of both sides and the pair; a note when any fails, and
/// one per side with skipped malformed lines.
fn run_checks(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<CheckReport>> {
    let checks = vec![
        check_set(base, &opts.meta_base, &opts.exceptions, "base")?,
        check_set(head, &opts.meta_head, &opts.exceptions, "head")?,
        check_pair(base, head, &opts.exceptions),
    ];
    if !checks.iter().all(|c| c.ok()) {
        let bad: Vec<String> = checks
            .iter()
            .flat_map(|c| c.violated().map(move |r| format!("{}: {}", c.label, r.id)))
            .collect();
        notes.push(format!(
            "CONSISTENCY CHECKS FAILED ({}): the data may be corrupt, so the verdict cannot be a pass; see the checks section{}",
            bad.join(", "),
            if opts.strict {
                " (an input error under --strict)"
            } else {
                " (INCONCLUSIVE at best; an input error under --strict)"
            }
        ));
    }
    for (label, set) in [("base", base), ("head", head)] {
        if !set.malformed.is_empty() {
            notes.push(format!(
                "{label}: {} malformed dump line(s) skipped (--allow-malformed)",
                set.malformed.len()
            ));
        }
    }
    Ok(checks)
}

/// Step 7: the verdict from the outcomes and checks. An open inconclusive fail-level
/// outcome is never a pass.
pub(crate) fn decide(
    outcomes: &[RuleOutcome],
    checks_ok: bool,
    strict: bool,
    fail_on_warn: bool,
    reach: Option<&Reach>,
    blind: bool,
) -> Verdict {
    let fails = outcomes.iter().any(|o| o.fails(fail_on_warn));
    let inconclusive = outcomes
        .iter()
        .any(|o| o.open_inconclusive() && (o.severity == Severity::Fail || fail_on_warn));
    if strict && !checks_ok {
        Verdict::Error
    } else if fails {
        Verdict::Regression
    } else if inconclusive
        || !checks_ok
        || blind
        || reach.is_some_and(|r| r.unreached().next().is_some())
    {
        // Totals that do not add up, a rule or a change the gate did not see, or data
        // compared with itself: never a pass.
        Verdict::Inconclusive
    } else {
        Verdict::Pass
    }
}

/// The note naming the noise file, what it may inform, and how often it did.
fn noise_note(
    noise: &crate::gate::noise::NoiseFile,
    outcomes: &[RuleOutcome],
    paired: bool,
) -> String {
    let pooled = outcomes.iter().filter(|o| o.noise_prior.is_some()).count();
    let certified = outcomes.iter().filter(|o| o.certified).count();
    format!(
        "{}; pooled into {pooled} rule check(s), {certified} decided exactly as certified",
        noise.note(paired)
    )
}

/// A benchmark whose dump counts no instruction execution (on one side or both) holds no
/// specialization data (its opcode lines are gone: cut off, filtered, only the static
/// `specializable` lines, made-up keys, or not a dump of that program): every rule would be
/// skipped on it and the gate would pass having seen nothing. An input error naming the dump.
fn ensure_both_executed(base: &StatsSet, head: &StatsSet) -> Result<(), Error> {
    let executed = crate::gate::coverage::executed;
    for (set, other) in [(base, head), (head, base)] {
        for r in &set.repeats {
            for (bench, dump) in &r.benchmarks {
                if executed(&dump.counters) > 0 {
                    continue;
                }
                let elsewhere = other
                    .repeats
                    .iter()
                    .filter_map(|o| o.benchmarks.get(bench))
                    .map(|d| executed(&d.counters))
                    .max()
                    .unwrap_or(0);
                let dump = match set.source {
                    crate::stats::set::SetSource::RawDir => {
                        set.path.join(&r.name).join(format!("{bench}.txt"))
                    }
                    crate::stats::set::SetSource::SummarizeJson => set.path.clone(),
                };
                let other_side = if elsewhere > 0 {
                    format!("while {} counts {elsewhere}", other.path.display())
                } else {
                    format!(
                        "and neither does {} (no side executed anything)",
                        other.path.display()
                    )
                };
                return Err(Error::input(format!(
                    "{}: counts no instruction execution (no `opcode[...].execution_count` line) {other_side} for {bench}: the dump lacks its opcode statistics, so no rule could check it",
                    dump.display(),
                )));
            }
        }
    }
    Ok(())
}

/// [`evaluate`] on two sets that cover the same benchmarks and repeats: pair repeats,
/// compare metrics, test rules, correct, check, decide.
fn evaluate_complete(
    base: &StatsSet,
    head: &StatsSet,
    opts: &EvalOptions,
) -> anyhow::Result<GateReport> {
    ensure_both_executed(base, head)?;
    let mut notes = opts.notes.clone();
    let mut sides = pair_repeats(base, head, opts, &mut notes)?;
    let (comparisons, tested) = compare_metrics(&sides, opts);
    let discoveries = comparisons
        .iter()
        .filter(|c| !c.stats.deterministic && c.changed)
        .count();
    let candidates = test_rules(&sides, opts);
    let checks_found: Vec<(usize, Option<&str>)> = candidates
        .iter()
        .map(|c| (c.rule_idx, c.skipped.as_deref()))
        .collect();
    let unchecked_rules = crate::gate::coverage::unchecked_rules(&opts.rules, &checks_found)?;
    // Nothing reads the names again: at 5,000 benchmarks they are 100 MB.
    sides.all = Default::default();
    let corrected = correct(&candidates, opts);
    // Said in the statistics footnote, not as a loud note: the t test still decides. The
    // exact test's reach is judged at the Holm family's strictest level, as in `correct`.
    let family_level = opts.alpha / corrected.holm_family.max(1) as f64;
    let cross_check = crate::gate::statistics::power_note(
        sides.paired,
        sides.base_tables.len(),
        sides.head_tables.len(),
        family_level,
    );
    let exact_from = exact_test_from(sides.paired, family_level);
    let sign_tested_fail_level = candidates
        .iter()
        .filter(|c| c.skipped.is_none() && !c.unverified && counts_as_fail(c, opts))
        .filter(|c| c.tests.iter().any(|t| t.sign_test))
        .count();
    let mut outcomes = rule_outcomes(candidates, &corrected, &sides, opts);
    let mut acceptances = opts.accept.clone();
    apply_acceptances(&mut outcomes, &mut acceptances, &opts.rules)?;
    let (top_movers, changed_facts, changed_in_rules) = movers(
        &comparisons,
        &outcomes,
        opts,
        &sides.benches,
        &sides.base_tables,
        &sides.head_tables,
    );
    let checks = run_checks(base, head, opts, &mut notes)?;
    if let Some(n) = &opts.noise {
        notes.push(noise_note(n, &outcomes, sides.paired));
    }
    let path_count = |path: ErrorControl| {
        outcomes
            .iter()
            .filter(|o| o.severity == Severity::Fail || opts.fail_on_warn)
            .filter(|o| o.error_control == path)
            .count()
    };
    let false_positives = FalsePositives {
        tested,
        expected_uncorrected: tested as f64 * opts.alpha,
        discoveries,
        expected_false_discoveries: discoveries as f64 * opts.alpha,
        holm_family: corrected.holm_family,
        exact_fail_level: path_count(ErrorControl::Exact),
        certified_fail_level: outcomes
            .iter()
            .filter(|o| o.certified && (o.severity == Severity::Fail || opts.fail_on_warn))
            .count(),
        sign_tested_fail_level,
        sign_tested_out_of_reach: corrected.out_of_reach,
        unverified_fail_level: path_count(ErrorControl::Unverified),
        cross_check,
        exact_from,
    };
    let checks_ok = checks.iter().all(|c| c.ok());
    let reach = opts.reach.clone().map(|mut r| {
        // Reached: non-zero in some repeat of either side (`comparisons` holds exactly those
        // aggregate metrics).
        let seen: std::collections::HashSet<&str> =
            comparisons.iter().map(|c| c.name.as_str()).collect();
        r.mark_reached(|name| seen.contains(name));
        r
    });
    let verdict = decide(
        &outcomes,
        checks_ok,
        opts.strict,
        opts.fail_on_warn,
        reach.as_ref(),
        unchecked_rules
            .iter()
            .any(|u| u.blocks_pass(opts.fail_on_warn)),
    );
    let open_outcomes = outcomes
        .iter()
        .any(|o| o.open_inconclusive() && (o.severity == Severity::Fail || opts.fail_on_warn));
    if verdict == Verdict::Inconclusive && open_outcomes {
        // The INCONCLUSIVE note says why repeats are unpaired and what to do: once is enough.
        notes.retain(|n| !n.ends_with(UNPAIRED_SUFFIX));
        notes.push(inconclusive_note(
            &outcomes,
            sides.paired,
            base,
            head,
            sides.base_tables.len().min(sides.head_tables.len()),
        ));
    }
    notes.extend(reach.as_ref().and_then(Reach::note));
    Ok(GateReport {
        schema_version: REPORT_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        verdict,
        alpha: opts.alpha,
        confidence: 1.0 - opts.alpha,
        paired: sides.paired,
        fail_on_warn: opts.fail_on_warn,
        strict: opts.strict,
        base: set_info(base, &opts.meta_base),
        head: set_info(head, &opts.meta_head),
        rules_files: opts.rules.files.clone(),
        outcomes,
        top_movers,
        changed_facts,
        changed_in_rules,
        acceptances,
        display: opts.display.clone(),
        false_positives,
        comparisons,
        checks,
        notes,
        missing_data: vec![],
        reach,
        unchecked_rules,
        same_input: vec![],
        full_report_markdown: Some(full_comparative_report(
            base,
            head,
            &opts.meta_base,
            &opts.meta_head,
        )?),
        summary_diff: None,
    })
}

/// Records that base and head are the same files (`--allow-same-input`): the verdict is
/// then at best INCONCLUSIVE, and every format says why from `same_input`.
pub fn mark_same_input(rep: &mut GateReport, shared: &[std::path::PathBuf]) {
    const SHOWN: usize = 20;
    rep.same_input = shared
        .iter()
        .take(SHOWN)
        .map(|p| p.display().to_string())
        .collect();
    if rep.verdict == Verdict::Pass {
        rep.verdict = Verdict::Inconclusive;
    }
}

/// Marks the violated and inconclusive outcomes each acceptance matches (first acceptance
/// wins) and counts the matches. Errors on an unknown rule or an acceptance matching nothing.
fn apply_acceptances(
    outcomes: &mut [RuleOutcome],
    accepts: &mut [Acceptance],
    rules: &RuleSet,
) -> anyhow::Result<()> {
    let open = |o: &RuleOutcome| {
        matches!(
            o.status,
            OutcomeStatus::Regression | OutcomeStatus::Inconclusive
        )
    };
    for a in accepts.iter_mut() {
        if !rules.rules.iter().any(|r| r.name == a.rule) {
            let names: Vec<&str> = rules.rules.iter().map(|r| r.name.as_str()).collect();
            return Err(Error::input(format!(
                "{} `{}`: no rule named {:?} (rules: {})",
                a.source,
                a.target(),
                a.rule,
                names.join(", ")
            ))
            .into());
        }
        for o in outcomes.iter_mut() {
            if open(o)
                && o.accepted.is_none()
                && a.matches(&o.rule, &o.metric, o.benchmark.as_deref())
            {
                o.accepted = Some(a.reason.clone());
                a.matched += 1;
            }
        }
        if a.matched == 0 {
            let still_open: Vec<String> = outcomes
                .iter()
                .filter(|o| o.rule == a.rule && open(o))
                .map(|o| crate::gate::metrics::metric_label(&o.metric, &o.benchmark))
                .collect();
            return Err(Error::input(format!(
                "{} `{}`: matches no violated or inconclusive outcome ({})",
                a.source,
                a.target(),
                if still_open.is_empty() {
                    format!("rule {} is not violated anywhere", a.rule)
                } else {
                    format!("rule {} is open on: {}", a.rule, still_open.join(", "))
                }
            ))
            .into());
        }
    }
    Ok(())
}

/// The changed metrics for reports: one [`Mover`] per distinct fact (metrics with identical
/// values in every repeat are folded into one, `.per_minstr` rescalings left out), biggest
/// first, the first `opts.top_movers` of those not already a violated, accepted or
/// inconclusive rule outcome; how many distinct facts changed; how many of them are in rules.
///
/// Order: changes a reader can act on first (support of at least 10 and at least 0.1%
/// relative, or 0.01 pp for ratios), each group by size (pp for ratios, relative for the rest).
fn movers(
    comparisons: &[MetricComparison],
    outcomes: &[RuleOutcome],
    opts: &EvalOptions,
    benches: &[String],
    base_tables: &[RepeatMetrics],
    head_tables: &[RepeatMetrics],
) -> (Vec<Mover>, usize, usize) {
    let in_rules: std::collections::HashSet<&str> = outcomes
        .iter()
        .filter(|o| {
            o.benchmark.is_none()
                && matches!(
                    o.status,
                    OutcomeStatus::Regression | OutcomeStatus::Inconclusive
                )
        })
        .map(|o| o.metric.as_str())
        .collect();
    // (kind, base bits, head bits) -> the metrics with exactly those values.
    type Fact = (String, Vec<u64>, Vec<u64>);
    let mut facts: IndexMap<Fact, Vec<&MetricComparison>> = IndexMap::new();
    for c in comparisons
        .iter()
        .filter(|c| c.changed && !c.name.ends_with(PER_MILLION_SUFFIX))
    {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        facts
            .entry((
                format!("{:?}", c.kind),
                bits(&c.base_values),
                bits(&c.head_values),
            ))
            .or_default()
            .push(c);
    }
    let mut ranked: Vec<(bool, f64, &Vec<&MetricComparison>)> = facts
        .values()
        .map(|group| {
            let c = group[0];
            let s = &c.stats;
            let major = c.base_support.max(c.head_support) >= 10.0
                && match c.kind {
                    MetricKind::Ratio => s.diff.abs() >= 1e-4,
                    _ => c.relative_change.is_none_or(|r| r.abs() >= 1e-3),
                };
            let score = match c.kind {
                MetricKind::Ratio => s.diff.abs(),
                _ => s.diff.abs() / s.base_mean.abs().max(s.head_mean.abs()).max(1.0),
            };
            (major, score, group)
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal))
            .then_with(|| a.2[0].name.cmp(&b.2[0].name))
    });
    let total = ranked.len();
    ranked.retain(|(_, _, group)| !group.iter().any(|c| in_rules.contains(c.name.as_str())));
    let shown = ranked
        .iter()
        .take(opts.top_movers)
        .map(|(_, _, group)| {
            let c = group[0];
            Mover {
                metric: c.name.clone(),
                kind: c.kind,
                base: c.stats.base_mean,
                head: c.stats.head_mean,
                change: c.stats.diff,
                relative_change: c.relative_change,
                ci_low: c.stats.ci_low,
                ci_high: c.stats.ci_high,
                deterministic: c.stats.deterministic,
                q_value: c.q_value,
                attribution: attribution(
                    &c.name,
                    benches,
                    base_tables,
                    head_tables,
                    opts.attribution,
                ),
                same_as: group[1..].iter().map(|x| x.name.clone()).collect(),
            }
        })
        .collect();
    (shown, total, total - ranked.len())
}

/// The INCONCLUSIVE note: the actual cause and the command that settles it.
fn inconclusive_note(
    outcomes: &[RuleOutcome],
    paired: bool,
    base: &StatsSet,
    head: &StatsSet,
    repeats: usize,
) -> String {
    let open: Vec<&RuleOutcome> = outcomes.iter().filter(|o| o.open_inconclusive()).collect();
    let mut causes = vec![];
    if !paired {
        let missing: Vec<&str> = [("base", base), ("head", head)]
            .iter()
            .filter(|(_, s)| !s.has_seeds())
            .map(|(l, _)| *l)
            .collect();
        causes.push(if missing.is_empty() {
            "the repeats are unpaired because base and head ran with different PYTHONHASHSEEDs, so seed-to-seed noise widens every interval: run both sides with the same --repeats (repeat k uses seed k)".to_string()
        } else {
            format!(
                "the repeats are unpaired because {} carries no seeds (no manifest.json), so seed-to-seed noise widens every interval: produce both sets with `pystats-gate run --repeats N` (or `gate`), or add a manifest.json with the seeds (docs/manifest.md)",
                missing.join(" and ")
            )
        });
    }
    // Repeats that would decide, when a finite number would.
    const FEW_ENOUGH: usize = 50;
    let needed = open
        .iter()
        .filter_map(|o| o.repeats_needed)
        .filter(|n| *n <= FEW_ENOUGH)
        .max();
    if let Some(n) = needed {
        causes.push(format!(
            "too few repeats for the noise seen: about {n} repeats per side would decide; settle it with `pystats-gate gate ... --repeats auto` (it adds paired repeats and spends alpha over its planned looks); rerunning at a fixed `--repeats {n}` and judging again at full alpha would be a second look at the same question, which raises the false-failure rate"
        ));
    }
    let borderline: Vec<String> = open
        .iter()
        .filter(|o| o.repeats_needed.is_none_or(|n| n > FEW_ENOUGH))
        .map(|o| format!("`{}` ({})", o.metric, o.rule))
        .collect();
    if !borderline.is_empty() {
        causes.push(format!(
            "the change sits on the limit for {}: more repeats barely help; if the change is intended accept it (`--accept 'RULE:METRIC because REASON'` or a `Pystats-Accept:` trailer), otherwise fix it or adjust the rule (docs/rules.md)",
            borderline.join(", ")
        ));
    }
    format!(
        "INCONCLUSIVE: {} rule check(s) could not be decided with {repeats} repeat(s): {}. `--strict` fails the gate on this",
        open.len(),
        causes.join("; ")
    )
}

fn evaluate_candidate(
    rule_idx: usize,
    rule: &Rule,
    name: &str,
    like: &MetricValue,
    compare_metric: &dyn Fn(&str, &MetricValue) -> MetricSamples,
    unverified: bool,
    confidence: f64,
) -> Candidate {
    let (bench, metric) = split_bench(name);
    let m = compare_metric(name, like);
    let (bv, hv, stats, sb, sh) = (&m.base, &m.head, &m.stats, m.base_support, m.head_support);
    let mut skipped = None;
    let mut too_few = None;
    if bv.is_empty() || hv.is_empty() {
        skipped = Some(
            "no comparable sample: the ratio's denominator is zero in the repeats of one side"
                .to_string(),
        );
    } else if let Some(min) = rule.min_count {
        let forbid_only = rule
            .limits
            .iter()
            .all(|l| l.kind == LimitKind::ForbidAppearing);
        let support = if forbid_only { sh } else { sb.max(sh) };
        if support < min {
            skipped = Some(format!(
                "{} {} below min_count {}",
                if like.kind == MetricKind::Ratio {
                    "denominator"
                } else {
                    "count"
                },
                metrics::format_value(MetricKind::Count, support.round()),
                // A huge limit (`1e300`) stays short in every message.
                if min >= 1e15 {
                    format!("{min:e}")
                } else {
                    min.to_string()
                }
            ));
        }
    }
    if skipped.is_none() && !unverified && bv.len().min(hv.len()) < 2 {
        too_few = Some(format!(
            "only {} base and {} head sample(s) left after repeats with a zero denominator: too few to decide (not exact, not a pass)",
            bv.len(),
            hv.len()
        ));
    }
    let mut tests = vec![];
    for limit in &rule.limits {
        if limit.kind == LimitKind::ForbidAppearing && bv.iter().any(|v| *v != 0.0) {
            // Present in base: it did not appear.
            tests.push(LimitTest {
                limit: *limit,
                excess: f64::NEG_INFINITY,
                low: f64::NEG_INFINITY,
                high: f64::NEG_INFINITY,
                p: None,
                t_p: None,
                deterministic: true,
                repeats_needed: None,
                ci: (stats.ci_low, stats.ci_high),
                exact: ExactBasis::PairedAssumed,
                sign_test: false,
                min_p: 0.0,
            });
            continue;
        }
        tests.push(limit_test(*limit, &m, confidence));
    }
    Candidate {
        rule_idx,
        metric: metric.to_string(),
        benchmark: bench.map(str::to_string),
        kind: like.kind,
        stats: m.stats.clone(),
        prior: m.prior,
        tests,
        skipped,
        too_few,
        unverified,
    }
}

fn reason_for(
    o: &RuleOutcome,
    t: &LimitTest,
    alpha: f64,
    (nb, nh, paired): (usize, usize, bool),
) -> String {
    let limit = t.limit;
    let lim = crate::gate::rules::fmt_limit(o.kind, &Some(limit));
    let change = metrics::format_delta(o.kind, o.change);
    let correction = if o.error_control == ErrorControl::Bh {
        "Benjamini-Hochberg-adjusted"
    } else {
        "Holm-adjusted"
    };
    let exact_test = if paired {
        format!("the exact sign-flip test at the limit over {nb} pair(s)")
    } else {
        format!("the exact two-sample permutation test at the limit ({nb} + {nh} repeats)")
    };
    match o.status {
        OutcomeStatus::Regression if o.unverified => format!("changed {change}, beyond {lim} (UNVERIFIED: fewer than 2 repeats)"),
        OutcomeStatus::Regression if t.p.is_none() && o.certified => format!("changed {change} in every repeat, beyond {lim} (exact: zero variance, certified deterministic by the noise file)"),
        OutcomeStatus::Regression if t.p.is_none() => format!("changed {change} in every repeat, beyond {lim} (exact: zero paired variance; assumes the counters are fixed by build, corpus and seed)"),
        OutcomeStatus::Regression if t.sign_test => format!(
            "changed {change} in every repeat, beyond {lim}; not certified deterministic, so {exact_test} decides: {correction} p = {:.3} < {alpha}",
            o.p_adjusted.unwrap_or(0.0)
        ),
        OutcomeStatus::Regression => format!(
            "changed {change}; the whole {:.0}% interval is beyond {lim}, {correction} p = {:.3} < {alpha}",
            (1.0 - alpha) * 100.0,
            o.p_adjusted.unwrap_or(0.0)
        ),
        OutcomeStatus::Inconclusive if t.sign_test => match o.p_adjusted {
            None => format!(
                "changed {change} in every repeat, beyond {lim}, but not certified deterministic (`calibrate`: constant over >= 10 seeds): {exact_test} cannot reach its family's level (smallest p {:.4}); certify it or add repeats (`--repeats auto`)",
                t.min_p
            ),
            Some(p) => format!(
                "changed {change} in every repeat, beyond {lim}, but not certified deterministic: {exact_test} gives {correction} p = {p:.3}, not below {alpha}"
            ),
        },
        OutcomeStatus::Inconclusive if t.low > 0.0 => format!(
            "changed {change}; the whole {:.0}% interval is beyond {lim}, but the {correction} p = {:.3} is not below {alpha}{}",
            (1.0 - alpha) * 100.0,
            o.p_adjusted.unwrap_or(1.0),
            if o.p_value.is_some_and(|p| p < alpha) {
                " (significant alone: the multiple-testing correction over the family is what failed)"
            } else {
                ""
            }
        ),
        OutcomeStatus::Inconclusive => format!(
            "changed {change}; the {:.0}% interval straddles {lim}{}",
            (1.0 - alpha) * 100.0,
            match t.repeats_needed {
                Some(n) => format!("; about {n} repeats per side would decide"),
                None => "; more repeats are needed".to_string(),
            }
        ),
        OutcomeStatus::Pass if o.change == 0.0 => format!("unchanged, within {lim}"),
        OutcomeStatus::Pass if t.deterministic => format!("changed {change}, within {lim}"),
        OutcomeStatus::Pass => format!(
            "changed {change}, within {lim} (one-sided {:.0}% bound)",
            (1.0 - alpha) * 100.0
        ),
        OutcomeStatus::Skipped => String::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::stats::set::real_fixture as real;

    pub(crate) fn opts() -> EvalOptions {
        let m = Metadata::embedded("3.13").unwrap();
        EvalOptions::with_defaults(m.clone(), m).unwrap()
    }

    /// Plants more BINARY_OP misses in head (members and family), keeping invariants true.
    pub(crate) fn plant_binary_op_misses(set: &mut StatsSet, extra: u64) {
        for r in &mut set.repeats {
            let c = &mut r.benchmarks.get_mut("arith").unwrap().counters;
            let moved = extra.min(c.get("opcode[BINARY_OP].specialization.hit"));
            move_binary_op_hits_to_misses(c, moved);
        }
    }

    /// Turns `n` BINARY_OP hits of one dump into misses (family and member), so the
    /// consistency checks still hold.
    fn move_binary_op_hits_to_misses(c: &mut crate::stats::raw::Counters, n: u64) {
        let hit = c.get("opcode[BINARY_OP].specialization.hit");
        c.set("opcode[BINARY_OP].specialization.hit", hit - n);
        c.set(
            "opcode[BINARY_OP].specialization.miss",
            c.get("opcode[BINARY_OP].specialization.miss") + n,
        );
        c.set(
            "opcode[BINARY_OP_ADD_INT].specialization.miss",
            c.get("opcode[BINARY_OP_ADD_INT].specialization.miss") + n,
        );
    }

    #[test]
    fn a_pass_over_changed_code_no_counter_reached_is_inconclusive() {
        use crate::gate::reach::{Place, PlaceKind};
        let place = |counter: &str| Place {
            file: "Python/specialize.c".into(),
            line: 7,
            end_line: 7,
            scope: "f".into(),
            kind: PlaceKind::FailureKind,
            counters: vec![counter.into()],
            reached: true,
        };
        let mut o = opts();
        o.reach = Some(Reach {
            places: vec![
                place("family.LOAD_ATTR.failure_kind.no_such_kind_anywhere"),
                place("total.instructions"),
            ],
            ..Default::default()
        });
        let rep = evaluate(&real("aa-base"), &real("aa-head"), &o).unwrap();
        assert_eq!(rep.verdict, Verdict::Inconclusive, "{:#?}", rep.notes);
        assert_eq!(exit_code(&rep, false), EXIT_PASS);
        assert_eq!(exit_code(&rep, true), EXIT_GATE_FAILED);
        let reach = rep.reach.as_ref().unwrap();
        assert_eq!(
            reach.places.iter().map(|p| p.reached).collect::<Vec<_>>(),
            [false, true]
        );
        let note = rep.notes.last().unwrap();
        assert!(note.starts_with("UNREACHED CHANGE: 1 of 2"), "{note}");
        assert!(note.contains(
            "Python/specialize.c:7 (f: family.LOAD_ATTR.failure_kind.no_such_kind_anywhere = 0"
        ));
        // No INCONCLUSIVE note about rule outcomes: none is open.
        assert!(!rep.notes.iter().any(|n| n.starts_with("INCONCLUSIVE:")));
        // Everything reached: the pass stands.
        o.reach.as_mut().unwrap().places.truncate(0);
        o.reach
            .as_mut()
            .unwrap()
            .places
            .push(place("total.instructions"));
        let rep = evaluate(&real("aa-base"), &real("aa-head"), &o).unwrap();
        assert_eq!(rep.verdict, Verdict::Pass);
        // A regression stays a regression.
        o.reach.as_mut().unwrap().places[0].counters = vec!["x.never".into()];
        let mut head = real("aa-head");
        plant_binary_op_misses(&mut head, 2000);
        let rep = evaluate(&real("aa-base"), &head, &o).unwrap();
        assert_eq!(rep.verdict, Verdict::Regression);
        assert!(rep.notes.iter().any(|n| n.starts_with("UNREACHED CHANGE:")));
    }

    /// The simulator's entry decides exactly as `evaluate` on the same tables.
    #[test]
    fn decide_tables_decides_as_evaluate() {
        let o = opts();
        let base = real("aa-base");
        let mut head = real("aa-head");
        plant_binary_op_misses(&mut head, 2000);
        let rep = evaluate(&base, &head, &o).unwrap();
        let tables = |s: &StatsSet| metrics::set_repeat_metrics(s, &o.meta_base, true).unwrap();
        let (verdict, outcomes) = decide_tables(tables(&base), tables(&head), true, &o).unwrap();
        assert_eq!(verdict, rep.verdict);
        assert_eq!(verdict, Verdict::Regression);
        let key = |o: &RuleOutcome| (o.rule.clone(), o.metric.clone(), o.benchmark.clone());
        let view = |v: &[RuleOutcome]| {
            let mut v: Vec<_> = v.iter().map(|o| (key(o), o.status, o.p_adjusted)).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            v
        };
        assert_eq!(view(&outcomes), view(&rep.outcomes));
    }

    #[test]
    fn aa_passes() {
        let rep = evaluate(&real("aa-base"), &real("aa-head"), &opts()).unwrap();
        assert_eq!(
            rep.verdict,
            Verdict::Pass,
            "{:#?}",
            rep.outcomes
                .iter()
                .filter(|o| o.status != OutcomeStatus::Pass)
                .collect::<Vec<_>>()
        );
        assert!(rep.paired);
        assert!(rep.checks_ok());
        assert!(rep.top_movers.is_empty());
        // Near-deterministic counters: the exact path decides, and the footer says so.
        assert!(rep
            .outcomes
            .iter()
            .any(|o| o.error_control == ErrorControl::Exact));
        assert!(rep.outcomes.iter().all(
            |o| (o.status == OutcomeStatus::Skipped) == (o.error_control == ErrorControl::None)
        ));
        // `.per_minstr` variants inherit their count's q and stay out of the BH family.
        let q = |n: &str| {
            rep.comparisons
                .iter()
                .find(|c| c.name == n)
                .unwrap()
                .q_value
        };
        assert!(q("objects.decrefs").is_some());
        assert_eq!(q("objects.decrefs"), q("objects.decrefs.per_minstr"));
        let varied = rep.comparisons.iter().filter(|c| !c.stats.deterministic);
        assert_eq!(
            rep.false_positives.tested,
            varied
                .filter(|c| !c.name.ends_with(PER_MILLION_SUFFIX))
                .count()
        );
    }

    /// `name`'s three repeats plus two more (copies of its first two under seeds 4 and 5).
    fn five_repeats(name: &str) -> StatsSet {
        let mut set = real(name);
        let extra: Vec<_> = set.repeats[..2]
            .iter()
            .cloned()
            .enumerate()
            .map(|(k, mut r)| {
                r.seed = Some(4 + k as u64);
                r.name = format!("run-{}", 4 + k);
                r
            })
            .collect();
        set.repeats.extend(extra);
        set
    }

    /// At 5 pairs the exact sign-flip test's smallest p (1/32) reaches alpha but not alpha / 2:
    /// in a Holm family of several hypotheses it must not veto the t test, or no noisy
    /// regression could ever fail there.
    #[test]
    fn a_clear_noisy_regression_fails_at_five_pairs_in_a_family_of_several() {
        let base = five_repeats("aa-base");
        let head = noisy(five_repeats("aa-head"), &[2000, 2600, 1500, 3100, 2200]);
        let rep = evaluate(&base, &head, &opts()).unwrap();
        let fp = &rep.false_positives;
        assert!(fp.holm_family >= 2, "{fp:#?}");
        assert!(fp.exact_from > 5, "{fp:#?}");
        assert_eq!(rep.verdict, Verdict::Regression, "{:#?}", rep.notes);
        assert!(rep
            .failing()
            .any(|o| o.metric == "family.BINARY_OP.miss_ratio" && o.benchmark.is_none()));
    }

    #[test]
    fn planted_miss_regression_fails_naming_family() {
        let mut head = real("aa-head");
        plant_binary_op_misses(&mut head, 2000);
        let rep = evaluate(&real("aa-base"), &head, &opts()).unwrap();
        assert_eq!(rep.verdict, Verdict::Regression);
        let f: Vec<&RuleOutcome> = rep.failing().collect();
        assert!(
            f.iter().any(|o| o.metric == "family.BINARY_OP.miss_ratio"),
            "{f:#?}"
        );
        let o = f
            .iter()
            .find(|o| o.metric == "family.BINARY_OP.miss_ratio")
            .unwrap();
        assert_eq!(o.attribution[0].benchmark, "arith");
        assert!(
            rep.checks_ok(),
            "{:?}",
            crate::gate::check::render_text(&rep.checks, false)
        );
    }

    /// Adds per-repeat noise to whole-process-like counters and the BINARY_OP family, so
    /// statistics (not only the exact path) are exercised.
    pub(crate) fn noisy(mut set: StatsSet, noise: &[u64]) -> StatsSet {
        for (r, n) in set.repeats.iter_mut().zip(noise.iter().cycle()) {
            let c = &mut r.benchmarks.get_mut("arith").unwrap().counters;
            move_binary_op_hits_to_misses(c, *n);
            c.set("Object allocations", c.get("Object allocations") + n * 7);
        }
        set
    }

    fn statuses(rep: &GateReport) -> Vec<(String, String, OutcomeStatus)> {
        let mut v: Vec<_> = rep
            .outcomes
            .iter()
            .map(|o| (o.rule.clone(), o.metric.clone(), o.status))
            .collect();
        v.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        v
    }

    proptest::proptest! {
        #![proptest_config(crate::testing::proptest_config(24))]

        #[test]
        fn verdict_is_invariant_to_repeat_order(
            base_noise in proptest::collection::vec(0u64..400, 3),
            head_noise in proptest::collection::vec(0u64..3000, 3),
            rot in 0usize..3,
            swap in proptest::bool::ANY,
        ) {
            let base = noisy(real("aa-base"), &base_noise);
            let head = noisy(real("aa-head"), &head_noise);
            let o = opts();
            let before = evaluate(&base, &head, &o).unwrap();
            let mut b2 = base.clone();
            let mut h2 = head.clone();
            b2.repeats.rotate_left(rot);
            if swap { h2.repeats.swap(0, 2); } else { h2.repeats.rotate_right(1); }
            let after = evaluate(&b2, &h2, &o).unwrap();
            proptest::prop_assert_eq!(before.verdict, after.verdict);
            proptest::prop_assert_eq!(statuses(&before), statuses(&after));
        }

        #[test]
        fn a_bigger_regression_never_passes(
            head_noise in proptest::collection::vec(0u64..800, 3),
            planted in 0u64..2500,
            extra in 1u64..2500,
        ) {
            let base = real("aa-base");
            let o = opts();
            let mut small = noisy(real("aa-head"), &head_noise);
            plant_binary_op_misses(&mut small, planted);
            let mut big = noisy(real("aa-head"), &head_noise);
            plant_binary_op_misses(&mut big, planted + extra);
            let small_rep = evaluate(&base, &small, &o).unwrap();
            let big_rep = evaluate(&base, &big, &o).unwrap();
            // Pass < Inconclusive < Regression: a bigger regression never ranks lower.
            let verdict_rank = |v: Verdict| match v {
                Verdict::Pass => 0,
                Verdict::Inconclusive => 1,
                Verdict::Regression | Verdict::Error => 2,
            };
            proptest::prop_assert!(
                verdict_rank(big_rep.verdict) >= verdict_rank(small_rep.verdict),
                "{:?} then {:?}", small_rep.verdict, big_rep.verdict
            );
            let rank = |r: &GateReport| {
                let o = r.outcomes.iter().find(|x| x.metric == "family.BINARY_OP.miss_ratio");
                match o.map(|x| x.status) {
                    Some(OutcomeStatus::Regression) => 2,
                    Some(OutcomeStatus::Inconclusive) => 1,
                    _ => 0,
                }
            };
            proptest::prop_assert!(rank(&big_rep) >= rank(&small_rep));
        }
    }

    #[test]
    fn single_repeat_is_unverified() {
        let mut base = real("aa-base");
        let mut head = real("aa-head");
        base.repeats.truncate(1);
        head.repeats.truncate(1);
        plant_binary_op_misses(&mut head, 2000);
        let rep = evaluate(&base, &head, &opts()).unwrap();
        assert_eq!(rep.verdict, Verdict::Regression);
        assert!(rep
            .failing()
            .all(|o| o.unverified && o.error_control == ErrorControl::Unverified));
        assert!(rep.false_positives.unverified_fail_level > 0);
        assert!(rep.notes.iter().any(|n| n.starts_with("UNVERIFIED")));
    }

    #[test]
    fn noisy_change_straddling_the_limit_is_inconclusive() {
        // Misses vary a lot between repeats, unpaired: the interval straddles +1 pp.
        let base = real("aa-base");
        let mut head = noisy(real("aa-head"), &[0, 600, 30]);
        for r in &mut head.repeats {
            r.seed = None;
        }
        let rep = evaluate(&base, &head, &opts()).unwrap();
        let o = rep
            .outcomes
            .iter()
            .find(|o| o.metric == "family.BINARY_OP.miss_ratio")
            .unwrap();
        assert_eq!(o.status, OutcomeStatus::Inconclusive, "{o:#?}");
        assert!(o.repeats_needed.is_some_and(|n| n > 3), "{o:#?}");
        assert_eq!(rep.verdict, Verdict::Inconclusive);
        // The note names the causes and the commands that settle them.
        let note = rep
            .notes
            .iter()
            .find(|n| n.starts_with("INCONCLUSIVE"))
            .unwrap();
        assert!(
            note.contains("unpaired because head carries no seeds (no manifest.json)"),
            "{note}"
        );
        assert!(note.contains("docs/manifest.md"), "{note}");
        let n = rep
            .inconclusive()
            .filter_map(|x| x.repeats_needed)
            .filter(|n| *n <= 50)
            .max()
            .unwrap_or(usize::MAX);
        if n <= 50 {
            // The sequential procedure with its alpha spending, not a second look at full
            // alpha with a fixed repeat count.
            assert!(
                note.contains(&format!("too few repeats for the noise seen: about {n} repeats per side would decide; settle it with `pystats-gate gate ... --repeats auto`")),
                "{note}"
            );
            assert!(
                !note.contains(&format!(
                    "settle it with `pystats-gate gate ... --repeats {n}`"
                )),
                "{note}"
            );
            assert!(note.contains("second look"), "{note}");
        } else {
            assert!(note.contains("sits on the limit"), "{note}");
        }
        assert!(!note.contains("compare --repeats"), "{note}");
        assert_eq!(exit_code(&rep, true), EXIT_GATE_FAILED);
        assert_eq!(exit_code(&rep, false), EXIT_PASS);
    }

    /// Only `rules` (TOML text) as the rule set.
    fn with_rules(rules: &str) -> EvalOptions {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.toml");
        std::fs::write(&f, rules).unwrap();
        let mut o = opts();
        o.rules = RuleSet::load(&f).unwrap();
        o
    }

    const MISS_RULE: &str =
        "[[rule]]\nname = \"miss\"\nmetric = \"family.BINARY_OP.miss_ratio\"\nmax_increase = 0.01\n";

    /// A noise file learned on `seeds` seeds, `paired` as recorded, with `metric`'s spread
    /// (`sd`, also as its fence) or, for `sd` None, `metric` constant.
    fn noise_file(
        metric: &str,
        sd: Option<f64>,
        seeds: usize,
        paired: Option<bool>,
    ) -> crate::gate::noise::NoiseFile {
        let mut metrics = std::collections::BTreeMap::new();
        if let Some(sd) = sd {
            metrics.insert(
                metric.to_string(),
                crate::gate::noise::MetricNoise {
                    threshold: 3.391 * sd,
                    max: 3.0 * sd,
                    pairs: seeds * (seeds - 1) / 2,
                    sd: Some(sd),
                    df: Some((seeds - 1) as f64),
                    paired_sd: None,
                    paired_df: None,
                },
            );
        }
        crate::gate::noise::NoiseFile {
            schema_version: 1,
            tool_version: "test".into(),
            method: "test".into(),
            sources: vec!["test".into()],
            repeats: seeds,
            metrics,
            seeds,
            paired,
            constant: if sd.is_none() {
                vec![metric.to_string()]
            } else {
                vec![]
            },
        }
    }

    fn unseeded(mut set: StatsSet) -> StatsSet {
        set.manifest = None;
        for r in &mut set.repeats {
            r.seed = None;
        }
        set
    }

    fn outcome<'a>(rep: &'a GateReport, metric: &str) -> &'a RuleOutcome {
        rep.outcomes
            .iter()
            .find(|o| o.metric == metric && o.benchmark.is_none())
            .unwrap_or_else(|| panic!("no {metric} outcome"))
    }

    /// Issue 20, 1: calibration informs the test, it never moves the limit, and it never
    /// turns an open question into a PASS. A paired regression of about 2.6 pp against a
    /// noise file whose (old) fence would have floored the limit far above it: the file was
    /// not learned paired, so it does not inform the paired repeats; it says BINARY_OP's miss
    /// ratio varies with the seed, so constant paired differences are tested, not trusted.
    #[test]
    fn learned_noise_never_moves_the_limit_nor_passes_a_regression() {
        let base = real("aa-base");
        let mut head = real("aa-head");
        plant_binary_op_misses(&mut head, 2000);
        let metric = "family.BINARY_OP.miss_ratio";
        let mut o = with_rules(MISS_RULE);
        o.noise = Some(noise_file(metric, Some(0.5), 12, None));
        let rep = evaluate(&base, &head, &o).unwrap();
        let x = outcome(&rep, metric);
        assert_ne!(x.status, OutcomeStatus::Pass, "{x:#?}");
        assert!(x.noise_prior.is_none(), "{x:#?}");
        assert!(
            rep.notes.iter().any(|n| n.contains("read as unpaired, so it does not inform these paired repeats")),
            "{:#?}",
            rep.notes
        );
        // Unpaired, the learned spread is pooled into the test (with its 11 df), and with a
        // spread far above the change it is an open question, not a pass.
        let rep = evaluate(&unseeded(base.clone()), &unseeded(head.clone()), &o).unwrap();
        let x = outcome(&rep, metric);
        assert_eq!(x.status, OutcomeStatus::Inconclusive, "{x:#?}");
        assert_eq!(x.noise_prior.map(|p| p.df), Some(11.0));
        assert!(x.ci_high > 0.01 && x.ci_low < 0.01, "{x:#?}");
        // A small learned spread gives the 3 unpaired repeats the degrees of freedom to
        // decide the same change: it informs the test instead of widening the limit.
        o.noise = Some(noise_file(metric, Some(0.0005), 12, Some(false)));
        let rep = evaluate(&unseeded(base), &unseeded(head), &o).unwrap();
        let x = outcome(&rep, metric);
        assert_eq!(x.status, OutcomeStatus::Regression, "{x:#?}");
        assert_eq!(x.error_control, ErrorControl::Holm);
        assert!(x.reason.contains("learned noise pooled"), "{}", x.reason);
    }

    /// Issue 20, 2: zero variance between different seeds (unpaired) is decided exactly only
    /// when calibration certified the metric deterministic (constant over >= 10 seeds);
    /// otherwise the exact two-sample permutation test decides inside the Holm family, and
    /// its smallest p at 3 + 3 repeats (1/20) cannot fail the gate. The footer counts both.
    #[test]
    fn zero_variance_is_exact_only_when_certified() {
        let base = unseeded(real("aa-base"));
        let mut head = real("aa-head");
        plant_binary_op_misses(&mut head, 2000);
        let head = unseeded(head);
        let metric = "family.BINARY_OP.miss_ratio";
        let o = with_rules(MISS_RULE);
        let rep = evaluate(&base, &head, &o).unwrap();
        let x = outcome(&rep, metric);
        assert!(x.deterministic, "{x:#?}");
        assert_eq!(x.status, OutcomeStatus::Inconclusive, "{x:#?}");
        assert_eq!(x.error_control, ErrorControl::Holm);
        assert!(
            x.reason.contains("not certified deterministic"),
            "{}",
            x.reason
        );
        assert!(x.reason.contains("two-sample permutation"), "{}", x.reason);
        let fp = &rep.false_positives;
        assert_eq!(
            (fp.sign_tested_fail_level, fp.exact_fail_level),
            (1, 0),
            "{fp:#?}"
        );
        // Certified by a calibration over 12 seeds: exact, and the footer says on what basis.
        let mut c = o.clone();
        c.noise = Some(noise_file(metric, None, 12, Some(false)));
        let rep = evaluate(&base, &head, &c).unwrap();
        let x = outcome(&rep, metric);
        assert_eq!(x.status, OutcomeStatus::Regression, "{x:#?}");
        assert_eq!(x.error_control, ErrorControl::Exact);
        assert!(
            x.certified && x.reason.contains("certified deterministic"),
            "{x:#?}"
        );
        assert_eq!(rep.false_positives.certified_fail_level, 1);
        // Constant over only 9 seeds certifies nothing.
        c.noise = Some(noise_file(metric, None, 9, Some(false)));
        let rep = evaluate(&base, &head, &c).unwrap();
        assert_eq!(outcome(&rep, metric).status, OutcomeStatus::Inconclusive);
    }

    /// Issue 20, 6: the interval beyond the limit but the correction failing is not called
    /// "straddles". One rule, 5 pairs: the exact sign-flip test joins; one pair's change
    /// (0.9 pp) is below the 1 pp limit, so its p is 2/32 although the t interval clears it.
    #[test]
    fn the_reason_names_the_failed_correction_not_a_straddle() {
        let metric = "family.BINARY_OP.miss_ratio";
        let base = five_repeats("aa-base");
        let tables = metrics::set_metrics(&base, &opts().meta_base, true).unwrap();
        let den = tables[0][metric].den.unwrap();
        let moves: Vec<u64> = [0.9, 5.0, 5.0, 5.0, 5.0]
            .iter()
            .map(|pp| (pp / 100.0 * den).round() as u64)
            .collect();
        let head = noisy(five_repeats("aa-head"), &moves);
        let rep = evaluate(&base, &head, &with_rules(MISS_RULE)).unwrap();
        let x = outcome(&rep, metric);
        assert_eq!(x.status, OutcomeStatus::Inconclusive, "{x:#?}");
        assert!(x.ci_low > 0.01, "{x:#?}");
        assert!(x.reason.contains("Holm-adjusted p = 0.062"), "{}", x.reason);
        assert!(!x.reason.contains("straddles"), "{}", x.reason);
    }

    /// Issue 20, 6: a ratio left with one sample per side after zero denominators is never
    /// decided (exactly or otherwise): INCONCLUSIVE, saying why.
    #[test]
    fn a_ratio_with_one_sample_left_is_inconclusive() {
        let zero_binary_op = |mut set: StatsSet| {
            for r in &mut set.repeats[1..] {
                let c = &mut r.benchmarks.get_mut("attrs").unwrap().counters;
                let keys: Vec<String> = c
                    .iter()
                    .filter(|(k, _)| {
                        k.starts_with("opcode[BINARY_OP]")
                            && (k.ends_with("specialization.hit")
                                || k.ends_with("specialization.miss")
                                || k.ends_with("execution_count"))
                    })
                    .map(|(k, _)| k.to_string())
                    .collect();
                for k in keys {
                    c.set(&k, 0);
                }
            }
            set
        };
        let o = with_rules(
            "[[rule]]\nname = \"miss\"\nmetric = \"family.BINARY_OP.miss_ratio\"\nbenchmarks = [\"attrs\"]\nmax_increase = 0.01\n",
        );
        let rep = evaluate(
            &zero_binary_op(real("aa-base")),
            &zero_binary_op(real("aa-head")),
            &o,
        )
        .unwrap();
        let x = rep
            .outcomes
            .iter()
            .find(|x| x.benchmark.as_deref() == Some("attrs"))
            .unwrap();
        assert_eq!(x.status, OutcomeStatus::Inconclusive, "{x:#?}");
        assert!(
            x.reason.contains("only 1 base and 1 head sample(s)"),
            "{}",
            x.reason
        );
        assert_ne!(x.error_control, ErrorControl::Exact);
        assert_ne!(rep.verdict, Verdict::Pass);
    }

    /// Tarone's rule: tests whose smallest p cannot reach alpha / k leave the family.
    #[test]
    fn tarone_keeps_only_tests_that_can_reach_the_family_level() {
        // One t test (0) and 30 exact tests whose smallest p is 1/32: k = 2 keeps the t test.
        let mut p = vec![0.0];
        p.extend(std::iter::repeat_n(1.0 / 32.0, 30));
        let keep = tarone(&p, 0.05);
        assert!(keep[0] && keep[1..].iter().all(|k| !k));
        // Two exact tests at 1/64 and a t test: k = 3 keeps all (1/64 <= 0.05/3).
        assert_eq!(tarone(&[0.0, 1.0 / 64.0, 1.0 / 64.0], 0.05), vec![true; 3]);
        assert_eq!(tarone(&[], 0.05), Vec::<bool>::new());
    }

    #[test]
    fn per_benchmark_rules_name_the_benchmark() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.toml");
        std::fs::write(
            &f,
            "[[rule]]\nname = \"per-bench\"\nmetric = \"family.*.miss_ratio\"\nbenchmarks = [\"ar*\"]\nmax_increase = 0.01\n",
        )
        .unwrap();
        let mut o = opts();
        o.rules = RuleSet::load(&f).unwrap();
        let mut head = real("aa-head");
        plant_binary_op_misses(&mut head, 2000);
        let rep = evaluate(&real("aa-base"), &head, &o).unwrap();
        let bad: Vec<&RuleOutcome> = rep.failing().collect();
        assert_eq!(bad.len(), 1, "{bad:#?}");
        assert_eq!(bad[0].benchmark.as_deref(), Some("arith"));
        assert_eq!(bad[0].metric, "family.BINARY_OP.miss_ratio");
        assert!(rep
            .outcomes
            .iter()
            .all(|x| x.benchmark.as_deref() == Some("arith")));
    }
}

//! The comparison's report model: [`GateReport`] and its parts, the options of [`crate::gate::evaluate::evaluate`], exit codes.
//!
//! Computed by [`crate::gate::evaluate`]; renderers in `crate::report` only format it.

use crate::error::{EXIT_GATE_FAILED, EXIT_INPUT, EXIT_PASS};
use crate::gate::accept::Acceptance;
use crate::gate::check::{CheckExceptions, CheckReport};
use crate::gate::coverage::UncheckedRule;
use crate::gate::metrics::MetricKind;
use crate::gate::notes::{Note, Reason};
use crate::gate::reach::Reach;
use crate::gate::rules::{Limit, RuleSet, Severity};
use crate::gate::statistics::{DiffStats, ErrorControl, NoisePrior};
use crate::stats::metadata::Metadata;
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
    pub notes: Vec<crate::gate::notes::Note>,
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
    /// Why, in one sentence (`report::prose`).
    pub reason: Reason,
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

/// The full comparative summary of base and head (summarize_stats.py's tables), as data;
/// renderers say it (`Serialize` is in `report`: report.json holds its markdown).
#[derive(Clone, Debug, PartialEq)]
pub struct FullSummary(pub crate::stats::summary::SummaryDoc);

/// The single-set summaries of base and head (`--diff`), as data; `report` renders their
/// unified diff (`Serialize` is in `report`: report.json holds the diff's text).
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryDiff {
    pub base: crate::stats::summary::SummaryDoc,
    pub head: crate::stats::summary::SummaryDoc,
    /// The sets' paths, the diff's header.
    pub base_label: String,
    pub head_label: String,
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
    pub notes: Vec<Note>,
    /// What one side lacked that the other had, when `--allow-missing-benchmarks` let the
    /// comparison go on over the intersection (empty otherwise: missing data is an error).
    #[serde(default)]
    pub missing_data: Vec<String>,
    /// The compared sets' summarize_stats-style tables, as data: the HTML report folds them
    /// in, and report.json carries them rendered as markdown (`full_report_markdown`).
    /// `evaluate` leaves it None; `compare` and `gate` attach it once before writing
    /// (`gate::evaluate::attach_full_summary`).
    #[serde(
        rename = "full_report_markdown",
        default,
        skip_deserializing,
        skip_serializing_if = "Option::is_none"
    )]
    pub full_summary: Option<FullSummary>,
    /// The two single-set reports whose unified diff `--diff` shows.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub summary_diff: Option<SummaryDiff>,
    /// What the change touches and whether the corpus reaches it (`gate` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<Reach>,
    /// Rules with no decided check on this data (every format lists them).
    #[serde(default)]
    pub unchecked_rules: Vec<UncheckedRule>,
    /// Files base and head share (`--allow-same-input`): never a PASS, said in every format.
    #[serde(default)]
    pub same_input: Vec<String>,
    /// Whether head's corpus computed what base's did.
    #[serde(default)]
    pub results: ResultCheck,
}

/// The workload results the corpus driver prints, base against head: a specialized
/// instruction that computes a wrong value changes them, whatever the counters say.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ResultCheck {
    /// Benchmarks whose head results all equal base's one result.
    pub same: Vec<String>,
    /// Benchmarks where head computed something else: the gate fails.
    pub differ: Vec<ResultDifference>,
    /// Benchmarks whose results could not be compared, and why.
    pub unchecked: Vec<ResultUnchecked>,
}

/// One benchmark whose head result differs from base's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultDifference {
    pub benchmark: String,
    /// What base computed on every repeat.
    pub base: String,
    /// What head computed instead (its first differing repeat).
    pub head: String,
    /// Head's repeats that differ from base.
    pub repeats: Vec<String>,
}

/// A benchmark whose results were not compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResultUnchecked {
    pub benchmark: String,
    pub reason: ResultSkip,
}

/// Why a benchmark's results were not compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultSkip {
    /// A side's runs recorded no result for it (a set made before results were recorded,
    /// or by another runner).
    NotRecorded,
    /// Base computed different results in different repeats: nothing fixed to compare with.
    BaseVaries,
}

impl ResultCheck {
    /// True when head computed something base did not.
    pub fn failed(&self) -> bool {
        !self.differ.is_empty()
    }
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

//! Typed notes and reasons of the report model: what happened, with its data; `report::prose` says it in English.
//!
//! Decisions match on these variants, never on text. JSON holds the English sentences (their
//! `Serialize` is in `report::prose`); a report read back from JSON keeps each sentence as
//! `Rendered`.

use crate::gate::metrics::MetricKind;
use crate::gate::noise::NoiseFile;
use crate::gate::reach::Reach;
use crate::gate::rules::Limit;
use crate::gate::statistics::NoisePrior;
use crate::stats::model::Rename;
use serde::{Deserialize, Deserializer};

/// A working tree snapshotted into a commit for `gate --head-dir`.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadSnapshot {
    /// The snapshot commit (short).
    pub commit: String,
    pub dir: String,
    /// The tree's HEAD the changes sit on (short).
    pub head: String,
    /// The files that differ from HEAD.
    pub changed: Vec<String>,
}

/// A loud note of a report: unverified results, unpaired repeats, failed checks, ...
#[derive(Clone, Debug, PartialEq)]
pub enum Note {
    /// A sentence the calling command composed (e.g. the `--head-dir` snapshot), or one read
    /// back from a JSON report.
    Rendered(String),
    /// `--allow-missing-benchmarks` compared the intersection; what one side lacked.
    IncompleteData { missing: Vec<String> },
    /// The repeats could not be paired by seed.
    Unpaired(UnpairedCause),
    /// A side's dumps were read in other CPython names and normalized.
    Renamed { side: String, renames: Vec<Rename> },
    /// Fewer than 2 repeats on a side: thresholds only.
    Unverified { base: usize, head: usize },
    /// Consistency checks failed (`label: id` of each violated one).
    ChecksFailed { violated: Vec<String>, strict: bool },
    /// Malformed dump lines skipped under `--allow-malformed`.
    Malformed { side: String, lines: usize },
    /// The learned noise file, and how many outcomes it informed.
    LearnedNoise(Box<LearnedNoise>),
    /// Rule checks that could not be decided: the causes and what settles them.
    Inconclusive(InconclusiveNote),
    /// Changed specializer code no counter of the corpus reached.
    Unreached(Box<Reach>),
    /// What `gate --repeats auto` spent and why it stopped.
    RepeatsAuto(Box<RepeatsAuto>),
    /// `gate --head-dir`: head is a snapshot of a working tree with uncommitted changes.
    HeadSnapshot(Box<HeadSnapshot>),
}

/// `--repeats auto`'s note: the looks taken, the repeats they added and why they stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct RepeatsAuto {
    /// Paired repeats of the last look.
    pub repeats: u32,
    pub looks: usize,
    pub looks_planned: u32,
    pub max_repeats: u32,
    /// alpha / looks_planned: the level of every look.
    pub look_alpha: f64,
    /// What each look after the first added.
    pub reruns: Vec<Rerun>,
    pub stopped: StopReason,
}

/// The new paired repeats of one look: their seeds (first to last) and the benchmarks run.
#[derive(Clone, Debug, PartialEq)]
pub struct Rerun {
    pub first_seed: u32,
    pub last_seed: u32,
    pub benchmarks: Vec<String>,
}

/// Why `--repeats auto` stopped adding repeats (`gate::sequential` decides it).
#[derive(Clone, Debug, PartialEq)]
pub enum StopReason {
    /// The verdict is not INCONCLUSIVE, or no open outcome can fail the gate.
    Decided,
    /// INCONCLUSIVE because a rule checked nothing: more repeats cannot change that.
    Blind,
    /// The last look had `--max-repeats` paired repeats.
    MaxRepeats(u32),
    /// No benchmark's runs feed the open outcomes.
    NothingFeeds,
    /// The next look, estimated at `estimate` seconds, would exceed `--time-budget`.
    TimeBudget { budget: f64, estimate: f64 },
}

/// Why repeats are unpaired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnpairedCause {
    /// Both sides carry seeds, but not the same ones.
    DifferentSeeds,
    /// These sides carry no seeds (no manifest.json).
    NoSeeds(Vec<String>),
    /// A side ran one seed in more than one repeat (a copied run?), so no one-to-one pairing.
    RepeatedSeed { side: String, seed: u64 },
}

/// The noise file's note: the file, the run's pairing, how often it informed an outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct LearnedNoise {
    pub file: NoiseFile,
    pub paired: bool,
    /// Outcomes whose t test pooled the learned variance.
    pub pooled: usize,
    /// Outcomes decided exactly as certified deterministic.
    pub certified: usize,
}

/// The INCONCLUSIVE note's data.
#[derive(Clone, Debug, PartialEq)]
pub struct InconclusiveNote {
    /// Open inconclusive outcomes.
    pub open: usize,
    /// Repeats per side compared (the smaller side).
    pub repeats: usize,
    /// Why the repeats are unpaired, when they are.
    pub unpaired: Option<UnpairedCause>,
    /// Repeats per side that would decide, when a finite, small number would.
    pub repeats_needed: Option<usize>,
    /// (metric, rule) of the open outcomes sitting on their limit.
    pub borderline: Vec<(String, String)>,
}

/// Why a rule's check on one metric was not evaluated.
#[derive(Clone, Debug, PartialEq)]
pub enum SkipReason {
    /// A ratio's denominator is zero in every repeat of one side.
    NoComparableSample,
    /// The count (or a ratio's denominator) is below the rule's `min_count`.
    BelowMinCount {
        ratio: bool,
        support: f64,
        min_count: f64,
    },
    /// The rule found no metric at all (an unchecked rule's reason).
    NoMetricMatched,
    /// Read back from a JSON report.
    Rendered(String),
}

/// Why a rule outcome has its status (one sentence in every report).
#[derive(Clone, Debug, PartialEq)]
pub enum Reason {
    /// Not evaluated.
    Skipped(SkipReason),
    /// Fewer than 2 samples on a side after zero denominators: never decided.
    TooFewSamples { base: usize, head: usize },
    /// Decided (or left open) by its deciding limit test.
    Limit(Box<LimitReason>),
    /// Read back from a JSON report.
    Rendered(String),
}

/// The deciding limit test of an outcome, as its reason says it.
#[derive(Clone, Debug, PartialEq)]
pub struct LimitReason {
    pub case: ReasonCase,
    pub kind: MetricKind,
    pub change: f64,
    pub limit: Limit,
    pub alpha: f64,
    /// Corrected by Benjamini-Hochberg (warn-level) rather than Holm.
    pub bh: bool,
    /// Repeats per side (pairs when `paired`) the exact test ran on.
    pub n_base: usize,
    pub n_head: usize,
    pub paired: bool,
    pub p_adjusted: Option<f64>,
    /// The exact test's smallest attainable p.
    pub min_p: f64,
    /// The learned variance pooled into the t test.
    pub noise_prior: Option<NoisePrior>,
}

/// Which of the reason's cases applies (decided in `gate::evaluate::outcome`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReasonCase {
    /// Regression on thresholds only (fewer than 2 repeats).
    UnverifiedBeyond,
    /// Regression, zero variance certified deterministic by the noise file.
    CertifiedBeyond,
    /// Regression, zero paired variance assumed fixed by build, corpus and seed.
    AssumedExactBeyond,
    /// Regression decided by the exact sign-flip or permutation test.
    SignTestBeyond,
    /// Regression: the whole interval beyond the limit and the corrected p below alpha.
    IntervalBeyond,
    /// Open: the exact test cannot reach its family's level.
    SignTestOutOfReach,
    /// Open: the exact test's corrected p is not below alpha.
    SignTestNotSignificant,
    /// Open: the interval is beyond the limit but the correction failed.
    CorrectionFailed {
        significant_alone: bool,
    },
    /// Open: the interval straddles the limit.
    Straddles {
        repeats_needed: Option<usize>,
    },
    Unchanged,
    /// Pass on zero variance (no bound needed).
    Within,
    /// Pass: the one-sided (1 - alpha) upper bound is within the limit.
    WithinOneSided,
    /// A skipped status (no sentence).
    None,
}

impl<'de> Deserialize<'de> for Note {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Note::Rendered)
    }
}

impl<'de> Deserialize<'de> for Reason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Reason::Rendered)
    }
}

impl<'de> Deserialize<'de> for SkipReason {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(SkipReason::Rendered)
    }
}

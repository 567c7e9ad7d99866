//! The mutation-testing model: mutants, what became of each, tallies and the report.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A mutation operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    /// The line installing a specialized instruction fails for the family instead.
    Remove,
    /// A failure (with a kind already used nearby) at the start of the block that succeeds.
    EarlyFail,
    /// One guard condition negated.
    Negate,
    /// A `SPECIALIZATION_FAIL` site records another failure kind.
    FailKind,
    /// A slower sibling form of the same family is installed instead of the right one.
    Sibling,
}

impl Operator {
    pub fn key(self) -> &'static str {
        match self {
            Operator::Remove => "remove",
            Operator::EarlyFail => "early-fail",
            Operator::Negate => "negate",
            Operator::FailKind => "fail-kind",
            Operator::Sibling => "sibling",
        }
    }
}

/// One mutant: replace `old` (lines starting at 1-based `line`) of `file` with `new`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mutant {
    /// Stable identifier `file:line:operator` (with `.N` when a site has several).
    pub id: String,
    pub file: String,
    /// First line replaced (1-based).
    pub line: usize,
    /// The line the mutant is about (for early-fail: the success line, not the insertion).
    pub site: usize,
    pub operator: Operator,
    /// The specialization family the edit is about.
    pub family: String,
    /// The C function edited.
    pub function: String,
    pub description: String,
    pub old: Vec<String>,
    pub new: Vec<String>,
}

/// What became of one mutant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The gate failed naming the mutant's family.
    Killed,
    /// The gate failed, naming other families or none (global rules).
    KilledElsewhere,
    /// The interpreter crashed or timed out on the corpus: counted as killed, listed apart.
    Crashed,
    /// The gate passed.
    Survived,
    /// The mutant did not compile: excluded from the score, counted.
    NotBuilt,
    /// Listed as equivalent (cannot change behaviour): excluded from the score, counted.
    Equivalent,
}

/// The result of one mutant, written to `OUT/results/<id>.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MutantResult {
    pub mutant: Mutant,
    pub outcome: Outcome,
    /// Families named by failing rules.
    pub failing_families: Vec<String>,
    /// `rule: metric` of each failing rule outcome.
    pub failing_rules: Vec<String>,
    /// Build error, crash message or equivalence reason.
    pub detail: String,
    pub diff: String,
    pub build_seconds: f64,
    pub run_seconds: f64,
}

/// Counts of outcomes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tally {
    pub total: usize,
    pub killed: usize,
    pub killed_elsewhere: usize,
    pub crashed: usize,
    pub survived: usize,
    pub not_built: usize,
    pub equivalent: usize,
}

impl Tally {
    pub fn add(&mut self, o: Outcome) {
        self.total += 1;
        match o {
            Outcome::Killed => self.killed += 1,
            Outcome::KilledElsewhere => self.killed_elsewhere += 1,
            Outcome::Crashed => self.crashed += 1,
            Outcome::Survived => self.survived += 1,
            Outcome::NotBuilt => self.not_built += 1,
            Outcome::Equivalent => self.equivalent += 1,
        }
    }
    /// Mutants that count for the score: built and not equivalent.
    pub fn scored(&self) -> usize {
        self.killed + self.killed_elsewhere + self.crashed + self.survived
    }
    pub fn all_killed(&self) -> usize {
        self.killed + self.killed_elsewhere + self.crashed
    }
    /// Killed share of the scored mutants (None when nothing was scored).
    pub fn score(&self) -> Option<f64> {
        (self.scored() > 0).then(|| self.all_killed() as f64 / self.scored() as f64)
    }
}

/// Everything the renderers show (they compute nothing).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MutantsReport {
    pub tool_version: String,
    pub corpus: String,
    pub rules: Option<String>,
    pub overall: Tally,
    /// Killed share of built, non-equivalent mutants (None: nothing scored).
    pub score: Option<f64>,
    pub families: BTreeMap<String, Tally>,
    pub family_scores: BTreeMap<String, Option<f64>>,
    pub operators: BTreeMap<String, Tally>,
    /// Wall time of the mutants run in this invocation (0 when nothing ran).
    pub wall_seconds: f64,
    /// Sum of build and run times of the results (what they cost one core-ish).
    pub build_seconds: f64,
    pub run_seconds: f64,
    /// Mutants per minute of this invocation's wall time (None when nothing ran).
    pub mutants_per_minute: Option<f64>,
    pub results: Vec<MutantResult>,
}

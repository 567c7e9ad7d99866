//! `mutants`: mutation testing of the specializer, to measure how many specializer changes the corpus catches.
//!
//! [`generate`] makes the mutants, [`run`] builds each one incrementally in the persistent
//! worktree, runs the corpus and compares against the unmutated base, [`report`] tallies
//! and renders. One JSON result file per mutant makes runs resumable and shards mergeable.

pub mod generate;
pub mod report;
pub mod run;

pub use generate::{Mutant, Operator};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

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

impl Outcome {
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Killed => "killed",
            Outcome::KilledElsewhere => "killed elsewhere",
            Outcome::Crashed => "crashed/timeout",
            Outcome::Survived => "survived",
            Outcome::NotBuilt => "not built",
            Outcome::Equivalent => "equivalent",
        }
    }
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

/// An equivalent mutant: ID and why it cannot change behaviour.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Equivalent {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivalentFile {
    #[serde(default)]
    mutant: Vec<Equivalent>,
}

pub use crate::exec::corpus::EQUIVALENTS_FILE;
/// The built-in corpus's list of equivalent mutants of CPython 3.13's specializer.
pub const BUILTIN_EQUIVALENTS: &str = include_str!("../../../corpus/equivalent-mutants.toml");

/// Parses an equivalent-mutant list (`[[mutant]] id = ..., reason = ...`).
pub fn parse_equivalents(text: &str, path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let f: EquivalentFile = toml::from_str(text).map_err(|e| {
        crate::error::Error::input(format!("{}: {}", path.display(), e.to_string().trim()))
    })?;
    let mut out = BTreeMap::new();
    for (i, e) in f.mutant.into_iter().enumerate() {
        if e.reason.trim().is_empty() {
            return Err(crate::error::Error::input(format!(
                "{}: mutant[{i}].reason: empty reason for {}",
                path.display(),
                crate::output::quote(e.id.as_bytes())
            ))
            .into());
        }
        // A second entry would silently replace the first one's reason.
        if out.contains_key(&e.id) {
            return Err(crate::error::Error::input(format!(
                "{}: mutant[{i}].id: {} is listed twice",
                path.display(),
                crate::output::quote(e.id.as_bytes())
            ))
            .into());
        }
        out.insert(e.id, e.reason);
    }
    Ok(out)
}

/// `pystats-gate mutants`.
pub fn cmd_mutants(args: &crate::cli::MutantsArgs) -> anyhow::Result<i32> {
    run::cmd(args)
}

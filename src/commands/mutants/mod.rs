//! `mutants`: mutation testing of the specializer, to measure how many specializer changes the corpus catches.
//!
//! [`generate`] makes the mutants, [`run`] builds each one incrementally in the persistent
//! worktree, runs the corpus and compares against the unmutated base, [`report`] tallies
//! the results into [`crate::model::mutants::MutantsReport`], which
//! [`crate::report::mutants`] renders. One JSON result file per mutant makes runs resumable
//! and shards mergeable.

pub mod generate;
pub mod report;
pub mod run;

pub use crate::model::mutants::{Mutant, MutantResult, Operator, Outcome, Tally};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

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

//! The mutation-testing report model, tallied once from the results (rendered by [`crate::report::mutants`]).

use super::{MutantResult, Outcome, Tally};
use crate::cli::MutantsArgs;
pub use crate::model::mutants::MutantsReport;
use std::collections::BTreeMap;

/// Tallies the results per family and operator, sums their costs and the throughput of this
/// invocation (`wall` seconds).
pub fn compute(results: Vec<MutantResult>, args: &MutantsArgs, wall: f64) -> MutantsReport {
    let mut overall = Tally::default();
    let mut families: BTreeMap<String, Tally> = BTreeMap::new();
    let mut operators: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut build, mut run) = (0.0, 0.0);
    for r in &results {
        overall.add(r.outcome);
        families
            .entry(r.mutant.family.clone())
            .or_default()
            .add(r.outcome);
        operators
            .entry(r.mutant.operator.key().to_string())
            .or_default()
            .add(r.outcome);
        build += r.build_seconds;
        run += r.run_seconds;
    }
    let ran = results
        .iter()
        .filter(|r| r.outcome != Outcome::Equivalent)
        .count();
    MutantsReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        corpus: args.corpus.clone(),
        rules: args.rules.as_ref().map(|p| p.display().to_string()),
        score: overall.score(),
        family_scores: families
            .iter()
            .map(|(k, t)| (k.clone(), t.score()))
            .collect(),
        overall,
        families,
        operators,
        wall_seconds: wall,
        build_seconds: build,
        run_seconds: run,
        mutants_per_minute: (wall > 0.0).then(|| ran as f64 * 60.0 / wall),
        results,
    }
}

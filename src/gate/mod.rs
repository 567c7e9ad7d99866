//! Stage 2, the decision: metrics from the model, statistics, rules, checks, noise and the verdict.
//!
//! May import `crate::stats` (and `error`, `output`); never `report`, `exec` or `commands`.
//! Inside, data flows `metrics` -> `statistics` -> `rules`/`noise`/`accept` -> `check` -> `verdict`.

pub mod accept;
pub mod check;
pub mod coverage;
pub mod metrics;
pub mod noise;
#[cfg(test)]
mod proofs;
pub mod reach;
pub mod rules;
pub mod sequential;
pub mod statistics;
pub mod verdict;

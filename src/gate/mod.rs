//! Stage 2, the decision: metrics from the model, statistics, rules, checks, noise and the verdict.
//!
//! May import `crate::stats` (and `error`, `output`); never `report`, `exec` or `commands`.
//! Inside, data flows `metrics` -> `statistics` -> `rules`/`noise`/`accept` -> `check` -> `evaluate`,
//! which fills the [`report_model`].

pub mod accept;
pub mod check;
pub mod coverage;
pub mod evaluate;
pub mod metrics;
pub mod noise;
pub mod notes;
#[cfg(test)]
mod proofs;
pub mod reach;
pub mod report_model;
pub mod rules;
pub mod sequential;
pub mod statistics;

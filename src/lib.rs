//! pystats-gate: build, run, parse, compare and gate CPython pystats.
//!
//! Data flows one way: [`exec`] (build, run) -> [`stats`] (parse, model, summary) -> [`gate`]
//! (metrics, statistics, rules, checks, verdict) -> [`report`]; [`commands`] orchestrate the
//! stages, one module per job. See docs/architecture.md.

pub mod cli;
pub mod commands;
pub mod error;
pub mod exec;
pub mod gate;
pub mod intern;
pub mod model;
pub mod output;
pub mod report;
pub mod stats;
#[cfg(test)]
pub(crate) mod testing;
pub mod text;

use cli::{Cli, Command};

/// Runs one CLI command; returns the process exit code.
pub fn run(mut cli: Cli) -> anyhow::Result<i32> {
    if let Some(b) = cli.build_opts_mut() {
        b.fold_tier2();
    }
    match cli.command {
        Command::Summarize(a) => commands::summarize::cmd_summarize(&a),
        Command::Metrics(a) => commands::metrics::cmd_metrics(&a),
        Command::Compare(a) => commands::compare::cmd_compare(&a),
        Command::Check(a) => commands::check::cmd_check(&a),
        Command::Build(a) => commands::build::cmd_build(&a),
        Command::Corpus(a) => commands::corpus::cmd_corpus(&a),
        Command::Run(a) => commands::run::cmd_run(&a),
        Command::Gate(a) => commands::gate::cmd_gate(&a),
        Command::Demo(a) => commands::gate::cmd_demo(&a),
        Command::Bisect(a) => commands::bisect::cmd_bisect(&a),
        Command::BisectStep(a) => commands::bisect::cmd_bisect_step(&a),
        Command::Merge(a) => commands::merge::cmd_merge(&a),
        Command::History(a) => commands::history::cmd_history(&a),
        Command::Completions(a) => commands::shell::cmd_completions(&a),
        Command::Manpage(a) => commands::shell::cmd_manpage(&a),
        Command::Mutants(a) => commands::mutants::cmd_mutants(&a),
        Command::Calibrate(a) => commands::calibrate::cmd_calibrate(&a),
    }
}

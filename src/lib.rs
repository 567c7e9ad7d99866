//! pystats-gate: build, run, parse, compare and gate CPython pystats.
//!
//! Data flows one way: [`raw`] -> [`stats_set`] -> [`model`] -> [`metrics`] -> [`compare`] -> [`rules`]
//! -> [`verdict`] -> [`report`]. [`builder`], [`runner`], [`gate`] and [`bisect`] only feed
//! stats sets in.

pub mod accept;
pub mod adaptive;
pub mod bisect;
pub mod builder;
pub mod cache;
pub mod check;
pub mod cli;
pub mod compare;
pub mod corpus;
pub mod error;
pub mod gate;
pub mod history;
pub mod merge;
pub mod metadata;
pub mod metrics;
pub mod model;
pub mod mutants;
pub mod noise;
pub mod output;
pub mod progress;
pub mod raw;
pub mod report;
pub mod rules;
pub mod runner;
pub mod shard;
pub mod shell;
pub mod stats_set;
pub mod summary;
pub mod verdict;
pub mod worktree;

use cli::{Cli, Command};

/// Runs one CLI command; returns the process exit code.
pub fn run(mut cli: Cli) -> anyhow::Result<i32> {
    if let Some(b) = cli.build_opts_mut() {
        b.fold_tier2();
    }
    match cli.command {
        Command::Summarize(a) => summary::cmd_summarize(&a),
        Command::Metrics(a) => metrics::cmd_metrics(&a),
        Command::Compare(a) => verdict::cmd_compare(&a),
        Command::Check(a) => check::cmd_check(&a),
        Command::Build(a) => builder::cmd_build(&a),
        Command::Corpus(a) => corpus::cmd_corpus(&a),
        Command::Run(a) => runner::cmd_run(&a),
        Command::Gate(a) => gate::cmd_gate(&a),
        Command::Demo(a) => gate::cmd_demo(&a),
        Command::Bisect(a) => bisect::cmd_bisect(&a),
        Command::BisectStep(a) => bisect::cmd_bisect_step(&a),
        Command::Merge(a) => merge::cmd_merge(&a),
        Command::History(a) => history::cmd_history(&a),
        Command::Completions(a) => shell::cmd_completions(&a),
        Command::Manpage(a) => shell::cmd_manpage(&a),
        Command::Mutants(a) => mutants::cmd_mutants(&a),
        Command::Calibrate(a) => noise::cmd_calibrate(&a),
    }
}

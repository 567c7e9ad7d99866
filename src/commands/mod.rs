//! The subcommands: each orchestrates the stages (exec -> stats -> gate -> report) for one job.
//!
//! The only part that may import every stage; nothing below imports it.

pub mod adaptive;
pub mod bisect;
pub mod build;
pub mod calibrate;
pub mod check;
pub mod compare;
pub mod corpus;
pub mod gate;
pub mod history;
pub mod merge;
pub mod metrics;
pub mod mutants;
pub mod run;
pub mod shell;
pub mod summarize;

use crate::cli::{BuildOpts, GateOpts, InputOpts, RunOpts};
use crate::error::Error;
use crate::exec::builder::BuildConfig;
use crate::exec::runner::RunConfig;
use crate::gate::check::CheckExceptions;
use crate::gate::report_model::{Display, EvalOptions};
use crate::gate::rules::RuleSet;
use crate::stats::metadata::{Metadata, MetadataChoice};
use crate::stats::set::StatsSet;

/// The user's metadata choice (`--cpython-src`, `--python-version`) as the stats stage takes it.
pub fn metadata_choice(input: &InputOpts) -> MetadataChoice<'_> {
    MetadataChoice {
        cpython_src: input.cpython_src.as_deref(),
        python_version: input.python_version.as_deref(),
    }
}

/// The metadata to use for a set (see [`crate::stats::set::resolve_metadata`]).
pub fn metadata_for(set: &StatsSet, input: &InputOpts) -> anyhow::Result<Metadata> {
    crate::stats::set::resolve_metadata(metadata_choice(input), set)
}

/// The build stage's configuration from the build flags (`--tier2` folded into the
/// configure flags, once).
impl From<&BuildOpts> for BuildConfig {
    fn from(o: &BuildOpts) -> Self {
        let mut configure_flags = o.configure_flags.clone();
        if o.tier2 && !configure_flags.iter().any(|f| f == BuildOpts::TIER2_FLAG) {
            configure_flags.push(BuildOpts::TIER2_FLAG.to_string());
        }
        BuildConfig {
            cache_dir: o.cache_dir.clone(),
            configure_flags,
            make_jobs: o.make_jobs,
            quiet: o.quiet,
        }
    }
}

/// The run stage's configuration from the run flags (seeds from 1).
impl From<&RunOpts> for RunConfig {
    fn from(o: &RunOpts) -> Self {
        RunConfig {
            repeats: o.repeats,
            jobs: o.jobs,
            corpus: o.corpus.clone(),
            benches: o.benches.clone(),
            shard: o.shard.clone(),
            seed_offset: 0,
        }
    }
}

impl From<crate::cli::CompareFormat> for crate::report::Format {
    fn from(f: crate::cli::CompareFormat) -> Self {
        use crate::cli::CompareFormat as C;
        use crate::report::Format as R;
        match f {
            C::Markdown => R::Markdown,
            C::Json => R::Json,
            C::Text => R::Text,
            C::Junit => R::Junit,
            C::Html => R::Html,
        }
    }
}

/// The evaluation options of the gate flags: loads the rules, check exceptions and noise file.
pub fn eval_options(
    opts: &GateOpts,
    meta_base: Metadata,
    meta_head: Metadata,
) -> anyhow::Result<EvalOptions> {
    if !(opts.alpha > 0.0 && opts.alpha < 1.0) {
        return Err(Error::input(format!(
            "--alpha {}: expected a number between 0 and 1",
            opts.alpha
        ))
        .into());
    }
    Ok(EvalOptions {
        alpha: opts.alpha,
        fail_on_warn: opts.fail_on_warn,
        strict: opts.strict,
        rules: RuleSet::load_or_default(opts.rules.as_deref())?,
        meta_base,
        meta_head,
        exceptions: CheckExceptions::load_or_default(opts.check_exceptions.as_deref())?,
        top_movers: opts.movers,
        attribution: opts.attribution,
        accept: crate::gate::accept::parse_all(&opts.accept)?,
        display: Display {
            comment_bytes: opts.comment_bytes,
            details_url: opts.details_url.clone(),
        },
        notes: vec![],
        allow_missing_benchmarks: opts.allow_missing_benchmarks,
        noise: opts
            .noise
            .as_deref()
            .map(crate::gate::noise::NoiseFile::load)
            .transpose()?,
        reach: None,
    })
}

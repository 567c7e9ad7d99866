//! The subcommands: each orchestrates the stages (exec -> stats -> gate -> report) for one job.
//!
//! The only part that may import every stage; nothing below imports it.

pub mod adaptive;
pub mod bisect;
pub mod build;
pub mod check;
pub mod corpus;
pub mod gate;
pub mod history;
pub mod merge;
pub mod metrics;
pub mod mutants;
pub mod run;
pub mod shell;
pub mod summarize;

use crate::cli::InputOpts;
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

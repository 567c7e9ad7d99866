//! TODO: summarize.

use crate::cli::SummarizeArgs;

pub fn cmd_summarize(_args: &SummarizeArgs) -> anyhow::Result<i32> {
    crate::not_yet("summarize")
}

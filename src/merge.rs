//! TODO: merge.

use crate::cli::MergeArgs;

pub fn cmd_merge(_args: &MergeArgs) -> anyhow::Result<i32> {
    crate::not_yet("merge")
}

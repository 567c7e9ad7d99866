//! TODO: verdict.

use crate::cli::CompareArgs;

pub fn cmd_compare(_args: &CompareArgs) -> anyhow::Result<i32> {
    crate::not_yet("compare")
}

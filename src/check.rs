//! TODO: check.

use crate::cli::CheckArgs;

pub fn cmd_check(_args: &CheckArgs) -> anyhow::Result<i32> {
    crate::not_yet("check")
}

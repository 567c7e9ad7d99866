//! TODO: run.

use crate::cli::RunArgs;

pub fn cmd_run(_args: &RunArgs) -> anyhow::Result<i32> {
    crate::not_yet("run")
}

//! TODO: build.

use crate::cli::BuildArgs;

pub fn cmd_build(_args: &BuildArgs) -> anyhow::Result<i32> {
    crate::not_yet("build")
}

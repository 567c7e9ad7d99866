//! TODO: bisect.

use crate::cli::{BisectArgs, BisectStepArgs};

pub fn cmd_bisect(_args: &BisectArgs) -> anyhow::Result<i32> {
    crate::not_yet("bisect")
}

pub fn cmd_bisect_step(_args: &BisectStepArgs) -> anyhow::Result<i32> {
    crate::not_yet("bisect-step")
}

//! TODO: gate.

use crate::cli::{DemoArgs, GateArgs};

pub fn cmd_gate(_args: &GateArgs) -> anyhow::Result<i32> {
    crate::not_yet("gate")
}

pub fn cmd_demo(_args: &DemoArgs) -> anyhow::Result<i32> {
    crate::not_yet("demo")
}

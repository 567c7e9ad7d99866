//! TODO: metrics.

use crate::cli::MetricsArgs;

pub fn cmd_metrics(_args: &MetricsArgs) -> anyhow::Result<i32> {
    crate::not_yet("metrics")
}

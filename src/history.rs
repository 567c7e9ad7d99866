//! TODO: history.

use crate::cli::HistoryArgs;

pub fn cmd_history(_args: &HistoryArgs) -> anyhow::Result<i32> {
    crate::not_yet("history")
}

//! The history model: one recorded result per line, and the metric trends `history show` renders.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Schema of one history line.
pub const HISTORY_SCHEMA_VERSION: u32 = 1;

/// One recorded result: the head's metric means at one commit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub schema_version: u32,
    pub recorded_at: String,
    /// Head revision (or the head set's path when the result carries no revision).
    pub label: String,
    #[serde(default)]
    pub base_label: Option<String>,
    pub verdict: String,
    /// Metric name -> head mean over repeats.
    #[serde(deserialize_with = "crate::text::unique_keys")]
    pub metrics: IndexMap<String, f64>,
    /// Repeats behind the means (absent in entries written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<usize>,
}

/// The trend of one metric over the entries that have it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricTrend {
    pub metric: String,
    /// (entry label, value), oldest first.
    pub points: Vec<(String, f64)>,
}

/// What `history show` renders: the trends and how many results they come from.
#[derive(Clone, Debug, PartialEq)]
pub struct HistoryTrends {
    /// Entries in the history file.
    pub recorded: usize,
    pub trends: Vec<MetricTrend>,
}

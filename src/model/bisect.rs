//! The bisect report model: commits, steps, violations and the conclusion, as plain data.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// What the report shows about a commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub hash: String,
    pub subject: String,
    pub author: String,
}

impl CommitInfo {
    pub fn short(&self) -> &str {
        &self.hash[..self.hash.len().min(12)]
    }
}

/// What one tested candidate turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    Good,
    Bad,
    Skip,
}

/// One failed rule at a bad commit: good-end value vs this commit's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: String,
    pub metric: String,
    pub good: f64,
    pub bad: f64,
    /// Confidence interval of the change (bad - good), when the rule has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// A metric's value at the good end and at the tested commit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub good: f64,
    pub head: f64,
}

/// One finished step: a candidate and what it turned out to be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub commit: String,
    /// Position in the candidate list (oldest first).
    pub index: usize,
    pub mark: Mark,
    /// Repeats the final decision was based on.
    pub repeats: u32,
    /// Builds that actually ran for this step (0 when the build was cached).
    pub builds: u32,
    pub build_seconds: f64,
    pub run_seconds: f64,
    /// Why the commit was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Failed rules, for a bad commit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<Violation>,
    /// The decisive metrics, good end vs this commit.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub metrics: IndexMap<String, MetricValue>,
}

/// A commit that could not be judged, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedCommit {
    #[serde(flatten)]
    pub commit: CommitInfo,
    pub reason: String,
}

/// One step as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct StepSummary {
    #[serde(flatten)]
    pub commit: CommitInfo,
    pub mark: Mark,
    pub repeats: u32,
    pub builds: u32,
    pub build_seconds: f64,
    pub run_seconds: f64,
}

/// How the search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BisectStatus {
    /// One first bad commit.
    Found,
    /// Skipped commits sit between the last good and the first bad one.
    Ambiguous,
    /// The bad end passes the gate.
    NoRegression,
}

/// Everything the bisect found, computed once; renderers only format it.
#[derive(Debug, Clone, Serialize)]
pub struct BisectReport {
    pub status: BisectStatus,
    pub good: CommitInfo,
    pub bad: CommitInfo,
    pub first_bad: Option<CommitInfo>,
    /// The bad end was never seen failing (it could not be built or run).
    pub first_bad_unverified: bool,
    pub violations: Vec<Violation>,
    pub metrics: IndexMap<String, MetricValue>,
    /// When ambiguous: the first bad commit is one of these.
    pub possible_first_bad: Vec<CommitInfo>,
    pub skipped: Vec<SkippedCommit>,
    /// Commits judged good after a bad one: the regression may come and go.
    pub good_after_bad: Vec<CommitInfo>,
    pub candidates: usize,
    pub evaluations: usize,
    /// Builds that actually ran, the good end's included.
    pub builds: u32,
    /// ceil(log2 candidates) + 2.
    pub build_budget: u32,
    pub build_seconds: f64,
    pub run_seconds: f64,
    pub elapsed_seconds: f64,
    pub steps: Vec<StepSummary>,
    pub exit_code: i32,
}

//! Stage 1, the numbers: raw dumps -> stats sets -> the one typed model -> summarize_stats.py's tables.
//!
//! May import only `crate::error` and `crate::output`; nothing here knows about rules,
//! verdicts, builds or the CLI. Inside, data flows `raw` -> `metadata` -> `set` -> `model` -> `summary`.

pub mod complete;
pub mod csource;
pub mod metadata;
pub mod model;
pub mod raw;
pub mod results;
pub mod set;
pub mod summary;

//! The producers: build interpreters, run the corpus on them, shard and merge the work.
//!
//! Feeds `crate::stats` sets in; may import `stats`, `error`, `output` (its configs are its own: `commands` fills them from the CLI).
//! Never imports `gate`, `report` or `commands`: what it makes is judged elsewhere.

pub mod builder;
pub mod cache;
pub mod corpus;
pub mod diff;
pub mod merge;
pub mod progress;
pub mod runner;
pub mod shard;
pub mod worktree;
